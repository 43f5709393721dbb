-- scim.handle(): the SCIM service in the database, driven as the identity providers drive it
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

-- ids, timestamps and versions vary from run to run: show them as placeholders,
-- each id as a name of its own, given in order of first appearance (<user 1>,
-- <group 1>, <tenant 1>, or <id 1> for one that is none of them), so that a
-- member, a $ref or a location naming the wrong resource shows
CREATE TEMP TABLE seen_id (id uuid PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE FUNCTION pg_temp.masked(j jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	t text := j::text;
	m text;
	kind text;
	n text;
BEGIN
	FOR m IN SELECT r.x[1] FROM regexp_matches(t, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'g')
				 WITH ORDINALITY AS r(x, i) ORDER BY r.i
	LOOP
		SELECT s.name INTO n FROM pg_temp.seen_id s WHERE s.id = m::uuid;
		IF n IS NULL THEN
			kind := CASE WHEN EXISTS (SELECT 1 FROM scim.users u WHERE u.id = m::uuid) THEN 'user'
						 WHEN EXISTS (SELECT 1 FROM scim.groups g WHERE g.id = m::uuid) THEN 'group'
						 WHEN EXISTS (SELECT 1 FROM scim.tenant t WHERE t.id = m::uuid) THEN 'tenant'
						 ELSE 'id' END;
			n := format('<%s %s>', kind, 1 + (SELECT count(*) FROM pg_temp.seen_id s WHERE s.name LIKE '<' || kind || ' %'));
			INSERT INTO pg_temp.seen_id VALUES (m::uuid, n);
		END IF;
		t := replace(t, m, n);
	END LOOP;
	RETURN regexp_replace(regexp_replace(t,
		'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z', '<time>', 'g'),
		'"nextCursor": "[A-Za-z0-9_-]+"', '"nextCursor": "<cursor>"', 'g');
END;
$$;

SELECT scim.create_tenant('Contoso') AS contoso \gset
SELECT scim.create_tenant('Fabrikam') AS fabrikam \gset
SELECT scim.create_token(:'contoso') AS tok \gset
SELECT scim.create_token(:'fabrikam') AS tok2 \gset
SELECT length(:'tok') > 40 AS long_token, :'tok' LIKE 'scim\_%' AS prefixed,
	   (SELECT count(*) FROM scim.token WHERE hash = sha256(convert_to(:'tok', 'UTF8'))) AS stored_hashed,
	   (SELECT count(*) FROM scim.token t WHERE t.hash::text LIKE '%' || :'tok' || '%') AS plaintext_nowhere;

-- r(method, path, query, body[, token]): one request, its status and masked body
CREATE FUNCTION pg_temp.r(m text, p text, q text DEFAULT NULL, b text DEFAULT NULL, tok text DEFAULT current_setting('test.tok'),
						  extra jsonb DEFAULT '{}')
	RETURNS TABLE (status integer, body text) LANGUAGE sql AS $$
	SELECT h.status, pg_temp.masked(h.body)
	FROM scim.handle(m, p, q, jsonb_build_object('authorization', 'Bearer ' || tok, 'host', 'scim.example.com') || extra, b) h
$$;
SELECT set_config('test.tok', :'tok', false) IS NOT NULL AS ok;

-- authentication
SELECT * FROM pg_temp.r('GET', '/Users', NULL, NULL, 'wrong');
SELECT status, headers->>'www-authenticate' FROM scim.handle('GET', '/Users', NULL, '{}', NULL);
SELECT status FROM scim.handle('GET', '/Users', NULL, '{"authorization": "Basic dXNlcjpwYXNz"}', NULL);

-- Entra ID: Test Connection queries a random userName and expects an empty ListResponse
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName+eq+%22ec4f6c5d-4a1b-4b4e-9a7e-9c1f3f0e2b11%22');

-- Entra ID: create (E-TUT "Create User" request), then match by userName and externalId
SELECT * FROM pg_temp.r('POST', '/Users', NULL, $${
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
  "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
  "active": true,
  "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
  "meta": {"resourceType": "User"},
  "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
  "roles": [],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tour Operations", "manager": null}
}$$);
SELECT (h.body->'Resources'->0->>'id') AS uid FROM scim.handle('GET', '/Users',
	'filter=userName eq "test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1"',
	jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h \gset
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"&attributes=userName');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=emails[type eq "work"].value eq "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"&attributes=id');
SELECT * FROM pg_temp.r('GET', '/Users/' || :'uid');

-- Entra ID: PATCH in both flag modes, then disable with "False" and enable again
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, $${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                 {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]}$$);
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, $${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "replace", "value": {"displayName": "Babs", "name.givenName": "Barbara",
                  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984"}}]}$$);
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}');
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}');
-- a no-op PATCH leaves version and lastModified alone
SELECT (SELECT headers->>'etag' FROM scim.handle('GET', '/Users/' || :'uid', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL)) =
	   (SELECT headers->>'etag' FROM scim.handle('PATCH', '/Users/' || :'uid', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'),
		'{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"userName","value":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"}]}')) AS same_version;

-- Entra ID: groups are created empty, read with excludedAttributes=members, changed with PATCH (204)
SELECT * FROM pg_temp.r('POST', '/Groups', NULL, '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName","meta":{"resourceType":"Group"}}');
SELECT (h.body->'Resources'->0->>'id') AS gid FROM scim.handle('GET', '/Groups', 'excludedAttributes=members&filter=displayName eq "displayName"',
	jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h \gset
SELECT * FROM pg_temp.r('GET', '/Groups', 'excludedAttributes=members&filter=displayName eq "displayName"');
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, format($${"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"%s"}]}]}$$, :'uid'));
SELECT * FROM pg_temp.r('GET', '/Groups/' || :'gid');
SELECT * FROM pg_temp.r('GET', '/Users/' || :'uid', 'attributes=groups');
-- a member must exist in the tenant
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"00000000-0000-0000-0000-000000000000"}]}]}');
-- member removal, default mode (value array) and flag mode (filter)
SELECT status FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"%s"}]}]}', :'uid'));
SELECT * FROM pg_temp.r('GET', '/Groups/' || :'gid', 'attributes=members');
SELECT status FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"%s"}]}]}', :'uid'));
SELECT status FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"%s\"]"}]}', :'uid'));
SELECT count(*) AS members_left FROM scim.group_members WHERE group_id = :'gid';
-- rename, and a duplicate displayName
SELECT status FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Sales"}]}');
SELECT * FROM pg_temp.r('POST', '/Groups', NULL, '{"displayName":"SALES"}');

