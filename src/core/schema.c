/*
 * schema.c
 *		Build the schema registry from RFC 7643 §7 schema documents, and
 *		resolve attribute paths against a resource type.
 *
 * This is one of the few core files that includes json-c: schema documents
 * arrive as JSON text, are parsed, copied into the registry's arena and the
 * json-c tree is released before returning, on every path.
 */
#include "schema.h"

#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

/* ASCII case-insensitive equality of two byte strings. */
bool
ScimStrCaseEq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
	{
		unsigned char ca = (unsigned char) a[i];
		unsigned char cb = (unsigned char) b[i];

		if (ca >= 'A' && ca <= 'Z')
			ca += 'a' - 'A';
		if (cb >= 'A' && cb <= 'Z')
			cb += 'a' - 'A';
		if (ca != cb)
			return false;
	}
	return true;
}

static const char *const type_names[] = {
	"string", "boolean", "decimal", "integer", "dateTime", "reference", "binary", "complex"
};

/* The RFC 7643 name of an attribute type. */
const char *
ScimAttrTypeName(ScimAttrType type)
{
	return type_names[type];
}

/* Create an empty registry. */
ScimRegistry *
ScimRegistryCreate(ScimError *err)
{
	ScimArena  *arena = ScimArenaCreate();
	ScimRegistry *reg;

	if (arena == NULL)
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	reg = ScimArenaAlloc0(arena, sizeof(ScimRegistry));
	if (reg == NULL)
	{
		ScimArenaFree(arena);
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	reg->arena = arena;
	return reg;
}

/* Release a registry and everything in it. */
void
ScimRegistryFree(ScimRegistry *reg)
{
	if (reg != NULL)
		ScimArenaFree(reg->arena);
}

/* Grow an arena-backed pointer array; arenas cannot realloc, so copy. */
static bool
grow_array(ScimArena *arena, void **items, int n, int *cap, size_t elem)
{
	int			newcap;
	void	   *p;

	if (n < *cap)
		return true;
	newcap = *cap ? *cap * 2 : 8;
	p = ScimArenaAlloc(arena, elem * (size_t) newcap);
	if (p == NULL)
		return false;
	if (n > 0)
		memcpy(p, *items, elem * (size_t) n);
	*items = p;
	*cap = newcap;
	return true;
}

typedef struct SchemaBuild
{
	ScimArena  *arena;
	ScimError  *err;
	const char *schema_id;		/* for messages */
} SchemaBuild;

/* Fetch an optional string member; NULL when absent. */
static const char *
get_string(SchemaBuild *b, struct json_object *obj, const char *key, bool *ok)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_string))
	{
		*ok = ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
						   "invalid schema \"%s\": \"%s\" must be a string",
						   b->schema_id, key);
		return NULL;
	}
	return ScimArenaStrndup(b->arena, json_object_get_string(v), (size_t) json_object_get_string_len(v));
}

/* Fetch an optional boolean member, with a default. */
static bool
get_bool(SchemaBuild *b, struct json_object *obj, const char *key, bool dflt, bool *ok)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return dflt;
	if (!json_object_is_type(v, json_type_boolean))
	{
		*ok = ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
						   "invalid schema \"%s\": \"%s\" must be a boolean",
						   b->schema_id, key);
		return dflt;
	}
	return json_object_get_boolean(v);
}

/* Map a keyword member onto an enum by a table of names, case-insensitively. */
static int
get_keyword(SchemaBuild *b, struct json_object *obj, const char *key,
			const char *const *names, int n, int dflt, const char *attr, bool *ok)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return dflt;
	if (json_object_is_type(v, json_type_string))
	{
		s = json_object_get_string(v);
		for (int i = 0; i < n; i++)
			if (ScimStrCaseEq(s, strlen(s), names[i], strlen(names[i])))
				return i;
	}
	*ok = ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
					   "invalid schema \"%s\": attribute \"%s\" has an invalid \"%s\"",
					   b->schema_id, attr, key);
	return dflt;
}

/* Copy an optional array of strings. */
static const char **
get_string_array(SchemaBuild *b, struct json_object *obj, const char *key, int *n, bool *ok)
{
	struct json_object *v;
	const char **out;
	size_t		len;

	*n = 0;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	if (!json_object_is_type(v, json_type_array))
	{
		*ok = ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
						   "invalid schema \"%s\": \"%s\" must be an array of strings",
						   b->schema_id, key);
		return NULL;
	}
	len = json_object_array_length(v);
	out = ScimArenaAlloc0(b->arena, sizeof(char *) * (len + 1));
	if (out == NULL)
	{
		*ok = ScimErrorSet(b->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
	{
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string))
		{
			*ok = ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
							   "invalid schema \"%s\": \"%s\" must be an array of strings",
							   b->schema_id, key);
			return NULL;
		}
		out[i] = ScimArenaStrndup(b->arena, json_object_get_string(e), (size_t) json_object_get_string_len(e));
	}
	*n = (int) len;
	return out;
}

