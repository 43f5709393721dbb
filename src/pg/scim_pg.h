/*
 * scim_pg.h
 *		Shared declarations of the extension's glue (src/pg): errors, the
 *		cached schema registry, the jsonb view and arenas tied to memory
 *		contexts.
 *
 * No file that includes this one may include <json-c/json.h>: PostgreSQL
 * declares a function named json_object, and json-c stays in the core.
 */
#ifndef SCIM_PG_H
#define SCIM_PG_H

#include "postgres.h"

#include "lib/ilist.h"
#include "lib/stringinfo.h"
#include "fmgr.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "arena.h"
#include "error.h"
#include "filter_eval.h"
#include "patch.h"
#include "schema.h"

/* body_parse.c: deeper JSON than this goes to jsonb_in(), which reports it */
#define SCIM_BODY_MAX_DEPTH 200

extern Jsonb *ScimPgParseBody(const char *s, size_t len);
extern Jsonb *ScimPgReadBody(text *body);

/* module.c: the settings */
extern int	scim_max_results;
extern int	scim_default_count;
extern int	scim_cursor_timeout;
extern int	scim_request_timeout;

/* module.c */
extern Oid	ScimPgRelOwner(Oid relid);

/*
 * cache.c: a backend's bounded cache of entries found by key.  An entry
 * is a struct that begins with its key and holds a dlist_node (at link);
 * hash and match are dynahash's (NULL: the key's bytes); secret zeroes
 * entries as they go.  SCIM_PG_CACHE() fills in the rest.
 */
typedef struct ScimPgCache
{
	const char *name;
	Size		keysize;
	Size		entrysize;
	Size		link;
	HashValueFunc hash;
	HashCompareFunc match;
	bool		secret;
	HTAB	   *htab;			/* NULL until the first entry, and once forgotten */
	dlist_head	lru;			/* most recently used first */
	uint64		seen;			/* how many times forgotten */
} ScimPgCache;

#define SCIM_PG_CACHE(name, Entry, key, link, hash, match, secret) \
	{(name), sizeof(((Entry *) 0)->key), sizeof(Entry), offsetof(Entry, link), (hash), (match), (secret)}

/* How many times c has been forgotten: read before what may be kept (ScimPgCacheAdd()). */
static inline uint64
ScimPgCacheSeen(const ScimPgCache *c)
{
	return c->seen;
}

extern void *ScimPgCacheFind(ScimPgCache *c, const void *key);
extern void *ScimPgCacheAdd(ScimPgCache *c, const void *key, uint64 seen);
extern void ScimPgCacheForget(ScimPgCache *c);

/* changes.c: what made the changes being written, the request under way */
typedef struct ScimPgOrigin
{
	const char *operation;		/* "PATCH /Users/2819c223-...", as its event names it; NULL for none */
	int			status;			/* the request's answer */
	const char *detail;			/* what its event says besides, or NULL */
} ScimPgOrigin;

/* tenant.c: a scim.handle() call, as ScimPgHandlerEnter() keeps it */
typedef struct ScimPgCall
{
	Oid			save_user;		/* the caller's role and security context */
	int			save_sec;
	int			nest;			/* the call's GUC nesting level, 0 until it needs one */
	bool		tenant_was_set; /* the tenant before the call */
	pg_uuid_t	tenant_was;
	ScimPgOrigin origin_was;	/* what made changes before the call */
	struct ScimPgCall *outer;
} ScimPgCall;

extern void ScimPgTenantInit(void);
extern void ScimPgHandlerEnter(FunctionCallInfo fcinfo, ScimPgCall *call);
extern void ScimPgHandlerNest(void);
extern void ScimPgPinPath(void);
extern void ScimPgHandlerLeave(ScimPgCall *call);
extern void ScimPgHandlerAbort(ScimPgCall *call);
extern void ScimPgRequireHandler(const char *function);
extern void ScimPgActFor(const pg_uuid_t *tenant);
extern void ScimPgActForBatch(const pg_uuid_t *tenant);

