-- scim.handle()'s C path reads the users of a tenant that has no group
-- memberships without joining scim.group_members and scim.groups, and
-- keeps which tenants have none for the backend's life.  Any change to
-- scim.group_members makes every backend forget.  Here the answers must
-- stay the general path's (which always joins) through memberships made
-- and removed, in the same transaction and in the middle of a PATCH's own
-- statement.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Solo') AS tenant \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok', 'host', 'scim.example.com')::text, false)
	IS NOT NULL AS ok;
SELECT (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
	'{"userName": "sol@solo.example", "externalId": "ext-sol", "active": true}')).body->>'id' AS sol \gset
SELECT (scim.handle('POST', '/Groups', NULL, current_setting('test.h')::jsonb,
	'{"displayName": "Crew"}')).body->>'id' AS crew \gset

-- same(method, path, query, body): do the fast and the general path answer alike?
-- and the groups shown (a user is in one at most here)
CREATE FUNCTION pg_temp.same(m text, p text, q text, b text DEFAULT NULL)
	RETURNS TABLE (status integer, fast_equal boolean, groups text[]) LANGUAGE sql AS $$
	SELECT f.status, (f.status, f.headers, f.body) IS NOT DISTINCT FROM (s.status, s.headers, s.body),
		ARRAY(SELECT g->>'display' FROM jsonb_array_elements(coalesce(f.body->'groups',
			f.body->'Resources'->0->'groups', '[]')) g)
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb, b) f,
		 scim.handle(m, p, q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}', b) s
$$;
-- scans of scim.group_members' indexes so far in this transaction
CREATE FUNCTION pg_temp.member_scans() RETURNS bigint LANGUAGE sql AS $$
	SELECT sum(pg_stat_get_xact_numscans(indexrelid)) FROM pg_index
	WHERE indrelid = 'scim.group_members'::regclass
$$;
-- lookups(): the scans one lookup by userName, one by externalId and one
-- by id make, after a first lookup has let the backend learn the tenant
CREATE FUNCTION pg_temp.lookups() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	before bigint;
BEGIN
	PERFORM scim.handle('GET', '/Users', 'filter=userName+eq+%22sol@solo.example%22', current_setting('test.h')::jsonb, NULL);
	before := pg_temp.member_scans();
	PERFORM scim.handle('GET', '/Users', 'filter=userName+eq+%22sol@solo.example%22', current_setting('test.h')::jsonb, NULL);
	PERFORM scim.handle('GET', '/Users', 'filter=externalId+eq+%22ext-sol%22', current_setting('test.h')::jsonb, NULL);
	PERFORM scim.handle('GET', '/Users/' || current_setting('test.sol'), NULL, current_setting('test.h')::jsonb, NULL);
	RETURN pg_temp.member_scans() - before;
END;
$$;
SELECT set_config('test.sol', :'sol', false) IS NOT NULL AS ok;

-- no memberships: the answers agree, and the lookups do not touch scim.group_members
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22sol@solo.example%22');
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);
SELECT pg_temp.lookups() AS member_scans;

-- a membership through a group PATCH: the next lookups show it, through the join
SELECT status FROM scim.handle('PATCH', '/Groups/' || :'crew', NULL, current_setting('test.h')::jsonb,
	format('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": "%s"}]}]}', :'sol'));
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22sol@solo.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-sol%22');
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);
SELECT pg_temp.lookups() AS member_scans;

-- removed and made again within one transaction: each lookup sees the statement before it
BEGIN;
DELETE FROM scim.group_members WHERE tenant = :'tenant';
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);
INSERT INTO scim.group_members (tenant, group_id, value) VALUES (:'tenant', :'crew', :'sol');
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);
DELETE FROM scim.group_members WHERE tenant = :'tenant';
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);
COMMIT;
SELECT pg_temp.lookups() AS member_scans;

-- a membership made while a PATCH's statement runs (here by a trigger on
-- the user's row): the PATCH read the row without its groups, and reads it
-- again to answer with them
CREATE FUNCTION pg_temp.join_crew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO scim.group_members (tenant, group_id, value)
	VALUES (NEW.tenant, current_setting('test.crew')::uuid, NEW.id::text) ON CONFLICT DO NOTHING;
	RETURN NEW;
END;
$$;
SELECT set_config('test.crew', :'crew', false) IS NOT NULL AS ok;
CREATE FUNCTION pg_temp.patch_sol()
	RETURNS TABLE (status integer, groups text[], display_name text) LANGUAGE plpgsql AS $$
DECLARE
	f scim.response;
BEGIN
	f := scim.handle('PATCH', '/Users/' || current_setting('test.sol'), NULL, current_setting('test.h')::jsonb,
		'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Sol"}]}');
	status := f.status;
	groups := ARRAY(SELECT g->>'display' FROM jsonb_array_elements(f.body->'groups') g);
	display_name := f.body->>'displayName';
	RETURN NEXT;
END;
$$;
CREATE TRIGGER join_crew AFTER UPDATE ON scim.users FOR EACH ROW EXECUTE FUNCTION pg_temp.join_crew();
SELECT * FROM pg_temp.patch_sol();
DROP TRIGGER join_crew ON scim.users;
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);

-- an install whose scim.group_members lacks the trigger (made by an older
-- script) would never tell of a change: its users are always joined
DELETE FROM scim.group_members WHERE tenant = :'tenant';
DROP TRIGGER members_changed ON scim.group_members;
SELECT pg_temp.lookups() AS member_scans;
SELECT * FROM pg_temp.same('GET', '/Users/' || :'sol', NULL);
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.group_members
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
-- enabled for the origin role alone, as CREATE TRIGGER makes it, a change
-- under session_replication_role = replica would go untold: still joined
SELECT pg_temp.lookups() AS member_scans;
ALTER TABLE scim.group_members ENABLE ALWAYS TRIGGER members_changed;
SELECT pg_temp.lookups() AS member_scans;
