/*
 * request.c
 *		Helpers of the request handler: query strings, sort keys, tokens.
 */
#include "scim_pg.h"

#include "common/base64.h"
#include "common/scram-common.h"
#include "port.h"
#include "utils/builtins.h"

#include "filter.h"
#include "jsonb_compat.h"
#include "strbuf.h"
#include "utf8.h"

/* Percent-decode s[0..len) ('+' is a space in a query string). */
static char *
url_decode(const char *s, int len, int *outlen)
{
	char	   *out = palloc(len + 1);
	int			n = 0;

	for (int i = 0; i < len; i++)
	{
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] == '%' && i + 2 < len && ScimHexDigit(s[i + 1]) >= 0 && ScimHexDigit(s[i + 2]) >= 0)
		{
			out[n++] = (char) (ScimHexDigit(s[i + 1]) * 16 + ScimHexDigit(s[i + 2]));
			i += 2;
		}
		else
			out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/*
 * The parameters of query string s[0..len): percent-decoded, names
 * lower-cased, in order (the last of repeated names is the one that
 * counts).  Returns how many; *valid is false when a name or value is not
 * UTF-8 text.
 */
int
ScimPgQueryParams(const char *s, int len, ScimQueryParam **params, bool *valid)
{
	int			n = 0;
	int			cap = 8;
	int			start = 0;

	*params = palloc(cap * sizeof(ScimQueryParam));
	*valid = true;
	while (start <= len)
	{
		int			end = start;
		int			eq;
		ScimQueryParam *p;

		while (end < len && s[end] != '&')
			end++;
		if (end > start)
		{
			if (n == cap)
			{
				cap *= 2;
				*params = repalloc(*params, cap * sizeof(ScimQueryParam));
			}
			p = &(*params)[n++];
			eq = start;
			while (eq < end && s[eq] != '=')
				eq++;
			p->name = url_decode(s + start, eq - start, &p->name_len);
			if (eq < end)
				p->value = url_decode(s + eq + 1, end - eq - 1, &p->value_len);
			else
			{
				p->value = pstrdup("");
				p->value_len = 0;
			}
			if (memchr(p->name, '\0', p->name_len) != NULL || memchr(p->value, '\0', p->value_len) != NULL ||
				!ScimUtf8Valid(p->name, p->name_len, NULL) || !ScimUtf8Valid(p->value, p->value_len, NULL))
				*valid = false;
			for (int i = 0; i < p->name_len; i++)
				if (p->name[i] >= 'A' && p->name[i] <= 'Z')
					p->name[i] += 'a' - 'A';
		}
		start = end + 1;
	}
	return n;
}

PG_FUNCTION_INFO_V1(scim_parse_query);

/*
 * scim.parse_query(query text) → jsonb: the parameters of a URL query
 * string, percent-decoded, names lower-cased (SCIM's parameter names are
 * matched case-insensitively here); a repeated name keeps its last value.
 * Values must decode to valid text: a NUL or invalid UTF-8 is an error.
 */
Datum
scim_parse_query(PG_FUNCTION_ARGS)
{
	text	   *q = PG_GETARG_TEXT_PP(0);
	ScimQueryParam *params;
	bool		valid;
	int			n = ScimPgQueryParams(VARDATA_ANY(q), VARSIZE_ANY_EXHDR(q), &params, &valid);
	JsonbParseState *st = NULL;

	if (!valid)
		ereport(ERROR,
				(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
				 errmsg("query parameter is not valid UTF-8 text")));
	scim_push_jsonb(&st, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	k;
		JsonbValue	v;

		k.type = jbvString;
		k.val.string.val = params[i].name;
		k.val.string.len = params[i].name_len;
		v.type = jbvString;
		v.val.string.val = params[i].value;
		v.val.string.len = params[i].value_len;
		scim_push_jsonb(&st, WJB_KEY, &k);
		scim_push_jsonb(&st, WJB_VALUE, &v);
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(scim_push_jsonb(&st, WJB_END_OBJECT, NULL)));
}

PG_FUNCTION_INFO_V1(scim_sort_sql);

/* scim.sort_sql(path, resource_type, data_column) → the ORDER BY key for sortBy. */
Datum
scim_sort_sql(PG_FUNCTION_ARGS)
{
	text	   *path = PG_GETARG_TEXT_PP(0);
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimPgResourceType(reg, PG_GETARG_TEXT_PP(1));
	char	   *column = ScimPgQuoteColumn(PG_GETARG_TEXT_PP(2));
	ScimPath	p;
	ScimError	err;
	ScimBuf		buf;
	text	   *result;

	if (!ScimResolvePath(reg, type, VARDATA_ANY(path), VARSIZE_ANY_EXHDR(path), &p, &err,
						 SCIM_ERR_INVALID_VALUE, 0))
		ScimPgRaise(&err);
	ScimBufInit(&buf);
	if (!ScimSortSql(&p, column, &buf, &err))
	{
		ScimBufFree(&buf);
		ScimPgRaise(&err);
	}
	result = cstring_to_text_with_len(buf.data, (int) buf.len);
	ScimBufFree(&buf);
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(scim_random_token);

/* scim._random_token(): 32 bytes from the strong random source, base64url, prefixed "scim_". */
Datum
scim_random_token(PG_FUNCTION_ARGS)
{
	uint8		bytes[32];
	char		enc[64];
	int			n;
	StringInfoData out;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes for a token")));
	n = pg_b64_encode((const char *) bytes, sizeof(bytes), enc, sizeof(enc));
	if (n < 0)
		elog(ERROR, "could not encode a token");
	initStringInfo(&out);
	appendStringInfoString(&out, "scim_");
	for (int i = 0; i < n; i++)
	{
		char		c = enc[i];

		if (c == '=')
			break;
		appendStringInfoChar(&out, c == '+' ? '-' : c == '/' ? '_' : c);
	}
	PG_RETURN_TEXT_P(cstring_to_text(out.data));
}

PG_FUNCTION_INFO_V1(scim_hash_password);

/*
 * scim._hash_password(text): a SCRAM-SHA-256 secret (salted, iterated), the
 * format PostgreSQL keeps its own role passwords in.
 */
Datum
scim_hash_password(PG_FUNCTION_ARGS)
{
	char	   *password = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char		salt[SCRAM_DEFAULT_SALT_LEN];
	const char *errstr = NULL;
	char	   *secret;

	if (!pg_strong_random(salt, sizeof(salt)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random salt")));
	secret = scram_build_secret(salt, sizeof(salt), SCRAM_DEFAULT_ITERATIONS, password, &errstr);
	if (secret == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not hash the password: %s", errstr ? errstr : "unknown error")));
	PG_RETURN_TEXT_P(cstring_to_text(secret));
}
