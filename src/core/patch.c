/*
 * patch.c
 *		Apply a PatchOp request (RFC 7644 §3.5.2) to a resource, on json-c.
 *
 * The operations run in order on a deep copy of the resource; any failure
 * drops the copy, so a request is applied whole or not at all (§3.5.2:
 * "the entire request SHALL be ignored").  Every write goes through the
 * schema: names are canonicalised, values are checked and coerced to the
 * attribute's type, and mutability is enforced.
 *
 * Where the identity providers depend on behaviour the RFC does not give,
 * we follow them (conformance.md §2), and say so at the spot:
 *   - "op" in any case (Entra's "Add", "Replace", "Remove");
 *   - "True"/"False" strings for booleans (Entra);
 *   - no-path values whose keys are paths: "name.givenName", URN-qualified
 *     attributes, or an extension URN holding an object (Entra);
 *   - a filtered path with no match creates the element the filter
 *     describes (Entra's upsert of emails[type eq "work"].value), where the
 *     RFC would answer noTarget for replace;
 *   - "remove members" with a value array removes those members only
 *     (Entra), where the RFC would empty the attribute;
 *   - a one-element array or a bare id for a single-valued complex
 *     attribute such as manager (Entra's two shapes);
 *   - a complex element whose "value" is a JSON object serialised in a
 *     string is unpacked (Entra's AppRoleAssignmentsComplex roles);
 *   - readOnly values equal to the stored ones are accepted as no-ops
 *     (Okta sends "id" with a group rename);
 *   - removing what is not there, or adding what is, succeeds quietly: a
 *     strict noTarget makes identity providers retry forever.
 *
 * This file holds the request: its envelope and operations checked and
 * their paths parsed once (ScimPatchPrepare), another request's values
 * bound to them (ScimPatchBind), and the whole applied to a copy
 * (ScimPatchApply).  patch_int.h says where the rest is.
 */
#include "patch_int.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"add", "remove", "replace"};

/*
 * Record an error with a detail naming the operation, and return false.
 */
bool
ScimPatchFail(Patcher *pt, ScimErrorKind kind, const char *fmt,...)
{
	va_list		ap;
	char		msg[sizeof(pt->err->message)];

	if (pt->err->kind != SCIM_OK)
		return false;			/* keep the first, most specific error */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ScimErrorSet(pt->err, kind, 0, "%s", msg);
	if (!pt->kind_known)
		;						/* the envelope or the op itself is at fault */
	else if (pt->no_path && pt->path_text != NULL)
		ScimErrorDetail(pt->err, "The failing operation is number %d, \"%s\" without a path, at its member \"%s\"; no operation of the request was applied.",
						pt->op_index, kind_names[pt->kind], pt->path_text);
	else if (pt->op_index > 0 && pt->path_text != NULL)
		ScimErrorDetail(pt->err, "The failing operation is number %d, \"%s\" with path \"%s\"; no operation of the request was applied.",
						pt->op_index, kind_names[pt->kind], pt->path_text);
	else
		ScimErrorDetail(pt->err, "The failing operation is number %d, \"%s\" without a path; no operation of the request was applied.",
						pt->op_index, kind_names[pt->kind]);
	return false;
}

/*
 * Note that "parent.name" (or name, parent NULL) was left out: once in the
 * list, which is cut short where the buffer ends.  A member named "" is
 * listed as "": the list names it, and the search for it in the list ends
 * (an empty string is found at every place, and went on for ever).
 */
