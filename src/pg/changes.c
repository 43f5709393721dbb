/*
 * changes.c
 *		The change feed's writing side: row triggers on scim.users,
 *		scim.groups, scim.group_members and scim.tenant append what changed
 *		to scim.change, whatever made the change (scim.handle(), direct
 *		SQL, an import).  src/ext/changes.sql reads it.
 *
 * Where a change stands.  Each row gets pos, the next transaction id at
 * the moment it is written (ReadNextFullTransactionId(), after the row
 * lock of the write is held), and seq from a sequence.  A reader delivers
 * only rows with pos <= the xmin of its snapshot, in (pos, seq) order.
 * That is gap-free: a transaction still running has an xid y >= xmin and
 * has written only rows with pos > y, and every later transaction's rows
 * get pos > its xid >= xmin; so the rows with pos <= xmin are final
 * (committed, or gone with their rollback) and no row can later appear
 * before the position a reader has reached.  It is in version order per
 * resource: a write that follows another on the same row waited for the
 * other to commit (the row lock), so it read a next xid no smaller and a
 * seq larger.  Transaction-id order alone is not version order: an older
 * transaction can update a row after a younger one committed.  Not the
 * statement snapshot's xmax: in READ COMMITTED a write can wait for a row
 * lock long after its statement's snapshot was taken.
 *
 * Member changes are the net delta of a request: each insert or delete of
 * scim.group_members is kept here, in the transaction's memory, and the
 * rows go out when the group's row is updated (the handler bumps its
 * version after changing its members: the rows carry the version after
 * the change), when the request ends, or before commit for writes outside
 * the handler, then with the group's version as it stands.  A member added
 * and removed again within one request nets to nothing.  A subtransaction
 * that rolls back takes its members' changes with it, and gives back those
 * it wrote that were made before it.
 *
 * Deleting a user or group removes its memberships here, not in the
 * handler, so that direct SQL keeps the store whole too, and bumps the
 * version of every group it leaves (a client holding that group's ETag
 * must not be told 304).  Deleting a tenant is one tenant_deleted row: the
 * cascade of its users, groups and members records nothing more.
 *
 * The rows go into the table and its indexes directly (change_rows.c),
 * not through SPI: row-level security and the table's privileges are not
 * in the way of any writer; readers are held by both (scim_app reads,
 * scim_server does not).
 *
 * What made a change: the handler says, before it writes, which request
 * it answers and with what status (ScimPgChangesOrigin()), and the rows
 * carry it; a row written outside a request says "SQL".  These rows are the
 * event log's record of what requests changed (the view scim.events reads
 * them beside scim.event, which keeps failures): one row for one fact,
 * where a second, the handler's own event, cost a user PATCH as much as the
 * change row itself (bench/README.md, part 10).
 *
 * LISTEN scim_changes wakes consumers.  NOTIFY takes a cluster-wide lock
 * from the notifying commit's pre-commit to its end, its WAL flush
 * included, which serialises notifying writers: notifying at every commit
 * halved PATCH throughput with 8 and 32 clients.  So a writer notifies
 * only when no other is committing a notification, and, when the library
 * is preloaded, at most once per scim.changes_notify_interval between them
 * all (change_notify.c; README, "The change feed").
 */
#include "scim_pg.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"


typedef ScimPgChange Change;

/* One insert (+1) or delete (-1) of a membership, not yet in the feed. */
typedef struct Delta
{
	pg_uuid_t	tenant;
	pg_uuid_t	group;
	pg_uuid_t	member;
	int			delta;
	int			order;			/* for a stable sort */
	SubTransactionId subid;
} Delta;

/*
 * A delta flushed inside a subtransaction (at): should that roll back, the
 * rows it wrote go with it, and a delta made before it is pending again.
 */
typedef struct Flushed
{
	Delta		d;
	SubTransactionId at;
} Flushed;

/* A group's version as this transaction last wrote it. */
typedef struct Seen
{
	pg_uuid_t	tenant;
	pg_uuid_t	group;
	int64		version;
	SubTransactionId subid;
} Seen;

/* A tenant this transaction is deleting: its cascade records nothing. */
typedef struct Doomed
{
	pg_uuid_t	tenant;
	SubTransactionId subid;
} Doomed;

