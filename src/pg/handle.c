/*
 * handle.c
 *		scim.handle(): the requests identity providers make all day answered
 *		in C, with statements planned once for the backend's life; every
 *		other request goes to scim._handle(), the PL/pgSQL handler.
 *
 * A provisioning cycle is mostly three requests: a lookup by userName or
 * externalId (GET /Users?filter=userName eq "x"), a read by id, and a
 * PATCH of a user.  Through PL/pgSQL each cost a dozen statements, most of
 * them planned again per call, and a subtransaction for the handler's
 * exception block; the profile had no hotspot, only that spread.  Here
 * each is one statement with a generic plan.
 *
 * The fast path answers only requests it can see through to a success.
 * Anything it is unsure of (a filter it has no statement for, a missing
 * row, a precondition header, a PATCH that fails or renames the user, an
 * unusual header) is handed to scim._handle() before anything has been
 * written, and that answers the request completely, as if this path had
 * not been tried.  Errors are therefore answered in one place, and
 * sql/handle_fast.sql holds the two paths to the same answers.
 *
 * scim.handle_text() is the same handler for HTTP layers, answering with
 * headers and body as JSON text: the fast path writes its documents
 * through a text sink (json_sink.c) rather than building jsonb for the
 * caller to print, and scim._handle()'s answers are printed here.
 */
#include "scim_pg.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/jsonapi.h"
#include "common/sha2.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "jsonb_compat.h"
#include "projection.h"

#define CONTENT_TYPE "application/scim+json; charset=utf-8"

/*
 * The statements, prepared on first use and kept.  $1 is always the tenant;
 * row-level security adds the same condition again.  Rows come back as
 * (id, data, version, group id, group displayName, created): a user in
 * three groups is three rows, in none one row with NULL group columns,
 * which fetch_rows() folds into the groups scim._present() shows (a join
 * costs less than a subquery with an aggregate, per statement and per row).
 * fetch_rows() also puts them in order, by created, id and group id: an
 * ORDER BY would cost a Sort node's set-up on every call for what is
 * nearly always one resource.
 *
 * A PATCH is one statement: the UPDATE applies the request to the row it
 * reads through scim._patch_step() in its WHERE clause and takes the result
 * from scim._patched() in its SET list (a row's qualification is evaluated
 * just before its new values) and logs the event from the same CTE.  With
 * the user's groups it returns the row; without, it returns nothing, and
 * the row is the step's own result, with the version it gave (a second
 * scan of the CTE and the row's copies cost 20,000 instructions).  The
 * event inserted says the row was.  A row changed by another transaction
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
/* without the join: groups, and users of a tenant with no memberships (see without_members()) */
#define ALONE_COLUMNS "SELECT r.id, r.data, r.version, NULL::uuid, NULL::text, r.created FROM "
#define USER_ROW_ALONE ALONE_COLUMNS "scim.users r WHERE r.tenant = $1 AND "
#define GROUP_ROW ALONE_COLUMNS "scim.groups r WHERE r.tenant = $1 AND "
#define BY_ID "r.id = $2::uuid"
/* the filter id eq "...": on the stored attribute, as scim._handle() compares it */
#define ID_EQ BY_ID " AND r.data->>'id' = $2"
/* on the store's LEAKPROOF keys, which row-level security lets index scans use */
#define USERNAME_EQ "scim.key_lower(r.data, 'userName') = lower($2)"
#define EXTERNALID_EQ "scim.key(r.data, 'externalId') = $2"
/* the PATCH, in two parts: the UPDATE with the step, and the event read from it */
#define USER_PATCH_UPDATE(returning) \
	"WITH u AS (UPDATE scim.users r SET data = scim._patched(), version = r.version + 1, last_modified = $4 " \
	"WHERE r.tenant = $1 AND " BY_ID " AND scim._patch_step(r.data, r.version, $3, $4) " \
	"RETURNING r.tenant, r.id, scim._patched_kind() AS kind" returning ")"
#define USER_PATCH_EVENT \
	"INSERT INTO scim.event (tenant, kind, resource_type, resource_id, operation, status) " \
	"SELECT u.tenant, u.kind, 'User', u.id, $5, 200 FROM u"
#define USER_PATCH \
	USER_PATCH_UPDATE(", r.data, r.version, r.created") ", e AS (" USER_PATCH_EVENT ") " USER_COLUMNS "u r" USER_GROUPS
#define USER_PATCH_ALONE USER_PATCH_UPDATE("") " " USER_PATCH_EVENT

typedef enum Statement
{
	ST_AUTH,
	ST_USER_USERNAME,
	ST_USER_EXTERNALID,
	ST_USER_ID,
	ST_USER_GET,
	ST_GROUP_DISPLAYNAME,
	ST_GROUP_EXTERNALID,
	ST_GROUP_ID,
	ST_GROUP_GET,
	ST_USER_PATCH,
	/* the ST_USER_ statements above without the user's groups */
	ST_USER_USERNAME_ALONE,
	ST_USER_EXTERNALID_ALONE,
	ST_USER_ID_ALONE,
	ST_USER_GET_ALONE,
	ST_USER_PATCH_ALONE,
	ST_TENANT_MEMBERS,
	ST__COUNT
} Statement;

typedef struct StatementDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[5];
} StatementDef;

static const StatementDef statements[ST__COUNT] = {
	[ST_AUTH] = {
		"SELECT t.tenant, t.expires_at FROM scim.token t WHERE t.hash = $1 "
		"AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())",
	1, {BYTEAOID}},
	[ST_USER_USERNAME] = {USER_ROW USERNAME_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_EXTERNALID] = {USER_ROW EXTERNALID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_ID] = {USER_ROW ID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_GET] = {USER_ROW BY_ID, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_DISPLAYNAME] = {GROUP_ROW "scim.key_lower(r.data, 'displayName') = lower($2)", 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_EXTERNALID] = {GROUP_ROW EXTERNALID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_ID] = {GROUP_ROW ID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_GROUP_GET] = {GROUP_ROW BY_ID, 2, {UUIDOID, TEXTOID}},
	[ST_USER_PATCH] = {USER_PATCH, 5, {UUIDOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, TEXTOID}},
	[ST_USER_USERNAME_ALONE] = {USER_ROW_ALONE USERNAME_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_EXTERNALID_ALONE] = {USER_ROW_ALONE EXTERNALID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_ID_ALONE] = {USER_ROW_ALONE ID_EQ, 2, {UUIDOID, TEXTOID}},
	[ST_USER_GET_ALONE] = {USER_ROW_ALONE BY_ID, 2, {UUIDOID, TEXTOID}},
	[ST_USER_PATCH_ALONE] = {USER_PATCH_ALONE, 5, {UUIDOID, TEXTOID, JSONBOID, TIMESTAMPTZOID, TEXTOID}},
	/*
	 * Not EXISTS: when one tenant held nearly all the memberships, its
	 * generic plan read all of scim.group_members to find none of another
	 * tenant's (128 million instructions on 200,000 rows).  In index order
	 * with a LIMIT, the first index entry decides.
	 */
	[ST_TENANT_MEMBERS] = {
		"SELECT m.tenant FROM scim.group_members m WHERE m.tenant = $1 ORDER BY m.tenant, m.value LIMIT 1",
	1, {UUIDOID}},
};