void
ScimPatchIgnore(ScimIgnored *ignored, const char *parent, const char *name)
{
	char		full[300];
	size_t		len;
	const char *p;

	if (ignored == NULL)
		return;
	snprintf(full, sizeof(full), "%s%s%s", parent ? parent : "", parent ? "." : "", name[0] ? name : "\"\"");
	len = strlen(full);
	for (p = ignored->names; (p = strstr(p, full)) != NULL; p += len)
		if ((p == ignored->names || p[-1] == ' ') && (p[len] == ',' || p[len] == '\0'))
			return;				/* named already */
	if (ignored->len + len + 2 < sizeof(ignored->names))
	{
		snprintf(ignored->names + ignored->len, sizeof(ignored->names) - ignored->len, "%s%s",
				 ignored->n > 0 ? ", " : "", full);
		ignored->len = strlen(ignored->names);
	}
	ignored->n++;
}

/* ---- preparing a request ------------------------------------------------------ */

/* Note the top-level member an operation works in (and "schemas" for extensions). */
static void
note_touched(ScimPatch *patch, const ScimPath *p)
{
	const char *names[2] = {p->extension ? p->extension->id : p->attr->name,
	p->extension ? "schemas" : NULL};

	for (int k = 0; k < 2 && names[k] != NULL && patch->ntouched >= 0; k++)
	{
		bool		seen = false;

		for (int i = 0; i < patch->ntouched && !seen; i++)
			seen = strcmp(patch->touched[i], names[k]) == 0;
		if (seen)
			continue;
		if (patch->ntouched >= MAX_TOUCHED)
			patch->ntouched = -1;
		else
			patch->touched[patch->ntouched++] = names[k];
	}
}

/* Parse a path and append it as a prepared operation. */
static bool
add_prepared(Patcher *pt, ScimPatch *patch, const char *path, size_t len, bool no_path,
			 struct json_object *value, bool has_value)
{
	PreparedOp *op;

