-- server_role.sql: the role scim-server connects as, and what it may do.
--
-- Run with psql as a superuser after CREATE EXTENSION scim, optionally
-- with -v password=... to let the role log in with a password over TCP.
--
-- The HTTP layer's role reaches tenant data only through the handler:
-- it may call scim.handle_text() and scim.handle(), which run as
-- scim_handler for the tenant of the bearer token each request carries,
-- and nothing else of the store: no table, view or internal function.
-- Not a superuser, without BYPASSRLS, CREATEROLE or CREATEDB, and member
-- of no role, so SET ROLE leads nowhere.
--
-- The token travels in a bound parameter of each call: with
-- log_statement or log_min_duration_statement set, PostgreSQL would log
-- it with the parameters.  Both settings below are superuser-only, so the
-- role cannot turn them back on.
SET client_min_messages = warning;
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_server') THEN
		CREATE ROLE scim_server LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
	END IF;
END $$;
\if :{?password}
ALTER ROLE scim_server PASSWORD :'password';
\endif
ALTER ROLE scim_server NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
ALTER ROLE scim_server SET log_parameter_max_length = 0;
ALTER ROLE scim_server SET log_parameter_max_length_on_error = 0;
GRANT USAGE ON SCHEMA scim TO scim_server;
GRANT EXECUTE ON FUNCTION scim.handle_text(text, text, text, jsonb, text) TO scim_server;
GRANT EXECUTE ON FUNCTION scim.handle(text, text, text, jsonb, text) TO scim_server;
-- what earlier versions of this script granted
REVOKE ALL ON scim.users, scim.groups, scim.group_members, scim.event, scim.tenant, scim.schema,
	scim.resource_type, scim.resource_type_extension, scim.common_attributes FROM scim_server;
