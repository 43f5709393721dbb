/*
 * writes.c
 *		A worker's connections for writes (POST, PUT, PATCH, DELETE), each
 *		with one write under way at a time, driven from the worker's event
 *		loop.
 *
 * A write waits for its commit's WAL flush.  On a connection of its own,
 * several writes under way share a flush, and a read never waits behind
 * one.  The worker sends a write on a free connection without waiting for
 * it, and takes its answer when the socket says so; a write that finds
 * every connection busy waits here, in order.  Threads of their own did
 * this before, at the price of a thread switch on each side of every
 * write: the server's CPU per PATCH was more than half task switching.
 *
 * A write whose connection broke is answered 503 and not tried again: it
 * may have committed, and only the client can decide to send it again.
 */
#include <libpq-fe.h>
#include <stdlib.h>

#include "server.h"

typedef struct Link
{
	PGconn	   *conn;
	unsigned long made;			/* connections made: a new one may reuse the socket number */
	Call	   *call;			/* the write under way, or NULL */
	PGresult   *res;			/* its result, before the end of its results */
} Link;

static __thread Link *links;
static __thread int nlinks;
static __thread CallQueue waiting;

/* Give this thread n connections for writes (made when first used); false if out of memory. */
bool
WritesInit(int n)
{
	links = calloc((size_t) (n > 0 ? n : 1), sizeof(Link));
	nlinks = n;
	return links != NULL;
}

static void
link_broken(Link *l, void (*answered) (Call *))
{
	Call	   *call = l->call;

	PQclear(l->res);
	l->res = NULL;
	l->call = NULL;
	PQfinish(l->conn);
	l->conn = NULL;
	if (call != NULL)
	{
		DbFail(&call->res, 503, NULL,
			   "the database connection was lost during the request; its outcome is unknown");
		answered(call);
	}
}

/*
 * Start the waiting writes on free connections.  A connection that cannot
 * be made fails every write waiting, at once: one failed attempt says the
 * database is away, and trying again for each would hold up the worker's
 * reads for connect_timeout each time.
 */
static void
start_waiting(void (*answered) (Call *))
{
	for (int i = 0; i < nlinks && waiting.head != NULL; i++)
	{
		Link	   *l = &links[i];
		Call	   *call;

		if (l->call != NULL)
			continue;
		if (!DbConnect(&l->conn, &l->made))
		{
			while ((call = CallQueuePop(&waiting)) != NULL)
			{
				DbFail(&call->res, 503, NULL, "the database is not available; try again later");
				answered(call);
			}
			return;
		}
		call = CallQueuePop(&waiting);
		l->call = call;
		if (!DbSendCall(l->conn, call))
			link_broken(l, answered);
	}
}

/* Queue a write; answered() gets it once it has its answer. */
void
WritesSubmit(Call *call, void (*answered) (Call *))
{
	CallQueuePush(&waiting, call);
	start_waiting(answered);
}

/* Connection i's socket is readable: take its answer if complete. */
void
WritesEvent(int i, void (*answered) (Call *))
{
	Link	   *l = &links[i];

	if (l->conn == NULL)
		return;
	if (!PQconsumeInput(l->conn))
	{
		link_broken(l, answered);
		start_waiting(answered);
		return;
	}
	while (l->call != NULL && !PQisBusy(l->conn))
	{
		PGresult   *res = PQgetResult(l->conn);
		Call	   *call = l->call;

		if (res != NULL)
		{
			if (l->res == NULL)
				l->res = res;
			else
				PQclear(res);
			continue;
		}
		/* the end of its results */
		if (l->res == NULL || PQstatus(l->conn) != CONNECTION_OK)
		{
			link_broken(l, answered);
			break;
		}
		DbTakeResult(l->res, &call->res);
		PQclear(l->res);
		l->res = NULL;
		l->call = NULL;
		answered(call);
	}
	start_waiting(answered);
}

int
WritesCount(void)
{
	return nlinks;
}

/* Connection i's socket, to watch, or -1; *made changes with each new connection. */
int
WritesSocket(int i, unsigned long *made)
{
	*made = links[i].made;
	return links[i].conn != NULL ? PQsocket(links[i].conn) : -1;
}

/* Close this thread's connections for writes. */
void
WritesClose(void)
{
	for (int i = 0; i < nlinks; i++)
		PQfinish(links[i].conn);
	free(links);
	links = NULL;
	nlinks = 0;
}