/* What the transaction keeps until it ends; in feed_cxt, reset then. */
static MemoryContext feed_cxt = NULL;
static Delta *deltas;
static int	ndeltas,
			maxdeltas;
static Flushed *flushed;
static int	nflushed,
			maxflushed;
static Seen *seen;
static int	nseen,
			maxseen;
static Doomed *doomed;
static int	ndoomed,
			maxdoomed;
static int	next_order;
static bool wrote;				/* a row went into scim.change */

/* What made the changes being written: the request under way, if any. */
static ScimPgOrigin origin;

/* Append changes c[0..n-1] to scim.change (change_rows.c). */
static void
insert_changes(const Change *c, int n)
{
	if (n == 0)
		return;
	ScimPgChangeInsert(c, n, &origin);
	wrote = true;
}

static void
insert_change(const Change *c)
{
	insert_changes(c, 1);
}

/* ---- what the transaction keeps ------------------------------------------ */

static void
keep_init(void)
{
	if (feed_cxt == NULL)
		feed_cxt = AllocSetContextCreate(TopMemoryContext, "scim change feed", ALLOCSET_SMALL_SIZES);
}

/* Room for one more element of an array in feed_cxt. */
static void *
grow(void *array, int n, int *max, Size size)
{
	if (n < *max)
		return array;
	keep_init();
	*max = *max == 0 ? 16 : *max * 2;
	if (array == NULL)
		return MemoryContextAlloc(feed_cxt, *max * size);
	return repalloc(array, *max * size);
}

static bool
same_uuid(const pg_uuid_t *a, const pg_uuid_t *b)
{
	return memcmp(a, b, sizeof(pg_uuid_t)) == 0;
}

static bool
doomed_tenant(const pg_uuid_t *tenant)
{
	for (int i = 0; i < ndoomed; i++)
		if (same_uuid(&doomed[i].tenant, tenant))
			return true;
	return false;
}

static void
keep_delta(const pg_uuid_t *tenant, const pg_uuid_t *group, const pg_uuid_t *member, int delta)
{
	Delta	   *d;

	deltas = grow(deltas, ndeltas, &maxdeltas, sizeof(Delta));
	d = &deltas[ndeltas++];
	d->tenant = *tenant;
	d->group = *group;
	d->member = *member;
	d->delta = delta;
	d->order = next_order++;
	d->subid = GetCurrentSubTransactionId();
}

static void
keep_version(const pg_uuid_t *tenant, const pg_uuid_t *group, int64 version)
{
	Seen	   *s;

	for (int i = nseen - 1; i >= 0; i--)
		if (same_uuid(&seen[i].group, group) && same_uuid(&seen[i].tenant, tenant) &&
			seen[i].subid == GetCurrentSubTransactionId())
		{
			seen[i].version = version;
			return;
		}
	seen = grow(seen, nseen, &maxseen, sizeof(Seen));
	s = &seen[nseen++];
	s->tenant = *tenant;
	s->group = *group;
	s->version = version;
	s->subid = GetCurrentSubTransactionId();
}

/* The version this transaction last gave group, if it did. */
static bool
seen_version(const pg_uuid_t *tenant, const pg_uuid_t *group, int64 *version)
{
	for (int i = nseen - 1; i >= 0; i--)
		if (same_uuid(&seen[i].group, group) && same_uuid(&seen[i].tenant, tenant))
		{
			*version = seen[i].version;
			return true;
		}
	return false;
}

/* Does group have membership changes not yet in the feed? */
static bool
has_deltas(const pg_uuid_t *tenant, const pg_uuid_t *group)
{
	for (int i = 0; i < ndeltas; i++)
		if (same_uuid(&deltas[i].group, group) && same_uuid(&deltas[i].tenant, tenant))
			return true;
	return false;
}

/* Drop what is kept of one group (group NULL: of the whole tenant). */
static void
drop_kept(const pg_uuid_t *tenant, const pg_uuid_t *group)
{
	int			j = 0;

	for (int i = 0; i < ndeltas; i++)
		if (!same_uuid(&deltas[i].tenant, tenant) || (group != NULL && !same_uuid(&deltas[i].group, group)))
			deltas[j++] = deltas[i];
	ndeltas = j;
	j = 0;
	for (int i = 0; i < nseen; i++)
		if (!same_uuid(&seen[i].tenant, tenant) || (group != NULL && !same_uuid(&seen[i].group, group)))
			seen[j++] = seen[i];
	nseen = j;
}

