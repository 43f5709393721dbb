/*
 * patch_apply.c
 *		The operations of a prepared PATCH request (RFC 7644 §3.5.2.1-3)
 *		applied to a resource: add, replace and remove on a whole
 *		attribute, a sub-attribute, or the elements a value filter selects.
 */
#include "patch_int.h"

#include <json-c/json.h>
#include <string.h>

#include "filter_eval.h"
#include "json_view.h"

/* ---- locating attributes -------------------------------------------------------- */

/* Add a URN to "schemas" when the resource has that array and lacks it. */
static void
add_schema_urn(Patcher *pt, const char *urn)
{
	struct json_object *schemas = ScimPatchGetCi(pt->res, "schemas", 7, NULL);
	size_t		n;

	if (!json_object_is_type(schemas, json_type_array))
		return;
	n = json_object_array_length(schemas);
	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(schemas, i);

		if (json_object_is_type(e, json_type_string) &&
			ScimStrCaseEq(json_object_get_string(e), (size_t) json_object_get_string_len(e), urn, strlen(urn)))
			return;
	}
	json_object_array_add(schemas, json_object_new_string(urn));
	pt->dirty = true;
}

/*
 * The object that holds attribute p->attr: the resource, or its extension
 * object (created when "create" is set).  NULL if there is none.
 */
static struct json_object *
container(Patcher *pt, const ScimPath *p, bool create)
{
	const char *key = NULL;
	struct json_object *ext;

	if (p->extension == NULL)
		return pt->res;
	ext = ScimPatchGetCi(pt->res, p->extension->id, p->extension->id_len, &key);
	if (json_object_is_type(ext, json_type_object))
	{
		if (strcmp(key, p->extension->id) != 0)
		{
			json_object_get(ext);
			ScimPatchSetCanonical(pt, pt->res, p->extension->id, ext);
		}
		return ext;
	}
	if (!create)
		return NULL;
	ext = json_object_new_object();
	ScimPatchSetCanonical(pt, pt->res, p->extension->id, ext);
	add_schema_urn(pt, p->extension->id);
	return ext;
}

/*
 * Drop an extension object that a removal left empty, and its URN from
 * "schemas", undoing what container() did when the first attribute came.
 */
static void
prune_container(Patcher *pt, const ScimPath *p)
{
	struct json_object *ext;
	struct json_object *schemas;

	if (p->extension == NULL)
		return;
	ext = container(pt, p, false);
	if (ext == NULL || json_object_object_length(ext) != 0)
		return;
	ScimPatchDeleteAttr(pt, pt->res, p->extension->id);
	schemas = ScimPatchGetCi(pt->res, "schemas", 7, NULL);
	if (json_object_is_type(schemas, json_type_array))
		for (size_t i = json_object_array_length(schemas); i > 0; i--)
		{
			struct json_object *e = json_object_array_get_idx(schemas, i - 1);

			if (json_object_is_type(e, json_type_string) &&
				ScimStrCaseEq(json_object_get_string(e), (size_t) json_object_get_string_len(e),
							  p->extension->id, p->extension->id_len))
			{
				json_object_array_del_idx(schemas, i - 1, 1);
				pt->dirty = true;
			}
		}
}

/* The JSON view of one element, for filter evaluation. */
static bool
element_matches(const ScimFilter *filter, struct json_object *e)
{
	ScimValue	v;

	ScimJsonCValue(e, &v);
	return ScimFilterEvalElement(filter, &v, &ScimJsonCOps, NULL);
}

/*
 * After a write that set primary=true on element "keep", clear it on the
 * others (RFC 7644 §3.5.2: at most one primary value).
 */
static void
fix_primary(Patcher *pt, struct json_object *arr, struct json_object *keep)
{
	size_t		n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++)
	{
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct json_object *p;

		if (e != keep && json_object_object_get_ex(e, "primary", &p) && json_object_get_boolean(p) &&
			json_object_is_type(p, json_type_boolean))
		{
			json_object_object_add(e, "primary", json_object_new_boolean(0));
			pt->dirty = true;
		}
	}
}

static bool
is_primary(struct json_object *e)
{
	struct json_object *p;

	return json_object_is_type(e, json_type_object) &&
		json_object_object_get_ex(e, "primary", &p) &&
		json_object_is_type(p, json_type_boolean) && json_object_get_boolean(p);
}

