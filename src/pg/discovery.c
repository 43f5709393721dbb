/*
 * discovery.c
 *		The request handler's service endpoints: the discovery documents
 *		(RFC 7644 section 4: /ServiceProviderConfig, /Schemas, /ResourceTypes
 *		and one schema or resource type by id), and the endpoints the
 *		service does not implement, /Me and /Bulk, answered 501.
 *
 * These are answered here in full, failures included, as scim._handle()
 * answered them: the query string is read first (a parameter that is not
 * UTF-8 text is a 400), then the bearer token (401), then the method
 * (405) and a filter (403, section 4: discovery cannot be filtered); a
 * request that fails after its token was taken is logged in scim.event as
 * "failed".  The documents are read from the registry's tables.
 */
#include "handle_int.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"

/* ServiceEndpoint by the path's first segment, compared without case */
static const char *const endpoint_names[] = {
	[EP_SERVICE_PROVIDER_CONFIG] = "serviceproviderconfig",
	[EP_SCHEMAS] = "schemas",
	[EP_RESOURCE_TYPES] = "resourcetypes",
	[EP_ME] = "me",
	[EP_BULK] = "bulk",
};

/*
 * Read a request whose path starts with first (second its next segment,
 * NULL for none; nseg how many it has): true when it names a service
 * endpoint, which this file then answers whatever else the request holds.
 * Nothing here touches the database.
 */
bool
ScimPgReadService(FunctionCallInfo fcinfo, Request *req, const char *first, const char *second, int nseg)
{
	Jsonb	   *headers = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	bool		ok = true;
	int			e;

	for (e = 0; e < lengthof(endpoint_names); e++)
		if (pg_strcasecmp(first, endpoint_names[e]) == 0)
			break;
	if (e == lengthof(endpoint_names))
		return false;
	req->kind = REQ_SERVICE;
	req->endpoint = (ServiceEndpoint) e;
	req->segment = first;
	req->rid = (char *) second;
	req->nseg = nseg;

	if (!PG_ARGISNULL(2))
	{
		text	   *query = PG_GETARG_TEXT_PP(2);
		ScimQueryParam *params;
		int			n = ScimPgQueryParams(VARDATA_ANY(query), VARSIZE_ANY_EXHDR(query), &params, &ok);

		req->query_invalid = !ok;
		req->filtered = ScimPgParam(params, n, "filter") != NULL;
	}

	/*
	 * Headers that are no object hold no token.  A token must be a string:
	 * the text of any other JSON value cannot start with "Bearer".
	 */
	if (headers != NULL && !JB_ROOT_IS_OBJECT(headers))
		return true;
	ok = true;
	if (!ScimPgBearer(headers, req, &ok) || !ok)
		req->token = NULL;
	ok = true;
	req->base = ScimPgBaseUrl(headers, &ok);
	req->base_odd = !ok;
	return true;
}

/* The method as scim._handle() names it in messages: upper-cased, "" for none. */
static char *
method_name(FunctionCallInfo fcinfo)
{
	Oid			collation = OidIsValid(PG_GET_COLLATION()) ? PG_GET_COLLATION() : DEFAULT_COLLATION_OID;

	if (PG_ARGISNULL(0))
		return "";
	return TextDatumGetCString(DirectFunctionCall1Coll(upper, collation, PG_GETARG_DATUM(0)));
}

/*
 * Run statement st, whose arguments may be NULL (nulls as SPI takes them),
 * and return its first column's jsonb copied into cxt; NULL when it gives
 * no row or NULL.
 */
static Jsonb *
document(Statement st, Datum *args, const char *nulls, MemoryContext cxt)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_plan(ScimPgPlan(st), args, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "scim.handle(): could not read a discovery document");
	MemoryContextSwitchTo(cxt);
	if (SPI_processed != 1)
		return NULL;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/*
 * The base URL of headers that are not all strings, as SQL makes it of
 * them (scim._base_url()): NULL when a host header is JSON null.
 */
