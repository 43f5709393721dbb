/*
 * list_funcs.c
 *		The scim.list_response aggregate: query rows into a ListResponse
 *		(RFC 7644 §3.4.2), with integers as integers (Okta insists).
 */
#include "scim_pg.h"

#include "fmgr.h"
#include "utils/builtins.h"

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

/*
 * The ListResponse's schemas, opening the object in s.  The members go in
 * jsonb's order (schemas, Resources, nextCursor or startIndex,
 * itemsPerPage, totalResults), which a text sink keeps.
 */
static void
push_head(ScimPgSink *s)
{
	ScimPgSinkOpen(s, WJB_BEGIN_OBJECT);
	ScimPgSinkKey(s, "schemas", 7);
	ScimPgSinkOpen(s, WJB_BEGIN_ARRAY);
	ScimPgSinkString(s, WJB_ELEM, LIST_RESPONSE_URN);
	ScimPgSinkClose(s, WJB_END_ARRAY);
	/* sent even when empty: Entra ID and Okta both expect "Resources": [] */
	ScimPgSinkKey(s, "Resources", 9);
}

/*
 * Its counts, closing the object: startIndex for a page by index, or
 * for a page by cursor (start_index 0) the next page's cursor, if any
 * (RFC 9865).
 */
static void
push_tail(ScimPgSink *s, int64 total, int64 count, int32 start_index, const char *next_cursor)
{
	if (next_cursor != NULL)
	{
		ScimPgSinkKey(s, "nextCursor", 10);
		ScimPgSinkString(s, WJB_VALUE, next_cursor);
	}
	if (start_index > 0)
	{
		ScimPgSinkKey(s, "startIndex", 10);
		ScimPgSinkInt(s, WJB_VALUE, start_index);
	}
	ScimPgSinkKey(s, "itemsPerPage", 12);
	ScimPgSinkInt(s, WJB_VALUE, count);
	ScimPgSinkKey(s, "totalResults", 12);
	ScimPgSinkInt(s, WJB_VALUE, total);
	ScimPgSinkClose(s, WJB_END_OBJECT);
}

/*
 * A ListResponse: {"schemas", "totalResults", "itemsPerPage", "startIndex",
 * "Resources"}, with resources (a jsonb array of count resources) as its
 * page.
 */
Jsonb *
ScimPgListResponse(Jsonb *resources, int64 total, int64 count, int32 start_index)
{
	ScimPgSink	s;
	JsonbValue	v;

	ScimPgSinkInit(&s, NULL);
	push_head(&s);
	ScimPgSinkValue(&s, WJB_VALUE, scim_jsonb_binary(&v, resources));
	push_tail(&s, total, count, start_index, NULL);
	return ScimPgSinkJsonb(&s);
}

/*
 * The same, made in one pass: ScimPgListOpen() leaves "Resources" open
 * for the caller to push the page into, ScimPgListClose() closes it (a
 * jsonb sink's document is then ScimPgSinkJsonb()'s).
 */
void
ScimPgListOpen(ScimPgSink *s)
{
	push_head(s);
	ScimPgSinkOpen(s, WJB_BEGIN_ARRAY);
}

void
ScimPgListClose(ScimPgSink *s, int64 total, int64 count, int32 start_index)
{
	ScimPgSinkClose(s, WJB_END_ARRAY);
	push_tail(s, total, count, start_index, NULL);
}

/* ScimPgListClose() for a page by cursor: no startIndex, nextCursor unless NULL. */
void
ScimPgListCloseCursor(ScimPgSink *s, int64 total, int64 count, const char *next_cursor)
{
	ScimPgSinkClose(s, WJB_END_ARRAY);
	push_tail(s, total, count, 0, next_cursor);
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
