/* scim: SCIM 2.0 (RFC 7643 / RFC 7644) inside PostgreSQL */

\echo Use "CREATE EXTENSION scim" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The schema registry
-- ---------------------------------------------------------------------------

CREATE TABLE scim.common_attributes (
	attributes jsonb NOT NULL CHECK (jsonb_typeof(attributes) = 'array')
);
COMMENT ON TABLE scim.common_attributes IS
	'The attributes every resource carries (RFC 7643 section 3.1: id, externalId, meta, schemas); one row, shipped with the extension';

CREATE TABLE scim.schema (
	id text PRIMARY KEY CHECK (id ~* '^urn:'),
	definition jsonb NOT NULL CHECK (definition->>'id' = id),
	builtin boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX schema_id_lower_idx ON scim.schema (lower(id));
COMMENT ON TABLE scim.schema IS
	'SCIM schemas (RFC 7643 section 7 representation): the built-in User, Group and EnterpriseUser, and those added with scim.register_schema()';
COMMENT ON COLUMN scim.schema.id IS 'The schema URN';
COMMENT ON COLUMN scim.schema.definition IS 'The schema representation: id, name, description, attributes';
COMMENT ON COLUMN scim.schema.builtin IS 'Shipped with the extension (not dumped by pg_dump)';

CREATE TABLE scim.resource_type (
	name text PRIMARY KEY,
	endpoint text NOT NULL UNIQUE,
	description text,
	schema text NOT NULL REFERENCES scim.schema (id)
);
COMMENT ON TABLE scim.resource_type IS 'SCIM resource types (RFC 7643 section 6) and their core schema';

CREATE TABLE scim.resource_type_extension (
	resource_type text NOT NULL REFERENCES scim.resource_type (name) ON DELETE CASCADE,
	schema text NOT NULL REFERENCES scim.schema (id) ON DELETE CASCADE,
	required boolean NOT NULL DEFAULT false,
	builtin boolean NOT NULL DEFAULT false,
	PRIMARY KEY (resource_type, schema)
);
COMMENT ON TABLE scim.resource_type_extension IS
	'Schema extensions of each resource type (RFC 7643 section 6, schemaExtensions)';

-- @BUILTIN_SCHEMAS@

INSERT INTO scim.resource_type (name, endpoint, description, schema) VALUES
	('User', '/Users', 'User Account', 'urn:ietf:params:scim:schemas:core:2.0:User'),
	('Group', '/Groups', 'Group', 'urn:ietf:params:scim:schemas:core:2.0:Group');
INSERT INTO scim.resource_type_extension (resource_type, schema, required, builtin) VALUES
	('User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', false, true);

-- user-registered schemas survive pg_dump; the built-in ones come back with CREATE EXTENSION
SELECT pg_catalog.pg_extension_config_dump('scim.schema', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('scim.resource_type_extension', 'WHERE NOT builtin');

-- Every backend caches the registry (and scim.handle() the tokens it has
-- seen, and which tenants have group memberships); a change to these
-- tables tells them all.
CREATE FUNCTION scim._registry_changed() RETURNS trigger
	AS 'MODULE_PATHNAME', 'scim_registry_changed'
	LANGUAGE C;
COMMENT ON FUNCTION scim._registry_changed() IS
	'Trigger: invalidates what every backend has cached of the table: the schema registry, the bearer tokens, or which tenants have group memberships (internal)';

CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.schema
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.resource_type
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.resource_type_extension
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
CREATE TRIGGER registry_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.common_attributes
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();

CREATE FUNCTION scim.check_schema(schema jsonb) RETURNS void
	AS 'MODULE_PATHNAME', 'scim_check_schema'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.check_schema(jsonb) IS
	'Raises an error if a schema representation is not one scim can register (RFC 7643 section 7)';

CREATE FUNCTION scim.register_schema(schema jsonb, resource_type text DEFAULT 'User',
									 required boolean DEFAULT false)
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	urn text := schema->>'id';
	type_name text;
	existing jsonb;
BEGIN
	PERFORM scim.check_schema(schema);
	SELECT t.name INTO type_name FROM scim.resource_type t
		WHERE lower(t.name) = lower(register_schema.resource_type);
	IF type_name IS NULL THEN
		RAISE EXCEPTION 'resource type "%" does not exist', register_schema.resource_type
			USING ERRCODE = 'SC404',
				  HINT = 'Known resource types are listed in scim.resource_type.';
	END IF;
	SELECT s.definition INTO existing FROM scim.schema s WHERE lower(s.id) = lower(urn);
	IF existing IS NULL THEN
		INSERT INTO scim.schema (id, definition) VALUES (urn, schema);
	ELSIF existing IS DISTINCT FROM schema THEN
		RAISE EXCEPTION 'schema "%" is already registered with a different definition', urn
			USING ERRCODE = 'SC400',
				  HINT = 'Use scim.unregister_schema() first to replace it.';
	ELSE
		urn := existing->>'id';
	END IF;
	INSERT INTO scim.resource_type_extension (resource_type, schema, required)
		VALUES (type_name, urn, register_schema.required)
		ON CONFLICT ON CONSTRAINT resource_type_extension_pkey
		DO UPDATE SET required = EXCLUDED.required;
END;
$$;
COMMENT ON FUNCTION scim.register_schema(jsonb, text, boolean) IS
	'Registers a custom extension schema (RFC 7643 section 7 form) on a resource type; filters, PATCH and projection then know its attributes';

CREATE FUNCTION scim.unregister_schema(urn text, resource_type text DEFAULT 'User')
	RETURNS void
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM scim.resource_type_extension e
			   WHERE lower(e.schema) = lower(urn) AND lower(e.resource_type) = lower(unregister_schema.resource_type)
				 AND e.builtin) THEN
		RAISE EXCEPTION 'schema "%" is built in and cannot be unregistered', urn
			USING ERRCODE = 'SC400';
	END IF;
	DELETE FROM scim.resource_type_extension e
		WHERE lower(e.schema) = lower(urn) AND lower(e.resource_type) = lower(unregister_schema.resource_type)
		  AND NOT e.builtin;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'schema "%" is not a registered extension of resource type "%"', urn, unregister_schema.resource_type
			USING ERRCODE = 'SC404';
	END IF;
	DELETE FROM scim.schema s
		WHERE lower(s.id) = lower(urn) AND NOT s.builtin
		  AND NOT EXISTS (SELECT 1 FROM scim.resource_type_extension e WHERE e.schema = s.id);
END;
$$;
COMMENT ON FUNCTION scim.unregister_schema(text, text) IS
	'Detaches a registered extension schema from a resource type, and forgets it once no resource type uses it';

-- ---------------------------------------------------------------------------
-- Errors
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.error_codes(OUT scim_type text, OUT sqlstate text, OUT http_status int)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'scim_error_codes'
	LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.error_codes() IS
	'The mapping of SCIM errors to SQLSTATE and HTTP status: every error scim raises carries one of these SQLSTATEs';

-- ---------------------------------------------------------------------------
-- Helpers the generated SQL calls (index-friendly and IMMUTABLE)
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.elements(value jsonb) RETURNS SETOF jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.=) 'array' THEN value END) $$;
COMMENT ON FUNCTION scim.elements(jsonb) IS
	'The elements of a multi-valued attribute: nothing unless the value is a JSON array';

