/*
 * handle_int.h
 *		What the files of the request handler share (handle.c routes,
 *		request.c reads the request, auth.c authenticates, statements.c
 *		runs the SQL, read.c, user_patch.c and discovery.c answer,
 *		respond.c writes the answer); nothing outside them includes it.
 */
#ifndef HANDLE_INT_H
#define HANDLE_INT_H

#include "scim_pg.h"

#include "access/tupdesc.h"
#include "executor/spi.h"
#include "utils/timestamp.h"

struct ScimProjection;

/*
 * Hidden: what these files share is theirs, not scim.so's.  Called through
 * the library's symbol table, as exported functions are, each call cost a
 * lookup 0.2% more instructions and could not be inlined.
 */
#ifdef __GNUC__
#pragma GCC visibility push(hidden)
#endif

typedef enum Statement
{
	ST_AUTH,
	ST_USER_USERNAME,
	ST_USER_EXTERNALID,
	ST_USER_ID,
	ST_USER_GET,
	ST_GROUP_DISPLAYNAME,
	ST_GROUP_EXTERNALID,
	ST_GROUP_ID,
	ST_GROUP_GET,
	ST_USER_PATCH,
	ST_USER_PUT,
	ST_USER_DISPLAYNAME,
	/* the ST_USER_ statements above without the user's groups */
	ST_USER_USERNAME_ALONE,
	ST_USER_EXTERNALID_ALONE,
	ST_USER_ID_ALONE,
	ST_USER_GET_ALONE,
	ST_USER_PATCH_ALONE,
	ST_USER_DISPLAYNAME_ALONE,
	ST_TENANT_MEMBERS,
	/* discovery.c's */
	ST_SERVICE_PROVIDER_CONFIG,
	ST_SCHEMAS,
	ST_SCHEMA,
	ST_RESOURCE_TYPES,
	ST_RESOURCE_TYPE,
	ST_BASE_URL,
	/* any request's */
	ST_EVENT,
	ST__COUNT
} Statement;

/* A statement of the handler's: its text and its parameters' types. */
typedef struct StatementDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[8];
} StatementDef;

/* Per call site: the last projection parsed, and the result type. */
typedef struct HandleCache
{
	void	   *projection;
	TupleDesc	result;			/* scim.response or scim.response_text, blessed */
	bool		text;			/* scim.handle_text(): headers and body as JSON text */
} HandleCache;

typedef enum RequestKind
{
	REQ_LIST,					/* GET /Users?filter=..., GET /Groups?filter=... */
	REQ_GET,					/* GET /Users/{id}, GET /Groups/{id} */
	REQ_PATCH,					/* PATCH /Users/{id} */
	REQ_SERVICE,				/* discovery, /Me, /Bulk: discovery.c */
	/* the general path's (route.c), which answers every request, failures included */
	REQ_SEARCH,					/* GET /Users, /Groups; POST [/Users|/Groups]/.search: list.c */
	REQ_RESOURCE				/* POST /Users, /Groups; GET, PUT, PATCH, DELETE of one: write.c */
} RequestKind;

/* The endpoints of REQ_SERVICE. */
typedef enum ServiceEndpoint
{
	EP_SERVICE_PROVIDER_CONFIG,
	EP_SCHEMAS,
	EP_RESOURCE_TYPES,
	EP_ME,
	EP_BULK
} ServiceEndpoint;

/* A request as the fast path understood it. */
typedef struct Request
{
	RequestKind kind;
	bool		users;			/* /Users, else /Groups */
	const char *rtype;			/* "User" or "Group" */
	char	   *rid;			/* the id as the path gives it */
	char	   *id;				/* the id, lower-case */
	const char *filter;			/* GET list: the filter */
	int			filter_len;
	text	   *attributes;		/* NULL when absent */
	text	   *excluded;
	int64		start_index;
	int64		count;
	char	   *token;
	char	   *if_match;
	char	   *base;
	Jsonb	   *body;			/* PATCH: the parsed body */
	pg_uuid_t	tenant;			/* once authenticated: its token's tenant */
	char		tenant_text[UUID_LEN * 2 + 5];	/* and that as uuid_out() writes it */
	/* REQ_SERVICE */
	ServiceEndpoint endpoint;
	const char *segment;		/* the path's first segment, as given */
	int			nseg;			/* how many segments the path has */
	bool		query_invalid;	/* a parameter that is not UTF-8 text */
	bool		filtered;		/* a filter parameter */
	bool		base_odd;		/* a base header that is no string: base is unset */
	/* the general path's: everything the request holds, as read */
	const char *method;			/* upper-cased, "" for none */
	const char *path;			/* as given, "" for none: the event's operation */
	ScimQueryParam *params;		/* the query's parameters, names lower-cased */
	int			nparams;
	Jsonb	   *headers;		/* NULL for none, or when not an object */
	text	   *body_text;		/* NULL for none */
	Datum		tenant_datum;	/* once authenticated: UUIDPGetDatum(&tenant) */
} Request;

