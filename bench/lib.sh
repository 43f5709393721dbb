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

# events: how many events the store has logged
events() {
	psql -X -At -c 'SELECT count(*) FROM scim.event'
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
