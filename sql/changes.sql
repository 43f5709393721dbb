-- The change feed: what scim.changes() returns for each kind of write,
-- through scim.handle() and direct SQL; resuming, pruning, starting from
-- now; who may read it.  The guarantee under concurrent writers is
-- test/store/changes.sh's.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
\set ECHO none
\i src/server/server_role.sql
\set ECHO all
RESET client_min_messages;

SELECT scim.create_tenant('Feed') AS tenant \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'tenant')) AS h \gset
-- names for ids, so that the output does not depend on them
CREATE TEMP TABLE names (id uuid PRIMARY KEY, name text NOT NULL);
CREATE FUNCTION pg_temp.req(method text, path text, body text DEFAULT NULL) RETURNS int
	LANGUAGE sql AS $$ SELECT (scim.handle(method, path, NULL, current_setting('feed.h')::jsonb, body)).status $$;
SELECT set_config('feed.h', :'h', false) IS NOT NULL AS ok;
CREATE FUNCTION pg_temp.post(path text, name text, body text) RETURNS int
	LANGUAGE plpgsql AS $$
DECLARE
	r scim.response := scim.handle('POST', path, NULL, current_setting('feed.h')::jsonb, body);
BEGIN
	INSERT INTO names VALUES ((r.body->>'id')::uuid, name);
	RETURN r.status;
END;
$$;
CREATE FUNCTION pg_temp.id(name text) RETURNS text LANGUAGE sql AS $$ SELECT id::text FROM names n WHERE n.name = $1 $$;
CREATE FUNCTION pg_temp.patch(ops text) RETURNS text
	LANGUAGE sql AS $$ SELECT '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":' || ops || '}' $$;
-- the feed after change_id "after", ids as names, the request's id as {id}; rows
-- of one request and kind (whose order is their ids') by name
CREATE FUNCTION pg_temp.feed(after text DEFAULT NULL) RETURNS TABLE (kind text, rtype text, resource text,
	member text, version bigint, operation text)
	LANGUAGE sql AS $$
	SELECT c.kind, c.resource_type, coalesce(r.name, c.resource_id::text), m.name, c.version,
		   regexp_replace(c.operation, '[0-9a-f-]{36}', '{id}')
	FROM scim.changes(after, 1000, current_setting('feed.tenant')::uuid) c
	LEFT JOIN names r ON r.id = c.resource_id LEFT JOIN names m ON m.id = c.member_id
	ORDER BY min(c.change_id) OVER (PARTITION BY c.kind, c.operation), r.name, m.name
	$$;
SELECT set_config('feed.tenant', :'tenant', false) IS NOT NULL AS ok;

-- ---- what each write records ---------------------------------------------
SELECT scim.changes_now() AS start \gset
SELECT pg_temp.post('/Users', 'ann', '{"userName": "ann", "active": true}');
SELECT pg_temp.post('/Users', 'bob', '{"userName": "bob"}');
SELECT pg_temp.post('/Users', 'cy', '{"userName": "cy"}');
-- a group with members: created, then one member_added each, at version 1
SELECT pg_temp.post('/Groups', 'staff', format('{"displayName": "Staff", "members": [{"value": "%s"}, {"value": "%s"}]}',
	pg_temp.id('ann'), pg_temp.id('bob')));
-- suspended, unsuspended, updated
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('ann'), pg_temp.patch('[{"op": "replace", "path": "active", "value": "False"}]'));
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('ann'), pg_temp.patch('[{"op": "replace", "path": "active", "value": true}]'));
SELECT pg_temp.req('PUT', '/Users/' || pg_temp.id('bob'), '{"userName": "bob", "displayName": "Bob"}');
SELECT * FROM pg_temp.feed(:'start');

-- A member added and removed in one request nets to nothing; the group's
-- version moves, and its members' rows say so, not an "updated".
SELECT scim.changes_now() AS mark \gset
SELECT pg_temp.req('PATCH', '/Groups/' || pg_temp.id('staff'), pg_temp.patch(format(
	'[{"op": "add", "path": "members", "value": [{"value": "%s"}]}, {"op": "remove", "path": "members[value eq \"%s\"]"}, {"op": "remove", "path": "members[value eq \"%s\"]"}]',
	pg_temp.id('cy'), pg_temp.id('cy'), pg_temp.id('bob'))));
