-- security: what the HTTP layer's role can reach by itself (nothing of a
-- tenant's rows but through the handler, for its token's tenant), and what
-- the handler keeps from one call to the next (nothing a caller can read).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
\i src/server/server_role.sql
RESET client_min_messages;

SELECT scim.create_tenant('Alpha') AS alpha \gset
SELECT scim.create_tenant('Beta') AS beta \gset
SELECT scim.create_token(:'alpha') AS tok_a \gset
SELECT scim.create_token(:'beta') AS tok_b \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || :'tok_a') AS auth_a \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || :'tok_b') AS auth_b \gset

-- a user and a group in each tenant, through the handler
SELECT body->>'id' AS user_a FROM scim.handle('POST', '/Users', NULL, :'auth_a',
	'{"userName": "ann@alpha.example", "password": "alpha-secret-1"}') \gset
SELECT body->>'id' AS user_b FROM scim.handle('POST', '/Users', NULL, :'auth_b',
	'{"userName": "bob@beta.example", "password": "beta-secret-1"}') \gset
SELECT body->>'id' AS group_b FROM scim.handle('POST', '/Groups', NULL, :'auth_b',
	format('{"displayName": "Beta staff", "members": [{"value": "%s"}]}', :'user_b')) \gset
SELECT body->>'id' AS group_a FROM scim.handle('POST', '/Groups', NULL, :'auth_a',
	format('{"displayName": "Alpha staff", "members": [{"value": "%s"}]}', :'user_a')) \gset

-- a hostile search_path's objects, and a log of their calls
CREATE SCHEMA evil;
CREATE TABLE evil.calls (what text);
GRANT USAGE, CREATE ON SCHEMA evil TO scim_server;
GRANT INSERT, SELECT ON evil.calls TO scim_server;

-- the roles as the README describes them
SELECT rolname, rolsuper, rolbypassrls, rolcanlogin FROM pg_roles
WHERE rolname IN ('scim_handler', 'scim_app', 'scim_server') ORDER BY rolname;
SELECT p.proname, pg_get_userbyid(p.proowner) AS owner, p.prosecdef FROM pg_proc p
WHERE p.pronamespace = 'scim'::regnamespace AND p.prosecdef ORDER BY 1;
-- the handler runs as its owner (src/pg/tenant.c switches to it), and so does the import
SELECT p.oid::regprocedure, pg_get_userbyid(p.proowner) AS owner FROM pg_proc p
WHERE p.oid IN ('scim.handle(text,text,text,jsonb,text)'::regprocedure, 'scim.handle_text(text,text,text,jsonb,text)'::regprocedure,
				'scim.import(uuid,text,jsonb[],boolean)'::regprocedure)
ORDER BY 1;
-- internal functions executable by PUBLIC: none
SELECT p.oid::regprocedure FROM pg_proc p
WHERE p.pronamespace = 'scim'::regnamespace AND p.proname LIKE '\_%'
  AND has_function_privilege('public', p.oid, 'EXECUTE');
-- SQL and PL/pgSQL functions callable from outside the handler that do not
-- pin search_path: only those that must stay inlinable, whose bodies
-- qualify every name they use
SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'scim'::regnamespace AND l.lanname IN ('sql', 'plpgsql')
  AND p.proname NOT LIKE '\_%' AND p.proconfig IS NULL ORDER BY 1;
-- views that do not run with their reader's rights: none
SELECT c.oid::regclass FROM pg_class c
WHERE c.relnamespace = 'scim'::regnamespace AND c.relkind = 'v'
  AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);

-- ---- as the HTTP layer's role ---------------------------------------------
SET SESSION AUTHORIZATION scim_server;
\set VERBOSITY terse
-- the tables, the view, directly
SELECT count(*) FROM scim.users;
SELECT count(*) FROM scim.groups;
SELECT count(*) FROM scim.group_members;
SELECT count(*) FROM scim.event;
SELECT count(*) FROM scim.events;
SELECT count(*) FROM scim.tenant;
SELECT count(*) FROM scim.token;
SELECT count(*) FROM scim.tokens;
SELECT scim.revoke_token(:'beta', gen_random_uuid());
INSERT INTO scim.users (tenant, data) VALUES (:'beta', '{"userName": "planted"}');
UPDATE scim.users SET data = '{}' WHERE tenant = :'beta';
DELETE FROM scim.group_members WHERE tenant = :'beta';
INSERT INTO scim.event (tenant, kind, operation, status) VALUES (:'beta', 'deleted', 'forged', 204);
-- the setting the policies read
SET scim.tenant = :'beta';
SELECT set_config('scim.tenant', :'beta', false);
BEGIN; SET LOCAL scim.tenant = :'beta'; ROLLBACK;
ALTER ROLE scim_server SET scim.tenant = :'beta';
SELECT scim.current_tenant();
-- other roles
SET ROLE scim_handler;
SET ROLE scim_app;
SET ROLE postgres;
-- the settings that bound a request, and the logging of parameters
SET scim.max_results = 1000000;
SET scim.request_timeout = 0;
SET log_parameter_max_length = -1;
-- the extension's internal functions
SELECT scim._act_for(:'beta');
SELECT scim._patched();
SELECT scim._patch_step('{}', 1, '{}', now());
SELECT scim._put_step('{}', 1, '{}', 'x', now());
SELECT scim._hash_password('x');
-- the extension's functions that manage tenants and tokens
SELECT scim.create_tenant('Mallory');
SELECT scim.create_token(:'beta');
SELECT scim.revoke_token(:'tok_b');
SELECT scim.prune_events('0 seconds');
SELECT scim.register_schema('{"id": "urn:x:evil", "attributes": []}');
SELECT * FROM scim.import(:'beta', 'User', ARRAY['{"userName": "planted"}']::jsonb[]);
-- the handler, with tenant A's token: A's rows only
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Users', NULL, :'auth_a', NULL);
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Groups', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('GET', '/Users/' || :'user_b', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('GET', '/Groups/' || :'group_b', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('PATCH', '/Users/' || :'user_b', NULL, :'auth_a',
	'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}');
