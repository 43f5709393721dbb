/*
 * filter_funcs.c
 *		scim.filter_sql() and scim.matches().
 *
 * Both parse and resolve through the core, within the filter limits
 * (scim.filter_max_terms, scim.filter_max_depth).  scim.matches() keeps the
 * resolved filter in fn_extra, keyed by the filter text, the resource type,
 * the registry generation and the limits, so a WHERE clause over a million
 * rows parses the filter once per statement, not once per row.
 */
#include "scim_pg.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "filter.h"
#include "strbuf.h"

/*
 * Parse filter s (len bytes) and resolve it on type into arena (flags:
 * SCIM_RESOLVE_*), or raise after releasing nothing of ours.
 */
static ScimFilter *
parse_resolved(ScimArena *arena, const char *s, size_t len, const ScimResourceType *type,
			   const ScimRegistry *reg, int flags)
{
	ScimError	err;
	ScimFilter *f;

	f = ScimFilterParse(arena, s, len, ScimPgFilterLimits(), &err);
	if (f == NULL)
		ScimPgRaise(&err);		/* the arena belongs to a memory context */
	if (!ScimFilterResolveFor(f, reg, type, s, flags, &err))
		ScimPgRaise(&err);
	return f;
}

/* The SQL of resolved f: over jsonb column, or over the store's row alias when given. */
static char *
sql_of(const ScimFilter *f, const char *column, const char *alias, int *len)
{
	ScimBuf		buf;
	ScimError	err;
	char	   *result;

	ScimBufInit(&buf);
	if (!(alias != NULL ? ScimFilterToSqlStore(f, alias, &buf, &err) : ScimFilterToSql(f, column, &buf, &err)))
	{
		ScimBufFree(&buf);
		ScimPgRaise(&err);
	}
	result = pnstrdup(buf.data, buf.len);
	*len = (int) buf.len;
	ScimBufFree(&buf);
	return result;
}

/* The same as text. */
static text *
sql_text(const ScimFilter *f, const char *column, const char *alias)
{
	int			len;
	char	   *sql = sql_of(f, column, alias, &len);

	return cstring_to_text_with_len(sql, len);
}

PG_FUNCTION_INFO_V1(scim_filter_sql);

/* scim.filter_sql(filter, resource_type, data_column) */
Datum
scim_filter_sql(PG_FUNCTION_ARGS)
{
	char	   *column = ScimPgQuoteColumn(PG_GETARG_TEXT_PP(2));
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	ScimArena  *arena = ScimPgArenaCreate(CurrentMemoryContext);
	text	   *filter = PG_GETARG_TEXT_PP(0);
	ScimFilter *f = parse_resolved(arena, VARDATA_ANY(filter), VARSIZE_ANY_EXHDR(filter),
								   ScimPgResourceType(reg, PG_GETARG_TEXT_PP(1)), reg, 0);

	PG_RETURN_TEXT_P(sql_text(f, column, NULL));
}

PG_FUNCTION_INFO_V1(scim_store_filter_sql);

/*
 * scim._store_filter_sql(filter, resource_type, root, alias): the SQL of a
 * filter over a row "alias" of the store's scim.users or scim.groups, with
 * membership read from scim.group_members; with root, attributes of other
 * resource types have no value here instead of being errors (POST /.search).
 */
Datum
scim_store_filter_sql(PG_FUNCTION_ARGS)
{
	text	   *filter = PG_GETARG_TEXT_PP(0);
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimPgResourceType(reg, PG_GETARG_TEXT_PP(1));
	const char *alias = quote_identifier(text_to_cstring(PG_GETARG_TEXT_PP(3)));

	PG_RETURN_TEXT_P(cstring_to_text(ScimPgStoreFilterSql(VARDATA_ANY(filter), VARSIZE_ANY_EXHDR(filter), type,
														   PG_GETARG_BOOL(2), alias)));
}

/*
 * The SQL of filter s (len bytes) over row alias (an identifier, quoted
 * already) of the store's table of type, as scim._store_filter_sql() makes
 * it; raises the filter's error.
 */
char *
ScimPgStoreFilterSql(const char *s, size_t len, const ScimResourceType *type, bool root, const char *alias)
{
	int			flags = SCIM_RESOLVE_STORE | (root ? SCIM_RESOLVE_ROOT : 0);
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	ScimArena  *arena = ScimPgArenaCreate(CurrentMemoryContext);
	int			sql_len;

	return sql_of(parse_resolved(arena, s, len, type, reg, flags), NULL, alias, &sql_len);
}

typedef struct MatchCache
{
	MemoryContext cxt;			/* holds this struct, the keys and the arena */
	uint64		generation;
	int			max_terms;		/* the limits it was parsed under */
	int			max_depth;
	text	   *filter;
	text	   *resource_type;
	ScimFilter *f;
} MatchCache;

