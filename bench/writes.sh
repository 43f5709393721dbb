#!/bin/sh
# bench/writes.sh: instructions per call of the requests beyond the
# lookups, reads and user PATCHes (bench/instructions.sh has those), each
# against raw SQL with the same effect, counted by callgrind as
# instructions.sh counts (bench/lib.sh's ins_per_call):
#   POST /Users (no password)   against an INSERT of the same document;
#   PUT /Users/{id}             against an UPDATE to the same document;
#   DELETE /Users/{id}          against the DELETE of the user;
#   GET /Users?startIndex=&count=100  against the raw SELECT of the page with its count;
#   POST /Users/.search (userName eq)  against the GET of the same lookup;
#   PATCH /Groups/{id} adding one member to a group of 10,000  against the
#     INSERT into scim.group_members and the group's version bump.
# Both sides' changes are recorded by the change feed's triggers, which are
# the event log of what changed (src/pg/changes.c): each write one row.
# The requests run as scim-server's role (scim_server), the raw statements
# as the table owner.  A tenant of its own holds 10,000 users ("wuser<n>"),
# all members of one group, and the users the runs delete and add.
#
# Needs bench/run.sh's throwaway cluster (OWN_CLUSTER=1, PGDATA_DIR,
# SERVER_USER) and its users table; bench/run.sh runs it as part "writes".
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

n1=${BENCH_INS_N1:-200}
n2=${BENCH_INS_N2:-1200}
work=${WORK:-$(mktemp -d)}
ins_can_run writes || exit 0
run=$(date +%s)

echo "== writes: a tenant of 10,000 users in one group"
psql -X -q -v ON_ERROR_STOP=1 -v run="$run" -v n="$n2" -f src/server/server_role.sql
psql -X -q -v ON_ERROR_STOP=1 -v run="$run" -v n="$n2" <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS scim_bench.w_conf, scim_bench.w_ids;
CREATE TABLE scim_bench.w_conf AS SELECT t AS tenant, scim.create_token(t) AS token, gen_random_uuid() AS gid
FROM scim.create_tenant('bench writes') t;
-- pool "u": the 10,000 members; the others, per run tag, the users DELETE removes and PATCH adds
CREATE TABLE scim_bench.w_ids (pool text, n int, id uuid NOT NULL, user_name text NOT NULL, PRIMARY KEY (pool, n));
INSERT INTO scim_bench.w_ids SELECT 'u', i, gen_random_uuid(), 'wuser' || i FROM generate_series(1, 10000) i;
INSERT INTO scim_bench.w_ids
SELECT p || :'run' || s, i, gen_random_uuid(), p || :'run' || s || '-' || i
FROM unnest(ARRAY['dh', 'dr', 'mh', 'mr']) p, unnest(ARRAY['a', 'b']) s, generate_series(0, :n) i;
INSERT INTO scim.users (tenant, id, data)
SELECT c.tenant, w.id, jsonb_build_object('schemas', '["urn:ietf:params:scim:schemas:core:2.0:User"]'::jsonb,
	'id', w.id::text, 'userName', w.user_name, 'displayName', 'W ' || w.n,
	'emails', jsonb_build_array(jsonb_build_object('value', w.user_name || '@example.com', 'type', 'work')),
	'meta', jsonb_build_object('resourceType', 'User', 'created', '2026-01-01T00:00:00Z',
		'lastModified', '2026-01-01T00:00:00Z', 'version', 'W/"1"'))
FROM scim_bench.w_ids w, scim_bench.w_conf c;
INSERT INTO scim.groups (tenant, id, data)
SELECT c.tenant, c.gid, jsonb_build_object('schemas', '["urn:ietf:params:scim:schemas:core:2.0:Group"]'::jsonb,
	'id', c.gid::text, 'displayName', 'Everyone',
	'meta', jsonb_build_object('resourceType', 'Group', 'created', '2026-01-01T00:00:00Z',
		'lastModified', '2026-01-01T00:00:00Z', 'version', 'W/"1"'))
FROM scim_bench.w_conf c;
INSERT INTO scim.group_members (tenant, group_id, value, type)
SELECT c.tenant, c.gid, w.id::text, 'User' FROM scim_bench.w_ids w, scim_bench.w_conf c WHERE w.pool = 'u';
VACUUM (ANALYZE) scim.users, scim.groups, scim.group_members;
ANALYZE scim_bench.w_ids, scim_bench.w_conf;
GRANT USAGE ON SCHEMA scim_bench TO scim_server;
GRANT SELECT ON scim_bench.w_ids, scim_bench.w_conf TO scim_server;
SQL

token=$(psql -X -At -c 'SELECT token FROM scim_bench.w_conf')
tenant=$(psql -X -At -c 'SELECT tenant FROM scim_bench.w_conf')
gid=$(psql -X -At -c 'SELECT gid FROM scim_bench.w_conf')
db=$(psql -X -At -c 'SELECT current_database()')
hdrs="{\"host\": \"127.0.0.1:8080\", \"authorization\": \"Bearer $token\", \"x-scim-base-path\": \"/scim/v2\", \"content-type\": \"application/scim+json\"}"
user="(SELECT id FROM scim_bench.w_ids WHERE pool = 'u' AND n = \$1)"
name="(SELECT user_name FROM scim_bench.w_ids WHERE pool = 'u' AND n = \$1)"
# the run's own users: TAG is the run's tag (dh<run>a, ...), \$2 the call
victim="(SELECT id FROM scim_bench.w_ids WHERE pool = 'TAG' AND n = \$2)"
now="to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
doc="'{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"pTAG' || \$2 || '\",\"displayName\":\"P ' || \$2 || '\",\"emails\":[{\"value\":\"p' || \$2 || 'TAG@example.com\",\"type\":\"work\"}]}'"

