/*
 * db.c
 *		A worker's connection for reads, and what every connection shares:
 *		connecting, one prepared call of scim.handle_text() per request, and
 *		reading its answer.  A call is either waited for (DbHandle()) or, for
 *		reads, sent in pipeline mode and taken when it comes in (DbSend(),
 *		DbReceive()); writes.c has the connections for writes.
 *
 * A request that finds the connection gone reconnects once; if the
 * database still does not answer, the client gets 503 and a SCIM Error at
 * once, never a hang (connect_timeout bounds the wait).  A write whose
 * connection broke mid-flight is not retried: it may have committed, and
 * only the client can decide to send it again.
 */
#include <json-c/json.h>
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "server.h"

static const char *conninfo = "";
static __thread PGconn *conn;
static __thread unsigned long connections;	/* made by this thread */

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

/* Set the libpq connection string every thread connects with. */
void
DbSetConninfo(const char *s)
{
	conninfo = s;
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

/* Did a set-up command succeed?  If not, the connection is dropped, after a message. */
static bool
set_up(PGconn **c, PGresult *res, const char *what)
{
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
	{
		fprintf(stderr, "scim-server: could not %s: %s", what, PQerrorMessage(*c));
		PQfinish(*c);
		*c = NULL;
	}
	PQclear(res);
	return ok;
}

/*
 * Connect *c (again, unless it is fine) and prepare the statement; false if
 * the database is away.  *made counts the connections made.
 */
bool
DbConnect(PGconn **c, unsigned long *made)
{
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
	const char *values[] = {conninfo, "scim-server", "5", NULL};

	if (*c != NULL && PQstatus(*c) == CONNECTION_OK)
		return true;
	if (*c != NULL)
		PQfinish(*c);
	/* dbname expands a full connection string or URI; the rest are defaults */
	*c = PQconnectdbParams(keys, values, conninfo[0] != '\0');
	(*made)++;
	if (PQstatus(*c) != CONNECTION_OK)
	{
		fprintf(stderr, "scim-server: could not connect to the database: %s", PQerrorMessage(*c));
		return false;
	}
	/*
	 * scim.handle() runs its statements under this search_path, and sets
	 * it for each request unless the session has it already: 5% of a lookup.
	 */
	return set_up(c, PQexec(*c, "SET search_path = pg_catalog, pg_temp"), "set the search_path") &&
		set_up(c, PQprepare(*c, HANDLE_STATEMENT, HANDLE_SQL, 5, NULL), "prepare scim.handle_text()");
}

/* This thread's own connection, for reads and for DbHandle(). */
static bool
db_connect(void)
{
	return DbConnect(&conn, &connections);
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
			fprintf(stderr, "scim-server: scim.handle_text() failed: %s", PQresultErrorMessage(res));
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

/*
 * Call scim.handle_text() with the request; fills call->res with the
 * response (or a 503/400/500 Error when the database cannot answer).
 */
void
DbHandle(Call *call)
{
	const char *params[5] = {call->method, call->path, call->query, call->headers, call->body};
	DbResult   *out = &call->res;
	PGresult   *res = NULL;
	bool		idempotent = !IsWrite(call->method);

	memset(out, 0, sizeof(*out));
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (!db_connect())
		{
			DbFail(out, 503, NULL, "the database is not available; try again later");
			return;
		}
		res = PQexecPrepared(conn, HANDLE_STATEMENT, 5, params, NULL, NULL, 1);
		if (PQresultStatus(res) == PGRES_TUPLES_OK || PQstatus(conn) == CONNECTION_OK)
			break;
		/* the connection broke: a read may go again, a write may have happened */
		PQclear(res);
		res = NULL;
		if (!idempotent)
		{
			DbFail(out, 503, NULL, "the database connection was lost during the request; its outcome is unknown");
			return;
		}
	}
	if (res == NULL)
	{
		DbFail(out, 503, NULL, "the database is not available; try again later");
		return;
	}
	DbTakeResult(res, out);
	PQclear(res);
}

/*
 * Reads in libpq's pipeline mode.  A worker sends each read as soon as its
 * request is complete, without waiting for the ones before to be answered,
 * and takes the answers as they come in, from its event loop: the backend
 * finds the next call already waiting and answers them back to back, and
 * the worker serves its clients meanwhile.  Each call is followed by a
 * Sync, so each runs in a transaction of its own (scim.tenant is set
 * transaction-locally) and an error ends only its own.  The calls sent and
 * not yet answered wait here in order, their answers coming in that order.
 */
static __thread CallQueue sent;
static __thread PGresult *head_res;		/* the first call's result, before its Sync */

/*
 * The connection broke: end it, and answer the calls it held through
 * DbHandle(), which reconnects.  They are reads, so they may go again.
 * Once a connection cannot be made the rest get 503 at once: trying again
 * for each would hold up the worker for connect_timeout each time.
 */
static void
pipeline_broken(void (*answered) (Call *))
{
	Call	   *call;
	bool		away = false;

	PQclear(head_res);
	head_res = NULL;
	PQfinish(conn);
	conn = NULL;
	while ((call = CallQueuePop(&sent)) != NULL)
	{
		if (away)
			DbFail(&call->res, 503, NULL, "the database is not available; try again later");
		else
		{
			DbHandle(call);
			away = conn == NULL || PQstatus(conn) != CONNECTION_OK;
		}
		answered(call);
	}
}

/* Send a read (see above); answered() gets it once it has its answer. */
void
DbSend(Call *call, void (*answered) (Call *))
{
	if (sent.head == NULL && !db_connect())
	{
		DbFail(&call->res, 503, NULL, "the database is not available; try again later");
		answered(call);
		return;
	}
	CallQueuePush(&sent, call);
	if ((PQpipelineStatus(conn) == PQ_PIPELINE_OFF && !PQenterPipelineMode(conn)) ||
		!DbSendCall(conn, call) || !PQpipelineSync(conn))
		pipeline_broken(answered);
}

/*
 * Take what the database has sent, without waiting: answered() gets each
 * call whose answer is complete.  For the socket being readable.
 */
void
DbReceive(void (*answered) (Call *))
{
	if (conn == NULL)
		return;
	if (!PQconsumeInput(conn))
	{
		pipeline_broken(answered);
		return;
	}
	while (sent.head != NULL && !PQisBusy(conn))
	{
		PGresult   *res = PQgetResult(conn);

		if (res == NULL)
		{
			/* the end of a call's results, before its Sync */
			if (PQstatus(conn) != CONNECTION_OK)
			{
				pipeline_broken(answered);
				return;
			}
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		{
			Call	   *call = CallQueuePop(&sent);

			PQclear(res);
			if (head_res != NULL)
				DbTakeResult(head_res, &call->res);
			else
				DbFail(&call->res, 500, NULL, "internal error");
			PQclear(head_res);
			head_res = NULL;
			answered(call);
			continue;
		}
		if (PQstatus(conn) != CONNECTION_OK)
		{
			PQclear(res);
			pipeline_broken(answered);
			return;
		}
		if (head_res == NULL)
			head_res = res;
		else
			PQclear(res);
	}
	/* idle again: out of pipeline mode, for DbHealthy()'s PQexec() */
	if (sent.head == NULL && PQpipelineStatus(conn) != PQ_PIPELINE_OFF && !PQexitPipelineMode(conn))
		pipeline_broken(answered);
}

/* Wait until every read sent is answered, out of pipeline mode after. */
void
DbDrain(void (*answered) (Call *))
{
	while (sent.head != NULL)
	{
		struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
		{
			pipeline_broken(answered);
			return;
		}
		DbReceive(answered);
	}
}

/*
 * This thread's database socket, to watch for DbReceive(), or -1; *generation
 * changes with each new connection (a new one may get the old number).
 */
int
DbSocket(unsigned long *generation)
{
	*generation = connections;
	return conn != NULL ? PQsocket(conn) : -1;
}

/* Does the database answer this thread? */
bool
DbHealthy(void)
{
	PGresult   *res;
	bool		ok;

	/* reads under way on it: they will tell soon enough */
	if (sent.head != NULL)
		return PQstatus(conn) == CONNECTION_OK;
	if (!db_connect())
		return false;
	res = PQexec(conn, "SELECT 1");
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	return ok;
}

void
DbResultFree(DbResult *r)
{
	free(r->headers);
	free(r->body);
	r->headers = r->body = NULL;
}

/* Close this thread's connection, if it has one. */
void
DbClose(void)
{
	PQfinish(conn);
	conn = NULL;
}
