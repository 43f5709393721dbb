-- tenant_keys: the tenant leads every primary key, unique constraint and
-- unique index of the store, and every other index and foreign key between
-- the store's per-tenant tables, so that the store can be distributed by
-- tenant (Citus: a unique index of a distributed table must hold its
-- distribution column, and a foreign key between two must join on it) and
-- one tenant's requests are answered from one tenant's index ranges.
--
-- Read from the catalog for every table of the extension, so that a new
-- table, index or key that breaks the rule shows here.  The tables that are
-- not per tenant are listed below, each with why; they stay whole on every
-- node (Citus reference tables, README "Scaling out").
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS scim;
RESET client_min_messages;

CREATE TEMP TABLE not_per_tenant (name text PRIMARY KEY, why text NOT NULL);
INSERT INTO not_per_tenant VALUES
	('tenant', 'the tenants themselves: its id is the tenant, which users, groups and tokens refer to'),
	('token', 'looked up by the hash of a bearer token before its tenant is known (token_hash_idx)'),
	('secret', 'one row: the database''s key that signs cursors'),
	('schema', 'the schema registry, shared by every tenant'),
	('resource_type', 'the schema registry, shared by every tenant'),
	('resource_type_extension', 'the schema registry, shared by every tenant'),
	('common_attributes', 'the schema registry, shared by every tenant'),
	('change_pruned', 'one row: how far scim.prune_events() has pruned the change feed of every tenant');

-- Indexes of per-tenant tables that may not lead with the tenant, each with why.
CREATE TEMP TABLE index_exception (name text PRIMARY KEY, why text NOT NULL);
INSERT INTO index_exception VALUES
	('users_emails_idx', 'GIN over the emails'' values, with no place for the tenant; not unique, '
	 'and each lookup through it also names the tenant'),
	('change_order_idx', 'the change feed of every tenant in its order (pos, seq); not unique, and '
	 'one tenant''s feed is read from the primary key, which leads with the tenant');

-- The extension's tables, and the ones of them that are per tenant.
CREATE TEMP VIEW store AS
	SELECT c.oid, c.relname, n.name IS NULL AS per_tenant
	FROM pg_class c
	JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
		AND d.refclassid = 'pg_extension'::regclass
		AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'scim')
	LEFT JOIN not_per_tenant n ON n.name = c.relname
	WHERE c.relkind IN ('r', 'p');

-- Every index of the store's tables, with its first key column (NULL when
-- that is an expression).
CREATE TEMP VIEW store_index AS
	SELECT s.relname AS table_name, s.per_tenant, ic.relname AS index_name,
		   i.indisunique OR i.indisprimary OR x.conname IS NOT NULL AS unique_or_key,
		   a.attname AS first_column
	FROM store s
	JOIN pg_index i ON i.indrelid = s.oid
	JOIN pg_class ic ON ic.oid = i.indexrelid
	LEFT JOIN pg_constraint x ON x.conindid = i.indexrelid AND x.contype = 'x'
	LEFT JOIN pg_attribute a ON a.attrelid = s.oid AND a.attnum = i.indkey[0] AND i.indkey[0] <> 0;

-- The tables that are not per tenant, as the catalog has them: every one
-- listed exists
SELECT n.name, c.relname IS NOT NULL AS exists, n.why
FROM not_per_tenant n LEFT JOIN store c ON c.relname = n.name
ORDER BY n.name;

-- The per-tenant tables, each with a tenant column: what is distributed by
-- tenant (a new table shows here: give it its create_distributed_table() in
-- the README's "Scaling out")
SELECT s.relname, a.attname IS NOT NULL AS has_tenant
FROM store s LEFT JOIN pg_attribute a ON a.attrelid = s.oid AND a.attname = 'tenant' AND NOT a.attisdropped
WHERE s.per_tenant
ORDER BY s.relname;

-- Primary keys, unique constraints and unique indexes (and exclusion
-- constraints) of per-tenant tables that do not lead with the tenant: none
SELECT table_name, index_name, first_column
FROM store_index
WHERE per_tenant AND unique_or_key AND first_column IS DISTINCT FROM 'tenant'
ORDER BY 1, 2;

-- Other indexes of per-tenant tables that do not lead with the tenant:
-- only the exceptions
SELECT si.table_name, si.index_name, e.why
FROM store_index si LEFT JOIN index_exception e ON e.name = si.index_name
WHERE si.per_tenant AND NOT si.unique_or_key AND si.first_column IS DISTINCT FROM 'tenant'
ORDER BY 1, 2;

-- Foreign keys between per-tenant tables that do not join tenant to tenant
-- first (Citus co-locates only those): none
SELECT f.relname AS from_table, c.conname
FROM pg_constraint c
JOIN store f ON f.oid = c.conrelid AND f.per_tenant
JOIN store t ON t.oid = c.confrelid AND t.per_tenant
WHERE c.contype = 'f' AND (
	(SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) <> 'tenant' OR
	(SELECT attname FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = c.confkey[1]) <> 'tenant')
ORDER BY 1, 2;
