/*
 * test_decimal.c
 *		Unit tests for src/core/decimal.c: the JSON number grammar, exact
 *		comparison and the numeric range check.
 */
#include "decimal.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

/* -1, 0 or 1 as the sign of v. */
static int
sign_of(int v)
{
	return (v > 0) - (v < 0);
}

/* Compare two NUL-terminated strings. */
static int
cmp(const char *a, const char *b)
{
	return ScimCompareDecimal(a, strlen(a), b, strlen(b));
}

/* Check that a compares to b as want (-1, 0 or 1), in both directions. */
static void
check_cmp(const char *a, const char *b, int want)
{
	int			ab = cmp(a, b);
	int			ba = cmp(b, a);

	CHECK(sign_of(ab) == want && sign_of(ba) == -want && ab >= -1 && ab <= 1,
		  "%.40s%s %s %.40s%s (got %d, reversed %d)",
		  a, strlen(a) > 40 ? "..." : "", want < 0 ? "<" : want > 0 ? ">" : "=",
		  b, strlen(b) > 40 ? "..." : "", ab, ba);
}

/* Check that ScimIsJsonNumber(s) is want. */
static void
check_json(const char *s, bool want)
{
	CHECK(ScimIsJsonNumber(s, strlen(s)) == want, "%s \"%s\" is %sa JSON number",
		  want ? "accept" : "reject", s, want ? "" : "not ");
}

/* Check that ScimDecimalInRange(s) is want. */
static void
check_range(const char *s, bool want)
{
	CHECK(ScimDecimalInRange(s, strlen(s)) == want, "\"%.40s%s\" is %sin range",
		  s, strlen(s) > 40 ? "..." : "", want ? "" : "not ");
}

/* A fixed-seed 64-bit LCG (Knuth's MMIX constants), not rand(). */
static uint64_t lcg_state = UINT64_C(0xDEC1AA1DEC1AA1);

static uint64_t
lcg_next(void)
{
	lcg_state = lcg_state * UINT64_C(6364136223846793005) +
		UINT64_C(1442695040888963407);
	return lcg_state >> 11;
}

/* A string of c repeated n times between prefix and suffix; caller frees. */
static char *
repeat(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t		plen = strlen(prefix);
	size_t		slen = strlen(suffix);
	char	   *s = malloc(plen + n + slen + 1);

	if (s == NULL)
		abort();
	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	memcpy(s + plen + n, suffix, slen + 1);
	return s;
}

