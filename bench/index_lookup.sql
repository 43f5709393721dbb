-- bench/index_lookup.sql: the indexes scim recommends, proof that
-- scim.filter_sql() output uses them, and the two functions pgbench calls.
--
-- Run by bench/index_lookup.sh: psql -v rows=N -v mid=N -f bench/index_lookup.sql
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

\echo '-- scim.index_ddl(''users'')'
SELECT * FROM scim.index_ddl('users') \gexec
ANALYZE users;
SELECT indexrelid::regclass AS index, pg_size_pretty(pg_relation_size(indexrelid)) AS size
FROM pg_index WHERE indrelid = 'users'::regclass ORDER BY 1::text;

-- The three lookups, with values taken from the middle of the table.
CREATE TEMP TABLE lookup_case AS
SELECT ord, name, filter
FROM (SELECT data FROM users WHERE id = :mid) AS u,
	 LATERAL (VALUES
		(1, 'userName eq', format('userName eq "%s"', u.data->>'userName')),
		(2, 'externalId eq', format('externalId eq "%s"', u.data->>'externalId')),
		(3, 'emails.value eq', format('emails.value eq "%s"', u.data->'emails'->0->>'value'))
	 ) AS c(ord, name, filter);

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || q;
END
$$;

\echo
\echo '-- EXPLAIN of SELECT data FROM users WHERE <scim.filter_sql(filter)>'
\x on
SELECT c.filter, scim.filter_sql(c.filter) AS sql,
	   (SELECT string_agg(p.plan, E'\n')
		FROM pg_temp.plan_of('SELECT data FROM users WHERE ' || scim.filter_sql(c.filter)) AS p(plan)) AS plan
FROM lookup_case c ORDER BY c.ord;
\x off

CREATE FUNCTION pg_temp.count_of(q text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM users WHERE ' || q INTO n;
	RETURN n;
END
$$;

\echo
\echo '-- rows each lookup returns'
SELECT c.filter, pg_temp.count_of(scim.filter_sql(c.filter)) AS rows
FROM lookup_case c ORDER BY c.ord;

-- What pgbench calls.  Both build their statement text at run time and
-- EXECUTE it, so both are planned on every call; the only difference is
-- scim's translation of the filter and the shape of the SQL it writes.
CREATE OR REPLACE FUNCTION bench_scim(n bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	EXECUTE 'SELECT data FROM users WHERE ' || scim.filter_sql(format('userName eq "User%s"', n))
	INTO r;
	RETURN r;
END
$$;

CREATE OR REPLACE FUNCTION bench_raw(n bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	r jsonb;
BEGIN
	EXECUTE 'SELECT data FROM users WHERE lower(data->>''userName'') = lower($1)'
	INTO r USING 'User' || n;
	RETURN r;
END
$$;

\echo
\echo '-- bench_scim(n) and bench_raw(n) agree'
SELECT count(*) AS checked,
	   count(*) FILTER (WHERE bench_scim(n) IS NOT DISTINCT FROM bench_raw(n)
						AND bench_raw(n) IS NOT NULL) AS agree
FROM (SELECT (1 + (i * 7919) % :rows)::bigint AS n FROM generate_series(1, 200) AS i) AS s;

\pset format unaligned
\pset tuples_only on
SELECT format('PLAN %s|%s', c.name,
			  coalesce((SELECT string_agg(m[1] || ' on ' || m[2], ', ')
						FROM pg_temp.plan_of('SELECT data FROM users WHERE ' || scim.filter_sql(c.filter)) AS p(plan),
							 regexp_match(p.plan, '(Index Only Scan|Bitmap Index Scan|Index Scan) (?:using|on) (\S+)') AS m),
					   'NO INDEX USED'))
FROM lookup_case c ORDER BY c.ord;