static bool
same_text(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/*
 * The resolved filter for this call, from fn_extra when the filter text,
 * resource type and registry are those of the previous call.
 */
static ScimFilter *
cached_filter(FunctionCallInfo fcinfo, text *filter, text *resource_type)
{
	MatchCache *cache = (MatchCache *) fcinfo->flinfo->fn_extra;
	uint64		generation;
	const ScimRegistry *reg = ScimPgRegistry(&generation);
	const ScimFilterLimits *limits = ScimPgFilterLimits();
	const ScimResourceType *type;
	MatchCache *volatile fresh;
	MemoryContext cxt;
	MemoryContext old;
	ScimArena  *arena;
	ScimError	err;

	if (cache != NULL && cache->generation == generation &&
		cache->max_terms == limits->max_terms && cache->max_depth == limits->max_depth &&
		same_text(cache->filter, filter) && same_text(cache->resource_type, resource_type))
		return cache->f;
	type = ScimPgResourceType(reg, resource_type);

	/* a private context, so that replacing the cache frees the old arena */
	if (cache != NULL)
	{
		fcinfo->flinfo->fn_extra = NULL;
		MemoryContextDelete(cache->cxt);
	}
	cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "scim.matches filter",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	fresh = palloc0(sizeof(MatchCache));
	fresh->cxt = cxt;
	fresh->filter = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(filter));
	fresh->resource_type = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(resource_type));
	arena = ScimPgArenaCreate(cxt);
	MemoryContextSwitchTo(old);

	PG_TRY();
	{
		fresh->f = parse_resolved(arena, VARDATA_ANY(filter), VARSIZE_ANY_EXHDR(filter), type, reg, 0);
		if (!ScimFilterEvalPrepare(fresh->f, arena, &ScimJsonbOps, NULL, &err))
			ScimPgRaise(&err);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	fresh->generation = generation;
	fresh->max_terms = limits->max_terms;
	fresh->max_depth = limits->max_depth;
	fcinfo->flinfo->fn_extra = fresh;
	return fresh->f;
}

PG_FUNCTION_INFO_V1(scim_matches);

/* scim.matches(resource, filter, resource_type) */
Datum
scim_matches(PG_FUNCTION_ARGS)
{
	Jsonb	   *resource = PG_GETARG_JSONB_P(0);
	text	   *filter = PG_GETARG_TEXT_PP(1);
	text	   *resource_type = PG_GETARG_TEXT_PP(2);
	ScimFilter *f = cached_filter(fcinfo, filter, resource_type);
	ScimValue	root;

	ScimJsonbRoot(resource, &root);
	PG_RETURN_BOOL(ScimFilterEval(f, &root, &ScimJsonbOps, NULL));
}

/*
 * Is filter one "eq" on a single-valued string attribute of type's core
 * schema or the common attributes (userName eq "x", externalId eq "y")?
 * Then *attr is the attribute's canonical name and *value, *value_len the
 * compared string.  The request handler answers those lookups, the ones
 * identity providers make all day, with statements it plans once.
 */
bool
ScimPgSimpleEq(const char *filter, size_t len, const ScimResourceType *type,
			   const char **attr, const char **value, size_t *value_len)
{
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	ScimArena  *arena = ScimPgArenaCreate(CurrentMemoryContext);
	ScimFilter *f;
	ScimError	err;

	f = ScimFilterParse(arena, filter, len, ScimPgFilterLimits(), &err);
	if (f == NULL || f->kind != SCIM_F_ATTR || f->op != SCIM_OP_EQ || f->lit_kind != SCIM_LIT_STRING ||
		!ScimFilterResolve(f, reg, type, filter, &err) ||
		f->rpath.extension != NULL || f->rpath.sub != NULL || f->rpath.attr->multi_valued ||
		f->rpath.attr->type != SCIM_TYPE_STRING)
		return false;
	*attr = f->rpath.attr->name;	/* the registry's, not the arena's */
	*value = pnstrdup(f->lit, f->lit_len);
	*value_len = f->lit_len;
	return true;
}

PG_FUNCTION_INFO_V1(scim_simple_eq);

/* scim._simple_eq(filter, resource_type) → text[]: {attribute, value}, or NULL; see ScimPgSimpleEq. */
Datum
scim_simple_eq(PG_FUNCTION_ARGS)
{
	text	   *filter = PG_GETARG_TEXT_PP(0);
	text	   *resource_type = PG_GETARG_TEXT_PP(1);
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimRegistryFindType(reg, VARDATA_ANY(resource_type),
														 VARSIZE_ANY_EXHDR(resource_type));
	const char *attr;
	const char *value;
	size_t		value_len;
	Datum		items[2];

	if (type == NULL ||
		!ScimPgSimpleEq(VARDATA_ANY(filter), VARSIZE_ANY_EXHDR(filter), type, &attr, &value, &value_len))
		PG_RETURN_NULL();
	items[0] = CStringGetTextDatum(attr);
	items[1] = PointerGetDatum(cstring_to_text_with_len(value, (int) value_len));
	PG_RETURN_ARRAYTYPE_P(construct_array(items, 2, TEXTOID, -1, false, TYPALIGN_INT));
}
