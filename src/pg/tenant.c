/*
 * tenant.c
 *		The handler's call: the role it runs as, the tenant it acts for
 *		(which scim.current_tenant() gives the row-level security
 *		policies), that tenant's limits, and the end of all three with the
 *		call.
 *
 * The tenant is this process's alone.  It was a user-settable setting,
 * and SET scim.tenant = '<another tenant>' opened that tenant's rows to
 * anyone who could read the tables.  Now it is a C variable that only
 * ScimPgActFor() sets, inside a scim.handle() call, after the handler has
 * authenticated a token; no SQL can set it (scim._act_for() raises outside
 * the handler, and no one but its role may call it).  A parallel worker
 * cannot see another process's variable, so scim.current_tenant() is
 * PARALLEL RESTRICTED: the planner keeps the policies' quals, and the
 * scans they filter, in the leader.  A setting would reach the workers,
 * but setting one and restoring it cost a lookup 3% of its instructions
 * (set_config_option(), and AtEOXact_GUC() walking every setting).
 *
 * The role.  scim.handle() runs as its owner, scim_handler, as a SECURITY
 * DEFINER function would; ScimPgHandlerEnter() switches to the owner
 * itself.  fmgr's SECURITY DEFINER wrapper looks the function up a second
 * time at every execution of the statement that calls it (each EXECUTE of
 * scim-server's prepared call starts its executor anew): 7,000
 * instructions, 3.5% of a lookup.  Run as a role that row-level security
 * does not bind (a superuser, BYPASSRLS) the handler would read every
 * tenant whatever the policies say, so it refuses to.
 */
#include "scim_pg.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

/* The tenant the current call acts for, when tenant_set. */
static bool tenant_set = false;
static pg_uuid_t tenant_value;

/* The call under way (calls do not nest in practice, but may), or NULL. */
static ScimPgCall *current_call = NULL;

/* At the end of a transaction no call is under way, and no tenant is set. */
static void
tenant_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		tenant_set = false;
		current_call = NULL;
	}
}

/* From _PG_init. */
void
ScimPgTenantInit(void)
{
	RegisterXactCallback(tenant_xact_callback, NULL);
}

/*
 * Enter the handler, function fcinfo's call: run as the function's owner,
 * which must be a role row-level security binds.
 */
void
ScimPgHandlerEnter(FunctionCallInfo fcinfo, ScimPgCall *call)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	ReleaseSysCache(tup);
	if (superuser_arg(owner) || has_bypassrls_privilege(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("scim.handle() cannot run as role \"%s\"", GetUserNameFromId(owner, false)),
				 errdetail("The role is a superuser or bypasses row-level security, which keeps each token to its tenant."),
				 errhint("scim.handle() runs as its owner, scim_handler, which must have neither attribute: "
						 "ALTER ROLE scim_handler NOSUPERUSER NOBYPASSRLS.")));
	GetUserIdAndSecContext(&call->save_user, &call->save_sec);
	SetUserIdAndSecContext(owner, call->save_sec | SECURITY_LOCAL_USERID_CHANGE);
	call->nest = 0;
	call->outer = current_call;
	call->tenant_was_set = tenant_set;
	call->tenant_was = tenant_value;
	call->origin_was = ScimPgChangesCurrentOrigin();
	ScimPgChangesOrigin(NULL);
	tenant_set = false;
	current_call = call;
}

/*
 * A GUC nesting level for the call, opened the first time the call
 * changes a setting (the search_path it pins, a tenant's filter limit),
 * so that ScimPgHandlerLeave() puts the caller's back.
 */
void
ScimPgHandlerNest(void)
{
	Assert(current_call != NULL);
	if (current_call->nest == 0)
		current_call->nest = NewGUCNestLevel();
}

/*
 * The search_path the call's statements are planned and run under, so
 * that no object of the caller's stands in for one they name.  Setting it
 * and restoring it cost a lookup 5% of its instructions (11,000 of
 * 205,000): the setting itself, and the path computed again both ways,
 * which every cached plan then checks.  A session whose path is this
 * already (scim-server sets it on its connections) skips both.
 */
#define PINNED_PATH "pg_catalog, pg_temp"