	if (patch->nops == patch->cap)
	{
		int			cap = patch->cap ? patch->cap * 2 : 8;
		PreparedOp *ops = ScimArenaAlloc(patch->arena, sizeof(PreparedOp) * (size_t) cap);

		if (ops == NULL)
			return ScimErrorSet(pt->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		if (patch->nops > 0)
			memcpy(ops, patch->ops, sizeof(PreparedOp) * (size_t) patch->nops);
		patch->ops = ops;
		patch->cap = cap;
	}
	op = &patch->ops[patch->nops];
	memset(op, 0, sizeof(*op));
	op->index = pt->op_index;
	op->kind = pt->kind;
	op->no_path = no_path;
	op->value = value;
	op->has_value = has_value;
	if (path != NULL)
	{
		op->path_text = ScimArenaStrndup(patch->arena, path, len);
		if (op->path_text == NULL)
			return ScimErrorSet(pt->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		pt->path_text = op->path_text;
		pt->no_path = no_path;
		if (!ScimPatchParsePath(pt, path, len, &op->pp))
			return false;
		note_touched(patch, &op->pp.p);
	}
	patch->nops++;
	return true;
}

/* Is key the URN of a schema of this resource type? */
static bool
is_schema_urn(Patcher *pt, const char *key)
{
	size_t		len = strlen(key);

	if (ScimStrCaseEq(key, len, pt->type->core->id, pt->type->core->id_len))
		return true;
	for (int i = 0; i < pt->type->n_extensions; i++)
		if (ScimStrCaseEq(key, len, pt->type->extensions[i].schema->id, pt->type->extensions[i].schema->id_len))
			return true;
	return false;
}

/* Note where the last prepared operation's value sits in its operation's value. */
static bool
note_value_keys(Patcher *pt, ScimPatch *patch, const char *key, const char *sub)
{
	PreparedOp *op = &patch->ops[patch->nops - 1];

	op->value_key = ScimArenaStrndup(patch->arena, key, strlen(key));
	op->value_subkey = sub ? ScimArenaStrndup(patch->arena, sub, strlen(sub)) : NULL;
	if (op->value_key == NULL || (sub != NULL && op->value_subkey == NULL))
		return ScimErrorSet(pt->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	return true;
}

/*
 * Does key, a member of a no-path value, name an attribute of the resource
 * type?  A key with a value filter is taken as a path, whose errors are
 * its own.
 */
static bool
names_attribute(Patcher *pt, const char *key, size_t len)
{
	ScimPath	p;
	ScimError	e;

	return memchr(key, '[', len) != NULL ||
		ScimResolvePath(pt->reg, pt->type, key, len, &p, &e, SCIM_ERR_INVALID_PATH, 0);
}

/*
 * add or replace without a path: each member of the value object is an
 * operation on that attribute.  Keys may be paths (Entra's "name.givenName"
 * and URN-qualified names), or a schema URN holding an object.  A key that
 * names no attribute of the resource type is left out (ScimIgnored): a
 * POST or PUT body is such a value, and Microsoft's reference collection
 * expects a misspelled attribute to be ignored.
 */
static bool
prepare_no_path(Patcher *pt, ScimPatch *patch, struct json_object *value)
{
	if (pt->kind == PATCH_REMOVE)
		return ScimPatchFail(pt, SCIM_ERR_NO_TARGET, "operation \"remove\" needs a path");
	if (!json_object_is_type(value, json_type_object))
		return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "operation \"%s\" without a path needs an object value",
							 kind_names[pt->kind]);
	json_object_object_foreach(value, key, val)
	{
		size_t		klen = strlen(key);

		if (json_object_is_type(val, json_type_object) && is_schema_urn(pt, key))
		{
			json_object_object_foreach(val, sub, subval)
			{
				char		path[1024];
				int			n = snprintf(path, sizeof(path), "%s:%s", key, sub);

				if (n < 0 || (size_t) n >= sizeof(path))
					return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "attribute name \"%.100s\" is too long", sub);
				if (!names_attribute(pt, path, (size_t) n))
				{
					ScimPatchIgnore(&patch->ignored, NULL, path);
					continue;
				}
				if (!add_prepared(pt, patch, path, (size_t) n, true, subval, true) ||
					!note_value_keys(pt, patch, key, sub))
					return false;
			}
			continue;
		}
		if (ScimStrCaseEq(key, klen, "schemas", 7))
			continue;			/* the request's own bookkeeping, not a change */
		if (!names_attribute(pt, key, klen))
		{
			ScimPatchIgnore(&patch->ignored, NULL, key);
			continue;
		}
		if (!add_prepared(pt, patch, key, klen, true, val, true) ||
			!note_value_keys(pt, patch, key, NULL))
			return false;
	}
	return true;
}

/* The member named key (case-insensitively) of obj, or NULL. */
static struct json_object *
member(struct json_object *obj, const char *key, bool *present)
{
	const char *k = NULL;
	struct json_object *v = ScimPatchGetCi(obj, key, strlen(key), &k);

	*present = k != NULL;
	return v;
}

/* Check the PatchOp envelope and return its Operations array. */
static struct json_object *
operations(Patcher *pt, struct json_object *patch)
{
	struct json_object *schemas;
	struct json_object *ops;
	bool		present;
	bool		found = false;

	if (!json_object_is_type(patch, json_type_object))
	{
		ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request body must be a JSON object");
		return NULL;
	}
	schemas = member(patch, "schemas", &present);
	if (json_object_is_type(schemas, json_type_array))
	{
		size_t		n = json_object_array_length(schemas);

		for (size_t i = 0; i < n; i++)
		{
			struct json_object *e = json_object_array_get_idx(schemas, i);

			if (json_object_is_type(e, json_type_string) &&
				ScimStrCaseEq(json_object_get_string(e), (size_t) json_object_get_string_len(e),
							  SCIM_PATCHOP_URN, strlen(SCIM_PATCHOP_URN)))
				found = true;
		}
	}
	if (!found)
	{
		ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request must list \"%s\" in \"schemas\"", SCIM_PATCHOP_URN);
		return NULL;
	}
	ops = member(patch, "Operations", &present);
	if (!json_object_is_type(ops, json_type_array))
	{
		ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request must have an \"Operations\" array");
		return NULL;
	}
	if (json_object_array_length(ops) == 0)
	{
		ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request has no operations");
		return NULL;
	}
	if (json_object_array_length(ops) > SCIM_PATCH_MAX_OPERATIONS)
	{
		ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request has %zu operations; the limit is %d",
					  json_object_array_length(ops), SCIM_PATCH_MAX_OPERATIONS);
		return NULL;
	}
	return ops;
}

