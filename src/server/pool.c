/*
 * pool.c
 *		A worker's database connections, driven from its event loop: some
 *		for reads, some for writes, each connected, fed and read without
 *		ever blocking the loop.
 *
 * Connecting.  PQconnectStart() and PQconnectPoll() as the socket allows,
 * each attempt timed here (PQconnectPoll() ignores connect_timeout), host
 * names resolved beforehand by resolve.c.  The calls waiting for a
 * connection that cannot be made are answered 503 together, when the
 * attempt fails or its time is up, never one after another.
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
 *
 * Ending calls.  A call still running scim.request_timeout (as the
 * database tells each new connection) plus a second after it started, or
 * whose client has gone, is ended by closing its connection, and
 * canceled by a thread of its own (PQcancel() blocks, and a database that
 * does not answer may keep it waiting).  A cancel request stops whatever
 * the backend runs when it lands; on this connection that is this call or
 * a read behind it that is being sent again elsewhere, whose answer here
 * nobody waits for, never another client's call that still counts.  The
 * backend then finds its client gone and exits.  A session setting such as
 * client_connection_check_interval would do the same without the cancel,
 * but arms a timer for every statement: 4% of the PATCHes a second.
 *
 * The extension's version.  Each new connection reads it with its set-up
 * (DbSendSetup()); one that finds a version this server was not built for
 * is closed, and the calls waiting for it are answered 503 saying so.  The
 * next call connects again and checks again, so that once the extension is
 * updated the server serves without a restart; a request costs nothing
 * more.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "defaults.h"
#include "server.h"

#define PIPELINE_MAX 64			/* calls in flight on one connection */
#define YOUNG_MS	5			/* a call running longer holds up no read behind it */
#define WATCH_MS	250			/* a call out this long has its client watched */
#define GRACE_MS	1000		/* past scim.request_timeout, before the server ends a call */
#define MAX_SENDS	3			/* a read is sent at most this often, however often it is moved */

typedef enum LinkState
{
	LINK_DOWN,
	LINK_CONNECTING,			/* PQconnectPoll() under way */
	LINK_SETUP,					/* connected, its set-up sent (DbSendSetup()) */
	LINK_READY
} LinkState;

typedef struct Link
{
	PGconn	   *conn;
	LinkState	state;
	bool		for_writes;
	int			fd;				/* the socket in the epoll set, or -1 */
	uint32_t	events;			/* what it is watched for */
	long		deadline;		/* connecting: when the attempt is given up */
	long		head_since;		/* when the first call in flight started */
	Call	   *sent[PIPELINE_MAX]; /* in flight, in order; NULL once given up */
	int			first;
	int			n;
	bool		exclusive;		/* a write on a connection for reads: nothing behind it */
	bool		taken_back;		/* the reads behind the running call went elsewhere */
	int			given_up;		/* slots of sent[] that are NULL: the backend still runs them */
	uint32_t	generation;		/* bumped at each close: events of an old socket are known */
	PGresult   *head_res;		/* the first call's result, before its Sync */
	bool		wrong_version;	/* its set-up found an extension this server does not serve */
} Link;

static __thread Link *links;	/* nreads for reads, then the ones for writes */
static __thread int nlinks;
static __thread int nreads;
static __thread int ep;
static __thread CallQueue reads_waiting;	/* and writes, without connections for them */
static __thread CallQueue writes_waiting;
static __thread long request_timeout = SCIM_REQUEST_TIMEOUT_DEFAULT_MS;
static __thread long next_watch;	/* when to look for calls out WATCH_MS */
static __thread void (*answered_fn) (Call *);
static __thread char version_detail[320];	/* why the last wrong_version connection was closed */
static __thread bool version_said;	/* and it is in the log: said once until a right one comes */

static long
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Call i of l's calls in flight (0 is the one the backend runs). */
static Call **
slot(Link *l, int i)
{
	return &l->sent[(l->first + i) % PIPELINE_MAX];
}

