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
