/*
 * patch_funcs.c
 *		scim.patch(): a PatchOp request applied to a jsonb resource.
 *
 * The core's PATCH engine works on json-c.  Converting a whole 2 kB user to
 * json-c and back cost more than the PATCH itself (malloc led the profile),
 * so only the top-level members the request can touch are converted; the
 * result is the original jsonb with those members replaced.  The request is
 * converted and its paths parsed once (ScimPatchPrepare) and kept for
 * the backend's life, not prepared again per row or per statement.
 * A request that changes nothing returns the input datum, byte-identical.
 */
#include "scim_pg.h"

#include "utils/memutils.h"

#include "jsonc_conv.h"
#include "patch.h"

/*
 * Prepared requests, kept for the backend's life in a small ring: an
 * UPDATE ... SET data = scim.patch(data, $1) run once per row by a
 * prepared statement gets a fresh executor (and fn_extra) every time, and
 * preparing the request again cost more than applying it.  Entries belong
 * to one registry generation and are dropped when it changes.
 */
#define PREPARED_SLOTS 16

typedef struct PreparedEntry
{
	uint64		generation;
	char	   *request;		/* the request's jsonb bytes, in TopMemoryContext */
	Size		request_len;
	char		type[NAMEDATALEN];
	ScimPatch  *prepared;		/* owned by the core */
	bool		partial;		/* touched[] is known */
	int			ntouched;
	const char *const *touched;
} PreparedEntry;

static PreparedEntry prepared_ring[PREPARED_SLOTS];
static int	prepared_next;

static void
entry_free(PreparedEntry *e)
{
	ScimPatchFree(e->prepared);
	if (e->request)
		pfree(e->request);
	memset(e, 0, sizeof(*e));
}

/* The prepared form of a request, from the ring or made now. */
static PreparedEntry *
prepared_patch(Jsonb *patch, const ScimRegistry *reg, const ScimResourceType *type, uint64 generation)
{
	const char *bytes = VARDATA_ANY(patch);
	Size		len = VARSIZE_ANY_EXHDR(patch);
	PreparedEntry *e;
	struct json_object *volatile request = NULL;
	ScimPatch  *prepared = NULL;
	ScimError	err;

	for (int i = 0; i < PREPARED_SLOTS; i++)
	{
		e = &prepared_ring[i];
		if (e->prepared == NULL)
			continue;
		if (e->generation != generation)
		{
			entry_free(e);		/* its paths point into an old registry */
			continue;
		}
		if (e->request_len == len && strcmp(e->type, type->name) == 0 &&
			memcmp(e->request, bytes, len) == 0)
			return e;
	}

	PG_TRY();
	{
		request = ScimJsonbToJsonC(&patch->root);
		prepared = ScimPatchPrepare(reg, type, request, &err);
	}
	PG_CATCH();
	{
		ScimJsonCFree(request);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimJsonCFree(request);		/* the prepared request keeps its own reference */
	if (prepared == NULL)
		ScimPgRaise(&err);

	e = &prepared_ring[prepared_next];
	prepared_next = (prepared_next + 1) % PREPARED_SLOTS;
	entry_free(e);
	e->request = MemoryContextAlloc(TopMemoryContext, len > 0 ? len : 1);
	memcpy(e->request, bytes, len);
	e->request_len = len;
	strlcpy(e->type, type->name, sizeof(e->type));
	e->generation = generation;
	e->prepared = prepared;
	e->partial = ScimPatchTouched(prepared, &e->touched, &e->ntouched);
	return e;
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
	PreparedEntry *cache;
	struct json_object *volatile work = NULL;
	Jsonb	   *result = NULL;
	ScimError	err;
	bool		ok = false;
	bool		changed = false;

	if (!JB_ROOT_IS_OBJECT(resource))
		ereport(ERROR,
				(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
				 errmsg("the resource to patch must be a JSON object")));
	cache = prepared_patch(patch, reg, type, generation);

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
