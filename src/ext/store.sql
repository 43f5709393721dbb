
-- ---------------------------------------------------------------------------
-- The store behind scim.handle(): tenants, tokens, Users, Groups, members,
-- events.  The tenant id leads every primary key, unique constraint and
-- index (but the token hash and the GIN index on emails, which cannot), so
-- the tables can be distributed by tenant; row-level security keeps each
-- tenant's token to its own rows.
-- ---------------------------------------------------------------------------

-- The roles the store's privileges are given to (src/ext/privileges.sql
-- grants them; README "Roles").  Roles belong to the cluster, not to a
-- database or an extension: they are made here if missing, kept by DROP
-- EXTENSION, and shared by every database that installs scim.
--   scim_handler  what scim.handle() runs as (it runs as its owner, which is
--                 by this role): it reaches a tenant's rows only through the
--                 row-level security policies, for the tenant the handler
--                 has authenticated.  No one logs in as it or is its member.
--   scim_app      the application's backend: manages tenants and tokens,
--                 reads every tenant's users, groups, events and changes.  Trusted
--                 across tenants; grant it to the application's own role.
-- A superuser, or a role with BYPASSRLS, is never subject to row-level
-- security, even FORCEd: as scim_handler it would read every tenant, so
-- such a role is refused here (and by the handler at each call).
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

CREATE FUNCTION scim._random_token() RETURNS text
	AS 'MODULE_PATHNAME', 'scim_random_token'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._random_token() IS
	'A new secret token: 256 bits from the strong random source, base64url (internal)';

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

