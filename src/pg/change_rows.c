/*
 * change_rows.c
 *		The rows of scim.change, the change feed's table: written by the
 *		triggers of changes.c into the heap and each index directly, and the
 *		positions scim.changes() reads them by.
 */
#include "scim_pg.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

/* scim.change and its sequence, and the columns' numbers, looked up once */
static Oid	change_relid = InvalidOid;
static Oid	seq_relid = InvalidOid;
static bool relcache_callback = false;
static bool idx_known = false;	/* what scim.change's indexes are made of (below) */

enum
{
	COL_TENANT, COL_POS, COL_SEQ, COL_AT, COL_KIND, COL_RTYPE, COL_ID, COL_MEMBER, COL_VERSION,
	COL_OPERATION, COL_STATUS, COL_DETAIL, NCOLS
};
static const char *const col_names[NCOLS] = {
	"tenant", "pos", "seq", "at", "kind", "resource_type", "resource_id", "member_id", "version", "operation",
	"status", "detail"
};
static AttrNumber col[NCOLS];

static void
forget_relations(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == change_relid)
	{
		change_relid = InvalidOid;
		idx_known = false;
	}
}

/* Look up scim.change, its sequence and its columns, unless known. */
static void
find_relations(void)
{
	Oid			nsp;
	Relation	rel;
	TupleDesc	desc;

	if (OidIsValid(change_relid))
		return;
	if (!relcache_callback)
	{
		CacheRegisterRelcacheCallback(forget_relations, (Datum) 0);
		relcache_callback = true;
	}
	nsp = get_namespace_oid("scim", false);
	seq_relid = get_relname_relid("change_seq_seq", nsp);
	if (!OidIsValid(seq_relid))
		elog(ERROR, "sequence scim.change_seq_seq is missing");
	rel = table_open(get_relname_relid("change", nsp), AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < NCOLS; i++)
	{
		col[i] = InvalidAttrNumber;
		for (int a = 0; a < desc->natts; a++)
			if (!TupleDescAttr(desc, a)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(desc, a)->attname), col_names[i]) == 0)
				col[i] = a + 1;
		if (col[i] == InvalidAttrNumber)
			elog(ERROR, "column scim.change.%s is missing", col_names[i]);
	}
	change_relid = RelationGetRelid(rel);
	table_close(rel, AccessShareLock);
}

/*
 * scim.change and its indexes, opened at a transaction's first change and
 * kept until its pre-commit, and what each index is made of, kept for the
 * backend's life (until the relcache says the table changed).  The row
 * goes into the heap and each index as the executor's INSERT would put
 * it, but without an executor state and the expression machinery: for a
 * user PATCH that cost 11,000 instructions of the change row's 45,000.
 * An index with expressions or a predicate (one an administrator added)
 * is filled through the executor instead.  The relations belong to the
 * top transaction's resource owner, so that a subtransaction's abort
 * does not close them under us; the transaction's abort releases them.
 */
#define MAX_INDEXES 8

static Relation open_rel = NULL;
static int	nindexes;
static Relation open_idx[MAX_INDEXES];
static IndexInfo *idx_info[MAX_INDEXES];	/* in feed_info_cxt */
static Oid	idx_oid[MAX_INDEXES];
static bool idx_plain;			/* every index is of plain columns */
static MemoryContext feed_info_cxt = NULL;

/* What the indexes of scim.change are made of, unless known. */
static void
know_indexes(Relation rel)
{
	List	   *list;
	ListCell   *lc;
	MemoryContext old;

	if (idx_known)
		return;
	if (feed_info_cxt == NULL)
		feed_info_cxt = AllocSetContextCreate(TopMemoryContext, "scim change feed indexes", ALLOCSET_SMALL_SIZES);
	MemoryContextReset(feed_info_cxt);
	list = RelationGetIndexList(rel);
	if (list_length(list) > MAX_INDEXES)
		elog(ERROR, "scim.change has more than %d indexes", MAX_INDEXES);
	nindexes = 0;
	idx_plain = true;
	foreach(lc, list)
	{
		Relation	ir = index_open(lfirst_oid(lc), RowExclusiveLock);

		old = MemoryContextSwitchTo(feed_info_cxt);
		idx_info[nindexes] = BuildIndexInfo(ir);
		MemoryContextSwitchTo(old);
		idx_oid[nindexes] = lfirst_oid(lc);
		if (idx_info[nindexes]->ii_Expressions != NIL || idx_info[nindexes]->ii_Predicate != NIL ||
			idx_info[nindexes]->ii_ExclusionOps != NULL || !ir->rd_index->indisready)
			idx_plain = false;
		index_close(ir, NoLock);
		nindexes++;
	}
	list_free(list);
	idx_known = true;
}