static char *
odd_base(FunctionCallInfo fcinfo, MemoryContext cxt)
{
	Datum		arg = PG_GETARG_DATUM(3);
	bool		isnull;
	Datum		d;

	if (SPI_execute_plan(ScimPgPlan(ST_BASE_URL), &arg, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "scim.handle(): could not compute the base URL");
	MemoryContextSwitchTo(cxt);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/* A request that fails once its token was taken: logged as scim._handle() logs one, and answered. */
static Datum
fail(FunctionCallInfo fcinfo, Request *req, const char *method, MemoryContext cxt, int status, const char *detail)
{
	Datum		args[4];
	StringInfoData op;

	initStringInfo(&op);
	appendStringInfo(&op, "%s %s", method, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	args[0] = UUIDPGetDatum(&req->tenant);
	args[1] = CStringGetTextDatum(op.data);
	args[2] = Int32GetDatum(status);
	args[3] = CStringGetTextDatum(detail);
	if (ScimPgRun(ST_FAILED, args, false, cxt) != SPI_OK_INSERT)
		elog(ERROR, "scim.handle(): could not log a failed request");
	return ScimPgErrorResponse(fcinfo, status, NULL, detail, req->tenant_text);
}

/* Answer the request ScimPgReadService() read, into *result; SPI is connected. */
void
ScimPgAnswerService(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt, Datum *result)
{
	Datum		tenant;
	char	   *method;
	Datum		args[4];
	char		nulls[4] = "    ";
	Statement	st;
	Jsonb	   *doc;

	if (req->query_invalid)
	{
		*result = ScimPgErrorResponse(fcinfo, 400, "invalidValue", "query parameter is not valid UTF-8 text", NULL);
		return;
	}
	if (req->token == NULL || !ScimPgAuthenticate(req, cxt, &tenant))
	{
		*result = ScimPgErrorResponse(fcinfo, 401, NULL, "a valid bearer token is required", NULL);
		return;
	}
	ScimPgActFor(&req->tenant);
	method = method_name(fcinfo);

	/* RFC 7644 section 3.11: a service that has no /Me says 501 */
	if (req->endpoint == EP_ME)
	{
		*result = fail(fcinfo, req, method, cxt, 501,
					   "/Me is not implemented: a bearer token here stands for a tenant, not a user");
		return;
	}
	if (req->endpoint == EP_BULK)
	{
		*result = fail(fcinfo, req, method, cxt, 501,
					   "bulk operations are not implemented (ServiceProviderConfig: bulk.supported is false)");
		return;
	}
	if (strcmp(method, "GET") != 0)
	{
		*result = fail(fcinfo, req, method, cxt, 405, psprintf("%s is not allowed on /%s", method, req->segment));
		return;
	}
	if (req->filtered)
	{
		*result = fail(fcinfo, req, method, cxt, 403, "discovery endpoints cannot be filtered (RFC 7644 section 4)");
		return;
	}

	if (req->base_odd)
		req->base = odd_base(fcinfo, cxt);
	if (req->base != NULL)
		args[0] = CStringGetTextDatum(req->base);
	else
		nulls[0] = 'n';
	switch (req->endpoint)
	{
		case EP_SERVICE_PROVIDER_CONFIG:
			if (req->nseg > 1)
			{
				*result = fail(fcinfo, req, method, cxt, 404, "no such resource");
				return;
			}
			/* registered settings (module.c): always set, always integers in range */
			args[1] = Int32GetDatum(scim_max_results);
			args[2] = Int32GetDatum(Min(scim_default_count, scim_max_results));
			args[3] = Int32GetDatum(scim_cursor_timeout);
			st = ST_SERVICE_PROVIDER_CONFIG;
			break;
		case EP_SCHEMAS:
			st = req->nseg > 1 ? ST_SCHEMA : ST_SCHEMAS;
			break;
		default:
			st = req->nseg > 1 ? ST_RESOURCE_TYPE : ST_RESOURCE_TYPES;
			break;
	}
	/* a segment after the id is not looked at, as before */
	if (st == ST_SCHEMA || st == ST_RESOURCE_TYPE)
		args[1] = CStringGetTextDatum(req->rid);
	doc = document(st, args, nulls, cxt);
	if (doc == NULL && st == ST_SCHEMA)
		*result = fail(fcinfo, req, method, cxt, 404, psprintf("schema \"%s\" not found", req->rid));
	else if (doc == NULL && st == ST_RESOURCE_TYPE)
		*result = fail(fcinfo, req, method, cxt, 404, psprintf("resource type \"%s\" not found", req->rid));
	else if (doc == NULL)
		elog(ERROR, "scim.handle(): the registry has no resource types");
	else
		*result = ScimPgDocResponse(fcinfo, 200, doc, req->tenant_text);
}
