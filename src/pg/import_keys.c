/*
 * import_keys.c
 *		Which of scim.import()'s ids, names and externalIds a tenant has:
 *		each key looked up in the store's own index for it, as the unique
 *		index itself looks a new key up.
 *
 * Not a statement: the planner, for a tenant its statistics do not know
 * yet (any tenant an import is filling), costs a lookup of (tenant, id)
 * through users_order_idx (tenant, created, id) the same as through the
 * primary key, and chose it, which reads the tenant's every entry for each
 * key: an import of a million users read its tenant whole for each of its
 * ten thousand keys a call.  Here the index is named.  Every key holds the
 * tenant, so that no other tenant's row is read, as row-level security
 * would have it; the caller needs SELECT on the table, as a statement
 * would.
 */
#include "handle_int.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* An index of the tenant and a key, open for lookups (ScimPgKeysOpen()). */
struct ScimPgKeys
{
	Relation	heap;
	Relation	index;
	Snapshot	snapshot;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	ScanKeyData keys[2];		/* tenant = and key =, their arguments set for each lookup */
};

/* The equality of index column col (1-based) of index, as a scan key without its argument. */
static void
key_init(ScanKey key, Relation index, int col)
{
	Oid			type = index->rd_opcintype[col - 1];
	Oid			op = get_opfamily_member(index->rd_opfamily[col - 1], type, type, BTEqualStrategyNumber);

	if (!OidIsValid(op))
		elog(ERROR, "no equality for column %d of index \"%s\"", col, RelationGetRelationName(index));
	ScanKeyEntryInitialize(key, 0, col, BTEqualStrategyNumber, InvalidOid, index->rd_indcollation[col - 1],
						   get_opcode(op), (Datum) 0);
}

/*
 * Open index (of table) in schema scim, whose first column is the tenant
 * and second the key, for lookups under a snapshot of now; closed by
 * ScimPgKeysClose(), or at the end of the transaction.
 */
ScimPgKeys *
ScimPgKeysOpen(const char *table, const char *index)
{
	ScimPgKeys *k = palloc0(sizeof(ScimPgKeys));
	Oid			nsp = get_namespace_oid("scim", false);
	Oid			relid = get_relname_relid(table, nsp);
	Oid			indexid = get_relname_relid(index, nsp);
	AclResult	acl;

	if (!OidIsValid(relid) || !OidIsValid(indexid))
		elog(ERROR, "index \"scim.%s\" of \"scim.%s\" is missing", index, table);
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, table);
	k->heap = table_open(relid, AccessShareLock);
	k->index = index_open(indexid, AccessShareLock);
	key_init(&k->keys[0], k->index, 1);
	key_init(&k->keys[1], k->index, 2);
	k->snapshot = RegisterSnapshot(GetLatestSnapshot());
	k->slot = table_slot_create(k->heap, NULL);
	k->scan = index_beginscan(k->heap, k->index, k->snapshot, 2, 0);
	return k;
}

/* Has the tenant a row whose key is key? */
bool
ScimPgKeysHas(ScimPgKeys *k, Datum tenant, Datum key)
{
	CHECK_FOR_INTERRUPTS();
	k->keys[0].sk_argument = tenant;
	k->keys[1].sk_argument = key;
	index_rescan(k->scan, k->keys, 2, NULL, 0);
	return index_getnext_slot(k->scan, ForwardScanDirection, k->slot);
}

void
ScimPgKeysClose(ScimPgKeys *k)
{
	index_endscan(k->scan);
	ExecDropSingleTupleTableSlot(k->slot);
	UnregisterSnapshot(k->snapshot);
	index_close(k->index, AccessShareLock);
	table_close(k->heap, AccessShareLock);
}
