/*
 * module.c
 *		Module entry point, the settings, and small helpers the other glue
 *		files share.
 */
#include "scim_pg.h"

#include <limits.h>

#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "access/htup_details.h"
#include "catalog/pg_class.h"

#include "defaults.h"
#include "filter.h"

PG_MODULE_MAGIC;

/*
 * The settings.  Every one is PGC_SUSET: the HTTP layer's role can SET
 * anything a user may set, so a user-settable limit would be no limit.  A
 * superuser sets them in postgresql.conf or with ALTER ROLE / ALTER
 * DATABASE ... SET; scim.handle() sets a tenant's own limits for its call.
 * The SQL functions read them with current_setting().
 */
int			scim_max_results = 1000;
int			scim_default_count = 100;
int			scim_cursor_timeout = 3600;
int			scim_request_timeout = SCIM_REQUEST_TIMEOUT_DEFAULT_MS;
static char *scim_event_retention = NULL;
static int	filter_max_terms = SCIM_FILTER_DEFAULT_MAX_TERMS;
static int	filter_max_depth = SCIM_FILTER_DEFAULT_MAX_DEPTH;

void		_PG_init(void);

void
_PG_init(void)
{
	ScimPgTenantInit();
	ScimPgChangesInit();
	DefineCustomIntVariable("scim.max_results",
							"The largest page scim.handle() answers (maxResults, RFC 7644 section 3.4.2.4).",
							NULL, &scim_max_results, 1000, 1, 100000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scim.default_count",
							"The page size of a list request without count.",
							NULL, &scim_default_count, 100, 0, 100000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scim.cursor_timeout",
							"Seconds a nextCursor stays valid (RFC 9865).",
							NULL, &scim_cursor_timeout, 3600, 1, 7 * 24 * 3600,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scim.request_timeout",
							"The deadline of one scim.handle() call; past it the call is canceled and writes nothing.",
							"0 means no deadline. scim.tenant.request_timeout overrides it per tenant.",
							&scim_request_timeout, SCIM_REQUEST_TIMEOUT_DEFAULT_MS, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomStringVariable("scim.event_retention",
							   "How long scim.prune_events() keeps events when called without an argument.",
							   NULL, &scim_event_retention, "90 days",
							   PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scim.filter_max_terms",
							"Most attribute expressions a SCIM filter may have.",
							"Each comparison or presence test is a term, also inside a value filter such as emails[...]. "
							"A filter with more is refused with invalidFilter before it is read to the end.",
							&filter_max_terms, SCIM_FILTER_DEFAULT_MAX_TERMS, 1, SCIM_FILTER_MAX_TERMS,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("scim.filter_max_depth",
							"Most levels a SCIM filter may nest.",
							"Parentheses, also those after not, and value filters such as emails[...] each open a level. "
							"A filter that nests deeper is refused with invalidFilter.",
							&filter_max_depth, SCIM_FILTER_DEFAULT_MAX_DEPTH, 1, SCIM_FILTER_MAX_DEPTH,
							PGC_SUSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("scim");
}

/* The filter limits in force, for every call of the filter parser. */
const ScimFilterLimits *
ScimPgFilterLimits(void)
{
	static ScimFilterLimits limits = {0, 0, "scim.filter_max_terms", "scim.filter_max_depth"};

	limits.max_terms = filter_max_terms;
	limits.max_depth = filter_max_depth;
	return &limits;
}

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

/*
 * The owner of relation relid, or InvalidOid when it is gone: the handler
 * reads scim.token and scim.tenant with their owner's rights, as a
 * SECURITY DEFINER function of the owner's would.
 */
Oid
ScimPgRelOwner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}
