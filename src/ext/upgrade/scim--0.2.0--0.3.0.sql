/* scim 0.2.0 -> 0.3.0: turns a database that installed release 0.2.0 into
 * what CREATE EXTENSION scim makes in 0.3.0, and carries its data forward.
 *
 * Every change to the install script (the SQL under src/ext and the schemas under src/schemas)
 * adds its part here in the same commit; src/pkg/upgrade_diff.sh prints
 * what is still missing, and test/upgrade/run.sh checks the result against
 * a fresh install, object for object, with data made by each release. */

\echo Use "ALTER EXTENSION scim UPDATE TO '0.3.0'" to load this file. \quit

-- A user's PUT is one UPDATE, as its PATCH is (src/pg/user_patch.c).
CREATE FUNCTION scim._put_step(data jsonb, version bigint, body jsonb, id text, at timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'scim_put_step'
	LANGUAGE C VOLATILE STRICT COST 10000;
COMMENT ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) IS
	'Applies a PUT body to a user''s data for scim.handle()''s UPDATE; true when the row is to take scim._patched() (internal)';
REVOKE ALL ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scim._put_step(jsonb, bigint, jsonb, text, timestamptz) TO scim_handler;

-- ---------------------------------------------------------------------------
-- The change feed (src/ext/changes.sql), and the event log as one row per
-- fact: what a request changed is its change rows, scim.event keeps the
-- requests that failed or changed nothing, and the view scim.events shows
-- both.  The events logged before stay in scim.event, and the view shows
-- them; the feed starts empty, at the update.
-- ---------------------------------------------------------------------------

-- the kind of the event the user PATCH's statement logged: the feed's
-- trigger records the change now (the C symbol stays, raising, for 0.2.0's
-- script)
DROP FUNCTION scim._patched_kind();

COMMENT ON TABLE scim.event IS
	'Provisioning requests that failed or changed nothing, per tenant; the view scim.events shows them with the changes of scim.change, the log an admin reviews after a cycle';

-- the view's columns change (kind is text, member_id and version are new)
DROP VIEW scim.events;

-- seq breaks ties of pos in the order the rows were written; CACHE 1 (the
-- default), so that the order is the order of the writes across sessions.
CREATE SEQUENCE scim.change_seq_seq;
COMMENT ON SEQUENCE scim.change_seq_seq IS 'Numbers the rows of scim.change in the order they are written';

-- pos: the next transaction id when the row was written.  Two indexes: the
-- feed in order across tenants (the one index of the store that cannot lead
-- with the tenant) and one tenant's feed.
CREATE TABLE scim.change (
	tenant uuid NOT NULL,
	pos bigint NOT NULL,
	seq bigint NOT NULL,
	at timestamptz NOT NULL,
	kind text NOT NULL CHECK (kind IN ('created', 'updated', 'suspended', 'unsuspended', 'deleted',
									   'member_added', 'member_removed', 'tenant_deleted')),
	resource_type text,
	resource_id uuid,
	member_id uuid,
	version bigint,
	operation text NOT NULL,
	status integer,
	detail text,
	PRIMARY KEY (tenant, pos, seq)
);
CREATE INDEX change_order_idx ON scim.change (pos, seq);
COMMENT ON TABLE scim.change IS
	'The change feed as stored, written by triggers on scim.users, scim.groups, scim.group_members and scim.tenant; read it with scim.changes()';
COMMENT ON COLUMN scim.change.pos IS
	'The next transaction id when the row was written: a row is delivered once every transaction that could still write before it has ended';
COMMENT ON COLUMN scim.change.seq IS 'Orders rows of the same pos in the order they were written';
COMMENT ON COLUMN scim.change.version IS
	'The resource''s version after the change; for member changes the group''s';
COMMENT ON COLUMN scim.change.operation IS
	'What made the change: the request ("PATCH /Users/...") when scim.handle() did, else "SQL"';
COMMENT ON COLUMN scim.change.status IS 'The HTTP status the request was answered with; NULL for SQL';
COMMENT ON COLUMN scim.change.detail IS
	'What the request''s event says besides: the attributes it set that the schema does not define, left out';

