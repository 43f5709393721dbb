#!/bin/sh
# bench/import.sh: scim.import() of the benchmark's users (bench/users.sql's
# documents, without passwords) into a new tenant, in calls of
# BENCH_IMPORT_BATCH documents (default 10,000), each committed as an
# import of a million is meant to be, against the baseline: a COPY of the
# same documents, as JSON text, into a plain jsonb table.  For
# information, the raw INSERT of the same documents into scim.users in the
# same batches, as the table's owner and with no check: what storing them
# costs with the store's indexes and foreign key, which an import pays too.
#
# BENCH_IMPORT_RUNS rounds (default 3), each running the three in turn,
# medians compared.  Each round's rows are deleted and vacuumed away after
# it, so that every round starts from the same store.  The COPY reads a
# file the server wrote (COPY ... TO) in bench/run.sh's own cluster; with a
# caller's server it is psql's \copy.
#
# Needs bench/run.sh's users table (scim_bench.users); bench/run.sh runs it
# as part "import".
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

batch=${BENCH_IMPORT_BATCH:-10000}
runs=${BENCH_IMPORT_RUNS:-3}
work=${WORK:-$(mktemp -d)}
rows=$(psql -X -At -c 'SELECT count(*) FROM scim_bench.users')
file=$work/import_docs.copy

echo "== import: $rows users in calls of $batch, $runs rounds"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS scim_bench.import_copy;
CREATE TABLE scim_bench.import_copy (data jsonb);
SQL
if [ "${OWN_CLUSTER:-0}" = 1 ]; then
	psql -X -q -v ON_ERROR_STOP=1 -c "COPY (SELECT data FROM scim_bench.users ORDER BY id) TO '$file'"
	copy="COPY scim_bench.import_copy FROM '$file'"
else
	psql -X -q -v ON_ERROR_STOP=1 -c "\\copy (SELECT data FROM scim_bench.users ORDER BY id) TO '$file'"
	copy="\\copy scim_bench.import_copy FROM '$file'"
fi

# batches STATEMENT: the statement for each batch of users, $lo < id <= $hi
batches() {
	lo=0
	while [ "$lo" -lt "$rows" ]; do
		hi=$((lo + batch))
		printf '%s\n' "$1" | sed "s/\\\$lo/$lo/g; s/\\\$hi/$hi/g"
		lo=$hi
	done
}

# timed FILE: run psql on FILE (each statement its own transaction); the seconds it took
timed() {
	t0=$(date +%s%N)
	psql -X -q -At -v ON_ERROR_STOP=1 -f "$1" > "$1.out"
	echo "$t0 $(date +%s%N)" | awk '{ printf "%.3f\n", ($2 - $1) / 1e9 }'
}

# drop_tenant ID: the tenant and its rows gone, and vacuumed away
drop_tenant() {
	psql -X -q -v ON_ERROR_STOP=1 -c "DELETE FROM scim.tenant WHERE id = '$1'" \
		-c 'VACUUM scim.users, scim.groups, scim.group_members, scim.event'
}

: > "$work/import.copy" > "$work/import.import" > "$work/import.raw"
for r in $(seq "$runs"); do
	printf 'TRUNCATE scim_bench.import_copy;\n' > "$work/import_truncate.sql"
	psql -X -q -f "$work/import_truncate.sql"
	printf '%s\n' "$copy" > "$work/import_copy.sql"
	timed "$work/import_copy.sql" >> "$work/import.copy"

	t=$(psql -X -At -c "SELECT scim.create_tenant('bench import $r')")
	batches "SELECT count(*) FILTER (WHERE id IS NULL) FROM scim.import('$t', 'User',
		ARRAY(SELECT data FROM scim_bench.users WHERE id > \$lo AND id <= \$hi ORDER BY id));" > "$work/import_calls.sql"
	timed "$work/import_calls.sql" >> "$work/import.import"
	imported=$(psql -X -At -c "SELECT count(*) FROM scim.users WHERE tenant = '$t'")
	refused=$(awk '{ s += $1 } END { print s + 0 }' "$work/import_calls.sql.out")
	if [ "$imported" != "$rows" ] || [ "$refused" != 0 ]; then
		echo "import: $imported of $rows users imported, $refused refused" >&2
		exit 1
	fi
	drop_tenant "$t"

	t=$(psql -X -At -c "SELECT scim.create_tenant('bench import raw $r')")
	batches "INSERT INTO scim.users (tenant, id, data) SELECT '$t', (data->>'id')::uuid, data
		FROM scim_bench.users WHERE id > \$lo AND id <= \$hi ORDER BY id;" > "$work/import_raw.sql"
	timed "$work/import_raw.sql" >> "$work/import.raw"
	drop_tenant "$t"
	echo "round $r: COPY $(tail -1 "$work/import.copy") s, import $(tail -1 "$work/import.import") s, raw INSERT $(tail -1 "$work/import.raw") s"
done
psql -X -q -c 'DROP TABLE scim_bench.import_copy'
rm -f "$file"

c=$(median < "$work/import.copy")
i=$(median < "$work/import.import")
w=$(median < "$work/import.raw")
echo "$rows $batch $c $i $w" | awk '{
	printf "SUMMARY import: %d users in calls of %d: %.0f users/s, %.2fx the COPY (%.1f s against %.1f s; target <= 3x: %s); the raw INSERT into scim.users %.1f s, %.2fx the COPY, and the import %.2fx it\n",
		$1, $2, $1 / $4, $4 / $3, $4, $3, ($4 / $3 <= 3) ? "met" : "NOT met", $5, $5 / $3, $4 / $5
}'
