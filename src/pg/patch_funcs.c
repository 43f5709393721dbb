/*
 * patch_funcs.c
 *		scim.patch(): a PatchOp request applied to a jsonb resource.
 *
 * The core's PATCH engine works on json-c.  Converting a whole 2 kB user to
 * json-c and back cost more than the PATCH itself (malloc led the profile),
 * so only the top-level members the request can touch are converted; the
 * result is the original jsonb with those members replaced.  The request is
 * converted and its paths parsed once per call site and statement
 * (ScimPatchPrepare), not once per row.
 * A request that changes nothing returns the input datum, byte-identical.
 */
#include "scim_pg.h"

#include "utils/memutils.h"

#include "jsonc_conv.h"
#include "patch.h"

typedef struct PatchCache
{
	MemoryContext cxt;
	uint64		generation;
	Jsonb	   *patch;			/* the request, as given */
	text	   *resource_type;
	ScimPatch  *prepared;		/* paths parsed, owned by the core */
	bool		partial;		/* touched[] is known */
	int			ntouched;
	const char *const *touched;
} PatchCache;

static void
free_prepared(void *arg)
{
	PatchCache *cache = (PatchCache *) arg;

	ScimPatchFree(cache->prepared);
	cache->prepared = NULL;
}

static bool
same_bytes(const void *a, const void *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/* The converted request and what it touches, cached in fn_extra. */
static PatchCache *
cached_patch(FunctionCallInfo fcinfo, Jsonb *patch, text *resource_type,
			 const ScimRegistry *reg, const ScimResourceType *type, uint64 generation)
{
	PatchCache *volatile cache = (PatchCache *) fcinfo->flinfo->fn_extra;
	MemoryContext cxt;
	MemoryContext old;
	MemoryContextCallback *cb;

	if (cache != NULL && cache->generation == generation &&
		same_bytes(cache->patch, patch) && same_bytes(cache->resource_type, resource_type))
		return cache;
	if (cache != NULL)
	{
		fcinfo->flinfo->fn_extra = NULL;
		MemoryContextDelete(cache->cxt);
	}
	cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "scim.patch request", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	cache = palloc0(sizeof(PatchCache));
	cache->cxt = cxt;
	cache->patch = (Jsonb *) PG_DETOAST_DATUM_COPY(PointerGetDatum(patch));
	cache->resource_type = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(resource_type));
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = free_prepared;
	cb->arg = cache;
	MemoryContextRegisterResetCallback(cxt, cb);
	MemoryContextSwitchTo(old);

	PG_TRY();
	{
		struct json_object *request = ScimJsonbToJsonC(&cache->patch->root);
		ScimError	err;

		cache->prepared = ScimPatchPrepare(reg, type, request, &err);
		ScimJsonCFree(request); /* the prepared request keeps its own reference */
		if (cache->prepared == NULL)
			ScimPgRaise(&err);
	}
	PG_CATCH();
	{
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	cache->partial = ScimPatchTouched(cache->prepared, &cache->touched, &cache->ntouched);
	cache->generation = generation;
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

PG_FUNCTION_INFO_V1(scim_patch);

/* scim.patch(resource jsonb, patch jsonb, resource_type text) */
Datum
scim_patch(PG_FUNCTION_ARGS)
{
	Jsonb	   *resource = PG_GETARG_JSONB_P(0);
	Jsonb	   *patch = PG_GETARG_JSONB_P(1);
	text	   *resource_type = PG_GETARG_TEXT_PP(2);
	uint64		generation;
	const ScimRegistry *reg = ScimPgRegistry(&generation);
	const ScimResourceType *type = ScimPgResourceType(reg, resource_type);
	PatchCache *cache;
	struct json_object *volatile work = NULL;
	Jsonb	   *result = NULL;
	ScimError	err;
	bool		ok = false;
	bool		changed = false;

	if (!JB_ROOT_IS_OBJECT(resource))
		ereport(ERROR,
				(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
				 errmsg("the resource to patch must be a JSON object")));
	cache = cached_patch(fcinfo, patch, resource_type, reg, type, generation);

	PG_TRY();
	{
		work = cache->partial ?
			ScimJsonbToJsonCPartial(&resource->root, (const char **) cache->touched, cache->ntouched) :
			ScimJsonbToJsonC(&resource->root);
		ok = ScimPatchExecute(cache->prepared, work, &changed, &err);
		if (ok && changed)
			result = cache->partial ?
				ScimJsonbMerge(&resource->root, (const char **) cache->touched, cache->ntouched, work) :
				ScimJsonCToJsonb(work);
	}
	PG_CATCH();
	{
		ScimJsonCFree(work);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimJsonCFree(work);

	if (!ok)
		ScimPgRaise(&err);
	if (!changed)
		PG_RETURN_JSONB_P(resource);
	PG_RETURN_JSONB_P(result);
}
