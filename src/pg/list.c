/*
 * list.c
 *		GET /Users and /Groups, POST /Users/.search, /Groups/.search and
 *		/.search (Users and Groups together): filter, sort, a page by index
 *		(startIndex, count) or by cursor (RFC 9865, cursor.c), each resource
 *		shown as read.c shows it.
 *
 * The answers are the PL/pgSQL handler's (scim._list() and its helpers),
 * byte for byte: the same checks in the same order with the same
 * messages, the same rows in the same order, the same documents.  A few
 * rules below look arbitrary for that reason; each says where it comes
 * from.  Two searches it failed with a 500 are answered: an empty array as
 * sortBy, and at the root a sortBy attribute only one type has whose sort
 * key is no text (its SQL asked UNION to match that key with text).
 *
 * A search is one SELECT per resource type, their rows put together
 * (UNION ALL), counted by one statement and paged by another.  The SQL is
 * made here from the filter engine's SQL (which quotes every literal) and
 * ScimSortSql()'s sort key; nothing a client sends is spliced in
 * otherwise.  Without a filter or a sort the text of each statement is
 * always the same, and it is planned once for the backend's life; with
 * one it is planned per request, as PL/pgSQL's EXECUTE did.
 */
#include "handle_int.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "projection.h"

/* the resource types a search reads, as indexes of the arrays below */
#define USERS 0
#define GROUPS 1
#define NTYPES 2

static const char *const type_names[NTYPES] = {"User", "Group"};
static const char *const tables[NTYPES] = {"scim.users", "scim.groups"};

/*
 * A search's parameters: the query string's, or a SearchRequest's members
 * (names lower-cased, the last of a name counting); a member whose value
 * is an empty array has a NULL value, and counts as given all the same.
 */
typedef struct Search
{
	ScimQueryParam *params;
	int			nparams;
} Search;

/* A row of a page: the resource, its type, and where it stands in the default order. */
typedef struct Hit
{
	Row			row;
	int			type;
	TimestampTz created;
} Hit;

static const ScimQueryParam *
param(const Search *q, const char *name)
{
	return ScimPgParam(q->params, q->nparams, name);
}

/* A given parameter's value, NULL when it is absent or an empty array. */
static const char *
value_of(const Search *q, const char *name)
{
	const ScimQueryParam *p = param(q, name);

	return p != NULL ? p->value : NULL;
}

/* ---- the parameters ------------------------------------------------------ */

/* A SearchRequest member's value as text, as "#>> '{}'" gives it: NULL for JSON null. */
static char *
scalar_text(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return NULL;
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			return JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
	}
}

/*
 * A member's value as a parameter: an array's elements as text joined by
 * commas (nulls left out; none is NULL), anything else as its text.
 */
static char *
member_text(JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken tok;
	StringInfoData out;
	bool		any = false;

	if (v->type != jbvBinary || !JsonContainerIsArray(v->val.binary.data))
		return scalar_text(v);
	initStringInfo(&out);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		char	   *s;

		if (tok != WJB_ELEM || (s = scalar_text(&e)) == NULL)
			continue;
		if (any)
			appendStringInfoChar(&out, ',');
		appendStringInfoString(&out, s);
		any = true;
	}
	return any ? out.data : NULL;
}

/*
 * The parameters of a SearchRequest body (RFC 7644 section 3.4.3): its
 * members but schemas and those that are null, names lower-cased, arrays
 * comma-joined, as scim._search_request() reads them.
 */
