-- Writes of one resource (src/pg/write.c, document.c, members.c): what
-- issue 21 found wrong in them, one case per line.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Writes') AS tenant \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok', 'host', 'w.example')::text, false)
	IS NOT NULL AS ok;

-- r(method, path, body[, query]): the status, and an error's scimType and
-- detail or the resource shown (without id, meta and schemas, members in
-- the order of their display, ids masked)
CREATE FUNCTION pg_temp.r(m text, p text, b text DEFAULT NULL, q text DEFAULT NULL)
	RETURNS TABLE (status integer, error text, shown text) LANGUAGE sql AS $$
	SELECT x.status, x.body->>'scimType' || ': ' || (x.body->>'detail'),
		CASE WHEN x.status < 300 THEN regexp_replace((x.body - 'id' - 'meta' - 'schemas'
			|| CASE WHEN x.body ? 'members' THEN jsonb_build_object('members', (SELECT coalesce(jsonb_agg(e ORDER BY e->>'display', e::text), '[]')
																			   FROM jsonb_array_elements(x.body->'members') e)) ELSE '{}' END)::text,
			'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g') END
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb, b) x
$$;
SELECT set_config('test.tenant', :'tenant', false) IS NOT NULL AS ok;
-- id(name): the id of this tenant's user or group of that name
CREATE FUNCTION pg_temp.id(n text) RETURNS text LANGUAGE sql AS $$
	SELECT id::text FROM scim.users WHERE data->>'userName' = n AND tenant = current_setting('test.tenant')::uuid
	UNION ALL SELECT id::text FROM scim.groups WHERE data->>'displayName' = n AND tenant = current_setting('test.tenant')::uuid
$$;

-- ---- issue 21 bug 5: PUT and immutable attributes (RFC 7644 section 3.5.1) ----
SELECT scim.register_schema('{"id": "urn:example:writes:2.0:User", "name": "WritesUser", "description": "Badges",
	"attributes": [{"name": "badge", "type": "string", "mutability": "immutable"},
		{"name": "card", "type": "complex", "subAttributes": [{"name": "number", "type": "string", "mutability": "immutable"},
			{"name": "label", "type": "string"}]}]}');
SELECT scim.register_schema('{"id": "urn:example:writes:2.0:Group", "name": "WritesGroup", "description": "Codes",
	"attributes": [{"name": "code", "type": "string", "mutability": "immutable"}]}', 'Group');
SELECT * FROM pg_temp.r('POST', '/Users', '{"userName": "max", "urn:example:writes:2.0:User": {"badge": "B-1", "card": {"number": "C-1", "label": "x"}}}', 'attributes=urn:example:writes:2.0:User');
-- the same values (in names of any case): kept
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('max'), '{"userName": "max", "displayName": "Max", "urn:example:writes:2.0:User": {"BADGE": "B-1", "card": {"number": "C-1", "label": "y"}}}', 'attributes=displayName,urn:example:writes:2.0:User');
-- another value of an immutable attribute that has one: refused, nothing written
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('max'), '{"userName": "max", "urn:example:writes:2.0:User": {"badge": "B-2", "card": {"number": "C-1"}}}');
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('max'), '{"userName": "max", "urn:example:writes:2.0:User": {"badge": "B-1", "card": {"number": "C-2"}}}');
-- left out: a change as well, as a PATCH that removes it is
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('max'), '{"userName": "max", "urn:example:writes:2.0:User": {"card": {"number": "C-1"}}}');
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('max'), '{"userName": "max", "urn:example:writes:2.0:User": {"badge": "B-1"}}');
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('max'), '{"userName": "max"}');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('max'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "urn:example:writes:2.0:User:badge"}]}');
SELECT * FROM pg_temp.r('GET', '/Users/' || pg_temp.id('max'), NULL, 'attributes=displayName,urn:example:writes:2.0:User');
-- without a value yet, one is set
SELECT * FROM pg_temp.r('POST', '/Users', '{"userName": "nia"}', 'attributes=userName');
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('nia'), '{"userName": "nia", "urn:example:writes:2.0:User": {"badge": "B-9", "card": {"label": "z"}}}', 'attributes=urn:example:writes:2.0:User');
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('nia'), '{"userName": "nia", "urn:example:writes:2.0:User": {"badge": "B-9", "card": {"number": "C-9", "label": "z"}}}', 'attributes=urn:example:writes:2.0:User');
-- a group's: its own immutable attribute held, its members replaced whole
SELECT * FROM pg_temp.r('POST', '/Groups', '{"displayName": "crew", "urn:example:writes:2.0:Group": {"code": "K"}, "members": [{"value": "' || pg_temp.id('max') || '"}]}', 'attributes=members');
SELECT * FROM pg_temp.r('PUT', '/Groups/' || pg_temp.id('crew'), '{"displayName": "crew", "urn:example:writes:2.0:Group": {"code": "K"}, "members": [{"value": "' || pg_temp.id('nia') || '"}]}', 'attributes=members');
SELECT * FROM pg_temp.r('PUT', '/Groups/' || pg_temp.id('crew'), '{"displayName": "crew", "urn:example:writes:2.0:Group": {"code": "L"}}', 'attributes=members');
SELECT scim.unregister_schema('urn:example:writes:2.0:User');
SELECT scim.unregister_schema('urn:example:writes:2.0:Group', 'Group');

