-- scim.handle() answers the lookups, reads and user PATCHes identity
-- providers make all day through its fast path (statements planned once),
-- and every other request, failures included, through its general path
-- (src/pg/route.c).  Here the same requests go through both and must be
-- answered alike.  A request carrying a precondition takes the general
-- path, whose answer the precondition does not change when it holds (or
-- cannot match): If-None-Match "general" on a GET, If-Match on the version
-- a PATCH finds.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Northwind') AS tenant \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok', 'host', 'scim.example.com')::text, false)
	IS NOT NULL AS ok;

-- users (one in two groups), a group, all through the PL/pgSQL path
CREATE TEMP TABLE ids (name text PRIMARY KEY, id text);
INSERT INTO ids
SELECT n, (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb, format($${
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"userName": "%s@northwind.example", "externalId": "ext-%s", "active": true,
	"name": {"givenName": "G%s", "familyName": "F%s"},
	"emails": [{"type": "work", "value": "%s@northwind.example", "primary": true}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D%s"}}$$, n, n, n, n, n, n))).body->>'id'
FROM unnest(ARRAY['ann', 'bob', 'cy']) n;
INSERT INTO ids
SELECT 'g-' || n, (scim.handle('POST', '/Groups', NULL, current_setting('test.h')::jsonb, format(
	'{"displayName": "Team %s", "externalId": "gx-%s", "members": [{"value": "%s"}]}', n, n,
	(SELECT id FROM ids WHERE name = 'ann')))).body->>'id'
FROM unnest(ARRAY['red', 'blue']) n;
-- two users share an externalId, so that a list has more than one row
UPDATE scim.users SET data = jsonb_set(data, '{externalId}', '"ext-shared"')
WHERE tenant = :'tenant' AND data->>'userName' IN ('bob@northwind.example', 'cy@northwind.example');

-- the header that sends a GET down the general path (extra's own wins)
CREATE FUNCTION pg_temp.general(extra jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}' || extra
$$;
-- same(method, path, query, body): do the two paths answer alike?
CREATE FUNCTION pg_temp.same(m text, p text, q text, b text DEFAULT NULL, extra jsonb DEFAULT '{}')
	RETURNS TABLE (status integer, fast_equal boolean) LANGUAGE sql AS $$
	SELECT f.status, (f.status, f.headers, f.body) IS NOT DISTINCT FROM (s.status, s.headers, s.body)
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb || extra, b) f,
		 scim.handle(m, p, q, pg_temp.general(extra), b) s
$$;
CREATE FUNCTION pg_temp.id(n text) RETURNS text LANGUAGE sql AS $$ SELECT id FROM ids WHERE name = n $$;

-- lookups, as Entra ID, Okta and Google make them
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName%20eq%20%22ANN@Northwind.Example%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22nobody%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-shared%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22EXT-SHARED%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-shared%22&startIndex=2&count=5');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-shared%22&startIndex=3');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-shared%22&count=0');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-shared%22&count=-4&startIndex=-1');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22&startIndex=1&count=2');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=id+eq+%22' || pg_temp.id('bob') || '%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=id+eq+%22' || upper(pg_temp.id('bob')) || '%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22&attributes=userName,emails.value');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22&excludedAttributes=groups,name');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22&attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department');
SELECT * FROM pg_temp.same('GET', '/Groups', 'filter=displayName+eq+%22team+red%22&excludedAttributes=members');
SELECT * FROM pg_temp.same('GET', '/Groups', 'filter=externalId+eq+%22gx-blue%22&excludedAttributes=members');
SELECT * FROM pg_temp.same('GET', '/Groups', 'filter=displayName+eq+%22Team+Red%22');
SELECT * FROM pg_temp.same('GET', '/Groups', 'filter=displayName+eq+%22Team+Red%22&attributes=displayName');
-- the base URL from the headers, or its defaults
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22cy@northwind.example%22', NULL,
						   '{"x-forwarded-proto": "https", "x-scim-base-path": "/t/42/scim/"}');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22cy@northwind.example%22', NULL,
						   '{"x-scim-base-url": "https://id.example.com/scim//"}');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22cy@northwind.example%22', NULL,
						   '{"host": null}');

