-- Filters the store answers through scim.handle(): membership (a Group's
-- members and a User's groups live in scim.group_members, not in the
-- documents), attributes another resource type has at the root
-- (POST /.search), and value filters in attributes / excludedAttributes.
-- Every case is asked of both paths of scim.handle(): as it comes, and
-- down the general path (a GET with If-None-Match, which no answer here matches).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Members') AS tenant \gset
SELECT scim.create_tenant('Other') AS other \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'tenant'), 'host', 'scim.example.com')::text, false)
	IS NOT NULL AS ok;
SELECT set_config('test.h2', jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'other'), 'host', 'scim.example.com')::text, false)
	IS NOT NULL AS ok;

-- post(path, body[, headers]): the new resource's id
CREATE FUNCTION pg_temp.post(p text, b text, h text DEFAULT 'test.h') RETURNS text LANGUAGE sql AS $$
	SELECT (scim.handle('POST', p, NULL, current_setting(h)::jsonb, b)).body->>'id'
$$;
SELECT pg_temp.post('/Users', '{"userName": "alice@example.com", "emails": [{"value": "alice@work.example", "type": "work"}, {"value": "alice@home.example", "type": "home"}]}') AS alice \gset
SELECT pg_temp.post('/Users', '{"userName": "bob@example.com"}') AS bob \gset
SELECT pg_temp.post('/Groups', format('{"displayName": "Sales", "members": [{"value": "%s"}]}', :'alice')) AS sales \gset
SELECT pg_temp.post('/Groups', format('{"displayName": "Eng", "members": [{"value": "%s"}, {"value": "%s"}]}', :'bob', :'sales')) AS eng \gset
SELECT pg_temp.post('/Groups', '{"displayName": "Empty"}') AS empty \gset
SELECT pg_temp.post('/Users', '{"userName": "carol@other.example"}', 'test.h2') AS carol \gset
SELECT pg_temp.post('/Groups', format('{"displayName": "Sales", "members": [{"value": "%s"}]}', :'carol'), 'test.h2') AS other_sales \gset
SELECT count(*) AS memberships FROM scim.group_members WHERE tenant IN (:'tenant', :'other');

-- ask(method, path, query, body): status, the names found in order (or the error),
-- whether the groups found carry members, and whether both paths agree
CREATE FUNCTION pg_temp.ask(m text, p text, q text, b text DEFAULT NULL)
	RETURNS TABLE (status integer, found text, with_members boolean, same boolean) LANGUAGE sql AS $$
	SELECT f.status,
		CASE WHEN f.status = 200 THEN (SELECT coalesce(string_agg(coalesce(x->>'userName', x->>'displayName'), ', ' ORDER BY n), '-')
									   FROM jsonb_array_elements(f.body->'Resources') WITH ORDINALITY AS r(x, n))
			 ELSE concat_ws(': ', f.body->>'scimType', f.body->>'detail') END,
		(SELECT bool_or(x ? 'members') FROM jsonb_array_elements(f.body->'Resources') x),
		(f.status, f.body) IS NOT DISTINCT FROM (s.status, s.body)
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb, b) f,
		 scim.handle(m, p, q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}', b) s
$$;
-- f(filter): the filter as a query string's value
CREATE FUNCTION pg_temp.f(filter text) RETURNS text LANGUAGE sql AS $$
	SELECT 'filter=' || replace(replace(replace(replace(filter, ' ', '+'), '"', '%22'), '[', '%5B'), ']', '%5D')
$$;

