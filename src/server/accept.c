/*
 * accept.c
 *		One thread accepts clients and hands each to the worker serving the
 *		fewest.
 *
 * A worker is a libmicrohttpd daemon with a thread of its own and no
 * listening socket.  With the listening socket in every worker's epoll
 * set, whichever woke first took the client, and a burst of new
 * connections could all land on one worker while another had none: with
 * two workers, one benchmark round in five ran at a quarter of the rate.
 * Handing clients out here keeps the workers even.
 */
#define _GNU_SOURCE				/* accept4() */
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

static int	lfd = -1;
static int	stop_fd = -1;
static struct MHD_Daemon **workers;
static atomic_int *open_count;
static int	nworkers;
static long limit;
static pthread_t thread;

/*
 * Clients the workers hold.  Counted here before a worker sees them, and
 * never past the limit: libmicrohttpd 0.9.75 deadlocks a daemon that is
 * handed a client beyond its own connection limit.
 */
static long
connected(void)
{
	long		n = 0;

	for (int i = 0; i < nworkers; i++)
		n += atomic_load(&open_count[i]);
	return n;
}

/*
 * Wait for a client, or only for timeout_ms when listening is false; false
 * when told to stop.
 */
static bool
wait_for_client(bool listening, int timeout_ms)
{
	struct pollfd fds[2] = {{.fd = stop_fd, .events = POLLIN}, {.fd = lfd, .events = POLLIN}};

	while (poll(fds, listening ? 2 : 1, timeout_ms) < 0 && errno == EINTR)
		;
	return (fds[0].revents & POLLIN) == 0;
}

static void *
accept_main(void *arg)
{
	(void) arg;
	while (wait_for_client(true, -1))
	{
		struct sockaddr_storage addr;
		socklen_t	len = sizeof(addr);
		int			fd;
		int			best = 0;

		/* at the limit, clients wait in the listen backlog until one closes */
		if (connected() >= limit)
		{
			if (!wait_for_client(false, 10))
				break;
			continue;
		}
		fd = accept4(lfd, (struct sockaddr *) &addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
		{
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			{
				fprintf(stderr, "scim-server: could not accept a connection: %s\n", strerror(errno));
				usleep(100 * 1000);
			}
			continue;
		}
		for (int i = 1; i < nworkers; i++)
		{
			if (atomic_load(&open_count[i]) < atomic_load(&open_count[best]))
				best = i;
		}
		/* counted before the worker sees it, so that a burst spreads out */
		atomic_fetch_add(&open_count[best], 1);
		if (MHD_add_connection(workers[best], fd, (struct sockaddr *) &addr, len) != MHD_YES)
			atomic_fetch_sub(&open_count[best], 1);	/* libmicrohttpd closed it */
	}
	return NULL;
}

/*
 * Start handing clients of listen_fd to the n daemons.  open[i] counts the
 * clients of daemons[i]: raised here, lowered by the daemon's
 * MHD_CONNECTION_NOTIFY_CLOSED.
 */
bool
AcceptorStart(int listen_fd, struct MHD_Daemon **daemons, atomic_int *open, int n, long max_connections)
{
	lfd = listen_fd;
	workers = daemons;
	open_count = open;
	nworkers = n;
	limit = max_connections;
	stop_fd = eventfd(0, EFD_CLOEXEC);
	if (stop_fd < 0)
		return false;
	return pthread_create(&thread, NULL, accept_main, NULL) == 0;
}

/* Stop accepting and close the listening socket; clients already in stay. */
void
AcceptorStop(void)
{
	uint64_t	one = 1;

	if (write(stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(thread, NULL);
	close(lfd);
	close(stop_fd);
}
