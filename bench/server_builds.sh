#!/bin/sh
# bench/server_builds.sh: this build of scim-server against another
# (BENCH_BASE_REF, default HEAD): the server's own instructions per
# request under callgrind, then paired wrk rounds.
#
#   sh bench/server_builds.sh         (libpq environment: a database with
#                                      the extension and the scim_server role)
#
# Each server runs under valgrind --tool=callgrind, connected as
# scim_server (password BENCH_SERVER_PASSWORD, default "bench"; the role is
# given it), while one keep-alive client sends N1 and then, in a second
# run, N2 requests of one kind; the difference of the two runs' totals over
# N2 - N1 is what one request costs the server itself (libmicrohttpd,
# libpq, the server's code), whatever the machine's load: the start, the
# connections and the exit cancel out.  Kinds: GET by userName filter, and
# a user PATCH (three operations).  The database's work is not counted:
# bench/instructions.sh counts that.
# Then both builds serve at once (one worker each, as scim_server) and wrk
# runs GET and PATCH against each in turn, BENCH_WRK_ROUNDS rounds of
# BENCH_WRK_T seconds at 8 and at 32 connections, the order of the two
# builds alternating between rounds; the medians are compared.
# BENCH_SERVER_PARTS ("cpu wrk") picks the parts, BENCH_WRK_KINDS ("get
# patch") and BENCH_WRK_CONNECTIONS ("8 32") the wrk runs.
# Prints one line per kind and build, and SUMMARY lines with the ratio
# this build / base (instructions: lower is better, target <= 1.03;
# requests a second: higher is better).
set -eu
cd "$(dirname "$0")/.."

. bench/lib.sh
n1=${BENCH_SERVER_N1:-200}
n2=${BENCH_SERVER_N2:-1200}
ref=${BENCH_BASE_REF:-HEAD}
pw=${BENCH_SERVER_PASSWORD:-bench}
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "== server_builds: building scim-server at $ref"
git worktree add -q --detach "$work/base" "$ref"
make -s -C "$work/base" scim-server > /dev/null
make -s scim-server > /dev/null

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<SQL
SET client_min_messages = warning;
ALTER ROLE scim_server PASSWORD '$pw';
SELECT set_config('bench.tenant', scim.create_tenant('server_cpu')::text, false);
DROP TABLE IF EXISTS server_cpu_conf;
CREATE TABLE server_cpu_conf AS SELECT current_setting('bench.tenant')::uuid AS tenant,
	scim.create_token(current_setting('bench.tenant')::uuid) AS token;
INSERT INTO scim.users (tenant, id, data)
SELECT c.tenant, u.id, jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
	'id', u.id::text, 'userName', 'cpu' || u.i || '@example.com', 'active', true)
FROM server_cpu_conf c, (SELECT i, gen_random_uuid() AS id FROM generate_series(1, 1000) i) u;
SQL
token=$(psql -X -At -c "SELECT token FROM server_cpu_conf")
db="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=${PGDATABASE:-postgres} user=scim_server password=$pw"

# measure BINARY KIND N: the server's instructions over a run of N requests
measure() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	SCIM_DB="$db" valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "$1" --port "$port" \
		--workers 1 2> "$work/server.log" &
	vg=$!
	python3 - "$port" "$token" "$2" "$3" <<'PY' && ok=0 || ok=$?
import http.client, json, sys, time
port, token, kind, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/healthz")
        if c.getresponse().read() == b"ok\n":
            break
    except OSError:
        pass
    time.sleep(0.1)
else:
    sys.exit("the server did not come up")
h = {"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"}
c.request("GET", "/scim/v2/Users?filter=userName%20eq%20%22cpu1%40example.com%22", headers=h)
uid = json.loads(c.getresponse().read())["Resources"][0]["id"]
for i in range(n):
    if kind == "get":
        c.request("GET", "/scim/v2/Users?filter=userName%%20eq%%20%%22cpu%d%%40example.com%%22" % (i % 1000 + 1), headers=h)
    else:
        c.request("PATCH", "/scim/v2/Users/" + uid, headers=h, body=json.dumps({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "t%d" % i},
                           {"op": "replace", "path": "active", "value": i % 2 == 0},
                           {"op": "add", "path": "nickName", "value": "n%d" % i}]}))
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("request %d answered %d" % (i, r.status))
PY
	kill -TERM "$vg"
	wait "$vg" || true
	[ "$ok" -eq 0 ] || { echo "server_cpu: the client failed; the server's log:" >&2; tail -5 "$work/server.log" >&2; exit 1; }
	sed -n 's/^summary: //p' "$work"/cg.* | awk '{ t += $1 } END { print t }'
	rm -f "$work"/cg.*
}

