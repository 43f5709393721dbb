/*
 * tenant.c
 *		The tenant a request acts for: the scim.tenant setting, which only
 *		the handler can set, and scim.current_tenant(), which the row-level
 *		security policies read.
 *
 * Why a setting, and why one no caller can set.  The policies of the store
 * compare each row's tenant with scim.current_tenant().  Whatever that
 * reads must be something the HTTP layer's role cannot choose: it was a
 * user-settable placeholder, and SET scim.tenant = '<another tenant>'
 * opened that tenant's rows to anyone who could read the tables.  It is
 * now a superuser-only (PGC_SUSET) setting defined here: SET and
 * set_config() by any other role fail, and the handler's C code sets it
 * with the privilege of the code, not of its caller.  A setting rather
 * than a C variable because parallel workers see the leader's settings and
 * nothing else: a tenant held only in this process would be NULL in a
 * worker scanning a table under the same policy.
 *
 * The handler sets it in a GUC nesting level of its own (ScimPgActFor()
 * inside ScimPgHandlerEnter()/Leave()), so the value ends with the call:
 * a later statement of the caller's transaction reads NULL again.
 *
 * Reading it costs nothing: the check hook parses the text once, when it
 * is set, and scim.current_tenant() returns what the hook kept.
 */
#include "scim_pg.h"

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
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

#include "utf8.h"

/* The setting as text (GUC-owned), and the UUID its check hook parsed. */
static char *tenant_setting = NULL;
static const pg_uuid_t *tenant_value = NULL;

/* How deep in scim.handle() this backend is: internal functions run only inside it. */
static int	handler_depth = 0;

/*
 * A UUID in the forms uuid_in() takes (hyphens after any group of four
 * digits, optional braces), without raising: a check hook must not.
 */
static bool
parse_uuid(const char *s, pg_uuid_t *out)
{
	bool		braces = *s == '{';

	if (braces)
		s++;
	for (int i = 0; i < UUID_LEN; i++)
	{
		int			hi = ScimHexDigit(s[0]);
		int			lo = hi < 0 ? -1 : ScimHexDigit(s[1]);

		if (lo < 0)
			return false;
		out->data[i] = (unsigned char) (hi << 4 | lo);
		s += 2;
		if (*s == '-' && i % 2 == 1 && i < UUID_LEN - 1)
			s++;
	}
	if (braces && *s++ != '}')
		return false;
	return *s == '\0';
}

/* check hook: the text must be empty or a UUID; its parsed value becomes the extra */
static bool
check_tenant(char **newval, void **extra, GucSource source)
{
	pg_uuid_t	parsed;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		*extra = NULL;
		return true;
	}
	if (!parse_uuid(*newval, &parsed))
	{
		GUC_check_errdetail("The tenant must be given as a UUID.");
		return false;
	}
	/* the GUC machinery frees extras with free(): malloc, not palloc */
	*extra = malloc(sizeof(pg_uuid_t));
	if (*extra == NULL)
		return false;
	memcpy(*extra, &parsed, sizeof(pg_uuid_t));
	return true;
}

static void
assign_tenant(const char *newval, void *extra)
{
	tenant_value = (const pg_uuid_t *) extra;
}

/* Define scim.tenant (from _PG_init). */
void
ScimPgDefineTenantSetting(void)
{
	DefineCustomStringVariable("scim.tenant",
							   "The tenant the current scim.handle() call acts for.",
							   "Set by scim.handle() after it has authenticated a token, for the call only. "
							   "Only a superuser can set it by hand.",
							   &tenant_setting,
							   "",
							   PGC_SUSET,
							   GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL | GUC_DISALLOW_IN_FILE,
							   check_tenant, assign_tenant, NULL);
}

/*
 * Enter the handler: a GUC nesting level that ScimPgHandlerLeave() pops,
 * taking the tenant (and the pinned search_path) with it.  Refuses to run
 * as a role that row-level security does not bind: a SECURITY DEFINER
 * function owned by a superuser, or by a role with BYPASSRLS, would read
 * every tenant's rows whatever scim.tenant says.
 */
int
ScimPgHandlerEnter(void)
{
	Oid			user = GetUserId();

	if (superuser_arg(user) || has_bypassrls_privilege(user))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("scim.handle() cannot run as role \"%s\"", GetUserNameFromId(user, false)),
				 errdetail("The role is a superuser or bypasses row-level security, which keeps each token to its tenant."),
				 errhint("scim.handle() runs as its owner, scim_handler, which must have neither attribute: "
						 "ALTER ROLE scim_handler NOSUPERUSER NOBYPASSRLS.")));
	handler_depth++;
	return NewGUCNestLevel();
}