static bool build_attrs(SchemaBuild *b, struct json_object *arr, const ScimSchema *schema,
						const ScimAttr *parent, ScimAttr **out, int *n);

static const char *const mutability_names[] = {"readWrite", "readOnly", "immutable", "writeOnly"};
static const char *const returned_names[] = {"default", "always", "never", "request"};
static const char *const uniqueness_names[] = {"none", "server", "global"};

/* Fill one attribute from its definition object. */
static bool
build_attr(SchemaBuild *b, struct json_object *def, const ScimSchema *schema,
		   const ScimAttr *parent, ScimAttr *a)
{
	bool		ok = true;
	struct json_object *subs;

	if (!json_object_is_type(def, json_type_object))
		return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
							"invalid schema \"%s\": each attribute must be an object",
							b->schema_id);
	a->name = get_string(b, def, "name", &ok);
	if (!ok)
		return false;
	if (a->name == NULL || a->name[0] == '\0')
		return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
							"invalid schema \"%s\": an attribute has no \"name\"",
							b->schema_id);
	a->name_len = strlen(a->name);
	for (size_t i = 0; i < a->name_len; i++)
	{
		char		c = a->name[i];

		/* RFC 7643 §2.1 ATTRNAME, plus "$ref" */
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (i > 0 && ((c >= '0' && c <= '9') || c == '-' || c == '_')) ||
			  (i == 0 && c == '$')))
			return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
								"invalid schema \"%s\": invalid attribute name \"%s\"",
								b->schema_id, a->name);
	}
	a->type = (ScimAttrType) get_keyword(b, def, "type", type_names, 8, SCIM_TYPE_STRING, a->name, &ok);
	a->multi_valued = get_bool(b, def, "multiValued", false, &ok);
	a->required = get_bool(b, def, "required", false, &ok);
	a->case_exact = get_bool(b, def, "caseExact", false, &ok);
	a->mutability = (ScimMutability) get_keyword(b, def, "mutability", mutability_names, 4, SCIM_MUT_READ_WRITE, a->name, &ok);
	a->returned = (ScimReturned) get_keyword(b, def, "returned", returned_names, 4, SCIM_RET_DEFAULT, a->name, &ok);
	a->uniqueness = (ScimUniqueness) get_keyword(b, def, "uniqueness", uniqueness_names, 3, SCIM_UNIQ_NONE, a->name, &ok);
	a->description = get_string(b, def, "description", &ok);
	a->canonical_values = get_string_array(b, def, "canonicalValues", &a->n_canonical_values, &ok);
	a->reference_types = get_string_array(b, def, "referenceTypes", &a->n_reference_types, &ok);
	a->parent = parent;
	a->schema = schema;
	if (!ok)
		return false;

	if (json_object_object_get_ex(def, "subAttributes", &subs) &&
		!json_object_is_type(subs, json_type_null))
	{
		if (a->type != SCIM_TYPE_COMPLEX)
			return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
								"invalid schema \"%s\": attribute \"%s\" has sub-attributes but is not complex",
								b->schema_id, a->name);
		if (parent != NULL)
			return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
								"invalid schema \"%s\": sub-attribute \"%s.%s\" cannot be complex",
								b->schema_id, parent->name, a->name);
		if (!build_attrs(b, subs, schema, a, &a->sub, &a->n_sub))
			return false;
	}
	else if (a->type == SCIM_TYPE_COMPLEX && parent != NULL)
		return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
							"invalid schema \"%s\": sub-attribute \"%s.%s\" cannot be complex",
							b->schema_id, parent->name, a->name);
	return true;
}