-- ---- issue 21 bug 7: a member's display is its current name (RFC 7643 section 4.2) ----
SELECT * FROM pg_temp.r('POST', '/Users', '{"userName": "dee", "displayName": "Dee Dee"}', 'attributes=userName');
SELECT * FROM pg_temp.r('POST', '/Users', '{"userName": "eve"}', 'attributes=userName');
SELECT * FROM pg_temp.r('POST', '/Groups', '{"displayName": "red"}', 'attributes=displayName');
-- the display a client sends is not kept: the user's displayName, else its userName, or the group's displayName
SELECT * FROM pg_temp.r('POST', '/Groups', '{"displayName": "team", "members": [{"value": "' || pg_temp.id('dee') || '", "display": "Sent"}, {"value": "' || pg_temp.id('eve') || '"}, {"value": "' || pg_temp.id('red') || '", "type": "Group"}]}', 'attributes=members');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('dee'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Dee Renamed"}]}', 'attributes=displayName');
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || pg_temp.id('red'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "crimson"}]}', 'attributes=displayName');
SELECT * FROM pg_temp.r('GET', '/Groups/' || pg_temp.id('team'), NULL, 'attributes=members');
SELECT * FROM pg_temp.r('GET', '/Groups/' || pg_temp.id('team'), NULL, 'attributes=members.display');
SELECT * FROM pg_temp.r('PUT', '/Groups/' || pg_temp.id('team'), '{"displayName": "team", "members": [{"value": "' || pg_temp.id('eve') || '", "display": "Sent"}]}', 'attributes=members');
-- members[display eq ...] selects by the name shown
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || pg_temp.id('team'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"value": "' || pg_temp.id('dee') || '", "display": "Sent"}]}]}', 'attributes=members');
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || pg_temp.id('team'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "members[display eq \"Sent\"]"}]}', 'attributes=members');
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || pg_temp.id('team'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "members[display eq \"Dee Renamed\"]"}]}', 'attributes=members');