SELECT status FROM scim.handle('PUT', '/Users/' || :'user_b', NULL, :'auth_a', '{"userName": "taken@beta.example"}');
SELECT status FROM scim.handle('DELETE', '/Users/' || :'user_b', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('DELETE', '/Groups/' || :'group_b', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('PATCH', '/Groups/' || :'group_a', NULL, :'auth_a',
	format('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": "%s"}]}]}', :'user_b'));
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Users',
	format('filter=id eq "%s"', :'user_b'), :'auth_a', NULL);
SELECT status, body->'totalResults' AS total FROM scim.handle('POST', '/.search', NULL, :'auth_a', '{"filter": "userName sw \"b\""}');
-- the tenant ends with the call, in the caller's transaction too
BEGIN;
SELECT status FROM scim.handle('GET', '/Users/' || :'user_a', NULL, :'auth_a', NULL);
SELECT scim.current_tenant();
COMMIT;
SELECT status FROM scim.handle('PATCH', '/Users/' || :'user_a', NULL, :'auth_a',
	'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Ann"}]}');
SELECT scim.current_tenant();
-- a hostile search_path: the handler names its objects, its path is pinned
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('lower'); SELECT pg_catalog.lower($1) $$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('jsonb_typeof'); SELECT pg_catalog.jsonb_typeof($1) $$;
CREATE FUNCTION evil.regexp_replace(text, text, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('regexp_replace'); SELECT pg_catalog.regexp_replace($1, $2, $3) $$;
CREATE FUNCTION evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE sql
	AS $$ INSERT INTO evil.calls VALUES ('uuid ='); SELECT true $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.uuid_eq);
SET search_path = evil, pg_catalog;
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Users', 'filter=userName eq "ann@alpha.example"', :'auth_a', NULL);
SELECT status FROM scim.handle('POST', '/Users', NULL, :'auth_a', '{"userName": "eve@alpha.example"}');
SELECT status FROM scim.handle('GET', '/Users/' || :'user_a', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('GET', '/Users/' || :'user_b', NULL, :'auth_a', NULL);
SELECT status FROM scim.handle('GET', '/Groups', 'filter=displayName sw "A"', :'auth_a', NULL);
RESET search_path;
SELECT count(*) AS hijacked_calls FROM evil.calls;
-- (the spies do work when called)
SELECT :'user_b'::uuid OPERATOR(evil.=) :'user_a'::uuid AS evil_operator, evil.lower('X') AS evil_lower;
SELECT count(*) AS spied_calls FROM evil.calls;
RESET SESSION AUTHORIZATION;

-- a grant made by mistake does not open the internal functions either
GRANT EXECUTE ON FUNCTION scim._patched(), scim._act_for(uuid) TO scim_server;
SET SESSION AUTHORIZATION scim_server;
SELECT scim._patched();
SELECT scim._act_for(:'beta');
RESET SESSION AUTHORIZATION;
REVOKE EXECUTE ON FUNCTION scim._patched(), scim._act_for(uuid) FROM scim_server;
\set VERBOSITY default

-- the handler refuses to run as a role that row-level security does not bind
ALTER ROLE scim_handler BYPASSRLS;
SELECT status FROM scim.handle('GET', '/Users', NULL, :'auth_a', NULL);
ALTER ROLE scim_handler NOBYPASSRLS;
SELECT status FROM scim.handle('GET', '/Users', NULL, :'auth_a', NULL);

-- the tenant is the leader's alone: under forced parallel mode the
-- policies' scans stay in the leader (scim.current_tenant() is PARALLEL
-- RESTRICTED), and count the tenant's rows
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql
	AS $$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q; END $$;
BEGIN;
SELECT scim._act_for(:'alpha') IS NOT NULL AS acting_for_alpha;
SET ROLE scim_handler;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
SET parallel_leader_participation = off;
SELECT bool_or(p ~ 'Parallel') AS parallel_scan, bool_or(p ~ 'tenant = scim.current_tenant\(\)') AS policy_in_plan
FROM pg_temp.plan('SELECT count(*) FROM scim.users') p;
SELECT count(*) AS alpha_users, count(*) FILTER (WHERE tenant = :'alpha') AS own FROM scim.users;
-- under row-level security the handler's lookups stay index conditions: a
-- condition that is not LEAKPROOF waits for the policy's and filters the
-- tenant's every row (src/pg/statements.c's statements, the same conditions)
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
RESET ROLE;
SELECT scim.create_tenant('Many') AS many \gset
INSERT INTO scim.users (tenant, data)
SELECT :'many', jsonb_build_object('userName', 'u' || i || '@many.example', 'externalId', 'x' || i) FROM generate_series(1, 3000) i;
INSERT INTO scim.groups (tenant, data)
SELECT :'many', jsonb_build_object('displayName', 'g' || i, 'externalId', 'x' || i) FROM generate_series(1, 3000) i;
INSERT INTO scim.group_members (tenant, group_id, value, type)
SELECT :'many', g.id, u.id::text, 'User' FROM scim.users u JOIN scim.groups g
	ON g.tenant = u.tenant AND g.data->>'externalId' = u.data->>'externalId' WHERE u.tenant = :'many';
