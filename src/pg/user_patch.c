/*
 * user_patch.c
 *		The request handler's PATCH and PUT of /Users/{id}: one UPDATE that
 *		applies the request to the row it reads through scim._patch_step()
 *		or scim._put_step(), and the functions that statement calls; the
 *		change feed's trigger records it (changes.c).
 */
#include "handle_int.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "jsonb_compat.h"

/* The text of ->> 'active', as the change kinds compare it; NULL when absent or null. */
static const char *
active_text(Jsonb *doc)
{
	JsonbValue *v;

	if (!JB_ROOT_IS_OBJECT(doc))
		return NULL;
	v = getKeyJsonValueFromContainer(&doc->root, "active", 6, NULL);
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type == jbvBool)
		return v->val.boolean ? "true" : "false";
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	return "";					/* a number or a structure: neither true nor false */
}

/*
 * The kind of a change of a resource from was to now: suspended when
 * active turns false (absent counts as true), unsuspended when it turns
 * back, else updated.
 */
const char *
ScimPgChangeKind(Jsonb *was, Jsonb *now)
{
	const char *a = active_text(was);
	const char *b = active_text(now);

	if (strcmp(a ? a : "true", "true") == 0 && b && strcmp(b, "false") == 0)
		return "suspended";
	if (a && strcmp(a, "false") == 0 && strcmp(b ? b : "true", "true") == 0)
		return "unsuspended";
	return "updated";
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
	PATCH_DECLINED				/* it fails, or renames the user: the general path */
} PatchVerdict;

static PatchVerdict patch_verdict;
static Jsonb *patch_result;
static int64 patch_version;		/* the version patch_result is written with */
static MemoryContext patch_cxt;

/* A step begins: nothing kept, declined until it says otherwise. */
static void
step_begin(const char *function)
{
	ScimPgRequireHandler(function);
	if (patch_cxt == NULL)
		patch_cxt = AllocSetContextCreate(TopMemoryContext, "scim patch step", ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(patch_cxt);
	patch_result = NULL;
	patch_verdict = PATCH_DECLINED;
}

/* A step applies: the row data becomes doc at version, for scim._patched(). */
static void
step_keep(Jsonb *doc, int64 version)
{
	MemoryContext old = MemoryContextSwitchTo(patch_cxt);

	patch_result = palloc(VARSIZE(doc));
	memcpy(patch_result, doc, VARSIZE(doc));
	patch_version = version;
	MemoryContextSwitchTo(old);
	patch_verdict = PATCH_APPLIED;
}

PG_FUNCTION_INFO_V1(scim_patch_step);

/*
 * scim._patch_step(data, version, request, at) → boolean: apply the PatchOp
 * request to a user's stored data; true, with the result kept for
 * scim._patched(), when the row is to be updated.  Never raises for a request the PL/pgSQL handler would refuse:
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
	const char *values[] = {ScimPgTimestampText(ts), ScimPgEtagText(version + 1)};
	ScimPgStamp stamp = {"meta", 2, keys, values};
	Jsonb	   *newdata;
	bool		changed;
	ScimError	err;
	ScimIgnored ignored;

	step_begin("scim._patch_step()");

	/* meta is stamped as the result is built, when the request changed something */
	newdata = ScimPgPatchTry(data, request, cstring_to_text("User"), &stamp, &changed, &err, &ignored);
	/* what the request sets that the schema lacks is named in the event: write.c's */
	if (newdata == NULL || ignored.n > 0)
		PG_RETURN_BOOL(false);
	if (!changed)
	{
		patch_verdict = PATCH_UNCHANGED;
		PG_RETURN_BOOL(false);
	}
	/* a new userName may be taken: the general path answers the 409 */
	if (!same_string(data, newdata, "userName"))
		PG_RETURN_BOOL(false);
	/* a new password is stored as its secret, which the general path makes */
	if (!same_string(data, newdata, "password"))
		PG_RETURN_BOOL(false);
	step_keep(newdata, version + 1);
	PG_RETURN_BOOL(true);
}

PG_FUNCTION_INFO_V1(scim_put_step);

/*
 * scim._put_step(data, version, body, id, at) → boolean: the PUT of a user
 * (write.c) as the step of the same UPDATE, in write.c's order: only for a
 * row that exists (a missing user is 404 before its body is read), the
 * body normalised as write.c's replace() does it, its password's secret,
 * meta kept, the stored password kept unless the body sends one.  True,
 * with the result kept as scim._patch_step() keeps it, when the row is to
 * be updated.  A body the general path refuses
 * raises its error (400): the caller runs inside the request's
 * subtransaction.  Nothing changed, attributes the schema lacks (named in
 * the event by the general path), or a new userName (which may be taken:
 * the general path answers the 409), decline.
 */
Datum
scim_put_step(PG_FUNCTION_ARGS)
{
	Jsonb	   *data = PG_GETARG_JSONB_P(0);
	int64		version = PG_GETARG_INT64(1);
	Jsonb	   *body = PG_GETARG_JSONB_P(2);
	char	   *id = text_to_cstring(PG_GETARG_TEXT_PP(3));
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(4);
	Request		user = {.rtype = "User",.users = true};
	ScimIgnored ignored;
	Jsonb	   *doc;

	step_begin("scim._put_step()");
	if (!JB_ROOT_IS_OBJECT(data))
		PG_RETURN_BOOL(false);
	doc = ScimPgReplacement(&user, data, body, id, &ignored);
	if (ignored.n > 0)
		PG_RETURN_BOOL(false);
	if (compareJsonbContainers(&doc->root, &data->root) == 0)
	{
		patch_verdict = PATCH_UNCHANGED;
		PG_RETURN_BOOL(false);
	}
	if (!same_string(data, doc, "userName"))
		PG_RETURN_BOOL(false);
	doc = ScimPgStampMeta(doc, ScimPgTimestampText(ts), ScimPgEtagText(version + 1));
	step_keep(doc, version + 1);
	PG_RETURN_BOOL(true);
}

