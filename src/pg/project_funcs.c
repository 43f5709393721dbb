/*
 * project_funcs.c
 *		scim.project(): attributes / excludedAttributes on a jsonb resource,
 *		walked in place; members kept whole are copied in binary form.
 */
#include "scim_pg.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "jsonb_compat.h"
#include "projection.h"

typedef struct ProjectCache
{
	MemoryContext cxt;
	uint64		generation;
	text	   *attributes;		/* NULL when absent */
	text	   *excluded;
	text	   *resource_type;
	ScimProjection *projection;
} ProjectCache;

static void
free_projection(void *arg)
{
	ProjectCache *cache = (ProjectCache *) arg;

	ScimProjectionFree(cache->projection);
	cache->projection = NULL;
}

static bool
same_opt_text(text *a, text *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

static text *
copy_opt_text(text *t)
{
	return t ? (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(t)) : NULL;
}

/*
 * The parsed projection for attributes / excluded on resource_type, cached
 * in *slot (a call site's fn_extra, or a static of the request handler) in
 * a context under parent; parsed again only when the arguments change.
 * A projection that does not parse is raised, or, when failed is given,
 * reported there and NULL returned.
 */
const ScimProjection *
ScimPgProjection(void **slot, MemoryContext parent, text *attributes, text *excluded,
				 text *resource_type, ScimError *failed)
{
	ProjectCache *cache = (ProjectCache *) *slot;
	uint64		generation;
	const ScimRegistry *reg = ScimPgRegistry(&generation);
	const ScimResourceType *type;
	MemoryContext cxt;
	MemoryContext old;
	MemoryContextCallback *cb;
	ScimError	err;

	if (cache != NULL && cache->generation == generation &&
		same_opt_text(cache->attributes, attributes) && same_opt_text(cache->excluded, excluded) &&
		same_opt_text(cache->resource_type, resource_type))
		return cache->projection;
	type = ScimPgResourceType(reg, resource_type);
	if (cache != NULL)
	{
		*slot = NULL;
		MemoryContextDelete(cache->cxt);
	}
	cxt = AllocSetContextCreate(parent, "scim.project", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	cache = palloc0(sizeof(ProjectCache));
	cache->cxt = cxt;
	cache->attributes = copy_opt_text(attributes);
	cache->excluded = copy_opt_text(excluded);
	cache->resource_type = copy_opt_text(resource_type);
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = free_projection;
	cb->arg = cache;
	MemoryContextRegisterResetCallback(cxt, cb);
	MemoryContextSwitchTo(old);

	cache->projection = ScimProjectionParse(reg, type,
											attributes ? VARDATA_ANY(attributes) : NULL,
											attributes ? VARSIZE_ANY_EXHDR(attributes) : 0,
											excluded ? VARDATA_ANY(excluded) : NULL,
											excluded ? VARSIZE_ANY_EXHDR(excluded) : 0, &err);
	/* value filters (emails[type eq "work"]) compare as scim.matches() does */
	if (cache->projection != NULL && !ScimProjectionPrepare(cache->projection, &ScimJsonbOps, NULL, &err))
	{
		ScimProjectionFree(cache->projection);
		cache->projection = NULL;
	}
	if (cache->projection == NULL)
	{
		MemoryContextDelete(cxt);
		if (failed == NULL)
			ScimPgRaise(&err);
		*failed = err;
		return NULL;
	}
	cache->generation = generation;
	*slot = cache;
	return cache->projection;
}

static void push_object(ScimPgSink *s, const ScimProjection *p, const ScimProjScope *scope,
						JsonbContainer *c, const ScimPgMembers *set);

/* Will any member of object c survive the projection? */
static bool
object_keeps_any(const ScimProjection *p, const ScimProjScope *scope, JsonbContainer *c)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	ScimProjScope child;
	bool		any = false;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		if (tok == WJB_KEY &&
			ScimProjectionDecide(p, scope, v.val.string.val, v.val.string.len, &child) != SCIM_PROJ_DROP)
			any = true;
	return any;
}

/*
 * Is element e of the array in scope returned: not left out by a value
 * filter (emails[type eq "work"]), nor an object left with nothing in it?
 */
static bool
element_kept(const ScimProjection *p, const ScimProjScope *scope, bool filtered, JsonbValue *e)
{
	if (filtered)
	{
		ScimValue	ev;

		ScimJsonbValue(e, &ev);
		if (!ScimProjectionKeepsElement(p, scope->attr, &ev, &ScimJsonbOps, NULL))
			return false;
	}
	return !(e->type == jbvBinary && JsonContainerIsObject(e->val.binary.data) &&
			 !object_keeps_any(p, scope, e->val.binary.data));
}

/* Does a value filter choose the elements of the attribute in scope? */
static bool
filters_elements(const ScimProjection *p, const ScimProjScope *scope)
{
	return scope->attr != NULL && scope->attr->multi_valued &&
		ScimProjectionFiltersElements(p, scope->attr);
}

/* Will any element of array c in scope survive the projection? */
static bool
array_keeps_any(const ScimProjection *p, const ScimProjScope *scope, JsonbContainer *c)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	e;
	JsonbIteratorToken tok;
	bool		filtered = filters_elements(p, scope);
	bool		any = false;

	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM && !any && element_kept(p, scope, filtered, &e))
			any = true;
	return any;
}