ANALYZE scim.users, scim.groups, scim.group_members;
SELECT scim._act_for(:'many') IS NOT NULL AS acting_for_many;
SET ROLE scim_handler;
SELECT count(*) FILTER (WHERE p ~ 'Index Cond: .*scim\.key_lower\(data, ''userName''::text\) =') AS by_user_name,
	   count(*) FILTER (WHERE p ~ '^ *(->  )?Filter:') AS filtered
FROM pg_temp.plan(format('SELECT r.id FROM scim.users r WHERE r.tenant = %L AND scim.key_lower(r.data, %L) = lower(%L)', :'many', 'userName', 'x')) p;
SELECT count(*) FILTER (WHERE p ~ 'Index Cond: .*scim\.key\(data, ''externalId''::text\) =') AS by_external_id,
	   count(*) FILTER (WHERE p ~ '^ *(->  )?Filter:') AS filtered
FROM pg_temp.plan(format('SELECT r.id FROM scim.users r WHERE r.tenant = %L AND scim.key(r.data, %L) = %L', :'many', 'externalId', 'x')) p;
SELECT count(*) FILTER (WHERE p ~ 'Index Cond: .*scim\.key_lower\(data, ''displayName''::text\) =') AS by_display_name,
	   count(*) FILTER (WHERE p ~ '^ *(->  )?Filter:') AS filtered
FROM pg_temp.plan(format('SELECT r.id FROM scim.groups r WHERE r.tenant = %L AND scim.key_lower(r.data, %L) = lower(%L)', :'many', 'displayName', 'x')) p;
SELECT count(*) FILTER (WHERE p ~ 'Index Cond: .*value\)?(::text)? = scim\.id_text') AS member_join,
	   count(*) FILTER (WHERE p ~ '^ *(->  )?Filter:') AS filtered
FROM pg_temp.plan(format('SELECT g.id FROM scim.users r JOIN scim.group_members m ON m.tenant = r.tenant AND m.value = scim.id_text(r.id) '
						 'JOIN scim.groups g ON g.tenant = m.tenant AND g.id = m.group_id WHERE r.tenant = %L AND scim.key_lower(r.data, %L) = %L',
						 :'many', 'userName', 'u7@many.example')) p;
RESET enable_seqscan;
RESET ROLE;
DELETE FROM scim.group_members WHERE tenant = :'many';
DELETE FROM scim.groups WHERE tenant = :'many';
DELETE FROM scim.users WHERE tenant = :'many';
SELECT scim._act_for(:'alpha') IS NOT NULL AS acting_for_alpha;
SET ROLE scim_handler;
RESET ROLE;
RESET force_parallel_mode;
RESET max_parallel_workers_per_gather;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;
RESET parallel_leader_participation;
COMMIT;

-- the application's role is trusted across tenants, and reads through the view
SET ROLE scim_app;
SELECT count(DISTINCT tenant) AS tenants_seen FROM scim.users WHERE tenant IN (:'alpha', :'beta');
SELECT count(DISTINCT tenant) AS tenants_logged FROM scim.events WHERE tenant IN (:'alpha', :'beta');
SELECT count(DISTINCT tenant) AS tenants_with_tokens FROM scim.tokens WHERE tenant IN (:'alpha', :'beta');
SELECT count(*) FROM scim.users WHERE data->>'userName' = 'planted';
RESET ROLE;
-- nothing an attacker tried was written
SELECT tenant = :'beta' AS beta, data->>'userName' AS user_name, data->>'active' AS active
FROM scim.users WHERE tenant IN (:'alpha', :'beta') ORDER BY 2;
SELECT (SELECT count(*) FROM scim.group_members WHERE tenant = :'beta') AS beta_members,
	   (SELECT count(*) FROM scim.event WHERE operation = 'forged') AS forged_events;

DROP SCHEMA evil CASCADE;
