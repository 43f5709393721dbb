-- discovery_claims: what /ServiceProviderConfig and /Schemas say, checked
-- against what the service does, through scim.handle().
--
-- Each row is one claim: what the document says, what a request did, and
-- ok when the two agree.  The attribute rows are generated from the
-- /Schemas document itself, so that an attribute added to a schema is
-- checked with the rest: for each attribute and sub-attribute, its
-- uniqueness (two resources with the same value: 409 for "server", both
-- made for "none") and its mutability (a POST with a value, then a PUT with
-- another).  Runs in a database of its own, so that no other test's
-- registered schemas join the loop.
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_scim_claims;
CREATE DATABASE regress_scim_claims;
\c regress_scim_claims
SET client_min_messages = warning;
CREATE EXTENSION scim;
RESET client_min_messages;

SELECT set_config('claims.tenant', scim.create_tenant('Claims')::text, false) IS NOT NULL AS tenant;
SELECT set_config('claims.token', scim.create_token(current_setting('claims.tenant')::uuid), false) IS NOT NULL AS token;
-- h(method, path[, query[, body[, extra headers]]]): one request with the tenant's token
CREATE FUNCTION pg_temp.h(m text, p text, q text DEFAULT NULL, b text DEFAULT NULL, extra jsonb DEFAULT '{}')
	RETURNS scim.response LANGUAGE sql AS $$
	SELECT scim.handle(m, p, q, jsonb_build_object('authorization', 'Bearer ' || current_setting('claims.token'),
		'host', 'claims.example') || extra, b)
$$;
CREATE FUNCTION pg_temp.patch(ops text) RETURNS text LANGUAGE sql AS $$
	SELECT '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ' || ops || '}'
$$;
-- users the filter, sort and members checks read
SELECT count(*) FILTER (WHERE (pg_temp.h('POST', '/Users', NULL, format('{"userName": "claim-%s"}', n))).status = 201) AS made
FROM unnest(ARRAY['b', 'c', 'a']) n;
CREATE TEMP TABLE ids AS SELECT u.data->>'userName' AS name, u.id::text AS id FROM scim.users u;

-- ---- /ServiceProviderConfig ------------------------------------------------
-- read with a small scim.max_results, which it must report and the lists obey
SET scim.max_results = 2;
CREATE TEMP TABLE spc AS SELECT (pg_temp.h('GET', '/ServiceProviderConfig')).body AS doc;
SELECT 'filter' AS claim, s.doc->'filter' AS says, r.status, r.body->'totalResults' AS total, r.body->'itemsPerPage' AS shown,
	(s.doc->'filter'->>'supported')::boolean AND r.status = 200 AND (r.body->>'totalResults')::int = 3
	AND (r.body->>'itemsPerPage')::int = (s.doc->'filter'->>'maxResults')::int
	AND jsonb_array_length(r.body->'Resources') = (s.doc->'filter'->>'maxResults')::int AS ok
FROM spc s, pg_temp.h('GET', '/Users', 'filter=userName sw "claim-"&count=1000') r;
RESET scim.max_results;
SELECT 'sort' AS claim, s.doc->'sort' AS says, r.status,
	(SELECT string_agg(x->>'userName', ',' ORDER BY o) FROM jsonb_array_elements(r.body->'Resources') WITH ORDINALITY e(x, o)) AS order_shown,
	(s.doc->'sort'->>'supported')::boolean AND r.status = 200
	AND (SELECT string_agg(x->>'userName', ',' ORDER BY o) FROM jsonb_array_elements(r.body->'Resources') WITH ORDINALITY e(x, o))
		= 'claim-c,claim-b,claim-a' AS ok
FROM spc s, pg_temp.h('GET', '/Users', 'filter=userName sw "claim-"&sortBy=userName&sortOrder=descending') r;
SELECT 'etag' AS claim, s.doc->'etag' AS says, g.headers->>'etag' = g.body->'meta'->>'version' AS etag_is_version,
	n.status AS if_none_match, p.status AS if_match_stale,
	(s.doc->'etag'->>'supported')::boolean AND g.headers->>'etag' = g.body->'meta'->>'version'
	AND n.status = 304 AND p.status = 412 AS ok
FROM spc s, ids i,
	LATERAL pg_temp.h('GET', '/Users/' || i.id) g,
	LATERAL pg_temp.h('GET', '/Users/' || i.id, NULL, NULL, jsonb_build_object('if-none-match', g.headers->>'etag')) n,
	LATERAL pg_temp.h('PUT', '/Users/' || i.id, NULL, '{"userName": "claim-a"}', '{"if-match": "W/\"999\""}') p
