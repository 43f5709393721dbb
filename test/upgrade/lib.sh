# lib.sh: what the upgrade test (test/upgrade/run.sh) and
# src/pkg/upgrade_diff.sh share.  Sourced from the top of the tree.
#
# A release is installed the way a real upgrade finds it: its own library
# and scripts, built from its commit, in a private copy of this machine's
# PostgreSQL (bin, lib and share copied, the headers linked), which runs
# its own throwaway cluster.  The new build is then installed over it, as
# a new package would be, and the cluster restarted.

PG_CONFIG=${PG_CONFIG:-pg_config}
UPGRADE_CACHE=${UPGRADE_CACHE:-build/upgrade}

releases() {
	# releases: "VERSION COMMIT" of every earlier release, one a line
	grep -v -e '^#' -e '^$' src/ext/released/releases
}

have_history() {
	# have_history COMMIT: the commit is in this repository; says why not
	if ! git cat-file -e "$1^{commit}" 2>/dev/null; then
		echo "commit $1 is not in this repository's history (a shallow clone, or no .git):" \
			"the upgrade test builds earlier releases from it; git fetch --unshallow" >&2
		return 1
	fi
}

as_owner() {
	# as_owner COMMAND...: run as the cluster's owner (postgres when root:
	# initdb refuses root)
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_copy() {
	# pg_copy DEST: a private copy of the PostgreSQL that PG_CONFIG names
	# under DEST (its paths kept, so that they stay relative to each other);
	# prints the copy's pg_config.  Refuses a copy whose pg_config reports
	# paths outside it: make install there would overwrite the system's.
	c_dest=$(cd "$1" && pwd)
	c_lib=$(dirname "$("$PG_CONFIG" --bindir)")
	c_share=$("$PG_CONFIG" --sharedir)
	c_include=$("$PG_CONFIG" --includedir)
	mkdir -p "$c_dest$(dirname "$c_lib")" "$c_dest$(dirname "$c_share")" "$c_dest$(dirname "$c_include")"
	cp -a "$c_lib" "$c_dest$(dirname "$c_lib")/" && cp -a "$c_share" "$c_dest$(dirname "$c_share")/" || return 1
	ln -s "$c_include" "$c_dest$c_include"
	c_config=$c_dest$c_lib/bin/pg_config
	for c_dir in --pkglibdir --sharedir --bindir; do
		case $("$c_config" $c_dir) in
		"$c_dest"/*) ;;
		*)
			echo "pg_copy: $c_config $c_dir is $("$c_config" $c_dir), outside the copy" >&2
			return 1
			;;
		esac
	done
	# whatever scim the system has installed is not the copy's
	rm -rf "$c_dest$c_lib/lib/scim.so" "$c_dest$c_lib/lib/bitcode/scim" "$c_dest$c_lib/lib/bitcode/scim.index.bc" \
		"$c_dest$c_lib/bin/scim-server" "$c_dest$c_share"/extension/scim.control "$c_dest$c_share"/extension/scim--*.sql
	echo "$c_config"
}

old_build() {
	# old_build VERSION COMMIT: the release built from COMMIT and installed
	# into a copy of PostgreSQL, kept in UPGRADE_CACHE under the commit and
	# PostgreSQL's version, so that later runs reuse it; sets old_dir (the
	# cache entry: root/ the copy, src/ the release's sources as built)
	ob_key=$(printf '%s %s' "$2" "$("$PG_CONFIG" --version)" | md5sum | cut -c1-12)
	old_dir=$(pwd)/$UPGRADE_CACHE/$1-$ob_key
	[ -f "$old_dir/built" ] && return 0
	have_history "$2" || return 1
	rm -rf "$old_dir"
	mkdir -p "$old_dir/src" "$old_dir/root"
	git archive "$2" | tar -x -C "$old_dir/src" || return 1
	ob_config=$(pg_copy "$old_dir/root") || return 1
	if ! make -C "$old_dir/src" -j2 -s PG_CONFIG="$ob_config" all install > "$old_dir/build.log" 2>&1; then
		tail -30 "$old_dir/build.log" >&2
		echo "old_build: $1 ($2) did not build; $old_dir/build.log" >&2
		return 1
	fi
	touch "$old_dir/built"
}

cluster_start() {
	# cluster_start ROOT DIR: initdb (once) and start a cluster of the
	# PostgreSQL copied into ROOT, in DIR, on a socket in DIR alone; sets
	# PGHOST, PGPORT, PGUSER for what follows, and pgbin
	pgbin=$(dirname "$(find "$1" -path '*/bin/pg_ctl' | head -1)")
	export PGHOST="$2" PGPORT=54329 PGUSER=postgres
	if [ ! -d "$2/data" ]; then
		as_owner "$pgbin/initdb" -D "$2/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
			> "$2/initdb.log" 2>&1 || { cat "$2/initdb.log" >&2; return 1; }
	fi
	as_owner "$pgbin/pg_ctl" -D "$2/data" -l "$2/server.log" -w -t 60 \
		-o "-k $2 -p $PGPORT -c listen_addresses= -c fsync=off" start > /dev/null ||
		{ tail -20 "$2/server.log" >&2; return 1; }
}

cluster_stop() {
	# cluster_stop DIR: stop the cluster in DIR (if it runs)
	[ -f "$1/data/postmaster.pid" ] || return 0
	as_owner "$pgbin/pg_ctl" -D "$1/data" -m fast -w stop > /dev/null
}

catalog() {
	# catalog DB: the extension's objects as pg_dump --binary-upgrade sees
	# them (every member, with its definition, owner, privileges and
	# comment; a plain pg_dump prints CREATE EXTENSION alone), one entry per
	# object, the entries sorted and the OIDs binary upgrade pins left out;
	# then the rows the extension ships in its registry tables, and how many
	# keys scim.secret holds
	"$pgbin/pg_dump" --binary-upgrade --schema-only "$1" | normalise_dump
	echo "-- rows the extension ships"
	"$pgbin/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'common_attributes ' || jsonb_pretty(attributes) FROM scim.common_attributes;
SELECT 'schema ' || id || ' ' || builtin || ' ' || jsonb_pretty(definition) FROM scim.schema WHERE builtin ORDER BY id;
SELECT 'resource_type ' || to_jsonb(t)::text FROM scim.resource_type t ORDER BY name;
SELECT 'resource_type_extension ' || to_jsonb(e)::text FROM scim.resource_type_extension e WHERE builtin ORDER BY 1;
SELECT 'secret: ' || count(*) || ' key(s) of ' || coalesce(string_agg(octet_length(key)::text, ','), '0') || ' bytes'
	FROM scim.secret;
SQL
}

normalise_dump() {
	# normalise_dump: pg_dump's entries (each from its "-- Name:" line),
	# sorted, without what differs between two dumps of the same objects:
	# the OIDs binary upgrade pins, the header, the \restrict key
	awk '
		/^\\(un)?restrict / || /^-- Dumped (from|by) / || /^--$/ || /^-- PostgreSQL database dump/ { next }
		/^-- For binary upgrade, must preserve / || /^SELECT pg_catalog\.binary_upgrade_set_next_/ { next }
		/^-- Name: / {
			if (entry != "") print entry
			# a sequence'\''s value is data
			skip = $0 ~ /; Type: SEQUENCE SET;/
			entry = skip ? "" : $0
			next
		}
		skip { next }
		{
			# the OIDs of the configuration tables, not how many there are
			if ($0 ~ /binary_upgrade_create_empty_extension/ && match($0, /'\''\{[0-9,]*\}'\''/)) {
				oids = substr($0, RSTART, RLENGTH)
				gsub(/[0-9]+/, "N", oids)
				$0 = substr($0, 1, RSTART - 1) oids substr($0, RSTART + RLENGTH)
			}
			sub(/^SET relfrozenxid = '\''[0-9]+'\'', relminmxid = '\''[0-9]+'\''/, "SET relfrozenxid = N, relminmxid = N")
			sub(/^WHERE oid = '\''[0-9]+'\'';/, "WHERE oid = N;")
			entry = entry "\001" $0
		}
		END { if (entry != "") print entry }
	' | LC_ALL=C sort | awk '{ gsub(/\001/, "\n"); sub(/\n+$/, ""); print $0 "\n" }'
}
