/*
 * pool_int.h
 *		What the files of a worker's database connections share: pool.c
 *		sends calls and reads their answers, pool_connect.c connects and
 *		sets up a connection, pool_tick.c keeps the time.
 */
#ifndef SCIM_POOL_INT_H
#define SCIM_POOL_INT_H

#include <libpq-fe.h>

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

/* A worker's connections and the calls waiting for them: its thread's own. */
typedef struct Pool
{
	Link	   *links;			/* nreads for reads, then the ones for writes */
	int			nlinks;
	int			nreads;
	int			ep;				/* the worker's epoll set */
	CallQueue	reads_waiting;	/* and writes, without connections for them */
	CallQueue	writes_waiting;
	long		request_timeout;	/* the sessions' scim.request_timeout, ms */
	void		(*answered) (Call *);
} Pool;

extern __thread Pool pool;

/* Call i of l's calls in flight (0 is the one the backend runs). */
static inline Call **
PoolSlot(Link *l, int i)
{
	return &l->sent[(l->first + i) % PIPELINE_MAX];
}

/* pool.c */
extern long PoolNowMs(void);
extern void PoolFail(Call *call, int status, const char *detail);
extern void PoolWatch(Link *l, uint32_t events);
extern void PoolCloseLink(Link *l);
extern void PoolLinkLost(Link *l, Call *end);
extern void PoolPump(void);

/* pool_connect.c */
extern void PoolLinkConnect(Link *l);
extern void PoolConnectStep(Link *l);
extern void PoolConnectFailed(Link *l, const char *why);
extern void PoolSetupResult(Link *l, PGresult *res);

#endif