-- the same member out and in again (a PUT of the same members) is no member change either
SELECT pg_temp.req('PUT', '/Groups/' || pg_temp.id('staff'), format('{"displayName": "Staff+", "members": [{"value": "%s"}]}', pg_temp.id('ann')));
SELECT * FROM pg_temp.feed(:'mark');
SELECT version FROM scim.groups WHERE id = pg_temp.id('staff')::uuid;

-- Deleting a user removes it from its groups, bumps their versions (an
-- ETag of theirs no longer matches) and says so with member_removed.
SELECT pg_temp.post('/Groups', 'ops', format('{"displayName": "Ops", "members": [{"value": "%s"}]}', pg_temp.id('ann')));
SELECT scim.changes_now() AS mark \gset
SELECT pg_temp.req('DELETE', '/Users/' || pg_temp.id('ann'));
SELECT * FROM pg_temp.feed(:'mark');
SELECT g.data->>'displayName' AS "group", g.version, g.data->'meta'->>'version' AS etag,
	   (SELECT count(*) FROM scim.group_members m WHERE m.group_id = g.id) AS members
FROM scim.groups g WHERE g.tenant = :'tenant' ORDER BY 1;

-- A deleted group is deleted; the groups it was a member of lose it
SELECT pg_temp.req('PATCH', '/Groups/' || pg_temp.id('staff'), pg_temp.patch(format(
	'[{"op": "add", "path": "members", "value": [{"value": "%s"}, {"value": "%s"}]}]', pg_temp.id('ops'), pg_temp.id('cy'))));
SELECT scim.changes_now() AS mark \gset
SELECT pg_temp.req('DELETE', '/Groups/' || pg_temp.id('ops'));
SELECT * FROM pg_temp.feed(:'mark');

-- ---- each way a request changes members, and each path it takes ------------------
SELECT pg_temp.post('/Users', 'dee', '{"userName": "dee", "displayName": "Dee"}');
SELECT pg_temp.post('/Groups', 'crew', '{"displayName": "Crew"}');
-- the changes after "after" by version, then kind and name: one request's rows share a version
CREATE FUNCTION pg_temp.by_version(after text) RETURNS TABLE (kind text, resource text, member text, version bigint,
	operation text)
	LANGUAGE sql AS $$
	SELECT c.kind, coalesce(r.name, c.resource_id::text), m.name, c.version,
		   regexp_replace(c.operation, '[0-9a-f-]{36}', '{id}')
	FROM scim.changes(after, 1000, current_setting('feed.tenant')::uuid) c
	LEFT JOIN names r ON r.id = c.resource_id LEFT JOIN names m ON m.id = c.member_id
	ORDER BY r.name, c.version, c.kind, m.name
	$$;
SELECT scim.changes_now() AS mark \gset
-- a value object holding members beside another attribute (Entra ID): one version for both
SELECT pg_temp.req('PATCH', '/Groups/' || pg_temp.id('crew'), pg_temp.patch(format(
	'[{"op": "Add", "value": {"members": [{"value": "%s"}, {"value": "%s"}], "externalId": "crew-1"}}]',
	pg_temp.id('cy'), pg_temp.id('dee'))));
-- replace: the members named stay or come, the others go
SELECT pg_temp.req('PATCH', '/Groups/' || pg_temp.id('crew'), pg_temp.patch(format(
	'[{"op": "replace", "path": "members", "value": [{"value": "%s"}, {"value": "%s"}]}]', pg_temp.id('dee'), pg_temp.id('bob'))));
