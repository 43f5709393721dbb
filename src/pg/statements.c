/*
 * statements.c
 *		The request handler's SQL statements, planned once for the backend's
 *		life, and which of a user statement's twins to run: with the user's
 *		groups joined, or without for a tenant that has no memberships.
 */
#include "handle_int.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

/*
 * The statements, prepared on first use and kept.  $1 is always the tenant;
 * row-level security adds the same condition again.  Rows come back as
 * (id, data, version, group id, group displayName, created): a user in
 * three groups is three rows, in none one row with NULL group columns,
 * which ScimPgFetchRows() folds into the groups responses show (a join
 * costs less than a subquery with an aggregate, per statement and per row).
 * ScimPgFetchRows() also puts them in order, by created, id and group id: an
 * ORDER BY would cost a Sort node's set-up on every call for what is
 * nearly always one resource.
 *
 * A PATCH is one statement: the UPDATE applies the request to the row it
 * reads through scim._patch_step() in its WHERE clause and takes the result
 * from scim._patched() in its SET list (a row's qualification is evaluated
 * just before its new values); the change feed's trigger records it, which
 * is its event (src/pg/changes.c).  With the user's groups it returns the
 * row; without, it returns nothing, and the row is the step's own result,
 * with the version it gave (a second scan of the updated row and its
 * copies cost 20,000 instructions).  A row changed by another transaction
 * meanwhile is qualified again on its new version, as for any UPDATE under
 * READ COMMITTED, so the request applies to what it finds then.  When the
 * step declines (the request fails, changes nothing, or renames the user)
 * the row is not updated and the step's verdict says what to do.
 */
#define USER_COLUMNS "SELECT r.id, r.data, r.version, g.id, g.data->>'displayName', r.created FROM "
#define USER_GROUPS \
	" LEFT JOIN (scim.group_members m JOIN scim.groups g ON g.tenant = m.tenant AND g.id = m.group_id) " \
	"ON m.tenant = r.tenant AND m.value = scim.id_text(r.id)"
#define USER_ROW USER_COLUMNS "scim.users r" USER_GROUPS " WHERE r.tenant = $1 AND "
/* without the join: groups, and users of a tenant with no memberships (see ScimPgWithoutMembers()) */
#define ALONE_COLUMNS "SELECT r.id, r.data, r.version, NULL::uuid, NULL::text, r.created FROM "
#define USER_ROW_ALONE ALONE_COLUMNS "scim.users r WHERE r.tenant = $1 AND "
#define GROUP_ROW ALONE_COLUMNS "scim.groups r WHERE r.tenant = $1 AND "
#define BY_ID "r.id = $2::uuid"
/* the filter id eq "...": on the stored attribute, as the general search compares it */
#define ID_EQ BY_ID " AND r.data->>'id' = $2"
/* on the store's LEAKPROOF keys, which row-level security lets index scans use */
#define USERNAME_EQ "scim.key_lower(r.data, 'userName') = lower($2)"
#define EXTERNALID_EQ "scim.key(r.data, 'externalId') = $2"
#define DISPLAYNAME_EQ "scim.key_lower(r.data, 'displayName') = lower($2)"
/*
 * The PATCH: the UPDATE with the step, returning the row to join the
 * user's groups to, or nothing.  A PUT is the same statement with its own
 * step, which takes the body ($3) and the user's id as the response shows
 * it ($2).
 */
#define PATCH_STEP "scim._patch_step(r.data, r.version, $3, $4)"
#define PUT_STEP "scim._put_step(r.data, r.version, $3, $2, $4)"
#define USER_STEP_UPDATE(step) \
	"UPDATE scim.users r SET data = scim._patched(), version = r.version + 1, last_modified = $4 " \
	"WHERE r.tenant = $1 AND " BY_ID " AND " step
/* the row's data is the step's result, which the caller has: not copied through the CTE */
#define STEP_COLUMNS "SELECT r.id, NULL::jsonb, r.version, g.id, g.data->>'displayName', r.created FROM "
#define USER_STEP(step) \
	"WITH u AS (" USER_STEP_UPDATE(step) " RETURNING r.tenant, r.id, r.version, r.created) " STEP_COLUMNS "u r" USER_GROUPS
#define USER_STEP_ALONE(step) USER_STEP_UPDATE(step)
#define STEP_ARGS {UUIDOID, TEXTOID, JSONBOID, TIMESTAMPTZOID}

/*
 * The discovery documents (RFC 7644 section 4), from the registry's
 * tables; $1 is the base URL, NULL when scim._base_url() makes none.
 */
