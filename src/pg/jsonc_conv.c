/*
 * jsonc_conv.c
 *		Convert between jsonb and json-c trees directly, without going
 *		through JSON text: walking the binary jsonb is several times cheaper
 *		than printing it and parsing the text again.
 *
 * This file includes json-c, so it must not include utils/builtins.h
 * (which declares a function named json_object).  Numbers keep their exact
 * text: a decimal travels as a json-c double that carries its original
 * digits, so 2.50 comes back as 2.50 and big integers stay exact.
 *
 * Both directions can raise (stack depth, interrupts, a NUL in a string):
 * callers hold the json-c tree in a PG_TRY block and free it in PG_CATCH.
 */
#include "postgres.h"

#include <json-c/json.h>

#include "miscadmin.h"
#include "utils/numeric.h"

#include "error.h"
#include "jsonb_compat.h"
#include "jsonc_conv.h"
#include "scim_pg.h"

static struct json_object *container_to_jsonc(JsonbContainer *c);

/* One jsonb scalar or nested container as a json-c node (NULL is JSON null). */
static struct json_object *
value_to_jsonc(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return json_object_new_string_len(v->val.string.val, v->val.string.len);
		case jbvBool:
			return json_object_new_boolean(v->val.boolean);
		case jbvNumeric:
			{
				ScimValue	sv = {SCIM_JSON_NUMBER, v->val.numeric, NULL, 0};
				size_t		len;
				char	   *s = ScimPgValueText(&sv, &len);
				struct json_object *o;
				char	   *end;
				long long	ll;

				errno = 0;
				ll = strtoll(s, &end, 10);
				if (*end == '\0' && errno == 0)
					o = json_object_new_int64(ll);
				else
					o = json_object_new_double_s(strtod(s, NULL), s);
				pfree(s);
				return o;
			}
		case jbvBinary:
			return container_to_jsonc(v->val.binary.data);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;
}

/*
 * Fill json-c container "out" from jsonb container c; a raw scalar document
 * returns its scalar instead.  May raise: the caller owns "out".
 */
static struct json_object *
fill_container(JsonbContainer *c, struct json_object *out)
{
	ScimPgWalk	w;
	ScimPgEntry key;
	ScimPgEntry value;
	JsonbValue	v;

	ScimPgWalkInit(&w, c);
	while (ScimPgWalkNext(&w, &key, &value))
	{
		ScimPgEntryValue(&v, &value);
		if (w.object)
		{
			char	   *name = pnstrdup(key.data, key.len);

			json_object_object_add(out, name, value_to_jsonc(&v));
			pfree(name);
		}
		else if (JsonContainerIsScalar(c))
		{
			struct json_object *scalar = value_to_jsonc(&v);

			json_object_put(out);
			return scalar;
		}
		else
			json_object_array_add(out, value_to_jsonc(&v));
	}
	return out;
}