-- a filter that names no id tests each member; then all members at once
SELECT pg_temp.req('PATCH', '/Groups/' || pg_temp.id('crew'), pg_temp.patch('[{"op": "remove", "path": "members[display eq \"Dee\"]"}]'));
SELECT pg_temp.req('PATCH', '/Groups/' || pg_temp.id('crew'), pg_temp.patch('[{"op": "remove", "path": "members"}]'));
-- a PUT with other members
SELECT pg_temp.req('PUT', '/Groups/' || pg_temp.id('crew'), format('{"displayName": "Crew", "members": [{"value": "%s"}]}', pg_temp.id('cy')));
-- a user's PATCH through the fast path, through the general path (If-Match), with a password
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('dee'), pg_temp.patch('[{"op": "replace", "path": "title", "value": "A"}]'));
SELECT (scim.handle('PATCH', '/Users/' || pg_temp.id('dee'), NULL, current_setting('feed.h')::jsonb || '{"if-match": "W/\"2\""}',
	pg_temp.patch('[{"op": "replace", "path": "title", "value": "B"}]'))).status;
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('dee'), pg_temp.patch('[{"op": "replace", "path": "password", "value": "Pw-1-secret"}]'));
SELECT * FROM pg_temp.by_version(:'mark');
-- the event log shows the same rows, with what the request set that the schema lacks
SELECT pg_temp.req('PUT', '/Users/' || pg_temp.id('dee'), '{"userName": "dee", "displayName": "Dee", "nosuch": 1}');
SELECT kind, regexp_replace(operation, '[0-9a-f-]{36}', '{id}') AS operation, status, version, detail
FROM scim.events WHERE resource_id = pg_temp.id('dee')::uuid ORDER BY at;

-- ---- what is not recorded ---------------------------------------------------
SELECT scim.changes_now() AS mark \gset
-- a request that fails writes nothing: the second member does not exist
SELECT pg_temp.req('POST', '/Groups', format('{"displayName": "Bad", "members": [{"value": "%s"}, {"value": "%s"}]}',
	pg_temp.id('cy'), gen_random_uuid()));
-- a transaction that rolls back, and a subtransaction that does
BEGIN;
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('cy'), pg_temp.patch('[{"op": "replace", "path": "displayName", "value": "gone"}]'));
ROLLBACK;
BEGIN;
SAVEPOINT s;
INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES (:'tenant', pg_temp.id('staff')::uuid, pg_temp.id('bob'), 'User');
ROLLBACK TO s;
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('bob'), pg_temp.patch('[{"op": "replace", "path": "nickName", "value": "B"}]'));
COMMIT;
-- a PATCH that changes nothing
SELECT pg_temp.req('PATCH', '/Users/' || pg_temp.id('bob'), pg_temp.patch('[{"op": "replace", "path": "nickName", "value": "B"}]'));
SELECT * FROM pg_temp.feed(:'mark');

-- ---- direct SQL is in the feed too, as "SQL" -----------------------------------
SELECT scim.changes_now() AS mark \gset
UPDATE scim.users SET data = data || '{"title": "Cook"}', version = version + 1 WHERE id = pg_temp.id('cy')::uuid;
-- a membership alone: its row carries the group's version as it stands
INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES (:'tenant', pg_temp.id('staff')::uuid, pg_temp.id('bob'), 'User');
DELETE FROM scim.users WHERE id = pg_temp.id('bob')::uuid;
SELECT * FROM pg_temp.feed(:'mark');
-- a membership whose row a savepoint wrote and rolled back: written again at commit
SELECT scim.changes_now() AS mark \gset
BEGIN;
INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES (:'tenant', pg_temp.id('crew')::uuid, pg_temp.id('dee'), 'User');
SAVEPOINT s;
UPDATE scim.groups SET version = version + 1 WHERE id = pg_temp.id('crew')::uuid;
ROLLBACK TO s;
COMMIT;
SELECT * FROM pg_temp.feed(:'mark');

-- ---- reading -------------------------------------------------------------------
-- change_ids are 32 hex digits, in delivery order as text too
SELECT count(*) > 0 AS some, bool_and(change_id ~ '^[0-9a-f]{32}$') AS hex,
	   array_agg(change_id) = array_agg(change_id ORDER BY change_id) AS sorted
FROM scim.changes(NULL, 1000);
-- max_rows, and resuming after the last change_id read, returns each change once
WITH RECURSIVE pages(n, last, got) AS (
	SELECT 0, NULL::text, 0
	UNION ALL
	SELECT p.n + 1, (SELECT max(c.change_id) FROM scim.changes(p.last, 3) c),
		   (SELECT count(*)::int FROM scim.changes(p.last, 3))
	FROM pages p WHERE p.n = 0 OR p.got > 0)
