/*
 * clients.c
 *		scim-server's guards against slow and greedy clients: each request
 *		must arrive whole within --client-timeout, and one address may hold
 *		at most --max-connections-per-ip connections across all workers.
 *
 * libmicrohttpd's own timeout is an idle timeout, which a client sending a
 * header line a second resets forever, and the server sees a request only
 * once its headers are in.  So each worker keeps its connections that are
 * still being read in a list, in the order of their deadlines: a deadline
 * is always now plus the same --client-timeout, so a connection (re)armed
 * goes to the tail and the head is always the next one due.  The clock
 * starts when the connection is accepted (which covers the TLS handshake)
 * and again when an answer has been sent (the next request on a keep-alive
 * connection); it stops when the request is whole, so a request waiting for
 * the database, or an answer being sent to the client, is never cut here
 * (the idle --timeout still governs a client that stops reading).  A
 * connection past its deadline has its socket shut down: libmicrohttpd sees
 * the end of it in its next pass and closes it.
 *
 * The count of connections per address is one table for the whole server,
 * as each worker is a daemon of its own (libmicrohttpd's per-address limit
 * counts per daemon).  An address takes a place in libmicrohttpd's accept
 * policy callback, refused there when it has none left (the socket is
 * closed at once), and gives it back when the connection closes.
 */
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "server.h"

/* An address (IPv4, or an IPv6 /64) and its connections open. */
typedef struct Address
{
	struct Address *next;		/* in its bucket */
	unsigned char key[16];
	long		n;
} Address;

/* One connection, from accept to close (libmicrohttpd's socket context). */
typedef struct Client
{
	struct Client *prev;		/* in its worker's deadlines, or linked to itself */
	struct Client *next;
	struct Clients *owner;
	struct MHD_Connection *connection;
	int64_t		deadline;		/* milliseconds, CLOCK_MONOTONIC */
	Address    *address;		/* its place in the count, or NULL */
	struct TlsCredentials *credentials; /* its handshake's certificate, or NULL */
} Client;

/* A worker's connections being read, earliest deadline first (a ring around head). */
struct Clients
{
	Client		head;
};

static int64_t client_timeout_ms;
static long per_address;		/* 0: no limit */

static pthread_mutex_t addresses_lock = PTHREAD_MUTEX_INITIALIZER;
static Address **buckets;
static size_t bucket_mask;

/*
 * The place the accept policy took, until libmicrohttpd reports the
 * connection started: a connection can still fail in between (memory,
 * TLS set-up), and that place is then given back at the next accept or
 * the next pass.
 */
static __thread Address *pending;

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

bool
ClientsSetup(int timeout_seconds, long max_per_address, long max_connections)
{
	size_t		n = 64;

	client_timeout_ms = (int64_t) timeout_seconds * 1000;
	per_address = max_per_address;
	if (per_address == 0)
		return true;
	while (n < (size_t) max_connections && n < 65536)
		n *= 2;
	buckets = calloc(n, sizeof(Address *));
	bucket_mask = n - 1;
	return buckets != NULL;
}

Clients *
ClientsNew(void)
{
	Clients    *cl = calloc(1, sizeof(Clients));

	if (cl != NULL)
		cl->head.prev = cl->head.next = &cl->head;
	return cl;
}

/* The key an address is counted under: IPv4 as ::ffff:a.b.c.d, IPv6 by its /64; false for others. */
static bool
address_key(const struct sockaddr *addr, socklen_t len, unsigned char key[16])
{
	memset(key, 0, 16);
	if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
	{
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *) addr)->sin_addr, 4);
		return true;
	}
	if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
	{
		const struct in6_addr *a = &((const struct sockaddr_in6 *) addr)->sin6_addr;

		/* one host has a whole /64 to pick addresses from; an IPv4 one mapped is itself */
		memcpy(key, a, IN6_IS_ADDR_V4MAPPED(a) ? 16 : 8);
		return true;
	}
	return false;
}

static size_t
bucket_of(const unsigned char key[16])
{
	uint64_t	h = 14695981039346656037ULL;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t) (h ^ (h >> 32)) & bucket_mask;
}

/* Give back an address's place; the address goes when it has none. */
static void
address_release(Address *a)
{
	pthread_mutex_lock(&addresses_lock);
	if (--a->n == 0)
	{
		Address   **p = &buckets[bucket_of(a->key)];

		while (*p != a)
			p = &(*p)->next;
		*p = a->next;
		free(a);
	}
	pthread_mutex_unlock(&addresses_lock);
}

