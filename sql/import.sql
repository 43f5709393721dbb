-- scim.import() (src/pg/import.c): an application's users and groups
-- brought into a tenant, each document as POST stores it, ids kept; one
-- case per line, hostile input included.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Imports') AS tenant \gset
SELECT scim.create_tenant('Elsewhere') AS other \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT set_config('test.tenant', :'tenant', false) IS NOT NULL AS ok;
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok')::text, false) IS NOT NULL AS ok;

-- i(docs[, type[, tenant]]): the call's rows, a new id shown as <new>
CREATE FUNCTION pg_temp.i(docs jsonb[], type text DEFAULT 'User', t uuid DEFAULT current_setting('test.tenant')::uuid)
	RETURNS TABLE (n integer, id text, scim_type text, detail text) LANGUAGE sql AS $$
	SELECT r.ordinality, CASE WHEN r.id::text LIKE '00000000-%' THEN r.id::text WHEN r.id IS NOT NULL THEN '<new>' END,
		r.scim_type, r.detail
	FROM scim.import(t, type, docs) r
$$;
-- e(docs[, type]): what the call raises with stop_on_error: SQLSTATE, message, detail
CREATE FUNCTION pg_temp.e(docs jsonb[], type text DEFAULT 'User') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	PERFORM scim.import(current_setting('test.tenant')::uuid, type, docs, true);
	RETURN 'imported';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(d, '') || ')', '');
END
$$;
-- x(statement): what it raises, SQLSTATE and message
CREATE FUNCTION pg_temp.x(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
-- u(name): the user stored under that userName, without meta's times
CREATE FUNCTION pg_temp.u(n text) RETURNS jsonb LANGUAGE sql AS $$
	SELECT u.data #- '{meta,created}' #- '{meta,lastModified}' FROM scim.users u
	WHERE u.tenant = current_setting('test.tenant')::uuid AND u.data->>'userName' = n
$$;
CREATE FUNCTION pg_temp.users() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM scim.users WHERE tenant = current_setting('test.tenant')::uuid
$$;

-- ---- users: ids kept or new, documents as POST stores them ----------------
SELECT * FROM pg_temp.i(ARRAY['{"userName": "ann", "id": "00000000-0000-4000-8000-000000000001", "externalId": "app-1", "name": {"givenName": "Ann"}}',
	'{"USERNAME": "bob", "ID": "{00000000-0000-4000-8000-00000000000B}", "Active": "False", "emails": [{"value": "bob@example.com", "Type": "work"}]}',
	'{"userName": "cid", "externalId": "app-3", "nosuch": 1, "name": {"givenName": "Cid", "middle": {"x": 1}}}',
	'{"userName": "dee", "password": "s3cret", "groups": [{"value": "00000000-0000-4000-8000-0000000000ff"}]}']::jsonb[]);
-- the id in its canonical form, names canonical, "False" a boolean, the unknown left out, meta new
SELECT pg_temp.u('ann');
SELECT pg_temp.u('bob');
SELECT pg_temp.u('cid') - 'id';
-- a password is stored as its SCRAM-SHA-256 secret, never as sent
SELECT u.data->>'password' LIKE 'SCRAM-SHA-256$4096:%' AS hashed, u.data::text LIKE '%s3cret%' AS clear
FROM scim.users u WHERE u.tenant = :'tenant' AND u.data->>'userName' = 'dee';
-- a POST of the same document stores the same (but for id, meta and the name)
SELECT status FROM scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
	'{"userName": "cid2", "externalId": "app-3b", "nosuch": 1, "name": {"givenName": "Cid", "middle": {"x": 1}}}');
