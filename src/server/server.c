/*
 * server.c
 *		scim-server: libmicrohttpd in front of scim.handle().  main() reads
 *		the configuration and starts the workers, each a libmicrohttpd
 *		daemon run by a thread of its own with its database connections;
 *		requests.c serves the requests, pool.c the connections.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

static ServerConfig cfg;

/*
 * A worker: a libmicrohttpd daemon of its own, run by a thread of its own,
 * its database connections (pool.c: some for reads, some for writes) and an
 * eventfd by which the main thread wakes it to stop.
 */
typedef struct Worker
{
	struct MHD_Daemon *daemon;
	pthread_t	thread;
	int			wake;
	int			reads;			/* database connections for reads */
	int			writes;			/* and for writes */
	Clients    *clients;		/* its connections' deadlines (clients.c) */
} Worker;

static atomic_bool draining;	/* stop taking new clients */
static atomic_bool stopping;	/* all answered: workers may end */

static unsigned int
connections_of(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/* What an event in a worker's epoll set is about (its data.u64); pool.c's are EV_POOL and up. */
#define EV_CLIENTS	0			/* libmicrohttpd's epoll set */
#define EV_WAKE		1

/*
 * A worker's loop, over its clients' sockets (libmicrohttpd's epoll set) and
 * its database connections: answers coming in resume their clients, and a
 * pass over the clients sends those answers and the requests that are
 * ready (RequestHandle()).  On SIGTERM the worker stops listening itself
 * (libmicrohttpd's daemon is not to be touched from another thread) and
 * closes the socket, so that new clients are refused instead of waiting in
 * a queue nobody reads.
 */
static void *
worker_main(void *arg)
{
	Worker	   *w = arg;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	int			ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event cev = {.events = EPOLLIN, .data.u64 = EV_CLIENTS};
	struct epoll_event wev = {.events = EPOLLIN, .data.u64 = EV_WAKE};
	unsigned int known = 0;
	bool		quiesced = false;

	if (ep < 0 || !PoolInit(ep, w->reads, w->writes, RequestAnswered) ||
		epoll_ctl(ep, EPOLL_CTL_ADD, info->epoll_fd, &cev) != 0 ||
		epoll_ctl(ep, EPOLL_CTL_ADD, w->wake, &wev) != 0)
	{
		fprintf(stderr, "scim-server: could not set up a worker: %s\n", strerror(errno));
		exit(1);
	}
	AccessLogGather(true);
	while (!atomic_load(&stopping))
	{
		struct epoll_event ready[16];
		MHD_UNSIGNED_LONG_LONG left;
		int			ms = PoolTimeout();
		int			n;

		if (RequestsResumed())
			ms = 0;				/* resumed during the last pass (a connection that broke) */
		else if (MHD_get_timeout(w->daemon, &left) == MHD_YES && (ms < 0 || left < (MHD_UNSIGNED_LONG_LONG) ms))
			ms = left < INT_MAX ? (int) left : INT_MAX;
		ms = ClientsWait(w->clients, ms);
		AccessLogFlush();
		n = epoll_wait(ep, ready, 16, ms);
		for (int i = 0; i < n; i++)
		{
			uint64_t	what = ready[i].data.u64;

			if (what >= EV_POOL)
				PoolEvent(what, ready[i].events);
			else if (what == EV_WAKE)
			{
				eventfd_t	v;

				(void) eventfd_read(w->wake, &v);
			}
		}
		PoolTick();
		RequestsResumedTaken();	/* this pass takes up the resumes so far */
		ClientsSweep(w->clients);	/* those past --client-timeout: closed in this pass */
		MHD_run(w->daemon);
		if (connections_of(w->daemon) < known)
		{
			/*
			 * A client left.  At its connection limit, libmicrohttpd takes its
			 * listening socket out of its epoll set, and puts it back only at
			 * the start of a pass: make that pass, or a client waiting to be
			 * accepted would wait for the next event on another.
			 */
			MHD_run(w->daemon);
		}
		known = connections_of(w->daemon);

		if (!quiesced && atomic_load(&draining))
		{
			MHD_socket s = MHD_quiesce_daemon(w->daemon);

			if (s != MHD_INVALID_SOCKET)
				close(s);
			quiesced = true;
		}
	}
	AccessLogFlush();
	AccessLogGather(false);
	PoolClose();
	close(ep);
	return NULL;
}

/*
 * Room for cfg->max_connections clients: each is an open file, as is each
 * worker's listening socket, two epoll descriptors (libmicrohttpd's and
 * its own) and eventfd, each database connection, and a few more (log,
 * TLS files).  The soft limit is raised as far as the
 * hard limit allows; where that is not far enough, the connection limit
 * comes down to fit.
 */
static void
fit_open_files(void)
{
	struct rlimit rl;
	rlim_t		spare = (rlim_t) cfg.workers * 4 + (rlim_t) cfg.readers + (rlim_t) cfg.writers + 64;
	rlim_t		need = (rlim_t) cfg.max_connections + spare;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
	{
		rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
			return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need)
	{
		long		fit = rl.rlim_cur > spare + 1 ? (long) (rl.rlim_cur - spare) : 1;

		fprintf(stderr, "scim-server: at most %ld connections fit under the limit of %ld open files "
				"(ulimit -n); serving that many instead of %ld\n",
				fit, (long) rl.rlim_cur, cfg.max_connections);
		cfg.max_connections = fit;
	}
}

int
main(int argc, char **argv)
{
	Worker	   *workers;
	struct sockaddr_in addr;
	sigset_t	sigs;
	int			sig;
	unsigned int per_worker;
	/*
	 * epoll: select() refuses any socket numbered above FD_SETSIZE (1024),
	 * whatever the connection limit.  No polling thread of libmicrohttpd's
	 * own: each worker's thread runs its daemon (worker_main()).
	 */
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;

	if (!ServerConfigParse(&cfg, argc, argv) || !TlsSetup(&cfg))
		return 2;
	DbSetConninfo(cfg.db);
	RequestsSetup(&cfg);
	if (!ResolveStart(cfg.db))
	{
		fprintf(stderr, "scim-server: could not start resolving the database's host names: %s\n", strerror(errno));
		return 1;
	}
	fit_open_files();

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) cfg.port);
	if (inet_pton(AF_INET, cfg.listen, &addr.sin_addr) != 1)
	{
		fprintf(stderr, "scim-server: --listen must be an IPv4 address, not \"%s\"\n", cfg.listen);
		return 2;
	}
	if (cfg.tls_cert != NULL)
		flags |= MHD_USE_TLS;
	else
	{
		/*
		 * Turbo reads and writes a socket before epoll says it is ready,
		 * and closes connections without shutdown(): 2-5% more GETs a
		 * second at 8 and at 32 connections (two sets of paired wrk
		 * rounds, 2026-11-23).
		 * Not with TLS, where it would also skip the TLS close_notify.
		 */
		flags |= MHD_USE_TURBO;
	}

	/* only the main thread takes the stop signals, and SIGHUP */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Each worker is a daemon with a listening socket of its own on the
	 * same port (SO_REUSEPORT), so the kernel spreads new clients over
	 * them.  With libmicrohttpd's pool, every thread watched one socket
	 * and whichever woke first accepted, so a burst of clients could land
	 * on one worker while another had none; and handing accepted clients
	 * to daemons with MHD_add_connection() from a thread of our own left
	 * some unserved until their daemon woke for something else.
	 */
	workers = calloc((size_t) cfg.workers, sizeof(*workers));
	if (workers == NULL || !ClientsSetup(cfg.client_timeout, cfg.max_per_ip, cfg.max_connections))
		return 1;
	per_worker = (unsigned int) ((cfg.max_connections + cfg.workers - 1) / cfg.workers);
	for (int i = 0; i < cfg.workers; i++)
	{
		/* the database connections, shared out: the first workers take the odd ones */
		workers[i].reads = cfg.readers / cfg.workers + (i < cfg.readers % cfg.workers ? 1 : 0);
		workers[i].writes = cfg.writers / cfg.workers + (i < cfg.writers % cfg.workers ? 1 : 0);
		workers[i].wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		workers[i].clients = ClientsNew();
		if (workers[i].wake < 0 || workers[i].clients == NULL)
		{
			fprintf(stderr, "scim-server: could not set up a worker: %s\n", strerror(errno));
			return 1;
		}
		workers[i].daemon = MHD_start_daemon(flags, (uint16_t) cfg.port,
											 cfg.max_per_ip > 0 ? ClientsAccept : NULL, NULL, RequestHandle, NULL,
											 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
											 MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
											 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) cfg.timeout,
											 MHD_OPTION_CONNECTION_LIMIT, per_worker,
											 MHD_OPTION_NOTIFY_COMPLETED, RequestCompleted, NULL,
											 MHD_OPTION_UNESCAPE_CALLBACK, RequestKeepEscapes, NULL,
											 MHD_OPTION_NOTIFY_CONNECTION, ClientsNotify, workers[i].clients,
											 MHD_OPTION_ARRAY, TlsDaemonOptions(),
											 MHD_OPTION_END);
		if (workers[i].daemon == NULL)
		{
			fprintf(stderr, "scim-server: could not listen on %s:%d\n", cfg.listen, cfg.port);
			return 1;
		}
	}
	for (int i = 0; i < cfg.workers; i++)
	{
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
		{
			fprintf(stderr, "scim-server: could not start its threads: %s\n", strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "scim-server: serving %s://%s:%d%s with %d worker%s, %d database connection%s for reads "
			"and %d for writes\n",
			cfg.tls_cert ? "https" : "http", cfg.listen, cfg.port, cfg.base_path,
			cfg.workers, cfg.workers == 1 ? "" : "s", cfg.readers, cfg.readers == 1 ? "" : "s", cfg.writers);

	while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP)
		TlsReload();
	fprintf(stderr, "scim-server: %s received, finishing requests in progress\n",
			sig == SIGINT ? "SIGINT" : "SIGTERM");
	atomic_store(&draining, true);
	for (int i = 0; i < cfg.workers; i++)
		(void) eventfd_write(workers[i].wake, 1);
	for (int i = 0; i < 300 && RequestsInFlight() > 0; i++)
		usleep(100 * 1000);
	if (RequestsInFlight() > 0)
	{
		/* a write still in the database: its client is suspended, so leave as is */
		fprintf(stderr, "scim-server: %d requests still unanswered after 30 s; exiting\n",
				RequestsInFlight());
		return 1;
	}
	atomic_store(&stopping, true);
	for (int i = 0; i < cfg.workers; i++)
	{
		(void) eventfd_write(workers[i].wake, 1);
		pthread_join(workers[i].thread, NULL);
	}
	for (int i = 0; i < cfg.workers; i++)
	{
		MHD_stop_daemon(workers[i].daemon);
		close(workers[i].wake);
		free(workers[i].clients);
	}
	free(workers);
	return 0;
}
