/*
 * strbuf.c
 *		Growable text buffer.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Start with an empty buffer; nothing is allocated until the first append. */
void
ScimBufInit(ScimBuf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->oom = false;
}

/* Empty the buffer, keeping its memory. */
void
ScimBufReset(ScimBuf *buf)
{
	buf->len = 0;
	buf->oom = false;
	if (buf->data != NULL)
		buf->data[0] = '\0';
}

/* Release the buffer's memory. */
void
ScimBufFree(ScimBuf *buf)
{
	free(buf->data);
	ScimBufInit(buf);
}

/* Make room for extra more bytes plus the terminator. */
static bool
buf_reserve(ScimBuf *buf, size_t extra)
{
	size_t		need;
	size_t		cap;
	char	   *p;

	if (buf->oom)
		return false;
	if (extra > SIZE_MAX / 2 - buf->len)
	{
		buf->oom = true;
		return false;
	}
	need = buf->len + extra + 1;
	if (need <= buf->cap)
		return true;
	cap = buf->cap ? buf->cap : 256;
	while (cap < need)
		cap *= 2;
	p = realloc(buf->data, cap);
	if (p == NULL)
	{
		buf->oom = true;
		return false;
	}
	buf->data = p;
	buf->cap = cap;
	return true;
}

/* Append len bytes. */
void
ScimBufAppend(ScimBuf *buf, const char *s, size_t len)
{
	if (!buf_reserve(buf, len))
		return;
	memcpy(buf->data + buf->len, s, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

/* Append a NUL-terminated string. */
void
ScimBufAppendStr(ScimBuf *buf, const char *s)
{
	ScimBufAppend(buf, s, strlen(s));
}

/* Append one byte, growing the buffer (ScimBufAppendChar's slow path). */
void
ScimBufAppendCharSlow(ScimBuf *buf, char c)
{
	if (!buf_reserve(buf, 1))
		return;
	buf->data[buf->len++] = c;
	buf->data[buf->len] = '\0';
}

/* Append printf-formatted text. */
void
ScimBufAppendf(ScimBuf *buf, const char *fmt,...)
{
	va_list		ap;
	int			n;

	if (buf->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(buf, (size_t) n))
	{
		buf->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf->data + buf->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	buf->len += (size_t) n;
}
