/*
 * write.c
 *		The request handler's answers for one resource: POST /Users and
 *		/Groups, and GET, PUT, PATCH and DELETE of /Users/{id} and
 *		/Groups/{id} (RFC 7644 sections 3.3 to 3.6), for every such request
 *		the fast path leaves: writes, failures, preconditions, a group's
 *		members.
 *
 * The answers are the PL/pgSQL handler's, byte for byte: where it read
 * JSON with SQL's operators (->, ->>, ?, ||, jsonb_set) jsonb_ops.c does
 * what those operators do, down to the messages jsonb_set() and
 * jsonb_array_length() raise on a document written by hand.  Where it
 * compared text with the database's regular expressions, whose \s a
 * locale may widen, plain ASCII is read here and anything else is handed
 * to the same expressions.
 *
 * The frame (route.c) calls in with SPI connected and the tenant
 * authenticated, inside a subtransaction: an error raised anywhere here
 * undoes the request's writes whole and is answered as a SCIM error.
 */
#include "handle_int.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "jsonb_compat.h"
#include "projection.h"

typedef enum WriteStatement
{
	WS_INSERT_USER,
	WS_INSERT_GROUP,
	WS_LOCK_USER,
	WS_LOCK_GROUP,
	WS_UPDATE_USER,
	WS_UPDATE_GROUP,
	WS_DELETE_USER,
	WS_DELETE_GROUP,
	WS_ETAG_IN,
	WS_WANTS_MEMBERS,
	WS__COUNT
} WriteStatement;

/* the two resource types' statements come in pairs, the user's first */
#define FOR_TYPE(req, st) ((WriteStatement) ((st) + ((req)->users ? 0 : 1)))

#define INSERT(table) \
	"INSERT INTO " table " (tenant, id, data, created, last_modified) VALUES ($1, $2, $3, $4, $4) " \
	"ON CONFLICT DO NOTHING"
#define LOCK(table) "SELECT r.data, r.version FROM " table " r WHERE r.tenant = $1 AND r.id = $2 FOR UPDATE"
#define UPDATE(table) \
	"UPDATE " table " r SET data = $3, version = r.version + 1, last_modified = $4 " \
	"WHERE r.tenant = $1 AND r.id = $2"
#define DELETE(table) "DELETE FROM " table " r WHERE r.tenant = $1 AND r.id = $2"
/* the members of a group a response shows, by attributes ($1) or excludedAttributes ($2) */
#define WANTS_MEMBERS_IN(list) \
	"(SELECT 1 FROM regexp_split_to_table(lower(" list "), $3) a " \
	"WHERE a IN ('members', 'urn:ietf:params:scim:schemas:core:2.0:group:members')"

static const StatementDef write_statements[WS__COUNT] = {
	/* a name the tenant has (the only key a new row can share) inserts nothing */
	[WS_INSERT_USER] = {INSERT("scim.users"), 4, {UUIDOID, UUIDOID, JSONBOID, TIMESTAMPTZOID}},
	[WS_INSERT_GROUP] = {INSERT("scim.groups"), 4, {UUIDOID, UUIDOID, JSONBOID, TIMESTAMPTZOID}},
	[WS_LOCK_USER] = {LOCK("scim.users"), 2, {UUIDOID, UUIDOID}},
	[WS_LOCK_GROUP] = {LOCK("scim.groups"), 2, {UUIDOID, UUIDOID}},
	[WS_UPDATE_USER] = {UPDATE("scim.users"), 4, {UUIDOID, UUIDOID, JSONBOID, TIMESTAMPTZOID}},
	[WS_UPDATE_GROUP] = {UPDATE("scim.groups"), 4, {UUIDOID, UUIDOID, JSONBOID, TIMESTAMPTZOID}},
	[WS_DELETE_USER] = {DELETE("scim.users"), 2, {UUIDOID, UUIDOID}},
	[WS_DELETE_GROUP] = {DELETE("scim.groups"), 2, {UUIDOID, UUIDOID}},
	/* the expressions, as text a locale may read otherwise than plain ASCII */
	[WS_ETAG_IN] = {"SELECT $1 = ANY (regexp_split_to_array($2, $3))", 3, {TEXTOID, TEXTOID, TEXTOID}},
	[WS_WANTS_MEMBERS] = {
		"SELECT CASE WHEN $1 IS NOT NULL THEN EXISTS " WANTS_MEMBERS_IN("$1") " OR a ~ $4) "
		"WHEN $2 IS NOT NULL THEN NOT EXISTS " WANTS_MEMBERS_IN("$2") ") ELSE true END",
	4, {TEXTOID, TEXTOID, TEXTOID, TEXTOID}},
};