/* Reject a set of values with more than one primary (RFC 7643 §2.4). */
static bool
check_one_primary(Patcher *pt, const ScimAttr *a, struct json_object *arr)
{
	size_t		n = json_object_array_length(arr);
	int			count = 0;

	for (size_t i = 0; i < n; i++)
		if (is_primary(json_object_array_get_idx(arr, i)))
			count++;
	if (count > 1)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" has %d values marked primary; at most one may be",
							 a->name, count);
	return true;
}

/*
 * The element a filter describes, for an upsert: the eq conditions of an
 * and-only filter ({"type": "work"} from type eq "work").  NULL when the
 * filter says anything else, which leaves nothing well-defined to create.
 */
static bool
upsert_fields(const ScimFilter *f, struct json_object *out)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
			return upsert_fields(f->left, out) && upsert_fields(f->right, out);
		case SCIM_F_ATTR:
			if (f->op != SCIM_OP_EQ)
				return false;
			switch (f->lit_kind)
			{
				case SCIM_LIT_STRING:
					json_object_object_add(out, f->rpath.sub->name,
										   json_object_new_string_len(f->lit, (int) f->lit_len));
					return true;
				case SCIM_LIT_TRUE:
				case SCIM_LIT_FALSE:
					json_object_object_add(out, f->rpath.sub->name,
										   json_object_new_boolean(f->lit_kind == SCIM_LIT_TRUE));
					return true;
				default:
					return false;
			}
		default:
			return false;
	}
}

/* ---- the operations ------------------------------------------------------------- */

/* Is every member of sub also in sup with an equal value? */
static bool
subset(struct json_object *sub, struct json_object *sup)
{
	if (!json_object_is_type(sub, json_type_object) || !json_object_is_type(sup, json_type_object))
		return json_object_equal(sub, sup);
	json_object_object_foreach(sub, key, val)
	{
		struct json_object *other;

		if (!json_object_object_get_ex(sup, key, &other) || !json_object_equal(val, other))
			return false;
	}
	return true;
}

/* Remove from arr the elements that contain every member of a given one. */
static void
remove_listed(Patcher *pt, struct json_object *arr, struct json_object *given)
{
	size_t		n = json_object_array_length(given);

	for (size_t g = 0; g < n; g++)
	{
		struct json_object *want = json_object_array_get_idx(given, g);

		for (size_t i = json_object_array_length(arr); i > 0; i--)
			if (subset(want, json_object_array_get_idx(arr, i - 1)))
			{
				json_object_array_del_idx(arr, i - 1, 1);
				pt->dirty = true;
			}
	}
}

