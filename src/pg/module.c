/*
 * module.c
 *		Module entry point and small helpers the other glue files share.
 */
#include "scim_pg.h"

#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/regproc.h"

PG_MODULE_MAGIC;

static void
arena_reset_callback(void *arg)
{
	ScimArenaFree((ScimArena *) arg);
}

/*
 * A core arena that is released when memory context cxt is reset or
 * deleted, including by error cleanup: no PG_TRY needed around core calls.
 */
ScimArena *
ScimPgArenaCreate(MemoryContext cxt)
{
	ScimArena  *arena = ScimArenaCreate();
	MemoryContextCallback *cb;

	if (arena == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = arena_reset_callback;
	cb->arg = arena;
	MemoryContextRegisterResetCallback(cxt, cb);
	return arena;
}

/*
 * Quote a column reference given as text ("data", "u.data",
 * "\"My Data\"") for splicing into SQL: each part through quote_identifier.
 */
char *
ScimPgQuoteColumn(text *column)
{
	char	   *s = text_to_cstring(column);
	List	   *names;
	ListCell   *lc;
	StringInfoData out;

	names = stringToQualifiedNameList(s);
	if (list_length(names) < 1 || list_length(names) > 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid data column name \"%s\"", s),
				 errhint("Give a column name, optionally qualified, such as data or u.data.")));
	initStringInfo(&out);
	foreach(lc, names)
	{
		if (out.len > 0)
			appendStringInfoChar(&out, '.');
		appendStringInfoString(&out, quote_identifier(strVal(lfirst(lc))));
	}
	return out.data;
}
