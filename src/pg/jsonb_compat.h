/*
 * jsonb_compat.h
 *		pushJsonbValue() behind one name: PostgreSQL 19 changed its signature.
 */
#ifndef SCIM_JSONB_COMPAT_H
#define SCIM_JSONB_COMPAT_H

#include "utils/jsonb.h"

static inline JsonbValue *
scim_push_jsonb(JsonbParseState **state, JsonbIteratorToken tok, JsonbValue *value)
{
	return pushJsonbValue(state, tok, value);
}

#endif