/* add/replace/remove on a whole attribute: no filter, no sub-attribute. */
static bool
apply_attr(Patcher *pt, const PatchPath *pp, struct json_object *value)
{
	const ScimAttr *a = pp->p.attr;
	struct json_object *cont = container(pt, &pp->p, pt->kind != PATCH_REMOVE && value != NULL);
	struct json_object *cur = cont ? ScimPatchGetCi(cont, a->name, a->name_len, NULL) : NULL;
	struct json_object *n;
	Permit		permit;

	if (pt->kind == PATCH_REMOVE || value == NULL)
	{
		if (pt->kind == PATCH_ADD)
			return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "operation \"add\" needs a value");
		if (cur == NULL)
			return true;		/* nothing to remove */
		if (pt->kind == PATCH_REMOVE && value != NULL && a->multi_valued &&
			json_object_is_type(cur, json_type_array))
		{
			/* Entra: {"op":"Remove","path":"members","value":[{"value":"id"}]} */
			n = ScimPatchNormalize(pt, a, value, false);
			if (n == NULL)
				return false;
			if (a->mutability == SCIM_MUT_READ_ONLY)
			{
				json_object_put(n);
				return ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
			}
			remove_listed(pt, cur, n);
			json_object_put(n);
			if (json_object_array_length(cur) == 0)
			{
				if (a->required)
					return ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is required and cannot lose its last value",
										 a->name);
				ScimPatchDeleteAttr(pt, cont, a->name);
			}
			prune_container(pt, &pp->p);
			return true;
		}
		permit = ScimPatchMayWrite(pt, a, cur, NULL);
		if (permit == PERMIT_NO)
			return false;
		ScimPatchDeleteAttr(pt, cont, a->name);
		prune_container(pt, &pp->p);
		return true;
	}

	n = ScimPatchNormalize(pt, a, value, false);
	if (n == NULL)
		return false;

	if (a->multi_valued)
	{
		if (pt->kind == PATCH_REPLACE || !json_object_is_type(cur, json_type_array))
		{
			/* replace the whole set (or add to nothing) */
			if (!check_one_primary(pt, a, n) ||
				(permit = ScimPatchMayWrite(pt, a, cur, n)) == PERMIT_NO)
			{
				json_object_put(n);
				return false;
			}
			if (permit == PERMIT_SKIP || (cur == NULL && json_object_array_length(n) == 0))
				json_object_put(n);
			else if (json_object_array_length(n) == 0)
			{
				json_object_put(n);
				if (ScimPatchMayWrite(pt, a, cur, NULL) == PERMIT_NO)
					return false;	/* an empty set unassigns: not for required ones */
				ScimPatchDeleteAttr(pt, cont, a->name);
			}
			else
				ScimPatchSetCanonical(pt, cont, a->name, n);
			return true;
		}
		else
		{
			/* add: append what is not there yet */
			size_t		count = json_object_array_length(n);
			struct json_object *new_primary = NULL;

			for (size_t i = 0; i < count; i++)
			{
				struct json_object *e = json_object_array_get_idx(n, i);
				size_t		have = json_object_array_length(cur);
				bool		present = false;

				for (size_t j = 0; j < have && !present; j++)
					present = subset(e, json_object_array_get_idx(cur, j));
				if (present)
					continue;
				if (a->mutability == SCIM_MUT_READ_ONLY)
				{
					json_object_put(n);
					return ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
				}
				json_object_array_add(cur, json_object_get(e));
				pt->dirty = true;
				if (is_primary(e))
					new_primary = e;
			}
			if (new_primary)
				fix_primary(pt, cur, new_primary);
			json_object_put(n);
			return true;
		}
	}

	if (a->type == SCIM_TYPE_COMPLEX && json_object_is_type(cur, json_type_object))
	{
		/* merge: sub-attributes not given are left alone (§3.5.2.1, §3.5.2.3) */
		json_object_object_foreach(n, key, val)
		{
			const ScimAttr *sub = ScimAttrFindSub(a, key, strlen(key));
			struct json_object *old = ScimPatchGetCi(cur, key, strlen(key), NULL);

			if (sub != NULL)
			{
				permit = ScimPatchMayWrite(pt, sub, old, val);
				if (permit == PERMIT_NO)
				{
					json_object_put(n);
					return false;
				}
				if (permit == PERMIT_SKIP)
					continue;
			}
			if (a->mutability == SCIM_MUT_READ_ONLY && (old == NULL || !json_object_equal(old, val)))
			{
				json_object_put(n);
				return ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
			}
			ScimPatchSetCanonical(pt, cur, key, json_object_get(val));
		}
		json_object_put(n);
		return true;
	}

	permit = ScimPatchMayWrite(pt, a, cur, n);
	if (permit == PERMIT_YES && a->type == SCIM_TYPE_COMPLEX && json_object_is_type(n, json_type_object))
	{
		/* a new complex value: its sub-attributes have mutability of their own */
		json_object_object_foreach(n, key, val)
		{
			const ScimAttr *sub = ScimAttrFindSub(a, key, strlen(key));

			if (sub != NULL && ScimPatchMayWrite(pt, sub, NULL, val) == PERMIT_NO)
			{
				json_object_put(n);
				return false;
			}
		}
	}
	if (permit != PERMIT_YES)
	{
		json_object_put(n);
		return permit == PERMIT_SKIP;
	}
	ScimPatchSetCanonical(pt, cont, a->name, n);
	return true;
}

