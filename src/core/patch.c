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
 */
#include "patch.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "datetime.h"
#include "filter.h"
#include "filter_eval.h"
#include "json_view.h"

typedef enum PatchKind
{
	PATCH_ADD,
	PATCH_REMOVE,
	PATCH_REPLACE
} PatchKind;

static const char *const kind_names[] = {"add", "remove", "replace"};

typedef struct Patcher
{
	const ScimRegistry *reg;
	const ScimResourceType *type;
	struct json_object *res;	/* the working copy */
	ScimArena  *arena;			/* parsed paths of the current operation */
	const ScimFilterLimits *limits; /* for value filters in paths */
	ScimError  *err;
	int			op_index;		/* 1-based, for messages */
	bool		kind_known;		/* op has been read: messages may name it */
	bool		dirty;			/* the resource was modified */
	bool		no_path;		/* path_text is a member of a no-path value */
	PatchKind	kind;
	const char *path_text;		/* as sent, or NULL */
} Patcher;

typedef struct PatchPath
{
	ScimPath	p;
	ScimFilter *filter;			/* the value path's bracket, resolved; or NULL */
} PatchPath;

/*
 * Record an error with a detail naming the operation, and return false.
 */
static bool
fail(Patcher *pt, ScimErrorKind kind, const char *fmt,...) __attribute__((format(printf, 3, 4)));

static bool
fail(Patcher *pt, ScimErrorKind kind, const char *fmt,...)
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

/* ---- json-c helpers ------------------------------------------------------ */

/* Member lookup by name, case-insensitively; an exact match wins. */
static struct json_object *
get_ci(struct json_object *obj, const char *name, size_t len, const char **key_out)
{
	struct json_object *found = NULL;
	const char *found_key = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return NULL;
	json_object_object_foreach(obj, key, val)
	{
		size_t		klen = strlen(key);

		if (klen == len && memcmp(key, name, len) == 0)
		{
			found = val;
			found_key = key;
			break;
		}
		if (found_key == NULL && ScimStrCaseEq(key, klen, name, len))
		{
			found = val;
			found_key = key;
		}
	}
	if (key_out)
		*key_out = found_key;
	return found;
}

/* Delete every member whose name equals name case-insensitively. */
static bool
del_ci(struct json_object *obj, const char *name)
{
	size_t		len = strlen(name);
	bool		again = true;
	bool		deleted = false;

	while (again)
	{
		again = false;
		json_object_object_foreach(obj, key, val)
		{
			(void) val;
			if (ScimStrCaseEq(key, strlen(key), name, len))
			{
				json_object_object_del(obj, key);
				again = deleted = true;
				break;
			}
		}
	}
	return deleted;
}

/* Store value (owned) under the canonical name, dropping other spellings. */
static void
put_canonical(struct json_object *obj, const char *name, struct json_object *value)
{
	const char *key = NULL;

	if (get_ci(obj, name, strlen(name), &key) != NULL && strcmp(key, name) != 0)
		del_ci(obj, name);
	json_object_object_add(obj, name, value);
}

/*
 * put_canonical() on the resource itself: notes the change, unless the
 * member already holds an equal value under its canonical name.
 */
static void
set_canonical(Patcher *pt, struct json_object *obj, const char *name, struct json_object *value)
{
	struct json_object *old;

	if (json_object_object_get_ex(obj, name, &old) && json_object_equal(old, value) &&
		get_ci(obj, name, strlen(name), NULL) == old)
	{
		/* no other spelling to drop either: nothing changes */
		bool		other = false;

		json_object_object_foreach(obj, key, val)
		{
			(void) val;
			if (strcmp(key, name) != 0 && ScimStrCaseEq(key, strlen(key), name, strlen(name)))
				other = true;
		}
		if (!other)
		{
			json_object_put(value);
			return;
		}
	}
	put_canonical(obj, name, value);
	pt->dirty = true;
}

/* del_ci() on the resource itself, noting the change. */
static void
delete_attr(Patcher *pt, struct json_object *obj, const char *name)
{
	if (del_ci(obj, name))
		pt->dirty = true;
}