/*
 * Leave the handler normally: every setting it changed, scim.tenant
 * first, goes back to what the caller had.  On an error the transaction's
 * or subtransaction's abort does the same, and ScimPgHandlerAbort() resets
 * the depth.
 */
void
ScimPgHandlerLeave(int nest)
{
	AtEOXact_GUC(false, nest);
	handler_depth--;
}

/* Leave the handler on an error; the abort that follows restores the settings. */
void
ScimPgHandlerAbort(void)
{
	if (handler_depth > 0)
		handler_depth--;
}

/*
 * Raise unless a scim.handle() call is under way: for the internal
 * functions only it may call.  A superuser may call them anywhere (the
 * tests compare the PL/pgSQL handler with the C one): nothing is closed
 * to a superuser anyway.
 */
void
ScimPgRequireHandler(const char *function)
{
	if (handler_depth <= 0 && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s can only be called by scim.handle()", function)));
}

/*
 * A tenant's own limits (columns of scim.tenant, NULL for the settings),
 * kept per backend for the last few tenants served.  A statement trigger
 * on scim.tenant invalidates its relcache entry in every backend on any
 * change, and the callback forgets them all.
 */
#define LIMITS_SLOTS 16

typedef struct LimitsEntry
{
	bool		valid;
	pg_uuid_t	tenant;
	int			request_timeout;	/* ms, 0 for the setting */
	int			filter_max_terms;	/* 0 for the setting */
} LimitsEntry;

static LimitsEntry limits[LIMITS_SLOTS];
static int	limits_next;
static Oid	tenant_relid = InvalidOid;
static bool limits_callback = false;

static void
limits_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == tenant_relid)
	{
		memset(limits, 0, sizeof(limits));
		tenant_relid = InvalidOid;
	}
}

/* The limits of tenant, from the cache or read from scim.tenant with its owner's rights. */
static const LimitsEntry *
tenant_limits(const pg_uuid_t *tenant)
{
	static SPIPlanPtr plan = NULL;
	LimitsEntry *e;
	HeapTuple	tup;
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
	for (int i = 0; i < LIMITS_SLOTS; i++)
		if (limits[i].valid && memcmp(&limits[i].tenant, tenant, sizeof(pg_uuid_t)) == 0)
			return &limits[i];

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(tenant_relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", tenant_relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
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
	e = &limits[limits_next];
	limits_next = (limits_next + 1) % LIMITS_SLOTS;
	memset(e, 0, sizeof(*e));
	e->tenant = *tenant;
	if (SPI_processed == 1)
	{
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		e->request_timeout = isnull ? 0 : Max(DatumGetInt32(d), 1);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		e->filter_max_terms = isnull ? 0 : DatumGetInt32(d);
	}
	SPI_finish();
	e->valid = true;
	return e;
}

/*
 * Act for tenant (its text, as uuid_out() writes it) until the handler is
 * left, under the tenant's own limits where it has any.
 */
void
ScimPgActFor(const char *tenant)
{
	const LimitsEntry *e;

	(void) set_config_option("scim.tenant", tenant, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	e = tenant_limits(tenant_value);
	if (e->request_timeout > 0)
		ScimPgDeadlineArm(e->request_timeout, false);
	if (e->filter_max_terms > 0)
	{
		char		buf[16];

		snprintf(buf, sizeof(buf), "%d", e->filter_max_terms);
		(void) set_config_option("scim.filter_max_terms", buf, PGC_SUSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
}

PG_FUNCTION_INFO_V1(scim_act_for);

/* scim._act_for(tenant uuid): ScimPgActFor() for the PL/pgSQL handler. */
Datum
scim_act_for(PG_FUNCTION_ARGS)
{
	ScimPgRequireHandler("scim._act_for()");
	ScimPgActFor(DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0))));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(scim_current_tenant);

/* scim.current_tenant() → uuid: the tenant the handler acts for, NULL outside it. */
Datum
scim_current_tenant(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *result;

	if (tenant_value == NULL)
		PG_RETURN_NULL();
	result = palloc(sizeof(pg_uuid_t));
	*result = *tenant_value;
	PG_RETURN_UUID_P(result);
}