WHERE i.name = 'claim-a';
SELECT 'patch' AS claim, s.doc->'patch' AS says, r.status, r.body->>'title' AS title,
	(s.doc->'patch'->>'supported')::boolean AND r.status = 200 AND r.body->>'title' = 'Patched' AS ok
FROM spc s, ids i, LATERAL pg_temp.h('PATCH', '/Users/' || i.id, NULL,
	pg_temp.patch('[{"op": "replace", "path": "title", "value": "Patched"}]')) r
WHERE i.name = 'claim-a';
-- a password changed by PATCH is stored as a new SCRAM secret and never shown
CREATE TEMP TABLE secret_before AS SELECT u.data->>'password' AS secret FROM scim.users u, ids i
WHERE u.id::text = i.id AND i.name = 'claim-b';
CREATE TEMP TABLE password_patch AS SELECT r.* FROM ids i, LATERAL pg_temp.h('PATCH', '/Users/' || i.id, NULL,
	pg_temp.patch('[{"op": "replace", "path": "password", "value": "n3w-Secret"}]')) r
WHERE i.name = 'claim-b';
SELECT 'changePassword' AS claim, s.doc->'changePassword' AS says, r.status, r.body ? 'password' AS shown,
	left(u.data->>'password', 14) AS stored,
	(s.doc->'changePassword'->>'supported')::boolean = (r.status = 200 AND NOT r.body ? 'password'
		AND u.data->>'password' LIKE 'SCRAM-SHA-256$%' AND u.data->>'password' IS DISTINCT FROM b.secret) AS ok
FROM spc s, secret_before b, password_patch r, scim.users u
WHERE u.id::text = r.body->>'id';
SELECT 'bulk' AS claim, s.doc->'bulk' AS says, r.status, r.body->>'detail' AS detail,
	CASE WHEN (s.doc->'bulk'->>'supported')::boolean THEN r.status = 200 ELSE r.status = 501 END AS ok
FROM spc s, pg_temp.h('POST', '/Bulk', NULL, '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}') r;
SELECT 'authenticationSchemes' AS claim, s.doc->'authenticationSchemes'->0->>'type' AS says, r.status,
	r.headers->>'www-authenticate' AS challenge,
	s.doc->'authenticationSchemes'->0->>'type' = 'oauthbearertoken' AND r.status = 401
	AND r.headers->>'www-authenticate' LIKE 'Bearer %' AS ok
FROM spc s, scim.handle('GET', '/ServiceProviderConfig', NULL, '{"authorization": "Bearer not-a-token"}', NULL) r;
-- read again with a page size smaller than the list: a list without count is one page of it
SET scim.default_count = 2;
SELECT 'pagination' AS claim, s.body->'pagination'->'defaultPageSize' AS says, r.body->'itemsPerPage' AS shown,
	(s.body->'pagination'->>'index')::boolean AND r.status = 200 AND (r.body->>'totalResults')::int = 3
	AND (r.body->>'itemsPerPage')::int = (s.body->'pagination'->>'defaultPageSize')::int AS ok
FROM pg_temp.h('GET', '/ServiceProviderConfig') s, pg_temp.h('GET', '/Users', 'filter=userName sw "claim-"') r;
RESET scim.default_count;

-- ---- /ResourceTypes and the schemas' own words (RFC 7643 section 8.7.1) ----
SELECT string_agg(t->>'name', ', ' ORDER BY o) AS resource_types
FROM jsonb_array_elements((pg_temp.h('GET', '/ResourceTypes')).body->'Resources') WITH ORDINALITY x(t, o);
SELECT s->>'name' AS schema, s->>'description' AS description
FROM jsonb_array_elements((pg_temp.h('GET', '/Schemas')).body->'Resources') s ORDER BY 1;

