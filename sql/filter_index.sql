-- eq on the lookup attributes is an index scan at 100,000 rows
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE TABLE idx_users (pk bigint PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO idx_users
SELECT i, jsonb_build_object(
	'id', md5(i::text),
	'externalId', 'ext-' || i,
	'userName', 'User' || i || '@Example.com',
	'active', i % 7 <> 0,
	'emails', jsonb_build_array(
		jsonb_build_object('type', 'work', 'value', 'user' || i || '@example.com', 'primary', true),
		jsonb_build_object('type', 'home', 'value', 'u' || i || '@home.example'))) ||
	CASE WHEN i % 3 = 0 THEN '{"title":"Engineer"}'::jsonb ELSE '{}'::jsonb END
FROM generate_series(1, 100000) i;

SELECT * FROM scim.index_ddl('idx_users') \gexec
ANALYZE idx_users;

CREATE FUNCTION pg_temp.plan(f text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) SELECT pk FROM idx_users WHERE ' || scim.filter_sql(f);
END $$;
CREATE FUNCTION pg_temp.hits(f text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM idx_users WHERE ' || scim.filter_sql(f) INTO n;
	RETURN n;
END $$;

SET enable_seqscan = on;
SELECT pg_temp.plan('userName eq "USER4242@example.com"');
SELECT pg_temp.plan('externalId eq "ext-4242"');
SELECT pg_temp.plan('id eq "' || md5('4242') || '"');
SELECT pg_temp.plan('emails.value eq "user4242@EXAMPLE.com"');
SELECT pg_temp.plan('emails[type eq "work"].value eq "user4242@example.com"');
SELECT pg_temp.plan('userName eq "user4242@example.com" and active eq true');

-- and they find the right rows
SELECT pg_temp.hits('userName eq "USER4242@example.com"'),
	   pg_temp.hits('externalId eq "ext-4242"'),
	   pg_temp.hits('id eq "' || md5('4242') || '"'),
	   pg_temp.hits('emails.value eq "user4242@EXAMPLE.com"'),
	   pg_temp.hits('emails[type eq "work"].value eq "user4242@example.com"'),
	   pg_temp.hits('emails[type eq "home"].value eq "user4242@example.com"');

-- no sequential scan anywhere in those plans
SELECT count(*) AS seq_scans FROM unnest(ARRAY[
	'userName eq "x"', 'externalId eq "x"', 'id eq "x"', 'emails.value eq "x"',
	'emails[type eq "work"].value eq "x"']) f, pg_temp.plan(f) p
WHERE p LIKE '%Seq Scan%';

DROP TABLE idx_users;