static void
search_request(const Request *req, Search *q)
{
	Jsonb	   *body = ScimPgReadBody(req->body_text);
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *name = NULL;

	if (body == NULL || !JB_ROOT_IS_OBJECT(body))
		ScimPgFail(400, "invalidSyntax", "a SearchRequest must be a JSON object");
	q->params = palloc(sizeof(ScimQueryParam) * Max(JB_ROOT_COUNT(body), 1));
	q->nparams = 0;
	it = JsonbIteratorInit(&body->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		ScimQueryParam *p;

		if (tok == WJB_KEY)
		{
			/* only ASCII names are looked up: no other letter lower-cases into one */
			name = pnstrdup(v.val.string.val, v.val.string.len);
			for (char *c = name; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c += 'a' - 'A';
			continue;
		}
		if (tok != WJB_VALUE || v.type == jbvNull || strcmp(name, "schemas") == 0)
			continue;
		/* in jsonb's order of names, which is the order jsonb_object_agg() kept the last of */
		p = &q->params[q->nparams++];
		p->name = name;
		p->name_len = strlen(name);
		p->value = member_text(&v);
		p->value_len = p->value ? strlen(p->value) : 0;
	}
}

/*
 * startIndex or count (RFC 7644 section 3.4.2.4) clamped into [lo, hi]
 * as scim._page_param() clamps it: any integer of however many digits
 * (more than ten significant ones are past the bound), blanks around it
 * allowed; what is no integer fails with scim_type.  An empty array is lo.
 */
static int64
page_param(const ScimQueryParam *p, const char *name, int64 lo, int64 hi, const char *scim_type)
{
	const char *s = p->value;
	const char *digits;
	bool		neg = false;
	int64		v = 0;
	int			sig = 0;
	int			i = 0;

	if (s == NULL)
		return lo;
	while (ScimPgIsSpace(s[i]))
		i++;
	if (s[i] == '+' || s[i] == '-')
		neg = s[i++] == '-';
	digits = s + i;
	while (s[i] >= '0' && s[i] <= '9')
	{
		if (sig > 0 || s[i] != '0')
			sig++;
		if (sig <= 10)
			v = v * 10 + (s[i] - '0');
		i++;
	}
	if (s + i == digits)
		ScimPgFail(400, scim_type, "%s must be an integer", name);
	while (ScimPgIsSpace(s[i]))
		i++;
	if (s[i] != '\0')
		ScimPgFail(400, scim_type, "%s must be an integer", name);
	if (sig > 10)
		return neg ? lo : hi;
	if (neg)
		v = -v;
	return Min(Max(v, lo), hi);
}

/* The page size without count: scim.default_count, at most scim.max_results. */
static int64
default_count(void)
{
	return Min(scim_default_count, scim_max_results);
}

/* ---- showing a page ------------------------------------------------------ */

/*
 * Show hits[0..n) into page (an open array), each projected as its type's
 * projection says, a group with its members when the search wants them
 * (ScimPgWantsMembers()); returns how many were shown.  The users' groups
 * are read here unless given (have_groups).  Errors come in the order
 * scim.project(scim._present(...)) raised them, row by row: a document
 * written by hand that jsonb_set() fails on before its type's projection
 * is read, and a projection that does not parse only with a row of its
 * type to show.
 */
static int64
show_page(const Request *req, const Search *q, Hit *hits, int n, bool have_groups, ScimPgSink *page,
		  MemoryContext cxt)
{
	Request		as[NTYPES];
	const ScimProjection *proj[NTYPES] = {NULL, NULL};
	static void *slots[NTYPES];
	const char *attributes = value_of(q, "attributes");
	const char *excluded = value_of(q, "excludedattributes");
	bool		members;

	/*
	 * A host header that is JSON null makes no base URL: the NULL location
	 * made every resource NULL, which the ListResponse left out.
	 */
	if (req->base == NULL || n == 0)
		return 0;
	members = ScimPgWantsMembers(param(q, "attributes"), param(q, "excludedattributes"), cxt);
	if (!have_groups)
	{
		Row		  **users = palloc(sizeof(Row *) * n);
		int			m = 0;

		for (int i = 0; i < n; i++)
			if (hits[i].type == USERS)
				users[m++] = &hits[i].row;
		ScimPgGroupsOfRows(req, users, m, cxt);
	}
	for (int t = 0; t < NTYPES; t++)
	{
		as[t] = *req;
		as[t].users = t == USERS;
		as[t].rtype = type_names[t];
	}
	for (int i = 0; i < n; i++)
	{
		Hit		   *h = &hits[i];

		if (proj[h->type] == NULL)
		{
			/* a document jsonb_set() failed on failed before the projection was read */
			(void) ScimPgSetPathTarget(h->row.data, "meta", "location");
			proj[h->type] = ScimPgProjection(&slots[h->type], TopMemoryContext,
											 attributes ? cstring_to_text(attributes) : NULL,
											 excluded ? cstring_to_text(excluded) : NULL,
											 cstring_to_text(type_names[h->type]), NULL);
		}
		if (h->type == GROUPS && members)
			h->row.members = ScimPgMembersOf(req, h->row.id, cxt);
		ScimPgShowAny(&as[h->type], &h->row, proj[h->type], page);
	}
	return n;
}

/* ---- the lookups --------------------------------------------------------- */

/*
 * The rows of a lookup (ScimPgLookup()) as a page's; false for a filter
 * that is none.
 */
static bool
lookup(const Request *req, const char *filter, MemoryContext cxt, Hit **hits, int *n)
{
	Row		   *rows;

	if (!ScimPgLookup(req, req->tenant_datum, filter, strlen(filter), cxt, &rows, n))
		return false;
	*hits = palloc0(sizeof(Hit) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		(*hits)[i].row = rows[i];
		(*hits)[i].type = req->users ? USERS : GROUPS;
	}
	return true;
}

/*
 * A lookup's ListResponse, as scim._page() made it: startIndex read
 * before count (the search reads them the other way round).
 */
static Datum
lookup_page(FunctionCallInfo fcinfo, const Request *req, const Search *q, Hit *hits, int n, MemoryContext cxt)
{
	const ScimQueryParam *p;
	int64		start_index = 1;
	int64		count = default_count();
	int64		shown = 0;
	ScimPgSink	page;

	if ((p = param(q, "startindex")) != NULL)
		start_index = page_param(p, "startIndex", 1, PG_INT32_MAX, "invalidValue");
	if ((p = param(q, "count")) != NULL)
		count = page_param(p, "count", 0, scim_max_results, "invalidValue");
	ScimPgBodySink(fcinfo, &page);
	ScimPgListOpen(&page);
	if (count > 0 && start_index <= n)
		shown = show_page(req, q, hits + start_index - 1, (int) Min(count, n - start_index + 1), true, &page, cxt);
	ScimPgListClose(&page, n, shown, (int32) start_index);
	return ScimPgResponse(fcinfo, 200, &page, NULL, req->tenant_text);
}

/* ---- the search ---------------------------------------------------------- */

/* The statements of a search; $1 is always the tenant. */
typedef enum Shape
{
	SH_COUNT,					/* how many rows match */
	SH_PAGE,					/* the rows in order, OFFSET $2 LIMIT $3 */
	SH_SKIP,					/* the same in the default order, from the row at OFFSET $2 */
	SH_AFTER,					/* in the default order, the rows after ($2, $3), LIMIT $4 */
	SH__COUNT
} Shape;

static const int shape_nargs[SH__COUNT] = {1, 3, 3, 4};
static Oid	shape_types[SH__COUNT][4] = {
	{UUIDOID},
	{UUIDOID, INT8OID, INT8OID},
	{UUIDOID, INT8OID, INT8OID},
	{UUIDOID, TIMESTAMPTZOID, UUIDOID, INT8OID},
};

/* What a search reads: each resource type's rows, filtered, and their sort key. */
typedef struct Source
{
	int			ntypes;
	int			type[NTYPES];
	const char *cond[NTYPES];	/* " AND <the filter's SQL>", or "" */
	char	   *sortkey[NTYPES];	/* NULL: the type has no value to sort by */
	bool		sorted;
	bool		descending;
	bool		plain;			/* neither filtered nor sorted: statements planned once */
} Source;

/*
 * What the search reads, as scim._list() made its SQL: for each type the
 * filter's SQL (its error raised at once) and the sort key.  At the root a
 * type without the sortBy attribute has no value to sort by, and its rows
 * sort last; only when no type has it does the search fail, with the first
 * type's reason (Users' "cannot be sorted by" over Groups' "unknown
 * attribute").
 */
static void
read_source(const Request *req, const Search *q, Source *src)
{
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const char *filter = value_of(q, "filter");
	const char *sortby = value_of(q, "sortby");
	const char *order = value_of(q, "sortorder");
	bool		root = req->rtype == NULL;
	ScimError	first;
	int			failed = 0;

	memset(src, 0, sizeof(*src));
	src->ntypes = root ? NTYPES : 1;
	src->type[0] = root || req->users ? USERS : GROUPS;
	src->type[1] = GROUPS;

	/*
	 * An empty array as sortBy sorts by nothing: scim._list() spliced no
	 * sort key at all, and its SQL failed (500).
	 */
	src->sorted = sortby != NULL;
	src->descending = src->sorted && order != NULL && pg_strcasecmp(order, "descending") == 0;
	src->plain = filter == NULL && !src->sorted;
	for (int i = 0; i < src->ntypes; i++)
	{
		const char *name = type_names[src->type[i]];
		const ScimResourceType *type = ScimRegistryFindType(reg, name, strlen(name));
		ScimError	err;

		if (type == NULL)
			elog(ERROR, "resource type %s is not registered", name);
		src->cond[i] = filter ? psprintf(" AND %s", ScimPgStoreFilterSql(filter, strlen(filter), type, root, "x")) : "";
		if (src->sorted && !ScimPgSortSql(sortby, strlen(sortby), type, "x.data", &src->sortkey[i], &err))
		{
			if (!root)
				ScimPgRaise(&err);
			if (failed++ == 0)
				first = err;
			src->sortkey[i] = NULL;
		}
	}
	if (failed == src->ntypes)
	{
		/* as the one-type search answers it: a bad sortBy is invalidValue */
		const ScimErrorCode *code = ScimErrorCodeOf(first.kind);

		ScimPgFail(400, code != NULL && code->http_status == 400 && code->scim_type != NULL ?
				   code->scim_type : "invalidFilter", "%s", first.message);
	}
}

/*
 * Each type's rows one after the other: the columns a page shows (t, the
 * type; id, data, created, and with a sort its key), or only the default
 * order's keys (created, id), which an index gives without the documents.
 */
static void
append_rows(StringInfo sql, const Source *src, bool keys)
{
	for (int i = 0; i < src->ntypes; i++)
	{
		int			t = src->type[i];

		if (i > 0)
			appendStringInfoString(sql, " UNION ALL ");
		if (keys)
			appendStringInfoString(sql, "SELECT x.created, x.id");
		else
		{
			appendStringInfo(sql, "SELECT %d AS t, x.id, x.data, x.created", t);
			/* an untyped NULL takes the other type's key type, whatever it is */
			if (src->sorted)
				appendStringInfo(sql, ", %s AS sortkey", src->sortkey[i] ? src->sortkey[i] : "NULL");
		}
		appendStringInfo(sql, " FROM %s x WHERE x.tenant = $1%s", tables[t], src->cond[i]);
	}
}

/* The SQL of statement shape over src. */
static char *
shape_sql(const Source *src, Shape shape)
{
	StringInfoData sql;

	initStringInfo(&sql);
	if (shape == SH_COUNT)
	{
		appendStringInfoString(&sql, "SELECT count(*) FROM (");
		append_rows(&sql, src, true);
		appendStringInfoString(&sql, ") k");
		return sql.data;
	}
	appendStringInfoString(&sql, "SELECT r.t, r.id, r.data, r.created FROM (");
	append_rows(&sql, src, false);
	appendStringInfoString(&sql, ") r ");
	switch (shape)
	{
		case SH_PAGE:
			appendStringInfo(&sql, "ORDER BY %sr.created, r.id OFFSET $2 LIMIT $3",
							 !src->sorted ? "" : src->descending ? "r.sortkey DESC NULLS FIRST, " :
							 "r.sortkey ASC NULLS LAST, ");
			break;
		case SH_SKIP:
			appendStringInfoString(&sql, "WHERE (r.created, r.id) >= (SELECT k.created, k.id FROM (");
			append_rows(&sql, src, true);
			appendStringInfoString(&sql, ") k ORDER BY k.created, k.id OFFSET $2 LIMIT 1) "
								   "ORDER BY r.created, r.id LIMIT $3");
			break;
		default:
			appendStringInfoString(&sql, "WHERE (r.created, r.id) > ($2, $3) ORDER BY r.created, r.id LIMIT $4");
			break;
	}
	return sql.data;
}

/*
 * Run statement shape over src with args (args[0] set here to the
 * tenant): planned once when src is plain, else planned for this call.
 */
static void
run(const Request *req, const Source *src, Shape shape, Datum *args, MemoryContext cxt)
{
	/* by what is read: Users, Groups, or both */
	static SPIPlanPtr plans[NTYPES + 1][SH__COUNT];
	int			rc;

	args[0] = req->tenant_datum;
	if (src->plain)
	{
		SPIPlanPtr *plan = &plans[src->ntypes == NTYPES ? NTYPES : src->type[0]][shape];

		if (*plan == NULL)
			*plan = ScimPgPrepare(shape_sql(src, shape), shape_nargs[shape], shape_types[shape]);
		rc = SPI_execute_plan(*plan, args, NULL, true, 0);
	}
	else
		rc = SPI_execute_with_args(shape_sql(src, shape), shape_nargs[shape], shape_types[shape], args, NULL,
								   true, 0);
	MemoryContextSwitchTo(cxt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "scim.handle(): a search failed: %s", SPI_result_code_string(rc));
}

/*
 * The rows of the last page statement, in its order.  The documents stay
 * SPI's: they are shown before the handler lets SPI go.
 */
static Hit *
fetch_hits(int *n)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	Hit		   *hits = palloc0(sizeof(Hit) * Max(SPI_processed, 1));
	bool		isnull;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];

		hits[i].type = DatumGetInt32(SPI_getbinval(t, desc, 1, &isnull));
		hits[i].row.id = DatumGetCString(DirectFunctionCall1(uuid_out, SPI_getbinval(t, desc, 2, &isnull)));
		hits[i].row.data = DatumGetJsonbP(SPI_getbinval(t, desc, 3, &isnull));
		hits[i].created = DatumGetTimestampTz(SPI_getbinval(t, desc, 4, &isnull));
	}
	*n = (int) SPI_processed;
	return hits;
}

