-- filter complexity limits (scim.filter_max_terms, scim.filter_max_depth) and
-- attributes that are never returned, which are never filtered or sorted on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
DROP ROLE IF EXISTS regress_scim_plain;
CREATE ROLE regress_scim_plain;
RESET client_min_messages;

-- a role that sets a limit before the module is loaded sets a placeholder; loading drops it
\c
SET ROLE regress_scim_plain;
SET scim.filter_max_terms = 100000;
RESET ROLE;
LOAD 'scim';
SHOW scim.filter_max_terms;

-- the settings: superuser-only, with ranges
SELECT name, setting, context, min_val, max_val, short_desc FROM pg_settings WHERE name LIKE 'scim.filter\_max\_%' ORDER BY name;
SET ROLE regress_scim_plain;
SET scim.filter_max_terms = 100000;
SET scim.filter_max_depth = 100;
SELECT set_config('scim.filter_max_terms', '100000', false);
ALTER ROLE regress_scim_plain SET scim.filter_max_terms = 100000;
RESET ROLE;
SET scim.filter_max_terms = 100000;
SET scim.filter_max_depth = 101;
SET scim.filter_max_depth = 0;

-- f(n, term, sep): n terms joined by sep
CREATE FUNCTION pg_temp.f(n integer, term text DEFAULT 'userName eq "u"', sep text DEFAULT ' or ') RETURNS text
	LANGUAGE sql AS $$ SELECT string_agg(term, sep) FROM generate_series(1, n) $$;
-- nest(n, open, middle, close): middle inside n levels
CREATE FUNCTION pg_temp.nest(n integer, open text DEFAULT '(', middle text DEFAULT 'title pr', close text DEFAULT ')') RETURNS text
	LANGUAGE sql AS $$ SELECT repeat(open, n) || middle || repeat(close, n) $$;

-- terms: 100 by default, through every entry to the parser
SELECT length(scim.filter_sql(pg_temp.f(100))) > 0 AS at_limit;
SELECT scim.filter_sql(pg_temp.f(101));
SELECT length(pg_temp.f(100)::scim.filter::text) > 0 AS at_limit_type;
SELECT pg_temp.f(101)::scim.filter;
SELECT scim.matches('{"userName": "u"}', pg_temp.f(100)) AS at_limit_matches;
SELECT scim.matches('{"userName": "u"}', pg_temp.f(101));
SELECT scim.filter_sql('emails[' || pg_temp.f(101, 'type eq "work"') || ']');
SELECT scim.filter_sql(pg_temp.f(51, 'emails[type eq "work"].value eq "x"', ' and '));
-- refused at the term too many, before the rest is read, however long
SELECT scim.filter_sql(pg_temp.f(5000, 'a eq "x"') || ' xor');

-- depth: 20 levels by default; parentheses, "not" and brackets each open one
SELECT pg_temp.nest(20)::scim.filter;
SELECT pg_temp.nest(21)::scim.filter;
SELECT pg_temp.nest(21, 'not (')::scim.filter;
SELECT scim.filter_sql(pg_temp.nest(20, '(', 'emails[type eq "work"]'));
SELECT scim.filter_sql('emails[' || pg_temp.nest(19, 'not(', 'type pr') || ' or type pr].value pr');

-- a superuser may move the limits, per session, role or database
SET scim.filter_max_terms = 101;
SELECT length(scim.filter_sql(pg_temp.f(101))) > 0 AS raised;
SET scim.filter_max_terms = 3;
SELECT 'a pr or b pr or c pr or d pr'::scim.filter;
SET scim.filter_max_depth = 2;
SELECT '((a pr or (b pr)))'::scim.filter;
RESET scim.filter_max_depth;
-- a filter parsed under other limits is not reused: scim.matches' cache, the prepared PATCH ring
RESET scim.filter_max_terms;
DO $$
DECLARE
	b boolean;
BEGIN
	FOR i IN 1 .. 2 LOOP
		IF i = 2 THEN
			PERFORM set_config('scim.filter_max_terms', '1', true);
		END IF;
		b := scim.matches('{"title": "t"}', 'title pr or nickName pr');
	END LOOP;
END $$;
SELECT scim.patch('{"emails": [{"value": "a@x", "type": "work"}]}', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	"Operations": [{"op": "remove", "path": "emails[type eq \"work\" or type eq \"home\"]"}]}');
SET scim.filter_max_terms = 1;
SELECT scim.patch('{"emails": [{"value": "a@x", "type": "work"}]}', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
	"Operations": [{"op": "remove", "path": "emails[type eq \"work\" or type eq \"home\"]"}]}');
RESET scim.filter_max_terms;

