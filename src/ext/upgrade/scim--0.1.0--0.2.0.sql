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
-- uuid_in() accepts, so that one member is one row and a deleted user's or
-- group's memberships are found by its id; NULL when v is no UUID.  The
-- pattern is uuid_in()'s grammar, so that the cast cannot fail.
CREATE FUNCTION scim._member_id(v text) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$
	SELECT CASE WHEN v ~ '^(\{[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7}\}|[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7})$'
				THEN v::uuid::text END
	$$;
COMMENT ON FUNCTION scim._member_id(text) IS
	'A member value in canonical form (lower-case hyphenated UUID), or NULL when it is not a UUID (internal)';

-- startIndex or count (RFC 7644 section 3.4.2.4) as a page uses it: any
-- integer int8in() reads, however many digits, clamped into [lo, hi] (below
-- 1 is 1, a negative count 0, past the integer range the bound), so that no
-- number a client sends is an error; only what is no integer is.  NULL
-- (an empty array in a SearchRequest) is lo, as greatest() took it before.
CREATE FUNCTION scim._page_param(value text, name text, lo integer, hi integer, scim_type text DEFAULT 'invalidValue')
	RETURNS integer
	LANGUAGE plpgsql IMMUTABLE
	AS $$
BEGIN
	IF value IS NULL THEN
		RETURN lo;
	END IF;
	IF value !~ '^[ \t\n\r\f\v]*[+-]?[0-9]+[ \t\n\r\f\v]*$' THEN
		PERFORM scim._fail(400, scim_type, name || ' must be an integer');
	END IF;
	-- more than ten significant digits is past any integer: the bound, without a cast that overflows
	IF length(ltrim(substring(value from '[0-9]+'), '0')) > 10 THEN
		RETURN CASE WHEN value ~ '^[ \t\n\r\f\v]*-' THEN lo ELSE hi END;
	END IF;
	RETURN least(greatest(value::bigint, lo), hi);
END;
$$;
COMMENT ON FUNCTION scim._page_param(text, text, integer, integer, text) IS
	'startIndex or count clamped into [lo, hi], however large; a value that is no integer is an invalidValue error (internal)';

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
-- its memberships by its id (scim._member_id() makes the form).  A domain,
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
-- The PL/pgSQL handler (src/ext/handle.sql): the discovery documents are
-- the C handler's alone; the rest as 0.2.0 has it
-- ---------------------------------------------------------------------------

DROP FUNCTION scim._service_provider_config(text);
DROP FUNCTION scim._schema_doc(text, text);
DROP FUNCTION scim._resource_type_doc(text, text);

-- A password in a POST or PUT body, as stored: {"password": <SCRAM secret>}, or {}.
CREATE OR REPLACE FUNCTION scim._password_member(rtype text, body jsonb) RETURNS jsonb
	LANGUAGE plpgsql
	AS $$
DECLARE
	pw jsonb := scim._body_member(body, 'password');
