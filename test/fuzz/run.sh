#!/bin/sh
# run.sh
#	Run libFuzzer targets for a fixed time each and summarise what they found.
#
#	sh test/fuzz/run.sh SECONDS TARGET...
#
# TARGET is a built fuzzer such as build/fuzz/fuzz_filter.  For fuzz_NAME the
# seeds are test/fuzz/corpus/NAME/ and the dictionary test/fuzz/NAME.dict
# (used when it exists).  The seeds are copied into build/fuzz/corpus/NAME/
# and the fuzzer works there, so the committed corpus is never written; what
# it learns accumulates across runs until build/ is removed.  Crash inputs go
# to build/fuzz/artifacts/, full logs to build/fuzz/logs/.
#
# libFuzzer stops at the first crash.  FUZZ_KEEP_GOING=1 runs it in fork
# mode instead (-fork=1 -ignore_crashes=1), so that a campaign uses its whole
# time and collects every crash it meets.  FUZZ_TIMEOUT (default 10) is the
# seconds one input may take before it counts as a finding.
#
# Prints one line per target and exits 1 if any target found something.

set -eu

usage() {
	echo "usage: sh test/fuzz/run.sh SECONDS TARGET..." >&2
	exit 2
}

[ $# -ge 2 ] || usage
seconds=$1
shift
case $seconds in
	'' | *[!0-9]*) usage ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$root/build/fuzz
artifacts=$work/artifacts
mkdir -p "$artifacts" "$work/logs" "$work/corpus"

keep_going=${FUZZ_KEEP_GOING:-0}
timeout=${FUZZ_TIMEOUT:-10}
failed=0

# Print the value of libFuzzer's final statistic $2 in log $1, or "?".
final_stat() {
	v=$(sed -n "s/^stat::$2: *\([0-9][0-9]*\).*/\1/p" "$1" | tail -n 1)
	echo "${v:-?}"
}

# Print the last "cov: N ft: N" pair of log $1 as "cov N ft N".
last_coverage() {
	v=$(sed -n 's/.*cov: \([0-9][0-9]*\) ft: \([0-9][0-9]*\).*/cov \1 ft \2/p' "$1" | tail -n 1)
	echo "${v:-cov ? ft ?}"
}

for target in "$@"; do
	base=$(basename "$target")
	name=${base#fuzz_}
	seeds=$root/test/fuzz/corpus/$name
	corpus=$work/corpus/$name
	log=$work/logs/$base.log
	marker=$work/logs/$base.start

	if [ ! -x "$target" ]; then
		echo "$base: not built ($target)" >&2
		failed=1
		continue
	fi

	mkdir -p "$corpus"
	if [ -d "$seeds" ]; then
		cp "$seeds"/* "$corpus"/
	fi

	set -- -max_total_time="$seconds" -max_len=4096 -timeout="$timeout" \
		-print_final_stats=1 -artifact_prefix="$artifacts/$base-"
	if [ -f "$root/test/fuzz/$name.dict" ]; then
		set -- "$@" -dict="$root/test/fuzz/$name.dict"
	fi
	if [ "$keep_going" = 1 ]; then
		set -- "$@" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1
	fi

	: >"$marker"
	echo "$base: fuzzing for ${seconds}s, log in $log"
	status=0
	"$target" "$@" "$corpus" >"$log" 2>&1 || status=$?

	found=$(find "$artifacts" -type f -name "$base-*" -newer "$marker" | sort)
	nfound=$(printf '%s' "$found" | grep -c . || true)

	if [ "$keep_going" = 1 ]; then
		# fork mode: "#RUNS: cov: N ft: N corp: N exec/s N ... time: Ns job: N"
		last=$(sed -n 's/^#\([0-9][0-9]*\): cov:.* time: \([0-9][0-9]*\)s.*/\1 \2/p' "$log" | tail -n 1)
		execs=${last% *}
		elapsed=${last#* }
		if [ -n "$last" ] && [ "$elapsed" -gt 0 ]; then
			rate=$((execs / elapsed))
		else
			execs=${execs:-?}
			rate='?'
		fi
	else
		execs=$(final_stat "$log" number_of_executed_units)
		rate=$(final_stat "$log" average_exec_per_sec)
	fi
	coverage=$(last_coverage "$log")
	if [ "$keep_going" = 1 ]; then
		# fork mode counts coverage its own way: replay the corpus for numbers
		# comparable with a plain run's
		"$target" -runs=0 -max_len=4096 "$corpus" >"$log.replay" 2>&1 || true
		coverage=$(last_coverage "$log.replay")
	fi

	if [ "$status" -ne 0 ] || [ "$nfound" -gt 0 ]; then
		failed=1
		echo "$base: $execs executions ($rate/s), $coverage: FOUND $nfound finding(s), exit status $status"
		# replay each finding for its first line of complaint
		for f in $found; do
			why=$("$target" "$f" 2>&1 |
				grep -E "^$base: |ERROR: [A-Za-z]+Sanitizer|runtime error:" | head -n 1) || true
			echo "    $f: ${why:-(see the log)}"
		done
		if [ "$keep_going" != 1 ]; then
			# the message, the inputs, and the stack without libFuzzer's frames
			grep -E "ERROR|SUMMARY|^$base: |^ +(filter|got|want|resource):|#[0-9]+ 0x" "$log" |
				grep -vE 'fuzzer::|__sanitizer_|libc\.so' | head -n 20 | sed 's/^/    | /'
		fi
	else
		echo "$base: $execs executions ($rate/s), $coverage: nothing found"
	fi
	rm -f "$marker"
done

exit "$failed"