/* The call has its answer (or failure) in res: its client is resumed. */
static void
finish(Call *call)
{
	call->link = NULL;
	if (call->watched)
	{
		epoll_ctl(ep, EPOLL_CTL_DEL, call->client_fd, NULL);
		call->watched = false;
	}
	answered_fn(call);
}

static void
fail(Call *call, int status, const char *detail)
{
	DbResultFree(&call->res);
	if (call->kind == CALL_HEALTH)
		DbHealth(&call->res, false);
	else
		DbFail(&call->res, status, NULL, detail);
	finish(call);
}

/* Watch l's socket for events (EPOLLIN, and EPOLLOUT while libpq has more to send). */
static void
watch(Link *l, uint32_t events)
{
	int			fd = PQsocket(l->conn);
	struct epoll_event ev = {.events = events,
	.data.u64 = (EV_POOL + (uint64_t) (l - links)) | (uint64_t) l->generation << 32};

	if (fd == l->fd && events == l->events)
		return;
	/* a new socket (libpq may open another while connecting); the old one closed left the set */
	if (fd != l->fd)
	{
		if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
			epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
	}
	else if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	l->fd = fd;
	l->events = events;
}

/* Close l, leaving its calls to the caller. */
static void
close_link(Link *l)
{
	if (l->fd >= 0 && l->conn != NULL && PQsocket(l->conn) == l->fd)
		epoll_ctl(ep, EPOLL_CTL_DEL, l->fd, NULL);
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
 * Put l's reads behind the running one back at the front of the queue, in
 * order, to be sent elsewhere; their places stay, given up, so that their
 * answers are known and dropped.  Writes are never sent twice.
 */
static void
take_back(Link *l)
{
	for (int i = l->n - 1; i >= 1; i--)
	{
		Call	   *call = *slot(l, i);

		if (call == NULL || call->moved)
			continue;			/* sent twice already: it stays where it is */
		*slot(l, i) = NULL;
		l->given_up++;
		call->link = NULL;
		call->moved = true;
		CallQueuePushFront(&reads_waiting, call);
	}
	l->taken_back = true;
}

/*
 * l broke or is closed to end a call: the reads in flight go again
 * elsewhere, once (reads change nothing); a write is answered 503, its
 * outcome unknown.  end, if not NULL, is the call being ended: the caller
 * answers it.
 */
static void pump(void);

static void
link_lost(Link *l, Call *end)
{
	Call	   *lost[PIPELINE_MAX];
	int			nlost = 0;

	for (int i = 0; i < l->n; i++)
	{
		Call	   *call = *slot(l, i);

		if (call != NULL && call != end)
			lost[nlost++] = call;
		*slot(l, i) = NULL;
	}
	l->n = 0;
	l->first = 0;
	l->given_up = 0;
	if (end != NULL)
		DbCancelLater(l->conn);
	close_link(l);
	for (int i = nlost - 1; i >= 0; i--)
	{
		Call	   *call = lost[i];

		call->link = NULL;
		if (call->kind == CALL_WRITE)
			fail(call, 503, "the database connection was lost during the request; its outcome is unknown");
		else if (call->retried || call->sends >= MAX_SENDS)
			fail(call, 503, "the database is not available; try again later");
		else
		{
			/* a read behind a call being ended lost nothing: it has its second chance still */
			call->retried = end == NULL;
			CallQueuePushFront(&reads_waiting, call);
		}
	}
}

/*
 * A connection could not be made (why, unless said already), or it serves
 * another version of the extension: if none for the same calls is left,
 * they all get 503 now, saying which.
 */
static void
connect_failed(Link *l, const char *why)
{
	bool		writes = l->for_writes;
	CallQueue  *q = writes ? &writes_waiting : &reads_waiting;
	const char *detail = l->wrong_version ? version_detail : "the database is not available; try again later";
	Call	   *call;

	if (why != NULL)
		fprintf(stderr, "scim-server: could not connect to the database: %s%s",
				why, why[0] != '\0' && why[strlen(why) - 1] == '\n' ? "" : "\n");
	close_link(l);
	l->wrong_version = false;
	for (int i = 0; i < nlinks; i++)
		if (links[i].for_writes == writes && links[i].state != LINK_DOWN)
			return;				/* another connection may yet take them */
	while ((call = CallQueuePop(q)) != NULL)
		fail(call, 503, detail);
}

/* Start connecting l. */
static void
link_connect(Link *l)
{
	l->conn = DbConnectStart();
	l->fd = -1;
	l->events = 0;
	if (l->conn == NULL || PQstatus(l->conn) == CONNECTION_BAD)
	{
		/* without a connection object the names did not resolve: resolve.c said so */
		connect_failed(l, l->conn ? PQerrorMessage(l->conn) : NULL);
		return;
	}
	l->state = LINK_CONNECTING;
	l->deadline = now_ms() + DbConnectTimeoutMs();
	/* PQconnectStart() leaves the first step to PQconnectPoll(), writing */
	watch(l, EPOLLOUT);
}

/* Send call on l, behind what l has in flight. */
static void
link_send(Link *l, Call *call)
{
	bool		ok;
	int			flushed;

	*slot(l, l->n) = call;
	if (l->n++ == 0)
		l->head_since = now_ms();
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
		link_lost(l, NULL);
	else if (flushed > 0)
		watch(l, EPOLLIN | EPOLLOUT);
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
	for (int i = 0; i < nreads; i++)
	{
		Link	   *l = &links[i];

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
		if (links[i].state == LINK_CONNECTING || links[i].state == LINK_SETUP)
			return;
		if (links[i].state == LINK_DOWN && down == NULL)
			down = &links[i];
	}
	if (down != NULL)
		link_connect(down);
}

/* Send what waits, where it may go; connect more where it may not. */
static void
pump(void)
{
	Call	   *call;
	long		now = now_ms();

	while ((call = writes_waiting.head) != NULL)
	{
		Link	   *l = NULL;

		for (int i = nreads; i < nlinks && l == NULL; i++)
			if (links[i].state == LINK_READY && links[i].n == 0)
				l = &links[i];
		if (l == NULL)
		{
			grow(nreads, nlinks);
			break;
		}
		link_send(l, CallQueuePop(&writes_waiting));
	}
	/*
	 * Without connections for writes a write waits here for an idle
	 * connection: the reads behind it go on where they may meanwhile.
	 */
	while ((call = reads_waiting.head) != NULL)
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
			grow(0, nreads);
			break;
		}
		CallQueueRemove(&reads_waiting, c);
		link_send(l, c);
	}
}

