/*
 * secrets.c
 *		The extension's secrets: bearer tokens drawn from the strong random
 *		source, password hashes (SCRAM-SHA-256), the key cursors are signed
 *		with and their HMAC signatures.
 */
#include "scim_pg.h"

#include "common/base64.h"
#include "common/hmac.h"
#include "common/scram-common.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "port.h"
#include "utils/builtins.h"

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

/*
 * A SCRAM-SHA-256 secret (salted, iterated) for password, the format
 * PostgreSQL keeps its own role passwords in.
 */
char *
ScimPgHashPassword(const char *password)
{
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
	return secret;
}

PG_FUNCTION_INFO_V1(scim_hash_password);

/* scim._hash_password(text): ScimPgHashPassword()'s secret. */
Datum
scim_hash_password(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(ScimPgHashPassword(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

/* HMAC-SHA-256 of data[0..len) under key[0..keylen) into out. */
static void
hmac_sha256(const uint8 *key, size_t keylen, const uint8 *data, size_t len, uint8 *out)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL || pg_hmac_init(ctx, key, keylen) < 0 || pg_hmac_update(ctx, data, len) < 0 ||
		pg_hmac_final(ctx, out, PG_SHA256_DIGEST_LENGTH) < 0)
	{
		const char *why = ctx ? pg_hmac_error(ctx) : "out of memory";

		pg_hmac_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute an HMAC: %s", why)));
	}
	pg_hmac_free(ctx);
}

/* A bytea the size of a SHA-256 digest, for one to be written into. */
static bytea *
digest_bytea(void)
{
	bytea	   *out = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	SET_VARSIZE(out, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return out;
}

PG_FUNCTION_INFO_V1(scim_hmac);

/* scim._hmac(key bytea, data bytea) → bytea: HMAC-SHA-256 (RFC 2104) */
Datum
scim_hmac(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	bytea	   *data = PG_GETARG_BYTEA_PP(1);
	bytea	   *out = digest_bytea();

	hmac_sha256((const uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key),
				(const uint8 *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(scim_random_key);

/* scim._random_key() → bytea: 32 bytes from the strong random source, the cursor key */
Datum
scim_random_key(PG_FUNCTION_ARGS)
{
	bytea	   *out = palloc(VARHDRSZ + 32);

	SET_VARSIZE(out, VARHDRSZ + 32);
	if (!pg_strong_random(VARDATA(out), 32))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random bytes for a key")));
	PG_RETURN_BYTEA_P(out);
}

/*
 * The HMAC-SHA-256 of data under the key in scim.secret, into out.  The key
 * is read with the caller's rights, every time: the role the handler runs
 * as must be able to read scim.secret, and nothing else is needed to sign
 * or check a cursor (a role that cannot read it gets "permission denied").
 */
void
ScimPgCursorMac(const uint8 *data, size_t len, uint8 *out)
{
	bool		isnull;
	Datum		d;
	bytea	   *key;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT s.key FROM scim.secret s", true, 2) != SPI_OK_SELECT)
		elog(ERROR, "could not read scim.secret");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("scim.secret must hold exactly one key"),
				 errdetail("It holds %llu.", (unsigned long long) SPI_processed),
				 errhint("Cursors are signed with it; insert one with scim._random_key().")));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "scim.secret holds a NULL key");
	key = DatumGetByteaPP(d);
	hmac_sha256((const uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), data, len, out);
	explicit_bzero(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key));
	SPI_finish();
}

PG_FUNCTION_INFO_V1(scim_cursor_sign);

/* scim._cursor_sign(data bytea) → bytea: the signature a cursor carries */
Datum
scim_cursor_sign(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	bytea	   *out = digest_bytea();

	ScimPgCursorMac((const uint8 *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(scim_cursor_verify);

/*
 * scim._cursor_verify(data bytea, mac bytea) → boolean: is mac the
 * signature of data?  Compared in time that does not depend on where they
 * differ, so that a client cannot find a valid signature byte by byte.
 */
Datum
scim_cursor_verify(PG_FUNCTION_ARGS)
{
	bytea	   *data = PG_GETARG_BYTEA_PP(0);
	bytea	   *mac = PG_GETARG_BYTEA_PP(1);
	uint8		want[PG_SHA256_DIGEST_LENGTH];
	const uint8 *got = (const uint8 *) VARDATA_ANY(mac);
	uint8		diff = 0;

	ScimPgCursorMac((const uint8 *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), want);
	if (VARSIZE_ANY_EXHDR(mac) != PG_SHA256_DIGEST_LENGTH)
		PG_RETURN_BOOL(false);
	for (int i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		diff |= want[i] ^ got[i];
	PG_RETURN_BOOL(diff == 0);
}
