
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

CREATE FUNCTION scim._strip_keys(doc jsonb, names text[]) RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$
	SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
	FROM jsonb_each(doc) WHERE lower(key) <> ALL (names)
	$$;
COMMENT ON FUNCTION scim._strip_keys(jsonb, text[]) IS
	'doc without the members whose lower-cased names are listed (internal)';

-- Attribute names are case-insensitive (RFC 7643 §2.1): "Members" is members.
CREATE FUNCTION scim._body_member(doc jsonb, name text) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	AS $$
BEGIN
	RETURN (SELECT value FROM jsonb_each(doc) WHERE lower(key) = name LIMIT 1);
END;
$$;
COMMENT ON FUNCTION scim._body_member(jsonb, text) IS
	'The value of doc''s member whose lower-cased name is name, or NULL if it has none (internal)';

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

CREATE FUNCTION scim._response(status integer, body jsonb, extra jsonb DEFAULT '{}') RETURNS scim.response
	LANGUAGE sql STABLE PARALLEL SAFE
	AS $$
	SELECT (status,
			CASE WHEN body IS NULL THEN extra
				 ELSE jsonb_build_object('content-type', 'application/scim+json; charset=utf-8') || extra END
			|| CASE WHEN scim.current_tenant() IS NULL THEN '{}'::jsonb
					ELSE jsonb_build_object('x-scim-tenant', scim.current_tenant()::text) END,
			body)::scim.response
	$$;
COMMENT ON FUNCTION scim._response(integer, jsonb, jsonb) IS
	'A response with the SCIM content type when it has a body, and x-scim-tenant for the HTTP layer''s log (internal)';

CREATE FUNCTION scim._fail(status integer, scim_type text, detail text) RETURNS void
	LANGUAGE plpgsql
	AS $$
BEGIN
	RAISE EXCEPTION USING
		ERRCODE = coalesce((SELECT c.sqlstate FROM scim.error_codes() c WHERE c.scim_type = _fail.scim_type),
						   CASE status WHEN 404 THEN 'SC404' WHEN 401 THEN 'SH401' WHEN 403 THEN 'SH403'
									   WHEN 405 THEN 'SH405' WHEN 409 THEN 'SC003' WHEN 412 THEN 'SH412'
									   WHEN 413 THEN 'SH413' WHEN 501 THEN 'SH501' ELSE 'SC400' END),
		MESSAGE = detail;
END;
$$;
COMMENT ON FUNCTION scim._fail(integer, text, text) IS 'Raises the error a response will report (internal)';

-- The resource as a response shows it: meta.location added, groups of a user, members of a group.
CREATE FUNCTION scim._present(rtype text, tenant uuid, id uuid, data jsonb, base text, want_members boolean)
	RETURNS jsonb
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	doc jsonb := jsonb_set(data, '{meta,location}',
						   to_jsonb(base || CASE rtype WHEN 'User' THEN '/Users/' ELSE '/Groups/' END || id::text));
BEGIN
	IF rtype = 'Group' AND want_members THEN
		doc := doc || jsonb_build_object('members', coalesce((
			SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
					'value', m.value, 'type', m.type, 'display', m.display,
					'$ref', base || CASE m.type WHEN 'Group' THEN '/Groups/' ELSE '/Users/' END || m.value))
				ORDER BY m.value)
			FROM scim.group_members m WHERE m.tenant = _present.tenant AND m.group_id = _present.id), '[]'::jsonb));
	ELSIF rtype = 'User' THEN
		doc := doc || coalesce((
			SELECT jsonb_build_object('groups', jsonb_agg(jsonb_build_object(
					'value', g.id::text, 'display', g.data->>'displayName', 'type', 'direct',
					'$ref', base || '/Groups/' || g.id::text) ORDER BY g.id))
			FROM scim.group_members m JOIN scim.groups g ON g.tenant = m.tenant AND g.id = m.group_id
			WHERE m.tenant = _present.tenant AND m.value = _present.id::text
			HAVING count(*) > 0), '{}'::jsonb);
	END IF;
	RETURN doc;
END;
$$;
COMMENT ON FUNCTION scim._present(text, uuid, uuid, jsonb, text, boolean) IS
	'A stored resource as responses show it: location, the groups of a user, the members of a group (internal)';

-- Check a body against the schema, the way a PUT or POST must: names canonical,
-- types coerced, read-only attributes ignored.  Reuses the PATCH engine.
CREATE FUNCTION scim._normalize(rtype text, body jsonb) RETURNS jsonb
	LANGUAGE plpgsql STABLE
	AS $$
DECLARE
	input jsonb;
	out jsonb;
	urn text;
