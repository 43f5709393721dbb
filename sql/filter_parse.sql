-- scim.filter: grammar, canonical form and syntax errors (RFC 7644 §3.4.2.2)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

-- every filter example of RFC 7644 §3.4.2.2, in canonical form
SELECT 'userName Eq "john"'::scim.filter;
SELECT 'Username eq "john"'::scim.filter;
SELECT 'userName eq "bjensen"'::scim.filter;
SELECT 'name.familyName co "O''Malley"'::scim.filter;
SELECT 'userName sw "J"'::scim.filter;
SELECT 'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"'::scim.filter;
SELECT 'title pr'::scim.filter;
SELECT 'meta.lastModified gt "2011-05-13T04:42:34Z"'::scim.filter;
SELECT 'meta.lastModified ge "2011-05-13T04:42:34Z"'::scim.filter;
SELECT 'meta.lastModified lt "2011-05-13T04:42:34Z"'::scim.filter;
SELECT 'meta.lastModified le "2011-05-13T04:42:34Z"'::scim.filter;
SELECT 'title pr and userType eq "Employee"'::scim.filter;
SELECT 'title pr or userType eq "Intern"'::scim.filter;
SELECT 'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"'::scim.filter;
SELECT 'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")'::scim.filter;
SELECT 'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")'::scim.filter;
SELECT 'userType eq "Employee" and (emails.type eq "work")'::scim.filter;
SELECT 'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]'::scim.filter;
SELECT 'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]'::scim.filter;

-- keywords in any case, not( and not (, precedence not > and > or
SELECT 'a pr AND b pr OR c pr'::scim.filter;
SELECT 'a pr and (b pr or c pr)'::scim.filter;
SELECT 'NOT(a pr) Or not  (b pr)'::scim.filter;
SELECT 'not (a pr and b pr)'::scim.filter;
SELECT '((((a pr))))'::scim.filter;
SELECT '  userName   eq   "x"  '::scim.filter;
SELECT 'a eq 1 or (b eq 2 or c eq 3)'::scim.filter;

-- literals: escapes, numbers, booleans, null
SELECT 'userName eq "tab\there \"quoted\" back\\slash \u00e9 \ud83d\ude00 \/"'::scim.filter;
SELECT 'x eq -0.5e-3 and y eq 42 and z eq 1E2'::scim.filter;
SELECT 'active eq TRUE or active eq False or title eq NULL'::scim.filter;

-- Entra ID's value path followed by a sub-attribute
SELECT 'emails[type eq "work"].value eq "user@contoso.com"'::scim.filter;
SELECT 'emails[type eq "work" or type eq "home"].value pr'::scim.filter;

-- the canonical form is a fixed point, and casts to text for free
SELECT f::text, f::text::scim.filter::text = f::text AS stable
FROM (VALUES ('userName Eq "x" AND NOT(title pr)'::scim.filter)) v(f);

-- syntax errors: the token, the character, what was expected
SELECT 'userName eq'::scim.filter;
SELECT 'userName equals "x"'::scim.filter;
SELECT 'userName eq bjensen'::scim.filter;
SELECT 'externalId eq jyoung'::scim.filter;
SELECT 'userName eq "x'::scim.filter;
SELECT '(userName eq "x"'::scim.filter;
SELECT 'userName eq "x")'::scim.filter;
SELECT 'userName eq "x" xor title pr'::scim.filter;
SELECT 'not title pr'::scim.filter;
SELECT 'title pr and'::scim.filter;
SELECT 'emails[type eq "work"'::scim.filter;
SELECT 'emails[value[x eq 1]]'::scim.filter;
SELECT 'emails[urn:x:y eq 1]'::scim.filter;
SELECT 'name.familyName[x eq 1]'::scim.filter;
SELECT 'userName regex "x"'::scim.filter;
SELECT 'userName eq "\u0000"'::scim.filter;
SELECT 'userName eq "\ud800"'::scim.filter;
SELECT 'userName eq "\x"'::scim.filter;
SELECT E'userName eq "a\tb"'::scim.filter;
SELECT 'userName eq 01'::scim.filter;
SELECT 'userName eq 1e99999'::scim.filter;
SELECT ''::scim.filter;
SELECT '   '::scim.filter;
SELECT '1abc eq "x"'::scim.filter;
SELECT 'a..b eq "x"'::scim.filter;
SELECT 'a.b.c eq "x"'::scim.filter;
SELECT 'urn:ietf:params:scim:schemas:core:2.0:User: eq "x"'::scim.filter;
SELECT 'us$er eq "x"'::scim.filter;
SELECT repeat('(', 101) || 'a pr' || repeat(')', 101) AS f \gset
SELECT :'f'::scim.filter;
SELECT repeat('a', 70000)::scim.filter;

-- errors carry SQLSTATE SC001 (invalidFilter, HTTP 400)
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE;
END $$;
SELECT pg_temp.sqlstate_of($$SELECT 'userName eq'::scim.filter$$);
SELECT s.scim_type, s.http_status FROM scim.error_codes() s WHERE s.sqlstate = 'SC001';
SELECT count(*) AS codes, count(DISTINCT sqlstate) AS distinct_sqlstates FROM scim.error_codes();

-- a column of filters, e.g. saved searches
CREATE TEMP TABLE saved (f scim.filter);
INSERT INTO saved VALUES ('title pr'), ('userName EQ "a"');
SELECT f FROM saved ORDER BY f::text;
INSERT INTO saved VALUES ('title');
