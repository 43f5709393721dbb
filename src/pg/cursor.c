/*
 * cursor.c
 *		The cursors of cursor pagination (RFC 9865): a page's position
 *		signed into a nextCursor, and a cursor read back into one.
 *
 * A cursor is the position after the last row of a page, the query it
 * belongs to (its tenant among it) and when it was issued, signed with
 * HMAC-SHA-256 under the database's key (scim.secret), base64url-encoded:
 * opaque to clients, and only ever a position within the caller's own
 * tenant.  The issue time is signed with the rest, so no cursor outlives
 * scim.cursor_timeout.  The signed text is "c2|<created, microseconds
 * since 1970>|<id>|<query hash>|<issued, seconds since 1970>", as in every
 * cursor issued so far, so that those stay good.
 */
#include "handle_int.h"

#include "access/xact.h"
#include "common/base64.h"
#include "common/int.h"
#include "common/md5.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#define CURSOR_MAC_LEN 32
#define CURSOR_PARTS 5

/* microseconds from 1970 to 2000, where PostgreSQL counts timestamps from */
#define UNIX_SHIFT_US ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* Fail as a cursor this service did not issue (or that does not decode). */
static void
not_issued(void)
{
	ScimPgFail(400, "invalidCursor", "the cursor is not one this service issued; start again with an empty cursor");
}

/*
 * The hash a cursor carries of the query it pages: the first 12 hex digits
 * of the MD5 of [tenant, resource type, filter, sortBy, sortOrder] as
 * jsonb prints that array (NULL items as null).
 */
char *
ScimPgCursorQuery(const Request *req, const char *filter, const char *sortby, const char *sortorder)
{
	const char *items[] = {req->tenant_text, req->rtype, filter, sortby, sortorder};
	JsonbValue	null = {.type = jbvNull};
	ScimPgSink	s;
	char		hex[33];
	const char *errstr = NULL;

	ScimPgSinkInit(&s, makeStringInfo());
	ScimPgSinkOpen(&s, WJB_BEGIN_ARRAY);
	for (int i = 0; i < lengthof(items); i++)
	{
		if (items[i] != NULL)
			ScimPgSinkString(&s, WJB_ELEM, items[i]);
		else
			ScimPgSinkValue(&s, WJB_ELEM, &null);
	}
	ScimPgSinkClose(&s, WJB_END_ARRAY);
	if (!pg_md5_hash(s.text->data, s.text->len, hex, &errstr))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute an MD5 hash: %s", errstr)));
	return pnstrdup(hex, 12);
}

/*
 * The nextCursor after the row (created, id) of the query hashed as query:
 * issued now (the transaction's start, as now()), in whole seconds rounded
 * as extract(epoch FROM now())::bigint rounds them.
 */
char *
ScimPgCursorEncode(TimestampTz created, const char *id, const char *query)
{
	int64		now_us = GetCurrentTransactionStartTimestamp() + UNIX_SHIFT_US;
	int64		now_s = (now_us + (now_us >= 0 ? 1 : -1) * (USECS_PER_SEC / 2)) / USECS_PER_SEC;
	StringInfoData data;
	uint8		mac[CURSOR_MAC_LEN];
	char	   *enc;
	int			n;
	int			k = 0;

	initStringInfo(&data);
	appendStringInfo(&data, "c2|" INT64_FORMAT "|%s|%s|" INT64_FORMAT, created + UNIX_SHIFT_US, id, query, now_s);
	ScimPgCursorMac((const uint8 *) data.data, data.len, mac);
	appendBinaryStringInfo(&data, (const char *) mac, CURSOR_MAC_LEN);
	enc = palloc(pg_b64_enc_len(data.len) + 1);
	n = pg_b64_encode(data.data, data.len, enc, pg_b64_enc_len(data.len));
	if (n < 0)
		elog(ERROR, "could not encode a cursor");
	/* base64url without padding */
	for (int i = 0; i < n; i++)
		if (enc[i] != '=')
			enc[k++] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
	enc[k] = '\0';
	return enc;
}

