/*
 * test_datetime.c
 *		Unit tests for src/core/datetime.c: parsing and formatting of SCIM
 *		dateTime values.
 */
#include "datetime.h"
#include "unit.h"

#include <inttypes.h>
#include <stdint.h>

#define USEC	INT64_C(1000000)

/* 2011-05-13T04:42:34Z, a "lastModified" in RFC 7643's examples, in microseconds. */
#define RFC_INSTANT	(INT64_C(1305261754) * USEC)

/* Parse a NUL-terminated string; true when it parses. */
static bool
parse(const char *s, int64_t *usec)
{
	return ScimParseDateTime(s, strlen(s), usec);
}

/* Check that s parses to want microseconds. */
static void
check_parse(const char *s, int64_t want)
{
	int64_t		got = INT64_MIN;
	bool		ok = parse(s, &got);

	CHECK(ok && got == want, "parse \"%s\" = %" PRId64 " (got %" PRId64 ")",
		  s, want, got);
}

/* Check that s is rejected. */
static void
check_reject(const char *s)
{
	int64_t		got;

	CHECK(!parse(s, &got), "reject \"%s\"", s);
}

/* Check that s and t parse to the same instant. */
static void
check_same(const char *s, const char *t)
{
	int64_t		a = 0;
	int64_t		b = 1;
	bool		ok = parse(s, &a) && parse(t, &b);

	CHECK(ok && a == b, "\"%s\" = \"%s\"", s, t);
}

/* Check that usec formats as want and that the text parses back. */
static void
check_format(int64_t usec, const char *want)
{
	char		buf[SCIM_DATETIME_BUFLEN];
	int			n = ScimFormatDateTime(usec, buf, sizeof(buf));
	int64_t		back = 0;

	CHECK(n >= 0 && strcmp(buf, want) == 0, "format %" PRId64 " = \"%s\" (got \"%s\")",
		  usec, want, n >= 0 ? buf : "");
	CHECK(n == (int) strlen(want), "format %" PRId64 " length %d", usec, n);
	CHECK(n >= 0 && ScimParseDateTime(buf, (size_t) n, &back) && back == usec,
		  "format %" PRId64 " parses back", usec);
}

/* A fixed-seed 64-bit LCG (Knuth's MMIX constants), not rand(). */
static uint64_t lcg_state = UINT64_C(0x5C1D5C1D20110513);

static uint64_t
lcg_next(void)
{
	lcg_state = lcg_state * UINT64_C(6364136223846793005) +
		UINT64_C(1442695040888963407);
	return lcg_state;
}

