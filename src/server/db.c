/*
 * db.c
 *		What every database connection shares: the connection parameters,
 *		one prepared call of scim.handle_text() per request, and reading its
 *		answer.  pool.c drives the connections from the worker's event loop.
 */
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "server.h"

static const char *conninfo = "";
static int	connect_timeout_ms = 5000;

#define HANDLE_STATEMENT "scim_server_handle"
/*
 * scim.handle() with headers and body as text (its C path writes them
 * directly), called in the select list and its row taken in binary.  In
 * FROM it is a function scan with a tuplestore: the same 120 lookups cost
 * the backend 11,000 instructions more each that way (of about 240,000;
 * the postmaster under callgrind, 2026-11-23).  The row's text form would
 * escape every quote of the body.
 */
#define HANDLE_SQL "SELECT scim.handle_text($1, $2, $3, $4::jsonb, $5)"
#define INT4_OID 23
#define TEXT_OID 25

/* Add a call at the end. */
void
CallQueuePush(CallQueue *q, Call *call)
{
	call->next = NULL;
	if (q->tail != NULL)
		q->tail->next = call;
	else
		q->head = call;
	q->tail = call;
}

/* The first call, taken off the queue, or NULL. */
Call *
CallQueuePop(CallQueue *q)
{
	Call	   *call = q->head;

	if (call != NULL)
	{
		q->head = call->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return call;
}

/* Add a call at the front. */
void
CallQueuePushFront(CallQueue *q, Call *call)
{
	call->next = q->head;
	q->head = call;
	if (q->tail == NULL)
		q->tail = call;
}

/* Take call out of the queue; false if it was not in it. */
bool
CallQueueRemove(CallQueue *q, Call *call)
{
	Call	   *prev = NULL;

	for (Call *c = q->head; c != NULL; prev = c, c = c->next)
	{
		if (c != call)
			continue;
		if (prev != NULL)
			prev->next = c->next;
		else
			q->head = c->next;
		if (q->tail == c)
			q->tail = prev;
		c->next = NULL;
		return true;
	}
	return false;
}

/*
 * Set the libpq connection string every thread connects with, and take its
 * connect_timeout: PQconnectPoll() ignores it, so pool_tick.c times each attempt
 * itself (5 s unless the string says otherwise).
 */
void
DbSetConninfo(const char *s)
{
	PQconninfoOption *opts = PQconninfoParse(s, NULL);

	conninfo = s;
	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val != NULL && atoi(o->val) > 0)
			connect_timeout_ms = atoi(o->val) * 1000;
	PQconninfoFree(opts);
}

/* How long a connection attempt may take. */
int
DbConnectTimeoutMs(void)
{
	return connect_timeout_ms;
}

/*
 * A setting of milliseconds as current_setting() shows it ("10s", "500ms",
 * "2min", or a bare number of milliseconds), in milliseconds; -1 if it is
 * none of those.
 */
