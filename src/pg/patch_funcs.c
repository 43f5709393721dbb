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

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "jsonc_conv.h"
#include "patch.h"

/*
 * Prepared requests, kept for the backend's life in a small ring: an
 * UPDATE ... SET data = scim.patch(data, $1) run once per row by a
 * prepared statement gets a fresh executor (and fn_extra) every time, and
 * preparing the request again cost more than applying it.  Entries belong
 * to one registry generation and are dropped when it changes; they are
 * found only under the filter limits they were prepared with, and kept
 * while requests under other limits (another tenant's) come between.
 *
 * An identity provider sends the same few requests over and over with
 * other values ("replace displayName, active and the work email"), so an
 * entry is also found by the request's shape and takes the new values;
 * converting the whole request to json-c and preparing it again cost more
 * than the PATCH engine's own work.
 */
#define PREPARED_SLOTS 16

typedef struct PreparedEntry
{
	uint64		generation;
	int			max_terms;		/* the filter limits of its paths */
	int			max_depth;
	char	   *request;		/* the bound request's jsonb bytes, in TopMemoryContext */
	Size		request_len;
	char	   *shape;			/* its shape (request_shape()), or NULL */
	Size		shape_len;
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
	if (e->shape)
		pfree(e->shape);
	memset(e, 0, sizeof(*e));
}

/* A copy of len bytes in TopMemoryContext. */
static char *
keep_bytes(const char *bytes, Size len)
{
	char	   *copy = MemoryContextAlloc(TopMemoryContext, len > 0 ? len : 1);

	memcpy(copy, bytes, len);
	return copy;
}

/* Tokens of a shape; a string is its length and bytes, so no two shapes run together. */
#define SHAPE_BEGIN_OBJECT	'{'
#define SHAPE_END_OBJECT	'}'
#define SHAPE_BEGIN_ARRAY	'['
#define SHAPE_END_ARRAY		']'
#define SHAPE_KEY			'k'
#define SHAPE_STRING		's'
#define SHAPE_NUMBER		'n'
#define SHAPE_TRUE			't'
#define SHAPE_FALSE			'f'
#define SHAPE_BOOL			'b'			/* true or false, loose */
#define SHAPE_NULL			'0'
#define SHAPE_OPERATIONS	'O'

static void
shape_bytes(StringInfo shape, char token, const char *bytes, uint32 len)
{
	enlargeStringInfo(shape, 1 + sizeof(len) + len);
	shape->data[shape->len++] = token;
	memcpy(shape->data + shape->len, &len, sizeof(len));
	memcpy(shape->data + shape->len + sizeof(len), bytes, len);
	shape->len += sizeof(len) + len;
}

static void shape_container(StringInfo shape, const JsonbContainer *c, bool loose);

/* A member's value or an element in a shape: in full, or (loose) scalars only by type. */
static void
shape_entry(StringInfo shape, const ScimPgEntry *e, bool loose)
{
	switch (e->type)
	{
		case JENTRY_ISSTRING:
			if (loose)
				appendStringInfoChar(shape, SHAPE_STRING);
			else
				shape_bytes(shape, SHAPE_STRING, e->data, e->len);
			break;
		case JENTRY_ISNUMERIC:
			if (loose)
				appendStringInfoChar(shape, SHAPE_NUMBER);
			else
				shape_bytes(shape, SHAPE_NUMBER, e->data, e->len);
			break;
		case JENTRY_ISBOOL_TRUE:
			appendStringInfoChar(shape, loose ? SHAPE_BOOL : SHAPE_TRUE);
			break;
		case JENTRY_ISBOOL_FALSE:
			appendStringInfoChar(shape, loose ? SHAPE_BOOL : SHAPE_FALSE);
			break;
		case JENTRY_ISNULL:
			appendStringInfoChar(shape, SHAPE_NULL);
			break;
		case JENTRY_ISCONTAINER:
			shape_container(shape, (const JsonbContainer *) e->data, loose);
			break;
		default:
			elog(ERROR, "unexpected jsonb entry type %u", e->type);
	}
}

/* A container in a shape: keys always, scalars in full or (loose) by type. */
static void
shape_container(StringInfo shape, const JsonbContainer *c, bool loose)
{
	ScimPgWalk	w;
	ScimPgEntry key;
	ScimPgEntry value;

	check_stack_depth();
	ScimPgWalkInit(&w, c);
	appendStringInfoChar(shape, w.object ? SHAPE_BEGIN_OBJECT : SHAPE_BEGIN_ARRAY);
	while (ScimPgWalkNext(&w, &key, &value))
	{
		if (w.object)
			shape_bytes(shape, SHAPE_KEY, key.data, key.len);
		shape_entry(shape, &value, loose);
	}
	appendStringInfoChar(shape, w.object ? SHAPE_END_OBJECT : SHAPE_END_ARRAY);
}

/* Is a key name, as the core compares member names? */
static bool
key_is(const ScimPgEntry *key, const char *name)
{
	return ScimStrCaseEq(key->data, key->len, name, strlen(name));
}

