-- the schema registry: built-in schemas, custom extensions at run time
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

-- RFC 7643 User, Group and EnterpriseUser ship built in
SELECT id, definition->>'name' AS name, jsonb_array_length(definition->'attributes') AS attributes, builtin
FROM scim.schema ORDER BY id;
SELECT name, endpoint, schema FROM scim.resource_type ORDER BY name;
SELECT resource_type, schema, required FROM scim.resource_type_extension ORDER BY 1, 2;
SELECT jsonb_path_query(attributes, '$[*].name') FROM scim.common_attributes;

-- Peakon's extension (SEED-004): filters know its attributes once it is registered
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:peakon:2.0:User:level gt 3');
SELECT scim.register_schema($${
  "id": "urn:ietf:params:scim:schemas:extension:peakon:2.0:User",
  "name": "PeakonUser",
  "description": "Peakon employee attributes",
  "attributes": [
    {"name": "department", "type": "string", "multiValued": false, "caseExact": false},
    {"name": "gender", "type": "string", "canonicalValues": ["Female", "Male", "Other"]},
    {"name": "dateOfBirth", "type": "dateTime"},
    {"name": "level", "type": "integer"},
    {"name": "score", "type": "decimal"},
    {"name": "remote", "type": "boolean"},
    {"name": "badgeId", "type": "string", "caseExact": true},
    {"name": "teams", "type": "string", "multiValued": true}
  ]}$$);
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:peakon:2.0:User:level gt 3');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:peakon:2.0:User:score le 2.5');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:peakon:2.0:User:dateOfBirth lt "1990-01-01T00:00:00Z"');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:peakon:2.0:User:badgeId eq "AB-1"');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:peakon:2.0:User:teams eq "Core"');
-- unqualified names resolve when unambiguous
SELECT scim.filter_sql('remote eq true and level ge 2');
-- the longest known URN wins: "...:peakon:2.0:User" is not the core "...:User"
SELECT scim.filter_sql('URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:PEAKON:2.0:USER:DEPARTMENT eq "R&D"');
SELECT scim.matches('{"urn:ietf:params:scim:schemas:extension:peakon:2.0:User":{"level":4,"score":2.50,"remote":true}}',
					'urn:ietf:params:scim:schemas:extension:peakon:2.0:User:level gt 3 and score eq 2.5 and remote eq true');
SELECT scim.matches('{"urn:ietf:params:scim:schemas:extension:peakon:2.0:User":{"level":"4"}}',
					'urn:ietf:params:scim:schemas:extension:peakon:2.0:User:level gt 3');
SELECT scim.filter_sql('level co "3"');
SELECT scim.filter_sql('level eq "3"');
-- registered on User only
SELECT scim.filter_sql('level gt 3', 'Group');
-- registering the same definition again is a no-op; a different one is refused
SELECT scim.register_schema(definition) FROM scim.schema WHERE id = 'urn:ietf:params:scim:schemas:extension:peakon:2.0:User';
SELECT scim.register_schema('{"id":"urn:ietf:params:scim:schemas:extension:peakon:2.0:User","attributes":[]}');
-- also on Group, as a required extension
SELECT scim.register_schema(definition, 'group', true) FROM scim.schema WHERE id = 'urn:ietf:params:scim:schemas:extension:peakon:2.0:User';
SELECT resource_type, schema, required FROM scim.resource_type_extension ORDER BY 1, 2;
SELECT scim.filter_sql('level gt 3', 'Group');

-- two extensions defining the same name make the short form ambiguous
SELECT scim.register_schema('{"id":"urn:example:ext:2.0:User","attributes":[{"name":"level","type":"string"}]}');
SELECT scim.filter_sql('level gt 3');
SELECT scim.filter_sql('urn:example:ext:2.0:User:level eq "3"');

-- invalid definitions are refused before they reach the table
SELECT scim.register_schema('[]');
SELECT scim.register_schema('{"id":"not-a-urn","attributes":[]}');
SELECT scim.register_schema('{"id":"urn:example:bad:1","attributes":{}}');
SELECT scim.register_schema('{"id":"urn:example:bad:1"}');
SELECT scim.register_schema('{"id":"urn:example:bad:1","attributes":[{"name":"x","type":"float"}]}');
SELECT scim.register_schema('{"id":"urn:example:bad:1","attributes":[{"name":"x y","type":"string"}]}');
SELECT scim.register_schema('{"id":"urn:example:bad:1","attributes":[{"name":"x"},{"name":"X"}]}');
SELECT scim.register_schema('{"id":"urn:example:bad:1","attributes":[{"name":"c","type":"complex","subAttributes":[{"name":"d","type":"complex","subAttributes":[]}]}]}');
SELECT scim.register_schema('{"id":"urn:example:bad:1","attributes":[{"name":"x","multiValued":"yes"}]}');
SELECT scim.register_schema('{"id":"urn:example:ok:1","attributes":[]}', 'Widget');
SELECT scim.register_schema('{"id":"urn:ietf:params:scim:schemas:core:2.0:user","attributes":[]}');
SELECT scim.check_schema('{"id":"urn:example:ok:1","attributes":[{"name":"a","type":"string","mutability":"sometimes"}]}');

-- unregistering: the attributes are gone again
SELECT scim.unregister_schema('urn:example:ext:2.0:User');
SELECT scim.filter_sql('level gt 3');
SELECT scim.unregister_schema('urn:ietf:params:scim:schemas:extension:peakon:2.0:User', 'Group');
SELECT scim.unregister_schema('urn:ietf:params:scim:schemas:extension:peakon:2.0:User');
SELECT scim.filter_sql('level gt 3');
SELECT id FROM scim.schema WHERE NOT builtin;
SELECT scim.unregister_schema('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');

-- a change made by another transaction is seen by this backend's cache
BEGIN;
SELECT scim.register_schema('{"id":"urn:example:tx:1","attributes":[{"name":"color","type":"string"}]}');
SELECT scim.filter_sql('urn:example:tx:1:color eq "red"');
ROLLBACK;
SELECT scim.filter_sql('urn:example:tx:1:color eq "red"');

-- every object of the extension carries a COMMENT
SELECT pg_describe_object(d.classid, d.objid, 0) AS uncommented
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'scim')
  AND obj_description(d.objid, (SELECT relname FROM pg_class WHERE oid = d.classid)) IS NULL;