static int
delta_cmp(const void *a, const void *b)
{
	const Delta *x = a;
	const Delta *y = b;
	int			r;

	if ((r = memcmp(&x->tenant, &y->tenant, sizeof(pg_uuid_t))) != 0 ||
		(r = memcmp(&x->group, &y->group, sizeof(pg_uuid_t))) != 0 ||
		(r = memcmp(&x->member, &y->member, sizeof(pg_uuid_t))) != 0)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Run a statement of the feed's as the owner of scim.change (the
 * extension's), under search_path pg_catalog, pg_temp: what it names
 * cannot be stood in for by a caller's objects, whoever made the change.
 * SPI is connected.
 */
static int
run_as_owner(SPIPlanPtr plan, Datum *args, bool read_only)
{
	Oid			save_user;
	int			save_sec;
	int			nest = NewGUCNestLevel();
	volatile int rc = 0;

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(ScimPgRelOwner(ScimPgChangeRelid()), save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		rc = SPI_execute_plan(plan, args, NULL, read_only, 0);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nest);
	return rc;
}

/* A statement of the feed's, prepared once (under the pinned search_path). */
static SPIPlanPtr
prepare(const char *sql, int nargs, Oid *argtypes)
{
	int			nest = NewGUCNestLevel();
	SPIPlanPtr	plan;

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	plan = SPI_prepare(sql, nargs, argtypes);
	AtEOXact_GUC(true, nest);
	if (plan == NULL)
		elog(ERROR, "could not prepare the change feed's statement: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/* The version of a group as it stands, read as the table's owner; false if it is gone. */
static bool
read_version(const pg_uuid_t *tenant, const pg_uuid_t *group, int64 *version)
{
	static SPIPlanPtr plan = NULL;
	Oid			argtypes[2] = {UUIDOID, UUIDOID};
	Datum		args[2] = {UUIDPGetDatum(tenant), UUIDPGetDatum(group)};
	bool		isnull;
	bool		found;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
		plan = prepare("SELECT g.version FROM scim.groups g WHERE g.tenant = $1 AND g.id = $2", 2, argtypes);
	rc = run_as_owner(plan, args, false);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read a group's version: %s", SPI_result_code_string(rc));
	found = SPI_processed == 1;
	if (found)
		*version = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return found;
}

/*
 * Put the kept membership changes of one group (group NULL: of every
 * group) into the feed, each member's net change once, with the version
 * given, else the one this transaction gave the group, else the one it has.
 */
static void
flush(const pg_uuid_t *tenant, const pg_uuid_t *group, const int64 *version)
{
	Delta	   *mine;
	int			n = 0;
	int			j = 0;
	Change	   *rows;
	int			nrows = 0;
	MemoryContext old;

	if (ndeltas == 0)
		return;
	mine = palloc(ndeltas * sizeof(Delta));
	for (int i = 0; i < ndeltas; i++)
	{
		if (group == NULL || (same_uuid(&deltas[i].group, group) && same_uuid(&deltas[i].tenant, tenant)))
			mine[n++] = deltas[i];
		else
			deltas[j++] = deltas[i];
	}
	ndeltas = j;
	if (n == 0)
		return;
	if (GetCurrentTransactionNestLevel() > 1)
		for (int i = 0; i < n; i++)
		{
			flushed = grow(flushed, nflushed, &maxflushed, sizeof(Flushed));
			flushed[nflushed].d = mine[i];
			flushed[nflushed++].at = GetCurrentSubTransactionId();
		}
	qsort(mine, n, sizeof(Delta), delta_cmp);
	rows = palloc(n * sizeof(Change));
	old = CurrentMemoryContext;
	for (int i = 0; i < n;)
	{
		int			k = i;
		int			net = 0;
		int64		v = 0;
		bool		has_v;

		/* one group's run */
		while (k < n && same_uuid(&mine[k].group, &mine[i].group) && same_uuid(&mine[k].tenant, &mine[i].tenant))
			k++;
		if (version != NULL)
		{
			v = *version;
			has_v = true;
		}
		else if (!(has_v = seen_version(&mine[i].tenant, &mine[i].group, &v)))
		{
			/* written outside the handler without the group: it may be gone */
			if (!read_version(&mine[i].tenant, &mine[i].group, &v))
			{
				i = k;
				continue;
			}
			MemoryContextSwitchTo(old);
			has_v = true;
		}
		for (int m = i; m < k; m++)
		{
			net += mine[m].delta;
			if (m + 1 < k && same_uuid(&mine[m + 1].member, &mine[m].member))
				continue;
			if (net != 0)
			{
				Change	   *c = &rows[nrows++];

				c->tenant = mine[m].tenant;
				c->kind = net > 0 ? "member_added" : "member_removed";
				c->rtype = "Group";
				c->id = &mine[m].group;
				c->member = &mine[m].member;
				c->version = v;
				c->has_version = has_v;
			}
			net = 0;
		}
		i = k;
	}
	insert_changes(rows, nrows);
}

/* ---- the triggers --------------------------------------------------------- */

/* A column of a row of the trigger's table, by name. */
static Datum
column(TriggerData *td, HeapTuple tuple, const char *name, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	int			attno = SPI_fnumber(desc, name);

	if (attno <= 0)
		elog(ERROR, "column %s of %s is missing", name, RelationGetRelationName(td->tg_relation));
	return heap_getattr(tuple, attno, desc, isnull);
}

static pg_uuid_t *
uuid_column(TriggerData *td, HeapTuple tuple, const char *name)
{
	bool		isnull;
	Datum		d = column(td, tuple, name, &isnull);

	return isnull ? NULL : DatumGetUUIDP(d);
}

/* A member's value (scim.member_id: a UUID as uuid_out() writes it) as a uuid. */
static pg_uuid_t *
member_column(TriggerData *td, HeapTuple tuple)
{
	bool		isnull;
	Datum		d = column(td, tuple, "value", &isnull);

	if (isnull)
		return NULL;
	return DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(TextDatumGetCString(d))));
}

/* Are two documents the same but for meta (what a version bump changes)? */
static bool
same_but_meta(Jsonb *a, Jsonb *b)
{
	return JB_ROOT_IS_OBJECT(a) && JB_ROOT_IS_OBJECT(b) && ScimPgObjectsEqualExcept(&a->root, &b->root, "meta");
}

/*
 * Remove every membership of a deleted user or group (its id), and bump
 * the version of each group it leaves.  The groups are locked first, in
 * the order of their ids, as a group's PATCH locks its group before its
 * members: a deletion and a PATCH of the same group then wait for each
 * other rather than deadlock.  Their triggers put the member_removed rows
 * into the feed with the groups' new versions.
 */
static void
leave_groups(const pg_uuid_t *tenant, const pg_uuid_t *id)
{
	static SPIPlanPtr lock_plan = NULL;
	static SPIPlanPtr leave_plan = NULL;
	Oid			argtypes[3] = {UUIDOID, TEXTOID, TIMESTAMPTZOID};
	Datum		args[3];
	int			rc;

	args[0] = UUIDPGetDatum(tenant);
	args[1] = DirectFunctionCall1(uuid_out, UUIDPGetDatum(id));
	args[1] = CStringGetTextDatum(DatumGetCString(args[1]));
	args[2] = TimestampTzGetDatum(GetCurrentTimestamp());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (lock_plan == NULL)
		lock_plan = prepare("SELECT g.id FROM scim.groups g WHERE g.tenant = $1 AND g.id IN "
							"(SELECT m.group_id FROM scim.group_members m WHERE m.tenant = $1 AND m.value = $2) "
							"ORDER BY g.id FOR UPDATE OF g", 2, argtypes);
	if (leave_plan == NULL)
		leave_plan = prepare("WITH d AS (DELETE FROM scim.group_members m WHERE m.tenant = $1 AND m.value = $2 "
							 "RETURNING m.group_id) "
							 "UPDATE scim.groups g SET version = g.version + 1, last_modified = $3, "
							 "data = jsonb_set(jsonb_set(g.data, '{meta,lastModified}', "
							 "to_jsonb(to_char($3 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))), "
							 "'{meta,version}', to_jsonb('W/\"' || (g.version + 1) || '\"')) "
							 "WHERE g.tenant = $1 AND g.id IN (SELECT d.group_id FROM d)", 3, argtypes);
	rc = run_as_owner(lock_plan, args, false);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not lock the groups of a member: %s", SPI_result_code_string(rc));
	/* in no group: nothing more to do */
	if (SPI_processed > 0 && (rc = run_as_owner(leave_plan, args, false)) != SPI_OK_UPDATE)
		elog(ERROR, "could not remove a member from its groups: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/* An AFTER ROW trigger's change of a user or group. */
static void
resource_changed(TriggerData *td, bool user)
{
	TriggerEvent ev = td->tg_event;
	HeapTuple	row = TRIGGER_FIRED_BY_UPDATE(ev) ? td->tg_newtuple : td->tg_trigtuple;
	pg_uuid_t  *tenant = uuid_column(td, row, "tenant");
	pg_uuid_t  *id = uuid_column(td, row, "id");
	Change		c = {0};
	bool		isnull;
	Datum		d;

	if (tenant == NULL || id == NULL || doomed_tenant(tenant))
		return;
	c.tenant = *tenant;
	c.rtype = user ? "User" : "Group";
	c.id = id;
	d = column(td, row, "version", &isnull);
	c.version = isnull ? 0 : DatumGetInt64(d);
	c.has_version = !isnull;

	if (TRIGGER_FIRED_BY_INSERT(ev))
	{
		c.kind = "created";
		insert_change(&c);
		if (!user && c.has_version)
			keep_version(tenant, id, c.version);
	}
	else if (TRIGGER_FIRED_BY_UPDATE(ev))
	{
		Jsonb	   *was = DatumGetJsonbP(column(td, td->tg_trigtuple, "data", &isnull));
		Jsonb	   *now = DatumGetJsonbP(column(td, td->tg_newtuple, "data", &isnull));

		if (user)
		{
			c.kind = ScimPgChangeKind(was, now);
			insert_change(&c);
			return;
		}
		/* a version bump for its members alone is said by their rows */
		c.kind = "updated";
		if (!has_deltas(tenant, id) || !same_but_meta(was, now))
			insert_change(&c);
		if (c.has_version)
		{
			keep_version(tenant, id, c.version);
			flush(tenant, id, &c.version);
		}
	}
	else if (TRIGGER_FIRED_BY_DELETE(ev))
	{
		c.kind = "deleted";
		insert_change(&c);
		/* its own members went with it (the foreign key's cascade, which fires first) */
		if (!user)
			drop_kept(tenant, id);
		leave_groups(tenant, id);
	}
}

/* An AFTER ROW trigger's change of a membership. */
static void
member_changed(TriggerData *td)
{
	TriggerEvent ev = td->tg_event;
	HeapTuple	old = TRIGGER_FIRED_BY_INSERT(ev) ? NULL : td->tg_trigtuple;
	HeapTuple	new = TRIGGER_FIRED_BY_INSERT(ev) ? td->tg_trigtuple :
		TRIGGER_FIRED_BY_UPDATE(ev) ? td->tg_newtuple : NULL;
	pg_uuid_t  *ot = NULL,
			   *og = NULL,
			   *om = NULL,
			   *nt = NULL,
			   *ng = NULL,
			   *nm = NULL;

	if (old != NULL)
	{
		ot = uuid_column(td, old, "tenant");
		og = uuid_column(td, old, "group_id");
		om = member_column(td, old);
	}
	if (new != NULL)
	{
		nt = uuid_column(td, new, "tenant");
		ng = uuid_column(td, new, "group_id");
		nm = member_column(td, new);
	}
	/* an update that keeps the membership (its display, its type) is no member change */
	if (old != NULL && new != NULL && same_uuid(ot, nt) && same_uuid(og, ng) && same_uuid(om, nm))
		return;
	if (old != NULL && !doomed_tenant(ot))
		keep_delta(ot, og, om, -1);
	if (new != NULL && !doomed_tenant(nt))
		keep_delta(nt, ng, nm, +1);
}

/* BEFORE and AFTER ROW triggers of a tenant's deletion. */
static void
tenant_deleted(TriggerData *td)
{
	pg_uuid_t  *tenant = uuid_column(td, td->tg_trigtuple, "id");
	Doomed	   *t;
	Change		c = {0};

	if (TRIGGER_FIRED_BEFORE(td->tg_event))
	{
		doomed = grow(doomed, ndoomed, &maxdoomed, sizeof(Doomed));
		t = &doomed[ndoomed++];
		t->tenant = *tenant;
		t->subid = GetCurrentSubTransactionId();
		return;
	}
	drop_kept(tenant, NULL);
	c.tenant = *tenant;
	c.kind = "tenant_deleted";
	insert_change(&c);
}

PG_FUNCTION_INFO_V1(scim_change_trigger);

/*
 * scim._change(): the feed's row trigger; its argument says the table
 * ('User' scim.users, 'Group' scim.groups, 'Member' scim.group_members,
 * 'Tenant' scim.tenant).
 */
Datum
scim_change_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) || td->tg_trigger->tgnargs != 1)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("scim._change() must be fired for each row, with the table's kind as argument")));
	switch (td->tg_trigger->tgargs[0][0])
	{
		case 'U':
			resource_changed(td, true);
			break;
		case 'G':
			resource_changed(td, false);
			break;
		case 'M':
			member_changed(td);
			break;
		case 'T':
			if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
				tenant_deleted(td);
			break;
		default:
			elog(ERROR, "scim._change(): unknown table kind \"%s\"", td->tg_trigger->tgargs[0]);
	}
	return PointerGetDatum(TRIGGER_FIRED_BEFORE(td->tg_event) ? td->tg_trigtuple : NULL);
}

