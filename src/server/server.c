/*
 * server.c
 *		scim-server: libmicrohttpd in front of scim.handle().
 *
 * Each request under the base path goes to the database verbatim: the
 * method, the path relative to the base, the raw query string, the headers
 * (names lower-cased) and the raw body.  libmicrohttpd is told not to
 * unescape anything, so the query string reaches scim.parse_query() exactly
 * as the client sent it.  The server adds x-scim-base-path and
 * x-forwarded-proto so that scim.handle() can write absolute locations,
 * and drops any x-scim-* header a client sends.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "utf8.h"

static ServerConfig cfg;
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

/*
 * A worker: a libmicrohttpd daemon of its own, run by a thread of its own,
 * its database connections (pool.c: some for reads, some for writes) and an
 * eventfd by which the main thread wakes it to stop.
 */
typedef struct Worker
{
	struct MHD_Daemon *daemon;
	pthread_t	thread;
	int			wake;
	int			reads;			/* database connections for reads */
	int			writes;			/* and for writes */
	Clients    *clients;		/* its connections' deadlines (clients.c) */
} Worker;

static atomic_bool draining;	/* stop taking new clients */
static atomic_bool stopping;	/* all answered: workers may end */

/* Keep everything as sent: the database decodes the query string itself. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void) cls;
	(void) c;
	return strlen(s);
}

/* Tenths of a millisecond since t0. */
static long
tenths_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 10000L + (t1.tv_nsec - t0->tv_nsec) / 100000L;
}

/*
 * The access log: one line per request.  A worker gathers its lines and
 * writes them with one write(2) before it waits for more work, or when
 * they would pass PIPE_BUF, so that writes from different workers stay
 * whole even on a pipe; elsewhere (at shutdown) a line is written at
 * once.  One write per request and formatting the time every time were a
 * tenth of the server's own work on a lookup.  A worker killed outright
 * loses the lines of its last pass.
 */
#define LOG_BUFFER 4096			/* PIPE_BUF on Linux */

static __thread char log_buf[LOG_BUFFER];
static __thread size_t log_len;
static __thread bool log_gathers;	/* a worker's thread: log_flush() comes */
static __thread time_t log_second = -1;
static __thread char log_when[32];

static void
log_flush(void)
{
	size_t		n = log_len;

	log_len = 0;
	if (n > 0 && write(STDERR_FILENO, log_buf, n) < 0)
		return;					/* nowhere left to say so */
}

/*
 * s for the access log, into out (of size n, cut short if need be): bytes
 * outside printable ASCII, the space and the backslash as \xNN, so that a
 * request is always one line of space-separated fields whatever its path
 * holds (a path is logged as sent: a decoded %0A would start a forged
 * line).
 */
void
LogEscape(char *out, size_t n, const char *s)
{
	size_t		o = 0;

	for (; *s && o + 5 < n; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c <= ' ' || c >= 0x7f || c == '\\')
			o += (size_t) snprintf(out + o, n - o, "\\x%02x", c);
		else
			out[o++] = (char) c;
	}
	out[o] = '\0';
}

