#!/bin/sh
# run.sh: run every test suite and print one closing line "N passed, M failed".
#
#   1. the core's unit tests (no server), under valgrind;
#   2. the pg_regress suite, in a throwaway cluster made by pg_virtualenv,
#      the store's multi-session tests (test/store/*.sh, pgbench), and the
#      upgrade from every earlier release (test/upgrade/run.sh);
#   3. the libFuzzer targets, briefly (FUZZ_SECONDS, default 15, per target),
#      after replaying every seed of their corpus;
#   4. the end-to-end HTTP tests (test/e2e/run.sh).
#
# Expects "make all unit" to have run (the Makefile's test target does).
#
# Suites 2 and 4 run against the installed extension: as root it is installed
# first; either way the installed scim.so, control file and install script
# must be the ones just built, or those suites fail without running (a stale
# build would otherwise be tested in place of this one).
#
# Each suite runs under a bound (coreutils timeout), several times its usual
# duration; one that outlives it counts as failed.  Were every suite to hang,
# the whole would still end within about 18 minutes.  The bounds, in seconds,
# can be set from the environment:
#   SCIM_TIMEOUT_UNIT     each unit test program (usually 1-2 s)       30
#   SCIM_TIMEOUT_REGRESS  pg_regress (usually 20-25 s)                 180
#   SCIM_TIMEOUT_STORE    each store test (usually 5-6 s)              60
#   SCIM_TIMEOUT_UPGRADE  the upgrade test (usually 5 s; 10 s more     120
#                         when it builds a release, the first time)
#   SCIM_TIMEOUT_FUZZ     each fuzz target (usually FUZZ_SECONDS + 2)  2 x FUZZ_SECONDS + 30
#   SCIM_TIMEOUT_E2E      the end-to-end tests (usually 30-45 s)       240
# A missing tool (valgrind, pg_virtualenv, pgbench, clang, python3) fails
# the suites that need it; no suite drops out of the count.
set -u

cd "$(dirname "$0")/.."
passed=0
failed=0
log=build/test-logs
mkdir -p "$log"

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-pg_config}

count() {
	# count PATTERN FILE: number of matching lines
	grep -cE "$1" "$2" 2>/dev/null || true
}

fail() {
	# fail MESSAGE: one failure, said why
	echo "   $1"
	failed=$((failed + 1))
}

need() {
	# need SUITE TOOL...: true when every TOOL is there; otherwise SUITE fails
	n_suite=$1
	shift
	missing=
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
	done
	[ -z "$missing" ] && return 0
	fail "$n_suite: FAILED, not run: missing$missing (sh test/deps.sh installs it)"
	return 1
}

bounded() {
	# bounded SUITE SECONDS VARIABLE OUT COMMAND...: COMMAND with its output in
	# OUT, stopped after SECONDS (TERM, then KILL 30 s later, to its whole
	# process group: pg_virtualenv drops its cluster on TERM).  Sets rc, and
	# timed_out to 1 (saying so) when the bound stopped it.
	b_suite=$1 b_seconds=$2 b_variable=$3 b_out=$4
	shift 4
	b_start=$(date +%s)
	timeout -k 30 "$b_seconds" "$@" > "$b_out" 2>&1
	rc=$?
	timed_out=0
	if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ $(($(date +%s) - b_start)) -ge "$b_seconds" ]; }; then
		timed_out=1
		echo "   $b_suite: TIMED OUT after ${b_seconds}s (the bound is $b_variable), counted as failed"
	fi
}

