#!/bin/sh
# bench/store.sh: scim.handle() on the store at scale, under pgbench.
#
# Normally run by bench/run.sh after bench/http.sh, which has loaded the
# users into the store under one tenant (tables http_conf and http_ids).
# Adds 10,000 groups: "Group 1" with 100,000 members, the others with 10.
# Then, each side a pgbench -M prepared run, sides alternating, medians:
#   1. GET /Users?filter=userName eq "..." and ?filter=externalId eq "..."
#      through scim.handle() against the raw indexed SELECT of the same row
#      (cost = raw TPS / handle TPS);
#   2. GET /Groups?filter=displayName eq "..."&excludedAttributes=members
#      against the raw indexed SELECT of the same group;
#   2b. PATCH /Users/{id} with Entra ID's three replaces (displayName,
#      active, the work email), values that change on every request, against
#      a raw UPDATE of the same row with the same effect;
#   3. a page of 100 users: the first page, startIndex=900001 (or 90% of the
#      way in on smaller tables), the first cursor page, and the cursor page
#      at the same depth (cost = first-page TPS / other TPS);
#   4. adding one member to the 100,000-member group against adding one to
#      a 10-member group, each inside a transaction that is rolled back, so
#      that the groups keep their sizes (cost = small TPS / big TPS).
# Prints the figures and SUMMARY lines with the ratios.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

reps=${BENCH_PGBENCH_REPS:-5}
secs=${BENCH_PGBENCH_T:-15}
work=${WORK:-$(mktemp -d)}
big=${BENCH_BIG_GROUP:-100000}

rows=$(psql -X -At -c 'SELECT count(*) FROM http_ids')
if [ "$big" -ge "$rows" ]; then
	big=$((rows / 2))
fi
depth=$((rows * 9 / 10))
[ "$rows" -ge 1000000 ] && depth=900000

echo "== store: 10,000 groups, one of $big members, the others of 10"
psql -X -q -At -v ON_ERROR_STOP=1 -v big="$big" -v depth="$depth" <<'SQL'
SET client_min_messages = warning;
DELETE FROM scim.groups WHERE tenant = (SELECT tenant FROM http_conf);
DROP TABLE IF EXISTS store_groups, store_conf;
CREATE TABLE store_groups (n integer PRIMARY KEY, id uuid NOT NULL);
INSERT INTO store_groups SELECT n, gen_random_uuid() FROM generate_series(1, 10000) n;
INSERT INTO scim.groups (tenant, id, data)
SELECT c.tenant, g.id, jsonb_build_object(
	'schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group'),
	'id', g.id::text, 'displayName', 'Group ' || g.n, 'externalId', 'grp-' || g.n,
	'meta', jsonb_build_object('resourceType', 'Group', 'created', '2026-01-01T00:00:00Z',
							   'lastModified', '2026-01-01T00:00:00Z', 'version', 'W/"1"'))
FROM store_groups g, http_conf c;
-- group 1: users 1..big; group k > 1: ten users from a window that moves with k
INSERT INTO scim.group_members (tenant, group_id, value, type)
SELECT c.tenant, g.id, i.id::text, 'User'
FROM store_groups g JOIN http_ids i ON g.n = 1 AND i.n <= :big, http_conf c;
INSERT INTO scim.group_members (tenant, group_id, value, type)
SELECT c.tenant, g.id, i.id::text, 'User'
FROM store_groups g JOIN http_ids i ON g.n > 1 AND i.n BETWEEN g.n * 10 AND g.n * 10 + 9, http_conf c;
VACUUM (ANALYZE) scim.groups, scim.group_members;
ANALYZE store_groups;
-- the nextCursor after the first depth users, as a client paging by cursor gets it
CREATE FUNCTION pg_temp.deep_cursor(depth int, h jsonb) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
	cur text := '';
	n int := depth;
BEGIN
	WHILE n > 0 LOOP
		cur := (scim.handle('GET', '/Users', 'count=' || least(n, 1000) || '&cursor=' || cur, h, NULL)).body->>'nextCursor';
		n := n - least(n, 1000);
	END LOOP;
	RETURN cur;
END
$f$;
-- what the pgbench scripts read, so that JSON never meets pgbench's :variables
CREATE TABLE store_conf AS
SELECT c.tenant,
	pg_temp.deep_cursor(:depth, jsonb_build_object('authorization', 'Bearer ' || c.token)) AS deep_cursor,
	'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], '
	'"Operations": [{"op": "add", "path": "members", "value": [{"value": "' AS body_head,
	'"}]}]}' AS body_tail,
	(SELECT id FROM store_groups WHERE n = 1) AS big_group,
	(SELECT id FROM store_groups WHERE n = 2) AS small_group
FROM http_conf c;
-- PATCH bodies, a thousand of them, so that every request writes
DROP TABLE IF EXISTS store_bodies;
CREATE TABLE store_bodies (k integer PRIMARY KEY, body text NOT NULL);
INSERT INTO store_bodies
SELECT k, format('{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":['
	'{"op":"Replace","path":"displayName","value":"Name %s"},{"op":"Replace","path":"active","value":"%s"},'
	'{"op":"Replace","path":"emails[type eq \"work\"].value","value":"%s@example.com"}]}',
	k, CASE WHEN k % 2 = 0 THEN 'True' ELSE 'False' END, k)
