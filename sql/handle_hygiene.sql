-- Data hygiene in the store behind scim.handle(): member ids in one form
-- whatever form a client sends them in, memberships that go with their
-- user or group, paging numbers at and past the integer range, cursors a
-- client can neither edit nor make up.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Hygiene') AS tenant \gset
SELECT scim.create_tenant('Other') AS other \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT scim.create_token(:'other') AS tok2 \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok')::text, false) IS NOT NULL AS ok;

-- masked(t): t with ids as <id>
CREATE FUNCTION pg_temp.masked(t text) RETURNS text LANGUAGE sql AS $$
	SELECT regexp_replace(t, '[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}', '<id>', 'g')
$$;
-- r(method, path, query, body[, headers]): the status and, for an error, its scimType and detail
CREATE FUNCTION pg_temp.r(m text, p text, q text DEFAULT NULL, b text DEFAULT NULL, h jsonb DEFAULT current_setting('test.h')::jsonb)
	RETURNS TABLE (status integer, error text) LANGUAGE sql AS $$
	SELECT x.status, pg_temp.masked(x.body->>'scimType' || ': ' || (x.body->>'detail'))
	FROM scim.handle(m, p, q, h, b) x
$$;

-- users and groups, named
CREATE TEMP TABLE ids (name text PRIMARY KEY, id text);
INSERT INTO ids
SELECT n, (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
					   format('{"userName": "%s", "externalId": "ext-all"}', n))).body->>'id'
FROM unnest(ARRAY['ann', 'bob', 'cy', 'dee', 'eve']) n;
INSERT INTO ids
SELECT n, (scim.handle('POST', '/Groups', NULL, current_setting('test.h')::jsonb,
					   format('{"displayName": "%s"}', n))).body->>'id'
FROM unnest(ARRAY['g1', 'g2', 'g3', 'g4']) n;
CREATE FUNCTION pg_temp.id(n text) RETURNS text LANGUAGE sql AS $$ SELECT id FROM ids WHERE name = n $$;
CREATE FUNCTION pg_temp.up(n text) RETURNS text LANGUAGE sql AS $$ SELECT upper(id) FROM ids WHERE name = n $$;

-- stored(group id): its members as scim.group_members holds them, by name,
-- "(not canonical)" after a value not in uuid_out()'s form
CREATE FUNCTION pg_temp.stored(gid text) RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(coalesce(i.name, '?') || CASE WHEN m.value::text = i.id THEN '' ELSE ' (not canonical)' END,
							   ',' ORDER BY i.name), '-')
	FROM scim.group_members m LEFT JOIN ids i ON lower(m.value) = i.id
	WHERE m.group_id = gid::uuid
$$;
-- write(method, path, body[, group]): a request, then what the group's members are stored as
CREATE FUNCTION pg_temp.write(m text, p text, b text, gid text DEFAULT NULL)
	RETURNS TABLE (status integer, error text, stored text) LANGUAGE plpgsql AS $$
DECLARE
	res scim.response;
BEGIN
	res := scim.handle(m, p, NULL, current_setting('test.h')::jsonb, b);
	status := res.status;
	error := pg_temp.masked(res.body->>'scimType' || ': ' || (res.body->>'detail'));
	stored := pg_temp.stored(coalesce(gid, res.body->>'id'));
	RETURN NEXT;
END $$;
-- reset(group, names): the group's members set directly, in canonical form
CREATE FUNCTION pg_temp.reset(gid text, names text[]) RETURNS text LANGUAGE sql AS $$
	DELETE FROM scim.group_members WHERE group_id = gid::uuid;
	INSERT INTO scim.group_members (tenant, group_id, value, type)
	SELECT g.tenant, g.id, i.id, CASE WHEN i.name LIKE 'g%' THEN 'Group' ELSE 'User' END
	FROM scim.groups g, ids i WHERE g.id = gid::uuid AND i.name = ANY (names);
	SELECT pg_temp.stored(gid)
$$;
CREATE FUNCTION pg_temp.patch(ops text) RETURNS text LANGUAGE sql AS $$
	SELECT '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ' || ops || '}'
$$;