-- never-returned attributes (password) cannot be filtered or sorted on
SELECT scim.filter_sql('password eq "t1meMa$heen"');
SELECT scim.filter_sql('PASSWORD sw "SCRAM-SHA-256$"');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:core:2.0:User:password pr');
SELECT scim.filter_sql('userName eq "bjensen" and not (password gt "m")');
SELECT scim.filter_sql('emails[type eq "work"] or password[value eq "x"]');
SELECT scim.matches('{"password": "x"}', 'password eq "x"');
SELECT scim.sort_sql('password');
SELECT scim.sort_sql('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:Password');
-- the rule follows the schema: a custom extension's never-returned attributes too
SELECT scim.register_schema($${"id": "urn:example:secrets:2.0:User", "attributes": [
  {"name": "pin", "type": "string", "returned": "never", "mutability": "writeOnly"},
  {"name": "keys", "type": "complex", "multiValued": true, "subAttributes": [
    {"name": "value", "type": "string", "returned": "never"}, {"name": "label", "type": "string"}]}]}$$);
SELECT scim.filter_sql('urn:example:secrets:2.0:User:pin eq "1234"');
SELECT scim.filter_sql('keys[label eq "a" and value sw "k"]');
SELECT scim.filter_sql('keys[label eq "a"]');
SELECT scim.sort_sql('pin');
SELECT scim.sort_sql('keys');
SELECT scim.unregister_schema('urn:example:secrets:2.0:User');

-- through scim.handle, by whichever path takes the request, and by its general path
SELECT scim.create_tenant('Limits') AS tenant \gset
SELECT scim.create_token(:'tenant') AS tok \gset
SELECT set_config('test.h', jsonb_build_object('authorization', 'Bearer ' || :'tok')::text, false) IS NOT NULL AS ok;
-- r(method, path, query, body): status, scimType, detail (or totalResults) from both paths
-- (If-None-Match sends a GET down the general path)
CREATE FUNCTION pg_temp.r(m text, p text, q text DEFAULT NULL, b text DEFAULT NULL)
	RETURNS TABLE (handler text, status integer, scim_type text, detail text) LANGUAGE sql AS $$
	SELECT 'handle', h.status, h.body->>'scimType', coalesce(h.body->>'detail', 'totalResults ' || (h.body->>'totalResults'))
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb, b) h
	UNION ALL
	SELECT 'general', h.status, h.body->>'scimType', coalesce(h.body->>'detail', 'totalResults ' || (h.body->>'totalResults'))
	FROM scim.handle(m, p, q, current_setting('test.h')::jsonb || '{"if-none-match": "\"general\""}', b) h
$$;
SELECT status, body->>'id' AS uid FROM scim.handle('POST', '/Users', NULL, current_setting('test.h')::jsonb,
	'{"userName": "okta.user@example.com", "password": "1mz050nq", "active": true}') \gset
SELECT :status AS status;
-- a password oracle no more: neither the password nor its stored hash can be tested
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=password eq "1mz050nq"');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=password sw "SCRAM-SHA-256$"');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName eq "okta.user@example.com" and not (password pr)');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName pr&sortBy=password');
SELECT * FROM pg_temp.r('POST', '/Users/.search', NULL, '{"filter": "password eq \"1mz050nq\""}');
SELECT * FROM pg_temp.r('POST', '/Users/.search', NULL, '{"sortBy": "password"}');
SELECT * FROM pg_temp.r('POST', '/.search', NULL, '{"filter": "password sw \"SCRAM\""}');
SELECT * FROM pg_temp.r('POST', '/.search', NULL, '{"sortBy": "password"}');
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=userName eq "okta.user@example.com"&sortBy=userName');
-- filters past the limits are a 400 invalidFilter
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=' || pg_temp.f(100, 'userName co "x"'));
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=' || pg_temp.f(101, 'userName co "x"'));
SELECT * FROM pg_temp.r('GET', '/Users', 'filter=' || pg_temp.nest(21));
SELECT * FROM pg_temp.r('POST', '/Users/.search', NULL, jsonb_build_object('filter', pg_temp.f(101, 'userName co "x"'))::text);
SELECT * FROM pg_temp.r('POST', '/.search', NULL, jsonb_build_object('filter', pg_temp.f(101, 'displayName co "x"'))::text);
SELECT * FROM pg_temp.r('PATCH', '/Users/' || :'uid', NULL, jsonb_build_object('schemas', '["urn:ietf:params:scim:api:messages:2.0:PatchOp"]'::jsonb,
	'Operations', jsonb_build_array(jsonb_build_object('op', 'remove', 'path', 'emails[' || pg_temp.f(101, 'type eq "work"') || ']')))::text);

-- a tenant given more terms (scim.tenant.filter_max_terms): for its own requests only
SELECT scim.create_tenant('Bigger filters') AS big \gset
UPDATE scim.tenant SET filter_max_terms = 150 WHERE id = :'big';
SELECT status, body->'totalResults' AS total, body->>'scimType' AS scim_type
FROM scim.handle('GET', '/Users', 'filter=' || pg_temp.f(120), jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'big')), NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('GET', '/Users', 'filter=' || pg_temp.f(151), jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'big')), NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('GET', '/Users', 'filter=' || pg_temp.f(120), current_setting('test.h')::jsonb, NULL);
SELECT current_setting('scim.filter_max_terms') AS after_the_calls;
\set VERBOSITY terse
UPDATE scim.tenant SET filter_max_terms = 10001 WHERE id = :'big';
\set VERBOSITY default

SET client_min_messages = warning;
DROP ROLE regress_scim_plain;
RESET client_min_messages;