BEGIN
	IF jsonb_typeof(body) IS DISTINCT FROM 'object' THEN
		PERFORM scim._fail(400, 'invalidSyntax', 'the request body must be a JSON object');
	END IF;
	-- readOnly attributes a client may send back are ignored (Okta sends groups, id)
	input := scim._strip_keys(body, ARRAY['id', 'meta', 'groups', 'schemas', 'members', 'password']);
	out := scim.patch('{}'::jsonb, jsonb_build_object(
		'schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb,
		'Operations', jsonb_build_array(jsonb_build_object('op', 'replace', 'value', input))), rtype);
	-- the core schema first, then the extensions present
	SELECT t.schema INTO urn FROM scim.resource_type t WHERE t.name = rtype;
	out := out || jsonb_build_object('schemas', (
		SELECT jsonb_agg(s ORDER BY s <> urn, s) FROM (
			SELECT urn AS s
			UNION
			SELECT e.schema FROM scim.resource_type_extension e
			WHERE e.resource_type = rtype AND out ? e.schema) x));
	IF rtype = 'User' AND coalesce(out->>'userName', '') = '' THEN
		PERFORM scim._fail(400, 'invalidValue', 'userName is required');
	ELSIF rtype = 'Group' AND coalesce(out->>'displayName', '') = '' THEN
		PERFORM scim._fail(400, 'invalidValue', 'displayName is required');
	END IF;
	RETURN out;
END;
$$;
COMMENT ON FUNCTION scim._normalize(text, jsonb) IS
	'A POST or PUT body checked against the schema: canonical names, coerced types, read-only attributes dropped, userName or displayName required (internal)';

-- A password in a POST or PUT body, as stored: {"password": <SCRAM secret>}, or {}.
CREATE FUNCTION scim._password_member(rtype text, body jsonb) RETURNS jsonb
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

-- The 409 for a userName or Group displayName that the tenant already has.
CREATE FUNCTION scim._fail_uniqueness(rtype text, doc jsonb) RETURNS void
	LANGUAGE plpgsql
	AS $$
BEGIN
	PERFORM scim._fail(409, 'uniqueness', CASE rtype WHEN 'User'
		THEN format('a User with userName "%s" already exists', doc->>'userName')
		ELSE format('a Group with displayName "%s" already exists', doc->>'displayName') END);
END;
$$;
COMMENT ON FUNCTION scim._fail_uniqueness(text, jsonb) IS
	'Raises the uniqueness error for a User or Group whose name the tenant already has (internal)';

CREATE FUNCTION scim._event(tenant uuid, kind text, rtype text, rid uuid, operation text, status integer,
							scim_type text DEFAULT NULL, detail text DEFAULT NULL)
	RETURNS void
	LANGUAGE sql VOLATILE
	AS $$
	INSERT INTO scim.event (tenant, kind, resource_type, resource_id, operation, status, scim_type, detail)
	VALUES (tenant, kind, rtype, rid, operation, status, scim_type, left(detail, 1000))
	$$;
COMMENT ON FUNCTION scim._event(uuid, text, text, uuid, text, integer, text, text) IS 'Appends to the event log (internal)';

-- Is members wanted in a Group response, given attributes / excludedAttributes?
CREATE FUNCTION scim._wants_members(q jsonb) RETURNS boolean
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

-- Replace, add or remove members of a group: the membership table, not the document.
CREATE FUNCTION scim._set_members(tenant uuid, gid uuid, op text, members jsonb) RETURNS boolean
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
CREATE FUNCTION scim._patch_members(tenant uuid, gid uuid, INOUT request jsonb, OUT changed boolean)
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

CREATE FUNCTION scim._max_results() RETURNS integer
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(nullif(current_setting('scim.max_results', true), '')::integer, 1000) $$;
COMMENT ON FUNCTION scim._max_results() IS 'The largest page a list returns (setting scim.max_results, default 1000) (internal)';

CREATE FUNCTION scim._default_count() RETURNS integer
	LANGUAGE sql STABLE
	AS $$ SELECT least(coalesce(nullif(current_setting('scim.default_count', true), '')::integer, 100), scim._max_results()) $$;
COMMENT ON FUNCTION scim._default_count() IS 'The page size when a list names no count (setting scim.default_count, default 100) (internal)';

CREATE FUNCTION scim._simple_eq(filter text, resource_type text) RETURNS text[]
	AS 'MODULE_PATHNAME', 'scim_simple_eq'
	LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION scim._simple_eq(text, text) IS
	'{attribute, value} when a filter is one eq on a single-valued string attribute, else NULL (internal)';

CREATE FUNCTION scim._cursor_timeout() RETURNS integer
	LANGUAGE sql STABLE
	AS $$ SELECT coalesce(nullif(current_setting('scim.cursor_timeout', true), '')::integer, 3600) $$;
COMMENT ON FUNCTION scim._cursor_timeout() IS 'Seconds a cursor stays valid (setting scim.cursor_timeout, default 3600) (internal)';

-- A cursor (RFC 9865) is the position after the last row of a page, the
-- query it belongs to (its tenant among it) and when it was issued, signed
-- with HMAC-SHA-256 under the database's key (scim.secret), base64url-encoded:
-- opaque to clients, and only ever a position within the caller's own
-- tenant.  The issue time is signed with the rest, so no cursor outlives
-- scim.cursor_timeout.
CREATE FUNCTION scim._cursor_encode(created timestamptz, id uuid, query_hash text) RETURNS text
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

CREATE FUNCTION scim._cursor_decode(cursor text, query_hash text, OUT created timestamptz, OUT id uuid)
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