static SPIPlanPtr write_plans[WS__COUNT];

/* the separator of a list header or parameter: '\s*,\s*' */
#define LIST_SEPARATOR "\\s*,\\s*"

/* What a request for one resource carries through its answer. */
typedef struct Resource
{
	FunctionCallInfo fcinfo;
	Request    *req;
	MemoryContext cxt;
	const char *endpoint;		/* "/Users/" or "/Groups/" */
	bool		members;		/* a group's response shows its members */
	Jsonb	   *body;			/* POST, PUT, PATCH: the body */
	ScimIgnored ignored;		/* what the body set that the schema does not define */
	TimestampTz ts;				/* the request's time, as meta shows it: */
	char	   *now_text;
	Datum		id;				/* the resource's uuid */
	char	   *id_text;		/* and as uuid_out() writes it */
	char	   *operation;		/* the method and canonical path, as events name the request */
} Resource;

static int
run(WriteStatement st, Datum *args, const char *nulls, bool read_only, MemoryContext cxt)
{
	return ScimPgRunDef(write_statements, write_plans, st, args, nulls, read_only, cxt);
}

/* ------------------------------------------------------------------------
 * the request
 * ------------------------------------------------------------------------
 */

/*
 * Is every byte of s plain ASCII, which the database's regular expressions
 * read as C does?  A locale may see more white space in other text (ICU's
 * \s has U+001C to U+001F and the Unicode spaces): that goes to the
 * expressions themselves.
 */
bool
ScimPgPlain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 0x20 && *s < 0x7F) || (*s >= '\t' && *s <= '\r')))
			return false;
	return true;
}

/*
 * The next entry of a plain list, split as regexp_split_to_array(list,
 * '\s*,\s*') splits it (at each comma, with the white space around it),
 * from *p on: [*start, *start + *len).  *p is NULL after the last.
 */
static bool
list_next(const char **p, const char **start, size_t *len)
{
	const char *comma;
	const char *end;

	if (*p == NULL)
		return false;
	comma = strchr(*p, ',');
	end = comma ? comma : *p + strlen(*p);
	if (comma)
		while (end > *p && ScimPgIsSpace(end[-1]))
			end--;
	*start = *p;
	*len = end - *p;
	if (comma)
		for (*p = comma + 1; ScimPgIsSpace(**p); (*p)++)
			;
	else
		*p = NULL;
	return true;
}

/* The one boolean the last statement read (NULL as false). */
static bool
bool_result(void)
{
	bool		isnull;
	Datum		d = ScimPgOneValue(&isnull);

	return !isnull && DatumGetBool(d);
}

/* Is etag one of the entries of list (list_next())? */
static bool
etag_in(const char *etag, const char *list, MemoryContext cxt)
{
	size_t		n = strlen(etag);
	const char *p = list;
	const char *e;
	size_t		len;

	if (!ScimPgPlain(list))
	{
		Datum		args[3] = {CStringGetTextDatum(etag), CStringGetTextDatum(list), CStringGetTextDatum(LIST_SEPARATOR)};

		run(WS_ETAG_IN, args, NULL, true, cxt);
		return bool_result();
	}
	while (list_next(&p, &e, &len))
		if (len == n && memcmp(e, etag, n) == 0)
			return true;
	return false;
}

/* headers->>name: a header that is no string reads as its JSON text, JSON null as none. */
static char *
header_text(const Request *req, const char *name)
{
	JsonbValue *v = req->headers ? ScimPgKeyValue(req->headers, name) : NULL;
	int			len;

	return ScimPgArrowText(v, &len);
}

/*
 * Does any entry of plain list, lower-cased, name members, or (paths) a
 * path into it, with or without the Group schema's URN?
 */
