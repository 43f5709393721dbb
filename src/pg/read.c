/*
 * read.c
 *		The request handler's reads: GET /Users?filter=..., /Groups?filter=...
 *		(a lookup by userName, displayName, externalId or id), and GET of a
 *		user or group by id; the rows of a statement as responses show them.
 */
#include "handle_int.h"

#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "jsonb_compat.h"
#include "projection.h"

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

/* The last statement's rows, in the order responses show them. */
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
 * Push one of a user's groups, as responses show it, onto the array st
 * builds: value, display (the group's displayName; null without one), type
 * "direct" and $ref.
 */
void
ScimPgPushGroup(JsonbParseState **st, const Request *req, const char *gid, const char *display)
{
	JsonbValue	null = {.type = jbvNull};

	scim_push_jsonb(st, WJB_BEGIN_OBJECT, NULL);
	scim_push_string(st, WJB_KEY, "value");
	scim_push_string(st, WJB_VALUE, gid);
	scim_push_string(st, WJB_KEY, "display");
	if (display != NULL)
		scim_push_string(st, WJB_VALUE, display);
	else
		scim_push_jsonb(st, WJB_VALUE, &null);
	scim_push_string(st, WJB_KEY, "type");
	scim_push_string(st, WJB_VALUE, "direct");
	scim_push_string(st, WJB_KEY, "$ref");
	scim_push_string(st, WJB_VALUE, psprintf("%s/Groups/%s", req->base, gid));
	scim_push_jsonb(st, WJB_END_OBJECT, NULL);
}

/*
 * The resources of the last statement, copied into cxt, each user's group
 * rows folded into its groups as responses show them: value,
 * display, type "direct" and $ref, in the order of the group ids.  A
 * statement that gives no data (NULL) leaves it to its caller.
 */
Row *
ScimPgFetchRows(const Request *req, MemoryContext cxt, int *n)
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
		Datum		d;

		/* a resource's rows are adjacent once in order */
		if (k < 0 || memcmp(o->id, ordered[i - 1].id, UUID_LEN) != 0)
		{
			k++;
			rows[k].id = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum((pg_uuid_t *) o->id)));
			d = SPI_getbinval(t, desc, 2, &isnull);
			rows[k].data = isnull ? NULL : DatumGetJsonbPCopy(d);
			rows[k].version = DatumGetInt64(SPI_getbinval(t, desc, 3, &isnull));
		}
		if (o->gid == NULL)
			continue;
		gid = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum((pg_uuid_t *) o->gid)));
		display = SPI_getvalue(t, desc, 5);
		if (groups[k] == NULL)
			scim_push_jsonb(&groups[k], WJB_BEGIN_ARRAY, NULL);
		ScimPgPushGroup(&groups[k], req, gid, display);
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
 * object: ScimPgShowAny() answers for such a row.
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
	const char *keys[3];
	Jsonb	   *values[3];
	ScimPgMembers set;
} Shown;

/*
 * Fill *out with the members a row is shown with besides its own:
 * meta.location set as jsonb_set() sets it (not at all without a meta),
 * a user's groups and a group's members.  false when the stored document
 * or its meta is not an object (written so by hand, not through SCIM):
 * ScimPgShowAny() answers for such a row.
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
	location[0] = ScimPgCat3(req->base, req->users ? "/Users/" : "/Groups/", row->id);
	if (!meta_with(data, 1, location_key, location, &out->values[n]))
		return false;
	if (out->values[n] != NULL)
		out->keys[n++] = "meta";
	/* in jsonb's order of keys, which ScimPgProjectPush() merges them in */
	if (row->groups != NULL)
	{
		out->keys[n] = "groups";
		out->values[n++] = row->groups;
	}
	if (row->members != NULL)
	{
		out->keys[n] = "members";
		out->values[n++] = row->members;
	}
	out->set.n = n;
	out->set.keys = out->keys;
	out->set.values = out->values;
	return true;
}

/*
 * A row as a response shows it, pushed into sink s (a page's open array,
 * or a ScimPgBodySink() of its own): its own members with shown_members()'s,
 * projected, in one pass over the document.  False when shown_members()
 * declines.
 */
bool
ScimPgShow(const Request *req, const Row *row, const struct ScimProjection *projection, ScimPgSink *s)
{
	Shown		shown;

	if (!shown_members(req, row, &shown))
		return false;
	ScimPgProjectPush(s, row->data, projection, &shown.set);
	return true;
}

/*
 * ScimPgShow(), and for a document written by hand, not through SCIM (no
 * object, or a meta that is none), what jsonb_set() of meta.location makes
 * of it (ScimPgSetPathTarget()): its error, or the document as it is, with
 * a user's groups or a group's members.
 */
