#!/bin/sh
# bench/http.sh: scim-server over loopback with wrk, next to pgbench.
#
# Normally run by bench/run.sh (libpq environment and the users table
# ready).  Loads the users into the store under one tenant, starts
# ./scim-server, and measures at 8 and 32 connections:
#   GET /Users?filter=userName eq "..." (random users) with wrk, against
#     (a) pgbench calling scim.handle_text() as the server does, with the
#         same headers and the server's search_path, in FROM (pgbench cannot
#         take the server's row in binary, see src/server/db.c), and
#     (b) pgbench running the raw indexed SELECT of the row;
#   PATCH /Users/{id} (three operations) with wrk, against
#     (b) pgbench running a raw UPDATE of the same row, and, for
#         information, (a) pgbench running the server's scim.handle_text() call;
#   and both requests with wrk against
#     (c) bench/bare_server.c, libmicrohttpd's pool of threads, each with
#         a libpq connection, around (b)'s raw SELECT and UPDATE and nothing
#         else: the share of (b) that a server built on them reaches here.
# scim-server connects as the role it is deployed with, scim_server, made
# by src/server/server_role.sql as src/server/run.sh ("make run") makes it,
# so that row-level security is in its figures; pgbench and the bare server
# run their statements as the table owner (the superuser that created the
# extension), which row-level security does not hold back, as an
# application's own SQL would.  With BENCH_AS_SUPERUSER=1, scim-server
# connects as that superuser too (the figures before the server role).
# The role is given SELECT on the bench's ids table (and USAGE on its
# schema) for bench/instructions.sh's PATCH, and nothing else.
# Each measurement runs BENCH_HTTP_ROUNDS times, interleaved with the
# others, and the medians are compared: the machines are shared and a
# single run of each can land on a neighbour's busy second.  The first
# round also splits the CPU a request costs between the backends, the
# server and the rest of the machine (wrk), from /proc.
# Prints throughput, p50/p99 and SUMMARY lines with the ratios.
set -eu
cd "$(dirname "$0")/.."

. bench/lib.sh
secs=${BENCH_HTTP_T:-8}
rounds=${BENCH_HTTP_ROUNDS:-3}
work=${WORK:-$(mktemp -d)}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
bare_port=$(free_port)
while [ "$bare_port" = "$port" ]; do bare_port=$(free_port); done

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
# the server's role as deployed, whichever privileges server_role.sql gives
# it, and what the bench's own statements under that role read: the ids
psql -X -q -v ON_ERROR_STOP=1 -f src/server/server_role.sql
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DO $$
BEGIN
	EXECUTE format('GRANT USAGE ON SCHEMA %s TO scim_server',
		(SELECT relnamespace::regnamespace FROM pg_class WHERE oid = 'http_ids'::regclass));
END $$;
GRANT SELECT ON http_ids TO scim_server;
SQL
# measured warm: the store's table and indexes in shared_buffers where
# pg_prewarm is available (bench/run.sh installs it), whatever the load evicted
psql -X -At -c "SELECT 'prewarmed ' || sum(pg_prewarm(c.oid)) || ' blocks of scim.users and its indexes'
	FROM pg_class c WHERE c.oid = 'scim.users'::regclass
	OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'scim.users'::regclass)" 2>/dev/null || true
rows=$(psql -X -At -c 'SELECT count(*) FROM http_ids')
# pgbench's sessions take scim-server's search_path: the ids need their schema
ids=$(ids_table)
token=$(psql -X -At -c 'SELECT token FROM http_conf')
tenant=$(psql -X -At -c 'SELECT tenant FROM http_conf')
# the users the PATCHes pick from: the same for wrk and pgbench
patched=$((rows < 100000 ? rows : 100000))
psql -X -At -c "SELECT id FROM http_ids ORDER BY n LIMIT $patched" > "$work/http_ids.txt"

# The load runs on the machine it measures, so the scripts make each
# request with as little work as they can: the fixed parts are formatted
# once by wrk.format() (split where the variable part goes) and a request
# is one concatenation.  Formatting every PATCH with wrk.format() cost wrk
# 25 us of CPU per request against 17 us (pgbench spends about 16 us on
# a transaction), and gave the server 6% fewer PATCHes at 8 connections.
# Each wrk thread runs the script in a Lua state of its own: seeded alike,
# they would send the same requests, and every PATCH would go out twice,
# the second one changing nothing (answered as a read, no write).
cat > "$work/seed.lua" <<'EOF2'
local threads = 0
function setup(thread)
	threads = threads + 1
	thread:set("thread_no", threads)
