# tap.sh: TAP lines for the shell test scripts, sourced; counts in n,
# passed and failed.
n=0
passed=0
failed=0

ok() {
	# ok DESCRIPTION / not_ok DESCRIPTION: one TAP line
	n=$((n + 1)) passed=$((passed + 1))
	echo "ok $n - $1"
}
not_ok() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $1"
}
check() {
	# check DESCRIPTION COMMAND...
	c_what=$1
	shift
	if "$@"; then ok "$c_what"; else not_ok "$c_what"; fi
}
same() {
	# same DESCRIPTION GOT WANTED: one TAP line, saying what came instead
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf '#   got:    %s\n#   wanted: %s\n' "$2" "$3"
	fi
}