/* A jsonb container as a json-c object or array; the caller frees it. */
static struct json_object *
container_to_jsonc(JsonbContainer *c)
{
	struct json_object *volatile out;
	struct json_object *result = NULL;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	out = JsonContainerIsObject(c) ? json_object_new_object() : json_object_new_array();
	if (out == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		result = fill_container(c, out);
	}
	PG_CATCH();
	{
		json_object_put(out);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return result;
}

/* A jsonb document as a json-c tree (NULL for JSON null). */
struct json_object *
ScimJsonbToJsonC(JsonbContainer *container)
{
	return container_to_jsonc(container);
}

/* A jsonb value, scalar or container, as a json-c tree (NULL for JSON null). */
struct json_object *
ScimJsonbValueToJsonC(JsonbValue *v)
{
	return value_to_jsonc(v);
}

/* Release a tree from ScimJsonbToJsonC or the core. */
void
ScimJsonCFree(struct json_object *obj)
{
	json_object_put(obj);
}

static JsonbValue *push_jsonc(JsonbParseState **st, struct json_object *o, JsonbIteratorToken as);

/* A json-c number as a jsonb numeric, exactly as it prints. */
static Numeric
number_of(struct json_object *o)
{
	if (json_object_get_type(o) == json_type_int)
		return int64_to_numeric(json_object_get_int64(o));
	return ScimPgNumeric(json_object_to_json_string(o));
}

/*
 * Push one node as a value (WJB_VALUE) or an element (WJB_ELEM); returns
 * what the final push returned, which is the result for the outermost one.
 */
static JsonbValue *
push_jsonc(JsonbParseState **st, struct json_object *o, JsonbIteratorToken as)
{
	JsonbValue	v;

	check_stack_depth();
	switch (json_object_get_type(o))
	{
		case json_type_null:
			v.type = jbvNull;
			break;
		case json_type_boolean:
			v.type = jbvBool;
			v.val.boolean = json_object_get_boolean(o);
			break;
		case json_type_int:
		case json_type_double:
			v.type = jbvNumeric;
			v.val.numeric = number_of(o);
			break;
		case json_type_string:
			{
				int			len = json_object_get_string_len(o);
				const char *s = json_object_get_string(o);

				if (memchr(s, '\0', len) != NULL)
					ereport(ERROR,
							(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
							 errmsg("string values cannot contain the NUL character")));
				v.type = jbvString;
				v.val.string.val = (char *) s;
				v.val.string.len = len;
				break;
			}
		case json_type_object:
			scim_push_jsonb(st, WJB_BEGIN_OBJECT, NULL);
			{
				json_object_object_foreach(o, key, val)
				{
					scim_push_string(st, WJB_KEY, key);
					push_jsonc(st, val, WJB_VALUE);
				}
			}
			return scim_push_jsonb(st, WJB_END_OBJECT, NULL);
		case json_type_array:
			{
				size_t		n = json_object_array_length(o);

				scim_push_jsonb(st, WJB_BEGIN_ARRAY, NULL);
				for (size_t i = 0; i < n; i++)
					push_jsonc(st, json_object_array_get_idx(o, i), WJB_ELEM);
				return scim_push_jsonb(st, WJB_END_ARRAY, NULL);
			}
	}
	return scim_push_jsonb(st, as, &v);
}

/* A json-c object or array as jsonb (palloc'd). */
Jsonb *
ScimJsonCToJsonb(struct json_object *obj)
{
	JsonbParseState *st = NULL;
	enum json_type t = json_object_get_type(obj);

	if (t != json_type_object && t != json_type_array)
	{
		/* a scalar document is a one-element raw-scalar array in jsonb */
		scim_push_jsonb(&st, WJB_BEGIN_ARRAY, NULL);
		st->contVal.val.array.rawScalar = true;
		push_jsonc(&st, obj, WJB_ELEM);
		return JsonbValueToJsonb(scim_push_jsonb(&st, WJB_END_ARRAY, NULL));
	}
	return JsonbValueToJsonb(push_jsonc(&st, obj, WJB_ELEM));
}

/*
 * The members of a jsonb object whose names are in names[] (compared
 * case-insensitively), as a json-c object.  PATCH converts only what its
 * operations can touch: a three-operation Entra request on a 2 kB user then
 * converts a few hundred bytes, not the whole document.
 */
struct json_object *
ScimJsonbToJsonCPartial(JsonbContainer *root, const char **names, int n)
{
	struct json_object *volatile out = json_object_new_object();

	if (out == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	PG_TRY();
	{
		ScimPgWalk	w;
		ScimPgEntry key;
		ScimPgEntry value;
		JsonbValue	v;

		ScimPgWalkInit(&w, root);
		while (ScimPgWalkNext(&w, &key, &value))
		{
			char	   *name;

			if (!ScimPgKeyIn(key.data, key.len, (const char *const *) names, n))
				continue;
			name = pnstrdup(key.data, key.len);
			ScimPgEntryValue(&v, &value);
			json_object_object_add(out, name, value_to_jsonc(&v));
			pfree(name);
		}
	}
	PG_CATCH();
	{
		json_object_put(out);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return out;
}

static int
key_cmp_qsort(const void *a, const void *b)
{
	const char *ka = *(const char *const *) a;
	const char *kb = *(const char *const *) b;

	return ScimPgKeyCmp(ka, (int) strlen(ka), kb, (int) strlen(kb));
}

/*
 * Merging touched members back used to push the whole object into a
 * JsonbValue tree and encode it again: pushJsonbValue() unpacks every
 * member it is given, so the untouched ones, most of a user, were taken
 * apart and put back together on every PATCH.  Instead the object is
 * written in jsonb's binary form, member by member (ScimPgWriteObject()):
 * an untouched member's value is copied as bytes, and only the touched
 * members are encoded.
 */

/* A json-c node as a member's value (a container is encoded for it). */
static void
new_value(ScimPgEntry *e, struct json_object *o)
{
	switch (json_object_get_type(o))
	{
		case json_type_null:
			e->type = JENTRY_ISNULL;
			e->len = 0;
			break;
		case json_type_boolean:
			e->type = json_object_get_boolean(o) ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
			e->len = 0;
			break;
		case json_type_int:
		case json_type_double:
			{
				Numeric		num = number_of(o);

				e->type = JENTRY_ISNUMERIC;
				e->data = (const char *) num;
				e->len = VARSIZE_ANY(num);
				break;
			}
		case json_type_string:
			e->type = JENTRY_ISSTRING;
			e->data = json_object_get_string(o);
			e->len = json_object_get_string_len(o);
			if (memchr(e->data, '\0', e->len) != NULL)
				ereport(ERROR,
						(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
						 errmsg("string values cannot contain the NUL character")));
			break;
		case json_type_object:
		case json_type_array:
			{
				Jsonb	   *jb = ScimJsonCToJsonb(o);

				e->type = JENTRY_ISCONTAINER;
				e->data = (const char *) &jb->root;
				e->len = VARSIZE(jb) - VARHDRSZ;
				break;
			}
	}
}

/*
 * The jsonb object "root" with the members named in names[] replaced by
 * the members of json-c object "partial": untouched members are copied
 * from the binary form as they are.  With a stamp, its member (when not
 * among names[]: then partial has it) gets the stamp's strings on the way;
 * NULL when that member is not an object.
 */
Jsonb *
ScimJsonbMerge(JsonbContainer *root, const char **names, int n, struct json_object *partial,
			   const ScimPgStamp *stamp)
{
	ScimPgMember *touched = palloc(sizeof(ScimPgMember) * (json_object_object_length(partial) + 1));
	const char **keys = palloc(sizeof(char *) * (json_object_object_length(partial) + 1));
	ScimPgMember *m;
	int			nkeys = 0;
	int			count;

	{
		json_object_object_foreach(partial, key, val)
		{
			(void) val;
			keys[nkeys++] = key;
		}
	}
	qsort(keys, nkeys, sizeof(char *), key_cmp_qsort);
	for (int i = 0; i < nkeys; i++)
	{
		ScimPgStringEntry(&touched[i].key, keys[i]);
		new_value(&touched[i].value, json_object_object_get(partial, keys[i]));
	}
	m = ScimPgMergeMembers(root, touched, nkeys, (const char *const *) names, n, &count);

	/* the stamp's member, where it was copied: one in partial has the strings already */
	for (int i = 0; stamp != NULL && i < count; i++)
	{
		const JsonbContainer *c = (const JsonbContainer *) m[i].value.data;
		ScimPgMember *stamped;
		int			nstamped;
		StringInfoData meta;

		if (m[i].key.len != strlen(stamp->member) || memcmp(m[i].key.data, stamp->member, m[i].key.len) != 0 ||
			ScimPgKeyIn(m[i].key.data, m[i].key.len, (const char *const *) names, n))
			continue;
		if (m[i].value.type != JENTRY_ISCONTAINER || !JsonContainerIsObject(c))
			return NULL;
		stamped = ScimPgWithStrings(c, stamp->n, stamp->keys, stamp->values, &nstamped);
		initStringInfo(&meta);
		ScimPgWriteObject(&meta, stamped, nstamped);
		m[i].value.data = meta.data;
		m[i].value.len = meta.len;
	}
	return ScimPgObjectJsonb(m, count);
}

/*
 * Set stamp's members (to strings) in the object member stamp->member of
 * json-c object obj; nothing without such a member.  False when the member
 * is not an object.
 */
bool
ScimJsonCStamp(struct json_object *obj, const ScimPgStamp *stamp)
{
	struct json_object *m;

	if (!json_object_object_get_ex(obj, stamp->member, &m))
		return true;
	if (!json_object_is_type(m, json_type_object))
		return false;
	for (int i = 0; i < stamp->n; i++)
	{
		struct json_object *v = json_object_new_string(stamp->values[i]);

		if (v == NULL || json_object_object_add(m, stamp->keys[i], v) != 0)
		{
			json_object_put(v);
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		}
	}
	return true;
}