-- reads by id
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('ann'), NULL);
SELECT * FROM pg_temp.same('GET', 'Users/' || upper(pg_temp.id('ann')) || '/', NULL);
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('ann'), 'attributes=userName');
SELECT * FROM pg_temp.same('GET', '/Groups/' || pg_temp.id('g-red'), 'excludedAttributes=members');
SELECT * FROM pg_temp.same('GET', '/Groups/' || pg_temp.id('g-red'), NULL);
SELECT * FROM pg_temp.same('GET', '/Users/00000000-0000-0000-0000-000000000000', NULL);
SELECT * FROM pg_temp.same('GET', '/Users/not-a-uuid', NULL);
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('ann'), NULL, NULL,
						   jsonb_build_object('if-none-match', 'W/"1"'));

-- 600 GETs drawn at random.  Most are the lookups and reads identity
-- providers make all day, which the fast path answers: paths in any case,
-- ids and values that exist and that do not, the paging and the
-- projections it reads, the headers they send.  The rest are drawn from
-- the pieces attackers use (bad ids and paths, filters it has no statement
-- for, odd paging, odd headers), which it leaves to the general path.
-- The two paths must agree on every one.
CREATE FUNCTION pg_temp.pick(a text[]) RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT a[1 + floor(random() * cardinality(a))::int]
$$;
-- both(path, query, extra): scim.handle()'s status, and whether the general path answers the same
CREATE FUNCTION pg_temp.both(p text, q text, extra jsonb)
	RETURNS TABLE (status integer, same boolean) LANGUAGE sql AS $$
	SELECT f.status, (f.status, f.headers, f.body) IS NOT DISTINCT FROM (s.status, s.headers, s.body)
	FROM scim.handle('GET', p, q, current_setting('test.h')::jsonb || extra, NULL) f,
		 scim.handle('GET', p, q, pg_temp.general(extra), NULL) s
$$;
SELECT setseed(0.42);
CREATE TEMP TABLE draws (n serial, kind text, path text, query text, extra jsonb);
-- what a lookup or read may carry: paging, headers, a user's and a group's projections
CREATE TEMP TABLE piece AS SELECT
	ARRAY['', '', '', '&startIndex=1', '&startIndex=2', '&count=1', '&count=0', '&count=-1', '&startIndex=0',
		  '&startIndex=1&count=2', '&count=5000', '&startindex=2&COUNT=1', '&startIndex=99999999999999999999'] AS paging,
	ARRAY['{}', '{}', '{}', '{"x-forwarded-proto": "https"}', '{"host": "h.example", "x-scim-base-path": "/v2/"}',
		  '{"x-scim-base-url": "https://id.example.com/scim//"}', '{"host": null}',
		  '{"authorization": "bearer  ' || :'tok' || '"}', '{"if-match": "W/\"1\""}'] AS extra,
	ARRAY['', '', '', '&attributes=userName', '&attributes=groups', '&excludedAttributes=groups,emails',
		  '&attributes=name.givenName,ID', '&attributes=meta.location', '&excludedAttributes=', '&attributes=emails.value',
		  '&attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
		  '&excludedAttributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'] AS user_proj,
	ARRAY['&excludedAttributes=members', '&excludedAttributes=members', '&attributes=displayName',
		  '&attributes=id,externalId', '&excludedAttributes=members,meta', '&attributes=meta.version',
		  '&excludedAttributes=MEMBERS,externalId'] AS group_proj;
