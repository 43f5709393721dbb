-- bench/patch.sql: scim.patch() per call, against jsonb_set doing the same
-- three changes, over :n users of about 2 kB (psql -v n=N -v runs=R).
-- Prints per-run timings and a SUMMARY line.
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;
SET jit = off;

-- 2 kB users: the generated ones plus what Entra ID provisions on top
DROP TABLE IF EXISTS patch_users;
CREATE TABLE patch_users AS
SELECT id, data || jsonb_build_object(
	'preferredLanguage', 'en-US', 'locale', 'en-US', 'timezone', 'Europe/Berlin', 'userType', 'Employee',
	'phoneNumbers', jsonb_build_array(jsonb_build_object('type', 'work', 'value', '+1 555 0100 ' || id),
									  jsonb_build_object('type', 'mobile', 'value', '+1 555 0199 ' || id)),
	'addresses', jsonb_build_array(jsonb_build_object('type', 'work', 'streetAddress', id || ' Main Street',
		'locality', 'Springfield', 'region', 'IL', 'postalCode', '62701', 'country', 'US', 'primary', true,
		'formatted', id || ' Main Street, Springfield, IL 62701, US')),
	'roles', jsonb_build_array(jsonb_build_object('value', 'Reader', 'display', 'Reader', 'primary', false),
							   jsonb_build_object('value', 'Recognition User', 'display', 'Recognition User', 'primary', false)),
	'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object(
		'employeeNumber', id::text, 'costCenter', 'CC-' || (id % 100), 'organization', 'Example Corp',
		'division', 'Research and Development', 'department', 'Tour Operations',
		'manager', jsonb_build_object('value', md5(id::text)::uuid::text, 'displayName', 'Manager of ' || id)),
	'x-notes', repeat('provisioned by the identity provider; ', 16)) AS data
FROM users WHERE id <= :n;
ALTER TABLE patch_users ADD PRIMARY KEY (id);
VACUUM (ANALYZE) patch_users;
SELECT 'DOCSIZE ' || round(avg(pg_column_size(data))) || ' bytes stored, ' || round(avg(length(data::text))) || ' bytes as text'
FROM patch_users;

-- the request: Entra ID's three operations, and the same changes by hand
CREATE TEMP TABLE req AS SELECT $${"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
  "Operations": [{"op": "Replace", "path": "displayName", "value": "New Name"},
                 {"op": "Replace", "path": "active", "value": "False"},
                 {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new.address@example.com"}]}$$::jsonb AS p;

-- check that both sides do the same thing before timing them
SELECT 'SAME ' || bool_and(scim.patch(u.data, r.p) = jsonb_set(jsonb_set(jsonb_set(u.data,
		'{displayName}', '"New Name"'), '{active}', 'false'), '{emails,0,value}', '"new.address@example.com"'))
FROM patch_users u, req r WHERE u.id <= 1000;

CREATE TEMP TABLE timing (side text, run int, ms float8);
DO $$
DECLARE
	t0 timestamptz;
	n bigint;
BEGIN
	FOR run IN 1 .. current_setting('bench.runs')::int LOOP
		t0 := clock_timestamp();
		SELECT count(scim.patch(u.data, r.p)) INTO n FROM patch_users u, req r;
		INSERT INTO timing VALUES ('scim.patch', run, extract(epoch FROM clock_timestamp() - t0) * 1000);
		t0 := clock_timestamp();
		SELECT count(jsonb_set(jsonb_set(jsonb_set(u.data, '{displayName}', '"New Name"'), '{active}', 'false'),
							   '{emails,0,value}', '"new.address@example.com"')) INTO n FROM patch_users u;
		INSERT INTO timing VALUES ('jsonb_set', run, extract(epoch FROM clock_timestamp() - t0) * 1000);
		-- what both sides pay before changing anything: reading and decompressing the row
		t0 := clock_timestamp();
		SELECT count(u.data->'schemas') INTO n FROM patch_users u;
		INSERT INTO timing VALUES ('read', run, extract(epoch FROM clock_timestamp() - t0) * 1000);
	END LOOP;
END $$;
SELECT side, run, round(ms::numeric, 1) AS ms FROM timing ORDER BY run, side;
WITH m AS (SELECT side, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timing GROUP BY side)
SELECT format('SUMMARY per call, %s users of the size above: scim.patch %s us, jsonb_set x3 %s us, ratio %s; '
			  'of each, reading the row is %s us (scim.patch without it: %s us)',
			  (SELECT count(*) FROM patch_users),
			  round((s.ms * 1000 / (SELECT count(*) FROM patch_users))::numeric, 2),
			  round((j.ms * 1000 / (SELECT count(*) FROM patch_users))::numeric, 2),
			  round((s.ms / j.ms)::numeric, 2),
			  round((r.ms * 1000 / (SELECT count(*) FROM patch_users))::numeric, 2),
			  round(((s.ms - r.ms) * 1000 / (SELECT count(*) FROM patch_users))::numeric, 2))
FROM m s, m j, m r WHERE s.side = 'scim.patch' AND j.side = 'jsonb_set' AND r.side = 'read';
