#!/bin/sh
# changes.sh: the change feed's guarantee under concurrent writers, and
# LISTEN scim_changes.
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv).  Eight pgbench clients run transactions of two or three
# requests through scim.handle() (PATCHes of users, always the lower-
# numbered first so that they never deadlock, and member changes of three
# groups, some adding and removing the same member in one request), with
# random pauses between the requests and before COMMIT, so that they
# commit in another order than they started and an older transaction
# updates a user after a younger one committed; one in five rolls back.
# Meanwhile a consumer follows scim.changes(), passing back the last
# change_id it got.  At the end every change it got must be there once,
# in the feed's order; each user's versions must come once each, 1 up to
# the stored one, in order (so that nothing of a rolled-back transaction
# came, nor twice); each group's member changes must come in version order
# and replay to the stored membership.  (Without the cut-off at the
# snapshot's xmin, scim._changes_final() returning the largest position,
# 2 and 3 fail: the consumer skips changes of transactions that commit
# after younger ones.)  Then LISTEN scim_changes is woken
# by a commit, also with the library preloaded (the cluster restarted with
# shared_preload_libraries = 'scim', where writers share a notification
# clock in shared memory).  Prints TAP lines, and on failure "#" lines with
# what came instead.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLIENTS=${CHANGES_CLIENTS:-8}
TRANSACTIONS=${CHANGES_TRANSACTIONS:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

psql -X -q -v ON_ERROR_STOP=1 -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
DROP TABLE IF EXISTS feed_ids, feed_conf, consumed;
SELECT set_config('feed.tenant', scim.create_tenant('feed')::text, false);
CREATE TABLE feed_conf AS SELECT jsonb_build_object('authorization',
	'Bearer ' || scim.create_token(current_setting('feed.tenant')::uuid)) AS h;
-- users 1-12, groups 1-3 (n 101-103)
CREATE TABLE feed_ids (n int PRIMARY KEY, id text NOT NULL);
INSERT INTO feed_ids
SELECT i, (SELECT r.body->>'id' FROM feed_conf c,
		   scim.handle('POST', '/Users', NULL, c.h, format('{"userName":"feed%s@example.com"}', i)) r)
FROM generate_series(1, 12) i;
INSERT INTO feed_ids
SELECT 100 + i, (SELECT r.body->>'id' FROM feed_conf c,
		   scim.handle('POST', '/Groups', NULL, c.h, format('{"displayName":"feed group %s","members":[{"value":"%s"}]}',
			   i, (SELECT id FROM feed_ids WHERE n = i))) r)
FROM generate_series(1, 3) i;
CREATE TABLE consumed (ord serial PRIMARY KEY, change_id text, tenant uuid, kind text, resource_type text,
	resource_id uuid, member_id uuid, version bigint);
SQL

cat > "$work/write.sql" <<'EOF'
\set u1 random(1, 4)
\set u2 random(5, 8)
\set g random(101, 103)
\set m random(1, 12)
\set op random(0, 2)
\set roll random(0, 4)
\set d1 random(0, 15)
\set d2 random(0, 15)
\set d3 random(0, 25)
\set active random(0, 1)
BEGIN;
SELECT status FROM feed_conf c, scim.handle('PATCH', '/Users/' || (SELECT id FROM feed_ids WHERE n = :u1), NULL, c.h,
	'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"' || random() || '"}]}');
\sleep :d1 ms
SELECT status FROM feed_conf c, scim.handle('PATCH', '/Users/' || (SELECT id FROM feed_ids WHERE n = :u2), NULL, c.h,
	'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":' || CASE WHEN :active = 1 THEN 'true' ELSE 'false' END || '},{"op":"replace","path":"nickName","value":"' || random() || '"}]}');
\sleep :d2 ms
\if :op = 0
SELECT status FROM feed_conf c, scim.handle('PATCH', '/Groups/' || (SELECT id FROM feed_ids WHERE n = :g), NULL, c.h,
	format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"%s"}]}]}', (SELECT id FROM feed_ids WHERE n = :m)));