static void
release_pending(void)
{
	if (pending != NULL)
	{
		address_release(pending);
		pending = NULL;
	}
}

/* libmicrohttpd's accept policy: a place for the address, or the connection is closed. */
enum MHD_Result
ClientsAccept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	unsigned char key[16];
	Address    *a;
	size_t		b;

	(void) cls;
	release_pending();
	if (per_address == 0 || !address_key(addr, len, key))
		return MHD_YES;
	b = bucket_of(key);
	pthread_mutex_lock(&addresses_lock);
	for (a = buckets[b]; a != NULL && memcmp(a->key, key, 16) != 0; a = a->next)
		;
	if (a == NULL && (a = calloc(1, sizeof(Address))) != NULL)
	{
		memcpy(a->key, key, 16);
		a->next = buckets[b];
		buckets[b] = a;
	}
	if (a == NULL || a->n >= per_address)
	{
		pthread_mutex_unlock(&addresses_lock);
		return MHD_NO;
	}
	a->n++;
	pthread_mutex_unlock(&addresses_lock);
	pending = a;
	return MHD_YES;
}

static void
unlink_client(Client *k)
{
	k->prev->next = k->next;
	k->next->prev = k->prev;
	k->prev = k->next = k;
}

/* The clock starts: the connection goes to the tail of its worker's deadlines. */
static void
arm(Client *k)
{
	Client	   *head = &k->owner->head;

	unlink_client(k);
	k->deadline = now_ms() + client_timeout_ms;
	k->prev = head->prev;
	k->next = head;
	head->prev->next = k;
	head->prev = k;
}

static Client *
client_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info != NULL ? info->socket_context : NULL;
}

static void
cut(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	if (info != NULL)
		shutdown(info->connect_fd, SHUT_RDWR);
}

/* libmicrohttpd's connection notice, its cls the worker's Clients. */
void
ClientsNotify(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	Client	   *k = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
	{
		k = calloc(1, sizeof(Client));
		if (k == NULL)
		{
			cut(c);				/* out of memory: refused, as it could not be watched */
			return;
		}
		k->owner = cls;
		k->connection = c;
		k->prev = k->next = k;
		k->address = pending;
		pending = NULL;
		arm(k);
		*socket_context = k;
		return;
	}
	if (k == NULL)
		return;
	unlink_client(k);
	if (k->address != NULL)
		address_release(k->address);
	if (k->credentials != NULL)
		TlsRelease(k->credentials);
	free(k);
	*socket_context = NULL;
}

/* The request is whole: its client has done its part, the clock stops. */
void
ClientsRequestWhole(struct MHD_Connection *c)
{
	Client	   *k = client_of(c);

	if (k != NULL)
		unlink_client(k);
}

/* The answer is sent: the next request on the connection has the whole deadline. */
void
ClientsAnswered(struct MHD_Connection *c)
{
	Client	   *k = client_of(c);

	if (k != NULL)
		arm(k);
}

/* Keep the certificate a connection's handshake took until it closes; false if there is no place. */
bool
ClientsKeepCredentials(struct MHD_Connection *c, struct TlsCredentials *credentials)
{
	Client	   *k = client_of(c);

	if (k == NULL)
		return false;
	if (k->credentials != NULL)
		TlsRelease(k->credentials); /* a second handshake on the connection */
	k->credentials = credentials;
	return true;
}

/* Cut the connections past their deadline (called before each pass over the clients). */
void
ClientsSweep(Clients *cl)
{
	int64_t		now;

	release_pending();
	if (cl->head.next == &cl->head)
		return;
	now = now_ms();
	while (cl->head.next != &cl->head && cl->head.next->deadline <= now)
	{
		Client	   *k = cl->head.next;

		unlink_client(k);
		cut(k->connection);
	}
}

/* ms, the wait a worker planned (-1: none), bounded by its next deadline. */
int
ClientsWait(Clients *cl, int ms)
{
	int64_t		left;

	if (cl->head.next == &cl->head)
		return ms;
	left = cl->head.next->deadline - now_ms();
	if (left < 0)
		left = 0;
	return (ms < 0 || left < ms) ? (int) left : ms;
}
