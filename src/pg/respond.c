/*
 * respond.c
 *		The request handler's answers: the scim.response (or
 *		scim.response_text) row, its headers, and the text of ETags and
 *		timestamps.
 */
#include "handle_int.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#define CONTENT_TYPE "application/scim+json; charset=utf-8"

/*
 * Text the responses are made of, written out directly: psprintf() cost
 * 1,700 instructions a call, five calls a PATCH.
 */

/* a, b and c end to end */
char *
ScimPgCat3(const char *a, const char *b, const char *c)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);
	size_t		lc = strlen(c);
	char	   *out = palloc(la + lb + lc + 1);

	memcpy(out, a, la);
	memcpy(out + la, b, lb);
	memcpy(out + la + lb, c, lc + 1);
	return out;
}

/* version's weak ETag, W/"<version>" */
char *
ScimPgEtagText(int64 version)
{
	char		digits[MAXINT8LEN + 1];

	pg_lltoa(version, digits);
	return ScimPgCat3("W/\"", digits, "\"");
}

/* the n-digit decimal of v (zero-padded) at out */
static char *
put_digits(char *out, int v, int n)
{
	for (int i = n - 1; i >= 0; i--)
	{
		out[i] = '0' + v % 10;
		v /= 10;
	}
	return out + n;
}

/* ts as meta.lastModified shows it, YYYY-MM-DDTHH:MM:SS.ffffffZ in UTC */
char *
ScimPgTimestampText(TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char	   *out = palloc(sizeof("YYYY-MM-DDTHH:MM:SS.ffffffZ"));
	char	   *p = out;

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0 || tm.tm_year < 1 || tm.tm_year > 9999)
		elog(ERROR, "timestamp out of range");
	p = put_digits(p, tm.tm_year, 4);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon, 2);
	*p++ = '-';
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (int) fsec, 6);
	strcpy(p, "Z");
	return out;
}

/* A sink for a document of the response: text for scim.handle_text(). */
void
ScimPgBodySink(FunctionCallInfo fcinfo, ScimPgSink *s)
{
	HandleCache *cache = (HandleCache *) fcinfo->flinfo->fn_extra;

	ScimPgSinkInit(s, cache->text ? makeStringInfo() : NULL);
}

/* The tuple descriptor of the call's result type, blessed once per call site. */
TupleDesc
ScimPgResultDesc(FunctionCallInfo fcinfo)
{
	HandleCache *cache = (HandleCache *) fcinfo->flinfo->fn_extra;
	TupleDesc	desc;

	if (cache->result == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "scim.handle() must return a composite type");
		cache->result = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
	}
	return cache->result;
}

/* A finished document of sink s as the datum the result type holds: jsonb or text. */
static Datum
sink_datum(ScimPgSink *s)
{
	if (s->text != NULL)
		return PointerGetDatum(cstring_to_text_with_len(s->text->data, s->text->len));
	return JsonbPGetDatum(ScimPgSinkJsonb(s));
}

/*
 * The response (status, headers, body), headers as scim._response() sets
 * them; body NULL for none.  The headers are written in jsonb's order of
 * their names (etag, content-type, x-scim-tenant), which text keeps.
 */
Datum
ScimPgResponse(FunctionCallInfo fcinfo, int status, ScimPgSink *body, const char *etag, const char *tenant)
{
	TupleDesc	desc = ScimPgResultDesc(fcinfo);
	Datum		values[3];
	bool		nulls[3] = {false, false, body == NULL};
	ScimPgSink	headers;

	ScimPgBodySink(fcinfo, &headers);
	ScimPgSinkOpen(&headers, WJB_BEGIN_OBJECT);
	if (etag)
	{
		ScimPgSinkKey(&headers, "etag", 4);
		ScimPgSinkString(&headers, WJB_VALUE, etag);
	}
	ScimPgSinkKey(&headers, "content-type", 12);
	ScimPgSinkString(&headers, WJB_VALUE, CONTENT_TYPE);
	ScimPgSinkKey(&headers, "x-scim-tenant", 13);
	ScimPgSinkString(&headers, WJB_VALUE, tenant);
	ScimPgSinkClose(&headers, WJB_END_OBJECT);
	values[0] = Int32GetDatum(status);
	values[1] = sink_datum(&headers);
	values[2] = body ? sink_datum(body) : (Datum) 0;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

