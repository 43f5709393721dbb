#!/bin/sh
# bench/changes.sh: what the change feed costs writers, and how fast it
# delivers.  In a tenant of its own, 10,000 users:
#   1. instructions per user PATCH (instructions.sh's three replaces, new
#      values every call) through scim.handle_text() as scim_server, with
#      the feed's triggers and with them disabled (ALTER TABLE ... DISABLE
#      TRIGGER changes: the store as it was before the feed);
#   2. instructions to read a batch of 1,000 changes through
#      scim.changes() against the raw SELECT of 1,000 rows of scim.change
#      by its key, both as the superuser;
#   3. PATCH throughput through scim.handle() with 8 and 32 pgbench
#      clients: triggers disabled, enabled with the default
#      scim.changes_notify_interval, and enabled notifying at every commit
#      (interval 0), alternating, medians of BENCH_PGBENCH_REPS runs of
#      BENCH_CHANGES_T seconds (default 10);
#   4. from a writer's COMMIT to a LISTENing consumer's receiving the
#      change through scim.changes(), alone and with 8 pgbench clients
#      patching (bench/changes_latency.py; needs python3-psycopg).
# Parts 1 and 2 need bench/run.sh's throwaway cluster (as instructions.sh);
# without it they are left out.  bench/run.sh runs this as part "changes".
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

n1=${BENCH_INS_N1:-200}
n2=${BENCH_INS_N2:-1200}
T=${BENCH_CHANGES_T:-10}
reps=${BENCH_PGBENCH_REPS:-5}
work=${WORK:-$(mktemp -d)}
run=$(date +%s)
# Debian's python3 has Debian's psycopg, whichever python3 comes first on PATH
py=/usr/bin/python3
[ -x "$py" ] || py=python3

echo "== changes: a tenant of 10,000 users"
psql -X -q -v ON_ERROR_STOP=1 -f src/server/server_role.sql -v password="bench$run" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS scim_bench;
DROP TABLE IF EXISTS scim_bench.c_conf, scim_bench.c_ids;
-- urn: pgbench -M prepared would take its colons for variables
CREATE TABLE scim_bench.c_conf AS SELECT t AS tenant, scim.create_token(t) AS token,
	'urn:ietf:params:scim:api:messages:2.0:PatchOp' AS urn