-- Okta: GET then full PUT (read-only attributes sent back are ignored), deactivate by no-path replace
SELECT * FROM pg_temp.r('PUT', '/Users/' || :'uid', NULL, format($${"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id":"%s","userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1","name":{"givenName":"Barbara","familyName":"Jensen"},
  "emails":[{"primary":true,"value":"bjensen@example.com","type":"work"}],"displayName":"Barbara Jensen","locale":"en-US",
  "externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true}$$, :'uid'));
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'uid', 'attributes=active', '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}');
-- passwords are stored hashed and never returned
SELECT data->>'password' LIKE 'SCRAM-SHA-256$4096:%' AS scram, data::text NOT LIKE '%1mz050nq%' AS not_plain FROM scim.users WHERE id = :'uid';
SELECT body NOT LIKE '%password%' AS never_returned FROM pg_temp.r('GET', '/Users/' || :'uid', 'attributes=password');

-- Okta: paging with startIndex and count; integers, stable order
DO $$
BEGIN
	FOR i IN 1 .. 25 LOOP
		PERFORM scim.handle('POST', '/Users', NULL, jsonb_build_object('authorization', 'Bearer ' || current_setting('test.tok')),
							format('{"userName":"okta.user%s@example.com","name":{"familyName":"F%s"}}', lpad(i::text, 2, '0'), 26 - i));
	END LOOP;
END $$;
SELECT status, b->'totalResults' AS total, b->'itemsPerPage' AS per_page, b->'startIndex' AS start,
	   (SELECT string_agg(x->>'userName', ',') FROM jsonb_array_elements(b->'Resources') x) AS names
FROM (SELECT h.status, h.body AS b FROM scim.handle('GET', '/Users', 'filter=userName sw "okta."&startIndex=11&count=10&attributes=userName',
	  jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h) s;
SELECT b->'totalResults' AS total, b->'itemsPerPage' AS per_page, jsonb_array_length(b->'Resources') AS n
FROM (SELECT h.body AS b FROM scim.handle('GET', '/Users', 'filter=userName sw "okta."&startIndex=21&count=100',
	  jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h) s;
-- startIndex below 1 counts as 1, negative count as 0 (totals only), past the end is empty
SELECT b->'startIndex' AS start, b->'itemsPerPage' AS per_page FROM (SELECT h.body AS b FROM scim.handle('GET', '/Users',
	'startIndex=-5&count=2', jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h) s;
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName sw "okta."&count=-1');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName sw "okta."&startIndex=1000');
SELECT * FROM pg_temp.r('GET', '/Users', 'count=ten');
-- sortBy, both orders; missing values last ascending
SELECT (SELECT string_agg(x->'name'->>'familyName', ',') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('GET', '/Users', 'filter=userName sw "okta.user0"&sortBy=name.familyName&sortOrder=descending',
				 jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;
SELECT (SELECT string_agg(coalesce(x->'name'->>'familyName', '-'), ',') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('GET', '/Users', 'sortBy=name.familyName&count=4&attributes=name.familyName',
				 jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;
-- POST /Users/.search with a SearchRequest
SELECT * FROM pg_temp.r('POST', '/Users/.search', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"attributes":["userName"],"filter":"userName eq \"okta.user07@example.com\"","startIndex":1,"count":10}');

-- Google Workspace: suspend, unsuspend, then hard delete
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}');
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}');
SELECT status FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"%s"}]}]}', :'uid'));
SELECT * FROM pg_temp.r('DELETE', '/Users/' || :'uid');
SELECT * FROM pg_temp.r('GET', '/Users/' || :'uid');
SELECT * FROM pg_temp.r('DELETE', '/Users/' || :'uid');
SELECT count(*) AS memberships_left FROM scim.group_members WHERE value = :'uid';

-- ETags: If-None-Match on GET, If-Match on writes
SELECT (h.body->'Resources'->0->>'id') AS oid FROM scim.handle('GET', '/Users', 'filter=userName eq "okta.user01@example.com"',
	jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h \gset
SELECT status, body FROM pg_temp.r('GET', '/Users/' || :'oid', NULL, NULL, :'tok', '{"if-none-match": "W/\"1\""}');
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'oid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"x"}]}', :'tok', '{"if-match": "W/\"7\""}');
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'oid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"x"}]}', :'tok', '{"if-match": "W/\"1\""}');
SELECT status FROM pg_temp.r('GET', '/Users/' || :'oid', NULL, NULL, :'tok', '{"if-none-match": "W/\"1\""}');