/* Push a value projected with scope: objects filtered, arrays element-wise. */
static void
push_value(ScimPgSink *s, const ScimProjection *p, const ScimProjScope *scope,
		   JsonbValue *v, JsonbIteratorToken as)
{
	JsonbContainer *c;

	if (v->type != jbvBinary)
	{
		ScimPgSinkValue(s, as, v);
		return;
	}
	c = v->val.binary.data;
	if (JsonContainerIsObject(c))
	{
		push_object(s, p, scope, c, NULL);
		return;
	}
	{
		JsonbIterator *it = JsonbIteratorInit(c);
		JsonbValue	e;
		JsonbIteratorToken tok;
		bool		filtered = filters_elements(p, scope);

		ScimPgSinkOpen(s, WJB_BEGIN_ARRAY);
		while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			if (tok == WJB_ELEM && element_kept(p, scope, filtered, &e))
				push_value(s, p, scope, &e, WJB_ELEM);
		}
		ScimPgSinkClose(s, WJB_END_ARRAY);
	}
}

/*
 * Would walking into v, where every member is kept, leave it as it is?
 * Only an object with nothing in it is left out (the value itself, or an
 * element of it as an array, at any depth of arrays).
 */
static bool
walk_keeps_whole(JsonbValue *v)
{
	JsonbContainer *c;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;

	if (v->type != jbvBinary)
		return true;
	c = v->val.binary.data;
	if (JsonContainerIsObject(c))
		return JsonContainerSize(c) > 0;
	it = JsonbIteratorInit(c);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (tok == WJB_ELEM && e.type == jbvBinary && !walk_keeps_whole(&e))
			return false;
	return true;
}

/* Push member key: v as decision d (with child scope) has it. */
static void
push_member(ScimPgSink *s, const ScimProjection *p, ScimProjDecision d, const ScimProjScope *child,
			const JsonbValue *key, JsonbValue *v)
{
	if (d == SCIM_PROJ_DROP)
		return;
	/*
	 * Most complex attributes lose nothing to the usual projection: kept
	 * whole, a text sink copies them in one walk instead of deciding on
	 * every member.
	 */
	if (d == SCIM_PROJ_SUBSET && child->attr != NULL &&
		ScimProjectionKeepsSubs(p, child->attr) && walk_keeps_whole(v))
		d = SCIM_PROJ_KEEP;
	/* a complex value with nothing left is left out */
	if (d == SCIM_PROJ_SUBSET && v->type == jbvBinary &&
		JsonContainerIsObject(v->val.binary.data) &&
		!object_keeps_any(p, child, v->val.binary.data))
		return;
	/* and so is an attribute whose value filter leaves no element */
	if (d == SCIM_PROJ_SUBSET && v->type == jbvBinary &&
		JsonContainerIsArray(v->val.binary.data) && filters_elements(p, child) &&
		!array_keeps_any(p, child, v->val.binary.data))
		return;
	ScimPgSinkKey(s, key->val.string.val, key->val.string.len);
	if (d == SCIM_PROJ_KEEP)
		ScimPgSinkValue(s, WJB_VALUE, v);
	else
		push_value(s, p, child, v, WJB_VALUE);
}

/* What projection p does with member key in scope; with no projection, keep it. */
static ScimProjDecision
decide(const ScimProjection *p, const ScimProjScope *scope, const JsonbValue *key, ScimProjScope *child)
{
	if (p == NULL)
	{
		child->extension = NULL;
		child->attr = NULL;
		return SCIM_PROJ_KEEP;
	}
	return ScimProjectionDecide(p, scope, key->val.string.val, key->val.string.len, child);
}

