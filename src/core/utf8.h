/*
 * utf8.h
 *		What every JSON reader here needs (the filter parser's string
 *		literals, the extension's request bodies, scim-server's headers):
 *		hex digits, JSON's escapes, code points written as UTF-8, UTF-8
 *		checked, and character positions in it.
 */
#ifndef SCIM_UTF8_H
#define SCIM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* What ScimJsonUnescape() found; all but SCIM_ESCAPE_OK are refused. */
typedef enum ScimEscape
{
	SCIM_ESCAPE_OK,
	SCIM_ESCAPE_UNKNOWN,		/* not one of \" \\ \/ \b \f \n \r \t \uXXXX */
	SCIM_ESCAPE_HEX,			/* \u without four hex digits */
	SCIM_ESCAPE_NUL,			/* \u0000 */
	SCIM_ESCAPE_NO_LOW,			/* a high surrogate without a low one after it */
	SCIM_ESCAPE_LONE_LOW		/* a low surrogate without a high one before it */
} ScimEscape;

extern int	ScimHexDigit(char c);
extern int	ScimHex4(const char *s);
extern size_t ScimPutUtf8(char *buf, unsigned int cp);
extern ScimEscape ScimJsonUnescape(const char *s, const char *end, char *out, size_t *written,
								   size_t *used, unsigned int *cp);
extern bool ScimUtf8Valid(const char *s, size_t len, size_t *bad_at);
extern int	ScimCharPosition(const char *text, int byte_offset);

#endif
