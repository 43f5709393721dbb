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