BEGIN
	IF rtype <> 'User' OR pw IS NULL OR jsonb_typeof(pw) = 'null' THEN
		RETURN '{}'::jsonb;
	END IF;
	IF jsonb_typeof(pw) <> 'string' THEN
		-- as a PATCH refuses it: the secret of a structure's JSON text is no password a person typed
		PERFORM scim._fail(400, 'invalidValue', 'attribute "password" must be a string');
	END IF;
	RETURN jsonb_build_object('password', scim._hash_password(pw #>> '{}'));
END;
$$;
COMMENT ON FUNCTION scim._password_member(text, jsonb) IS
	'The password a User''s POST or PUT body sends, hashed, as an object to merge into the stored resource (internal)';

-- Is members wanted in a Group response, given attributes / excludedAttributes?
CREATE OR REPLACE FUNCTION scim._wants_members(q jsonb) RETURNS boolean
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT CASE
		WHEN q ? 'attributes' THEN EXISTS (
			SELECT 1 FROM regexp_split_to_table(lower(q->>'attributes'), '\s*,\s*') a
			WHERE a IN ('members', 'urn:ietf:params:scim:schemas:core:2.0:group:members')
			   OR a ~ '^(urn:ietf:params:scim:schemas:core:2\.0:group:)?members[.[]')
		WHEN q ? 'excludedattributes' THEN NOT EXISTS (
			SELECT 1 FROM regexp_split_to_table(lower(q->>'excludedattributes'), '\s*,\s*') a
			WHERE a IN ('members', 'urn:ietf:params:scim:schemas:core:2.0:group:members'))
		ELSE true END
	$$;
COMMENT ON FUNCTION scim._wants_members(jsonb) IS
	'Whether a Group response carries members: Entra ID reads with excludedAttributes=members, and then the membership table is not read (internal)';

-- Replace, add or remove members of a group: the membership table, not the document.
CREATE OR REPLACE FUNCTION scim._set_members(tenant uuid, gid uuid, op text, members jsonb) RETURNS boolean
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	m jsonb;
	v text;
	mid text;
	mtype text;
	n bigint;
	changed boolean := false;
BEGIN
	IF op = 'replace' THEN
		DELETE FROM scim.group_members g WHERE g.tenant = _set_members.tenant AND g.group_id = gid;
		GET DIAGNOSTICS n = ROW_COUNT;
		changed := n > 0;
	END IF;
	IF members IS NULL OR jsonb_typeof(members) = 'null' THEN
		RETURN changed;
	END IF;
	IF jsonb_typeof(members) <> 'array' THEN
		members := jsonb_build_array(members);
	END IF;
	FOR m IN SELECT * FROM jsonb_array_elements(members) LOOP
		v := CASE jsonb_typeof(m) WHEN 'object' THEN m->>'value' WHEN 'string' THEN m #>> '{}' END;
		IF v IS NULL THEN
			PERFORM scim._fail(400, 'invalidValue', 'each member needs a "value", the id of a User or Group');
		END IF;
		mid := scim._member_id(v);
		IF mid IS NULL THEN
			-- never a member: not even a remove can name it
			PERFORM scim._fail(400, 'invalidValue', format('member "%s" is not a User or Group of this tenant', v));
		END IF;
		IF op = 'remove' THEN
			DELETE FROM scim.group_members g
			WHERE g.tenant = _set_members.tenant AND g.group_id = gid AND g.value = mid;
			GET DIAGNOSTICS n = ROW_COUNT;
			changed := changed OR n > 0;
			CONTINUE;
		END IF;
		mtype := CASE
			WHEN EXISTS (SELECT 1 FROM scim.users u WHERE u.tenant = _set_members.tenant AND u.id = mid::uuid) THEN 'User'
			WHEN EXISTS (SELECT 1 FROM scim.groups x WHERE x.tenant = _set_members.tenant AND x.id = mid::uuid) THEN 'Group'
			END;
		IF mtype IS NULL THEN
			PERFORM scim._fail(400, 'invalidValue', format('member "%s" is not a User or Group of this tenant', v));
		END IF;
		INSERT INTO scim.group_members (tenant, group_id, value, type, display)
		VALUES (_set_members.tenant, gid, mid, mtype, m->>'display')
		ON CONFLICT ON CONSTRAINT group_members_pkey DO NOTHING;
		GET DIAGNOSTICS n = ROW_COUNT;
		changed := changed OR n > 0;
	END LOOP;
	RETURN changed;
END;
$$;
COMMENT ON FUNCTION scim._set_members(uuid, uuid, text, jsonb) IS
	'Adds, removes or replaces group members in scim.group_members, their values in canonical form; each member must be a User or Group of the tenant; true if membership changed (internal)';

-- Apply the member operations of a Group PATCH to the membership table and
-- return the request without them, for scim.patch to apply to the document.
CREATE OR REPLACE FUNCTION scim._patch_members(tenant uuid, gid uuid, INOUT request jsonb, OUT changed boolean)
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	op jsonb;
	kind text;
	p text;
	rest jsonb := '[]';
	filter text;
	n bigint;
BEGIN
	changed := false;
	IF jsonb_typeof(request->'Operations') IS DISTINCT FROM 'array' THEN
		RETURN;					-- scim.patch reports what is wrong with it
	END IF;
	FOR op IN SELECT * FROM jsonb_array_elements(request->'Operations') LOOP
		kind := lower(op->>'op');
		p := op->>'path';
		IF kind IN ('add', 'remove', 'replace') AND p IS NOT NULL
		   AND lower(p) ~ '^(urn:ietf:params:scim:schemas:core:2\.0:group:)?members(\[|$)' THEN
			filter := substring(p from '\[(.*)\]$');
			IF filter IS NULL THEN
				IF kind = 'remove' AND NOT op ? 'value' THEN
					changed := scim._set_members(tenant, gid, 'replace', NULL) OR changed;
				ELSE
					changed := scim._set_members(tenant, gid, kind, op->'value') OR changed;
				END IF;
			ELSIF kind = 'remove' THEN
				-- members[value eq "id"] is an index lookup (of the id in the form
				-- it is stored in: value is not caseExact); other filters test each member
				IF filter ~* '^\s*value\s+eq\s+"[^"\\]*"\s*$' THEN
					DELETE FROM scim.group_members g
					WHERE g.tenant = _patch_members.tenant AND g.group_id = gid
					  AND g.value = scim._member_id(substring(filter from '"([^"\\]*)"'));
					GET DIAGNOSTICS n = ROW_COUNT;
					changed := changed OR n > 0;
				ELSE
					DELETE FROM scim.group_members g
					WHERE g.tenant = _patch_members.tenant AND g.group_id = gid
					  AND scim.matches(jsonb_build_object('members', jsonb_build_array(jsonb_strip_nulls(
							jsonb_build_object('value', g.value, 'type', g.type, 'display', g.display)))),
							'members[' || filter || ']', 'Group');
					GET DIAGNOSTICS n = ROW_COUNT;
					changed := changed OR n > 0;
				END IF;
			ELSE
				PERFORM scim._fail(400, 'invalidPath', format('path "%s": members are added without a filter and changed by removing and adding', p));
			END IF;
		ELSIF kind IN ('add', 'replace') AND p IS NULL AND jsonb_typeof(op->'value') = 'object'
			  AND scim._body_member(op->'value', 'members') IS NOT NULL THEN
			changed := scim._set_members(tenant, gid, kind, scim._body_member(op->'value', 'members')) OR changed;
			rest := rest || jsonb_build_array(op || jsonb_build_object('value',
				scim._strip_keys(op->'value', ARRAY['members'])));
		ELSE
			rest := rest || jsonb_build_array(op);
		END IF;
	END LOOP;
	request := request || jsonb_build_object('Operations', rest);
END;
$$;
COMMENT ON FUNCTION scim._patch_members(uuid, uuid, jsonb) IS
	'Applies the member operations of a Group PATCH to scim.group_members, O(log n) per member; returns the other operations (internal)';

-- A cursor (RFC 9865) is the position after the last row of a page, the
-- query it belongs to (its tenant among it) and when it was issued, signed
-- with HMAC-SHA-256 under the database's key (scim.secret), base64url-encoded:
-- opaque to clients, and only ever a position within the caller's own
-- tenant.  The issue time is signed with the rest, so no cursor outlives
-- scim.cursor_timeout.
CREATE OR REPLACE FUNCTION scim._cursor_encode(created timestamptz, id uuid, query_hash text) RETURNS text
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	data bytea := convert_to(concat_ws('|', 'c2', (extract(epoch FROM created) * 1000000)::bigint, id, query_hash,
									   extract(epoch FROM now())::bigint), 'UTF8');
BEGIN
	RETURN translate(replace(encode(data || scim._cursor_sign(data), 'base64'), E'\n', ''), '+/=', '-_');
END;
$$;
COMMENT ON FUNCTION scim._cursor_encode(timestamptz, uuid, text) IS 'A nextCursor value, signed (internal)';

CREATE OR REPLACE FUNCTION scim._cursor_decode(cursor text, query_hash text, OUT created timestamptz, OUT id uuid)
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	parts text[];
	raw bytea;
	data bytea;
	bad text := 'the cursor is not one this service issued; start again with an empty cursor';
BEGIN
	BEGIN
		raw := decode(translate(cursor, '-_', '+/') || repeat('=', (4 - length(cursor) % 4) % 4), 'base64');
	EXCEPTION WHEN OTHERS THEN
		PERFORM scim._fail(400, 'invalidCursor', bad);
	END;
	-- the contents, then their 32-byte signature; nothing is read before it is checked
	IF length(raw) <= 32 THEN
		PERFORM scim._fail(400, 'invalidCursor', bad);
	END IF;
	data := substring(raw FROM 1 FOR length(raw) - 32);
	IF NOT scim._cursor_verify(data, substring(raw FROM length(raw) - 31)) THEN
		PERFORM scim._fail(400, 'invalidCursor', bad);
	END IF;
	BEGIN
		parts := string_to_array(convert_from(data, 'UTF8'), '|');
		IF cardinality(parts) <> 5 OR parts[1] <> 'c2' THEN
			RAISE EXCEPTION 'bad cursor';
		END IF;
		created := to_timestamp(parts[2]::numeric / 1000000);
		id := parts[3]::uuid;
	EXCEPTION WHEN OTHERS THEN
		PERFORM scim._fail(400, 'invalidCursor', bad);
	END;
	IF parts[4] <> query_hash THEN
		PERFORM scim._fail(400, 'invalidCursor', 'the cursor belongs to a different query; repeat the query''s parameters unchanged');
	END IF;
	IF parts[5]::bigint < extract(epoch FROM now()) - scim._cursor_timeout() THEN
		PERFORM scim._fail(400, 'expiredCursor', format('the cursor has expired; cursors are valid for %s seconds', scim._cursor_timeout()));
	END IF;
END;
$$;
COMMENT ON FUNCTION scim._cursor_decode(text, text) IS
	'The position a cursor stands for, once its signature is checked, or an invalidCursor / expiredCursor error (internal)';

-- A page of stored rows (as to_jsonb of the table's rows) as a ListResponse.
CREATE OR REPLACE FUNCTION scim._page(rtype text, rows jsonb[], q jsonb, base text) RETURNS scim.response
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	total integer := coalesce(cardinality(rows), 0);
	start_index bigint := 1;
	cnt bigint := scim._default_count();
	members boolean := rtype = 'Group' AND scim._wants_members(q);
BEGIN
	-- a startIndex past the integer range echoes as the largest integer: a
	-- page as empty, and a number every client's integer type can read
	IF q ? 'startindex' THEN
		start_index := scim._page_param(q->>'startindex', 'startIndex', 1, 2147483647);
	END IF;
	IF q ? 'count' THEN
		cnt := scim._page_param(q->>'count', 'count', 0, scim._max_results());
	END IF;
	IF cnt = 0 OR start_index > total THEN
		-- an empty page still reports the total
		RETURN scim._response(200, scim.list_response(NULL::jsonb, total::bigint, start_index::integer));
	END IF;
	RETURN scim._response(200,
		(SELECT scim.list_response(scim.project(scim._present(rtype, (x->>'tenant')::uuid, (x->>'id')::uuid, x->'data', base, members),
											   q->>'attributes', q->>'excludedattributes', rtype), total, start_index::integer ORDER BY n)
		 FROM unnest(rows) WITH ORDINALITY AS u(x, n)
		 WHERE n >= start_index AND n < start_index + cnt));
END;
$$;
COMMENT ON FUNCTION scim._page(text, jsonb[], jsonb, text) IS 'A ListResponse of a page of the given rows (internal)';

-- GET list, or POST .search: filter, sort, page, project.  rtype NULL
-- searches Users and Groups together (POST /.search).
CREATE OR REPLACE FUNCTION scim._list(rtype text, tenant uuid, q jsonb, base text) RETURNS scim.response
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	types text[] := CASE WHEN rtype IS NULL THEN ARRAY['User', 'Group'] ELSE ARRAY[rtype] END;
	t text;
	parts text[] := '{}';
	keys text[] := '{}';
	skip text;
	cond text;
	sortkey text;
	err_state text;
	err_msg text;
	failed integer := 0;
	ord text := 'r.created, r.id';
	src text;					-- the table a type's rows come from
	start_index bigint := 1;
	cnt bigint := scim._default_count();
	total bigint;
	result jsonb;
	cursor_mode boolean := q ? 'cursor';
	-- what a cursor must be used with again: the tenant, the resource type and the query
	qhash text := left(md5(jsonb_build_array(tenant, rtype, q->'filter', q->'sortby', q->'sortorder')::text), 12);
	c_created timestamptz;
	c_id uuid;
	simple text[];
	rows jsonb[];
	last record;
	more boolean;
BEGIN
	-- the lookups identity providers make all day get statements planned once
	IF rtype IS NOT NULL AND q ? 'filter' AND NOT q ? 'sortby' AND NOT cursor_mode THEN
		simple := scim._simple_eq(q->>'filter', rtype);
		IF simple IS NOT NULL AND simple[1] IN ('userName', 'externalId', 'id', 'displayName') THEN
			IF rtype = 'User' THEN
				SELECT array_agg(to_jsonb(r) ORDER BY r.created, r.id) INTO rows FROM scim.users r
				WHERE r.tenant = _list.tenant AND CASE simple[1]
					WHEN 'userName' THEN scim.key_lower(r.data, 'userName') = lower(simple[2])
					WHEN 'externalId' THEN scim.key(r.data, 'externalId') = simple[2]
					WHEN 'id' THEN (r.data->>'id') = simple[2]
					WHEN 'displayName' THEN scim.key_lower(r.data, 'displayName') = lower(simple[2]) END;
			ELSE
				SELECT array_agg(to_jsonb(r) ORDER BY r.created, r.id) INTO rows FROM scim.groups r
				WHERE r.tenant = _list.tenant AND CASE simple[1]
					WHEN 'displayName' THEN scim.key_lower(r.data, 'displayName') = lower(simple[2])
					WHEN 'externalId' THEN scim.key(r.data, 'externalId') = simple[2]
					WHEN 'id' THEN (r.data->>'id') = simple[2]
					WHEN 'userName' THEN scim.key_lower(r.data, 'userName') = lower(simple[2]) END;
			END IF;
			RETURN scim._page(rtype, rows, q, base);
		END IF;
	END IF;

	-- one SELECT per resource type.  A filter is the store's (membership
	-- through scim.group_members); at the root an attribute only the other
	-- type has is absent (RFC 7644 section 3.4.2), and any other error is
	-- the answer, whichever type it arose in
	FOREACH t IN ARRAY types LOOP
		cond := '';
		sortkey := 'NULL::text';
		src := CASE t WHEN 'User' THEN 'scim.users' ELSE 'scim.groups' END;
		IF q ? 'filter' THEN
			cond := ' AND ' || scim._store_filter_sql(q->>'filter', t, rtype IS NULL);
		END IF;
		BEGIN
			IF q ? 'sortby' THEN
				sortkey := scim.sort_sql(q->>'sortby', t, 'x.data');
			END IF;
		EXCEPTION WHEN OTHERS THEN
			IF rtype IS NOT NULL THEN
				RAISE;
			END IF;
			-- the first type's reason: Users' "cannot be sorted by" over Groups' "unknown attribute";
			-- a type without the attribute has no value to sort by, and its rows sort last
			IF failed = 0 THEN
				GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_msg = MESSAGE_TEXT;
			END IF;
			failed := failed + 1;
		END;
		parts := parts || format('SELECT %L AS rtype, x.tenant, x.id, x.data, x.created, %s AS sortkey FROM %s x WHERE x.tenant = $1%s',
								 t, sortkey, src, cond);
		keys := keys || format('SELECT x.created, x.id FROM %s x WHERE x.tenant = $1%s', src, cond);
	END LOOP;
	IF failed = cardinality(types) THEN
		-- as the one-type search answers it: a bad sortBy is invalidValue
		PERFORM scim._fail(400, coalesce((SELECT c.scim_type FROM scim.error_codes() c
										  WHERE c.sqlstate = err_state AND c.http_status = 400), 'invalidFilter'), err_msg);
	END IF;
	IF q ? 'sortby' THEN
		IF cursor_mode THEN
			PERFORM scim._fail(400, 'invalidValue', 'cursor pagination follows the default order; leave out sortBy or use startIndex');
		END IF;
		ord := 'r.sortkey' || CASE WHEN lower(coalesce(q->>'sortorder', 'ascending')) = 'descending'
								   THEN ' DESC NULLS FIRST' ELSE ' ASC NULLS LAST' END || ', r.created, r.id';
	END IF;
	IF q ? 'count' AND cursor_mode THEN
		-- with a cursor a count out of range is an error (RFC 9865 invalidCount), however far out
		cnt := scim._page_param(q->>'count', 'count', 0, scim._max_results() + 1, 'invalidCount');
		IF cnt < 1 OR cnt > scim._max_results() THEN
			PERFORM scim._fail(400, 'invalidCount', format('count must be between 1 and %s with a cursor', scim._max_results()));
		END IF;
	ELSIF q ? 'count' THEN
		cnt := scim._page_param(q->>'count', 'count', 0, scim._max_results());
	END IF;
	IF q ? 'startindex' AND NOT cursor_mode THEN
		-- as scim._page() reads it
		start_index := scim._page_param(q->>'startindex', 'startIndex', 1, 2147483647);
	END IF;

	EXECUTE format('SELECT count(*) FROM (%s) r', array_to_string(parts, ' UNION ALL ')) INTO total USING tenant;

	IF NOT cursor_mode THEN
		IF cnt = 0 OR start_index > total THEN
			result := scim.list_response(NULL::jsonb, total, start_index::integer);
		ELSE
			-- Okta pages through every user by startIndex: in the default order,
			-- skip to the page over (created, id) alone, which an index-only scan
			-- gives without reading the documents, and read only the page's rows
			IF start_index > 1 AND NOT q ? 'sortby' THEN
				skip := format('WHERE (r.created, r.id) >= (SELECT k.created, k.id FROM (%s) k ORDER BY k.created, k.id OFFSET $6 LIMIT 1)',
							   array_to_string(keys, ' UNION ALL '));
			ELSE
				skip := '';
			END IF;
			EXECUTE format('SELECT scim.list_response(scim.project(scim._present(r.rtype, r.tenant, r.id, r.data, $2,
									CASE WHEN r.rtype = ''Group'' THEN scim._wants_members($3) ELSE false END),
								$3->>''attributes'', $3->>''excludedattributes'', r.rtype), $4, $5 ORDER BY %s)
							FROM (SELECT * FROM (%s) r %s ORDER BY %s %s LIMIT $7) r',
						   ord, array_to_string(parts, ' UNION ALL '), skip, ord,
						   CASE WHEN skip = '' THEN 'OFFSET $6' ELSE '' END)
				INTO result
				USING tenant, base, q, total, start_index::integer, start_index - 1, cnt;
			-- rows deleted since the count can leave the page empty
			result := coalesce(result, scim.list_response(NULL::jsonb, total, start_index::integer));
		END IF;
		RETURN scim._response(200, result);
	END IF;

	-- cursor pagination (RFC 9865): keyset on (created, id), one row more to know if a page follows
	IF coalesce(q->>'cursor', '') <> '' THEN
		SELECT d.created, d.id INTO c_created, c_id FROM scim._cursor_decode(q->>'cursor', qhash) d;
	END IF;
	EXECUTE format('SELECT array_agg(to_jsonb(r) ORDER BY r.created, r.id)
					FROM (SELECT * FROM (%s) r WHERE $2::timestamptz IS NULL OR (r.created, r.id) > ($2, $3)
						  ORDER BY r.created, r.id LIMIT $4) r',
				   array_to_string(parts, ' UNION ALL '))
		INTO rows USING tenant, c_created, c_id, cnt + 1;
	more := coalesce(cardinality(rows), 0) > cnt;
	IF more THEN
		rows := rows[1:cnt];
	END IF;
	SELECT scim.list_response(scim.project(scim._present(x->>'rtype', (x->>'tenant')::uuid, (x->>'id')::uuid, x->'data', base,
							CASE WHEN x->>'rtype' = 'Group' THEN scim._wants_members(q) ELSE false END),
						q->>'attributes', q->>'excludedattributes', x->>'rtype'), total, 1 ORDER BY n)
		INTO result FROM unnest(rows) WITH ORDINALITY AS u(x, n);
	result := coalesce(result, scim.list_response(NULL::jsonb, total, 1)) - 'startIndex';
	IF more THEN
		last := jsonb_populate_record(NULL::scim.users, rows[cnt]);
		result := result || jsonb_build_object('nextCursor', scim._cursor_encode(last.created, last.id, qhash));
	END IF;
	RETURN scim._response(200, result);