-- discovery
SELECT * FROM pg_temp.r('GET', '/ServiceProviderConfig');
SELECT status, (SELECT string_agg(x->>'id', ', ') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('GET', '/ResourceTypes', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;
SELECT * FROM pg_temp.r('GET', '/ResourceTypes/User');
SELECT status, (SELECT string_agg(x->>'id', ', ') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('GET', '/Schemas', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;
SELECT status, h.body->>'name' FROM scim.handle('GET', '/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', NULL,
	jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;
SELECT * FROM pg_temp.r('POST', '/ServiceProviderConfig', NULL, '{}');
SELECT * FROM pg_temp.r('GET', '/Schemas', 'filter=id eq "x"');
SELECT * FROM pg_temp.r('GET', '/Schemas/urn:nope');

-- bad requests, each with its SCIM error
SELECT * FROM pg_temp.r('POST', '/Users', NULL, '{"userName": ');
SELECT * FROM pg_temp.r('POST', '/Users', NULL, '[]');
SELECT * FROM pg_temp.r('POST', '/Users', NULL, '{"displayName":"no userName"}');
SELECT * FROM pg_temp.r('POST', '/Users', NULL, '{"userName":"x","active":"maybe"}');
-- not one of them since issue 21 bug 6: an attribute the schema lacks is left out
SELECT * FROM pg_temp.r('POST', '/Users', NULL, '{"userName":"x","nosuch":1}');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName co');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=foo eq "x"');
SELECT * FROM pg_temp.r('GET', '/Users', 'attributes=userName&excludedAttributes=id');
SELECT * FROM pg_temp.r('GET', '/Users/not-an-id');
SELECT * FROM pg_temp.r('GET', '/Widgets');
SELECT * FROM pg_temp.r('GET', '/');
SELECT * FROM pg_temp.r('DELETE', '/Users');
SELECT * FROM pg_temp.r('PUT', '/Users/.search');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'oid', NULL, '{"Operations":[]}');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'oid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"x"}]}');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName eq "x"%00');
-- an error leaves no partial write: the PATCH below fails in its second operation
SELECT status FROM pg_temp.r('PATCH', '/Users/' || :'oid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"nickName","value":"n"},{"op":"add","path":"nosuch","value":1}]}');
SELECT data ? 'nickName' AS half_written FROM scim.users WHERE id = :'oid';

-- two tenants: a token reaches only its own tenant's rows, on every endpoint
SELECT * FROM pg_temp.r('GET', '/Users/' || :'oid', NULL, NULL, :'tok2');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName sw "okta."&count=0', NULL, :'tok2');
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'oid', NULL, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"pwned"}]}', :'tok2');
SELECT * FROM pg_temp.r('PUT', '/Users/' || :'oid', NULL, '{"userName":"pwned"}', :'tok2');
SELECT * FROM pg_temp.r('DELETE', '/Users/' || :'oid', NULL, NULL, :'tok2');
SELECT * FROM pg_temp.r('PATCH', '/Groups/' || :'gid', NULL, format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"%s"}]}]}', :'oid'), :'tok2');
-- the same userName may exist once per tenant
SELECT status FROM pg_temp.r('POST', '/Users', NULL, '{"userName":"okta.user01@example.com"}', :'tok2');
SELECT data->>'title' AS title_still FROM scim.users WHERE id = :'oid';
-- row-level security holds for a role that is not a superuser, whatever it writes in SQL
CREATE ROLE scim_app_test NOSUPERUSER NOBYPASSRLS;
GRANT USAGE ON SCHEMA scim TO scim_app_test;
GRANT SELECT, INSERT, UPDATE, DELETE ON scim.users, scim.groups, scim.group_members TO scim_app_test;
SET ROLE scim_app_test;
SELECT count(*) AS visible_without_tenant FROM scim.users;
SELECT set_config('scim.tenant', :'fabrikam', false) IS NOT NULL AS acting_for_fabrikam;
SELECT count(*) AS visible_to_fabrikam FROM scim.users;
UPDATE scim.users SET data = data || '{"title":"pwned"}' WHERE id = :'oid';
RESET ROLE;
SELECT set_config('scim.tenant', '', false) IS NOT NULL AS reset;
SELECT data->>'title' AS title_still FROM scim.users WHERE id = :'oid';
REVOKE ALL ON scim.users, scim.groups, scim.group_members FROM scim_app_test;
REVOKE ALL ON SCHEMA scim FROM scim_app_test;
DROP ROLE scim_app_test;