/* Check one element of "Operations" and prepare it. */
static bool
prepare_operation(Patcher *pt, ScimPatch *patch, struct json_object *op)
{
	struct json_object *opname;
	struct json_object *path;
	struct json_object *value;
	bool		has_op;
	bool		has_path;
	bool		has_value;
	const char *name;

	if (!json_object_is_type(op, json_type_object))
		return ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "operation %d is not a JSON object", pt->op_index);
	opname = member(op, "op", &has_op);
	path = member(op, "path", &has_path);
	value = member(op, "value", &has_value);
	if (!json_object_is_type(opname, json_type_string))
		return ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "operation %d has no \"op\"", pt->op_index);
	name = json_object_get_string(opname);
	/* Entra ID capitalises: "Add", "Replace", "Remove" */
	if (ScimStrCaseEq(name, strlen(name), "add", 3))
		pt->kind = PATCH_ADD;
	else if (ScimStrCaseEq(name, strlen(name), "remove", 6))
		pt->kind = PATCH_REMOVE;
	else if (ScimStrCaseEq(name, strlen(name), "replace", 7))
		pt->kind = PATCH_REPLACE;
	else
		return ScimPatchFail(pt, SCIM_ERR_INVALID_SYNTAX, "operation %d has unknown op \"%.40s\"; expected add, remove or replace",
							 pt->op_index, name);
	pt->kind_known = true;
	if (has_path && path != NULL && !json_object_is_type(path, json_type_string))
		return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "operation %d has a \"path\" that is not a string", pt->op_index);
	pt->path_text = path ? json_object_get_string(path) : NULL;
	if (pt->kind != PATCH_REMOVE && !has_value)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "operation \"%s\" needs a \"value\"", kind_names[pt->kind]);
	if (pt->path_text == NULL)
		return prepare_no_path(pt, patch, value);
	return add_prepared(pt, patch, pt->path_text, (size_t) json_object_get_string_len(path), false,
						value, has_value);
}

/* Release a prepared request. */
void
ScimPatchFree(ScimPatch *patch)
{
	if (patch == NULL)
		return;
	json_object_put(patch->request);
	if (patch->values != NULL)
		for (int i = 0; i < patch->noperations; i++)
			json_object_put(patch->values[i]);
	ScimArenaFree(patch->arena);
}

/*
 * Check a PatchOp request and parse its paths once, for a resource type.
 * Value filters in paths are held to limits (NULL: the defaults).
 * Returns NULL with err set when the request is malformed or names what
 * the schema does not have.  The prepared request holds a reference to
 * "request" and can be executed on any number of resources.
 */
ScimPatch *
ScimPatchPrepare(const ScimRegistry *reg, const ScimResourceType *type,
				 struct json_object *request, const ScimFilterLimits *limits, ScimError *err)
{
	Patcher		pt;
	ScimArena  *arena;
	ScimPatch  *patch;
	struct json_object *ops;
	size_t		n;

