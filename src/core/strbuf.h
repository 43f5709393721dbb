/*
 * strbuf.h
 *		A growable, NUL-terminated byte buffer for generated text.
 *
 * Appends never fail loudly: on allocation failure the buffer remembers it
 * (oom) and ignores further appends, so a generator checks once at the end.
 */
#ifndef SCIM_STRBUF_H
#define SCIM_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ScimBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} ScimBuf;

extern void ScimBufInit(ScimBuf *buf);
extern void ScimBufReset(ScimBuf *buf);
extern void ScimBufFree(ScimBuf *buf);
extern void ScimBufAppend(ScimBuf *buf, const char *s, size_t len);
extern void ScimBufAppendStr(ScimBuf *buf, const char *s);
extern void ScimBufAppendCharSlow(ScimBuf *buf, char c);
extern void ScimBufAppendf(ScimBuf *buf, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* Append one byte; inline, since generators append many single bytes. */
static inline void
ScimBufAppendChar(ScimBuf *buf, char c)
{
	if (buf->len + 1 < buf->cap && !buf->oom)
	{
		buf->data[buf->len++] = c;
		buf->data[buf->len] = '\0';
	}
	else
		ScimBufAppendCharSlow(buf, c);
}

#endif