CREATE FUNCTION scim.values(value jsonb, sub_attribute text DEFAULT NULL) RETURNS text[]
	AS 'MODULE_PATHNAME', 'scim_values'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.values(jsonb, text) IS
	'The non-null values (as ->> renders them) of a sub-attribute across the elements of a multi-valued attribute; index it with GIN';

CREATE FUNCTION scim.values_lower(value jsonb, sub_attribute text DEFAULT NULL) RETURNS text[]
	AS 'MODULE_PATHNAME', 'scim_values_lower'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.values_lower(jsonb, text) IS
	'scim.values() passed through lower(), for attributes that are not caseExact; index it with GIN';

CREATE FUNCTION scim.instant(value text) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'scim_instant'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.instant(text) IS
	'The instant an xsd:dateTime string denotes (no offset means UTC), or NULL when it is not one';

-- ---------------------------------------------------------------------------
-- Filters (RFC 7644 section 3.4.2.2)
-- ---------------------------------------------------------------------------

CREATE TYPE scim.filter;

CREATE FUNCTION scim.filter_in(cstring) RETURNS scim.filter
	AS 'MODULE_PATHNAME', 'scim_filter_in'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_in(cstring) IS 'Input function of scim.filter: checks the grammar';

CREATE FUNCTION scim.filter_out(scim.filter) RETURNS cstring
	AS 'MODULE_PATHNAME', 'scim_filter_out'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_out(scim.filter) IS 'Output function of scim.filter: the canonical form';

CREATE FUNCTION scim.filter_recv(internal) RETURNS scim.filter
	AS 'MODULE_PATHNAME', 'scim_filter_recv'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_recv(internal) IS 'Binary input function of scim.filter';

CREATE FUNCTION scim.filter_send(scim.filter) RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_filter_send'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_send(scim.filter) IS 'Binary output function of scim.filter';

CREATE TYPE scim.filter (
	INPUT = scim.filter_in,
	OUTPUT = scim.filter_out,
	RECEIVE = scim.filter_recv,
	SEND = scim.filter_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = extended,
	CATEGORY = 'S',
	COLLATABLE = false
);
COMMENT ON TYPE scim.filter IS
	'A SCIM filter (RFC 7644 section 3.4.2.2) whose grammar has been checked; prints in canonical form';