int
main(void)
{
	int64_t		v;
	char		buf[SCIM_DATETIME_BUFLEN];
	/* 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z, in microseconds */
	const int64_t min_usec = INT64_C(-62135596800) * USEC;
	const int64_t end_usec = INT64_C(253402300800) * USEC;

	/* RFC 7643 examples */
	check_parse("2011-05-13T04:42:34Z", RFC_INSTANT);
	check_parse("2010-01-23T04:56:22Z", INT64_C(1264222582) * USEC);
	check_parse("2008-01-23T04:56:22Z", INT64_C(1201064182) * USEC);

	/* the epoch and around it */
	check_parse("1970-01-01T00:00:00Z", 0);
	check_parse("1970-01-01T00:00:00.000001Z", 1);
	check_parse("1969-12-31T23:59:59.999999Z", -1);
	check_parse("1969-12-31T23:59:59Z", -USEC);
	check_parse("0001-01-01T00:00:00Z", min_usec);
	check_parse("9999-12-31T23:59:59.999999Z", end_usec - 1);
	check_parse("2000-03-01T00:00:00Z", INT64_C(951868800) * USEC);
	check_parse("1900-03-01T00:00:00Z", INT64_C(-2203891200) * USEC);

	/* no time zone is UTC; lower-case t and z */
	check_parse("2011-05-13T04:42:34", RFC_INSTANT);
	check_parse("2011-05-13t04:42:34z", RFC_INSTANT);
	check_parse("2011-05-13t04:42:34Z", RFC_INSTANT);

	/* offsets */
	check_same("2011-05-13T06:42:34+02:00", "2011-05-13T04:42:34Z");
	check_same("2011-05-12T23:12:34-05:30", "2011-05-13T04:42:34Z");
	check_same("2011-05-13T04:42:34+00:00", "2011-05-13T04:42:34Z");
	check_same("2011-05-13T04:42:34-00:00", "2011-05-13T04:42:34Z");
	check_same("2011-05-13T18:42:34+14:00", "2011-05-13T04:42:34Z");
	check_same("2011-05-12T14:42:34-14:00", "2011-05-13T04:42:34Z");
	check_same("2011-05-13T05:27:34+00:45", "2011-05-13T04:42:34Z");
	check_same("2011-05-13T04:42:34.25+13:59", "2011-05-12T14:43:34.25Z");
	check_same("2000-01-01T00:30:00+01:00", "1999-12-31T23:30:00Z");
	check_reject("2011-05-13T04:42:34+14:01");
	check_reject("2011-05-13T04:42:34-14:30");
	check_reject("2011-05-13T04:42:34+15:00");
	check_reject("2011-05-13T04:42:34+01:60");
	check_reject("2011-05-13T04:42:34+01");
	check_reject("2011-05-13T04:42:34+0100");
	check_reject("2011-05-13T04:42:34+01:0");
	check_reject("2011-05-13T04:42:34+1:00");
	check_reject("2011-05-13T04:42:34+01:00Z");
	check_reject("2011-05-13T04:42:34Z+01:00");
	check_reject("2011-05-13T04:42:34+01:00:00");
	check_reject("2011-05-13T04:42:34 +01:00");
	check_reject("2011-05-13T04:42:34+");
	check_reject("2011-05-13T04:42:34-");
	check_reject("2011-05-13T04:42:34ZZ");
	check_reject("2011-05-13T04:42:34UTC");
	check_reject("2011-05-13T04:42:34GMT");

	/* fractions: any length, truncated to microseconds */
	check_parse("2011-05-13T04:42:34.5Z", RFC_INSTANT + 500000);
	check_parse("2011-05-13T04:42:34.05Z", RFC_INSTANT + 50000);
	check_parse("2011-05-13T04:42:34.123456Z", RFC_INSTANT + 123456);
	check_parse("2011-05-13T04:42:34.123456789Z", RFC_INSTANT + 123456);
	check_parse("2011-05-13T04:42:34.9999999Z", RFC_INSTANT + 999999);
	check_parse("2011-05-13T04:42:34.000000000000000000000001Z", RFC_INSTANT);
	check_parse("2011-05-13T04:42:34.0Z", RFC_INSTANT);
	check_parse("2011-05-13T04:42:34.5", RFC_INSTANT + 500000);
	check_parse("1969-12-31T23:59:59.5Z", -500000);
	check_same("2011-05-13T06:42:34.123+02:00", "2011-05-13T04:42:34.123Z");
	check_reject("2011-05-13T04:42:34.Z");
	check_reject("2011-05-13T04:42:34.");
	check_reject("2011-05-13T04:42:34,5Z");
	check_reject("2011-05-13T04:42:34.5.5Z");
	check_reject("2011-05-13T04:42:34.+01:00");
	check_reject("2011-05-13T04:42:34.-1Z");
	check_reject("2011-05-13T04:42:34.5xZ");

	/* leap days */
	check_parse("2024-02-29T00:00:00Z", INT64_C(1709164800) * USEC);
	check_parse("2000-02-29T12:00:00Z", INT64_C(951825600) * USEC);
	check_parse("0004-02-29T00:00:00Z", INT64_C(-62035891200) * USEC);
	check_parse("0400-02-29T00:00:00Z", INT64_C(-49539340800) * USEC);
	check_reject("2023-02-29T00:00:00Z");
	check_reject("1900-02-29T00:00:00Z");
	check_reject("2100-02-29T00:00:00Z");
	check_reject("0001-02-29T00:00:00Z");
	check_reject("2024-02-30T00:00:00Z");
	check_same("2024-02-28T24:00:00Z", "2024-02-29T00:00:00Z");
	check_same("2023-02-28T24:00:00Z", "2023-03-01T00:00:00Z");

	/* days per month */
	check_parse("2011-01-31T00:00:00Z", INT64_C(1296432000) * USEC);
	check_reject("2011-04-31T00:00:00Z");
	check_reject("2011-06-31T00:00:00Z");
	check_reject("2011-09-31T00:00:00Z");
	check_reject("2011-11-31T00:00:00Z");
	check_same("2011-12-31T23:59:59.5Z", "2012-01-01T00:59:59.5+01:00");
	check_reject("2011-01-32T00:00:00Z");
	check_reject("2011-01-00T00:00:00Z");
	check_reject("2011-00-10T00:00:00Z");
	check_reject("2011-13-10T00:00:00Z");

	/* 24:00:00 is the next day's midnight, only with a zero fraction */
	check_same("2011-05-13T24:00:00Z", "2011-05-14T00:00:00Z");
	check_same("2011-12-31T24:00:00Z", "2012-01-01T00:00:00Z");
	check_same("2011-05-13T24:00:00.000Z", "2011-05-14T00:00:00Z");
	check_same("2011-05-13T24:00:00+02:00", "2011-05-13T22:00:00Z");
	check_same("9999-12-30T24:00:00", "9999-12-31T00:00:00Z");
	check_reject("2011-05-13T24:00:01Z");
	check_reject("2011-05-13T24:01:00Z");
	check_reject("2011-05-13T24:00:00.000001Z");
	check_reject("2011-05-13T24:00:00.0000000001Z");
	check_reject("2011-05-13T25:00:00Z");

	/* time fields */
	check_parse("2011-05-13T23:59:59Z", RFC_INSTANT + (INT64_C(19) * 3600 + 17 * 60 + 25) * USEC);
	check_reject("2011-05-13T04:60:00Z");
	check_reject("2011-05-13T04:42:60Z");
	check_reject("2011-12-31T23:59:60Z");
	check_reject("2011-05-13T04:42:99Z");

	/* years: exactly four digits, 0001..9999, no sign */
	check_reject("0000-01-01T00:00:00Z");
	check_reject("10000-01-01T00:00:00Z");
	check_reject("-2011-05-13T04:42:34Z");
	check_reject("+2011-05-13T04:42:34Z");
	check_reject("211-05-13T04:42:34Z");
	check_reject("02011-05-13T04:42:34Z");

	/* missing or short fields */
	check_reject("");
	check_reject("2011");
	check_reject("2011-05-13");
	check_reject("2011-05-13T");
	check_reject("2011-05-13T04:42");
	check_reject("2011-05-13T04:42Z");
	check_reject("2011-05-13T04:42:3Z");
	check_reject("2011-05-13T04:42:3");
	check_reject("2011-5-13T04:42:34Z");
	check_reject("2011-05-3T04:42:34Z");
	check_reject("2011-05-13T4:42:34Z");
	check_reject("2011-05-13T04:2:34Z");

	/* wrong separators, spaces, junk */
	check_reject("2011-05-13 04:42:34Z");
	check_reject("2011-05-13_04:42:34Z");
	check_reject("2011/05/13T04:42:34Z");
	check_reject("2011-05-13T04.42.34Z");
	check_reject("20110513T044234Z");
	check_reject(" 2011-05-13T04:42:34Z");
	check_reject("2011-05-13T04:42:34Z ");
	check_reject("2011-05-13T04:42:34 ");
	CHECK(!parse("2011-05-13T04:42:34Z\n", &v), "reject a trailing newline");
	CHECK(!parse("2011-05-13T04:42:34\t", &v), "reject a trailing tab");
	check_reject("2011-05-13T04:42:34Zjunk");
	check_reject("2011-05-13T04:42:34x");
	check_reject("2011-05-13TT04:42:34Z");
	check_reject("2011-05-1xT04:42:34Z");
	check_reject("2011-05-13T04:4x:34Z");
	check_reject("abcd-ef-ghTij:kl:mnZ");
	check_reject("\"2011-05-13T04:42:34Z\"");
	CHECK(!parse("\xd9\xa2" "011-05-13T04:42:34Z", &v), "reject a non-ASCII digit");

	/* explicit lengths: NULs inside, shorter len, NULL */
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34Z\0", 21, &v), "reject trailing NUL inside len");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34\0Z", 20, &v), "reject NUL before Z");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34.\0", 21, &v), "reject NUL in fraction");
	CHECK(!ScimParseDateTime("2011-05-13T0\0:42:34Z", 20, &v), "reject NUL in hour");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34+01:0\0", 25, &v), "reject NUL in offset");
	CHECK(ScimParseDateTime("2011-05-13T04:42:34Zjunk", 20, &v) && v == RFC_INSTANT,
		  "len bounds the input");
	CHECK(ScimParseDateTime("2011-05-13T04:42:34.5Z", 21, &v) && v == RFC_INSTANT + 500000,
		  "len cuts the Z: no time zone");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34+02:00", 24, &v), "len cuts the offset");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34Z", 18, &v), "len cuts the seconds");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34Z", 0, &v), "len 0");
	CHECK(!ScimParseDateTime(NULL, 20, &v), "NULL string");
	CHECK(!ScimParseDateTime("2011-05-13T04:42:34Z", 20, NULL), "NULL result");

	/*
	 * Instants outside years 0001..9999 UTC are refused even when their
	 * local fields are in range, since nothing could write them back.
	 */
	CHECK(!parse("0001-01-01T00:00:00+14:00", &v), "reject before year 1 in UTC");
	CHECK(parse("0001-01-01T00:00:00-14:00", &v) && v == min_usec + 14 * 3600 * USEC,
		  "accept year 1 behind UTC");
	CHECK(!parse("9999-12-31T23:59:59.999999-14:00", &v), "reject after year 9999 in UTC");
	CHECK(!parse("9999-12-31T24:00:00Z", &v), "reject 9999-12-31T24:00:00Z");
	CHECK(parse("9999-12-31T23:59:59.999999Z", &v) && v == end_usec - 1, "accept the last microsecond");
	CHECK(ScimFormatDateTime(end_usec, buf, sizeof(buf)) == -1, "format 10000-01-01 fails");
	CHECK(ScimFormatDateTime(min_usec - 1, buf, sizeof(buf)) == -1, "format before year 1 fails");

	/* formatting */
	check_format(0, "1970-01-01T00:00:00Z");
	check_format(RFC_INSTANT, "2011-05-13T04:42:34Z");
	check_format(RFC_INSTANT + 500000, "2011-05-13T04:42:34.5Z");
	check_format(RFC_INSTANT + 120000, "2011-05-13T04:42:34.12Z");
	check_format(RFC_INSTANT + 123456, "2011-05-13T04:42:34.123456Z");
	check_format(RFC_INSTANT + 1, "2011-05-13T04:42:34.000001Z");
	check_format(RFC_INSTANT + 10, "2011-05-13T04:42:34.00001Z");
	check_format(-1, "1969-12-31T23:59:59.999999Z");
	check_format(-USEC, "1969-12-31T23:59:59Z");
	check_format(-500000, "1969-12-31T23:59:59.5Z");
	check_format(min_usec, "0001-01-01T00:00:00Z");
	check_format(end_usec - 1, "9999-12-31T23:59:59.999999Z");
	check_format(INT64_C(1709164800) * USEC, "2024-02-29T00:00:00Z");
	check_format(INT64_C(951868800) * USEC - 1, "2000-02-29T23:59:59.999999Z");
	check_format(INT64_C(-2203891200) * USEC - USEC, "1900-02-28T23:59:59Z");
	CHECK(ScimFormatDateTime(min_usec - 1, buf, sizeof(buf)) == -1, "format min - 1 fails");
	CHECK(ScimFormatDateTime(end_usec, buf, sizeof(buf)) == -1, "format end fails");
	CHECK(ScimFormatDateTime(INT64_MIN, buf, sizeof(buf)) == -1, "format INT64_MIN fails");
	CHECK(ScimFormatDateTime(INT64_MAX, buf, sizeof(buf)) == -1, "format INT64_MAX fails");
	CHECK(ScimFormatDateTime(RFC_INSTANT, NULL, 64) == -1, "format into NULL fails");

	/* buffer sizes: the result and its NUL must fit exactly */
	memset(buf, 'x', sizeof(buf));
	CHECK(ScimFormatDateTime(RFC_INSTANT, buf, 20) == -1 && buf[0] == 'x',
		  "format into 20 bytes fails and writes nothing");
	CHECK(ScimFormatDateTime(RFC_INSTANT, buf, 21) == 20 && buf[20] == '\0',
		  "format into 21 bytes fits");
	CHECK(ScimFormatDateTime(end_usec - 1, buf, 27) == -1, "longest form needs 28 bytes");
	CHECK(ScimFormatDateTime(end_usec - 1, buf, 28) == 27, "longest form fits in 28 bytes");
	CHECK(ScimFormatDateTime(RFC_INSTANT, buf, 0) == -1, "format into 0 bytes fails");

	/* round trips over pseudo-random instants, and the formatted text */
	{
		const uint64_t span = (uint64_t) (end_usec - min_usec);
		int			bad_round = 0;
		int			bad_text = 0;
		int			bad_offset = 0;

		for (int i = 0; i < 5000; i++)
		{
			int64_t		x = min_usec + (int64_t) (lcg_next() % span);
			int64_t		back = 0;
			int			n;

			/* Half of them on whole seconds, to exercise the short form. */
			if (i % 2 == 0)
				x -= ((x % USEC) + USEC) % USEC;
			n = ScimFormatDateTime(x, buf, sizeof(buf));
			if (n < 20 || !ScimParseDateTime(buf, (size_t) n, &back) || back != x)
			{
				if (bad_round++ < 5)
					printf("# round trip of %" PRId64 " failed: \"%s\"\n", x, n >= 0 ? buf : "");
				continue;
			}
			/* canonical: ends in Z, fraction (if any) has no trailing zero */
			if (buf[n - 1] != 'Z' || (n > 20 && buf[n - 2] == '0') ||
				(n == 20) != (x % USEC == 0))
				bad_text++;

			/* the same instant written with an offset parses the same */
			{
				char		shifted[64];
				int64_t		off_min = (int64_t) (lcg_next() % (2 * 840 + 1)) - 840;
				int64_t		local = x + off_min * 60 * USEC;
				int			m;
				int64_t		again = 0;

				m = ScimFormatDateTime(local, shifted, sizeof(shifted));
				if (m < 0)
					continue;	/* local time outside 0001..9999 */
				/* replace the Z with the offset */
				snprintf(shifted + m - 1, sizeof(shifted) - (size_t) (m - 1),
						 "%c%02d:%02d", off_min < 0 ? '-' : '+',
						 (int) ((off_min < 0 ? -off_min : off_min) / 60),
						 (int) ((off_min < 0 ? -off_min : off_min) % 60));
				if (!ScimParseDateTime(shifted, strlen(shifted), &again) || again != x)
				{
					if (bad_offset++ < 5)
						printf("# offset form \"%s\" of %" PRId64 " failed\n", shifted, x);
				}
			}
		}
		CHECK(bad_round == 0, "5000 random instants round-trip (%d failed)", bad_round);
		CHECK(bad_text == 0, "5000 random instants format canonically (%d failed)", bad_text);
		CHECK(bad_offset == 0, "5000 random instants with offsets parse back (%d failed)", bad_offset);
	}

	/* every day of 1999..2001 and 2099..2101 is formatted and parsed back */
	{
		int			bad = 0;
		int			days = 0;
		int64_t		starts[2] = {INT64_C(915148800), INT64_C(4070908800)};

		for (int r = 0; r < 2; r++)
			for (int64_t d = 0; d < 3 * 366; d++)
			{
				int64_t		x = (starts[r] + d * 86400) * USEC;
				int64_t		back = 0;
				int			n = ScimFormatDateTime(x, buf, sizeof(buf));

				days++;
				if (n != 20 || !ScimParseDateTime(buf, 20, &back) || back != x)
					bad++;
			}
		CHECK(bad == 0, "%d consecutive days round-trip (%d failed)", days, bad);
	}

	return UNIT_DONE();
}
