
-- ---------------------------------------------------------------------------
-- The store behind scim.handle(): tenants, tokens, Users, Groups, members,
-- events.  The tenant id leads every primary key, unique constraint and
-- index (but the token hash and the GIN index on emails, which cannot), so
-- the tables can be distributed by tenant; row-level security keeps each
-- tenant's token to its own rows.
-- ---------------------------------------------------------------------------

CREATE FUNCTION scim._random_token() RETURNS text
	AS 'MODULE_PATHNAME', 'scim_random_token'
	LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._random_token() IS
	'A new secret token: 256 bits from the strong random source, base64url (internal)';

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

CREATE TABLE scim.tenant (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name text NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scim.tenant IS 'Tenants of the store: one per customer directory (one Entra ID, Okta or Google Workspace connection)';

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
CREATE UNIQUE INDEX users_username_idx ON scim.users (tenant, lower(data->>'userName'));
CREATE INDEX users_externalid_idx ON scim.users (tenant, (data->>'externalId'));
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
CREATE UNIQUE INDEX groups_displayname_idx ON scim.groups (tenant, lower(data->>'displayName'));
CREATE INDEX groups_externalid_idx ON scim.groups (tenant, (data->>'externalId'));
CREATE INDEX groups_order_idx ON scim.groups (tenant, created, id);
COMMENT ON TABLE scim.groups IS 'SCIM Groups: data holds the resource without its members, which live in scim.group_members';

CREATE TABLE scim.group_members (
	tenant uuid NOT NULL,
	group_id uuid NOT NULL,
	value text NOT NULL,
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
-- statement that inserts, and every write inserts an event.
CREATE DOMAIN scim.event_kind AS text
	CHECK (VALUE IN ('created', 'updated', 'suspended', 'unsuspended', 'deleted', 'failed'));
COMMENT ON DOMAIN scim.event_kind IS 'What an event records: created, updated, suspended, unsuspended, deleted or failed';

-- No foreign key to scim.tenant: every write appends an event, and the key
-- check would lock the tenant's row each time (concurrent writers of one
-- tenant then share it through multixacts).  The log of a deleted tenant
-- stays, as an audit trail, until scim.prune_events() ages it out.
--
-- One index: the key (tenant, at, id) is unique by its id and serves a
-- tenant's log in time order, which is how the log is read.  A second
-- index for the id alone cost every write another index entry and WAL
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
COMMENT ON TABLE scim.event IS 'What each provisioning request did, per tenant: the log an admin reviews after a cycle';

CREATE VIEW scim.events AS
	SELECT e.tenant, t.name AS tenant_name, e.at, e.kind, e.resource_type, e.resource_id,
		   e.operation, e.status, e.scim_type, e.detail
	FROM scim.event e LEFT JOIN scim.tenant t ON t.id = e.tenant;
COMMENT ON VIEW scim.events IS 'The event log with tenant names (NULL once a tenant is deleted), newest last';

-- row-level security: a request sets scim.tenant for its transaction
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
CREATE FUNCTION scim.current_tenant() RETURNS uuid
	LANGUAGE c STABLE PARALLEL SAFE
	AS 'MODULE_PATHNAME', 'scim_current_tenant';
COMMENT ON FUNCTION scim.current_tenant() IS
	'The tenant the current transaction acts for (set by scim.handle() after authentication), or NULL';

CREATE POLICY tenant_rows ON scim.users USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.groups USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.group_members USING (tenant = scim.current_tenant());
CREATE POLICY tenant_rows ON scim.event USING (tenant = scim.current_tenant());

CREATE FUNCTION scim.create_tenant(name text) RETURNS uuid
	LANGUAGE sql VOLATILE
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

CREATE FUNCTION scim._authenticate(token text) RETURNS uuid
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	-- plpgsql, not sql: a SECURITY DEFINER sql function is planned on every call
	RETURN (SELECT t.tenant FROM scim.token t
			WHERE t.hash = sha256(convert_to(_authenticate.token, 'UTF8'))
			  AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()));
END;
$$;
COMMENT ON FUNCTION scim._authenticate(text) IS 'The tenant of a live bearer token, or NULL (internal)';
REVOKE ALL ON FUNCTION scim._authenticate(text) FROM PUBLIC;
REVOKE ALL ON TABLE scim.token FROM PUBLIC;

CREATE FUNCTION scim.prune_events(retention interval DEFAULT NULL) RETURNS bigint
	LANGUAGE sql VOLATILE
	AS $$
	WITH d AS (DELETE FROM scim.event
			   WHERE at < now() - coalesce(retention, nullif(current_setting('scim.event_retention', true), '')::interval,
											 interval '90 days')
			   RETURNING 1)
	SELECT count(*) FROM d
	$$;
COMMENT ON FUNCTION scim.prune_events(interval) IS
	'Deletes events older than the retention (the argument, else the scim.event_retention setting, else 90 days); returns how many';
