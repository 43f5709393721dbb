/*
 * resolve.c
 *		The database's host names, resolved off the event loop.
 *
 * libpq resolves a host name inside PQconnectPoll() with getaddrinfo(),
 * which blocks: a worker connecting while DNS is slow would stop serving
 * every client it has.  So the names in the connection string are
 * resolved here, at start and then every 30 seconds by a thread of their
 * own, and each connection is made to the addresses as hostaddr, a host
 * entry for each (host still names the server, for authentication and
 * TLS; libpq tries the entries in order as it would the addresses of a
 * name).  A connection string that gives hostaddr itself, or only socket
 * directories and addresses, needs none of this.
 */
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

#define RESOLVE_EVERY 30		/* seconds */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *hosts;				/* the host list, comma-separated, or NULL: nothing to resolve */
static char *ports;				/* its port list, if it has one per host, or NULL */
static Resolved *current;		/* the lists to connect with, or NULL: never resolved */

/* A host that needs no resolving: a socket directory, or an address already. */
static bool
literal(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return h[0] == '\0' || h[0] == '/' || h[0] == '@' ||
		inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* How many entries a comma-separated list has. */
static int
entries(const char *list)
{
	int			n = 1;

	for (const char *c = list; *c; c++)
		n += *c == ',';
	return n;
}

/* Entry i of a comma-separated list, into out (of size n); "" past its end. */
static void
entry(const char *list, int i, char *out, size_t n)
{
	const char *p = list;
	const char *end;

	for (; i > 0 && p != NULL; i--)
		p = (p = strchr(p, ',')) ? p + 1 : NULL;
	if (p == NULL)
	{
		out[0] = '\0';
		return;
	}
	end = strchr(p, ',');
	snprintf(out, n, "%.*s", (int) (end ? end - p : (long) strlen(p)), p);
}

static void
append(TextBuf *b, const char *s)
{
	if (b->len > 0)
		TextAppend(b, ",", 1);
	TextAppend(b, s, strlen(s));
}

static void
resolved_free(Resolved *r)
{
	if (r == NULL)
		return;
	free(r->host);
	free(r->hostaddr);
	free(r->port);
	free(r);
}

/*
 * The lists to connect with: each name once per address (its hostaddr),
 * the others as they are (no hostaddr); NULL (after a message) if a name
 * does not resolve.
 */
static Resolved *
resolve(void)
{
	TextBuf		h = {0}, a = {0}, p = {0};
	Resolved   *r;
	int			n = entries(hosts);

	for (int i = 0; i < n; i++)
	{
		char		name[256];
		char		port[32];
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct addrinfo *ai = NULL;
		int			rc;

		entry(hosts, i, name, sizeof(name));
		entry(ports ? ports : "", i, port, sizeof(port));
		if (literal(name))
		{
			append(&h, name);
			append(&a, "");
			append(&p, port);
			continue;
		}
		rc = getaddrinfo(name, NULL, &hints, &ai);
		if (rc != 0 || ai == NULL)
		{
			fprintf(stderr, "scim-server: could not resolve the database host \"%s\": %s\n", name,
					rc != 0 ? gai_strerror(rc) : "no address");
			free(h.data);
			free(a.data);
			free(p.data);
			return NULL;
		}
		for (struct addrinfo *x = ai; x != NULL; x = x->ai_next)
		{
			char		addr[INET6_ADDRSTRLEN];

			if (x->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *) x->ai_addr)->sin_addr, addr, sizeof(addr));
			else if (x->ai_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *) x->ai_addr)->sin6_addr, addr, sizeof(addr));
			else
				continue;
			append(&h, name);
			append(&a, addr);
			append(&p, port);
		}
		freeaddrinfo(ai);
	}
	r = calloc(1, sizeof(Resolved));
	if (r == NULL || h.failed || a.failed || p.failed)
	{
		free(r);
		free(h.data);
		free(a.data);
		free(p.data);
		return NULL;
	}
	r->host = h.data;
	r->hostaddr = a.data;
	r->port = ports ? p.data : (free(p.data), NULL);
	return r;
}

static void *
resolver_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		Resolved   *r;

		sleep(RESOLVE_EVERY);
		r = resolve();
		if (r == NULL)
			continue;			/* keep the last addresses that worked */
		pthread_mutex_lock(&lock);
		resolved_free(current);
		current = r;
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

/*
 * Find the host names in conninfo (or PGHOST), resolve them, and keep
 * resolving them; false if the resolver could not start.  A name that
 * does not resolve now is only reported: the database may come later.
 */
bool
ResolveStart(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	const char *host = getenv("PGHOST");
	const char *hostaddr = getenv("PGHOSTADDR");
	const char *port = getenv("PGPORT");
	bool		names = false;
	pthread_t	t;

	for (PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
	{
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
	}
	if (host != NULL && (hostaddr == NULL || hostaddr[0] == '\0'))
	{
		char		name[256];
		int			n = entries(host);

		for (int i = 0; i < n; i++)
		{
			entry(host, i, name, sizeof(name));
			names |= !literal(name);
		}
		if (names)
		{
			hosts = strdup(host);
			ports = port != NULL && strchr(port, ',') != NULL ? strdup(port) : NULL;
		}
	}
	PQconninfoFree(opts);
	if (hosts == NULL)
		return true;
	current = resolve();
	return pthread_create(&t, NULL, resolver_main, NULL) == 0 && pthread_detach(t) == 0;
}

/*
 * The lists to connect with (the caller frees them with ResolvedFree()),
 * or NULL when there are no names to resolve; *failed when there are but
 * they have never resolved.
 */
Resolved *
ResolvedHosts(bool *failed)
{
	Resolved   *r = NULL;

	*failed = false;
	if (hosts == NULL)
		return NULL;
	pthread_mutex_lock(&lock);
	if (current != NULL && (r = calloc(1, sizeof(Resolved))) != NULL)
	{
		r->host = strdup(current->host);
		r->hostaddr = strdup(current->hostaddr);
		r->port = current->port ? strdup(current->port) : NULL;
	}
	else
		*failed = true;
	pthread_mutex_unlock(&lock);
	return r;
}

void
ResolvedFree(Resolved *r)
{
	resolved_free(r);
}
