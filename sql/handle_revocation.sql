-- scim.handle() keeps, in each backend, the bearer tokens it has seen and
-- which tenants have no group memberships.  A second backend (B, through
-- dblink) fills its caches; this session then changes scim.token or
-- scim.group_members the ways that fire no ordinary trigger: under
-- session_replication_role = replica (as logical replication's apply and
-- pg_restore --disable-triggers run) and with the triggers disabled.  B's
-- next request must see each change.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
CREATE EXTENSION IF NOT EXISTS dblink;
RESET client_min_messages;

SELECT dblink_connect('b', format('host=%s port=%s dbname=%s user=%s',
	split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
	current_database(), current_user)) AS b;

SELECT scim.create_tenant('Revoked') AS tenant \gset
SELECT scim.create_token(:'tenant') AS admin \gset
SELECT (scim.handle('POST', '/Users', NULL, jsonb_build_object('authorization', 'Bearer ' || :'admin'),
	'{"userName": "rev@revoked.example"}')).body->>'id' AS uid \gset
SELECT (scim.handle('POST', '/Groups', NULL, jsonb_build_object('authorization', 'Bearer ' || :'admin'),
	'{"displayName": "Crew"}')).body->>'id' AS gid \gset
SELECT set_config('test.uid', :'uid', false) IS NOT NULL AS ok;

-- b(token): B's answer to GET /Users/{uid} with token: the status and the groups shown
CREATE FUNCTION pg_temp.b(token text) RETURNS TABLE (status integer, groups text[]) LANGUAGE sql AS $$
	SELECT * FROM dblink('b', format(
		'SELECT status, ARRAY(SELECT g->>''display'' FROM jsonb_array_elements(coalesce(body->''groups'', ''[]'')) g) '
		'FROM scim.handle(''GET'', %L, NULL, %L, NULL)',
		'/Users/' || current_setting('test.uid'), jsonb_build_object('authorization', 'Bearer ' || token)))
		AS t(status integer, groups text[])
$$;
-- the id of a token, from the view and the prefix it was issued with
CREATE FUNCTION pg_temp.id_of(token text) RETURNS uuid LANGUAGE sql AS $$
	SELECT id FROM scim.tokens WHERE prefix = left(token, 12)
$$;

-- the triggers that tell every backend of a change fire under any session_replication_role
SELECT tgrelid::regclass, tgname, tgenabled FROM pg_trigger
WHERE tgrelid IN ('scim.token'::regclass, 'scim.group_members'::regclass) AND NOT tgisinternal ORDER BY 1, 2;

-- revoke_token(token) under replica role: B, which has the token cached, refuses it next
SELECT scim.create_token(:'tenant') AS t1 \gset
SELECT status FROM pg_temp.b(:'t1');
SET session_replication_role = replica;
SELECT scim.revoke_token(:'t1');
RESET session_replication_role;
SELECT status FROM pg_temp.b(:'t1');

-- a direct UPDATE of revoked_at under replica role
SELECT scim.create_token(:'tenant') AS t2 \gset
SELECT status FROM pg_temp.b(:'t2');
SET session_replication_role = replica;
UPDATE scim.token SET revoked_at = now() WHERE hash = sha256(convert_to(:'t2', 'UTF8'));
RESET session_replication_role;
SELECT status FROM pg_temp.b(:'t2');

-- expires_at moved into the past under replica role
SELECT scim.create_token(:'tenant', now() + interval '1 day') AS t3 \gset
SELECT status FROM pg_temp.b(:'t3');
SET session_replication_role = replica;
UPDATE scim.token SET expires_at = now() - interval '1 second' WHERE hash = sha256(convert_to(:'t3', 'UTF8'));
RESET session_replication_role;
SELECT status FROM pg_temp.b(:'t3');

-- revocation by id, under replica role
SELECT scim.create_token(:'tenant') AS t4 \gset
SELECT status FROM pg_temp.b(:'t4');
SET session_replication_role = replica;
SELECT scim.revoke_token(:'tenant'::uuid, pg_temp.id_of(:'t4'));
RESET session_replication_role;
SELECT status FROM pg_temp.b(:'t4');

-- the row deleted under replica role
SELECT scim.create_token(:'tenant') AS t5 \gset
SELECT status FROM pg_temp.b(:'t5');
SET session_replication_role = replica;
DELETE FROM scim.token WHERE hash = sha256(convert_to(:'t5', 'UTF8'));
RESET session_replication_role;
SELECT status FROM pg_temp.b(:'t5');

-- the table owner disables the triggers: B stops caching, and sees a revocation made meanwhile
SELECT scim.create_token(:'tenant') AS t6 \gset
SELECT status FROM pg_temp.b(:'t6');
ALTER TABLE scim.token DISABLE TRIGGER USER;
SELECT status FROM pg_temp.b(:'t6');
SELECT scim.revoke_token(:'t6');
SELECT status FROM pg_temp.b(:'t6');
-- enabled again only for the origin role: a revocation under replica role fires nothing, and B does not cache
ALTER TABLE scim.token ENABLE TRIGGER USER;
SELECT scim.create_token(:'tenant') AS t7 \gset
SELECT status FROM pg_temp.b(:'t7');
SET session_replication_role = replica;
SELECT scim.revoke_token(:'t7');
RESET session_replication_role;
SELECT status FROM pg_temp.b(:'t7');
ALTER TABLE scim.token ENABLE ALWAYS TRIGGER token_changed, ENABLE REPLICA TRIGGER token_applied;