FROM scim.create_tenant('bench changes') t;
CREATE TABLE scim_bench.c_ids (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO scim_bench.c_ids SELECT i, gen_random_uuid() FROM generate_series(1, 10000) i;
INSERT INTO scim.users (tenant, id, data)
SELECT c.tenant, w.id, jsonb_build_object('schemas', '["urn:ietf:params:scim:schemas:core:2.0:User"]'::jsonb,
	'id', w.id::text, 'userName', 'cuser' || w.n, 'displayName', 'C ' || w.n, 'active', true,
	'emails', jsonb_build_array(jsonb_build_object('value', 'cuser' || w.n || '@example.com', 'type', 'work')),
	'meta', jsonb_build_object('resourceType', 'User', 'created', '2026-01-01T00:00:00Z',
		'lastModified', '2026-01-01T00:00:00Z', 'version', 'W/"1"'))
FROM scim_bench.c_ids w, scim_bench.c_conf c;
VACUUM (ANALYZE) scim.users, scim.change;
ANALYZE scim_bench.c_ids, scim_bench.c_conf;
GRANT USAGE ON SCHEMA scim_bench TO scim_server;
GRANT SELECT ON scim_bench.c_ids, scim_bench.c_conf TO scim_server;
SQL
token=$(psql -X -At -c 'SELECT token FROM scim_bench.c_conf')
db=$(psql -X -At -c 'SELECT current_database()')
hdrs="{\"host\": \"127.0.0.1:8080\", \"authorization\": \"Bearer $token\", \"x-scim-base-path\": \"/scim/v2\", \"content-type\": \"application/scim+json\"}"
user="(SELECT id FROM scim_bench.c_ids WHERE n = \$1 % 10000 + 1)"
patch_body="'{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Name ' || \$2 || 'TAG\"},{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"' || CASE WHEN \$2 % 2 = 0 THEN 'True' ELSE 'False' END || '\"},{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"' || \$2 || 'TAG@example.com\"}]}'"
patch_handle="SELECT status, headers, body FROM scim.handle_text('PATCH', '/Users/' || $user, '', '$hdrs'::jsonb, $patch_body)"
triggers() {
	psql -X -q -c "ALTER TABLE scim.users $1 TRIGGER changes"
}

# ---- 1 and 2: instructions ----------------------------------------------------
if ins_can_run changes_instructions >/dev/null; then
	INS_ROWS=10000 INS_DB=$db INS_WORK=$work INS_N1=$n1 INS_N2=$n2
	as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null
	echo "== changes: single-user backend under callgrind, $n1 and $n2 calls a statement"
	on=$(ins_per_call patch_on "$patch_handle" "on$run" scim_server)
	as_server pg_ctl -D "$PGDATA_DIR" -l "$work/server.log" -w start >/dev/null
	triggers DISABLE
	as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null
	off=$(ins_per_call patch_off "$patch_handle" "off$run" scim_server)
	as_server pg_ctl -D "$PGDATA_DIR" -l "$work/server.log" -w start >/dev/null
	triggers ENABLE
	# a batch of 1,000 from a position with at least that many after it
	from=$(psql -X -At -c "SELECT change_id FROM scim.changes(NULL, 1)")
	fp=$(psql -X -At -c "SELECT pos FROM scim.change ORDER BY pos, seq LIMIT 1")
	fs=$(psql -X -At -c "SELECT seq FROM scim.change ORDER BY pos, seq LIMIT 1")
	read_feed="SELECT count(*) FROM scim.changes('$from', 1000)"
	read_raw="SELECT count(*) FROM (SELECT c.tenant, c.pos, c.seq, c.at, c.kind, c.resource_type, c.resource_id, c.member_id, c.version, c.operation FROM scim.change c WHERE (c.pos, c.seq) > ($fp, $fs) ORDER BY c.pos, c.seq LIMIT 1000) x"
	as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null
	INS_N1=$((n1 / 10)) INS_N2=$((n2 / 10))
	rf=$(ins_per_call read_feed "$read_feed" "rf$run")
	rr=$(ins_per_call read_raw "$read_raw" "rr$run")
	as_server pg_ctl -D "$PGDATA_DIR" -l "$work/server.log" -w start >/dev/null
	printf 'PATCH /Users/{id}: %d instructions a call with the feed, %d without (triggers disabled): %.3fx\n' \
		"$on" "$off" "$(echo "$on $off" | awk '{ print $1 / $2 }')"
	printf 'a batch of 1,000 changes: scim.changes() %d instructions, the raw SELECT %d: %.2fx\n' \
		"$rf" "$rr" "$(echo "$rf $rr" | awk '{ print $1 / $2 }')"
	ins="PATCH $(echo "$on $off" | awk '{ printf "%.3fx (%d against %d)", $1 / $2, $1, $2 }') with the feed's triggers against without (goal <= 1.05x); reading 1,000 changes $(echo "$rf $rr" | awk '{ printf "%.2fx (%d against %d)", $1 / $2, $1, $2 }') the raw SELECT by the key (goal <= 2x)"
else
	ins="instructions not counted (they need bench/run.sh's own throwaway cluster and valgrind)"
fi

# ---- 3. throughput ---------------------------------------------------------------
cat > "$work/c_patch.sql" <<EOF
\\set u random(1, 10000)
SELECT status FROM scim_bench.c_conf c, scim.handle('PATCH', '/Users/' || (SELECT id FROM scim_bench.c_ids WHERE n = :u), NULL,
	'$hdrs'::jsonb, format('{"schemas":["%s"],"Operations":[{"op":"Replace","path":"displayName","value":"T %s"}]}', c.urn, random()));
EOF
# side: off (no triggers), on (default interval), every (notify at each commit)
tps() {
	case $1 in
	off) triggers DISABLE ;;
	*) triggers ENABLE ;;
	esac
	case $1 in
	every) o="-c scim.changes_notify_interval=0" ;;
	*) o="" ;;
	esac
	PGOPTIONS="${PGOPTIONS:-} $o" pgbench_tps "$2" "$work/c_patch.sql" "$T"
}
thr=""
for c in 8 32; do
	: > "$work/tps.off" ; : > "$work/tps.on" ; : > "$work/tps.every"
	for i in $(seq "$reps"); do
		for side in off on every; do
			tps "$side" "$c" >> "$work/tps.$side"
		done
	done
	triggers ENABLE
	off=$(median < "$work/tps.off")
	on=$(median < "$work/tps.on")
	every=$(median < "$work/tps.every")
	printf 'PATCH through scim.handle(), %d clients: %s tps without the feed, %s with it (%s), %s notifying at every commit (%s)\n' \
		"$c" "$off" "$on" "$(echo "$on $off" | awk '{ printf "%.3fx", $1 / $2 }')" \
		"$every" "$(echo "$every $off" | awk '{ printf "%.3fx", $1 / $2 }')"
	thr="$thr; $c clients $(echo "$on $off $every" | awk '{ printf "%.3fx (%.0f against %.0f tps; notifying at every commit %.3fx)", $1 / $2, $1, $2, $3 / $2 }')"
done

# ---- 4. latency ------------------------------------------------------------------
lat_idle=$($py bench/changes_latency.py 300) || lat_idle="LATENCY not measured"
echo "alone: $lat_idle"
PGOPTIONS="${PGOPTIONS:-}" pgbench -n -M prepared -c 8 -j 8 -T 40 -f "$work/c_patch.sql" > "$work/load.out" 2>&1 &
load=$!
sleep 2
lat_load=$($py bench/changes_latency.py 300) || lat_load="LATENCY not measured"
wait "$load" || true
echo "with 8 clients patching: $lat_load"

echo "SUMMARY changes: $ins; PATCH throughput with the feed against without$thr; COMMIT to consumer, alone: ${lat_idle#LATENCY }; with 8 clients patching: ${lat_load#LATENCY }"
