-- property test: scim.filter_sql (run as SQL) and scim.matches select the same
-- rows for 10,000 random filters over generated users with mixed case,
-- missing and null attributes, wrong types, several emails, dates and numbers
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.register_schema($${"id": "urn:example:params:scim:schemas:extension:prop:2.0:User",
  "attributes": [
    {"name": "level", "type": "integer"},
    {"name": "score", "type": "decimal"},
    {"name": "hired", "type": "dateTime"},
    {"name": "badge", "type": "string", "caseExact": true},
    {"name": "tags", "type": "string", "multiValued": true}
  ]}$$);

SELECT setseed(0.4242);

CREATE FUNCTION pg_temp.pick(a anyarray) RETURNS anyelement LANGUAGE sql AS
	'SELECT a[1 + floor(random() * array_length(a, 1))::int]';
-- a row of a two-dimensional array of (path, type) pairs
CREATE FUNCTION pg_temp.pick2(a text[]) RETURNS text[] LANGUAGE sql AS
	'SELECT ARRAY[a[k][1], a[k][2]] FROM (SELECT 1 + floor(random() * array_length(a, 1))::int AS k) s';

-- a value from a pool shared by the data and the filters, so that they meet
CREATE FUNCTION pg_temp.str() RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.pick(ARRAY['alice', 'Alice', 'ALICE', 'bob', 'Bob.Smith', 'zoë', 'ZOË', 'a%b', 'a_b',
		'back\slash', 'O''Brien', 'x"y', '', ' ', 'work', 'Work', 'home', 'a', 'b', 'z', '10', '9', 'true',
		'alice@example.com', 'ALICE@Example.COM', 'bob@example.org', 'İstanbul', 'ß', 'émile'])
$$;
CREATE FUNCTION pg_temp.dt() RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.pick(ARRAY['2011-05-13T04:42:34Z', '2011-05-13T06:42:34+02:00', '2011-05-13T04:42:34.5Z',
		'2011-05-13T04:42:35Z', '2020-02-29T23:59:59-05:00', '1999-12-31T24:00:00Z', '2000-01-01T00:00:00',
		'2011-05-13t04:42:34z'])
$$;
CREATE FUNCTION pg_temp.num() RETURNS text LANGUAGE sql AS $$
	SELECT pg_temp.pick(ARRAY['0', '-0', '1', '1.0', '1e0', '2.5', '-3', '10', '9.99', '1E2', '100', '0.001'])
$$;

-- a JSON value for an attribute of a type, sometimes absent, null, empty or wrong
CREATE FUNCTION pg_temp.val(typ text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
BEGIN
	IF r < 0.08 THEN RETURN 'null'; END IF;
	IF r < 0.13 THEN RETURN pg_temp.pick(ARRAY['""', '[]', '{}', '7', 'true', '"True"', '[1]', '{"value":"alice"}']::jsonb[]); END IF;
	CASE typ
		WHEN 'string' THEN RETURN to_jsonb(pg_temp.str());
		WHEN 'boolean' THEN RETURN to_jsonb(random() < 0.5);
		WHEN 'dateTime' THEN RETURN to_jsonb(pg_temp.dt());
		WHEN 'number' THEN RETURN pg_temp.num()::jsonb;
	END CASE;
END $$;

CREATE FUNCTION pg_temp.maybe(o jsonb, k text, v jsonb) RETURNS jsonb LANGUAGE sql AS
	'SELECT CASE WHEN random() < 0.25 THEN o ELSE o || jsonb_build_object(k, v) END';

CREATE FUNCTION pg_temp.multi(subs text[][]) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	arr jsonb := '[]';
	el jsonb;
BEGIN
	IF random() < 0.1 THEN RETURN pg_temp.pick(ARRAY['"alice"', '{"value":"alice","type":"work"}', 'null', '[]']::jsonb[]); END IF;
	FOR i IN 1 .. floor(random() * 4)::int LOOP
		IF random() < 0.08 THEN
			arr := arr || jsonb_build_array(pg_temp.val('string'));
			CONTINUE;
		END IF;
		IF cardinality(subs) = 0 THEN
			arr := arr || jsonb_build_array(pg_temp.val('string'));
			CONTINUE;
		END IF;
		el := '{}';
		FOR j IN 1 .. array_length(subs, 1) LOOP
			el := pg_temp.maybe(el, subs[j][1], pg_temp.val(subs[j][2]));
		END LOOP;
		arr := arr || jsonb_build_array(el);
	END LOOP;
	RETURN arr;
END $$;

CREATE TABLE prop_users (pk int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO prop_users
SELECT i, CASE WHEN i = 1 THEN '{}'::jsonb WHEN i = 2 THEN '[1,2]'::jsonb ELSE
	pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(
	pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe('{}'::jsonb,
		'userName', pg_temp.val('string')),
		'externalId', pg_temp.val('string')),
		'title', pg_temp.val('string')),
		'active', pg_temp.val('boolean')),
		'name', CASE WHEN random() < 0.1 THEN pg_temp.val('string') ELSE
			pg_temp.maybe(pg_temp.maybe('{}'::jsonb, 'givenName', pg_temp.val('string')), 'familyName', pg_temp.val('string')) END),
		'emails', pg_temp.multi(ARRAY[['value', 'string'], ['type', 'string'], ['primary', 'boolean']])),
		'addresses', pg_temp.multi(ARRAY[['locality', 'string'], ['type', 'string'], ['primary', 'boolean']])),
		'schemas', CASE WHEN random() < 0.5 THEN '["urn:ietf:params:scim:schemas:core:2.0:User"]'::jsonb ELSE jsonb_build_array(pg_temp.val('string'), pg_temp.val('string')) END),
		'meta', pg_temp.maybe(pg_temp.maybe('{}'::jsonb, 'created', pg_temp.val('dateTime')), 'lastModified', pg_temp.val('dateTime'))),
		'urn:example:params:scim:schemas:extension:prop:2.0:User',
			pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe(pg_temp.maybe('{}'::jsonb,
				'level', pg_temp.val('number')), 'score', pg_temp.val('number')), 'hired', pg_temp.val('dateTime')),
				'badge', pg_temp.val('string')), 'tags', pg_temp.multi(ARRAY[]::text[][]))),
		'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
			pg_temp.maybe(pg_temp.maybe('{}'::jsonb, 'employeeNumber', pg_temp.val('string')),
				'manager', CASE WHEN random() < 0.2 THEN pg_temp.val('string') ELSE jsonb_build_object('value', pg_temp.val('string')) END))
	END