-- ---- /Me (RFC 7644 section 3.11) and what the C handler answers in full ----
SELECT status, body FROM pg_temp.h('GET', '/Me');
SELECT status, body->>'detail' AS detail FROM pg_temp.h('PATCH', '/me', NULL, pg_temp.patch('[]'));
SELECT status, headers ? 'x-scim-tenant' AS tenant_named FROM scim.handle('GET', '/Me', NULL, '{}', NULL);
SELECT kind, status, operation, detail FROM scim.event WHERE status = 501 ORDER BY id;
-- a hostile path segment is a value, never SQL, and is logged as it came
SELECT status, body->>'detail' AS detail FROM pg_temp.h('GET', '/Schemas/x'' OR ''1''=''1');
SELECT status, body->>'detail' AS detail FROM pg_temp.h('GET', '/ResourceTypes/User%27--');
SELECT status, body->>'detail' AS detail FROM pg_temp.h(NULL, '/Schemas');
SELECT status, body->>'detail' AS detail FROM pg_temp.h('GET', '/Schemas', 'filter=%FF');
SELECT status, body->>'detail' AS detail FROM scim.handle('GET', '/Schemas', NULL, '[]', NULL);
SELECT status, body->'meta'->>'location' AS location FROM pg_temp.h('GET', '/ServiceProviderConfig', NULL, NULL, '{"host": null}');
SELECT status, body->'meta'->>'location' AS location FROM pg_temp.h('GET', '/ServiceProviderConfig', NULL, NULL, '{"host": 42}');
-- scim.handle_text() writes the same answers, byte for byte
SELECT r.m, r.p, t.status = j.status AND t.headers = j.headers::text AND t.body IS NOT DISTINCT FROM j.body::text AS same
FROM (VALUES ('GET', '/Me', 'Bearer ' || current_setting('claims.token')), ('GET', '/Me', 'Bearer nope'),
			 ('POST', '/Bulk', 'Bearer ' || current_setting('claims.token')),
			 ('DELETE', '/Schemas', 'Bearer ' || current_setting('claims.token')),
			 ('GET', '/ResourceTypes/Nope', 'Bearer ' || current_setting('claims.token')),
			 ('GET', '/ResourceTypes', 'Bearer ' || current_setting('claims.token'))) r(m, p, a),
	LATERAL scim.handle_text(r.m, r.p, NULL, jsonb_build_object('authorization', r.a), NULL) t,
	LATERAL scim.handle(r.m, r.p, NULL, jsonb_build_object('authorization', r.a), NULL) j;

-- ---- /Schemas: every attribute's uniqueness and mutability ----------------
-- a registered extension is checked as the built-in schemas are
\pset tuples_only on
SELECT scim.register_schema('{"id": "urn:example:claims:2.0:User", "name": "ClaimsUser", "description": "Badges",
	"attributes": [{"name": "badge", "type": "string", "mutability": "immutable"},
				   {"name": "serial", "type": "string", "mutability": "readOnly"},
				   {"name": "level", "type": "integer"}]}');
\pset tuples_only off
-- the resource type a schema is served on, and whether as an extension
CREATE TEMP TABLE served AS
SELECT t->>'name' AS rtype, t->>'endpoint' AS endpoint, t->>'schema' AS urn, false AS extension
FROM jsonb_array_elements((pg_temp.h('GET', '/ResourceTypes')).body->'Resources') t
UNION ALL
SELECT t->>'name', t->>'endpoint', e->>'schema', true
FROM jsonb_array_elements((pg_temp.h('GET', '/ResourceTypes')).body->'Resources') t,
	jsonb_array_elements(t->'schemaExtensions') e;
-- every attribute and sub-attribute of every schema /Schemas lists
CREATE TEMP TABLE attrs AS
SELECT s->>'id' AS urn, s->>'name' AS schema_name, a->>'name' AS name, NULL::jsonb AS parent, a AS def, o AS pos
FROM jsonb_array_elements((pg_temp.h('GET', '/Schemas')).body->'Resources') s,
	jsonb_array_elements(s->'attributes') WITH ORDINALITY x(a, o)
UNION ALL
SELECT s->>'id', s->>'name', (a->>'name') || '.' || (b->>'name'), a, b, o * 100 + p
FROM jsonb_array_elements((pg_temp.h('GET', '/Schemas')).body->'Resources') s,
	jsonb_array_elements(s->'attributes') WITH ORDINALITY x(a, o),
	jsonb_array_elements(a->'subAttributes') WITH ORDINALITY y(b, p);

-- sample(attribute, k, salt): the k-th value (1 or 2) a client could send
-- for the attribute; salt keeps one check's strings apart from another's.
-- A group's members name users of the tenant; the others are made up.
CREATE FUNCTION pg_temp.sample(a jsonb, k integer, salt text, parent text DEFAULT NULL) RETURNS jsonb
	LANGUAGE plpgsql AS $$
DECLARE
	v jsonb;
	sub jsonb;