/* One element of "Operations" in a shape, its "value" loose and found. */
static bool
shape_operation(StringInfo shape, const ScimPgEntry *op, JsonbValue *value)
{
	ScimPgWalk	w;
	ScimPgEntry key;
	ScimPgEntry v;
	bool		seen = false;

	if (op->type != JENTRY_ISCONTAINER || !JsonContainerIsObject((const JsonbContainer *) op->data))
		return false;
	value->type = jbvNull;
	appendStringInfoChar(shape, SHAPE_BEGIN_OBJECT);
	ScimPgWalkInit(&w, (const JsonbContainer *) op->data);
	while (ScimPgWalkNext(&w, &key, &v))
	{
		bool		is_value = key_is(&key, "value");

		/* two members that are each "value" to the core: which it takes is its business */
		if (is_value && seen)
			return false;
		seen |= is_value;
		shape_bytes(shape, SHAPE_KEY, key.data, key.len);
		shape_entry(shape, &v, is_value);
		if (is_value)
			ScimPgEntryValue(value, &v);
	}
	appendStringInfoChar(shape, SHAPE_END_OBJECT);
	return true;
}

/*
 * A PatchOp request's shape: the request with the scalars in each
 * operation's "value" reduced to their type, which is all that
 * ScimPatchPrepare() reads of them.  Requests of one shape prepare alike,
 * so one prepared request can take another's values (ScimPatchBind()).
 * Sets *values to each operation's value (jbvNull when absent).  False
 * when the request has no such simple form (an object with one
 * "Operations" array of objects, each with at most one "value"): it is
 * then prepared on its own.
 */
static bool
request_shape(Jsonb *patch, StringInfo shape, JsonbValue **values, int *n)
{
	ScimPgWalk	w;
	ScimPgEntry key;
	ScimPgEntry member;
	bool		seen = false;

	if (!JB_ROOT_IS_OBJECT(patch))
		return false;
	*n = 0;
	appendStringInfoChar(shape, SHAPE_BEGIN_OBJECT);
	ScimPgWalkInit(&w, &patch->root);
	while (ScimPgWalkNext(&w, &key, &member))
	{
		const JsonbContainer *ops = (const JsonbContainer *) member.data;
		ScimPgWalk	elems;
		ScimPgEntry op;

		shape_bytes(shape, SHAPE_KEY, key.data, key.len);
		if (!key_is(&key, "Operations"))
		{
			shape_entry(shape, &member, false);
			continue;
		}
		if (seen || member.type != JENTRY_ISCONTAINER || !JsonContainerIsArray(ops) ||
			JsonContainerSize(ops) > SCIM_PATCH_MAX_OPERATIONS)
			return false;
		seen = true;
		appendStringInfoChar(shape, SHAPE_OPERATIONS);
		*values = palloc(sizeof(JsonbValue) * Max(JsonContainerSize(ops), 1));
		ScimPgWalkInit(&elems, ops);
		while (ScimPgWalkNext(&elems, NULL, &op))
			if (!shape_operation(shape, &op, &(*values)[(*n)++]))
				return false;
		appendStringInfoChar(shape, SHAPE_END_ARRAY);
	}
	appendStringInfoChar(shape, SHAPE_END_OBJECT);
	return seen;
}

/* Give entry e the values of a request of its shape; false if it cannot take them. */
static pg_noinline bool
bind_values(PreparedEntry *e, JsonbValue *values, int n)
{
	struct json_object **converted = palloc0(sizeof(struct json_object *) * Max(n, 1));
	volatile bool ok = false;

	PG_TRY();
	{
		for (int i = 0; i < n; i++)
			converted[i] = ScimJsonbValueToJsonC(&values[i]);
		ok = ScimPatchBind(e->prepared, converted, n);
	}
	PG_FINALLY();
	{
		/* the prepared request holds its own references */
		for (int i = 0; i < n; i++)
			ScimJsonCFree(converted[i]);
	}
	PG_END_TRY();
	return ok;
}