post_handle="SELECT status, headers, body FROM scim.handle_text('POST', '/Users', '', '$hdrs'::jsonb, $doc)"
post_raw="INSERT INTO scim.users (tenant, id, data) SELECT '$tenant', i, ($doc)::jsonb || jsonb_build_object('id', i::text, 'meta', jsonb_build_object('resourceType', 'User', 'created', $now, 'lastModified', $now, 'version', 'W/\"1\"')) FROM gen_random_uuid() i"
put_body="'{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"' || $name || '\",\"displayName\":\"Q ' || \$2 || 'TAG\",\"emails\":[{\"value\":\"q' || \$2 || 'TAG@example.com\",\"type\":\"work\"}]}'"
put_handle="SELECT status, headers, body FROM scim.handle_text('PUT', '/Users/' || $user, '', '$hdrs'::jsonb, $put_body)"
put_raw="UPDATE scim.users r SET data = ($put_body)::jsonb || jsonb_build_object('id', r.id::text, 'meta', jsonb_set(jsonb_set(r.data->'meta', '{lastModified}', to_jsonb($now)), '{version}', to_jsonb('W/\"' || (r.version + 1) || '\"'))), version = r.version + 1, last_modified = now() WHERE r.tenant = '$tenant' AND r.id = $user"
delete_handle="SELECT status, headers, body FROM scim.handle_text('DELETE', '/Users/' || $victim, '', '$hdrs'::jsonb, NULL)"
delete_raw="DELETE FROM scim.users r WHERE r.tenant = '$tenant' AND r.id = $victim"
page_handle="SELECT status, headers, body FROM scim.handle_text('GET', '/Users', 'startIndex=' || (\$1 % 9900 + 1) || '&count=100', '$hdrs'::jsonb, NULL)"
page_raw="SELECT (SELECT count(*) FROM scim.users WHERE tenant = '$tenant'), r.data FROM scim.users r WHERE r.tenant = '$tenant' ORDER BY r.created, r.id OFFSET \$1 % 9900 LIMIT 100"
lookup_get="SELECT status, headers, body FROM scim.handle_text('GET', '/Users', 'filter=userName%20eq%20%22wuser' || \$1 || '%22', '$hdrs'::jsonb, NULL)"
lookup_search="SELECT status, headers, body FROM scim.handle_text('POST', '/Users/.search', '', '$hdrs'::jsonb, '{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"],\"filter\":\"userName eq \\\"wuser' || \$1 || '\\\"\"}')"
member_handle="SELECT status, headers, body FROM scim.handle_text('PATCH', '/Groups/$gid', '', '$hdrs'::jsonb, '{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"' || $victim || '\"}]}]}')"
member_raw="WITH i AS (INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES ('$tenant', '$gid', $victim::text, 'User') RETURNING tenant, group_id) UPDATE scim.groups r SET data = jsonb_set(jsonb_set(r.data, '{meta,lastModified}', to_jsonb($now)), '{meta,version}', to_jsonb('W/\"' || (r.version + 1) || '\"')), version = r.version + 1, last_modified = now() FROM i WHERE r.tenant = i.tenant AND r.id = i.group_id"

INS_ROWS=10000 INS_DB=$db INS_WORK=$work INS_N1=$n1 INS_N2=$n2
e0=$(events)
as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null
echo "== writes: single-user backend under callgrind, $n1 and $n2 calls a statement, requests as scim_server"
post_h=$(ins_per_call post_handle "$post_handle" "post$run" scim_server)
post_r=$(ins_per_call post_raw "$post_raw" "postr$run")
put_h=$(ins_per_call put_handle "$put_handle" "put$run" scim_server)
put_r=$(ins_per_call put_raw "$put_raw" "putr$run")
del_h=$(ins_per_call delete_handle "$delete_handle" "dh$run" scim_server)
del_r=$(ins_per_call delete_raw "$delete_raw" "dr$run")
mem_h=$(ins_per_call member_handle "$member_handle" "mh$run" scim_server)
mem_r=$(ins_per_call member_raw "$member_raw" "mr$run")
look_g=$(ins_per_call lookup_get "$lookup_get" "lg$run" scim_server)
look_s=$(ins_per_call lookup_search "$lookup_search" "ls$run" scim_server)
INS_N1=$((n1 / 4)) INS_N2=$((n2 / 4))
page_h=$(ins_per_call page_handle "$page_handle" "pg$run" scim_server)
page_r=$(ins_per_call page_raw "$page_raw" "pgr$run")
as_server pg_ctl -D "$PGDATA_DIR" -l "$work/server.log" -w start >/dev/null
# every write must have written: each request and each raw statement one change
wrote=$(($(events) - e0))
[ "$wrote" = $((8 * (n1 + n2))) ] ||
	{ echo "writes: $((8 * (n1 + n2))) writes but $wrote events" >&2; exit 1; }

for r in "POST /Users:$post_h:$post_r:INSERT" "PUT /Users/{id}:$put_h:$put_r:UPDATE" \
	"DELETE /Users/{id}:$del_h:$del_r:DELETE" \
	"PATCH /Groups/{id} add 1 of 10,000:$mem_h:$mem_r:INSERT and version bump" \
	"GET /Users page of 100:$page_h:$page_r:SELECT of the page and count" \
	"POST /Users/.search:$look_s:$look_g:GET /Users?filter= (through scim.handle_text())"; do
	printf '%s\n' "$r"
done | awk -F: '{ printf "%s: %d instructions a call, %.2fx the %s (%d)\n", $1, $2, $2 / $3, $4, $3
	s = s sprintf("%s%s %.2fx", (NR > 1 ? "; " : ""), $1, $2 / $3) }
	END { print "SUMMARY writes (requests as scim_server, raw SQL as the table owner): " s }'
