-- scim.matches on single resources, and its agreement with scim.filter_sql
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE TEMP TABLE users (id int PRIMARY KEY, data jsonb NOT NULL);
INSERT INTO users VALUES
(1, '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "id":"2819c223-7f76-453a-919d-413861904646","externalId":"bjensen","userName":"BJensen",
  "name":{"formatted":"Ms. Barbara J Jensen III","familyName":"O''Malley","givenName":"Barbara"},
  "displayName":"Babs Jensen","title":"Tour Guide","userType":"Employee","active":true,
  "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
  "ims":[{"value":"someaimhandle","type":"aim"}],
  "meta":{"resourceType":"User","created":"2010-01-23T04:56:22Z","lastModified":"2011-05-13T04:42:34Z","version":"W/\"3694e05e9dff591\""},
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations",
    "manager":{"value":"26118915-6090-4610-87e4-49d8ca9f808d","displayName":"John Smith"}}}'),
(2, '{"id":"2","userName":"jsmith","userType":"Intern","active":false,"title":"",
  "emails":[{"value":"JSmith@Example.ORG","type":"home"}],
  "meta":{"created":"2012-01-01T00:00:00+02:00","lastModified":"2013-06-01T12:00:00.5Z"}}'),
(3, '{"id":"3","userName":"Zoë","externalId":"Z-3","emails":[],"name":{},
  "ims":[{"value":"zoe@foo.com","type":"xmpp"}],"active":"True"}'),
(4, '{"id":"4","userName":5,"emails":"not-an-array","title":null,"name":[],"meta":{"created":"garbage"}}'),
(5, '{}'),
(6, '[1, 2, 3]');

CREATE FUNCTION pg_temp.check(f text, rt text DEFAULT 'User') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	by_sql int[];
	by_eval int[];
BEGIN
	EXECUTE 'SELECT coalesce(array_agg(id ORDER BY id), ''{}'') FROM users WHERE ' || scim.filter_sql(f, rt)
		INTO by_sql;
	SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO by_eval FROM users WHERE scim.matches(data, f, rt);
	IF by_sql IS DISTINCT FROM by_eval THEN
		RETURN format('DISAGREE sql=%s matches=%s', by_sql, by_eval);
	END IF;
	RETURN by_sql::text;
END $$;

SELECT f AS filter, pg_temp.check(f) AS ids FROM unnest(ARRAY[
	'userName eq "bjensen"',
	'userName Eq "BJENSEN"',
	'externalId eq "BJENSEN"',
	'externalId eq "bjensen"',
	'name.familyName co "O''Malley"',
	'userName sw "J"',
	'userName sw "b"',
	'userName ew "SEN"',
	'userName eq "zoë"',
	'userName eq "ZOË"',
	'userName gt "c"',
	'userName lt "c"',
	'title pr',
	'not (title pr)',
	'title eq null',
	'title ne null',
	'nickName ne "x"',
	'meta.lastModified gt "2011-05-13T04:42:34Z"',
	'meta.lastModified ge "2011-05-13T04:42:34Z"',
	'meta.lastModified ge "2011-05-13T06:42:34+02:00"',
	'meta.created lt "2012-01-01T00:00:00Z"',
	'meta.created eq "2011-12-31T22:00:00Z"',
	'title pr and userType eq "Employee"',
	'title pr or userType eq "Intern"',
	'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
	'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
	'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
	'userType eq "Employee" and (emails.type eq "work")',
	'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
	'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
	'emails[type eq "home" and value co "@example.com"]',
	'emails.type eq "home" and emails.value co "@example.com"',
	'emails[type eq "work"].value eq "BJensen@Example.com"',
	'emails pr',
	'emails.value pr',
	'name pr',
	'name[givenName eq "barbara"]',
	'name[not (givenName eq "x")]',
	'active eq true',
	'active eq "True"',
	'active ne true',
	'active eq false',
	'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"',
	'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"',
	'id eq "2819c223-7f76-453a-919d-413861904646" and manager eq "26118915-6090-4610-87e4-49d8ca9f808d"',
	'userName eq "5"',
	'userName co "%"',
	'userName co "_"'
]) AS f;

-- a resource that is not an object matches nothing, and NULL is NULL
SELECT scim.matches('"x"', 'userName eq "x"'), scim.matches('null', 'userName pr'),
	   scim.matches(NULL, 'userName pr') IS NULL AS strict;
-- errors are the filter_sql errors
SELECT scim.matches('{}', 'userName eq');
SELECT scim.matches('{}', 'foo pr');
SELECT scim.matches('{}', 'userName pr', 'Widget');
-- a statement with several filters caches each call site separately
SELECT id, scim.matches(data, 'userName sw "b"') AS a, scim.matches(data, 'userName sw "j"') AS b
FROM users WHERE id <= 3 ORDER BY id;
-- the filter may change from row to row
SELECT id, scim.matches(data, CASE WHEN id % 2 = 0 THEN 'active eq false' ELSE 'active eq true' END)
FROM users WHERE id <= 3 ORDER BY id;
