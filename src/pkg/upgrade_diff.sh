#!/bin/sh
# upgrade_diff.sh [RELEASE]: what ALTER EXTENSION scim UPDATE from RELEASE
# (default: the latest in src/ext/released/releases) does not yet make of
# this build's install script.  In a throwaway cluster of a private copy of
# PostgreSQL with this build installed (run make first), a database made
# with CREATE EXTENSION scim VERSION 'RELEASE' and updated is compared with
# a fresh install, as test/upgrade/run.sh compares them (pg_dump
# --binary-upgrade, every member object): first the objects that differ,
# then the diff (- fresh, + updated), whose - lines are the definitions the
# upgrade script still needs.  Prints nothing and exits 0 when the two are
# the same.
#
# The procedure when the install script changes (src/ext/*.sql,
# src/schemas/*.json): make; sh src/pkg/upgrade_diff.sh; add to the
# upgrade script (src/ext/upgrade/scim--RELEASE--VERSION.sql) what turns
# the + side into the - side (CREATE OR REPLACE FUNCTION with the new body,
# DROP FUNCTION, ALTER TABLE, ...) and what carries stored data forward;
# repeat until it prints nothing.  Then make test, whose upgrade suite also
# runs the release's own library and data.
set -u
cd "$(dirname "$0")/../.."
. test/upgrade/lib.sh

release=${1:-$(releases | tail -1 | cut -d' ' -f1)}
[ -f "src/ext/released/scim--$release.sql" ] || {
	echo "upgrade_diff.sh: no src/ext/released/scim--$release.sql" >&2
	exit 2
}
version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" scim.control)
[ -f scim.so ] && [ -f "scim--$version.sql" ] || {
	echo "upgrade_diff.sh: build first (make)" >&2
	exit 2
}

work=$(mktemp -d)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
trap 'cluster_stop "$work" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

mkdir "$work/root"
config=$(pg_copy "$work/root") || exit 2
make -s install PG_CONFIG="$config" > "$work/install.out" 2>&1 || {
	cat "$work/install.out" >&2
	exit 2
}
cluster_start "$work/root" "$work" || exit 2
"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE fresh" -c "CREATE DATABASE updated" &&
	"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -d fresh -c "CREATE EXTENSION scim" &&
	"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -d updated -c "CREATE EXTENSION scim VERSION '$release'" \
		-c "ALTER EXTENSION scim UPDATE TO '$version'" || exit 1
catalog fresh > "$work/fresh.sql"
catalog updated > "$work/updated.sql"
cmp -s "$work/fresh.sql" "$work/updated.sql" && exit 0

# the entries by their "-- Name:" lines: missing from the update, left over, different
awk '
	FNR == 1 { side = (FILENAME ~ /fresh/) ? "fresh" : "updated"; key = "" }
	/^-- (Name: |rows )/ { key = $0; keys[key] = 1; next }
	{ text[side, key] = text[side, key] "\n" $0 }
	END {
		for (k in keys) {
			if (!(("updated", k) in text)) print "missing from the update: " k
			else if (!(("fresh", k) in text)) print "left over by the update: " k
			else if (text["fresh", k] != text["updated", k]) print "different:               " k
		}
	}
' "$work/fresh.sql" "$work/updated.sql" | sed 's/-- Name: //; s/; Schema: scim; Owner: [a-z_]*$//' | LC_ALL=C sort
echo
diff -u --label "fresh $version" --label "$release updated to $version" "$work/fresh.sql" "$work/updated.sql"
exit 1