-- lookups of users: 150
INSERT INTO draws (kind, path, query, extra)
SELECT 'user lookup', pg_temp.pick(ARRAY['/Users', 'Users/', '/users', '//Users//', 'USERS']),
	pg_temp.pick(ARRAY['filter=userName+eq+%22ann@northwind.example%22', 'filter=USERNAME%20EQ%20%22Bob@Northwind.example%22',
		'filter=userName+eq+%22nobody%22', 'filter=externalId+eq+%22ext-shared%22', 'filter=externalId+eq+%22ext-cy%22',
		'filter=externalId+eq+%22EXT-SHARED%22', 'filter=id+eq+%22' || pg_temp.id('cy') || '%22',
		'filter=id+eq+%22' || pg_temp.id('g-red') || '%22',
		'filter=urn:ietf:params:scim:schemas:core:2.0:User:userName+eq+%22cy@northwind.example%22',
		'filter=userName eq "bob@northwind.example"'])
	|| pg_temp.pick(p.paging) || pg_temp.pick(p.user_proj), pg_temp.pick(p.extra)::jsonb
FROM generate_series(1, 150), piece p;
-- lookups of groups: 100
INSERT INTO draws (kind, path, query, extra)
SELECT 'group lookup', pg_temp.pick(ARRAY['/Groups', '/GROUPS/', 'groups']),
	pg_temp.pick(ARRAY['filter=displayName+eq+%22Team+Red%22', 'filter=displayName+eq+%22team+blue%22',
		'filter=externalId+eq+%22gx-blue%22', 'filter=externalId+eq+%22GX-BLUE%22', 'filter=id+eq+%22' || pg_temp.id('g-red') || '%22',
		'filter=displayName+eq+%22Team+Green%22', 'filter=DisplayName eq "Team Blue"'])
	|| pg_temp.pick(p.paging) || pg_temp.pick(p.group_proj), pg_temp.pick(p.extra)::jsonb
FROM generate_series(1, 100), piece p;
-- reads by id: 150, a user in two of three
INSERT INTO draws (kind, path, query, extra)
SELECT 'read by id', CASE WHEN u THEN pg_temp.pick(ARRAY['/Users/' || pg_temp.id('ann'), '/Users/' || upper(pg_temp.id('bob')),
											  'users/' || pg_temp.id('cy') || '/', '/Users/' || pg_temp.id('bob')])
					ELSE pg_temp.pick(ARRAY['/Groups/' || pg_temp.id('g-red'), 'GROUPS/' || pg_temp.id('g-blue'), '/Groups/' || upper(pg_temp.id('g-blue'))]) END,
	nullif(substr(CASE WHEN u THEN pg_temp.pick(p.user_proj) ELSE pg_temp.pick(p.group_proj) END, 2), ''), pg_temp.pick(p.extra)::jsonb
FROM (SELECT random() < 0.67 AS u FROM generate_series(1, 150)) x, piece p;
-- and 200 from the pieces attackers use
INSERT INTO draws (kind, path, query, extra)
SELECT 'odd',
	pg_temp.pick(ARRAY['/Users', 'Users/', '/users', '/Groups', '/GROUPS/', '/Users/' || pg_temp.id('ann'),
		   '/Users/' || upper(pg_temp.id('bob')), '/Groups/' || pg_temp.id('g-red'),
		   '/Users/' || pg_temp.id('g-red'), '/Users/' || pg_temp.id('ann') || '/x', '/Users/nope',
		   '//Users//']),
	pg_temp.pick(ARRAY['filter=userName+eq+%22ann@northwind.example%22', 'filter=USERNAME%20EQ%20%22Bob@Northwind.example%22',
		   'filter=externalId+eq+%22ext-shared%22', 'filter=externalId+eq+%22ext-cy%22',
		   'filter=id+eq+%22' || pg_temp.id('cy') || '%22', 'filter=displayName+eq+%22Team+Blue%22',
		   'filter=userName+eq+%22%22', 'filter=userName+ne+%22x%22', 'filter=emails.value+eq+%22ann@northwind.example%22',
		   'filter=urn:ietf:params:scim:schemas:core:2.0:User:userName+eq+%22cy@northwind.example%22',
		   'filter=userName+eq+%22a%5C%22b%22', 'filter=userName+eq+%22%C3%A9%22', 'filter=(userName+eq+%22x%22)',
		   '', 'count=1', 'filter=userName%20eq%20%22ann@northwind.example%22%00'])
	|| pg_temp.pick(ARRAY['', '', '&startIndex=2', '&startIndex=0', '&startIndex=%2B1', '&count=0', '&count=1', '&count=-1',
			  '&count=5000', '&count=1.5', '&sortBy=userName', '&cursor=', '&startindex=1&COUNT=2'])
	|| pg_temp.pick(ARRAY['', '', '&attributes=userName', '&attributes=groups', '&excludedAttributes=groups,emails',
			  '&excludedAttributes=members', '&attributes=members.value', '&attributes=meta.location',
			  '&excludedAttributes=', '&attributes=nosuch', '&attributes=name.givenName,ID']),
	pg_temp.pick(ARRAY['{}', '{}', '{"x-forwarded-proto": "https"}', '{"host": "h.example", "x-scim-base-path": "/v2/"}',
		   '{"if-none-match": "W/\"1\""}', '{"authorization": "bearer  ' || :'tok' || '"}',
		   '{"authorization": "Bearer"}', '{"host": 7}'])::jsonb
