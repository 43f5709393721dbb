-- A read-only transaction, as every transaction on a hot standby is
-- (RecoveryInProgress() makes it so; test/store/standby.sh runs the same
-- on a real one): requests that read are answered as on the primary, and
-- so are their failures, whose "failed" events cannot be written there
-- and are skipped.  A write cannot be made: 503, for the client to retry (at the primary).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT scim.create_tenant('Read-only') AS tenant \gset
SELECT jsonb_build_object('authorization', 'Bearer ' || scim.create_token(:'tenant')) AS auth \gset
SELECT (scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "ro@example.com"}')).body->>'id' AS uid \gset
SELECT count(*) AS events FROM scim.event WHERE tenant = :'tenant' \gset

BEGIN TRANSACTION READ ONLY;
-- reads
SELECT status, body->>'userName' AS user_name FROM scim.handle('GET', '/Users/' || :'uid', NULL, :'auth', NULL);
SELECT status, body->'totalResults' AS total FROM scim.handle('GET', '/Users', 'filter=userName%20eq%20%22ro@example.com%22', :'auth', NULL);
SELECT status, body->'totalResults' AS total FROM scim.handle('POST', '/Users/.search', NULL, :'auth', '{"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}');
-- failures, answered with their Error documents
SELECT status, body->>'detail' AS detail FROM scim.handle('GET', '/Users/00000000-0000-0000-0000-000000000000', NULL, :'auth', NULL);
SELECT status, body->>'scimType' AS scim_type FROM scim.handle('GET', '/Users', 'filter=nosuch%20eq%20%22x%22', :'auth', NULL);
SELECT status, body::jsonb->>'detail' AS detail FROM scim.handle_text('GET', '/Groups/not-a-uuid', NULL, :'auth', NULL);
SELECT status, body->>'detail' AS detail FROM scim.handle('GET', '/Schemas/urn:nosuch', NULL, :'auth', NULL);
SELECT status FROM scim.handle('GET', '/Me', NULL, :'auth', NULL);
SELECT status FROM scim.handle('DELETE', '/ServiceProviderConfig', NULL, :'auth', NULL);
SELECT status FROM scim.handle('GET', '/Users', NULL, '{"authorization": "Bearer scim_nope"}', NULL);
COMMIT;
-- none of them logged an event
SELECT count(*) - :events AS new_events FROM scim.event WHERE tenant = :'tenant';

-- as a standby's sessions are: every transaction read-only
SET default_transaction_read_only = on;
SELECT status, body->>'detail' AS detail FROM scim.handle('GET', '/Users/00000000-0000-0000-0000-000000000000', NULL, :'auth', NULL);
SELECT status, body->>'detail' AS detail FROM scim.handle('POST', '/Users', NULL, :'auth', '{"userName": "ro2@example.com"}');
RESET default_transaction_read_only;
SELECT count(*) - :events AS new_events FROM scim.event WHERE tenant = :'tenant';
-- and on the primary again, a failure's event is written
SELECT status FROM scim.handle('GET', '/Users/00000000-0000-0000-0000-000000000000', NULL, :'auth', NULL);
SELECT kind, status, operation FROM scim.event WHERE tenant = :'tenant' ORDER BY at DESC, id DESC LIMIT 1;