-- scim.current_tenant() is NULL outside a handler call, and no setting moves
-- it; a superuser may act for a tenant by hand, until the transaction ends
SELECT scim.current_tenant() IS NULL AS none;
SELECT set_config('scim.tenant', :'fabrikam', false);
BEGIN;
SELECT scim._act_for(:'fabrikam') IS NOT NULL AS acted, scim.current_tenant() = :'fabrikam' AS fabrikam;
SELECT scim._act_for(:'contoso') IS NOT NULL AS acted, scim.current_tenant() = :'contoso' AS contoso;
COMMIT;
SELECT scim.current_tenant() IS NULL AS none_after_the_transaction;

-- scim.handle() as the unprivileged role the README tells the HTTP layer to use
CREATE ROLE scim_server_test NOSUPERUSER NOBYPASSRLS;
GRANT USAGE ON SCHEMA scim TO scim_server_test;
GRANT EXECUTE ON FUNCTION scim.handle(text, text, text, jsonb, text) TO scim_server_test;
SET ROLE scim_server_test;
SELECT status, h.body->'totalResults' AS total FROM scim.handle('GET', '/Users', 'count=0', jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;
SELECT status, h.body->'totalResults' AS total FROM scim.handle('GET', '/Users', 'count=0', jsonb_build_object('authorization', 'Bearer ' || :'tok2'), NULL) h;
SELECT status FROM scim.handle('GET', '/Users/' || :'oid', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok2'), NULL) h;
SELECT status FROM scim.handle('POST', '/Users', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'), '{"userName":"made.by.the.server.role@example.com"}') h;
SELECT count(*) AS rows_without_a_tenant FROM scim.users;
SELECT has_table_privilege('scim.token', 'SELECT') AS tokens_readable;
RESET ROLE;
DROP OWNED BY scim_server_test;
DROP ROLE scim_server_test;

-- revoked and expired tokens stop working
SELECT scim.revoke_token(:'tok2') AS revoked, scim.revoke_token(:'tok2') AS again;
SELECT status FROM pg_temp.r('GET', '/Users', NULL, NULL, :'tok2');
SELECT scim.create_token(:'fabrikam', now() - interval '1 second') AS expired \gset
SELECT status FROM pg_temp.r('GET', '/Users', NULL, NULL, :'expired');

-- cursor pagination (RFC 9865): walk all pages, each row once, in order
CREATE FUNCTION pg_temp.walk(filter text, page integer) RETURNS TABLE (n integer, items integer, total text, has_next boolean, names text)
	LANGUAGE plpgsql AS $$
DECLARE
	cur text := '';
	b jsonb;
BEGIN
	n := 0;
	LOOP
		n := n + 1;
		SELECT h.body INTO b FROM scim.handle('GET', '/Users',
			format('filter=%s&count=%s&cursor=%s', filter, page, cur), jsonb_build_object('authorization', 'Bearer ' || current_setting('test.tok')), NULL) h;
		items := jsonb_array_length(b->'Resources');
		total := b->>'totalResults';
		has_next := b ? 'nextCursor';
		names := (SELECT string_agg(right(split_part(x->>'userName', '@', 1), 2), ',') FROM jsonb_array_elements(b->'Resources') x);
		RETURN NEXT;
		EXIT WHEN NOT has_next OR n > 10;
		cur := b->>'nextCursor';
	END LOOP;
END $$;
SELECT * FROM pg_temp.walk('userName sw "okta."', 10);
SELECT * FROM pg_temp.walk('userName sw "okta."', 25);
SELECT (SELECT h.body->>'nextCursor' FROM scim.handle('GET', '/Users', 'count=2&cursor', jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h) ~ '^[A-Za-z0-9_-]+$' AS unreserved_characters;
SELECT (SELECT h.body->>'nextCursor' FROM scim.handle('GET', '/Users', 'count=2&cursor=', jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h) AS c \gset
SELECT * FROM pg_temp.r('GET', '/Users', 'count=2&cursor=' || :'c');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName sw "x"&count=2&cursor=' || :'c');
SELECT * FROM pg_temp.r('GET', '/Users', 'count=2&cursor=bm90LWEtY3Vyc29y');
SELECT * FROM pg_temp.r('GET', '/Users', 'count=0&cursor=');
SELECT * FROM pg_temp.r('GET', '/Users', 'count=2&cursor=&sortBy=userName');
SET scim.cursor_timeout = 1;
SELECT pg_sleep(2.1);
SELECT * FROM pg_temp.r('GET', '/Users', 'count=2&cursor=' || :'c');
RESET scim.cursor_timeout;
SELECT h.body->'pagination' FROM scim.handle('GET', '/ServiceProviderConfig', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h;

-- POST /.search spans Users and Groups; an attribute one type lacks has no value there (RFC 7644 section 3.4.2)
SELECT status, (SELECT string_agg(coalesce(x->>'userName', x->>'displayName'), ', ') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('POST', '/.search', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'),
				 '{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"displayName eq \"Sales\" or userName eq \"okta.user03@example.com\""}') h;
SELECT status, h.body->'totalResults' FROM scim.handle('POST', '/.search', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'),
				 '{"filter":"userName sw \"okta.\"","count":0}') h;
SELECT * FROM pg_temp.r('POST', '/.search', NULL, '{"filter":"nosuch eq 1"}');
-- sorted by an attribute only Users have, whose sort key is no text: Groups have no value to sort by
SELECT status, (SELECT string_agg(coalesce(x->>'userName', x->>'displayName'), ', ') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('POST', '/.search', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'),
				 '{"filter":"displayName eq \"Sales\" or userName sw \"okta.user0\"","sortBy":"active","count":3}') h;
-- an empty array as sortBy sorts by nothing
SELECT status, (SELECT string_agg(x->>'userName', ', ') FROM jsonb_array_elements(h.body->'Resources') x)
FROM scim.handle('POST', '/Users/.search', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'),
				 '{"filter":"userName sw \"okta.user0\"","sortBy":[],"count":3}') h;
-- a number jsonb cannot hold, in a SearchRequest and in a new user
SELECT * FROM pg_temp.r('POST', '/.search', NULL, '{"count":1e1000000}');
SELECT * FROM pg_temp.r('POST', '/Users', NULL, '{"userName":"big","x":1e-20000}');
-- pages by startIndex (which skip over (created, id) alone) joined are the whole list, in order:
-- on one type with a filter, and at the root across Users and Groups
WITH whole AS (
	SELECT string_agg(x->>'id', ',' ORDER BY n) AS ids
	FROM scim.handle('GET', '/Users', 'filter=userName sw "okta."&count=100',
					 jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h,
		 jsonb_array_elements(h.body->'Resources') WITH ORDINALITY AS e(x, n)),
paged AS (
	SELECT string_agg(x->>'id', ',' ORDER BY s, n) AS ids, count(*) AS k
	FROM generate_series(1, 25, 4) s,
		 LATERAL scim.handle('GET', '/Users', format('filter=userName sw "okta."&startIndex=%s&count=4', s),
							 jsonb_build_object('authorization', 'Bearer ' || :'tok'), NULL) h,
		 jsonb_array_elements(h.body->'Resources') WITH ORDINALITY AS e(x, n))
SELECT whole.ids = paged.ids AS same_rows_same_order, paged.k FROM whole, paged;
WITH whole AS (
	SELECT string_agg(x->>'id', ',' ORDER BY n) AS ids, count(*) AS k
	FROM scim.handle('POST', '/.search', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'), '{"count":1000}') h,
		 jsonb_array_elements(h.body->'Resources') WITH ORDINALITY AS e(x, n)),
paged AS (
	SELECT string_agg(x->>'id', ',' ORDER BY s, n) AS ids
	FROM generate_series(1, 100, 3) s,
		 LATERAL scim.handle('POST', '/.search', NULL, jsonb_build_object('authorization', 'Bearer ' || :'tok'),
							 format('{"startIndex":%s,"count":3}', s)) h,
		 jsonb_array_elements(h.body->'Resources') WITH ORDINALITY AS e(x, n))
SELECT whole.ids = paged.ids AS same_rows_same_order, whole.k BETWEEN 26 AND 99 AS users_and_groups_all_paged FROM whole, paged;
SELECT * FROM pg_temp.r('GET', '/.search');

-- the event log: what an admin reviews after a cycle
SELECT kind, resource_type, split_part(operation, ' ', 1) AS method, status, scim_type, count(*)
FROM scim.events WHERE tenant_name = 'Contoso' GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5;
-- a tenant's latest events are read from the key (tenant, at, id), newest first, without a sort
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT at, kind, operation FROM scim.event
WHERE tenant = '00000000-0000-0000-0000-000000000001' ORDER BY at DESC LIMIT 50;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT scim.prune_events('0 seconds') >= 0 AS pruned;
