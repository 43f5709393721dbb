-- scim.filter_sql: SQL that means exactly what the filter means, always quoted
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

-- caseExact=false strings fold with lower() on both sides; caseExact=true do not
SELECT scim.filter_sql('userName eq "bjensen"');
SELECT scim.filter_sql('USERNAME EQ "BJensen"');
SELECT scim.filter_sql('externalId eq "bjensen"');
SELECT scim.filter_sql('id eq "2819c223-7f76-453a-919d-413861904646"');
SELECT scim.filter_sql('name.familyName co "O''Malley"');
SELECT scim.filter_sql('userName sw "J"');
SELECT scim.filter_sql('userName ew "sen"');
SELECT scim.filter_sql('userName gt "m"');
SELECT scim.filter_sql('externalId le "m"');
-- LIKE wildcards and backslashes in values are escaped
SELECT scim.filter_sql('userName co "100%_\\"');
SELECT scim.filter_sql('displayName eq "back\\slash"');
-- ne and not are two-valued: an absent attribute never yields NULL
SELECT scim.filter_sql('userName ne "x"');
SELECT scim.filter_sql('not (title pr)');
-- presence, and null comparisons
SELECT scim.filter_sql('title pr');
SELECT scim.filter_sql('title eq null');
SELECT scim.filter_sql('title ne null');
SELECT scim.filter_sql('emails pr');
-- booleans (also Entra's "True"/"False" strings), dateTime as instants
SELECT scim.filter_sql('active eq true');
SELECT scim.filter_sql('active ne "False"');
SELECT scim.filter_sql('meta.lastModified gt "2011-05-13T04:42:34Z"');
SELECT scim.filter_sql('meta.created le "2011-05-13T06:42:34.250+02:00"');
-- multi-valued: any element; implicit value; same element inside brackets
SELECT scim.filter_sql('emails co "example.com"');
SELECT scim.filter_sql('emails.value eq "bjensen@example.com"');
SELECT scim.filter_sql('emails.type ne "work"');
SELECT scim.filter_sql('emails[type eq "work" and value co "@example.com"]');
SELECT scim.filter_sql('emails[type eq "work"].value eq "bjensen@example.com"');
SELECT scim.filter_sql('emails[not (primary eq true)]');
SELECT scim.filter_sql('schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"');
SELECT scim.filter_sql('name[givenName eq "Barbara"]');
-- schema URNs: core and extension, longest known URN wins
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1234567"');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915"');
SELECT scim.filter_sql('URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "1"');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:core:2.0:User:id eq "1"');
SELECT scim.filter_sql('employeeNumber eq "1"');
SELECT scim.filter_sql('manager eq "26118915"');
-- groups
SELECT scim.filter_sql('displayName eq "Sales"', 'Group');
SELECT scim.filter_sql('members[value eq "2819c223"]', 'group');
SELECT scim.filter_sql('members.value eq "2819c223"', 'Group');
-- the data column: quoted, optionally qualified
SELECT scim.filter_sql('title pr', 'User', 'u.data');
SELECT scim.filter_sql('title pr', 'User', '"My Data"');
SELECT scim.filter_sql('title pr', 'User', 'public.users.doc');
SELECT scim.filter_sql('title pr', 'User', 'data; DROP TABLE x');
SELECT scim.filter_sql('title pr', 'User', 'a.b.c.d');
-- hostile values stay inside one literal
SELECT scim.filter_sql('userName eq "x''); DROP TABLE users; --"');
SELECT scim.filter_sql('userName eq "\u0027 OR 1=1 --"');
SELECT scim.filter_sql('displayName eq "$$ || pg_sleep(1) || $$"');
SELECT scim.filter_sql('title eq "/* comment */"');
-- resolution errors: unknown attributes and unsupported combinations
SELECT scim.filter_sql('foo eq "x"');
SELECT scim.filter_sql('userName.foo eq "x"');
SELECT scim.filter_sql('name.foo eq "x"');
SELECT scim.filter_sql('emails[foo eq "x"]');
SELECT scim.filter_sql('userName[value eq "x"]');
SELECT scim.filter_sql('urn:ietf:params:scim:schemas:extension:nope:2.0:User:x eq "1"');
SELECT scim.filter_sql('active gt true');
SELECT scim.filter_sql('active co "t"');
SELECT scim.filter_sql('active eq "yes"');
SELECT scim.filter_sql('x509Certificates.value lt "MII"');
SELECT scim.filter_sql('userName eq 42');
SELECT scim.filter_sql('userName gt true');
SELECT scim.filter_sql('meta.created gt "yesterday"');
SELECT scim.filter_sql('meta.created co "2011"');
SELECT scim.filter_sql('name eq "x"');
SELECT scim.filter_sql('userName sw null');
SELECT scim.filter_sql('displayName eq "x"', 'Widget');
SELECT scim.filter_sql('userName eq "x"', 'Group');
-- the output is one expression PostgreSQL accepts, for each of these
CREATE TEMP TABLE t (data jsonb);
DO $$
DECLARE
	f text;
BEGIN
	FOREACH f IN ARRAY ARRAY[
		'userName eq "a"', 'emails[type eq "work"].value eq "b"', 'not (title pr)',
		'meta.lastModified gt "2011-05-13T04:42:34Z"', 'active eq true or userName co "%"',
		'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"',
		'userName eq "x''); DROP TABLE t; --"']
	LOOP
		EXECUTE 'SELECT count(*) FROM t WHERE ' || scim.filter_sql(f);
	END LOOP;
END $$;
SELECT count(*) FROM t;
-- STRICT: NULL in, NULL out
SELECT scim.filter_sql(NULL) IS NULL AS strict;