/* Is a JSON value "no value" (RFC 7643 §2.5: null or an empty array)? */
static bool
is_unassigned(struct json_object *v)
{
	return v == NULL ||
		(json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
}

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

/* ---- paths ---------------------------------------------------------------- */

/*
 * Parse and resolve a PATCH path (RFC 7644 §3.5.2 Figure 7):
 * attrPath, or valuePath optionally followed by ".subAttr".  The bracket is
 * parsed by the filter parser, so PATCH paths and filters read alike.
 */
static bool
parse_path(Patcher *pt, const char *text, size_t len, PatchPath *out)
{
	const char *lb = memchr(text, '[', len);
	ScimError	ferr;
	size_t		close;
	bool		in_string = false;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return fail(pt, SCIM_ERR_INVALID_PATH, "empty PATCH path");
	if (!ScimUtf8Valid(text, len, NULL))
		return fail(pt, SCIM_ERR_INVALID_PATH, "PATCH path is not valid UTF-8");
	if (lb == NULL)
	{
		for (size_t i = 0; i < len; i++)
			if (strchr(" \t\r\n\"()]", text[i]) != NULL)
				return fail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\"",
							(int) (len > 200 ? 200 : len), text);
		if (!ScimResolvePath(pt->reg, pt->type, text, len, &out->p, &ferr, SCIM_ERR_INVALID_PATH, 0))
		{
			fail(pt, SCIM_ERR_INVALID_PATH, "%s", ferr.message);
			return false;
		}
		return true;
	}

	/* find the "]" that closes the bracket, skipping string literals */
	for (close = (size_t) (lb - text) + 1; close < len; close++)
	{
		char		c = text[close];

		if (in_string)
		{
			if (c == '\\')
				close++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == ']')
			break;
	}
	if (close >= len)
		return fail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\": \"[\" is not closed",
					(int) (len > 200 ? 200 : len), text);

	out->filter = ScimFilterParse(pt->arena, text, close + 1, pt->limits, &ferr);
	if (out->filter == NULL || out->filter->kind != SCIM_F_VALUE_PATH)
	{
		if (out->filter == NULL)
			fail(pt, SCIM_ERR_INVALID_PATH, "invalid value filter in PATCH path: %s", ferr.message);
		else
			fail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\"",
				 (int) (len > 200 ? 200 : len), text);
		return false;
	}
	if (!ScimFilterResolve(out->filter, pt->reg, pt->type, text, &ferr))
	{
		fail(pt, SCIM_ERR_INVALID_PATH, "invalid value filter in PATCH path: %s", ferr.message);
		return false;
	}
	/* elements are matched with the core's JSON view (ASCII case folding) */
	if (!ScimFilterEvalPrepare(out->filter, pt->arena, &ScimJsonCOps, NULL, &ferr))
	{
		ScimErrorSet(pt->err, ferr.kind, 0, "%s", ferr.message);
		return false;
	}
	out->p = out->filter->rpath;
	if (close + 1 < len)
	{
		const char *sub = text + close + 2;
		size_t		sub_len = len - close - 2;

		if (text[close + 1] != '.')
			return fail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\": expected \".\" or the end after \"]\"",
						(int) (len > 200 ? 200 : len), text);
		if (sub_len == 0 ||
			(out->p.sub = ScimAttrFindSub(out->p.attr, sub, sub_len)) == NULL)
			return fail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\": \"%.*s\" is not a sub-attribute of \"%s\"",
						(int) (len > 200 ? 200 : len), text,
						(int) (sub_len > 100 ? 100 : sub_len), sub, out->p.attr->name);
	}
	if (!out->p.attr->multi_valued)
		return fail(pt, SCIM_ERR_INVALID_PATH, "attribute \"%s\" is single-valued and takes no value filter",
					out->p.attr->name);
	return true;
}

/* ---- values ----------------------------------------------------------------- */

static struct json_object *normalize(Patcher *pt, const ScimAttr *a, struct json_object *v, bool element);

static const char *
path_name(const ScimAttr *a, char *buf, size_t len)
{
	if (a->parent)
		snprintf(buf, len, "%s.%s", a->parent->name, a->name);
	else
		snprintf(buf, len, "%s", a->name);
	return buf;
}