/* each statement that shows users with their groups, and its twin without them */
static const Statement alone[ST__COUNT] = {
	[ST_USER_USERNAME] = ST_USER_USERNAME_ALONE,
	[ST_USER_EXTERNALID] = ST_USER_EXTERNALID_ALONE,
	[ST_USER_ID] = ST_USER_ID_ALONE,
	[ST_USER_GET] = ST_USER_GET_ALONE,
	[ST_USER_PATCH] = ST_USER_PATCH_ALONE,
};

static SPIPlanPtr plans[ST__COUNT];

/* Per call site: the fallback function and the last projection parsed. */
typedef struct HandleCache
{
	FmgrInfo	fallback;
	void	   *projection;
	TupleDesc	result;			/* scim.response or scim.response_text, blessed */
	bool		text;			/* scim.handle_text(): headers and body as JSON text */
} HandleCache;

typedef enum RequestKind
{
	REQ_LIST,					/* GET /Users?filter=..., GET /Groups?filter=... */
	REQ_GET,					/* GET /Users/{id}, GET /Groups/{id} */
	REQ_PATCH					/* PATCH /Users/{id} */
} RequestKind;

/* A request as the fast path understood it. */
typedef struct Request
{
	RequestKind kind;
	bool		users;			/* /Users, else /Groups */
	const char *rtype;			/* "User" or "Group" */
	char	   *rid;			/* the id as the path gives it */
	char	   *id;				/* the id, lower-case */
	const char *filter;			/* GET list: the filter */
	int			filter_len;
	text	   *attributes;		/* NULL when absent */
	text	   *excluded;
	int64		start_index;
	int64		count;
	char	   *token;
	char	   *if_match;
	char	   *base;
	Jsonb	   *body;			/* PATCH: the parsed body */
	pg_uuid_t	tenant;			/* once authenticated: its token's tenant */
	char		tenant_text[UUID_LEN * 2 + 5];	/* and that as uuid_out() writes it */
} Request;

/* A row of the statements above, copied out of SPI's memory. */
typedef struct Row
{
	char	   *id;
	Jsonb	   *data;
	int64		version;
	Jsonb	   *groups;
} Row;

