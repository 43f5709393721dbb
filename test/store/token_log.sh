#!/bin/sh
# token_log.sh: no bearer token reaches PostgreSQL's log, with every
# statement and its duration logged.
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv).  scim-server passes the request's headers, and so the
# token, as a bound parameter of scim.handle_text(), which log_statement =
# all and log_min_duration_statement print in "DETAIL: parameters: ..."
# unless the role has log_parameter_max_length = 0 (server_role.sql sets
# it).  A provisioning cycle runs through scim-server connected as
# scim_server; tokens are issued and revoked the way the README says (by
# id, found by the token's prefix); then the whole server log must hold
# none of the tokens.  A second server, connected as a role without the
# settings, shows that the log would otherwise have had its token.
# Prints TAP lines.
set -eu
cd "$(dirname "$0")/../.."

work=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

log=$(pg_lsclusters -h | awk '$2 == "regress" { print $7 }')
[ -f "$log" ] || { echo "not ok 1 - the cluster's log file ($log) is there"; exit 1; }

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
ALTER SYSTEM SET log_statement = 'all';
ALTER SYSTEM SET log_min_duration_statement = 0;
ALTER SYSTEM SET log_parameter_max_length_on_error = -1;
SELECT pg_reload_conf();
SQL
for _ in $(seq 50); do
	[ "$(psql -X -A -t -c 'SHOW log_min_duration_statement')" = "0" ] && break
	sleep 0.1
done

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS scim"
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -f src/server/server_role.sql
# the control: a role with scim_server's rights but not its settings
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
ALTER ROLE scim_server PASSWORD 'log';
SET client_min_messages = warning;
DROP ROLE IF EXISTS scim_loud;
CREATE ROLE scim_loud LOGIN PASSWORD 'log' IN ROLE scim_server;
SQL
tenant=$(psql -X -A -t -c "SELECT scim.create_tenant('log')")
token=$(psql -X -A -t -c "SELECT scim.create_token('$tenant')")
second=$(psql -X -A -t -c "SELECT scim.create_token('$tenant')")
expiring=$(psql -X -A -t -c "SELECT scim.create_token('$tenant', now() + interval '1 day')")
canary=$(psql -X -A -t -c "SELECT scim.create_token('$tenant')")
unknown="scim_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"

server() {
	# server PORT ROLE: a scim-server connected as ROLE, once it answers
	SCIM_DB="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=${PGDATABASE:-postgres} user=$2 password=log" \
		./scim-server --port "$1" --workers 2 2>> "$work/server.log" &
	pids="$pids $!"
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
		sleep 0.05
	done
	echo "not ok - scim-server as $2 did not come up"
	cat "$work/server.log"
	exit 1
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
server "$port" scim_server
base="http://127.0.0.1:$port/scim/v2"

# req METHOD PATH TOKEN [BODY]: the status, the body in $work/body
req() {
	curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $3" \
		-H 'Content-Type: application/scim+json' ${4:+--data "$4"} "$base$2"
}
field() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/body" "$1"
}
patchop='"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'

# an identity provider's cycle: lookup, create, read, update, a group, its member, delete
statuses=""
statuses="$statuses $(req GET '/Users?filter=userName%20eq%20%22log@example.com%22' "$token")"
statuses="$statuses $(req POST /Users "$token" '{"userName": "log@example.com", "externalId": "log-1", "active": true}')"
uid=$(field id)
statuses="$statuses $(req GET '/Users?filter=externalId%20eq%20%22log-1%22' "$token")"
statuses="$statuses $(req GET "/Users/$uid" "$token")"
statuses="$statuses $(req PATCH "/Users/$uid" "$token" "{$patchop, \"Operations\": [{\"op\": \"replace\", \"path\": \"title\", \"value\": \"Logger\"}]}")"
statuses="$statuses $(req POST /Groups "$second" '{"displayName": "Loggers"}')"
gid=$(field id)
statuses="$statuses $(req PATCH "/Groups/$gid" "$second" "{$patchop, \"Operations\": [{\"op\": \"add\", \"path\": \"members\", \"value\": [{\"value\": \"$uid\"}]}]}")"
statuses="$statuses $(req GET "/Users/$uid" "$expiring")"
statuses="$statuses $(req GET "/Users/$uid" "$unknown")"
statuses="$statuses $(req DELETE "/Users/$uid" "$token")"

# revoked by id, found by the prefix: the tokens stay out of the statement text
prefix=$(printf %s "$second" | cut -c1-12)
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -v prefix="$prefix" <<'SQL'
SELECT scim.revoke_token(tenant, id) FROM scim.tokens WHERE prefix = :'prefix';
SQL
prefix=$(printf %s "$expiring" | cut -c1-12)
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -v prefix="$prefix" <<'SQL'
UPDATE scim.token SET expires_at = now() WHERE id = (SELECT id FROM scim.tokens WHERE prefix = :'prefix');
SQL
statuses="$statuses $(req GET /Users "$second") $(req GET "/Users/$uid" "$expiring")"

expected=" 200 201 200 200 200 201 204 200 401 204 401 401"
if [ "$statuses" = "$expected" ]; then
	echo "ok 1 - a provisioning cycle through scim-server as scim_server, then revoked and expired tokens refused"
else
	echo "not ok 1 - statuses$statuses, expected$expected"
fi

# the control: the same call from a role without the settings logs its token
port=$(free_port)
server "$port" scim_loud
base="http://127.0.0.1:$port/scim/v2"
loud=$(req GET /Users "$canary")

# the log is written by another process: wait for the control's line
for _ in $(seq 50); do
	grep -qF "$canary" "$log" && break
	sleep 0.1
done
if [ "$loud" = "200" ] && grep -qF "$canary" "$log" && grep -q 'scim.handle_text' "$log"; then
	echo "ok 2 - the log holds every statement, and the parameters of a role without the settings"
else
	echo "not ok 2 - the control's token is not in the log ($loud): the check below would prove nothing"
fi

found=""
for t in "$token" "$second" "$expiring" "$unknown"; do
	if grep -qF "$t" "$log"; then
		found="$found $(printf %s "$t" | cut -c1-12)..."
	fi
done
if [ -z "$found" ]; then
	echo "ok 3 - none of the 4 tokens scim_server's requests carried is in the server log"
else
	echo "not ok 3 - tokens in the server log:$found"
	grep -nF "$(printf %s "$token" | cut -c1-20)" "$log" | head -5
fi
