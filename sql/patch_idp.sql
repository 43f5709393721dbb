-- the PATCH requests identity providers send (conformance.md §2), one case each
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE FUNCTION pg_temp.p(r jsonb, ops jsonb, rt text DEFAULT 'User') RETURNS jsonb LANGUAGE sql AS $$
	SELECT scim.patch(r, jsonb_build_object('schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb,
											'Operations', ops), rt)
$$;

CREATE TEMP TABLE u AS SELECT '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "u1", "userName": "alice@contoso.com", "externalId": "00aa", "active": true,
  "name": {"givenName": "Alice", "familyName": "Smith"},
  "emails": [{"type": "home", "value": "alice@home.net"}]
}'::jsonb AS r;
CREATE TEMP TABLE g AS SELECT '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
  "id": "g1", "displayName": "Sales",
  "members": [{"value": "u1"}, {"value": "u2"}, {"value": "u3"}]
}'::jsonb AS r;

-- E1 (E-TUT "General"): op names capitalised; E2 (E-COMPAT): "False" as a boolean
SELECT pg_temp.p(r, '[{"op":"Replace","path":"active","value":"False"}]')->'active' FROM u;
SELECT pg_temp.p(r, '[{"op":"Replace","value":{"active":"True"}}]')->'active' FROM u;
SELECT pg_temp.p(r, '[{"op":"REMOVE","path":"name.givenName"},{"op":"aDD","path":"title","value":"CEO"}]') - 'emails' - 'schemas' FROM u;

-- E4 (E-COMPAT, flag mode): no-path replace whose keys are paths
SELECT pg_temp.p(r, '[{"op":"replace","value":{"displayName":"Alice S","name.givenName":"Alicia","name.familyName":"Smythe",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"1234567"}}]') - 'emails' FROM u;
-- an extension URN holding an object, in a no-path add
SELECT pg_temp.p(r, '[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","costCenter":"4130"}}}]')
	->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' FROM u;

