#!/bin/sh
# bench/tenants.sh: does a request cost more when the store holds many
# tenants?  Instructions per call, counted by callgrind as
# bench/instructions.sh counts (bench/lib.sh's ins_per_call), of
#   GET /Users?filter=userName eq "..."  and
#   PATCH /Users/{id} with Entra ID's three replaces (new values every call),
# through scim.handle_text() as scim-server calls it, as scim_server, in
# three ways over the same generated users (bench/users.sql's):
#   one     one tenant of N users (BENCH_ROWS), a random user each call;
#   many    T tenants (BENCH_TENANTS, default 1,000) of N / T users each, a
#           random user each call, so nearly every call is another
#           tenant's: the worst case for what a backend keeps per tenant
#           (tokens, tenants' limits and whether a tenant has memberships,
#           src/pg/cache.c);
#   cycle   the same T tenants, 50 calls to one tenant, a random user of
#           it each, then the next: how an identity provider's
#           provisioning cycle arrives.
# Each counted run comes after T warm-up calls (INS_WARM), in "many" one
# to each tenant in turn: what is counted is a backend that has served
# them all, as scim-server's long-lived connections have, not one
# meeting most tenants for the first time.
# Both layouts are in the store at once (2 N users), so that every way
# reads the same table and indexes: what differs is only how the rows are
# spread over tenants and which tenant each call is for.  Each call reads
# its user and headers from a table of calls (the same statement shape for
# every way).
#
# Needs bench/run.sh's throwaway cluster (OWN_CLUSTER=1, PGDATA_DIR,
# SERVER_USER) and its users table; bench/run.sh runs it as part
# "tenants".  BENCH_TENANTS must divide BENCH_ROWS.
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh

n1=${BENCH_INS_N1:-200}
n2=${BENCH_INS_N2:-1200}
tenants=${BENCH_TENANTS:-1000}
warm=$tenants
burst=50
work=${WORK:-$(mktemp -d)}
ins_can_run tenants || exit 0

rows=$(psql -X -At -c 'SELECT count(*) FROM scim_bench.users')
per=$((rows / tenants))
if [ "$per" -lt 1 ] || [ $((per * tenants)) -ne "$rows" ]; then
	echo "tenants: BENCH_TENANTS=$tenants does not divide the $rows users" >&2
	exit 1
fi

echo "== tenants: 1 tenant of $rows users and $tenants tenants of $per users, in one store"
psql -X -q -v ON_ERROR_STOP=1 -f src/server/server_role.sql
psql -X -q -v ON_ERROR_STOP=1 -v tenants="$tenants" -v rows="$rows" -v calls="$((warm + n2))" -v warm="$warm" \
	-v burst="$burst" <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS scim_bench.tn_tenants, scim_bench.tn_ids, scim_bench.tn_calls;
-- layout one: tenant k = 0 holds every user; layout many: user n is tenant (n - 1) % T's
CREATE TABLE scim_bench.tn_tenants (layout text, k int, tenant uuid NOT NULL, hdrs jsonb, PRIMARY KEY (layout, k));
INSERT INTO scim_bench.tn_tenants (layout, k, tenant)
SELECT l, k, scim.create_tenant('bench tenants ' || l || ' ' || k)
FROM (VALUES ('one', 1), ('many', :tenants)) v(l, t), generate_series(0, t - 1) k;
UPDATE scim_bench.tn_tenants SET hdrs = jsonb_build_object('host', '127.0.0.1:8080',
	'authorization', 'Bearer ' || scim.create_token(tenant), 'x-scim-base-path', '/scim/v2',
	'content-type', 'application/scim+json');
CREATE TABLE scim_bench.tn_ids (layout text, n bigint, id uuid NOT NULL, PRIMARY KEY (layout, n));
INSERT INTO scim_bench.tn_ids SELECT l, u.id, gen_random_uuid() FROM scim_bench.users u, unnest(ARRAY['one', 'many']) l;
INSERT INTO scim.users (tenant, id, data)
SELECT t.tenant, i.id, u.data || jsonb_build_object('id', i.id::text)
FROM scim_bench.users u
JOIN scim_bench.tn_ids i ON i.n = u.id
JOIN scim_bench.tn_tenants t ON t.layout = i.layout AND t.k = CASE i.layout WHEN 'one' THEN 0 ELSE (i.n - 1) % :tenants END;
-- call c of each way: its user (n) and tenant (k); "many" warms up with one call to each tenant
CREATE TABLE scim_bench.tn_calls (way text, call int, user_name text NOT NULL, id uuid NOT NULL, hdrs jsonb NOT NULL,
	PRIMARY KEY (way, call));
\o /dev/null
SELECT setseed(0.23);
\o
WITH c AS (
	SELECT 'one' AS way, 'one' AS layout, c, 1 + floor(random() * :rows)::bigint AS n FROM generate_series(0, :calls - 1) c
	UNION ALL
	SELECT 'many', 'many', c, CASE WHEN c < :warm THEN c % :tenants + :tenants * floor(random() * (:rows / :tenants))::bigint + 1
		ELSE 1 + floor(random() * :rows)::bigint END
	FROM generate_series(0, :calls - 1) c
	UNION ALL
	SELECT 'cycle', 'many', c, (c / :burst) % :tenants + :tenants * floor(random() * (:rows / :tenants))::bigint + 1
	FROM generate_series(0, :calls - 1) c)
