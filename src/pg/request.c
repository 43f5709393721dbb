/*
 * request.c
 *		The request as the handler reads it: the query string and its
 *		parameters, the headers, the path, the body; and the sort key of
 *		sortBy.
 */
#include "handle_int.h"

#include "catalog/pg_collation.h"
#include "utils/builtins.h"

#include "filter.h"
#include "jsonb_compat.h"
#include "strbuf.h"
#include "utf8.h"

/* Percent-decode s[0..len) ('+' is a space in a query string). */
static char *
url_decode(const char *s, int len, int *outlen)
{
	char	   *out = palloc(len + 1);
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] == '%' && i + 2 < len && ScimHexDigit(s[i + 1]) >= 0 && ScimHexDigit(s[i + 2]) >= 0)
		{
			out[n++] = (char) (ScimHexDigit(s[i + 1]) * 16 + ScimHexDigit(s[i + 2]));
			i += 2;
		}
		else
			out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/*
 * The parameters of query string s[0..len): percent-decoded, names
 * lower-cased, in order (the last of repeated names is the one that
 * counts).  Returns how many; *valid is false when a name or value is not
 * UTF-8 text.
 */
int
ScimPgQueryParams(const char *s, int len, ScimQueryParam **params, bool *valid)
{
	int			n = 0;
	int			cap = 8;
	int			start = 0;

	*params = palloc(cap * sizeof(ScimQueryParam));
	*valid = true;
	while (start <= len)
	{
		int			end = start;
		int			eq;
		ScimQueryParam *p;

		while (end < len && s[end] != '&')
			end++;
		if (end > start)
		{
			if (n == cap)
			{
				cap *= 2;
				*params = repalloc(*params, cap * sizeof(ScimQueryParam));
			}
			p = &(*params)[n++];
			eq = start;
			while (eq < end && s[eq] != '=')
				eq++;
			p->name = url_decode(s + start, eq - start, &p->name_len);
			if (eq < end)
				p->value = url_decode(s + eq + 1, end - eq - 1, &p->value_len);
			else
			{
				p->value = pstrdup("");
				p->value_len = 0;
			}
			if (memchr(p->name, '\0', p->name_len) != NULL || memchr(p->value, '\0', p->value_len) != NULL ||
				!ScimUtf8Valid(p->name, p->name_len, NULL) || !ScimUtf8Valid(p->value, p->value_len, NULL))
				*valid = false;
			for (int i = 0; i < p->name_len; i++)
				if (p->name[i] >= 'A' && p->name[i] <= 'Z')
					p->name[i] += 'a' - 'A';
		}
		start = end + 1;
	}
	return n;
}

PG_FUNCTION_INFO_V1(scim_parse_query);

/*
 * scim.parse_query(query text) → jsonb: the parameters of a URL query
 * string, percent-decoded, names lower-cased (SCIM's parameter names are
 * matched case-insensitively here); a repeated name keeps its last value.
 * Values must decode to valid text: a NUL or invalid UTF-8 is an error.
 */
Datum
scim_parse_query(PG_FUNCTION_ARGS)
{
	text	   *q = PG_GETARG_TEXT_PP(0);
	ScimQueryParam *params;
	bool		valid;
	int			n = ScimPgQueryParams(VARDATA_ANY(q), VARSIZE_ANY_EXHDR(q), &params, &valid);
	JsonbParseState *st = NULL;

	if (!valid)
		ereport(ERROR,
				(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
				 errmsg("query parameter is not valid UTF-8 text")));
	scim_push_jsonb(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	k;
		JsonbValue	v;

		k.type = jbvString;
		k.val.string.val = params[i].name;
		k.val.string.len = params[i].name_len;
		v.type = jbvString;
		v.val.string.val = params[i].value;
		v.val.string.len = params[i].value_len;
		scim_push_jsonb(&st, WJB_KEY, &k);
		scim_push_jsonb(&st, WJB_VALUE, &v);
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(scim_push_jsonb(&st, WJB_END_OBJECT, NULL)));
}

