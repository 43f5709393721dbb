-- secrets: a password is stored only as a SCRAM-SHA-256 secret, whatever
-- write path sets it; it is never returned, filtered or sorted on, and no
-- table of the store or line of the event log holds it in clear
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_token(scim.create_tenant('Secrets')) AS tok \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || :'tok') AS auth \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || :'tok', 'if-match', '*') AS auth_if \gset
CREATE TEMP TABLE clear (path text, pw text);

-- p(path, password, method, body): one write that sets a password, remembered
CREATE FUNCTION pg_temp.p(path text, pw text, m text, b text, h jsonb DEFAULT current_setting('test.auth')::jsonb)
	RETURNS integer LANGUAGE sql AS $$
	INSERT INTO pg_temp.clear VALUES (path, pw);
	SELECT status FROM scim.handle(m, '/Users' || coalesce('/' || current_setting('test.uid', true), ''), NULL, h, b)
$$;
SELECT set_config('test.auth', :'auth', false) IS NOT NULL AS ok;
SELECT body->>'id' AS uid FROM scim.handle('POST', '/Users', NULL, :'auth',
	'{"userName": "pat@secrets.example", "password": "Clear-Post-1"}') \gset
INSERT INTO clear VALUES ('POST', 'Clear-Post-1');
SELECT set_config('test.uid', :'uid', false) IS NOT NULL AS ok;

SELECT pg_temp.p('PUT', 'Clear-Put-2', 'PUT', '{"userName": "pat@secrets.example", "password": "Clear-Put-2"}');
SELECT pg_temp.p('PATCH path', 'Clear-Path-3', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "password", "value": "Clear-Path-3"}]}');
SELECT pg_temp.p('PATCH add', 'Clear-Add-4', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "password", "value": "Clear-Add-4"}]}');
SELECT pg_temp.p('PATCH no path', 'Clear-NoPath-5', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"password": "Clear-NoPath-5"}}]}');
SELECT pg_temp.p('PATCH no path, Entra casing', 'Clear-Entra-6', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "value": {"Password": "Clear-Entra-6"}}]}');
SELECT pg_temp.p('PATCH URN path', 'Clear-Urn-7', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "Clear-Urn-7"}]}');
SELECT pg_temp.p('PATCH with another change', 'Clear-Both-8', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "title", "value": "Boss"}, {"op": "replace", "path": "password", "value": "Clear-Both-8"}]}');
SELECT pg_temp.p('PATCH, PL/pgSQL path', 'Clear-If-9', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "password", "value": "Clear-If-9"}]}', :'auth_if');
SELECT pg_temp.p('Okta password sync', 'Clear-Okta-10', 'PATCH', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"password": "Clear-Okta-10", "active": true}}]}');

-- a password that is not a string is refused on every path, and nothing is written
SELECT status, body->>'detail' AS detail FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "pat2@secrets.example", "password": {"x": "Clear-Obj-11"}}');
SELECT status, body->>'detail' AS detail FROM scim.handle('PUT', '/Users/' || :'uid', NULL, :'auth', '{"userName": "pat@secrets.example", "password": ["Clear-Arr-12"]}');
SELECT status, body->>'detail' AS detail FROM scim.handle('PATCH', '/Users/' || :'uid', NULL, :'auth', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "password", "value": 13131313}]}');
INSERT INTO clear VALUES ('POST, an object', 'Clear-Obj-11'), ('PUT, an array', 'Clear-Arr-12'), ('PATCH, a number', '13131313');
-- a PUT with a null password keeps the one stored
SELECT data->'password' AS before FROM scim.users WHERE id = :'uid' \gset
SELECT status FROM scim.handle('PUT', '/Users/' || :'uid', NULL, :'auth', '{"userName": "pat@secrets.example", "title": "Boss", "password": null}');
SELECT data->'password' = :'before'::jsonb AS kept FROM scim.users WHERE id = :'uid';

-- what is stored: a SCRAM secret, never the clear value, in any table or event
SELECT data->>'password' ~ '^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' AS scram_secret,
	   data->>'title' AS title
FROM scim.users WHERE id = :'uid';
SELECT c.path,
	   (SELECT count(*) FROM scim.users u WHERE strpos(u::text, c.pw) > 0) AS users,
	   (SELECT count(*) FROM scim.groups g WHERE strpos(g::text, c.pw) > 0) AS groups,
	   (SELECT count(*) FROM scim.group_members m WHERE strpos(m::text, c.pw) > 0) AS members,
	   (SELECT count(*) FROM scim.events e WHERE strpos(e::text, c.pw) > 0) AS events,
	   (SELECT count(*) FROM scim.tenant t WHERE strpos(t::text, c.pw) > 0) AS tenants,
	   (SELECT count(*) FROM scim.token t WHERE strpos(t::text, c.pw) > 0) AS tokens
FROM clear c ORDER BY c.path;
-- each write made a new secret (a new salt, so a new secret even for the same password)
SELECT count(*) AS events, count(*) FILTER (WHERE kind = 'updated') AS updated FROM scim.events
WHERE resource_id = :'uid';

-- never returned, never filtered or sorted on
SELECT status, body ? 'password' AS shown FROM scim.handle('GET', '/Users/' || :'uid', NULL, :'auth', NULL);
SELECT status, body ? 'password' AS shown FROM scim.handle('GET', '/Users/' || :'uid', 'attributes=password', :'auth', NULL);
SELECT status, body->'Resources'->0 ? 'password' AS shown FROM scim.handle('GET', '/Users', 'filter=userName eq "pat@secrets.example"', :'auth', NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('GET', '/Users', 'filter=password eq "Clear-Okta-10"', :'auth', NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('GET', '/Users', 'filter=password pr', :'auth', NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('GET', '/Users', 'sortBy=password', :'auth', NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('POST', '/Users/.search', NULL, :'auth', '{"filter": "password sw \"Clear\""}');
SELECT status, body->'changePassword' AS change_password FROM scim.handle('GET', '/ServiceProviderConfig', NULL, :'auth', NULL);
