/*
 * filter_type.c
 *		The scim.filter type: a filter whose grammar has been checked,
 *		stored as its canonical text.
 *
 * Input checks the grammar only: a type has no resource type to resolve
 * attribute names against, so names keep their spelling and are checked
 * when the filter is used (scim.filter_sql, scim.matches).  Storing the
 * canonical text keeps the type binary-compatible with text.
 */
#include "scim_pg.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

#include "filter.h"
#include "strbuf.h"

/*
 * Parse and print canonically; returns NULL and fills *err on a bad filter.
 * The result is palloc'd; core memory is released on every path.
 */
static text *
canonical_filter(const char *s, size_t len, ScimError *err)
{
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f;
	ScimBuf		buf;
	text	   *result = NULL;

	if (arena == NULL)
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	ScimBufInit(&buf);
	f = ScimFilterParse(arena, s, len, ScimPgFilterLimits(), err);
	if (f != NULL)
	{
		ScimFilterPrint(f, &buf);
		if (buf.oom)
			ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		else
			result = cstring_to_text_with_len(buf.data, (int) buf.len);
	}
	ScimBufFree(&buf);
	ScimArenaFree(arena);
	return result;
}

/* Report a bad filter, softly where the server supports it (PG 16+). */
static void
filter_input_error(const ScimError *err, FunctionCallInfo fcinfo)
{
#if PG_VERSION_NUM >= 160000
	if (err->kind != SCIM_ERR_OUT_OF_MEMORY)
	{
		errsave(fcinfo->context,
				(errcode(ScimPgSqlState(err->kind)),
				 errmsg("%s", err->message),
				 err->detail[0] ? errdetail("%s", err->detail) : 0,
				 err->hint[0] ? errhint("%s", err->hint) : 0));
		return;
	}
#endif
	ScimPgRaise(err);
}

PG_FUNCTION_INFO_V1(scim_filter_in);

Datum
scim_filter_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);
	ScimError	err;
	text	   *t = canonical_filter(s, strlen(s), &err);

	if (t == NULL)
	{
		filter_input_error(&err, fcinfo);
		PG_RETURN_NULL();
	}
	PG_RETURN_TEXT_P(t);
}

PG_FUNCTION_INFO_V1(scim_filter_out);

Datum
scim_filter_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(TextDatumGetCString(PG_GETARG_DATUM(0)));
}

PG_FUNCTION_INFO_V1(scim_filter_recv);

/* Binary input: the filter text, checked like text input. */
Datum
scim_filter_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			nbytes;
	char	   *s = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	ScimError	err;
	text	   *t = canonical_filter(s, (size_t) nbytes, &err);

	if (t == NULL)
		ScimPgRaise(&err);
	PG_RETURN_TEXT_P(t);
}

PG_FUNCTION_INFO_V1(scim_filter_send);

Datum
scim_filter_send(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendtext(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}