BEGIN
	IF parent = 'members' AND a->>'name' IN ('value', '$ref', 'display') THEN
		-- the k-th user, its URI and its name, as the service shows them
		SELECT CASE a->>'name' WHEN 'value' THEN to_jsonb(i.id)
							   WHEN '$ref' THEN to_jsonb('http://claims.example/scim/v2/Users/' || i.id)
							   ELSE to_jsonb(i.name) END
		INTO v FROM pg_temp.ids i ORDER BY i.name OFFSET k - 1 LIMIT 1;
	ELSIF parent = 'members' AND a->>'name' = 'type' THEN
		v := '"User"';
	ELSIF a->>'type' = 'complex' THEN
		v := '{}';
		FOR sub IN SELECT x FROM jsonb_array_elements(a->'subAttributes') x WHERE x->>'mutability' <> 'readOnly' LOOP
			v := v || jsonb_build_object(sub->>'name', pg_temp.sample(sub, k, salt, a->>'name'));
		END LOOP;
	ELSIF jsonb_array_length(coalesce(a->'canonicalValues', '[]')) > 0 THEN
		v := a->'canonicalValues'->((k - 1) % jsonb_array_length(a->'canonicalValues'));
	ELSE
		v := CASE a->>'type'
			WHEN 'boolean' THEN to_jsonb(k = 1)
			WHEN 'integer' THEN to_jsonb(k)
			WHEN 'decimal' THEN to_jsonb(k + 0.5)
			WHEN 'dateTime' THEN to_jsonb(format('2020-01-0%sT00:00:00Z', k))
			WHEN 'binary' THEN to_jsonb(CASE k WHEN 1 THEN 'QUJD' ELSE 'REVG' END)
			WHEN 'reference' THEN to_jsonb(format('https://claims.example/%s/%s/%s', salt, a->>'name', k))
			ELSE to_jsonb(format('%s-%s-%s', a->>'name', salt, k)) END;
	END IF;
	IF (a->>'multiValued')::boolean THEN
		v := jsonb_build_array(v);
	END IF;
	RETURN v;
END;
$$;
-- doc(attribute row, served row, value, name, k): a resource with the attribute
-- set to value, the k-th; a sub-attribute's in its parent's k-th value
CREATE FUNCTION pg_temp.doc(x pg_temp.attrs, s pg_temp.served, v jsonb, name text, k integer) RETURNS text
	LANGUAGE plpgsql AS $$
DECLARE
	d jsonb := CASE s.rtype WHEN 'User' THEN jsonb_build_object('userName', name)
							ELSE jsonb_build_object('displayName', name) END;
	top jsonb := v;
	topname text := x.name;
BEGIN
	IF x.parent IS NOT NULL THEN
		-- the parent's sample, with this sub-attribute's value in it
		top := pg_temp.sample(x.parent, k, 'p');
		topname := x.parent->>'name';
		IF (x.parent->>'multiValued')::boolean THEN
			top := jsonb_build_array(top->0 || jsonb_build_object(x.def->>'name', v));
		ELSE
			top := top || jsonb_build_object(x.def->>'name', v);
		END IF;
	END IF;
	IF s.extension THEN
		d := d || jsonb_build_object(s.urn, jsonb_build_object(topname, top));
	ELSE
		d := d || jsonb_build_object(topname, top);
	END IF;
	RETURN d::text;
END;
$$;
-- shown(body, attribute row, served row): the attribute's value in a response
CREATE FUNCTION pg_temp.shown(b jsonb, x pg_temp.attrs, s pg_temp.served) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE WHEN x.parent IS NULL THEN r->(x.def->>'name')
				WHEN (x.parent->>'multiValued')::boolean THEN r->(x.parent->>'name')->0->(x.def->>'name')
				ELSE r->(x.parent->>'name')->(x.def->>'name') END
	FROM (SELECT CASE WHEN s.extension THEN b->s.urn ELSE b END AS r) t
$$;

-- check(): a row per attribute.  Uniqueness: two POSTs that differ only in
-- the resource's name (for userName and displayName themselves, in
-- nothing).  Mutability: a POST with value 1, then a PUT of that resource
-- with value 2; readOnly must be refused (400 mutability) or ignored,
-- writeOnly accepted and never shown, readWrite and immutable set by POST,
-- readWrite replaced by PUT, immutable with a value refused by PUT (400
-- mutability, RFC 7644 section 3.5.1); a group's members may be replaced
-- whole by PUT, as Okta does.
CREATE FUNCTION pg_temp.check()
	RETURNS TABLE (attribute text, uniqueness text, duplicate text, uniqueness_ok boolean,
				   mutability text, post text, put text, mutability_ok boolean)
	LANGUAGE plpgsql AS $$
DECLARE
	x pg_temp.attrs;
	s pg_temp.served;
	n integer := 0;
	own boolean;
	v1 jsonb;
	v2 jsonb;
	r1 scim.response;
	r2 scim.response;
	p scim.response;
	u scim.response;
	id text;
	pair record;
