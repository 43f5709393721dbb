#!/bin/sh
# packages_serve.sh ROOT: the unpacked packages in ROOT serve SCIM together.
#
# Runs inside a throwaway cluster whose extension_destdir is ROOT (test/
# packages.sh calls it under pg_virtualenv), so CREATE EXTENSION takes the
# packaged control file, install script and scim.so.  The packaged
# server_role.sql makes the role, and the packaged scim-server, connected
# as it, must answer /healthz and a tenant's GET /Users, and refuse a
# request without a token.  Prints TAP lines.
set -eu
root=$1
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
n=0
check() {
	# check DESCRIPTION COMMAND...: one TAP line
	n=$((n + 1))
	d=$1
	shift
	if "$@"; then echo "ok $n - $d"; else echo "not ok $n - $d"; fi
}

dir=$(psql -X -A -t -c "SHOW extension_destdir")
check "the cluster loads extensions from the unpacked packages ($dir)" [ "$dir" = "$root" ]
check "CREATE EXTENSION scim" psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
	-c "CREATE EXTENSION scim"
# the backend that ran the handler has the packaged library mapped
psql -X -A -t -c "SELECT scim.handle('GET', '/Users', '', '{}', '')" \
	-c "SELECT pg_read_file('/proc/self/maps')" > "$work/maps" 2>&1 || true
check "the handler runs the packaged scim.so" grep -q "$root/usr/lib/postgresql/[0-9]*/lib/scim.so" "$work/maps"
role_sql=$(ls "$root"/usr/share/postgresql/*/contrib/scim/server_role.sql)
check "the packaged server_role.sql makes scim_server" psql -X -q -v ON_ERROR_STOP=1 -o /dev/null \
	-v password=pk -f "$role_sql"
tenant=$(psql -X -A -t -c "SELECT scim.create_tenant('packages')")
token=$(psql -X -A -t -c "SELECT scim.create_token('$tenant')")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SCIM_DB="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=${PGDATABASE:-postgres} user=scim_server password=pk" \
	SCIM_PORT=$port SCIM_WORKERS=1 "$root/usr/bin/scim-server" 2> "$work/server.log" &
pid=$!
up=1
for _ in $(seq 100); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && { up=0; break; }
	sleep 0.05
done
check "the packaged scim-server answers /healthz with 200" [ "$up" -eq 0 ]
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/scim/v2/Users")
check "GET /scim/v2/Users with the tenant's token: 200 ($status)" [ "$status" = 200 ]
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/scim/v2/Users")
check "GET /scim/v2/Users without a token: 401 ($status)" [ "$status" = 401 ]
[ "$up" -eq 0 ] || cat "$work/server.log"