/* Normalise an object value of complex attribute a into canonical sub-attributes. */
static struct json_object *
normalize_complex(Patcher *pt, const ScimAttr *a, struct json_object *v)
{
	struct json_object *out = json_object_new_object();
	struct json_object *inner = NULL;

	json_object_object_foreach(v, key, val)
	{
		const ScimAttr *sub;
		struct json_object *n;

		if (val == NULL)
			continue;			/* null is unassigned: Entra's "$ref": null */
		sub = ScimAttrFindSub(a, key, strlen(key));
		if (sub == NULL)
		{
			/* keep what the schema does not know, as sent (Entra's roles "displayName") */
			json_object_object_add(out, key, json_object_get(val));
			continue;
		}
		n = normalize(pt, sub, val, false);
		if (n == NULL)
		{
			json_object_put(out);
			return NULL;
		}
		put_canonical(out, sub->name, n);
	}

	/*
	 * Entra's AppRoleAssignmentsComplex sends {"value": "{\"id\":...,
	 * \"value\":\"Admin\",\"displayName\":\"Admin\"}"}: the element itself,
	 * serialised in a string.  Unpack it when it is an object with a value.
	 */
	{
		struct json_object *sv;

		if (json_object_object_get_ex(out, "value", &sv) && json_object_is_type(sv, json_type_string) &&
			json_object_get_string(sv)[0] == '{' &&
			(inner = json_tokener_parse(json_object_get_string(sv))) != NULL &&
			json_object_is_type(inner, json_type_object) &&
			json_object_object_get_ex(inner, "value", NULL))
		{
			struct json_object *unpacked = normalize_complex(pt, a, inner);

			json_object_put(inner);
			if (unpacked == NULL)
			{
				json_object_put(out);
				return NULL;
			}
			json_object_object_foreach(unpacked, k2, v2)
				json_object_object_add(out, k2, json_object_get(v2));
			json_object_put(unpacked);
		}
		else
			json_object_put(inner);
	}
	return out;
}

/*
 * Check value v against attribute a and return it in canonical form (a new
 * reference), or NULL with an invalidValue error.  "element" asks for one
 * element of a multi-valued attribute.
 */
static struct json_object *
normalize(Patcher *pt, const ScimAttr *a, struct json_object *v, bool element)
{
	char		name[300];
	enum json_type t = json_object_get_type(v);

	if (a->multi_valued && !element)
	{
		struct json_object *arr = json_object_new_array();

		if (t == json_type_array)
		{
			size_t		n = json_object_array_length(v);

			for (size_t i = 0; i < n; i++)
			{
				struct json_object *e = json_object_array_get_idx(v, i);
				struct json_object *ne;

				if (e == NULL)
					continue;
				ne = normalize(pt, a, e, true);
				if (ne == NULL)
				{
					json_object_put(arr);
					return NULL;
				}
				json_object_array_add(arr, ne);
			}
		}
		else
		{
			struct json_object *ne = normalize(pt, a, v, true);

			if (ne == NULL)
			{
				json_object_put(arr);
				return NULL;
			}
			json_object_array_add(arr, ne);
		}
		return arr;
	}

	switch (a->type)
	{
		case SCIM_TYPE_STRING:
		case SCIM_TYPE_REFERENCE:
		case SCIM_TYPE_BINARY:
			if (t == json_type_string)
				return json_object_get(v);
			fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be a string", path_name(a, name, sizeof(name)));
			return NULL;

		case SCIM_TYPE_BOOLEAN:
			if (t == json_type_boolean)
				return json_object_get(v);
			/* Entra ID sends "True" and "False" */
			if (t == json_type_string)
			{
				const char *s = json_object_get_string(v);

				if (ScimStrCaseEq(s, strlen(s), "true", 4))
					return json_object_new_boolean(1);
				if (ScimStrCaseEq(s, strlen(s), "false", 5))
					return json_object_new_boolean(0);
			}
			fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be a boolean", path_name(a, name, sizeof(name)));
			return NULL;

		case SCIM_TYPE_INTEGER:
			if (t == json_type_int)
				return json_object_get(v);
			if (t == json_type_double)
			{
				double		d = json_object_get_double(v);

				if (d == (double) (int64_t) d && d > -9.2e18 && d < 9.2e18)
					return json_object_new_int64((int64_t) d);
			}
			fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be an integer", path_name(a, name, sizeof(name)));
			return NULL;

		case SCIM_TYPE_DECIMAL:
			if (t == json_type_int || t == json_type_double)
				return json_object_get(v);
			fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be a number", path_name(a, name, sizeof(name)));
			return NULL;

		case SCIM_TYPE_DATETIME:
			{
				int64_t		at;

				if (t == json_type_string &&
					ScimParseDateTime(json_object_get_string(v), (size_t) json_object_get_string_len(v), &at))
					return json_object_get(v);
				fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be an xsd:dateTime string such as \"2011-05-13T04:42:34Z\"", path_name(a, name, sizeof(name)));
				return NULL;
			}

		case SCIM_TYPE_COMPLEX:
			/* manager as [{"value": id, "$ref": ...}] (Entra, E-TUT Example 5) */
			if (!a->multi_valued && t == json_type_array && json_object_array_length(v) == 1)
				return normalize(pt, a, json_object_array_get_idx(v, 0), element);
			/* a bare id for a complex attribute with a value (Entra's manager, SCIM-SDK #686) */
			if (t == json_type_string && ScimAttrFindSub(a, "value", 5) != NULL)
			{
				struct json_object *o = json_object_new_object();
				struct json_object *n = normalize(pt, ScimAttrFindSub(a, "value", 5), v, false);

				if (n == NULL)
				{
					json_object_put(o);
					return NULL;
				}
				json_object_object_add(o, "value", n);
				return o;
			}
			if (t == json_type_object)
				return normalize_complex(pt, a, v);
			fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be an object of sub-attributes", path_name(a, name, sizeof(name)));
			return NULL;
	}
	return NULL;
}