/*
 * A search: its checks in scim._list()'s order (filter and sortBy, a
 * sortBy with a cursor, count, startIndex), the count, then a page by
 * index or by cursor.
 */
static Datum
search(FunctionCallInfo fcinfo, const Request *req, const Search *q, MemoryContext cxt)
{
	Source		src;
	const ScimQueryParam *p;
	bool		by_cursor = param(q, "cursor") != NULL;
	int64		count = default_count();
	int64		start_index = 1;
	int64		total;
	int64		shown = 0;
	Datum		args[4];
	bool		isnull;
	Hit		   *hits;
	int			n;
	ScimPgSink	page;

	read_source(req, q, &src);
	if (by_cursor && param(q, "sortby") != NULL)
		ScimPgFail(400, "invalidValue", "cursor pagination follows the default order; leave out sortBy or use startIndex");
	if ((p = param(q, "count")) != NULL && by_cursor)
	{
		/* with a cursor a count out of range is an error (RFC 9865 invalidCount), however far out */
		count = page_param(p, "count", 0, (int64) scim_max_results + 1, "invalidCount");
		if (count < 1 || count > scim_max_results)
			ScimPgFail(400, "invalidCount", "count must be between 1 and %d with a cursor", scim_max_results);
	}
	else if (p != NULL)
		count = page_param(p, "count", 0, scim_max_results, "invalidValue");
	if ((p = param(q, "startindex")) != NULL && !by_cursor)
		start_index = page_param(p, "startIndex", 1, PG_INT32_MAX, "invalidValue");

	run(req, &src, SH_COUNT, args, cxt);
	total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	ScimPgBodySink(fcinfo, &page);
	ScimPgListOpen(&page);

	if (!by_cursor)
	{
		/* an empty page still reports the total */
		if (count > 0 && start_index <= total)
		{
			/*
			 * Okta pages through every user by startIndex: in the default
			 * order, skip to the page over (created, id) alone, which an
			 * index-only scan gives without reading the documents, and
			 * read only the page's rows.
			 */
			args[1] = Int64GetDatum(start_index - 1);
			args[2] = Int64GetDatum(count);
			run(req, &src, start_index > 1 && !src.sorted ? SH_SKIP : SH_PAGE, args, cxt);
			hits = fetch_hits(&n);
			/* rows deleted since the count can leave the page empty */
			shown = show_page(req, q, hits, n, false, &page, cxt);
		}
		ScimPgListClose(&page, total, shown, (int32) start_index);
	}
	else
	{
		/* keyset on (created, id), one row more to know if a page follows */
		const char *cursor = value_of(q, "cursor");
		char	   *query = ScimPgCursorQuery(req, value_of(q, "filter"), value_of(q, "sortby"),
											  value_of(q, "sortorder"));
		char	   *next = NULL;
		bool		more;

		if (cursor != NULL && cursor[0] != '\0')
		{
			TimestampTz at;
			pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

			ScimPgCursorDecode(cursor, query, &at, id);
			args[1] = TimestampTzGetDatum(at);
			args[2] = UUIDPGetDatum(id);
			args[3] = Int64GetDatum(count + 1);
			run(req, &src, SH_AFTER, args, cxt);
		}
		else
		{
			args[1] = Int64GetDatum(0);
			args[2] = Int64GetDatum(count + 1);
			run(req, &src, SH_PAGE, args, cxt);
		}
		hits = fetch_hits(&n);
		more = n > count;
		if (more)
			n = (int) count;
		shown = show_page(req, q, hits, n, false, &page, cxt);
		if (more)
			next = ScimPgCursorEncode(hits[n - 1].created, hits[n - 1].row.id, query);
		ScimPgListCloseCursor(&page, total, shown, next);
	}
	return ScimPgResponse(fcinfo, 200, &page, NULL, req->tenant_text);
}

/*
 * GET /Users, /Groups; POST /Users/.search, /Groups/.search, /.search
 * (req->rtype NULL): a ListResponse, or a failure raised.
 */
Datum
ScimPgAnswerSearch(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt)
{
	Search		q;
	const char *filter;
	Hit		   *hits;
	int			n;

	if (strcmp(req->method, "POST") == 0)
		search_request(req, &q);
	else
	{
		q.params = req->params;
		q.nparams = req->nparams;
	}
	filter = value_of(&q, "filter");
	if (req->rtype != NULL && filter != NULL && param(&q, "sortby") == NULL && param(&q, "cursor") == NULL &&
		lookup(req, filter, cxt, &hits, &n))
		return lookup_page(fcinfo, req, &q, hits, n, cxt);
	return search(fcinfo, req, &q, cxt);
}
