/*
 * requests.c
 *		scim-server's requests, from libmicrohttpd to the database and back.
 *
 * Each request under the base path goes to the database verbatim: the
 * method, the path relative to the base, the raw query string, the headers
 * (names lower-cased) and the raw body.  libmicrohttpd is told not to
 * unescape anything, so the query string reaches scim.parse_query() exactly
 * as the client sent it.  The server adds x-scim-base-path and
 * x-forwarded-proto so that scim.handle() can write absolute locations,
 * and drops any x-scim-* header a client sends.  The client is suspended
 * while its call is out (pool.c) and answered once it is resumed.
 */
#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"
#include "utf8.h"

static const ServerConfig *cfg;
static atomic_int in_flight;

typedef struct Request
{
	char	   *body;
	size_t		len;
	size_t		cap;
	bool		too_large;
	struct timespec start;
	int			status;
	char		tenant[40];
	char		method[16];
	char	   *path;
	char	   *raw_path;		/* the path as sent, for the access log */
	Call	   *call;			/* its call, once under way, or NULL */
} Request;

/* The configuration requests are served under, from main() before any worker starts. */
void
RequestsSetup(const ServerConfig *config)
{
	cfg = config;
}

/* Keep everything as sent: the database decodes the query string itself. */
size_t
RequestKeepEscapes(void *cls, struct MHD_Connection *c, char *s)
{
	(void) cls;
	(void) c;
	return strlen(s);
}

/* libmicrohttpd's end of a request, answered or not: logged, and freed. */
void
RequestCompleted(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	Request    *r = *con_cls;

	(void) cls;
	(void) toe;
	ClientsAnswered(c);			/* the next request's deadline starts */
	if (r == NULL)
		return;
	AccessLog(r->method, r->raw_path, r->status, &r->start, r->tenant);
	if (r->call != NULL)
	{
		DbResultFree(&r->call->res);
		free((char *) r->call->headers);
		free((char *) r->call->query);
		free(r->call);
	}
	free(r->body);
	free(r->path);
	free(r->raw_path);
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}

/* A response header from scim.handle_text()'s headers; the tenant is for the log, not the client. */
typedef struct Answer
{
	struct MHD_Response *resp;
	Request    *r;
} Answer;

static void
answer_header(void *arg, const char *key, const char *value)
{
	Answer	   *a = arg;

	if (value == NULL)
		return;
	if (strcmp(key, "x-scim-tenant") == 0)
		snprintf(a->r->tenant, sizeof(a->r->tenant), "%s", value);
	else
		MHD_add_response_header(a->resp, key, value);
}

/* Queue a response with a body (which may be NULL) and JSON headers. */
static enum MHD_Result
respond(struct MHD_Connection *c, Request *r, int status, const char *headers_json, const char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	Answer		a;

	resp = MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *) (body ? body : ""),
										   MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	a.resp = resp;
	a.r = r;
	/* an object of strings, as scim.handle_text() writes them; json-c for anything else */
	if (headers_json != NULL && !JsonEachString(headers_json, answer_header, &a))
	{
		struct json_object *h = json_tokener_parse(headers_json);

		if (json_object_is_type(h, json_type_object))
		{
			json_object_object_foreach(h, key, val)
				answer_header(&a, key, json_object_get_string(val));
		}
		json_object_put(h);
	}
	r->status = status;
	ret = MHD_queue_response(c, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
respond_error(struct MHD_Connection *c, Request *r, int status, const char *detail)
{
	char	   *doc = ErrorDocument(status, NULL, detail);
	enum MHD_Result ret = respond(c, r, status, "{\"content-type\": \"application/scim+json; charset=utf-8\"}", doc);

	free(doc);
	return ret;
}

typedef struct Collect
{
	TextBuf		headers;		/* a JSON object, its closing brace to come */
	TextBuf		query;
} Collect;

/* One member of the headers' object; a name sent twice is in twice, and jsonb keeps the last. */
static void
add_header(Collect *col, const char *name, const char *value)
{
	if (col->headers.len > 1)
		TextAppend(&col->headers, ", ", 2);
	TextAppendJsonString(&col->headers, name);
	TextAppend(&col->headers, ": ", 2);
	TextAppendJsonString(&col->headers, value);
}

/* Headers into a JSON object with lower-case names, minus x-scim-*. */
static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	Collect    *col = cls;
	char		name[256];
	size_t		n = strlen(key);

	(void) kind;
	if (n >= sizeof(name) || value == NULL)
		return MHD_YES;
	for (size_t i = 0; i <= n; i++)
		name[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char) (key[i] + 'a' - 'A') : key[i];
	/* the database's own headers; and what a link is made of, unless vouched for */
	if (strncmp(name, "x-scim-", 7) == 0)
		return MHD_YES;
	if (strcmp(name, "x-forwarded-proto") == 0 &&
		(!cfg->trust_proxy || cfg->public_url != NULL || (strcmp(value, "http") != 0 && strcmp(value, "https") != 0)))
		return MHD_YES;
	if (strcmp(name, "host") == 0 && cfg->public_url != NULL)
		return MHD_YES;
	add_header(col, name, value);
	return MHD_YES;
}

