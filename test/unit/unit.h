/*
 * unit.h
 *		A minimal TAP-style harness for the core's unit tests.
 *
 * Each test program prints "ok N - name" or "not ok N - name" per check and
 * a closing "# N passed, M failed" line; test/run.sh sums those lines.  The
 * exit status is non-zero when any check failed.
 */
#ifndef SCIM_UNIT_H
#define SCIM_UNIT_H

#include <stdio.h>
#include <string.h>

static int	unit_passed;
static int	unit_failed;

#define CHECK(cond, ...) \
	do { \
		int unit_ok_ = (cond) ? 1 : 0; \
		printf("%s %d - ", unit_ok_ ? "ok" : "not ok", unit_passed + unit_failed + 1); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		if (unit_ok_) unit_passed++; \
		else { unit_failed++; printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
	} while (0)

#define CHECK_STR(got, want, ...) \
	do { \
		const char *unit_g_ = (got); \
		const char *unit_w_ = (want); \
		int unit_same_ = unit_g_ != NULL && unit_w_ != NULL && strcmp(unit_g_, unit_w_) == 0; \
		CHECK(unit_same_, __VA_ARGS__); \
		if (!unit_same_) printf("#   got:  %s\n#   want: %s\n", unit_g_ ? unit_g_ : "(null)", unit_w_ ? unit_w_ : "(null)"); \
	} while (0)

#define UNIT_DONE() \
	(printf("# %d passed, %d failed\n", unit_passed, unit_failed), unit_failed == 0 ? 0 : 1)

#endif
