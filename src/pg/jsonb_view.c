/*
 * jsonb_view.c
 *		The evaluator's view of a jsonb document, read in place.
 *
 * scim.matches() runs once per row in migrations over millions of rows, so
 * it reads the binary jsonb directly instead of converting it to json-c.
 * text() renders values exactly as ->> does (the SQL generator compares
 * that text), and fold() is lower() under the database's default collation,
 * the lower() the generated SQL calls.
 */
#include "scim_pg.h"

#include "catalog/pg_collation.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/numeric.h"

/* Describe a JsonbValue as a ScimValue. */
static void
from_jbv(const JsonbValue *v, ScimValue *out)
{
	out->str = NULL;
	out->len = 0;
	out->ptr = NULL;
	switch (v->type)
	{
		case jbvNull:
			out->kind = SCIM_JSON_NULL;
			break;
		case jbvString:
			out->kind = SCIM_JSON_STRING;
			out->str = v->val.string.val;
			out->len = (size_t) v->val.string.len;
			break;
		case jbvNumeric:
			out->kind = SCIM_JSON_NUMBER;
			out->ptr = v->val.numeric;
			break;
		case jbvBool:
			out->kind = v->val.boolean ? SCIM_JSON_TRUE : SCIM_JSON_FALSE;
			break;
		case jbvBinary:
			out->kind = JsonContainerIsObject(v->val.binary.data) ? SCIM_JSON_OBJECT : SCIM_JSON_ARRAY;
			out->ptr = v->val.binary.data;
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

/* A value met walking a jsonb (a member's or an element's), for the evaluator. */
void
ScimJsonbValue(const JsonbValue *v, ScimValue *out)
{
	from_jbv(v, out);
}

/* The document itself: a container, or the scalar a raw-scalar jsonb holds. */
void
ScimJsonbRoot(Jsonb *jb, ScimValue *out)
{
	if (JB_ROOT_IS_SCALAR(jb))
	{
		JsonbValue	v;

		if (!JsonbExtractScalar(&jb->root, &v))
			elog(ERROR, "could not extract a jsonb scalar");
		/* strings and numerics point into jb, which outlives the evaluation */
		from_jbv(&v, out);
		return;
	}
	out->kind = JB_ROOT_IS_OBJECT(jb) ? SCIM_JSON_OBJECT : SCIM_JSON_ARRAY;
	out->ptr = &jb->root;
	out->str = NULL;
	out->len = 0;
}

static void
jb_get(void *ctx, const ScimValue *obj, const char *key, size_t keylen, ScimValue *out)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer((JsonbContainer *) obj->ptr, key, (int) keylen, &v) == NULL)
	{
		out->kind = SCIM_JSON_ABSENT;
		return;
	}
	from_jbv(&v, out);
}

static int
jb_size(void *ctx, const ScimValue *v)
{
	return (int) JsonContainerSize((JsonbContainer *) v->ptr);
}

static void
jb_element(void *ctx, const ScimValue *arr, int i, ScimValue *out)
{
	JsonbValue *v;

	CHECK_FOR_INTERRUPTS();
	v = getIthJsonbValueFromContainer((JsonbContainer *) arr->ptr, (uint32) i);
	if (v == NULL)
	{
		out->kind = SCIM_JSON_ABSENT;
		return;
	}
	from_jbv(v, out);
	pfree(v);
}

/* A value's text exactly as ->> renders it; NULL for absent and null. */
char *
ScimPgValueText(const ScimValue *v, size_t *len)
{
	char	   *s;

	switch (v->kind)
	{
		case SCIM_JSON_ABSENT:
		case SCIM_JSON_NULL:
			return NULL;
		case SCIM_JSON_STRING:
			s = pnstrdup(v->str, v->len);
			break;
		case SCIM_JSON_NUMBER:
			s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum((Numeric) v->ptr)));
			break;
		case SCIM_JSON_TRUE:
			s = pstrdup("true");
			break;
		case SCIM_JSON_FALSE:
			s = pstrdup("false");
			break;
		default:
			s = JsonbToCString(NULL, (JsonbContainer *) v->ptr, -1);
			break;
	}
	*len = strlen(s);
	return s;
}

static const char *
jb_text(void *ctx, const ScimValue *v, size_t *len)
{
	return ScimPgValueText(v, len);
}

static char *
jb_fold(void *ctx, const char *s, size_t len, size_t *outlen)
{
	char	   *r = str_tolower(s, len, DEFAULT_COLLATION_OID);

	*outlen = strlen(r);
	return r;
}

static void
jb_release(void *ctx, const char *s)
{
	pfree((void *) s);
}

const ScimValueOps ScimJsonbOps = {
	jb_get, jb_size, jb_element, jb_text, jb_fold, jb_release
};

/* A numeric from its text (numeric_in); for files that cannot include fmgrprotos.h. */
struct NumericData *
ScimPgNumeric(const char *text)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}