/* ---- requests and transactions -------------------------------------------- */

/*
 * The changes written from now on are made by the request origin says
 * (NULL: by none, "SQL"); the strings must live until the next call.
 */
void
ScimPgChangesOrigin(const ScimPgOrigin *o)
{
	if (o != NULL)
		origin = *o;
	else
		memset(&origin, 0, sizeof(origin));
}

/* What the changes written now are made by. */
ScimPgOrigin
ScimPgChangesCurrentOrigin(void)
{
	return origin;
}

/* A request of scim.handle() ends: its member changes go into the feed. */
void
ScimPgChangesRequestEnd(void)
{
	flush(NULL, NULL, NULL);
}

/* Forget what the transaction kept. */
static void
forget_all(void)
{
	deltas = NULL;
	flushed = NULL;
	seen = NULL;
	doomed = NULL;
	ndeltas = maxdeltas = nflushed = maxflushed = nseen = maxseen = ndoomed = maxdoomed = 0;
	next_order = 0;
	wrote = false;
	memset(&origin, 0, sizeof(origin));
	ScimPgChangeClose(false);
	if (feed_cxt != NULL)
		MemoryContextReset(feed_cxt);
}

static void
changes_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			if (ndeltas > 0)
			{
				bool		pushed = !ActiveSnapshotSet();

				if (pushed)
					PushActiveSnapshot(GetTransactionSnapshot());
				flush(NULL, NULL, NULL);
				if (pushed)
					PopActiveSnapshot();
			}
			ScimPgChangeClose(true);
			/* a prepared transaction cannot notify: its changes wait for a poll */
			if (wrote && event == XACT_EVENT_PRE_COMMIT)
				ScimPgChangesNotify();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			forget_all();
			break;
		default:
			break;
	}
}