static void
open_change(void)
{
	ResourceOwner owner = CurrentResourceOwner;

	find_relations();
	CurrentResourceOwner = TopTransactionResourceOwner;
	PG_TRY();
	{
		open_rel = table_open(change_relid, RowExclusiveLock);
		know_indexes(open_rel);
		for (int i = 0; i < nindexes; i++)
			open_idx[i] = index_open(idx_oid[i], RowExclusiveLock);
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
}

/* Close what open_change() opened, at pre-commit (abort releases it by itself). */
void
ScimPgChangeClose(bool release)
{
	if (open_rel != NULL && release)
	{
		ResourceOwner owner = CurrentResourceOwner;

		CurrentResourceOwner = TopTransactionResourceOwner;
		for (int i = 0; i < nindexes; i++)
			index_close(open_idx[i], NoLock);
		table_close(open_rel, NoLock);
		CurrentResourceOwner = owner;
	}
	open_rel = NULL;
}

/* Insert the row in slot into the indexes, as ExecInsertIndexTuples() would. */
static void
insert_index_entries(TupleTableSlot *slot)
{
	EState	   *estate;
	ResultRelInfo *rri;

	if (idx_plain)
	{
		for (int i = 0; i < nindexes; i++)
		{
			IndexInfo  *ii = idx_info[i];
			Datum		values[INDEX_MAX_KEYS];
			bool		isnull[INDEX_MAX_KEYS];

			for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
			{
				values[k] = slot->tts_values[ii->ii_IndexAttrNumbers[k] - 1];
				isnull[k] = slot->tts_isnull[ii->ii_IndexAttrNumbers[k] - 1];
			}
			index_insert(open_idx[i], values, isnull, &slot->tts_tid, open_rel,
						 open_idx[i]->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
						 false, ii);
		}
		return;
	}
	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, open_rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
}

/*
 * Append changes c[0..n-1], made by origin's request (operation NULL:
 * none), to scim.change: heap and indexes, as the executor's INSERT would,
 * but for triggers, constraints and policies.
 */
void
ScimPgChangeInsert(const ScimPgChange *c, int n, const ScimPgOrigin *origin)
{
	TimestampTz at;
	Datum		op;
	Datum		detail = (Datum) 0;
	CommandId	cid;
	TupleTableSlot *slot;

	if (n == 0)
		return;
	if (open_rel == NULL)
		open_change();
	slot = MakeSingleTupleTableSlot(RelationGetDescr(open_rel), table_slot_callbacks(open_rel));
	at = GetCurrentTimestamp();
	op = CStringGetTextDatum(origin->operation ? origin->operation : "SQL");
	if (origin->operation && origin->detail)
		detail = CStringGetTextDatum(origin->detail);
	cid = GetCurrentCommandId(true);
	for (int i = 0; i < n; i++)
	{
		Datum	   *v;
		bool	   *null;

		ExecClearTuple(slot);
		v = slot->tts_values;
		null = slot->tts_isnull;
		memset(null, true, slot->tts_tupleDescriptor->natts * sizeof(bool));
#define SET(k, d) (v[col[k] - 1] = (d), null[col[k] - 1] = false)
		SET(COL_TENANT, UUIDPGetDatum(&c[i].tenant));
		/* after the transaction's xid: every row it writes is past it */
		SET(COL_POS, Int64GetDatum((int64) U64FromFullTransactionId(ReadNextFullTransactionId())));
		SET(COL_SEQ, Int64GetDatum(nextval_internal(seq_relid, false)));
		SET(COL_AT, TimestampTzGetDatum(at));
		SET(COL_KIND, CStringGetTextDatum(c[i].kind));
		if (c[i].rtype != NULL)
			SET(COL_RTYPE, CStringGetTextDatum(c[i].rtype));
		if (c[i].id != NULL)
			SET(COL_ID, UUIDPGetDatum(c[i].id));
		if (c[i].member != NULL)
			SET(COL_MEMBER, UUIDPGetDatum(c[i].member));
		if (c[i].has_version)
			SET(COL_VERSION, Int64GetDatum(c[i].version));
		SET(COL_OPERATION, op);
		if (origin->operation)
			SET(COL_STATUS, Int32GetDatum(origin->status));
		if (detail != (Datum) 0)
			SET(COL_DETAIL, detail);
#undef SET
		ExecStoreVirtualTuple(slot);
		table_tuple_insert(open_rel, slot, cid, 0, NULL);
		insert_index_entries(slot);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/* scim.change's oid, looked up if need be. */
Oid
ScimPgChangeRelid(void)
{
	find_relations();
	return change_relid;
}

/* ---- reading -------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(scim_changes_final);

/*
 * scim._changes_final() → bigint: the last position whose rows are all
 * final for the current snapshot, its xmin as a 64-bit transaction id.
 */
Datum
scim_changes_final(PG_FUNCTION_ARGS)
{
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);
	TransactionId xmin = snap->xmin;

	/* xmin is within 2^31 of the next xid: before it in this epoch, or in the last */
	if (xmin > XidFromFullTransactionId(next))
		epoch--;
	PG_RETURN_INT64((int64) U64FromFullTransactionId(FullTransactionIdFromEpochAndXid(epoch, xmin)));
}

PG_FUNCTION_INFO_V1(scim_change_id);

/* scim._change_id(pos, seq) → text: both in 16 hex digits, so that ids sort as text as the feed does. */
Datum
scim_change_id(PG_FUNCTION_ARGS)
{
	static const char hex[] = "0123456789abcdef";
	uint64		part[2] = {(uint64) PG_GETARG_INT64(0), (uint64) PG_GETARG_INT64(1)};
	text	   *out = palloc(VARHDRSZ + 32);
	char	   *p = VARDATA(out);

	SET_VARSIZE(out, VARHDRSZ + 32);
	for (int i = 0; i < 2; i++)
		for (int shift = 60; shift >= 0; shift -= 4)
			*p++ = hex[(part[i] >> shift) & 0xf];
	PG_RETURN_TEXT_P(out);
}
