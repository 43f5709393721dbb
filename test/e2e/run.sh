#!/bin/sh
# run.sh: end-to-end tests over HTTP.
#
# Makes a throwaway cluster (pg_virtualenv), installs the extension, starts
# scim-server on a free loopback port as an unprivileged role, and drives it
# with test/e2e/client.py, then hostile_clients.py, database_faults.py and
# extension_version.py.
# Prints TAP lines.
set -eu
cd "$(dirname "$0")/../.."

if [ -z "${SCIM_E2E_INSIDE:-}" ]; then
	SCIM_E2E_INSIDE=1 exec pg_virtualenv -t -v 15 sh "$0" "$@"
fi

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "SET client_min_messages = warning" -c "CREATE EXTENSION scim"
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -f src/server/server_role.sql
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "ALTER ROLE scim_server PASSWORD 'e2e'"
TOKEN=$(psql -X -A -t -c "SELECT scim.create_token(scim.create_tenant('e2e'))")
TOKEN2=$(psql -X -A -t -c "SELECT scim.create_token(scim.create_tenant('other'))")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DB="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=${PGDATABASE:-postgres} user=scim_server password=e2e"
DATADIR=$(psql -X -A -t -c "SHOW data_directory")
export TOKEN TOKEN2 PORT DB DATADIR
export SCIM_SERVER=./scim-server

# each runs, whatever the ones before say; the exit status is a failure of any
rc=0
python3 test/e2e/client.py || rc=1
python3 test/e2e/hostile_clients.py || rc=1
python3 test/e2e/database_faults.py || rc=1
python3 test/e2e/extension_version.py || rc=1
exit $rc
