/*
 * config.c
 *		scim-server's settings, from flags first, then the environment, then
 *		defaults.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server.h"

/* Print the --help text. */
void
ServerUsage(FILE *out)
{
	fprintf(out,
			"scim-server serves a SCIM 2.0 endpoint from PostgreSQL's scim.handle().\n"
			"\n"
			"Usage: scim-server [OPTION]...\n"
			"\n"
			"Options (environment variable in brackets):\n"
			"  --listen=ADDR       address to listen on [SCIM_LISTEN] (default 127.0.0.1)\n"
			"  --port=PORT         TCP port [SCIM_PORT] (default 8080)\n"
			"  --db=CONNINFO       libpq connection string or URI [SCIM_DB, then PGURL]\n"
			"                      (default: libpq's own PG* environment)\n"
			"  --base-path=PATH    where the SCIM base is [SCIM_BASE_PATH] (default /scim/v2)\n"
			"  --workers=N         threads serving connections [SCIM_WORKERS] (default:\n"
			"                      half the number of CPUs, at least 1)\n"
			"  --readers=N         database connections for reads (GET, HEAD), shared\n"
			"                      among the workers, at least one each; opened as\n"
			"                      needed [SCIM_READERS] (default: 4 per worker)\n"
			"  --writers=N         database connections for writes (POST, PUT, PATCH,\n"
			"                      DELETE), shared among the workers; 0 sends writes\n"
			"                      on the connections for reads, alone [SCIM_WRITERS]\n"
			"                      (default 16)\n"
			"  --max-body=BYTES    largest request body [SCIM_MAX_BODY] (default 1048576)\n"
			"  --timeout=SECONDS   idle timeout: a connection with nothing sent or received\n"
			"                      for that long is closed [SCIM_TIMEOUT] (default 30)\n"
			"  --client-timeout=SECONDS\n"
			"                      each request must arrive whole (headers and body)\n"
			"                      within that time of the connection's accept, or of\n"
			"                      the previous answer on a kept-alive connection, or\n"
			"                      the connection is closed; the time waiting for the\n"
			"                      database does not count [SCIM_CLIENT_TIMEOUT]\n"
			"                      (default 10)\n"
			"  --max-connections=N clients connected at once [SCIM_MAX_CONNECTIONS]\n"
			"                      (default 1024, shared among the workers; more wait\n"
			"                      until one closes)\n"
			"  --max-connections-per-ip=N\n"
			"                      connections from one address at once, over all the\n"
			"                      workers (an IPv6 address counts by its /64); more\n"
			"                      are closed as soon as accepted; 0 is no limit\n"
			"                      [SCIM_MAX_CONNECTIONS_PER_IP] (default 0: behind a\n"
			"                      proxy every client has the proxy's address)\n"
			"  --tls-cert=FILE     serve HTTPS with this PEM certificate [SCIM_TLS_CERT]\n"
			"  --tls-key=FILE      and this PEM key [SCIM_TLS_KEY]; SIGHUP reads both\n"
			"                      again for new connections (if they are valid)\n"
			"  --tls-priorities=STRING\n"
			"                      GnuTLS priority string: protocol versions and ciphers\n"
			"                      [SCIM_TLS_PRIORITIES] (default: TLS 1.2 and 1.3 only,\n"
			"                      " TLS_PRIORITIES_DEFAULT ")\n"
			"  --public-url=URL    the endpoint's public base URL, as clients reach it\n"
			"                      (https://scim.example.com/scim/v2): Location and\n"
			"                      meta.location are made from it, never from the\n"
			"                      request's headers [SCIM_PUBLIC_URL]; recommended in\n"
			"                      production\n"
			"  --trust-proxy       honour X-Forwarded-Proto (http or https only), as set\n"
			"                      by a proxy in front; without it the header is ignored\n"
			"                      [SCIM_TRUST_PROXY=1]\n"
			"  --help              show this help and exit\n"
			"\n"
			"GET /healthz answers 200 when the database answers, 503 otherwise.\n"
			"One line per request goes to standard error: time, method, path, status,\n"
			"milliseconds and tenant.  SIGINT or SIGTERM stop accepting connections and\n"
			"let requests in progress finish.  SIGHUP reads the TLS certificate again.\n");
}

/*
 * Is s a host as a Host header may name one: a DNS name or IPv4 address
 * (letters, digits, dots, hyphens) or a bracketed IPv6 address, then an
 * optional port (up to 65535); len bytes of it.
 */
