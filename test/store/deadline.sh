#!/bin/sh
# deadline.sh: a request past its deadline is answered 503 by scim-server,
# and writes nothing.
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv).  A tenant's own request_timeout of 1 ms is far shorter
# than a POST that hashes a password (SCRAM-SHA-256, 4096 iterations):
# the handler cancels the call (57014), the server answers 503 with a SCIM
# Error, and the user is not there.  The same tenant's GET by id, given
# the setting's deadline again, is answered.  Prints TAP lines.
set -eu
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS scim"
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -v password=deadline -f src/server/server_role.sql
tenant=$(psql -X -A -t -c "SELECT scim.create_tenant('deadline')")
token=$(psql -X -A -t -c "SELECT scim.create_token('$tenant')")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIM_DB="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=${PGDATABASE:-postgres} user=scim_server password=deadline" \
	./scim-server --port "$port" --workers 1 2>> "$work/server.log" &
pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	sleep 0.05
done
base="http://127.0.0.1:$port/scim/v2"
req() {
	# req METHOD PATH [BODY]: the status; the body in $work/body
	curl -s -m 20 -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
		-H 'Content-Type: application/scim+json' ${3:+--data "$3"} "$base$2"
}

n=0
check() {
	# check DESCRIPTION EXPECTED ACTUAL
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1: expected $2, got $3"
		cat "$work/body" 2>/dev/null; echo
		cat "$work/server.log"
	fi
}

psql -X -q -c "UPDATE scim.tenant SET request_timeout = '1 millisecond' WHERE id = '$tenant'"
check "a POST past the tenant's 1 ms deadline is answered 503" 503 \
	"$(req POST /Users '{"userName": "late@deadline.example", "password": "Slow-To-Hash-1"}')"
check "with a SCIM Error saying nothing was changed" 1 \
	"$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(int(d["status"] == "503" and "nothing was changed" in d["detail"]))' "$work/body")"
check "and the user was not written" 0 \
	"$(psql -X -A -t -c "SELECT count(*) FROM scim.users WHERE tenant = '$tenant'")"
check "nor an event" 0 \
	"$(psql -X -A -t -c "SELECT count(*) FROM scim.events WHERE tenant = '$tenant'")"
psql -X -q -c "UPDATE scim.tenant SET request_timeout = NULL WHERE id = '$tenant'"
check "under the setting's deadline the same POST is created" 201 \
	"$(req POST /Users '{"userName": "late@deadline.example", "password": "Slow-To-Hash-1"}')"
