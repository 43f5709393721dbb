#!/bin/sh
# bench/run.sh: run every scim benchmark and print a summary of ratios.
#
#   sh bench/run.sh                  (or: make bench)
#   BENCH_ROWS=100000 sh bench/run.sh   quick run on a smaller table
#
# The machine is shared and noisy, so each benchmark reports a RATIO against
# a baseline measured in the same run (alternating runs, medians), with the
# absolute figures for information.  Nothing here passes or fails on timing.
#
# Server: unless PGURL or PGHOST is set, this script creates a throwaway
# cluster in a temporary directory (initdb as the postgres user when run as
# root), starts it on a unix socket in that directory only, and removes it
# on exit; it never uses a server that happens to be running.  With PGURL or
# PGHOST set it uses that server (the scim extension must be installable
# there) and works in a schema "scim_bench", dropped at the end unless
# BENCH_KEEP=1.
#
# Environment:
#   BENCH_ROWS        users to generate (default 1000000)
#   BENCH_RUNS        alternating runs per side in matches.sh (default 9)
#   BENCH_PGBENCH_T   seconds per pgbench run (default 15)
#   BENCH_PGBENCH_REPS  pgbench runs per side and client count (default 5)
#   BENCH_CORE_ROUNDS rounds per stage in filter_parse (default 9)
#   BENCH_HTTP_T      seconds per wrk and pgbench run in http.sh (default 8)
#   BENCH_HTTP_ROUNDS interleaved rounds of each in http.sh (default 3)
#   BENCH_ONLY        the parts to run, by script name (say "http store"; store
#                     reuses the users http loads); default all
#   BENCH_HTTP_WORKERS  scim-server worker threads in http.sh (default: the
#                     server's, one per two CPUs), and the bare server's (default 8)
#   BENCH_HTTP_WRITERS  scim-server connections for writes in http.sh (default:
#                     the server's, 16)
#   BENCH_CHANGES_BASE  the build changes.sh compares with (default: the commit
#                     before the change feed)
#   BENCH_CHANGES_T   seconds per pgbench run in changes.sh (default 10)
#   BENCH_INS_N1, BENCH_INS_N2  calls per statement in instructions.sh's two
#                     counted runs (default 200 and 1200)
#   BENCH_TENANTS     tenants the users are spread over in tenants.sh, against
#                     one tenant of them all (default 1000; must divide BENCH_ROWS)
#   BENCH_IMPORT_BATCH  documents per scim.import() call in import.sh (default 10000)
#   BENCH_IMPORT_RUNS   rounds of COPY, import and raw INSERT in import.sh (default 3)
#   BENCH_AS_SUPERUSER  1: scim-server in http.sh and the scim.handle*() calls in
#                     instructions.sh run as the superuser, as they did before,
#                     not as the server's role scim_server (made by
#                     src/server/server_role.sql) (default 0; the raw statements
#                     run as the table owner either way)
#   PG_CONFIG         pg_config to use (default: pg_config on PATH)
#   CC                C compiler (default cc)
set -eu

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
cd "$ROOT"
# what the build needs, and wrk for the HTTP part
sh test/deps.sh wrk python3-psycopg
. bench/lib.sh

BENCH_ROWS=${BENCH_ROWS:-1000000}
BENCH_RUNS=${BENCH_RUNS:-9}
BENCH_PGBENCH_T=${BENCH_PGBENCH_T:-15}
BENCH_PGBENCH_REPS=${BENCH_PGBENCH_REPS:-5}
BENCH_CORE_ROUNDS=${BENCH_CORE_ROUNDS:-9}
PG_CONFIG=${PG_CONFIG:-pg_config}
CC=${CC:-cc}
export BENCH_ROWS BENCH_RUNS BENCH_PGBENCH_T BENCH_PGBENCH_REPS

PGBIN=$("$PG_CONFIG" --bindir)
PATH="$PGBIN:$PATH"
export PATH

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scim-bench.XXXXXX")
export WORK
OWN_CLUSTER=0
PGDATA_DIR=
SERVER_USER=$(id -un)

cleanup() {
	status=$?
	set +e
	if [ "$OWN_CLUSTER" = 1 ] && [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/postmaster.pid" ]; then
		as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null 2>&1
	elif [ "$OWN_CLUSTER" = 0 ] && [ "${BENCH_KEEP:-0}" != 1 ] && [ "${SCHEMA_MADE:-0}" = 1 ]; then
		psql -X -q -c 'DROP SCHEMA IF EXISTS scim_bench CASCADE' >/dev/null 2>&1
	fi
	rm -rf "$WORK"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }

# wanted NAME: is part NAME to run (BENCH_ONLY unset, or naming it)?
wanted() {
	case " ${BENCH_ONLY:-$1} " in
	*" $1 "*) return 0 ;;
	*) return 1 ;;
	esac
}

# part NAME: run bench/NAME.sh into $WORK/NAME.out, unless BENCH_ONLY leaves it out
part() {
	if wanted "$1"; then
		sh "bench/$1.sh" > "$WORK/$1.out" || { cat "$WORK/$1.out"; exit 1; }
		cat "$WORK/$1.out"
	else
		echo "SUMMARY (not run: BENCH_ONLY=\"$BENCH_ONLY\")" > "$WORK/$1.out"
	fi
}

