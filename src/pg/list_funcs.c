/*
 * list_funcs.c
 *		The scim.list_response aggregate: query rows into a ListResponse
 *		(RFC 7644 §3.4.2), with integers as integers (Okta insists).
 */
#include "scim_pg.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "jsonb_compat.h"

#define LIST_RESPONSE_URN "urn:ietf:params:scim:api:messages:2.0:ListResponse"

typedef struct ListState
{
	JsonbParseState *resources;	/* an open array of the resources so far */
	int64		count;
	bool		has_total;
	int64		total;
	int32		start_index;
} ListState;

PG_FUNCTION_INFO_V1(scim_list_step);

/* Transition: append one resource (NULLs are skipped). */
Datum
scim_list_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	ListState  *state;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("scim.list_response called in a non-aggregate context")));
	old = MemoryContextSwitchTo(aggcxt);
	if (PG_ARGISNULL(0))
	{
		state = palloc0(sizeof(ListState));
		state->start_index = 1;
		scim_push_jsonb(&state->resources, WJB_BEGIN_ARRAY, NULL);
	}
	else
		state = (ListState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
	{
		/* the copy lives as long as the state: the array points into it */
		scim_push_binary(&state->resources, WJB_ELEM, PG_GETARG_JSONB_P_COPY(1));
		state->count++;
	}
	if (PG_NARGS() >= 4)
	{
		if (!PG_ARGISNULL(2))
		{
			state->has_total = true;
			state->total = PG_GETARG_INT64(2);
		}
		if (!PG_ARGISNULL(3))
			state->start_index = Max(PG_GETARG_INT32(3), 1);
	}
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(state);
}

static void
push_int(JsonbParseState **st, const char *key, int64 n)
{
	JsonbValue	v;

	scim_push_string(st, WJB_KEY, key);
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	scim_push_jsonb(st, WJB_VALUE, &v);
}

/* The ListResponse's schemas, opening the object in *st. */
static void
push_head(JsonbParseState **st)
{
	scim_push_jsonb(st, WJB_BEGIN_OBJECT, NULL);
	scim_push_string(st, WJB_KEY, "schemas");
	scim_push_jsonb(st, WJB_BEGIN_ARRAY, NULL);
	scim_push_string(st, WJB_ELEM, LIST_RESPONSE_URN);
	scim_push_jsonb(st, WJB_END_ARRAY, NULL);
}

/* Its counts, closing the object: jsonb orders the members itself. */
static Jsonb *
push_tail(JsonbParseState **st, int64 total, int64 count, int32 start_index)
{
	push_int(st, "totalResults", total);
	push_int(st, "itemsPerPage", count);
	push_int(st, "startIndex", start_index);
	return JsonbValueToJsonb(scim_push_jsonb(st, WJB_END_OBJECT, NULL));
}

/*
 * A ListResponse: {"schemas", "totalResults", "itemsPerPage", "startIndex",
 * "Resources"}, with resources (a jsonb array of count resources) as its
 * page.
 */
Jsonb *
ScimPgListResponse(Jsonb *resources, int64 total, int64 count, int32 start_index)
{
	JsonbParseState *st = NULL;

	push_head(&st);
	/* sent even when empty: Entra ID and Okta both expect "Resources": [] */
	scim_push_string(&st, WJB_KEY, "Resources");
	scim_push_binary(&st, WJB_VALUE, resources);
	return push_tail(&st, total, count, start_index);
}

/*
 * The same, built in one pass: ScimPgListOpen() leaves "Resources" open
 * for the caller to push the page into, ScimPgListClose() closes it.
 */
void
ScimPgListOpen(JsonbParseState **st)
{
	push_head(st);
	scim_push_string(st, WJB_KEY, "Resources");
	scim_push_jsonb(st, WJB_BEGIN_ARRAY, NULL);
}

Jsonb *
ScimPgListClose(JsonbParseState **st, int64 total, int64 count, int32 start_index)
{
	scim_push_jsonb(st, WJB_END_ARRAY, NULL);
	return push_tail(st, total, count, start_index);
}

PG_FUNCTION_INFO_V1(scim_list_final);

/* Final: the ListResponse of the resources appended. */
Datum
scim_list_final(PG_FUNCTION_ARGS)
{
	ListState  *state = PG_ARGISNULL(0) ? NULL : (ListState *) PG_GETARG_POINTER(0);
	Jsonb	   *resources;
	int64		count = state ? state->count : 0;

	if (state != NULL)
		resources = JsonbValueToJsonb(scim_push_jsonb(&state->resources, WJB_END_ARRAY, NULL));
	else
		resources = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("[]")));
	PG_RETURN_JSONB_P(ScimPgListResponse(resources, state && state->has_total ? state->total : count,
										 count, state ? state->start_index : 1));
}
