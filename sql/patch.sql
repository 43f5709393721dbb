-- scim.patch: RFC 7644 §3.5.2 operations on the schema model
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

-- p(resource, operations[, type]): wrap operations in a PatchOp request
CREATE FUNCTION pg_temp.p(r jsonb, ops jsonb, rt text DEFAULT 'User') RETURNS jsonb LANGUAGE sql AS $$
	SELECT scim.patch(r, jsonb_build_object('schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb,
											'Operations', ops), rt)
$$;

CREATE TEMP TABLE bjensen AS SELECT '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "externalId": "bjensen",
  "userName": "bjensen",
  "name": {"familyName": "Jensen", "givenName": "Barbara"},
  "displayName": "Babs Jensen",
  "active": true,
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
             {"value": "babs@jensen.org", "type": "home"}],
  "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                 "region": "CA", "postalCode": "91608", "country": "USA", "primary": true},
                {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood"}],
  "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
           "lastModified": "2011-05-13T04:42:34Z", "version": "W/\"3694e05e9dff591\""}
}'::jsonb AS r;

CREATE TEMP TABLE grp AS SELECT '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce",
  "displayName": "Tour Guides",
  "members": [{"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen", "type": "User"},
              {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge", "type": "User"}]
}'::jsonb AS r;

-- RFC 7644 §3.5.2.1 add: members to a group
SELECT pg_temp.p(r, '[{"op":"add","path":"members","value":[{"display":"Babs Jensen","$ref":"https://example.com/v2/Users/2819c223","value":"2819c223-aaaa"}]}]', 'Group')->'members' FROM grp;
-- add without a path: the value's attributes are merged
SELECT pg_temp.p(r, '[{"op":"add","value":{"emails":[{"value":"babs@jensen.org","type":"home"}],"nickName":"Babs"}}]') - 'meta' - 'addresses' FROM bjensen;
-- add to a complex attribute merges sub-attributes
SELECT pg_temp.p(r, '[{"op":"add","path":"name","value":{"middleName":"J"}}]')->'name' FROM bjensen;
-- add of a value already present changes nothing, byte for byte
SELECT pg_temp.p(r, '[{"op":"add","path":"emails","value":[{"value":"bjensen@example.com","type":"work"}]}]') = r AS unchanged,
       pg_temp.p(r, '[{"op":"add","path":"userName","value":"bjensen"}]')::text = r::text AS identical FROM bjensen;
-- add creates missing targets, also in an extension (and lists its URN in schemas)
SELECT pg_temp.p(r, '[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tour Operations"}]')
       - 'meta' - 'addresses' - 'emails' - 'name' FROM bjensen;

-- RFC 7644 §3.5.2.2 remove
SELECT pg_temp.p(r, '[{"op":"remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]', 'Group')->'members' FROM grp;
SELECT pg_temp.p(r, '[{"op":"remove","path":"members"}]', 'Group') FROM grp;
SELECT pg_temp.p(r, '[{"op":"remove","path":"emails[type eq \"work\" and value ew \"example.com\"]"}]')->'emails' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"emails[type eq \"other\"]"}]') = r AS no_match_is_quiet FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"nickName"}]') = r AS absent_is_quiet FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"emails[type eq \"work\"]"},{"op":"remove","path":"emails[type eq \"home\"]"}]') ? 'emails' AS emails_left FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"name.givenName"}]')->'name' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"addresses[type eq \"work\"].region"}]')->'addresses'->0 FROM bjensen;
-- replace members in one request: remove all, then add (RFC example)
SELECT pg_temp.p(r, '[{"op":"remove","path":"members"},{"op":"add","path":"members","value":[{"display":"James Smith","value":"08e1d05d"}]}]', 'Group')->'members' FROM grp;

-- RFC 7644 §3.5.2.3 replace
SELECT pg_temp.p(r, '[{"op":"replace","path":"members","value":[{"display":"Babs Jensen","value":"2819c223"},{"display":"James Smith","value":"08e1d05d"}]}]', 'Group')->'members' FROM grp;
SELECT pg_temp.p(r, '[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza","locality":"Hollywood","region":"CA","postalCode":"91608","country":"US","formatted":"911 Universal City Plaza\nHollywood, CA 91608 US","primary":true}}]')->'addresses' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"addresses[type eq \"work\"].streetAddress","value":"1010 Broadway Ave"}]')->'addresses'->0->>'streetAddress' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","value":{"emails":[{"value":"bjensen@example.com","type":"work","primary":true}],"nickName":"Babs"}}]')->'emails' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"name","value":{"givenName":"Babs"}}]')->'name' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"nickName","value":"Babs"}]')->>'nickName' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"displayName","value":null}]') ? 'displayName' AS still_there FROM bjensen;
-- a filtered replace that matches nothing and describes no element: noTarget
SELECT pg_temp.p(r, '[{"op":"replace","path":"emails[value co \"nowhere\"].type","value":"other"}]') FROM bjensen;

