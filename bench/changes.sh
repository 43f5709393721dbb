#!/bin/sh
# bench/changes.sh: what the change feed costs writers and how fast it
# delivers, against a named baseline: the build of BENCH_CHANGES_BASE
# (default d6dcce1, the store before the feed, whose handler logged each
# successful request as an event of its own).  Each build runs in a private
# copy of PostgreSQL and a cluster of its own (test/upgrade/lib.sh; the
# baseline's build is cached under build/bench/), with a tenant of 10,000
# users:
#   1. instructions per user PATCH (instructions.sh's three replaces, new
#      values every call) through scim.handle_text() as scim_server, in a
#      single-user backend under callgrind (bench/lib.sh, ins_per_call); in
#      this build also with the users' trigger disabled, for what the
#      change row costs;
#   2. instructions to read a batch of 1,000 changes through scim.changes()
#      against the raw SELECT of 1,000 rows of scim.change by its key, and
#      of one tenant's 1,000 (this build only);
#   3. PATCH throughput through scim.handle() with 8 and 32 pgbench clients:
#      the baseline, this build, and this build preloaded
#      (shared_preload_libraries, so that writers share one notification
#      clock), alternating, medians of BENCH_PGBENCH_REPS runs of
#      BENCH_CHANGES_T seconds (default 10);
#   4. from a writer's COMMIT to a LISTENing consumer's receiving the change
#      through scim.changes(), alone and with 8 pgbench clients patching
#      (bench/changes_latency.py; needs python3-psycopg), on this build
#      (not preloaded).
# bench/run.sh runs this as part "changes"; it needs neither run.sh's
# cluster nor the installed extension, and builds this tree (make install
# into its copy).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
. test/upgrade/lib.sh

base=${BENCH_CHANGES_BASE:-d6dcce1}
T=${BENCH_CHANGES_T:-10}
reps=${BENCH_PGBENCH_REPS:-5}
n1=${BENCH_INS_N1:-200}
n2=${BENCH_INS_N2:-1200}
work=$(mktemp -d "${TMPDIR:-/tmp}/scim-changes.XXXXXX")
chmod 755 "$work"
SERVER_USER=$(id -un)
[ "$(id -u)" -eq 0 ] && SERVER_USER=postgres && chown postgres "$work"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
sides="base feed preload"

# side_env SIDE: PATH and libpq's settings for SIDE's cluster
side_env() {
	eval "PATH=\$bin_$1:\$ORIG_PATH PGHOST=$work/$1 PGPORT=\$port_$1"
	export PATH PGHOST PGPORT
}
ORIG_PATH=$PATH
unset PGDATABASE PGSERVICE PGOPTIONS
export PGUSER=postgres

stop_all() {
	for s in $sides; do
		[ -f "$work/$s/data/postmaster.pid" ] && as_server "$(eval echo \$bin_$s)/pg_ctl" -D "$work/$s/data" -m fast -w stop >/dev/null 2>&1
	done
	return 0
}
trap 'stop_all; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# ---- the builds, each in its copy of PostgreSQL --------------------------------
echo "== changes: the baseline $base and this build, each in a copy of PostgreSQL"
UPGRADE_CACHE=build/bench old_build base "$base" || { echo "changes: could not build $base" >&2; exit 1; }
bin_base=$(dirname "$(find "$old_dir/root" -path '*/bin/pg_ctl' | head -1)")
mkdir "$work/root"
config=$(pg_copy "$work/root")
make -s install PG_CONFIG="$config" > "$work/install.out" 2>&1 || { cat "$work/install.out" >&2; exit 1; }
bin_feed=$(dirname "$config")
bin_preload=$bin_feed
port_base=$((20000 + $$ % 10000))
port_feed=$((port_base + 1))
port_preload=$((port_base + 2))

for s in $sides; do
	mkdir -p "$work/$s"
	chmod 700 "$work/$s"
	[ "$SERVER_USER" = postgres ] && chown postgres "$work/$s"
	b=$(eval echo \$bin_$s)
	as_server "$b/initdb" -D "$work/$s/data" -E UTF8 --locale=C.UTF-8 -A trust -U postgres > "$work/$s/initdb.log" 2>&1 ||
		{ cat "$work/$s/initdb.log" >&2; exit 1; }
	cat >> "$work/$s/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$work/$s'
