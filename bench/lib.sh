# bench/lib.sh: what the benchmark scripts share; sourced, not run.
# shellcheck shell=sh

# median: the median of the numbers on standard input, one a line
median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# pgbench_tps CLIENTS SCRIPT SECONDS: one pgbench -M prepared run with a
# thread per client; prints its TPS, or pgbench's output and fails
pgbench_tps() {
	_out=$(pgbench -n -M prepared -c "$1" -j "$1" -T "$3" -f "$2" 2>&1) ||
		{ printf '%s\n' "$_out" >&2; return 1; }
	printf '%s\n' "$_out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p'
}

# events [CONDITION]: how many events the store has logged (its changes and
# failures), or of them those that meet CONDITION
events() {
	psql -X -At -c "SELECT count(*) FROM scim.events ${1:+WHERE $1}"
}

# ids_table: bench/http.sh's table of user ids, schema-qualified, for
# sessions with scim-server's search_path (see src/server/db.c)
ids_table() {
	psql -X -At -c "SELECT format('%I.http_ids', relnamespace::regnamespace) FROM pg_class WHERE oid = 'http_ids'::regclass"
}

# as_server CMD ARG...: run a command as SERVER_USER, the user that owns
# bench/run.sh's throwaway cluster (with the caller's PATH)
as_server() {
	if [ "$SERVER_USER" = "$(id -un)" ]; then
		"$@"
	else
		# quote each argument for su -c
		cmd=
		for a in "$@"; do
			cmd="$cmd '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
		done
		su "$SERVER_USER" -s /bin/sh -c "PATH='$PATH'; export PATH; $cmd"
	fi
}

# ins_count NAME SQL N TAG [ROLE]: instructions for N calls of SQL in one
# single-user backend under callgrind, as ROLE if given (else as the
# backend's superuser), after INS_WARM calls (default 0) that warm what
# the backend keeps.  In SQL, $1 is a random number in 1..INS_ROWS, $2
# the call's number (from 0, warm-up calls first), and TAG is replaced by
# TAG, which keeps runs apart.
# Needs bench/run.sh's throwaway cluster, stopped (PGDATA_DIR, SERVER_USER),
# and INS_DB (the database) and INS_WORK (a directory for the scripts).
ins_count() {
	{
		# as scim-server's sessions have it (src/server/db.c)
		printf 'SET search_path = pg_catalog, pg_temp;\n\n'
		printf 'SET plan_cache_mode = force_generic_plan;\n\n'
		printf "SET gin_pending_list_limit = '64MB';\n\n"
		# last: what comes before may need the superuser
		[ -z "${5:-}" ] || printf 'SET ROLE %s;\n\n' "$5"
		printf 'PREPARE q(int, int) AS %s;\n\n' "$(printf '%s' "$2" | sed "s/TAG/$4/g")"
		awk -v n="$(( $3 + ${INS_WARM:-0} ))" -v rows="$INS_ROWS" -v seed="$4" 'BEGIN {
			srand(length(seed) * 7919 + n)
			for (i = 0; i < n; i++) printf "EXECUTE q(%d, %d);\n\n", 1 + int(rand() * rows), i
		}'
	} > "$INS_WORK/ins.$1.sql"
	chmod 644 "$INS_WORK/ins.$1.sql"
	as_server sh -c "valgrind --tool=callgrind --callgrind-out-file=/dev/null postgres --single -D '$PGDATA_DIR' -j '$INS_DB' \
		< '$INS_WORK/ins.$1.sql' > '$INS_WORK/ins.$1.out' 2> '$INS_WORK/ins.$1.err'" ||
		{ cat "$INS_WORK/ins.$1.err" >&2; return 1; }
	# a single-user backend reports errors on its standard error, and goes on
	if grep -q 'ERROR:' "$INS_WORK/ins.$1.out" "$INS_WORK/ins.$1.err"; then
		grep -h -m 3 'ERROR:' "$INS_WORK/ins.$1.out" "$INS_WORK/ins.$1.err" >&2
		return 1
	fi
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$INS_WORK/ins.$1.err"
}

# ins_per_call NAME SQL RUN [ROLE]: instructions per call, from INS_N1 and
# INS_N2 calls (tags RUNa and RUNb), each run after the same INS_WARM
# calls: start-up, shutdown, the warm-up and the first calls' planning fall
# out of the difference
ins_per_call() {
	_a=$(ins_count "$1.1" "$2" "$INS_N1" "${3}a" "${4:-}")
	_b=$(ins_count "$1.2" "$2" "$INS_N2" "${3}b" "${4:-}")
	echo $(((_b - _a) / (INS_N2 - INS_N1)))
}

# ins_can_run PART: can instructions be counted here?  If not, says why in
# PART's SUMMARY line and fails
ins_can_run() {
	if [ "${OWN_CLUSTER:-0}" != 1 ] || [ -z "${PGDATA_DIR:-}" ]; then
		echo "SUMMARY $1: not run (it needs bench/run.sh's own throwaway cluster)"
		return 1
	fi
	if ! command -v valgrind >/dev/null 2>&1; then
		echo "SUMMARY $1: not run (valgrind is not installed)"
		return 1
	fi
}