-- ---- issue 21 bug 6: attributes the schema does not define ----
-- One policy for POST, PUT and PATCH: what a body sets that the schema does
-- not define is left out, the request succeeds, and its event names what
-- was left out; a sub-attribute holding one value is kept as sent (Entra's
-- roles "displayName"), one holding an object or array is not (nothing is
-- stored deeper than the schema's nesting).  A PATCH path that names no
-- attribute is 400 invalidPath, as before.
-- event(name): the last event of the user or group of that name (a change
-- row, or scim.event's when nothing changed)
CREATE FUNCTION pg_temp.event(n text) RETURNS TABLE (kind text, operation text, status integer, detail text) LANGUAGE sql AS $$
	SELECT e.kind, regexp_replace(e.operation, '[0-9a-f-]{36}', '<id>'), e.status, e.detail FROM scim.events e
	WHERE e.resource_id::text = pg_temp.id(n) ORDER BY e.at DESC LIMIT 1
$$;
SELECT * FROM pg_temp.r('POST', '/Users', '{"userName": "ole", "nickName": "O", "nosuch": 1, "name": {"givenName": "Ole", "foo": {"x": {"y": 1}}, "bar": "kept"}, "roles": [{"value": "Admin", "displayName": "Admin", "extra": [1]}], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D", "shoeSize": 44}, "urn:example:unknown:2.0:User": {"a": 1}}');
SELECT * FROM pg_temp.event('ole');
-- a misspelled attribute in a PUT is ignored (Microsoft's reference collection)
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('ole'), '{"userName": "ole", "nickname_": "Olly", "title": "T"}');
SELECT * FROM pg_temp.event('ole');
-- nothing else changed: the event still says what was left out
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('ole'), '{"userName": "ole", "title": "T", "nosuch": 2}', 'attributes=title');
SELECT * FROM pg_temp.event('ole');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('ole'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"title": "U", "nosuch": 3, "name.nosuch": 4}}]}', 'attributes=title');
SELECT * FROM pg_temp.event('ole');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('ole'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "name", "value": {"middleName": "M", "foo": {"x": 1}}}]}', 'attributes=name');
SELECT * FROM pg_temp.event('ole');
-- Entra's roles, with displayName and serialised in a string (AppRoleAssignmentsComplex)
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('ole'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"a1\",\"value\":\"Reader\",\"displayName\":\"Reader\"}"}]}]}', 'attributes=roles');
-- a path names what it changes: one the schema lacks is an error, as before
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('ole'), '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "nosuch", "value": 1}]}');
SELECT * FROM pg_temp.r('POST', '/Groups', '{"displayName": "odd", "nosuch": 1}', 'attributes=displayName');
SELECT * FROM pg_temp.event('odd');
SELECT * FROM pg_temp.r('GET', '/Users/' || pg_temp.id('ole'));

-- ---- a user's PUT is one UPDATE, its groups read from the indexes (user_patch.c, user_groups.c) ----
-- the groups a PUT shows are the ones a GET shows, in the order of their ids, displayName or null
SELECT pg_temp.r('POST', '/Users', '{"userName": "pia"}') IS NOT NULL AS ok;
SELECT pg_temp.r('POST', '/Groups', '{"displayName": "Pia 1", "members": [{"value": "' || pg_temp.id('pia') || '"}]}') IS NOT NULL AS ok;
SELECT pg_temp.r('POST', '/Groups', '{"displayName": "Pia 2", "members": [{"value": "' || pg_temp.id('pia') || '"}]}') IS NOT NULL AS ok;
UPDATE scim.groups SET data = data - 'displayName' || '{"displayName": null}' WHERE data->>'displayName' = 'Pia 2';
SELECT (SELECT x.body->'groups' FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "P"}') x)
	= (SELECT x.body->'groups' FROM scim.handle('GET', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb) x) AS same_groups,
	(SELECT jsonb_agg(g->>'display' ORDER BY g->>'display') FROM scim.handle('GET', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb) x,
		jsonb_array_elements(x.body->'groups') g) AS displays;
-- the same user id in another tenant, in a group there: never shown here, nor here's there
SELECT scim.create_tenant('Writes elsewhere') AS other \gset
INSERT INTO scim.users (tenant, id, data)
	SELECT :'other', u.id, u.data FROM scim.users u WHERE u.tenant = :'tenant' AND u.data->>'userName' = 'pia';
INSERT INTO scim.groups (tenant, id, data) VALUES (:'other', gen_random_uuid(), '{"displayName": "Elsewhere"}');
INSERT INTO scim.group_members (tenant, group_id, value, type)
	SELECT :'other', g.id, pg_temp.id('pia'), 'User' FROM scim.groups g WHERE g.tenant = :'other';