/* Push set's member i, projected as a member of the object in scope. */
static void
push_set_member(ScimPgSink *s, const ScimProjection *p, const ScimProjScope *scope,
				const ScimPgMembers *set, int i)
{
	JsonbValue	k;
	JsonbValue	v;
	ScimProjScope child = {NULL, NULL};

	scim_jsonb_string(&k, set->keys[i]);
	scim_jsonb_binary(&v, set->values[i]);
	push_member(s, p, decide(p, scope, &k, &child), &child, &k, &v);
}

/*
 * Push object c with the members the projection keeps, set's members
 * replacing or joining c's own.  They are merged in where their keys sort
 * among c's (which the iterator gives in jsonb's order), so that written
 * as text the object reads as jsonb_out() would write it.
 */
static void
push_object(ScimPgSink *s, const ScimProjection *p, const ScimProjScope *scope,
			JsonbContainer *c, const ScimPgMembers *set)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbValue	key;
	JsonbIteratorToken tok;
	ScimProjDecision d = SCIM_PROJ_DROP;
	ScimProjScope child = {NULL, NULL};
	int			nset = set ? set->n : 0;
	int			next = 0;		/* set's first member not yet pushed */
	bool		replaced = false;

	check_stack_depth();
#ifdef USE_ASSERT_CHECKING
	for (int i = 1; i < nset; i++)
		Assert(ScimPgKeyCmp(set->keys[i - 1], strlen(set->keys[i - 1]),
							set->keys[i], strlen(set->keys[i])) < 0);
#endif
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		switch (tok)
		{
			case WJB_BEGIN_OBJECT:
				ScimPgSinkOpen(s, tok);
				break;
			case WJB_END_OBJECT:
				while (next < nset)
					push_set_member(s, p, scope, set, next++);
				ScimPgSinkClose(s, tok);
				break;
			case WJB_KEY:
				{
					int			cmp = -1;

					while (next < nset &&
						   (cmp = ScimPgKeyCmp(set->keys[next], strlen(set->keys[next]),
											   v.val.string.val, v.val.string.len)) < 0)
						push_set_member(s, p, scope, set, next++);
					replaced = next < nset && cmp == 0;
					if (replaced)
						push_set_member(s, p, scope, set, next++);
					key = v;
					d = decide(p, scope, &v, &child);
				}
				break;
			case WJB_VALUE:
				if (!replaced)
					push_member(s, p, d, &child, &key, &v);
				break;
			default:
				break;
		}
	}
}

/* resource as projection p shows it; anything but an object is returned as is. */
Jsonb *
ScimPgProject(Jsonb *resource, const ScimProjection *p)
{
	return ScimPgProjectWith(resource, p, NULL);
}

/*
 * resource, with set's top-level members set (replacing its own), as
 * projection p shows it (all of it when p is NULL): one pass where setting
 * them first and projecting after would build the document twice.
 */
Jsonb *
ScimPgProjectWith(Jsonb *resource, const ScimProjection *p, const ScimPgMembers *set)
{
	ScimPgSink	s;
	ScimProjScope root = {NULL, NULL};

	if (!JB_ROOT_IS_OBJECT(resource))
		return resource;
	ScimPgSinkInit(&s, NULL);
	push_object(&s, p, &root, &resource->root, set);
	return ScimPgSinkJsonb(&s);
}

/*
 * ScimPgProjectWith()'s document pushed into sink s: as the next element
 * of the array open in it (a page of resources is then made once, where
 * making each resource and then the page around them would make every
 * resource twice), or as the whole document of an empty sink.  A
 * resource that is not an object goes in as it is.
 */
void
ScimPgProjectPush(ScimPgSink *s, Jsonb *resource, const ScimProjection *p, const ScimPgMembers *set)
{
	ScimProjScope root = {NULL, NULL};

	if (!JB_ROOT_IS_OBJECT(resource))
	{
		JsonbValue	v;

		ScimPgSinkValue(s, WJB_ELEM, scim_jsonb_binary(&v, resource));
	}
	else
		push_object(s, p, &root, &resource->root, set);
}

PG_FUNCTION_INFO_V1(scim_project);

/* scim.project(resource, attributes, excluded_attributes, resource_type) */
Datum
scim_project(PG_FUNCTION_ARGS)
{
	Jsonb	   *resource;
	text	   *attributes = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	text	   *excluded = PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2);
	text	   *resource_type;
	const ScimProjection *p;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("resource type must not be null")));
	resource = PG_GETARG_JSONB_P(0);
	resource_type = PG_GETARG_TEXT_PP(3);
	p = ScimPgProjection(&fcinfo->flinfo->fn_extra, fcinfo->flinfo->fn_mcxt,
						 attributes, excluded, resource_type, NULL);
	PG_RETURN_JSONB_P(ScimPgProject(resource, p));
}
