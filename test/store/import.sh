#!/bin/sh
# import.sh: an application's 10,000 users brought into a tenant with
# scim.import(), then an identity provider's first cycle that finds them.
#
# Runs inside a throwaway cluster (test/run.sh calls it under
# pg_virtualenv).  The application's table holds 10,000 users, some of
# which SCIM refuses: no email (userName is required), an email another
# user has in other case (userNames are unique case-insensitively), an
# "active" that is no boolean.  With stop_on_error the first of them
# raises and nothing is written; without, in four calls of 2,500 (each its
# own transaction, as an import commits in batches), every other user is
# imported with the application's id, each refused one answered with its
# scimType, and each call logs one event.  The application's departments
# become groups of the users imported.  Then an Entra ID-style cycle over
# 1,000 users of the directory, through scim.handle(): GET
# /Users?filter=userName eq "..." (every fifth by externalId), then PATCH
# the user found, or POST when none is: it finds every imported user and
# creates only the ones the import refused.  Prints TAP lines, and "#"
# lines with what came instead.
set -eu
cd "$(dirname "$0")/../.."
. test/tap.sh

q() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

q -o /dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
DROP TABLE IF EXISTS app_users, app_results;
-- the application's own users: its ids, emails as logins, departments
CREATE TABLE app_users (n int PRIMARY KEY, id uuid NOT NULL UNIQUE, email text, first text, last text,
	active text, dept text);
INSERT INTO app_users
SELECT i, md5('app user ' || i)::uuid,
	CASE WHEN i % 500 = 7 THEN NULL                                   -- no email: 20 users
		 WHEN i % 500 = 11 THEN 'USER' || (i - 1) || '@EXAMPLE.COM'   -- another's email: 20 users
		 ELSE 'user' || i || '@example.com' END,
	(ARRAY['Ann', 'Bob', 'Cid', 'Dee', 'Eve'])[1 + i % 5], 'Family' || i % 97,
	CASE WHEN i % 1000 = 13 THEN 'perhaps' ELSE (i % 10 <> 0)::text END,   -- no boolean: 10 users
	'Dept ' || i % 50
