#!/bin/sh
# bench/matches.sh: scim.matches() vs the hand-written jsonb predicate.
#
# Normally run by bench/run.sh, which provides the server (libpq
# environment: PGHOST, PGPORT, PGDATABASE, PGOPTIONS with scim_bench on the
# search_path) and the table.  Run alone against such a server it builds the
# table first if there is none.  Prints the medians of BENCH_RUNS (default 9)
# alternating runs and SUMMARY lines with the ratio scim/hand-written.
set -eu
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-9}

if [ "$(psql -X -At -c "SELECT to_regclass('users') IS NOT NULL")" != t ]; then
	psql -X -q -v ON_ERROR_STOP=1 -v rows="${BENCH_ROWS:-1000000}" -f bench/users.sql
fi
rows=$(psql -X -At -c 'SELECT count(*) FROM users')
# the user in the middle of the table, spelt in lower case as a client would
target="user$(( (rows + 1) / 2 ))"

echo "== matches: $rows users, max_parallel_workers_per_gather=0, jit=off, $runs alternating runs"
# load the table into shared_buffers where pg_prewarm is available, so that
# the figures are CPU, not I/O (a seq scan of a big table would otherwise
# use a small ring buffer and read from the OS cache)
psql -X -At -c "SELECT 'prewarmed ' || pg_prewarm('users') || ' blocks'" 2>/dev/null || true
PGOPTIONS="${PGOPTIONS:-} -c bench.runs=$runs" \
	psql -X -q -v ON_ERROR_STOP=1 -v target="$target" -f bench/matches.sql
