/*
 * pool_tick.c
 *		The time on a worker's database connections: attempts to connect
 *		that take too long, calls past their deadline, reads held up
 *		behind a slow call, clients that leave while their call is out.
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
 */
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "pool_int.h"

static __thread long next_watch;	/* when to look for calls out WATCH_MS */

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
		Call	   *call = *PoolSlot(l, i);

		if (call == NULL || call->moved)
			continue;			/* sent twice already: it stays where it is */
		*PoolSlot(l, i) = NULL;
		l->given_up++;
		call->link = NULL;
		call->moved = true;
		CallQueuePushFront(&pool.reads_waiting, call);
	}
	l->taken_back = true;
}

/* Is there somewhere a read could go now, other than where it is? */
static bool
room_for_reads(void)
{
	for (int i = 0; i < pool.nreads; i++)
		if (pool.links[i].state == LINK_DOWN || (pool.links[i].state == LINK_READY && pool.links[i].n == 0))
			return true;
	return false;
}

/* Milliseconds until PoolTick() has something to do, or -1. */
int
PoolTimeout(void)
{
	long		now = PoolNowMs();
	long		next = LONG_MAX;
	bool		out = pool.reads_waiting.head != NULL || pool.writes_waiting.head != NULL;

	for (int i = 0; i < pool.nlinks; i++)
	{
		Link	   *l = &pool.links[i];

		if (l->state == LINK_CONNECTING || l->state == LINK_SETUP)
			next = l->deadline < next ? l->deadline : next;
		else if (l->n > 0)
		{
			out = true;
			if (pool.request_timeout > 0 && l->head_since + pool.request_timeout + GRACE_MS < next)
				next = l->head_since + pool.request_timeout + GRACE_MS;
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
	if (info == NULL || epoll_ctl(pool.ep, EPOLL_CTL_ADD, info->connect_fd, &ev) != 0)
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
		if (now - c->since >= pool.request_timeout + GRACE_MS)
		{
			CallQueueRemove(q, c);
			PoolFail(c, 503, "the service is busy; try again later");
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
	long		now = PoolNowMs();
	bool		watch_now = now >= next_watch;

	for (int i = 0; i < pool.nlinks; i++)
	{
		Link	   *l = &pool.links[i];
		Call	   *head;

		if ((l->state == LINK_CONNECTING || l->state == LINK_SETUP) && now >= l->deadline)
		{
			PoolConnectFailed(l, "timed out");
			continue;
		}
		if (l->state != LINK_READY || l->n == 0)
			continue;
		head = *PoolSlot(l, 0);
		if (pool.request_timeout > 0 && now - l->head_since >= pool.request_timeout + GRACE_MS)
		{
			char		detail[160];

			snprintf(detail, sizeof(detail), "the database did not answer within %ld ms%s", now - l->head_since,
					 head != NULL && head->kind == CALL_WRITE ? "; the outcome of the request is unknown" :
					 "; try again later");
			PoolLinkLost(l, head);
			if (head != NULL)
				PoolFail(head, 503, detail);
			continue;
		}
		if (l->n > 1 && !l->taken_back && !l->for_writes && now - l->head_since >= YOUNG_MS && room_for_reads())
			take_back(l);
		if (watch_now)
			for (int k = 0; k < l->n; k++)
				watch_client(*PoolSlot(l, k), now);
	}
	if (pool.request_timeout > 0)
	{
		expire(&pool.reads_waiting, now);
		expire(&pool.writes_waiting, now);
	}
	if (watch_now)
	{
		for (Call *c = pool.reads_waiting.head; c != NULL; c = c->next)
			watch_client(c, now);
		for (Call *c = pool.writes_waiting.head; c != NULL; c = c->next)
			watch_client(c, now);
		next_watch = now + WATCH_MS / 2;
	}
	PoolPump();
}
