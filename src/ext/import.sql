
-- ---------------------------------------------------------------------------
-- scim.import(): an application's existing users and groups into a tenant
-- ---------------------------------------------------------------------------

-- In C (src/pg/import.c).  Owned by scim_handler and run as it, acting for
-- the tenant, as scim.handle() is (src/ext/privileges.sql); the tenant's
-- row is locked first with the caller's rights, which takes UPDATE on
-- scim.tenant.  Not STRICT: a NULL tenant, type or stop_on_error raises.
CREATE FUNCTION scim.import(tenant uuid, resource_type text, documents jsonb[],
							stop_on_error boolean DEFAULT false)
	RETURNS TABLE (ordinality integer, id uuid, scim_type text, detail text)
	AS 'MODULE_PATHNAME', 'scim_import'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.import(uuid, text, jsonb[], boolean) IS
	'Imports Users or Groups into a tenant, each document checked and stored as POST stores it, a UUID id kept: one row per document, its id, or its failure (scim_type, detail); with stop_on_error the first failure raises and nothing is imported';
