/*
 * auth.c
 *		The request handler's authentication: the bearer token's tenant,
 *		from this backend's cache of the tokens it has seen or from
 *		scim.token.
 */
#include "handle_int.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/hashfn.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/*
 * The tokens this backend has seen (cache.c): looking one up was a
 * twentieth of a lookup request, and hashing it (OpenSSL's SHA-256 context
 * set-up) a fiftieth, so the cache is keyed by the token itself, found
 * through a hash seeded at random per backend and compared in constant
 * time, and kept in this backend's memory only.  Any change to scim.token
 * (a new token, a revocation, a new expiry, a tenant dropped) fires a
 * trigger that invalidates the table's relcache entry in every backend, and
 * the callback below forgets them all; invalidations are read at the start
 * of each transaction, so a revocation holds from the next request on, as
 * it did when every request read the table.  Expiry is checked on every
 * use.  The tokens are cached only while the triggers fire whatever the
 * session's session_replication_role (see ScimPgWatched()); otherwise each
 * request reads the table.
 */
#define TOKEN_MAX 128			/* scim.create_token() issues 48 characters */

typedef struct TokenKey
{
	char		token[TOKEN_MAX];	/* zero-padded */
} TokenKey;

typedef struct TokenEntry
{
	TokenKey	key;
	dlist_node	lru;
	pg_uuid_t	tenant;
	char		tenant_text[UUID_LEN * 2 + 5];	/* as uuid_out() writes it */
	bool		expires;
	TimestampTz expires_at;
} TokenEntry;

static uint32 token_key_hash(const void *key, Size keysize);
static int	token_key_match(const void *a, const void *b, Size keysize);

static ScimPgCache tokens = SCIM_PG_CACHE("scim tokens", TokenEntry, key, lru, token_key_hash, token_key_match, true);
static uint64 token_seed;
static Oid	token_relid = InvalidOid;
static bool token_watched;		/* scim.token has its triggers, enabled */
static bool tokens_callback;

/* What the relcache says has changed: the tokens, or anything. */
static void
tokens_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == token_relid)
	{
		ScimPgCacheForget(&tokens);
		token_relid = InvalidOid;	/* looked up again: the extension may be new */
	}
}

/*
 * Have the relcache tell tokens_invalidate() of changes, before anything
 * is cached; and seed the cache's hash, so that which tokens share a
 * bucket says nothing that holds in another backend.
 */