/* Build an array of attributes, rejecting duplicate names. */
static bool
build_attrs(SchemaBuild *b, struct json_object *arr, const ScimSchema *schema,
			const ScimAttr *parent, ScimAttr **out, int *n)
{
	size_t		len;
	ScimAttr   *attrs;

	if (!json_object_is_type(arr, json_type_array))
		return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
							"invalid schema \"%s\": attributes must be an array",
							b->schema_id);
	len = json_object_array_length(arr);
	if (len > 10000)
		return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
							"invalid schema \"%s\": too many attributes", b->schema_id);
	attrs = ScimArenaAlloc0(b->arena, sizeof(ScimAttr) * (len ? len : 1));
	if (attrs == NULL)
		return ScimErrorSet(b->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	for (size_t i = 0; i < len; i++)
	{
		if (!build_attr(b, json_object_array_get_idx(arr, i), schema, parent, &attrs[i]))
			return false;
		for (size_t j = 0; j < i; j++)
			if (ScimStrCaseEq(attrs[j].name, attrs[j].name_len, attrs[i].name, attrs[i].name_len))
				return ScimErrorSet(b->err, SCIM_ERR_INVALID_SCHEMA, 0,
									"invalid schema \"%s\": attribute \"%s\" is defined twice",
									b->schema_id, attrs[i].name);
	}
	*out = attrs;
	*n = (int) len;
	return true;
}

/* Parse JSON text, reporting a schema error on failure. */
static struct json_object *
parse_json(const char *json, size_t len, ScimError *err)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *obj;

	if (tok == NULL)
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	if (len > INT32_MAX)
		obj = NULL;
	else
		obj = json_tokener_parse_ex(tok, json, (int) len);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success ||
		json_tokener_get_parse_end(tok) != len)
	{
		json_object_put(obj);
		obj = NULL;
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "invalid schema definition: not valid JSON");
	}
	json_tokener_free(tok);
	return obj;
}

/* Install the RFC 7643 §3.1 attributes common to every resource type. */
bool
ScimRegistrySetCommon(ScimRegistry *reg, const char *json, size_t len, ScimError *err)
{
	struct json_object *root = parse_json(json, len, err);
	SchemaBuild b = {reg->arena, err, "common attributes"};
	ScimSchema *s;
	bool		ok;

	if (root == NULL)
		return false;
	s = ScimArenaAlloc0(reg->arena, sizeof(ScimSchema));
	if (s == NULL)
	{
		json_object_put(root);
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	}
	s->id = "";
	s->name = "common";
	s->common = true;
	ok = build_attrs(&b, root, s, NULL, &s->attrs, &s->n_attrs);
	json_object_put(root);
	if (ok)
		reg->common = s;
	return ok;
}

/* Is s a plausible schema URN ("urn:" followed by at least one more part)? */
static bool
valid_urn(const char *s, size_t len)
{
	if (len < 6 || !ScimStrCaseEq(s, 4, "urn:", 4))
		return false;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c <= ' ' || c >= 0x7f || c == '"' || c == '[' || c == ']')
			return false;
	}
	return s[len - 1] != ':';
}

/* Add one schema document (RFC 7643 §7); returns it, or NULL with err set. */
const ScimSchema *
ScimRegistryAddSchema(ScimRegistry *reg, const char *json, size_t len, ScimError *err)
{
	struct json_object *root = parse_json(json, len, err);
	struct json_object *attrs;
	SchemaBuild b = {reg->arena, err, "(unnamed)"};
	ScimSchema *s;
	bool		ok = true;

	if (root == NULL)
		return NULL;
	if (!json_object_is_type(root, json_type_object))
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "invalid schema definition: not a JSON object");
		goto fail;
	}
	s = ScimArenaAlloc0(reg->arena, sizeof(ScimSchema));
	if (s == NULL)
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		goto fail;
	}
	s->id = get_string(&b, root, "id", &ok);
	if (!ok)
		goto fail;
	if (s->id == NULL || !valid_urn(s->id, strlen(s->id)))
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "invalid schema definition: \"id\" must be a URN");
		ScimErrorDetail(err, "A schema id looks like \"urn:ietf:params:scim:schemas:extension:example:2.0:User\".");
		goto fail;
	}
	s->id_len = strlen(s->id);
	b.schema_id = s->id;
	if (ScimRegistryFindSchema(reg, s->id, s->id_len) != NULL)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "schema \"%s\" is already registered", s->id);
		goto fail;
	}
	s->name = get_string(&b, root, "name", &ok);
	s->description = get_string(&b, root, "description", &ok);
	if (!ok)
		goto fail;
	if (!json_object_object_get_ex(root, "attributes", &attrs))
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "invalid schema \"%s\": \"attributes\" is missing", s->id);
		goto fail;
	}
	if (!build_attrs(&b, attrs, s, NULL, &s->attrs, &s->n_attrs))
		goto fail;
	if (!grow_array(reg->arena, (void **) &reg->schemas, reg->n_schemas, &reg->cap_schemas, sizeof(ScimSchema *)))
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		goto fail;
	}
	reg->schemas[reg->n_schemas++] = s;
	json_object_put(root);
	return s;

