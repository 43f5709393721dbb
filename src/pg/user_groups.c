/*
 * user_groups.c
 *		The groups one user is in, as a response after a write shows them,
 *		read straight from scim.group_members's index on (tenant, value)
 *		and scim.groups' primary key.
 *
 * A statement that joins the two costs its executor's set-up of four
 * nodes, their expressions and the row-level security quals on each call:
 * 117,000 instructions of a PUT's 710,000 (bench part 8), for what is two
 * index probes.  The probes here cost a fraction of that.  They read as
 * the policies would let the handler read: every key starts with the
 * tenant the request authenticated, which is what the policies compare
 * (tenant = scim.current_tenant()), and the caller's SELECT privilege on
 * both tables is checked as a statement would check it.  The indexes are
 * checked as opened, each time: one not as the extension made it, or not
 * (yet) usable (CREATE INDEX CONCURRENTLY under way or failed, partial),
 * leaves the reading to the statement, which the planner answers without it.
 */
#include "handle_int.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "access/htup_details.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "jsonb_compat.h"

/*
 * The relations and columns read, looked up once per backend and again
 * after any invalidation of one of them (a full reset included).
 */
typedef struct GroupRels
{
	bool		valid;
	Oid			members;		/* scim.group_members */
	Oid			members_value;	/* its index on (tenant, value) */
	Oid			groups;			/* scim.groups */
	Oid			groups_pkey;	/* its primary key, (tenant, id) */
	AttrNumber	members_group_id;
	AttrNumber	groups_data;
	AttrNumber	members_tenant;
	AttrNumber	members_value_att;
	AttrNumber	groups_tenant;
	AttrNumber	groups_id;
} GroupRels;

static GroupRels rels;
static bool rels_callback;

static void
rels_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == rels.members || relid == rels.members_value ||
		relid == rels.groups || relid == rels.groups_pkey)
		rels.valid = false;
}

/*
 * Is index (open) a usable btree of heap on exactly its columns first,
 * second, holding every row: valid, ready, live and not partial?  Read from
 * the open relation, whose pg_index row is current once it is locked.
 */
static bool
index_is(Relation index, Relation heap, AttrNumber first, AttrNumber second)
{
	Form_pg_index i = index->rd_index;

	return i->indrelid == RelationGetRelid(heap) && i->indisvalid && i->indisready && i->indislive &&
		i->indnkeyatts == 2 && i->indkey.values[0] == first && i->indkey.values[1] == second &&
		RelationGetForm(index)->relam == BTREE_AM_OID &&
		heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, NULL);
}

/* The relations' OIDs and columns, looked up if needed; false when some are missing. */
static bool
look_up(void)
{
	Oid			nsp;

	if (!rels_callback)
	{
		CacheRegisterRelcacheCallback(rels_invalidate, (Datum) 0);
		rels_callback = true;
	}
	if (rels.valid)
		return true;
	/* an invalidation read while looking makes this false again: looked up again next time */
	rels.valid = true;
	nsp = get_namespace_oid("scim", false);
	rels.members = get_relname_relid("group_members", nsp);
	rels.members_value = get_relname_relid("group_members_value_idx", nsp);
	rels.groups = get_relname_relid("groups", nsp);
	rels.groups_pkey = get_relname_relid("groups_pkey", nsp);
	rels.members_group_id = get_attnum(rels.members, "group_id");
	rels.groups_data = get_attnum(rels.groups, "data");
	if (!OidIsValid(rels.members) || !OidIsValid(rels.members_value) ||
		!OidIsValid(rels.groups) || !OidIsValid(rels.groups_pkey) ||
		rels.members_group_id == InvalidAttrNumber || rels.groups_data == InvalidAttrNumber)
	{
		rels.valid = false;
		return false;
	}
	rels.members_tenant = get_attnum(rels.members, "tenant");
	rels.members_value_att = get_attnum(rels.members, "value");
	rels.groups_tenant = get_attnum(rels.groups, "tenant");
	rels.groups_id = get_attnum(rels.groups, "id");
	return true;
}

static int
uuid_cmp_p(const void *a, const void *b)
{
	return memcmp(a, b, UUID_LEN);
}

/*
 * The ids of the groups whose memberships in tenant have value uid, sorted,
 * into *ids (palloc'd); their count.
 */
static int
member_of(Relation heap, Relation index, Datum tenant, const char *uid, Snapshot snap, pg_uuid_t **ids)
{
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc scan = index_beginscan(heap, index, snap, 2, 0);
	ScanKeyData keys[2];
	int			n = 0;
	int			size = 4;

	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[0], F_UUID_EQ, tenant);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ, CStringGetTextDatum(uid));
	index_rescan(scan, keys, 2, NULL, 0);
	*ids = palloc(sizeof(pg_uuid_t) * size);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		gid = slot_getattr(slot, rels.members_group_id, &isnull);

		if (isnull)
			continue;
		if (n == size)
			*ids = repalloc(*ids, sizeof(pg_uuid_t) * (size *= 2));
		(*ids)[n++] = *DatumGetUUIDP(gid);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	if (n > 1)
		qsort(*ids, n, sizeof(pg_uuid_t), uuid_cmp_p);
	return n;
}

