/*
 * route.c
 *		The general path of scim.handle(): every request the fast path does
 *		not answer, failures included.  The request is read in full, its
 *		token authenticated, its method and path routed to an endpoint
 *		(list.c for lists and searches, write.c for one resource), and the
 *		endpoint run inside a subtransaction; an error it raises is answered
 *		as src/core/error.c's table says and logged as a "failed" event.
 *
 * The order is the one identity providers have always seen: a query
 * parameter that is not UTF-8 text is a 400 before anything else, then a
 * missing or unknown token a 401, then the path (404) and the method
 * (405).  The subtransaction is what makes a failed write whole: a group
 * POST whose third member is unknown leaves no group and no first two
 * members behind.  It costs a lookup nothing, because lookups never get
 * here.
 */
#include "handle_int.h"

#include "utils/builtins.h"
#include "utils/uuid.h"

/*
 * Read everything the request holds into req; false when a query parameter
 * is not UTF-8 text.  Nothing here touches the database, but for headers
 * that are not all strings, whose base URL SQL makes (ScimPgOddBase()).
 */
static bool
read_all(FunctionCallInfo fcinfo, Request *req, char **seg, int maxseg, MemoryContext cxt)
{
	bool		ok = true;
	char	   *path;

	memset(req, 0, sizeof(*req));
	req->method = ScimPgMethodName(fcinfo);
	req->path = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	req->headers = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	req->body_text = PG_ARGISNULL(4) ? NULL : PG_GETARG_TEXT_PP(4);

	/* the path's segments, before any query string, empty ones dropped */
	path = pstrdup(req->path);
	path[strcspn(path, "?")] = '\0';
	for (char *tok = strtok(path, "/"); tok != NULL; tok = strtok(NULL, "/"))
	{
		if (req->nseg < maxseg)
			seg[req->nseg] = tok;
		req->nseg++;
	}

	/* the base URL is made before anything can fail, so that every answer can use it */
	if (req->headers != NULL && JB_ROOT_IS_OBJECT(req->headers))
		req->base = ScimPgBaseUrl(req->headers, &ok);
	if (req->headers != NULL && (!ok || !JB_ROOT_IS_OBJECT(req->headers)))
		req->base = ScimPgOddBase(PG_GETARG_DATUM(3), cxt);
	else if (req->headers == NULL)
		req->base = ScimPgBaseUrl(NULL, &ok);

	/* a token only from an Authorization header that is a string */
	ok = true;
	if (req->headers == NULL || !JB_ROOT_IS_OBJECT(req->headers) || !ScimPgBearer(req->headers, req, &ok) || !ok)
		req->token = NULL;

	if (!PG_ARGISNULL(2))
	{
		text	   *query = PG_GETARG_TEXT_PP(2);

		req->nparams = ScimPgQueryParams(VARDATA_ANY(query), VARSIZE_ANY_EXHDR(query), &req->params, &ok);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * Route an authenticated request to its endpoint and answer it; a request
 * that names no endpoint fails here.  seg holds the path's first segments.
 */
static Datum
route(FunctionCallInfo fcinfo, Request *req, char **seg, MemoryContext cxt)
{
	const char *m = req->method;

	if (req->nseg == 0)
		ScimPgFail(404, NULL, "no resource at the SCIM base; try /Users, /Groups or /ServiceProviderConfig");
	if (pg_strcasecmp(seg[0], "users") == 0 || pg_strcasecmp(seg[0], "groups") == 0)
	{
		req->users = pg_strcasecmp(seg[0], "users") == 0;
		req->rtype = req->users ? "User" : "Group";
		if (req->nseg > 2)
			ScimPgFail(404, NULL, "no such resource");
		if (req->nseg == 2 && strcmp(seg[1], ".search") == 0)
		{
			if (strcmp(m, "POST") != 0)
				ScimPgFail(405, NULL, "%s is not allowed on /%s/.search", m, seg[0]);
			req->kind = REQ_SEARCH;
			return ScimPgAnswerSearch(fcinfo, req, cxt);
		}
		if (req->nseg == 1)
		{
			if (strcmp(m, "GET") == 0)
			{
				req->kind = REQ_SEARCH;
				return ScimPgAnswerSearch(fcinfo, req, cxt);
			}
			if (strcmp(m, "POST") != 0)
				ScimPgFail(405, NULL, "%s is not allowed on /%s", m, seg[0]);
		}
		else
		{
			if (strcmp(m, "GET") != 0 && strcmp(m, "PUT") != 0 && strcmp(m, "PATCH") != 0 &&
				strcmp(m, "DELETE") != 0)
				ScimPgFail(405, NULL, "%s is not allowed on /%s/{id}", m, seg[0]);
			req->rid = seg[1];
		}
		req->kind = REQ_RESOURCE;
		return ScimPgAnswerResource(fcinfo, req, cxt);
	}
	if (strcmp(seg[0], ".search") == 0)
	{
		if (strcmp(m, "POST") != 0 || req->nseg > 1)
			ScimPgFail(405, NULL, "%s is not allowed on /.search", m);
		req->kind = REQ_SEARCH;
		return ScimPgAnswerSearch(fcinfo, req, cxt);
	}
	ScimPgFail(404, NULL, "no resource type at /%s", seg[0]);
}

/* route() for ScimPgAttempt(): its arguments and its answer */
typedef struct Routed
{
	FunctionCallInfo fcinfo;
	Request    *req;
	char	  **seg;
	MemoryContext cxt;
	Datum		result;
} Routed;

static void
run_route(void *arg)
{
	Routed	   *r = (Routed *) arg;

	r->result = route(r->fcinfo, r->req, r->seg, r->cxt);
}

/*
 * The status and scimType of a request that failed with error e: the
 * table's for the extension's SQLSTATEs, a unique violation's 409, a bad
 * value's 400, else 500.  scim.import() reports a document's failure so.
 */
int
ScimPgFailureStatus(const ErrorData *e, const char **scim_type)
{
	int			status;
	const char *state = unpack_sql_state(e->sqlerrcode);

	*scim_type = NULL;
	if (ScimPgSqlStateStatus(e->sqlerrcode, &status, scim_type))
		return status;
	if (state[0] == 'S' && state[1] == 'H')
		return atoi(state + 2);
	switch (e->sqlerrcode)
	{
		case ERRCODE_UNIQUE_VIOLATION:
			*scim_type = "uniqueness";
			return 409;
		case ERRCODE_INVALID_TEXT_REPRESENTATION:
		case ERRCODE_UNTRANSLATABLE_CHARACTER:
		case ERRCODE_INVALID_PARAMETER_VALUE:
		case ERRCODE_ARRAY_SUBSCRIPT_ERROR:
		case ERRCODE_STATEMENT_TOO_COMPLEX:
		case ERRCODE_PROGRAM_LIMIT_EXCEEDED:
			*scim_type = "invalidValue";
			return 400;
		case ERRCODE_READ_ONLY_SQL_TRANSACTION:
			/* a hot standby, or a read-only transaction: a client retries, at the primary */
			return 503;
		default:
			return 500;
	}
}

/*
 * Answer a request that failed with status: logged as a "failed" event of
 * resource type rtype (NULL for none) once a token has named the tenant,
 * and answered with an Error document.
 */
Datum
ScimPgAnswerFailure(FunctionCallInfo fcinfo, const Request *req, int status, const char *scim_type,
					const char *detail, MemoryContext cxt)
{
	if (req->tenant_datum != (Datum) 0)
		ScimPgLogEvent(req, "failed", req->rtype, NULL, status, scim_type, detail, cxt);
	return ScimPgErrorResponse(fcinfo, status, scim_type, detail,
							   req->tenant_datum != (Datum) 0 ? req->tenant_text : NULL);
}

/*
 * Answer any request but a service endpoint's (discovery.c); SPI is
 * connected and the search_path pinned.  tenant is the tenant the fast
 * path has authenticated already, or NULL.
 */
Datum
ScimPgAnswerAll(FunctionCallInfo fcinfo, const pg_uuid_t *tenant, MemoryContext cxt)
{
	Request		req;
	char	   *seg[2];
	Routed		routed;
	ErrorData  *e;
	int			status;
	const char *scim_type;
	const char *detail;
	Datum		unused;

	if (!read_all(fcinfo, &req, seg, lengthof(seg), cxt))
		return ScimPgErrorResponse(fcinfo, 400, "invalidValue", "query parameter is not valid UTF-8 text", NULL);
	if (tenant != NULL)
	{
		req.tenant = *tenant;
		strlcpy(req.tenant_text, DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(tenant))),
				sizeof(req.tenant_text));
	}
	else if (req.token == NULL || !ScimPgAuthenticate(&req, cxt, &unused, true))
		return ScimPgErrorResponse(fcinfo, 401, NULL, "a valid bearer token is required", NULL);
	req.tenant_datum = UUIDPGetDatum(&req.tenant);
	ScimPgActFor(&req.tenant);

	routed.fcinfo = fcinfo;
	routed.req = &req;
	routed.seg = seg;
	routed.cxt = cxt;
	if ((e = ScimPgAttempt(run_route, &routed, cxt)) == NULL)
		return routed.result;

	/* a cancel (the request's deadline among them) ends the call, as it ends any statement */
	if (e->sqlerrcode == ERRCODE_QUERY_CANCELED)
		ReThrowError(e);
	status = ScimPgFailureStatus(e, &scim_type);
	detail = e->message;
	if (status == 503)
		detail = "the database is read-only (a hot standby, or a read-only transaction): writes go to the primary";
	if (status == 500)
	{
		/* internals stay out of the answer, in the server log */
		ereport(WARNING,
				(errmsg("scim.handle: %s %s failed: %s (SQLSTATE %s)",
						req.method, req.path, e->message, unpack_sql_state(e->sqlerrcode))));
		detail = "internal error";
	}
	ScimPgActFor(&req.tenant);
	return ScimPgAnswerFailure(fcinfo, &req, status, scim_type, detail, cxt);
}
