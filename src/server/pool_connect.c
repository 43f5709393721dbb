/*
 * pool_connect.c
 *		Connecting a worker's database connections and setting each up,
 *		without blocking the worker's loop.
 *
 * Connecting.  PQconnectStart() and PQconnectPoll() as the socket allows,
 * each attempt timed here (PQconnectPoll() ignores connect_timeout), host
 * names resolved beforehand by resolve.c.  The calls waiting for a
 * connection that cannot be made are answered 503 together, when the
 * attempt fails or its time is up, never one after another.
 *
 * The extension's version.  Each new connection reads it with its set-up
 * (DbSendSetup()); one that finds a version this server was not built for
 * is closed, and the calls waiting for it are answered 503 saying so.  The
 * next call connects again and checks again, so that once the extension is
 * updated the server serves without a restart; a request costs nothing
 * more.
 */
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "pool_int.h"

static __thread char version_detail[320];	/* why the last wrong_version connection was closed */
static __thread bool version_said;	/* and it is in the log: said once until a right one comes */

/*
 * A connection could not be made (why, unless said already), or it serves
 * another version of the extension: if none for the same calls is left,
 * they all get 503 now, saying which.
 */
void
PoolConnectFailed(Link *l, const char *why)
{
	bool		writes = l->for_writes;
	CallQueue  *q = writes ? &pool.writes_waiting : &pool.reads_waiting;
	const char *detail = l->wrong_version ? version_detail : "the database is not available; try again later";
	Call	   *call;

	if (why != NULL)
		fprintf(stderr, "scim-server: could not connect to the database: %s%s",
				why, why[0] != '\0' && why[strlen(why) - 1] == '\n' ? "" : "\n");
	PoolCloseLink(l);
	l->wrong_version = false;
	for (int i = 0; i < pool.nlinks; i++)
		if (pool.links[i].for_writes == writes && pool.links[i].state != LINK_DOWN)
			return;				/* another connection may yet take them */
	while ((call = CallQueuePop(q)) != NULL)
		PoolFail(call, 503, detail);
}

/* Start connecting l. */
void
PoolLinkConnect(Link *l)
{
	l->conn = DbConnectStart();
	l->fd = -1;
	l->events = 0;
	if (l->conn == NULL || PQstatus(l->conn) == CONNECTION_BAD)
	{
		/* without a connection object the names did not resolve: resolve.c said so */
		PoolConnectFailed(l, l->conn ? PQerrorMessage(l->conn) : NULL);
		return;
	}
	l->state = LINK_CONNECTING;
	l->deadline = PoolNowMs() + DbConnectTimeoutMs();
	/* PQconnectStart() leaves the first step to PQconnectPoll(), writing */
	PoolWatch(l, EPOLLOUT);
}

/* The connection is up: send its set-up. */
static void
connected(Link *l)
{
	if (!DbSendSetup(l->conn))
	{
		PoolConnectFailed(l, PQerrorMessage(l->conn));
		return;
	}
	l->state = LINK_SETUP;
	PoolWatch(l, PQflush(l->conn) > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* One more step of connecting l. */
void
PoolConnectStep(Link *l)
{
	/*
	 * libpq may have closed the socket and opened another (the next host or
	 * address), very likely under the same number: the old one left the
	 * epoll set when it was closed, so register whatever PQsocket() is now.
	 */
	l->fd = -1;
	switch (PQconnectPoll(l->conn))
	{
		case PGRES_POLLING_OK:
			connected(l);
			break;
		case PGRES_POLLING_READING:
			PoolWatch(l, EPOLLIN);
			break;
		case PGRES_POLLING_WRITING:
			PoolWatch(l, EPOLLOUT);
			break;
		default:
			PoolConnectFailed(l, PQerrorMessage(l->conn));
			break;
	}
}

/*
 * Take what came of the set-up: the session's scim.request_timeout and the
 * extension's version, then the Sync.  A version this server does not serve
 * closes the connection at once (the prepared call may well have failed
 * behind it), said in the log once until a connection finds the right one.
 */
void
PoolSetupResult(Link *l, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 3)
	{
		long		ms = PQgetisnull(res, 0, 1) ? SCIM_REQUEST_TIMEOUT_DEFAULT_MS :
			DbTimeoutMs(PQgetvalue(res, 0, 1));

		pool.request_timeout = ms >= 0 ? ms : SCIM_REQUEST_TIMEOUT_DEFAULT_MS;
		if (DbVersionServed(PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
							version_detail, sizeof(version_detail)))
			version_said = false;
		else
		{
			if (!version_said)
				fprintf(stderr, "scim-server: %s\n", version_detail);
			version_said = true;
			l->wrong_version = true;
			l->state = LINK_DOWN;	/* PoolConnectFailed() in receive() */
		}
	}
	else if (st == PGRES_PIPELINE_SYNC)
	{
		l->state = LINK_READY;
		PoolWatch(l, EPOLLIN);
	}
	else if (st != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "scim-server: could not set up a database connection: %s",
				PQresultErrorMessage(res));
		l->state = LINK_DOWN;	/* PoolConnectFailed() below, once the results are read */
	}
	PQclear(res);
}