/*
 * The ORDER BY key of sortBy path (len bytes) on type, over jsonb column
 * (quoted already), into *sql; false with err when the path names no
 * attribute of the type or one that cannot be sorted by.
 */
bool
ScimPgSortSql(const char *path, size_t len, const ScimResourceType *type, const char *column, char **sql,
			  ScimError *err)
{
	ScimPath	p;
	ScimBuf		buf;

	if (!ScimResolvePath(ScimPgRegistry(NULL), type, path, len, &p, err, SCIM_ERR_INVALID_VALUE, 0))
		return false;
	ScimBufInit(&buf);
	if (!ScimSortSql(&p, column, &buf, err))
	{
		ScimBufFree(&buf);
		return false;
	}
	*sql = pnstrdup(buf.data, buf.len);
	ScimBufFree(&buf);
	return true;
}

PG_FUNCTION_INFO_V1(scim_sort_sql);

/* scim.sort_sql(path, resource_type, data_column) → the ORDER BY key for sortBy. */
Datum
scim_sort_sql(PG_FUNCTION_ARGS)
{
	text	   *path = PG_GETARG_TEXT_PP(0);
	const ScimResourceType *type = ScimPgResourceType(ScimPgRegistry(NULL), PG_GETARG_TEXT_PP(1));
	char	   *column = ScimPgQuoteColumn(PG_GETARG_TEXT_PP(2));
	ScimError	err;
	char	   *sql;

	if (!ScimPgSortSql(VARDATA_ANY(path), VARSIZE_ANY_EXHDR(path), type, column, &sql, &err))
		ScimPgRaise(&err);
	PG_RETURN_TEXT_P(cstring_to_text(sql));
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
 * header that is present but not a string makes *ok false: the general
 * path knows what to make of it.
 */
char *
ScimPgHeader(Jsonb *headers, const char *name, bool *ok)
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
char *
ScimPgBaseUrl(Jsonb *headers, bool *ok)
{
	char	   *url = ScimPgHeader(headers, "x-scim-base-url", ok);
	char	   *path = ScimPgHeader(headers, "x-scim-base-path", ok);
	char	   *host = ScimPgHeader(headers, "host", ok);
	char	   *proto = ScimPgHeader(headers, "x-forwarded-proto", ok);
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
ScimQueryParam *
ScimPgParam(ScimQueryParam *params, int n, const char *name)
{
	for (int i = n - 1; i >= 0; i--)
		if (strcmp(params[i].name, name) == 0)
			return &params[i];
	return NULL;
}

/*
 * An integer of plain digits with an optional minus sign, of any length:
 * past 15 digits it saturates (at 10^15), which any bound it is clamped to
 * is below, as list.c clamps it.  False for anything else, for the general
 * path to judge.
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
bool
ScimPgUuidText(const char *s, char **id)
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
 * The token of an Authorization header "Bearer <token>" into req->token;
 * false when there is none.  A header that is present but not a string
 * makes *ok false.
 */
bool
ScimPgBearer(Jsonb *headers, Request *req, bool *ok)
{
	char	   *auth = ScimPgHeader(headers, "authorization", ok);

	if (auth == NULL || pg_strncasecmp(auth, "bearer", 6) != 0 || !is_space(auth[6]))
		return false;
	req->token = auth + 6;
	while (is_space(*req->token))
		req->token++;
	return true;
}

/*
 * Read the request; false when the fast path does not answer it.  Nothing
 * here touches the database.
 */
bool
ScimPgReadRequest(FunctionCallInfo fcinfo, Request *req)
{
	text	   *method;
	char	   *path;
	char	   *q;
	Jsonb	   *headers = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
	char	   *seg[2];
	int			nseg = 0;
	bool		ok = true;
	ScimQueryParam *params = NULL;
	int			nparams = 0;
	ScimQueryParam *p;

	memset(req, 0, sizeof(*req));
	if (PG_ARGISNULL(1))
		return false;

	/* the path: /Users or /Groups, then an id; or an endpoint of discovery.c's */
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	path[strcspn(path, "?")] = '\0';
	for (char *tok = strtok(path, "/"); tok != NULL; tok = strtok(NULL, "/"))
	{
		if (nseg < lengthof(seg))
			seg[nseg] = tok;
		nseg++;
	}
	if (nseg == 0)
		return false;
	if (pg_strcasecmp(seg[0], "users") == 0)
		req->users = true;
	else if (pg_strcasecmp(seg[0], "groups") != 0)
		return ScimPgReadService(fcinfo, req, seg[0], nseg > 1 ? seg[1] : NULL, nseg);
	if (nseg > lengthof(seg) || PG_ARGISNULL(0))
		return false;
	if (headers != NULL && !JB_ROOT_IS_OBJECT(headers))
		return false;
	method = PG_GETARG_TEXT_PP(0);
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
		if (!ScimPgUuidText(seg[1], &req->id))
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
	if ((p = ScimPgParam(params, nparams, "attributes")) != NULL)
		req->attributes = cstring_to_text_with_len(p->value, p->value_len);
	if ((p = ScimPgParam(params, nparams, "excludedattributes")) != NULL)
		req->excluded = cstring_to_text_with_len(p->value, p->value_len);

	if (req->kind == REQ_LIST)
	{
		int64		max_results;
		int64		default_count;

		/* sorting and cursors take the general path */
		if (ScimPgParam(params, nparams, "sortby") || ScimPgParam(params, nparams, "cursor"))
			return false;
		if ((p = ScimPgParam(params, nparams, "filter")) == NULL)
			return false;
		req->filter = p->value;
		req->filter_len = p->value_len;
		/* registered settings (module.c): always set, always integers in range */
		max_results = scim_max_results;
		default_count = scim_default_count;
		req->count = Min(default_count, max_results);
		req->start_index = 1;
		if ((p = ScimPgParam(params, nparams, "count")) != NULL)
		{
			if (!plain_int(p, &req->count))
				return false;
			req->count = Min(Max(req->count, 0), max_results);
		}
		if ((p = ScimPgParam(params, nparams, "startindex")) != NULL)
		{
			if (!plain_int(p, &req->start_index))
				return false;
			/* past the integer range: an empty page that says it starts at the largest integer */
			req->start_index = Min(Max(req->start_index, 1), PG_INT32_MAX);
		}
	}

	/* headers: a bearer token, no conditions the fast path does not check */
	if (!ScimPgBearer(headers, req, &ok))
		return false;
	req->if_match = ScimPgHeader(headers, "if-match", &ok);
	if (ScimPgHeader(headers, "if-none-match", &ok) != NULL)
		return false;
	req->base = ScimPgBaseUrl(headers, &ok);
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


/* The method as messages name it: upper-cased, "" for none. */
const char *
ScimPgMethodName(FunctionCallInfo fcinfo)
{
	Oid			collation = OidIsValid(PG_GET_COLLATION()) ? PG_GET_COLLATION() : DEFAULT_COLLATION_OID;

	if (PG_ARGISNULL(0))
		return "";
	return TextDatumGetCString(DirectFunctionCall1Coll(upper, collation, PG_GETARG_DATUM(0)));
}

/*
 * The base URL of headers that are not all strings (or no object), as SQL
 * makes it of them (scim._base_url()): NULL when a host header is JSON
 * null.  SPI must be connected.
 */
char *
ScimPgOddBase(Datum headers, MemoryContext cxt)
{
	bool		isnull;
	Datum		d;

	if (SPI_execute_plan(ScimPgPlan(ST_BASE_URL), &headers, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "scim.handle(): could not compute the base URL");
	MemoryContextSwitchTo(cxt);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}