static SPIPlanPtr
plan(Statement st)
{
	if (plans[st] == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(statements[st].sql, statements[st].nargs,
										   (Oid *) statements[st].argtypes, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "could not prepare a scim.handle() statement: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		plans[st] = p;
	}
	return plans[st];
}

/*
 * Run statement st.  SPI leaves its own procedure context current after
 * each call, which SPI_finish() frees; the response must outlive that, so
 * the caller's context is made current again (the rows stay SPI's).
 */
static int
run(Statement st, Datum *args, bool read_only, MemoryContext cxt)
{
	int			rc = SPI_execute_plan(plan(st), args, NULL, read_only, 0);

	MemoryContextSwitchTo(cxt);
	return rc;
}

/*
 * Text the responses are made of, written out directly: psprintf() cost
 * 1,700 instructions a call, five calls a PATCH.
 */

/* a, b and c end to end */
static char *
cat3(const char *a, const char *b, const char *c)
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
static char *
etag_text(int64 version)
{
	char		digits[MAXINT8LEN + 1];

	pg_lltoa(version, digits);
	return cat3("W/\"", digits, "\"");
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
static char *
timestamp_text(TimestampTz ts)
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

static bool
ascii_ieq(const char *a, int alen, const char *b)
{
	return alen == (int) strlen(b) && pg_strncasecmp(a, b, alen) == 0;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * The string value of header name (lower-case), NULL when absent.  A
 * header that is present but not a string makes *ok false: scim._handle()
 * knows what to make of it.
 */
static char *
header(Jsonb *headers, const char *name, bool *ok)
{
	JsonbValue *v;

	if (headers == NULL)
		return NULL;
	v = getKeyJsonValueFromContainer(&headers->root, name, strlen(name), NULL);
	if (v == NULL)
		return NULL;
	if (v->type != jbvString)
	{
		*ok = false;
		return NULL;
	}
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* The base URL, as scim._base_url() builds it. */
static char *
base_url(Jsonb *headers, bool *ok)
{
	char	   *url = header(headers, "x-scim-base-url", ok);
	char	   *path = header(headers, "x-scim-base-path", ok);
	char	   *host = header(headers, "host", ok);
	char	   *proto = header(headers, "x-forwarded-proto", ok);
	int			len;

	if (url == NULL)
	{
		if (path == NULL)
			path = "/scim/v2";
		url = host ? psprintf("%s://%s%s", proto ? proto : "http", host, path) : pstrdup(path);
	}
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	return url;
}

/* The last value of query parameter name, or NULL. */
static ScimQueryParam *
param(ScimQueryParam *params, int n, const char *name)
{
	for (int i = n - 1; i >= 0; i--)
		if (strcmp(params[i].name, name) == 0)
			return &params[i];
	return NULL;
}

/*
 * An integer of plain digits with an optional minus sign, of any length:
 * past 15 digits it saturates (at 10^15), which any bound it is clamped to
 * is below, as scim._page_param() clamps it.  False for anything else, for
 * scim._handle() to judge.
 */
static bool
plain_int(const ScimQueryParam *p, int64 *out)
{
	const char *s = p->value;
	bool		neg = false;
	int64		v = 0;
	int			i = 0;

	if (p->value_len > 0 && s[0] == '-')
	{
		neg = true;
		i = 1;
	}
	if (i >= p->value_len)
		return false;
	for (; i < p->value_len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v < INT64CONST(1000000000000000))
			v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* Is s a UUID as scim._resource() accepts one?  Then id is it in lower case. */
static bool
uuid_text(const char *s, char **id)
{
	char	   *out;

	if (strlen(s) != 36)
		return false;
	out = palloc(37);
	for (int i = 0; i < 36; i++)
	{
		char		c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (c != '-')
				return false;
		}
		else if (c >= 'A' && c <= 'F')
			c += 'a' - 'A';
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[36] = '\0';
	*id = out;
	return true;
}

/*
 * Read the request; false when the fast path does not answer it.  Nothing
 * here touches the database.
 */
static bool
read_request(FunctionCallInfo fcinfo, Request *req)
{
	text	   *method;
	char	   *path;
	char	   *q;
	Jsonb	   *headers = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	char	   *seg[2];
	int			nseg = 0;
	char	   *auth;
	bool		ok = true;
	ScimQueryParam *params = NULL;
	int			nparams = 0;
	ScimQueryParam *p;

	memset(req, 0, sizeof(*req));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return false;
	if (headers != NULL && !JB_ROOT_IS_OBJECT(headers))
		return false;
	method = PG_GETARG_TEXT_PP(0);

	/* the path: at most two segments, /Users or /Groups, then an id */
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	path[strcspn(path, "?")] = '\0';
	for (char *tok = strtok(path, "/"); tok != NULL; tok = strtok(NULL, "/"))
	{
		if (nseg == lengthof(seg))
			return false;
		seg[nseg++] = tok;
	}
	if (nseg == 0)
		return false;
	if (pg_strcasecmp(seg[0], "users") == 0)
		req->users = true;
	else if (pg_strcasecmp(seg[0], "groups") != 0)
		return false;
	req->rtype = req->users ? "User" : "Group";

	if (ascii_ieq(VARDATA_ANY(method), VARSIZE_ANY_EXHDR(method), "GET"))
		req->kind = nseg == 1 ? REQ_LIST : REQ_GET;
	else if (ascii_ieq(VARDATA_ANY(method), VARSIZE_ANY_EXHDR(method), "PATCH") && nseg == 2 && req->users)
		req->kind = REQ_PATCH;
	else
		return false;
	if (nseg == 2)
	{
		req->rid = seg[1];
		if (!uuid_text(seg[1], &req->id))
			return false;
	}

	if (!PG_ARGISNULL(2))
	{
		text	   *query = PG_GETARG_TEXT_PP(2);

		q = VARDATA_ANY(query);
		nparams = ScimPgQueryParams(q, VARSIZE_ANY_EXHDR(query), &params, &ok);
		if (!ok)
			return false;
	}
	if ((p = param(params, nparams, "attributes")) != NULL)
		req->attributes = cstring_to_text_with_len(p->value, p->value_len);
	if ((p = param(params, nparams, "excludedattributes")) != NULL)
		req->excluded = cstring_to_text_with_len(p->value, p->value_len);

	if (req->kind == REQ_LIST)
	{
		int64		max_results;
		int64		default_count;

		/* sorting and cursors take the general path */
		if (param(params, nparams, "sortby") || param(params, nparams, "cursor"))
			return false;
		if ((p = param(params, nparams, "filter")) == NULL)
			return false;
		req->filter = p->value;
		req->filter_len = p->value_len;
		/* registered settings (module.c): always set, always integers in range */
		max_results = scim_max_results;
		default_count = scim_default_count;
		req->count = Min(default_count, max_results);
		req->start_index = 1;
		if ((p = param(params, nparams, "count")) != NULL)
		{
			if (!plain_int(p, &req->count))
				return false;
			req->count = Min(Max(req->count, 0), max_results);
		}
		if ((p = param(params, nparams, "startindex")) != NULL)
		{
			if (!plain_int(p, &req->start_index))
				return false;
			/* past the integer range: an empty page that says it starts at the largest integer */
			req->start_index = Min(Max(req->start_index, 1), PG_INT32_MAX);
		}
	}

	/* headers: a bearer token, no conditions the fast path does not check */
	auth = header(headers, "authorization", &ok);
	if (auth == NULL || pg_strncasecmp(auth, "bearer", 6) != 0 || !is_space(auth[6]))
		return false;
	req->token = auth + 6;
	while (is_space(*req->token))
		req->token++;
	req->if_match = header(headers, "if-match", &ok);
	if (header(headers, "if-none-match", &ok) != NULL)
		return false;
	req->base = base_url(headers, &ok);
	if (!ok)
		return false;

	if (req->kind == REQ_PATCH)
	{
		text	   *body;

		if (PG_ARGISNULL(4))
			return false;
		body = PG_GETARG_TEXT_PP(4);
		if ((req->body = ScimPgParseBody(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body))) == NULL)
			return false;
	}
	return true;
}

/*
 * Tenants this backend knows to have no group memberships at all, or to
 * have some.  Many directories are provisioned without groups, and there a
 * user needs no join with scim.group_members and scim.groups: a lookup by
 * userName cost 195,000 instructions instead of 270,000, the difference
 * mostly the executor's set-up of two more index scans and their join.
 *
 * Any change to scim.group_members invalidates the table's relcache entry
 * in every backend (triggers, as for scim.token: see watched()), and the
 * callback forgets what it knew.  A backend reads invalidations when its
 * transaction starts and when a statement first locks a table, so a
 * statement run without the join checks afterwards that none arrived
 * meanwhile (members_seen), and a read runs again with the join if one
 * did.  PostgreSQL sends a transaction's invalidations just after its
 * commit becomes visible: a membership committed in that instant can be
 * missing from a lookup running at the same moment, as a revoked token
 * can still be taken by one (below); the next lookup shows it.
 */
#define MEMBERS_SLOTS 16

typedef struct MembersEntry
{
	bool		valid;
	bool		none;
	pg_uuid_t	tenant;
} MembersEntry;

static MembersEntry members[MEMBERS_SLOTS];
static int	members_next;
static Oid	members_relid = InvalidOid;
static bool members_watched;	/* scim.group_members has its triggers, enabled */
static uint64 members_seen;		/* invalidations of scim.group_members read */

/*
 * The tokens this backend has seen: looking one up was a twentieth of a
 * lookup request, and hashing it (OpenSSL's SHA-256 context set-up) a
 * fiftieth, so the cache is keyed by the token itself, compared in
 * constant time, and kept in this backend's memory only.  Any change to scim.token (a new token, a
 * revocation, a new expiry, a tenant dropped) fires a trigger that
 * invalidates the table's relcache entry in every backend, and the callback
 * below forgets them all; invalidations are read at the start of each
 * transaction, so a revocation holds from the next request on, as it did
 * when every request read the table.  Expiry is checked on every use.  The
 * tokens are cached only while the triggers fire whatever the session's
 * session_replication_role (see watched()); otherwise each request reads
 * the table.
 */
#define TOKEN_SLOTS 16

#define TOKEN_MAX 128			/* scim.create_token() issues 48 characters */

typedef struct TokenEntry
{
	bool		valid;
	int			len;
	char		token[TOKEN_MAX];
	pg_uuid_t	tenant;
	char		tenant_text[UUID_LEN * 2 + 5];	/* as uuid_out() writes it */
	bool		expires;
	TimestampTz expires_at;
} TokenEntry;

static TokenEntry tokens[TOKEN_SLOTS];
static int	token_next;
static Oid	token_relid = InvalidOid;
static bool token_watched;		/* scim.token has its triggers, enabled */
static bool caches_callback;

/* What the relcache says has changed: the tokens, the memberships, or anything. */
static void
caches_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == token_relid)
	{
		explicit_bzero(tokens, sizeof(tokens));
		token_relid = InvalidOid;	/* looked up again: the extension may be new */
	}
	if (relid == InvalidOid || relid == members_relid)
	{
		memset(members, 0, sizeof(members));
		members_relid = InvalidOid;
		members_watched = false;
		members_seen++;
	}
}

/* Have the relcache tell caches_invalidate() of changes, before anything is cached. */
static void
watch_caches(void)
{
	if (!caches_callback)
	{
		CacheRegisterRelcacheCallback(caches_invalidate, (Datum) 0);
		caches_callback = true;
	}
}

/*
 * Will every change to table relid tell every backend?  A cache of the
 * table is kept only then.  The install script gives scim.token and
 * scim.group_members two triggers calling scim._registry_changed(): a
 * statement trigger (name "stmt") enabled ALWAYS, so that it fires in a
 * session under session_replication_role = replica too (pg_restore
 * --disable-triggers, a tool applying changes), and a row trigger ("row")
 * enabled REPLICA, for logical replication's apply, which fires row
 * triggers only.  If the table owner disables either (ALTER TABLE ...
 * DISABLE TRIGGER, as pg_restore --disable-triggers does too) or enables
 * the statement trigger for the origin role alone, the changes made
 * meanwhile would go untold: then nothing is cached, and every request
 * reads the table.  Changing a trigger's state invalidates the table's
 * relcache entry in every backend, so this is asked again at once.  Read
 * once per invalidation, it costs a request nothing.
 */
static bool
watched(Oid relid, const char *stmt, const char *row)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		stmt_on = false;
	bool		row_on = false;

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		if (strcmp(NameStr(t->tgname), stmt) == 0)
			stmt_on = t->tgenabled == TRIGGER_FIRES_ALWAYS;
		else if (strcmp(NameStr(t->tgname), row) == 0)
			row_on = t->tgenabled == TRIGGER_FIRES_ALWAYS || t->tgenabled == TRIGGER_FIRES_ON_REPLICA;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return stmt_on && row_on;
}

/* Is the cached entry e token t (of length len)?  In time that depends on len alone. */
static bool
token_is(const TokenEntry *e, const char *t, int len)
{
	unsigned char diff = 0;

	if (!e->valid || e->len != len)
		return false;
	for (int i = 0; i < len; i++)
		diff |= (unsigned char) (e->token[i] ^ t[i]);
	return diff == 0;
}

/* The SHA-256 of s, as sha256(convert_to(s, 'UTF8')) computes it for ASCII s. */
static bool
token_hash(const char *s, uint8 *out)
{
	pg_cryptohash_ctx *ctx;
	bool		ok;

	for (const char *c = s; *c; c++)
		if (IS_HIGHBIT_SET(*c))
			return false;		/* not one scim.create_token() issued */
	ctx = pg_cryptohash_create(PG_SHA256);
	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) s, strlen(s)) == 0 &&
		pg_cryptohash_final(ctx, out, PG_SHA256_DIGEST_LENGTH) == 0;
	pg_cryptohash_free(ctx);
	return ok;
}