fail:
	json_object_put(root);
	return NULL;
}

/* Add a resource type whose core schema is already registered. */
const ScimResourceType *
ScimRegistryAddResourceType(ScimRegistry *reg, const char *name, const char *endpoint,
							const char *description, const char *core_urn, ScimError *err)
{
	ScimResourceType *t;
	const ScimSchema *core = ScimRegistryFindSchema(reg, core_urn, strlen(core_urn));

	if (core == NULL)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "schema \"%s\" is not registered", core_urn);
		return NULL;
	}
	if (ScimRegistryFindType(reg, name, strlen(name)) != NULL)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "resource type \"%s\" is already registered", name);
		return NULL;
	}
	t = ScimArenaAlloc0(reg->arena, sizeof(ScimResourceType));
	if (t == NULL ||
		!grow_array(reg->arena, (void **) &reg->types, reg->n_types, &reg->cap_types, sizeof(ScimResourceType *)))
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	t->name = ScimArenaStrndup(reg->arena, name, strlen(name));
	t->endpoint = ScimArenaStrndup(reg->arena, endpoint, strlen(endpoint));
	t->description = description ? ScimArenaStrndup(reg->arena, description, strlen(description)) : NULL;
	t->core = core;
	reg->types[reg->n_types++] = t;
	return t;
}

/* Attach a registered extension schema to a resource type. */
bool
ScimRegistryAddExtension(ScimRegistry *reg, const char *type_name, const char *urn,
						 bool required, ScimError *err)
{
	ScimResourceType *t = (ScimResourceType *) ScimRegistryFindType(reg, type_name, strlen(type_name));
	const ScimSchema *s = ScimRegistryFindSchema(reg, urn, strlen(urn));

	if (t == NULL)
		return ScimErrorSet(err, SCIM_ERR_UNKNOWN_RESOURCE_TYPE, 0, "resource type \"%s\" does not exist", type_name);
	if (s == NULL)
		return ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0, "schema \"%s\" is not registered", urn);
	if (s == t->core)
		return ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0,
							"schema \"%s\" is the core schema of resource type \"%s\"", urn, t->name);
	for (int i = 0; i < t->n_extensions; i++)
		if (t->extensions[i].schema == s)
			return ScimErrorSet(err, SCIM_ERR_INVALID_SCHEMA, 0,
								"schema \"%s\" is already an extension of resource type \"%s\"", urn, t->name);
	if (!grow_array(reg->arena, (void **) &t->extensions, t->n_extensions, &t->cap_extensions, sizeof(ScimExtensionRef)))
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	t->extensions[t->n_extensions].schema = s;
	t->extensions[t->n_extensions].required = required;
	t->n_extensions++;
	return true;
}

/* Find a resource type by name, case-insensitively. */
const ScimResourceType *
ScimRegistryFindType(const ScimRegistry *reg, const char *name, size_t len)
{
	for (int i = 0; i < reg->n_types; i++)
		if (ScimStrCaseEq(reg->types[i]->name, strlen(reg->types[i]->name), name, len))
			return reg->types[i];
	return NULL;
}

/* Find a schema by URN, case-insensitively. */
const ScimSchema *
ScimRegistryFindSchema(const ScimRegistry *reg, const char *urn, size_t len)
{
	for (int i = 0; i < reg->n_schemas; i++)
		if (ScimStrCaseEq(reg->schemas[i]->id, reg->schemas[i]->id_len, urn, len))
			return reg->schemas[i];
	return NULL;
}

/*
 * Find a top-level attribute of a schema, case-insensitively (RFC 7643
 * §2.1).  The lengths are compared first, here: a response looks up every
 * member it writes, and most attributes differ from a name in length.
 */
const ScimAttr *
ScimSchemaFindAttr(const ScimSchema *schema, const char *name, size_t len)
{
	for (int i = 0; i < schema->n_attrs; i++)
		if (schema->attrs[i].name_len == len && ScimStrCaseEq(schema->attrs[i].name, len, name, len))
			return &schema->attrs[i];
	return NULL;
}

/* Find a sub-attribute of a complex attribute, case-insensitively. */
const ScimAttr *
ScimAttrFindSub(const ScimAttr *attr, const char *name, size_t len)
{
	for (int i = 0; i < attr->n_sub; i++)
		if (attr->sub[i].name_len == len && ScimStrCaseEq(attr->sub[i].name, len, name, len))
			return &attr->sub[i];
	return NULL;
}

