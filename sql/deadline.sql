-- deadline: every scim.handle() call ends within scim.request_timeout (or
-- its tenant's request_timeout), canceled with query_canceled, having
-- written nothing
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Slow') AS slow \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'slow')) AS auth \gset
-- a write that takes a second: a trigger of the table owner's
CREATE FUNCTION pg_temp.dawdle() RETURNS trigger LANGUAGE plpgsql
	AS $$ BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$;
CREATE TRIGGER dawdle BEFORE INSERT ON scim.users FOR EACH ROW
	WHEN (NEW.data->>'userName' LIKE 'slow%') EXECUTE FUNCTION pg_temp.dawdle();
-- a tenant with many users, for a filter that reads them all
INSERT INTO scim.users (tenant, data)
SELECT :'slow', jsonb_build_object('userName', 'user' || i || '@slow.example', 'displayName', 'User ' || i,
	'emails', jsonb_build_array(jsonb_build_object('value', 'user' || i || '@slow.example', 'type', 'work')))
FROM generate_series(1, 30000) i;
SELECT 'filter=' || string_agg(format('displayName co "zz%s" or emails.value co "qq%s"', i, i), ' or ') AS slow_filter
FROM generate_series(1, 25) i \gset

SHOW scim.request_timeout;
SET scim.request_timeout = '300ms';
-- a slow write: canceled at the deadline, nothing written
SELECT clock_timestamp() AS t0 \gset
SELECT status FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "slow1@slow.example"}');
SELECT clock_timestamp() - :'t0' < interval '900 ms' AS within_deadline;
SELECT count(*) AS written FROM scim.users WHERE data->>'userName' = 'slow1@slow.example';
-- a filter that reads every user of the tenant: canceled at the deadline
SELECT clock_timestamp() AS t0 \gset
SELECT status FROM scim.handle('GET', '/Users', :'slow_filter', :'auth', NULL);
SELECT clock_timestamp() - :'t0' < interval '900 ms' AS within_deadline;
-- the same in a savepoint: the caller's transaction goes on, and so does the next call
BEGIN;
SAVEPOINT request;
SELECT status FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "slow2@slow.example"}');
ROLLBACK TO SAVEPOINT request;
SELECT status FROM scim.handle('GET', '/Users', 'filter=userName eq "user7@slow.example"', :'auth', NULL);
SELECT pg_sleep(0.4);
SELECT 1 AS not_canceled_later;
COMMIT;
-- a tenant given more time: its slow write completes
UPDATE scim.tenant SET request_timeout = '5s' WHERE id = :'slow';
SELECT status FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "slow3@slow.example"}');
SELECT count(*) AS written FROM scim.users WHERE data->>'userName' = 'slow3@slow.example';
-- and less again
UPDATE scim.tenant SET request_timeout = '100ms' WHERE id = :'slow';
RESET scim.request_timeout;
SELECT status FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "slow4@slow.example"}');
-- a superuser acting for the tenant by hand is under no call's deadline
BEGIN;
SELECT scim._act_for(:'slow') IS NOT NULL AS acting;
SELECT pg_sleep(0.3);
SELECT 1 AS not_canceled;
COMMIT;
UPDATE scim.tenant SET request_timeout = NULL WHERE id = :'slow';
-- a tenant's own deadline is bounded and positive
\set VERBOSITY terse
UPDATE scim.tenant SET request_timeout = '0' WHERE id = :'slow';
UPDATE scim.tenant SET request_timeout = '2 hours' WHERE id = :'slow';
\set VERBOSITY default
-- 0 is no deadline: the slow write completes
SET scim.request_timeout = 0;
SELECT status FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "slow5@slow.example"}');
RESET scim.request_timeout;
DROP TRIGGER dawdle ON scim.users;
DELETE FROM scim.users WHERE tenant = :'slow';
