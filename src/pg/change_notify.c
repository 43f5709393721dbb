/*
 * change_notify.c
 *		NOTIFY scim_changes at the commit of a transaction that wrote the
 *		change feed, coalesced between writers: NOTIFY takes a cluster-wide
 *		lock ("database 0") from the notifying commit's pre-commit to its
 *		end, its WAL flush included, which serialises notifying writers;
 *		notifying at every commit halved PATCH throughput with 8 and 32
 *		clients.
 */
#include "scim_pg.h"

#include "catalog/pg_database.h"
#include "commands/async.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#define CHANNEL "scim_changes"

/* scim.changes_notify_interval: least ms between two notifications, with the shared clock */
static int	notify_interval = 0;

/*
 * When any backend last notified, so that committing writers notify at
 * most once per scim.changes_notify_interval between them all: in shared
 * memory, when the library is preloaded (feed_shmem_request()).
 */
typedef struct FeedShared
{
	pg_atomic_uint64 last_notify;	/* TimestampTz */
} FeedShared;

static FeedShared *feed_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/*
 * The shared clock, asked for at the server's start when the library is in
 * shared_preload_libraries.  A library loaded later cannot count on shared
 * memory: what the server keeps spare is the lock tables' to grow into, and
 * ShmemInitStruct() raises when it is gone, which only a subtransaction
 * could catch safely (caught without one, the error's clean-up left
 * interrupts held off for the rest of the session).  Without it, writers
 * are coalesced by the notification lock alone (ScimPgChangesNotify()); a
 * clock of each backend's own would not coalesce them (at 32 clients PATCH
 * throughput fell to 0.43x with one).
 */
static void
feed_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(FeedShared)));
}

static void
feed_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	feed_shared = ShmemInitStruct("scim change feed", sizeof(FeedShared), &found);
	if (!found)
		pg_atomic_init_u64(&feed_shared->last_notify, 0);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * NOTIFY scim_changes at this commit, unless another transaction is
 * committing a notification this moment (or, with the shared clock, one
 * did less than scim.changes_notify_interval ago): of writers committing
 * together, one notifies, and the others' changes are read with its.  The
 * lock is the one PreCommit_Notify() takes, "database 0"; taken here
 * without waiting, it is held to the end of the commit, as NOTIFY's is.
 */
void
ScimPgChangesNotify(void)
{
	LOCKTAG		tag;
	TimestampTz now = 0;
	uint64		last = 0;
	bool		timed = feed_shared != NULL && notify_interval > 0;

	if (timed)
	{
		now = GetCurrentTimestamp();
		last = pg_atomic_read_u64(&feed_shared->last_notify);
		if (now < (TimestampTz) last + (TimestampTz) notify_interval * 1000)
			return;
	}
	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, InvalidOid, 0);
	if (LockAcquire(&tag, AccessExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return;
	if (timed && !pg_atomic_compare_exchange_u64(&feed_shared->last_notify, &last, (uint64) now))
	{
		/* another writer notifies now: theirs will do */
		LockRelease(&tag, AccessExclusiveLock, false);
		return;
	}
	Async_Notify(CHANNEL, NULL);
}

/* From _PG_init (changes.c's). */
void
ScimPgChangesNotifyInit(void)
{
	DefineCustomIntVariable("scim.changes_notify_interval",
							"Least time between two NOTIFY scim_changes.",
							"With scim in shared_preload_libraries, a transaction that changes the store "
							"notifies at commit unless one did less than this long ago; 0 leaves only "
							"the coalescing of writers that commit at the same moment.",
							&notify_interval, 10, 0, 60000,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = feed_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = feed_shmem_startup;
	}
}