CREATE FUNCTION scim.parse_query(query text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_parse_query'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim.parse_query(text) IS
	'The parameters of a URL query string as a jsonb object: percent-decoded, names lower-cased, the last of repeated names wins';

CREATE FUNCTION scim.sort_sql(path text, resource_type text DEFAULT 'User', data_column text DEFAULT 'data')
	RETURNS text
	AS 'MODULE_PATHNAME', 'scim_sort_sql'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim.sort_sql(text, text, text) IS
	'The ORDER BY key for a sortBy path (RFC 7644 section 3.4.2.3): case-insensitive where the schema says so, instants for dateTimes, the primary value of a multi-valued attribute';

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

CREATE TABLE scim.tenant (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	request_timeout interval CHECK (request_timeout > interval '0' AND request_timeout <= interval '1 hour'),
	filter_max_terms integer CHECK (filter_max_terms BETWEEN 1 AND 10000)
);
COMMENT ON TABLE scim.tenant IS 'Tenants of the store: one per customer directory (one Entra ID, Okta or Google Workspace connection)';
COMMENT ON COLUMN scim.tenant.request_timeout IS
	'The deadline of this tenant''s requests, in place of the setting scim.request_timeout; NULL for the setting';
COMMENT ON COLUMN scim.tenant.filter_max_terms IS
	'The most terms a filter of this tenant''s may have, in place of the setting scim.filter_max_terms; NULL for the setting';
-- scim.handle() keeps the tenants' limits it has read: any change tells
-- every backend to forget them, as for scim.token below (ALWAYS, and a row
-- trigger for logical replication's apply).  With them disabled a backend
-- keeps the limits it read until it ends: they bound requests, they
-- grant nothing.
CREATE TRIGGER tenant_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.tenant
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.tenant ENABLE ALWAYS TRIGGER tenant_changed;
CREATE TRIGGER tenant_applied AFTER INSERT OR UPDATE OR DELETE ON scim.tenant
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.tenant ENABLE REPLICA TRIGGER tenant_applied;

CREATE TABLE scim.token (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	hash bytea NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz,
	revoked_at timestamptz,
	prefix text,
	PRIMARY KEY (tenant, id)
);
-- looked up before the tenant is known: the one index that cannot lead with it
CREATE UNIQUE INDEX token_hash_idx ON scim.token (hash);
COMMENT ON TABLE scim.token IS 'Bearer tokens of the tenants, stored as SHA-256 hashes; the token itself is shown once';
COMMENT ON COLUMN scim.token.prefix IS
	'The first 12 characters of the token ("scim_" and 7 of its 43 random ones, leaving 214 secret bits), to tell tokens apart; NULL for tokens issued before it was kept';
-- scim.handle() keeps the tokens it has seen: a revocation, expiry change or
-- new token tells every backend to forget them.  ALWAYS: a session under
-- session_replication_role = replica (pg_restore --disable-triggers, tools
-- that apply changes) must tell too.  Logical replication's apply fires row
-- triggers only, hence the row trigger for the replica role.  A backend
-- caches tokens only while both are enabled so (src/pg/handle.c, watched()).
CREATE TRIGGER token_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.token
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.token ENABLE ALWAYS TRIGGER token_changed;
CREATE TRIGGER token_applied AFTER INSERT OR UPDATE OR DELETE ON scim.token
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.token ENABLE REPLICA TRIGGER token_applied;

CREATE TABLE scim.users (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	data jsonb NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	last_modified timestamptz NOT NULL DEFAULT now(),
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX users_username_idx ON scim.users (tenant, scim.key_lower(data, 'userName'));
CREATE INDEX users_externalid_idx ON scim.users (tenant, scim.key(data, 'externalId'));
CREATE INDEX users_order_idx ON scim.users (tenant, created, id);
CREATE INDEX users_emails_idx ON scim.users USING gin (scim.values_lower(data->'emails', 'value'));
COMMENT ON TABLE scim.users IS 'SCIM Users: data holds the resource as stored (canonical names, meta without location)';

CREATE TABLE scim.groups (
	tenant uuid NOT NULL REFERENCES scim.tenant (id) ON DELETE CASCADE,
	id uuid NOT NULL DEFAULT gen_random_uuid(),
	data jsonb NOT NULL,
	created timestamptz NOT NULL DEFAULT now(),
	last_modified timestamptz NOT NULL DEFAULT now(),
	version bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX groups_displayname_idx ON scim.groups (tenant, scim.key_lower(data, 'displayName'));
CREATE INDEX groups_externalid_idx ON scim.groups (tenant, scim.key(data, 'externalId'));
CREATE INDEX groups_order_idx ON scim.groups (tenant, created, id);
COMMENT ON TABLE scim.groups IS 'SCIM Groups: data holds the resource without its members, which live in scim.group_members';

-- A member's id as uuid_out() writes it, and nothing else: one member is
-- one row whatever case a client sends, and deleting a user or group finds
-- its memberships by its id (src/pg/members.c writes the form).  A domain,
-- for the reason scim.event_kind is one (below).
CREATE DOMAIN scim.member_id AS text
	CHECK (VALUE ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$');
COMMENT ON DOMAIN scim.member_id IS 'The id of a group member, a lower-case hyphenated UUID';

CREATE TABLE scim.group_members (
	tenant uuid NOT NULL,
	group_id uuid NOT NULL,
	value scim.member_id NOT NULL,
	type text CHECK (type IN ('User', 'Group')),
	display text,
	PRIMARY KEY (tenant, group_id, value),
	FOREIGN KEY (tenant, group_id) REFERENCES scim.groups (tenant, id) ON DELETE CASCADE
);
CREATE INDEX group_members_value_idx ON scim.group_members (tenant, value);
-- scim.handle() keeps which tenants have no memberships, to read their
-- users without a join: any change tells every backend to forget, under
-- any session_replication_role, as for scim.token.  The row trigger fires
-- only under the replica role, so an ordinary write of many members
-- invalidates once.
CREATE TRIGGER members_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON scim.group_members
	FOR EACH STATEMENT EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.group_members ENABLE ALWAYS TRIGGER members_changed;
CREATE TRIGGER members_applied AFTER INSERT OR UPDATE OR DELETE ON scim.group_members
	FOR EACH ROW EXECUTE FUNCTION scim._registry_changed();
ALTER TABLE scim.group_members ENABLE REPLICA TRIGGER members_applied;
COMMENT ON TABLE scim.group_members IS
	'Group membership, one row per member: adding one member to a 100,000-member group is an index insert';

-- A domain, not a CHECK on the column: a domain's check is kept ready in
-- the type cache, a column's is read back from the catalog by every
-- statement that inserts, and every failed request inserts an event.
CREATE DOMAIN scim.event_kind AS text
	CHECK (VALUE IN ('created', 'updated', 'suspended', 'unsuspended', 'deleted', 'failed', 'imported'));
COMMENT ON DOMAIN scim.event_kind IS
	'What an event records: created, updated, suspended, unsuspended, deleted or failed, or imported (a scim.import() call)';

-- The requests that failed, and those that changed nothing but left
-- attributes out; what requests changed is recorded once, by the change
-- feed's rows (src/ext/changes.sql), and the view scim.events shows both.
-- No foreign key to scim.tenant: the key check would lock the tenant's row
-- each time (concurrent writers of one tenant then share it through
-- multixacts).  The log of a deleted tenant stays, as an audit trail,
-- until scim.prune_events() ages it out.
--
-- One index: the key (tenant, at, id) is unique by its id and serves a
-- tenant's log in time order, which is how the log is read.  A second
-- index for the id alone cost every event another index entry and WAL
-- record, and nothing looks an event up by its id.
CREATE TABLE scim.event (
	tenant uuid NOT NULL,
	id bigint GENERATED ALWAYS AS IDENTITY,
	at timestamptz NOT NULL DEFAULT clock_timestamp(),
	kind scim.event_kind NOT NULL,
	resource_type text,
	resource_id uuid,
	operation text NOT NULL,
	status integer NOT NULL,
	scim_type text,
	detail text,
	PRIMARY KEY (tenant, at, id)
);
COMMENT ON SEQUENCE scim.event_id_seq IS 'Numbers the events (identity of scim.event.id)';
COMMENT ON TABLE scim.event IS
	'Provisioning requests that failed or changed nothing, per tenant; the view scim.events shows them with the changes of scim.change, the log an admin reviews after a cycle';

-- Row-level security: scim_handler sees the rows of the tenant the
-- handler acts for (scim.current_tenant(), which only the handler can
-- set), scim_app every tenant's.  Any other role that is not the owner or
-- a superuser sees none: no policy applies to it.
ALTER TABLE scim.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.users FORCE ROW LEVEL SECURITY;
ALTER TABLE scim.groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.groups FORCE ROW LEVEL SECURITY;
ALTER TABLE scim.group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.group_members FORCE ROW LEVEL SECURITY;
ALTER TABLE scim.event ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.event FORCE ROW LEVEL SECURITY;

-- In C, not SQL: an inlined SQL body is compiled again in every policy
-- qual of every statement execution (src/pg/tenant.c).
-- PARALLEL RESTRICTED: the tenant is the handler's process's alone, which a
-- parallel worker cannot see; the policies' scans stay in the leader.
CREATE FUNCTION scim.current_tenant() RETURNS uuid
	LANGUAGE c STABLE PARALLEL RESTRICTED
	AS 'MODULE_PATHNAME', 'scim_current_tenant';
COMMENT ON FUNCTION scim.current_tenant() IS
	'The tenant the current scim.handle() call acts for (set by the handler alone, after it has authenticated a token), or NULL';

CREATE POLICY tenant_rows ON scim.users TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.groups TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.group_members TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.event TO scim_handler USING (tenant = scim.current_tenant());
CREATE POLICY application ON scim.users FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.groups FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.group_members FOR SELECT TO scim_app USING (true);
CREATE POLICY application ON scim.event FOR SELECT TO scim_app USING (true);
CREATE POLICY application_prune ON scim.event FOR DELETE TO scim_app USING (true);

CREATE FUNCTION scim.create_tenant(name text) RETURNS uuid
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$ INSERT INTO scim.tenant (name) VALUES (create_tenant.name) RETURNING id $$;
COMMENT ON FUNCTION scim.create_tenant(text) IS 'Creates a tenant and returns its id';

CREATE FUNCTION scim.create_token(tenant uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
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

CREATE FUNCTION scim.revoke_token(token text) RETURNS boolean
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
	WITH r AS (UPDATE scim.token SET revoked_at = now()
			   WHERE hash = sha256(convert_to(revoke_token.token, 'UTF8')) AND revoked_at IS NULL
			   RETURNING 1)
	SELECT count(*) > 0 FROM r
	$$;
COMMENT ON FUNCTION scim.revoke_token(text) IS 'Revokes a bearer token; true if it was live';

-- By id, so that the token never appears in statement text (and so in the
-- server's log): two arguments, so scim.revoke_token('...') stays the one above.
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

REVOKE ALL ON TABLE scim.token FROM PUBLIC;
