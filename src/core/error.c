/*
 * error.c
 *		The core's error struct and the one table that maps each error to its
 *		RFC 7644 §3.12 scimType, its SQLSTATE and its HTTP status.
 *
 * SQLSTATEs use the implementation-defined classes "SC" and "SH" (the SQL
 * standard leaves classes starting with I-Z to implementations), so a caller
 * can tell a SCIM error from any other failure by its first two characters
 * and map it to HTTP without parsing message text.  "SC" errors carry a
 * scimType, or are the 400 and 404 that have none; "SH" ones are the other
 * HTTP statuses a request can be answered with, the status in the code.
 * Every SQLSTATE of these classes the extension raises, in C or in its
 * install script, is a row here (sql/error_codes.sql checks it).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const ScimErrorCode error_codes[] = {
	{SCIM_ERR_INVALID_FILTER, "invalidFilter", "SC001", 400},
	{SCIM_ERR_TOO_MANY, "tooMany", "SC002", 400},
	{SCIM_ERR_UNIQUENESS, "uniqueness", "SC003", 409},
	{SCIM_ERR_MUTABILITY, "mutability", "SC004", 400},
	{SCIM_ERR_INVALID_SYNTAX, "invalidSyntax", "SC005", 400},
	{SCIM_ERR_INVALID_PATH, "invalidPath", "SC006", 400},
	{SCIM_ERR_NO_TARGET, "noTarget", "SC007", 400},
	{SCIM_ERR_INVALID_VALUE, "invalidValue", "SC008", 400},
	{SCIM_ERR_INVALID_VERS, "invalidVers", "SC009", 400},
	{SCIM_ERR_SENSITIVE, "sensitive", "SC010", 403},
	{SCIM_ERR_INVALID_CURSOR, "invalidCursor", "SC011", 400},
	{SCIM_ERR_EXPIRED_CURSOR, "expiredCursor", "SC012", 400},
	{SCIM_ERR_INVALID_COUNT, "invalidCount", "SC013", 400},
	{SCIM_ERR_UNKNOWN_RESOURCE_TYPE, NULL, "SC404", 404},
	{SCIM_ERR_INVALID_SCHEMA, NULL, "SC400", 400},
	{SCIM_ERR_UNAUTHORIZED, NULL, "SH401", 401},
	{SCIM_ERR_FORBIDDEN, NULL, "SH403", 403},
	{SCIM_ERR_METHOD_NOT_ALLOWED, NULL, "SH405", 405},
	{SCIM_ERR_PRECONDITION_FAILED, NULL, "SH412", 412},
	{SCIM_ERR_PAYLOAD_TOO_LARGE, NULL, "SH413", 413},
	{SCIM_ERR_GONE, NULL, "SH410", 410},
	{SCIM_ERR_NOT_IMPLEMENTED, NULL, "SH501", 501},
	{SCIM_ERR_OUT_OF_MEMORY, NULL, "53200", 500},
};

/* Reset err to "no error". */
void
ScimErrorClear(ScimError *err)
{
	err->kind = SCIM_OK;
	err->offset = 0;
	err->message[0] = '\0';
	err->detail[0] = '\0';
	err->hint[0] = '\0';
}

/*
 * Record an error with a formatted primary message.  Always returns false so
 * that callers can write "return ScimErrorSet(...)".
 */
bool
ScimErrorSet(ScimError *err, ScimErrorKind kind, int offset, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return false;
	ScimErrorClear(err);
	err->kind = kind;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return false;
}

/* Attach a detail sentence to the error. */
void
ScimErrorDetail(ScimError *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

/* Attach a hint sentence to the error. */
void
ScimErrorHint(ScimError *err, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
	va_end(ap);
}

/* The mapping row of an error kind; never NULL for a real error. */
const ScimErrorCode *
ScimErrorCodeOf(ScimErrorKind kind)
{
	for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
		if (error_codes[i].kind == kind)
			return &error_codes[i];
	return NULL;
}

/* The whole mapping table, for documentation and SQL introspection. */
const ScimErrorCode *
ScimErrorCodes(int *count)
{
	*count = (int) (sizeof(error_codes) / sizeof(error_codes[0]));
	return error_codes;
}