SELECT sum(got) = (SELECT count(*) FROM scim.changes(NULL, 100000)) AS each_once FROM pages;
-- one tenant's feed, on its index
SELECT scim.create_tenant('Other') AS other \gset
SELECT count(*) AS other_tenant FROM scim.changes(NULL, 1000, :'other');
EXPLAIN (COSTS OFF) SELECT * FROM scim.changes(NULL, 10, '00000000-0000-0000-0000-000000000000');
EXPLAIN (COSTS OFF) SELECT * FROM scim.changes(NULL, 10);
SELECT * FROM scim.changes('not a change id');
SELECT * FROM scim.changes(NULL, -1);
-- from now: nothing yet
SELECT count(*) AS from_now FROM scim.changes(scim.changes_now());

-- ---- pruning -------------------------------------------------------------------
SELECT min(change_id) AS oldest FROM scim.changes(NULL, 100000) \gset
SELECT scim.prune_events('0 seconds') >= 0 AS pruned;
SELECT count(*) AS kept FROM scim.changes(NULL, 1000);
-- an after older than what is kept raises SH410, never skips
SELECT set_config('feed.oldest', :'oldest', false) IS NOT NULL AS ok;
DO $$
BEGIN
	PERFORM * FROM scim.changes(current_setting('feed.oldest'));
	RAISE NOTICE 'no error';
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'SQLSTATE %: %', SQLSTATE, regexp_replace(SQLERRM, '[0-9a-f]{32}', '<id>');
END;
$$;
SELECT c.scim_type, c.http_status FROM scim.error_codes() c WHERE c.sqlstate = 'SH410';

-- ---- a tenant's deletion is one row ------------------------------------------------
SELECT scim.changes_now() AS mark \gset
DELETE FROM scim.tenant WHERE id = :'tenant';
SELECT kind, resource_type, resource_id, tenant = :'tenant' AS the_tenant, operation FROM scim.changes(:'mark');

-- ---- who may read ------------------------------------------------------------------
SELECT c.oid::regclass, p.grantee::regrole, p.privilege_type
FROM pg_class c, aclexplode(c.relacl) p
WHERE c.oid IN ('scim.change'::regclass, 'scim.change_pruned'::regclass, 'scim.change_seq_seq'::regclass)
  AND p.grantee <> c.relowner ORDER BY 1, 2, 3;
SELECT has_function_privilege(r, 'scim.changes(text, integer, uuid)', 'EXECUTE') AS changes,
	   has_function_privilege(r, 'scim.changes_now()', 'EXECUTE') AS now, r
FROM unnest(ARRAY['scim_app', 'scim_handler', 'scim_server']) r ORDER BY r;
SET ROLE scim_app;
SELECT count(*) >= 0 AS app_reads FROM scim.changes();
RESET ROLE;
SET ROLE scim_server;
SELECT count(*) FROM scim.changes();
SELECT count(*) FROM scim.change;
RESET ROLE;

-- ---- every object has its comment ---------------------------------------------------
SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'scim'::regnamespace
  AND c.relname IN ('change', 'change_pruned', 'change_seq_seq') AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'scim'::regnamespace
  AND p.proname IN ('changes', 'changes_now', '_change', '_changes_final', '_change_id', '_changes_after', 'prune_events')
  AND obj_description(p.oid, 'pg_proc') IS NULL;

-- ---- an import's users and groups come as created, said to be the import's ----------
SELECT scim.create_tenant('Feed imports') AS tenant \gset
SELECT scim.changes_now() AS before_import \gset
SELECT count(*) FILTER (WHERE i.id IS NOT NULL) AS imported FROM scim.import(:'tenant', 'User', ARRAY[
	'{"id": "6a0f2c54-0000-4000-8000-000000000001", "userName": "imp1"}',
	'{"id": "6a0f2c54-0000-4000-8000-000000000002", "userName": "imp2"}']::jsonb[]) i;
SELECT kind, resource_type, resource_id, version, operation, count(*) OVER () AS rows
	FROM scim.changes(:'before_import', 1000, :'tenant') ORDER BY resource_id;
