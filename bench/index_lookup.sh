#!/bin/sh
# bench/index_lookup.sh: an indexed lookup through scim.filter_sql() against
# the same lookup written by hand.
#
# Normally run by bench/run.sh, which provides the server (libpq
# environment, scim_bench first on the search_path) and the table; run alone
# it builds the table if there is none.  Creates the indexes of
# scim.index_ddl('users'), shows EXPLAIN for userName eq, externalId eq and
# emails.value eq, then runs pgbench -M prepared on
#   bench_scim(n): EXECUTE 'SELECT data FROM users WHERE ' ||
#                          scim.filter_sql(format('userName eq "User%s"', n))
#   bench_raw(n):  EXECUTE 'SELECT data FROM users WHERE
#                          lower(data->>''userName'') = lower($1)' USING 'User'||n
# with n random in 1..rows, at 1 and 2 clients, BENCH_PGBENCH_REPS
# (default 5) runs of BENCH_PGBENCH_T (default 15) seconds per side,
# alternating which side goes first.  Prints the median TPS of each and
# "scim costs X x the hand-written lookup" (raw TPS / scim TPS), with the
# median of the per-run ratios.  Because a shared machine's load comes in
# bursts that can hit one side's run and not the other's, it then also runs
# both functions in one pgbench run (-f both, each transaction picks one at
# random) and compares their median latencies, and, for information, times
# them in a loop inside one backend (no client, no pgbench).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

T=${BENCH_PGBENCH_T:-15}
REPS=${BENCH_PGBENCH_REPS:-5}
CLIENTS=${BENCH_PGBENCH_CLIENTS:-"1 2"}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scim-index-lookup.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if [ "$(psql -X -At -c "SELECT to_regclass('users') IS NOT NULL")" != t ]; then
	psql -X -q -v ON_ERROR_STOP=1 -v rows="${BENCH_ROWS:-1000000}" -f bench/users.sql
fi
rows=$(psql -X -At -c 'SELECT count(*) FROM users')
mid=$(( (rows + 1) / 2 ))

echo "== index_lookup: $rows users"
psql -X -q -v ON_ERROR_STOP=1 -v rows="$rows" -v mid="$mid" -f bench/index_lookup.sql > "$tmp/sql.out" ||
	{ cat "$tmp/sql.out"; exit 1; }
grep -v '^PLAN ' "$tmp/sql.out"
grep '^PLAN ' "$tmp/sql.out" | awk -F'|' '{ sub(/^PLAN /, "", $1);
	printf "SUMMARY index used by filter_sql(%s): %s\n", $1, $2 }' > "$tmp/plans"

for side in scim raw; do
	printf '\\set n random(1, %s)\nSELECT bench_%s(:n);\n' "$rows" "$side" > "$tmp/$side.sql"
done

echo
echo "-- pgbench -M prepared -T $T, $REPS alternating runs per side (TPS)"
# warm-up: the index pages and both functions' code paths
pgbench -n -M prepared -c 1 -T 2 -f "$tmp/scim.sql" -f "$tmp/raw.sql" >/dev/null 2>&1 || true
: > "$tmp/summary"
for c in $CLIENTS; do
	: > "$tmp/scim.$c"
	: > "$tmp/raw.$c"
	r=1
	while [ "$r" -le "$REPS" ]; do
		if [ $((r % 2)) = 1 ]; then order="scim raw"; else order="raw scim"; fi
		for side in $order; do
			tps=$(pgbench_tps "$c" "$tmp/$side.sql" "$T")
			echo "$tps" >> "$tmp/$side.$c"
			printf '  clients=%s run=%s %-4s %10.1f tps\n' "$c" "$r" "$side" "$tps"
		done
		r=$((r + 1))
	done
	scim=$(median < "$tmp/scim.$c")
	raw=$(median < "$tmp/raw.$c")
	# each run's raw/scim against the run next to it, less sensitive to
	# load that comes and goes than the ratio of the medians
	paired=$(paste "$tmp/raw.$c" "$tmp/scim.$c" | awk '{ print $1 / $2 }' | median)
	awk -v c="$c" -v s="$scim" -v r="$raw" -v p="$paired" 'BEGIN {
		x = r / s
		printf "SUMMARY -c %s: bench_raw %8.1f tps  bench_scim %8.1f tps  scim costs %.2fx the hand-written lookup (per-run pairs: %.2fx; target <= 1.2x: %s)\n",
			c, r, s, x, p, (x <= 1.2) ? "met" : "MISSED"
	}' >> "$tmp/summary"

	# Both functions in ONE run, each transaction picking one at random:
	# whatever else the machine does hits both sides at the same instants.
	# pgbench -l logs each transaction's latency (us) and script number.
	rm -f "$tmp"/mix.*
	pgbench -n -M prepared -c "$c" -j "$c" -T "$T" -f "$tmp/scim.sql" -f "$tmp/raw.sql" \
		-l --log-prefix="$tmp/mix" > "$tmp/pgbench.out" 2>&1 ||
		{ cat "$tmp/pgbench.out" >&2; exit 1; }
	cat "$tmp"/mix.* > "$tmp/mix.all"
	ms=$(awk '$4 == 0 { print $3 }' "$tmp/mix.all" | median)
	mr=$(awk '$4 == 1 { print $3 }' "$tmp/mix.all" | median)
	read -r ns nr mean_s mean_r <<EOF
