#!/bin/sh
# run.sh: every earlier release (src/ext/released/releases) upgrades to this
# build, objects and data.  Prints TAP lines.
#
# For each release, as a real upgrade happens: its own library and scripts,
# built from its commit into a private copy of PostgreSQL (lib.sh; cached
# under build/upgrade/), run a throwaway cluster; data is made through its
# scim.handle() — users with passwords (one set by a PATCH, which 0.1.0
# kept in clear), groups whose members are named in upper case, one of them
# twice, a member whose user is then deleted, tokens live and revoked.
# Then this build is installed over it (make install), the cluster
# restarted, and ALTER EXTENSION scim UPDATE run.  Checked:
#   - the frozen script (src/ext/released/) is the one the commit builds;
#   - every C function the release's script declares is in this library,
#     and the release's script still installs with it (then updates);
#   - the extension's objects after the update equal a fresh install's, as
#     pg_dump --binary-upgrade prints every member (lib.sh, catalog());
#   - the data is there and served by this build's handler: the same
#     resources, passwords as SCRAM secrets, members canonical and the
#     orphan gone, the old token accepted and the revoked one refused; the
#     change feed records what this build writes.
# Needs the repository's history (the releases are built from their
# commits) and, as root, the user postgres to run the cluster.
set -u
cd "$(dirname "$0")/../.."
. test/upgrade/lib.sh
. test/tap.sh

work=$(mktemp -d)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
trap 'cluster_stop "$work" 2>/dev/null; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
log=build/test-logs
mkdir -p "$log"

version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" scim.control)
if [ ! -f scim.so ] || [ ! -f "scim--$version.sql" ]; then
	not_ok "this build is built (make all)"
	exit 1
fi

sql() {
	# sql DB [psql options]: run standard input in DB, values only
	s_db=$1
	shift
	"$pgbin/psql" -X -A -t -q -v ON_ERROR_STOP=1 -d "$s_db" "$@"
}

call() {
	# call DB METHOD PATH [BODY [TOKEN]]: "status body" of scim.handle()
	printf '%s\n' "SELECT r.status || ' ' || coalesce(r.body::text, '')
		FROM scim.handle(:'method', :'path', NULL, jsonb_build_object('authorization', 'Bearer ' || :'token'),
						 nullif(:'body', '')) r;" |
		sql "$1" -v method="$2" -v path="$3" -v body="${4:-}" -v token="${5:-$token}"
}

field() {
	# field JSON KEY: the value of KEY in the JSON text, as text
	printf '%s\n' "SELECT :'doc'::jsonb ->> :'key';" | sql postgres -v doc="$1" -v key="$2"
}