static bool
names_members(const char *list, bool paths)
{
	static const char urn[] = "urn:ietf:params:scim:schemas:core:2.0:group:";
	size_t		u = sizeof(urn) - 1;
	const char *p = list;
	const char *a;
	size_t		len;

	while (list_next(&p, &a, &len))
	{
		if (len >= u && pg_strncasecmp(a, urn, u) == 0)
		{
			a += u;
			len -= u;
		}
		if (len >= 7 && pg_strncasecmp(a, "members", 7) == 0 &&
			(len == 7 || (paths && (a[7] == '.' || a[7] == '['))))
			return true;
	}
	return false;
}

/*
 * Does a group's response show its members, given attributes a and
 * excludedAttributes x (NULL when absent)?  Entra ID reads with
 * excludedAttributes=members, and then the membership table is not read.
 * A value that is NULL (a SearchRequest's empty array) names nothing.
 */
bool
ScimPgWantsMembers(const ScimQueryParam *a, const ScimQueryParam *x, MemoryContext cxt)
{
	if ((a != NULL && a->value == NULL) || (a == NULL && x != NULL && x->value == NULL))
		return a == NULL;
	if ((a != NULL && !ScimPgPlain(a->value)) || (a == NULL && x != NULL && !ScimPgPlain(x->value)))
	{
		Datum		args[4];
		char		nulls[4] = "    ";

		args[0] = a ? CStringGetTextDatum(a->value) : (Datum) 0;
		nulls[0] = a ? ' ' : 'n';
		args[1] = x ? CStringGetTextDatum(x->value) : (Datum) 0;
		nulls[1] = x ? ' ' : 'n';
		args[2] = CStringGetTextDatum(LIST_SEPARATOR);
		args[3] = CStringGetTextDatum("^(urn:ietf:params:scim:schemas:core:2\\.0:group:)?members[.[]");
		run(WS_WANTS_MEMBERS, args, nulls, true, cxt);
		return bool_result();
	}
	if (a != NULL)
		return names_members(a->value, true);
	if (x != NULL)
		return !names_members(x->value, false);
	return true;
}

/* Does the response for this group show its members (ScimPgWantsMembers())? */
static bool
wants_members(Resource *r)
{
	if (r->req->users)
		return false;
	return ScimPgWantsMembers(ScimPgParam(r->req->params, r->req->nparams, "attributes"),
							  ScimPgParam(r->req->params, r->req->nparams, "excludedattributes"), r->cxt);
}

/* The 409 for a userName or Group displayName that the tenant already has. */
static void
fail_uniqueness(Resource *r, Jsonb *doc)
{
	char	   *name = ScimPgKeyText(doc, r->req->users ? "userName" : "displayName");

	ScimPgFail(409, "uniqueness", "a %s with %s \"%s\" already exists", r->req->rtype,
			   r->req->users ? "userName" : "displayName", name ? name : "");
}

/* ------------------------------------------------------------------------
 * answers
 * ------------------------------------------------------------------------
 */

/*
 * The response showing resource row (its groups, for a user, in it
 * already): meta.location added, a group's members when wanted, projected
 * by attributes and excludedAttributes.
 */
static Datum
show(Resource *r, int status, Row *row, const char *location)
{
	Request    *req = r->req;
	HandleCache *cache = (HandleCache *) r->fcinfo->flinfo->fn_extra;
	ScimQueryParam *a = ScimPgParam(req->params, req->nparams, "attributes");
	ScimQueryParam *x = ScimPgParam(req->params, req->nparams, "excludedattributes");
	const struct ScimProjection *proj;
	ScimPgSink	doc;

	/* headers that make no base URL made no document either, as they always did */
	if (req->base == NULL)
		return ScimPgResponseWith(r->fcinfo, status, NULL, ScimPgEtagText(row->version), location,
								  req->tenant_text);
	if (r->members)
		row->members = ScimPgMembersOf(req, r->id_text, r->cxt);
	proj = ScimPgProjection(&cache->projection, r->fcinfo->flinfo->fn_mcxt,
							a ? cstring_to_text_with_len(a->value, a->value_len) : NULL,
							x ? cstring_to_text_with_len(x->value, x->value_len) : NULL,
							cstring_to_text(req->rtype), NULL);
	ScimPgBodySink(r->fcinfo, &doc);
	ScimPgShowAny(req, row, proj, &doc);
	return ScimPgResponseWith(r->fcinfo, status, &doc, ScimPgEtagText(row->version), location, req->tenant_text);
}

