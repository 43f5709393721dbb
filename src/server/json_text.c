/*
 * json_text.c
 *		The little JSON the server writes and reads itself: a request's
 *		headers as an object of strings, and a response's headers back.
 *
 * json-c built an object for the first and parsed the second on every
 * request, a tenth of the server's own work on a lookup, most of it in
 * malloc.  Both are flat objects of strings; anything else in a response's
 * headers is left to json-c by the caller.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "utf8.h"

/* Append n bytes of s; on failure to grow, the buffer is marked failed. */
void
TextAppend(TextBuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *data;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((data = realloc(b->data, cap)) == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Append s as a JSON string: quoted, with '"', '\' and control characters escaped. */
void
TextAppendJsonString(TextBuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	TextAppend(b, "\"", 1);
	for (const char *p = s; *p; p++)
	{
		unsigned char c = (unsigned char) *p;
		char		esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		TextAppend(b, run, (size_t) (p - run));
		run = p + 1;
		if (c == '"' || c == '\\')
		{
			esc[1] = (char) c;
			TextAppend(b, esc, 2);
		}
		else
			TextAppend(b, esc, 6);
	}
	TextAppend(b, run, strlen(run));
	TextAppend(b, "\"", 1);
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * The JSON string at *pp (its opening quote; the text ends at end) decoded
 * into out, which has room for it (a decoded string is never longer than
 * its text); *pp moves past its closing quote.  False when it is not a
 * string, or holds a NUL.
 */
static bool
take_string(const char **pp, const char *end, char *out)
{
	const char *p = *pp;
	size_t		written;
	size_t		used;
	unsigned int cp;

	if (*p++ != '"')
		return false;
	while (*p != '"')
	{
		unsigned char c = (unsigned char) *p;

		if (c < 0x20)
			return false;		/* the end of the text, or a raw control character */
		if (c != '\\')
		{
			*out++ = *p++;
			continue;
		}
		if (ScimJsonUnescape(p, end, out, &written, &used, &cp) != SCIM_ESCAPE_OK)
			return false;
		out += written;
		p += used;
	}
	*out = '\0';
	*pp = p + 1;
	return true;
}

/*
 * Call fn(arg, key, value) for each member of the JSON object text json,
 * all of whose values must be strings.  False, before any call, when json
 * is not such an object (or memory runs out).
 */
bool
JsonEachString(const char *json, void (*fn) (void *arg, const char *key, const char *value), void *arg)
{
	size_t		len = strlen(json);
	char	   *work = malloc(2 * len + 2);
	char	   *keys[64];
	char	   *values[64];
	int			n = 0;
	char	   *out = work;
	const char *p = skip_space(json);
	bool		ok = false;

	if (work == NULL || *p++ != '{')
	{
		free(work);
		return false;
	}
	p = skip_space(p);
	if (*p == '}')
		ok = true;
	while (!ok && n < 64)
	{
		keys[n] = out;
		if (!take_string(&p, json + len, out))
			break;
		out += strlen(out) + 1;
		p = skip_space(p);
		if (*p++ != ':')
			break;
		p = skip_space(p);
		values[n] = out;
		if (!take_string(&p, json + len, out))
			break;
		out += strlen(out) + 1;
		n++;
		p = skip_space(p);
		if (*p == '}')
			ok = true;
		else if (*p++ != ',')
			break;
		p = skip_space(p);
	}
	if (ok && *skip_space(p + 1) != '\0')
		ok = false;
	if (ok)
		for (int i = 0; i < n; i++)
			fn(arg, keys[i], values[i]);
	free(work);
	return ok;
}