/* change_rows.c: one row of scim.change, as changes.c's triggers make it */
typedef struct ScimPgChange
{
	pg_uuid_t	tenant;
	const char *kind;
	const char *rtype;			/* NULL for none */
	const pg_uuid_t *id;		/* NULL for none */
	const pg_uuid_t *member;	/* NULL for none */
	int64		version;
	bool		has_version;
} ScimPgChange;

extern void ScimPgChangeInsert(const ScimPgChange *c, int n, const ScimPgOrigin *origin);
extern void ScimPgChangeClose(bool release);
extern Oid	ScimPgChangeRelid(void);

/* changes.c: the change feed's triggers */
extern void ScimPgChangesInit(void);
extern void ScimPgChangesOrigin(const ScimPgOrigin *o);
extern ScimPgOrigin ScimPgChangesCurrentOrigin(void);
extern void ScimPgChangesRequestEnd(void);

/* change_notify.c */
extern void ScimPgChangesNotifyInit(void);
extern void ScimPgChangesNotify(void);

/* user_patch.c */
extern const char *ScimPgChangeKind(Jsonb *was, Jsonb *now);

/* secrets.c: the HMAC-SHA-256 a cursor is signed with (32 bytes into out) */
extern void ScimPgCursorMac(const uint8 *data, size_t len, uint8 *out);

/* deadline.c */
extern void ScimPgDeadlineArm(int ms, bool first);
extern void ScimPgDeadlineDisarm(void);
extern void ScimPgDeadlineCatch(void);

/* errors.c */
extern void ScimPgRaise(const ScimError *err) pg_attribute_noreturn();
extern int	ScimPgSqlState(ScimErrorKind kind);
extern int	ScimPgStatusSqlState(int status, const char *scim_type);
extern bool ScimPgSqlStateStatus(int code, int *status, const char **scim_type);

/* registry.c */
extern const ScimRegistry *ScimPgRegistry(uint64 *generation);
extern const ScimResourceType *ScimPgResourceType(const ScimRegistry *reg, text *name);

/* jsonb_view.c */
extern const ScimValueOps ScimJsonbOps;
extern void ScimJsonbRoot(Jsonb *jb, ScimValue *out);
extern void ScimJsonbValue(const JsonbValue *v, ScimValue *out);
extern char *ScimPgValueText(const ScimValue *v, size_t *len);

/* secrets.c */
extern char *ScimPgHashPassword(const char *password);

/* values.c */
extern char *ScimPgArrowText(const JsonbValue *v, int *len);
extern struct NumericData *ScimPgNumeric(const char *text);

/* filter_funcs.c */
extern char *ScimPgStoreFilterSql(const char *s, size_t len, const ScimResourceType *type, bool root,
								  const char *alias);
extern bool ScimPgSimpleEq(const char *filter, size_t len, const ScimResourceType *type,
						   const char **attr, const char **value, size_t *value_len);

/*
 * A jsonb container's members or elements read in order straight from its
 * binary form.  JsonbIteratorNext() unpacks every value into a JsonbValue
 * on the way, and getJsonbOffset() walks back to the last stored offset
 * for each entry; here each entry's offset is carried from the one before.
 */
typedef struct ScimPgEntry
{
	uint32		type;			/* JENTRY_ISSTRING and so on */
	const char *data;			/* a numeric's or a container's without the padding before it */
	uint32		len;
} ScimPgEntry;

/* One run of entries: an object's keys, its values, or an array's elements. */
typedef struct ScimPgEntries
{
	const JsonbContainer *c;
	const char *base;			/* the container's data */
	uint32		off;			/* the next entry's offset from base */
	int			i;				/* the next entry */
} ScimPgEntries;

typedef struct ScimPgWalk
{
	ScimPgEntries keys;
	ScimPgEntries values;
	bool		object;
	int			left;
} ScimPgWalk;

static inline void
ScimPgEntriesInit(ScimPgEntries *e, const JsonbContainer *c, int i, int nentries)
{
	e->c = c;
	e->base = (const char *) &c->children[nentries];
	e->off = i > 0 ? getJsonbOffset(c, i) : 0;
	e->i = i;
}