parts=${BENCH_SERVER_PARTS:-cpu wrk}
case " $parts " in *" cpu "*) ;; *) kinds_cpu= ;; esac
for kind in ${kinds_cpu-get patch}; do
	for build in base this; do
		bin=./scim-server
		[ "$build" = base ] && bin="$work/base/scim-server"
		a=$(measure "$bin" "$kind" "$n1")
		b=$(measure "$bin" "$kind" "$n2")
		per=$(( (b - a) / (n2 - n1) ))
		echo "$kind $build: $per instructions a request ($a over $n1, $b over $n2)"
		eval "${kind}_${build}=$per"
	done
done
for kind in ${kinds_cpu-get patch}; do
	eval "t=\$${kind}_this b=\$${kind}_base"
	awk -v k="$kind" -v t="$t" -v b="$b" -v ref="$ref" 'BEGIN {
		printf "SUMMARY server CPU %-5s %8d instructions a request, %s %8d: ratio %.3f (target <= 1.03: %s)\n",
			toupper(k), t, ref, b, t / b, (t / b <= 1.03) ? "met" : "MISSED" }'
done

# ---- paired wrk rounds ----------------------------------------------------
case " $parts " in *" wrk "*) kinds_wrk=${BENCH_WRK_KINDS:-get patch} ;; *) kinds_wrk= ;; esac
rounds=${BENCH_WRK_ROUNDS:-5}
secs=${BENCH_WRK_T:-4}
psql -X -At -c "SELECT id FROM scim.users WHERE tenant = (SELECT tenant FROM server_cpu_conf)" > "$work/ids.txt"
cat > "$work/get.lua" <<EOF
math.randomseed(os.time())
request = function()
	return wrk.format("GET", "/scim/v2/Users?filter=userName%20eq%20%22cpu" .. math.random(1, 1000) ..
		"%40example.com%22", {["Authorization"] = "Bearer $token"})
end
EOF
cat > "$work/patch.lua" <<EOF
local ids = {}
for line in io.lines("$work/ids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
local n = 0
request = function()
	n = n + 1
	return wrk.format("PATCH", "/scim/v2/Users/" .. ids[math.random(1, #ids)],
		{["Authorization"] = "Bearer $token", ["Content-Type"] = "application/scim+json"},
		'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
		'{"op":"replace","path":"title","value":"t' .. n .. '-' .. math.random(1, 1000000000) .. '"}]}')
end
EOF
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
base_port=$(free_port)
this_port=$(free_port)
SCIM_DB="$db" "$work/base/scim-server" --port "$base_port" --workers 1 2> /dev/null &
base_pid=$!
SCIM_DB="$db" ./scim-server --port "$this_port" --workers 1 2> /dev/null &
this_pid=$!
trap 'kill $base_pid $this_pid 2> /dev/null; git worktree remove --force "$work/base" > /dev/null 2>&1 || true; rm -rf "$work"' EXIT
sleep 1
wrk_rps() {	# wrk_rps CONNECTIONS SCRIPT PORT -> "rps p99", failing on a non-2xx answer
	wrk -t 2 -c "$1" -d "${secs}s" --latency -s "$2" "http://127.0.0.1:$3" 2>&1 | awk '
		/Requests\/sec/ { rps = $2 } /^ +99%/ { p99 = $2 } /Non-2xx/ { bad = $NF }
		END { if (bad) { print "non-2xx answers: " bad > "/dev/stderr"; exit 1 } print rps, p99 }'
}
for kind in $kinds_wrk; do
	for c in ${BENCH_WRK_CONNECTIONS:-8 32}; do
		: > "$work/base.$kind.$c"
		: > "$work/this.$kind.$c"
		for r in $(seq "$rounds"); do
			if [ $((r % 2)) -eq 1 ]; then order="base this"; else order="this base"; fi
			for build in $order; do
				eval "p=\$${build}_port"
				wrk_rps "$c" "$work/$kind.lua" "$p" >> "$work/$build.$kind.$c"
			done
		done
		b=$(cut -d' ' -f1 "$work/base.$kind.$c" | median)
		t=$(cut -d' ' -f1 "$work/this.$kind.$c" | median)
		awk -v k="$kind" -v c="$c" -v t="$t" -v b="$b" -v ref="$ref" -v n="$rounds" 'BEGIN {
			printf "SUMMARY wrk %-5s %2d connections: %8.0f requests/s, %s %8.0f (medians of %d paired rounds): ratio %.3f\n",
				toupper(k), c, t, ref, b, n, t / b }'
	done
done

psql -X -q -o /dev/null -c "DELETE FROM scim.tenant WHERE id = (SELECT tenant FROM server_cpu_conf)" -c "DROP TABLE server_cpu_conf"