FROM generate_series(1, 1000) k;
SELECT '   members: ' || string_agg(format('%s has %s', g.data->>'displayName', m.k), ', ')
FROM (SELECT group_id, count(*) k FROM scim.group_members
	  WHERE group_id IN (SELECT big_group FROM store_conf UNION SELECT small_group FROM store_conf)
	  GROUP BY group_id) m JOIN scim.groups g ON g.id = m.group_id;
SQL

tenant=$(psql -X -At -c 'SELECT tenant FROM store_conf')
big_group=$(psql -X -At -c 'SELECT big_group FROM store_conf')
small_group=$(psql -X -At -c 'SELECT small_group FROM store_conf')
# the headers as a literal, as the HTTP layer passes them: no lookup on the handle side only
h="'{\"authorization\": \"Bearer $(psql -X -At -c 'SELECT token FROM http_conf')\"}'::jsonb"

script() {	# script NAME LINE...
	name=$1
	shift
	printf '%s\n' "$@" > "$work/store_$name.sql"
}
script un_handle "\\set n random(1, $rows)" \
	"SELECT status FROM scim.handle('GET', '/Users', 'filter=userName%20eq%20%22user' || :n || '%22', $h, NULL);"
script un_raw "\\set n random(1, $rows)" \
	"SELECT data FROM scim.users WHERE tenant = '$tenant' AND scim.key_lower(data, 'userName') = lower('user' || :n);"
script patch_handle "\\set n random(1, $rows)" "\\set k random(1, 1000)" \
	"SELECT status FROM scim.handle('PATCH', '/Users/' || (SELECT id FROM http_ids WHERE n = :n), NULL, $h, (SELECT body FROM store_bodies WHERE k = :k));"
script patch_raw "\\set n random(1, $rows)" "\\set k random(1, 1000)" \
	"UPDATE scim.users SET data = jsonb_set(jsonb_set(jsonb_set(data, '{displayName}', to_jsonb('Name ' || :k::text)), '{active}', to_jsonb(:k::integer % 2 = 0)), '{emails,0,value}', to_jsonb(:k::text || '@example.com')), version = version + 1, last_modified = now() WHERE tenant = '$tenant' AND id = (SELECT id FROM http_ids WHERE n = :n);"
script ext_handle "\\set n random(1, $rows)" \
	"SELECT status FROM scim.handle('GET', '/Users', 'filter=externalId%20eq%20%22ext-' || lpad(:n::text, 8, '0') || '%22', $h, NULL);"
script ext_raw "\\set n random(1, $rows)" \
	"SELECT data FROM scim.users WHERE tenant = '$tenant' AND data->>'externalId' = 'ext-' || lpad(:n::text, 8, '0');"
script grp_handle "\\set n random(1, 10000)" \
	"SELECT status FROM scim.handle('GET', '/Groups', 'filter=displayName%20eq%20%22Group%20' || :n || '%22&excludedAttributes=members', $h, NULL);"
script grp_raw "\\set n random(1, 10000)" \
	"SELECT data FROM scim.groups WHERE tenant = '$tenant' AND lower(data->>'displayName') = lower('Group ' || :n);"
script page_first \
	"SELECT status FROM scim.handle('GET', '/Users', 'count=100', $h, NULL);"
script page_deep \
	"SELECT status FROM scim.handle('GET', '/Users', 'startIndex=$((depth + 1))&count=100', $h, NULL);"
script cursor_first \
	"SELECT status FROM scim.handle('GET', '/Users', 'count=100&cursor=', $h, NULL);"
script cursor_deep \
	"SELECT status FROM scim.handle('GET', '/Users', 'count=100&cursor=' || (SELECT deep_cursor FROM store_conf), $h, NULL);"
for g in big small; do
	[ $g = big ] && gid=$big_group || gid=$small_group
	script "add_$g" "\\set n random($((big + 1)), $rows)" 'BEGIN;' \
		"SELECT status FROM scim.handle('PATCH', '/Groups/$gid', NULL, $h,
			(SELECT body_head FROM store_conf) || (SELECT id::text FROM http_ids WHERE n = :n) || (SELECT body_tail FROM store_conf));" \
		'ROLLBACK;'
done

# Every script must run, and every request must answer what it should, before
# anything is timed: a 4xx would be fast and wrong.
for s in "$work"/store_*.sql; do
	st=$(pgbench -n -M prepared -t 1 -f "$s" 2>&1 >/dev/null | grep -i error || true)
	[ -z "$st" ] || { echo "store: $s fails: $st" >&2; exit 1; }
