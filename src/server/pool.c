/*
 * pool.c
 *		A worker's database connections, driven from its event loop: some
 *		for reads, some for writes, each fed and read without ever
 *		blocking the loop; pool_connect.c connects them, pool_tick.c ends
 *		the calls that run too long.
 *
 * Reads.  Each connection is in pipeline mode: a read is sent at once,
 * behind the ones already sent on the same connection, and the backend
 * finds it waiting and answers them back to back (one backend kept busy by
 * one worker is the fastest way through 2 CPUs).  But a read must not wait
 * behind another client's expensive one, so a read goes behind others
 * only while the call the backend is running has run less than YOUNG_MS.
 * Past that, new reads go to an idle connection, or a new one, up to the
 * worker's share of --readers; and the reads already queued behind the
 * slow call are sent again elsewhere (their first answers are dropped when
 * they come).  So the wait a slow call puts on the reads behind it is
 * YOUNG_MS, whoever sent it, and the cost decides rather than the tenant,
 * which is not known before the database answers.
 *
 * Writes.  Alone on connections of their own (--writers), never sent
 * twice: a write whose connection broke may have committed.  With
 * --writers=0 a write goes alone on a connection for reads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "pool_int.h"

__thread Pool pool = {.request_timeout = SCIM_REQUEST_TIMEOUT_DEFAULT_MS};

/* Now, in milliseconds of CLOCK_MONOTONIC. */
long
PoolNowMs(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The call has its answer (or failure) in res: its client is resumed. */
static void
finish(Call *call)
{
	call->link = NULL;
	if (call->watched)
	{
		epoll_ctl(pool.ep, EPOLL_CTL_DEL, call->client_fd, NULL);
		call->watched = false;
	}
	pool.answered(call);
}

/* The call fails with status and detail (503, 499): its client is resumed. */
void
PoolFail(Call *call, int status, const char *detail)
{
	DbResultFree(&call->res);
	if (call->kind == CALL_HEALTH)
		DbHealth(&call->res, false);
	else
		DbFail(&call->res, status, NULL, detail);
	finish(call);
}

/* Watch l's socket for events (EPOLLIN, and EPOLLOUT while libpq has more to send). */
void
PoolWatch(Link *l, uint32_t events)
{
	int			fd = PQsocket(l->conn);
	struct epoll_event ev = {.events = events,
	.data.u64 = (EV_POOL + (uint64_t) (l - pool.links)) | (uint64_t) l->generation << 32};

	if (fd == l->fd && events == l->events)
		return;
	/* a new socket (libpq may open another while connecting); the old one closed left the set */
	if (fd != l->fd)
	{
		if (fd >= 0 && epoll_ctl(pool.ep, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
			epoll_ctl(pool.ep, EPOLL_CTL_MOD, fd, &ev);
	}
	else if (epoll_ctl(pool.ep, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
		epoll_ctl(pool.ep, EPOLL_CTL_ADD, fd, &ev);
	l->fd = fd;
	l->events = events;
}

/* Close l, leaving its calls to the caller. */
void
PoolCloseLink(Link *l)
{
	if (l->fd >= 0 && l->conn != NULL && PQsocket(l->conn) == l->fd)
		epoll_ctl(pool.ep, EPOLL_CTL_DEL, l->fd, NULL);
	PQclear(l->head_res);
	l->head_res = NULL;
	PQfinish(l->conn);
	l->conn = NULL;
	l->fd = -1;
	l->events = 0;
	l->state = LINK_DOWN;
	l->exclusive = false;
	/* an event of this socket may still wait in the pass: it must not reach the next one */
	l->generation = (l->generation + 1) & 0x7fffffff;
}

/*
 * l broke or is closed to end a call: the reads in flight go again
 * elsewhere, once (reads change nothing); a write is answered 503, its
 * outcome unknown.  end, if not NULL, is the call being ended: the caller
 * answers it.
 */
void
PoolLinkLost(Link *l, Call *end)
{
	Call	   *lost[PIPELINE_MAX];
	int			nlost = 0;

	for (int i = 0; i < l->n; i++)
	{
		Call	   *call = *PoolSlot(l, i);

		if (call != NULL && call != end)
			lost[nlost++] = call;
		*PoolSlot(l, i) = NULL;
	}
	l->n = 0;
	l->first = 0;
	l->given_up = 0;
	if (end != NULL)
		DbCancelLater(l->conn);
	PoolCloseLink(l);
	for (int i = nlost - 1; i >= 0; i--)
	{
		Call	   *call = lost[i];

		call->link = NULL;
		if (call->kind == CALL_WRITE)
			PoolFail(call, 503, "the database connection was lost during the request; its outcome is unknown");
		else if (call->retried || call->sends >= MAX_SENDS)
			PoolFail(call, 503, "the database is not available; try again later");
		else
		{
			/* a read behind a call being ended lost nothing: it has its second chance still */
			call->retried = end == NULL;
			CallQueuePushFront(&pool.reads_waiting, call);
		}
	}
}

/* Send call on l, behind what l has in flight. */
static void
link_send(Link *l, Call *call)
{
	bool		ok;
	int			flushed;

	*PoolSlot(l, l->n) = call;
	if (l->n++ == 0)
		l->head_since = PoolNowMs();
	call->link = l;
	call->sends++;
	l->exclusive = call->kind == CALL_WRITE;
	if (call->kind == CALL_HEALTH)
		ok = PQsendQueryParams(l->conn, "SELECT 1", 0, NULL, NULL, NULL, NULL, 0) != 0;
	else
		ok = DbSendCall(l->conn, call);
	ok = ok && PQpipelineSync(l->conn);
	flushed = ok ? PQflush(l->conn) : -1;
	if (flushed < 0)
		PoolLinkLost(l, NULL);
	else if (flushed > 0)
		PoolWatch(l, EPOLLIN | EPOLLOUT);
}

/*
 * The connection for a waiting read: the first ready one with nothing in
 * flight or whose running call is still young, so that reads gather on the
 * first connections while they are cheap; NULL if none.  A write (without
 * connections for writes) takes only an idle one.
 */
static Link *
link_for_read(bool write, long now)
{
	for (int i = 0; i < pool.nreads; i++)
	{
		Link	   *l = &pool.links[i];

		if (l->state != LINK_READY)
			continue;
		if (l->n == 0)
			return l;
		if (!write && !l->exclusive && l->given_up == 0 && l->n < PIPELINE_MAX && now - l->head_since < YOUNG_MS)
			return l;
	}
	return NULL;
}

/* Start connecting one more of [from, to) if none of them is connecting yet. */
static void
grow(int from, int to)
{
	Link	   *down = NULL;

	for (int i = from; i < to; i++)
	{
		if (pool.links[i].state == LINK_CONNECTING || pool.links[i].state == LINK_SETUP)
			return;
		if (pool.links[i].state == LINK_DOWN && down == NULL)
			down = &pool.links[i];
	}
	if (down != NULL)
		PoolLinkConnect(down);
}

/* Send what waits, where it may go; connect more where it may not. */
void
PoolPump(void)
{
	Call	   *call;
	long		now = PoolNowMs();

	while ((call = pool.writes_waiting.head) != NULL)
	{
		Link	   *l = NULL;

		for (int i = pool.nreads; i < pool.nlinks && l == NULL; i++)
			if (pool.links[i].state == LINK_READY && pool.links[i].n == 0)
				l = &pool.links[i];
		if (l == NULL)
		{
			grow(pool.nreads, pool.nlinks);
			break;
		}
		link_send(l, CallQueuePop(&pool.writes_waiting));
	}
	/*
	 * Without connections for writes a write waits here for an idle
	 * connection: the reads behind it go on where they may meanwhile.
	 */
	while ((call = pool.reads_waiting.head) != NULL)
	{
		Call	   *c = call;
		Link	   *l = NULL;

		for (; c != NULL; c = c->next)
		{
			l = link_for_read(c->kind == CALL_WRITE, now);
			if (l != NULL || c->kind != CALL_WRITE)
				break;
		}
		if (l == NULL)
		{
			grow(0, pool.nreads);
			break;
		}
		CallQueueRemove(&pool.reads_waiting, c);
		link_send(l, c);
	}
}

/* The queue a call waits in: writes in their own, unless there are no connections for them. */
static CallQueue *
queue_of(const Call *call)
{
	return call->kind == CALL_WRITE && pool.nlinks > pool.nreads ? &pool.writes_waiting : &pool.reads_waiting;
}

/* Give this thread its connections (made when first needed); false if out of memory. */
bool
PoolInit(int epoll_fd, int readers, int writers, void (*answered) (Call *))
{
	pool.nreads = readers;
	pool.nlinks = readers + writers;
	pool.links = calloc((size_t) pool.nlinks, sizeof(Link));
	pool.ep = epoll_fd;
	pool.answered = answered;
	if (pool.links == NULL)
		return false;
	for (int i = 0; i < pool.nlinks; i++)
	{
		pool.links[i].fd = -1;
		pool.links[i].for_writes = i >= pool.nreads;
	}
	return true;
}

/* Queue a call; answered() gets it once it has its answer. */
void
PoolSubmit(Call *call)
{
	call->since = PoolNowMs();
	call->link = NULL;
	CallQueuePush(queue_of(call), call);
	PoolPump();
}

/* A call's results are in: answer it (unless it was given up), and go on to the next. */
static void
call_done(Link *l)
{
	Call	   *call = *PoolSlot(l, 0);

	*PoolSlot(l, 0) = NULL;
	l->first = (l->first + 1) % PIPELINE_MAX;
	l->n--;
	l->head_since = PoolNowMs();
	l->taken_back = false;
	if (l->n == 0)
		l->exclusive = false;
	if (call == NULL)
		l->given_up--;
	else
	{
		if (l->head_res == NULL)
			DbFail(&call->res, 500, NULL, "internal error");
		else if (call->kind == CALL_HEALTH)
			DbTakeHealth(l->head_res, &call->res);
		else
			DbTakeResult(l->head_res, &call->res);
		finish(call);
	}
	PQclear(l->head_res);
	l->head_res = NULL;
}

/* l's socket is readable: take every result that is complete. */
static void
receive(Link *l)
{
	if (!PQconsumeInput(l->conn))
	{
		if (l->state == LINK_SETUP)
			PoolConnectFailed(l, PQerrorMessage(l->conn));
		else
			PoolLinkLost(l, NULL);
		return;
	}
	while ((l->state == LINK_SETUP || l->n > 0) && !PQisBusy(l->conn))
	{
		PGresult   *res = PQgetResult(l->conn);

		if (res == NULL)
		{
			/* the end of one statement's results, before its Sync */
			if (PQstatus(l->conn) != CONNECTION_OK)
				break;
			continue;
		}
		if (l->state == LINK_SETUP)
			PoolSetupResult(l, res);
		else if (PQresultStatus(res) == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			call_done(l);
		}
		else if (l->head_res == NULL)
			l->head_res = res;
		else
			PQclear(res);
		if (l->state == LINK_DOWN)
		{
			PoolConnectFailed(l, NULL);
			return;
		}
	}
	if (PQstatus(l->conn) != CONNECTION_OK)
		PoolLinkLost(l, NULL);
}

/* Something happened on connection i's socket. */
void
PoolEvent(uint64_t what, uint32_t events)
{
	Link	   *l;

	if (what & EV_CLIENT)
	{
		Call	   *call = (Call *) (uintptr_t) (what & ~EV_CLIENT);

		/*
		 * Answered earlier in this pass (finish() stopped the watch, and the
		 * call is freed only in the pass over the clients that follows).
		 */
		if (!call->watched)
			return;

		/*
		 * Its client has gone: end the call, so that the backend works for
		 * nobody no longer.  A read queued behind another is only given up.
		 */
		epoll_ctl(pool.ep, EPOLL_CTL_DEL, call->client_fd, NULL);
		call->watched = false;
		if (call->link == NULL)
			CallQueueRemove(queue_of(call), call);
		else if (*PoolSlot(call->link, 0) == call)
			PoolLinkLost(call->link, call);
		else
		{
			for (int i = 1; i < call->link->n; i++)
				if (*PoolSlot(call->link, i) == call)
				{
					*PoolSlot(call->link, i) = NULL;
					call->link->given_up++;
				}
		}
		PoolFail(call, 499, "the client closed its connection");
		PoolPump();
		return;
	}
	l = &pool.links[(what & 0xffffffff) - EV_POOL];
	if (l->conn == NULL || (what >> 32) != l->generation)
		return;					/* of a connection closed earlier in this pass */
	if (l->state == LINK_CONNECTING)
		PoolConnectStep(l);
	else
	{
		if ((events & EPOLLOUT) != 0)
		{
			int			flushed = PQflush(l->conn);

			if (flushed < 0)
			{
				receive(l);		/* says why */
				PoolPump();
				return;
			}
			if (flushed == 0)
				PoolWatch(l, EPOLLIN);
		}
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
			receive(l);
	}
	PoolPump();
}

/* Close this thread's connections. */
void
PoolClose(void)
{
	for (int i = 0; i < pool.nlinks; i++)
		PoolCloseLink(&pool.links[i]);
	free(pool.links);
	pool.links = NULL;
	pool.nlinks = pool.nreads = 0;
}
