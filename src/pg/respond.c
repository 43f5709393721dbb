/*
 * respond.c
 *		The request handler's answers: the scim.response (or
 *		scim.response_text) row, its headers, and the text of ETags and
 *		timestamps.
 */
#include "handle_int.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/uuid.h"

#include "jsonb_compat.h"

#define CONTENT_TYPE "application/scim+json; charset=utf-8"

/*
 * A header value that is JSON null: the Location of a resource created by
 * a request without a base URL (headers that make none), as it always was.
 */
const char	ScimPgNullHeader[] = "";

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
 * The headers of a response, as the result type holds them: an ETag, a
 * created resource's Location, the content type when there is a body,
 * x-scim-tenant once a token named one, and a 401's challenge.  They are
 * written in jsonb's order of their names (etag, location, content-type,
 * x-scim-tenant, www-authenticate), which text keeps.
 */
static Datum
headers_datum(FunctionCallInfo fcinfo, const char *etag, const char *location, bool body, const char *tenant,
			  bool challenge)
{
	ScimPgSink	headers;

	ScimPgBodySink(fcinfo, &headers);
	ScimPgSinkOpen(&headers, WJB_BEGIN_OBJECT);
	if (etag)
	{
		ScimPgSinkKey(&headers, "etag", 4);
		ScimPgSinkString(&headers, WJB_VALUE, etag);
	}
	if (location == ScimPgNullHeader)
	{
		JsonbValue	null = {.type = jbvNull};

		ScimPgSinkKey(&headers, "location", 8);
		ScimPgSinkValue(&headers, WJB_VALUE, &null);
	}
	else if (location)
	{
		ScimPgSinkKey(&headers, "location", 8);
		ScimPgSinkString(&headers, WJB_VALUE, location);
	}
	if (body)
	{
		ScimPgSinkKey(&headers, "content-type", 12);
		ScimPgSinkString(&headers, WJB_VALUE, CONTENT_TYPE);
	}
	if (tenant)
	{
		ScimPgSinkKey(&headers, "x-scim-tenant", 13);
		ScimPgSinkString(&headers, WJB_VALUE, tenant);
	}
	if (challenge)
	{
		ScimPgSinkKey(&headers, "www-authenticate", 16);
		ScimPgSinkString(&headers, WJB_VALUE, "Bearer realm=\"scim\"");
	}
	ScimPgSinkClose(&headers, WJB_END_OBJECT);
	return sink_datum(&headers);
}

/*
 * The response (status, headers, body) of a request for tenant; body NULL
 * for none (204, 304), and then no content type either.
 */
Datum
ScimPgResponse(FunctionCallInfo fcinfo, int status, ScimPgSink *body, const char *etag, const char *tenant)
{
	return ScimPgResponseWith(fcinfo, status, body, etag, NULL, tenant);
}