/*
 * The tenant of token entry e, into the request (and *tenant); true.  A
 * copy: an invalidation read during the request empties the cache.
 */
static bool
found(Request *req, const TokenEntry *e, Datum *tenant)
{
	memcpy(&req->tenant, &e->tenant, sizeof(pg_uuid_t));
	memcpy(req->tenant_text, e->tenant_text, sizeof(req->tenant_text));
	*tenant = UUIDPGetDatum(&req->tenant);
	return true;
}

/*
 * The tenant of the request's live token, as scim._authenticate() finds
 * it: from the cache, else from scim.token, read with its owner's rights
 * (the table is not the caller's to read, as for SECURITY DEFINER).
 */
static bool
authenticate(Request *req, MemoryContext cxt, Datum *tenant)
{
	uint8		hash[PG_SHA256_DIGEST_LENGTH];
	bytea	   *arg;
	Datum		argd;
	TokenEntry *e;
	TokenEntry	once;
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	int			rc;
	bool		isnull;
	Datum		d;
	int			len = strlen(req->token);

	watch_caches();
	if (len >= TOKEN_MAX)
		return false;
	if (!OidIsValid(token_relid))
	{
		token_relid = get_relname_relid("token", get_namespace_oid("scim", false));
		if (!OidIsValid(token_relid))
			return false;
		token_watched = watched(token_relid, "token_changed", "token_applied");
	}
	for (int i = 0; token_watched && i < TOKEN_SLOTS; i++)
	{
		e = &tokens[i];
		if (token_is(e, req->token, len))
		{
			if (e->expires && e->expires_at <= GetCurrentTransactionStartTimestamp())
				return false;	/* expired: scim._handle() answers 401 */
			return found(req, e, tenant);
		}
	}

	if (!token_hash(req->token, hash))
		return false;
	owner = ScimPgRelOwner(token_relid);
	if (!OidIsValid(owner))
		return false;

	arg = palloc(VARHDRSZ + sizeof(hash));
	SET_VARSIZE(arg, VARHDRSZ + sizeof(hash));
	memcpy(VARDATA(arg), hash, sizeof(hash));
	argd = PointerGetDatum(arg);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = run(ST_AUTH, &argd, true, cxt);
	SetUserIdAndSecContext(save_user, save_sec);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return false;

	/* kept only while a change to the row would be told (watched()), else for this request alone */
	e = token_watched ? &tokens[token_next] : &once;
	memcpy(&e->tenant, DatumGetUUIDP(d), sizeof(pg_uuid_t));
	strlcpy(e->tenant_text, DatumGetCString(DirectFunctionCall1(uuid_out, d)), sizeof(e->tenant_text));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	e->expires = !isnull;
	e->expires_at = isnull ? 0 : DatumGetTimestampTz(d);
	if (token_watched)
	{
		token_next = (token_next + 1) % TOKEN_SLOTS;
		memcpy(e->token, req->token, len);
		e->len = len;
		e->valid = true;
	}
	return found(req, e, tenant);
}