SELECT (pg_temp.u('cid') - 'id' - 'meta' - 'userName' - 'externalId') = (pg_temp.u('cid2') - 'id' - 'meta' - 'userName' - 'externalId') AS as_post;
-- created and lastModified are the call's time, the same for every document of the call
SELECT count(DISTINCT u.data#>>'{meta,created}') AS times, bool_and(u.data#>>'{meta,created}' = u.data#>>'{meta,lastModified}') AS same,
	bool_and(u.created = u.last_modified) AS columns_same
FROM scim.users u WHERE u.tenant = :'tenant' AND u.data->>'userName' IN ('ann', 'bob', 'cid', 'dee');
-- the handler serves them like any: by id, by userName, by externalId
SELECT status, body->>'userName' AS user_name FROM scim.handle('GET', '/Users/00000000-0000-4000-8000-000000000001', NULL, current_setting('test.h')::jsonb);
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Users', 'filter=userName%20eq%20%22BOB%22', current_setting('test.h')::jsonb);
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Users', 'filter=externalId%20eq%20%22app-1%22', current_setting('test.h')::jsonb);
-- one summary event per call, with its counts
SELECT kind, resource_type, resource_id, operation, status, scim_type, detail FROM scim.events
WHERE tenant = :'tenant' AND kind = 'imported' ORDER BY at;

-- ---- uniqueness: against the tenant, and within the call (the first document keeps it) ----
SELECT * FROM pg_temp.i(ARRAY['{"userName": "Ann"}', '{"userName": "eve", "id": "00000000-0000-4000-8000-000000000001"}',
	'{"userName": "eve", "externalId": "app-1"}', '{"userName": "fay", "externalId": ""}', '{"userName": "gil", "externalId": ""}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "hal", "id": "00000000-0000-4000-8000-000000000002"}', '{"userName": "ian", "id": "00000000-0000-4000-8000-000000000002"}',
	'{"userName": "JOY"}', '{"userName": "joy"}', '{"userName": "kai", "externalId": "app-11"}', '{"userName": "lee", "externalId": "app-11"}',
	'{"userName": "mo", "externalId": "APP-11"}']::jsonb[]);
-- a document that fails claims nothing: the next one with its name is imported
SELECT * FROM pg_temp.i(ARRAY['{"userName": "ned", "active": "maybe"}', '{"userName": "ned"}', '{"userName": "ola", "id": "00000000-0000-4000-8000-000000000001"}',
	'{"userName": "ola"}']::jsonb[]);

-- ---- hostile input, one case per line ---------------------------------------
SELECT * FROM pg_temp.i(ARRAY['5']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['"pat"']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['[{"userName": "pat"}]']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['null']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY[NULL, '{"userName": "pat"}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": ""}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": 7}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": "42"}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": 42}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": ""}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": {"value": "00000000-0000-4000-8000-000000000003"}}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": "00000000-0000-4000-8000-00000000003"}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": "00000000-0000-4000-8000-000000000003x"}']::jsonb[]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": "bulkId:qq"}']::jsonb[]);
-- id null is no id: a new one
SELECT * FROM pg_temp.i(ARRAY['{"userName": "quinn", "id": null}']::jsonb[]);
-- a meta and schemas that lie are ignored, as POST ignores them
SELECT * FROM pg_temp.i(ARRAY['{"userName": "rae", "id": "00000000-0000-4000-8000-000000000004", "meta": {"resourceType": "Group", "created": "1999-01-01T00:00:00Z", "version": "W/\"9\"", "location": "https://evil.example/x"}, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]}']::jsonb[]);
SELECT pg_temp.u('rae')->'schemas' AS schemas, pg_temp.u('rae')->'meta' AS meta,
	(SELECT u.data#>>'{meta,created}' > '2000' FROM scim.users u WHERE u.tenant = :'tenant' AND u.data->>'userName' = 'rae') AS created_now;
SELECT * FROM pg_temp.i(ARRAY['{"userName": "sam", "schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "meta": "yesterday"}']::jsonb[]);
SELECT pg_temp.u('sam')->'schemas' AS schemas, pg_temp.u('sam')->'meta' AS meta;
-- passwords: at most 1,024 bytes, a string
SELECT * FROM pg_temp.i(ARRAY[jsonb_build_object('userName', 'tia', 'password', repeat('p', 1025))]);
SELECT * FROM pg_temp.i(ARRAY[jsonb_build_object('userName', 'tia', 'password', repeat('p', 1024))]);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "uma", "password": ["x"]}']::jsonb[]);
-- an array too large for one call, one of more dimensions, no array, an empty one
SELECT pg_temp.x(format('SELECT scim.import(%L, %L, array_fill(NULL::jsonb, ARRAY[100001]))', :'tenant', 'User'));
SELECT pg_temp.x(format('SELECT scim.import(%L, %L, ARRAY[[''{"userName": "vic"}'']]::jsonb[])', :'tenant', 'User'));
SELECT count(*) FROM scim.import(:'tenant', 'User', NULL);
SELECT count(*) FROM scim.import(:'tenant', 'User', '{}');
-- the largest call takes its documents (each failing here: NULL)
SELECT count(*), count(*) FILTER (WHERE scim_type = 'invalidSyntax') FROM scim.import(:'tenant', 'User', array_fill(NULL::jsonb, ARRAY[100000]));
-- the call's arguments
SELECT pg_temp.x($$SELECT scim.import(NULL, 'User', ARRAY['{"userName": "vic"}']::jsonb[])$$);
SELECT pg_temp.x(format($$SELECT scim.import(%L, NULL, ARRAY['{"userName": "vic"}']::jsonb[])$$, :'tenant'));
SELECT pg_temp.x(format($$SELECT scim.import(%L, 'User', ARRAY['{"userName": "vic"}']::jsonb[], NULL)$$, :'tenant'));
SELECT pg_temp.x(format($$SELECT scim.import(%L, 'Widget', ARRAY['{"userName": "vic"}']::jsonb[])$$, :'tenant'));
SELECT pg_temp.x($$SELECT scim.import('00000000-0000-4000-8000-00000000dead', 'User', ARRAY['{"userName": "vic"}']::jsonb[])$$);
SELECT * FROM pg_temp.i(ARRAY['{"userName": "vic"}']::jsonb[], 'user');
-- an id another tenant has is this tenant's to take; its userName too
SELECT * FROM pg_temp.i(ARRAY['{"userName": "ann", "id": "00000000-0000-4000-8000-000000000001"}',
	'{"userName": "far", "id": "00000000-0000-4000-8000-0000000000e1"}']::jsonb[], 'User', :'other');

-- ---- stop_on_error: the first failure raises, with its SQLSTATE, and nothing is written ----
SELECT pg_temp.users() AS before;
SELECT pg_temp.e(ARRAY['{"userName": "wes"}', '{"userName": "ann"}', '5']::jsonb[]);
SELECT pg_temp.e(ARRAY['{"userName": "wes"}', '{"userName": "wes", "active": "maybe"}', '{"userName": "ann"}']::jsonb[]);
SELECT pg_temp.e(ARRAY['{"userName": "wes"}', '[]']::jsonb[]);
SELECT pg_temp.e(ARRAY['{"userName": "wes"}', '{"userName": "xia", "id": "00000000-0000-4000-8000-000000000002"}']::jsonb[]);
SELECT pg_temp.users() AS after, (SELECT count(*) FROM scim.users WHERE tenant = :'tenant' AND data->>'userName' = 'wes') AS wes;
SELECT pg_temp.e(ARRAY['{"userName": "wes"}', '{"userName": "xia"}']::jsonb[]);
SELECT pg_temp.users() AS imported;

-- ---- groups and their members ------------------------------------------------
SELECT * FROM pg_temp.i(ARRAY[
	'{"displayName": "Staff", "id": "00000000-0000-4000-8000-0000000000a1", "members": [{"value": "00000000-0000-4000-8000-000000000001", "display": "Ann A."}, {"value": "00000000-0000-4000-8000-00000000000B"}]}',
	'{"displayName": "All", "id": "00000000-0000-4000-8000-0000000000a2", "members": [{"value": "00000000-0000-4000-8000-0000000000a1"}, "00000000-0000-4000-8000-000000000001", {"value": "{00000000-0000-4000-8000-0000000000A2}"}]}',
	'{"displayName": "Twice", "members": [{"value": "00000000-0000-4000-8000-000000000001"}, {"value": "00000000-0000-4000-8000-000000000001"}]}',
	'{"displayName": "One", "members": {"value": "00000000-0000-4000-8000-000000000004"}}',
	'{"displayName": "Later", "members": [{"value": "00000000-0000-4000-8000-0000000000a5"}]}',
	'{"displayName": "Five", "id": "00000000-0000-4000-8000-0000000000a5", "members": []}',
	'{"displayName": "Nobody", "members": [{"value": "00000000-0000-4000-8000-0000000000ee"}]}',
	'{"displayName": "Valueless", "members": [{"display": "Ann"}]}',
	'{"displayName": "NotAnId", "members": [{"value": "ann"}]}',
	'{"displayName": "staff"}',
	'{"displayName": "Sub", "id": "00000000-0000-4000-8000-0000000000a9", "externalId": "g-1", "members": [{"value": "00000000-0000-4000-8000-0000000000a8"}]}',
	'{"displayName": "Top", "members": [{"value": "00000000-0000-4000-8000-0000000000a9"}]}',
	'{"displayName": "Ext", "externalId": "g-1"}',
	'{"displayName": "AsUser", "id": "00000000-0000-4000-8000-000000000001"}',
	'{"displayName": "Elsewhere", "members": [{"value": "00000000-0000-4000-8000-0000000000e1"}]}'
]::jsonb[], 'Group');
-- members as the store keeps them: canonical ids, a User or a Group, the display sent
SELECT g.data->>'displayName' AS group, m.value, m.type, m.display FROM scim.group_members m
JOIN scim.groups g ON g.tenant = m.tenant AND g.id = m.group_id
WHERE m.tenant = :'tenant' ORDER BY 1, 2;
-- and as the handler shows them (display the member's current name)
SELECT status, jsonb_path_query_array(body, '$.members[*].display') AS members
FROM scim.handle('GET', '/Groups/00000000-0000-4000-8000-0000000000a1', NULL, current_setting('test.h')::jsonb);
SELECT status, jsonb_path_query_array(body, '$.groups[*].display') AS groups
FROM scim.handle('GET', '/Users/00000000-0000-4000-8000-000000000001', NULL, current_setting('test.h')::jsonb);
-- a user's id is not a group's: importing a user with a group's id fails
SELECT * FROM pg_temp.i(ARRAY['{"userName": "yan", "id": "00000000-0000-4000-8000-0000000000a1"}']::jsonb[]);
-- groups stop on error as users do
SELECT pg_temp.e(ARRAY['{"displayName": "Fine"}', '{"displayName": "Bad", "members": [{"value": "00000000-0000-4000-8000-0000000000ee"}]}']::jsonb[], 'Group');
SELECT count(*) AS fine FROM scim.groups WHERE tenant = :'tenant' AND data->>'displayName' = 'Fine';
-- a call that raised logged nothing; each other call one event
SELECT count(*) AS imports, sum(rtrim(split_part(detail, ' ', 2), ',')::int) AS documents_imported FROM scim.events
WHERE tenant = :'tenant' AND kind = 'imported';
SELECT kind, resource_type, operation, status, detail FROM scim.events
WHERE tenant = :'tenant' AND kind = 'imported' ORDER BY at DESC LIMIT 1;

-- ---- who may import ---------------------------------------------------------
SET client_min_messages = warning;
\set ECHO none
\i src/server/server_role.sql
\set ECHO all
DROP ROLE IF EXISTS import_app, import_stranger;
CREATE ROLE import_app IN ROLE scim_app;
CREATE ROLE import_stranger;
RESET client_min_messages;
GRANT USAGE ON SCHEMA scim TO import_stranger;
GRANT EXECUTE ON FUNCTION scim.import(uuid, text, jsonb[], boolean) TO import_stranger;
SELECT p.oid::regprocedure, pg_get_userbyid(p.proowner) AS owner, p.prosecdef,
	has_function_privilege('scim_app', p.oid, 'EXECUTE') AS app, has_function_privilege('scim_server', p.oid, 'EXECUTE') AS server,
	has_function_privilege('public', p.oid, 'EXECUTE') AS public
FROM pg_proc p WHERE p.oid = 'scim.import(uuid, text, jsonb[], boolean)'::regprocedure;
-- the application's role imports; the tenant it acts for ends with the call
SET ROLE import_app;
SELECT * FROM pg_temp.i(ARRAY['{"userName": "zoe"}']::jsonb[]);
SELECT scim.current_tenant();
RESET ROLE;
-- the HTTP layer's role cannot call it
SET ROLE scim_server;
SELECT count(*) FROM scim.import(:'tenant', 'User', ARRAY['{"userName": "planted"}']::jsonb[]);
RESET ROLE;
-- a role that may call it but may not change the tenant: refused
SET ROLE import_stranger;
SELECT count(*) FROM scim.import(:'tenant', 'User', ARRAY['{"userName": "planted"}']::jsonb[]);
RESET ROLE;
SELECT count(*) AS planted FROM scim.users WHERE tenant = :'tenant' AND data->>'userName' = 'planted';
REVOKE ALL ON FUNCTION scim.import(uuid, text, jsonb[], boolean) FROM import_stranger;
REVOKE ALL ON SCHEMA scim FROM import_stranger;
DROP ROLE import_app, import_stranger;