/* The response showing resource data at version, after a write: a user with the groups it is in. */
static Datum
show_written(Resource *r, int status, Jsonb *data, int64 version, const char *location)
{
	Row			row = {r->id_text, data, version, NULL, NULL};

	if (r->req->users && r->req->base != NULL)
		row.groups = ScimPgGroupsOf(r->req, r->id_text, r->cxt);
	return show(r, status, &row, location);
}

/*
 * What the event log says besides of a write: what the request set that
 * the schema does not define and was left out, for the admin to see (with
 * "nothing changed" when that was all it set); NULL when nothing was.
 */
static char *
ignored_detail(Resource *r, bool changed)
{
	if (r->ignored.n == 0)
		return NULL;
	return ScimPgCat3(changed ? "" : "nothing changed; ", ScimPgLeftOut(&r->ignored), "");
}

/*
 * The changes written from here on are this request's, answered with
 * status: their rows in scim.change are its record in the event log.
 */
static void
originate(Resource *r, int status)
{
	ScimPgOrigin o = {r->operation, status, ignored_detail(r, true)};

	ScimPgChangesOrigin(&o);
}

/* POST /Users or /Groups: a resource created from the body (RFC 7644 section 3.3). */
static Datum
create(Resource *r)
{
	Request    *req = r->req;
	Row			row = {NULL, NULL, 1, NULL, NULL};
	Jsonb	   *doc;
	Datum		args[4];

	r->id = ScimPgNewId();
	r->id_text = DatumGetCString(DirectFunctionCall1(uuid_out, r->id));
	doc = ScimPgNewDocument(req, r->body, r->id_text, r->now_text, &r->ignored);

	args[0] = req->tenant_datum;
	args[1] = r->id;
	args[2] = JsonbPGetDatum(doc);
	args[3] = TimestampTzGetDatum(r->ts);
	originate(r, 201);
	if (run(FOR_TYPE(req, WS_INSERT_USER), args, NULL, false, r->cxt) != SPI_OK_INSERT)
		elog(ERROR, "scim.handle(): could not insert a %s", req->rtype);
	if (SPI_processed == 0)
		fail_uniqueness(r, doc);
	/* Okta and Entra send members with the POST; they come back as stored */
	if (!req->users)
		ScimPgSetMembers(req, r->id, "add", ScimPgBodyMember(&r->body->root, "members"), r->cxt);
	/* a new user is in no group yet */
	row.id = r->id_text;
	row.data = doc;
	return show(r, 201, &row, req->base ? ScimPgCat3(req->base, r->endpoint, r->id_text) : ScimPgNullHeader);
}

/* An UPDATE of update(), for ScimPgAttempt(). */
typedef struct UpdateArgs
{
	WriteStatement st;
	Datum		args[4];
	MemoryContext cxt;
} UpdateArgs;

/*
 * UPDATE the resource to doc.  A new userName or displayName may be the
 * tenant's already: then only, the statement runs in a subtransaction of
 * its own, for the unique index's error to become the 409 (another
 * transaction can take the name until the statement runs).
 */
static void
run_update(void *arg)
{
	UpdateArgs *u = (UpdateArgs *) arg;

	run(u->st, u->args, NULL, false, u->cxt);
}

