/*
 * decimal.c
 *		Recognise JSON numbers and compare decimal numbers exactly.
 *
 * A number is parsed into a normal form without copying or allocating:
 *
 *		value = sign x 0.d1 d2 ... dn x 10^exponent,	d1 != 0, dn != 0
 *
 * where d1..dn are the significant digits, located in the caller's string
 * between 'first' and 'last' (a '.' may lie between them and is skipped).
 * Zero has no digits.  Two finite numbers then compare by sign, then by
 * exponent, then digit by digit; the work is linear in the input length
 * whatever the exponents say, so "1e999999999999" costs no more than "1".
 *
 * Accepted input (for ScimCompareDecimal) is a JSON number (RFC 8259 §6)
 * or the text PostgreSQL's numeric_out produces: finite values are plain
 * decimals such as "-12.3400", which are JSON numbers too, and the special
 * values are spelled exactly "NaN", "Infinity" and "-Infinity".  They sort
 * as numeric does: -Infinity < every finite value < Infinity < NaN, and
 * NaN equals NaN.  Anything else is malformed and sorts as NaN; callers
 * that care check ScimIsJsonNumber first.
 *
 * Exponents are read into an int64_t that saturates at +/-2^60, far past
 * anything a real value can need; two numbers whose exponents both exceed
 * that bound compare by their digits alone.
 */
#include "decimal.h"

#include <stdint.h>
#include <string.h>

/* Where exponents saturate; the sum of two such values fits in int64_t. */
#define EXPONENT_LIMIT	(INT64_C(1) << 60)

/* Order of the kinds of value, as PostgreSQL's numeric sorts them. */
typedef enum DecimalKind
{
	DECIMAL_NEG_INF = 0,
	DECIMAL_FINITE,
	DECIMAL_POS_INF,
	DECIMAL_NAN
} DecimalKind;

/* A parsed number; see the file header for the normal form. */
typedef struct Decimal
{
	DecimalKind kind;
	bool		negative;		/* a '-' was written (also for "-0") */
	bool		zero;			/* finite and no significant digit */
	const char *first;			/* first significant digit, if not zero */
	const char *last;			/* last significant digit, inclusive */
	int64_t		exponent;		/* of the 0.d1d2... form, saturated */
	int64_t		written_exponent;	/* the "e" part as written, saturated */
	int64_t		fraction_digits;	/* digits after the '.' as written */
	int64_t		ndigits;		/* significant digits */
} Decimal;

/* True when c is an ASCII digit (no locale, unlike isdigit). */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Clamp v to [-EXPONENT_LIMIT, EXPONENT_LIMIT]. */
static int64_t
clamp_exponent(int64_t v)
{
	if (v > EXPONENT_LIMIT)
		return EXPONENT_LIMIT;
	if (v < -EXPONENT_LIMIT)
		return -EXPONENT_LIMIT;
	return v;
}

/* A byte count as an int64_t, clamped to EXPONENT_LIMIT. */
static int64_t
clamp_count(size_t n)
{
	return n > (size_t) EXPONENT_LIMIT ? EXPONENT_LIMIT : (int64_t) n;
}

/*
 * Parse a JSON number (RFC 8259 grammar) of len bytes into *d; false if s
 * is not exactly one.
 */
static bool
parse_json_number(const char *s, size_t len, Decimal *d)
{
	size_t		pos = 0;
	size_t		int_start;
	size_t		int_end;
	size_t		frac_start = 0;
	size_t		frac_end = 0;
	size_t		mantissa_end;
	int64_t		exp = 0;
	const char *first = NULL;
	const char *last = NULL;
	int64_t		ndigits = 0;
	int64_t		point_shift;

	memset(d, 0, sizeof(*d));
	d->kind = DECIMAL_FINITE;
	if (s == NULL)
		return false;

	if (pos < len && s[pos] == '-')
	{
		d->negative = true;
		pos++;
	}

	/* int = "0" / digit1-9 *DIGIT */
	int_start = pos;
	if (pos >= len || !is_digit(s[pos]))
		return false;
	if (s[pos] == '0')
		pos++;
	else
		while (pos < len && is_digit(s[pos]))
			pos++;
	int_end = pos;

	/* frac = "." 1*DIGIT */
	if (pos < len && s[pos] == '.')
	{
		pos++;
		frac_start = pos;
		while (pos < len && is_digit(s[pos]))
			pos++;
		frac_end = pos;
		if (frac_end == frac_start)
			return false;
	}
	mantissa_end = pos;

	/* exp = ("e" / "E") ["-" / "+"] 1*DIGIT, saturating */
	if (pos < len && (s[pos] == 'e' || s[pos] == 'E'))
	{
		bool		exp_negative = false;
		size_t		exp_start;

		pos++;
		if (pos < len && (s[pos] == '+' || s[pos] == '-'))
		{
			exp_negative = s[pos] == '-';
			pos++;
		}
		exp_start = pos;
		while (pos < len && is_digit(s[pos]))
		{
			if (exp > (EXPONENT_LIMIT - 9) / 10)
				exp = EXPONENT_LIMIT;
			else
				exp = exp * 10 + (s[pos] - '0');
			pos++;
		}
		if (pos == exp_start)
			return false;
		if (exp_negative)
			exp = -exp;
	}
	if (pos != len)
		return false;

	/* Locate the significant digits, skipping the '.' if there is one. */
	for (size_t i = int_start; i < mantissa_end; i++)
	{
		if (s[i] == '.' || s[i] == '0')
			continue;
		if (first == NULL)
			first = s + i;
		last = s + i;
	}
	if (first != NULL)
		for (const char *p = first; p <= last; p++)
			if (*p != '.')
				ndigits++;

	d->written_exponent = exp;
	d->fraction_digits = clamp_count(frac_end - frac_start);
	d->ndigits = ndigits;
	if (first == NULL)
	{
		d->zero = true;
		return true;
	}
	d->first = first;
	d->last = last;

	/*
	 * The 0.d1... form's exponent: the count of digits from d1 up to the
	 * point when d1 is in the integer part, else minus the count of zeros
	 * between the point and d1.
	 */
	if (first < s + int_end)
		point_shift = clamp_count((size_t) (s + int_end - first));
	else
		point_shift = -clamp_count((size_t) (first - (s + frac_start)));
	d->exponent = clamp_exponent(point_shift + exp);
	return true;
}