#define SCHEMA_DOC \
	"s.definition || jsonb_build_object('schemas', '[\"urn:ietf:params:scim:schemas:core:2.0:Schema\"]'::jsonb, " \
	"'meta', jsonb_build_object('resourceType', 'Schema', 'location', $1 || '/Schemas/' || s.id))"
/* the schemas a resource type uses, as core schema or extension: the others are not served */
#define SCHEMA_SERVED \
	"(s.id IN (SELECT t.schema FROM scim.resource_type t) " \
	"OR s.id IN (SELECT e.schema FROM scim.resource_type_extension e))"
#define RESOURCE_TYPE_DOC \
	"jsonb_strip_nulls(jsonb_build_object(" \
	"'schemas', '[\"urn:ietf:params:scim:schemas:core:2.0:ResourceType\"]'::jsonb, " \
	"'id', t.name, 'name', t.name, 'endpoint', t.endpoint, 'description', t.description, 'schema', t.schema, " \
	"'schemaExtensions', coalesce((SELECT jsonb_agg(jsonb_build_object('schema', e.schema, 'required', e.required) " \
	"ORDER BY e.schema) FROM scim.resource_type_extension e WHERE e.resource_type = t.name), '[]'::jsonb), " \
	"'meta', jsonb_build_object('resourceType', 'ResourceType', 'location', $1 || '/ResourceTypes/' || t.name)))"

static const StatementDef statements[ST__COUNT] = {
	[ST_AUTH] = {
		"SELECT t.tenant, t.expires_at FROM scim.token t WHERE t.hash = $1 "
		"AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())",
	1, {BYTEAOID}},
	[ST_USER_USERNAME] = {USER_ROW USERNAME_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_EXTERNALID] = {USER_ROW EXTERNALID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_ID] = {USER_ROW ID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_GET] = {USER_ROW BY_ID, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_DISPLAYNAME] = {GROUP_ROW DISPLAYNAME_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_EXTERNALID] = {GROUP_ROW EXTERNALID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_ID] = {GROUP_ROW ID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_GET] = {GROUP_ROW BY_ID, 2, {UUIDOID, TEXTOID}},
	[ST_USER_PATCH] = {USER_STEP(PATCH_STEP), 4, STEP_ARGS},
	/* without the join: the groups are read after it (user_groups.c) */
	[ST_USER_PUT] = {USER_STEP_ALONE(PUT_STEP), 4, STEP_ARGS},
	[ST_USER_DISPLAYNAME] = {USER_ROW DISPLAYNAME_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_USERNAME_ALONE] = {USER_ROW_ALONE USERNAME_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_EXTERNALID_ALONE] = {USER_ROW_ALONE EXTERNALID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_ID_ALONE] = {USER_ROW_ALONE ID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_GET_ALONE] = {USER_ROW_ALONE BY_ID, 2, {UUIDOID, TEXTOID}},
	[ST_USER_PATCH_ALONE] = {USER_STEP_ALONE(PATCH_STEP), 4, STEP_ARGS},
	[ST_USER_DISPLAYNAME_ALONE] = {USER_ROW_ALONE DISPLAYNAME_EQ, 2, {UUIDOID, TEXTOID}},
	/*
	 * Not EXISTS: when one tenant held nearly all the memberships, its
	 * generic plan read all of scim.group_members to find none of another
	 * tenant's (128 million instructions on 200,000 rows).  In index order
	 * with a LIMIT, the first index entry decides.
	 */
	[ST_TENANT_MEMBERS] = {
		"SELECT m.tenant FROM scim.group_members m WHERE m.tenant = $1 ORDER BY m.tenant, m.value LIMIT 1",
	1, {UUIDOID}},
	/* $2 is scim.max_results, $3 the page size without count, $4 scim.cursor_timeout */
	[ST_SERVICE_PROVIDER_CONFIG] = {
		"SELECT jsonb_build_object("
		"'schemas', '[\"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig\"]'::jsonb, "
		"'documentationUri', 'https://github.com/scim-postgres/scim', "
		"'patch', '{\"supported\": true}'::jsonb, "
		"'bulk', '{\"supported\": false, \"maxOperations\": 0, \"maxPayloadSize\": 0}'::jsonb, "
		"'filter', jsonb_build_object('supported', true, 'maxResults', $2), "
		"'changePassword', '{\"supported\": true}'::jsonb, "
		"'sort', '{\"supported\": true}'::jsonb, "
		"'etag', '{\"supported\": true}'::jsonb, "
		"'pagination', jsonb_build_object('cursor', true, 'index', true, 'defaultPaginationMethod', 'index', "
		"'defaultPageSize', $3, 'maxPageSize', $2, 'cursorTimeout', $4), "
		"'authenticationSchemes', '[{\"type\": \"oauthbearertoken\", \"name\": \"OAuth Bearer Token\", "
		"\"description\": \"Authentication with a bearer token issued by scim.create_token()\", \"primary\": true}]'::jsonb, "
		"'meta', jsonb_build_object('resourceType', 'ServiceProviderConfig', 'location', $1 || '/ServiceProviderConfig'))",
	4, {TEXTOID, INT4OID, INT4OID, INT4OID}},
	[ST_SCHEMAS] = {
		"SELECT scim.list_response(" SCHEMA_DOC " ORDER BY s.id) FROM scim.schema s WHERE " SCHEMA_SERVED,
	1, {TEXTOID}},
	[ST_SCHEMA] = {
		"SELECT " SCHEMA_DOC " FROM scim.schema s WHERE lower(s.id) = lower($2) AND " SCHEMA_SERVED,
	2, {TEXTOID, TEXTOID}},
	/* User first, then Group (RFC 7643 section 8.6's order), then any other by name */
	[ST_RESOURCE_TYPES] = {
		"SELECT scim.list_response(" RESOURCE_TYPE_DOC " ORDER BY t.name <> 'User', t.name <> 'Group', t.name) "
		"FROM scim.resource_type t",
	1, {TEXTOID}},
	[ST_RESOURCE_TYPE] = {
		"SELECT " RESOURCE_TYPE_DOC " FROM scim.resource_type t WHERE lower(t.name) = lower($2)",
	2, {TEXTOID, TEXTOID}},
	/* the base URL of headers that are not all strings: what SQL makes of them */
	[ST_BASE_URL] = {"SELECT scim._base_url($1)", 1, {JSONBOID}},
	/* ScimPgLogEvent()'s: (tenant, kind, type, id, operation, status, scimType, detail) */
	[ST_EVENT] = {
		"INSERT INTO scim.event (tenant, kind, resource_type, resource_id, operation, status, scim_type, detail) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, left($8, 1000))",
	8, {UUIDOID, TEXTOID, TEXTOID, UUIDOID, TEXTOID, INT4OID, TEXTOID, TEXTOID}},
};

