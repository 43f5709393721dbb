/*
 * json_view.c
 *		ScimValueOps over json-c trees.
 *
 * Case folding here is ASCII-only: PostgreSQL's lower() is what the SQL
 * side uses, and the glue supplies that one; this view serves the core's
 * own tests and tools, where no database is at hand.
 */
#include "json_view.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* Describe a json-c node (NULL means JSON null) as a ScimValue. */
void
ScimJsonCValue(struct json_object *obj, ScimValue *out)
{
	out->ptr = obj;
	out->str = NULL;
	out->len = 0;
	switch (json_object_get_type(obj))
	{
		case json_type_null:
			out->kind = SCIM_JSON_NULL;
			break;
		case json_type_boolean:
			out->kind = json_object_get_boolean(obj) ? SCIM_JSON_TRUE : SCIM_JSON_FALSE;
			break;
		case json_type_int:
		case json_type_double:
			out->kind = SCIM_JSON_NUMBER;
			break;
		case json_type_string:
			out->kind = SCIM_JSON_STRING;
			out->str = json_object_get_string(obj);
			out->len = (size_t) json_object_get_string_len(obj);
			break;
		case json_type_object:
			out->kind = SCIM_JSON_OBJECT;
			break;
		case json_type_array:
			out->kind = SCIM_JSON_ARRAY;
			break;
	}
}

static void
jc_get(void *ctx, const ScimValue *obj, const char *key, size_t keylen, ScimValue *out)
{
	struct json_object *v;
	char		buf[256];
	char	   *k = keylen < sizeof(buf) ? buf : malloc(keylen + 1);

	(void) ctx;
	if (k == NULL)
	{
		out->kind = SCIM_JSON_ABSENT;
		return;
	}
	memcpy(k, key, keylen);
	k[keylen] = '\0';
	if (json_object_object_get_ex((struct json_object *) obj->ptr, k, &v))
		ScimJsonCValue(v, out);
	else
		out->kind = SCIM_JSON_ABSENT;
	if (k != buf)
		free(k);
}

static int
jc_size(void *ctx, const ScimValue *v)
{
	(void) ctx;
	if (v->kind == SCIM_JSON_ARRAY)
		return (int) json_object_array_length((struct json_object *) v->ptr);
	return json_object_object_length((struct json_object *) v->ptr);
}

static void
jc_element(void *ctx, const ScimValue *arr, int i, ScimValue *out)
{
	(void) ctx;
	ScimJsonCValue(json_object_array_get_idx((struct json_object *) arr->ptr, (size_t) i), out);
}

static const char *
jc_text(void *ctx, const ScimValue *v, size_t *len)
{
	const char *s;
	char	   *copy;

	(void) ctx;
	if (v->kind == SCIM_JSON_ABSENT || v->kind == SCIM_JSON_NULL)
		return NULL;
	s = json_object_to_json_string_ext((struct json_object *) v->ptr, JSON_C_TO_STRING_PLAIN);
	*len = strlen(s);
	copy = malloc(*len + 1);
	if (copy != NULL)
		memcpy(copy, s, *len + 1);
	return copy;
}

static char *
jc_fold(void *ctx, const char *s, size_t len, size_t *outlen)
{
	char	   *out = malloc(len + 1);

	(void) ctx;
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + 'a' - 'A') : s[i];
	out[len] = '\0';
	*outlen = len;
	return out;
}

static void
jc_release(void *ctx, const char *s)
{
	(void) ctx;
	free((void *) s);
}

const ScimValueOps ScimJsonCOps = {
	jc_get, jc_size, jc_element, jc_text, jc_fold, jc_release
};