/* The queue a call waits in: writes in their own, unless there are no connections for them. */
static CallQueue *
queue_of(const Call *call)
{
	return call->kind == CALL_WRITE && nlinks > nreads ? &writes_waiting : &reads_waiting;
}

/* Give this thread its connections (made when first needed); false if out of memory. */
bool
PoolInit(int epoll_fd, int readers, int writers, void (*answered) (Call *))
{
	nreads = readers;
	nlinks = readers + writers;
	links = calloc((size_t) nlinks, sizeof(Link));
	ep = epoll_fd;
	answered_fn = answered;
	if (links == NULL)
		return false;
	for (int i = 0; i < nlinks; i++)
	{
		links[i].fd = -1;
		links[i].for_writes = i >= nreads;
	}
	return true;
}

/* Queue a call; answered() gets it once it has its answer. */
void
PoolSubmit(Call *call)
{
	call->since = now_ms();
	call->link = NULL;
	CallQueuePush(queue_of(call), call);
	pump();
}

/* The connection is up: send its set-up. */
static void
connected(Link *l)
{
	if (!DbSendSetup(l->conn))
	{
		connect_failed(l, PQerrorMessage(l->conn));
		return;
	}
	l->state = LINK_SETUP;
	watch(l, PQflush(l->conn) > 0 ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* One more step of connecting l. */
static void
connect_step(Link *l)
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
			watch(l, EPOLLIN);
			break;
		case PGRES_POLLING_WRITING:
			watch(l, EPOLLOUT);
			break;
		default:
			connect_failed(l, PQerrorMessage(l->conn));
			break;
	}
}