members() {
	# members RESPONSE: the member values of a Group a "status body" response holds
	printf '%s\n' "SELECT string_agg(m->>'value', ',' ORDER BY m->>'value' COLLATE \"C\")
		FROM jsonb_array_elements(:'doc'::jsonb -> 'members') m;" | sql postgres -v doc="${1#* }"
}

for release in $(releases | tr ' ' ':'); do
	old=${release%%:*}
	commit=${release#*:}
	echo "# $old ($commit) -> $version"

	# ---- the release, built and installed into its copy of PostgreSQL -----
	if ! have_history "$commit" 2>"$work/history.err"; then
		not_ok "$old: the repository holds commit $commit: $(cat "$work/history.err")"
		continue
	fi
	if ! old_build "$old" "$commit" 2>"$work/build.err"; then
		sed 's/^/#   /' "$work/build.err"
		not_ok "$old: built from $commit"
		continue
	fi
	ok "$old: built from $commit ($old_dir)"
	check "$old: src/ext/released/scim--$old.sql is the script $commit builds" \
		cmp -s "src/ext/released/scim--$old.sql" "$old_dir/src/scim--$old.sql"
	missing=$(grep -o "'MODULE_PATHNAME', *'[A-Za-z0-9_]*'" "src/ext/released/scim--$old.sql" |
		sed "s/.*, *'//; s/'//" | sort -u | while read -r sym; do
			nm -D --defined-only scim.so | awk '{ print $3 }' | grep -qx "$sym" || printf ' %s' "$sym"
		done)
	same "$old: every C function its script declares is in this scim.so (a retired one as a stub)" "$missing" ""
	if [ -n "$missing" ]; then
		# the old script must still install, and an old definition called
		# before ALTER EXTENSION scim UPDATE must say what to do
		echo "#   keep each in src/pg/ as a stub:"
		echo "#     PG_FUNCTION_INFO_V1(symbol);"
		echo "#     Datum symbol(PG_FUNCTION_ARGS) { ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),"
		echo "#       errmsg(\"function %s is no longer supported\", \"scim._name()\"),"
		echo "#       errhint(\"Update the extension: ALTER EXTENSION scim UPDATE.\"))); }"
	fi

	rm -rf "$work/root" "$work/data"
	cp -a "$old_dir/root" "$work/root"
	if ! cluster_start "$work/root" "$work" 2>"$work/start.err"; then
		sed 's/^/#   /' "$work/start.err"
		not_ok "$old: a cluster of the release starts"
		continue
	fi

	# ---- data made through the release's handler ---------------------------
	sql postgres -c "CREATE DATABASE up" -c "CREATE DATABASE fresh" -c "CREATE DATABASE bare"
	same "$old: CREATE EXTENSION scim installs $old" \
		"$(sql up -c 'CREATE EXTENSION scim' -c "SELECT extversion FROM pg_extension WHERE extname = 'scim'")" "$old"
	tenant=$(sql up -c "SELECT scim.create_tenant('upgrade')")
	token=$(sql up -c "SELECT scim.create_token('$tenant')")
	expiring=$(sql up -c "SELECT scim.create_token('$tenant', now() + interval '1 day')")
	revoked=$(sql up -c "SELECT scim.create_token('$tenant')")
	sql up -c "SELECT scim.revoke_token('$revoked')" > /dev/null

	user_id() {
		# user_id RESPONSE: the id a 201 answered, or nothing
		case $1 in 201\ *) field "${1#201 }" id ;; esac
	}
	acme=urn:example:params:scim:schemas:extension:acme:2.0:User
	sql up -c "SELECT scim.register_schema('{\"id\": \"$acme\", \"name\": \"Acme\", \"attributes\": [{\"name\": \"badge\", \"type\": \"string\"}]}')" > /dev/null
	alice=$(user_id "$(call up POST /Users "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"$acme\"],\"userName\":\"alice\",\"password\":\"posted secret\",\"emails\":[{\"value\":\"alice@example.com\",\"primary\":true}],\"$acme\":{\"badge\":\"B-7\"}}")")
	bob=$(user_id "$(call up POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"bob","name":{"givenName":"Bob"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}')")
	carol=$(user_id "$(call up POST /Users '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol"}')")
	call up PATCH "/Users/$bob" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"patched secret"}]}' > /dev/null
	ALICE=$(echo "$alice" | tr a-f A-F)
	CAROL=$(echo "$carol" | tr a-f A-F)
	staff=$(user_id "$(call up POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Staff\",\"members\":[{\"value\":\"$ALICE\"},{\"value\":\"$bob\"},{\"value\":\"$CAROL\"}]}")")
	# alice again in lower case: 0.1.0 kept both spellings, two rows
	call up PATCH "/Groups/$staff" "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$alice\"}]}]}" > /dev/null
	STAFF=$(echo "$staff" | tr a-f A-F)
	nested=$(user_id "$(call up POST /Groups "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"Nested\",\"members\":[{\"value\":\"$STAFF\"}]}")")
	# carol goes; 0.1.0 looked for her memberships in lower case only
	call up DELETE "/Users/$carol" > /dev/null
	same "$old: the data is made through its handler (ids of 3 users, 2 groups)" \
		"$(printf '%s\n' "$alice" "$bob" "$carol" "$staff" "$nested" | grep -c '^[0-9a-f-]\{36\}$')" 5
	# what the release stored that the update must carry forward
	case $old in
	0.1.0)
		same "$old: a PATCHed password is kept in clear, the member values as sent, carol's membership left" \
			"$(sql up -c "SELECT (SELECT data->>'password' FROM scim.users WHERE id = '$bob')
				|| ' ' || (SELECT string_agg(value, ',' ORDER BY value COLLATE \"C\") FROM scim.group_members WHERE group_id = '$staff')")" \
			"patched secret $(printf '%s\n' "$ALICE" "$CAROL" "$alice" "$bob" | LC_ALL=C sort | paste -sd, -)"
		;;
	esac
	before_alice=$(call up GET "/Users/$alice")
	before_bob=$(call up GET "/Users/$bob")
	before_nested=$(call up GET "/Groups/$nested")
	events_before=$(sql up -c "SELECT count(*) FROM scim.event")

	# ---- this build installed over it, as a new package is --------------------
	cluster_stop "$work"
	if make -s install PG_CONFIG="$work/root/$(dirname "$("$PG_CONFIG" --bindir)")/bin/pg_config" \
		> "$work/install.out" 2>&1; then
		ok "$old: make install puts this build into the release's PostgreSQL"
	else
		sed 's/^/#   /' "$work/install.out"
		not_ok "$old: make install puts this build into the release's PostgreSQL"
		continue
	fi
	cluster_start "$work/root" "$work" 2>"$work/start.err" || sed 's/^/#   /' "$work/start.err"
	same "$old: ALTER EXTENSION scim UPDATE brings it to $version" \
		"$(sql up -c 'ALTER EXTENSION scim UPDATE' -c "SELECT extversion FROM pg_extension WHERE extname = 'scim'" 2>&1)" \
		"$version"
	sql fresh -c 'CREATE EXTENSION scim'
	same "$old: its script installs with this library, and updates to $version" \
		"$(sql bare -c "CREATE EXTENSION scim VERSION '$old'" -c 'ALTER EXTENSION scim UPDATE' \
			-c "SELECT extversion FROM pg_extension WHERE extname = 'scim'" 2>&1)" "$version"

	# ---- (a) the objects equal a fresh install's --------------------------------
	catalog fresh > "$log/upgrade-$old-fresh.sql" 2>&1
	for db in up bare; do
		catalog $db > "$log/upgrade-$old-$db.sql" 2>&1
		if diff -u "$log/upgrade-$old-fresh.sql" "$log/upgrade-$old-$db.sql" > "$log/upgrade-$old-$db.diff"; then
			ok "$old: updated ($db) the extension's objects are a fresh $version install's"
		else
			not_ok "$old: updated ($db) the extension's objects are a fresh $version install's ($log/upgrade-$old-$db.diff: - fresh, + updated)"
			head -60 "$log/upgrade-$old-$db.diff" | sed 's/^/#   /'
		fi
	done

	# ---- (b) the data, served by this build ---------------------------------------
	same "$old: the old token is accepted, the expiring one too, the revoked one refused" \
		"$(call up GET "/Users/$alice" | cut -c1-3) $(call up GET "/Users/$alice" '' "$expiring" | cut -c1-3) $(call up GET "/Users/$alice" '' "$revoked" | cut -c1-3)" \
		"200 200 401"
	same "$old: alice is served as before (with the extension schema registered on $old)" \
		"$(call up GET "/Users/$alice")" "$before_alice"
	same "$old: the schema registered on $old is served" "$(call up GET "/Schemas/$acme" | cut -c1-3)" 200
	same "$old: bob is served as before (his groups: Staff)" "$(call up GET "/Users/$bob")" "$before_bob"
	# members carry their display since 0.2.0; as before besides
	nested_now=$(call up GET "/Groups/$nested")
	same "$old: Nested is served as before, its member in canonical form" \
		"$(echo "$nested_now" | sed 's/, "display": "Staff"//')" \
		"$(echo "$before_nested" | sed "s/$STAFF/$staff/g; s/, \"display\": \"Staff\"//")"
	same "$old: Nested's member carries its display" "$(echo "$nested_now" | grep -c '"display": "Staff"')" 1
	same "$old: Staff's members are alice and bob, once each, in canonical form (carol's membership is gone)" \
		"$(members "$(call up GET "/Groups/$staff")")" "$(printf '%s\n' "$alice" "$bob" | LC_ALL=C sort | paste -sd, -)"
	same "$old: every member value is canonical (scim.member_id), none orphaned" \
		"$(sql up -c "SELECT count(*) FILTER (WHERE value::text <> lower(value::uuid::text)) || ' '
			|| count(*) FILTER (WHERE NOT EXISTS (SELECT FROM scim.users u WHERE u.id::text = m.value)
								AND NOT EXISTS (SELECT FROM scim.groups g WHERE g.id::text = m.value)) || ' ' || count(*)
			FROM scim.group_members m")" "0 0 3"
	same "$old: both passwords are SCRAM-SHA-256 secrets, none in clear" \
		"$(sql up -c "SELECT string_agg(CASE WHEN data->>'password' ~ '^SCRAM-SHA-256\\\$4096:' THEN 'scram' ELSE coalesce(data->>'password', 'none') END, ' ' ORDER BY data->>'userName') FROM scim.users")" \
		"scram scram"
	same "$old: the event log is kept" "$(sql up -c "SELECT count(*) >= $events_before FROM scim.event")" "t"
	# 0.1.0 kept no prefix of a token
	same "$old: scim.tokens lists the 3 tokens issued before" \
		"$(sql up -c "SELECT count(*) || ' ' || count(prefix) FROM scim.tokens")" "3 $([ "$old" = 0.1.0 ] && echo 0 || echo 3)"
	# and this build writes to the updated store
	same "$old: a member added in upper case after the update is stored canonical" \
		"$(call up PATCH "/Groups/$staff" "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$STAFF\"}]}]}" | cut -c1-3) $(sql up -c "SELECT count(*) FROM scim.group_members WHERE group_id = '$staff' AND value = '$staff'")" \
		"204 1"
	same "$old: a password PATCHed after the update is stored as its secret" \
		"$(call up PATCH "/Users/$alice" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"new secret"}]}' | cut -c1-3) $(sql up -c "SELECT data->>'password' ~ '^SCRAM-SHA-256' FROM scim.users WHERE id = '$alice'")" \
		"200 t"
	same "$old: the change feed starts at the update and has this build's two writes" \
		"$(sql up -c "SELECT string_agg(kind || ' ' || resource_type || ' ' || split_part(operation, ' ', 1), ', ' ORDER BY change_id) FROM scim.changes()")" \
		"member_added Group PATCH, updated User PATCH"
	cluster_stop "$work"
done

echo "1..$n"
[ "$failed" -eq 0 ]
