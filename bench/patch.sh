#!/bin/sh
# bench/patch.sh: scim.patch() — per call, and in UPDATEs under pgbench.
#
# Normally run by bench/run.sh (libpq environment and the users table
# ready).  Three figures, each a ratio against a baseline in the same run:
#   1. SELECT scim.patch(...) over 100,000 users of about 2 kB against
#      jsonb_set() doing the same three changes (µs per call and ratio);
#   2. UPDATE ... SET data = scim.patch(data, $p) WHERE id = $1 against
#      UPDATE ... SET data = <the precomputed result> WHERE id = $1, pgbench
#      -M prepared, alternating runs (cost = raw TPS / scim TPS);
#   3. where a call's time goes, from perf when it is available: the share
#      of the jsonb <-> json-c conversion.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

runs=${BENCH_RUNS:-9}
reps=${BENCH_PGBENCH_REPS:-5}
secs=${BENCH_PGBENCH_T:-15}
n=${BENCH_PATCH_ROWS:-100000}
work=${WORK:-$(mktemp -d)}

echo "== patch: per call over $n users, $runs alternating runs"
PGOPTIONS="${PGOPTIONS:-} -c bench.runs=$runs" psql -X -q -At -v ON_ERROR_STOP=1 -v n="$n" -f bench/patch.sql

rows=$(psql -X -At -c 'SELECT count(*) FROM users')
# the request, and the document it makes of user 1, as literals psql quotes
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
DROP TABLE IF EXISTS patch_req;
CREATE TABLE patch_req AS SELECT $${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "displayName", "value": "New Name"},
                 {"op": "Replace", "path": "active", "value": "False"},
                 {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new.address@example.com"}]}$$::jsonb AS p;
SQL
# both sides read their argument from a one-row table (an InitPlan each), so
# that pgbench's :variables never meet the JSON's colons and quotes
psql -X -q -v ON_ERROR_STOP=1 -c "DROP TABLE IF EXISTS patch_doc" \
	-c "CREATE TABLE patch_doc AS SELECT scim.patch(u.data, r.p) AS d FROM users u, patch_req r WHERE u.id = 1"
printf '%s\n' "\\set id random(1, $rows)" \
	'UPDATE users SET data = scim.patch(data, (SELECT p FROM patch_req)) WHERE id = :id;' > "$work/patch_scim.sql"
printf '%s\n' "\\set id random(1, $rows)" \
	'UPDATE users SET data = (SELECT d FROM patch_doc) WHERE id = :id;' > "$work/patch_raw.sql"

echo "== patch: UPDATE through scim.patch vs a precomputed UPDATE, pgbench -M prepared -T $secs, $reps alternating runs"
: > "$work/patch_tps"
for c in 1 2; do
	for r in $(seq 1 "$reps"); do
		for side in raw scim; do
			tps=$(pgbench_tps "$c" "$work/patch_$side.sql" "$secs")
			echo "c=$c run=$r $side tps=$tps"
			echo "$c $side $tps" >> "$work/patch_tps"
		done
	done
done

# the median of the TPS figures of one client count and side
side_median() {
	awk -v c="$1" -v s="$2" '$1 == c && $2 == s { print $3 }' "$work/patch_tps" | median
}
for c in 1 2; do
	raw=$(side_median "$c" raw)
	scim=$(side_median "$c" scim)
	awk -v c="$c" -v ra="$raw" -v rb="$scim" 'BEGIN {
		printf "SUMMARY UPDATE, %d client(s): precomputed %.0f TPS, scim.patch %.0f TPS, scim costs %.2fx (target <= 1.2x)\n", c, ra, rb, ra / rb }'
done

if command -v perf > /dev/null 2>&1 && perf stat -e task-clock true > /dev/null 2>&1; then
	echo "== patch: profile of scim.patch over $n users"
	psql -X -q -At -c "SELECT pg_backend_pid()" -c "SELECT pg_sleep(1)" \
		-c "SELECT count(scim.patch(u.data, r.p)) FROM patch_users u, patch_req r, generate_series(1, 3)" \
		> "$work/patch_pid" &
	sleep 0.5
	pid=$(head -1 "$work/patch_pid")
	perf record -F 999 -g -p "$pid" -o "$work/patch.perf" -- sleep 4 > /dev/null 2>&1 || true
	wait
	perf report -i "$work/patch.perf" --children --sort symbol --stdio 2> /dev/null |
		awk '/^ +[0-9.]+%/ { sym = $NF; pct = $1; sub("%", "", pct)
			if (sym == "scim_patch") total = pct
			if (sym == "ScimJsonbToJsonCPartial" || sym == "ScimJsonbMerge" || sym == "ScimJsonbToJsonC" || sym == "ScimJsonCToJsonb") conv += pct
			if (sym == "ScimPatchExecute") exec_ = pct }
			END { if (total > 0) printf "SUMMARY conversion jsonb<->json-c: %.0f%% of scim.patch (apply: %.0f%%); DESIGN.md asks for a rewrite on jsonb above 20%%\n", 100 * conv / total, 100 * exec_ / total }'
fi