-- member ids in upper case (and the other forms uuid_in() reads) are stored
-- as uuid_out() writes them, on every write path
SELECT * FROM pg_temp.write('POST', '/Groups', format('{"displayName": "post-upper", "members": [{"value": "%s"}, {"value": "%s"}]}', pg_temp.up('ann'), pg_temp.up('g4')));
SELECT * FROM pg_temp.write('POST', '/Groups', format('{"displayName": "post-braces", "members": [{"value": "{%s}"}]}', replace(pg_temp.up('bob'), '-', '')));
SELECT * FROM pg_temp.write('POST', '/Groups', format('{"displayName": "post-twice", "members": [{"value": "%s"}, {"value": "%s"}]}', pg_temp.up('cy'), pg_temp.id('cy')));
SELECT * FROM pg_temp.write('PUT', '/Groups/' || pg_temp.id('g1'), format('{"displayName": "g1", "members": [{"value": "%s"}, {"value": "%s"}]}', pg_temp.up('ann'), pg_temp.up('bob')), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "add", "path": "members", "value": [{"value": "%s"}]}]', pg_temp.up('cy'))), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "Add", "path": "members", "value": [{"value": "%s"}]}]', pg_temp.id('cy'))), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "replace", "path": "members", "value": [{"value": "%s"}]}]', pg_temp.up('dee'))), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "replace", "value": {"members": [{"value": "%s"}]}}]', pg_temp.up('ann'))), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "add", "value": {"members": [{"value": "%s"}]}}]', pg_temp.up('bob'))), pg_temp.id('g1'));
-- removals name the member in any case: from canonical rows
SELECT pg_temp.reset(pg_temp.id('g1'), ARRAY['ann', 'bob', 'cy']);
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "Remove", "path": "members", "value": [{"value": "%s"}]}]', pg_temp.up('ann'))), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "remove", "path": "members[value eq \"%s\"]"}]', pg_temp.up('bob'))), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "remove", "path": "members[value eq \"{%s}\"]"}]', pg_temp.up('cy'))), pg_temp.id('g1'));
-- a member value that is no UUID is an error, even to remove
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch('[{"op": "remove", "path": "members", "value": [{"value": "not-a-uuid"}]}]'), pg_temp.id('g1'));
SELECT * FROM pg_temp.write('PATCH', '/Groups/' || pg_temp.id('g1'), pg_temp.patch(format('[{"op": "remove", "path": "members", "value": [{"value": "%s "}]}]', pg_temp.id('ann'))), pg_temp.id('g1'));
-- nor can anything but a canonical id be stored, whatever writes the row
INSERT INTO scim.group_members (tenant, group_id, value, type) VALUES (:'tenant', pg_temp.id('g1')::uuid, pg_temp.up('ann'), 'User');

-- memberships are found whatever case the client names the member in
SELECT pg_temp.reset(pg_temp.id('g2'), ARRAY['dee']);
SELECT status, (SELECT string_agg(x->>'display', ',') FROM jsonb_array_elements(body->'groups') x) AS groups FROM scim.handle('GET', '/Users/' || pg_temp.id('ann'), NULL, current_setting('test.h')::jsonb, NULL);
SELECT status, body->'totalResults' AS total, (SELECT string_agg(x->>'displayName', ',' ORDER BY x->>'displayName') FROM jsonb_array_elements(body->'Resources') x) AS groups FROM scim.handle('GET', '/Groups', 'filter=members.value eq "' || pg_temp.up('dee') || '"', current_setting('test.h')::jsonb, NULL);
SELECT status, body->'totalResults' AS total, (SELECT string_agg(x->>'displayName', ',' ORDER BY x->>'displayName') FROM jsonb_array_elements(body->'Resources') x) AS groups FROM scim.handle('GET', '/Groups', 'filter=MEMBERS[Value EQ "' || pg_temp.up('ann') || '"]&excludedAttributes=members', current_setting('test.h')::jsonb, NULL);
SELECT status, body->'totalResults' AS total, (SELECT string_agg(x->>'displayName', ',' ORDER BY x->>'displayName') FROM jsonb_array_elements(body->'Resources') x) AS groups FROM scim.handle('GET', '/Groups', 'filter=displayName sw "post" and members.value eq "' || pg_temp.up('ann') || '"', current_setting('test.h')::jsonb, NULL);
SELECT status, body->'totalResults' AS total, (SELECT string_agg(x->>'displayName', ',' ORDER BY x->>'displayName') FROM jsonb_array_elements(body->'Resources') x) AS groups FROM scim.handle('GET', '/Groups', 'filter=members[type eq "Group" and value eq "' || pg_temp.up('g4') || '"]', current_setting('test.h')::jsonb, NULL);
SELECT status, body->'totalResults' AS total, (SELECT string_agg(x->>'displayName', ',' ORDER BY x->>'displayName') FROM jsonb_array_elements(body->'Resources') x) AS groups FROM scim.handle('POST', '/.search', NULL, current_setting('test.h')::jsonb, format('{"filter": "members.value eq \"%s\""}', pg_temp.up('ann')));
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Groups', 'filter=members.value eq "not-a-uuid"', current_setting('test.h')::jsonb, NULL);
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Groups', 'filter=members.value eq "' || pg_temp.up('ann') || '"', jsonb_build_object('authorization', 'Bearer ' || :'tok2'), NULL);