FROM generate_series(1, 200);
CREATE TEMP TABLE answers AS SELECT d.*, b.* FROM draws d, LATERAL pg_temp.both(d.path, d.query, d.extra) b ORDER BY d.n;
SELECT count(*) AS requests, count(DISTINCT (path, query, extra)) AS distinct_requests,
	   count(*) FILTER (WHERE NOT same) AS disagreements,
	   count(DISTINCT status) > 3 AS several_statuses
FROM answers;
SELECT kind, count(*) AS requests, array_agg(DISTINCT status) AS statuses
FROM answers GROUP BY kind ORDER BY min(n);
-- any that disagree, to read
SELECT n, path, query, extra, status FROM answers WHERE NOT same ORDER BY n LIMIT 5;

-- errors are the same, whichever path starts the request
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22x%22&attributes=nosuch..attr');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22x%22&count=ten');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22x%22', NULL, '{"authorization": "Bearer wrong"}');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22x%22', NULL, '{"authorization": 42}');

-- PATCH: the same request on twin users through each path; the stored
-- resources, the responses and the events must match but for ids and times
CREATE FUNCTION pg_temp.norm(j jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT regexp_replace(regexp_replace(j::text,
		'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g'),
		'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<time>', 'g')::jsonb
$$;
CREATE FUNCTION pg_temp.twin_patch(body text, extra jsonb DEFAULT '{}')
	RETURNS TABLE (status integer, fast_equal boolean, stored_equal boolean) LANGUAGE plpgsql AS $$
DECLARE
	a text;
	b text;
	f scim.response;
	s scim.response;
BEGIN
	a := (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
		'{"userName": "twin-a", "displayName": "Twin", "active": true, "emails": [{"type": "work", "value": "t@x.example"}]}')).body->>'id';
	b := (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
		'{"userName": "twin-b", "displayName": "Twin", "active": true, "emails": [{"type": "work", "value": "t@x.example"}]}')).body->>'id';
	UPDATE scim.users SET data = data - 'userName' || '{"userName": "twin"}' WHERE data->>'userName' IN ('twin-a', 'twin-b')
		AND tenant = current_setting('test.tenant')::uuid AND id = a::uuid;
	f := scim.handle('PATCH', '/Users/' || a, NULL, current_setting('test.h')::jsonb || extra, body);
	UPDATE scim.users SET data = data - 'userName' || '{"userName": "twin-a"}' WHERE id = a::uuid AND tenant = current_setting('test.tenant')::uuid;
	UPDATE scim.users SET data = data - 'userName' || '{"userName": "twin"}' WHERE id = b::uuid AND tenant = current_setting('test.tenant')::uuid;
	-- the general path: an If-Match that holds (the twin's first version), unless extra has its own
	s := scim.handle('PATCH', '/Users/' || b, NULL, current_setting('test.h')::jsonb || '{"if-match": "W/\"1\""}' || extra, body);
	status := f.status;
	fast_equal := (f.status, pg_temp.norm(f.headers), pg_temp.norm(f.body))
		IS NOT DISTINCT FROM (s.status, pg_temp.norm(s.headers), pg_temp.norm(s.body));
	stored_equal := (SELECT pg_temp.norm(x.data - 'userName') = pg_temp.norm(y.data - 'userName') AND x.version = y.version
					 FROM scim.users x, scim.users y WHERE x.id = a::uuid AND y.id = b::uuid);
	stored_equal := stored_equal AND
		(SELECT array_agg(format('%s %s %s %s %s', e.kind, e.status, e.scim_type, e.detail, e.version) ORDER BY e.at)
		 FROM scim.events e WHERE e.operation = 'PATCH /Users/' || a)
		IS NOT DISTINCT FROM
		(SELECT array_agg(format('%s %s %s %s %s', e.kind, e.status, e.scim_type, e.detail, e.version) ORDER BY e.at)
		 FROM scim.events e WHERE e.operation = 'PATCH /Users/' || b);
	DELETE FROM scim.users WHERE id IN (a::uuid, b::uuid) AND tenant = current_setting('test.tenant')::uuid;
	RETURN NEXT;
END;
$$;
SELECT set_config('test.tenant', :'tenant', false) IS NOT NULL AS ok;
BEGIN;
-- Entra ID's three replaces, with "False" for active: suspended
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "Replace", "path": "displayName", "value": "New"},
	{"op": "Replace", "path": "active", "value": "False"},
	{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.example"}]}$$);
-- Okta's no-path replace
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "replace", "value": {"active": false, "name": {"givenName": "T"}}}]}$$);
-- nothing changes: no write, no event, the version stays
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "replace", "path": "displayName", "value": "Twin"}]}$$);
-- the attributes asked for
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "add", "path": "title", "value": "Boss"}]}$$, '{}');
-- an If-Match that holds, and one that does not: the general path checks both
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "add", "path": "title", "value": "Boss"}]}$$, '{"if-match": "W/\"1\""}');
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "add", "path": "title", "value": "Boss"}]}$$, '{"if-match": "W/\"7\""}');
-- failures: the error, its event and no write come from the general path
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "remove", "path": "nosuch"}]}$$);
SELECT * FROM pg_temp.twin_patch('{"Operations": [}');
SELECT * FROM pg_temp.twin_patch(repeat('[', 5000) || repeat(']', 5000));
-- numbers: those the fast path reads itself, and those jsonb cannot hold or it
-- leaves to the general path (a long one, a big exponent): 400 invalidValue
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "n": -2.50e-3, "Operations": [
	{"op": "add", "path": "title", "value": "Boss"}]}$$);
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "n": 1e1000000, "Operations": [
	{"op": "add", "path": "title", "value": "Boss"}]}$$);
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "n": 1e-20000, "Operations": [
	{"op": "add", "path": "title", "value": "Boss"}]}$$);