end
-- wrk.format(method, path, headers, body) split around "@@" in path:
-- the request is prefix .. (what replaces "@@") .. suffix
function split_format(method, path, headers, body)
	local r = wrk.format(method, path, headers, body)
	local at = r:find("@@", 1, true)
	return r:sub(1, at - 1), r:sub(at + 2)
end
EOF2
cat > "$work/get.lua" <<EOF2
dofile("$work/seed.lua")
local prefix, suffix
function init(args)
	math.randomseed(os.time() * 1000 + thread_no)
	prefix, suffix = split_format("GET", "/scim/v2/Users?filter=userName%20eq%20%22user@@%22",
		{["Authorization"] = "Bearer $token"})
end
request = function()
	return prefix .. math.random(1, $rows) .. suffix
end
EOF2
# Values new on every request, so that every PATCH writes: each thread
# counts up from its own hundred million, nine digits, so that every body
# has the same length (and Content-Length); "True" is padded to "False"'s
# length with a space, which JSON allows.
cat > "$work/patch.lua" <<EOF2
local ids = {}
for line in io.lines("$work/http_ids.txt") do ids[#ids + 1] = line end
dofile("$work/seed.lua")
local b1 = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
	'{"op":"Replace","path":"displayName","value":"Name '
local b2 = '"},{"op":"Replace","path":"active","value":'
local b3 = '},{"op":"Replace","path":"emails[type eq \\\\"work\\\\"].value","value":"'
local b4 = '@example.com"}]}'
local active = {[0] = '"True" ', [1] = '"False"'}
local n, k, prefix, suffix
function init(args)
	math.randomseed(os.time() * 1000 + thread_no)
	n = #ids
	k = 100000000 * thread_no + math.random(0, 9999999)
	local len = #(b1 .. k .. b2 .. active[0] .. b3 .. k .. b4)
	prefix, suffix = split_format("PATCH", "/scim/v2/Users/@@",
		{["Authorization"] = "Bearer $token", ["Content-Type"] = "application/scim+json"}, string.rep(" ", len))
	suffix = suffix:sub(1, #suffix - len)
end
request = function()
	k = k + 1
	return prefix .. ids[math.random(1, n)] .. suffix .. b1 .. k .. b2 .. active[k % 2] .. b3 .. k .. b4
end
EOF2
# (a): the server's call, its headers passed as a parameter as the server
# passes them (pgbench -D makes :h a text parameter)
hdrs="\"host\": \"127.0.0.1:$port\", \"authorization\": \"Bearer $token\", \"x-scim-base-path\": \"/scim/v2\""
printf '%s\n' "\\set n random(1, $rows)" \
	"SELECT status, headers, body FROM scim.handle_text('GET', '/Users', 'filter=userName%20eq%20%22user' || :n || '%22', :h::jsonb, NULL);" \
	> "$work/handle_get.sql"
# pgbench reads ":name" as a variable, so the URN's colons are chr(58)
urn="'urn' || chr(58) || 'ietf' || chr(58) || 'params' || chr(58) || 'scim' || chr(58) || 'api' || chr(58) || 'messages' || chr(58) || '2.0' || chr(58) || 'PatchOp'"
printf '%s\n' "\\set n random(1, $patched)" "\\set k random(1, 1000000000)" \
	"SELECT status, headers, body FROM scim.handle_text('PATCH', '/Users/' || (SELECT id FROM $ids WHERE n = :n), '', :hp::jsonb, '{\"schemas\":[\"' || $urn || '\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Name ' || :k || '\"},{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"' || CASE WHEN :k % 2 = 0 THEN 'True' ELSE 'False' END || '\"},{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"' || :k || '@example.com\"}]}');" \
	> "$work/handle_patch.sql"
printf '%s\n' "\\set n random(1, $rows)" \
	"SELECT data FROM scim.users WHERE tenant = '$tenant' AND scim.key_lower(data, 'userName') = lower('user' || :n);" \
	> "$work/raw_get.sql"
printf '%s\n' "\\set n random(1, $patched)" "\\set k random(1, 1000000000)" \
	"UPDATE scim.users SET data = jsonb_set(jsonb_set(jsonb_set(data, '{displayName}', to_jsonb('Name ' || :k::text)), '{active}', to_jsonb(:k::integer % 2 = 0)), '{emails,0,value}', to_jsonb(:k::text || '@example.com')), version = version + 1, last_modified = now() WHERE tenant = '$tenant' AND id = (SELECT id FROM $ids WHERE n = :n);" \
	> "$work/raw_patch.sql"

dbconn="host=${PGHOST:-} port=${PGPORT:-5432} user=${PGUSER:-postgres} dbname=${PGDATABASE:-postgres}"
# scim-server's connection: the same, as the server role unless BENCH_AS_SUPERUSER=1
if [ "${BENCH_AS_SUPERUSER:-0}" = 1 ]; then
	server_conn=$dbconn
	echo "== http: scim-server connects as ${PGUSER:-postgres} (BENCH_AS_SUPERUSER=1)"
else
	server_conn="host=${PGHOST:-} port=${PGPORT:-5432} user=scim_server dbname=${PGDATABASE:-postgres}"
	echo "== http: scim-server connects as scim_server"
fi
# the server as it ships (a worker per two CPUs, 16 connections for writes) unless
# BENCH_HTTP_WORKERS and BENCH_HTTP_WRITERS say otherwise; the bare server
# (c) keeps libmicrohttpd's own pool of 8 threads, the fastest wiring of
# the raw statement found
bare_workers=${BENCH_HTTP_WORKERS:-8}
SCIM_WORKERS=${BENCH_HTTP_WORKERS:-} SCIM_WRITERS=${BENCH_HTTP_WRITERS:-} SCIM_DB=$server_conn \
	./scim-server --port "$port" 2> "$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
"${CC:-cc}" -O2 -o "$work/bare_server" bench/bare_server.c -I"$(pg_config --includedir)" \
	-L"$(pg_config --libdir)" -lmicrohttpd -lpq -lpthread
"$work/bare_server" "$bare_port" "$bare_workers" "$dbconn application_name=bare_server" "$tenant" &
bare=$!
trap 'kill $server $bare 2>/dev/null || true' EXIT
sleep 1

# A server whose role lacks a privilege answers errors, fast: one GET and
# one PATCH must succeed, the GET finding its user, before anything is
# measured (and every run below must answer 2xx only)
smoke() {		# smoke WHAT EXPECTED CURL_ARG...: fail unless the answer has EXPECTED
	_out=$(curl -s -S -w '\nstatus %{http_code}' -H "Authorization: Bearer $token" "$@" 2>&1) || true
	# EXPECTED has no spaces: whatever spacing the JSON has
	case "$(printf '%s' "$_out" | tr -d ' ')" in
	*"$2"*"status200") ;;
	*) echo "http: $1 through scim-server failed: $_out" >&2; sed -n '1,20p' "$work/server.log" >&2; exit 1 ;;
	esac
}
smoke GET '"totalResults":1' "http://127.0.0.1:$port/scim/v2/Users?filter=userName%20eq%20%22user1%22"
smoke PATCH '"displayName":"Smoke-test"' -X PATCH -H 'Content-Type: application/scim+json' \
	--data '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Smoke-test"}]}' \
	"http://127.0.0.1:$port/scim/v2/Users/$(head -n 1 "$work/http_ids.txt")"