/*
 * Take what came of the set-up: the session's scim.request_timeout and the
 * extension's version, then the Sync.  A version this server does not serve
 * closes the connection at once (the prepared call may well have failed
 * behind it), said in the log once until a connection finds the right one.
 */
static void
setup_result(Link *l, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 3)
	{
		long		ms = PQgetisnull(res, 0, 1) ? SCIM_REQUEST_TIMEOUT_DEFAULT_MS :
			DbTimeoutMs(PQgetvalue(res, 0, 1));

		request_timeout = ms >= 0 ? ms : SCIM_REQUEST_TIMEOUT_DEFAULT_MS;
		if (DbVersionServed(PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
							version_detail, sizeof(version_detail)))
			version_said = false;
		else
		{
			if (!version_said)
				fprintf(stderr, "scim-server: %s\n", version_detail);
			version_said = true;
			l->wrong_version = true;
			l->state = LINK_DOWN;	/* connect_failed() in receive() */
		}
	}
	else if (st == PGRES_PIPELINE_SYNC)
	{
		l->state = LINK_READY;
		watch(l, EPOLLIN);
	}
	else if (st != PGRES_COMMAND_OK)
	{
		fprintf(stderr, "scim-server: could not set up a database connection: %s",
				PQresultErrorMessage(res));
		l->state = LINK_DOWN;	/* connect_failed() below, once the results are read */
	}
	PQclear(res);
}

/* A call's results are in: answer it (unless it was given up), and go on to the next. */
static void
call_done(Link *l)
{
	Call	   *call = *slot(l, 0);

	*slot(l, 0) = NULL;
	l->first = (l->first + 1) % PIPELINE_MAX;
	l->n--;
	l->head_since = now_ms();
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
			connect_failed(l, PQerrorMessage(l->conn));
		else
			link_lost(l, NULL);
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
			setup_result(l, res);
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
			connect_failed(l, NULL);
			return;
		}
	}
	if (PQstatus(l->conn) != CONNECTION_OK)
		link_lost(l, NULL);
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
		epoll_ctl(ep, EPOLL_CTL_DEL, call->client_fd, NULL);
		call->watched = false;
		if (call->link == NULL)
			CallQueueRemove(queue_of(call), call);
		else if (*slot(call->link, 0) == call)
			link_lost(call->link, call);
		else
		{
			for (int i = 1; i < call->link->n; i++)
				if (*slot(call->link, i) == call)
				{
					*slot(call->link, i) = NULL;
					call->link->given_up++;
				}
		}
		fail(call, 499, "the client closed its connection");
		pump();
		return;
	}
	l = &links[(what & 0xffffffff) - EV_POOL];
	if (l->conn == NULL || (what >> 32) != l->generation)
		return;					/* of a connection closed earlier in this pass */
	if (l->state == LINK_CONNECTING)
		connect_step(l);
	else
	{
		if ((events & EPOLLOUT) != 0)
		{
			int			flushed = PQflush(l->conn);

			if (flushed < 0)
			{
				receive(l);		/* says why */
				pump();
				return;
			}
			if (flushed == 0)
				watch(l, EPOLLIN);
		}
		if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
			receive(l);
	}
	pump();
}

/* Is there somewhere a read could go now, other than where it is? */
static bool
room_for_reads(void)
{
	for (int i = 0; i < nreads; i++)
		if (links[i].state == LINK_DOWN || (links[i].state == LINK_READY && links[i].n == 0))
			return true;
	return false;
}