SELECT * FROM pg_temp.twin_patch('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "n": ' || repeat('7', 1200) ||
	', "Operations": [{"op": "add", "path": "title", "value": "Boss"}]}');
SELECT status, body->>'scimType' AS scim_type, body->>'detail' AS detail
FROM scim.handle('PATCH', '/Users/' || pg_temp.id('ann'), NULL, current_setting('test.h')::jsonb,
				 '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": 1e1000000}]}');
SELECT * FROM pg_temp.twin_patch($${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
	{"op": "replace", "path": "userName", "value": "ann@northwind.example"}]}$$);
-- 80 PATCH bodies drawn at random from valid and broken operations
SELECT setseed(0.17);
CREATE TEMP TABLE ops (k serial, op text);
INSERT INTO ops (op) VALUES
	('{"op": "replace", "path": "displayName", "value": "New"}'),
	('{"op": "Replace", "path": "active", "value": "False"}'),
	('{"op": "replace", "path": "active", "value": true}'),
	('{"op": "add", "path": "title", "value": "Boss"}'),
	('{"op": "remove", "path": "title"}'),
	('{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w@x.example"}'),
	('{"op": "add", "path": "emails", "value": [{"value": "h@x.example", "type": "home"}]}'),
	('{"op": "replace", "value": {"displayName": "N", "name": {"givenName": "G"}}}'),
	('{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}'),
	('{"op": "replace", "path": "name.givenName", "value": "Z"}'),
	('{"op": "replace", "path": "displayName", "value": "Twin"}'),
	('{"op": "replace", "path": "userName", "value": "twin"}'),
	('{"op": "move", "path": "title"}'),
	('{"op": "add", "path": "nosuch", "value": 1}'),
	('{"op": "replace", "path": "active", "value": {}}'),
	('{"op": "remove", "path": "name["}'),
	('{"op": "replace", "path": "userName", "value": "ann@northwind.example"}'),
	('{"op": "add", "path": "members", "value": [{"value": "x"}]}');