/* Is the session's search_path PINNED_PATH already, spaces aside? */
static bool
path_pinned(void)
{
	const char *a = namespace_search_path;
	const char *b = PINNED_PATH;

	for (;;)
	{
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a != *b)
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

/* Pin search_path to PINNED_PATH until the call leaves the handler. */
void
ScimPgPinPath(void)
{
	if (path_pinned())
		return;
	ScimPgHandlerNest();
	(void) set_config_option("search_path", PINNED_PATH, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/*
 * Leave the handler normally: the request's member changes to the change
 * feed, then the caller's role, settings and tenant again.
 */
void
ScimPgHandlerLeave(ScimPgCall *call)
{
	ScimPgChangesRequestEnd();
	ScimPgChangesOrigin(&call->origin_was);
	if (call->nest > 0)
		AtEOXact_GUC(false, call->nest);
	SetUserIdAndSecContext(call->save_user, call->save_sec);
	tenant_set = call->tenant_was_set;
	tenant_value = call->tenant_was;
	current_call = call->outer;
}

/*
 * Leave it on an error.  The abort that follows puts back the role and
 * the settings (as for a SECURITY DEFINER function); the tenant goes here.
 */
void
ScimPgHandlerAbort(ScimPgCall *call)
{
	ScimPgChangesOrigin(&call->origin_was);
	tenant_set = call->tenant_was_set;
	tenant_value = call->tenant_was;
	current_call = call->outer;
}

/*
 * Raise unless a scim.handle() call is under way: for the internal
 * functions only it may call.  A superuser may call them anywhere (the
 * tests compare the PL/pgSQL handler with the C one, and act for a tenant
 * by hand): nothing is closed to a superuser anyway.
 */
void
ScimPgRequireHandler(const char *function)
{
	if (current_call == NULL && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s can only be called by scim.handle()", function)));
}

/*
 * A tenant's own limits (columns of scim.tenant, NULL for the settings),
 * kept per backend for the tenants served (cache.c).  A statement trigger
 * on scim.tenant invalidates its relcache entry in every backend on any
 * change, and the callback forgets them all.
 */
typedef struct LimitsEntry
{
	pg_uuid_t	tenant;
	dlist_node	lru;
	int			request_timeout;	/* ms, 0 for the setting */
	int			filter_max_terms;	/* 0 for the setting */
} LimitsEntry;

static ScimPgCache limits = SCIM_PG_CACHE("scim tenant limits", LimitsEntry, tenant, lru, NULL, NULL, false);
static Oid	tenant_relid = InvalidOid;
static bool limits_callback = false;

static void
limits_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == tenant_relid)
	{
		ScimPgCacheForget(&limits);
		tenant_relid = InvalidOid;
	}
}

/* The limits of tenant, into *out: from the cache, or read from scim.tenant with its owner's rights. */
static void
tenant_limits(const pg_uuid_t *tenant, LimitsEntry *out)
{
	static SPIPlanPtr plan = NULL;
	uint64		seen = ScimPgCacheSeen(&limits);
	LimitsEntry *e;
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	Datum		arg = UUIDPGetDatum(tenant);
	Datum		d;
	bool		isnull;
	int			rc;

	if (!limits_callback)
	{
		CacheRegisterRelcacheCallback(limits_invalidate, (Datum) 0);
		limits_callback = true;
	}
	if (!OidIsValid(tenant_relid))
		tenant_relid = get_relname_relid("tenant", get_namespace_oid("scim", false));
	if ((e = ScimPgCacheFind(&limits, tenant)) != NULL)
	{
		*out = *e;
		return;
	}

	owner = ScimPgRelOwner(tenant_relid);
	if (!OidIsValid(owner))
		elog(ERROR, "cache lookup failed for relation %u", tenant_relid);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		Oid			argtype = UUIDOID;

		plan = SPI_prepare("SELECT pg_catalog.ceil(pg_catalog.date_part('epoch', t.request_timeout) OPERATOR(pg_catalog.*) 1000)::pg_catalog.int4, "
						   "t.filter_max_terms FROM scim.tenant t WHERE t.id OPERATOR(pg_catalog.=) $1", 1, &argtype);
		if (plan == NULL)
			elog(ERROR, "could not prepare the tenant limits' statement: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
	}
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = SPI_execute_plan(plan, &arg, NULL, true, 1);
	SetUserIdAndSecContext(save_user, save_sec);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the limits of tenant: %s", SPI_result_code_string(rc));
	memset(out, 0, sizeof(*out));
	out->tenant = *tenant;
	if (SPI_processed == 1)
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		out->request_timeout = isnull ? 0 : Max(DatumGetInt32(d), 1);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		out->filter_max_terms = isnull ? 0 : DatumGetInt32(d);
	}
	SPI_finish();
	/* kept unless a change was told while it was read */
	if ((e = ScimPgCacheAdd(&limits, tenant, seen)) != NULL)
	{
		e->request_timeout = out->request_timeout;
		e->filter_max_terms = out->filter_max_terms;
	}
}

/*
 * Act for tenant until the call ends, without a request's limits: for
 * scim.import(), whose call is a batch bounded by its caller's
 * statement_timeout, not by a request's deadline.
 */
void
ScimPgActForBatch(const pg_uuid_t *tenant)
{
	tenant_value = *tenant;
	tenant_set = true;
}

/*
 * Act for tenant until the call ends (or, for a superuser outside a call,
 * until the transaction does), under the tenant's own limits where it has
 * any.
 */
void
ScimPgActFor(const pg_uuid_t *tenant)
{
	LimitsEntry e;

	ScimPgActForBatch(tenant);
	/* a superuser acting by hand: no call, no deadline of one to move */
	if (current_call == NULL)
		return;
	tenant_limits(&tenant_value, &e);
	if (e.request_timeout > 0)
		ScimPgDeadlineArm(e.request_timeout, false);
	if (e.filter_max_terms > 0)
	{
		char		buf[16];

		ScimPgHandlerNest();
		snprintf(buf, sizeof(buf), "%d", e.filter_max_terms);
		(void) set_config_option("scim.filter_max_terms", buf, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
}

PG_FUNCTION_INFO_V1(scim_act_for);

/*
 * scim._act_for(tenant uuid): ScimPgActFor() for a superuser who reads the
 * store as a tenant by hand; NULL to act for none.
 */
Datum
scim_act_for(PG_FUNCTION_ARGS)
{
	ScimPgRequireHandler("scim._act_for()");
	if (PG_ARGISNULL(0))
		tenant_set = false;
	else
		ScimPgActFor(PG_GETARG_UUID_P(0));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(scim_current_tenant);

/* scim.current_tenant() → uuid: the tenant the handler acts for, NULL outside it. */
Datum
scim_current_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *result;

	if (!tenant_set)
		PG_RETURN_NULL();
	result = palloc(sizeof(pg_uuid_t));
	*result = tenant_value;
	PG_RETURN_UUID_P(result);
}