/* add/replace/remove of a sub-attribute of a single-valued complex attribute. */
static bool
apply_sub(Patcher *pt, const PatchPath *pp, struct json_object *value)
{
	const ScimAttr *a = pp->p.attr;
	const ScimAttr *s = pp->p.sub;
	bool		writing = pt->kind != PATCH_REMOVE && value != NULL;
	struct json_object *cont = container(pt, &pp->p, writing);
	struct json_object *obj = cont ? ScimPatchGetCi(cont, a->name, a->name_len, NULL) : NULL;
	struct json_object *cur;
	struct json_object *n = NULL;
	Permit		permit;

	if (a->multi_valued)
	{
		size_t		count;

		if (writing)
			return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "path \"%s.%s\" names a sub-attribute of every value of \"%s\"",
								 a->name, s->name, a->name);
		/* remove the sub-attribute from every element */
		if (!json_object_is_type(obj, json_type_array))
			return true;
		count = json_object_array_length(obj);
		for (size_t i = 0; i < count; i++)
		{
			struct json_object *e = json_object_array_get_idx(obj, i);
			struct json_object *old = ScimPatchGetCi(e, s->name, s->name_len, NULL);

			if (old == NULL)
				continue;
			if (ScimPatchMayWrite(pt, s, old, NULL) == PERMIT_NO)
				return false;
			ScimPatchDeleteAttr(pt, e, s->name);
		}
		return true;
	}

	if (pt->kind == PATCH_ADD && value == NULL)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "operation \"add\" needs a value");
	if (!writing)
	{
		if (!json_object_is_type(obj, json_type_object) || (cur = ScimPatchGetCi(obj, s->name, s->name_len, NULL)) == NULL)
			return true;
		if (ScimPatchMayWrite(pt, s, cur, NULL) == PERMIT_NO ||
			(a->mutability == SCIM_MUT_READ_ONLY && ScimPatchMayWrite(pt, a, obj, NULL) == PERMIT_NO))
			return false;
		ScimPatchDeleteAttr(pt, obj, s->name);
		if (json_object_object_length(obj) == 0)
			ScimPatchDeleteAttr(pt, cont, a->name);
		prune_container(pt, &pp->p);
		return true;
	}

	n = ScimPatchNormalize(pt, s, value, false);
	if (n == NULL)
		return false;
	if (!json_object_is_type(obj, json_type_object))
	{
		if (a->mutability == SCIM_MUT_READ_ONLY)
		{
			json_object_put(n);
			return ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
		}
		obj = json_object_new_object();
		ScimPatchSetCanonical(pt, cont, a->name, obj);
	}
	cur = ScimPatchGetCi(obj, s->name, s->name_len, NULL);
	permit = ScimPatchMayWrite(pt, s, cur, n);
	if (permit == PERMIT_YES && a->mutability == SCIM_MUT_READ_ONLY)
		permit = (ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name), PERMIT_NO);
	if (permit != PERMIT_YES)
	{
		json_object_put(n);
		return permit == PERMIT_SKIP;
	}
	ScimPatchSetCanonical(pt, obj, s->name, n);
	return true;
}

/* Operations on the elements a value filter selects (and their sub-attribute). */
static bool
apply_filtered(Patcher *pt, const PatchPath *pp, struct json_object *value)
{
	const ScimAttr *a = pp->p.attr;
	const ScimAttr *s = pp->p.sub;
	bool		writing = pt->kind != PATCH_REMOVE && value != NULL;
	struct json_object *cont = container(pt, &pp->p, writing);
	struct json_object *arr = cont ? ScimPatchGetCi(cont, a->name, a->name_len, NULL) : NULL;
	struct json_object *n = NULL;
	struct json_object *new_primary = NULL;
	size_t		count;
	int			matched = 0;

	if (pt->kind == PATCH_ADD && value == NULL)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "operation \"add\" needs a value");
	if (a->mutability == SCIM_MUT_READ_ONLY)
		return ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
	if (writing)
	{
		n = ScimPatchNormalize(pt, s ? s : a, value, true);
		if (n == NULL)
			return false;
		if (s == NULL && !json_object_is_type(n, json_type_object))
		{
			json_object_put(n);
			return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "the value for \"%s\" must be an object", pt->path_text);
		}
	}

	count = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (size_t i = count; i > 0; i--)
	{
		struct json_object *e = json_object_array_get_idx(arr, i - 1);

		if (!element_matches(pp->filter, e))
			continue;
		matched++;
		if (!writing)
		{
			if (s == NULL)
			{
				json_object_array_del_idx(arr, i - 1, 1);
				pt->dirty = true;
			}
			else if (json_object_is_type(e, json_type_object))
			{
				struct json_object *old = ScimPatchGetCi(e, s->name, s->name_len, NULL);

				if (old != NULL && ScimPatchMayWrite(pt, s, old, NULL) == PERMIT_NO)
					return false;
				ScimPatchDeleteAttr(pt, e, s->name);
			}
			continue;
		}
		if (s != NULL)
		{
			struct json_object *old;
			Permit		permit;

			if (!json_object_is_type(e, json_type_object))
				continue;
			old = ScimPatchGetCi(e, s->name, s->name_len, NULL);
			permit = ScimPatchMayWrite(pt, s, old, n);
			if (permit == PERMIT_NO)
			{
				json_object_put(n);
				return false;
			}
			if (permit == PERMIT_YES)
				ScimPatchSetCanonical(pt, e, s->name, json_object_get(n));
			if (strcmp(s->name, "primary") == 0 && is_primary(e))
				new_primary = e;
		}
		else if (pt->kind == PATCH_REPLACE)
		{
			/* every matching record is replaced (§3.5.2.3) */
			{
				struct json_object *copy = NULL;

				if (json_object_equal(e, n))
					continue;
				json_object_deep_copy(n, &copy, NULL);
				json_object_array_put_idx(arr, i - 1, copy);
				pt->dirty = true;
				if (is_primary(copy))
					new_primary = copy;
			}
		}
		else
		{
			/* add with a value filter merges into each matching record */
			if (!json_object_is_type(e, json_type_object))
				continue;		/* a filter like not (...) also matches stray scalars */
			{
				json_object_object_foreach(n, key, val)
				{
					const ScimAttr *sub = ScimAttrFindSub(a, key, strlen(key));
					Permit		permit = PERMIT_YES;

					if (sub != NULL)
						permit = ScimPatchMayWrite(pt, sub, ScimPatchGetCi(e, key, strlen(key), NULL), val);
					if (permit == PERMIT_NO)
					{
						json_object_put(n);
						return false;
					}
					if (permit == PERMIT_YES)
						ScimPatchSetCanonical(pt, e, key, json_object_get(val));
				}
			}
			if (is_primary(e))
				new_primary = e;
		}
	}

	if (writing && matched == 0)
	{
		/*
		 * Entra's upsert (conformance E5): emails[type eq "work"].value on a
		 * user without a work email creates {"type": "work", "value": ...}.
		 * Later operations of the same request find it, so several
		 * addresses[type eq "work"].x merge into one element.
		 */
		struct json_object *e = json_object_new_object();

		if (!upsert_fields(pp->filter->left, e))
		{
			json_object_put(e);
			json_object_put(n);
			return ScimPatchFail(pt, SCIM_ERR_NO_TARGET, "no value of \"%s\" matches the filter of path \"%s\"",
								 a->name, pt->path_text);
		}
		if (s != NULL)
			ScimPatchPutCanonical(e, s->name, json_object_get(n));
		else
		{
			json_object_object_foreach(n, key, val)
				ScimPatchPutCanonical(e, key, json_object_get(val));
		}
		if (!json_object_is_type(arr, json_type_array))
		{
			arr = json_object_new_array();
			ScimPatchSetCanonical(pt, cont, a->name, arr);
		}
		json_object_array_add(arr, e);
		pt->dirty = true;
		if (is_primary(e))
			new_primary = e;
	}
	if (new_primary != NULL)
		fix_primary(pt, arr, new_primary);
	json_object_put(n);
	if (!writing && json_object_is_type(arr, json_type_array) && json_object_array_length(arr) == 0)
	{
		ScimPatchDeleteAttr(pt, cont, a->name);
		prune_container(pt, &pp->p);
	}
	return true;
}

