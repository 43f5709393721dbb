/*
 * handle.c
 *		scim.handle() and scim.handle_text(): the SCIM service, every request
 *		answered in C, failures included.
 *
 * A provisioning cycle is mostly three requests: a lookup by userName or
 * externalId (GET /Users?filter=userName eq "x"), a read by id, and a
 * PATCH of a user.  The fast path answers those with one statement each,
 * planned once for the backend's life, and no subtransaction: it takes
 * only requests it can see through to a success.  Anything it is unsure
 * of (a filter it has no statement for, a missing row, a precondition
 * header, a PATCH that fails or renames the user, an unusual header) goes
 * to the general path (route.c) before anything has been written, told
 * the tenant if the fast path authenticated one; that path answers every
 * request, runs it in a subtransaction, and answers its failures.  The
 * discovery endpoints, /Me and /Bulk are discovery.c's, failures included.
 * sql/handle_fast.sql holds the two paths to the same answers.
 *
 * scim.handle_text() is the same handler for HTTP layers, answering with
 * headers and body as JSON text: documents are written through a text
 * sink (json_sink.c) rather than built as jsonb for the caller to print.
 *
 * This file is the entry and the fast path's routing; the rest is split by
 * concern: request.c reads the request, auth.c finds the token's tenant,
 * statements.c runs the fast path's SQL, read.c answers its reads,
 * user_patch.c its user PATCH, route.c the general path, list.c and
 * cursor.c lists and searches, write.c, document.c and members.c one
 * resource's reads and writes, discovery.c the discovery documents,
 * respond.c writes the answer (handle_int.h declares them).
 */
#include "handle_int.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"

#include "projection.h"

/*
 * Answer the request: through the fast path when it can see it through to
 * a success, else through the general path (route.c), which is told the
 * tenant when the fast path authenticated one already.
 */
static Datum
answer(FunctionCallInfo fcinfo, HandleCache *cache)
{
	MemoryContext cxt = CurrentMemoryContext;
	Request		req;
	const struct ScimProjection *proj = NULL;
	ScimError	err;
	Datum		tenant;
	Datum		result = (Datum) 0;
	bool		fast;
	bool		done = false;
	bool		authenticated = false;

	fast = ScimPgReadRequest(fcinfo, &req);
	if (fast && req.kind != REQ_SERVICE)
	{
		proj = ScimPgProjection(&cache->projection, fcinfo->flinfo->fn_mcxt, req.attributes, req.excluded,
								cstring_to_text(req.rtype), &err);
		/* a group's members live in their own table: the general path reads them */
		if (proj == NULL || (!req.users && ScimProjectionWants(proj, "members")))
			fast = false;
	}

	/*
	 * Search_path pinned, so that no object of the caller's stands in for
	 * one the statements name, and the tenant set, both until handle()
	 * leaves the handler's GUC level.
	 */
	ScimPgPinPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "scim.handle(): SPI_connect failed");
	MemoryContextSwitchTo(cxt);
	if (fast && req.kind == REQ_SERVICE)
	{
		/* answered in full, failures included */
		ScimPgAnswerService(fcinfo, &req, cxt, &result);
		done = true;
	}
	else if (fast && ScimPgAuthenticate(&req, cxt, &tenant, false))
	{
		authenticated = true;
		ScimPgActFor(&req.tenant);
		switch (req.kind)
		{
			case REQ_LIST:
				done = ScimPgAnswerList(fcinfo, &req, tenant, proj, cxt, &result);
				break;
			case REQ_GET:
				done = ScimPgAnswerGet(fcinfo, &req, tenant, proj, cxt, &result);
				break;
			case REQ_PATCH:
				done = ScimPgAnswerPatch(fcinfo, &req, tenant, proj, cxt, &result);
				break;
			default:
				break;
		}
	}
	if (!done)
		result = ScimPgAnswerAll(fcinfo, authenticated ? &req.tenant : NULL, cxt);
	SPI_finish();
	MemoryContextSwitchTo(cxt);
	return result;
}

/* Serve one request, with the call site's cache. */
static Datum
serve(FunctionCallInfo fcinfo, bool text)
{
	HandleCache *cache = (HandleCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(HandleCache));
		cache->text = text;
		fcinfo->flinfo->fn_extra = cache;
	}
	return answer(fcinfo, cache);
}


/*
 * serve() inside the handler (tenant.c): the tenant it acts for, the
 * pinned search_path and the last patched resource end with the call, on
 * success and on error.
 */
static Datum
handle(FunctionCallInfo fcinfo, bool text)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile Datum result = (Datum) 0;
	ScimPgCall	call;

	ScimPgHandlerEnter(fcinfo, &call);

	ScimPgDeadlineArm(scim_request_timeout, true);
	PG_TRY();
	{
		result = serve(fcinfo, text);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		ScimPgForgetPatched();
		ScimPgHandlerAbort(&call);
		ScimPgDeadlineCatch();
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimPgDeadlineDisarm();
	ScimPgForgetPatched();
	ScimPgHandlerLeave(&call);
	return result;
}

PG_FUNCTION_INFO_V1(scim_handle);

/* scim.handle(method, path, query, headers, body) → scim.response */
Datum
scim_handle(PG_FUNCTION_ARGS)
{
	return handle(fcinfo, false);
}

PG_FUNCTION_INFO_V1(scim_handle_text);

/*
 * scim.handle_text(method, path, query, headers, body) → scim.response_text:
 * the same answer with headers and body as the JSON text their ::text
 * casts give, for an HTTP layer that writes them out as they are.
 */
Datum
scim_handle_text(PG_FUNCTION_ARGS)
{
	return handle(fcinfo, true);
}

