/*
 * patch_value.c
 *		Values checked against the schema and coerced to the attribute's
 *		type, with the identity providers' shapes (patch.c lists them), and
 *		the mutability rules a write must pass.
 *
 * POST and PUT bodies are checked with the same code: the handler
 * (src/pg/document.c) applies them as a no-path "replace" to an empty
 * resource.
 */
#include "patch_int.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "datetime.h"

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
			/*
			 * keep one value the schema does not know, as sent (Entra's roles
			 * "displayName"); nothing deeper than the schema's nesting
			 */
			if (json_object_is_type(val, json_type_object) || json_object_is_type(val, json_type_array))
				ScimPatchIgnore(pt->ignored, a->name, key);
			else
				json_object_object_add(out, key, json_object_get(val));
			continue;
		}
		n = ScimPatchNormalize(pt, sub, val, false);
		if (n == NULL)
		{
			json_object_put(out);
			return NULL;
		}
		ScimPatchPutCanonical(out, sub->name, n);
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
struct json_object *
ScimPatchNormalize(Patcher *pt, const ScimAttr *a, struct json_object *v, bool element)
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
				ne = ScimPatchNormalize(pt, a, e, true);
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
			struct json_object *ne = ScimPatchNormalize(pt, a, v, true);

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
			ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be a string", path_name(a, name, sizeof(name)));
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
			ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be a boolean", path_name(a, name, sizeof(name)));
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
			ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be an integer", path_name(a, name, sizeof(name)));
			return NULL;

		case SCIM_TYPE_DECIMAL:
			if (t == json_type_int || t == json_type_double)
				return json_object_get(v);
			ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be a number", path_name(a, name, sizeof(name)));
			return NULL;

		case SCIM_TYPE_DATETIME:
			{
				int64_t		at;

				if (t == json_type_string &&
					ScimParseDateTime(json_object_get_string(v), (size_t) json_object_get_string_len(v), &at))
					return json_object_get(v);
				ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be an xsd:dateTime string such as \"2011-05-13T04:42:34Z\"", path_name(a, name, sizeof(name)));
				return NULL;
			}

		case SCIM_TYPE_COMPLEX:
			/* manager as [{"value": id, "$ref": ...}] (Entra, E-TUT Example 5) */
			if (!a->multi_valued && t == json_type_array && json_object_array_length(v) == 1)
				return ScimPatchNormalize(pt, a, json_object_array_get_idx(v, 0), element);
			/* a bare id for a complex attribute with a value (Entra's manager, SCIM-SDK #686) */
			if (t == json_type_string && ScimAttrFindSub(a, "value", 5) != NULL)
			{
				struct json_object *o = json_object_new_object();
				struct json_object *n = ScimPatchNormalize(pt, ScimAttrFindSub(a, "value", 5), v, false);

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
			ScimPatchFail(pt, SCIM_ERR_INVALID_VALUE, "attribute \"%s\" must be an object of sub-attributes", path_name(a, name, sizeof(name)));
			return NULL;
	}
	return NULL;
}

/* ---- mutability --------------------------------------------------------------- */

/* Is a JSON value "no value" (RFC 7643 §2.5: null or an empty array)? */
static bool
is_unassigned(struct json_object *v)
{
	return v == NULL ||
		(json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0);
}

/* May attribute a change from current (NULL if unassigned) to proposed? */
Permit
ScimPatchMayWrite(Patcher *pt, const ScimAttr *a, struct json_object *current, struct json_object *proposed)
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
			ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is readOnly", name);
			return PERMIT_NO;
		case SCIM_MUT_IMMUTABLE:
			if (!is_unassigned(current))
			{
				ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is immutable and already has a value", name);
				return PERMIT_NO;
			}
			return PERMIT_YES;
		default:
			if (proposed == NULL && a->required)
			{
				ScimPatchFail(pt, SCIM_ERR_MUTABILITY, "attribute \"%s\" is required and cannot be removed", name);
				return PERMIT_NO;
			}
			return PERMIT_YES;
	}
}
