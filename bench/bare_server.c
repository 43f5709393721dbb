/*
 * bare_server.c
 *		The floor under scim-server, for bench/http.sh: libmicrohttpd and
 *		libpq wired as scim-server wires them, answering
 *		GET /scim/v2/Users?filter=userName eq "..." with the raw indexed
 *		SELECT of the row, and PATCH /scim/v2/Users/{id} with bench/http.sh's
 *		three operations with the raw UPDATE of the row, and nothing else.
 *
 * No token, no SCIM, no ListResponse, no access log: what is left is the
 * price of HTTP on loopback plus one libpq round trip, the part of a
 * request no server built on these two libraries can avoid.  Comparing it
 * with pgbench running the same SELECT says how much of that baseline any
 * such server can reach on the machine at hand; comparing scim-server
 * with it says what scim.handle() and the server's own work add.
 *
 *	bare_server PORT WORKERS CONNINFO TENANT
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define LOOKUP "SELECT data::text FROM scim.users WHERE tenant = $1 AND scim.key_lower(data, 'userName') = lower($2)"
/* the raw UPDATE of bench/http.sh's (b), its values taken from the PatchOp as sent */
#define UPDATE \
	"UPDATE scim.users SET data = jsonb_set(jsonb_set(jsonb_set(data, '{displayName}', p.o->0->'value'), " \
	"'{active}', to_jsonb(p.o->1->>'value' = 'True')), '{emails,0,value}', p.o->2->'value'), " \
	"version = version + 1, last_modified = now() " \
	"FROM (SELECT $3::jsonb->'Operations' AS o) p WHERE tenant = $1 AND id = $2::uuid"

static const char *conninfo;
static const char *tenant;
static __thread PGconn *conn;	/* one per worker thread, as in scim-server */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned int status, const char *body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *) body,
																MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(resp, "Content-Type", "application/scim+json");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The body so far, per request. */
typedef struct Body
{
	size_t		len;
	char		data[];
} Body;

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void) cls;
	(void) c;
	(void) toe;
	free(*con_cls);
	*con_cls = NULL;
}

static PGresult *
execute(const char *name, int n, const char *const *params)
{
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		PQfinish(conn);
		conn = PQconnectdb(conninfo);
		PQclear(PQprepare(conn, "lookup", LOOKUP, 2, NULL));
		PQclear(PQprepare(conn, "update", UPDATE, 3, NULL));
	}
	return PQexecPrepared(conn, name, n, params, NULL, NULL, 0);
}

static enum MHD_Result
lookup(struct MHD_Connection *c)
{
	const char *filter = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "filter");
	const char *open = filter ? strchr(filter, '"') : NULL;
	const char *close = open ? strrchr(open + 1, '"') : NULL;
	const char *params[2] = {tenant, NULL};
	char		name[256];
	PGresult   *res;
	enum MHD_Result ret;

	if (close == NULL || close - open - 1 >= (long) sizeof(name))
		return reply(c, 400, "{\"detail\": \"want filter=userName eq \\\"...\\\"\"}");
	memcpy(name, open + 1, close - open - 1);
	name[close - open - 1] = '\0';
	params[1] = name;
	res = execute("lookup", 2, params);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		ret = reply(c, 503, "{\"detail\": \"database error\"}");
	else if (PQntuples(res) == 0)
		ret = reply(c, 404, "{\"detail\": \"no such user\"}");
	else
		ret = reply(c, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return ret;
}

static enum MHD_Result
update(struct MHD_Connection *c, const char *id, const Body *body)
{
	const char *params[3] = {tenant, id, body->data};
	PGresult   *res = execute("update", 3, params);
	enum MHD_Result ret;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		ret = reply(c, 400, "{\"detail\": \"bad id or body\"}");
	else if (strcmp(PQcmdTuples(res), "1") != 0)
		ret = reply(c, 404, "{\"detail\": \"no such user\"}");
	else
		ret = reply(c, 200, "{}");
	PQclear(res);
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
		   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static const char users[] = "/scim/v2/Users";
	Body	   *body = *con_cls;

	(void) cls;
	(void) version;
	if (body == NULL)
	{
		/*
		 * The headers: any body comes in the calls that follow.  Answering
		 * now would close the connection after the answer.
		 */
		if ((body = calloc(1, sizeof(Body) + 1)) == NULL)
			return MHD_NO;
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		Body	   *more = realloc(body, sizeof(Body) + body->len + *upload_data_size + 1);

		if (more == NULL)
			return MHD_NO;
		memcpy(more->data + more->len, upload_data, *upload_data_size);
		more->len += *upload_data_size;
		more->data[more->len] = '\0';
		*con_cls = more;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, users) == 0)
		return lookup(c);
	if (strcmp(method, "PATCH") == 0 && strncmp(url, users, sizeof(users) - 1) == 0 &&
		url[sizeof(users) - 1] == '/')
		return update(c, url + sizeof(users), body);
	return reply(c, 404, "{\"detail\": \"only GET /scim/v2/Users and PATCH /scim/v2/Users/{id}\"}");
}

int
main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	sigset_t	sigs;
	int			sig;

	if (argc != 5)
	{
		fprintf(stderr, "usage: bare_server PORT WORKERS CONNINFO TENANT\n");
		return 2;
	}
	addr.sin_port = htons((uint16_t) atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conninfo = argv[3];
	tenant = argv[4];
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the flags scim-server serves plain HTTP with */
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC |
						 MHD_USE_TURBO,
						 (uint16_t) atoi(argv[1]), NULL, NULL, on_request, NULL,
						 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
						 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) atoi(argv[2]),
						 MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
						 MHD_OPTION_END);
	if (d == NULL)
	{
		fprintf(stderr, "bare_server: could not listen on port %s\n", argv[1]);
		return 1;
	}
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	return 0;
}