-- one to three operations per body, each drawn for its own row (the
-- subquery names the row, so that it runs again for each)
CREATE TEMP TABLE patch_draws AS
SELECT n, CASE WHEN random() < 0.06 THEN (ARRAY['{"Operations": ', 'null', '[]', '{"schemas": 5}'])[1 + floor(random() * 4)::int]
	ELSE '{' || CASE WHEN random() < 0.9 THEN '"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], ' ELSE '' END
		|| '"Operations": [' || (SELECT string_agg(o.ops[1 + floor(random() * cardinality(o.ops))::int], ', ' ORDER BY g)
								 FROM generate_series(1, 1 + floor(random() * 3)::int + 0 * n) g) || ']}' END AS body
FROM generate_series(1, 80) n, (SELECT array_agg(op ORDER BY k) AS ops FROM ops) o;
SELECT count(*) AS patches, count(DISTINCT body) AS distinct_bodies,
	   count(DISTINCT body) FILTER (WHERE body LIKE '%}, {%') AS distinct_with_several_operations
FROM patch_draws;
CREATE TEMP TABLE patch_answers AS SELECT d.n, d.body, t.* FROM patch_draws d, pg_temp.twin_patch(d.body) t ORDER BY d.n;
SELECT count(*) AS patches, count(*) FILTER (WHERE NOT (fast_equal AND stored_equal)) AS disagreements,
	   array_agg(DISTINCT status) AS statuses
FROM patch_answers;
-- any that disagree, to read
SELECT * FROM patch_answers WHERE NOT (fast_equal AND stored_equal) ORDER BY n LIMIT 5;
COMMIT;