/* ---- mutability --------------------------------------------------------------- */

typedef enum Permit
{
	PERMIT_NO,					/* error set */
	PERMIT_SKIP,				/* a tolerated no-op */
	PERMIT_YES
} Permit;

/* May attribute a change from current (NULL if unassigned) to proposed? */
static Permit
may_write(Patcher *pt, const ScimAttr *a, struct json_object *current, struct json_object *proposed)
{
	char		name[300];

	if (current != NULL && proposed != NULL && json_object_equal(current, proposed))
		return PERMIT_SKIP;
	if (a->mutability == SCIM_MUT_READ_WRITE && (proposed != NULL || !a->required))
		return PERMIT_YES;
	if (a->mutability == SCIM_MUT_WRITE_ONLY && (proposed != NULL || !a->required))
		return PERMIT_YES;
	path_name(a, name, sizeof(name));
	switch (a->mutability)
	{
		case SCIM_MUT_READ_ONLY:
			fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", name);
			return PERMIT_NO;
		case SCIM_MUT_IMMUTABLE:
			if (!is_unassigned(current))
			{
				fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is immutable and already has a value", name);
				return PERMIT_NO;
			}
			return PERMIT_YES;
		default:
			if (proposed == NULL && a->required)
			{
				fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is required and cannot be removed", name);
				return PERMIT_NO;
			}
			return PERMIT_YES;
	}
}

/* ---- locating attributes -------------------------------------------------------- */