/* ScimPgResponse() with a Location header, for a 201 (NULL for none). */
Datum
ScimPgResponseWith(FunctionCallInfo fcinfo, int status, ScimPgSink *body, const char *etag, const char *location,
				   const char *tenant)
{
	TupleDesc	desc = ScimPgResultDesc(fcinfo);
	Datum		values[3];
	bool		nulls[3] = {false, false, body == NULL};

	values[0] = Int32GetDatum(status);
	values[1] = headers_datum(fcinfo, etag, location, body != NULL, tenant, false);
	values[2] = body ? sink_datum(body) : (Datum) 0;
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * The response with document body, built as jsonb (the discovery
 * documents, errors); tenant NULL before a token has named one, and a 401
 * carries its challenge.
 */
Datum
ScimPgDocResponse(FunctionCallInfo fcinfo, int status, Jsonb *body, const char *tenant)
{
	HandleCache *cache = (HandleCache *) fcinfo->flinfo->fn_extra;
	TupleDesc	desc = ScimPgResultDesc(fcinfo);
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = Int32GetDatum(status);
	values[1] = headers_datum(fcinfo, NULL, NULL, true, tenant, status == 401);
	if (cache->text)
	{
		StringInfoData out;

		initStringInfo(&out);
		ScimPgJsonbText(&out, body);
		values[2] = PointerGetDatum(cstring_to_text_with_len(out.data, out.len));
	}
	else
		values[2] = JsonbPGetDatum(body);
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/*
 * An Error document (RFC 7644 section 3.12) as scim.error() makes it: the
 * status as a string, scimType only when there is one.
 */
static Jsonb *
error_doc(int status, const char *scim_type, const char *detail)
{
	JsonbParseState *st = NULL;
	char		digits[12];

	pg_ltoa(status, digits);
	scim_push_jsonb(&st, WJB_BEGIN_OBJECT, NULL);
	scim_push_string(&st, WJB_KEY, "schemas");
	scim_push_jsonb(&st, WJB_BEGIN_ARRAY, NULL);
	scim_push_string(&st, WJB_ELEM, "urn:ietf:params:scim:api:messages:2.0:Error");
	scim_push_jsonb(&st, WJB_END_ARRAY, NULL);
	scim_push_string(&st, WJB_KEY, "status");
	scim_push_string(&st, WJB_VALUE, digits);
	if (scim_type)
	{
		scim_push_string(&st, WJB_KEY, "scimType");
		scim_push_string(&st, WJB_VALUE, scim_type);
	}
	scim_push_string(&st, WJB_KEY, "detail");
	scim_push_string(&st, WJB_VALUE, detail);
	return JsonbValueToJsonb(scim_push_jsonb(&st, WJB_END_OBJECT, NULL));
}

/* The response of a request that fails: an Error document with status. */
Datum
ScimPgErrorResponse(FunctionCallInfo fcinfo, int status, const char *scim_type, const char *detail,
					const char *tenant)
{
	return ScimPgDocResponse(fcinfo, status, error_doc(status, scim_type, detail), tenant);
}

/*
 * Fail the request with status and scim_type (NULL for none): an error of
 * the SQLSTATE src/core/error.c's table gives them, which the handler
 * answers (route.c) and any SQL caller can catch by code.
 */
void
ScimPgFail(int status, const char *scim_type, const char *fmt,...)
{
	StringInfoData detail;

	/* whole, however long: a detail names what the client sent */
	initStringInfo(&detail);
	for (;;)
	{
		va_list		ap;
		int			needed;

		va_start(ap, fmt);
		needed = appendStringInfoVA(&detail, fmt, ap);
		va_end(ap);
		if (needed == 0)
			break;
		enlargeStringInfo(&detail, needed);
	}
	ereport(ERROR,
			(errcode(ScimPgStatusSqlState(status, scim_type)),
			 errmsg("%s", detail.data)));
	pg_unreachable();
}

/*
 * Append to the event log for the request's tenant: kind, the resource
 * type and id (NULL for none), the request's method and path, the status
 * it was answered with, and for a failure its scimType and detail.
 *
 * Not in a read-only transaction: a hot standby's (RecoveryInProgress()
 * makes every transaction read-only there), or one under
 * transaction_read_only.  There only reads succeed, and the events left
 * to write are their failures (a GET of an id that is gone: 404): the
 * request is answered all the same and its event skipped, since an
 * INSERT would turn a 404 into an error.  The server log says so once
 * per backend, as LOG, which the client does not see: a standby serving
 * reads would otherwise log every lookup that misses.
 */
void
ScimPgLogEvent(const Request *req, const char *kind, const char *rtype, const char *id, int status,
			   const char *scim_type, const char *detail, MemoryContext cxt)
{
	static bool told = false;
	Datum		args[8];
	char		nulls[8] = "        ";

	if (XactReadOnly)
	{
		if (!told)
			ereport(LOG,
					(errmsg("scim.handle() does not log events in a read-only transaction"),
					 errdetail("A \"%s\" event of %s %s was not written; requests are answered all the same.",
							   kind, req->method, req->path)));
		told = true;
		return;
	}

	args[0] = req->tenant_datum;
	args[1] = CStringGetTextDatum(kind);
	if (rtype)
		args[2] = CStringGetTextDatum(rtype);
	else
		nulls[2] = 'n';
	if (id)
		args[3] = DirectFunctionCall1(uuid_in, CStringGetDatum(id));
	else
		nulls[3] = 'n';
	args[4] = CStringGetTextDatum(ScimPgCat3(req->method, " ", req->path));
	args[5] = Int32GetDatum(status);
	if (scim_type)
		args[6] = CStringGetTextDatum(scim_type);
	else
		nulls[6] = 'n';
	if (detail)
		args[7] = CStringGetTextDatum(detail);
	else
		nulls[7] = 'n';
	if (SPI_execute_plan(ScimPgPlan(ST_EVENT), args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "scim.handle(): could not log an event");
	MemoryContextSwitchTo(cxt);
}
