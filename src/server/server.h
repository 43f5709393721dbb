/*
 * server.h
 *		scim-server: a thin HTTP layer that hands every request under the
 *		SCIM base path to scim.handle() in PostgreSQL and writes back what
 *		it returns.  No SCIM logic lives here.
 */
#ifndef SCIM_SERVER_H
#define SCIM_SERVER_H

#include <libpq-fe.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

typedef struct ServerConfig
{
	const char *listen;			/* address to bind */
	int			port;
	const char *db;				/* libpq connection string */
	const char *base_path;		/* "/scim/v2" */
	int			workers;		/* threads serving clients, each with a connection for reads */
	int			readers;		/* database connections for reads, shared among the workers */
	int			writers;		/* database connections for writes, shared among the workers */
	size_t		max_body;		/* bytes */
	int			timeout;		/* idle and read timeout, seconds */
	long		max_connections;	/* clients connected at once */
	const char *tls_cert;		/* PEM files; both or neither */
	const char *tls_key;
	bool		trust_proxy;	/* honour X-Forwarded-Proto (http or https) */
	const char *public_url;		/* the base URL links are made from, or NULL */
	int			client_timeout; /* seconds for a request to arrive whole */
	long		max_per_ip;		/* connections from one address, 0: no limit */
	const char *tls_priorities; /* GnuTLS priority string */
} ServerConfig;

/*
 * TLS 1.2 and 1.3 only, GnuTLS's NORMAL ciphers for them: SSL 3.0, TLS 1.0
 * and 1.1 are deprecated (RFC 8996).
 */
#define TLS_PRIORITIES_DEFAULT "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* clients.c */
typedef struct Clients Clients;
typedef struct TlsCredentials TlsCredentials;

extern bool ClientsSetup(int timeout_seconds, long max_per_address, long max_connections);
extern Clients *ClientsNew(void);
extern void ClientsNotify(void *cls, struct MHD_Connection *c, void **socket_context,
						  enum MHD_ConnectionNotificationCode toe);
extern enum MHD_Result ClientsAccept(void *cls, const struct sockaddr *addr, socklen_t len);
extern void ClientsRequestWhole(struct MHD_Connection *c);
extern void ClientsAnswered(struct MHD_Connection *c);
extern bool ClientsKeepCredentials(struct MHD_Connection *c, TlsCredentials *credentials);
extern void ClientsSweep(Clients *cl);
extern int	ClientsWait(Clients *cl, int ms);

/* tls.c */
extern bool TlsSetup(const ServerConfig *cfg);
extern struct MHD_OptionItem *TlsDaemonOptions(void);
extern void TlsReload(void);
extern void TlsRelease(TlsCredentials *t);

/* json_text.c */
typedef struct TextBuf
{
	char	   *data;			/* NUL-terminated, malloc'ed */
	size_t		len;
	size_t		cap;
	bool		failed;			/* memory ran out: data is short */
} TextBuf;

extern void TextAppend(TextBuf *b, const char *s, size_t n);
extern void TextAppendJsonString(TextBuf *b, const char *s);
extern bool JsonEachString(const char *json, void (*fn) (void *arg, const char *key, const char *value),
						   void *arg);

/* access_log.c */
extern void LogEscape(char *out, size_t n, const char *s);
extern void AccessLog(const char *method, const char *raw_path, int status, const struct timespec *start,
					  const char *tenant);
extern void AccessLogFlush(void);
extern void AccessLogGather(bool gather);

/* config.c */
extern bool ServerConfigParse(ServerConfig *cfg, int argc, char **argv);
extern void ServerUsage(FILE *out);
extern bool HostValid(const char *s, size_t len);
extern bool PublicUrlValid(const char *url);

/* db.c */
typedef struct DbResult
{
	int			status;			/* HTTP status */
	char	   *headers;		/* JSON object text, malloc'ed */
	char	   *body;			/* JSON text or NULL, malloc'ed */
} DbResult;