/* Does tenant have no group memberships?  From the cache, else asked. */
static bool
without_members(Datum tenant, MemoryContext cxt)
{
	const pg_uuid_t *t = DatumGetUUIDP(tenant);
	uint64		seen = members_seen;
	MembersEntry *e;

	watch_caches();
	if (!OidIsValid(members_relid))
	{
		members_relid = get_relname_relid("group_members", get_namespace_oid("scim", false));
		if (!OidIsValid(members_relid))
			return false;
		/* without its triggers firing, nothing would tell of a change: always join */
		members_watched = watched(members_relid, "members_changed", "members_applied");
	}
	if (!members_watched)
		return false;
	for (int i = 0; i < MEMBERS_SLOTS; i++)
		if (members[i].valid && memcmp(&members[i].tenant, t, sizeof(pg_uuid_t)) == 0)
			return members[i].none;
	if (run(ST_TENANT_MEMBERS, &tenant, false, cxt) != SPI_OK_SELECT)
		return false;
	/* a change read while asking may not be in the answer: ask again next time */
	if (members_seen != seen)
		return false;
	e = &members[members_next];
	members_next = (members_next + 1) % MEMBERS_SLOTS;
	e->tenant = *t;
	e->none = SPI_processed == 0;
	e->valid = true;
	return e->none;
}

/*
 * Run statement st, one that shows users with their groups, for tenant: as
 * its twin without the join when the tenant has no memberships, and none
 * were made while it ran.  If one was, a read runs again with the join; a
 * write cannot, and says so in *stale (NULL for reads) for its caller to
 * read the row again.
 */
static int
run_users(Statement st, Datum *args, bool read_only, Datum tenant, MemoryContext cxt, bool *stale)
{
	uint64		seen;
	int			rc;

	if (stale != NULL)
		*stale = false;
	if (!without_members(tenant, cxt))
		return run(st, args, read_only, cxt);
	seen = members_seen;
	rc = run(alone[st], args, read_only, cxt);
	if (members_seen == seen)
		return rc;
	if (stale != NULL)
	{
		*stale = true;
		return rc;
	}
	return run(st, args, read_only, cxt);
}

/* A row of the statements above with the keys it is shown in order of. */
typedef struct Ordered
{
	HeapTuple	tuple;
	TimestampTz created;
	const pg_uuid_t *id;
	const pg_uuid_t *gid;		/* NULL: in no group */
} Ordered;

/* ORDER BY created, id, group id NULLS LAST, as uuid and timestamptz compare */
static int
ordered_cmp(const void *a, const void *b)
{
	const Ordered *x = a;
	const Ordered *y = b;
	int			c;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	c = memcmp(x->id, y->id, UUID_LEN);
	if (c != 0)
		return c;
	if (x->gid == NULL || y->gid == NULL)
		return (x->gid == NULL) - (y->gid == NULL);
	return memcmp(x->gid, y->gid, UUID_LEN);
}

/* The last statement's rows, in the order scim._handle() shows them. */
static Ordered *
ordered_rows(void)
{
	Ordered    *o = palloc(sizeof(Ordered) * Max(SPI_processed, 1));
	TupleDesc	desc = SPI_tuptable->tupdesc;
	bool		isnull;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		Datum		gid = SPI_getbinval(t, desc, 4, &isnull);

		o[i].tuple = t;
		o[i].gid = isnull ? NULL : DatumGetUUIDP(gid);
		o[i].id = DatumGetUUIDP(SPI_getbinval(t, desc, 1, &isnull));
		o[i].created = DatumGetTimestampTz(SPI_getbinval(t, desc, 6, &isnull));
	}
	if (SPI_processed > 1)
		qsort(o, SPI_processed, sizeof(Ordered), ordered_cmp);
	return o;
}

/*
 * The resources of the last statement, copied into cxt, each user's group
 * rows folded into its groups as scim._present() shows them: value,
 * display, type "direct" and $ref, in the order of the group ids.
 */
static Row *
fetch_rows(const Request *req, MemoryContext cxt, int *n)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Row		   *rows = palloc0(sizeof(Row) * Max(SPI_processed, 1));
	JsonbParseState **groups = palloc0(sizeof(JsonbParseState *) * Max(SPI_processed, 1));
	TupleDesc	desc = SPI_tuptable->tupdesc;
	Ordered    *ordered = ordered_rows();
	int			k = -1;
	bool		isnull;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		const Ordered *o = &ordered[i];
		HeapTuple	t = o->tuple;
		char	   *gid;
		char	   *display;

		/* a resource's rows are adjacent once in order */
		if (k < 0 || memcmp(o->id, ordered[i - 1].id, UUID_LEN) != 0)
		{
			k++;
			rows[k].id = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum((pg_uuid_t *) o->id)));
			rows[k].data = DatumGetJsonbPCopy(SPI_getbinval(t, desc, 2, &isnull));
			rows[k].version = DatumGetInt64(SPI_getbinval(t, desc, 3, &isnull));
		}
		if (o->gid == NULL)
			continue;
		gid = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum((pg_uuid_t *) o->gid)));
		display = SPI_getvalue(t, desc, 5);
		if (groups[k] == NULL)
			scim_push_jsonb(&groups[k], WJB_BEGIN_ARRAY, NULL);
		scim_push_jsonb(&groups[k], WJB_BEGIN_OBJECT, NULL);
		scim_push_string(&groups[k], WJB_KEY, "value");
		scim_push_string(&groups[k], WJB_VALUE, gid);
		scim_push_string(&groups[k], WJB_KEY, "display");
		if (display != NULL)
			scim_push_string(&groups[k], WJB_VALUE, display);
		else
		{
			JsonbValue	null = {.type = jbvNull};

			scim_push_jsonb(&groups[k], WJB_VALUE, &null);
		}
		scim_push_string(&groups[k], WJB_KEY, "type");
		scim_push_string(&groups[k], WJB_VALUE, "direct");
		scim_push_string(&groups[k], WJB_KEY, "$ref");
		scim_push_string(&groups[k], WJB_VALUE, psprintf("%s/Groups/%s", req->base, gid));
		scim_push_jsonb(&groups[k], WJB_END_OBJECT, NULL);
	}
	*n = k + 1;
	for (int i = 0; i < *n; i++)
		if (groups[i] != NULL)
			rows[i].groups = JsonbValueToJsonb(scim_push_jsonb(&groups[i], WJB_END_ARRAY, NULL));
	MemoryContextSwitchTo(old);
	return rows;
}

/*
 * In *meta, data's meta object with its members keys[i] set to the strings
 * values[i]; NULL when data has no meta.  False when meta is not an
 * object: scim._handle() answers for such a row.
 */