BEGIN
	FOR pair IN SELECT a AS x, t AS s FROM pg_temp.attrs a JOIN pg_temp.served t ON t.urn = a.urn
				ORDER BY t.rtype DESC, t.extension, t.urn, a.pos
	LOOP
		x := pair.x;
		s := pair.s;
		attribute := s.rtype || CASE WHEN s.extension THEN ' ' || x.schema_name ELSE '' END || ' ' || x.name;
		-- RFC 7643 section 7: absent, they are "none" and "readWrite"
		uniqueness := coalesce(x.def->>'uniqueness', 'none');
		mutability := coalesce(x.def->>'mutability', 'readWrite');
		own := x.parent IS NULL AND NOT s.extension AND x.name = CASE s.rtype WHEN 'User' THEN 'userName' ELSE 'displayName' END;
		n := n + 1;

		-- uniqueness
		v1 := pg_temp.sample(x.def, 1, 'u' || n, x.parent->>'name');
		IF own THEN
			r1 := pg_temp.h('POST', s.endpoint, NULL, jsonb_build_object(x.name, v1)::text);
			r2 := pg_temp.h('POST', s.endpoint, NULL, jsonb_build_object(x.name, v1)::text);
		ELSE
			r1 := pg_temp.h('POST', s.endpoint, NULL, pg_temp.doc(x, s, v1, 'uq-' || n || '-1', 1));
			r2 := pg_temp.h('POST', s.endpoint, NULL, pg_temp.doc(x, s, v1, 'uq-' || n || '-2', 1));
		END IF;
		duplicate := r1.status || ', then ' || r2.status || coalesce(' ' || (r2.body->>'scimType'), '');
		uniqueness_ok := CASE
			WHEN mutability = 'readOnly' THEN NULL	-- a client cannot set it
			WHEN uniqueness = 'none' THEN r1.status = 201 AND r2.status = 201
			ELSE r1.status = 201 AND r2.status = 409 AND r2.body->>'scimType' = 'uniqueness' END;

		-- mutability
		v1 := pg_temp.sample(x.def, 1, 'm' || n, x.parent->>'name');
		v2 := pg_temp.sample(x.def, 2, 'm' || n, x.parent->>'name');
		p := pg_temp.h('POST', s.endpoint, NULL, pg_temp.doc(x, s, v1, CASE WHEN own THEN v1#>>'{}' ELSE 'mu-' || n END, 1));
		post := p.status || coalesce(' ' || (p.body->>'scimType'), '') ||
			CASE WHEN p.status <> 201 THEN ''
				 WHEN pg_temp.shown(p.body, x, s) IS NULL THEN ' not shown'
				 WHEN pg_temp.shown(p.body, x, s) = v1 THEN ' set' ELSE ' shown otherwise' END;
		IF p.status <> 201 THEN
			-- refused: the PUT goes to a resource made without it
			p := pg_temp.h('POST', s.endpoint, NULL, jsonb_build_object(CASE s.rtype WHEN 'User' THEN 'userName'
																			  ELSE 'displayName' END, 'mu-' || n)::text);
		END IF;
		id := p.body->>'id';
		u := pg_temp.h('PUT', s.endpoint || '/' || id, NULL,
					   pg_temp.doc(x, s, v2, CASE WHEN own THEN v2#>>'{}' ELSE 'mu-' || n END, 2));
		put := u.status || coalesce(' ' || (u.body->>'scimType'), '') ||
			CASE WHEN u.status <> 200 THEN ''
				 WHEN pg_temp.shown(u.body, x, s) IS NULL THEN ' not shown'
				 WHEN pg_temp.shown(u.body, x, s) = v2 THEN ' replaced'
				 WHEN pg_temp.shown(u.body, x, s) = pg_temp.shown(p.body, x, s) THEN ' kept'
				 ELSE ' shown otherwise' END;
		mutability_ok := CASE mutability
			WHEN 'readOnly' THEN post IN ('400 mutability', '201 not shown', '201 shown otherwise')
								 AND put IN ('400 mutability', '200 not shown', '200 kept')
			WHEN 'writeOnly' THEN post = '201 not shown' AND put = '200 not shown'
			WHEN 'readWrite' THEN post = '201 set' AND put = '200 replaced'
			WHEN 'immutable' THEN post = '201 set' AND
				put = CASE WHEN x.parent->>'name' = 'members' THEN '200 replaced' ELSE '400 mutability' END
			END;
		RETURN NEXT;
	END LOOP;
END;
$$;
SELECT * FROM pg_temp.check();

\c :regress_db
SET client_min_messages = warning;
DROP DATABASE regress_scim_claims;
RESET client_min_messages;
