
-- ---------------------------------------------------------------------------
-- Privileges: who may call what, and as whom the handler runs.  The roles
-- are made at the top of store.sql; README "Roles" says what each is for.
-- ---------------------------------------------------------------------------

-- The handler runs as its owner, scim_handler, never as its caller or as
-- the installing superuser (whom row-level security would not bind).  Its
-- C code switches to the owner itself, as fmgr does for a SECURITY
-- DEFINER function but without looking the function up again at every
-- execution (src/pg/tenant.c), and pins search_path before it runs any
-- statement, only when the caller's is not pinned already: a SET clause
-- here would set and restore the path on every call.
ALTER FUNCTION scim.handle(text, text, text, jsonb, text) OWNER TO scim_handler;
ALTER FUNCTION scim.handle_text(text, text, text, jsonb, text) OWNER TO scim_handler;
REVOKE ALL ON FUNCTION scim.handle(text, text, text, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION scim.handle_text(text, text, text, jsonb, text) FROM PUBLIC;
-- scim.import() runs the same way, acting for the tenant it is given
ALTER FUNCTION scim.import(uuid, text, jsonb[], boolean) OWNER TO scim_handler;
REVOKE ALL ON FUNCTION scim.import(uuid, text, jsonb[], boolean) FROM PUBLIC;

-- Internal functions (named scim._*) are for the handler and the
-- extension's own functions alone.
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = 'scim'::regnamespace AND p.proname LIKE '\_%'
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO scim_handler', f);
	END LOOP;
END
$$;

-- scim_handler: the schema registry to read, the store through the
-- policies of store.sql.  Not scim.tenant nor scim.token: the handler
-- reads a token's row with the table owner's rights, by its hash only.
GRANT USAGE ON SCHEMA scim TO scim_handler;
GRANT SELECT ON scim.common_attributes, scim.schema, scim.resource_type, scim.resource_type_extension
	TO scim_handler;
GRANT SELECT, INSERT, UPDATE, DELETE ON scim.users, scim.groups, scim.group_members TO scim_handler;
GRANT INSERT ON scim.event TO scim_handler;
-- the key cursors are signed with (scim._cursor_sign() and scim._cursor_verify()
-- read it with the caller's rights): the handler's alone, no other role's
GRANT SELECT ON scim.secret TO scim_handler;

-- scim_app: tenants and tokens, every tenant's resources and events to
-- read, events to prune, and the handler to call as an HTTP layer would.
GRANT USAGE ON SCHEMA scim TO scim_app;
GRANT SELECT ON scim.common_attributes, scim.schema, scim.resource_type, scim.resource_type_extension
	TO scim_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON scim.tenant TO scim_app;
GRANT SELECT, INSERT, UPDATE ON scim.token TO scim_app;
GRANT SELECT ON scim.tokens TO scim_app;
GRANT SELECT ON scim.users, scim.groups, scim.group_members, scim.event, scim.events TO scim_app;
GRANT DELETE ON scim.event TO scim_app;
GRANT EXECUTE ON FUNCTION scim._random_token() TO scim_app;
GRANT EXECUTE ON FUNCTION scim.handle(text, text, text, jsonb, text) TO scim_app;
GRANT EXECUTE ON FUNCTION scim.handle_text(text, text, text, jsonb, text) TO scim_app;

-- The change feed is the application's to read and prune (scim_app's),
-- not the HTTP layer's nor the handler's: the triggers write it without
-- either needing a privilege on it (src/pg/changes.c).
GRANT SELECT, DELETE ON scim.change TO scim_app;
GRANT SELECT, UPDATE ON scim.change_pruned TO scim_app;
GRANT EXECUTE ON FUNCTION scim._changes_final(), scim._change_id(bigint, bigint), scim._changes_after(text, integer)
	TO scim_app;
REVOKE ALL ON FUNCTION scim.changes(text, integer, uuid), scim.changes_now() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scim.changes(text, integer, uuid), scim.changes_now() TO scim_app;

-- scim_app imports into the tenants it may change (scim.import() locks
-- the tenant's row with the caller's rights)
GRANT EXECUTE ON FUNCTION scim.import(uuid, text, jsonb[], boolean) TO scim_app;