static inline void
ScimPgEntriesNext(ScimPgEntries *e, ScimPgEntry *out)
{
	JEntry		je = e->c->children[e->i++];
	uint32		end = JBE_HAS_OFF(je) ? JBE_OFFLENFLD(je) : e->off + JBE_OFFLENFLD(je);
	uint32		start = e->off;

	out->type = je & JENTRY_TYPEMASK;
	if (out->type == JENTRY_ISNUMERIC || out->type == JENTRY_ISCONTAINER)
		start = INTALIGN(start);
	out->data = e->base + start;
	out->len = end - start;
	e->off = end;
}

static inline void
ScimPgWalkInit(ScimPgWalk *w, const JsonbContainer *c)
{
	int			n = JsonContainerSize(c);

	w->object = JsonContainerIsObject(c);
	w->left = n;
	ScimPgEntriesInit(&w->keys, c, 0, w->object ? 2 * n : n);
	ScimPgEntriesInit(&w->values, c, w->object ? n : 0, w->object ? 2 * n : n);
}

/*
 * The next member (key and value) or element (value; key, which may then
 * be NULL, as JSON null); false after the last.
 */
static inline bool
ScimPgWalkNext(ScimPgWalk *w, ScimPgEntry *key, ScimPgEntry *value)
{
	if (w->left <= 0)
		return false;
	w->left--;
	if (w->object)
		ScimPgEntriesNext(&w->keys, key);
	else if (key != NULL)
	{
		key->type = JENTRY_ISNULL;
		key->data = NULL;
		key->len = 0;
	}
	ScimPgEntriesNext(&w->values, value);
	return true;
}

/* An entry as a JsonbValue (a container as jbvBinary, not unpacked). */
static inline void
ScimPgEntryValue(JsonbValue *v, const ScimPgEntry *e)
{
	switch (e->type)
	{
		case JENTRY_ISSTRING:
			v->type = jbvString;
			v->val.string.val = (char *) e->data;
			v->val.string.len = e->len;
			break;
		case JENTRY_ISNUMERIC:
			v->type = jbvNumeric;
			v->val.numeric = (Numeric) e->data;
			break;
		case JENTRY_ISBOOL_TRUE:
		case JENTRY_ISBOOL_FALSE:
			v->type = jbvBool;
			v->val.boolean = e->type == JENTRY_ISBOOL_TRUE;
			break;
		case JENTRY_ISNULL:
			v->type = jbvNull;
			break;
		default:
			v->type = jbvBinary;
			v->val.binary.data = (JsonbContainer *) e->data;
			v->val.binary.len = e->len;
			break;
	}
}

/* A value as an entry, the inverse of ScimPgEntryValue() (a container in binary form only). */
static inline void
ScimPgValueEntry(ScimPgEntry *e, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			e->type = JENTRY_ISSTRING;
			e->data = v->val.string.val;
			e->len = v->val.string.len;
			break;
		case jbvNumeric:
			e->type = JENTRY_ISNUMERIC;
			e->data = (const char *) v->val.numeric;
			e->len = VARSIZE_ANY(v->val.numeric);
			break;
		case jbvBool:
			e->type = v->val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
			e->data = NULL;
			e->len = 0;
			break;
		case jbvNull:
			e->type = JENTRY_ISNULL;
			e->data = NULL;
			e->len = 0;
			break;
		default:
			Assert(v->type == jbvBinary);
			e->type = JENTRY_ISCONTAINER;
			e->data = (const char *) v->val.binary.data;
			e->len = v->val.binary.len;
			break;
	}
}

/* json_sink.c: a document built as jsonb, or written as jsonb_out() would write it */
typedef struct ScimPgSink
{
	JsonbParseState *st;		/* building a jsonb (text is NULL) */
	StringInfo	text;			/* or writing JSON text here */
	bool		first;			/* text: nothing yet in the open container */
	JsonbValue *result;			/* jsonb: what the last push returned */
} ScimPgSink;

extern int	ScimPgKeyCmp(const char *a, int alen, const char *b, int blen);
extern bool ScimPgKeyIn(const char *key, int keylen, const char *const *names, int n);

/* An object's member in binary form, for ScimPgWriteObject(). */
typedef struct ScimPgMember
{
	ScimPgEntry key;
	ScimPgEntry value;
} ScimPgMember;