FROM generate_series(1, 10000) i;
CREATE TABLE app_results (batch int, ordinality int, id uuid, scim_type text, detail text);
CREATE TABLE app_conf AS SELECT scim.create_tenant('import') AS tenant;
CREATE TABLE app_conf_token AS SELECT jsonb_build_object('authorization', 'Bearer ' || scim.create_token(tenant)) AS h
FROM app_conf;
-- a user as the application would write it as SCIM
CREATE FUNCTION app_doc(u app_users) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object('id', u.id, 'userName', u.email, 'externalId', 'app-' || u.n,
		'name', jsonb_build_object('givenName', u.first, 'familyName', u.last),
		'displayName', u.first || ' ' || u.last, 'active', CASE WHEN u.active IN ('true', 'false') THEN to_jsonb(u.active::boolean) ELSE to_jsonb(u.active) END,
		'emails', CASE WHEN u.email IS NOT NULL THEN jsonb_build_array(jsonb_build_object('value', u.email, 'type', 'work', 'primary', true)) END,
		'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object('department', u.dept)))
$$;
SQL

# ---- stop_on_error: the first refused user raises, nothing is written ----
got=$(q -c "SELECT count(*) FROM app_conf c, scim.import(c.tenant, 'User', ARRAY(SELECT app_doc(u) FROM app_users u ORDER BY n), true)" 2>&1 || true)
same "stop_on_error raises the first refused user (n = 7)" "$(printf '%s' "$got" | head -2 | paste -sd ' ')" \
	"ERROR:  userName is required DETAIL:  Document 7 of 10000 failed; nothing was imported."
same "stop_on_error wrote nothing" "$(q -c 'SELECT count(*) FROM scim.users u, app_conf c WHERE u.tenant = c.tenant')" "0"
same "stop_on_error logged nothing" "$(q -c "SELECT count(*) FROM scim.event e, app_conf c WHERE e.tenant = c.tenant")" "0"

# ---- four calls of 2,500, each committed -------------------------------------
start=$(date +%s%N)
for b in 0 1 2 3; do
	q -c "INSERT INTO app_results SELECT $b, r.* FROM app_conf c,
		scim.import(c.tenant, 'User', ARRAY(SELECT app_doc(u) FROM app_users u WHERE u.n > $b * 2500 AND u.n <= ($b + 1) * 2500 ORDER BY n)) r"
done
echo "# 10,000 users imported in $((($(date +%s%N) - start) / 1000000)) ms"
same "every user answered" "$(q -c 'SELECT count(*) FROM app_results')" "10000"
same "the refused: scimType and detail" "$(q -c "SELECT string_agg(format('%s %s %s', scim_type, count, detail), '; ' ORDER BY scim_type, detail) FROM (SELECT scim_type, regexp_replace(detail, '\"[^\"]*\"', '\"…\"') AS detail, count(*) FROM app_results WHERE id IS NULL GROUP BY 1, 2) s")" \
	'invalidValue 10 attribute "…" must be a boolean; invalidValue 20 userName is required; uniqueness 20 a User with userName "…" already exists'
same "each refused user is the one its answer names" "$(q -c "SELECT count(*) FROM app_results r JOIN app_users u ON u.n = r.batch * 2500 + r.ordinality WHERE r.id IS NULL AND NOT (u.n % 500 IN (7, 11) OR u.n % 1000 = 13)")" "0"
same "imported with the application's ids" "$(q -c "SELECT count(*) FROM app_results r JOIN app_users u ON u.n = r.batch * 2500 + r.ordinality WHERE r.id = u.id")" "9950"
same "in the store as the tenant's" "$(q -c 'SELECT count(*) FROM scim.users u, app_conf c WHERE u.tenant = c.tenant')" "9950"
same "stored as POST stores: canonical, the enterprise extension listed" "$(q -c "SELECT count(*) FROM scim.users u, app_conf c WHERE u.tenant = c.tenant AND u.data->'schemas' = '[\"urn:ietf:params:scim:schemas:core:2.0:User\", \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"]' AND u.data->'meta'->>'version' = 'W/\"1\"' AND u.data->>'id' = u.id::text")" "9950"
same "one event per call, with its counts" "$(q -c "SELECT string_agg(e.detail, '; ' ORDER BY e.at) FROM scim.event e, app_conf c WHERE e.tenant = c.tenant AND e.kind = 'imported'")" \
	"imported 2487, failed 13; imported 2488, failed 12; imported 2487, failed 13; imported 2488, failed 12"

# ---- the departments as groups, members the users imported -------------------
same "groups with their members, stop_on_error" "$(q -c "SELECT count(*) FILTER (WHERE r.id IS NOT NULL) FROM app_conf c, scim.import(c.tenant, 'Group', ARRAY(
	SELECT jsonb_build_object('displayName', u.dept, 'externalId', 'dept-' || u.dept, 'members', jsonb_agg(jsonb_build_object('value', u.id) ORDER BY u.n))
	FROM app_users u JOIN app_results r ON r.id = u.id GROUP BY u.dept ORDER BY u.dept), true) r")" "50"
same "memberships, one per user imported" "$(q -c 'SELECT count(*) FROM scim.group_members m, app_conf c WHERE m.tenant = c.tenant')" "9950"

# ---- an Entra ID-style first cycle over 1,000 users of the directory ---------
# The directory has each user once, by email (its userName); users the
# application had twice, or without an email, are there under their own.
q -o /dev/null <<'SQL'
CREATE TABLE entra (n int PRIMARY KEY, upn text NOT NULL, ext text NOT NULL, found int, status int, op text);
INSERT INTO entra SELECT n, coalesce(CASE WHEN n % 500 <> 11 THEN email END, 'user' || n || '@example.com'), 'app-' || n
FROM app_users WHERE n % 10 = 3 OR n % 500 IN (7, 11) OR n % 1000 = 13;
CREATE FUNCTION entra_cycle() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	e entra;
	h jsonb := (SELECT t.h FROM app_conf_token t);
	g scim.response;
	r scim.response;
	id text;
BEGIN
	FOR e IN SELECT * FROM entra ORDER BY n LOOP
		-- every fifth matched by externalId, the others by userName
		g := scim.handle('GET', '/Users', CASE WHEN e.n % 50 = 3 THEN format('filter=externalId+eq+%%22%s%%22', e.ext)
			ELSE format('filter=userName+eq+%%22%s%%22', e.upn) END, h, NULL);
		IF (g.body->>'totalResults')::int = 1 THEN
			id := g.body#>>'{Resources,0,id}';
			r := scim.handle('PATCH', '/Users/' || id, NULL, h, format('{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations": [{"op": "Replace", "path": "displayName", "value": "Synced %s"},
					{"op": "Replace", "path": "active", "value": "True"},
					{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "%s"},
					{"op": "Replace", "path": "externalId", "value": "%s"}]}', e.n, e.upn, e.ext));
			UPDATE entra SET found = 1, status = r.status, op = 'PATCH' WHERE n = e.n;
		ELSE
			r := scim.handle('POST', '/Users', NULL, h, jsonb_build_object('userName', e.upn, 'externalId', e.ext,
				'active', true, 'displayName', 'Synced ' || e.n,
				'emails', jsonb_build_array(jsonb_build_object('value', e.upn, 'type', 'work', 'primary', true)))::text);
			UPDATE entra SET found = (g.body->>'totalResults')::int, status = r.status, op = 'POST' WHERE n = e.n;
		END IF;
	END LOOP;
END
$$;
SELECT entra_cycle();
SQL
same "the cycle: each user found and patched, or created" "$(q -c "SELECT string_agg(format('%s %s %s', op, status, count), '; ' ORDER BY op) FROM (SELECT op, status, count(*) FROM entra GROUP BY 1, 2) s")" \
	"PATCH 200 990; POST 201 50"
same "created only the users the import refused" "$(q -c "SELECT count(*) FROM entra WHERE op = 'POST' AND NOT (n % 500 IN (7, 11) OR n % 1000 = 13)")" "0"
same "no user twice" "$(q -c "SELECT count(*) FROM (SELECT lower(u.data->>'userName') FROM scim.users u, app_conf c WHERE u.tenant = c.tenant GROUP BY 1 HAVING count(*) > 1) d")" "0"
same "the tenant's users: the imported and the created" "$(q -c 'SELECT count(*) FROM scim.users u, app_conf c WHERE u.tenant = c.tenant')" "10000"
same "the patched keep their ids, groups and versions" "$(q -c "SELECT count(*) FROM entra e JOIN app_users a ON a.n = e.n JOIN scim.users u ON u.id = a.id JOIN app_conf c ON c.tenant = u.tenant WHERE e.op = 'PATCH' AND u.version = 2 AND u.data->>'displayName' = 'Synced ' || e.n AND EXISTS (SELECT 1 FROM scim.group_members m WHERE m.tenant = c.tenant AND m.value = a.id::text)")" \
	"$(q -c "SELECT count(*) FROM entra WHERE op = 'PATCH'")"

[ "$failed" -eq 0 ]