-- A page of stored rows (as to_jsonb of the table's rows) as a ListResponse.
CREATE FUNCTION scim._page(rtype text, rows jsonb[], q jsonb, base text) RETURNS scim.response
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
CREATE FUNCTION scim._list(rtype text, tenant uuid, q jsonb, base text) RETURNS scim.response
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
CREATE FUNCTION scim._resource(method text, rtype text, tenant uuid, rid text, q jsonb, headers jsonb, body text, base text)
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

-- A SearchRequest body (RFC 7644 section 3.4.3) as query parameters; lists are comma-joined.
CREATE FUNCTION scim._search_request(body text) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE
	AS $$
DECLARE
	sreq jsonb;
BEGIN
	BEGIN
		sreq := body::jsonb;
	EXCEPTION WHEN invalid_text_representation OR untranslatable_character THEN
		PERFORM scim._fail(400, 'invalidSyntax', 'the request body is not valid JSON: ' || SQLERRM);
	WHEN numeric_value_out_of_range THEN
		PERFORM scim._fail(400, 'invalidValue', 'the request body holds a number that cannot be stored: ' || SQLERRM);
	END;
	IF jsonb_typeof(sreq) IS DISTINCT FROM 'object' THEN
		PERFORM scim._fail(400, 'invalidSyntax', 'a SearchRequest must be a JSON object');
	END IF;
	RETURN (SELECT coalesce(jsonb_object_agg(lower(key),
				CASE jsonb_typeof(value) WHEN 'array' THEN (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(value) x)
										 ELSE value #>> '{}' END), '{}'::jsonb)
			FROM jsonb_each(sreq) WHERE lower(key) <> 'schemas' AND jsonb_typeof(value) <> 'null');
END;
$$;
COMMENT ON FUNCTION scim._search_request(text) IS 'The parameters of a SearchRequest body (internal)';

CREATE FUNCTION scim._body_jsonb(body text) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_body_jsonb'
	LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION scim._body_jsonb(text) IS
	'A request body as scim.handle() reads it for a PATCH, NULL where it leaves the body to scim._handle(); for tests against jsonb_in() (internal)';

-- The PATCH step of scim.handle()'s one-statement user PATCH (src/pg/handle.c).
-- Costed high so that the planner tests it after every other condition: it
-- is to see the one row the key and row-level security select.
CREATE FUNCTION scim._patch_step(data jsonb, version bigint, request jsonb, at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_patch_step'
	LANGUAGE C VOLATILE STRICT COST 10000;
COMMENT ON FUNCTION scim._patch_step(jsonb, bigint, jsonb, timestamptz) IS
	'Applies a PatchOp request to a user''s data for scim.handle()''s UPDATE; true when the row is to take scim._patched() (internal)';
CREATE FUNCTION scim._patched() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'scim_patched'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._patched() IS 'The resource the last scim._patch_step() made (internal)';
CREATE FUNCTION scim._patched_kind() RETURNS text
	AS 'MODULE_PATHNAME', 'scim_patched_kind'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._patched_kind() IS 'The event kind (updated, suspended, unsuspended) of the last scim._patch_step() (internal)';

-- The tenant a request acts for, set by the handler after authentication
-- and only inside it (src/pg/tenant.c): not callable from anywhere else.
CREATE FUNCTION scim._act_for(tenant uuid) RETURNS void
	AS 'MODULE_PATHNAME', 'scim_act_for'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim._act_for(uuid) IS
	'Makes the current scim.handle() call act for a tenant (NULL: for none), until the call ends; raises outside scim.handle() but for a superuser (internal)';

-- Every request the C handler (scim.handle, below) leaves: all but the
-- lookups, reads and user PATCHes it answers, and every one of those that
-- fails.  The discovery endpoints, /Me and /Bulk are the C handler's alone
-- (src/pg/discovery.c).
CREATE FUNCTION scim._handle(method text, path text, query text, headers jsonb, body text)
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

-- The lookups, reads and PATCHes identity providers make all day, in C with
-- statements planned once; the rest through scim._handle().
CREATE FUNCTION scim.handle(method text, path text, query text DEFAULT NULL,
							headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response
	AS 'MODULE_PATHNAME', 'scim_handle'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle(text, text, text, jsonb, text) IS
	'Answers one SCIM request (RFC 7644): /Users, /Groups, their /.search, /ServiceProviderConfig, /Schemas, /ResourceTypes; path is relative to the SCIM base, headers have lower-case names';

-- The same answer as text, for HTTP layers that write it out as it is:
-- the fast path writes its documents as text directly, where casting
-- scim.handle()'s jsonb would build each document only to print it.
CREATE FUNCTION scim.handle_text(method text, path text, query text DEFAULT NULL,
								 headers jsonb DEFAULT '{}', body text DEFAULT NULL)
	RETURNS scim.response_text
	AS 'MODULE_PATHNAME', 'scim_handle_text'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.handle_text(text, text, text, jsonb, text) IS
	'scim.handle() with the response''s headers and body as JSON text, exactly as their ::text casts would give them; what scim-server calls';
