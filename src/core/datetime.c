/*
 * datetime.c
 *		Parse and format SCIM dateTime values (RFC 7643 §2.3.5).
 *
 * RFC 7643 requires a valid xsd:dateTime (XML Schema §3.3.7) that has both
 * a date and a time, e.g. "2008-01-23T04:56:22Z".  We accept exactly
 *
 *		YYYY-MM-DDThh:mm:ss[.f+][Z | (+|-)hh:mm]
 *
 * with a four-digit year 0001..9999, a day that exists in that month of the
 * proleptic Gregorian calendar, seconds 00..59 (no leap second: PostgreSQL
 * has none either) and an offset of at most 14:00 either way.  "24:00:00"
 * with an all-zero fraction is the first instant of the next day, as XML
 * Schema defines it.  Lower-case 't' and 'z' are accepted because
 * RFC 3339 §5.6 allows them.  Fraction digits beyond the sixth are checked
 * but dropped (truncated, never rounded), so a carry can never move the
 * value into the next second, day or year.  PostgreSQL rounds instead:
 * hand it the text ScimFormatDateTime writes, never the client's.
 *
 * A value without a time zone is taken as UTC.  XML Schema leaves such a
 * value "local" to an unknown zone; the only deterministic reading open to
 * a server is to pick one, and UTC is what SCIM service providers emit.
 *
 * Calendar arithmetic is done here (days_from_civil and civil_from_days,
 * after Howard Hinnant's public-domain algorithms) rather than with
 * mktime() or timegm(), which depend on TZ or are not standard C.
 */
#include "datetime.h"

#include <string.h>

#define USECS_PER_SEC	INT64_C(1000000)
#define SECS_PER_DAY	INT64_C(86400)
#define USECS_PER_DAY	(SECS_PER_DAY * USECS_PER_SEC)

/* Largest offset from UTC that we accept, in minutes (RFC 3339, XSD). */
#define MAX_OFFSET_MINUTES	(14 * 60)

/* True when y is a leap year of the Gregorian calendar. */
static bool
is_leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Number of days in month m (1..12) of year y. */
static int
days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && is_leap_year(y))
		return 29;
	return days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian); negative before. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	/* Count years from March so that the leap day ends the year. */
	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The calendar date of day z, counted from 1970-01-01; inverse of the above. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* Read exactly n ASCII digits at p into *out; false if any is not a digit. */