port = $(eval echo \$port_$s)
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 30min
autovacuum = off
EOF
	[ "$s" = preload ] && echo "shared_preload_libraries = 'scim'" >> "$work/$s/data/postgresql.conf"
	as_server "$b/pg_ctl" -D "$work/$s/data" -l "$work/$s/server.log" -w start > /dev/null ||
		{ cat "$work/$s/server.log" >&2; exit 1; }
	side_env "$s"
	psql -X -q -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION scim' \
		-f src/server/server_role.sql -v password="bench$$" > /dev/null
	psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA scim_bench;
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
VACUUM (ANALYZE) scim.users, scim.event;
ANALYZE scim_bench.c_ids, scim_bench.c_conf;
GRANT USAGE ON SCHEMA scim_bench TO scim_server;
GRANT SELECT ON scim_bench.c_ids, scim_bench.c_conf TO scim_server;
SQL
	[ "$s" = base ] || psql -X -q -c 'VACUUM (ANALYZE) scim.change'
done
side_env feed
token=$(psql -X -At -c 'SELECT token FROM scim_bench.c_conf')
hdrs="{\"host\": \"127.0.0.1:8080\", \"authorization\": \"Bearer $token\", \"x-scim-base-path\": \"/scim/v2\", \"content-type\": \"application/scim+json\"}"
# each cluster has its own token: the statements read it from their table
user="(SELECT id FROM scim_bench.c_ids WHERE n = \$1 % 10000 + 1)"
auth="jsonb_build_object('host', '127.0.0.1:8080', 'authorization', 'Bearer ' || (SELECT token FROM scim_bench.c_conf), 'x-scim-base-path', '/scim/v2', 'content-type', 'application/scim+json')"
patch_body="'{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Name ' || \$2 || 'TAG\"},{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"' || CASE WHEN \$2 % 2 = 0 THEN 'True' ELSE 'False' END || '\"},{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"' || \$2 || 'TAG@example.com\"}]}'"
patch_handle="SELECT status, headers, body FROM scim.handle_text('PATCH', '/Users/' || $user, '', $auth, $patch_body)"

# ---- 1 and 2: instructions ----------------------------------------------------
if command -v valgrind > /dev/null 2>&1; then
	echo "== changes: single-user backends under callgrind, $n1 and $n2 calls a statement"
	INS_ROWS=10000 INS_DB=postgres INS_WORK=$work INS_N1=$n1 INS_N2=$n2
	# base, feed, and for what the change row costs, feed with the users' trigger disabled
	for s in base feed off; do
		d=$s
		[ "$s" = off ] && d=feed
		side_env "$d"
		[ "$s" = off ] && psql -X -q -c 'ALTER TABLE scim.users DISABLE TRIGGER changes'
		as_server pg_ctl -D "$work/$d/data" -m fast -w stop > /dev/null
		PGDATA_DIR=$work/$d/data
		eval "ins_$s=\$(ins_per_call patch_$s \"\$patch_handle\" \"$s$$\" scim_server)"
		as_server pg_ctl -D "$work/$d/data" -l "$work/$d/server.log" -w start > /dev/null
	done
	psql -X -q -c 'ALTER TABLE scim.users ENABLE TRIGGER changes'
	# a batch of 1,000 from a position with at least that many after it
	from=$(psql -X -At -c "SELECT change_id FROM scim.changes(NULL, 1)")
	fp=$(psql -X -At -c "SELECT pos FROM scim.change ORDER BY pos, seq LIMIT 1")
	fs=$(psql -X -At -c "SELECT seq FROM scim.change ORDER BY pos, seq LIMIT 1")
	tenant=$(psql -X -At -c 'SELECT tenant FROM scim_bench.c_conf')
	read_feed="SELECT count(*) FROM scim.changes('$from', 1000)"
	read_tenant="SELECT count(*) FROM scim.changes('$from', 1000, '$tenant')"
	columns="c.tenant, c.pos, c.seq, c.at, c.kind, c.resource_type, c.resource_id, c.member_id, c.version, c.operation"
	read_raw="SELECT count(*) FROM (SELECT $columns FROM scim.change c WHERE (c.pos, c.seq) > ($fp, $fs) ORDER BY c.pos, c.seq LIMIT 1000) x"
	read_raw_tenant="SELECT count(*) FROM (SELECT $columns FROM scim.change c WHERE c.tenant = '$tenant' AND (c.pos, c.seq) > ($fp, $fs) ORDER BY c.tenant, c.pos, c.seq LIMIT 1000) x"
	as_server pg_ctl -D "$work/feed/data" -m fast -w stop > /dev/null
	PGDATA_DIR=$work/feed/data INS_N1=$((n1 / 10)) INS_N2=$((n2 / 10))
	rf=$(ins_per_call read_feed "$read_feed" "rf$$")
	rt=$(ins_per_call read_tenant "$read_tenant" "rt$$")
	rr=$(ins_per_call read_raw "$read_raw" "rr$$")
	rrt=$(ins_per_call read_raw_tenant "$read_raw_tenant" "rrt$$")
	as_server pg_ctl -D "$work/feed/data" -l "$work/feed/server.log" -w start > /dev/null
	printf 'PATCH /Users/{id}: %d instructions a call with the feed, %d in %s: %.3fx; %d with the users'"'"' trigger disabled (the change row: %d)\n' \
		"$ins_feed" "$ins_base" "$base" "$(echo "$ins_feed $ins_base" | awk '{ print $1 / $2 }')" "$ins_off" "$((ins_feed - ins_off))"
	printf 'a batch of 1,000 changes: scim.changes() %d instructions, the raw SELECT by (pos, seq) %d: %.2fx; of one tenant %d, the raw SELECT by its key %d: %.2fx\n' \
		"$rf" "$rr" "$(echo "$rf $rr" | awk '{ print $1 / $2 }')" "$rt" "$rrt" "$(echo "$rt $rrt" | awk '{ print $1 / $2 }')"
	ins="PATCH $(echo "$ins_feed $ins_base" | awk '{ printf "%.3fx (%d against %d)", $1 / $2, $1, $2 }') $base's (goal <= 1.05x; the change row $((ins_feed - ins_off)) of it); reading 1,000 changes $(echo "$rf $rr $rt $rrt" | awk '{ printf "%.2fx (%d against %d), of one tenant %.2fx (%d against %d)", $1 / $2, $1, $2, $3 / $4, $3, $4 }') the raw SELECT by the key (goal <= 2x)"