-- bug 1: membership filters, as Entra ID and Okta send them, find the membership
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members eq "%s"', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members.value eq "%s"', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members[value eq "%s"]', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('urn:ietf:params:scim:schemas:core:2.0:Group:members.value eq "%s"', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', 'excludedAttributes=members&' || pg_temp.f(format('id eq "%s" and members eq "%s"', :'sales', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', 'excludedAttributes=members&' || pg_temp.f(format('id eq "%s" and members eq "%s"', :'eng', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members eq "%s"', upper(:'alice'))));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members eq "%s"', replace(:'alice', '-', ''))));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members eq "%s"', :'sales')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members[value eq "%s" or value eq "%s"]', :'alice', :'bob')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members pr'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members[type eq "group"]'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members[type eq "User" and value eq "%s"]', :'sales')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('not (members pr)'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members eq null'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members ne "%s"', :'alice')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('displayName eq "Empty" or members eq "%s"', :'bob')));
SELECT * FROM pg_temp.ask('POST', '/Groups/.search', NULL, format('{"filter": "members eq \"%s\"", "excludedAttributes": ["members"]}', :'alice'));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f(format('groups.value eq "%s"', :'sales')));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f(format('groups eq "%s"', :'eng')));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f(format('groups[value eq "%s"]', :'eng')));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f('groups pr'));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f(format('userName eq "bob@example.com" and not (groups eq "%s")', :'sales')));
-- another tenant's ids match nothing here, whether they exist there or not
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members eq "%s"', :'carol')));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f(format('groups eq "%s"', :'other_sales')));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f(format('members ne "%s" and displayName eq "Sales"', :'carol')));
-- what is no id is no member, whatever it holds
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members eq "alice@example.com"'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members eq "x''); DELETE FROM scim.group_members; --"'));
-- what the membership table cannot answer, or not cheaply, is refused, never answered with nothing
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members.display eq "alice"'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members[display eq "alice" and value pr]'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members.type co "r"'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members.value co "a"'));
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('members sw "a"'));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f('groups.display eq "Sales"'));
SELECT * FROM pg_temp.ask('GET', '/Users', pg_temp.f('groups.value gt "0"'));
SELECT count(*) AS memberships FROM scim.group_members WHERE tenant IN (:'tenant', :'other');

-- the membership filters are index scans of scim.group_members under
-- row-level security (its LEAKPROOF conditions): with sequential scans
-- made as dear as the planner allows, none of the table is read so
CREATE FUNCTION pg_temp.scans(OUT seq bigint, OUT idx bigint) LANGUAGE sql AS $$
	SELECT pg_stat_get_xact_numscans('scim.group_members'::regclass),
		   (SELECT sum(pg_stat_get_xact_numscans(i.indexrelid)) FROM pg_index i WHERE i.indrelid = 'scim.group_members'::regclass)
$$;
CREATE FUNCTION pg_temp.indexed(p text, q text) RETURNS TABLE (status integer, seq_scans bigint, index_scans_made boolean)
	LANGUAGE plpgsql AS $$
DECLARE
	before record;
	after record;
	st integer;
BEGIN
	SET LOCAL enable_seqscan = off;
	before := pg_temp.scans();
	SELECT h.status INTO st FROM scim.handle('GET', p, q, current_setting('test.h')::jsonb, NULL) h;
	after := pg_temp.scans();
	RETURN QUERY SELECT st, after.seq - before.seq, after.idx > before.idx;
END;
$$;
SELECT * FROM pg_temp.indexed('/Groups', 'excludedAttributes=members&' || pg_temp.f(format('members eq "%s"', :'alice')));
SELECT * FROM pg_temp.indexed('/Groups', 'excludedAttributes=members&' || pg_temp.f(format('id eq "%s" and members[value eq "%s"]', :'sales', :'alice')));
SELECT * FROM pg_temp.indexed('/Users', pg_temp.f(format('groups.value eq "%s"', :'eng')));
SELECT * FROM pg_temp.indexed('/Users', pg_temp.f('userName eq "alice@example.com" and groups pr'));

-- bug 2: POST /.search spans Users and Groups; an attribute one type lacks
-- has no value there (RFC 7644 section 3.4.2): a comparison on it is
-- false, its negation true
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "displayName eq \"Sales\" or userName eq \"alice@example.com\""}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "userName pr"}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "not (userName pr)"}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "userName ne \"alice@example.com\""}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "emails[type eq \"work\"] or displayName eq \"Eng\""}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, format('{"filter": "members eq \"%s\" or groups eq \"%s\"", "excludedAttributes": ["members"]}', :'bob', :'sales'));
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "displayName sw \"E\"", "sortBy": "userName"}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "userName eq \"bob@example.com\" or displayName eq \"Empty\"", "sortBy": "userName", "sortOrder": "descending"}');
-- what neither type has, or a comparison the type that has it refuses, is an error
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "nosuch eq \"x\" or displayName eq \"Sales\""}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "userName gt 1 or displayName eq \"Sales\""}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "members co \"a\""}');
SELECT * FROM pg_temp.ask('POST', '/.search', NULL, '{"filter": "password eq \"x\""}');
-- at a type's own endpoint an attribute it lacks stays an error (RFC 7644 section 3.12, invalidFilter)
SELECT * FROM pg_temp.ask('GET', '/Groups', pg_temp.f('userName eq "x"'));
SELECT * FROM pg_temp.ask('POST', '/Users/.search', NULL, '{"filter": "displayName eq \"Sales\" or members pr"}');