-- E5 (E-COMPAT, E-TUT; SCIM-SDK #416): a filtered path with no match creates the element
SELECT pg_temp.p(r, '[{"op":"Add","path":"emails[type eq \"work\"].value","value":"alice@contoso.com"}]')->'emails' FROM u;
SELECT pg_temp.p(r, '[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"alice@contoso.com"}]')->'emails' FROM u;
SELECT pg_temp.p(r, '[{"op":"Replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0100"}]')->'phoneNumbers' FROM u;
-- several addresses[type eq "work"] operations merge into one element (SCIM-SDK #680; pingidentity/scim2 #213)
SELECT pg_temp.p(r, '[{"op":"Add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Microsoft Way"},
	{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Redmond"},
	{"op":"Add","path":"addresses[type eq \"work\"].postalCode","value":"98052"},
	{"op":"Add","path":"addresses[type eq \"work\"].country","value":"US"}]')->'addresses' FROM u;
-- replacing the work email leaves the home email alone (SCIM-SDK #668)
SELECT pg_temp.p(pg_temp.p(r, '[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@contoso.com"}]'),
	'[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"b@contoso.com"}]')->'emails' FROM u;
-- the same request twice changes nothing the second time
SELECT pg_temp.p(x, '[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@contoso.com"}]') = x AS idempotent
FROM (SELECT pg_temp.p(r, '[{"op":"Add","path":"emails[type eq \"work\"].value","value":"a@contoso.com"}]') AS x FROM u) s;

-- E6 (E-COMPAT, default mode): remove members with a value array removes only those
SELECT pg_temp.p(r, '[{"op":"Remove","path":"members","value":[{"value":"u2"}]}]', 'Group')->'members' FROM g;
SELECT pg_temp.p(r, '[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u3"}]}]', 'Group')->'members' FROM g;
-- E6 (flag mode): remove by filter
SELECT pg_temp.p(r, '[{"op":"remove","path":"members[value eq \"u2\"]"}]', 'Group')->'members' FROM g;
-- removing an absent member succeeds quietly (idempotency, SCIM-SDK doNotFailOnNoTarget)
SELECT pg_temp.p(r, '[{"op":"Remove","path":"members","value":[{"value":"nobody"}]}]', 'Group') = r AS unchanged FROM g;
SELECT pg_temp.p(r, '[{"op":"remove","path":"members[value eq \"nobody\"]"}]', 'Group') = r AS unchanged FROM g;

-- E7 (E-TUT "Group Operations"): add members, "$ref": null, several in one PATCH; re-adding is quiet
SELECT pg_temp.p(r, '[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u4"},{"$ref":null,"value":"u5"}]}]', 'Group')->'members' FROM g;
SELECT pg_temp.p(r, '[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]', 'Group') = r AS unchanged FROM g;
-- E7: rename
SELECT pg_temp.p(r, '[{"op":"Replace","path":"displayName","value":"Sales EMEA"}]', 'Group')->>'displayName' FROM g;

-- E9 (E-TUT Example 5): manager as an array without the URN
SELECT pg_temp.p(r, '[{"op":"Add","path":"manager","value":[{"$ref":"https://example.com/Users/u9","value":"u9"}]}]')
	->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' FROM u;
-- E9 (SCIM-SDK #541, #686): manager as a bare id with the URN
SELECT pg_temp.p(r, '[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"u9"}]')
	->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' FROM u;
-- and removing it
SELECT pg_temp.p(pg_temp.p(r, '[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"u9"}]'),
	'[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]') - 'emails' - 'name' FROM u;

-- E10 (E-ATTR): roles from AppRoleAssignmentsComplex, "displayName" kept as sent
SELECT pg_temp.p(r, '[{"op":"add","path":"roles","value":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","displayName":"Admin","value":"Admin"}]}]')->'roles' FROM u;
-- E10 (E-ATTR; SCIM-SDK #516): the role serialised as JSON inside the value string
SELECT pg_temp.p(r, '[{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"7d8f1c2e-0000-4a5b-9c3d-111111111111\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}]')->'roles' FROM u;
-- E10 (E-ATTR): SingleAppRoleAssignment writes through roles[primary eq "True"]
SELECT pg_temp.p(r, '[{"op":"Replace","path":"roles[primary eq \"True\"].value","value":"Reader"}]')->'roles' FROM u;

-- E12 / SEED-004: Peakon's extension, registered at run time, with and without its URN in "schemas"
SELECT scim.register_schema('{"id":"urn:ietf:params:scim:schemas:extension:peakon:2.0:User","name":"PeakonUser",
	"attributes":[{"name":"department","type":"string"},{"name":"level","type":"integer"},{"name":"remote","type":"boolean"}]}');
SELECT pg_temp.p(r, '[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:peakon:2.0:User:level","value":3}]') - 'emails' - 'name' FROM u;
SELECT pg_temp.p(r - 'schemas', '[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:peakon:2.0:User:remote":"True",
	"urn:ietf:params:scim:schemas:extension:peakon:2.0:User":{"department":"R&D"}}}]') - 'emails' - 'name' FROM u;
SELECT pg_temp.p(r, '[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:peakon:2.0:User:level","value":"three"}]') FROM u;
SELECT scim.unregister_schema('urn:ietf:params:scim:schemas:extension:peakon:2.0:User');

-- O3 (OKTA): deactivate and reactivate by no-path replace
SELECT pg_temp.p(r, '[{"op":"replace","value":{"active":false}}]')->'active' FROM u;
-- O6 (OKTA): group rename re-sends the readOnly id; membership in one PATCH
SELECT pg_temp.p(r, '[{"op":"replace","value":{"id":"g1","displayName":"Sales Team"}}]', 'Group') - 'members' FROM g;
SELECT pg_temp.p(r, '[{"op":"remove","path":"members[value eq \"u1\"]"},{"op":"add","path":"members","value":[{"value":"u7","display":"Ursula"}]}]', 'Group')->'members' FROM g;
SELECT pg_temp.p(r, '[{"op":"replace","path":"members","value":[{"value":"u8"}]}]', 'Group')->'members' FROM g;
SELECT pg_temp.p(r, '[{"op":"replace","value":{"id":"other","displayName":"x"}}]', 'Group') FROM g;

-- G2 (SEED-003): Google's suspend and unsuspend
SELECT pg_temp.p(pg_temp.p(r, '[{"op":"replace","path":"active","value":false}]'), '[{"op":"replace","path":"active","value":true}]') = r AS round_trip FROM u;
