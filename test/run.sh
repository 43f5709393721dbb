#!/bin/sh
# run.sh: run every test suite and print one closing line "N passed, M failed".
#
#   1. the core's unit tests (no server), under valgrind;
#   2. the pg_regress suite, in a throwaway cluster made by pg_virtualenv,
#      and the store's multi-session tests (test/store/*.sh, pgbench);
#   3. the libFuzzer targets, briefly (FUZZ_SECONDS, default 15, per target),
#      after replaying every seed of their corpus;
#   4. the end-to-end HTTP tests, when there are any (test/e2e/run.sh).
#
# Expects "make all unit" to have run (the Makefile's test target does).
set -u

cd "$(dirname "$0")/.."
passed=0
failed=0
log=build/test-logs
mkdir -p "$log"

count() {
	# count PATTERN FILE: number of matching lines
	grep -cE "$1" "$2" 2>/dev/null || true
}

# ---- 1. unit tests -------------------------------------------------------
echo "== unit tests (valgrind)"
for t in build/unit/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$t" > "$log/$name.out" 2>&1
	rc=$?
	ok=$(count '^ok ' "$log/$name.out")
	bad=$(count '^not ok ' "$log/$name.out")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1	# a crash or a valgrind error fails the program as a whole
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	echo "   $name: $ok passed, $bad failed (exit $rc)"
	if [ "$rc" -ne 0 ]; then
		grep -E '^not ok|^#|==[0-9]+==' "$log/$name.out" | head -40
	fi
done

# ---- 2. pg_regress in a throwaway cluster ---------------------------------
echo "== pg_regress"
if [ "$(id -u)" -eq 0 ]; then
	make -s install > "$log/install.out" 2>&1 || { cat "$log/install.out"; failed=$((failed + 1)); }
else
	echo "   not root: assuming the extension is installed (sudo make install)"
fi
rm -rf results regression.diffs regression.out
# ICU en-US rather than C: lower() and ordering must agree beyond ASCII
pg_virtualenv -t -v 15 -i '--locale-provider=icu --icu-locale=en-US --locale=C.UTF-8' \
	-o 'max_parallel_workers_per_gather=0' \
	make -s installcheck > "$log/regress.out" 2>&1
rc=$?
ok=$(count '\.\.\. ok|^ok [0-9]+ ' "$log/regress.out")
bad=$(count '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ ' "$log/regress.out")
if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
	bad=1
fi
passed=$((passed + ok))
failed=$((failed + bad))
grep -E '^(test| +[a-z_]+ +\.\.\.)|\.\.\. |^ok|^not ok' "$log/regress.out" | sed 's/^/   /'
if [ "$rc" -ne 0 ]; then
	tail -20 "$log/regress.out"
	[ -f regression.diffs ] && head -150 regression.diffs
fi

# ---- 2b. store tests that need more than one session (pgbench) -----------
echo "== store"
for t in test/store/*.sh; do
	name=$(basename "$t" .sh)
	pg_virtualenv -t -v 15 sh "$t" > "$log/store-$name.out" 2>&1
	rc=$?
	ok=$(count '^ok ' "$log/store-$name.out")
	bad=$(count '^not ok ' "$log/store-$name.out")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	grep -E '^(ok|not ok) ' "$log/store-$name.out" | sed "s/^/   $name: /"
	[ "$rc" -eq 0 ] || tail -20 "$log/store-$name.out"
done

# ---- 3. fuzz smoke: every seed replayed, then a bounded run per target ------
if command -v clang >/dev/null 2>&1; then
	echo "== fuzz (${FUZZ_SECONDS:-15}s per target)"
	if make -s fuzz > "$log/fuzz-build.out" 2>&1; then
		for t in build/fuzz/fuzz_*; do
			[ -x "$t" ] || continue
			if sh test/fuzz/run.sh "${FUZZ_SECONDS:-15}" "$t" > "$log/fuzz-$(basename "$t").out" 2>&1; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
			fi
			sed 's/^/   /' "$log/fuzz-$(basename "$t").out" | grep -v "fuzzing for"
		done
	else
		cat "$log/fuzz-build.out"
		failed=$((failed + 1))
	fi
fi

# ---- 4. end-to-end -------------------------------------------------------
if [ -f test/e2e/run.sh ]; then
	echo "== end-to-end"
	sh test/e2e/run.sh > "$log/e2e.out" 2>&1
	rc=$?
	ok=$(count '^ok ' "$log/e2e.out")
	bad=$(count '^not ok ' "$log/e2e.out")
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	grep -E '^not ok' "$log/e2e.out"
	echo "   e2e: $ok passed, $bad failed"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