-- primary: true on one value clears it on the others
SELECT pg_temp.p(r, '[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]')->'emails' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"other","primary":true}]}]')->'emails' FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}]') FROM bjensen;

-- operations apply in order, each on the result of the previous
SELECT pg_temp.p(r, '[{"op":"add","path":"title","value":"a"},{"op":"replace","path":"title","value":"b"},{"op":"add","path":"nickName","value":"n"},{"op":"remove","path":"title"}]') - 'meta' - 'addresses' - 'emails' - 'name' FROM bjensen;

-- canonical names whatever the case sent
SELECT pg_temp.p('{"userName":"x"}', '[{"op":"ADD","path":"NAME.GIVENNAME","value":"B"},{"op":"add","path":"Emails","value":[{"VALUE":"a@b","Type":"work"}]},{"op":"replace","path":"USERNAME","value":"y"}]');
SELECT pg_temp.p('{"username":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"Department":"a"}}',
				 '[{"op":"replace","path":"userName","value":"y"},{"op":"replace","path":"department","value":"b"}]');

-- mutability
SELECT pg_temp.p(r, '[{"op":"replace","path":"id","value":"other"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"id","value":"2819c223-7f76-453a-919d-413861904646"}]') = r AS equal_readonly_tolerated FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"id"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"remove","path":"userName"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"userName","value":null}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"groups","value":[{"value":"g1"}]}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"].value","value":"x"}]', 'Group') FROM grp;
SELECT pg_temp.p(r, '[{"op":"add","path":"password","value":"t1meMa$heen"}]') ? 'password' AS write_only_written FROM bjensen;

-- fuzz findings: a filtered add merges only into objects and honours mutability
SELECT pg_temp.p('{"userName":"x","emails":[1,"two",null,{"type":"home","value":"h@x"}]}',
				 '[{"op":"add","path":"emails[not (type pr)]","value":{"type":"w"}}]')->'emails';
SELECT pg_temp.p(r, '[{"op":"add","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]","value":{"value":"other"}}]', 'Group') FROM grp;
SELECT pg_temp.p(r, '[{"op":"remove","path":"schemas","value":["urn:ietf:params:scim:schemas:core:2.0:User"]}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"schemas","value":[]}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"manager","value":{"value":"m","displayName":"Forged"}}]') FROM bjensen;

-- bad paths: invalidPath
SELECT pg_temp.p(r, '[{"op":"add","path":"nosuch","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"name.nosuch","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"emails[type eq \"work\"","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"emails[type eq]","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"emails[type eq \"work\"].nosuch","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"emails[type eq \"work\"]value","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"name[givenName eq \"x\"]","value":{}}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"emails.value","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"user name","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":42,"value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:nope:2.0:User:x","value":"x"}]') FROM bjensen;

-- wrong value types: invalidValue
SELECT pg_temp.p(r, '[{"op":"replace","path":"active","value":"yes"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"userName","value":42}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"name","value":"Babs"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"emails","value":[{"value":7}]}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"meta.lastModified","value":"yesterday"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"title"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","path":"title","value":null}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"add","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"replace","path":"emails[type eq \"work\"]","value":"x"}]') FROM bjensen;

-- remove without a path: noTarget
SELECT pg_temp.p(r, '[{"op":"remove"}]') FROM bjensen;