static void
update(Resource *r, Jsonb *cur, Jsonb *doc)
{
	const char *key = r->req->users ? "userName" : "displayName";
	char	   *was = ScimPgKeyText(cur, key);
	char	   *now = ScimPgKeyText(doc, key);
	UpdateArgs	u = {FOR_TYPE(r->req, WS_UPDATE_USER),
	{r->req->tenant_datum, r->id, JsonbPGetDatum(doc), TimestampTzGetDatum(r->ts)}, r->cxt};
	ErrorData  *e;

	if (was != NULL && now != NULL && strcmp(was, now) == 0)
		run_update(&u);
	else if ((e = ScimPgAttempt(run_update, &u, r->cxt)) != NULL)
	{
		if (e->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(e);
		fail_uniqueness(r, doc);
	}
}

/*
 * PATCH (RFC 7644 section 3.5.2): the request applied to the stored
 * resource cur; a group's member operations to its membership table.
 * *members_changed says whether membership changed.
 */
static Jsonb *
patch(Resource *r, Jsonb *cur, bool *members_changed)
{
	Jsonb	   *request = r->body;
	Jsonb	   *doc = cur;
	JsonbValue *ops;
	int			nops = 0;
	JsonbValue *pw;
	JsonbValue *was_pw;

	if (!r->req->users)
		request = ScimPgPatchMembers(r->req, r->id, request, members_changed, r->cxt);
	/* jsonb_array_length(coalesce(request->'Operations', '[]')), as it was */
	ops = ScimPgKeyValue(request, "Operations");
	if (ops != NULL && (ops->type != jbvBinary || JsonContainerIsScalar(ops->val.binary.data)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot get array length of a scalar")));
	if (ops != NULL && !JsonContainerIsArray(ops->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot get array length of a non-array")));
	if (ops != NULL)
		nops = JsonContainerSize(ops->val.binary.data);
	if (nops > 0 || r->req->users)
	{
		ScimError	err;
		bool		changed;

		doc = ScimPgPatchTry(cur, request, cstring_to_text(r->req->rtype), NULL, &changed, &err, &r->ignored);
		if (doc == NULL)
			ScimPgRaise(&err);
	}
	/* a password a PATCH sets, with a path or without, is stored as its secret */
	pw = ScimPgKeyValue(doc, "password");
	was_pw = ScimPgKeyValue(cur, "password");
	if (!ScimPgSameValue(pw, was_pw) && ScimPgHasKey(doc, "password"))
		doc = ScimPgWithPassword(doc, ScimPgPasswordSecret(r->req, doc));
	return doc;
}

/*
 * PUT (RFC 7644 section 3.5.1): the body replaces the resource cur
 * (ScimPgReplacement()); a group's members are replaced when the body has
 * them.
 */
static Jsonb *
replace(Resource *r, Jsonb *cur, bool *members_changed)
{
	Jsonb	   *doc = ScimPgReplacement(r->req, cur, r->body, r->id_text, &r->ignored);
	JsonbValue *members;

	if (!r->req->users && (members = ScimPgBodyMember(&r->body->root, "members")) != NULL)
		*members_changed = ScimPgSetMembers(r->req, r->id, "replace", members, r->cxt);
	return doc;
}

/*
 * DELETE of the resource (args: tenant, id); 404 when there is none.  Its
 * memberships go with it, by the change feed's trigger (changes.c).
 */
static Datum
delete(Resource *r, Datum *args)
{
	originate(r, 204);
	run(FOR_TYPE(r->req, WS_DELETE_USER), args, NULL, false, r->cxt);
	if (SPI_processed == 0)
		ScimPgFail(404, NULL, "%s \"%s\" not found", r->req->rtype, r->req->rid);
	return ScimPgResponseWith(r->fcinfo, 204, NULL, NULL, NULL, r->req->tenant_text);
}

/* GET, PUT, PATCH or DELETE of /Users/{id} or /Groups/{id}. */
static Datum
existing(Resource *r)
{
	Request    *req = r->req;
	const char *method = req->method;
	char	   *id;
	Datum		args[2];
	Jsonb	   *cur;
	int64		version;
	char	   *etag;
	char	   *cond;
	bool		isnull;
	bool		members_changed = false;
	Jsonb	   *doc;
	int			status;

	if (!ScimPgUuidText(req->rid, &id))
		ScimPgFail(404, NULL, "%s \"%s\" not found", req->rtype, req->rid);
	req->id = id;
	r->id_text = id;
	r->id = DirectFunctionCall1(uuid_in, CStringGetDatum(id));

	if (strcmp(method, "GET") == 0)
	{
		Row		   *row = ScimPgReadById(req, req->tenant_datum, r->cxt);

		if (row == NULL)
			ScimPgFail(404, NULL, "%s \"%s\" not found", req->rtype, req->rid);
		etag = ScimPgEtagText(row->version);
		cond = header_text(req, "if-none-match");
		if (cond != NULL && etag_in(etag, cond, r->cxt))
			return ScimPgResponseWith(r->fcinfo, 304, NULL, etag, NULL, req->tenant_text);
		return show(r, 200, row, NULL);
	}

	/*
	 * A user's PUT is one UPDATE, as a PATCH is (user_patch.c): no row read
	 * and locked first, no second statement for the groups; the change
	 * feed's trigger records it.  When it declines, what follows
	 * answers.
	 */
	cond = header_text(req, "if-match");
	if (strcmp(method, "PUT") == 0 && req->users && (cond == NULL || strcmp(cond, "*") == 0))
	{
		Row		   *row;

		originate(r, 200);
		row = ScimPgReplaceUser(req, r->body, r->ts, r->cxt);

		if (row != NULL)
			return show(r, 200, row, NULL);
	}

	args[0] = req->tenant_datum;
	args[1] = r->id;
	/* a DELETE without a version to hold is the DELETE alone, as the raw statement is */
	if (strcmp(method, "DELETE") == 0 && (cond == NULL || strcmp(cond, "*") == 0))
		return delete(r, args);
	if (run(FOR_TYPE(req, WS_LOCK_USER), args, NULL, false, r->cxt) != SPI_OK_SELECT)
		elog(ERROR, "scim.handle(): could not read a %s", req->rtype);
	if (SPI_processed == 0)
		ScimPgFail(404, NULL, "%s \"%s\" not found", req->rtype, req->rid);
	cur = DatumGetJsonbPCopy(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	version = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	etag = ScimPgEtagText(version);

	if (cond != NULL && strcmp(cond, "*") != 0 && !etag_in(etag, cond, r->cxt))
		ScimPgFail(412, NULL, "the resource has version %s, not %s", etag, cond);

	if (strcmp(method, "DELETE") == 0)
		return delete(r, args);

	if (strcmp(method, "PUT") == 0)
		doc = replace(r, cur, &members_changed);
	else
		doc = patch(r, cur, &members_changed);

	/* Entra ID expects 204 for a group PATCH and needs no body; asked-for attributes need 200 */
	status = strcmp(method, "PATCH") == 0 && !req->users &&
		!ScimPgParam(req->params, req->nparams, "attributes") &&
		!ScimPgParam(req->params, req->nparams, "excludedattributes") ? 204 : 200;
	if (members_changed || (doc != cur && compareJsonbContainers(&doc->root, &cur->root) != 0))
	{
		etag = ScimPgEtagText(version + 1);
		doc = ScimPgStampMeta(doc, r->now_text, etag);
		originate(r, status);
		update(r, cur, doc);
		version++;
	}
	else
	{
		doc = cur;
		/* what was left out is for the admin to see, though nothing changed: no change row says it */
		if (r->ignored.n > 0)
		{
			Request		named = *req;

			named.path = strchr(r->operation, ' ') + 1;
			ScimPgLogEvent(&named, "updated", req->rtype, r->id_text, status, NULL, ignored_detail(r, false), r->cxt);
		}
	}
	if (status == 204)
		return ScimPgResponseWith(r->fcinfo, 204, NULL, etag, NULL, req->tenant_text);
	return show_written(r, 200, doc, version, NULL);
}

/*
 * POST /Users, /Groups; GET, PUT, PATCH or DELETE of /Users/{id} or
 * /Groups/{id}: the response, or an error raised for the frame to answer.
 */
Datum
ScimPgAnswerResource(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt)
{
	Resource	r;

	memset(&r, 0, sizeof(r));
	r.fcinfo = fcinfo;
	r.req = req;
	r.cxt = cxt;
	r.endpoint = req->users ? "/Users/" : "/Groups/";
	r.ts = GetCurrentTimestamp();
	r.now_text = ScimPgTimestampText(r.ts);
	r.members = wants_members(&r);
	r.operation = req->rid ? psprintf("%s %s%s", req->method, r.endpoint, req->rid) :
		psprintf("%s %.*s", req->method, (int) strlen(r.endpoint) - 1, r.endpoint);
	if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 || strcmp(req->method, "PATCH") == 0)
		r.body = ScimPgRequestBody(req);
	if (req->rid == NULL)
		return create(&r);
	return existing(&r);
}