int
main(void)
{
	/* ---- the JSON number grammar ---- */
	check_json("0", true);
	check_json("-0", true);
	check_json("1", true);
	check_json("-1", true);
	check_json("123", true);
	check_json("1.5", true);
	check_json("-12.3400", true);
	check_json("0.0015", true);
	check_json("1e2", true);
	check_json("1E2", true);
	check_json("1e+2", true);
	check_json("1e-2", true);
	check_json("1.5E-3", true);
	check_json("0e0", true);
	check_json("-0.0e-0", true);
	check_json("1e007", true);
	check_json("1e999999999999", true);
	check_json("1e-999999999999999999999999999999", true);
	check_json("", false);
	check_json("-", false);
	check_json("+1", false);
	check_json("01", false);
	check_json("-01", false);
	check_json("00", false);
	check_json(".5", false);
	check_json("-.5", false);
	check_json("5.", false);
	check_json("1.e2", false);
	check_json("1e", false);
	check_json("1e+", false);
	check_json("1e-", false);
	check_json("e5", false);
	check_json("1.5.5", false);
	check_json("1e2e3", false);
	check_json("1e2.5", false);
	check_json("--1", false);
	check_json("0x10", false);
	check_json(" 1", false);
	check_json("1 ", false);
	CHECK(!ScimIsJsonNumber("1\n", 2), "reject a trailing newline");
	check_json("1,5", false);
	check_json("NaN", false);
	check_json("Infinity", false);
	check_json("-Infinity", false);
	check_json("inf", false);
	check_json("1a", false);
	check_json("\"1\"", false);
	check_json("true", false);
	CHECK(!ScimIsJsonNumber("1\0", 2), "reject a NUL inside len");
	CHECK(!ScimIsJsonNumber("\0", 1), "reject a lone NUL");
	CHECK(ScimIsJsonNumber("12x", 2), "len bounds the input");
	CHECK(ScimIsJsonNumber("1.5e", 3), "len cuts before the exponent");
	CHECK(!ScimIsJsonNumber("1.5e", 4), "len includes a bare e");
	CHECK(!ScimIsJsonNumber(NULL, 0), "NULL is not a number");
	CHECK(!ScimIsJsonNumber(NULL, 5), "NULL with a length is not a number");

	/* ---- equalities ---- */
	check_cmp("0", "0", 0);
	check_cmp("-0", "0", 0);
	check_cmp("-0.000", "0e10", 0);
	check_cmp("0e-999999999999", "-0E+999999999999", 0);
	check_cmp("1.0", "1", 0);
	check_cmp("1.000000", "1", 0);
	check_cmp("1e2", "100", 0);
	check_cmp("1E+2", "100.00", 0);
	check_cmp("1.5E-3", "0.0015", 0);
	check_cmp("15e-4", "0.0015", 0);
	check_cmp("0.15e-2", "0.0015", 0);
	check_cmp("-12.3400", "-12.34", 0);
	check_cmp("-1234e-2", "-12.34", 0);
	check_cmp("-0.001234e4", "-12.34", 0);
	check_cmp("123456789012345678901234567890", "1.2345678901234567890123456789e29", 0);
	check_cmp("10", "1e1", 0);
	check_cmp("1000000", "1e6", 0);
	check_cmp("1e999999999999", "10e999999999998", 0);
	check_cmp("1e-999999999999", "0.1e-999999999998", 0);
	check_cmp("9007199254740993", "9007199254740993.0", 0);

	/* ---- orderings across signs ---- */
	check_cmp("-1", "0", -1);
	check_cmp("-1", "1", -1);
	check_cmp("0", "1", -1);
	check_cmp("-0", "0.0000001", -1);
	check_cmp("-0.0000001", "0", -1);
	check_cmp("-1e-999999999999", "0", -1);
	check_cmp("0", "1e-999999999999", -1);
	check_cmp("-1e999999999999", "1e-999999999999", -1);

	/* ---- orderings by magnitude and exponent ---- */
	check_cmp("1", "2", -1);
	check_cmp("9", "10", -1);
	check_cmp("99", "100", -1);
	check_cmp("0.9", "1", -1);
	check_cmp("0.0015", "0.0016", -1);
	check_cmp("0.00999", "0.01", -1);
	check_cmp("1.5", "1.50001", -1);
	check_cmp("1.49999", "1.5", -1);
	check_cmp("12.34", "12.345", -1);
	check_cmp("1e2", "101", -1);
	check_cmp("1e2", "99.999", 1);
	check_cmp("1e-3", "0.0011", -1);
	check_cmp("1e-3", "1e-2", -1);
	check_cmp("1e3", "1e4", -1);
	check_cmp("9e3", "1e4", -1);
	check_cmp("9.99999e3", "1e4", -1);
	check_cmp("-2", "-1", -1);
	check_cmp("-10", "-9", -1);
	check_cmp("-1e4", "-9.99999e3", -1);
	check_cmp("-12.345", "-12.34", -1);
	check_cmp("-1.50001", "-1.5", -1);
	check_cmp("9007199254740993", "9007199254740992", 1);
	check_cmp("0.30000000000000004", "0.3", 1);
	check_cmp("100000000000000000000000000001", "1e29", 1);

	/* ---- huge exponents: no overflow, no long loops ---- */
	check_cmp("1e999999999999", "1e999999999998", 1);
	check_cmp("1e999999999999", "9e999999999998", 1);
	check_cmp("1e-999999999999", "1e-999999999998", -1);
	check_cmp("-1e999999999999", "-1e999999999998", -1);
	check_cmp("1e999999999999", "Infinity", -1);
	check_cmp("-1e999999999999", "-Infinity", 1);
	check_cmp("1e9223372036854775807", "1e9223372036854775806", 0);		/* both saturate */
	check_cmp("1e9223372036854775807", "2e9223372036854775807", -1);
	check_cmp("1e99999999999999999999999999999999999999", "1e999999999999", 1);
	check_cmp("1e-99999999999999999999999999999999999999", "1e-999999999999", -1);
	check_cmp("1e-99999999999999999999999999999999999999", "0", 1);
	check_cmp("-1e99999999999999999999999999999999999999", "-1e-99999999999999999999999999999999999999", -1);
	check_cmp("1152921504606846976e-1152921504606846976", "1", -1);

	/* ---- NaN and the infinities, as numeric orders them ---- */
	check_cmp("NaN", "NaN", 0);
	check_cmp("Infinity", "Infinity", 0);
	check_cmp("-Infinity", "-Infinity", 0);
	check_cmp("-Infinity", "Infinity", -1);
	check_cmp("-Infinity", "NaN", -1);
	check_cmp("Infinity", "NaN", -1);
	check_cmp("-Infinity", "-1e999999999999", -1);
	check_cmp("-Infinity", "0", -1);
	check_cmp("1e999999999999", "Infinity", -1);
	check_cmp("0", "Infinity", -1);
	check_cmp("1e999999999999", "NaN", -1);
	check_cmp("-1e999999999999", "NaN", -1);

	/* ---- malformed input compares as NaN ---- */
	check_cmp("abc", "NaN", 0);
	check_cmp("abc", "xyz", 0);
	check_cmp("", "NaN", 0);
	check_cmp("01", "NaN", 0);
	check_cmp("1.", "NaN", 0);
	check_cmp(".5", "NaN", 0);
	check_cmp("+1", "NaN", 0);
	check_cmp("1e", "NaN", 0);
	check_cmp("nan", "NaN", 0);
	check_cmp("infinity", "NaN", 0);
	check_cmp("+Infinity", "NaN", 0);
	check_cmp("Infinit", "NaN", 0);
	check_cmp("Infinityy", "NaN", 0);
	check_cmp(" 1", "NaN", 0);
	check_cmp("Infinity", "abc", -1);
	check_cmp("1e999999999999", "abc", -1);
	CHECK(ScimCompareDecimal(NULL, 0, "NaN", 3) == 0, "NULL compares as NaN");
	CHECK(ScimCompareDecimal(NULL, 7, "1", 1) == 1, "NULL with a length compares as NaN");
	CHECK(ScimCompareDecimal("1\0", 2, "NaN", 3) == 0, "a NUL inside len makes NaN");
	CHECK(ScimCompareDecimal("NaN\0", 4, "NaN", 3) == 0, "\"NaN\\0\" is malformed, so NaN");
	CHECK(ScimCompareDecimal("Infinity\0", 9, "Infinity", 8) == 1, "\"Infinity\\0\" is malformed");
	CHECK(ScimCompareDecimal("-Infinity", 8, "NaN", 3) == 0, "\"-Infinit\" is malformed");
	CHECK(ScimCompareDecimal("12", 1, "1", 1) == 0, "len bounds the first input");
	CHECK(ScimCompareDecimal("1", 1, "1.5", 1) == 0, "len bounds the second input");
	CHECK(ScimCompareDecimal("1.5", 3, "1.50", 3) == 0, "len bounds both inputs");

	/* ---- ScimDecimalInRange ---- */
	check_range("0", true);
	check_range("-0", true);
	check_range("0e2000", true);
	check_range("0e2001", false);
	check_range("0e-2000", true);
	check_range("0e-2001", false);
	check_range("0.0e-1999", true);
	check_range("0.0e-2000", false);
	check_range("1", true);
	check_range("-12.3400", true);
	check_range("1.5E-3", true);
	check_range("1e1000", true);
	check_range("9.99e1000", true);
	check_range("1e1001", false);
	check_range("10e1000", false);
	check_range("-1e1000", true);
	check_range("-1e1001", false);
	check_range("1e-1000", true);
	check_range("1e-1001", false);
	check_range("0.1e-999", true);
	check_range("0.1e-1000", false);
	check_range("1e999999999999", false);
	check_range("1e-999999999999", false);
	check_range("1e99999999999999999999999999999999999999", false);
	check_range("NaN", false);
	check_range("Infinity", false);
	check_range("-Infinity", false);
	check_range("01", false);
	check_range("", false);
	check_range("abc", false);
	CHECK(!ScimDecimalInRange(NULL, 3), "NULL is not in range");
	CHECK(!ScimDecimalInRange("1\0", 2), "a NUL inside len is not in range");
	{
		char	   *s;

		/* significant digits: 1000 in range, 1001 not */
		s = repeat("", '7', 1000, "");
		check_range(s, true);
		free(s);
		s = repeat("", '7', 1001, "");
		check_range(s, false);
		free(s);
		s = repeat("0.", '3', 1000, "");
		check_range(s, true);
		free(s);
		s = repeat("0.", '3', 1001, "");
		check_range(s, false);
		free(s);

		/* trailing zeros are not significant, but count as written scale */
		s = repeat("1.", '0', 1999, "");
		check_range(s, true);
		free(s);
		s = repeat("1.", '0', 2000, "");
		check_range(s, true);
		free(s);
		s = repeat("1.", '0', 2001, "");
		check_range(s, false);
		free(s);
		s = repeat("1.", '0', 3000, "e1000");
		check_range(s, true);
		free(s);
		s = repeat("0.", '0', 20000, "");
		check_range(s, false);
		free(s);

		/* leading zeros of a fraction move the adjusted exponent */
		s = repeat("0.", '0', 999, "1");
		check_range(s, true);		/* 1e-1000 */
		free(s);
		s = repeat("0.", '0', 1000, "1");
		check_range(s, false);		/* 1e-1001 */
		free(s);
		s = repeat("0.", '0', 1500, "1e1500");
		check_range(s, true);		/* 1e-1 */
		free(s);

		/* trailing zeros of an integer count towards the exponent */
		s = repeat("1", '0', 1000, "");
		check_range(s, true);		/* 1e1000 */
		free(s);
		s = repeat("1", '0', 1001, "");
		check_range(s, false);		/* 1e1001 */
		free(s);
	}

	/* ---- long inputs compare in linear time and exactly ---- */
	{
		char	   *a = repeat("1.", '0', 200000, "1");
		char	   *b = repeat("1.", '0', 200000, "2");
		char	   *c = repeat("1", '0', 200000, "");
		char	   *d = repeat("0.", '0', 199999, "1e200000");

		check_cmp("1", a, -1);
		check_cmp(a, b, -1);
		check_cmp(a, "1.0000001", -1);
		check_cmp(c, "1e200000", 0);
		check_cmp(c, "1e199999", 1);
		check_cmp(d, "1", 0);
		check_cmp(d, "1.0", 0);
		free(a);
		free(b);
		free(c);
		free(d);
	}

	/*
	 * ---- random integers and scaled forms agree with int64 arithmetic ----
	 *
	 * Each value n is written as a plain integer and as "n/10^k" in several
	 * spellings (a decimal point, an exponent, both); every spelling must
	 * compare like the integers do.
	 */
	{
		int			bad = 0;
		int			pairs = 0;

		for (int i = 0; i < 3000; i++)
		{
			int64_t		x = (int64_t) (lcg_next() % 2000001) - 1000000;
			int64_t		y = (i % 3 == 0) ? x : (int64_t) (lcg_next() % 2000001) - 1000000;
			int			want = (x > y) - (x < y);
			char		xa[64];
			char		xb[64];
			char		ya[64];
			char		yb[64];
			int			k = (int) (lcg_next() % 5);
			int64_t		ax = x < 0 ? -x : x;
			int64_t		ay = y < 0 ? -y : y;
			int64_t		p = 1;

			for (int j = 0; j < k; j++)
				p *= 10;

			/* x as "I.F" (scaled by 10^-k) then "e+k"; y as "Ye-0" forms */
			snprintf(xa, sizeof(xa), "%s%lld.%0*lld%se%d", x < 0 ? "-" : "",
					 (long long) (ax / p), k > 0 ? k : 1,
					 (long long) (k > 0 ? ax % p : 0), i % 2 ? "000" : "", k);
			snprintf(xb, sizeof(xb), "%lld", (long long) x);
			if (ay == 0)
				snprintf(ya, sizeof(ya), "%s0e-2", y < 0 ? "-" : "");
			else
				snprintf(ya, sizeof(ya), "%s%lld00e-2", y < 0 ? "-" : "", (long long) ay);
			snprintf(yb, sizeof(yb), "%lldE+0", (long long) y);

			pairs += 4;
			if (sign_of(cmp(xa, ya)) != want || sign_of(cmp(xb, yb)) != want ||
				sign_of(cmp(xa, yb)) != want || sign_of(cmp(xb, ya)) != want ||
				!ScimIsJsonNumber(xa, strlen(xa)) || !ScimIsJsonNumber(ya, strlen(ya)))
			{
				if (bad++ < 5)
					printf("# %s / %s vs %s / %s: want %d\n", xa, xb, ya, yb, want);
			}
		}
		CHECK(bad == 0, "%d random spellings compare like int64 (%d failed)", pairs, bad);
	}

	return UNIT_DONE();
}