static bool
meta_with(Jsonb *data, int n, const char *const *keys, const char *const *values, Jsonb **meta)
{
	JsonbValue *m = getKeyJsonValueFromContainer(&data->root, "meta", 4, NULL);
	ScimPgMember *members;
	int			count;

	*meta = NULL;
	if (m == NULL)
		return true;
	if (m->type != jbvBinary || !JsonContainerIsObject(m->val.binary.data))
		return false;
	members = ScimPgWithStrings(m->val.binary.data, n, keys, values, &count);
	*meta = ScimPgObjectJsonb(members, count);
	return true;
}

/* The members a response sets on a stored row: meta (with location) and groups. */
typedef struct Shown
{
	const char *keys[2];
	Jsonb	   *values[2];
	ScimPgMembers set;
} Shown;

/*
 * Fill *out with the members a row is shown with besides its own:
 * meta.location set as jsonb_set() sets it (not at all without a meta),
 * and its groups.  false when the stored document or its meta is not an
 * object (written so by hand, not through SCIM): scim._handle() answers.
 */
static bool
shown_members(const Request *req, const Row *row, Shown *out)
{
	Jsonb	   *data = row->data;
	const char *location_key[] = {"location"};
	const char *location[1];
	int			n = 0;

	if (!JB_ROOT_IS_OBJECT(data))
		return false;
	location[0] = cat3(req->base, req->users ? "/Users/" : "/Groups/", row->id);
	if (!meta_with(data, 1, location_key, location, &out->values[n]))
		return false;
	if (out->values[n] != NULL)
		out->keys[n++] = "meta";
	if (row->groups != NULL)
	{
		out->keys[n] = "groups";
		out->values[n++] = row->groups;
	}
	out->set.n = n;
	out->set.keys = out->keys;
	out->set.values = out->values;
	return true;
}

/* A sink for a document of the response: text for scim.handle_text(). */
static void
body_sink(FunctionCallInfo fcinfo, ScimPgSink *s)
{
	HandleCache *cache = (HandleCache *) fcinfo->flinfo->fn_extra;

	ScimPgSinkInit(s, cache->text ? makeStringInfo() : NULL);
}

/*
 * A row as a response shows it, pushed into sink s (a page's open array,
 * or a body_sink() of its own): its own members with shown_members()'s,
 * projected, in one pass over the document.  False when shown_members()
 * declines.
 */
static bool
show(const Request *req, const Row *row, const struct ScimProjection *projection, ScimPgSink *s)
{
	Shown		shown;

	if (!shown_members(req, row, &shown))
		return false;
	ScimPgProjectPush(s, row->data, projection, &shown.set);
	return true;
}

/* The tuple descriptor of the call's result type, blessed once per call site. */
static TupleDesc
result_desc(FunctionCallInfo fcinfo)
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
static Datum
response(FunctionCallInfo fcinfo, int status, ScimPgSink *body, const char *etag, const char *tenant)
{
	TupleDesc	desc = result_desc(fcinfo);
	Datum		values[3];
	bool		nulls[3] = {false, false, body == NULL};
	ScimPgSink	headers;

	body_sink(fcinfo, &headers);
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

/* The text of ->> 'active', as the event kinds compare it; NULL when absent or null. */
static const char *
active_text(Jsonb *doc)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&doc->root, "active", 6, NULL);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type == jbvBool)
		return v->val.boolean ? "true" : "false";
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	return "";					/* a number or a structure: neither true nor false */
}

/* Is member key of a, byte for byte, the same string in b (or absent from both)? */
static bool
same_string(Jsonb *a, Jsonb *b, const char *key)
{
	JsonbValue *x = getKeyJsonValueFromContainer(&a->root, key, strlen(key), NULL);
	JsonbValue *y = getKeyJsonValueFromContainer(&b->root, key, strlen(key), NULL);

	if (x == NULL || y == NULL)
		return x == y;
	return x->type == jbvString && y->type == jbvString &&
		x->val.string.len == y->val.string.len &&
		memcmp(x->val.string.val, y->val.string.val, x->val.string.len) == 0;
}

/* GET /Users?filter=... or /Groups?filter=...: a ListResponse; false to fall back. */
static bool
answer_list(FunctionCallInfo fcinfo, const Request *req, Datum tenant, const struct ScimProjection *proj,
			MemoryContext cxt, Datum *result)
{
	const char *attr;
	const char *value;
	size_t		value_len;
	Statement	st;
	Datum		args[2];
	Row		   *rows;
	int			n;
	ScimPgSink	page;
	int64		shown = 0;
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimRegistryFindType(reg, req->rtype, strlen(req->rtype));
	char	   *id;

	if (type == NULL ||
		!ScimPgSimpleEq(req->filter, req->filter_len, type, &attr, &value, &value_len) ||
		memchr(value, '\0', value_len) != NULL)
		return false;
	if (strcmp(attr, "externalId") == 0)
		st = req->users ? ST_USER_EXTERNALID : ST_GROUP_EXTERNALID;
	else if (strcmp(attr, "id") == 0 && uuid_text(value, &id) && strcmp(id, value) == 0)
		st = req->users ? ST_USER_ID : ST_GROUP_ID;
	else if (req->users && strcmp(attr, "userName") == 0)
		st = ST_USER_USERNAME;
	else if (!req->users && strcmp(attr, "displayName") == 0)
		st = ST_GROUP_DISPLAYNAME;
	else
		return false;

	args[0] = tenant;
	args[1] = CStringGetTextDatum(value);
	if ((req->users ? run_users(st, args, true, tenant, cxt, NULL) : run(st, args, true, cxt)) != SPI_OK_SELECT)
		return false;
	rows = fetch_rows(req, cxt, &n);

	/* the page is shown into the ListResponse, not built apart */
	body_sink(fcinfo, &page);
	ScimPgListOpen(&page);
	if (req->count > 0)
		for (int64 i = req->start_index; i <= n && i < req->start_index + req->count; i++)
		{
			if (!show(req, &rows[i - 1], proj, &page))
				return false;
			shown++;
		}
	ScimPgListClose(&page, n, shown, (int32) req->start_index);
	*result = response(fcinfo, 200, &page, NULL, req->tenant_text);
	return true;
}

