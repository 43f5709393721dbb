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
