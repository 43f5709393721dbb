/*
 * datetime.h
 *		SCIM dateTime values (RFC 7643 §2.3.5) as microseconds since the
 *		Unix epoch.
 *
 * The core keeps an instant as an int64_t count of microseconds since
 * 1970-01-01T00:00:00Z, the same resolution as PostgreSQL's timestamptz.
 * Parsing and formatting use the proleptic Gregorian calendar and never
 * consult the locale or the TZ environment.
 */
#ifndef SCIM_DATETIME_H
#define SCIM_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Room for the longest canonical form, "YYYY-MM-DDThh:mm:ss.ffffffZ", and
 * its terminating NUL.
 */
#define SCIM_DATETIME_BUFLEN 28

/* false unless s[0..len) is exactly one dateTime; no zone means UTC */
extern bool ScimParseDateTime(const char *s, size_t len, int64_t *usec);

/* canonical "YYYY-MM-DDThh:mm:ss[.f]Z"; its length, or -1 */
extern int	ScimFormatDateTime(int64_t usec, char *buf, size_t buflen);

#endif
