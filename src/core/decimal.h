/*
 * decimal.h
 *		Exact comparison of decimal numbers written as text.
 *
 * SCIM filters compare JSON numbers with stored values.  The core compares
 * them digit by digit, never through a double, so that neither binary
 * rounding nor a huge exponent can change the answer.
 */
#ifndef SCIM_DECIMAL_H
#define SCIM_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Limits for ScimDecimalInRange: well inside what PostgreSQL's numeric
 * input accepts (about 131072 digits before the point, 16383 after).
 */
#define SCIM_DECIMAL_MAX_ADJUSTED	1000	/* |adjusted exponent| */
#define SCIM_DECIMAL_MAX_DIGITS		1000	/* significant digits */
#define SCIM_DECIMAL_MAX_WRITTEN	2000	/* |exponent|, scale as written */

/* true when s[0..len) is exactly one JSON number (RFC 8259 §6) */
extern bool ScimIsJsonNumber(const char *s, size_t len);

/* -1, 0 or 1; JSON numbers or numeric_out text; malformed sorts as NaN */
extern int	ScimCompareDecimal(const char *a, size_t alen,
							   const char *b, size_t blen);

/* true when a JSON number casts to numeric well within its limits */
extern bool ScimDecimalInRange(const char *s, size_t len);

#endif