tally() {
	# tally SUITE OUT [OK BAD]: add up the lines of OUT that match OK and BAD
	# (TAP's "ok"/"not ok" unless given); a failed exit without a BAD line, a
	# time-out, or no result at all is one failure more
	ok=$(count "${3:-^ok }" "$2")
	bad=$(count "${4:-^not ok }" "$2")
	if [ "$timed_out" -eq 1 ]; then
		bad=$((bad + 1))
	elif [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	elif [ "$ok" -eq 0 ] && [ "$bad" -eq 0 ]; then
		echo "   $1: no result at all, counted as failed"
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
}

command -v timeout >/dev/null 2>&1 || {
	echo "run.sh: timeout (coreutils) is missing"
	echo "0 passed, 1 failed"
	exit 1
}

# ---- 1. unit tests -------------------------------------------------------
echo "== unit tests (valgrind)"
for src in test/unit/test_*.c; do
	name=$(basename "$src" .c)
	t=build/unit/$name
	need "$name" valgrind || continue
	if [ ! -x "$t" ]; then
		fail "$name: FAILED, not built ($t; make unit)"
		continue
	fi
	bounded "$name" "${SCIM_TIMEOUT_UNIT:-30}" SCIM_TIMEOUT_UNIT "$log/$name.out" \
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$t"
	# a crash or a valgrind error fails the program as a whole
	tally "$name" "$log/$name.out"
	echo "   $name: $ok passed, $bad failed (exit $rc)"
	if [ "$rc" -ne 0 ] && [ "$timed_out" -eq 0 ]; then
		grep -E '^not ok|^#|==[0-9]+==' "$log/$name.out" | head -40
	fi
done

# ---- the installed build must be this one ---------------------------------
installed_differs() {
	# installed_differs: print each installed file that is not the one built here
	ext=$("$PG_CONFIG" --sharedir)/extension
	version=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" scim.control)
	for pair in "scim.so $("$PG_CONFIG" --pkglibdir)/scim.so" "scim.control $ext/scim.control" \
		"scim--$version.sql $ext/scim--$version.sql"; do
		# shellcheck disable=SC2086
		set -- $pair
		cmp -s "$1" "$2" || echo "$2 (is not $1)"
	done
	# the released scripts and the upgrade scripts, for ALTER EXTENSION UPDATE
	for f in src/ext/released/scim--*.sql src/ext/upgrade/scim--*.sql; do
		cmp -s "$f" "$ext/$(basename "$f")" || echo "$ext/$(basename "$f") (is not $f)"
	done
}

echo "== the installed extension"
installed=1
if [ "$(id -u)" -eq 0 ]; then
	make -s install > "$log/install.out" 2>&1 || { cat "$log/install.out"; fail "make install: FAILED"; }
fi
stale=$(installed_differs)
if [ -n "$stale" ]; then
	installed=0
	echo "$stale" | sed 's/^/   differs from this build: /'
	if [ "$(id -u)" -eq 0 ]; then
		fail "installed build: FAILED, make install did not install this build"
	else
		fail "installed build: FAILED, not this build: run sudo make install (pg_regress, store and end-to-end will not run)"
	fi
else
	echo "   scim.so, scim.control, the install and upgrade scripts are this build's"
	passed=$((passed + 1))
fi

# ---- 2. pg_regress in a throwaway cluster ---------------------------------
echo "== pg_regress"
if [ "$installed" -eq 0 ]; then
	fail "pg_regress: FAILED, not run: the installed extension is not this build"
elif need pg_regress pg_virtualenv; then
	rm -rf results regression.diffs regression.out
	# ICU en-US rather than C: lower() and ordering must agree beyond ASCII
	bounded pg_regress "${SCIM_TIMEOUT_REGRESS:-180}" SCIM_TIMEOUT_REGRESS "$log/regress.out" \
		pg_virtualenv -t -v 15 -i '--locale-provider=icu --icu-locale=en-US --locale=C.UTF-8' \
		-o 'max_parallel_workers_per_gather=0' \
		make -s installcheck
	tally pg_regress "$log/regress.out" '\.\.\. ok|^ok [0-9]+ ' '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ '
	grep -E '^(test| +[a-z_]+ +\.\.\.)|\.\.\. |^ok|^not ok' "$log/regress.out" | sed 's/^/   /'
	if [ "$rc" -ne 0 ]; then
		tail -20 "$log/regress.out"
		[ -f regression.diffs ] && head -150 regression.diffs
	fi
fi

# ---- 2b. store tests that need more than one session (pgbench) -----------
echo "== store"
for t in test/store/*.sh; do
	name=$(basename "$t" .sh)
	if [ "$installed" -eq 0 ]; then
		fail "$name: FAILED, not run: the installed extension is not this build"
		continue
	fi
	need "$name" pg_virtualenv "$PGBIN/pgbench" curl python3 || continue
	bounded "store $name" "${SCIM_TIMEOUT_STORE:-60}" SCIM_TIMEOUT_STORE "$log/store-$name.out" \
		pg_virtualenv -t -v 15 sh "$t"
	tally "store $name" "$log/store-$name.out"
	grep -E '^(ok|not ok) |^#' "$log/store-$name.out" | sed "s/^/   $name: /"
	[ "$rc" -eq 0 ] || tail -20 "$log/store-$name.out"
done

# ---- 2c. upgrade from every earlier release --------------------------------
# In a private copy of PostgreSQL (test/upgrade/lib.sh), not the installed
# extension: each release is built from its commit (cached in build/upgrade/),
# then this build is installed over it.
echo "== upgrade"
if need upgrade git nm "$PGBIN/pg_ctl"; then
	bounded upgrade "${SCIM_TIMEOUT_UPGRADE:-120}" SCIM_TIMEOUT_UPGRADE "$log/upgrade.out" sh test/upgrade/run.sh
	tally upgrade "$log/upgrade.out"
	grep -E '^(ok|not ok) |^#' "$log/upgrade.out" | sed 's/^/   /'
	[ "$rc" -eq 0 ] || tail -20 "$log/upgrade.out"
fi

# ---- 3. fuzz smoke: every seed replayed, then a bounded run per target ------
echo "== fuzz (${FUZZ_SECONDS}s per target)"
fuzz_built=0
if command -v clang >/dev/null 2>&1; then
	if make -s fuzz > "$log/fuzz-build.out" 2>&1; then
		fuzz_built=1
	else
		cat "$log/fuzz-build.out"
	fi
fi
for src in test/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	t=build/fuzz/$name
	need "$name" clang || continue
	if [ "$fuzz_built" -eq 0 ] || [ ! -x "$t" ]; then
		fail "$name: FAILED, not built (make fuzz, $log/fuzz-build.out)"
		continue
	fi
	bounded "$name" "${SCIM_TIMEOUT_FUZZ:-$((2 * FUZZ_SECONDS + 30))}" SCIM_TIMEOUT_FUZZ "$log/fuzz-$name.out" \
		sh test/fuzz/run.sh "$FUZZ_SECONDS" "$t"
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	sed 's/^/   /' "$log/fuzz-$name.out" | grep -v "fuzzing for"
done

# ---- 4. end-to-end -------------------------------------------------------
echo "== end-to-end"
if [ "$installed" -eq 0 ]; then
	fail "e2e: FAILED, not run: the installed extension is not this build"
elif need e2e pg_virtualenv python3 openssl ss; then
	bounded e2e "${SCIM_TIMEOUT_E2E:-240}" SCIM_TIMEOUT_E2E "$log/e2e.out" sh test/e2e/run.sh
	tally e2e "$log/e2e.out"
	grep -E '^not ok' "$log/e2e.out" || [ "$rc" -eq 0 ] || tail -20 "$log/e2e.out"
	echo "   e2e: $ok passed, $bad failed"
fi

# ---- what ran was this build throughout -------------------------------------
if [ "$installed" -eq 1 ]; then
	stale=$(installed_differs)
	if [ -n "$stale" ]; then
		echo "$stale" | sed 's/^/   differs from this build: /'
		fail "installed build: FAILED, replaced during the run (a make install outside flock /tmp/scim-test.lock?)"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