/* Add a URN to "schemas" when the resource has that array and lacks it. */
static void
add_schema_urn(Patcher *pt, const char *urn)
{
	struct json_object *schemas = get_ci(pt->res, "schemas", 7, NULL);
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
	ext = get_ci(pt->res, p->extension->id, p->extension->id_len, &key);
	if (json_object_is_type(ext, json_type_object))
	{
		if (strcmp(key, p->extension->id) != 0)
		{
			json_object_get(ext);
			set_canonical(pt, pt->res, p->extension->id, ext);
		}
		return ext;
	}
	if (!create)
		return NULL;
	ext = json_object_new_object();
	set_canonical(pt, pt->res, p->extension->id, ext);
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
	delete_attr(pt, pt->res, p->extension->id);
	schemas = get_ci(pt->res, "schemas", 7, NULL);
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
		return fail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" has %d values marked primary; at most one may be",
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
	struct json_object *cur = cont ? get_ci(cont, a->name, a->name_len, NULL) : NULL;
	struct json_object *n;
	Permit		permit;

	if (pt->kind == PATCH_REMOVE || value == NULL)
	{
		if (pt->kind == PATCH_ADD)
			return fail(pt, SCIM_ERR_INVALID_VALUE, "operation \"add\" needs a value");
		if (cur == NULL)
			return true;		/* nothing to remove */
		if (pt->kind == PATCH_REMOVE && value != NULL && a->multi_valued &&
			json_object_is_type(cur, json_type_array))
		{
			/* Entra: {"op":"Remove","path":"members","value":[{"value":"id"}]} */
			n = normalize(pt, a, value, false);
			if (n == NULL)
				return false;
			if (a->mutability == SCIM_MUT_READ_ONLY)
			{
				json_object_put(n);
				return fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
			}
			remove_listed(pt, cur, n);
			json_object_put(n);
			if (json_object_array_length(cur) == 0)
			{
				if (a->required)
					return fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is required and cannot lose its last value",
								a->name);
				delete_attr(pt, cont, a->name);
			}
			prune_container(pt, &pp->p);
			return true;
		}
		permit = may_write(pt, a, cur, NULL);
		if (permit == PERMIT_NO)
			return false;
		delete_attr(pt, cont, a->name);
		prune_container(pt, &pp->p);
		return true;
	}

	n = normalize(pt, a, value, false);
	if (n == NULL)
		return false;

	if (a->multi_valued)
	{
		if (pt->kind == PATCH_REPLACE || !json_object_is_type(cur, json_type_array))
		{
			/* replace the whole set (or add to nothing) */
			if (!check_one_primary(pt, a, n) ||
				(permit = may_write(pt, a, cur, n)) == PERMIT_NO)
			{
				json_object_put(n);
				return false;
			}
			if (permit == PERMIT_SKIP || (cur == NULL && json_object_array_length(n) == 0))
				json_object_put(n);
			else if (json_object_array_length(n) == 0)
			{
				json_object_put(n);
				if (may_write(pt, a, cur, NULL) == PERMIT_NO)
					return false;	/* an empty set unassigns: not for required ones */
				delete_attr(pt, cont, a->name);
			}
			else
				set_canonical(pt, cont, a->name, n);
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
					return fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
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
			struct json_object *old = get_ci(cur, key, strlen(key), NULL);

			if (sub != NULL)
			{
				permit = may_write(pt, sub, old, val);
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
				return fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
			}
			set_canonical(pt, cur, key, json_object_get(val));
		}
		json_object_put(n);
		return true;
	}

	permit = may_write(pt, a, cur, n);
	if (permit == PERMIT_YES && a->type == SCIM_TYPE_COMPLEX && json_object_is_type(n, json_type_object))
	{
		/* a new complex value: its sub-attributes have mutability of their own */
		json_object_object_foreach(n, key, val)
		{
			const ScimAttr *sub = ScimAttrFindSub(a, key, strlen(key));

			if (sub != NULL && may_write(pt, sub, NULL, val) == PERMIT_NO)
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
	set_canonical(pt, cont, a->name, n);
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
	struct json_object *obj = cont ? get_ci(cont, a->name, a->name_len, NULL) : NULL;
	struct json_object *cur;
	struct json_object *n = NULL;
	Permit		permit;

	if (a->multi_valued)
	{
		size_t		count;

		if (writing)
			return fail(pt, SCIM_ERR_INVALID_PATH, "path \"%s.%s\" names a sub-attribute of every value of \"%s\"",
						a->name, s->name, a->name);
		/* remove the sub-attribute from every element */
		if (!json_object_is_type(obj, json_type_array))
			return true;
		count = json_object_array_length(obj);
		for (size_t i = 0; i < count; i++)
		{
			struct json_object *e = json_object_array_get_idx(obj, i);
			struct json_object *old = get_ci(e, s->name, s->name_len, NULL);

			if (old == NULL)
				continue;
			if (may_write(pt, s, old, NULL) == PERMIT_NO)
				return false;
			delete_attr(pt, e, s->name);
		}
		return true;
	}

	if (pt->kind == PATCH_ADD && value == NULL)
		return fail(pt, SCIM_ERR_INVALID_VALUE, "operation \"add\" needs a value");
	if (!writing)
	{
		if (!json_object_is_type(obj, json_type_object) || (cur = get_ci(obj, s->name, s->name_len, NULL)) == NULL)
			return true;
		if (may_write(pt, s, cur, NULL) == PERMIT_NO ||
			(a->mutability == SCIM_MUT_READ_ONLY && may_write(pt, a, obj, NULL) == PERMIT_NO))
			return false;
		delete_attr(pt, obj, s->name);
		if (json_object_object_length(obj) == 0)
			delete_attr(pt, cont, a->name);
		prune_container(pt, &pp->p);
		return true;
	}

	n = normalize(pt, s, value, false);
	if (n == NULL)
		return false;
	if (!json_object_is_type(obj, json_type_object))
	{
		if (a->mutability == SCIM_MUT_READ_ONLY)
		{
			json_object_put(n);
			return fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
		}
		obj = json_object_new_object();
		set_canonical(pt, cont, a->name, obj);
	}
	cur = get_ci(obj, s->name, s->name_len, NULL);
	permit = may_write(pt, s, cur, n);
	if (permit == PERMIT_YES && a->mutability == SCIM_MUT_READ_ONLY)
		permit = (fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name), PERMIT_NO);
	if (permit != PERMIT_YES)
	{
		json_object_put(n);
		return permit == PERMIT_SKIP;
	}
	set_canonical(pt, obj, s->name, n);
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
	struct json_object *arr = cont ? get_ci(cont, a->name, a->name_len, NULL) : NULL;
	struct json_object *n = NULL;
	struct json_object *new_primary = NULL;
	size_t		count;
	int			matched = 0;

	if (pt->kind == PATCH_ADD && value == NULL)
		return fail(pt, SCIM_ERR_INVALID_VALUE, "operation \"add\" needs a value");
	if (a->mutability == SCIM_MUT_READ_ONLY)
		return fail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", a->name);
	if (writing)
	{
		n = normalize(pt, s ? s : a, value, true);
		if (n == NULL)
			return false;
		if (s == NULL && !json_object_is_type(n, json_type_object))
		{
			json_object_put(n);
			return fail(pt, SCIM_ERR_INVALID_VALUE, "the value for \"%s\" must be an object", pt->path_text);
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
				struct json_object *old = get_ci(e, s->name, s->name_len, NULL);

				if (old != NULL && may_write(pt, s, old, NULL) == PERMIT_NO)
					return false;
				delete_attr(pt, e, s->name);
			}
			continue;
		}
		if (s != NULL)
		{
			struct json_object *old;
			Permit		permit;

			if (!json_object_is_type(e, json_type_object))
				continue;
			old = get_ci(e, s->name, s->name_len, NULL);
			permit = may_write(pt, s, old, n);
			if (permit == PERMIT_NO)
			{
				json_object_put(n);
				return false;
			}
			if (permit == PERMIT_YES)
				set_canonical(pt, e, s->name, json_object_get(n));
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
						permit = may_write(pt, sub, get_ci(e, key, strlen(key), NULL), val);
					if (permit == PERMIT_NO)
					{
						json_object_put(n);
						return false;
					}
					if (permit == PERMIT_YES)
						set_canonical(pt, e, key, json_object_get(val));
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
			return fail(pt, SCIM_ERR_NO_TARGET, "no value of \"%s\" matches the filter of path \"%s\"",
						a->name, pt->path_text);
		}
		if (s != NULL)
			put_canonical(e, s->name, json_object_get(n));
		else
		{
			json_object_object_foreach(n, key, val)
				put_canonical(e, key, json_object_get(val));
		}
		if (!json_object_is_type(arr, json_type_array))
		{
			arr = json_object_new_array();
			set_canonical(pt, cont, a->name, arr);
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
		delete_attr(pt, cont, a->name);
		prune_container(pt, &pp->p);
	}
	return true;
}

