/*
 * jsonb_ops.c
 *		jsonb as SQL's operators have it (->, ->>, ?, ||, IS DISTINCT FROM,
 *		jsonb_set()), for the request handler's writes, which the PL/pgSQL
 *		handler made with those operators: the same results, down to the
 *		errors jsonb_set() raises on a document written by hand.
 */
#include "handle_int.h"

#include "jsonb_compat.h"

/* doc->key (the key as it is spelled): NULL when doc is no object or has no such member. */
JsonbValue *
ScimPgKeyValue(Jsonb *doc, const char *key)
{
	if (!JB_ROOT_IS_OBJECT(doc))
		return NULL;
	return getKeyJsonValueFromContainer(&doc->root, key, strlen(key), NULL);
}

/*
 * The value of object obj's first member (in jsonb's order) whose name,
 * lower-cased, is name: attribute names are case-insensitive (RFC 7643
 * section 2.1), so "Members" is members.  NULL when it has none.
 */
JsonbValue *
ScimPgBodyMember(JsonbContainer *obj, const char *name)
{
	ScimPgWalk	w;
	ScimPgEntry key;
	ScimPgEntry value;

	ScimPgWalkInit(&w, obj);
	while (ScimPgWalkNext(&w, &key, &value))
		if (ScimStrCaseEq(key.data, key.len, name, strlen(name)))
		{
			JsonbValue *v = palloc(sizeof(JsonbValue));

			ScimPgEntryValue(v, &value);
			return v;
		}
	return NULL;
}

/* Object obj without the members named in names[] (case-insensitively). */
Jsonb *
ScimPgWithout(JsonbContainer *obj, const char *const *names, int n)
{
	int			count;
	ScimPgMember *m = ScimPgMergeMembers(obj, NULL, 0, names, n, &count);

	return ScimPgObjectJsonb(m, count);
}

/* obj || jsonb_build_object(key, value): member key set to value. */
Jsonb *
ScimPgWithMember(JsonbContainer *obj, const char *key, const JsonbValue *value)
{
	ScimPgMember add;
	ScimPgMember *m;
	int			count;

	ScimPgStringEntry(&add.key, key);
	ScimPgValueEntry(&add.value, value);
	m = ScimPgMergeMembers(obj, &add, 1, NULL, 0, &count);
	return ScimPgObjectJsonb(m, count);
}

/* doc ? key: an object's member, or an array's string element (a scalar is one). */
bool
ScimPgHasKey(Jsonb *doc, const char *key)
{
	JsonbValue	k;

	return findJsonbValueFromContainer(&doc->root, JB_FOBJECT | JB_FARRAY, scim_jsonb_string(&k, key)) != NULL;
}

/* doc->>key as text, NULL for none or JSON null. */
char *
ScimPgKeyText(Jsonb *doc, const char *key)
{
	int			len;

	return ScimPgArrowText(ScimPgKeyValue(doc, key), &len);
}

/* Are a and b equal jsonb values (NULL for SQL NULL), as IS NOT DISTINCT FROM has it? */
bool
ScimPgSameValue(const JsonbValue *a, const JsonbValue *b)
{
	Jsonb	   *x;
	Jsonb	   *y;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	if (a->type == jbvBinary)
		return compareJsonbContainers(a->val.binary.data, b->val.binary.data) == 0;
	/* scalars as the documents jsonb's = compares */
	x = JsonbValueToJsonb((JsonbValue *) a);
	y = JsonbValueToJsonb((JsonbValue *) b);
	return compareJsonbContainers(&x->root, &y->root) == 0;
}

/*
 * The error jsonb_set(doc, '{<key>, <sub>}', ...) raises for a document
 * its path cannot enter, if any: a scalar, or an array at either level.
 * An object is entered; a scalar (or nothing) at key leaves doc as it is,
 * reported by returning NULL; else the object at key.
 */
JsonbContainer *
ScimPgSetPathTarget(Jsonb *doc, const char *key, const char *sub)
{
	JsonbValue *v;

	if (JB_ROOT_IS_SCALAR(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot set path in scalar")));
	if (JB_ROOT_IS_ARRAY(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("path element at position %d is not an integer: \"%s\"", 1, key)));
	v = getKeyJsonValueFromContainer(&doc->root, key, strlen(key), NULL);
	if (v == NULL || v->type != jbvBinary)
		return NULL;
	if (JsonContainerIsArray(v->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("path element at position %d is not an integer: \"%s\"", 2, sub)));
	return v->val.binary.data;
}

/*
 * doc with meta.lastModified and meta.version set, as
 * jsonb_set(jsonb_set(doc, '{meta,lastModified}', ...), '{meta,version}', ...)
 * sets them: not at all when doc has no meta object.
 */
Jsonb *
ScimPgStampMeta(Jsonb *doc, const char *last_modified, const char *version)
{
	static const char *const keys[] = {"lastModified", "version"};
	const char *values[] = {last_modified, version};
	JsonbContainer *meta = ScimPgSetPathTarget(doc, "meta", "lastModified");
	ScimPgMember *m;
	int			count;
	JsonbValue	v;

	if (meta == NULL)
		return doc;
	m = ScimPgWithStrings(meta, 2, keys, values, &count);
	return ScimPgWithMember(&doc->root, "meta", scim_jsonb_binary(&v, ScimPgObjectJsonb(m, count)));
}