/* s as a decimal integer, nothing else; false when it is none or overflows. */
static bool
decimal(const char *s, int64 *out)
{
	char	   *end;

	if (*s == '\0' || (*s != '-' && (*s < '0' || *s > '9')))
		return false;
	errno = 0;
	*out = strtoi64(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/*
 * The bytes of cursor, as decode(..., 'base64') reads it once base64url is
 * made base64 and padded by its length in characters; NULL for anything
 * decode() refuses.  That is PostgreSQL's own decoder, whose leniency
 * (whitespace skipped) the cursors in use may rely on; its error is
 * replaced by ours, never recovered from.
 */
static bytea *
cursor_bytes(const char *cursor)
{
	MemoryContext cxt = CurrentMemoryContext;
	int			len = strlen(cursor);
	int			pad = (4 - pg_mbstrlen_with_len(cursor, len) % 4) % 4;
	char	   *b64 = palloc(len + pad + 1);
	volatile bool ok = true;
	bytea	   *volatile raw = NULL;

	for (int i = 0; i < len; i++)
		b64[i] = cursor[i] == '-' ? '+' : cursor[i] == '_' ? '/' : cursor[i];
	memset(b64 + len, '=', pad);
	b64[len + pad] = '\0';
	PG_TRY();
	{
		raw = DatumGetByteaPP(DirectFunctionCall2(binary_decode, CStringGetTextDatum(b64),
												  CStringGetTextDatum("base64")));
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (e->sqlerrcode == ERRCODE_QUERY_CANCELED)
			PG_RE_THROW();
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	return ok ? raw : NULL;
}

/*
 * The position (created, id) cursor stands for, given the hash of the
 * query it is used with; fails invalidCursor for a cursor not issued here
 * or for another query, expiredCursor past scim.cursor_timeout.  Nothing
 * is read from a cursor before its signature is checked.
 */
void
ScimPgCursorDecode(const char *cursor, const char *query, TimestampTz *created, pg_uuid_t *id)
{
	bytea	   *raw = cursor_bytes(cursor);
	const uint8 *data;
	int			len;
	uint8		want[CURSOR_MAC_LEN];
	uint8		diff = 0;
	char	   *text;
	char	   *parts[CURSOR_PARTS];
	int			nparts = 0;
	int64		at;
	int64		issued;
	int64		issued_us;
	char	   *lower_id;

	if (raw == NULL || VARSIZE_ANY_EXHDR(raw) <= CURSOR_MAC_LEN)
		not_issued();
	data = (const uint8 *) VARDATA_ANY(raw);
	len = VARSIZE_ANY_EXHDR(raw) - CURSOR_MAC_LEN;
	ScimPgCursorMac(data, len, want);
	/* in time that does not depend on where they differ */
	for (int i = 0; i < CURSOR_MAC_LEN; i++)
		diff |= want[i] ^ data[len + i];
	if (diff != 0)
		not_issued();

	/* its contents: signed, so written here, but read strictly all the same */
	if (!pg_verify_mbstr(PG_UTF8, (const char *) data, len, true))
		not_issued();
	text = pnstrdup((const char *) data, len);
	for (char *p = text;; p++)
	{
		char	   *bar = strchr(p, '|');

		if (nparts == CURSOR_PARTS)
			not_issued();
		parts[nparts++] = p;
		if (bar == NULL)
			break;
		*bar = '\0';
		p = bar;
	}
	if (nparts != CURSOR_PARTS || strcmp(parts[0], "c2") != 0 || !decimal(parts[1], &at) ||
		!ScimPgUuidText(parts[2], &lower_id) || !decimal(parts[4], &issued))
		not_issued();
	*created = at - UNIX_SHIFT_US;
	memcpy(id, DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(lower_id))), sizeof(pg_uuid_t));

	if (strcmp(parts[3], query) != 0)
		ScimPgFail(400, "invalidCursor",
				   "the cursor belongs to a different query; repeat the query's parameters unchanged");
	/* issued < extract(epoch FROM now()) - timeout, exactly (in microseconds) */
	if (pg_mul_s64_overflow(issued, USECS_PER_SEC, &issued_us))
		issued_us = issued < 0 ? PG_INT64_MIN : PG_INT64_MAX;
	if (issued_us < GetCurrentTransactionStartTimestamp() + UNIX_SHIFT_US - (int64) scim_cursor_timeout * USECS_PER_SEC)
		ScimPgFail(400, "expiredCursor", "the cursor has expired; cursors are valid for %d seconds",
				   scim_cursor_timeout);
}