-- stored as its canonical text, so it reads as text without conversion
CREATE CAST (scim.filter AS text) WITHOUT FUNCTION AS IMPLICIT;
COMMENT ON CAST (scim.filter AS text) IS 'A filter reads as its canonical text, so filter_sql() and matches() take it directly';
CREATE CAST (text AS scim.filter) WITH INOUT AS ASSIGNMENT;
COMMENT ON CAST (text AS scim.filter) IS 'Text becomes a filter through the input function, which checks the grammar';

CREATE FUNCTION scim.filter_sql(filter text, resource_type text DEFAULT 'User',
								data_column text DEFAULT 'data')
	RETURNS text
	AS 'MODULE_PATHNAME', 'scim_filter_sql'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.filter_sql(text, text, text) IS
	'Translates a SCIM filter into one SQL boolean expression over a jsonb column; literals are quoted, and eq on indexed attributes uses the indexes from scim.index_ddl()';

CREATE FUNCTION scim.matches(resource jsonb, filter text, resource_type text DEFAULT 'User')
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_matches'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.matches(jsonb, text, text) IS
	'Evaluates a SCIM filter on one resource; agrees with scim.filter_sql() on every input';

CREATE FUNCTION scim.index_ddl(tbl regclass, resource_type text DEFAULT 'User',
							   data_column text DEFAULT 'data', attributes text[] DEFAULT NULL)
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'scim_index_ddl'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.index_ddl(regclass, text, text, text[]) IS
	'CREATE INDEX statements that make eq filters on the given attributes (default: id, externalId, userName, emails.value for User; id, externalId, displayName, members.value for Group) index lookups';

-- ---------------------------------------------------------------------------
-- PATCH (RFC 7644 section 3.5.2)
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.patch(resource jsonb, patch jsonb, resource_type text DEFAULT 'User')
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_patch'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.patch(jsonb, jsonb, text) IS
	'Applies a PatchOp request (RFC 7644 section 3.5.2) to a resource, all operations or none; returns the input unchanged when the request changes nothing';

-- ---------------------------------------------------------------------------
-- Responses: projection, list responses, errors (RFC 7644 sections 3.4.2, 3.9, 3.12)
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim.project(resource jsonb, attributes text DEFAULT NULL,
							 excluded_attributes text DEFAULT NULL, resource_type text DEFAULT 'User')
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_project'
	LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.project(jsonb, text, text, text) IS
	'Applies attributes or excludedAttributes (comma-separated paths) under the schema''s "returned" rules: never-returned attributes such as password never leave, always-returned ones such as id always do';

CREATE FUNCTION scim.error(status integer, scim_type text DEFAULT NULL, detail text DEFAULT NULL)
	RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
		'schemas', pg_catalog.jsonb_build_array('urn:ietf:params:scim:api:messages:2.0:Error'),
		'status', status::pg_catalog.text,
		'scimType', scim_type,
		'detail', detail))
	$$;
COMMENT ON FUNCTION scim.error(integer, text, text) IS
	'An Error document (RFC 7644 section 3.12); status is written as a string, as the RFC''s examples do';

CREATE FUNCTION scim._list_step(state internal, resource jsonb, total_results bigint, start_index integer)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'scim_list_step'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_step(internal, jsonb, bigint, integer) IS
	'Transition function of scim.list_response (internal)';

CREATE FUNCTION scim._list_final(state internal, resource jsonb, total_results bigint, start_index integer)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_list_final'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_final(internal, jsonb, bigint, integer) IS
	'Final function of scim.list_response (internal)';

CREATE AGGREGATE scim.list_response(resource jsonb, total_results bigint, start_index integer) (
	SFUNC = scim._list_step,
	STYPE = internal,
	FINALFUNC = scim._list_final,
	FINALFUNC_EXTRA,
	FINALFUNC_MODIFY = READ_WRITE
);
COMMENT ON AGGREGATE scim.list_response(jsonb, bigint, integer) IS
	'A ListResponse (RFC 7644 section 3.4.2) of the aggregated resources, in aggregation order; total_results is the count of all matches (e.g. count(*) OVER ()), start_index the 1-based index of the first';

CREATE FUNCTION scim._list_step(state internal, resource jsonb)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'scim_list_step'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_step(internal, jsonb) IS
	'Transition function of scim.list_response (internal)';

CREATE FUNCTION scim._list_final(state internal, resource jsonb)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_list_final'
	LANGUAGE C PARALLEL SAFE;
COMMENT ON FUNCTION scim._list_final(internal, jsonb) IS
	'Final function of scim.list_response (internal)';

CREATE AGGREGATE scim.list_response(resource jsonb) (
	SFUNC = scim._list_step,
	STYPE = internal,
	FINALFUNC = scim._list_final,
	FINALFUNC_EXTRA,
	FINALFUNC_MODIFY = READ_WRITE
);
COMMENT ON AGGREGATE scim.list_response(jsonb) IS
	'A ListResponse of all the aggregated resources: totalResults is their count, startIndex 1';