bool
HostValid(const char *s, size_t len)
{
	size_t		i = 0;

	if (len == 0 || len > 255)
		return false;
	if (s[0] == '[')
	{
		for (i = 1; i < len && s[i] != ']'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
				  (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' || s[i] == '.'))
				return false;
		if (i == len || i == 1)
			return false;
		i++;
	}
	else
	{
		for (; i < len && s[i] != ':'; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
				  (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '.' || s[i] == '-'))
				return false;
		if (i == 0)
			return false;
	}
	if (i == len)
		return true;
	if (s[i] != ':' || len - i - 1 < 1 || len - i - 1 > 5)
		return false;
	{
		long		port = 0;

		for (i++; i < len; i++)
		{
			if (s[i] < '0' || s[i] > '9')
				return false;
			port = port * 10 + (s[i] - '0');
		}
		return port <= 65535;
	}
}

/* Is url a base URL --public-url may give: http(s)://host[:port][/path], nothing else. */
bool
PublicUrlValid(const char *url)
{
	const char *host;
	const char *end;

	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return false;
	end = strchr(host, '/');
	if (end == NULL)
		end = host + strlen(host);
	if (!HostValid(host, (size_t) (end - host)))
		return false;
	for (const char *p = end; *p; p++)
		if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f || *p == '?' || *p == '#' ||
			*p == '"' || *p == '<' || *p == '>' || *p == '\\')
			return false;
	return true;
}

/* The value of "--name=value" or "--name value" at argv[*i], or NULL. */
static const char *
flag_value(const char *name, int argc, char **argv, int *i)
{
	size_t		n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return (v != NULL && v[0] != '\0') ? v : dflt;
}

/* An integer setting from min to max (min >= 0), or -1. */
static long
in_range(const char *s, long min, long max)
{
	char	   *end;
	long		v;

	if (s == NULL || *s == '\0')
		return -1;
	v = strtol(s, &end, 10);
	return (*end == '\0' && v >= min && v <= max) ? v : -1;
}

/* Fill cfg from argv and the environment; false (after a message) on a bad setting. */
bool
ServerConfigParse(ServerConfig *cfg, int argc, char **argv)
{
	const char *port = env_or("SCIM_PORT", "8080");
	/*
	 * A worker keeps its backend busy by itself: it sends each read as
	 * soon as it is complete and takes the answers as they come, so the
	 * backend finds its next call waiting and neither sleeps between
	 * calls.  With the database on the same machine, a worker and its
	 * backend take about two CPUs between them: on 2 CPUs, one worker
	 * answered 33,500 GETs a second at 8 connections and 43,000 at 32,
	 * two workers 23,800 and 28,400, more backends taking turns on the
	 * same cores (development cluster, 50,000 users, medians of 5 wrk
	 * runs, 2026-11-23).  A write waits for its commit's WAL flush, so
	 * writes go to connections of their own, enough for flushes to be
	 * shared: PATCH at 32 clients went 9% faster with 16 than with 8, at 8
	 * clients no slower (4,632 and 4,659 a second; 3,980 with 4).
	 */
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char		cpus[24];
	const char *workers;
	const char *readers = env_or("SCIM_READERS", NULL);
	const char *writers = env_or("SCIM_WRITERS", "16");
	const char *max_body = env_or("SCIM_MAX_BODY", "1048576");
	const char *timeout = env_or("SCIM_TIMEOUT", "30");
	const char *max_connections = env_or("SCIM_MAX_CONNECTIONS", "1024");
	const char *client_timeout = env_or("SCIM_CLIENT_TIMEOUT", "10");
	const char *max_per_ip = env_or("SCIM_MAX_CONNECTIONS_PER_IP", "0");

	snprintf(cpus, sizeof(cpus), "%ld", ncpu > 2 ? ncpu / 2 : 1);
	workers = env_or("SCIM_WORKERS", cpus);
	cfg->listen = env_or("SCIM_LISTEN", "127.0.0.1");
	cfg->db = env_or("SCIM_DB", env_or("PGURL", ""));
	cfg->base_path = env_or("SCIM_BASE_PATH", "/scim/v2");
	cfg->tls_cert = env_or("SCIM_TLS_CERT", NULL);
	cfg->tls_key = env_or("SCIM_TLS_KEY", NULL);
	cfg->public_url = env_or("SCIM_PUBLIC_URL", NULL);
	cfg->trust_proxy = strcmp(env_or("SCIM_TRUST_PROXY", "0"), "1") == 0;
	cfg->tls_priorities = env_or("SCIM_TLS_PRIORITIES", TLS_PRIORITIES_DEFAULT);

	for (int i = 1; i < argc; i++)
	{
		const char *v;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
		{
			ServerUsage(stdout);
			exit(0);
		}
		else if ((v = flag_value("--listen", argc, argv, &i)))
			cfg->listen = v;
		else if ((v = flag_value("--port", argc, argv, &i)))
			port = v;
		else if ((v = flag_value("--db", argc, argv, &i)))
			cfg->db = v;
		else if ((v = flag_value("--base-path", argc, argv, &i)))
			cfg->base_path = v;
		else if ((v = flag_value("--workers", argc, argv, &i)))
			workers = v;
		else if ((v = flag_value("--readers", argc, argv, &i)))
			readers = v;
		else if ((v = flag_value("--writers", argc, argv, &i)))
			writers = v;
		else if ((v = flag_value("--max-body", argc, argv, &i)))
			max_body = v;
		else if ((v = flag_value("--timeout", argc, argv, &i)))
			timeout = v;
		else if ((v = flag_value("--max-connections", argc, argv, &i)))
			max_connections = v;
		else if ((v = flag_value("--client-timeout", argc, argv, &i)))
			client_timeout = v;
		else if ((v = flag_value("--max-connections-per-ip", argc, argv, &i)))
			max_per_ip = v;
		else if ((v = flag_value("--tls-priorities", argc, argv, &i)))
			cfg->tls_priorities = v;
		else if ((v = flag_value("--tls-cert", argc, argv, &i)))
			cfg->tls_cert = v;
		else if ((v = flag_value("--tls-key", argc, argv, &i)))
			cfg->tls_key = v;
		else if ((v = flag_value("--public-url", argc, argv, &i)))
			cfg->public_url = v;
		else if (strcmp(argv[i], "--trust-proxy") == 0)
			cfg->trust_proxy = true;
		else
		{
			fprintf(stderr, "scim-server: unknown option \"%s\"\nTry \"scim-server --help\".\n", argv[i]);
			return false;
		}
	}

	cfg->port = (int) in_range(port, 1, 65535);
	cfg->workers = (int) in_range(workers, 1, 1024);
	cfg->writers = (int) in_range(writers, 0, 1024);
	cfg->readers = readers != NULL ? (int) in_range(readers, 1, 4096) : (cfg->workers > 0 ? 4 * cfg->workers : 0);
	cfg->max_body = (size_t) in_range(max_body, 1, LONG_MAX);
	cfg->timeout = (int) in_range(timeout, 1, INT_MAX);
	cfg->max_connections = in_range(max_connections, 1, 1000000);
	cfg->client_timeout = (int) in_range(client_timeout, 1, 86400);
	cfg->max_per_ip = in_range(max_per_ip, 0, 1000000);
	if (cfg->port < 0)
	{
		fprintf(stderr, "scim-server: --port must be from 1 to 65535, not \"%s\"\n", port);
		return false;
	}
	if (cfg->workers < 0)
	{
		fprintf(stderr, "scim-server: --workers must be from 1 to 1024, not \"%s\"\n", workers);
		return false;
	}
	if (cfg->readers < cfg->workers)
	{
		fprintf(stderr, "scim-server: --readers must be from the number of workers (%d) to 4096, not \"%s\"\n",
				cfg->workers, readers);
		return false;
	}
	if (cfg->writers < 0)
	{
		fprintf(stderr, "scim-server: --writers must be from 0 to 1024, not \"%s\"\n", writers);
		return false;
	}
	if ((long) cfg->max_body < 0 || cfg->timeout < 0)
	{
		fprintf(stderr, "scim-server: --max-body and --timeout must be positive integers\n");
		return false;
	}
	if (cfg->max_connections < 0)
	{
		fprintf(stderr, "scim-server: --max-connections must be from 1 to 1000000, not \"%s\"\n", max_connections);
		return false;
	}
	if (cfg->client_timeout < 0)
	{
		fprintf(stderr, "scim-server: --client-timeout must be from 1 to 86400 seconds, not \"%s\"\n", client_timeout);
		return false;
	}
	if (cfg->max_per_ip < 0)
	{
		fprintf(stderr, "scim-server: --max-connections-per-ip must be from 0 to 1000000, not \"%s\"\n", max_per_ip);
		return false;
	}
	if (cfg->base_path[0] != '/')
	{
		fprintf(stderr, "scim-server: --base-path must start with \"/\"\n");
		return false;
	}
	if (cfg->public_url != NULL && !PublicUrlValid(cfg->public_url))
	{
		fprintf(stderr, "scim-server: --public-url must be http:// or https://, a host, an optional port and a path,"
				" without spaces, query or fragment, not \"%s\"\n", cfg->public_url);
		return false;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
	{
		fprintf(stderr, "scim-server: --tls-cert and --tls-key go together\n");
		return false;
	}
	return true;
}