/* ---- preparing a request ------------------------------------------------------ */

/*
 * One operation, its path parsed and resolved.  A no-path add or replace
 * becomes one prepared operation per member of its value.
 */
typedef struct PreparedOp
{
	int			index;			/* 1-based number in "Operations" */
	PatchKind	kind;
	const char *path_text;		/* the path, or the member name of a no-path value */
	bool		no_path;		/* from a no-path value */
	PatchPath	pp;
	struct json_object *value;	/* borrowed from the request; NULL is JSON null */
	bool		has_value;
	/* a no-path value's member, and its member under a schema URN: for ScimPatchBind() */
	const char *value_key;
	const char *value_subkey;
} PreparedOp;

#define MAX_TOUCHED 64

struct ScimPatch
{
	ScimArena  *arena;
	const ScimRegistry *reg;
	const ScimResourceType *type;
	struct json_object *request;	/* a reference held for the borrowed values */
	struct json_object **values;	/* or, once bound, one per operation */
	int			noperations;
	PreparedOp *ops;
	int			nops;
	int			cap;
	int			ntouched;		/* -1: too many to list */
	const char *touched[MAX_TOUCHED];
};

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
		if (!parse_path(pt, path, len, &op->pp))
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
 * add or replace without a path: each member of the value object is an
 * operation on that attribute.  Keys may be paths (Entra's "name.givenName"
 * and URN-qualified names), or a schema URN holding an object.
 */
