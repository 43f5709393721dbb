-- server_role.sql: the role scim-server connects as, and what it may do.
--
-- Not a superuser and without BYPASSRLS, so that row-level security keeps
-- every request to the tenant its token belongs to.  Run with psql,
-- optionally with -v password=... to let it log in over TCP.
SET client_min_messages = warning;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'scim_server') THEN
		CREATE ROLE scim_server LOGIN NOSUPERUSER NOBYPASSRLS;
	END IF;
END $$;
GRANT USAGE ON SCHEMA scim TO scim_server;
GRANT SELECT, INSERT, UPDATE, DELETE ON scim.users, scim.groups, scim.group_members TO scim_server;
GRANT SELECT, INSERT ON scim.event TO scim_server;
GRANT SELECT ON scim.tenant, scim.schema, scim.resource_type, scim.resource_type_extension,
	scim.common_attributes TO scim_server;
GRANT EXECUTE ON FUNCTION scim._authenticate(text) TO scim_server;
-- The request's headers, and so its bearer token, are a bound parameter of
-- scim.handle_text(): with log_statement = all or log_min_duration_statement
-- set, PostgreSQL would log them ("DETAIL: parameters: ...").  Set on the
-- role by a superuser: the first is superuser-only, so the role cannot undo
-- it (the second is the default, kept should postgresql.conf change it).
ALTER ROLE scim_server SET log_parameter_max_length = 0;
ALTER ROLE scim_server SET log_parameter_max_length_on_error = 0;