done
checks=$(psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
SELECT 'userName eq: ' || ((scim.handle('GET', '/Users', 'filter=userName%20eq%20%22user1%22', $h, NULL)).body->>'totalResults');
SELECT 'PATCH: ' || (scim.handle('PATCH', '/Users/' || (SELECT id FROM http_ids WHERE n = 1), NULL, $h, (SELECT body FROM store_bodies WHERE k = 7))).status;
SELECT 'externalId eq: ' || ((scim.handle('GET', '/Users', 'filter=externalId%20eq%20%22ext-00000001%22', $h, NULL)).body->>'totalResults');
SELECT 'displayName eq: ' || ((scim.handle('GET', '/Groups', 'filter=displayName%20eq%20%22Group%201%22&excludedAttributes=members', $h, NULL)).body->>'totalResults');
SELECT 'deep page: ' || jsonb_array_length((scim.handle('GET', '/Users', 'startIndex=$((depth + 1))&count=100', $h, NULL)).body->'Resources');
SELECT 'cursor page: ' || jsonb_array_length((scim.handle('GET', '/Users', 'count=100&cursor=' || (SELECT deep_cursor FROM store_conf), $h, NULL)).body->'Resources');
BEGIN;
SELECT 'add to big group: ' || (scim.handle('PATCH', '/Groups/$big_group', NULL, $h,
	(SELECT body_head FROM store_conf) || (SELECT id::text FROM http_ids WHERE n = $rows) || (SELECT body_tail FROM store_conf))).status;
SELECT 'big group now: ' || count(*) FROM scim.group_members WHERE group_id = '$big_group';
ROLLBACK;
SQL
)
want="userName eq: 1
PATCH: 200
externalId eq: 1
displayName eq: 1
deep page: 100
cursor page: 100
add to big group: 204
big group now: $((big + 1))"
if [ "$checks" != "$want" ]; then
	printf 'store: the requests do not answer as they should; got:\n%s\nwanted:\n%s\n' "$checks" "$want" >&2
	exit 1
fi
echo "$checks" | sed 's/^/   checked: /'

# measure A B: alternate the two scripts $reps times; prints "medianA medianB"
measure() {
	: > "$work/store_$1.tps"
	: > "$work/store_$2.tps"
	i=1
	while [ $i -le "$reps" ]; do
		a=$(pgbench_tps 1 "$work/store_$1.sql" "$secs")
		b=$(pgbench_tps 1 "$work/store_$2.sql" "$secs")
		echo "   $1 $a tps, $2 $b tps (run $i)" >&2
		echo "$a" >> "$work/store_$1.tps"
		echo "$b" >> "$work/store_$2.tps"
		i=$((i + 1))
	done
	echo "$(median < "$work/store_$1.tps") $(median < "$work/store_$2.tps")"
}

echo "== store: pgbench -M prepared, 1 client, ${secs}s runs, $reps alternating runs per pair"
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure un_handle un_raw)
echo "$1 $2" | awk '{ printf "SUMMARY GET /Users?filter=userName eq: handle %.0f tps, raw SELECT %.0f tps, cost %.2fx (target <= 2x: %s)\n",
	$1, $2, $2 / $1, ($2 / $1 <= 2) ? "met" : "MISSED" }'
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure ext_handle ext_raw)
echo "$1 $2" | awk '{ printf "SUMMARY GET /Users?filter=externalId eq: handle %.0f tps, raw SELECT %.0f tps, cost %.2fx (target <= 2x: %s)\n",
	$1, $2, $2 / $1, ($2 / $1 <= 2) ? "met" : "MISSED" }'
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure grp_handle grp_raw)
echo "$1 $2" | awk '{ printf "SUMMARY GET /Groups?filter=displayName eq&excludedAttributes=members: handle %.0f tps, raw SELECT %.0f tps, cost %.2fx (target <= 2x: %s)\n",
	$1, $2, $2 / $1, ($2 / $1 <= 2) ? "met" : "MISSED" }'
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure page_first page_deep)
first=$1
deep=$2
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure cursor_first cursor_deep)
echo "$first $deep $1 $2 $((depth + 1))" | awk '{
	printf "SUMMARY 100 users a page: first page %.1f tps; startIndex=%d %.1f tps (%.2fx the first page); first cursor page %.1f tps; cursor at the same depth %.1f tps (%.2fx the first page, target <= 1.5x: %s)\n",
		$1, $5, $2, $1 / $2, $3, $4, $1 / $4, ($1 / $4 <= 1.5) ? "met" : "MISSED" }'
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure add_small add_big)
echo "$1 $2" | awk -v big="$big" '{ printf "SUMMARY add one member: to a 10-member group %.0f tps, to a %d-member group %.0f tps, cost %.2fx (target <= 2x: %s)\n",
	$1, big, $2, $1 / $2, ($1 / $2 <= 2) ? "met" : "MISSED" }'
# last: the updates clear visibility-map bits that the page scans above rely on
# shellcheck disable=SC2046  # two numbers, split on purpose into $1 and $2
set -- $(measure patch_handle patch_raw)
echo "$1 $2" | awk '{ printf "SUMMARY PATCH /Users/{id}, three replaces: handle %.0f tps, raw UPDATE %.0f tps, cost %.2fx (target <= 1.5x: %s)\n",
	$1, $2, $2 / $1, ($2 / $1 <= 1.5) ? "met" : "MISSED" }'