FROM generate_series(1, 300) i;

-- paths by type; attribute names and operators appear in random case
CREATE FUNCTION pg_temp.recase(s text) RETURNS text LANGUAGE sql AS $$
	SELECT CASE WHEN random() < 0.2 THEN upper(s) WHEN random() < 0.2 THEN lower(s) ELSE s END
$$;
CREATE FUNCTION pg_temp.operand(typ text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	op text;
BEGIN
	CASE typ
		WHEN 'string' THEN op := pg_temp.pick(ARRAY['eq', 'eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr']);
		WHEN 'boolean' THEN op := pg_temp.pick(ARRAY['eq', 'ne', 'pr']);
		ELSE op := pg_temp.pick(ARRAY['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'pr']);
	END CASE;
	op := pg_temp.recase(op);
	IF lower(op) = 'pr' THEN RETURN op; END IF;
	IF random() < 0.05 AND lower(op) IN ('eq', 'ne') THEN RETURN op || ' null'; END IF;
	CASE typ
		WHEN 'string' THEN RETURN op || ' ' || to_json(pg_temp.str())::text;
		WHEN 'boolean' THEN RETURN op || ' ' || pg_temp.pick(ARRAY['true', 'false', '"True"', '"False"']);
		WHEN 'dateTime' THEN RETURN op || ' "' || pg_temp.dt() || '"';
		WHEN 'number' THEN RETURN op || ' ' || pg_temp.num();
	END CASE;
END $$;

CREATE FUNCTION pg_temp.attr_expr() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	p text[] := pg_temp.pick2(ARRAY[
		['userName', 'string'], ['externalId', 'string'], ['title', 'string'], ['active', 'boolean'],
		['name.givenName', 'string'], ['name.familyName', 'string'], ['emails', 'string'],
		['emails.value', 'string'], ['emails.type', 'string'], ['emails.primary', 'boolean'],
		['addresses.locality', 'string'], ['schemas', 'string'], ['meta.created', 'dateTime'],
		['meta.lastModified', 'dateTime'], ['name', 'complex'], ['emails', 'complex'],
		['urn:example:params:scim:schemas:extension:prop:2.0:User:level', 'number'],
		['score', 'number'], ['hired', 'dateTime'], ['badge', 'string'], ['tags', 'string'],
		['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber', 'string'],
		['manager', 'string'], ['manager.value', 'string']]);
BEGIN
	IF p[2] = 'complex' THEN RETURN pg_temp.recase(p[1]) || ' pr'; END IF;
	RETURN pg_temp.recase(p[1]) || ' ' || pg_temp.operand(p[2]);
END $$;

CREATE FUNCTION pg_temp.sub_expr(attr text, depth int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	p text[];
BEGIN
	IF depth > 0 AND r < 0.25 THEN
		RETURN pg_temp.sub_expr(attr, depth - 1) || pg_temp.pick(ARRAY[' and ', ' or ']) || pg_temp.sub_expr(attr, depth - 1);
	ELSIF depth > 0 AND r < 0.35 THEN
		RETURN 'not (' || pg_temp.sub_expr(attr, depth - 1) || ')';
	END IF;
	IF attr = 'name' THEN
		p := pg_temp.pick2(ARRAY[['givenName', 'string'], ['familyName', 'string']]);
	ELSIF attr = 'addresses' THEN
		p := pg_temp.pick2(ARRAY[['locality', 'string'], ['type', 'string'], ['primary', 'boolean']]);
	ELSE
		p := pg_temp.pick2(ARRAY[['value', 'string'], ['type', 'string'], ['primary', 'boolean']]);
	END IF;
	RETURN pg_temp.recase(p[1]) || ' ' || pg_temp.operand(p[2]);
END $$;

CREATE FUNCTION pg_temp.gen(depth int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	a text;
BEGIN
	IF depth > 0 AND r < 0.2 THEN
		RETURN pg_temp.gen(depth - 1) || ' and ' || pg_temp.gen(depth - 1);
	ELSIF depth > 0 AND r < 0.35 THEN
		RETURN '(' || pg_temp.gen(depth - 1) || ' or ' || pg_temp.gen(depth - 1) || ')';
	ELSIF depth > 0 AND r < 0.45 THEN
		RETURN pg_temp.pick(ARRAY['not (', 'not(', 'NOT (']) || pg_temp.gen(depth - 1) || ')';
	ELSIF r < 0.6 THEN
		a := pg_temp.pick(ARRAY['emails', 'addresses', 'name']);
		IF a = 'emails' AND random() < 0.3 THEN
			RETURN 'emails[' || pg_temp.sub_expr(a, 1) || '].value ' || pg_temp.operand('string');
		END IF;
		RETURN pg_temp.recase(a) || '[' || pg_temp.sub_expr(a, 2) || ']';
	END IF;
	RETURN pg_temp.attr_expr();
END $$;

CREATE TEMP TABLE prop_results (n int, filter text, by_sql int[], by_eval int[], sql_error text, eval_error text);

DO $$
DECLARE
	f text;
	s int[];
	e int[];
	se text;
	ee text;
BEGIN
	FOR n IN 1 .. 10000 LOOP
		f := pg_temp.gen(3);
		s := NULL; e := NULL; se := NULL; ee := NULL;
		BEGIN
			EXECUTE 'SELECT coalesce(array_agg(pk ORDER BY pk), ''{}'') FROM prop_users WHERE ' || scim.filter_sql(f) INTO s;
		EXCEPTION WHEN OTHERS THEN
			se := SQLSTATE;
		END;
		BEGIN
			SELECT coalesce(array_agg(pk ORDER BY pk), '{}') INTO e FROM prop_users WHERE scim.matches(data, f);
		EXCEPTION WHEN OTHERS THEN
			ee := SQLSTATE;
		END;
		INSERT INTO prop_results VALUES (n, f, s, e, se, ee);
	END LOOP;
END $$;

-- every filter ran; none disagreed; the SQL never failed where matches did not
SELECT count(*) AS filters,
	   count(*) FILTER (WHERE sql_error IS NULL) AS evaluated,
	   count(*) FILTER (WHERE by_sql IS DISTINCT FROM by_eval OR sql_error IS DISTINCT FROM eval_error) AS disagreements
FROM prop_results;
-- the filters are not trivial: a good share select some but not all rows
SELECT count(*) FILTER (WHERE cardinality(by_sql) BETWEEN 1 AND 299) > 5000 AS discriminating,
	   count(DISTINCT by_sql) > 1000 AS varied
FROM prop_results WHERE sql_error IS NULL;
-- the only errors are invalidFilter, from combinations the generator may make
SELECT DISTINCT sql_error FROM prop_results WHERE sql_error IS NOT NULL;
-- show any disagreement in full
SELECT n, filter, by_sql, by_eval, sql_error, eval_error FROM prop_results
WHERE by_sql IS DISTINCT FROM by_eval OR sql_error IS DISTINCT FROM eval_error
ORDER BY n LIMIT 5;

DROP TABLE prop_users;
SELECT scim.unregister_schema('urn:example:params:scim:schemas:extension:prop:2.0:User');
