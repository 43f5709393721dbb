#!/bin/sh
# concurrency.sh: concurrent PATCHes through scim.handle() lose nothing.
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv).  Eight pgbench clients add unique email values to ten
# users at random, so most requests collide on the same rows; every request
# records its answer in the same transaction.  Every request must be answered
# 200 (they only add values; the row lock serialises them), every value
# answered 200 must be on its user, and each user's meta.version must count
# exactly the changes made to it.  Prints TAP lines, and on failure "#" lines
# with what came instead.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLIENTS=${CONCURRENCY_CLIENTS:-8}
TRANSACTIONS=${CONCURRENCY_TRANSACTIONS:-150}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
DROP TABLE IF EXISTS conc_ids, conc_answers;
DROP SEQUENCE IF EXISTS conc_seq;
-- each request's own value (the sequence's next), and what it was answered
CREATE SEQUENCE conc_seq;
CREATE TABLE conc_answers (n bigint PRIMARY KEY, uid text NOT NULL, marker text NOT NULL UNIQUE,
	status int NOT NULL, body jsonb);
CREATE TABLE conc_ids (n int PRIMARY KEY, uid text NOT NULL);
SELECT set_config('conc.tenant', scim.create_tenant('concurrency')::text, false);
CREATE TABLE conc_conf AS SELECT jsonb_build_object('authorization',
	'Bearer ' || scim.create_token(current_setting('conc.tenant')::uuid)) AS h;
INSERT INTO conc_ids
SELECT i, (SELECT h.body->>'id' FROM conc_conf c,
		   scim.handle('POST', '/Users', NULL, c.h, format('{"userName":"conc%s@example.com"}', i)) h)
FROM generate_series(1, 10) i;
SQL

cat > "$work/patch.sql" <<'EOF2'
\set u random(1, 10)
WITH m AS (SELECT n, format('m%s-%s@example.com', :client_id, n) AS marker FROM nextval('conc_seq') n),
r AS (
	SELECT m.n, i.uid, m.marker, h.status, h.body FROM m, conc_ids i, conc_conf c,
		scim.handle('PATCH', '/Users/' || i.uid, NULL, c.h,
			format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails","value":[{"value":"%s"}]}]}', m.marker)) h
	WHERE i.n = :u)
INSERT INTO conc_answers SELECT n, uid, marker, status, CASE WHEN status <> 200 THEN body END FROM r;
EOF2

"$PGBIN/pgbench" -n -c "$CLIENTS" -j 2 -t "$TRANSACTIONS" -f "$work/patch.sql" > "$work/pgbench.out" 2>&1 || {
	cat "$work/pgbench.out"
	echo "not ok 1 - pgbench ran"
	exit 1
}
echo "ok 1 - pgbench: $CLIENTS clients x $TRANSACTIONS PATCH requests on 10 users"

psql -X -q -A -t -v ON_ERROR_STOP=1 > "$work/check.out" <<'SQL'
SELECT 'answered ' || count(*) FROM conc_answers;
SELECT 'applied ' || count(*) FROM conc_answers WHERE status = 200;
SELECT 'missing ' || count(*) FROM conc_answers a
WHERE a.status = 200
  AND NOT EXISTS (SELECT 1 FROM scim.users u, jsonb_array_elements(u.data->'emails') e
				  WHERE u.id::text = a.uid AND e->>'value' = a.marker);
SELECT 'extra ' || count(*) FROM scim.users u, jsonb_array_elements(u.data->'emails') e
WHERE u.data->>'userName' LIKE 'conc%'
  AND NOT EXISTS (SELECT 1 FROM conc_answers a WHERE a.status = 200 AND a.marker = e->>'value');
SELECT 'badversion ' || count(*) FROM scim.users u
WHERE u.data->>'userName' LIKE 'conc%'
  AND u.version <> 1 + (SELECT count(*) FROM conc_answers a WHERE a.status = 200 AND a.uid = u.id::text);
-- what the requests not answered 200 got: each status, how many, one of their bodies
SELECT format('# %s requests answered %s, e.g. #%s on user %s: %s', count(*), status, min(n),
			  (array_agg(uid ORDER BY n))[1], left((array_agg(body::text ORDER BY n))[1], 300))
FROM conc_answers WHERE status <> 200 GROUP BY status ORDER BY status;
SQL
answered=$(sed -n 's/^answered //p' "$work/check.out")
applied=$(sed -n 's/^applied //p' "$work/check.out")
missing=$(sed -n 's/^missing //p' "$work/check.out")
extra=$(sed -n 's/^extra //p' "$work/check.out")
badversion=$(sed -n 's/^badversion //p' "$work/check.out")
expected=$((CLIENTS * TRANSACTIONS))

if [ "$answered" -eq "$expected" ] && [ "$applied" -eq "$expected" ]; then
	echo "ok 2 - all $expected requests answered 200"
else
	echo "not ok 2 - $applied of $expected requests answered 200 ($answered answers recorded)"
	grep '^# ' "$work/check.out"
fi
if [ "$missing" -eq 0 ] && [ "$extra" -eq 0 ]; then
	echo "ok 3 - every acknowledged change is there, and nothing else"
else
	echo "not ok 3 - $missing acknowledged changes lost, $extra unexpected values"
fi
if [ "$badversion" -eq 0 ]; then
	echo "ok 4 - each user's version counts its changes exactly"
else
	echo "not ok 4 - $badversion users have a version that does not count their changes"
fi
