#!/bin/sh
# standby.sh: on a hot standby, scim.handle() answers reads and their
# failures as the primary does.  A failure's "failed" event cannot be
# written there (every transaction is read-only in recovery): it is
# skipped, and the standby's log says so once per backend.
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv): a tenant and a user are made on it, then pg_basebackup
# copies it into a streaming standby of this script's own, listening only
# on a socket in a temporary directory.  sql/handle_read_only.sql holds the
# answers in a read-only transaction in full.  Prints TAP lines.
set -eu
cd "$(dirname "$0")/../.."
. test/tap.sh

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d)
# as_owner CMD...: as the cluster's owner (postgres refuses to run as root)
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
trap 'as_owner "$PGBIN/pg_ctl" -D "$work/standby" -m immediate -w stop > /dev/null 2>&1 || true; rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS scim"
tenant=$(psql -X -A -t -c "SELECT scim.create_tenant('standby')")
token=$(psql -X -A -t -c "SELECT scim.create_token('$tenant')")
auth="{\"authorization\": \"Bearer $token\"}"
uid=$(psql -X -A -t -c "SELECT (scim.handle('POST', '/Users', NULL, '$auth', '{\"userName\": \"standby@example.com\"}')).body->>'id'")

as_owner "$PGBIN/pg_basebackup" -D "$work/standby" -X stream -c fast \
	-d "host=${PGHOST:-localhost} port=${PGPORT:-5432} user=${PGUSER:-postgres}"
# the cluster's configuration lives outside its data directory (Debian's layout): the standby's own
as_owner sh -c "cat > '$work/standby/postgresql.conf'" <<EOF
listen_addresses = ''
port = 5432
unix_socket_directories = '$work'
hot_standby = on
primary_conninfo = 'host=${PGHOST:-localhost} port=${PGPORT:-5432} user=${PGUSER:-postgres} password=${PGPASSWORD:-}'
EOF
as_owner sh -c "echo 'local all all trust' > '$work/standby/pg_hba.conf'; touch '$work/standby/standby.signal'"
as_owner "$PGBIN/pg_ctl" -D "$work/standby" -l "$work/standby.log" -w -t 60 start > /dev/null

standby() {
	# standby SQL: psql on the standby, as the primary's user
	psql -X -A -t -h "$work" -p 5432 -U "${PGUSER:-postgres}" -d "${PGDATABASE:-postgres}" -c "$1"
}
is() {
	# is DESCRIPTION EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected \"$2\", got \"$3\")"; fi
}

is "the standby is in recovery, every transaction read-only" "true|on" \
	"$(standby "SELECT pg_is_in_recovery()::text || '|' || current_setting('transaction_read_only')")"
is "a user is read by id" "200|standby@example.com" \
	"$(standby "SELECT status || '|' || (body->>'userName') FROM scim.handle('GET', '/Users/$uid', NULL, '$auth', NULL)")"
is "a lookup by userName" "200|1" \
	"$(standby "SELECT status || '|' || (body->>'totalResults') FROM scim.handle('GET', '/Users', 'filter=userName%20eq%20%22standby@example.com%22', '$auth', NULL)")"
# two failures in one session: answered, and one log line for the backend
failures=$(psql -X -A -t -h "$work" -p 5432 -U "${PGUSER:-postgres}" -d "${PGDATABASE:-postgres}" \
	-c "SELECT status || '|' || (body->>'detail') FROM scim.handle('GET', '/Users/00000000-0000-0000-0000-000000000000', NULL, '$auth', NULL)" \
	-c "SELECT status || '|' || (body->>'scimType') FROM scim.handle('GET', '/Users', 'filter=nosuch%20eq%20%22x%22', '$auth', NULL)" | tr '\n' ' ')
is "a GET of an unknown id is 404, a bad filter 400, not errors" \
	"404|User \"00000000-0000-0000-0000-000000000000\" not found 400|invalidFilter " "$failures"
is "the standby's log says once that the events were not written" 1 \
	"$(grep -c 'does not log events in a read-only transaction' "$work/standby.log" || true)"
is "a write cannot be made there: 503, to be retried at the primary" 503 \
	"$(standby "SELECT status FROM scim.handle('POST', '/Users', NULL, '$auth', '{\"userName\": \"other@example.com\"}')")"
[ "$failed" -eq 0 ]