/* The resource the path names, or NULL when there is none (scim._handle() says so). */
static Row *
read_by_id(const Request *req, Datum tenant, MemoryContext cxt)
{
	Datum		args[2];
	Row		   *rows;
	int			n;

	args[0] = tenant;
	args[1] = CStringGetTextDatum(req->id);
	if ((req->users ? run_users(ST_USER_GET, args, false, tenant, cxt, NULL) :
		 run(ST_GROUP_GET, args, false, cxt)) != SPI_OK_SELECT)
		return NULL;
	rows = fetch_rows(req, cxt, &n);
	return n == 1 ? &rows[0] : NULL;
}

/* GET /Users/{id} or /Groups/{id}; false to fall back. */
static bool
answer_get(FunctionCallInfo fcinfo, const Request *req, Datum tenant, const struct ScimProjection *proj,
		   MemoryContext cxt, Datum *result)
{
	Row		   *row = read_by_id(req, tenant, cxt);
	ScimPgSink	doc;

	if (row == NULL)
		return false;
	body_sink(fcinfo, &doc);
	if (!show(req, row, proj, &doc))
		return false;
	*result = response(fcinfo, 200, &doc, etag_text(row->version), req->tenant_text);
	return true;
}

/*
 * What the last scim._patch_step() made of its row: the statement that
 * calls it reads the verdict after it has run.  The new resource lives in
 * its own context until the next step.
 */
typedef enum PatchVerdict
{
	PATCH_NO_ROW,				/* the step did not run: no such user */
	PATCH_APPLIED,				/* the row takes scim._patched() */
	PATCH_UNCHANGED,			/* the request changes nothing */
	PATCH_DECLINED				/* it fails, or renames the user: scim._handle() */
} PatchVerdict;

static PatchVerdict patch_verdict;
static Jsonb *patch_result;
static int64 patch_version;		/* the version patch_result is written with */
static const char *patch_kind;
static MemoryContext patch_cxt;

PG_FUNCTION_INFO_V1(scim_patch_step);

/*
 * scim._patch_step(data, version, request, at) → boolean: apply the PatchOp
 * request to a user's stored data; true, with the result and the event kind
 * kept for scim._patched() and scim._patched_kind(), when the row is to be
 * updated.  Never raises for a request the PL/pgSQL handler would refuse:
 * it declines, and scim.handle() passes the request on.
 */