$(awk '{ n[$4]++; sum[$4] += $3 }
	END { printf "%d %d %.1f %.1f\n", n[0], n[1], sum[0] / n[0], sum[1] / n[1] }' "$tmp/mix.all")
EOF
	printf '  clients=%s mixed run: %s scim and %s raw transactions\n' "$c" "$ns" "$nr"
	awk -v c="$c" -v s="$mean_s" -v r="$mean_r" -v ms="$ms" -v mr="$mr" 'BEGIN {
		printf "SUMMARY -c %s mixed in one run: median latency bench_raw %d us  bench_scim %d us  scim costs %.2fx (means %.1f / %.1f us: %.2fx)\n",
			c, mr, ms, ms / mr, r, s, s / r
	}' >> "$tmp/summary"
done
# The same two functions called in a loop inside one backend: no client,
# no network, no pgbench; alternating blocks of calls, medians.
echo
echo "-- in-server loop: $REPS alternating blocks of 20000 calls per side"
PGOPTIONS="${PGOPTIONS:-} -c bench.rows=$rows -c bench.reps=$REPS" \
	psql -X -q -v ON_ERROR_STOP=1 <<'SQL' > "$tmp/loop.out"
CREATE TEMP TABLE loop_run (side text, rep int, us float8);
DO $$
DECLARE
	reps int := current_setting('bench.reps')::int;
	rows bigint := current_setting('bench.rows')::bigint;
	side text;
	t0 timestamptz;
	r jsonb;
BEGIN
	FOR rep IN 0 .. reps LOOP			-- block 0 is a warm-up
		FOREACH side IN ARRAY CASE WHEN rep % 2 = 1 THEN ARRAY['scim', 'raw'] ELSE ARRAY['raw', 'scim'] END LOOP
			t0 := clock_timestamp();
			FOR i IN 1 .. 20000 LOOP
				IF side = 'scim' THEN
					r := bench_scim(1 + (i::bigint * 7919 + rep) % rows);
				ELSE
					r := bench_raw(1 + (i::bigint * 7919 + rep) % rows);
				END IF;
			END LOOP;
			IF rep > 0 THEN
				INSERT INTO loop_run VALUES (side, rep, extract(epoch FROM clock_timestamp() - t0) * 1e6 / 20000);
			END IF;
		END LOOP;
	END LOOP;
END
$$;
SELECT side, rep, round(us::numeric, 2) AS us_per_call FROM loop_run ORDER BY rep, side;
\pset format unaligned
\pset tuples_only on
SELECT format('SUMMARY (information) in-server loop, no client: bench_raw %s us/call  bench_scim %s us/call  scim costs %sx (per-block pairs: %sx)',
			  to_char(r.us, 'FM9990.00'), to_char(s.us, 'FM9990.00'), to_char(s.us / r.us, 'FM90.00'),
			  to_char(p.ratio, 'FM90.00'))
FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY us) AS us FROM loop_run WHERE side = 'scim') s,
	 (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY us) AS us FROM loop_run WHERE side = 'raw') r,
	 (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY a.us / b.us) AS ratio
	  FROM loop_run a JOIN loop_run b USING (rep) WHERE a.side = 'scim' AND b.side = 'raw') p;
SQL
grep -v '^SUMMARY' "$tmp/loop.out"

echo
cat "$tmp/plans" "$tmp/summary"
grep '^SUMMARY' "$tmp/loop.out"
