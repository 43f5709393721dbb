/*
 * fuzz_headers.c
 *		scim-server's JsonEachString() against json-c: an input it reads
 *		as an object of strings, json-c reads as the same object (the last
 *		of a name sent twice counting, as in jsonb).
 *
 * json-c (0.16) turns some valid surrogate pairs into U+FFFD: "\ud837\ude20"
 * is U+1DE20 to RFC 8259, PostgreSQL and JsonEachString(), U+FFFD to json-c.
 * An input json-c reads with a U+FFFD in it is not compared, only run.
 */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/* Does json-c's object hold U+FFFD in a name or a string value? */
static bool
has_replacement(struct json_object *obj)
{
	json_object_object_foreach(obj, key, val)
	{
		if (strstr(key, REPLACEMENT) != NULL ||
			(json_object_is_type(val, json_type_string) && strstr(json_object_get_string(val), REPLACEMENT) != NULL))
			return true;
	}
	return false;
}

typedef struct Seen
{
	int			n;
	char	   *keys[64];
	char	   *values[64];
} Seen;

static void
record(void *arg, const char *key, const char *value)
{
	Seen	   *seen = arg;

	if (seen->n >= 64)
		abort();				/* it reports at most 64 */
	seen->keys[seen->n] = strdup(key);
	seen->values[seen->n] = strdup(value);
	seen->n++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	Seen		seen = {0};
	struct json_object *obj;

	memcpy(text, data, size);
	text[size] = '\0';
	if (JsonEachString(text, record, &seen))
	{
		int			distinct = 0;

		obj = json_tokener_parse(text);
		if (!json_object_is_type(obj, json_type_object))
		{
			fprintf(stderr, "read as an object of strings, but json-c does not read an object\n");
			abort();
		}
		for (int i = has_replacement(obj) ? seen.n : 0; i < seen.n; i++)
		{
			struct json_object *v;
			bool		last = true;

			for (int j = i + 1; j < seen.n; j++)
				if (strcmp(seen.keys[i], seen.keys[j]) == 0)
					last = false;
			if (!last)
				continue;
			distinct++;
			if (!json_object_object_get_ex(obj, seen.keys[i], &v) || !json_object_is_type(v, json_type_string) ||
				strcmp(json_object_get_string(v), seen.values[i]) != 0)
			{
				fprintf(stderr, "member \"%s\" differs from json-c's\n", seen.keys[i]);
				abort();
			}
		}
		if (!has_replacement(obj) && distinct != json_object_object_length(obj))
		{
			fprintf(stderr, "%d members, json-c has %d\n", distinct, json_object_object_length(obj));
			abort();
		}
		json_object_put(obj);
	}
	for (int i = 0; i < seen.n; i++)
	{
		free(seen.keys[i]);
		free(seen.values[i]);
	}
	free(text);
	return 0;
}