-- bug 8: a value filter in attributes narrows the attribute to the
-- elements it matches; in excludedAttributes it leaves them out
CREATE FUNCTION pg_temp.shown(m text, p text, q text, b text DEFAULT NULL)
	RETURNS TABLE (status integer, shown text, same boolean) LANGUAGE sql AS $$
	SELECT f.status,
		CASE WHEN f.status < 300 THEN (SELECT string_agg((x - 'id' - 'meta' - 'schemas' - 'groups' - 'members' ||
													   CASE WHEN x ? 'members' THEN jsonb_build_object('members', jsonb_array_length(x->'members')) ELSE '{}' END)::text,
													  '; ' ORDER BY n)
									   FROM jsonb_array_elements(coalesce(f.body->'Resources', jsonb_build_array(f.body))) WITH ORDINALITY AS r(x, n))
			 ELSE concat_ws(': ', f.body->>'scimType', f.body->>'detail') END,
		(f.status, f.body) IS NOT DISTINCT FROM (s.status, s.body)
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb, b) f,
		 scim.handle(m, p, q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}', b) s
$$;
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Btype+eq+%22work%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=userName,emails%5Btype+eq+%22WORK%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users', pg_temp.f('userName eq "alice@example.com"') || '&attributes=emails%5Btype+eq+%22work%22%5D');
SELECT * FROM pg_temp.shown('POST', '/Users/.search', NULL, '{"filter": "userName sw \"a\"", "attributes": ["emails[type eq \"home\" or value ew \"work.example\"]"]}');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Btype+eq+%22other%22%5D,emails%5Btype+eq+%22home%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Btype+eq+%22work%22%5D,emails.value');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'excludedAttributes=emails%5Btype+eq+%22work%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'excludedAttributes=emails%5Btype+pr%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=nosuch%5Btype+eq+%22work%22%5D,emails%5Btype+eq+%22home%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Bvalue+eq+%22alice%40work.example,x%22+or+type+eq+%22home%22%5D,userName');
SELECT * FROM pg_temp.shown('GET', '/Groups/' || :'eng', format('attributes=members%%5Bvalue+eq+%%22%s%%22%%5D', :'bob'));
SELECT * FROM pg_temp.shown('GET', '/Groups/' || :'eng', format('excludedAttributes=members%%5Bvalue+eq+%%22%s%%22%%5D', :'bob'));
-- what cannot be a value filter there is refused, never dropped
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Btype+eq+1%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Bnosuch+eq+%22x%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=name%5BgivenName+eq+%22x%22%5D');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=emails%5Btype+eq+%22work%22%5D.value');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'excludedAttributes=emails%5Btype+eq+%22work%22');
SELECT * FROM pg_temp.shown('GET', '/Users/' || :'alice', 'attributes=password%5Bvalue+eq+%22x%22%5D');
-- the same in scim.project(), for an application's own tables
SELECT scim.project('{"userName": "a", "emails": [{"value": "a@w", "type": "work"}, {"value": "a@h", "type": "home"}]}', 'emails[type eq "work"]');
SELECT scim.project('{"userName": "a", "emails": [{"value": "a@w", "type": "work"}, {"value": "a@h", "type": "home"}]}', NULL, 'emails[type eq "work"]');
SELECT scim.project('{"displayName": "g", "members": [{"value": "1", "type": "User"}, {"value": "2", "type": "Group"}]}', 'members[type eq "group"]', NULL, 'Group');
SELECT scim.project('{"userName": "a"}', 'emails[type eq "work"');