-- tenants without memberships: B learns the tenant has none; a membership inserted under replica role shows next
SELECT * FROM pg_temp.b(:'admin');
SET session_replication_role = replica;
INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES (:'tenant', :'gid', :'uid', 'User');
RESET session_replication_role;
SELECT * FROM pg_temp.b(:'admin');
-- removed (the trigger fires), B learns again there are none; added through scim.handle() under replica role
DELETE FROM scim.group_members WHERE tenant = :'tenant';
SELECT * FROM pg_temp.b(:'admin');
SET session_replication_role = replica;
SELECT status FROM scim.handle('PATCH', '/Groups/' || :'gid', NULL, jsonb_build_object('authorization', 'Bearer ' || :'admin'),
	format('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": "%s"}]}]}', :'uid'));
RESET session_replication_role;
SELECT * FROM pg_temp.b(:'admin');
-- with the triggers disabled B does not keep what it learns: a membership made meanwhile shows
DELETE FROM scim.group_members WHERE tenant = :'tenant';
SELECT * FROM pg_temp.b(:'admin');
ALTER TABLE scim.group_members DISABLE TRIGGER USER;
SELECT * FROM pg_temp.b(:'admin');
INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES (:'tenant', :'gid', :'uid', 'User');
SELECT * FROM pg_temp.b(:'admin');
ALTER TABLE scim.group_members ENABLE ALWAYS TRIGGER members_changed, ENABLE REPLICA TRIGGER members_applied,
	ENABLE TRIGGER changes;

-- More tenants than a backend once kept (16) served in turn: each is read
-- once, then found in the backend's caches (tokens, limits, memberships), so
-- a second round reads none of scim.token, scim.tenant, scim.group_members
CREATE TEMP TABLE many AS SELECT n, scim.create_tenant('Many ' || n) AS tenant, NULL::text AS token
FROM generate_series(1, 40) n;
UPDATE many SET token = scim.create_token(tenant);
-- round(): each tenant's lookup of a two-term filter, in turn; how many answered 200
CREATE FUNCTION pg_temp.round() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM pg_temp.many m, scim.handle('GET', '/Users',
		'filter=userName%20eq%20%22nobody%22%20or%20userName%20eq%20%22none%22',
		jsonb_build_object('authorization', 'Bearer ' || m.token), NULL) h
	WHERE h.status = 200
$$;
-- reads(): reads of the cached tables in this transaction
CREATE FUNCTION pg_temp.reads() RETURNS bigint LANGUAGE sql AS $$
	SELECT sum(seq_scan + coalesce(idx_scan, 0)) FROM pg_stat_xact_user_tables
	WHERE relid IN ('scim.token'::regclass, 'scim.tenant'::regclass, 'scim.group_members'::regclass)
$$;
BEGIN;
SELECT pg_temp.round() AS answered;
SELECT pg_temp.reads() AS reads \gset
SELECT pg_temp.round() AS answered;
SELECT pg_temp.reads() - :reads AS read_again;
COMMIT;

-- B, with all 40 cached, sees a revocation, a tenant's new limit and a new membership among them
SELECT n, h.status FROM many, dblink('b', format(
	'SELECT status FROM scim.handle(''GET'', ''/Users'', %L, %L, NULL)',
	'filter=userName%20eq%20%22nobody%22%20or%20userName%20eq%20%22none%22',
	jsonb_build_object('authorization', 'Bearer ' || token))) AS h(status integer)
WHERE h.status <> 200;
SELECT scim.revoke_token(token) FROM many WHERE n = 1;
UPDATE scim.tenant SET filter_max_terms = 1 WHERE id = (SELECT tenant FROM many WHERE n = 2);
SELECT set_config('test.uid', (scim.handle('POST', '/Users', NULL, jsonb_build_object('authorization', 'Bearer ' || token),
	'{"userName": "member@many.example"}')).body->>'id', false) IS NOT NULL AS ok FROM many WHERE n = 3;
SELECT (scim.handle('POST', '/Groups', NULL, jsonb_build_object('authorization', 'Bearer ' || token),
	format('{"displayName": "Many", "members": [{"value": "%s"}]}', current_setting('test.uid')))).status FROM many WHERE n = 3;
SELECT n, h.status, h.detail FROM many, dblink('b', format(
	'SELECT status, body->>''detail'' FROM scim.handle(''GET'', ''/Users'', %L, %L, NULL)',
	'filter=userName%20eq%20%22nobody%22%20or%20userName%20eq%20%22none%22',
	jsonb_build_object('authorization', 'Bearer ' || token))) AS h(status integer, detail text)
WHERE h.status <> 200 ORDER BY n;
SELECT * FROM pg_temp.b((SELECT token FROM many WHERE n = 3));

SELECT dblink_disconnect('b');