/* Rebuild the raw query string from the (unescaped-as-is) arguments. */
static enum MHD_Result
collect_argument(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	Collect    *col = cls;

	(void) kind;
	if (col->query.len > 0)
		TextAppend(&col->query, "&", 1);
	TextAppend(&col->query, key, strlen(key));
	if (value != NULL)
	{
		TextAppend(&col->query, "=", 1);
		TextAppend(&col->query, value, strlen(value));
	}
	return MHD_YES;
}

/* Percent-decode a path in place; false on a NUL byte. */
static bool
decode_path(char *s)
{
	char	   *o = s;

	for (char *p = s; *p; p++)
	{
		if (*p == '%' && ScimHexDigit(p[1]) >= 0 && ScimHexDigit(p[2]) >= 0)
		{
			char		c = (char) (ScimHexDigit(p[1]) * 16 + ScimHexDigit(p[2]));

			if (c == '\0')
				return false;
			*o++ = c;
			p += 2;
		}
		else
			*o++ = *p;
	}
	*o = '\0';
	return true;
}

/*
 * Set when this worker resumed a client: libmicrohttpd run from outside
 * takes a resume up only in its next pass, which must then come at once.
 */
static __thread bool resumed;

/* Did this worker resume a client since RequestsResumedTaken()? */
bool
RequestsResumed(void)
{
	return resumed;
}

/* The worker's pass takes up the resumes so far. */
void
RequestsResumedTaken(void)
{
	resumed = false;
}

/* Requests under way, in all workers. */
int
RequestsInFlight(void)
{
	return atomic_load(&in_flight);
}

/* A call has its answer: resume its client, whose handler answers then. */
void
RequestAnswered(Call *call)
{
	atomic_store_explicit(&call->done, true, memory_order_release);
	MHD_resume_connection(call->connection);
	resumed = true;
}

/*
 * Suspend the client until its call is answered: pool.c sends it on one
 * of this worker's database connections without waiting for the answer,
 * and RequestHandle() is called again after the resume and answers then.
 * The call keeps copies of query and headers.
 */
static enum MHD_Result
suspend_for_call(struct MHD_Connection *c, Request *r, CallKind kind, const char *query, const char *headers)
{
	Call	   *call = calloc(1, sizeof(Call));

	if (call == NULL)
		return MHD_NO;
	r->call = call;
	call->connection = c;
	call->kind = kind;
	/* HEAD is GET without a body, which libmicrohttpd leaves out of the answer */
	call->method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	call->path = r->path;
	call->query = strdup(query);
	call->headers = strdup(headers);
	call->body = r->body;
	if (call->query == NULL || call->headers == NULL)
		return MHD_NO;
	MHD_suspend_connection(c);
	PoolSubmit(call);
	return MHD_YES;
}

/* The methods the SCIM endpoint answers, spelt as RFC 9110 spells them. */
#define ALLOWED_METHODS "GET, HEAD, POST, PUT, PATCH, DELETE"

static bool
known_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "POST") == 0 ||
		strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "DELETE") == 0;
}

/* 405 with the Allow header RFC 9110 section 15.5.6 requires. */
static enum MHD_Result
respond_method_not_allowed(struct MHD_Connection *c, Request *r)
{
	char	   *doc = ErrorDocument(405, NULL, "the method is not one this endpoint answers: " ALLOWED_METHODS
									" (methods are case-sensitive)");
	enum MHD_Result ret = respond(c, r, 405, "{\"content-type\": \"application/scim+json; charset=utf-8\", "
								  "\"allow\": \"" ALLOWED_METHODS "\"}", doc);

	free(doc);
	return ret;
}