/* A C string as a key or a string value. */
static inline void
ScimPgStringEntry(ScimPgEntry *e, const char *s)
{
	e->type = JENTRY_ISSTRING;
	e->data = s;
	e->len = strlen(s);
}

extern void ScimPgWriteObject(StringInfo buf, const ScimPgMember *m, int n);
extern Jsonb *ScimPgObjectJsonb(const ScimPgMember *m, int n);
extern ScimPgMember *ScimPgMergeMembers(const JsonbContainer *obj, const ScimPgMember *add, int nadd,
										const char *const *skip, int nskip, int *count);
extern ScimPgMember *ScimPgWithStrings(const JsonbContainer *obj, int n, const char *const *keys,
									   const char *const *values, int *count);
extern void ScimPgJsonbText(StringInfo out, Jsonb *jb);
extern void ScimPgSinkInit(ScimPgSink *s, StringInfo text);
extern void ScimPgSinkOpen(ScimPgSink *s, JsonbIteratorToken tok);
extern void ScimPgSinkClose(ScimPgSink *s, JsonbIteratorToken tok);
extern void ScimPgSinkKey(ScimPgSink *s, const char *key, int len);
extern void ScimPgSinkValue(ScimPgSink *s, JsonbIteratorToken tok, JsonbValue *v);
extern void ScimPgSinkString(ScimPgSink *s, JsonbIteratorToken tok, const char *str);
extern void ScimPgSinkInt(ScimPgSink *s, JsonbIteratorToken tok, int64 n);
extern Jsonb *ScimPgSinkJsonb(ScimPgSink *s);

/* list_funcs.c */
extern Jsonb *ScimPgListResponse(Jsonb *resources, int64 total, int64 count, int32 start_index);
extern void ScimPgListOpen(ScimPgSink *s);
extern void ScimPgListClose(ScimPgSink *s, int64 total, int64 count, int32 start_index);
extern void ScimPgListCloseCursor(ScimPgSink *s, int64 total, int64 count, const char *next_cursor);

/* patch_funcs.c: strings set in an object member (meta) of a resource a PATCH changed */
typedef struct ScimPgStamp
{
	const char *member;
	int			n;
	const char *const *keys;
	const char *const *values;
} ScimPgStamp;

extern Jsonb *ScimPgPatchTry(Jsonb *resource, Jsonb *patch, text *type_name, const ScimPgStamp *stamp,
							 bool *changed, ScimError *err, ScimIgnored *ignored);
extern bool ScimPgObjectsEqualExcept(JsonbContainer *a, JsonbContainer *b, const char *except);

/* project_funcs.c */
struct ScimProjection;
extern const struct ScimProjection *ScimPgProjection(void **slot, MemoryContext parent,
													 text *attributes, text *excluded,
													 text *resource_type, ScimError *failed);
extern Jsonb *ScimPgProject(Jsonb *resource, const struct ScimProjection *p);

/*
 * top-level members to set while projecting: keys[i] to values[i], the
 * keys in jsonb's order (ScimPgKeyCmp)
 */
typedef struct ScimPgMembers
{
	int			n;
	const char *const *keys;
	Jsonb	  **values;
} ScimPgMembers;

extern Jsonb *ScimPgProjectWith(Jsonb *resource, const struct ScimProjection *p, const ScimPgMembers *set);
extern void ScimPgProjectPush(ScimPgSink *s, Jsonb *resource, const struct ScimProjection *p,
							  const ScimPgMembers *set);

/* request.c */
typedef struct ScimQueryParam
{
	char	   *name;			/* lower-cased */
	int			name_len;
	char	   *value;
	int			value_len;
} ScimQueryParam;

extern int	ScimPgQueryParams(const char *s, int len, ScimQueryParam **params, bool *valid);
extern bool ScimPgSortSql(const char *path, size_t len, const ScimResourceType *type, const char *column,
						  char **sql, ScimError *err);

/* module.c */
struct ScimFilterLimits;
extern const struct ScimFilterLimits *ScimPgFilterLimits(void);
extern ScimArena *ScimPgArenaCreate(MemoryContext cxt);
extern char *ScimPgQuoteColumn(text *column);

#endif