SELECT jsonb_agg(g->>'display' ORDER BY g->>'display') AS displays
	FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "Q"}') x,
		jsonb_array_elements(x.body->'groups') g;
SELECT jsonb_agg(g->>'display') AS displays
	FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL,
		jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'other')), '{"userName": "pia", "title": "Q"}') x,
		jsonb_array_elements(x.body->'groups') g;
-- the event, the version and the stored document, as a PUT wrote them before
SELECT kind, operation ~ '^PUT /Users/' AS op, status FROM scim.events WHERE resource_id = pg_temp.id('pia')::uuid ORDER BY at DESC LIMIT 1;
SELECT version, data->>'title' AS title, data->'meta'->>'version' AS etag FROM scim.users WHERE tenant = :'tenant' AND data->>'userName' = 'pia';
-- nothing changed: no write, no event, the version stays
SELECT status FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "Q"}');
SELECT version, (SELECT count(*) FROM scim.events WHERE resource_id = pg_temp.id('pia')::uuid AND kind = 'updated') AS updates
	FROM scim.users WHERE tenant = :'tenant' AND data->>'userName' = 'pia';
-- a body the schema refuses, for a user that exists and one that does not: 400, 404 (the user first)
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('pia'), '{"userName": "pia", "active": "maybe"}');
SELECT * FROM pg_temp.r('PUT', '/Users/00000000-0000-4000-8000-000000000000', '{"userName": "pia", "active": "maybe"}');
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('pia'), '[1]');
-- a password sent is stored as its secret, one not sent is kept
SELECT status FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "password": "s3cret!"}');
SELECT status FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "R"}');
SELECT data->>'password' LIKE 'SCRAM-SHA-256$%' AS secret, data->>'title' AS title
	FROM scim.users WHERE tenant = :'tenant' AND data->>'userName' = 'pia';
-- suspension by PUT is the event's kind
SELECT status FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "active": false}');
SELECT kind FROM scim.events WHERE resource_id = pg_temp.id('pia')::uuid ORDER BY at DESC LIMIT 1;
-- indexes the direct read cannot use (partial, missing, or not yet built by CREATE INDEX
-- CONCURRENTLY): the statement reads the groups, as a GET's join does
BEGIN;
DROP INDEX scim.group_members_value_idx;
CREATE INDEX group_members_value_idx ON scim.group_members (tenant, value) WHERE type = 'Group';
SELECT (SELECT x.body->'groups' FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "S"}') x)
	= (SELECT x.body->'groups' FROM scim.handle('GET', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb) x) AS same_groups,
	(SELECT jsonb_array_length(x.body->'groups') FROM scim.handle('GET', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb) x) AS groups;
DROP INDEX scim.group_members_value_idx;
SELECT (SELECT x.body->'groups' FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "T"}') x)
	= (SELECT x.body->'groups' FROM scim.handle('GET', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb) x) AS same_groups;
ROLLBACK;
SELECT jsonb_array_length(x.body->'groups') AS groups
	FROM scim.handle('PUT', '/Users/' || pg_temp.id('pia'), NULL, current_setting('test.h')::jsonb, '{"userName": "pia", "title": "U"}') x;
-- a password of more than 1,024 bytes is refused by POST, PUT and PATCH alike (its hash costs the backend)
SELECT * FROM pg_temp.r('POST', '/Users', jsonb_build_object('userName', 'pwl', 'password', repeat('x', 1025))::text);
SELECT * FROM pg_temp.r('PUT', '/Users/' || pg_temp.id('pia'), jsonb_build_object('userName', 'pia', 'password', repeat('x', 1025))::text);
SELECT * FROM pg_temp.r('PATCH', '/Users/' || pg_temp.id('pia'), jsonb_build_object('schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb,
	'Operations', jsonb_build_array(jsonb_build_object('op', 'replace', 'path', 'password', 'value', repeat('x', 1025))))::text);
SELECT * FROM pg_temp.r('POST', '/Users', jsonb_build_object('userName', 'pwl', 'password', repeat('x', 1024))::text, 'attributes=userName');