/* A row of the statements above, copied out of SPI's memory. */
typedef struct Row
{
	char	   *id;
	Jsonb	   *data;
	int64		version;
	Jsonb	   *groups;
	Jsonb	   *members;		/* a group's, when the response shows them */
} Row;


/* request.c */
extern bool ScimPgReadRequest(FunctionCallInfo fcinfo, Request *req);
extern bool ScimPgUuidText(const char *s, char **id);
extern char *ScimPgHeader(Jsonb *headers, const char *name, bool *ok);
extern char *ScimPgBaseUrl(Jsonb *headers, bool *ok);
extern ScimQueryParam *ScimPgParam(ScimQueryParam *params, int n, const char *name);
extern bool ScimPgBearer(Jsonb *headers, Request *req, bool *ok);
extern const char *ScimPgMethodName(FunctionCallInfo fcinfo);
extern char *ScimPgOddBase(Datum headers, MemoryContext cxt);

/* route.c */
extern Datum ScimPgAnswerAll(FunctionCallInfo fcinfo, const pg_uuid_t *tenant, MemoryContext cxt);
extern int	ScimPgFailureStatus(const ErrorData *e, const char **scim_type);
extern Datum ScimPgAnswerFailure(FunctionCallInfo fcinfo, const Request *req, int status, const char *scim_type,
								 const char *detail, MemoryContext cxt);

/* discovery.c */
extern bool ScimPgReadService(FunctionCallInfo fcinfo, Request *req, const char *first, const char *second,
							  int nseg);
extern void ScimPgAnswerService(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt, Datum *result);

/* auth.c */
extern bool ScimPgAuthenticate(Request *req, MemoryContext cxt, Datum *tenant, bool fresh);
extern bool ScimPgWatched(Oid relid, const char *stmt, const char *row);

/* statements.c */
extern SPIPlanPtr ScimPgPrepare(const char *sql, int nargs, const Oid *argtypes);
extern SPIPlanPtr ScimPgPlan(Statement st);
extern Datum ScimPgOneValue(bool *isnull);
extern int	ScimPgRunDef(const StatementDef *defs, SPIPlanPtr *plans_of, int st, Datum *args, const char *nulls,
						 bool read_only, MemoryContext cxt);
extern int	ScimPgRun(Statement st, Datum *args, bool read_only, MemoryContext cxt);
extern bool ScimPgWithoutMembers(Datum tenant, MemoryContext cxt);
extern int	ScimPgRunUsers(Statement st, Datum *args, bool read_only, Datum tenant, MemoryContext cxt,
						   bool *stale);

/* read.c */
extern void ScimPgPushGroup(JsonbParseState **st, const Request *req, const char *gid, const char *display);
extern Row *ScimPgFetchRows(const Request *req, MemoryContext cxt, int *n);
extern bool ScimPgShow(const Request *req, const Row *row, const struct ScimProjection *projection,
					   ScimPgSink *s);
extern void ScimPgShowAny(const Request *req, const Row *row, const struct ScimProjection *projection,
						  ScimPgSink *s);
extern Row *ScimPgReadById(const Request *req, Datum tenant, MemoryContext cxt);
extern bool ScimPgLookup(const Request *req, Datum tenant, const char *filter, int len, MemoryContext cxt,
						 Row **rows, int *n);
extern bool ScimPgAnswerList(FunctionCallInfo fcinfo, const Request *req, Datum tenant,
							 const struct ScimProjection *proj, MemoryContext cxt, Datum *result);
extern bool ScimPgAnswerGet(FunctionCallInfo fcinfo, const Request *req, Datum tenant,
							const struct ScimProjection *proj, MemoryContext cxt, Datum *result);

/* user_patch.c */
extern bool ScimPgAnswerPatch(FunctionCallInfo fcinfo, const Request *req, Datum tenant,
							  const struct ScimProjection *proj, MemoryContext cxt, Datum *result);
extern void ScimPgForgetPatched(void);
extern Row *ScimPgReplaceUser(const Request *req, Jsonb *body, TimestampTz ts, MemoryContext cxt);

/* list.c: GET /Users, /Groups and POST .../.search; req->rtype NULL at the root */
extern Datum ScimPgAnswerSearch(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt);

/* cursor.c */
extern char *ScimPgCursorQuery(const Request *req, const char *filter, const char *sortby, const char *sortorder);
extern char *ScimPgCursorEncode(TimestampTz created, const char *id, const char *query);
extern void ScimPgCursorDecode(const char *cursor, const char *query, TimestampTz *created, pg_uuid_t *id);

/* write.c: POST /Users, /Groups; GET, PUT, PATCH, DELETE /Users/{id}, /Groups/{id} */
extern Datum ScimPgAnswerResource(FunctionCallInfo fcinfo, Request *req, MemoryContext cxt);

