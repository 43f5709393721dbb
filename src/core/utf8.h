/*
 * utf8.h
 *		What every reader of JSON's \u escapes needs: four hex digits, and
 *		a code point written as UTF-8.
 */
#ifndef SCIM_UTF8_H
#define SCIM_UTF8_H

#include <stddef.h>

extern int	ScimHex4(const char *s);
extern size_t ScimPutUtf8(char *buf, unsigned int cp);

#endif