long
DbTimeoutMs(const char *setting)
{
	static const struct
	{
		const char *unit;
		long		ms;
	}			units[] = {{"", 1}, {"ms", 1}, {"s", 1000}, {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
	char	   *end;
	long		v;

	if (setting == NULL || setting[0] < '0' || setting[0] > '9')
		return -1;
	v = strtol(setting, &end, 10);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			return v <= LONG_MAX / units[i].ms ? v * units[i].ms : LONG_MAX;
	return -1;
}

/* A SCIM Error document (RFC 7644 §3.12), malloc'ed. */
char *
ErrorDocument(int status, const char *scim_type, const char *detail)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *schemas = json_object_new_array();
	char		st[16];
	char	   *text;

	snprintf(st, sizeof(st), "%d", status);
	json_object_array_add(schemas, json_object_new_string("urn:ietf:params:scim:api:messages:2.0:Error"));
	json_object_object_add(doc, "schemas", schemas);
	json_object_object_add(doc, "status", json_object_new_string(st));
	if (scim_type != NULL)
		json_object_object_add(doc, "scimType", json_object_new_string(scim_type));
	if (detail != NULL)
		json_object_object_add(doc, "detail", json_object_new_string(detail));
	text = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return text;
}

/*
 * Start connecting, without waiting (PQconnectPoll() goes on from the
 * event loop), or NULL when that cannot even start.  The server's defaults come
 * first and the connection string after them, so that it may override
 * them: keepalives and tcp_user_timeout, so that a database host that
 * vanishes breaks the connection in seconds rather than the kernel's
 * hours.  Host names were resolved off the event loop (resolve.c):
 * libpq would resolve them inside PQconnectPoll(), blocking.
 */
PGconn *
DbConnectStart(void)
{
	const char *keys[16];
	const char *values[16];
	int			n = 0;
	bool		failed = false;
	Resolved   *hosts = ResolvedHosts(&failed);
	PGconn	   *c;

	/* the names did not resolve (resolve.c said why): fail at once, never resolve here */
	if (failed)
		return NULL;

#define PARAM(k, v) (keys[n] = (k), values[n] = (v), n++)
	PARAM("application_name", "scim-server");
	PARAM("keepalives", "1");
	PARAM("keepalives_idle", "10");
	PARAM("keepalives_interval", "5");
	PARAM("keepalives_count", "3");
	PARAM("tcp_user_timeout", "15000");
	/* dbname expands a full connection string or URI, over the above */
	PARAM("dbname", conninfo);
	if (hosts != NULL)
	{
		PARAM("host", hosts->host);
		PARAM("hostaddr", hosts->hostaddr);
		if (hosts->port != NULL)
			PARAM("port", hosts->port);
	}
	PARAM(NULL, NULL);
#undef PARAM
	c = PQconnectStartParams(keys, values, conninfo[0] != '\0');
	ResolvedFree(hosts);
	if (c != NULL && PQstatus(c) != CONNECTION_BAD && PQsetnonblocking(c, 1) != 0)
	{
		PQfinish(c);
		return NULL;
	}
	return c;
}

/*
 * Send a new connection's set-up, in pipeline mode, not waiting: its
 * settings in one statement, whose row is scim.request_timeout as this
 * session sees it (NULL before the extension's library is loaded, unless
 * set for the role or database) and the version of the extension
 * installed (NULL without one), then the prepared call, then a Sync.
 * The version is read here, once a connection, so that a database whose
 * extension is updated is served again by the connections made after,
 * at no cost to any request.
 *
 * scim.handle() runs its statements under this search_path, and sets it
 * for each request unless the session has it already: 5% of a lookup.
 */
bool
DbSendSetup(PGconn *c)
{
	return PQenterPipelineMode(c) &&
		PQsendQueryParams(c, "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false), "
						  "pg_catalog.current_setting('scim.request_timeout', true), "
						  "(SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'scim')",
						  0, NULL, NULL, NULL, NULL, 0) &&
		PQsendPrepare(c, HANDLE_STATEMENT, HANDLE_SQL, 5, NULL) &&
		PQpipelineSync(c);
}

/*
 * Is installed (pg_extension's extversion, or NULL without the extension)
 * the version of the extension this server was built for?  If not, detail
 * says what to do, naming both: scim.handle_text()'s answers are of the
 * form this server reads only for its own version.
 */
bool
DbVersionServed(const char *installed, char *detail, size_t n)
{
	if (installed != NULL && strcmp(installed, SCIM_EXTVERSION) == 0)
		return true;
	if (installed == NULL)
		snprintf(detail, n, "the database has no extension scim, and this scim-server serves version %s: "
				 "install it with CREATE EXTENSION scim", SCIM_EXTVERSION);
	else
		snprintf(detail, n, "the database has extension scim version %.64s, and this scim-server serves "
				 "version %s: update the extension with ALTER EXTENSION scim UPDATE, or run the "
				 "scim-server of version %.64s", installed, SCIM_EXTVERSION, installed);
	return false;
}

#define MAX_CANCELS	16			/* cancel requests under way at once, over all workers */

static atomic_int cancels;		/* threads sending a cancel request */

static void *
cancel_main(void *arg)
{
	PGcancel   *c = arg;
	char		err[256];

	(void) PQcancel(c, err, sizeof(err));
	PQfreeCancel(c);
	atomic_fetch_sub(&cancels, 1);
	return NULL;
}

/*
 * Have c's backend stop what it runs, from a thread of its own: PQcancel()
 * blocks, and a database that does not answer may keep it waiting (see
 * pool_tick.c for when this is safe).  Past MAX_CANCELS under way (a database
 * that takes none) the backend is left to find its client gone when it
 * next writes.  c may be closed as soon as this returns.
 */
void
DbCancelLater(PGconn *c)
{
	PGcancel   *cancel;
	pthread_t	t;
	pthread_attr_t attr;

	if (c == NULL)
		return;
	if (atomic_fetch_add(&cancels, 1) >= MAX_CANCELS || (cancel = PQgetCancel(c)) == NULL)
	{
		atomic_fetch_sub(&cancels, 1);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, cancel_main, cancel) != 0)
	{
		PQfreeCancel(cancel);
		atomic_fetch_sub(&cancels, 1);
	}
	pthread_attr_destroy(&attr);
}

