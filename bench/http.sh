#!/bin/sh
# bench/http.sh: scim-server over loopback with wrk, next to pgbench.
#
# Normally run by bench/run.sh (libpq environment and the users table
# ready).  Loads the users into the store under one tenant, starts
# ./scim-server, and measures at 8 and 32 connections:
#   GET /Users?filter=userName eq "..." (random users) with wrk, against
#     (a) pgbench running the same scim.handle() call and
#     (b) pgbench running the raw indexed SELECT of the row;
#   PATCH /Users/{id} (three operations) with wrk, against
#     (b) pgbench running a raw UPDATE of the same row.
# Prints throughput, p50/p99 and SUMMARY lines with the ratios.
set -eu
cd "$(dirname "$0")/.."

secs=${BENCH_HTTP_T:-15}
work=${WORK:-$(mktemp -d)}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

echo "== http: loading the users into the store"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
\o /dev/null
SELECT set_config('bench.tenant', scim.create_tenant('bench')::text, false);
\o
DROP TABLE IF EXISTS http_conf, http_ids;
CREATE TABLE http_conf AS SELECT current_setting('bench.tenant')::uuid AS tenant,
	scim.create_token(current_setting('bench.tenant')::uuid) AS token;
CREATE TABLE http_ids (n bigint PRIMARY KEY, id uuid NOT NULL);
INSERT INTO http_ids SELECT u.id, gen_random_uuid() FROM users u;
INSERT INTO scim.users (tenant, id, data)
SELECT c.tenant, i.id, u.data || jsonb_build_object('id', i.id::text)
FROM users u JOIN http_ids i ON i.n = u.id, http_conf c;
VACUUM (ANALYZE) scim.users;
ANALYZE http_ids, http_conf;
SQL
rows=$(psql -X -At -c 'SELECT count(*) FROM http_ids')
token=$(psql -X -At -c 'SELECT token FROM http_conf')
tenant=$(psql -X -At -c 'SELECT tenant FROM http_conf')
psql -X -At -c "SELECT id FROM http_ids ORDER BY n LIMIT 100000" > "$work/http_ids.txt"

cat > "$work/get.lua" <<EOF2
math.randomseed(os.time())
request = function()
	local n = math.random(1, $rows)
	return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22user" .. n .. "%22",
		{["Authorization"] = "Bearer $token"})
end
EOF2
cat > "$work/patch.lua" <<EOF2
local ids = {}
for line in io.lines("$work/http_ids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
-- values that change on every request, so that every PATCH writes
request = function()
	local k = math.random(1, 1000000000)
	local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
		'{"op":"Replace","path":"displayName","value":"Name ' .. k .. '"},' ..
		'{"op":"Replace","path":"active","value":"' .. (k % 2 == 0 and "True" or "False") .. '"},' ..
		'{"op":"Replace","path":"emails[type eq \\\\"work\\\\"].value","value":"' .. k .. '@example.com"}]}'
	return wrk.format("PATCH", "/scim/v2/Users/" .. ids[math.random(1, #ids)],
		{["Authorization"] = "Bearer $token", ["Content-Type"] = "application/scim+json"}, body)
end
EOF2
printf '%s\n' "\\set n random(1, $rows)" \
	"SELECT status FROM scim.handle('GET', '/Users', 'filter=userName%20eq%20%22user' || :n || '%22', '{\"authorization\": \"Bearer $token\"}'::jsonb, NULL);" \
	> "$work/handle_get.sql"
printf '%s\n' "\\set n random(1, $rows)" \
	"SELECT data FROM scim.users WHERE tenant = '$tenant' AND lower(data->>'userName') = lower('user' || :n);" \
	> "$work/raw_get.sql"
printf '%s\n' "\\set n random(1, 100000)" "\\set k random(1, 1000000000)" \
	"UPDATE scim.users SET data = jsonb_set(jsonb_set(jsonb_set(data, '{displayName}', to_jsonb('Name ' || :k::text)), '{active}', to_jsonb(:k::integer % 2 = 0)), '{emails,0,value}', to_jsonb(:k::text || '@example.com')), version = version + 1, last_modified = now() WHERE tenant = '$tenant' AND id = (SELECT id FROM http_ids WHERE n = :n);" \
	> "$work/raw_patch.sql"

dbconn="host=${PGHOST:-} port=${PGPORT:-5432} user=${PGUSER:-postgres} dbname=${PGDATABASE:-postgres}"
# the server as it ships (4 workers) unless BENCH_HTTP_WORKERS says otherwise
SCIM_WORKERS=${BENCH_HTTP_WORKERS:-4} SCIM_DB=$dbconn ./scim-server --port "$port" 2> "$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1

wrk_run() {		# wrk_run CONNECTIONS SCRIPT -> "rps p50ms p99ms"
	wrk -t 2 -c "$1" -d "${secs}s" --latency -s "$2" "http://127.0.0.1:$port" 2>&1 | awk '
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		END { printf "%s %s %s %s\n", rps, p50, p99, bad ? bad : 0 }'
}
pgb_run() {		# pgb_run CLIENTS SCRIPT -> "tps avg_latency_ms"
	pgbench -n -M prepared -c "$1" -j 2 -T "$secs" -f "$2" 2>&1 | awk '
		/^tps/ { tps = $3 } /latency average/ { lat = $4 } END { printf "%s %s\n", tps, lat }'
}

for c in 8 32; do
	echo "== http: $c connections, ${secs}s each"
	g=$(wrk_run "$c" "$work/get.lua")
	a=$(pgb_run "$c" "$work/handle_get.sql")
	b=$(pgb_run "$c" "$work/raw_get.sql")
	p=$(wrk_run "$c" "$work/patch.lua")
	u=$(pgb_run "$c" "$work/raw_patch.sql")
	echo "   GET  server: $g (req/s p50 p99 non2xx)   (a) handle: $a   (b) raw SELECT: $b (tps avg_ms)"
	echo "   PATCH server: $p   (b) raw UPDATE: $u"
	echo "$c $g $a $b $p $u" | awk '{
		printf "SUMMARY %d connections: GET %.0f req/s (p50 %s, p99 %s) = %.0f%% of (a) handle %.0f tps, %.0f%% of (b) raw %.0f tps; PATCH %.0f req/s (p50 %s, p99 %s) = %.0f%% of raw UPDATE %.0f tps\n",
			$1, $2, $3, $4, 100 * $2 / $6, $6, 100 * $2 / $8, $8, $10, $11, $12, 100 * $10 / $14, $14 }'
done