/* Push group id of tenant, as responses show it, onto the array st builds; nothing if it is gone. */
static void
push_group(JsonbParseState **st, const Request *req, IndexScanDesc scan, TupleTableSlot *slot, pg_uuid_t *id)
{
	ScanKeyData keys[2];
	char	   *gid = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(id)));
	char	   *display = NULL;
	bool		isnull;
	Datum		data;

	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   scan->indexRelation->rd_indcollation[0], F_UUID_EQ, req->tenant_datum);
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   scan->indexRelation->rd_indcollation[1], F_UUID_EQ, UUIDPGetDatum(id));
	index_rescan(scan, keys, 2, NULL, 0);
	if (!index_getnext_slot(scan, ForwardScanDirection, slot))
		return;					/* a membership's group goes with it (ON DELETE CASCADE) */
	data = slot_getattr(slot, rels.groups_data, &isnull);
	if (!isnull)
		display = ScimPgKeyText(DatumGetJsonbP(data), "displayName");	/* as ->> reads it */
	ScimPgPushGroup(st, req, gid, display);
}

/*
 * The groups of user uid as the statement reads them (members.c), for
 * when the indexes cannot be read here.
 */
static Jsonb *
groups_by_statement(const Request *req, const char *uid, MemoryContext cxt)
{
	Row			row = {.id = (char *) uid};
	Row		   *rowp = &row;

	ScimPgGroupsOfRows(req, &rowp, 1, cxt);
	return row.groups;
}

/*
 * The groups of user uid in the request's tenant, through the indexes
 * (open, checked), as of snap: an array of ScimPgPushGroup()'s entries,
 * NULL for none.
 */
static Jsonb *
read_groups(const Request *req, const char *uid, Relation members, Relation members_index, Relation heap,
			Relation index, Snapshot snap)
{
	pg_uuid_t  *ids;
	int			n = member_of(members, members_index, req->tenant_datum, uid, snap, &ids);
	TupleTableSlot *slot;
	IndexScanDesc scan;
	JsonbParseState *st = NULL;
	JsonbValue *array;

	if (n == 0)
		return NULL;
	slot = table_slot_create(heap, NULL);
	scan = index_beginscan(heap, index, snap, 2, 0);
	scim_push_jsonb(&st, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < n; i++)
		push_group(&st, req, scan, slot, &ids[i]);
	array = scim_push_jsonb(&st, WJB_END_ARRAY, NULL);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	/* memberships whose groups were all gone: as the join, none */
	return array->val.array.nElems == 0 ? NULL : JsonbValueToJsonb(array);
}

/*
 * The groups of user uid (its id as text) as responses show them: value,
 * display, type "direct" and $ref, in the order of the group ids; NULL
 * when the user is in none.  Read as of a snapshot taken now, which sees
 * the request's own writes.  The tables stay locked to the end of the
 * transaction, as a statement leaves them, so that their indexes cannot
 * be dropped between the check and the scans; indexes that are not as
 * read here leave the reading to the statement.
 */
Jsonb *
ScimPgGroupsOf(const Request *req, const char *uid, MemoryContext cxt)
{
	MemoryContext old;
	Relation	members;
	Relation	members_index = NULL;
	Relation	heap;
	Relation	index = NULL;
	bool		usable;
	Jsonb	   *groups = NULL;

	/* most directories have no groups: a user's then need no reading */
	if (ScimPgWithoutMembers(req->tenant_datum, cxt))
		return NULL;
	if (!look_up())
		return groups_by_statement(req, uid, cxt);
	/* what a statement would check: the policies' own test is the tenant in every key */
	if (pg_class_aclcheck(rels.members, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, "group_members");
	if (pg_class_aclcheck(rels.groups, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, "groups");

	old = MemoryContextSwitchTo(cxt);
	/* locking reads invalidations: OIDs looked up before may be gone, then the statement reads */
	members = table_open(rels.members, AccessShareLock);
	heap = table_open(rels.groups, AccessShareLock);
	usable = rels.valid;
	if (usable)
	{
		members_index = index_open(rels.members_value, AccessShareLock);
		index = index_open(rels.groups_pkey, AccessShareLock);
		usable = index_is(members_index, members, rels.members_tenant, rels.members_value_att) &&
			index_is(index, heap, rels.groups_tenant, rels.groups_id);
	}
	if (usable)
	{
		Snapshot	snap = RegisterSnapshot(GetTransactionSnapshot());

		groups = read_groups(req, uid, members, members_index, heap, index, snap);
		UnregisterSnapshot(snap);
	}
	if (index != NULL)
		index_close(index, NoLock);
	if (members_index != NULL)
		index_close(members_index, NoLock);
	table_close(heap, NoLock);
	table_close(members, NoLock);
	MemoryContextSwitchTo(old);
	return usable ? groups : groups_by_statement(req, uid, cxt);
}
