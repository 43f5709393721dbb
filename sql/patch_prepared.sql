-- scim.patch() keeps prepared requests per backend, found by the request's
-- bytes or by its shape (the request with its values' scalars left out),
-- and a request of a known shape takes its own values.  Each check below
-- runs many requests of a few shapes one after another in one backend and
-- checks every result against the values of its own request: a prepared
-- request left holding another request's values shows as a mismatch.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE FUNCTION pg_temp.req(ops jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb, 'Operations', ops)
$$;

CREATE TEMP TABLE u AS SELECT '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "userName": "bjensen",
  "name": {"familyName": "Jensen", "givenName": "Barbara"},
  "displayName": "Babs Jensen",
  "active": true,
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
             {"value": "babs@jensen.org", "type": "home"}]
}'::jsonb AS r;

-- Entra ID's three replaces, then Okta's no-path replace, then a no-path
-- replace under the enterprise extension's URN, then an add of a nested
-- value, interleaved, 600 requests in all, each value new.
SELECT setseed(0.5);
CREATE TEMP TABLE runs AS
SELECT i, (i % 4) AS shape, 'v' || i || '-' || floor(random() * 1e6)::int AS s, random() < 0.5 AS b
FROM generate_series(1, 600) i;

CREATE TEMP TABLE results AS
SELECT i, shape, s, b,
	   scim.patch(u.r, CASE shape
		   WHEN 0 THEN pg_temp.req(jsonb_build_array(
				jsonb_build_object('op', 'Replace', 'path', 'displayName', 'value', s),
				jsonb_build_object('op', 'Replace', 'path', 'active', 'value', CASE WHEN b THEN 'True' ELSE 'False' END),
				jsonb_build_object('op', 'Replace', 'path', 'emails[type eq "work"].value', 'value', s || '@example.com')))
		   WHEN 1 THEN pg_temp.req(jsonb_build_array(
				jsonb_build_object('op', 'replace', 'value', jsonb_build_object('active', b, 'nickName', s))))
		   WHEN 2 THEN pg_temp.req(jsonb_build_array(
				jsonb_build_object('op', 'replace', 'value', jsonb_build_object(
					'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
					jsonb_build_object('department', s, 'employeeNumber', 'e' || i)))))
		   ELSE pg_temp.req(jsonb_build_array(
				jsonb_build_object('op', 'add', 'path', 'name', 'value', jsonb_build_object('givenName', s, 'middleName', 'm' || i)),
				jsonb_build_object('op', 'remove', 'path', 'emails[type eq "home"]')))
		   END, 'User') AS p
FROM runs, u
ORDER BY i;

SELECT shape, count(*) AS requests,
	   count(*) FILTER (WHERE CASE shape
		   WHEN 0 THEN p->>'displayName' = s AND (p->'active')::bool = b
					   AND p->'emails' @> jsonb_build_array(jsonb_build_object('type', 'work', 'value', s || '@example.com'))
		   WHEN 1 THEN (p->'active')::bool = b AND p->>'nickName' = s
		   WHEN 2 THEN p->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
					   = jsonb_build_object('department', s, 'employeeNumber', 'e' || i)
		   ELSE p->'name' = jsonb_build_object('familyName', 'Jensen', 'givenName', s, 'middleName', 'm' || i)
				AND jsonb_array_length(p->'emails') = 1
		   END) AS with_their_own_values
FROM results GROUP BY shape ORDER BY shape;

-- More shapes than the backend keeps (16), cycled three times: each comes
-- back prepared afresh or from its slot, with its own value every time.
WITH r AS (
	SELECT k, round, scim.patch(u.r, pg_temp.req(jsonb_build_array(
			   jsonb_build_object('op', 'replace', 'path', 'title', 'value', 't' || k || '.' || round),
			   jsonb_build_object('op', 'replace', 'path', 'profileUrl', 'value', 'https://example.com/' || k)
			   -- k extra operations make k shapes
			   ) || (SELECT coalesce(jsonb_agg(jsonb_build_object('op', 'replace', 'path', 'locale', 'value', 'l' || j)), '[]')
					 FROM generate_series(1, k) j)), 'User') AS p
	FROM u, generate_series(1, 3) round, generate_series(0, 19) k
	ORDER BY round, k)
SELECT count(*) AS requests,
	   count(*) FILTER (WHERE p->>'title' = 't' || k || '.' || round
						AND p->>'profileUrl' = 'https://example.com/' || k
						AND p->>'locale' IS NOT DISTINCT FROM CASE WHEN k > 0 THEN 'l' || k END) AS right
FROM r;

-- A value of another type is another shape, and the core judges it again.
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"displayName","value":"First"}]'), 'User')->>'displayName' FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"displayName","value":7}]'), 'User') FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"displayName","value":"Second"}]'), 'User')->>'displayName' FROM u;

-- A value the engine refuses leaves the prepared request able to take the next.
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"active","value":"True"}]'), 'User')->'active' FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"active","value":"maybe"}]'), 'User') FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"active","value":"False"}]'), 'User')->'active' FROM u;

-- Two members that are each "value" (names differ only in case): such a
-- request is never matched by shape; the second takes its own values.
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"nickName","value":"a","Value":"b"}]'), 'User')->>'nickName' FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","path":"nickName","value":"c","Value":"d"}]'), 'User')->>'nickName' FROM u;

-- The same for "Operations": an "operations" member as well.
SELECT scim.patch(r, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations":[{"op":"replace","path":"nickName","value":"x"}],
  "operations":[{"op":"replace","path":"title","value":"y"}]}', 'User') - 'emails' - 'name' - 'schemas' FROM u;
SELECT scim.patch(r, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations":[{"op":"replace","path":"nickName","value":"z"}],
  "operations":[{"op":"replace","path":"title","value":"w"}]}', 'User') - 'emails' - 'name' - 'schemas' FROM u;

-- A no-path value that lacks a member the shape had is another shape.
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","value":{"nickName":"n1","title":"t1"}}]'), 'User') - 'emails' - 'name' - 'schemas' FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","value":{"nickName":"n2"}}]'), 'User') - 'emails' - 'name' - 'schemas' FROM u;
SELECT scim.patch(r, pg_temp.req('[{"op":"replace","value":{"nickName":"n3","title":"t3"}}]'), 'User') - 'emails' - 'name' - 'schemas' FROM u;