void
ScimPgShowAny(const Request *req, const Row *row, const struct ScimProjection *projection, ScimPgSink *s)
{
	const char *keys[1];
	Jsonb	   *values[1];
	ScimPgMembers set = {0, keys, values};

	if (ScimPgShow(req, row, projection, s))
		return;
	(void) ScimPgSetPathTarget(row->data, "meta", "location");
	if (row->groups != NULL || row->members != NULL)
	{
		keys[0] = row->groups ? "groups" : "members";
		values[0] = row->groups ? row->groups : row->members;
		set.n = 1;
	}
	ScimPgProjectPush(s, row->data, projection, &set);
}

/*
 * The rows a filter that is one eq on userName, externalId, id or
 * displayName finds (the lookups identity providers make all day), read
 * with a statement planned once, into *rows and *n as ScimPgFetchRows()
 * gives them; false for any other filter.  The rows are the ones the
 * general search finds: no stored text holds a NUL, and the stored id is
 * the row's in the form uuid_out() writes, so that any other value finds
 * nothing.
 */
bool
ScimPgLookup(const Request *req, Datum tenant, const char *filter, int len, MemoryContext cxt, Row **rows,
			 int *n)
{
	const ScimResourceType *type = ScimRegistryFindType(ScimPgRegistry(NULL), req->rtype, strlen(req->rtype));
	const char *attr;
	const char *value;
	size_t		value_len;
	Statement	st;
	Datum		args[2];
	char	   *id;

	if (type == NULL || !ScimPgSimpleEq(filter, len, type, &attr, &value, &value_len))
		return false;
	if (strcmp(attr, "externalId") == 0)
		st = req->users ? ST_USER_EXTERNALID : ST_GROUP_EXTERNALID;
	else if (strcmp(attr, "id") == 0)
		st = req->users ? ST_USER_ID : ST_GROUP_ID;
	else if (req->users && strcmp(attr, "userName") == 0)
		st = ST_USER_USERNAME;
	else if (strcmp(attr, "displayName") == 0)
		st = req->users ? ST_USER_DISPLAYNAME : ST_GROUP_DISPLAYNAME;
	else
		return false;
	if (memchr(value, '\0', value_len) != NULL ||
		((st == ST_USER_ID || st == ST_GROUP_ID) && (!ScimPgUuidText(value, &id) || strcmp(id, value) != 0)))
	{
		*rows = NULL;
		*n = 0;
		return true;
	}

	args[0] = tenant;
	args[1] = CStringGetTextDatum(value);
	if ((req->users ? ScimPgRunUsers(st, args, true, tenant, cxt, NULL) : ScimPgRun(st, args, true, cxt)) != SPI_OK_SELECT)
		return false;
	*rows = ScimPgFetchRows(req, cxt, n);
	return true;
}

/* GET /Users?filter=... or /Groups?filter=...: a ListResponse; false to fall back. */
bool
ScimPgAnswerList(FunctionCallInfo fcinfo, const Request *req, Datum tenant, const struct ScimProjection *proj,
			MemoryContext cxt, Datum *result)
{
	Row		   *rows;
	int			n;
	ScimPgSink	page;
	int64		shown = 0;

	if (!ScimPgLookup(req, tenant, req->filter, req->filter_len, cxt, &rows, &n))
		return false;

	/* the page is shown into the ListResponse, not built apart */
	ScimPgBodySink(fcinfo, &page);
	ScimPgListOpen(&page);
	if (req->count > 0)
		for (int64 i = req->start_index; i <= n && i < req->start_index + req->count; i++)
		{
			if (!ScimPgShow(req, &rows[i - 1], proj, &page))
				return false;
			shown++;
		}
	ScimPgListClose(&page, n, shown, (int32) req->start_index);
	*result = ScimPgResponse(fcinfo, 200, &page, NULL, req->tenant_text);
	return true;
}

/* The resource the path names, or NULL when there is none (the general path says so). */
Row *
ScimPgReadById(const Request *req, Datum tenant, MemoryContext cxt)
{
	Datum		args[2];
	Row		   *rows;
	int			n;

	args[0] = tenant;
	args[1] = CStringGetTextDatum(req->id);
	if ((req->users ? ScimPgRunUsers(ST_USER_GET, args, false, tenant, cxt, NULL) :
		 ScimPgRun(ST_GROUP_GET, args, false, cxt)) != SPI_OK_SELECT)
		return NULL;
	rows = ScimPgFetchRows(req, cxt, &n);
	return n == 1 ? &rows[0] : NULL;
}

/* GET /Users/{id} or /Groups/{id}; false to fall back. */
bool
ScimPgAnswerGet(FunctionCallInfo fcinfo, const Request *req, Datum tenant, const struct ScimProjection *proj,
		   MemoryContext cxt, Datum *result)
{
	Row		   *row = ScimPgReadById(req, tenant, cxt);
	ScimPgSink	doc;

	if (row == NULL)
		return false;
	ScimPgBodySink(fcinfo, &doc);
	if (!ScimPgShow(req, row, proj, &doc))
		return false;
	*result = ScimPgResponse(fcinfo, 200, &doc, ScimPgEtagText(row->version), req->tenant_text);
	return true;
}

