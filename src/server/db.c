/*
 * db.c
 *		One PostgreSQL connection per worker thread, one prepared call of
 *		scim.handle_text() per request.
 *
 * A request that finds the connection gone reconnects once; if the
 * database still does not answer, the client gets 503 and a SCIM Error at
 * once, never a hang (connect_timeout bounds the wait).  A write whose
 * connection broke mid-flight is not retried: it may have committed, and
 * only the client can decide to send it again.
 */
#include <json-c/json.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

static const char *conninfo = "";
static __thread PGconn *conn;

#define HANDLE_STATEMENT "scim_server_handle"
/* scim.handle() with headers and body as text: its C path writes them directly */
#define HANDLE_SQL \
	"SELECT status, headers, body FROM scim.handle_text($1, $2, $3, $4::jsonb, $5)"

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
set_up(PGresult *res, const char *what)
{
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
	{
		fprintf(stderr, "scim-server: could not %s: %s", what, PQerrorMessage(conn));
		PQfinish(conn);
		conn = NULL;
	}
	PQclear(res);
	return ok;
}

/* Connect this thread (again) and prepare the statement; false if the database is away. */
static bool
db_connect(void)
{
	const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
	const char *values[] = {conninfo, "scim-server", "5", NULL};

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return true;
	if (conn != NULL)
		PQfinish(conn);
	/* dbname expands a full connection string or URI; the rest are defaults */
	conn = PQconnectdbParams(keys, values, conninfo[0] != '\0');
	if (PQstatus(conn) != CONNECTION_OK)
	{
		fprintf(stderr, "scim-server: could not connect to the database: %s", PQerrorMessage(conn));
		return false;
	}
	/*
	 * scim.handle() runs its statements under this search_path, and sets
	 * it for each request unless the session has it already: 5% of a lookup.
	 */
	return set_up(PQexec(conn, "SET search_path = pg_catalog, pg_temp"), "set the search_path") &&
		set_up(PQprepare(conn, HANDLE_STATEMENT, HANDLE_SQL, 5, NULL), "prepare scim.handle_text()");
}

static void
fail_result(DbResult *out, int status, const char *scim_type, const char *detail)
{
	out->status = status;
	out->headers = strdup("{\"content-type\": \"application/scim+json; charset=utf-8\"}");
	out->body = ErrorDocument(status, scim_type, detail);
}

/*
 * Call scim.handle_text() with the request; fills out with the response (or a
 * 503/400/500 Error when the database cannot answer).
 */
void
DbHandle(const char *method, const char *path, const char *query,
		 const char *headers_json, const char *body, DbResult *out)
{
	const char *params[5] = {method, path, query, headers_json, body};
	PGresult   *res = NULL;
	bool		idempotent = strcmp(method, "GET") == 0;

	memset(out, 0, sizeof(*out));
	for (int attempt = 0; attempt < 2; attempt++)
	{
		if (!db_connect())
		{
			fail_result(out, 503, NULL, "the database is not available; try again later");
			return;
		}
		res = PQexecPrepared(conn, HANDLE_STATEMENT, 5, params, NULL, NULL, 0);
		if (PQresultStatus(res) == PGRES_TUPLES_OK || PQstatus(conn) == CONNECTION_OK)
			break;
		/* the connection broke: a read may go again, a write may have happened */
		PQclear(res);
		res = NULL;
		if (!idempotent)
		{
			fail_result(out, 503, NULL, "the database connection was lost during the request; its outcome is unknown");
			return;
		}
	}
	if (res == NULL)
	{
		fail_result(out, 503, NULL, "the database is not available; try again later");
		return;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		/* class 22: the request's text itself (invalid UTF-8, NUL bytes) */
		if (state != NULL && strncmp(state, "22", 2) == 0)
			fail_result(out, 400, "invalidSyntax", "the request is not valid UTF-8 text");
		else
		{
			fprintf(stderr, "scim-server: scim.handle_text() failed: %s", PQresultErrorMessage(res));
			fail_result(out, 500, NULL, "internal error");
		}
		PQclear(res);
		return;
	}
	out->status = atoi(PQgetvalue(res, 0, 0));
	out->headers = strdup(PQgetisnull(res, 0, 1) ? "{}" : PQgetvalue(res, 0, 1));
	out->body = PQgetisnull(res, 0, 2) ? NULL : strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
}

/* Does the database answer this thread? */
bool
DbHealthy(void)
{
	PGresult   *res;
	bool		ok;

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