/* Send one call on c, not waiting for its answer (results in binary). */
bool
DbSendCall(PGconn *c, const Call *call)
{
	const char *params[5] = {call->method, call->path, call->query, call->headers, call->body};

	return PQsendQueryPrepared(c, HANDLE_STATEMENT, 5, params, NULL, NULL, 1) != 0;
}

void
DbFail(DbResult *out, int status, const char *scim_type, const char *detail)
{
	out->status = status;
	out->headers = strdup("{\"content-type\": \"application/scim+json; charset=utf-8\"}");
	out->body = ErrorDocument(status, scim_type, detail);
}

/* The next 4 bytes at *p (before end), in network order; false past the end. */
static bool
take_u32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
	if (end - *p < 4)
		return false;
	*v = (uint32_t) (*p)[0] << 24 | (uint32_t) (*p)[1] << 16 | (uint32_t) (*p)[2] << 8 | (*p)[3];
	*p += 4;
	return true;
}

/*
 * A scim.response_text (status int, headers text, body text) in
 * PostgreSQL's binary form for a composite value (record_send): the number
 * of columns, then for each its type's OID, its length (-1 for NULL) and
 * its bytes.  Fills out; false when the row is not of that form.
 */
static bool
read_response(const char *row, int len, DbResult *out)
{
	static const uint32_t types[3] = {INT4_OID, TEXT_OID, TEXT_OID};
	const unsigned char *p = (const unsigned char *) row;
	const unsigned char *end = p + len;
	const unsigned char *col[3];
	uint32_t	collen[3];
	uint32_t	n;
	uint32_t	status;

	if (!take_u32(&p, end, &n) || n != 3)
		return false;
	for (int i = 0; i < 3; i++)
	{
		uint32_t	type;

		if (!take_u32(&p, end, &type) || type != types[i] || !take_u32(&p, end, &collen[i]))
			return false;
		col[i] = NULL;
		if (collen[i] == UINT32_MAX)
			continue;			/* NULL */
		if (collen[i] > (uint32_t) (end - p))
			return false;
		col[i] = p;
		p += collen[i];
	}
	if (col[0] == NULL || collen[0] != 4 || !take_u32(&col[0], col[0] + 4, &status))
		return false;
	out->status = (int) status;
	out->headers = col[1] ? strndup((const char *) col[1], collen[1]) : strdup("{}");
	out->body = col[2] ? strndup((const char *) col[2], collen[2]) : NULL;
	return true;
}

/* Can the method change anything?  Everything else may safely go again. */
bool
IsWrite(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
		strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

/* Fill out from the result of one call (or a 400/500 Error when it failed). */
void
DbTakeResult(PGresult *res, DbResult *out)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* class 22: the request's text itself (invalid UTF-8, NUL bytes) */
		if (state != NULL && strncmp(state, "22", 2) == 0)
			DbFail(out, 400, "invalidSyntax", "the request is not valid UTF-8 text");
		/* query_canceled: past scim.request_timeout, or canceled; nothing was written */
		else if (state != NULL && strcmp(state, "57014") == 0)
			DbFail(out, 503, NULL, "the request took longer than the service allows and was canceled; nothing was changed");
		else
		{
			char		msg[1024];

			/* the message may quote the request: one line, escaped as the access log is */
			LogEscape(msg, sizeof(msg), PQresultErrorMessage(res));
			fprintf(stderr, "scim-server: scim.handle_text() failed: %s\n", msg);
			DbFail(out, 500, NULL, "internal error");
		}
		return;
	}
	if (PQnfields(res) != 1 || PQgetisnull(res, 0, 0) ||
		!read_response(PQgetvalue(res, 0, 0), PQgetlength(res, 0, 0), out))
	{
		fprintf(stderr, "scim-server: scim.handle_text() answered with a row of an unexpected form\n");
		DbResultFree(out);
		DbFail(out, 500, NULL, "internal error");
	}
}

/* /healthz's answer: 200 when the database answered, 503 otherwise. */
void
DbHealth(DbResult *out, bool ok)
{
	out->status = ok ? 200 : 503;
	out->headers = strdup("{\"content-type\": \"text/plain\"}");
	out->body = strdup(ok ? "ok\n" : "database unavailable\n");
}

/* Fill out from the answer to /healthz's SELECT 1. */
void
DbTakeHealth(PGresult *res, DbResult *out)
{
	DbHealth(out, PQresultStatus(res) == PGRES_TUPLES_OK);
}

void
DbResultFree(DbResult *r)
{
	free(r->headers);
	free(r->body);
	r->headers = r->body = NULL;
}