static bool
prepare_no_path(Patcher *pt, ScimPatch *patch, struct json_object *value)
{
	if (pt->kind == PATCH_REMOVE)
		return fail(pt, SCIM_ERR_NO_TARGET, "operation \"remove\" needs a path");
	if (!json_object_is_type(value, json_type_object))
		return fail(pt, SCIM_ERR_INVALID_VALUE, "operation \"%s\" without a path needs an object value",
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
					return fail(pt, SCIM_ERR_INVALID_PATH, "attribute name \"%.100s\" is too long", sub);
				if (!add_prepared(pt, patch, path, (size_t) n, true, subval, true) ||
					!note_value_keys(pt, patch, key, sub))
					return false;
			}
			continue;
		}
		if (ScimStrCaseEq(key, klen, "schemas", 7))
			continue;			/* the request's own bookkeeping, not a change */
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
	struct json_object *v = get_ci(obj, key, strlen(key), &k);

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
		fail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request body must be a JSON object");
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
		fail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request must list \"%s\" in \"schemas\"", SCIM_PATCHOP_URN);
		return NULL;
	}
	ops = member(patch, "Operations", &present);
	if (!json_object_is_type(ops, json_type_array))
	{
		fail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request must have an \"Operations\" array");
		return NULL;
	}
	if (json_object_array_length(ops) == 0)
	{
		fail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request has no operations");
		return NULL;
	}
	if (json_object_array_length(ops) > SCIM_PATCH_MAX_OPERATIONS)
	{
		fail(pt, SCIM_ERR_INVALID_SYNTAX, "PATCH request has %zu operations; the limit is %d",
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
		return fail(pt, SCIM_ERR_INVALID_SYNTAX, "operation %d is not a JSON object", pt->op_index);
	opname = member(op, "op", &has_op);
	path = member(op, "path", &has_path);
	value = member(op, "value", &has_value);
	if (!json_object_is_type(opname, json_type_string))
		return fail(pt, SCIM_ERR_INVALID_SYNTAX, "operation %d has no \"op\"", pt->op_index);
	name = json_object_get_string(opname);
	/* Entra ID capitalises: "Add", "Replace", "Remove" */
	if (ScimStrCaseEq(name, strlen(name), "add", 3))
		pt->kind = PATCH_ADD;
	else if (ScimStrCaseEq(name, strlen(name), "remove", 6))
		pt->kind = PATCH_REMOVE;
	else if (ScimStrCaseEq(name, strlen(name), "replace", 7))
		pt->kind = PATCH_REPLACE;
	else
		return fail(pt, SCIM_ERR_INVALID_SYNTAX, "operation %d has unknown op \"%.40s\"; expected add, remove or replace",
					pt->op_index, name);
	pt->kind_known = true;
	if (has_path && path != NULL && !json_object_is_type(path, json_type_string))
		return fail(pt, SCIM_ERR_INVALID_PATH, "operation %d has a \"path\" that is not a string", pt->op_index);
	pt->path_text = path ? json_object_get_string(path) : NULL;
	if (pt->kind != PATCH_REMOVE && !has_value)
		return fail(pt, SCIM_ERR_INVALID_VALUE, "operation \"%s\" needs a \"value\"", kind_names[pt->kind]);
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
 * Apply a prepared request to "resource" in place.  On failure the resource
 * is left half-changed and must be discarded: callers that need the
 * original keep it (scim.patch keeps the jsonb it converted from).
 * *changed says whether anything was modified.
 */
bool
ScimPatchExecute(const ScimPatch *patch, struct json_object *resource, bool *changed, ScimError *err)
{
	Patcher		pt;

	memset(&pt, 0, sizeof(pt));
	pt.reg = patch->reg;
	pt.type = patch->type;
	pt.err = err;
	pt.res = resource;
	ScimErrorClear(err);
	*changed = false;
	if (!json_object_is_type(resource, json_type_object))
		return fail(&pt, SCIM_ERR_INVALID_VALUE, "the resource to patch must be a JSON object");
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