static void
watch_tokens(void)
{
	if (!tokens_callback)
	{
		if (!pg_strong_random(&token_seed, sizeof(token_seed)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate random bytes")));
		CacheRegisterRelcacheCallback(tokens_invalidate, (Datum) 0);
		tokens_callback = true;
	}
}

/* A TokenKey's hash: of its token's bytes (its length is the client's own), under the backend's seed. */
static uint32
token_key_hash(const void *key, Size keysize)
{
	const char *t = ((const TokenKey *) key)->token;

	return (uint32) hash_bytes_extended((const unsigned char *) t, strnlen(t, TOKEN_MAX), token_seed);
}

/* Are two TokenKeys the same (0)?  In time that depends on nothing in them. */
static int
token_key_match(const void *a, const void *b, Size keysize)
{
	const unsigned char *x = a;
	const unsigned char *y = b;
	unsigned char diff = 0;

	for (Size i = 0; i < keysize; i++)
		diff |= x[i] ^ y[i];
	return diff != 0;
}

/*
 * Will every change to table relid tell every backend?  A cache of the
 * table is kept only then.  The install script gives scim.token and
 * scim.group_members two triggers calling scim._registry_changed(): a
 * statement trigger (name "stmt") enabled ALWAYS, so that it fires in a
 * session under session_replication_role = replica too (pg_restore
 * --disable-triggers, a tool applying changes), and a row trigger ("row")
 * enabled REPLICA, for logical replication's apply, which fires row
 * triggers only.  If the table owner disables either (ALTER TABLE ...
 * DISABLE TRIGGER, as pg_restore --disable-triggers does too) or enables
 * the statement trigger for the origin role alone, the changes made
 * meanwhile would go untold: then nothing is cached, and every request
 * reads the table.  Changing a trigger's state invalidates the table's
 * relcache entry in every backend, so this is asked again at once.  Read
 * once per invalidation, it costs a request nothing.
 */
bool
ScimPgWatched(Oid relid, const char *stmt, const char *row)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		stmt_on = false;
	bool		row_on = false;

	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		if (strcmp(NameStr(t->tgname), stmt) == 0)
			stmt_on = t->tgenabled == TRIGGER_FIRES_ALWAYS;
		else if (strcmp(NameStr(t->tgname), row) == 0)
			row_on = t->tgenabled == TRIGGER_FIRES_ALWAYS || t->tgenabled == TRIGGER_FIRES_ON_REPLICA;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return stmt_on && row_on;
}

/* The SHA-256 of s, as sha256(convert_to(s, 'UTF8')) computes it for ASCII s. */
static bool
token_hash(const char *s, uint8 *out)
{
	pg_cryptohash_ctx *ctx;
	bool		ok;

	for (const char *c = s; *c; c++)
		if (IS_HIGHBIT_SET(*c))
			return false;		/* not one scim.create_token() issued */
	ctx = pg_cryptohash_create(PG_SHA256);
	ok = ctx != NULL && pg_cryptohash_init(ctx) == 0 &&
		pg_cryptohash_update(ctx, (const uint8 *) s, strlen(s)) == 0 &&
		pg_cryptohash_final(ctx, out, PG_SHA256_DIGEST_LENGTH) == 0;
	pg_cryptohash_free(ctx);
	return ok;
}

/*
 * The tenant of token entry e, into the request (and *tenant); true.  A
 * copy: an invalidation read during the request empties the cache.
 */
static bool
found(Request *req, const TokenEntry *e, Datum *tenant)
{
	memcpy(&req->tenant, &e->tenant, sizeof(pg_uuid_t));
	memcpy(req->tenant_text, e->tenant_text, sizeof(req->tenant_text));
	*tenant = UUIDPGetDatum(&req->tenant);
	return true;
}

/*
 * The tenant of the request's live token: from the cache, else from scim.token, read with its owner's rights
 * (the table is not the caller's to read, as for SECURITY DEFINER).  fresh
 * reads with a new snapshot, as any statement of a volatile function
 * would: the general path's, which then also sees a token created earlier
 * in the caller's own statement; the fast path reads with the caller's.
 */
bool
ScimPgAuthenticate(Request *req, MemoryContext cxt, Datum *tenant, bool fresh)
{
	uint8		hash[PG_SHA256_DIGEST_LENGTH];
	bytea	   *arg;
	Datum		argd;
	TokenKey	key;
	TokenEntry *e;
	TokenEntry	once;
	uint64		seen = ScimPgCacheSeen(&tokens);
	Oid			owner;
	Oid			save_user;
	int			save_sec;
	int			rc;
	bool		isnull;
	Datum		d;
	int			len = strlen(req->token);

	watch_tokens();
	if (len >= TOKEN_MAX)
		return false;
	if (!OidIsValid(token_relid))
	{
		token_relid = get_relname_relid("token", get_namespace_oid("scim", false));
		if (!OidIsValid(token_relid))
			return false;
		token_watched = ScimPgWatched(token_relid, "token_changed", "token_applied");
	}
	memset(&key, 0, sizeof(key));
	memcpy(key.token, req->token, len);
	if (token_watched && (e = ScimPgCacheFind(&tokens, &key)) != NULL)
	{
		if (e->expires && e->expires_at <= GetCurrentTransactionStartTimestamp())
			return false;		/* expired: 401 */
		return found(req, e, tenant);
	}

	if (!token_hash(req->token, hash))
		return false;
	owner = ScimPgRelOwner(token_relid);
	if (!OidIsValid(owner))
		return false;

	arg = palloc(VARHDRSZ + sizeof(hash));
	SET_VARSIZE(arg, VARHDRSZ + sizeof(hash));
	memcpy(VARDATA(arg), hash, sizeof(hash));
	argd = PointerGetDatum(arg);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = ScimPgRun(ST_AUTH, &argd, !fresh, cxt);
	SetUserIdAndSecContext(save_user, save_sec);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return false;

	memcpy(&once.tenant, DatumGetUUIDP(d), sizeof(pg_uuid_t));
	strlcpy(once.tenant_text, DatumGetCString(DirectFunctionCall1(uuid_out, d)), sizeof(once.tenant_text));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	once.expires = !isnull;
	once.expires_at = isnull ? 0 : DatumGetTimestampTz(d);

	/*
	 * Kept only while a change to the row would be told (ScimPgWatched())
	 * and none was told while it was read; else for this request alone.
	 */
	if (token_watched && (e = ScimPgCacheAdd(&tokens, &key, seen)) != NULL)
	{
		e->tenant = once.tenant;
		memcpy(e->tenant_text, once.tenant_text, sizeof(e->tenant_text));
		e->expires = once.expires;
		e->expires_at = once.expires_at;
	}
	return found(req, &once, tenant);
}