INSERT INTO scim_bench.tn_calls
SELECT c.way, c.c, u.data->>'userName', i.id, t.hdrs
FROM c
JOIN scim_bench.users u ON u.id = c.n
JOIN scim_bench.tn_ids i ON i.layout = c.layout AND i.n = c.n
JOIN scim_bench.tn_tenants t ON t.layout = c.layout AND t.k = CASE c.layout WHEN 'one' THEN 0 ELSE (c.n - 1) % :tenants END;
VACUUM (ANALYZE) scim.users, scim.tenant, scim.token;
ANALYZE scim_bench.tn_calls;
GRANT USAGE ON SCHEMA scim_bench TO scim_server;
GRANT SELECT ON scim_bench.tn_calls TO scim_server;
-- what each way's calls reach
SELECT way, count(*) AS calls, count(DISTINCT hdrs) AS tenants FROM scim_bench.tn_calls GROUP BY way ORDER BY way;
SQL

db=$(psql -X -At -c 'SELECT current_database()')
INS_ROWS=$rows INS_DB=$db INS_WORK=$work INS_N1=$n1 INS_N2=$n2 INS_WARM=$warm
calls="scim_bench.tn_calls c"
get="SELECT h.status, h.headers, h.body FROM $calls, scim.handle_text('GET', '/Users', 'filter=userName%20eq%20%22' || c.user_name || '%22', c.hdrs, NULL) h WHERE c.way = 'WAY' AND c.call = \$2"
patch="SELECT h.status, h.headers, h.body FROM $calls, scim.handle_text('PATCH', '/Users/' || c.id, '', c.hdrs, '{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"Replace\",\"path\":\"displayName\",\"value\":\"Name ' || \$2 || 'TAG\"},{\"op\":\"Replace\",\"path\":\"active\",\"value\":\"' || CASE WHEN \$2 % 2 = 0 THEN 'True' ELSE 'False' END || '\"},{\"op\":\"Replace\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"' || \$2 || 'TAG@example.com\"}]}') h WHERE c.way = 'WAY' AND c.call = \$2"

# answered NAME PATTERN: every call of NAME's second run printed PATTERN
# (a lookup that found nobody, or a token refused, would cost less)
answered() {
	_n=$(grep -c "$2" "$work/ins.$1.2.out" || true)
	[ "$_n" = $((warm + n2)) ] || { echo "tenants: $1: $_n of $((warm + n2)) calls answered $2" >&2; exit 1; }
}

e0=$(events)
as_server pg_ctl -D "$PGDATA_DIR" -m fast -w stop >/dev/null
run=$(date +%s)
for way in one many cycle; do
	g=$(ins_per_call "tn_get_$way" "$(printf '%s' "$get" | sed "s/WAY/$way/")" "g$way$run" scim_server)
	p=$(ins_per_call "tn_patch_$way" "$(printf '%s' "$patch" | sed "s/WAY/$way/")" "p$way$run" scim_server)
	answered "tn_get_$way" '"totalResults": 1[,}]'
	answered "tn_patch_$way" 'status = "200"'
	eval "get_$way=$g patch_$way=$p"
done
as_server pg_ctl -D "$PGDATA_DIR" -l "$work/server.log" -w start >/dev/null
# every PATCH must have written (one event each): one that changed nothing,
# or failed, would not be a write's figure
wrote=$(($(events) - e0))
[ "$wrote" = $((3 * (2 * warm + n1 + n2))) ] ||
	{ echo "tenants: $((3 * (2 * warm + n1 + n2))) PATCHes through scim.handle_text() but $wrote events" >&2; exit 1; }

printf 'GET by userName: one tenant of %d users %d instructions a call; %d tenants of %d users, another tenant each call %d, %d calls a tenant in turn %d\n' \
	"$rows" "$get_one" "$tenants" "$per" "$get_many" "$burst" "$get_cycle"
printf 'PATCH: one tenant %d instructions a call; %d tenants, another tenant each call %d, %d calls a tenant in turn %d\n' \
	"$patch_one" "$tenants" "$patch_many" "$burst" "$patch_cycle"
awk -v r="$rows" -v t="$tenants" -v p="$per" -v b="$burst" -v g1="$get_one" -v gm="$get_many" -v gc="$get_cycle" \
	-v p1="$patch_one" -v pm="$patch_many" -v pc="$patch_cycle" 'BEGIN {
	printf "SUMMARY tenants (scim.handle_text() as scim_server; %d tenants x %d users against 1 x %d, in one store): GET by userName %.3fx with %d calls a tenant in turn (%d against %d a call), %.3fx with another tenant each call (%d); PATCH %.3fx (%d against %d), %.3fx (%d)\n",
		t, p, r, gc / g1, b, gc, g1, gm / g1, gm, pc / p1, pc, p1, pm / p1, pm
}'
