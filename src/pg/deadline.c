/*
 * deadline.c
 *		The deadline of one scim.handle() call (scim.request_timeout, or
 *		the tenant's own request_timeout).
 *
 * statement_timeout cannot serve: it is the caller's, it times the whole
 * statement that calls the handler, and it is read when that statement
 * starts, so the handler cannot set it for itself.  So the handler arms a
 * timeout of its own (PostgreSQL's timeout.c, one SIGALRM for all of
 * them), which cancels the call as statement_timeout would: the error is
 * query_canceled (57014), no exception block of the PL/pgSQL handler
 * catches it, and the caller's transaction, which has written nothing that
 * can survive it, rolls back.  The cancel's own message says "user
 * request"; ScimPgDeadlineRaise() puts the deadline in its place.
 */
#include "scim_pg.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

static TimeoutId deadline_id;
static bool deadline_registered = false;
static volatile sig_atomic_t deadline_passed = false;
static TimestampTz deadline_start;
static int	deadline_ms;

/* SIGALRM: cancel what runs, as a cancel request or statement_timeout does. */
static void
deadline_handler(void)
{
	deadline_passed = true;
	QueryCancelPending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/*
 * (Re)arm the deadline: ms milliseconds after the call began (the first
 * arming marks the beginning); 0 for none.
 */
void
ScimPgDeadlineArm(int ms, bool first)
{
	if (!deadline_registered)
	{
		deadline_id = RegisterTimeout(USER_TIMEOUT, deadline_handler);
		deadline_registered = true;
	}
	if (first)
	{
		deadline_passed = false;
		deadline_start = GetCurrentTimestamp();
	}
	deadline_ms = ms;
	if (ms > 0)
		enable_timeout_at(deadline_id, TimestampTzPlusMilliseconds(deadline_start, ms));
	else if (get_timeout_active(deadline_id))
		disable_timeout(deadline_id, false);
}

/*
 * Disarm it when the call ends.  A deadline that passed after the call's
 * last check for interrupts must not cancel the caller's next statement.
 */
void
ScimPgDeadlineDisarm(void)
{
	if (deadline_registered && get_timeout_active(deadline_id))
		disable_timeout(deadline_id, false);
	if (deadline_passed)
	{
		deadline_passed = false;
		QueryCancelPending = false;
	}
}

/*
 * In the handler's PG_CATCH, with the caller's memory context current:
 * disarm the deadline and, if the error is the cancel it caused, raise
 * it again saying so.  Returns, having only disarmed, for any other error.
 */
void
ScimPgDeadlineCatch(void)
{
	bool		passed = deadline_passed;
	ErrorData  *e;
	int			code;

	ScimPgDeadlineDisarm();
	if (!passed)
		return;
	e = CopyErrorData();
	code = e->sqlerrcode;
	FreeErrorData(e);
	if (code != ERRCODE_QUERY_CANCELED)
		return;
	FlushErrorState();
	ereport(ERROR,
			(errcode(ERRCODE_QUERY_CANCELED),
			 errmsg("canceling SCIM request after %d ms", deadline_ms),
			 errdetail("The request ran past its deadline and changed nothing."),
			 errhint("The deadline is the setting scim.request_timeout, or the tenant's request_timeout in scim.tenant.")));
}
