-- scim.handle_text() is scim.handle() with headers and body as JSON text:
-- its C path writes the text itself rather than building jsonb, and must
-- write exactly what scim.handle()'s ::text casts give, byte for byte,
-- whichever path answers.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Text') AS tenant \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok', 'host', 'scim.example.com')::text, false)
	IS NOT NULL AS ok;

-- users whose strings need escaping (quotes, backslashes, control
-- characters, non-ASCII), numbers and nested values; one in groups
CREATE TEMP TABLE ids (name text PRIMARY KEY, id text);
INSERT INTO ids
SELECT n, (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb, jsonb_build_object(
	'schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User',
								 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'),
	'userName', n || '@text.example', 'externalId', 'ext-' || n, 'active', true,
	'displayName', d,
	'name', jsonb_build_object('givenName', 'G' || n, 'familyName', 'F ' || d),
	'emails', jsonb_build_array(jsonb_build_object('type', 'work', 'value', n || '@text.example', 'primary', true),
								jsonb_build_object('type', 'home', 'value', 'h' || n || '@text.example')),
	'phoneNumbers', '[]'::jsonb,
	'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
		jsonb_build_object('department', d, 'costCenter', '42', 'manager', jsonb_build_object('value', 'boss')))::text)).body->>'id'
FROM (VALUES ('plain', 'Plain Name'),
			 ('quote', 'say "hi" \ there / now'),
			 ('ctl', E'tab\there\nnew line\rcr\bbs\ffeed\x01\x1f end'),
			 ('utf', 'Zoë Ünïcödé 日本 𝄞 €'),
			 ('mix', E'abcdefg"hijklmno\\pqrstuvwxyzABCDE\x1fFGHIJKLMNOPQRSTUVWXYZ0123456789éééééééé\t"'),
			 ('empty', '')) v(n, d);
INSERT INTO ids
SELECT 'g-' || n, (scim.handle('POST', '/Groups', NULL, current_setting('test.h')::jsonb, format(
	'{"displayName": "Team %s", "externalId": "gx-%s", "members": [{"value": "%s"}]}', n, n,
	(SELECT id FROM ids WHERE name = 'quote')))).body->>'id'
FROM unnest(ARRAY['a "b"', 'c\\d']) n;
-- a stored number, and a user with two more, straight into the store
UPDATE scim.users SET data = data || '{"x-score": 12.50, "x-big": -1e+30, "x-list": [1, 2.0, null, true, false, {}, [], ""]}'
WHERE tenant = :'tenant' AND data->>'userName' = 'plain@text.example';

-- same(method, path, query, body, extra headers): one request through
-- both, as it comes and down the general path (If-None-Match, on a GET;
-- extra's own wins); the text must be scim.handle()'s ::text, byte for byte
CREATE FUNCTION pg_temp.same(m text, p text, q text, b text DEFAULT NULL, extra jsonb DEFAULT '{}')
	RETURNS TABLE (status integer, text_equal boolean) LANGUAGE sql AS $$
	SELECT t.status, (t.status, t.headers, t.body) IS NOT DISTINCT FROM (j.status, j.headers::text, j.body::text)
		AND (gt.status, gt.headers, gt.body) IS NOT DISTINCT FROM (gj.status, gj.headers::text, gj.body::text)
	FROM scim.handle_text(m, p, q, current_setting('test.h')::jsonb || extra, b) t,
		 scim.handle(m, p, q, current_setting('test.h')::jsonb || extra, b) j,
		 scim.handle_text(m, p, q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}' || extra, b) gt,
		 scim.handle(m, p, q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}' || extra, b) gj
$$;
CREATE FUNCTION pg_temp.id(n text) RETURNS text LANGUAGE sql AS $$ SELECT id FROM ids WHERE name = n $$;

-- what the fast path answers: lookups, reads by id, projections
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22plain@text.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22quote@text.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ctl@text.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22utf@text.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22empty@text.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22mix@text.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22nobody%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-quote%22&attributes=emails.value,groups');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-ctl%22&excludedAttributes=name,emails');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22plain@text.example%22&attributes=x-list');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22plain@text.example%22&count=0');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22plain@text.example%22&startIndex=2');
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('quote'), NULL);
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('utf'), 'attributes=displayName,meta.location');
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('plain'), NULL, NULL, '{"x-scim-base-url": "https://a.example/\"q\"/"}');
SELECT * FROM pg_temp.same('GET', '/Groups', 'filter=displayName+eq+%22Team+a+%5C%22b%5C%22%22&excludedAttributes=members');
SELECT * FROM pg_temp.same('GET', '/Groups/' || pg_temp.id('g-c\\d'), 'excludedAttributes=members');
-- what only the general path answers: other requests, errors, no body at all
SELECT * FROM pg_temp.same('GET', '/Groups/' || pg_temp.id('g-c\\d'), NULL);
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=displayName+co+%22%5C%5C%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22x%22', NULL, '{"authorization": "Bearer wrong"}');
SELECT * FROM pg_temp.same('GET', '/Nothing', NULL);
SELECT * FROM pg_temp.same('GET', '/ServiceProviderConfig', NULL);
SELECT * FROM pg_temp.same('GET', '/Schemas', NULL);
SELECT * FROM pg_temp.same('GET', '/ResourceTypes', NULL);
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('plain'), NULL, NULL, '{"if-none-match": "W/\"1\""}');
SELECT * FROM pg_temp.same('POST', '/Users/.search', NULL, '{"filter": "userName sw \"q\"", "count": 5}');