	memset(&pt, 0, sizeof(pt));
	pt.reg = reg;
	pt.type = type;
	pt.limits = limits;
	pt.err = err;
	ScimErrorClear(err);
	ops = operations(&pt, request);
	if (ops == NULL)
		return NULL;
	arena = ScimArenaCreate();
	patch = arena ? ScimArenaAlloc0(arena, sizeof(ScimPatch)) : NULL;
	if (patch == NULL)
	{
		ScimArenaFree(arena);
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	patch->arena = arena;
	patch->reg = reg;
	patch->type = type;
	patch->request = json_object_get(request);
	pt.arena = arena;
	n = json_object_array_length(ops);
	patch->noperations = (int) n;
	for (size_t i = 0; i < n; i++)
	{
		pt.op_index = (int) i + 1;
		pt.path_text = NULL;
		pt.kind_known = false;
		pt.no_path = false;
		if (!prepare_operation(&pt, patch, json_object_array_get_idx(ops, i)))
		{
			ScimPatchFree(patch);
			return NULL;
		}
	}
	return patch;
}

/*
 * Give a prepared request the values of another request of the same shape:
 * the same envelope, operations and paths, and value objects with the same
 * members, each of the same type, where only the scalars may differ.  That
 * request's paths need not be parsed again.  values[i] is operation i's
 * "value" (NULL when it is JSON null or absent); the prepared request
 * takes a reference to each.  False, with nothing changed, when a value
 * the request needs is not there: the caller prepares that request afresh.
 * It cannot see every difference of shape; the caller vouches for that.
 */
bool
ScimPatchBind(ScimPatch *patch, struct json_object *const *values, int n)
{
	struct json_object **refs;

	if (n != patch->noperations)
		return false;
	for (int i = 0; i < patch->nops; i++)
	{
		const PreparedOp *op = &patch->ops[i];
		struct json_object *v = values[op->index - 1];

		if (op->value_key != NULL &&
			(!json_object_object_get_ex(v, op->value_key, &v) ||
			 (op->value_subkey != NULL && !json_object_object_get_ex(v, op->value_subkey, &v))))
			return false;
	}
	refs = patch->values;
	if (refs == NULL)
	{
		refs = ScimArenaAlloc0(patch->arena, sizeof(*refs) * (size_t) (n > 0 ? n : 1));
		if (refs == NULL)
			return false;
	}
	for (int i = 0; i < patch->nops; i++)
	{
		PreparedOp *op = &patch->ops[i];
		struct json_object *v = values[op->index - 1];

		if (op->value_key != NULL)
		{
			json_object_object_get_ex(v, op->value_key, &v);
			if (op->value_subkey != NULL)
				json_object_object_get_ex(v, op->value_subkey, &v);
		}
		op->value = v;
	}
	for (int i = 0; i < n; i++)
	{
		struct json_object *old = refs[i];

		refs[i] = json_object_get(values[i]);
		json_object_put(old);
	}
	json_object_put(patch->request);
	patch->request = NULL;
	patch->values = refs;
	return true;
}

/*
 * The top-level members of a resource the request can read or write, so a
 * caller can hand over just those.  False when there are too many to list.
 */
bool
ScimPatchTouched(const ScimPatch *patch, const char *const **names, int *n)
{
	if (patch->ntouched < 0)
		return false;
	*names = patch->touched;
	*n = patch->ntouched;
	return true;
}

/*
 * Apply PatchOp request "patch" to "resource" (neither is modified), with
 * the default filter limits.  On success returns the new resource (the
 * caller puts it) and sets *changed; on any failure returns NULL with err
 * set and nothing applied.
 */
struct json_object *
ScimPatchApply(const ScimRegistry *reg, const ScimResourceType *type,
			   struct json_object *resource, struct json_object *request,
			   bool *changed, ScimError *err)
{
	struct json_object *copy = NULL;
	ScimPatch  *patch;

	*changed = false;
	patch = ScimPatchPrepare(reg, type, request, NULL, err);
	if (patch == NULL)
		return NULL;
	if (!json_object_is_type(resource, json_type_object))
	{
		ScimPatchFree(patch);
		ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0, "the resource to patch must be a JSON object");
		return NULL;
	}
	if (json_object_deep_copy(resource, &copy, NULL) != 0)
	{
		ScimPatchFree(patch);
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	if (!ScimPatchExecute(patch, copy, changed, err))
	{
		json_object_put(copy);
		copy = NULL;
	}
	ScimPatchFree(patch);
	return copy;
}
