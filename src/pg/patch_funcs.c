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

#include "utils/builtins.h"
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

/* The prepared form of a request, from the ring or made now; NULL and *err if it is not valid. */
static PreparedEntry *
prepared_patch(Jsonb *patch, const ScimRegistry *reg, const ScimResourceType *type, uint64 generation,
			   ScimError *err)
{
	const char *bytes = VARDATA_ANY(patch);
	Size		len = VARSIZE_ANY_EXHDR(patch);
	PreparedEntry *e;
	struct json_object *volatile request = NULL;
	ScimPatch  *prepared = NULL;

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
		prepared = ScimPatchPrepare(reg, type, request, err);
	}
	PG_CATCH();
	{
		ScimJsonCFree(request);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimJsonCFree(request);		/* the prepared request keeps its own reference */
	if (prepared == NULL)
		return NULL;

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

/* Are jsonb values a and b equal, as jsonb's = compares them? */
static bool
values_equal(JsonbValue *a, JsonbValue *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvNull:
			return true;
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		case jbvString:
			/* the database's collation is deterministic: equal means the same bytes */
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0;
		case jbvNumeric:
			return DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(a->val.numeric),
													NumericGetDatum(b->val.numeric)));
		case jbvBinary:
			return compareJsonbContainers(a->val.binary.data, b->val.binary.data) == 0;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) a->type);
	}
	return false;
}

/* The next member of an object being iterated (skipping nested ones); false at its end. */
static bool
next_member(JsonbIterator **it, JsonbValue *key, JsonbValue *value)
{
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(it, key, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			if (JsonbIteratorNext(it, value, true) != WJB_VALUE)
				elog(ERROR, "jsonb object key without a value");
			return true;
		}
		if (tok == WJB_END_OBJECT)
			return false;
	}
	return false;
}

/*
 * Do objects a and b have equal members, member "except" (when not NULL)
 * aside?  When names is not NULL only the members named there
 * (case-insensitively) are compared: the others were copied unchanged.
 * Keys come in jsonb's order from both, so one pass over each does.
 */
static bool
members_equal(JsonbContainer *a, JsonbContainer *b, const char *const *names, int n, const char *except)
{
	JsonbIterator *ia = JsonbIteratorInit(a);
	JsonbIterator *ib = JsonbIteratorInit(b);
	JsonbValue	ka,
				va,
				kb,
				vb;
	bool		ha = next_member(&ia, &ka, &va);
	bool		hb = next_member(&ib, &kb, &vb);
	int			except_len = except != NULL ? strlen(except) : -1;

	while (ha || hb)
	{
		int			c = !ha ? 1 : !hb ? -1 :
			ScimPgKeyCmp(ka.val.string.val, ka.val.string.len, kb.val.string.val, kb.val.string.len);
		JsonbValue *key = c <= 0 ? &ka : &kb;
		bool		compared = !(key->val.string.len == except_len &&
								 memcmp(key->val.string.val, except, except_len) == 0) &&
			(names == NULL || ScimPgKeyIn(key->val.string.val, key->val.string.len, names, n));

		if (compared && (c != 0 || !values_equal(&va, &vb)))
			return false;
		if (c <= 0)
			ha = next_member(&ia, &ka, &va);
		if (c >= 0)
			hb = next_member(&ib, &kb, &vb);
	}
	return true;
}

/*
 * resource with the PatchOp request patch applied, for the resource type
 * type_name.  *changed tells whether the result differs from resource (as
 * jsonb's = compares them); when it does not, resource itself is returned.
 * When stamp is given and the result differs, the result's meta object has
 * stamp's members set too, in the same pass (a resource without a meta
 * gets none).  A request that is not valid or cannot be applied, or a meta
 * to stamp that is not an object, returns NULL with *err filled: the
 * request handler answers it without raising.
 */
Jsonb *
ScimPgPatchTry(Jsonb *resource, Jsonb *patch, text *type_name, const ScimPgStamp *stamp,
			   bool *changed, ScimError *err)
{
	uint64		generation;
	const ScimRegistry *reg = ScimPgRegistry(&generation);
	const ScimResourceType *type = ScimPgResourceType(reg, type_name);
	PreparedEntry *cache;
	struct json_object *volatile work = NULL;
	Jsonb	   *result = NULL;
	bool		ok = false;

	*changed = false;
	if (!JB_ROOT_IS_OBJECT(resource))
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0, "the resource to patch must be a JSON object");
		return NULL;
	}
	cache = prepared_patch(patch, reg, type, generation, err);
	if (cache == NULL)
		return NULL;
	PG_TRY();
	{
		work = cache->partial ?
			ScimJsonbToJsonCPartial(&resource->root, (const char **) cache->touched, cache->ntouched) :
			ScimJsonbToJsonC(&resource->root);
		ok = ScimPatchExecute(cache->prepared, work, changed, err);
		if (ok && *changed)
		{
			/* the member is stamped where it is: in work, or as it is merged */
			if (stamp == NULL || ScimJsonCStamp(work, stamp))
				result = cache->partial ?
					ScimJsonbMerge(&resource->root, (const char **) cache->touched, cache->ntouched, work, stamp) :
					ScimJsonCToJsonb(work);
			if (result == NULL)
			{
				ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0, "the resource's %s must be a JSON object",
							 stamp->member);
				ok = false;
			}
		}
	}
	PG_CATCH();
	{
		ScimJsonCFree(work);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimJsonCFree(work);

	if (!ok)
		return NULL;
	/* an operation that applied may still leave everything as it was */
	if (*changed && members_equal(&resource->root, &result->root,
								  cache->partial ? (const char *const *) cache->touched : NULL,
								  cache->ntouched, stamp != NULL ? stamp->member : NULL))
		*changed = false;
	return *changed ? result : resource;
}

PG_FUNCTION_INFO_V1(scim_patch);

/* scim.patch(resource jsonb, patch jsonb, resource_type text) */
Datum
scim_patch(PG_FUNCTION_ARGS)
{
	bool		changed;
	ScimError	err;
	Jsonb	   *result = ScimPgPatchTry(PG_GETARG_JSONB_P(0), PG_GETARG_JSONB_P(1),
										PG_GETARG_TEXT_PP(2), NULL, &changed, &err);

	if (result == NULL)
		ScimPgRaise(&err);
	PG_RETURN_JSONB_P(result);
}