\elif :op = 1
SELECT status FROM feed_conf c, scim.handle('PATCH', '/Groups/' || (SELECT id FROM feed_ids WHERE n = :g), NULL, c.h,
	format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"%s\"]"}]}', (SELECT id FROM feed_ids WHERE n = :m)));
\else
SELECT status FROM feed_conf c, scim.handle('PATCH', '/Groups/' || (SELECT id FROM feed_ids WHERE n = :g), NULL, c.h,
	format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"%s"}]},{"op":"remove","path":"members[value eq \"%s\"]"},{"op":"replace","path":"displayName","value":"feed group %s %s"}]}',
		(SELECT id FROM feed_ids WHERE n = :m), (SELECT id FROM feed_ids WHERE n = :m), :g, random()));
\endif
\sleep :d3 ms
\if :roll = 0
ROLLBACK;
\else
COMMIT;
\endif
EOF

# the consumer: scim.changes() after the last change_id it got, into consumed
consume() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -v after="$1" <<'SQL'
WITH c AS (SELECT * FROM scim.changes(nullif(:'after', ''), 50)),
i AS (INSERT INTO consumed (change_id, tenant, kind, resource_type, resource_id, member_id, version)
	  SELECT change_id, tenant, kind, resource_type, resource_id, member_id, version FROM c ORDER BY change_id
	  RETURNING change_id)
SELECT count(*) || ' ' || coalesce(max(change_id), :'after') FROM i;
SQL
}

"$PGBIN/pgbench" -n -c "$CLIENTS" -j "$CLIENTS" -t "$TRANSACTIONS" --max-tries=20 -f "$work/write.sql" \
	> "$work/pgbench.out" 2>&1 &
writers=$!
after=
polls=0
while kill -0 "$writers" 2>/dev/null; do
	set -- $(consume "$after")
	after=$2
	polls=$((polls + 1))
done
if ! wait "$writers"; then
	cat "$work/pgbench.out"
	echo "not ok 1 - pgbench ran"
	exit 1
fi
# the writers are done: what is left is all deliverable
while :; do
	set -- $(consume "$after")
	[ "$1" = 0 ] && break
	after=$2
done
echo "ok 1 - $CLIENTS clients x $TRANSACTIONS transactions of several requests, consumed meanwhile in $polls polls"

psql -X -q -A -t -v ON_ERROR_STOP=1 > "$work/check.out" <<'SQL'
-- what the consumer got is the whole feed, once, in its order
SELECT 'got ' || count(*) FROM consumed;
SELECT 'twice ' || (count(*) - count(DISTINCT change_id)) FROM consumed;
SELECT 'unordered ' || count(*) FROM (SELECT change_id, lag(change_id) OVER (ORDER BY ord) AS prev FROM consumed) x
WHERE prev >= change_id;
SELECT 'missed ' || count(*) FROM scim.changes(NULL, 1000000) f
WHERE NOT EXISTS (SELECT 1 FROM consumed c WHERE c.change_id = f.change_id);
-- each user's versions: 1 up to the stored one, each once, in order
WITH u AS (SELECT u.id, u.version FROM scim.users u JOIN feed_ids i ON i.id = u.id::text),
v AS (SELECT c.resource_id, c.version, c.ord FROM consumed c
	  WHERE c.resource_type = 'User' AND c.kind IN ('created', 'updated', 'suspended', 'unsuspended'))
SELECT 'userversions ' || count(*) FROM u
WHERE (SELECT array_agg(v.version ORDER BY v.ord) FROM v WHERE v.resource_id = u.id)
	  IS DISTINCT FROM (SELECT array_agg(g) FROM generate_series(1, u.version) g);
SELECT 'updates ' || count(*) FROM consumed WHERE resource_type = 'User' AND kind <> 'created';
-- each group's member changes in version order, replaying to the membership stored
SELECT 'groupversions ' || count(*) FROM (
	SELECT c.version < lag(c.version) OVER (PARTITION BY c.resource_id ORDER BY c.ord) AS back
	FROM consumed c WHERE c.resource_type = 'Group') x WHERE back;