END;
$$;
COMMENT ON FUNCTION scim._list(text, uuid, jsonb, text) IS
	'A list or search request: index pagination (startIndex, count) or cursor pagination (RFC 9865); NULL rtype searches Users and Groups (internal)';

-- Create, replace, patch, read, delete one resource.
CREATE OR REPLACE FUNCTION scim._resource(method text, rtype text, tenant uuid, rid text, q jsonb, headers jsonb, body text, base text)
	RETURNS scim.response
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	endpoint text := CASE rtype WHEN 'User' THEN '/Users/' ELSE '/Groups/' END;
	res_id uuid;
	cur record;
	doc jsonb;
	req jsonb;
	newdata jsonb;
	ts timestamptz := clock_timestamp();
	now_ts text := to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
	members_changed boolean := false;
	pm record;
	resp_status integer;
	etag text;
	members boolean := rtype = 'Group' AND scim._wants_members(q);
	kind text;
	op text := method || ' ' || CASE WHEN rid IS NULL THEN rtrim(endpoint, '/') ELSE endpoint || rid END;
BEGIN
	IF method IN ('POST', 'PUT', 'PATCH') THEN
		BEGIN
			req := body::jsonb;
		EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
			PERFORM scim._fail(400, 'invalidSyntax', 'the request body is not valid JSON: ' || SQLERRM);
		WHEN numeric_value_out_of_range THEN
			PERFORM scim._fail(400, 'invalidValue', 'the request body holds a number that cannot be stored: ' || SQLERRM);
		END;
		IF req IS NULL THEN
			PERFORM scim._fail(400, 'invalidSyntax', 'the request has no body');
		END IF;
	END IF;

	IF method = 'POST' THEN
		doc := scim._normalize(rtype, req) || scim._password_member(rtype, req);
		res_id := gen_random_uuid();
		doc := doc || jsonb_build_object('id', res_id::text, 'meta', jsonb_build_object(
			'resourceType', rtype, 'created', now_ts, 'lastModified', now_ts, 'version', 'W/"1"'));
		BEGIN
			-- static statements: PL/pgSQL plans them once, EXECUTE would plan every time
			IF rtype = 'User' THEN
				INSERT INTO scim.users (tenant, id, data, created, last_modified) VALUES (_resource.tenant, res_id, doc, ts, ts);
			ELSE
				INSERT INTO scim.groups (tenant, id, data, created, last_modified) VALUES (_resource.tenant, res_id, doc, ts, ts);
			END IF;
		EXCEPTION WHEN unique_violation THEN
			PERFORM scim._fail_uniqueness(rtype, doc);
		END;
		IF rtype = 'Group' THEN
			PERFORM scim._set_members(tenant, res_id, 'add', scim._body_member(req, 'members'));
		END IF;
		-- Okta and Entra send members with the POST; they come back as stored
		PERFORM scim._event(tenant, 'created', rtype, res_id, op, 201);
		RETURN scim._response(201,
			scim.project(scim._present(rtype, tenant, res_id, doc, base, members), q->>'attributes', q->>'excludedattributes', rtype),
			jsonb_build_object('location', base || endpoint || res_id::text, 'etag', 'W/"1"'));
	END IF;

	-- the rest address an existing resource by id
	IF rid !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
		PERFORM scim._fail(404, NULL, format('%s "%s" not found', rtype, rid));
	END IF;
	res_id := rid::uuid;
	IF method = 'GET' AND rtype = 'User' THEN
		SELECT u.data, u.version, u.created INTO cur FROM scim.users u WHERE u.tenant = _resource.tenant AND u.id = res_id;
	ELSIF method = 'GET' THEN
		SELECT g.data, g.version, g.created INTO cur FROM scim.groups g WHERE g.tenant = _resource.tenant AND g.id = res_id;
	ELSIF rtype = 'User' THEN
		SELECT u.data, u.version, u.created INTO cur FROM scim.users u WHERE u.tenant = _resource.tenant AND u.id = res_id
			FOR UPDATE;
	ELSE
		SELECT g.data, g.version, g.created INTO cur FROM scim.groups g WHERE g.tenant = _resource.tenant AND g.id = res_id
			FOR UPDATE;
	END IF;
	IF cur IS NULL THEN
		PERFORM scim._fail(404, NULL, format('%s "%s" not found', rtype, rid));
	END IF;
	etag := 'W/"' || cur.version || '"';

	IF method IN ('PUT', 'PATCH', 'DELETE') AND headers ? 'if-match'
	   AND headers->>'if-match' <> '*' AND NOT etag = ANY (regexp_split_to_array(headers->>'if-match', '\s*,\s*')) THEN
		PERFORM scim._fail(412, NULL, format('the resource has version %s, not %s', etag, headers->>'if-match'));
	END IF;

	IF method = 'GET' THEN
		IF headers ? 'if-none-match' AND etag = ANY (regexp_split_to_array(headers->>'if-none-match', '\s*,\s*')) THEN
			RETURN scim._response(304, NULL, jsonb_build_object('etag', etag));
		END IF;
		RETURN scim._response(200,
			scim.project(scim._present(rtype, tenant, res_id, cur.data, base, members), q->>'attributes', q->>'excludedattributes', rtype),
			jsonb_build_object('etag', etag));
	END IF;

	IF method = 'DELETE' THEN
		IF rtype = 'User' THEN
			DELETE FROM scim.users u WHERE u.tenant = _resource.tenant AND u.id = res_id;
		ELSE
			DELETE FROM scim.groups g WHERE g.tenant = _resource.tenant AND g.id = res_id;
		END IF;
		-- a deleted user or group is a member nowhere any more
		DELETE FROM scim.group_members m WHERE m.tenant = _resource.tenant AND m.value = res_id::text;
		PERFORM scim._event(tenant, 'deleted', rtype, res_id, op, 204);
		RETURN scim._response(204, NULL);
	END IF;

	IF method = 'PUT' THEN
		-- readOnly id and meta stay; a password is only replaced when one is sent
		newdata := scim._normalize(rtype, req) || jsonb_build_object('id', res_id::text, 'meta', cur.data->'meta')
			|| CASE WHEN cur.data ? 'password' THEN jsonb_build_object('password', cur.data->'password') ELSE '{}' END
			|| scim._password_member(rtype, req);
		IF rtype = 'Group' AND scim._body_member(req, 'members') IS NOT NULL THEN
			members_changed := scim._set_members(tenant, res_id, 'replace', scim._body_member(req, 'members'));
		END IF;
	ELSE
		IF rtype = 'Group' THEN
			pm := scim._patch_members(tenant, res_id, req);
			req := pm.request;
			members_changed := pm.changed;
		END IF;
		IF jsonb_array_length(coalesce(req->'Operations', '[]')) > 0 OR rtype = 'User' THEN
			newdata := scim.patch(cur.data, req, rtype);
		ELSE
			newdata := cur.data;
		END IF;
		-- a password a PATCH sets, with a path or without, is stored as its secret
		IF newdata->'password' IS DISTINCT FROM cur.data->'password' AND newdata ? 'password' THEN
			newdata := newdata || scim._password_member(rtype, newdata);
		END IF;
	END IF;

	-- Entra ID expects 204 for group PATCH and needs no body; asked-for attributes need 200
	resp_status := CASE WHEN method = 'PATCH' AND rtype = 'Group' AND NOT (q ? 'attributes' OR q ? 'excludedattributes')
						THEN 204 ELSE 200 END;
	IF newdata IS DISTINCT FROM cur.data OR members_changed THEN
		newdata := jsonb_set(jsonb_set(newdata, '{meta,lastModified}', to_jsonb(now_ts)),
							 '{meta,version}', to_jsonb('W/"' || (cur.version + 1) || '"'));
		BEGIN
			IF rtype = 'User' THEN
				UPDATE scim.users u SET data = newdata, version = u.version + 1, last_modified = ts
				WHERE u.tenant = _resource.tenant AND u.id = res_id;
			ELSE
				UPDATE scim.groups g SET data = newdata, version = g.version + 1, last_modified = ts
				WHERE g.tenant = _resource.tenant AND g.id = res_id;
			END IF;
		EXCEPTION WHEN unique_violation THEN
			PERFORM scim._fail_uniqueness(rtype, newdata);
		END;
		etag := 'W/"' || (cur.version + 1) || '"';
		kind := CASE
			WHEN coalesce(cur.data->>'active', 'true') = 'true' AND newdata->>'active' = 'false' THEN 'suspended'
			WHEN cur.data->>'active' = 'false' AND coalesce(newdata->>'active', 'true') = 'true' THEN 'unsuspended'
			ELSE 'updated' END;
		PERFORM scim._event(tenant, kind, rtype, res_id, op, resp_status);
	ELSE
		newdata := cur.data;
	END IF;

	IF resp_status = 204 THEN
		RETURN scim._response(204, NULL, jsonb_build_object('etag', etag));
	END IF;
	RETURN scim._response(200,
		scim.project(scim._present(rtype, tenant, res_id, newdata, base, members), q->>'attributes', q->>'excludedattributes', rtype),
		jsonb_build_object('etag', etag));