/* Milliseconds until PoolTick() has something to do, or -1. */
int
PoolTimeout(void)
{
	long		now = now_ms();
	long		next = LONG_MAX;
	bool		out = reads_waiting.head != NULL || writes_waiting.head != NULL;

	for (int i = 0; i < nlinks; i++)
	{
		Link	   *l = &links[i];

		if (l->state == LINK_CONNECTING || l->state == LINK_SETUP)
			next = l->deadline < next ? l->deadline : next;
		else if (l->n > 0)
		{
			out = true;
			if (request_timeout > 0 && l->head_since + request_timeout + GRACE_MS < next)
				next = l->head_since + request_timeout + GRACE_MS;
			if (l->n > 1 && !l->taken_back && !l->for_writes && l->head_since + YOUNG_MS < next &&
				room_for_reads())
				next = l->head_since + YOUNG_MS;
		}
	}
	if (out && next_watch < next)
		next = next_watch > now ? next_watch : now;
	if (next == LONG_MAX)
		return -1;
	return next <= now ? 0 : (next - now < INT_MAX ? (int) (next - now) : INT_MAX);
}

/* Watch the client of a call out WATCH_MS for leaving (EPOLLRDHUP: it closed its side). */
static void
watch_client(Call *call, long now)
{
	const union MHD_ConnectionInfo *info;
	struct epoll_event ev = {.events = EPOLLRDHUP, .data.u64 = EV_CLIENT | (uint64_t) (uintptr_t) call};

	if (call == NULL || call->watched || now - call->since < WATCH_MS)
		return;
	info = MHD_get_connection_info(call->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info == NULL || epoll_ctl(ep, EPOLL_CTL_ADD, info->connect_fd, &ev) != 0)
		return;
	call->client_fd = info->connect_fd;
	call->watched = true;
}

/* Calls that waited to be sent as long as one may run: 503, they would only wait more. */
static void
expire(CallQueue *q, long now)
{
	Call	   *next;

	for (Call *c = q->head; c != NULL; c = next)
	{
		next = c->next;
		if (now - c->since >= request_timeout + GRACE_MS)
		{
			CallQueueRemove(q, c);
			fail(c, 503, "the service is busy; try again later");
		}
	}
}

/*
 * Attempts out of time fail; calls past their deadline are ended; reads
 * behind a call that is no longer young go elsewhere; clients of calls out
 * a while are watched.
 */
void
PoolTick(void)
{
	long		now = now_ms();
	bool		watch_now = now >= next_watch;

	for (int i = 0; i < nlinks; i++)
	{
		Link	   *l = &links[i];
		Call	   *head;

		if ((l->state == LINK_CONNECTING || l->state == LINK_SETUP) && now >= l->deadline)
		{
			connect_failed(l, "timed out");
			continue;
		}
		if (l->state != LINK_READY || l->n == 0)
			continue;
		head = *slot(l, 0);
		if (request_timeout > 0 && now - l->head_since >= request_timeout + GRACE_MS)
		{
			char		detail[160];

			snprintf(detail, sizeof(detail), "the database did not answer within %ld ms%s", now - l->head_since,
					 head != NULL && head->kind == CALL_WRITE ? "; the outcome of the request is unknown" :
					 "; try again later");
			link_lost(l, head);
			if (head != NULL)
				fail(head, 503, detail);
			continue;
		}
		if (l->n > 1 && !l->taken_back && !l->for_writes && now - l->head_since >= YOUNG_MS && room_for_reads())
			take_back(l);
		if (watch_now)
			for (int k = 0; k < l->n; k++)
				watch_client(*slot(l, k), now);
	}
	if (request_timeout > 0)
	{
		expire(&reads_waiting, now);
		expire(&writes_waiting, now);
	}
	if (watch_now)
	{
		for (Call *c = reads_waiting.head; c != NULL; c = c->next)
			watch_client(c, now);
		for (Call *c = writes_waiting.head; c != NULL; c = c->next)
			watch_client(c, now);
		next_watch = now + WATCH_MS / 2;
	}
	pump();
}

/* Close this thread's connections. */
void
PoolClose(void)
{
	for (int i = 0; i < nlinks; i++)
		close_link(&links[i]);
	free(links);
	links = NULL;
	nlinks = nreads = 0;
}
