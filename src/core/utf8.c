/*
 * utf8.c
 *		Hex digits, JSON's escapes and UTF-8 encoding, for the JSON
 *		readers: the filter parser's string literals, the extension's
 *		request bodies and scim-server's headers; UTF-8 checked and
 *		character positions in it, for the filter parser and PATCH paths.
 */
#include "utf8.h"

#include <string.h>

/* The value of hex digit c, or -1. */
int
ScimHexDigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at s as a number; -1 if they are not hex. */
int
ScimHex4(const char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		int			d = ScimHexDigit(s[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | d;
	}
	return v;
}

/* Write code point cp (at most 0x10FFFF) as UTF-8 at buf; the bytes written. */
size_t
ScimPutUtf8(char *buf, unsigned int cp)
{
	if (cp < 0x80)
	{
		buf[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		buf[0] = (char) (0xC0 | (cp >> 6));
		buf[1] = (char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		buf[0] = (char) (0xE0 | (cp >> 12));
		buf[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		buf[2] = (char) (0x80 | (cp & 0x3F));
		return 3;
	}
	buf[0] = (char) (0xF0 | (cp >> 18));
	buf[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
	buf[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
	buf[3] = (char) (0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Decode the JSON escape at s (its backslash; the text ends at end, and
 * has at least the backslash and one byte more) as RFC 8259 and
 * PostgreSQL's JSON lexer read it, a surrogate pair as one code point.
 * On SCIM_ESCAPE_OK, out holds *written bytes (never more than the
 * escape's own length), *used is the escape's length and *cp its code
 * point.
 */
ScimEscape
ScimJsonUnescape(const char *s, const char *end, char *out, size_t *written, size_t *used,
				 unsigned int *cp)
{
	static const char simple[] = "\"\\/bfnrt";
	static const char decoded[] = "\"\\/\b\f\n\r\t";
	const char *k;
	int			c;

	if (s[1] != 'u')
	{
		if (s[1] == '\0' || (k = strchr(simple, s[1])) == NULL)
			return SCIM_ESCAPE_UNKNOWN;
		*out = decoded[k - simple];
		*cp = (unsigned char) *out;
		*written = 1;
		*used = 2;
		return SCIM_ESCAPE_OK;
	}
	if (end - s < 6 || (c = ScimHex4(s + 2)) < 0)
		return SCIM_ESCAPE_HEX;
	if (c == 0)
		return SCIM_ESCAPE_NUL;
	*used = 6;
	if (c >= 0xD800 && c <= 0xDBFF)
	{
		int			lo;

		if (end - s < 12 || s[6] != '\\' || s[7] != 'u' || (lo = ScimHex4(s + 8)) < 0xDC00 || lo > 0xDFFF)
			return SCIM_ESCAPE_NO_LOW;
		c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
		*used = 12;
	}
	else if (c >= 0xDC00 && c <= 0xDFFF)
		return SCIM_ESCAPE_LONE_LOW;
	*cp = (unsigned int) c;
	*written = ScimPutUtf8(out, *cp);
	return SCIM_ESCAPE_OK;
}

/*
 * Check UTF-8 well-formedness (no overlongs, no surrogates, nothing past
 * U+10FFFF) and the absence of NUL bytes; on failure *bad_at is the offset.
 */
bool
ScimUtf8Valid(const char *s, size_t len, size_t *bad_at)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = p[i];
		int			n;
		unsigned int cp;

		if (c == 0)
			goto bad;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
		{
			n = 1;
			cp = c & 0x1F;
		}
		else if (c >= 0xE0 && c <= 0xEF)
		{
			n = 2;
			cp = c & 0x0F;
		}
		else if (c >= 0xF0 && c <= 0xF4)
		{
			n = 3;
			cp = c & 0x07;
		}
		else
			goto bad;
		if (len - i <= (size_t) n)
			goto bad;
		for (int k = 1; k <= n; k++)
		{
			if ((p[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += (size_t) n + 1;
	}
	return true;

bad:
	if (bad_at)
		*bad_at = i;
	return false;
}

/* 1-based character position of a byte offset in valid UTF-8 text. */
int
ScimCharPosition(const char *text, int byte_offset)
{
	int			chars = 0;

	for (int i = 0; i < byte_offset; i++)
		if (((unsigned char) text[i] & 0xC0) != 0x80)
			chars++;
	return chars + 1;
}