/* What a call asks of the database. */
typedef enum CallKind
{
	CALL_READ,					/* GET, HEAD: may be sent again */
	CALL_WRITE,					/* POST, PUT, PATCH, DELETE: never sent twice */
	CALL_HEALTH					/* /healthz: SELECT 1 */
} CallKind;

/*
 * One request's call of scim.handle_text(): its arguments, and its answer
 * once done (res starts zeroed and is filled once).  The client's
 * connection stays suspended until then.  pool.c keeps the rest.
 */
struct MHD_Connection;
struct Link;
typedef struct Call
{
	struct MHD_Connection *connection;
	CallKind	kind;
	const char *method;
	const char *path;
	const char *query;
	const char *headers;		/* JSON object text */
	const char *body;			/* or NULL */
	DbResult	res;
	atomic_bool done;
	struct Call *next;			/* in a queue of calls waiting to be sent */
	struct Link *link;			/* the connection it was sent on, or NULL */
	long		since;			/* when it was queued (ms, CLOCK_MONOTONIC) */
	bool		retried;		/* a read sent again after its connection broke */
	bool		watched;		/* its client's socket is watched for leaving */
	bool		moved;			/* a read taken back once already (pool.c) */
	int			sends;			/* how often it was sent */
	int			client_fd;
} Call;

/* Calls waiting to be sent, in order. */
typedef struct CallQueue
{
	Call	   *head;
	Call	   *tail;
} CallQueue;

extern void CallQueuePush(CallQueue *q, Call *call);
extern void CallQueuePushFront(CallQueue *q, Call *call);
extern Call *CallQueuePop(CallQueue *q);
extern bool CallQueueRemove(CallQueue *q, Call *call);
extern void DbSetConninfo(const char *conninfo);
extern PGconn *DbConnectStart(void);
extern int	DbConnectTimeoutMs(void);
extern long DbTimeoutMs(const char *setting);
extern bool DbSendSetup(PGconn *c);
extern bool DbVersionServed(const char *installed, char *detail, size_t n);
extern void DbCancelLater(PGconn *c);
extern bool DbSendCall(PGconn *c, const Call *call);
extern void DbTakeResult(PGresult *res, DbResult *out);
extern void DbHealth(DbResult *out, bool ok);
extern void DbTakeHealth(PGresult *res, DbResult *out);
extern void DbFail(DbResult *out, int status, const char *scim_type, const char *detail);
extern bool IsWrite(const char *method);
extern void DbResultFree(DbResult *r);
extern char *ErrorDocument(int status, const char *scim_type, const char *detail);

/* resolve.c */
typedef struct Resolved
{
	char	   *host;			/* libpq's host, hostaddr and port lists */
	char	   *hostaddr;
	char	   *port;			/* or NULL: as the connection string has it */
} Resolved;

extern bool ResolveStart(const char *conninfo);
extern Resolved *ResolvedHosts(bool *failed);
extern void ResolvedFree(Resolved *r);

/* requests.c */
extern void RequestsSetup(const ServerConfig *config);
extern enum MHD_Result RequestHandle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
									 const char *version, const char *upload_data, size_t *upload_data_size,
									 void **con_cls);
extern void RequestCompleted(void *cls, struct MHD_Connection *c, void **con_cls,
							 enum MHD_RequestTerminationCode toe);
extern size_t RequestKeepEscapes(void *cls, struct MHD_Connection *c, char *s);
extern void RequestAnswered(Call *call);
extern bool RequestsResumed(void);
extern void RequestsResumedTaken(void);
extern int	RequestsInFlight(void);

/* pool.c */
#define EV_POOL		16			/* epoll data of pool.c's sockets: EV_POOL + link, generation << 32 */
#define EV_CLIENT	(1ULL << 63)	/* | a Call *: its client's socket, watched for leaving */
extern bool PoolInit(int ep, int readers, int writers, void (*answered) (Call *));
extern void PoolSubmit(Call *call);
extern void PoolEvent(uint64_t what, uint32_t events);
extern int	PoolTimeout(void);
extern void PoolTick(void);
extern void PoolClose(void);

#endif
