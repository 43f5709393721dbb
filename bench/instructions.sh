#!/bin/sh
# bench/instructions.sh: instructions per call, counted by callgrind.
#
# Normally run by bench/run.sh after bench/http.sh, which has loaded the
# users into the store under one tenant (tables http_conf and http_ids).
# Times on a shared machine drift from run to run; the number of
# instructions a backend executes for a call does not.  So each statement
# below is run in a single-user backend (postgres --single) under
# valgrind --tool=callgrind, N1 and then N2 times as a generic prepared
# plan, and its cost is the difference divided by N2 - N1: start-up,
# shutdown and the first calls' planning fall out.
#   1. GET /Users?filter=userName eq "..." as scim-server calls
#      scim.handle_text(), against the raw indexed SELECT of the row, and
#      for comparison as an app backend calls scim.handle(), the body
#      cast to text;
#   2. GET /Users/{id} as scim-server calls it, against the raw SELECT of
#      the row by its key;
#   3. PATCH /Users/{id} with Entra ID's three replaces, values new on
#      every call, as scim-server calls it, against the raw UPDATE with
#      the same effect.
# The scim.handle_text() and scim.handle() statements run as the role
# scim-server is deployed with, scim_server (bench/http.sh runs
# src/server/server_role.sql and grants it SELECT on the ids table), so
# that row-level security is in their figures: SET ROLE in their backend's
# preamble, after the settings and before PREPARE, so that the plan is made
# under the role too.  The raw SELECT and UPDATE run as the table owner
# (the backend's user, the superuser that created the extension), which
# row-level security does not hold back, as an application's own SQL would.
# With BENCH_AS_SUPERUSER=1 every statement runs as that superuser (the
# figures before the server role).
# The single-user backend prints each result row where a server would send
# it; both sides pay that.  The GIN pending list is made large enough not
# to be flushed during a run, on both sides: a flush lands in one run or
# the other and is not the call's cost.
#
# It needs the throwaway cluster bench/run.sh makes (PGDATA_DIR and
# SERVER_USER exported, OWN_CLUSTER=1, the server's binaries on PATH):
# the cluster is stopped for the single-user backend and started again
# after.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

n1=${BENCH_INS_N1:-200}
n2=${BENCH_INS_N2:-1200}
# the role the scim.handle*() statements run as; empty: the superuser
if [ "${BENCH_AS_SUPERUSER:-0}" = 1 ]; then
	role=
	as="as the superuser"
else
	role=scim_server
	as="as scim_server"
fi
work=${WORK:-$(mktemp -d)}

ins_can_run instructions || exit 0

rows=$(psql -X -At -c 'SELECT count(*) FROM http_ids')
ids=$(ids_table)
token=$(psql -X -At -c 'SELECT token FROM http_conf')
tenant=$(psql -X -At -c 'SELECT tenant FROM http_conf')
patched=$((rows < 100000 ? rows : 100000))
db=$(psql -X -At -c 'SELECT current_database()')
# ins_per_call (bench/lib.sh) draws $1 from 1..rows
INS_ROWS=$rows INS_DB=$db INS_WORK=$work INS_N1=$n1 INS_N2=$n2