-- a stored document that is not an object (written by hand, not through
-- SCIM) is left to the general path, whatever it makes of it
UPDATE scim.users SET data = '["not", "an", "object"]' WHERE tenant = :'tenant' AND id = pg_temp.id('utf')::uuid;
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('utf'), NULL);
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=id+eq+%22' || pg_temp.id('utf') || '%22');
UPDATE scim.users SET data = '"scalar"' WHERE tenant = :'tenant' AND id = pg_temp.id('utf')::uuid;
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('utf'), NULL);

-- the writes: a PATCH answered as text, then read back through scim.handle()
-- (a read shows the same version and lastModified the PATCH answered with)
CREATE FUNCTION pg_temp.patched(p text, b text) RETURNS TABLE (status integer, text_equal boolean) LANGUAGE plpgsql AS $$
DECLARE
	t scim.response_text;
	j scim.response;
BEGIN
	t := scim.handle_text('PATCH', p, NULL, current_setting('test.h')::jsonb, b);
	j := scim.handle('GET', p, NULL, current_setting('test.h')::jsonb, NULL);
	status := t.status;
	text_equal := (t.headers, t.body) IS NOT DISTINCT FROM (j.headers::text, j.body::text);
	RETURN NEXT;
END;
$$;
SELECT * FROM pg_temp.patched('/Users/' || pg_temp.id('ctl'), $${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "Replace", "path": "displayName", "value": "new \"name\"\n"},
	{"op": "Replace", "path": "active", "value": "False"},
	{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ctl2@text.example"}]}$$);
-- a PATCH that changes nothing is answered as a read
SELECT * FROM pg_temp.patched('/Users/' || pg_temp.id('ctl'), $${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "Replace", "path": "active", "value": false}]}$$);
-- the error of one that fails
SELECT status, body::jsonb->>'scimType' AS scim_type
FROM scim.handle_text('PATCH', '/Users/' || pg_temp.id('ctl'), NULL, current_setting('test.h')::jsonb,
					  '{"Operations": [{"op": "remove", "path": "nosuch"}]}');
-- a DELETE answers 204 with no body
SELECT status, body IS NULL AS no_body, headers::jsonb - 'x-scim-tenant' AS headers
FROM scim.handle_text('DELETE', '/Users/' || pg_temp.id('empty'), NULL, current_setting('test.h')::jsonb, NULL);

-- 300 GETs drawn at random, as in handle_fast: every one alike
SELECT setseed(0.23);
SELECT count(*) AS requests,
	   count(*) FILTER (WHERE NOT s.text_equal) AS disagreements,
	   array_agg(DISTINCT s.status) AS statuses
FROM (SELECT (ARRAY['/Users', '/Groups', '/Users/' || pg_temp.id('quote'), '/Users/' || pg_temp.id('utf'),
					'/Groups/' || pg_temp.id('g-a "b"'), '/Users/nope'])[1 + floor(random() * 6)::int] AS path,
			 (ARRAY['filter=userName+eq+%22quote@text.example%22', 'filter=userName+eq+%22UTF@text.example%22',
					'filter=externalId+eq+%22ext-plain%22', 'filter=displayName+eq+%22Team+c%5C%5Cd%22',
					'filter=userName+sw+%22p%22', ''])[1 + floor(random() * 6)::int]
			 || (ARRAY['', '&count=1', '&startIndex=2', '&count=0'])[1 + floor(random() * 4)::int]
			 || (ARRAY['', '', '&attributes=userName,name.familyName', '&excludedAttributes=emails,groups',
					   '&attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
					   '&excludedAttributes=members', '&attributes=x-score'])[1 + floor(random() * 7)::int] AS query
	  FROM generate_series(1, 300)) d,
	 LATERAL pg_temp.same('GET', d.path, d.query) s;
