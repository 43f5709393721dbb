/* scim 0.2.0 -> 0.3.0: turns a database that installed release 0.2.0 into
 * what CREATE EXTENSION scim makes in 0.3.0, and carries its data forward.
 *
 * Every change to the install script (the SQL under src/ext and the schemas under src/schemas)
 * adds its part here in the same commit; src/pkg/upgrade_diff.sh prints
 * what is still missing, and test/upgrade/run.sh checks the result against
 * a fresh install, object for object, with data made by each release. */

\echo Use "ALTER EXTENSION scim UPDATE TO '0.3.0'" to load this file. \quit

-- A user's PUT is one UPDATE, as its PATCH is (src/pg/user_patch.c).
CREATE FUNCTION scim._put_step(data jsonb, version bigint, body jsonb, id text, at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_put_step'
	LANGUAGE C VOLATILE STRICT COST 10000;
COMMENT ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) IS
	'Applies a PUT body to a user''s data for scim.handle()''s UPDATE; true when the row is to take scim._patched() (internal)';
REVOKE ALL ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) TO scim_handler;

-- scim.import() (src/pg/import.c, src/ext/import.sql): an application's
-- users and groups into a tenant, one summary event a call.
ALTER DOMAIN scim.event_kind DROP CONSTRAINT event_kind_check;
ALTER DOMAIN scim.event_kind ADD CONSTRAINT event_kind_check
	CHECK (VALUE IN ('created', 'updated', 'suspended', 'unsuspended', 'deleted', 'failed', 'imported'));
COMMENT ON DOMAIN scim.event_kind IS
	'What an event records: created, updated, suspended, unsuspended, deleted or failed, or imported (a scim.import() call)';
CREATE FUNCTION scim.import(tenant uuid, resource_type text, documents jsonb[],
							stop_on_error boolean DEFAULT false)
	RETURNS TABLE (ordinality integer, id uuid, scim_type text, detail text)
	AS 'MODULE_PATHNAME', 'scim_import'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.import(uuid, text, jsonb[], boolean) IS
	'Imports Users or Groups into a tenant, each document checked and stored as POST stores it, a UUID id kept: one row per document, its id, or its failure (scim_type, detail); with stop_on_error the first failure raises and nothing is imported';
ALTER FUNCTION scim.import(uuid, text, jsonb[], boolean) OWNER TO scim_handler;
REVOKE ALL ON FUNCTION scim.import(uuid, text, jsonb[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scim.import(uuid, text, jsonb[], boolean) TO scim_app;