/*
 * Apply a prepared request to "resource" in place.  On failure the resource
 * is left half-changed and must be discarded: callers that need the
 * original keep it (scim.patch keeps the jsonb it converted from).
 * *changed says whether anything was modified.
 */
bool
ScimPatchExecute(const ScimPatch *patch, struct json_object *resource, bool *changed, ScimError *err)
{
	return ScimPatchExecuteNoting(patch, resource, changed, err, NULL);
}

/* ScimPatchExecute(), and in *ignored (when not NULL) what the request set that was left out. */
bool
ScimPatchExecuteNoting(const ScimPatch *patch, struct json_object *resource, bool *changed, ScimError *err,
					   ScimIgnored *ignored)
{
	Patcher		pt;

	memset(&pt, 0, sizeof(pt));
	pt.reg = patch->reg;
	pt.type = patch->type;
	pt.err = err;
	pt.res = resource;
	pt.ignored = ignored;
	if (ignored != NULL)
		*ignored = patch->ignored;
	ScimErrorClear(err);
	*changed = false;
	if (!json_object_is_type(resource, json_type_object))
		return ScimPatchFail(&pt, SCIM_ERR_INVALID_VALUE, "the resource to patch must be a JSON object");
	for (int i = 0; i < patch->nops; i++)
	{
		const PreparedOp *op = &patch->ops[i];
		bool		ok;

		pt.op_index = op->index;
		pt.kind = op->kind;
		pt.kind_known = true;
		pt.path_text = op->path_text;
		pt.no_path = op->no_path;
		if (op->no_path && op->kind == PATCH_ADD && op->value == NULL)
			continue;			/* a null member of a no-path add adds nothing */
		if (op->pp.filter != NULL)
			ok = apply_filtered(&pt, &op->pp, op->value);
		else if (op->pp.p.sub != NULL)
			ok = apply_sub(&pt, &op->pp, op->value);
		else
			ok = apply_attr(&pt, &op->pp, op->value);
		if (!ok)
			return false;
	}
	*changed = pt.dirty;
	return true;
}