/* jsonb_ops.c: jsonb as SQL's operators have it */
extern JsonbValue *ScimPgKeyValue(Jsonb *doc, const char *key);
extern char *ScimPgKeyText(Jsonb *doc, const char *key);
extern bool ScimPgHasKey(Jsonb *doc, const char *key);
extern bool ScimPgSameValue(const JsonbValue *a, const JsonbValue *b);
extern JsonbValue *ScimPgBodyMember(JsonbContainer *obj, const char *name);
extern Jsonb *ScimPgWithout(JsonbContainer *obj, const char *const *names, int n);
extern Jsonb *ScimPgWithMember(JsonbContainer *obj, const char *key, const JsonbValue *value);
extern JsonbContainer *ScimPgSetPathTarget(Jsonb *doc, const char *key, const char *sub);
extern Jsonb *ScimPgStampMeta(Jsonb *doc, const char *last_modified, const char *version);

/* write.c */
extern bool ScimPgPlain(const char *s);
extern bool ScimPgWantsMembers(const ScimQueryParam *a, const ScimQueryParam *x, MemoryContext cxt);

/* document.c */
extern ErrorData *ScimPgAttempt(void (*fn) (void *arg), void *arg, MemoryContext cxt);
extern Jsonb *ScimPgRequestBody(const Request *req);
extern void ScimPgCheckBody(Jsonb *body);
extern char *ScimPgLeftOut(const ScimIgnored *ignored);
extern Jsonb *ScimPgNormalize(const Request *req, Jsonb *body, ScimIgnored *ignored);
extern Datum ScimPgNewId(void);
extern Jsonb *ScimPgNewDocument(const Request *req, Jsonb *body, const char *id_text, const char *now_text,
								ScimIgnored *ignored);
extern char *ScimPgPasswordSecret(const Request *req, Jsonb *body);
extern Jsonb *ScimPgWithPassword(Jsonb *doc, const char *secret);
extern Jsonb *ScimPgReplacement(const Request *req, Jsonb *cur, Jsonb *body, const char *id,
								ScimIgnored *ignored);

/* ASCII white space, as the database's \s has it for plain ASCII text (ScimPgPlain()) */
static inline bool
ScimPgIsSpace(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* members.c: a member of a group as a request sends it (ScimPgMemberRef()) */
typedef struct MemberRef
{
	char	   *id;				/* as scim.group_members holds it */
	char	   *given;			/* the value as sent */
	char	   *display;		/* the display sent, NULL for none */
} MemberRef;

#define SCIM_MEMBER_UNKNOWN "member \"%s\" is not a User or Group of this tenant"

extern char *ScimPgCanonicalId(const char *v, int len);
extern void ScimPgMemberRef(const JsonbValue *m, bool display, MemberRef *ref);
extern void ScimPgEachMember(const JsonbValue *members, void (*fn) (const JsonbValue *m, void *arg), void *arg);
extern Jsonb *ScimPgMembersOf(const Request *req, const char *gid, MemoryContext cxt);
extern void ScimPgGroupsOfRows(const Request *req, Row **users, int n, MemoryContext cxt);

/* user_groups.c */
extern Jsonb *ScimPgGroupsOf(const Request *req, const char *uid, MemoryContext cxt);
extern bool ScimPgSetMembers(const Request *req, Datum gid, const char *op, const JsonbValue *members,
							 MemoryContext cxt);
extern Jsonb *ScimPgPatchMembers(const Request *req, Datum gid, Jsonb *request, bool *changed,
								 MemoryContext cxt);

/* import_keys.c: an index of the tenant and a key, for scim.import()'s lookups */
typedef struct ScimPgKeys ScimPgKeys;

extern ScimPgKeys *ScimPgKeysOpen(const char *table, const char *index);
extern bool ScimPgKeysHas(ScimPgKeys *k, Datum tenant, Datum key);
extern void ScimPgKeysClose(ScimPgKeys *k);

/* respond.c */
extern const char ScimPgNullHeader[];
extern void ScimPgFail(int status, const char *scim_type, const char *fmt,...)
			pg_attribute_printf(3, 4) pg_attribute_noreturn();
extern void ScimPgLogEvent(const Request *req, const char *kind, const char *rtype, const char *id,
						   int status, const char *scim_type, const char *detail, MemoryContext cxt);
extern Datum ScimPgResponseWith(FunctionCallInfo fcinfo, int status, ScimPgSink *body, const char *etag,
								const char *location, const char *tenant);
extern char *ScimPgCat3(const char *a, const char *b, const char *c);
extern char *ScimPgEtagText(int64 version);
extern char *ScimPgTimestampText(TimestampTz ts);
extern void ScimPgBodySink(FunctionCallInfo fcinfo, ScimPgSink *s);
extern TupleDesc ScimPgResultDesc(FunctionCallInfo fcinfo);
extern Datum ScimPgResponse(FunctionCallInfo fcinfo, int status, ScimPgSink *body, const char *etag,
							const char *tenant);
extern Datum ScimPgDocResponse(FunctionCallInfo fcinfo, int status, Jsonb *body, const char *tenant);
extern Datum ScimPgErrorResponse(FunctionCallInfo fcinfo, int status, const char *scim_type, const char *detail,
								 const char *tenant);

#ifdef __GNUC__
#pragma GCC visibility pop
#endif

#endif