wrk_run() {		# wrk_run CONNECTIONS SCRIPT [PORT] -> "rps p50ms p99ms non2xx requests"
	wrk -t 2 -c "$1" -d "${secs}s" --latency -s "$2" "http://127.0.0.1:${3:-$port}" 2>&1 | awk '
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		/requests in/ { n = $1 }
		END { printf "%s %s %s %s %s\n", rps, p50, p99, bad ? bad : 0, n }'
}
all_2xx() {		# all_2xx WHAT WRK_RESULT: fail if any answer was not 2xx
	if [ "$(echo "$2" | cut -d' ' -f4)" != 0 ]; then
		echo "http: $1: $(echo "$2" | cut -d' ' -f4) answers not 2xx out of $(echo "$2" | cut -d' ' -f5): the figure would not be the request's" >&2
		exit 1
	fi
}
pgb_run() {		# pgb_run CLIENTS SCRIPT -> "tps"
	PGOPTIONS="${PGOPTIONS:-} -c search_path=pg_catalog,pg_temp" pgbench -n -M prepared -c "$1" -j 2 -T "$secs" -f "$2" \
		-D "h={$hdrs}" -D "hp={$hdrs, \"content-type\": \"application/scim+json\"}" 2>&1 |
		awk '/^tps/ { print $3 }'
}
ticks() {		# ticks PID...: CPU ticks (user + system) those processes have used
	for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null || true; done | awk '{ t += $14 + $15 } END { print t + 0 }'
}
busy() {		# busy: CPU ticks the whole machine has used
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
hz=$(getconf CLK_TCK)
check_writes() {	# check_writes WRK_RESULT EVENTS_BEFORE: did every PATCH through the server write?
	n=$(echo "$1" | cut -d' ' -f5)
	w=$(($(events) - $2))
	# a request still in flight when wrk stops may write without being counted
	if [ "$w" -lt "$n" ]; then
		echo "http: $n PATCHes through the server were answered but only $w wrote: the requests repeat, and the figure would not be a write's" >&2
		exit 1
	fi
}

for c in 8 32; do
	echo "== http: $c connections, $rounds interleaved rounds of ${secs}s each"
	rm -f "$work"/m.*
	# warm both servers' connections and the cache
	wrk -t 2 -c "$c" -d 2s -s "$work/get.lua" "http://127.0.0.1:$port" > /dev/null
	wrk -t 2 -c "$c" -d 1s -s "$work/get.lua" "http://127.0.0.1:$bare_port" > /dev/null
	for r in $(seq "$rounds"); do
		backends=$(psql -X -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'scim-server'")
		# shellcheck disable=SC2086 # one PID a word
		set -- "$(busy)" "$(ticks $backends)" "$(ticks "$server")"
		g=$(wrk_run "$c" "$work/get.lua")
		# shellcheck disable=SC2086
		set -- "$1" "$2" "$3" "$(busy)" "$(ticks $backends)" "$(ticks "$server")"
		all_2xx "GET through scim-server" "$g"
		if [ "$r" = 1 ]; then
			echo "$g $*" | awk -v hz="$hz" -v c="$c" '{ us = 1e6 / hz / $5
				printf "SUMMARY %d connections: CPU per GET through the server %.0f us (backends %.0f, scim-server %.0f, wrk and the rest %.0f)\n",
					c, ($9 - $6) * us, ($10 - $7) * us, ($11 - $8) * us, (($9 - $6) - ($10 - $7) - ($11 - $8)) * us }'
			b0=$(busy)
		fi
		a=$(pgb_run "$c" "$work/handle_get.sql")
		if [ "$r" = 1 ]; then
			echo "$a $b0 $(busy)" | awk -v hz="$hz" -v s="$secs" -v c="$c" '{
				printf "SUMMARY %d connections: CPU per (a) call %.0f us (backends and pgbench)\n", c, ($3 - $2) * 1e6 / hz / ($1 * s) }'
		fi
		b=$(pgb_run "$c" "$work/raw_get.sql")
		e0=$(events)
		p=$(wrk_run "$c" "$work/patch.lua")
		all_2xx "PATCH through scim-server" "$p"
		check_writes "$p" "$e0"
		pa=$(pgb_run "$c" "$work/handle_patch.sql")
		u=$(pgb_run "$c" "$work/raw_patch.sql")
		cg=$(wrk_run "$c" "$work/get.lua" "$bare_port")
		cp=$(wrk_run "$c" "$work/patch.lua" "$bare_port")
		echo "   round $r: GET server $g (req/s p50 p99 non2xx n)  (a) $a  (b) $b  (c) $cg   PATCH server $p  (a) $pa  (b) $u  (c) $cp"
		echo "$cg" >> "$work/m.cg"
		echo "$cp" >> "$work/m.cp"
		echo "$g" >> "$work/m.g"
		echo "$a" >> "$work/m.a"
		echo "$b" >> "$work/m.b"
		echo "$p" >> "$work/m.p"
		echo "$pa" >> "$work/m.pa"
		echo "$u" >> "$work/m.u"
	done
	# wrk prints latencies as 812.00us, 1.59ms or 1.02s: medians in ms
	med() { cut -d' ' -f"$2" "$work/m.$1" | awk '
		/us$/ { print $1 / 1000; next } /ms$/ { print $1 + 0; next } /s$/ { print $1 * 1000; next } { print }' | median; }
	echo "$c $(med g 1) $(med g 2) $(med g 3) $(med a 1) $(med b 1) $(med p 1) $(med p 2) $(med p 3) $(med pa 1) $(med u 1)" | awk '{
		printf "SUMMARY %d connections: GET %.0f req/s (p50 %.2fms, p99 %.2fms) = %.0f%% of (a) handle %.0f tps, %.0f%% of (b) raw %.0f tps; PATCH %.0f req/s (p50 %.2fms, p99 %.2fms) = %.0f%% of (b) raw UPDATE %.0f tps [(a) handle PATCH %.0f tps = %.0f%% of (b)]\n",
			$1, $2, $3, $4, 100 * $2 / $5, $5, 100 * $2 / $6, $6, $7, $8, $9, 100 * $7 / $11, $11, $10, 100 * $10 / $11 }'
	echo "$c $(med cg 1) $(med b 1) $(med g 1) $(med cp 1) $(med u 1) $(med p 1)" | awk '{
		printf "SUMMARY %d connections: (c) bare server GET %.0f req/s = %.0f%% of (b), scim-server %.0f%% of (c); PATCH %.0f req/s = %.0f%% of (b), scim-server %.0f%% of (c)\n",
			$1, $2, 100 * $2 / $3, 100 * $4 / $2, $5, 100 * $5 / $6, 100 * $7 / $5 }'
done