/* Hand a complete request to the database and queue its answer. */
static enum MHD_Result
dispatch(struct MHD_Connection *c, Request *r, const char *url)
{
	size_t		blen = strlen(cfg->base_path);
	const char *rel;
	Collect		col = {{NULL, 0, 0, false}, {NULL, 0, 0, false}};
	const char *query;
	const char *headers;
	enum MHD_Result ret;

	if (strcmp(url, "/healthz") == 0)
		return suspend_for_call(c, r, CALL_HEALTH, "", "{}");
	if (strncmp(url, cfg->base_path, blen) != 0 || (url[blen] != '\0' && url[blen] != '/'))
		return respond_error(c, r, 404, "not found; the SCIM endpoint is under the base path");
	/*
	 * Methods are case-sensitive (RFC 9110 section 9.1): "post" is no POST,
	 * and must never reach the database, which would take it for one (on
	 * the read connection, whose calls may be sent again).
	 */
	if (!known_method(r->method))
		return respond_method_not_allowed(c, r);
	/* links are made from Host (without --public-url): only a host[:port] may be copied into them */
	if (cfg->public_url == NULL)
	{
		const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

		if (host != NULL && !HostValid(host, strlen(host)))
			return respond_error(c, r, 400, "the Host header is not a host name or address with an optional port");
	}
	if (r->too_large)
	{
		char		detail[128];

		snprintf(detail, sizeof(detail), "the request body is larger than %zu bytes", cfg->max_body);
		return respond_error(c, r, 413, detail);
	}
	rel = url + blen;
	free(r->path);
	r->path = strdup(*rel ? rel : "/");
	if (r->path == NULL)
		return MHD_NO;
	if (!decode_path(r->path))
		return respond_error(c, r, 400, "the path contains a NUL byte");

	TextAppend(&col.headers, "{", 1);
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &col);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_argument, &col);
	add_header(&col, "x-scim-base-path", cfg->base_path);
	if (cfg->public_url != NULL)
		add_header(&col, "x-scim-base-url", cfg->public_url);
	else if (cfg->tls_cert != NULL)
		add_header(&col, "x-forwarded-proto", "https");
	TextAppend(&col.headers, "}", 1);
	if (col.headers.failed || col.query.failed)
	{
		free(col.headers.data);
		free(col.query.data);
		return MHD_NO;			/* out of memory: the client is dropped */
	}
	query = col.query.data ? col.query.data : "";
	headers = col.headers.data;
	ret = suspend_for_call(c, r, IsWrite(r->method) ? CALL_WRITE : CALL_READ, query, headers);
	free(col.headers.data);
	free(col.query.data);
	return ret;
}

/* libmicrohttpd's access handler: called for the headers, each body chunk, and the end. */
enum MHD_Result
RequestHandle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			  const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	Request    *r = *con_cls;

	(void) cls;
	(void) version;
	if (r == NULL)
	{
		const char *cl;

		r = calloc(1, sizeof(Request));
		if (r == NULL)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		snprintf(r->method, sizeof(r->method), "%s", method);
		r->path = strdup(url);
		r->raw_path = strdup(url);
		*con_cls = r;
		atomic_fetch_add(&in_flight, 1);
		/* refuse an announced oversized body before reading it */
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > cfg->max_body)
			r->too_large = true;
		return MHD_YES;
	}
	if (r->call != NULL)
	{
		/* called again after the client was resumed */
		if (!atomic_load_explicit(&r->call->done, memory_order_acquire))
			return MHD_YES;
		return respond(c, r, r->call->res.status, r->call->res.headers, r->call->res.body);
	}
	if (*upload_data_size > 0)
	{
		size_t		n = *upload_data_size;

		*upload_data_size = 0;
		if (r->too_large || r->len + n > cfg->max_body)
		{
			r->too_large = true;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap)
		{
			size_t		cap = r->cap ? r->cap * 2 : 4096;
			char	   *p;

			while (cap < r->len + n + 1)
				cap *= 2;
			p = realloc(r->body, cap);
			if (p == NULL)
				return MHD_NO;
			r->body = p;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		r->body[r->len] = '\0';
		return MHD_YES;
	}
	ClientsRequestWhole(c);		/* the client has done its part: no deadline while it is answered */
	if (r->body != NULL && memchr(r->body, '\0', r->len) != NULL)
		return respond_error(c, r, 400, "the request body contains a NUL byte");
	return dispatch(c, r, url);
}
