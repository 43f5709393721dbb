
-- ---------------------------------------------------------------------------
-- scim.handle(): one SCIM request in, one response out (RFC 7644)
-- ---------------------------------------------------------------------------

CREATE TYPE scim.response AS (status integer, headers jsonb, body jsonb);
COMMENT ON TYPE scim.response IS 'What scim.handle() answers: HTTP status, response headers, JSON body (NULL for none)';
CREATE TYPE scim.response_text AS (status integer, headers text, body text);
COMMENT ON TYPE scim.response_text IS 'What scim.handle_text() answers: scim.response with headers and body as JSON text';

CREATE FUNCTION scim._hash_password(password text) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_hash_password'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._hash_password(text) IS
	'A SCRAM-SHA-256 secret for a password (PostgreSQL''s own format); the password itself is never stored (internal)';

-- The base URL that meta.location and Location are built on.
CREATE FUNCTION scim._base_url(headers jsonb) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT rtrim(coalesce(headers->>'x-scim-base-url',
		   CASE WHEN headers ? 'host'
				THEN coalesce(headers->>'x-forwarded-proto', 'http') || '://' || (headers->>'host')
					 || coalesce(headers->>'x-scim-base-path', '/scim/v2')
				ELSE coalesce(headers->>'x-scim-base-path', '/scim/v2') END), '/')
	$$;
COMMENT ON FUNCTION scim._base_url(jsonb) IS
	'The SCIM base URL of a request: the x-scim-base-url header, else built from host, x-forwarded-proto and x-scim-base-path (internal)';

CREATE FUNCTION scim._body_jsonb(body text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_body_jsonb'
	LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION scim._body_jsonb(text) IS
	'A request body as scim.handle()''s own JSON reader reads it, NULL where it leaves the body to jsonb_in(); for tests against jsonb_in() (internal)';

-- The PATCH step of scim.handle()'s one-statement user PATCH (src/pg/handle.c).
-- Costed high so that the planner tests it after every other condition: it
-- is to see the one row the key and row-level security select.
CREATE FUNCTION scim._patch_step(data jsonb, version bigint, request jsonb, at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_patch_step'
	LANGUAGE C VOLATILE STRICT COST 10000;
COMMENT ON FUNCTION scim._patch_step(jsonb, bigint, jsonb, timestamptz) IS
	'Applies a PatchOp request to a user''s data for scim.handle()''s UPDATE; true when the row is to take scim._patched() (internal)';
-- The PUT step of scim.handle()'s one-statement user PUT, costed as the PATCH step.
CREATE FUNCTION scim._put_step(data jsonb, version bigint, body jsonb, id text, at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_put_step'
	LANGUAGE C VOLATILE STRICT COST 10000;
COMMENT ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) IS
	'Applies a PUT body to a user''s data for scim.handle()''s UPDATE; true when the row is to take scim._patched() (internal)';
CREATE FUNCTION scim._patched() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_patched'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._patched() IS 'The resource the last scim._patch_step() made (internal)';

-- The tenant a request acts for, set by the handler after authentication
-- and only inside it (src/pg/tenant.c): not callable from anywhere else.
CREATE FUNCTION scim._act_for(tenant uuid) RETURNS void
	AS 'MODULE_PATHNAME', 'scim_act_for'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._act_for(uuid) IS
	'Makes the current scim.handle() call act for a tenant (NULL: for none), until the call ends; raises outside scim.handle() but for a superuser (internal)';

-- The SCIM service, in C (src/pg/handle.c and the files it names).
CREATE FUNCTION scim.handle(method text, path text, query text DEFAULT NULL,
							headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response
	AS 'MODULE_PATHNAME', 'scim_handle'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle(text, text, text, jsonb, text) IS
	'Answers one SCIM request (RFC 7644): /Users, /Groups, their /.search, /ServiceProviderConfig, /Schemas, /ResourceTypes; path is relative to the SCIM base, headers have lower-case names';

-- The same answer as text, for HTTP layers that write it out as it is:
-- documents are written as text directly, where casting scim.handle()'s
-- jsonb would build each document only to print it.
CREATE FUNCTION scim.handle_text(method text, path text, query text DEFAULT NULL,
								 headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response_text
	AS 'MODULE_PATHNAME', 'scim_handle_text'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle_text(text, text, text, jsonb, text) IS
	'scim.handle() with the response''s headers and body as JSON text, exactly as their ::text casts would give them; what scim-server calls';