-- How far scim.prune_events() has pruned the feed: a consumer that has not
-- read that far has missed changes, and is told so.
CREATE TABLE scim.change_pruned (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	pos bigint NOT NULL,
	seq bigint NOT NULL
);
INSERT INTO scim.change_pruned (pos, seq) VALUES (0, 0);
COMMENT ON TABLE scim.change_pruned IS
	'One row: the position of the last change scim.prune_events() has deleted; reading from before it raises SH410';

ALTER TABLE scim.change ENABLE ROW LEVEL SECURITY;
ALTER TABLE scim.change FORCE ROW LEVEL SECURITY;
CREATE POLICY application ON scim.change FOR SELECT TO scim_app USING (true);
CREATE POLICY application_prune ON scim.change FOR DELETE TO scim_app USING (true);

CREATE FUNCTION scim._change() RETURNS trigger
	AS 'MODULE_PATHNAME', 'scim_change_trigger'
	LANGUAGE C;
COMMENT ON FUNCTION scim._change() IS
	'Row trigger of the store''s tables that writes the change feed; its argument names the table: User, Group, Member or Tenant (internal)';

-- AFTER: the row is written, its lock held.  Not ALWAYS: a session under
-- session_replication_role = replica (pg_restore --disable-triggers,
-- logical replication's apply) copies changes made elsewhere, and records
-- none.  The tenant's BEFORE trigger marks the tenant, so that the cascade
-- of its deletion records only tenant_deleted.
CREATE TRIGGER changes AFTER INSERT OR UPDATE OR DELETE ON scim.users
	FOR EACH ROW EXECUTE FUNCTION scim._change('User');
CREATE TRIGGER changes AFTER INSERT OR UPDATE OR DELETE ON scim.groups
	FOR EACH ROW EXECUTE FUNCTION scim._change('Group');
CREATE TRIGGER changes AFTER INSERT OR UPDATE OR DELETE ON scim.group_members
	FOR EACH ROW EXECUTE FUNCTION scim._change('Member');
CREATE TRIGGER changes_doomed BEFORE DELETE ON scim.tenant
	FOR EACH ROW EXECUTE FUNCTION scim._change('Tenant');
CREATE TRIGGER changes AFTER DELETE ON scim.tenant
	FOR EACH ROW EXECUTE FUNCTION scim._change('Tenant');

CREATE FUNCTION scim._changes_final() RETURNS bigint
	AS 'MODULE_PATHNAME', 'scim_changes_final'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION scim._changes_final() IS
	'The xmin of the current snapshot as a 64-bit transaction id: every change with pos up to it is final (internal)';

-- A change_id: pos and seq in 32 hex digits, so that ids compare as text
-- as the feed orders them.  In C: it is made for every row read.
CREATE FUNCTION scim._change_id(pos bigint, seq bigint) RETURNS text
	AS 'MODULE_PATHNAME', 'scim_change_id'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION scim._change_id(bigint, bigint) IS 'The change_id of the change at (pos, seq) (internal)';

-- Where a read of the feed starts: after's pos (part 1) or seq (part 2),
-- or where the pruned feed starts for NULL; raises SH410 for an after
-- older than what is kept.
CREATE FUNCTION scim._changes_after(after text, part integer) RETURNS bigint
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pruned scim.change_pruned;
	p bigint;
	s bigint;
BEGIN
	SELECT * INTO pruned FROM scim.change_pruned;
	IF after IS NULL THEN
		RETURN CASE part WHEN 1 THEN pruned.pos ELSE pruned.seq END;
	END IF;
	IF after !~ '^[0-9a-f]{32}$' THEN
		RAISE EXCEPTION 'invalid change_id "%"', after
			USING ERRCODE = 'invalid_parameter_value',
				  HINT = 'Pass a change_id that scim.changes() or scim.changes_now() returned, or NULL.';
	END IF;
	p := ('x' || substr(after, 1, 16))::bit(64)::bigint;
	s := ('x' || substr(after, 17, 16))::bit(64)::bigint;
	IF (p, s) < (pruned.pos, pruned.seq) THEN
		RAISE EXCEPTION 'the changes after change_id % have been pruned', after
			USING ERRCODE = 'SH410',
				  DETAIL = format('scim.prune_events() has deleted the changes up to change_id %s.',
								  scim._change_id(pruned.pos, pruned.seq)),
				  HINT = 'Read the store again and follow the feed from scim.changes_now().';
	END IF;
	RETURN CASE part WHEN 1 THEN p ELSE s END;
END;
$$;
COMMENT ON FUNCTION scim._changes_after(text, integer) IS
	'The pos (part 1) or seq (part 2) a read of the feed starts after: after''s, or where the kept feed starts for NULL; raises SH410 when after has been pruned (internal)';

CREATE TYPE scim.feed_change AS (change_id text, tenant uuid, at timestamptz, kind text, resource_type text,
								 resource_id uuid, member_id uuid, version bigint, operation text);
COMMENT ON TYPE scim.feed_change IS 'A change as scim.changes() returns it';

-- SQL, without a SET clause, so that the planner inlines it into the
-- caller's query: no set of rows to materialise, and each branch on its
-- index.  Only one branch runs (the other's one-time filter is false),
-- and a constant tenant leaves the other out of the plan.  The tenant's
-- branch orders by the tenant too, which only its index gives.  Operators are
-- pg_catalog's whatever the caller's search_path (the function runs with
-- the caller's rights anyway).
CREATE FUNCTION scim.changes(after text DEFAULT NULL, max_rows integer DEFAULT 1000, tenant uuid DEFAULT NULL)
	RETURNS SETOF scim.feed_change
	LANGUAGE sql STABLE
AS $$
	(SELECT scim._change_id(c.pos, c.seq), c.tenant, c.at, c.kind, c.resource_type, c.resource_id,
			c.member_id, c.version, c.operation
	 FROM scim.change c
	 WHERE changes.tenant IS NULL
	   AND (c.pos, c.seq) OPERATOR(pg_catalog.>) (scim._changes_after(changes.after, 1), scim._changes_after(changes.after, 2))
	   AND c.pos OPERATOR(pg_catalog.<=) scim._changes_final()
	 ORDER BY c.pos, c.seq
	 LIMIT changes.max_rows)
	UNION ALL
	(SELECT scim._change_id(c.pos, c.seq), c.tenant, c.at, c.kind, c.resource_type, c.resource_id,
			c.member_id, c.version, c.operation
	 FROM scim.change c
	 WHERE c.tenant OPERATOR(pg_catalog.=) changes.tenant
	   AND (c.pos, c.seq) OPERATOR(pg_catalog.>) (scim._changes_after(changes.after, 1), scim._changes_after(changes.after, 2))
	   AND c.pos OPERATOR(pg_catalog.<=) scim._changes_final()
	 ORDER BY c.tenant, c.pos, c.seq
	 LIMIT changes.max_rows)
$$;
COMMENT ON FUNCTION scim.changes(text, integer, uuid) IS
	'The change feed: up to max_rows committed changes after change_id after (NULL: from the oldest kept), in order, of every tenant or of one; every change once, none of a rolled-back transaction, each resource''s in version order; raises SH410 when after has been pruned';

CREATE FUNCTION scim.changes_now() RETURNS text
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT scim._change_id(scim._changes_final(), 9223372036854775807) $$;
COMMENT ON FUNCTION scim.changes_now() IS
	'A change_id to follow the feed from now: scim.changes() after it returns every change the current snapshot does not show (and perhaps a few it does)';

-- The event log: what requests changed (the change rows above, one per
-- change, with the request's status) and every request that failed or
-- changed nothing but was told so (scim.event).  security_invoker: the
-- reader's own privileges and policies apply, so the view shows no more of
-- the log than its reader could read directly.
CREATE VIEW scim.events WITH (security_invoker = true) AS
	SELECT e.tenant, t.name AS tenant_name, e.at, e.kind::text AS kind, e.resource_type, e.resource_id,
		   e.operation, e.status, e.scim_type, e.detail, NULL::uuid AS member_id, NULL::bigint AS version
	FROM scim.event e LEFT JOIN scim.tenant t ON t.id = e.tenant
	UNION ALL
	SELECT c.tenant, t.name, c.at, c.kind, c.resource_type, c.resource_id,
		   c.operation, c.status, NULL, c.detail, c.member_id, c.version
	FROM scim.change c LEFT JOIN scim.tenant t ON t.id = c.tenant;
COMMENT ON VIEW scim.events IS
	'The event log with tenant names (NULL once a tenant is deleted): the changes of scim.change and the failures of scim.event';

CREATE OR REPLACE FUNCTION scim.prune_events(retention interval DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	cutoff timestamptz := now() - coalesce(retention, nullif(current_setting('scim.event_retention', true), '')::interval,
										   interval '90 days');
	final bigint;
	events bigint;
	upto_pos bigint;
	upto_seq bigint;
BEGIN
	WITH d AS (DELETE FROM scim.event WHERE at < cutoff RETURNING 1)
	SELECT count(*) INTO events FROM d;
	final := scim._changes_final();
	-- The feed loses a prefix: up to the first change that is younger than
	-- the cutoff or not yet final, so that what is left starts where a
	-- consumer's after can be told apart.
	SELECT c.pos, c.seq INTO upto_pos, upto_seq FROM scim.change c
	WHERE c.at >= cutoff OR c.pos > final ORDER BY c.pos, c.seq LIMIT 1;
	WITH d AS (DELETE FROM scim.change c
			   WHERE upto_pos IS NULL OR (c.pos, c.seq) < (upto_pos, upto_seq)
			   RETURNING c.pos, c.seq),
		 last AS (SELECT d.pos, d.seq FROM d ORDER BY d.pos DESC, d.seq DESC LIMIT 1)
	UPDATE scim.change_pruned x SET pos = last.pos, seq = last.seq FROM last
	WHERE (last.pos, last.seq) > (x.pos, x.seq);
	RETURN events;
END;
$$;
COMMENT ON FUNCTION scim.prune_events(interval) IS
	'Deletes events and changes older than the retention (the argument, else the scim.event_retention setting, else 90 days); returns how many events';

-- Privileges (src/ext/privileges.sql): the new internal functions as every
-- internal function, the feed to scim_app, the view again
DO $$
DECLARE
	f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
			 WHERE p.pronamespace = 'scim'::regnamespace
			   AND p.proname IN ('_change', '_changes_final', '_change_id', '_changes_after')
	LOOP
		EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
		EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO scim_handler', f);
	END LOOP;
END
$$;
GRANT SELECT ON scim.events TO scim_app;
GRANT SELECT, DELETE ON scim.change TO scim_app;
GRANT SELECT, UPDATE ON scim.change_pruned TO scim_app;
GRANT EXECUTE ON FUNCTION scim._changes_final(), scim._change_id(bigint, bigint), scim._changes_after(text, integer)
	TO scim_app;
REVOKE ALL ON FUNCTION scim.changes(text, integer, uuid), scim.changes_now() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scim.changes(text, integer, uuid), scim.changes_now() TO scim_app;

-- scim.import() (src/pg/import.c, src/ext/import.sql): an application's
-- users and groups into a tenant, one summary event a call.
ALTER DOMAIN scim.event_kind DROP CONSTRAINT event_kind_check;
ALTER DOMAIN scim.event_kind ADD CONSTRAINT event_kind_check
	CHECK (VALUE IN ('created', 'updated', 'suspended', 'unsuspended', 'deleted', 'failed', 'imported'));
COMMENT ON DOMAIN scim.event_kind IS
	'What an event records: created, updated, suspended, unsuspended, deleted or failed, or imported (a scim.import() call)';
CREATE FUNCTION scim.import(tenant uuid, resource_type text, documents jsonb[],
							stop_on_error boolean DEFAULT false)
	RETURNS TABLE (ordinality integer, id uuid, scim_type text, detail text)
	AS 'MODULE_PATHNAME', 'scim_import'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION scim.import(uuid, text, jsonb[], boolean) IS
	'Imports Users or Groups into a tenant, each document checked and stored as POST stores it, a UUID id kept: one row per document, its id, or its failure (scim_type, detail); with stop_on_error the first failure raises and nothing is imported';
ALTER FUNCTION scim.import(uuid, text, jsonb[], boolean) OWNER TO scim_handler;
REVOKE ALL ON FUNCTION scim.import(uuid, text, jsonb[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION scim.import(uuid, text, jsonb[], boolean) TO scim_app;
