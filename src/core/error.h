/*
 * error.h
 *		Errors of the SCIM core: a status value and a struct the caller owns.
 *
 * The core never longjmps and never prints.  A function that can fail takes
 * a ScimError * and fills it; the glue in src/pg turns it into ereport() and
 * the HTTP layer into an Error document.  The mapping from scimType to
 * SQLSTATE and HTTP status lives in one table (error.c).
 */
#ifndef SCIM_ERROR_H
#define SCIM_ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ScimErrorKind
{
	SCIM_OK = 0,
	SCIM_ERR_INVALID_FILTER,
	SCIM_ERR_TOO_MANY,
	SCIM_ERR_UNIQUENESS,
	SCIM_ERR_MUTABILITY,
	SCIM_ERR_INVALID_SYNTAX,
	SCIM_ERR_INVALID_PATH,
	SCIM_ERR_NO_TARGET,
	SCIM_ERR_INVALID_VALUE,
	SCIM_ERR_INVALID_VERS,
	SCIM_ERR_SENSITIVE,
	SCIM_ERR_INVALID_CURSOR,
	SCIM_ERR_EXPIRED_CURSOR,
	SCIM_ERR_INVALID_COUNT,
	SCIM_ERR_UNKNOWN_RESOURCE_TYPE,	/* no scimType: a caller's mistake */
	SCIM_ERR_INVALID_SCHEMA,	/* no scimType: a bad schema definition */
	/* no scimType: the request's HTTP status is the answer */
	SCIM_ERR_UNAUTHORIZED,		/* no valid bearer token */
	SCIM_ERR_FORBIDDEN,
	SCIM_ERR_METHOD_NOT_ALLOWED,
	SCIM_ERR_PRECONDITION_FAILED,	/* If-Match names another version */
	SCIM_ERR_PAYLOAD_TOO_LARGE,
	SCIM_ERR_GONE,				/* a change feed position that has been pruned */
	SCIM_ERR_NOT_IMPLEMENTED,
	SCIM_ERR_OUT_OF_MEMORY,
	SCIM_ERR__COUNT
} ScimErrorKind;

typedef struct ScimError
{
	ScimErrorKind kind;
	int			offset;			/* 1-based character position, or 0 */
	char		message[256];	/* lower-case, no trailing period */
	char		detail[512];	/* a full sentence, or empty */
	char		hint[256];		/* a full sentence, or empty */
} ScimError;

/* One row of the scimType mapping table. */
typedef struct ScimErrorCode
{
	ScimErrorKind kind;
	const char *scim_type;		/* RFC 7644 §3.12 scimType, or NULL */
	const char *sqlstate;		/* five characters */
	int			http_status;
} ScimErrorCode;

extern void ScimErrorClear(ScimError *err);
extern bool ScimErrorSet(ScimError *err, ScimErrorKind kind, int offset,
						 const char *fmt,...) __attribute__((format(printf, 4, 5)));
extern void ScimErrorDetail(ScimError *err, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void ScimErrorHint(ScimError *err, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern const ScimErrorCode *ScimErrorCodeOf(ScimErrorKind kind);
extern const ScimErrorCode *ScimErrorCodes(int *count);

#endif
