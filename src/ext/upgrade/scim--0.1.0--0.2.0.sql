/* scim 0.1.0 -> 0.2.0: turns a database that installed release 0.1.0 into
 * what CREATE EXTENSION scim makes in 0.2.0, and carries its data forward:
 * passwords stored in clear become SCRAM secrets, member values become
 * canonical and orphaned memberships go.  Bearer tokens keep working (their
 * hashes are unchanged; scim.tokens shows no prefix for them); cursors
 * issued before are refused as invalidCursor (they carry no signature), and
 * a client starts its listing again.
 *
 * test/upgrade/run.sh checks that the result equals a fresh install, object
 * for object; src/pkg/upgrade_diff.sh prints what differs. */

\echo Use "ALTER EXTENSION scim UPDATE TO '0.2.0'" to load this file. \quit

-- The data migrations below must see every tenant's rows: raise rather than
-- see only some, should the role running the update be bound by row-level
-- security (the setting is the script's alone).
SET LOCAL row_security = off;

-- ---------------------------------------------------------------------------
-- Roles (src/ext/store.sql): made here if missing, as CREATE EXTENSION does
-- ---------------------------------------------------------------------------

DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_handler') THEN
		CREATE ROLE scim_handler NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
	ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_handler' AND (rolsuper OR rolbypassrls)) THEN
		RAISE EXCEPTION 'role "scim_handler" is a superuser or bypasses row-level security'
			USING ERRCODE = 'insufficient_privilege',
				  DETAIL = 'scim.handle() runs as scim_handler, and row-level security keeps each token to its tenant only for roles it binds.',
				  HINT = 'ALTER ROLE scim_handler NOSUPERUSER NOBYPASSRLS, then create the extension again.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'scim_app') THEN
		CREATE ROLE scim_app NOLOGIN;
	END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- New functions and the key cursors are signed with
-- ---------------------------------------------------------------------------

-- Cursors (RFC 9865) carry an HMAC-SHA-256 signature under a key of the
-- database's own, so that a client can neither edit one nor make one up.
CREATE FUNCTION scim._hmac(key bytea, data bytea) RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_hmac'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._hmac(bytea, bytea) IS 'HMAC-SHA-256 (RFC 2104) of data under key (internal)';

REVOKE ALL ON FUNCTION scim._hmac(bytea, bytea) FROM PUBLIC;

CREATE FUNCTION scim._random_key() RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_random_key'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._random_key() IS 'A new 256-bit key from the strong random source, as scim.secret holds (internal)';

REVOKE ALL ON FUNCTION scim._random_key() FROM PUBLIC;

-- One row; no tenant column and no row-level security: the key is the
-- database's, and a cursor names its tenant in what is signed.
CREATE TABLE scim.secret (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	key bytea NOT NULL CHECK (octet_length(key) >= 32)
);
INSERT INTO scim.secret (key) VALUES (scim._random_key());
REVOKE ALL ON TABLE scim.secret FROM PUBLIC;
COMMENT ON TABLE scim.secret IS
	'The key cursors are signed with (HMAC-SHA-256), made at install from the strong random source; the role scim.handle() runs as must be granted SELECT on it, and no other role needs it. Replacing it (UPDATE scim.secret SET key = scim._random_key()) invalidates every cursor issued; pg_dump leaves it out and a restore makes a new one.';

-- In C: they read the key with the caller's rights, so that reading
-- scim.secret is the one privilege signing and checking a cursor needs.
CREATE FUNCTION scim._cursor_sign(data bytea) RETURNS bytea
	AS 'MODULE_PATHNAME', 'scim_cursor_sign'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION scim._cursor_sign(bytea) IS 'The signature of a cursor''s contents under the key in scim.secret (internal)';

CREATE FUNCTION scim._cursor_verify(data bytea, mac bytea) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_cursor_verify'
	LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION scim._cursor_verify(bytea, bytea) IS
	'Whether mac is the signature of a cursor''s contents, compared in constant time (internal)';

-- The handler's filters: over a row of scim.users or scim.groups, with a
-- Group's members and a User's groups read from scim.group_members.
CREATE FUNCTION scim._store_filter_sql(filter text, resource_type text, root boolean DEFAULT false,
									   alias text DEFAULT 'x')
	RETURNS text
	AS 'MODULE_PATHNAME', 'scim_store_filter_sql'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim._store_filter_sql(text, text, boolean, text) IS
	'The SQL of a filter over the row alias of scim.users or scim.groups, membership through scim.group_members; with root (POST /.search), attributes only other resource types have are absent rather than errors (internal)';

-- The store's lookup keys, LEAKPROOF so that under row-level security a
-- lookup by userName, displayName or externalId is still an index scan
-- (src/pg/values.c says why).
CREATE FUNCTION scim.key(resource jsonb, name text) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_key'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.key(jsonb, text) IS
	'resource->>name, LEAKPROOF: the store''s index key for externalId';

CREATE FUNCTION scim.key_lower(resource jsonb, name text) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_key_lower'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.key_lower(jsonb, text) IS
	'lower(resource->>name) in the database''s collation, LEAKPROOF: the store''s index key for userName and displayName';

CREATE FUNCTION scim.id_text(id uuid) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_id_text'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.id_text(uuid) IS
	'id::text, LEAKPROOF: joins a resource to its memberships on their index under row-level security';

CREATE FUNCTION scim.member_uuid(value text) RETURNS uuid
	AS 'MODULE_PATHNAME', 'scim_member_uuid'
	LANGUAGE C IMMUTABLE STRICT LEAKPROOF PARALLEL SAFE;
COMMENT ON FUNCTION scim.member_uuid(text) IS
	'value::uuid for a member id as scim.group_members holds it, NULL for other text, LEAKPROOF: finds the users of memberships by their primary key under row-level security';

-- A member's value as scim.group_members holds it: the id as uuid_out()
-- writes it (lower case, hyphenated) whatever case, braces or hyphens
-- uuid_in() accepts; NULL when v is no UUID.  The pattern is uuid_in()'s
-- grammar, so that the cast cannot fail.  For the memberships' data step
-- below, which drops it after it.
CREATE FUNCTION scim._member_id(v text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$
	SELECT CASE WHEN v ~ '^(\{[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7}\}|[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7})$'
				THEN v::uuid::text END
	$$;
COMMENT ON FUNCTION scim._member_id(text) IS
	'A member value in canonical form (lower-case hyphenated UUID), or NULL when it is not a UUID (internal)';

-- The tenant a request acts for, set by the handler after authentication
-- and only inside it (src/pg/tenant.c): not callable from anywhere else.
CREATE FUNCTION scim._act_for(tenant uuid) RETURNS void
	AS 'MODULE_PATHNAME', 'scim_act_for'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._act_for(uuid) IS
	'Makes the current scim.handle() call act for a tenant (NULL: for none), until the call ends; raises outside scim.handle() but for a superuser (internal)';

-- ---------------------------------------------------------------------------
-- Functions whose bodies changed (src/ext/scim.sql, store.sql)
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION scim.elements(value jsonb) RETURNS SETOF jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT pg_catalog.jsonb_array_elements(CASE WHEN pg_catalog.jsonb_typeof(value) OPERATOR(pg_catalog.=) 'array' THEN value END) $$;
COMMENT ON FUNCTION scim.elements(jsonb) IS
	'The elements of a multi-valued attribute: nothing unless the value is a JSON array';

CREATE OR REPLACE FUNCTION scim.error(status integer, scim_type text DEFAULT NULL, detail text DEFAULT NULL)
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

-- ---------------------------------------------------------------------------
-- The schema registry: the built-in schemas as src/schemas/ ships them now
-- (RFC 7643's descriptions; a Group's displayName is unique, as the store
-- always enforced)
-- ---------------------------------------------------------------------------

UPDATE scim.schema SET definition = jsonb_set(definition, '{description}', '"User Account"')
	WHERE id = 'urn:ietf:params:scim:schemas:core:2.0:User' AND builtin;
UPDATE scim.schema
	SET definition = jsonb_set(definition, '{description}', '"Group"')
		|| jsonb_build_object('attributes',
			  (SELECT jsonb_agg(CASE WHEN a->>'name' = 'displayName' THEN jsonb_set(a, '{uniqueness}', '"server"') ELSE a END
								ORDER BY n)
			   FROM jsonb_array_elements(definition->'attributes') WITH ORDINALITY AS e(a, n)))
	WHERE id = 'urn:ietf:params:scim:schemas:core:2.0:Group' AND builtin;

-- ---------------------------------------------------------------------------
-- The store (src/ext/store.sql)
-- ---------------------------------------------------------------------------

ALTER TABLE scim.tenant
	ADD COLUMN request_timeout interval CHECK (request_timeout > interval '0' AND request_timeout <= interval '1 hour'),
	ADD COLUMN filter_max_terms integer CHECK (filter_max_terms BETWEEN 1 AND 10000);
COMMENT ON COLUMN scim.tenant.request_timeout IS
	'The deadline of this tenant''s requests, in place of the setting scim.request_timeout; NULL for the setting';
COMMENT ON COLUMN scim.tenant.filter_max_terms IS
	'The most terms a filter of this tenant''s may have, in place of the setting scim.filter_max_terms; NULL for the setting';
-- scim.handle() keeps the tenants' limits it has read: any change tells
-- every backend to forget them, as for scim.token (ALWAYS, and a row
-- trigger for logical replication's apply).  With them disabled a backend
-- keeps the limits it read until it ends: they bound requests, they
-- grant nothing.
CREATE TRIGGER tenant_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.tenant
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.tenant ENABLE ALWAYS TRIGGER tenant_changed;
CREATE TRIGGER tenant_applied AFTER INSERT OR UPDATE OR DELETE ON scim.tenant
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.tenant ENABLE REPLICA TRIGGER tenant_applied;

ALTER TABLE scim.token ADD COLUMN prefix text;
COMMENT ON COLUMN scim.token.prefix IS
	'The first 12 characters of the token ("scim_" and 7 of its 43 random ones, leaving 214 secret bits), to tell tokens apart; NULL for tokens issued before it was kept';
-- scim.handle() keeps the tokens it has seen: a revocation, expiry change or
-- new token tells every backend to forget them.  ALWAYS: a session under
-- session_replication_role = replica (pg_restore --disable-triggers, tools
-- that apply changes) must tell too.  Logical replication's apply fires row
-- triggers only, hence the row trigger for the replica role.  A backend
-- caches tokens only while both are enabled so.
ALTER TABLE scim.token ENABLE ALWAYS TRIGGER token_changed;
CREATE TRIGGER token_applied AFTER INSERT OR UPDATE OR DELETE ON scim.token
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.token ENABLE REPLICA TRIGGER token_applied;

-- the lookup keys, LEAKPROOF (scim.key(), scim.key_lower()): the same
-- values as before, so a unique index finds no new conflict
DROP INDEX scim.users_username_idx;
DROP INDEX scim.users_externalid_idx;
DROP INDEX scim.groups_displayname_idx;
DROP INDEX scim.groups_externalid_idx;
CREATE UNIQUE INDEX users_username_idx ON scim.users (tenant, scim.key_lower(data, 'userName'));
CREATE INDEX users_externalid_idx ON scim.users (tenant, scim.key(data, 'externalId'));
CREATE UNIQUE INDEX groups_displayname_idx ON scim.groups (tenant, scim.key_lower(data, 'displayName'));
CREATE INDEX groups_externalid_idx ON scim.groups (tenant, scim.key(data, 'externalId'));

-- A member's id as uuid_out() writes it, and nothing else: one member is
-- one row whatever case a client sends, and deleting a user or group finds
-- its memberships by its id.  A domain,
-- for the reason scim.event_kind is one (src/ext/store.sql).
CREATE DOMAIN scim.member_id AS text
	CHECK (VALUE ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
COMMENT ON DOMAIN scim.member_id IS 'The id of a group member, a lower-case hyphenated UUID';

-- Memberships: 0.1.0 kept a member's value as the client sent it, in any
-- case, and deleting a user or group removed only the memberships that
-- named it in lower case.  A membership whose member is no longer a user
-- or group of its tenant goes; of those that name one member in several
-- spellings, one stays (the one in canonical form if there is one); each
-- value becomes the form scim._member_id() makes, which the column's
-- domain then requires.
DELETE FROM scim.group_members m
	WHERE NOT EXISTS (SELECT FROM scim.users u WHERE u.tenant = m.tenant AND u.id = scim._member_id(m.value)::uuid)
	  AND NOT EXISTS (SELECT FROM scim.groups g WHERE g.tenant = m.tenant AND g.id = scim._member_id(m.value)::uuid);
DELETE FROM scim.group_members m
	USING (SELECT ctid, row_number() OVER (PARTITION BY tenant, group_id, scim._member_id(value)
										   ORDER BY value = scim._member_id(value) DESC, value COLLATE "C") AS n
		   FROM scim.group_members) d
	WHERE m.ctid = d.ctid AND d.n > 1;
UPDATE scim.group_members SET value = scim._member_id(value) WHERE value <> scim._member_id(value);
ALTER TABLE scim.group_members ALTER COLUMN value TYPE scim.member_id;
DROP FUNCTION scim._member_id(text);

ALTER TABLE scim.group_members ENABLE ALWAYS TRIGGER members_changed;
CREATE TRIGGER members_applied AFTER INSERT OR UPDATE OR DELETE ON scim.group_members
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.group_members ENABLE REPLICA TRIGGER members_applied;

-- security_invoker: the reader's own privileges and policies apply, so
-- the view shows no more of the log than its reader could read directly.
ALTER VIEW scim.events SET (security_invoker = true);

-- Row-level security: scim_handler sees the rows of the tenant the
-- handler acts for (scim.current_tenant(), which only the handler can
-- set), scim_app every tenant's.  Any other role that is not the owner or
-- a superuser sees none: no policy applies to it.
ALTER FUNCTION scim.current_tenant() PARALLEL RESTRICTED;
COMMENT ON FUNCTION scim.current_tenant() IS
	'The tenant the current scim.handle() call acts for (set by the handler alone, after it has authenticated a token), or NULL';
ALTER POLICY tenant_rows ON scim.users TO scim_handler;
ALTER POLICY tenant_rows ON scim.groups TO scim_handler;
ALTER POLICY tenant_rows ON scim.group_members TO scim_handler;
ALTER POLICY tenant_rows ON scim.event TO scim_handler;
CREATE POLICY application ON scim.users FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.groups FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.group_members FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.event FOR SELECT TO scim_app USING (true);
CREATE POLICY application_prune ON scim.event FOR DELETE TO scim_app USING (true);

ALTER FUNCTION scim.create_tenant(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION scim.revoke_token(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION scim.prune_events(interval) SET search_path = pg_catalog, pg_temp;

CREATE OR REPLACE FUNCTION scim.create_token(tenant uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	token text := scim._random_token();
BEGIN
	INSERT INTO scim.token (tenant, hash, expires_at, prefix)
		VALUES (create_token.tenant, sha256(convert_to(token, 'UTF8')), create_token.expires_at, left(token, 12));
	RETURN token;
END;
$$;
COMMENT ON FUNCTION scim.create_token(uuid, timestamptz) IS
	'Issues a bearer token for a tenant and returns it; only its SHA-256 hash and its first 12 characters are kept, so this is the one time it can be read';

-- By id, so that the token never appears in statement text (and so in the
-- server's log): two arguments, so scim.revoke_token('...') stays the one that takes the token.
CREATE FUNCTION scim.revoke_token(tenant uuid, id uuid) RETURNS boolean
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH r AS (UPDATE scim.token t SET revoked_at = pg_catalog.now()
			   WHERE t.tenant = revoke_token.tenant AND t.id = revoke_token.id AND t.revoked_at IS NULL
			   RETURNING 1)
	SELECT pg_catalog.count(*) > 0 FROM r
	$$;
COMMENT ON FUNCTION scim.revoke_token(uuid, uuid) IS
	'Revokes a bearer token by its tenant and id (as scim.tokens shows them); true if it was live';

CREATE VIEW scim.tokens WITH (security_invoker = true) AS
	SELECT t.tenant, t.id, t.prefix, t.created, t.expires_at, t.revoked_at FROM scim.token t;
COMMENT ON VIEW scim.tokens IS
	'The bearer tokens without their hashes: prefix (the first 12 characters, NULL for tokens issued before it was kept) tells which is which; read with the rights on scim.token';

-- ---------------------------------------------------------------------------
-- The PL/pgSQL handler and its helpers: every request is answered in C now
-- (src/pg/handle.c, route.c and the files they name)
-- ---------------------------------------------------------------------------

DROP FUNCTION scim._service_provider_config(text);
DROP FUNCTION scim._schema_doc(text, text);
DROP FUNCTION scim._resource_type_doc(text, text);
DROP FUNCTION scim._handle(text, text, text, jsonb, text);
DROP FUNCTION scim._resource(text, text, uuid, text, jsonb, jsonb, text, text);
DROP FUNCTION scim._list(text, uuid, jsonb, text);
DROP FUNCTION scim._page(text, jsonb[], jsonb, text);
DROP FUNCTION scim._search_request(text);
DROP FUNCTION scim._cursor_encode(timestamptz, uuid, text);
DROP FUNCTION scim._cursor_decode(text, text);
DROP FUNCTION scim._cursor_timeout();
DROP FUNCTION scim._max_results();
DROP FUNCTION scim._default_count();
DROP FUNCTION scim._simple_eq(text, text);
DROP FUNCTION scim._patch_members(uuid, uuid, jsonb);
DROP FUNCTION scim._set_members(uuid, uuid, text, jsonb);
DROP FUNCTION scim._wants_members(jsonb);
DROP FUNCTION scim._event(uuid, text, text, uuid, text, integer, text, text);
DROP FUNCTION scim._fail_uniqueness(text, jsonb);
DROP FUNCTION scim._password_member(text, jsonb);
DROP FUNCTION scim._normalize(text, jsonb);
DROP FUNCTION scim._present(text, uuid, uuid, jsonb, text, boolean);
DROP FUNCTION scim._fail(integer, text, text);
DROP FUNCTION scim._response(integer, jsonb, jsonb);
DROP FUNCTION scim._body_member(jsonb, text);
DROP FUNCTION scim._strip_keys(jsonb, text[]);
DROP FUNCTION scim._authenticate(text);
COMMENT ON FUNCTION scim._body_jsonb(text) IS
	'A request body as scim.handle()''s own JSON reader reads it, NULL where it leaves the body to jsonb_in(); for tests against jsonb_in() (internal)';

-- ---------------------------------------------------------------------------
-- Stored data
-- ---------------------------------------------------------------------------

-- Passwords: 0.1.0 hashed the password a POST or PUT sent but kept one a
-- PATCH set as it came.  Each becomes its SCRAM-SHA-256 secret, as 0.2.0
-- stores every password (a secret stays as it is); a JSON null is no
-- password, which 0.2.0 does not store.  Neither changes what a client
-- reads: meta.version stays, and so does every ETag issued.
UPDATE scim.users SET data = data - 'password' WHERE jsonb_typeof(data->'password') = 'null';
UPDATE scim.users
	SET data = jsonb_set(data, '{password}', to_jsonb(scim._hash_password(data->>'password')))
	WHERE data ? 'password'
	  AND (jsonb_typeof(data->'password') <> 'string'
		   OR data->>'password' !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*$');

-- ---------------------------------------------------------------------------
-- Privileges: who may call what, and as whom the handler runs.  The roles
-- are made at the top of this script; README "Roles" says what each is for.
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
