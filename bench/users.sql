-- bench/users.sql: the benchmark table, users(id, data jsonb), with :rows
-- generated SCIM 2.0 User resources (psql -v rows=N -f bench/users.sql).
--
-- Each document is 450-600 bytes and looks like what an IdP provisions:
-- userName "User<n>" in mixed case, externalId, name, displayName, active
-- (10% inactive), a work and a home email (work addresses spread over four
-- domains, some in mixed case; every fifth home address is also at
-- example.com, so that emails[type eq "work" and ...] must look at the
-- element's type), title for a third of the users, and meta.
SET client_min_messages = warning;
DROP TABLE IF EXISTS users;
CREATE TABLE users (id bigserial PRIMARY KEY, data jsonb NOT NULL);

INSERT INTO users (data)
SELECT jsonb_strip_nulls(jsonb_build_object(
	'schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
	'id', md5('user' || i)::uuid::text,
	'externalId', 'ext-' || lpad(i::text, 8, '0'),
	'userName', 'User' || i,
	'name', jsonb_build_object('givenName', g, 'familyName', f),
	'displayName', g || ' ' || f,
	'active', i % 10 <> 0,
	'title', CASE i % 3 WHEN 0 THEN (ARRAY['Engineer', 'Senior Engineer', 'Manager',
		'Director', 'Analyst', 'Designer', 'Tour Guide'])[1 + i % 7] END,
	'emails', jsonb_build_array(
		jsonb_build_object('value', CASE WHEN i % 7 = 0 THEN initcap(lower(g)) || '.' || f
										 ELSE lower(g) || '.' || lower(f) END
									|| i || '@' || (ARRAY['example.com', 'example.org',
										'corp.example.net', 'Example.COM'])[1 + i % 4],
						   'type', 'work', 'primary', true),
		jsonb_build_object('value', lower(g) || i || '@' ||
									CASE WHEN i % 5 = 0 THEN 'example.com' ELSE 'home.example.net' END,
						   'type', 'home')),
	'meta', jsonb_build_object(
		'resourceType', 'User',
		'created', to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
		'lastModified', to_char(ts + (i % 1000) * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))))
FROM (SELECT i,
			 (ARRAY['Barbara', 'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer',
					'Michael', 'Linda', 'David', 'Elizabeth', 'William', 'Susan', 'Richard',
					'Jessica', 'Joseph', 'Sarah', 'Thomas', 'Karen', 'Charles'])[1 + i % 20] AS g,
			 (ARRAY['Jensen', 'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia',
					'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez',
					'Gonzalez', 'Wilson', 'Anderson', 'Taylor', 'Moore', 'Jackson',
					'Martin', 'Lee', 'Perez', 'Thompson'])[1 + (i / 20) % 23] AS f,
			 timestamptz '2020-01-01 00:00:00+00' + (i % 100000) * interval '17 minutes' AS ts
	  FROM generate_series(1, :rows) AS i) AS s;

VACUUM (ANALYZE) users;

SELECT count(*) AS users,
	   pg_size_pretty(pg_table_size('users')) AS table_size,
	   min(pg_column_size(data)) AS min_doc_bytes,
	   round(avg(pg_column_size(data))) AS avg_doc_bytes,
	   max(pg_column_size(data)) AS max_doc_bytes,
	   min(octet_length(data::text)) AS min_text_bytes,
	   max(octet_length(data::text)) AS max_text_bytes
FROM users;