END;
$$;
COMMENT ON FUNCTION scim._resource(text, text, uuid, text, jsonb, jsonb, text, text) IS
	'POST, GET, PUT, PATCH or DELETE of one User or Group (internal)';

-- Every request the C handler (scim.handle) leaves: all but the
-- lookups, reads and user PATCHes it answers, and every one of those that
-- fails.  The discovery endpoints, /Me and /Bulk are the C handler's alone
-- (src/pg/discovery.c).
CREATE OR REPLACE FUNCTION scim._handle(method text, path text, query text, headers jsonb, body text)
	RETURNS scim.response
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m text := upper(coalesce(method, ''));
	h jsonb := coalesce(headers, '{}');
	q jsonb;
	base text := scim._base_url(coalesce(headers, '{}'));
	seg text[];
	tenant uuid;
	auth text;
	rtype text;
	res scim.response;
	st text;
	msg text;
	status integer;
	stype text;
BEGIN
	PERFORM scim._act_for(NULL);
	BEGIN
		q := scim.parse_query(coalesce(query, ''));
		-- authentication: Authorization: Bearer <token>
		auth := h->>'authorization';
		IF auth IS NOT NULL AND auth ~* '^bearer\s+' THEN
			tenant := scim._authenticate(regexp_replace(auth, '^[Bb][Ee][Aa][Rr][Ee][Rr]\s+', ''));
		END IF;
		IF tenant IS NULL THEN
			RETURN scim._response(401, scim.error(401, NULL, 'a valid bearer token is required'),
								  '{"www-authenticate": "Bearer realm=\"scim\""}');
		END IF;
		PERFORM scim._act_for(tenant);

		seg := array_remove(string_to_array(trim(both '/' from split_part(coalesce(path, ''), '?', 1)), '/'), '');
		IF cardinality(seg) = 0 THEN
			PERFORM scim._fail(404, NULL, 'no resource at the SCIM base; try /Users, /Groups or /ServiceProviderConfig');
		END IF;

		CASE lower(seg[1])
		WHEN 'users', 'groups' THEN
			rtype := CASE lower(seg[1]) WHEN 'users' THEN 'User' ELSE 'Group' END;
			IF cardinality(seg) > 2 THEN
				PERFORM scim._fail(404, NULL, 'no such resource');
			END IF;
			IF cardinality(seg) = 2 AND seg[2] = '.search' THEN
				IF m <> 'POST' THEN
					PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s/.search', m, seg[1]));
				END IF;
				RETURN scim._list(rtype, tenant, scim._search_request(body), base);
			END IF;
			IF cardinality(seg) = 1 THEN
				IF m = 'GET' THEN
					RETURN scim._list(rtype, tenant, q, base);
				ELSIF m = 'POST' THEN
					RETURN scim._resource('POST', rtype, tenant, NULL, q, h, body, base);
				END IF;
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s', m, seg[1]));
			END IF;
			IF m NOT IN ('GET', 'PUT', 'PATCH', 'DELETE') THEN
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /%s/{id}', m, seg[1]));
			END IF;
			RETURN scim._resource(m, rtype, tenant, seg[2], q, h, body, base);
		WHEN '.search' THEN
			IF m <> 'POST' OR cardinality(seg) > 1 THEN
				PERFORM scim._fail(405, NULL, format('%s is not allowed on /.search', m));
			END IF;
			RETURN scim._list(NULL, tenant, scim._search_request(body), base);
		ELSE
			PERFORM scim._fail(404, NULL, format('no resource type at /%s', seg[1]));
		END CASE;
		RETURN scim._response(500, scim.error(500, NULL, 'request not routed'));
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
		SELECT c.http_status, c.scim_type INTO status, stype FROM scim.error_codes() c WHERE c.sqlstate = st;
		IF status IS NULL THEN
			status := CASE
				WHEN st LIKE 'SH%' THEN substr(st, 3)::integer
				WHEN st = '23505' THEN 409
				WHEN st IN ('22P02', '22P05', '2202E', '22023', '54001', '54000') THEN 400
				ELSE 500 END;
			stype := CASE WHEN st = '23505' THEN 'uniqueness' WHEN status = 400 THEN 'invalidValue' END;
		END IF;
		IF status = 500 THEN
			-- keep internals out of the answer, in the server log
			RAISE WARNING 'scim.handle: % % failed: % (SQLSTATE %)', m, path, msg, st;
			msg := 'internal error';
		END IF;
		IF tenant IS NOT NULL THEN
			-- (the block's own _act_for may not have run)
			PERFORM scim._act_for(tenant);
			PERFORM scim._event(tenant, 'failed', rtype, NULL, m || ' ' || coalesce(path, ''), status, stype, msg);
		END IF;
		RETURN scim._response(status, scim.error(status, stype, msg));
	END;
END;
$$;
COMMENT ON FUNCTION scim._handle(text, text, text, jsonb, text) IS
	'Answers one SCIM request, as scim.handle() does, in PL/pgSQL; scim.handle() calls it for what it does not answer itself (internal)';

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