/* A request prepared afresh; NULL and *err if it is not valid. */
static pg_noinline ScimPatch *
prepare(Jsonb *patch, const ScimRegistry *reg, const ScimResourceType *type, ScimError *err)
{
	struct json_object *volatile request = NULL;
	ScimPatch  *prepared = NULL;

	PG_TRY();
	{
		request = ScimJsonbToJsonC(&patch->root);
		prepared = ScimPatchPrepare(reg, type, request, ScimPgFilterLimits(), err);
	}
	PG_CATCH();
	{
		ScimJsonCFree(request);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimJsonCFree(request);		/* the prepared request keeps its own reference */
	return prepared;
}

/* Was entry e prepared under these filter limits (a tenant's own, or the settings)? */
static inline bool
same_limits(const PreparedEntry *e, const ScimFilterLimits *limits)
{
	return e->max_terms == limits->max_terms && e->max_depth == limits->max_depth;
}

/* The prepared form of a request, from the ring or made now; NULL and *err if it is not valid. */
static pg_noinline PreparedEntry *
prepared_patch(Jsonb *patch, const ScimRegistry *reg, const ScimResourceType *type, uint64 generation,
			   ScimError *err)
{
	const char *bytes = VARDATA_ANY(patch);
	Size		len = VARSIZE_ANY_EXHDR(patch);
	const ScimFilterLimits *limits = ScimPgFilterLimits();
	PreparedEntry *e;
	ScimPatch  *prepared;
	StringInfoData shape;
	JsonbValue *values = NULL;
	int			nvalues = 0;
	bool		shaped;

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
		if (!same_limits(e, limits))
			continue;			/* kept for the tenant whose limits held its paths */
		if (e->request_len == len && strcmp(e->type, type->name) == 0 &&
			memcmp(e->request, bytes, len) == 0)
			return e;
	}

	initStringInfo(&shape);
	shaped = request_shape(patch, &shape, &values, &nvalues);
	for (int i = 0; shaped && i < PREPARED_SLOTS; i++)
	{
		e = &prepared_ring[i];
		if (e->shape != NULL && same_limits(e, limits) && e->shape_len == (Size) shape.len &&
			strcmp(e->type, type->name) == 0 &&
			memcmp(e->shape, shape.data, shape.len) == 0 && bind_values(e, values, nvalues))
		{
			pfree(e->request);
			e->request = keep_bytes(bytes, len);
			e->request_len = len;
			return e;
		}
	}

	prepared = prepare(patch, reg, type, err);
	if (prepared == NULL)
		return NULL;

	e = &prepared_ring[prepared_next];
	prepared_next = (prepared_next + 1) % PREPARED_SLOTS;
	entry_free(e);
	e->request = keep_bytes(bytes, len);
	e->request_len = len;
	if (shaped)
	{
		e->shape = keep_bytes(shape.data, shape.len);
		e->shape_len = shape.len;
	}
	strlcpy(e->type, type->name, sizeof(e->type));
	e->generation = generation;
	e->max_terms = limits->max_terms;
	e->max_depth = limits->max_depth;
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

/*
 * Do objects a and b have equal members, member "except" (when not NULL)
 * aside?  When names is not NULL only the members named there
 * (case-insensitively) are compared: the others were copied unchanged.
 * Keys come in jsonb's order from both, so one pass over each does.
 */
static bool
members_equal(JsonbContainer *a, JsonbContainer *b, const char *const *names, int n, const char *except)
{
	ScimPgWalk	wa;
	ScimPgWalk	wb;
	/* set when read: zeroed for the compiler, which cannot see that */
	ScimPgEntry ka = {0},
				va = {0},
				kb = {0},
				vb = {0};
	bool		ha;
	bool		hb;

	ScimPgWalkInit(&wa, a);
	ScimPgWalkInit(&wb, b);
	ha = ScimPgWalkNext(&wa, &ka, &va);
	hb = ScimPgWalkNext(&wb, &kb, &vb);
	while (ha || hb)
	{
		int			c = !ha ? 1 : !hb ? -1 : ScimPgKeyCmp(ka.data, ka.len, kb.data, kb.len);
		ScimPgEntry *key = c <= 0 ? &ka : &kb;
		bool		excepted = except != NULL && key->len == strlen(except) &&
			memcmp(key->data, except, key->len) == 0;
		bool		compared = !excepted && (names == NULL || ScimPgKeyIn(key->data, key->len, names, n));

		if (compared && c != 0)
			return false;
		if (compared)
		{
			JsonbValue	x;
			JsonbValue	y;

			ScimPgEntryValue(&x, &va);
			ScimPgEntryValue(&y, &vb);
			if (!values_equal(&x, &y))
				return false;
		}
		if (c <= 0)
			ha = ScimPgWalkNext(&wa, &ka, &va);
		if (c >= 0)
			hb = ScimPgWalkNext(&wb, &kb, &vb);
	}
	return true;
}

/* Are objects a and b equal but for member except, each member as jsonb's = compares it? */
bool
ScimPgObjectsEqualExcept(JsonbContainer *a, JsonbContainer *b, const char *except)
{
	return members_equal(a, b, NULL, 0, except);
}

/*
 * resource with the PatchOp request patch applied, for the resource type
 * type_name.  *changed tells whether the result differs from resource (as
 * jsonb's = compares them); when it does not, resource itself is returned.
 * When stamp is given and the result differs, the result's meta object has
 * stamp's members set too, in the same pass (a resource without a meta
 * gets none).  A request that is not valid or cannot be applied, or a meta
 * to stamp that is not an object, returns NULL with *err filled: the
 * request handler answers it without raising.  What the request set that
 * the schema does not define is left out, and named in *ignored when
 * that is given (ScimIgnored).
 */
Jsonb *
ScimPgPatchTry(Jsonb *resource, Jsonb *patch, text *type_name, const ScimPgStamp *stamp,
			   bool *changed, ScimError *err, ScimIgnored *ignored)
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
		ok = ScimPatchExecuteNoting(cache->prepared, work, changed, err, ignored);
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
										PG_GETARG_TEXT_PP(2), NULL, &changed, &err, NULL);

	if (result == NULL)
		ScimPgRaise(&err);
	PG_RETURN_JSONB_P(result);
}