-- a deleted user or group is a member nowhere (its memberships as sent in upper case)
CREATE FUNCTION pg_temp.delete(p text, id text) RETURNS TABLE (status integer, memberships_left bigint) LANGUAGE plpgsql AS $$
BEGIN
	status := (scim.handle('DELETE', p, NULL, current_setting('test.h')::jsonb, NULL)).status;
	memberships_left := (SELECT count(*) FROM scim.group_members m WHERE lower(m.value) = id OR m.group_id = id::uuid);
	RETURN NEXT;
END $$;
SELECT * FROM pg_temp.write('POST', '/Groups', format('{"displayName": "for-eve", "members": [{"value": "%s"}, {"value": "%s"}]}', pg_temp.up('eve'), pg_temp.up('g3')));
SELECT * FROM pg_temp.delete('/Users/' || pg_temp.id('eve'), pg_temp.id('eve'));
SELECT * FROM pg_temp.delete('/Groups/' || pg_temp.id('g3'), pg_temp.id('g3'));
SELECT * FROM pg_temp.delete('/Groups/' || pg_temp.id('g4'), pg_temp.id('g4'));

-- paging numbers at and past the integer range: clamped, never a 500 or a
-- WARNING (any would show here).  page(): status and startIndex/itemsPerPage/totalResults,
-- or the error
CREATE FUNCTION pg_temp.page(m text, p text, q text, b text DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
	SELECT x.status || coalesce(' ' || coalesce(x.body->>'scimType', (x.body->>'startIndex') || '/' || (x.body->>'itemsPerPage') || '/' || (x.body->>'totalResults')), '')
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb, b) x
$$;
-- the same as a lookup, which the fast path answers: its answer, and whether the general path gives the same
CREATE FUNCTION pg_temp.fast(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	f scim.response := scim.handle('GET', '/Users', q, current_setting('test.h')::jsonb, NULL);
	s scim.response := scim.handle('GET', '/Users', q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}', NULL);
BEGIN
	RETURN f.status || coalesce(' ' || coalesce(f.body->>'scimType', (f.body->>'startIndex') || '/' || (f.body->>'itemsPerPage') || '/' || (f.body->>'totalResults')), '')
		|| CASE WHEN f IS NOT DISTINCT FROM s THEN ' same' ELSE ' DIFFERENT' END;
END $$;
BEGIN;
SELECT v AS "startIndex",
	   pg_temp.page('GET', '/Users', 'startIndex=' || v) AS get,
	   pg_temp.fast('filter=externalId+eq+%22ext-all%22&startIndex=' || v) AS lookup,
	   pg_temp.page('POST', '/Users/.search', NULL, format('{"startIndex": "%s"}', v)) AS search_string,
	   CASE WHEN v ~ '^-?(0|[1-9][0-9]*)(\.[0-9]+)?(e[0-9]+)?$' THEN pg_temp.page('POST', '/.search', NULL, format('{"startIndex": %s}', v)) END AS search_number
FROM unnest(ARRAY['0', '-1', '3', '2147483647', '2147483648', '3000000000', '99999999999999999999',
				  '99999999999999999999999', '-99999999999999999999', '0000000000000000000002', '+2', ' 2 ',
				  'abc', '1.5', '', '1e3', '2 2']) WITH ORDINALITY AS u(v, n) ORDER BY n;
SELECT v AS count,
	   pg_temp.page('GET', '/Users', 'count=' || v) AS get,
	   pg_temp.fast('filter=externalId+eq+%22ext-all%22&count=' || v) AS lookup,
	   pg_temp.page('POST', '/Users/.search', NULL, format('{"count": "%s"}', v)) AS search_string,
	   CASE WHEN v ~ '^-?(0|[1-9][0-9]*)(\.[0-9]+)?(e[0-9]+)?$' THEN pg_temp.page('POST', '/.search', NULL, format('{"count": %s}', v)) END AS search_number
FROM unnest(ARRAY['0', '-1', '2', '2147483647', '2147483648', '99999999999999999999', '-99999999999999999999',
				  'abc', '1.5', '', '1e3']) WITH ORDINALITY AS u(v, n) ORDER BY n;
COMMIT;
-- with a cursor a count out of range is invalidCount, however far out
SELECT * FROM pg_temp.r('GET', '/Users', 'cursor=&count=99999999999999999999');

-- cursors (RFC 9865) are signed: HMAC-SHA-256 itself (RFC 4231 test cases 1, 2 and 6)
SELECT encode(scim._hmac(decode(repeat('0b', 20), 'hex'), 'Hi There'), 'hex') = 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7' AS rfc4231_1,
	   encode(scim._hmac('Jefe', 'what do ya want for nothing?'), 'hex') = '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843' AS rfc4231_2,
	   encode(scim._hmac(decode(repeat('aa', 131), 'hex'), 'Test Using Larger Than Block-Size Key - Hash Key First'), 'hex') = '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54' AS rfc4231_6;
-- the key: 32 random bytes, readable by no one but its owner and whom it is granted to
SELECT octet_length(key) AS key_bytes, key <> decode(repeat('00', 32), 'hex') AS not_zero FROM scim.secret;
SELECT count(*) AS rows FROM scim.secret;
SELECT (SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'scim.secret'::regclass AND a.grantee = 0) AS public_grants_on_secret,
	   (SELECT count(*) FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
		WHERE p.oid = 'scim._hmac(bytea, bytea)'::regprocedure AND a.grantee = 0) AS public_grants_on_hmac;

-- cursors a client edits: fields(cursor) splits one into its contents and
-- the rest (its signature); forge() puts it together again with fields replaced
CREATE FUNCTION pg_temp.fields(c text) RETURNS text[] LANGUAGE sql AS $$
	SELECT regexp_match(encode(decode(translate(c, '-_', '+/') || repeat('=', (4 - length(c) % 4) % 4), 'base64'), 'escape'),
						'^(c\d)\|(\d+)\|([0-9a-f-]{36})\|([0-9a-f]{12})\|(\d{10})(.*)$')
$$;
CREATE FUNCTION pg_temp.forge(f text[]) RETURNS text LANGUAGE sql AS $$
	SELECT translate(replace(encode(convert_to(concat_ws('|', f[1], f[2], f[3], f[4], f[5]), 'UTF8') || decode(coalesce(f[6], ''), 'escape'), 'base64'),
								 E'\n', ''), '+/=', '-_')
$$;
SELECT h.body->>'nextCursor' AS c1 FROM scim.handle('GET', '/Users', 'count=1&cursor=', current_setting('test.h')::jsonb, NULL) h \gset
SELECT h.body->>'nextCursor' AS c2 FROM scim.handle('GET', '/Users', 'count=1&cursor=' || :'c1', current_setting('test.h')::jsonb, NULL) h \gset
SELECT pg_temp.fields(:'c1') IS NOT NULL AS parsed, pg_temp.forge(pg_temp.fields(:'c1')) = :'c1' AS forge_is_exact;
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || :'c1');
-- one character flipped (the eighth's low bit: a digit of the position stays a digit)
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || overlay(:'c1' placing translate(substr(:'c1', 8, 1),
	'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 'BADCFEHGJILKNMPORQTSVUXWZYbadcfehgjilknmporqtsvuxwzy1032547698_-') from 8 for 1));
-- another cursor's position, with this one's signature
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || pg_temp.forge((SELECT f[1:1] || g[2:3] || f[4:6] FROM pg_temp.fields(:'c1') f, pg_temp.fields(:'c2') g)));
-- a later issue time, with this one's signature
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || pg_temp.forge((SELECT f[1:4] || ARRAY[(f[5]::bigint + 86400)::text] || f[6:6] FROM pg_temp.fields(:'c1') f)));
-- the old unsigned format (c1, nothing after the contents)
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || pg_temp.forge((SELECT ARRAY['c1'] || f[2:5] FROM pg_temp.fields(:'c1') f)));
-- the contents alone, without the signature
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || pg_temp.forge((SELECT f[1:5] FROM pg_temp.fields(:'c1') f)));
-- another tenant's token, another resource type
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || :'c1', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok2'));
SELECT * FROM pg_temp.r('GET', '/Groups', 'count=1&cursor=' || :'c1');
-- past the timeout (1 second, the least; two waited): expired, and moving
-- its issue time on does not revive it
SET scim.cursor_timeout = 1;
SELECT pg_sleep(2.1);
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || :'c1');
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || pg_temp.forge((SELECT f[1:4] || ARRAY[(f[5]::bigint + 3)::text] || f[6:6] FROM pg_temp.fields(:'c1') f)));
RESET scim.cursor_timeout;
-- a new key: every cursor issued before is void
UPDATE scim.secret SET key = scim._random_key();
SELECT * FROM pg_temp.r('GET', '/Users', 'count=1&cursor=' || :'c1');