/*
 * Resolve "[URN:]attr[.sub]" against a resource type (RFC 7644 §3.10).
 *
 * A URN prefix is matched against the longest schema URN the resource type
 * knows, never by splitting on dots: the "2.0" inside every SCIM URN breaks
 * naive splitters.  An unqualified name is looked up in the core schema and
 * the common attributes first, then in the extensions, so that
 * "employeeNumber" works as a shorthand when it is unambiguous.
 */
bool
ScimResolvePath(const ScimRegistry *reg, const ScimResourceType *type,
				const char *text, size_t len, ScimPath *out, ScimError *err,
				ScimErrorKind kind, int offset)
{
	const ScimSchema *schema = NULL;
	const char *name = text;
	size_t		name_len = len;
	const char *dot;
	const ScimAttr *attr = NULL;
	const char *what = kind == SCIM_ERR_INVALID_FILTER ? "filter" : "path";

	out->extension = NULL;
	out->attr = NULL;
	out->sub = NULL;

	if (len > 4 && ScimStrCaseEq(text, 4, "urn:", 4))
	{
		size_t		best = 0;
		const ScimSchema *cands[1 + 64];
		int			ncands = 0;

		cands[ncands++] = type->core;
		for (int i = 0; i < type->n_extensions && ncands < 65; i++)
			cands[ncands++] = type->extensions[i].schema;
		for (int i = 0; i < ncands; i++)
		{
			const ScimSchema *s = cands[i];

			if (s->id_len < len && s->id_len > best && text[s->id_len] == ':' &&
				ScimStrCaseEq(s->id, s->id_len, text, s->id_len))
			{
				best = s->id_len;
				schema = s;
			}
		}
		if (schema == NULL)
		{
			ScimErrorSet(err, kind, offset, "unknown schema in attribute path \"%.*s\"", (int) len, text);
			ScimErrorDetail(err, "Resource type \"%s\" has no schema whose URN prefixes this path.", type->name);
			return false;
		}
		name = text + best + 1;
		name_len = len - best - 1;
	}

	dot = memchr(name, '.', name_len);
	{
		size_t		attr_len = dot ? (size_t) (dot - name) : name_len;

		if (schema != NULL)
		{
			attr = ScimSchemaFindAttr(schema, name, attr_len);
			/* the core URN may also qualify the common attributes */
			if (attr == NULL && schema == type->core && reg->common != NULL)
				attr = ScimSchemaFindAttr(reg->common, name, attr_len);
		}
		else
		{
			attr = ScimSchemaFindAttr(type->core, name, attr_len);
			if (attr == NULL && reg->common != NULL)
				attr = ScimSchemaFindAttr(reg->common, name, attr_len);
			if (attr == NULL)
			{
				for (int i = 0; i < type->n_extensions; i++)
				{
					const ScimAttr *a = ScimSchemaFindAttr(type->extensions[i].schema, name, attr_len);

					if (a == NULL)
						continue;
					if (attr != NULL)
					{
						ScimErrorSet(err, kind, offset, "ambiguous attribute \"%.*s\" in %s",
									 (int) attr_len, name, what);
						ScimErrorDetail(err, "More than one extension schema of resource type \"%s\" defines it.", type->name);
						ScimErrorHint(err, "Qualify the attribute with its schema URN.");
						return false;
					}
					attr = a;
				}
			}
		}
		if (attr == NULL)
		{
			ScimErrorSet(err, kind, offset, "unknown attribute \"%.*s\" in %s", (int) len, text, what);
			ScimErrorDetail(err, "Resource type \"%s\" has no attribute \"%.*s\".", type->name, (int) attr_len, name);
			return false;
		}
		if (attr->schema != type->core && !attr->schema->common)
			out->extension = attr->schema;
		out->attr = attr;
		if (dot != NULL)
		{
			const char *sub = dot + 1;
			size_t		sub_len = name_len - attr_len - 1;

			if (attr->type != SCIM_TYPE_COMPLEX)
			{
				ScimErrorSet(err, kind, offset, "attribute \"%s\" has no sub-attributes", attr->name);
				ScimErrorDetail(err, "\"%.*s\" names a sub-attribute of a %s attribute.",
								(int) len, text, ScimAttrTypeName(attr->type));
				return false;
			}
			out->sub = ScimAttrFindSub(attr, sub, sub_len);
			if (out->sub == NULL)
			{
				ScimErrorSet(err, kind, offset, "unknown attribute \"%.*s\" in %s", (int) len, text, what);
				ScimErrorDetail(err, "Attribute \"%s\" has no sub-attribute \"%.*s\".", attr->name, (int) sub_len, sub);
				return false;
			}
		}
	}
	return true;
}
