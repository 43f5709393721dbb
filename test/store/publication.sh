#!/bin/sh
# publication.sh: the change feed published to logical replication, as the
# README says to (CREATE PUBLICATION ... FOR TABLE scim.change), streamed
# by pg_recvlogical with pgoutput as a role that has REPLICATION and
# scim_app (whose policy lets it read scim.change under forced row-level
# security, as an initial copy does).
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv), which it restarts with wal_level = logical.  Prints TAP
# lines, and on failure "#" lines with what came instead.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

psql -X -q -c "ALTER SYSTEM SET wal_level = logical" >/dev/null
pg_ctlcluster "${PGVERSION:-15}" regress restart
psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
CREATE PUBLICATION scim_changes FOR TABLE scim.change WITH (publish = 'insert');
DROP ROLE IF EXISTS feed_cdc;
CREATE ROLE feed_cdc LOGIN REPLICATION PASSWORD 'feed-cdc';
GRANT scim_app TO feed_cdc;
SQL
echo "ok 1 - wal_level = $(psql -X -A -t -c 'SHOW wal_level'), the publication made"

PGPASSWORD=feed-cdc "$PGBIN/pg_recvlogical" -U feed_cdc -d "${PGDATABASE:-postgres}" -S scim_feed --create-slot -P pgoutput
uid=$(psql -X -A -t -v ON_ERROR_STOP=1 <<'SQL'
SELECT (scim.handle('POST', '/Users', NULL,
	jsonb_build_object('authorization', 'Bearer ' || scim.create_token(scim.create_tenant('cdc'))),
	'{"userName": "cdc@example.com"}')).body->>'id';
SQL
)
end=$(psql -X -A -t -c "SELECT pg_current_wal_insert_lsn()")
PGPASSWORD=feed-cdc timeout 30 "$PGBIN/pg_recvlogical" -U feed_cdc -d "${PGDATABASE:-postgres}" -S scim_feed --start \
	-o proto_version=1 -o publication_names=scim_changes -E "$end" -f "$work/stream" 2> "$work/stream.err" || true
if grep -aq "$uid" "$work/stream" && grep -aq "created" "$work/stream"; then
	echo "ok 2 - pg_recvlogical streams the change row of a new user through pgoutput, as feed_cdc"
else
	echo "not ok 2 - the stream does not carry the new user's change"
	sed 's/^/# /' "$work/stream.err"
	tr -c '[:print:]\n' '.' < "$work/stream" | head -5 | sed 's/^/# /'
fi
psql -X -q -c "SELECT pg_drop_replication_slot('scim_feed')" >/dev/null
# as feed_cdc, the table reads whole under forced row-level security, as an initial copy would
rows=$(psql -X -q -A -t -c "SET ROLE feed_cdc" -c "SELECT count(*) FROM scim.change")
if [ "$rows" -gt 0 ]; then
	echo "ok 3 - feed_cdc reads scim.change under forced row-level security ($rows rows)"
else
	echo "not ok 3 - feed_cdc reads $rows rows of scim.change"
fi