-- the fast path reads a PATCH body itself (src/pg/body_parse.c): what it reads
-- is what jsonb_in() makes of the text (as text and in size), and it reads nothing
-- jsonb_in() refuses; what it declines goes to the general path
CREATE FUNCTION pg_temp.jsonb_ok(t text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	PERFORM t::jsonb;
	RETURN true;
EXCEPTION WHEN OTHERS THEN
	RETURN false;
END
$$;
CREATE FUNCTION pg_temp.body_cases(t text) RETURNS TABLE (c_reads boolean, jsonb_in_reads boolean, same boolean)
	LANGUAGE sql AS $$
	SELECT scim._body_jsonb(t) IS NOT NULL, pg_temp.jsonb_ok(t),
		   CASE WHEN scim._body_jsonb(t) IS NOT NULL AND pg_temp.jsonb_ok(t)
				THEN scim._body_jsonb(t)::text = t::jsonb::text AND pg_column_size(scim._body_jsonb(t)) = pg_column_size(t::jsonb)
				WHEN scim._body_jsonb(t) IS NOT NULL THEN false END
$$;
SELECT left(b.t, 40) AS body, c.* FROM (VALUES ('{}'), ('[]'), (' {"a" : [1, 2.50, -0, 1e3, -1.5E-2, 0.0e+0, true, false, null]} '),
	('"str"'), ('123'), ('true'), ('null'), ('{"a": "x", "a": "y"}'), ('{"b": 1, "aa": 3, "a": 2}'),
	('"\"\\\/\b\f\n\r\t"'), ('"\u00e9\u20AC\ud83d\ude00"'), ('"\ud837\ude20\udbff\udfff"'), ('"é€"'), ('{"k\u0041": "v"}'), ('[[[]], {}]'),
	('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@b"}]}'),
	(''), (' '), ('{'), ('}'), ('{"a"}'), ('{"a":}'), ('{a: 1}'), ($q${'a': 1}$q$), ('[1,]'), ('[,1]'), ('{"a": 1,}'),
	('01'), ('1.'), ('.5'), ('+1'), ('-'), ('1e'), ('1e+'), ('tru'), ('truex'), ('nul'), ('NaN'), ('Infinity'),
	('"\u0000"'), ('"\ud800"'), ('"\udc00"'), ('"\ud800\u0041"'), ('"\x"'), ('"\u12"'), ('"abc'), (E'"a\nb"'),
	('[1] 2'), ('{"a": 1}}'), ('1e1000000'), ('1e-20000'), (repeat('7', 1200)),
	(repeat('[', 200) || repeat(']', 200)), (repeat('[', 201) || repeat(']', 201))) AS b(t),
	LATERAL pg_temp.body_cases(b.t) c;
-- and 3,000 bodies made by breaking valid ones at random
SELECT setseed(0.42);
CREATE TEMP TABLE body_seeds (k serial, t text);
INSERT INTO body_seeds (t) VALUES
	('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@b"}]}'),
	('{"Operations": [{"op": "replace", "value": {"active": false, "name": {"givenName": "\u00c9mile"}}}], "n": -12.5e-3}'),
	('[1, 0, -0.5, 2E+2, true, false, null, "\ud83d\ude00 \\ \/ \" \t", {}, []]');
CREATE TEMP TABLE broken AS
SELECT n, (SELECT string_agg(CASE WHEN random() < 0.02 THEN (ARRAY['{', '}', '[', ']', '"', ',', ':', '\', 'u', '0', 'e', '.', '-', ' ', 'd8', 'x', '', ''])[1 + floor(random() * 18)::int]
							  ELSE ch END, '' ORDER BY i)
		   FROM regexp_split_to_table((SELECT t FROM body_seeds WHERE k = 1 + n % 3), '') WITH ORDINALITY AS x(ch, i)) AS t
FROM generate_series(1, 3000) n;
SELECT count(*) AS bodies, count(*) FILTER (WHERE c.c_reads) AS c_reads,
	   count(*) FILTER (WHERE c.jsonb_in_reads AND NOT c.c_reads) AS left_to_jsonb_in,
	   count(*) FILTER (WHERE c.c_reads AND NOT coalesce(c.same, false)) AS disagreements
FROM broken b, LATERAL pg_temp.body_cases(b.t) c;

-- the fast path writes meta.lastModified and the ETag itself: as the columns have them
CREATE TEMP TABLE patched AS
SELECT * FROM scim.handle('PATCH', '/Users/' || pg_temp.id('bob'), NULL, current_setting('test.h')::jsonb,
	'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "title", "value": "Stamped"}]}');
SELECT p.status, p.body->'meta'->>'lastModified' = to_char(u.last_modified AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
		AS last_modified_as_stored,
	   p.headers->>'etag' = format('W/"%s"', u.version) AND p.body->'meta'->>'version' = p.headers->>'etag' AS etag_as_stored,
	   (p.body->'meta') - 'lastModified' - 'version' - 'created' = jsonb_build_object('resourceType', 'User',
		'location', 'http://scim.example.com/scim/v2/Users/' || pg_temp.id('bob')) AS meta_rest
FROM patched p, scim.users u WHERE u.tenant = :'tenant' AND u.id = pg_temp.id('bob')::uuid;

-- a row whose meta is not an object (written by hand, not through SCIM):
-- the fast path cannot stamp it and leaves the PATCH to the general path
BEGIN;
UPDATE scim.users SET data = jsonb_set(data, '{meta}', '"by hand"') WHERE tenant = :'tenant' AND id = pg_temp.id('cy')::uuid;
SELECT status, body->'meta' AS meta FROM scim.handle('PATCH', '/Users/' || pg_temp.id('cy'), NULL, current_setting('test.h')::jsonb,
	'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "title", "value": "Boss"}]}');
ROLLBACK;

-- the order of a page and of a user's groups, which the fast path sorts itself:
-- by created, then id (created running against the ids, two sharing one),
-- and a user's groups by id (made in an order unlike theirs)
INSERT INTO ids
SELECT 'ord-' || n, (scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
	format('{"userName": "ord%s@northwind.example", "externalId": "ext-order"}', n))).body->>'id'
FROM generate_series(1, 5) n;
UPDATE scim.users u SET created = '2020-01-01'::timestamptz - least(o.k, 4) * interval '1 hour'
FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM scim.users
	  WHERE tenant = :'tenant' AND data->>'externalId' = 'ext-order') o
WHERE u.tenant = :'tenant' AND u.id = o.id;
INSERT INTO ids
SELECT 'og-' || n, (scim.handle('POST', '/Groups', NULL, current_setting('test.h')::jsonb, format(
	'{"displayName": "Order %s", "members": [{"value": "%s"}]}', n, pg_temp.id('ord-1')))).body->>'id'
FROM generate_series(1, 6) n;
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-order%22');
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=externalId+eq+%22ext-order%22&startIndex=2&count=3');
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('ord-1'), NULL);
WITH page AS (
	SELECT body FROM scim.handle('GET', '/Users', 'filter=externalId+eq+%22ext-order%22',
								 current_setting('test.h')::jsonb, NULL))
SELECT ARRAY(SELECT r->>'id' FROM page, jsonb_array_elements(page.body->'Resources') r)
	   = ARRAY(SELECT id::text FROM scim.users WHERE tenant = :'tenant' AND data->>'externalId' = 'ext-order'
			   ORDER BY created, id) AS page_in_order,
	   ARRAY(SELECT g->>'value' FROM page, jsonb_array_elements(page.body->'Resources') r,
			 jsonb_array_elements(r->'groups') g)
	   = ARRAY(SELECT group_id::text FROM scim.group_members WHERE tenant = :'tenant' AND value = pg_temp.id('ord-1')
			   ORDER BY group_id) AS groups_in_order,
	   ARRAY(SELECT r->>'id' FROM page, jsonb_array_elements(page.body->'Resources') r)
	   <> ARRAY(SELECT id::text FROM scim.users WHERE tenant = :'tenant' AND data->>'externalId' = 'ext-order'
				ORDER BY id) AS not_id_order,
	   (SELECT count(*) FROM scim.group_members WHERE tenant = :'tenant' AND value = pg_temp.id('ord-1')) AS groups;

-- the statements run under search_path pg_catalog, pg_temp: set for the
-- call and restored, or left alone where the session has it already (as
-- scim-server's have, or PGOPTIONS gives it, without spaces); a function on the path before pg_catalog that
-- shadows lower() is not called either way
CREATE SCHEMA shadow;
CREATE FUNCTION shadow.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'shadowed' $$;
SET search_path = shadow, pg_catalog, pg_temp;
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22');
SHOW search_path;
SELECT set_config('search_path', 'pg_catalog,pg_temp', false);
SELECT * FROM pg_temp.same('GET', '/Users', 'filter=userName+eq+%22ann@northwind.example%22');
SELECT * FROM pg_temp.same('GET', '/Users/' || pg_temp.id('bob'), NULL);
SHOW search_path;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA shadow CASCADE;
RESET client_min_messages;

-- the token cache: a revoked or expired token is refused from the next request on
SELECT scim.create_token(:'tenant', now() + interval '1 day') AS tok2 \gset
SELECT status FROM scim.handle('GET', '/Users', 'filter=userName+eq+%22x%22', jsonb_build_object('authorization', 'Bearer ' || :'tok2'), NULL);
UPDATE scim.token SET expires_at = now() - interval '1 second' WHERE hash = sha256(convert_to(:'tok2', 'UTF8'));
SELECT status FROM scim.handle('GET', '/Users', 'filter=userName+eq+%22x%22', jsonb_build_object('authorization', 'Bearer ' || :'tok2'), NULL);
SELECT status FROM scim.handle('GET', '/Users', 'filter=userName+eq+%22x%22', jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL);
SELECT scim.revoke_token(:'tok');
SELECT status FROM scim.handle('GET', '/Users', 'filter=userName+eq+%22x%22', jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL);