WITH RECURSIVE ev AS (SELECT row_number() OVER (ORDER BY ord) AS n, * FROM consumed WHERE kind LIKE 'member_%'),
replay(n, members) AS (
	SELECT 0::bigint, '{}'::text[]
	UNION ALL
	SELECT e.n, CASE e.kind WHEN 'member_added' THEN r.members || (e.resource_id || '/' || e.member_id)
						   ELSE array_remove(r.members, e.resource_id || '/' || e.member_id) END
	FROM replay r JOIN ev e ON e.n = r.n + 1)
SELECT 'replay ' || ((SELECT array_agg(x ORDER BY x) FROM unnest((SELECT members FROM replay ORDER BY n DESC LIMIT 1)) x)
	IS NOT DISTINCT FROM (SELECT array_agg(m.group_id || '/' || m.value ORDER BY m.group_id || '/' || m.value)
						  FROM scim.group_members m JOIN feed_ids i ON i.id = m.group_id::text));
SELECT 'memberrows ' || count(*) FROM consumed WHERE kind LIKE 'member_%';
-- no member change left of a group whose version it does not carry
SELECT 'beyond ' || count(*) FROM consumed c JOIN scim.groups g ON g.id = c.resource_id WHERE c.version > g.version;
SQL
v() { sed -n "s/^$1 //p" "$work/check.out"; }
got=$(v got)
twice=$(v twice)
unordered=$(v unordered)
missed=$(v missed)
if [ "$twice" = 0 ] && [ "$unordered" = 0 ] && [ "$missed" = 0 ] && [ "$got" -gt 0 ]; then
	echo "ok 2 - the consumer got each of the $got changes once, in the feed's order"
else
	echo "not ok 2 - the consumer got $got changes: $twice twice, $unordered out of order, $missed missed"
fi
if [ "$(v userversions)" = 0 ]; then
	echo "ok 3 - each user's $(v updates) committed updates came once each, in version order, none rolled back"
else
	echo "not ok 3 - $(v userversions) users' versions did not come as 1 up to the stored one"
	psql -X -A -t -c "SELECT '# ' || resource_id || ': ' || string_agg(kind || ' ' || version, ', ' ORDER BY ord) FROM consumed WHERE resource_type = 'User' GROUP BY resource_id LIMIT 3"
fi
if [ "$(v groupversions)" = 0 ] && [ "$(v replay)" = true ] && [ "$(v beyond)" = 0 ]; then
	echo "ok 4 - $(v memberrows) member changes came in each group's version order and replay to the stored membership"
else
	echo "not ok 4 - member changes: $(v groupversions) out of version order, replay $(v replay), $(v beyond) beyond the stored version"
fi

# LISTEN wakes a consumer at commit: psql prints what it was told after its next command
listen() {
	psql -X -v ON_ERROR_STOP=1 > "$work/listen.out" 2>&1 <<'SQL' &
LISTEN scim_changes;
SELECT pg_sleep(1.5);
SELECT 1;
SQL
	listener=$!
	sleep 0.5
	psql -X -q -A -t -c "SELECT status FROM feed_conf c, scim.handle('PATCH', '/Users/' || (SELECT id FROM feed_ids WHERE n = 1), NULL, c.h,
		'{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"$1\"}]}')" > /dev/null
	wait "$listener" || true
	grep -q 'Asynchronous notification "scim_changes" received' "$work/listen.out"
}
if listen woken; then
	echo "ok 5 - LISTEN scim_changes is woken by a committed change"
else
	echo "not ok 5 - LISTEN scim_changes was not woken"
	sed 's/^/# /' "$work/listen.out"
fi

# preloaded, writers share a clock in shared memory, and consumers are woken as before
psql -X -q -c "ALTER SYSTEM SET shared_preload_libraries = 'scim'" > /dev/null
pg_ctlcluster "${PGVERSION:-15}" regress restart
shared=$(psql -X -A -t -c "SELECT count(*) FROM pg_shmem_allocations WHERE name = 'scim change feed'")
if [ "$shared" = 1 ] && listen "woken again"; then
	echo "ok 6 - preloaded, the notification clock is in shared memory and LISTEN is woken"
else
	echo "not ok 6 - preloaded: $shared shared clock(s)"
	sed 's/^/# /' "$work/listen.out"
fi
psql -X -q -c "ALTER SYSTEM RESET shared_preload_libraries" > /dev/null