/*
 * Forget the last patched resource: it may hold a password's secret, and
 * nothing of one call is for a later caller to read.
 */
void
ScimPgForgetPatched(void)
{
	if (patch_cxt != NULL)
		MemoryContextReset(patch_cxt);
	patch_result = NULL;
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

/*
 * scim._patched_kind(), which releases 0.1.0 and 0.2.0 declare: the kind
 * of the event their statement logged, which the change feed's trigger
 * records now.
 */
Datum
scim_patched_kind(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("function %s is no longer supported", "scim._patched_kind()"),
			 errhint("Update the extension: ALTER EXTENSION scim UPDATE.")));
	PG_RETURN_NULL();
}

/*
 * The row a step's statement (rc, *stale as ScimPgRunUsers() said) wrote,
 * with its groups; NULL when the step wrote none.
 */
static Row *
stepped_row(const Request *req, int rc, bool stale, Datum tenant, MemoryContext cxt)
{
	Row		   *rows;
	int			n;

	if (rc == SPI_OK_SELECT)
	{
		rows = ScimPgFetchRows(req, cxt, &n);
		if (n == 1 && patch_verdict == PATCH_APPLIED)
			rows->data = patched_copy();
	}
	else if (rc == SPI_OK_UPDATE)
	{
		/* without groups: the one user updated, with the step's result */
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
		elog(ERROR, "scim.handle(): could not update user %s", req->id);
	if (n != 1 || patch_verdict != PATCH_APPLIED)
		return NULL;
	/* a membership made as the UPDATE ran without its join: the row with its groups */
	if (stale && (rows = ScimPgReadById(req, tenant, cxt)) == NULL)
		elog(ERROR, "scim.handle(): user %s was updated and cannot be read back", req->id);
	return &rows[0];
}

/*
 * PUT /Users/{id} with body as one statement, the UPDATE through
 * scim._put_step(), and the user's groups read after it.  The row written,
 * or the row as it is when the body changes nothing; NULL when nothing was
 * written and write.c answers as it answers for a group: no such user,
 * attributes left out, a new userName.
 */
Row *
ScimPgReplaceUser(const Request *req, Jsonb *body, TimestampTz ts, MemoryContext cxt)
{
	Datum		args[4];
	Row		   *row;

	args[0] = req->tenant_datum;
	args[1] = CStringGetTextDatum(req->id);
	args[2] = JsonbPGetDatum(body);
	args[3] = TimestampTzGetDatum(ts);
	patch_verdict = PATCH_NO_ROW;
	row = stepped_row(req, ScimPgRun(ST_USER_PUT, args, false, cxt), false, req->tenant_datum, cxt);
	/* a PUT that changes nothing is answered as a read, as a PATCH is: no write, no event */
	if (row == NULL && patch_verdict == PATCH_UNCHANGED)
		return ScimPgReadById(req, req->tenant_datum, cxt);
	if (row != NULL && req->base != NULL)
		row->groups = ScimPgGroupsOf(req, req->id, cxt);
	return row;
}

/* PATCH /Users/{id}; false to fall back, before anything is written. */
bool
ScimPgAnswerPatch(FunctionCallInfo fcinfo, const Request *req, Datum tenant, const struct ScimProjection *proj,
			 MemoryContext cxt, Datum *result)
{
	Datum		args[4];
	ScimPgOrigin origin = {NULL, 200, NULL};
	Row		   *row;
	ScimPgSink	doc;
	bool		stale;
	int			rc;

	/* a precondition needs the version first: the general path checks it */
	if (req->if_match != NULL && strcmp(req->if_match, "*") != 0)
		return false;

	args[0] = tenant;
	args[1] = CStringGetTextDatum(req->id);
	args[2] = JsonbPGetDatum(req->body);
	args[3] = TimestampTzGetDatum(GetCurrentTimestamp());
	origin.operation = ScimPgCat3("PATCH /Users/", req->rid, "");
	ScimPgChangesOrigin(&origin);
	patch_verdict = PATCH_NO_ROW;
	rc = ScimPgRunUsers(ST_USER_PATCH, args, false, tenant, cxt, &stale);
	if ((row = stepped_row(req, rc, stale, tenant, cxt)) != NULL)
	{
		/* the step checked that meta is an object: ScimPgShow() cannot decline */
		ScimPgBodySink(fcinfo, &doc);
		if (!ScimPgShow(req, row, proj, &doc))
			elog(ERROR, "scim.handle(): user %s was patched into a resource it cannot show", req->id);
		*result = ScimPgResponse(fcinfo, 200, &doc, ScimPgEtagText(row->version), req->tenant_text);
		return true;
	}
	if (patch_verdict == PATCH_UNCHANGED)
	{
		/* answered as a read: no write, no change, the version stays */
		Row		   *cur = ScimPgReadById(req, tenant, cxt);

		if (cur == NULL)
			return false;
		ScimPgBodySink(fcinfo, &doc);
		if (!ScimPgShow(req, cur, proj, &doc))
			return false;
		*result = ScimPgResponse(fcinfo, 200, &doc, ScimPgEtagText(cur->version), req->tenant_text);
		return true;
	}
	return false;				/* no such user, or declined: the general path answers */
}