static void
log_request(const Request *r)
{
	char		line[1024];
	char		logged_path[520];
	char		logged_method[68];
	time_t		now = time(NULL);
	long		tenths = tenths_since(&r->start);
	int			n;

	if (now != log_second)
	{
		struct tm	tm;

		gmtime_r(&now, &tm);
		strftime(log_when, sizeof(log_when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		log_second = now;
	}
	LogEscape(logged_path, sizeof(logged_path), r->raw_path ? r->raw_path : "-");
	LogEscape(logged_method, sizeof(logged_method), r->method);
	n = snprintf(line, sizeof(line), "%s %s %s %d %ld.%ldms %s\n", log_when, logged_method,
				 logged_path, r->status, tenths / 10, tenths % 10,
				 r->tenant[0] ? r->tenant : "-");
	if (n >= (int) sizeof(line))
	{
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (log_len + (size_t) n > sizeof(log_buf))
		log_flush();
	memcpy(log_buf + log_len, line, (size_t) n);
	log_len += (size_t) n;
	if (!log_gathers)
		log_flush();
}

static void
request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
				  enum MHD_RequestTerminationCode toe)
{
	Request    *r = *con_cls;

	(void) cls;
	(void) toe;
	ClientsAnswered(c);			/* the next request's deadline starts */
	if (r == NULL)
		return;
	log_request(r);
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
		(!cfg.trust_proxy || cfg.public_url != NULL || (strcmp(value, "http") != 0 && strcmp(value, "https") != 0)))
		return MHD_YES;
	if (strcmp(name, "host") == 0 && cfg.public_url != NULL)
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

/* A call has its answer: resume its client, whose handler answers then. */
static void
answered(Call *call)
{
	atomic_store_explicit(&call->done, true, memory_order_release);
	MHD_resume_connection(call->connection);
	resumed = true;
}

/*
 * Suspend the client until its call is answered: pool.c sends it on one
 * of this worker's database connections without waiting for the answer,
 * and on_request() is called again after the resume and answers then.
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
	size_t		blen = strlen(cfg.base_path);
	const char *rel;
	Collect		col = {{NULL, 0, 0, false}, {NULL, 0, 0, false}};
	const char *query;
	const char *headers;
	enum MHD_Result ret;

	if (strcmp(url, "/healthz") == 0)
		return suspend_for_call(c, r, CALL_HEALTH, "", "{}");
	if (strncmp(url, cfg.base_path, blen) != 0 || (url[blen] != '\0' && url[blen] != '/'))
		return respond_error(c, r, 404, "not found; the SCIM endpoint is under the base path");
	/*
	 * Methods are case-sensitive (RFC 9110 section 9.1): "post" is no POST,
	 * and must never reach the database, which would take it for one (on
	 * the read connection, whose calls may be sent again).
	 */
	if (!known_method(r->method))
		return respond_method_not_allowed(c, r);
	/* links are made from Host (without --public-url): only a host[:port] may be copied into them */
	if (cfg.public_url == NULL)
	{
		const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

		if (host != NULL && !HostValid(host, strlen(host)))
			return respond_error(c, r, 400, "the Host header is not a host name or address with an optional port");
	}
	if (r->too_large)
	{
		char		detail[128];

		snprintf(detail, sizeof(detail), "the request body is larger than %zu bytes", cfg.max_body);
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
	add_header(&col, "x-scim-base-path", cfg.base_path);
	if (cfg.public_url != NULL)
		add_header(&col, "x-scim-base-url", cfg.public_url);
	else if (cfg.tls_cert != NULL)
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
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
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
		if (cl != NULL && strtoull(cl, NULL, 10) > cfg.max_body)
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
		if (r->too_large || r->len + n > cfg.max_body)
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

static unsigned int
connections_of(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/* What an event in a worker's epoll set is about (its data.u64); pool.c's are EV_POOL and up. */
#define EV_CLIENTS	0			/* libmicrohttpd's epoll set */
#define EV_WAKE		1

/*
 * A worker's loop, over its clients' sockets (libmicrohttpd's epoll set) and
 * its database connections: answers coming in resume their clients, and a
 * pass over the clients sends those answers and the requests that are
 * ready (on_request()).  On SIGTERM the worker stops listening itself
 * (libmicrohttpd's daemon is not to be touched from another thread) and
 * closes the socket, so that new clients are refused instead of waiting in
 * a queue nobody reads.
 */
static void *
worker_main(void *arg)
{
	Worker	   *w = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	int			ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event cev = {.events = EPOLLIN, .data.u64 = EV_CLIENTS};
	struct epoll_event wev = {.events = EPOLLIN, .data.u64 = EV_WAKE};
	unsigned int known = 0;
	bool		quiesced = false;

	if (ep < 0 || !PoolInit(ep, w->reads, w->writes, answered) ||
		epoll_ctl(ep, EPOLL_CTL_ADD, info->epoll_fd, &cev) != 0 ||
		epoll_ctl(ep, EPOLL_CTL_ADD, w->wake, &wev) != 0)
	{
		fprintf(stderr, "scim-server: could not set up a worker: %s\n", strerror(errno));
		exit(1);
	}
	log_gathers = true;
	while (!atomic_load(&stopping))
	{
		struct epoll_event ready[16];
		MHD_UNSIGNED_LONG_LONG left;
		int			ms = PoolTimeout();
		int			n;

		if (resumed)
			ms = 0;				/* resumed during the last pass (a connection that broke) */
		else if (MHD_get_timeout(w->daemon, &left) == MHD_YES && (ms < 0 || left < (MHD_UNSIGNED_LONG_LONG) ms))
			ms = left < INT_MAX ? (int) left : INT_MAX;
		ms = ClientsWait(w->clients, ms);
		log_flush();
		n = epoll_wait(ep, ready, 16, ms);
		for (int i = 0; i < n; i++)
		{
			uint64_t	what = ready[i].data.u64;

			if (what >= EV_POOL)
				PoolEvent(what, ready[i].events);
			else if (what == EV_WAKE)
			{
				eventfd_t	v;

				(void) eventfd_read(w->wake, &v);
			}
		}
		PoolTick();
		resumed = false;		/* this pass takes up the resumes so far */
		ClientsSweep(w->clients);	/* those past --client-timeout: closed in this pass */
		MHD_run(w->daemon);
		if (connections_of(w->daemon) < known)
		{
			/*
			 * A client left.  At its connection limit, libmicrohttpd takes its
			 * listening socket out of its epoll set, and puts it back only at
			 * the start of a pass: make that pass, or a client waiting to be
			 * accepted would wait for the next event on another.
			 */
			MHD_run(w->daemon);
		}
		known = connections_of(w->daemon);

		if (!quiesced && atomic_load(&draining))
		{
			MHD_socket s = MHD_quiesce_daemon(w->daemon);

			if (s != MHD_INVALID_SOCKET)
				close(s);
			quiesced = true;
		}
	}
	log_flush();
	log_gathers = false;
	PoolClose();
	close(ep);
	return NULL;
}

/*
 * Room for cfg->max_connections clients: each is an open file, as is each
 * worker's listening socket, two epoll descriptors (libmicrohttpd's and
 * its own) and eventfd, each database connection, and a few more (log,
 * TLS files).  The soft limit is raised as far as the
 * hard limit allows; where that is not far enough, the connection limit
 * comes down to fit.
 */
static void
fit_open_files(void)
{
	struct rlimit rl;
	rlim_t		spare = (rlim_t) cfg.workers * 4 + (rlim_t) cfg.readers + (rlim_t) cfg.writers + 64;
	rlim_t		need = (rlim_t) cfg.max_connections + spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
	{
		rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
	{
		long		fit = rl.rlim_cur > spare + 1 ? (long) (rl.rlim_cur - spare) : 1;

		fprintf(stderr, "scim-server: at most %ld connections fit under the limit of %ld open files "
				"(ulimit -n); serving that many instead of %ld\n",
				fit, (long) rl.rlim_cur, cfg.max_connections);
		cfg.max_connections = fit;
	}
}

int
main(int argc, char **argv)
{
	Worker	   *workers;
	struct sockaddr_in addr;
	sigset_t	sigs;
	int			sig;
	unsigned int per_worker;
	/*
	 * epoll: select() refuses any socket numbered above FD_SETSIZE (1024),
	 * whatever the connection limit.  No polling thread of libmicrohttpd's
	 * own: each worker's thread runs its daemon (worker_main()).
	 */
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	if (!ServerConfigParse(&cfg, argc, argv) || !TlsSetup(&cfg))
		return 2;
	DbSetConninfo(cfg.db);
	if (!ResolveStart(cfg.db))
	{
		fprintf(stderr, "scim-server: could not start resolving the database's host names: %s\n", strerror(errno));
		return 1;
	}
	fit_open_files();

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) cfg.port);
	if (inet_pton(AF_INET, cfg.listen, &addr.sin_addr) != 1)
	{
		fprintf(stderr, "scim-server: --listen must be an IPv4 address, not \"%s\"\n", cfg.listen);
		return 2;
	}
	if (cfg.tls_cert != NULL)
		flags |= MHD_USE_TLS;
	else
	{
		/*
		 * Turbo reads and writes a socket before epoll says it is ready,
		 * and closes connections without shutdown(): 2-5% more GETs a
		 * second at 8 and at 32 connections (two sets of paired wrk
		 * rounds, 2026-11-23).
		 * Not with TLS, where it would also skip the TLS close_notify.
		 */
		flags |= MHD_USE_TURBO;
	}

	/* only the main thread takes the stop signals, and SIGHUP */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Each worker is a daemon with a listening socket of its own on the
	 * same port (SO_REUSEPORT), so the kernel spreads new clients over
	 * them.  With libmicrohttpd's pool, every thread watched one socket
	 * and whichever woke first accepted, so a burst of clients could land
	 * on one worker while another had none; and handing accepted clients
	 * to daemons with MHD_add_connection() from a thread of our own left
	 * some unserved until their daemon woke for something else.
	 */
	workers = calloc((size_t) cfg.workers, sizeof(*workers));
	if (workers == NULL || !ClientsSetup(cfg.client_timeout, cfg.max_per_ip, cfg.max_connections))
		return 1;
	per_worker = (unsigned int) ((cfg.max_connections + cfg.workers - 1) / cfg.workers);
	for (int i = 0; i < cfg.workers; i++)
	{
		/* the database connections, shared out: the first workers take the odd ones */
		workers[i].reads = cfg.readers / cfg.workers + (i < cfg.readers % cfg.workers ? 1 : 0);
		workers[i].writes = cfg.writers / cfg.workers + (i < cfg.writers % cfg.workers ? 1 : 0);
		workers[i].wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		workers[i].clients = ClientsNew();
		if (workers[i].wake < 0 || workers[i].clients == NULL)
		{
			fprintf(stderr, "scim-server: could not set up a worker: %s\n", strerror(errno));
			return 1;
		}
		workers[i].daemon = MHD_start_daemon(flags, (uint16_t) cfg.port,
											 cfg.max_per_ip > 0 ? ClientsAccept : NULL, NULL, on_request, NULL,
											 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
											 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
											 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) cfg.timeout,
											 MHD_OPTION_CONNECTION_LIMIT, per_worker,
											 MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
											 MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
											 MHD_OPTION_NOTIFY_CONNECTION, ClientsNotify, workers[i].clients,
											 MHD_OPTION_ARRAY, TlsDaemonOptions(),
											 MHD_OPTION_END);
		if (workers[i].daemon == NULL)
		{
			fprintf(stderr, "scim-server: could not listen on %s:%d\n", cfg.listen, cfg.port);
			return 1;
		}
	}
	for (int i = 0; i < cfg.workers; i++)
	{
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
		{
			fprintf(stderr, "scim-server: could not start its threads: %s\n", strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "scim-server: serving %s://%s:%d%s with %d worker%s, %d database connection%s for reads "
			"and %d for writes\n",
			cfg.tls_cert ? "https" : "http", cfg.listen, cfg.port, cfg.base_path,
			cfg.workers, cfg.workers == 1 ? "" : "s", cfg.readers, cfg.readers == 1 ? "" : "s", cfg.writers);

	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		TlsReload();
	fprintf(stderr, "scim-server: %s received, finishing requests in progress\n",
			sig == SIGINT ? "SIGINT" : "SIGTERM");
	atomic_store(&draining, true);
	for (int i = 0; i < cfg.workers; i++)
		(void) eventfd_write(workers[i].wake, 1);
	for (int i = 0; i < 300 && atomic_load(&in_flight) > 0; i++)
		usleep(100 * 1000);
	if (atomic_load(&in_flight) > 0)
	{
		/* a write still in the database: its client is suspended, so leave as is */
		fprintf(stderr, "scim-server: %d requests still unanswered after 30 s; exiting\n",
				atomic_load(&in_flight));
		return 1;
	}
	atomic_store(&stopping, true);
	for (int i = 0; i < cfg.workers; i++)
	{
		(void) eventfd_write(workers[i].wake, 1);
		pthread_join(workers[i].thread, NULL);
	}
	for (int i = 0; i < cfg.workers; i++)
	{
		MHD_stop_daemon(workers[i].daemon);
		close(workers[i].wake);
		free(workers[i].clients);
	}
	free(workers);
	return 0;
}
