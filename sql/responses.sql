-- responses: scim.project, scim.list_response, scim.error
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE TEMP TABLE u AS SELECT '{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id": "2819c223", "externalId": "bjensen", "userName": "bjensen", "password": "t1meMa$heen",
  "name": {"givenName": "Barbara", "familyName": "Jensen"},
  "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"type": "home", "value": "babs@jensen.org"}],
  "groups": [{"value": "g1", "display": "Tour Guides"}],
  "x-custom": "kept unless attributes lists what to return",
  "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26", "displayName": "John"}}
}'::jsonb AS r;

-- no parameters: everything but returned "never" (password)
SELECT scim.project(r) FROM u;
-- attributes: only those, plus returned "always" (id, schemas); sub-attributes select parts
SELECT scim.project(r, 'userName') FROM u;
SELECT scim.project(r, 'name.givenName, emails.value') FROM u;
SELECT scim.project(r, 'EMAILS,Name') FROM u;
SELECT scim.project(r, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value') FROM u;
SELECT scim.project(r, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User') FROM u;
SELECT scim.project(r, 'password,id') FROM u;
SELECT scim.project(r, 'nosuch, userName') FROM u;
-- excludedAttributes: all default attributes but those; "always" ones stay
SELECT scim.project(r, NULL, 'emails,name.familyName,meta,id,schemas') FROM u;
SELECT scim.project(r, NULL, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User') FROM u;
SELECT scim.project(r, NULL, 'employeeNumber') FROM u;
-- Entra ID reads groups with excludedAttributes=members
SELECT scim.project('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"g1","displayName":"Sales","members":[{"value":"2819c223"}]}',
					NULL, 'members', 'Group');
-- both parameters is a request error
SELECT scim.project(r, 'userName', 'id') FROM u;
SELECT scim.project(r, NULL, NULL, 'Widget') FROM u;
SELECT scim.project(NULL) IS NULL AS null_in_null_out, scim.project('[1]') AS not_an_object;
-- a complex value left with nothing in it is left out, an element too,
-- even where nothing was asked to go
SELECT scim.project('{"userName": "a", "name": {}, "emails": [{}, {"value": "a@x", "type": "work"}, [{}, 1]],
					  "addresses": [], "phoneNumbers": [{"value": "1"}]}');
SELECT scim.project('{"userName": "a", "name": {}, "emails": [{}, {"value": "a@x", "type": "work"}]}', NULL, 'emails.type');

-- ListResponse from query rows; integers are JSON numbers; Resources always present
CREATE TEMP TABLE many AS SELECT i, jsonb_build_object('id', i::text, 'userName', 'user' || i) AS data FROM generate_series(1, 5) i;
SELECT scim.list_response(data ORDER BY i) FROM many;
SELECT scim.list_response(scim.project(data, 'userName') ORDER BY i) FROM many WHERE i > 3;
-- a page: totalResults counts all matches, startIndex says where the page starts
SELECT scim.list_response(data, total, 3 ORDER BY i)
FROM (SELECT i, data, count(*) OVER () AS total FROM many ORDER BY i OFFSET 2 LIMIT 2) page;
SELECT scim.list_response(data) FROM many WHERE false;
SELECT jsonb_typeof(scim.list_response(data)->'totalResults') FROM many;

-- Error documents
SELECT scim.error(404, NULL, 'Resource 2819c223-7f76-453a-919d-413861904646 not found');
SELECT scim.error(400, 'invalidFilter', 'invalid SCIM filter at or near "bjensen" (character 13)');
SELECT scim.error(409, 'uniqueness');
