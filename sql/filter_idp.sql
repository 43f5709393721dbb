-- the filters identity providers send (conformance §2), end to end on a table
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE TEMP TABLE users (data jsonb NOT NULL);
INSERT INTO users VALUES
('{"id":"u1","externalId":"00aa","userName":"Alice@Contoso.com","active":true,
  "emails":[{"type":"work","value":"alice@contoso.com","primary":true},{"type":"home","value":"alice@home.net"}],
  "roles":[{"primary":true,"value":"Admin","displayName":"Admin"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1234567","manager":{"value":"u2"}}}'),
('{"id":"u2","externalId":"00bb","userName":"bob@contoso.com","active":false,
  "emails":[{"type":"home","value":"alice@contoso.com"}]}');
CREATE TEMP TABLE groups (data jsonb NOT NULL);
INSERT INTO groups VALUES
('{"id":"g1","displayName":"Sales","externalId":"ext-g1","members":[{"value":"u1"},{"value":"u2"}]}'),
('{"id":"g2","displayName":"Sales EMEA","members":[]}');

CREATE FUNCTION pg_temp.ids(f text, rt text DEFAULT 'User') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r text;
	e text;
BEGIN
	EXECUTE format('SELECT coalesce(string_agg(data->>''id'', '','' ORDER BY data->>''id''), ''(none)'') FROM %I WHERE %s',
				   CASE WHEN lower(rt) = 'group' THEN 'groups' ELSE 'users' END, scim.filter_sql(f, rt))
		INTO r;
	EXECUTE format('SELECT coalesce(string_agg(data->>''id'', '','' ORDER BY data->>''id''), ''(none)'') FROM %I WHERE scim.matches(data, $1, $2)',
				   CASE WHEN lower(rt) = 'group' THEN 'groups' ELSE 'users' END)
		INTO e USING f, rt;
	IF r IS DISTINCT FROM e THEN
		RETURN 'DISAGREE ' || r || ' / ' || e;
	END IF;
	RETURN r;
END $$;

-- Entra ID: Test Connection queries a random userName and expects no match
SELECT pg_temp.ids('userName eq "8b3f6c1e-13c8-4f2b-9e0c-5d9d2c43a0aa"');
-- Entra ID: matching users by userName (any case) and externalId
SELECT pg_temp.ids('userName eq "alice@contoso.com"');
SELECT pg_temp.ids('externalId eq "00aa"');
-- Entra ID: work email as the matching attribute (E-TUT "/Users")
SELECT pg_temp.ids('emails[type eq "work"].value eq "alice@contoso.com"');
-- Entra ID: URN-qualified extension attribute
SELECT pg_temp.ids('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "1234567"');
-- Entra ID: manager reference check (E-TUT Example 4)
SELECT pg_temp.ids('id eq "u1" and manager eq "u2"');
SELECT pg_temp.ids('id eq "u1" and manager eq "u3"');
-- Entra ID: SingleAppRoleAssignment reads roles[primary eq "True"] (stored booleans are canonical)
SELECT pg_temp.ids('roles[primary eq "True"].value eq "Admin"');
-- Entra ID: group lookup by displayName (sent with excludedAttributes=members)
SELECT pg_temp.ids('displayName eq "Sales"', 'Group');
SELECT pg_temp.ids('displayName eq "sales"', 'Group');
-- Okta: lookup by userName with paging parameters elsewhere; always eq
SELECT pg_temp.ids('userName eq "BOB@contoso.com"');
-- Okta: group push matching by displayName, membership check
SELECT pg_temp.ids('displayName eq "Sales EMEA"', 'Group');
SELECT pg_temp.ids('members[value eq "u2"]', 'Group');
SELECT pg_temp.ids('members.value eq "u2"', 'Group');
-- Google Workspace: suspended users are active=false
SELECT pg_temp.ids('active eq false');
SELECT pg_temp.ids('active eq "False"');
-- the unquoted value in Entra's documentation is refused with a hint
SELECT scim.filter_sql('externalId eq jyoung');
