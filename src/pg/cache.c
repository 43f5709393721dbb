/*
 * cache.c
 *		The backend's caches of what the handler reads per tenant (tokens,
 *		tenants' limits, which tenants have no memberships): hash tables of
 *		at most CACHE_ENTRIES entries, the least recently used one going
 *		when a new one comes, all forgotten when the table they copy changes.
 *
 * With sixteen entries a backend serving requests of many tenants in turn
 * (readers behind scim-server take any tenant's next request) looked up
 * nearly every request's token, limits and memberships again: a lookup by
 * userName cost 1.48 times what it cost in a store of one tenant (bench
 * part 9).  An entry takes a few hundred bytes at most (a token's 128),
 * so a backend's three caches hold a few thousand tenants in about 2 MB.
 *
 * Forgetting is the relcache callbacks' (auth.c, tenant.c, statements.c):
 * ScimPgCacheForget() drops the table at once and counts.  A caller reads
 * the count before it reads the table (ScimPgCacheSeen()) and hands it to
 * ScimPgCacheAdd(), which keeps nothing if a change was told meanwhile:
 * what was read may predate it.
 */
#include "scim_pg.h"

#include "utils/memutils.h"

/* the most entries a cache keeps: a few thousand tenants per backend */
#define CACHE_ENTRIES 4096

/* The entry's link in the recency list. */
static inline dlist_node *
link_of(const ScimPgCache *c, void *entry)
{
	return (dlist_node *) ((char *) entry + c->link);
}

/* The cache's table, made in its own memory context under TopMemoryContext. */
static HTAB *
table_of(ScimPgCache *c)
{
	HASHCTL		ctl;
	int			flags = HASH_ELEM | HASH_CONTEXT;

	if (c->htab != NULL)
		return c->htab;
	ctl.keysize = c->keysize;
	ctl.entrysize = c->entrysize;
	ctl.hcxt = TopMemoryContext;
	if (c->hash != NULL)
	{
		ctl.hash = c->hash;
		ctl.match = c->match;
		flags |= HASH_FUNCTION | HASH_COMPARE;
	}
	else
		flags |= HASH_BLOBS;
	c->htab = hash_create(c->name, 64, &ctl, flags);
	dlist_init(&c->lru);
	return c->htab;
}

/* The entry for key, now the most recently used; NULL if there is none. */
void *
ScimPgCacheFind(ScimPgCache *c, const void *key)
{
	void	   *entry;

	if (c->htab == NULL)
		return NULL;
	entry = hash_search(c->htab, key, HASH_FIND, NULL);
	if (entry != NULL)
		dlist_move_head(&c->lru, link_of(c, entry));
	return entry;
}

/*
 * A new entry for key, its other fields zeroed, for the caller to fill;
 * NULL if the cache was forgotten since the caller read ScimPgCacheSeen()
 * (seen), so that nothing read before a change is kept after it.
 */
void *
ScimPgCacheAdd(ScimPgCache *c, const void *key, uint64 seen)
{
	HTAB	   *htab;
	void	   *entry;
	bool		found;

	if (seen != c->seen)
		return NULL;
	htab = table_of(c);
	if (hash_get_num_entries(htab) >= CACHE_ENTRIES)
	{
		dlist_node *oldest = dlist_tail_node(&c->lru);
		void	   *victim = (char *) oldest - c->link;

		dlist_delete(oldest);
		(void) hash_search(htab, victim, HASH_REMOVE, NULL);
		if (c->secret)
			explicit_bzero(victim, c->entrysize);	/* on dynahash's free list */
	}
	entry = hash_search(htab, key, HASH_ENTER, &found);
	if (found)
		dlist_delete(link_of(c, entry));
	memset((char *) entry + c->keysize, 0, c->entrysize - c->keysize);
	dlist_push_head(&c->lru, link_of(c, entry));
	return entry;
}

/*
 * Forget every entry (zeroed first, for a cache of secrets): called from a
 * relcache callback, between any two statements of the handler's, never
 * while an entry is in use.
 */
void
ScimPgCacheForget(ScimPgCache *c)
{
	c->seen++;
	if (c->htab == NULL)
		return;
	if (c->secret)
	{
		HASH_SEQ_STATUS scan;
		void	   *entry;

		hash_seq_init(&scan, c->htab);
		while ((entry = hash_seq_search(&scan)) != NULL)
			explicit_bzero(entry, c->entrysize);
	}
	hash_destroy(c->htab);
	c->htab = NULL;
}