/* True when s[0..len) is exactly the nul-free text word. */
static bool
text_is(const char *s, size_t len, const char *word)
{
	size_t		wlen = strlen(word);

	return len == wlen && memcmp(s, word, wlen) == 0;
}

/* Parse a JSON number or numeric_out text; malformed input becomes NaN. */
static void
parse_decimal(const char *s, size_t len, Decimal *d)
{
	if (parse_json_number(s, len, d))
		return;
	memset(d, 0, sizeof(*d));
	if (s != NULL && text_is(s, len, "-Infinity"))
		d->kind = DECIMAL_NEG_INF;
	else if (s != NULL && text_is(s, len, "Infinity"))
		d->kind = DECIMAL_POS_INF;
	else
		d->kind = DECIMAL_NAN;
}

/* Compare |x| and |y| of two non-zero finite numbers: -1, 0 or 1. */
static int
compare_magnitude(const Decimal *x, const Decimal *y)
{
	const char *p = x->first;
	const char *q = y->first;

	if (x->exponent != y->exponent)
		return x->exponent < y->exponent ? -1 : 1;

	/* Same exponent: the first differing digit decides, then the length. */
	for (;;)
	{
		bool		p_done;
		bool		q_done;

		if (p <= x->last && *p == '.')
			p++;
		if (q <= y->last && *q == '.')
			q++;
		p_done = p > x->last;
		q_done = q > y->last;
		if (p_done || q_done)
		{
			/* No trailing zeros: the one with digits left is larger. */
			if (p_done && q_done)
				return 0;
			return p_done ? -1 : 1;
		}
		if (*p != *q)
			return *p < *q ? -1 : 1;
		p++;
		q++;
	}
}

/* Check that s is exactly one JSON number (RFC 8259 §6). */
bool
ScimIsJsonNumber(const char *s, size_t len)
{
	Decimal		d;

	return parse_json_number(s, len, &d);
}

/*
 * Compare two numbers written as JSON numbers or numeric_out text exactly;
 * returns -1, 0 or 1.  Malformed input compares as NaN.
 */
int
ScimCompareDecimal(const char *a, size_t alen, const char *b, size_t blen)
{
	Decimal		x;
	Decimal		y;
	int			xsign;
	int			ysign;
	int			cmp;

	parse_decimal(a, alen, &x);
	parse_decimal(b, blen, &y);

	if (x.kind != y.kind)
		return x.kind < y.kind ? -1 : 1;
	if (x.kind != DECIMAL_FINITE)
		return 0;

	/* -0 is 0: zero has sign 0 however it was written. */
	xsign = x.zero ? 0 : (x.negative ? -1 : 1);
	ysign = y.zero ? 0 : (y.negative ? -1 : 1);
	if (xsign != ysign)
		return xsign < ysign ? -1 : 1;
	if (xsign == 0)
		return 0;
	cmp = compare_magnitude(&x, &y);
	return xsign > 0 ? cmp : -cmp;
}

/*
 * Check that a JSON number can be cast to numeric comfortably: its exponent
 * as written is at most SCIM_DECIMAL_MAX_WRITTEN in magnitude, so is its
 * scale as written (fraction digits minus exponent: PostgreSQL rejects
 * "0e-20000" and long zero tails too), and unless it is zero its adjusted
 * exponent (d1.d2... x 10^adj) and count of significant digits are within
 * SCIM_DECIMAL_MAX_ADJUSTED and SCIM_DECIMAL_MAX_DIGITS.
 */
bool
ScimDecimalInRange(const char *s, size_t len)
{
	Decimal		d;
	int64_t		adjusted;

	if (!parse_json_number(s, len, &d))
		return false;
	if (d.written_exponent > SCIM_DECIMAL_MAX_WRITTEN ||
		d.written_exponent < -SCIM_DECIMAL_MAX_WRITTEN ||
		d.fraction_digits - d.written_exponent > SCIM_DECIMAL_MAX_WRITTEN)
		return false;
	if (d.zero)
		return true;
	adjusted = d.exponent - 1;
	return adjusted >= -SCIM_DECIMAL_MAX_ADJUSTED &&
		adjusted <= SCIM_DECIMAL_MAX_ADJUSTED &&
		d.ndigits <= SCIM_DECIMAL_MAX_DIGITS;
}
