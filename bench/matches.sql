-- bench/matches.sql: scim.matches() against the hand-written jsonb predicate
-- with the same meaning, as count(*) over a sequential scan of users.
--
-- Run by bench/matches.sh: psql -v runs=N -v target=USERNAME -f bench/matches.sql
--
-- Each case is timed in three variants, in the server (clock_timestamp()
-- around EXECUTE, so no client round trip is counted):
--   scim     WHERE scim.matches(data, F)
--   hand     WHERE <hand-written jsonb predicate>
--   sql      WHERE <scim.filter_sql(F)>   (for information)
-- One warm-up run of each, then :runs rounds; the order of the variants
-- alternates between rounds so that drift on a shared machine hits all of
-- them.  The result is the median of each variant and the ratio of the
-- medians, scim/hand; the median of the per-round ratios (each scim run
-- against the hand run next to it) is printed too, as it is less sensitive
-- to load that comes and goes.
-- The counts of all variants must agree.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;	-- one backend does all the work
SET jit = off;								-- no compile time in the figures
-- per-row evaluation is what is measured: sequential scans even when the
-- indexes of bench/index_lookup.sh exist
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;

CREATE TEMP TABLE bench_case (
	ord int PRIMARY KEY,
	name text NOT NULL,
	filter text NOT NULL,
	hand text NOT NULL
);
INSERT INTO bench_case VALUES
	(1, 'userName eq', format('userName eq "%s"', :'target'),
	 format('lower(data->>''userName'') = %L', :'target')),
	(2, 'emails[work co]', 'emails[type eq "work" and value co "@example.com"]',
	 $$EXISTS (SELECT 1 FROM jsonb_array_elements(data->'emails') AS e
			   WHERE lower(e->>'type') = 'work' AND lower(e->>'value') LIKE '%@example.com%')$$),
	(3, 'and/or 3-clause', 'userName sw "user1" and (title pr or active eq false)',
	 $$lower(data->>'userName') LIKE 'user1%' AND ((data->>'title') <> '' OR data->'active' = 'false'::jsonb)$$);

CREATE TEMP TABLE bench_run (
	ord int,
	variant text,
	run int,
	ms float8,
	n bigint
);

-- Time one count(*) query; returns the milliseconds and the count.
CREATE FUNCTION pg_temp.time_count(q text, OUT ms float8, OUT n bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
BEGIN
	t0 := clock_timestamp();
	EXECUTE q INTO n;
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END
$$;

-- The query text of one variant of one case.
CREATE FUNCTION pg_temp.variant_sql(c bench_case, variant text) RETURNS text
LANGUAGE sql AS $$
	SELECT 'SELECT count(*) FROM users WHERE ' ||
		CASE variant
			WHEN 'scim' THEN format('scim.matches(data, %L)', c.filter)
			WHEN 'hand' THEN c.hand
			ELSE scim.filter_sql(c.filter)
		END
$$;

\echo
\echo '-- queries'
SELECT c.ord, v.variant, pg_temp.variant_sql(c, v.variant) AS query
FROM bench_case c, unnest(ARRAY['scim', 'hand', 'sql']) AS v(variant)
ORDER BY 1, 2 DESC;

-- a failed run must not leave half a round behind
DO $$
DECLARE
	c bench_case;
	v text;
	r int;
	order_a text[] := ARRAY['scim', 'hand', 'sql'];
	order_b text[] := ARRAY['sql', 'hand', 'scim'];
	res record;
BEGIN
	FOR c IN SELECT * FROM bench_case ORDER BY ord LOOP
		FOREACH v IN ARRAY order_a LOOP		-- warm-up
			PERFORM pg_temp.time_count(pg_temp.variant_sql(c, v));
		END LOOP;
	END LOOP;
	FOR r IN 1 .. current_setting('bench.runs')::int LOOP
		FOR c IN SELECT * FROM bench_case ORDER BY ord LOOP
			FOREACH v IN ARRAY CASE WHEN r % 2 = 1 THEN order_a ELSE order_b END LOOP
				res := pg_temp.time_count(pg_temp.variant_sql(c, v));
				INSERT INTO bench_run VALUES (c.ord, v, r, res.ms, res.n);
			END LOOP;
		END LOOP;
	END LOOP;
END
$$;

CREATE TEMP VIEW bench_result AS
SELECT c.ord, c.name, c.filter,
	   m.scim_ms, m.hand_ms, m.sql_ms,
	   m.scim_ms / m.hand_ms AS ratio,
	   p.paired_ratio,
	   m.sql_ms / m.hand_ms AS sql_ratio,
	   m.counts,
	   m.n_counts = 1 AS same_count,
	   m.scim_min, m.scim_max, m.hand_min, m.hand_max
FROM bench_case c
JOIN (SELECT ord,
			 percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'scim') AS scim_ms,
			 percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'hand') AS hand_ms,
			 percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE variant = 'sql') AS sql_ms,
			 min(ms) FILTER (WHERE variant = 'scim') AS scim_min,
			 max(ms) FILTER (WHERE variant = 'scim') AS scim_max,
			 min(ms) FILTER (WHERE variant = 'hand') AS hand_min,
			 max(ms) FILTER (WHERE variant = 'hand') AS hand_max,
			 string_agg(DISTINCT variant || '=' || n, ' ') AS counts,
			 count(DISTINCT n) AS n_counts
	  FROM bench_run GROUP BY ord) m USING (ord)
JOIN (SELECT ord, percentile_cont(0.5) WITHIN GROUP (ORDER BY s.ms / h.ms) AS paired_ratio
	  FROM bench_run s JOIN bench_run h USING (ord, run)
	  WHERE s.variant = 'scim' AND h.variant = 'hand'
	  GROUP BY ord) p USING (ord);

\echo
\echo '-- every run (ms)'
SELECT ord, run, variant, round(ms::numeric, 1) AS ms, n
FROM bench_run ORDER BY ord, run, variant DESC;

\echo
\echo '-- medians'
SELECT name, filter,
	   round(scim_ms::numeric, 1) AS scim_ms, round(hand_ms::numeric, 1) AS hand_ms,
	   round(ratio::numeric, 2) AS "scim/hand",
	   round(paired_ratio::numeric, 2) AS "median of per-round scim/hand",
	   round(sql_ms::numeric, 1) AS filter_sql_ms,
	   round(sql_ratio::numeric, 2) AS "filter_sql/hand", counts
FROM bench_result ORDER BY ord;

\pset format unaligned
\pset tuples_only on
SELECT format('SUMMARY %s scim.matches %s ms  hand-written %s ms  ratio %s (per-round median %s; %s)  count %s  [filter_sql %s ms, %sx hand]',
			  rpad(name, 16), to_char(scim_ms, 'FM99990.0'), to_char(hand_ms, 'FM99990.0'),
			  to_char(ratio, 'FM990.00'), to_char(paired_ratio, 'FM990.00'),
			  CASE WHEN ratio <= 2.0 THEN 'target <= 2.0 met' ELSE 'target <= 2.0 MISSED' END,
			  CASE WHEN same_count THEN split_part(split_part(counts, ' ', 1), '=', 2) || ' (all equal)'
				   ELSE 'MISMATCH ' || counts END,
			  to_char(sql_ms, 'FM99990.0'), to_char(sql_ratio, 'FM990.00'))
FROM bench_result ORDER BY ord;