/*
 * A subtransaction that rolls back takes what it kept with it, and the
 * rows it wrote of deltas made before it: those are pending again.
 */
static void
changes_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	int			j;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	j = 0;
	for (int i = 0; i < ndeltas; i++)
		if (deltas[i].subid < mySubid)
			deltas[j++] = deltas[i];
	ndeltas = j;
	j = 0;
	for (int i = 0; i < nflushed; i++)
	{
		if (flushed[i].at < mySubid)
			flushed[j++] = flushed[i];
		else if (flushed[i].d.subid < mySubid)
		{
			deltas = grow(deltas, ndeltas, &maxdeltas, sizeof(Delta));
			deltas[ndeltas++] = flushed[i].d;
		}
	}
	nflushed = j;
	j = 0;
	for (int i = 0; i < nseen; i++)
		if (seen[i].subid < mySubid)
			seen[j++] = seen[i];
	nseen = j;
	j = 0;
	for (int i = 0; i < ndoomed; i++)
		if (doomed[i].subid < mySubid)
			doomed[j++] = doomed[i];
	ndoomed = j;
}

/* From _PG_init. */
void
ScimPgChangesInit(void)
{
	RegisterXactCallback(changes_xact_callback, NULL);
	RegisterSubXactCallback(changes_subxact_callback, NULL);
	ScimPgChangesNotifyInit();
}