static bool
read_digits(const char *p, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* Parse an xsd:dateTime of len bytes into microseconds since the epoch. */
bool
ScimParseDateTime(const char *s, size_t len, int64_t *usec)
{
	int			year;
	int			month;
	int			day;
	int			hour;
	int			minute;
	int			second;
	int64_t		fraction = 0;
	bool		fraction_nonzero = false;
	int64_t		offset_secs = 0;
	size_t		pos;
	int64_t		secs;

	if (s == NULL || usec == NULL || len < 19)
		return false;

	/*
	 * The fixed part, "YYYY-MM-DDThh:mm:ss".  Checking each byte also rejects
	 * signs, spaces and NULs, since none of them is a digit.
	 */
	if (!read_digits(s, 4, &year) || s[4] != '-' ||
		!read_digits(s + 5, 2, &month) || s[7] != '-' ||
		!read_digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
		!read_digits(s + 11, 2, &hour) || s[13] != ':' ||
		!read_digits(s + 14, 2, &minute) || s[16] != ':' ||
		!read_digits(s + 17, 2, &second))
		return false;
	pos = 19;

	/* Fractional seconds: at least one digit; keep six, check the rest. */
	if (pos < len && s[pos] == '.')
	{
		size_t		ndigits = 0;

		pos++;
		while (pos < len && s[pos] >= '0' && s[pos] <= '9')
		{
			if (ndigits < 6)
				fraction = fraction * 10 + (s[pos] - '0');
			if (s[pos] != '0')
				fraction_nonzero = true;
			ndigits++;
			pos++;
		}
		if (ndigits == 0)
			return false;
		for (; ndigits < 6; ndigits++)
			fraction *= 10;
	}

	/* Time zone: 'Z', an offset "+hh:mm" / "-hh:mm", or nothing (UTC). */
	if (pos < len && (s[pos] == 'Z' || s[pos] == 'z'))
		pos++;
	else if (pos < len && (s[pos] == '+' || s[pos] == '-'))
	{
		int			oh;
		int			om;
		int			minutes;

		if (len - pos < 6 ||
			!read_digits(s + pos + 1, 2, &oh) || s[pos + 3] != ':' ||
			!read_digits(s + pos + 4, 2, &om))
			return false;
		minutes = oh * 60 + om;
		if (om > 59 || minutes > MAX_OFFSET_MINUTES)
			return false;
		offset_secs = (int64_t) minutes * 60;
		if (s[pos] == '-')
			offset_secs = -offset_secs;
		pos += 6;
	}
	if (pos != len)
		return false;

	/* Field ranges. */
	if (year < 1 || month < 1 || month > 12 ||
		day < 1 || day > days_in_month(year, month) ||
		minute > 59 || second > 59)
		return false;
	if (hour > 24 ||
		(hour == 24 && (minute != 0 || second != 0 || fraction_nonzero)))
		return false;

	/* Local time minus the offset is UTC; 24:00 rolls into the next day. */
	secs = days_from_civil(year, month, day) * SECS_PER_DAY +
		hour * INT64_C(3600) + minute * INT64_C(60) + second - offset_secs;

	/*
	 * The instant itself must lie in years 1 to 9999 UTC, not only its local
	 * fields: "9999-12-31T24:00:00Z" or "0001-01-01T00:00:00+01:00" would
	 * otherwise parse to instants that cannot be written back, and every
	 * user of an instant (SQL literals, comparisons) writes it back.
	 */
	if (secs < days_from_civil(1, 1, 1) * SECS_PER_DAY ||
		secs >= days_from_civil(10000, 1, 1) * SECS_PER_DAY)
		return false;
	*usec = secs * USECS_PER_SEC + fraction;
	return true;
}

/* Write n decimal digits of v, zero-padded, at p. */
static void
write_digits(char *p, int n, int64_t v)
{
	for (int i = n - 1; i >= 0; i--)
	{
		p[i] = (char) ('0' + v % 10);
		v /= 10;
	}
}

/*
 * Write usec as "YYYY-MM-DDThh:mm:ss[.f]Z" with a NUL; return its length,
 * or -1 if buf is too small or the UTC year is outside 0001..9999.
 */
int
ScimFormatDateTime(int64_t usec, char *buf, size_t buflen)
{
	int64_t		days;
	int64_t		rem;
	int64_t		year;
	int			month;
	int			day;
	int64_t		secs;
	int64_t		fraction;
	char		tmp[SCIM_DATETIME_BUFLEN];
	int			len;

	if (buf == NULL)
		return -1;

	/* Bounds checked before any arithmetic that could overflow. */
	if (usec < days_from_civil(1, 1, 1) * USECS_PER_DAY ||
		usec >= days_from_civil(10000, 1, 1) * USECS_PER_DAY)
		return -1;

	/* Floor division: instants before 1970 belong to the earlier day. */
	days = usec / USECS_PER_DAY;
	rem = usec % USECS_PER_DAY;
	if (rem < 0)
	{
		rem += USECS_PER_DAY;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	secs = rem / USECS_PER_SEC;
	fraction = rem % USECS_PER_SEC;

	write_digits(tmp, 4, year);
	tmp[4] = '-';
	write_digits(tmp + 5, 2, month);
	tmp[7] = '-';
	write_digits(tmp + 8, 2, day);
	tmp[10] = 'T';
	write_digits(tmp + 11, 2, secs / 3600);
	tmp[13] = ':';
	write_digits(tmp + 14, 2, secs / 60 % 60);
	tmp[16] = ':';
	write_digits(tmp + 17, 2, secs % 60);
	len = 19;
	if (fraction != 0)
	{
		int			ndigits = 6;

		/* Trailing zeros carry no information; "0.5" not "0.500000". */
		while (fraction % 10 == 0)
		{
			fraction /= 10;
			ndigits--;
		}
		tmp[len++] = '.';
		write_digits(tmp + len, ndigits, fraction);
		len += ndigits;
	}
	tmp[len++] = 'Z';
	tmp[len] = '\0';

	if (buflen < (size_t) len + 1)
		return -1;
	memcpy(buf, tmp, (size_t) len + 1);
	return len;
}