/* each statement that shows users with their groups, and its twin without them */
static const Statement alone[ST__COUNT] = {
	[ST_USER_USERNAME] = ST_USER_USERNAME_ALONE,
	[ST_USER_EXTERNALID] = ST_USER_EXTERNALID_ALONE,
	[ST_USER_ID] = ST_USER_ID_ALONE,
	[ST_USER_GET] = ST_USER_GET_ALONE,
	[ST_USER_PATCH] = ST_USER_PATCH_ALONE,
	[ST_USER_DISPLAYNAME] = ST_USER_DISPLAYNAME_ALONE,
};

static SPIPlanPtr plans[ST__COUNT];

/*
 * A statement of the handler's prepared for the backend's life, with a
 * generic plan: the parameters are a tenant and a key, and a custom plan
 * per call would cost its planning every time.
 */
SPIPlanPtr
ScimPgPrepare(const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, CURSOR_OPT_GENERIC_PLAN);

	if (p == NULL)
		elog(ERROR, "could not prepare a scim.handle() statement: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(p);
	return p;
}

static SPIPlanPtr
plan(Statement st)
{
	if (plans[st] == NULL)
		plans[st] = ScimPgPrepare(statements[st].sql, statements[st].nargs, statements[st].argtypes);
	return plans[st];
}

