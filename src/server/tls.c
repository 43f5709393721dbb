/*
 * tls.c
 *		scim-server's TLS: the GnuTLS priority string (--tls-priorities), and
 *		the certificate and key, read again on SIGHUP.
 *
 * libmicrohttpd is given a certificate callback rather than the PEM text, so
 * that each handshake takes the credentials current at that moment: a
 * reload swaps them for new handshakes while connections made before keep
 * theirs.  A set of credentials is counted: one reference as the current
 * set, one for each connection whose handshake took it (kept until the
 * connection closes, through its Client in clients.c, as GnuTLS keeps
 * pointers to the certificate in the session).  A set replaced is freed
 * when its last connection closes.
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

/* Certificates in one chain file, at most. */
#define MAX_CHAIN	16

struct TlsCredentials
{
	gnutls_pcert_st pcert[MAX_CHAIN];
	unsigned int ncerts;
	gnutls_privkey_t key;
	long		refs;			/* under lock */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static TlsCredentials *current;
static const char *cert_file;
static const char *key_file;
static struct MHD_OptionItem options[3];

static void
free_credentials(TlsCredentials *t)
{
	for (unsigned int i = 0; i < t->ncerts; i++)
		gnutls_pcert_deinit(&t->pcert[i]);
	if (t->key != NULL)
		gnutls_privkey_deinit(t->key);
	free(t);
}

void
TlsRelease(TlsCredentials *t)
{
	bool		last;

	pthread_mutex_lock(&lock);
	last = --t->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		free_credentials(t);
}

/* A file's contents; false (why in why) if it cannot be read. */
static bool
read_file(const char *path, gnutls_datum_t *out, char *why, size_t n)
{
	FILE	   *fp = fopen(path, "rb");
	long		len;

	out->data = NULL;
	if (fp == NULL)
	{
		snprintf(why, n, "could not read %s: %s", path, strerror(errno));
		return false;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
		(out->data = malloc((size_t) len + 1)) == NULL ||
		fread(out->data, 1, (size_t) len, fp) != (size_t) len)
	{
		snprintf(why, n, "could not read %s: %s", path, strerror(errno ? errno : EIO));
		free(out->data);
		out->data = NULL;
		fclose(fp);
		return false;
	}
	fclose(fp);
	out->data[len] = '\0';
	out->size = (unsigned int) len;
	return true;
}

/*
 * The credentials in the PEM files, their certificate's expiry in
 * not_after; NULL (why in why) when they cannot be read, do not parse, or
 * the key is not the certificate's.
 */
static TlsCredentials *
load(char *why, size_t n, time_t *not_after)
{
	gnutls_datum_t cert;
	gnutls_datum_t key = {NULL, 0};
	gnutls_certificate_credentials_t check = NULL;
	TlsCredentials *t = NULL;
	int			ret = 0;
	const char *what = "";

	if (!read_file(cert_file, &cert, why, n) || !read_file(key_file, &key, why, n))
	{
		free(cert.data);
		return NULL;
	}
	/* GnuTLS checks there that the key is the certificate's */
	if ((ret = gnutls_certificate_allocate_credentials(&check)) < 0 ||
		(ret = gnutls_certificate_set_x509_key_mem(check, &cert, &key, GNUTLS_X509_FMT_PEM)) < 0)
		what = "the certificate and key";
	else if ((t = calloc(1, sizeof(TlsCredentials))) == NULL)
		ret = GNUTLS_E_MEMORY_ERROR;
	else
	{
		t->ncerts = MAX_CHAIN;
		t->refs = 1;
		if ((ret = gnutls_pcert_list_import_x509_raw(t->pcert, &t->ncerts, &cert, GNUTLS_X509_FMT_PEM, 0)) < 0)
		{
			t->ncerts = 0;
			what = "the certificate chain";
		}
		else if ((ret = gnutls_privkey_init(&t->key)) < 0 ||
				 (ret = gnutls_privkey_import_x509_raw(t->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0)
			what = "the key";
		else
		{
			gnutls_x509_crt_t crt;

			*not_after = 0;
			if (gnutls_pcert_export_x509(&t->pcert[0], &crt) >= 0)
			{
				*not_after = gnutls_x509_crt_get_expiration_time(crt);
				gnutls_x509_crt_deinit(crt);
			}
		}
	}
	if (check != NULL)
		gnutls_certificate_free_credentials(check);
	/* the key's text is secret: not left in freed memory */
	if (key.data != NULL)
		memset(key.data, 0, key.size);
	free(key.data);
	free(cert.data);
	if (ret < 0)
	{
		snprintf(why, n, "%s in %s and %s: %s", what, cert_file, key_file, gnutls_strerror(ret));
		if (t != NULL)
			free_credentials(t);
		return NULL;
	}
	return t;
}

/*
 * GnuTLS asks for the certificate during a handshake: the current set, with
 * a reference kept by the connection (or never given back, where the
 * connection has no Client to keep it: safe, as it is never freed then).
 */
static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
		 const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
		 gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *key)
{
	TlsCredentials *t;

	(void) req_ca_rdn;
	(void) nreqs;
	(void) pk_algos;
	(void) pk_algos_length;
	pthread_mutex_lock(&lock);
	t = current;
	t->refs++;
	pthread_mutex_unlock(&lock);
	(void) ClientsKeepCredentials(gnutls_session_get_ptr(session), t);
	*pcert = t->pcert;
	*pcert_length = t->ncerts;
	*key = t->key;
	return 0;
}

static void
say_until(char *out, size_t n, time_t not_after)
{
	struct tm	tm;

	if (not_after > 0 && gmtime_r(&not_after, &tm) != NULL)
		strftime(out, n, ", valid until %Y-%m-%dT%H:%M:%SZ", &tm);
	else
		out[0] = '\0';
}

bool
TlsSetup(const ServerConfig *cfg)
{
	gnutls_priority_t p;
	const char *err = NULL;
	int			ret = gnutls_priority_init(&p, cfg->tls_priorities, &err);
	char		why[512];
	time_t		not_after;

	/* checked here, with or without TLS, to say what is wrong and where */
	if (ret < 0)
	{
		fprintf(stderr, "scim-server: --tls-priorities \"%s\" is not a valid GnuTLS priority string: %s "
				"(at \"%s\")\n", cfg->tls_priorities, gnutls_strerror(ret), err ? err : "");
		return false;
	}
	gnutls_priority_deinit(p);
	options[0] = (struct MHD_OptionItem) {MHD_OPTION_END, 0, NULL};
	if (cfg->tls_cert == NULL)
		return true;
	cert_file = cfg->tls_cert;
	key_file = cfg->tls_key;
	current = load(why, sizeof(why), &not_after);
	if (current == NULL)
	{
		fprintf(stderr, "scim-server: %s\n", why);
		return false;
	}
	options[0] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *) cfg->tls_priorities};
	options[1] = (struct MHD_OptionItem) {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *) retrieve};
	options[2] = (struct MHD_OptionItem) {MHD_OPTION_END, 0, NULL};
	return true;
}

struct MHD_OptionItem *
TlsDaemonOptions(void)
{
	return options;
}

/* SIGHUP: new handshakes take the files' credentials if they are valid; otherwise nothing changes. */
void
TlsReload(void)
{
	TlsCredentials *t;
	TlsCredentials *old;
	char		why[512];
	char		until[64];
	time_t		not_after;

	if (cert_file == NULL)
	{
		fprintf(stderr, "scim-server: SIGHUP: no TLS certificate to read again (no --tls-cert)\n");
		return;
	}
	t = load(why, sizeof(why), &not_after);
	if (t == NULL)
	{
		fprintf(stderr, "scim-server: SIGHUP: keeping the certificate in use: %s\n", why);
		return;
	}
	pthread_mutex_lock(&lock);
	old = current;
	current = t;
	pthread_mutex_unlock(&lock);
	TlsRelease(old);
	say_until(until, sizeof(until), not_after);
	fprintf(stderr, "scim-server: SIGHUP: new connections get the certificate read again from %s%s\n",
			cert_file, until);
}