-- malformed requests: invalidSyntax
SELECT scim.patch(r, '{"Operations":[{"op":"add","path":"title","value":"x"}]}') FROM bjensen;
SELECT scim.patch(r, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}') FROM bjensen;
SELECT scim.patch(r, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":{}}') FROM bjensen;
SELECT scim.patch(r, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}') FROM bjensen;
SELECT scim.patch(r, '[]') FROM bjensen;
SELECT pg_temp.p(r, '[{"op":"move","path":"title","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '[{"path":"title","value":"x"}]') FROM bjensen;
SELECT pg_temp.p(r, '["add"]') FROM bjensen;
SELECT scim.patch('[1]', '{}');
SELECT scim.patch('{}', '{}', 'Widget');

-- atomic: the second operation fails, so the first is not applied either
SELECT pg_temp.p(r, '[{"op":"replace","path":"title","value":"changed"},{"op":"replace","path":"id","value":"x"}]') FROM bjensen;
CREATE TEMP TABLE atomic AS SELECT 1 AS k, r FROM bjensen;
DO $$
BEGIN
	UPDATE atomic SET r = pg_temp.p(r, '[{"op":"replace","path":"title","value":"changed"},{"op":"add","path":"nosuch","value":1}]');
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'caught %: %', SQLSTATE, SQLERRM;
END $$;
SELECT r ? 'title' AS title_written FROM atomic;

-- the SQLSTATEs map to scimType
SELECT e.sqlstate, e.scim_type FROM scim.error_codes() e WHERE e.scim_type IN ('invalidPath', 'invalidValue', 'invalidSyntax', 'noTarget', 'mutability') ORDER BY 1;

-- a huge request is refused before work
SELECT pg_temp.p(r, (SELECT jsonb_agg('{"op":"add","path":"title","value":"x"}'::jsonb) FROM generate_series(1, 1001))) FROM bjensen;
-- deep values are handled without crashing
SELECT length(pg_temp.p('{}', jsonb_build_array(jsonb_build_object('op', 'add', 'path', 'name',
	'value', jsonb_build_object('givenName', 'x', 'deep', (SELECT repeat('[', 5000) || repeat(']', 5000))::jsonb))))::text) > 0 AS ok;

-- The result is written in jsonb's binary form directly, the untouched
-- members copied as bytes: it must be the jsonb that jsonb_in makes of the
-- same text, byte for byte (*= compares rows by their binary image), and
-- every member must be found by key.  The
-- users carry 0 to 40 extra members (past 16 members an object's entries
-- store offsets as well as lengths) of every type, numbers among them (they
-- and containers are aligned), and the requests touch members before,
-- among and after them in jsonb's key order.
CREATE FUNCTION pg_temp.same_bytes(a jsonb, b jsonb) RETURNS boolean LANGUAGE sql AS $$
	SELECT (SELECT x FROM (SELECT a) x) *= (SELECT x FROM (SELECT b) x)
$$;
SELECT setseed(0.25);
CREATE TEMP TABLE wide AS
SELECT k, bjensen.r || coalesce((
	SELECT jsonb_object_agg(CASE WHEN j % 3 = 0 THEN 'z' ELSE 'x' END || lpad(j::text, j % 7 + 1, '0'),
		CASE j % 6 WHEN 0 THEN to_jsonb(j * 1.5) WHEN 1 THEN jsonb_build_object('n', j, 's', repeat('s', j))
				   WHEN 2 THEN jsonb_build_array(j, 'a', true, null) WHEN 3 THEN to_jsonb(repeat('v', j % 5))
				   WHEN 4 THEN 'null'::jsonb ELSE to_jsonb(j % 2 = 0) END)
	FROM generate_series(1, k) j), '{}') AS r
FROM bjensen, generate_series(0, 40) k;
CREATE TEMP VIEW wide_patched AS
SELECT k, i, pg_temp.p(r, CASE i % 4
		WHEN 0 THEN jsonb_build_array(jsonb_build_object('op', 'replace', 'path', 'displayName', 'value', 'd' || i))
		WHEN 1 THEN jsonb_build_array(jsonb_build_object('op', 'add', 'path', 'emails', 'value',
					jsonb_build_array(jsonb_build_object('value', i || '@x.org', 'type', 'other'))),
				jsonb_build_object('op', 'replace', 'path', 'active', 'value', i % 8 = 1))
		WHEN 2 THEN jsonb_build_array(jsonb_build_object('op', 'add', 'path', 'nickName', 'value', 'n' || i),
				jsonb_build_object('op', 'remove', 'path', 'name.givenName'))
		ELSE jsonb_build_array(jsonb_build_object('op', 'replace', 'value', jsonb_build_object(
				'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object('costCenter', 'c' || i),
				'title', repeat('t', i % 9))))
		END) AS p
FROM wide, generate_series(0, 7) i;
SELECT count(*) AS results,
	   count(*) FILTER (WHERE p::text::jsonb = p AND pg_temp.same_bytes(p, p::text::jsonb)) AS as_jsonb_in_makes_them,
	   count(*) FILTER (WHERE (SELECT bool_and(p -> key = value) FROM jsonb_each(p::text::jsonb))
							  AND p @> p::text::jsonb AND p::text::jsonb @> p) AS members_found
FROM wide_patched;
SELECT count(*) FILTER (WHERE p - 'displayName' - 'emails' - 'active' - 'nickName' - 'name' - 'title' - 'schemas'
								- 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
							= w.r - 'displayName' - 'emails' - 'active' - 'nickName' - 'name' - 'title' - 'schemas') AS untouched_kept
FROM wide_patched wp JOIN wide w USING (k);