Datum
scim_patch_step(PG_FUNCTION_ARGS)
{
	Jsonb	   *data = PG_GETARG_JSONB_P(0);
	int64		version = PG_GETARG_INT64(1);
	Jsonb	   *request = PG_GETARG_JSONB_P(2);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(3);
	const char *keys[] = {"lastModified", "version"};
	const char *values[] = {timestamp_text(ts), etag_text(version + 1)};
	ScimPgStamp stamp = {"meta", 2, keys, values};
	const char *was;
	const char *now;
	Jsonb	   *newdata;
	bool		changed;
	ScimError	err;
	MemoryContext old;

	ScimPgRequireHandler("scim._patch_step()");
	if (patch_cxt == NULL)
		patch_cxt = AllocSetContextCreate(TopMemoryContext, "scim patch step", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(patch_cxt);
	patch_result = NULL;
	patch_verdict = PATCH_DECLINED;

	/* meta is stamped as the result is built, when the request changed something */
	newdata = ScimPgPatchTry(data, request, cstring_to_text("User"), &stamp, &changed, &err);
	if (newdata == NULL)
		PG_RETURN_BOOL(false);
	if (!changed)
	{
		patch_verdict = PATCH_UNCHANGED;
		PG_RETURN_BOOL(false);
	}
	/* a new userName may be taken: scim._handle() answers the 409 */
	if (!same_string(data, newdata, "userName"))
		PG_RETURN_BOOL(false);
	/* a new password is stored as its secret, which scim._handle() makes */
	if (!same_string(data, newdata, "password"))
		PG_RETURN_BOOL(false);

	was = active_text(data);
	now = active_text(newdata);
	old = MemoryContextSwitchTo(patch_cxt);
	if (strcmp(was ? was : "true", "true") == 0 && now && strcmp(now, "false") == 0)
		patch_kind = "suspended";
	else if (was && strcmp(was, "false") == 0 && strcmp(now ? now : "true", "true") == 0)
		patch_kind = "unsuspended";
	else
		patch_kind = "updated";
	patch_result = palloc(VARSIZE(newdata));
	memcpy(patch_result, newdata, VARSIZE(newdata));
	patch_version = version + 1;
	MemoryContextSwitchTo(old);
	patch_verdict = PATCH_APPLIED;
	PG_RETURN_BOOL(true);
}

/*
 * Forget the last patched resource: it may hold a password's secret, and
 * nothing of one call is for a later caller to read.
 */
static void
forget_patched(void)
{
	if (patch_cxt != NULL)
		MemoryContextReset(patch_cxt);
	patch_result = NULL;
	patch_kind = NULL;
}

/* A copy of the resource the last scim._patch_step() made, in the current context. */
static Jsonb *
patched_copy(void)
{
	Jsonb	   *copy = palloc(VARSIZE(patch_result));

	memcpy(copy, patch_result, VARSIZE(patch_result));
	return copy;
}

PG_FUNCTION_INFO_V1(scim_patched);

/* scim._patched() → jsonb: the resource the last scim._patch_step() made. */
Datum
scim_patched(PG_FUNCTION_ARGS)
{
	ScimPgRequireHandler("scim._patched()");
	if (patch_result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(patched_copy());
}

PG_FUNCTION_INFO_V1(scim_patched_kind);

/* scim._patched_kind() → text: the event kind of the last scim._patch_step(). */
Datum
scim_patched_kind(PG_FUNCTION_ARGS)
{
	ScimPgRequireHandler("scim._patched_kind()");
	if (patch_result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(patch_kind));
}

/* PATCH /Users/{id}; false to fall back, before anything is written. */
static bool
answer_patch(FunctionCallInfo fcinfo, const Request *req, Datum tenant, const struct ScimProjection *proj,
			 MemoryContext cxt, Datum *result)
{
	Datum		args[5];
	Row		   *rows;
	int			n;
	ScimPgSink	doc;
	bool		stale;
	int			rc;

	/* a precondition needs the version first: scim._handle() checks it */
	if (req->if_match != NULL && strcmp(req->if_match, "*") != 0)
		return false;

	args[0] = tenant;
	args[1] = CStringGetTextDatum(req->id);
	args[2] = JsonbPGetDatum(req->body);
	args[3] = TimestampTzGetDatum(GetCurrentTimestamp());
	args[4] = CStringGetTextDatum(cat3("PATCH /Users/", req->rid, ""));
	patch_verdict = PATCH_NO_ROW;
	rc = run_users(ST_USER_PATCH, args, false, tenant, cxt, &stale);
	if (rc == SPI_OK_SELECT)
		rows = fetch_rows(req, cxt, &n);
	else if (rc == SPI_OK_INSERT)
	{
		/* without groups: one event inserted is one user updated, with the step's result */
		n = (int) SPI_processed;
		rows = palloc0(sizeof(Row));
		if (n == 1 && patch_verdict == PATCH_APPLIED)
		{
			rows->id = req->id;
			rows->data = patched_copy();
			rows->version = patch_version;
		}
	}
	else
		elog(ERROR, "scim.handle(): could not patch user %s", req->id);
	/* a membership made as the UPDATE ran without its join: the row with its groups */
	if (n == 1 && patch_verdict == PATCH_APPLIED && stale &&
		(rows = read_by_id(req, tenant, cxt)) == NULL)
		elog(ERROR, "scim.handle(): user %s was patched and cannot be read back", req->id);
	if (n == 1 && patch_verdict == PATCH_APPLIED)
	{
		/* the step checked that meta is an object: show() cannot decline */
		body_sink(fcinfo, &doc);
		if (!show(req, &rows[0], proj, &doc))
			elog(ERROR, "scim.handle(): user %s was patched into a resource it cannot show", req->id);
		*result = response(fcinfo, 200, &doc, etag_text(rows[0].version), req->tenant_text);
		return true;
	}
	if (patch_verdict == PATCH_UNCHANGED)
	{
		/* answered as a read: no write, no event, the version stays */
		Row		   *cur = read_by_id(req, tenant, cxt);

		if (cur == NULL)
			return false;
		body_sink(fcinfo, &doc);
		if (!show(req, cur, proj, &doc))
			return false;
		*result = response(fcinfo, 200, &doc, etag_text(cur->version), req->tenant_text);
		return true;
	}
	return false;				/* no such user, or declined: scim._handle() answers */
}

/*
 * The search_path the statements are planned and run under, as for
 * scim._handle().  Setting it and restoring it cost a lookup 5% of its
 * instructions (11,000 of 205,000): the setting itself, and the path
 * computed again both ways, which every cached plan then checks.  A
 * session whose path is this already (scim-server sets it on its
 * connections) skips both.
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

/* The fast path: true with *result when it answered the request. */
static bool
answer(FunctionCallInfo fcinfo, HandleCache *cache, Datum *result)
{
	MemoryContext cxt = CurrentMemoryContext;
	Request		req;
	const struct ScimProjection *proj;
	ScimError	err;
	Datum		tenant;
	bool		done = false;

	if (!read_request(fcinfo, &req))
		return false;
	proj = ScimPgProjection(&cache->projection, fcinfo->flinfo->fn_mcxt, req.attributes, req.excluded,
							cstring_to_text(req.rtype), &err);
	if (proj == NULL)
		return false;
	/* a group's members live in their own table: reading them is scim._handle()'s */
	if (!req.users && ScimProjectionWants(proj, "members"))
		return false;

	/*
	 * As scim._handle() runs: search_path pinned, so that no object of the
	 * caller's stands in for one the statements name, and the tenant set,
	 * both until handle() leaves the handler's GUC level.
	 */
	if (!path_pinned())
	{
		ScimPgHandlerNest();
		(void) set_config_option("search_path", PINNED_PATH, PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "scim.handle(): SPI_connect failed");
	MemoryContextSwitchTo(cxt);
	if (authenticate(&req, cxt, &tenant))
	{
		ScimPgActFor(&req.tenant);
		switch (req.kind)
		{
			case REQ_LIST:
				done = answer_list(fcinfo, &req, tenant, proj, cxt, result);
				break;
			case REQ_GET:
				done = answer_get(fcinfo, &req, tenant, proj, cxt, result);
				break;
			case REQ_PATCH:
				done = answer_patch(fcinfo, &req, tenant, proj, cxt, result);
				break;
		}
	}
	SPI_finish();
	MemoryContextSwitchTo(cxt);
	return done;
}

/* A jsonb column of a scim.response as the text jsonb_out() gives. */
static Datum
jsonb_column_text(HeapTupleHeader response, int attno, bool *isnull)
{
	Datum		d = GetAttributeByNum(response, attno, isnull);
	StringInfoData out;

	if (*isnull)
		return (Datum) 0;
	initStringInfo(&out);
	ScimPgJsonbText(&out, DatumGetJsonbP(d));
	return PointerGetDatum(cstring_to_text_with_len(out.data, out.len));
}

/* scim._handle()'s scim.response as scim.handle_text()'s scim.response_text. */
static Datum
as_text(FunctionCallInfo fcinfo, Datum response)
{
	HeapTupleHeader h = DatumGetHeapTupleHeader(response);
	Datum		values[3];
	bool		nulls[3];

	values[0] = GetAttributeByNum(h, 1, &nulls[0]);
	values[1] = jsonb_column_text(h, 2, &nulls[1]);
	values[2] = jsonb_column_text(h, 3, &nulls[2]);
	return HeapTupleGetDatum(heap_form_tuple(result_desc(fcinfo), values, nulls));
}

/* scim._handle(method, path, query, headers, body), looked up once per call site. */
static Datum
fall_back(FunctionCallInfo fcinfo, HandleCache *cache)
{
	LOCAL_FCINFO(call, 5);
	Datum		result;

	if (!OidIsValid(cache->fallback.fn_oid))
	{
		Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID};
		List	   *name = list_make2(makeString("scim"), makeString("_handle"));

		fmgr_info_cxt(LookupFuncName(name, 5, argtypes, false), &cache->fallback, fcinfo->flinfo->fn_mcxt);
	}
	InitFunctionCallInfoData(*call, &cache->fallback, 5, fcinfo->fncollation, NULL, NULL);
	for (int i = 0; i < 5; i++)
	{
		call->args[i].value = fcinfo->args[i].value;
		call->args[i].isnull = fcinfo->args[i].isnull;
	}
	result = FunctionCallInvoke(call);
	fcinfo->isnull = call->isnull;
	if (!cache->text || call->isnull)
		return result;
	return as_text(fcinfo, result);
}

/* Serve one request, through the fast path or scim._handle(). */
static Datum
serve(FunctionCallInfo fcinfo, bool text)
{
	HandleCache *cache = (HandleCache *) fcinfo->flinfo->fn_extra;
	Datum		result;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(HandleCache));
		cache->text = text;
		fcinfo->flinfo->fn_extra = cache;
	}
	if (answer(fcinfo, cache, &result))
		return result;
	return fall_back(fcinfo, cache);
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
		forget_patched();
		ScimPgHandlerAbort(&call);
		ScimPgDeadlineCatch();
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimPgDeadlineDisarm();
	forget_patched();
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
