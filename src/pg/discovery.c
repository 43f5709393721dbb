/*
 * discovery.c
 *		The request handler's service endpoints: the discovery documents
 *		(RFC 7644 section 4: /ServiceProviderConfig, /Schemas, /ResourceTypes
 *		and one schema or resource type by id), and the endpoints the
 *		service does not implement, /Me and /Bulk, answered 501.
 *
 * These are answered here in full, failures included, in the general
 * path's order (route.c): the query string is read first (a parameter that is not
 * UTF-8 text is a 400), then the bearer token (401), then the method
 * (405) and a filter (403, section 4: discovery cannot be filtered); a
 * request that fails after its token was taken is logged in scim.event as
 * "failed".  The documents are read from the registry's tables.
 */
#include "handle_int.h"

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

/* Answer the request ScimPgReadService() read, into *result; SPI is connected. */
void
ScimPgAnswerService(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt, Datum *result)
{
	Datum		tenant;
	const char *method;
	Datum		args[4];
	char		nulls[4] = "    ";
	Statement	st;
	Jsonb	   *doc;

	if (req->query_invalid)
	{
		*result = ScimPgErrorResponse(fcinfo, 400, "invalidValue", "query parameter is not valid UTF-8 text", NULL);
		return;
	}
	if (req->token == NULL || !ScimPgAuthenticate(req, cxt, &tenant, false))
	{
		*result = ScimPgErrorResponse(fcinfo, 401, NULL, "a valid bearer token is required", NULL);
		return;
	}
	ScimPgActFor(&req->tenant);
	method = req->method = ScimPgMethodName(fcinfo);
	req->path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	req->tenant_datum = UUIDPGetDatum(&req->tenant);

	/* RFC 7644 section 3.11: a service that has no /Me says 501 */
	if (req->endpoint == EP_ME)
	{
		*result = ScimPgAnswerFailure(fcinfo, req, 501, NULL, "/Me is not implemented: a bearer token here stands for a tenant, not a user", cxt);
		return;
	}
	if (req->endpoint == EP_BULK)
	{
		*result = ScimPgAnswerFailure(fcinfo, req, 501, NULL, "bulk operations are not implemented (ServiceProviderConfig: bulk.supported is false)", cxt);
		return;
	}
	if (strcmp(method, "GET") != 0)
	{
		*result = ScimPgAnswerFailure(fcinfo, req, 405, NULL, psprintf("%s is not allowed on /%s", method, req->segment), cxt);
		return;
	}
	if (req->filtered)
	{
		*result = ScimPgAnswerFailure(fcinfo, req, 403, NULL, "discovery endpoints cannot be filtered (RFC 7644 section 4)", cxt);
		return;
	}

	if (req->base_odd)
		req->base = ScimPgOddBase(PG_GETARG_DATUM(3), cxt);
	if (req->base != NULL)
		args[0] = CStringGetTextDatum(req->base);
	else
		nulls[0] = 'n';
	switch (req->endpoint)
	{
		case EP_SERVICE_PROVIDER_CONFIG:
			if (req->nseg > 1)
			{
				*result = ScimPgAnswerFailure(fcinfo, req, 404, NULL, "no such resource", cxt);
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
		*result = ScimPgAnswerFailure(fcinfo, req, 404, NULL, psprintf("schema \"%s\" not found", req->rid), cxt);
	else if (doc == NULL && st == ST_RESOURCE_TYPE)
		*result = ScimPgAnswerFailure(fcinfo, req, 404, NULL, psprintf("resource type \"%s\" not found", req->rid), cxt);
	else if (doc == NULL)
		elog(ERROR, "scim.handle(): the registry has no resource types");
	else
		*result = ScimPgDocResponse(fcinfo, 200, doc, req->tenant_text);
}
