/*
 * jsonb_compat.h
 *		pushJsonbValue() behind one name (PostgreSQL 19 changed its
 *		signature), and the values the glue builds most: C strings and whole
 *		jsonb documents.
 */
#ifndef SCIM_JSONB_COMPAT_H
#define SCIM_JSONB_COMPAT_H

#include "utils/jsonb.h"

static inline JsonbValue *
scim_push_jsonb(JsonbParseState **state, JsonbIteratorToken tok, JsonbValue *value)
{
	return pushJsonbValue(state, tok, value);
}

/* v as the C string s (not copied). */
static inline JsonbValue *
scim_jsonb_string(JsonbValue *v, const char *s)
{
	v->type = jbvString;
	v->val.string.val = (char *) s;
	v->val.string.len = strlen(s);
	return v;
}

/* v as document jb, in binary form (not copied). */
static inline JsonbValue *
scim_jsonb_binary(JsonbValue *v, Jsonb *jb)
{
	v->type = jbvBinary;
	v->val.binary.data = &jb->root;
	v->val.binary.len = VARSIZE(jb) - VARHDRSZ;
	return v;
}

static inline JsonbValue *
scim_push_string(JsonbParseState **state, JsonbIteratorToken tok, const char *s)
{
	JsonbValue	v;

	return pushJsonbValue(state, tok, scim_jsonb_string(&v, s));
}

static inline JsonbValue *
scim_push_binary(JsonbParseState **state, JsonbIteratorToken tok, Jsonb *jb)
{
	JsonbValue	v;

	return pushJsonbValue(state, tok, scim_jsonb_binary(&v, jb));
}

#endif