# ---- 1. the core: parse + resolve + SQL generation -------------------------

if wanted filter_parse; then
	log "== building bench/filter_parse.c"
	CORE_SRCS="src/core/arena.c src/core/datetime.c src/core/decimal.c src/core/error.c \
	src/core/filter_parse.c src/core/filter_print.c src/core/filter_resolve.c src/core/filter_sql.c \
	src/core/schema.c src/core/strbuf.c src/core/utf8.c"
	# word splitting of the source list and pkg-config output is intended
	# shellcheck disable=SC2046,SC2086
	$CC -O2 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -Isrc/core -Itest/unit \
		-DSCIM_SOURCE_DIR="\"$ROOT\"" \
		$(pkg-config --cflags json-c) -o "$WORK/filter_parse" \
		bench/filter_parse.c $CORE_SRCS $(pkg-config --libs json-c)

	log "== filter_parse"
	"$WORK/filter_parse" "$BENCH_CORE_ROUNDS" > "$WORK/filter_parse.out"
	cat "$WORK/filter_parse.out"
else
	: > "$WORK/filter_parse.out"
fi

# ---- the server -----------------------------------------------------------

if [ -n "${PGURL:-}" ] || [ -n "${PGHOST:-}" ]; then
	if [ -n "${PGURL:-}" ]; then
		PGDATABASE=$PGURL
		export PGDATABASE
	fi
	log "== using the server from ${PGURL:+PGURL}${PGURL:-PGHOST=$PGHOST}"
else
	OWN_CLUSTER=1
	if [ "$(id -u)" = 0 ]; then
		SERVER_USER=postgres
		chown "$SERVER_USER" "$WORK"
	fi
	chmod 700 "$WORK"
	PGDATA_DIR="$WORK/data"
	# any port will do: the server listens only on a socket in $WORK
	PORT=$(( 20000 + $$ % 20000 ))
	log "== initdb in $PGDATA_DIR (port $PORT, socket in $WORK)"
	as_server initdb -D "$PGDATA_DIR" -E UTF8 --locale=C.UTF-8 -A trust -U postgres >"$WORK/initdb.log" 2>&1 ||
		{ cat "$WORK/initdb.log" >&2; exit 1; }
	cat >>"$PGDATA_DIR/postgresql.conf" <<EOF
# scim bench/run.sh
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $PORT
shared_buffers = 1GB
work_mem = 64MB
maintenance_work_mem = 512MB
max_wal_size = 8GB
checkpoint_timeout = 30min
autovacuum = off
EOF
	as_server pg_ctl -D "$PGDATA_DIR" -l "$WORK/server.log" -w start >/dev/null ||
		{ cat "$WORK/server.log" >&2; exit 1; }
	PGHOST=$WORK
	PGPORT=$PORT
	PGUSER=postgres
	PGDATABASE=postgres
	export PGHOST PGPORT PGUSER PGDATABASE
fi

# The benchmark objects live in their own schema, before scim's on the path.
PGOPTIONS="${PGOPTIONS:-} -c search_path=scim_bench,public"
export PGOPTIONS
psql -X -q -v ON_ERROR_STOP=1 <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
CREATE SCHEMA IF NOT EXISTS scim_bench;
EOF
SCHEMA_MADE=1
psql -X -q -c 'CREATE EXTENSION IF NOT EXISTS pg_prewarm SCHEMA scim_bench' >/dev/null 2>&1 || true

# ---- the table, built once -------------------------------------------------

log "== generating $BENCH_ROWS users"
psql -X -q -v ON_ERROR_STOP=1 -v rows="$BENCH_ROWS" -f bench/users.sql

# ---- 2 and 3 -----------------------------------------------------------------

part matches
part index_lookup

# ---- 4 to 6: the service over HTTP, the store at scale, then PATCH (which
# rewrites users) ----------------------------------------------------------------

part http
part store
part patch

# ---- 7. instructions per call, which noise does not move (stops and restarts
# the throwaway cluster) -----------------------------------------------------------

export OWN_CLUSTER PGDATA_DIR SERVER_USER
part instructions

# ---- 8. the same for writes, pages and searches, each against raw SQL with
# the same effect (adds a tenant of its own) -------------------------------------

part writes

# ---- 9. the same for a lookup and a PATCH with 1,000 tenants in the store
# against one (adds 2 x BENCH_ROWS users) ------------------------------------------

part tenants

# ---- 10. the change feed against the build before it (clusters of its own) -----

part changes

# ---- 11. scim.import() of the users against a COPY of their documents (adds,
# then deletes, 2 x BENCH_ROWS users a round) -------------------------------------

part import

# ---- summary ---------------------------------------------------------------

