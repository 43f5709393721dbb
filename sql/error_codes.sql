-- scim.error_codes() is the one table of the errors a request can be
-- answered with: each SQLSTATE with its scimType and HTTP status.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

SELECT * FROM scim.error_codes();

-- Every SQLSTATE of the extension's classes (S and a letter) that a C or SQL
-- source under src/ writes, by file (test/sqlstates.sh greps them), is in
-- the table: none is raised that scim.error_codes() and the README do not show.
CREATE TEMP TABLE raised (file text, sqlstate text);
\copy raised FROM PROGRAM 'sh test/sqlstates.sh raised'
SELECT count(*) > 0 AS found_some FROM raised;
SELECT r.file, r.sqlstate AS not_in_table FROM raised r
WHERE r.sqlstate NOT IN (SELECT c.sqlstate FROM scim.error_codes() c) ORDER BY 1, 2;

-- The README's table is the table, row for row.
CREATE TEMP TABLE readme (scim_type text, sqlstate text, http_status int);
\copy readme FROM PROGRAM 'sh test/sqlstates.sh readme'
(SELECT 'README only' AS "where", * FROM readme
 EXCEPT SELECT 'README only', coalesce(c.scim_type, ''), c.sqlstate, c.http_status FROM scim.error_codes() c)
UNION ALL
(SELECT 'table only', coalesce(c.scim_type, ''), c.sqlstate, c.http_status FROM scim.error_codes() c
 EXCEPT SELECT 'table only', * FROM readme)
ORDER BY 1, 3;

-- Each SQLSTATE names one error, and an SH code's status is in its last
-- three characters (what a caller without the table reads).
SELECT count(*) = count(DISTINCT sqlstate) AS distinct_sqlstates FROM scim.error_codes();
SELECT c.sqlstate AS status_differs FROM scim.error_codes() c
WHERE c.sqlstate LIKE 'SH%' AND substr(c.sqlstate, 3)::int <> c.http_status;