/* The first column of the one row the last statement read. */
Datum
ScimPgOneValue(bool *isnull)
{
	if (SPI_processed != 1)
		elog(ERROR, "scim.handle(): a statement read %llu rows, not one", (unsigned long long) SPI_processed);
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

/*
 * Run statement st of a file's own table defs, prepared on first use into
 * plans[st] (nulls as SPI_execute_plan() takes them, NULL for none); the
 * caller's context cxt is current again after, and an SPI failure raised.
 */
int
ScimPgRunDef(const StatementDef *defs, SPIPlanPtr *plans_of, int st, Datum *args, const char *nulls,
			 bool read_only, MemoryContext cxt)
{
	int			rc;

	if (plans_of[st] == NULL)
		plans_of[st] = ScimPgPrepare(defs[st].sql, defs[st].nargs, defs[st].argtypes);
	rc = SPI_execute_plan(plans_of[st], args, nulls, read_only, 0);
	MemoryContextSwitchTo(cxt);
	if (rc < 0)
		elog(ERROR, "scim.handle(): a statement failed: %s", SPI_result_code_string(rc));
	return rc;
}

/* Statement st's plan, prepared on first use. */
SPIPlanPtr
ScimPgPlan(Statement st)
{
	return plan(st);
}

/*
 * Run statement st.  SPI leaves its own procedure context current after
 * each call, which SPI_finish() frees; the response must outlive that, so
 * the caller's context is made current again (the rows stay SPI's).
 */
int
ScimPgRun(Statement st, Datum *args, bool read_only, MemoryContext cxt)
{
	int			rc = SPI_execute_plan(plan(st), args, NULL, read_only, 0);

	MemoryContextSwitchTo(cxt);
	return rc;
}

/*
 * Tenants this backend knows to have no group memberships at all, or to
 * have some.  Many directories are provisioned without groups, and there a
 * user needs no join with scim.group_members and scim.groups: a lookup by
 * userName cost 195,000 instructions instead of 270,000, the difference
 * mostly the executor's set-up of two more index scans and their join.
 *
 * Any change to scim.group_members invalidates the table's relcache entry
 * in every backend (triggers, as for scim.token: see ScimPgWatched()), and the
 * callback forgets what it knew.  A backend reads invalidations when its
 * transaction starts and when a statement first locks a table, so a
 * statement run without the join checks afterwards that none arrived
 * meanwhile (ScimPgCacheSeen()), and a read runs again with the join if one
 * did.  PostgreSQL sends a transaction's invalidations just after its
 * commit becomes visible: a membership committed in that instant can be
 * missing from a lookup running at the same moment, as a revoked token
 * can still be taken by one (below); the next lookup shows it.
 */
typedef struct MembersEntry
{
	pg_uuid_t	tenant;
	dlist_node	lru;
	bool		none;
} MembersEntry;

/* cache.c's, kept for the tenants served */
static ScimPgCache members = SCIM_PG_CACHE("scim tenants' memberships", MembersEntry, tenant, lru, NULL, NULL, false);
static Oid	members_relid = InvalidOid;
static bool members_watched;	/* scim.group_members has its triggers, enabled */
static bool members_callback;

/* What the relcache says has changed: the memberships, or anything. */
static void
members_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == members_relid)
	{
		ScimPgCacheForget(&members);
		members_relid = InvalidOid;
		members_watched = false;
	}
}

/* Have the relcache tell members_invalidate() of changes, before anything is cached. */
static void
watch_members(void)
{
	if (!members_callback)
	{
		CacheRegisterRelcacheCallback(members_invalidate, (Datum) 0);
		members_callback = true;
	}
}

/*
 * Does tenant have no group memberships?  From the cache, else asked.
 * Then no user of it is in a group, and no statement need look.
 */
bool
ScimPgWithoutMembers(Datum tenant, MemoryContext cxt)
{
	const pg_uuid_t *t = DatumGetUUIDP(tenant);
	uint64		seen = ScimPgCacheSeen(&members);
	MembersEntry *e;
	bool		none;

	watch_members();
	if (!OidIsValid(members_relid))
	{
		members_relid = get_relname_relid("group_members", get_namespace_oid("scim", false));
		if (!OidIsValid(members_relid))
			return false;
		/* without its triggers firing, nothing would tell of a change: always join */
		members_watched = ScimPgWatched(members_relid, "members_changed", "members_applied");
	}
	if (!members_watched)
		return false;
	if ((e = ScimPgCacheFind(&members, t)) != NULL)
		return e->none;
	if (ScimPgRun(ST_TENANT_MEMBERS, &tenant, false, cxt) != SPI_OK_SELECT)
		return false;
	none = SPI_processed == 0;
	/* a change read while asking may not be in the answer: ask again next time */
	if ((e = ScimPgCacheAdd(&members, t, seen)) == NULL)
		return false;
	e->none = none;
	return none;
}

/*
 * Run statement st, one that shows users with their groups, for tenant: as
 * its twin without the join when the tenant has no memberships, and none
 * were made while it ran.  If one was, a read runs again with the join; a
 * write cannot, and says so in *stale (NULL for reads) for its caller to
 * read the row again.
 */
int
ScimPgRunUsers(Statement st, Datum *args, bool read_only, Datum tenant, MemoryContext cxt, bool *stale)
{
	uint64		seen;
	int			rc;

	if (stale != NULL)
		*stale = false;
	if (!ScimPgWithoutMembers(tenant, cxt))
		return ScimPgRun(st, args, read_only, cxt);
	seen = ScimPgCacheSeen(&members);
	rc = ScimPgRun(alone[st], args, read_only, cxt);
	if (ScimPgCacheSeen(&members) == seen)
		return rc;
	if (stale != NULL)
	{
		*stale = true;
		return rc;
	}
	return ScimPgRun(st, args, read_only, cxt);
}