{
	echo
	echo "================ scim benchmark summary ================"
	echo "rows: $BENCH_ROWS   server: $(psql -X -At -c 'SHOW server_version')   $( [ "$OWN_CLUSTER" = 1 ] && echo 'throwaway cluster' || echo 'caller-supplied server')"
	echo "host: $(nproc) cores, $(uname -sr)"
	echo
	echo "1. filter parse+resolve+SQL in the core (single thread; baseline: json-c parse of an"
	echo "   equivalent JSON document; ratio = subject rate / baseline rate, higher is better)"
	awk '/^RESULT/ {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "   %-11s %9.0f filters/s   json-c %9.0f docs/s   ratio %5.2f   (target >= 1,000,000/s: %s)\n",
			$2, v["subject_per_s"], v["baseline_per_s"], v["ratio"],
			(v["subject_per_s"] >= 1000000) ? "met" : "MISSED"
	}' "$WORK/filter_parse.out"
	echo
	echo "2. scim.matches() vs hand-written jsonb predicate, count(*) seq scan"
	echo "   (max_parallel_workers_per_gather=0, jit=off, index scans off; median of $BENCH_RUNS alternating runs;"
	echo "   ratio = scim ms / hand-written ms, lower is better, target <= 2.0)"
	grep '^SUMMARY' "$WORK/matches.out" | sed 's/^SUMMARY /   /'
	echo
	echo "3. index lookup through scim.filter_sql() vs hand-written SQL, both dynamic EXECUTE"
	echo "   (pgbench -M prepared, ${BENCH_PGBENCH_T}s runs, median of $BENCH_PGBENCH_REPS alternating runs;"
	echo "   cost = raw TPS / scim TPS, target <= 1.2x; \"mixed\": both functions in one pgbench run,"
	echo "   each transaction picking one at random, cost = scim / raw median latency)"
	grep '^SUMMARY' "$WORK/index_lookup.out" | sed 's/^SUMMARY /   /'
	echo
	echo "4. scim-server over loopback (wrk, ${BENCH_HTTP_T:-8}s runs, median of ${BENCH_HTTP_ROUNDS:-3} interleaved"
	echo "   rounds) next to pgbench running (a) the server's scim.handle_text() call and (b) the raw"
	echo "   indexed SELECT / UPDATE; higher percentages are better; scim-server connects as"
	echo "   $( [ "${BENCH_AS_SUPERUSER:-0}" = 1 ] && echo 'the superuser (BENCH_AS_SUPERUSER=1)' || echo 'scim_server'), pgbench and (c) as the table owner"
	echo "   (targets: GET >= 60% of (a) and >= 40% of (b); PATCH >= 60% of (b))"
	grep '^SUMMARY' "$WORK/http.out" | sed 's/^SUMMARY /   /'
	echo
	echo "5. scim.handle() on the store with 10,000 groups (pgbench -M prepared, 1 client, ${BENCH_PGBENCH_T}s runs,"
	echo "   median of $BENCH_PGBENCH_REPS alternating runs; cost = baseline TPS / subject TPS, lower is better)"
	grep '^SUMMARY' "$WORK/store.out" | sed 's/^SUMMARY /   /'
	echo
	echo "6. scim.patch(): per call against jsonb_set() doing the same changes (target <= 10 us), and"
	echo "   in UPDATEs against a precomputed UPDATE (pgbench; target <= 1.2x)"
	grep '^SUMMARY' "$WORK/patch.out" | sed 's/^SUMMARY /   /'
	echo
	echo "7. instructions per call in a single-user backend under callgrind (the difference between"
	echo "   ${BENCH_INS_N1:-200} and ${BENCH_INS_N2:-1200} calls; cost = subject / baseline, lower is better)"
	grep '^SUMMARY' "$WORK/instructions.out" | sed 's/^SUMMARY /   /'
	echo
	echo "8. instructions per call of writes, pages and searches against raw SQL with the same effect"
	echo "   (the same counting; pages with a quarter of the calls)"
	grep '^SUMMARY' "$WORK/writes.out" | sed 's/^SUMMARY /   /'
	echo
	echo "9. instructions per call of a lookup and a PATCH with ${BENCH_TENANTS:-1000} tenants in the store against one"
	echo "   (the same counting; ratio = many tenants / one, lower is better, target 1.0)"
	grep '^SUMMARY' "$WORK/tenants.out" | sed 's/^SUMMARY /   /'
	echo
	echo "10. the change feed against the build before it (BENCH_CHANGES_BASE): instructions per PATCH,"
	echo "   reading 1,000 changes against the raw SELECT, PATCH throughput with 8 and 32 pgbench"
	echo "   clients (medians of $BENCH_PGBENCH_REPS alternating runs), COMMIT to a LISTENing consumer"
	grep '^SUMMARY' "$WORK/changes.out" | sed 's/^SUMMARY /   /'

	echo "11. scim.import() of the users, in calls of ${BENCH_IMPORT_BATCH:-10000} each committed, against a COPY of the same"
	echo "   documents into a plain jsonb table (median of ${BENCH_IMPORT_RUNS:-3} rounds; ratio = import / COPY, target <= 3x)"
	grep '^SUMMARY' "$WORK/import.out" | sed 's/^SUMMARY /   /'
	echo "========================================================"
}