hdrs="{\"host\": \"127.0.0.1:8080\", \"authorization\": \"Bearer $token\", \"x-scim-base-path\": \"/scim/v2\", \"content-type\": \"application/scim+json\"}"
get_handle="SELECT status, headers, body FROM scim.handle_text('GET', '/Users', 'filter=userName%20eq%20%22user' || \$1 || '%22', '$hdrs'::jsonb, NULL)"
get_jsonb="SELECT status, headers::text, body::text FROM scim.handle('GET', '/Users', 'filter=userName%20eq%20%22user' || \$1 || '%22', '$hdrs'::jsonb, NULL)"
get_raw="SELECT data FROM scim.users WHERE tenant = '$tenant' AND scim.key_lower(data, 'userName') = lower('user' || \$1)"
id_handle="SELECT status, headers, body FROM scim.handle_text('GET', '/Users/' || (SELECT id FROM $ids WHERE n = \$1), '', '$hdrs'::jsonb, NULL)"
id_raw="SELECT data FROM scim.users WHERE tenant = '$tenant' AND id = (SELECT id FROM $ids WHERE n = \$1)"
# $1 is the user, $2 the call's number: with TAG, which keeps the runs apart,
# the values are new on every call, so that each call writes
patch_handle="SELECT status, headers, body FROM scim.handle_text('PATCH', '/Users/' || (SELECT id FROM $ids WHERE n = \$1 % $patched + 1), '', '$hdrs'::jsonb, '{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Name ' || \$2 || 'TAG\"},{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"' || CASE WHEN \$2 % 2 = 0 THEN 'True' ELSE 'False' END || '\"},{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"' || \$2 || 'TAG@example.com\"}]}')"
patch_raw="UPDATE scim.users SET data = jsonb_set(jsonb_set(jsonb_set(data, '{displayName}', to_jsonb('Name ' || \$2 || 'TAG')), '{active}', to_jsonb(\$2 % 2 = 0)), '{emails,0,value}', to_jsonb(\$2 || 'TAG@example.com')), version = version + 1, last_modified = now() WHERE tenant = '$tenant' AND id = (SELECT id FROM $ids WHERE n = \$1 % $patched + 1)"

echo "== instructions: single-user backend under callgrind, $n1 and $n2 calls a statement, scim.handle*() $as"
# the raw UPDATE's changes are recorded too, as direct SQL's ("SQL")
e0=$(events "operation <> 'SQL'")
as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null
run=$(date +%s)
gh=$(ins_per_call get_handle "$get_handle" "g$run" "$role")
gj=$(ins_per_call get_jsonb "$get_jsonb" "g$run" "$role")
gr=$(ins_per_call get_raw "$get_raw" "g$run")
ih=$(ins_per_call id_handle "$id_handle" "i$run" "$role")
ir=$(ins_per_call id_raw "$id_raw" "i$run")
ph=$(ins_per_call patch_handle "$patch_handle" "h$run" "$role")
pr=$(ins_per_call patch_raw "$patch_raw" "r$run")
as_server pg_ctl -D "$PGDATA_DIR" -l "$work/server.log" -w start >/dev/null
# every PATCH must have written (one event each): one that changed nothing
# would be answered as a read, and the figure would not be a write's
wrote=$(($(events "operation <> 'SQL'") - e0))
[ "$wrote" = $((n1 + n2)) ] ||
	{ echo "instructions: $((n1 + n2)) PATCHes through scim.handle_text() but $wrote events" >&2; exit 1; }

printf 'GET by userName: scim.handle_text() %d instructions a call, scim.handle() %d (%s), raw SELECT %d (as the table owner)\n' "$gh" "$gj" "$as" "$gr"
printf 'GET by id: scim.handle_text() %d instructions a call (%s), raw SELECT %d (as the table owner)\n' "$ih" "$as" "$ir"
printf 'PATCH: scim.handle_text() %d instructions a call (%s), raw UPDATE %d (as the table owner)\n' "$ph" "$as" "$pr"
awk -v gh="$gh" -v gj="$gj" -v gr="$gr" -v ih="$ih" -v ir="$ir" -v ph="$ph" -v pr="$pr" -v as="$as" 'BEGIN {
	printf "SUMMARY instructions (scim.handle*() %s, raw statements as the table owner): GET by userName through the server\047s scim.handle_text() %.2fx the raw SELECT (%d against %d a call; scim.handle() with the body cast to text %.2fx, %d); GET by id %.2fx the raw SELECT (%d against %d); PATCH %.2fx the raw UPDATE (%d against %d)\n",
		as, gh / gr, gh, gr, gj / gr, gj, ih / ir, ih, ir, ph / pr, ph, pr
}'