else
	ins="instructions not counted (valgrind is not installed)"
fi

# ---- 3. throughput ---------------------------------------------------------------
cat > "$work/c_patch.sql" <<'EOF'
\set u random(1, 10000)
SELECT status FROM scim_bench.c_conf c, scim.handle('PATCH', '/Users/' || (SELECT id FROM scim_bench.c_ids WHERE n = :u), NULL,
	jsonb_build_object('authorization', 'Bearer ' || c.token),
	format('{"schemas":["%s"],"Operations":[{"op":"Replace","path":"displayName","value":"T %s"}]}', c.urn, random()));
EOF
thr=""
for c in 8 32; do
	for s in $sides; do : > "$work/tps.$s"; done
	for i in $(seq "$reps"); do
		for s in $sides; do
			side_env "$s"
			pgbench_tps "$c" "$work/c_patch.sql" "$T" >> "$work/tps.$s"
		done
	done
	for s in $sides; do eval "tps_$s=\$(median < \"$work/tps.$s\")"; done
	printf 'PATCH through scim.handle(), %d clients: %s tps in %s, %s with the feed (%s), %s preloaded (%s)\n' \
		"$c" "$tps_base" "$base" "$tps_feed" "$(echo "$tps_feed $tps_base" | awk '{ printf "%.3fx", $1 / $2 }')" \
		"$tps_preload" "$(echo "$tps_preload $tps_base" | awk '{ printf "%.3fx", $1 / $2 }')"
	thr="$thr; $c clients $(echo "$tps_feed $tps_base $tps_preload" | awk '{ printf "%.3fx (%.0f against %.0f tps; preloaded %.3fx)", $1 / $2, $1, $2, $3 / $2 }')"
done

# ---- 4. latency ------------------------------------------------------------------
side_env feed
export PGDATABASE=postgres
lat_idle=$($py bench/changes_latency.py 300) || lat_idle="LATENCY not measured"
echo "alone: $lat_idle"
pgbench -n -M prepared -c 8 -j 8 -T 40 -f "$work/c_patch.sql" > "$work/load.out" 2>&1 &
load=$!
sleep 2
lat_load=$($py bench/changes_latency.py 300) || lat_load="LATENCY not measured"
wait "$load" || true
echo "with 8 clients patching: $lat_load"

echo "SUMMARY changes: $ins; PATCH throughput with the feed against $base$thr; COMMIT to consumer, alone: ${lat_idle#LATENCY }; with 8 clients patching: ${lat_load#LATENCY }"
