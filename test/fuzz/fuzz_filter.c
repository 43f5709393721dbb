/*
 * fuzz_filter.c
 *		libFuzzer target for the SCIM filter pipeline: parse, print, resolve,
 *		SQL generation and evaluation.
 *
 * Input: the first byte picks the resource type ('G' or 'g' for Group,
 * anything else for User); the rest is the filter text.  Besides "does not
 * crash" (ASan/UBSan), the target traps on three invariants:
 *
 *   - the canonical form is a fixed point: printing a parsed filter, parsing
 *     that and printing again gives the same text, and so does the resolved
 *     (canonical-name) form, which must also resolve again to the same SQL
 *     and the same evaluation results;
 *   - the SQL is safe to splice into a query, also as the store writes
 *     it (ScimFilterToSqlStore, at a type's endpoint and at the root):
 *     outside literals and quoted identifiers it has no ';', "--", comment
 *     opener or '$', its parentheses balance, and it is one parenthesised expression; a literal
 *     that holds a backslash must be an E'' literal, so that its meaning does
 *     not depend on standard_conforming_strings;
 *   - "not" inverts: the evaluator uses two-valued logic (filter_eval.c);
 *   - the complexity limits (ScimFilterLimits) refuse exactly what they
 *     should: each input is parsed again under tight limits picked by its
 *     first byte (1-8 terms, 1-4 levels), and that parse succeeds only
 *     when the default one does, with the same canonical form, at most the
 *     allowed terms, and a canonical form that parses under the same tight
 *     limits; it fails with a limit error whenever the tree has more terms,
 *     and with the default parse's own message when it fails otherwise.
 *
 * The registry (fixture_registry() of test/unit/fixtures.h: User with the
 * enterprise extension, Group) and the JSON documents are built once and
 * kept for the life of the process; everything built per input is freed
 * per input.
 *
 * SCIM_FUZZ_ALLOW_BARE_EXISTS=1 in the environment accepts SQL of the form
 * EXISTS (...) as one expression.  filter_sql.c emits that for a top-level
 * comparison on a multi-valued attribute ("emails pr"); the switch lets a
 * long campaign look past that known finding until it is fixed.
 */
/* before fixtures.h, which would quietly default it to "." */
#ifndef SCIM_SOURCE_DIR
#error "SCIM_SOURCE_DIR must name the source tree"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "arena.h"
#include "error.h"
#include "filter.h"
#include "filter_eval.h"
#include "fixtures.h"
#include "json_view.h"
#include "schema.h"
#include "strbuf.h"

/* Resources the evaluator runs on: well-formed, empty, ill-typed, odd roots. */
static const char *const resource_texts[] = {
	/* a full user, as in RFC 7643 §8.2, with the enterprise extension */
	"{\"schemas\": [\"" USER_URN "\", \"" ENTERPRISE_URN "\"],"
	" \"id\": \"2819c223-7f76-453a-919d-413861904646\", \"externalId\": \"701984\","
	" \"userName\": \"bjensen@example.com\","
	" \"name\": {\"formatted\": \"Ms. Barbara J Jensen, III\", \"familyName\": \"O'Malley\","
	"  \"givenName\": \"Barbara\", \"middleName\": \"Jane\", \"honorificPrefix\": \"Ms.\","
	"  \"honorificSuffix\": \"III\"},"
	" \"displayName\": \"Babs Jensen\", \"nickName\": \"Babs\","
	" \"profileUrl\": \"https://login.example.com/bjensen\", \"title\": \"Tour Guide\","
	" \"userType\": \"Employee\", \"preferredLanguage\": \"en-US\", \"locale\": \"en-US\","
	" \"timezone\": \"America/Los_Angeles\", \"active\": true,"
	" \"emails\": [{\"value\": \"bjensen@example.com\", \"type\": \"work\", \"primary\": true},"
	"  {\"value\": \"babs@jensen.org\", \"type\": \"home\"},"
	"  {\"value\": \"B\\u00e9a\\\\x%_'\\\"@EXAMPLE.org\", \"type\": \"Other\"}],"
	" \"phoneNumbers\": [{\"value\": \"555-555-5555\", \"type\": \"work\"}],"
	" \"ims\": [{\"value\": \"someaimhandle@foo.com\", \"type\": \"xmpp\"}],"
	" \"photos\": [{\"value\": \"https://photos.example.com/profilephoto/72930000000Ccne/F\", \"type\": \"photo\"}],"
	" \"addresses\": [{\"type\": \"work\", \"streetAddress\": \"100 Universal City Plaza\","
	"  \"locality\": \"Hollywood\", \"region\": \"CA\", \"postalCode\": \"91608\","
	"  \"country\": \"USA\", \"formatted\": \"100 Universal City Plaza\\nHollywood, CA 91608 USA\","
	"  \"primary\": true}],"
	" \"groups\": [{\"value\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\","
	"  \"$ref\": \"https://example.com/v2/Groups/e9e30dba\", \"display\": \"Tour Guides\"}],"
	" \"x509Certificates\": [{\"value\": \"MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw\"}],"
	" \"meta\": {\"resourceType\": \"User\", \"created\": \"2010-01-23T04:56:22Z\","
	"  \"lastModified\": \"2011-05-13T04:42:34Z\", \"version\": \"W/\\\"3694e05e9dff591\\\"\","
	"  \"location\": \"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646\"},"
	" \"" ENTERPRISE_URN "\": {\"employeeNumber\": \"701984\", \"costCenter\": \"4130\","
	"  \"organization\": \"Universal Studios\", \"division\": \"Theme Park\","
	"  \"department\": \"Tour Operations\","
	"  \"manager\": {\"value\": \"26118915-6090-4610-87e4-49d8ca9f808d\","
	"   \"$ref\": \"../Users/26118915-6090-4610-87e4-49d8ca9f808d\", \"displayName\": \"John Smith\"}}}",

	/* a group */
	"{\"schemas\": [\"" GROUP_URN "\"], \"id\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\","
	" \"displayName\": \"Sales\","
	" \"members\": [{\"value\": \"abc\", \"$ref\": \"https://example.com/v2/Users/abc\","
	"  \"display\": \"Babs Jensen\", \"type\": \"User\"},"
	"  {\"value\": \"def\", \"type\": \"Group\"}],"
	" \"meta\": {\"resourceType\": \"Group\", \"created\": \"2010-01-23T04:56:22+01:00\","
	"  \"lastModified\": \"2011-05-13T04:42:34.123456Z\"}}",

	/* nothing at all */
	"{}",

	/* every attribute with the wrong JSON type */
	"{\"schemas\": \"" USER_URN "\", \"id\": 1, \"externalId\": null,"
	" \"userName\": 42, \"displayName\": 1.5e300, \"nickName\": false, \"title\": true,"
	" \"userType\": [\"Employee\"], \"name\": [], \"active\": \"True\","
	" \"emails\": \"x\", \"phoneNumbers\": {\"value\": \"555\"},"
	" \"ims\": [1, \"x\", null, [], {}, {\"value\": 7, \"type\": [\"xmpp\"], \"primary\": \"yes\"}],"
	" \"addresses\": [[{\"type\": \"work\"}]], \"groups\": null, \"photos\": 0,"
	" \"x509Certificates\": [{\"value\": {}}], \"members\": {\"value\": \"abc\"},"
	" \"meta\": {\"lastModified\": 12, \"created\": \"not a date\", \"resourceType\": {}},"
	" \"" ENTERPRISE_URN "\": \"x\"}",

	/* more wrong types: numbers where strings belong, odd nesting */
	"{\"userName\": -0.0, \"name\": {\"familyName\": 1e400, \"givenName\": null},"
	" \"emails\": [{\"value\": 123, \"type\": \"work\", \"primary\": 1}],"
	" \"meta\": \"2011-05-13T04:42:34Z\", \"displayName\": {\"value\": \"Sales\"},"
	" \"members\": [\"abc\", {\"value\": [\"abc\"]}],"
	" \"" ENTERPRISE_URN "\": {\"manager\": \"boss\", \"employeeNumber\": 1234567}}",

	/* an array root, a string root, a number root */
	"[{\"userName\": \"bjensen\"}, {\"emails\": [{\"value\": \"x@y.z\"}]}]",
	"\"userName\"",
	"0",
};

#define N_RESOURCES (sizeof(resource_texts) / sizeof(resource_texts[0]))

static ScimRegistry *registry;
static const ScimResourceType *user_type;
static const ScimResourceType *group_type;
static ScimValue resources[N_RESOURCES + 1];	/* the last one is JSON null */
static bool allow_bare_exists;

/* Give up loudly: the target is useless without its fixtures. */
static void
setup_failed(const char *what)
{
	fprintf(stderr, "fuzz_filter: %s failed\n", what);
	abort();
}

/* Build the registry of the built-in schemas and parse the resources, once. */
static void
setup(void)
{
	registry = fixture_registry();
	user_type = ScimRegistryFindType(registry, "User", 4);
	group_type = ScimRegistryFindType(registry, "Group", 5);
	if (user_type == NULL || group_type == NULL)
		setup_failed("ScimRegistryFindType");

	for (size_t i = 0; i < N_RESOURCES; i++)
	{
		struct json_object *obj = json_tokener_parse(resource_texts[i]);

		if (obj == NULL)
		{
			fprintf(stderr, "fuzz_filter: resource %zu is not JSON\n", i);
			abort();
		}
		ScimJsonCValue(obj, &resources[i]);
	}
	ScimJsonCValue(NULL, &resources[N_RESOURCES]);

	allow_bare_exists = getenv("SCIM_FUZZ_ALLOW_BARE_EXISTS") != NULL &&
		strcmp(getenv("SCIM_FUZZ_ALLOW_BARE_EXISTS"), "1") == 0;
}

/* Report a broken invariant with the evidence, then trap (kept out of line for the stack). */
static __attribute__((noinline, noreturn)) void
violation(const char *what, const char *text, const char *got, const char *want)
{
	fprintf(stderr, "fuzz_filter: %s\n  filter: %s\n", what, text);
	if (got != NULL)
		fprintf(stderr, "  got:    %s\n", got);
	if (want != NULL)
		fprintf(stderr, "  want:   %s\n", want);
	__builtin_trap();
}

/* Can c continue a PostgreSQL identifier (so that "xE'" is not an E'' literal)? */
static bool
ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '$' || c >= 0x80;
}

/*
 * Lex generated SQL the way PostgreSQL's scanner splits literals from the
 * rest, and return NULL if it is safe to splice into a query, else what is
 * wrong.  Safe means: no statement separator, comment or dollar quote can
 * start outside a literal; every literal and quoted identifier is closed;
 * the whole text is one parenthesised expression; no NUL byte.
 */
static const char *
sql_unsafe(const char *sql, size_t len)
{
	int			depth = 0;
	size_t		open = 0;

	if (strlen(sql) != len)
		return "NUL byte in the SQL";
	/* "EXISTS " holds no quote or parenthesis, so the scan below still holds */
	if (allow_bare_exists && strncmp(sql, "EXISTS (", 8) == 0)
		open = 7;
	if (len == 0 || sql[open] != '(')
		return "SQL does not start with \"(\"";
	for (size_t i = 0; i < len; i++)
	{
		char		c = sql[i];

		if (c == '\'')
		{
			bool		escapes = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
				(i < 2 || !ident_char((unsigned char) sql[i - 2]));
			bool		closed = false;

			for (i++; i < len; i++)
			{
				if (sql[i] == '\\')
				{
					if (!escapes)
						return "backslash in a literal that is not E''";
					if (++i >= len)
						break;
				}
				else if (sql[i] == '\'')
				{
					if (i + 1 < len && sql[i + 1] == '\'')
						i++;
					else
					{
						closed = true;
						break;
					}
				}
			}
			if (!closed)
				return "unterminated string literal";
			continue;
		}
		if (c == '"')
		{
			bool		closed = false;

			for (i++; i < len; i++)
			{
				if (sql[i] == '"')
				{
					if (i + 1 < len && sql[i + 1] == '"')
						i++;
					else
					{
						closed = true;
						break;
					}
				}
			}
			if (!closed)
				return "unterminated quoted identifier";
			continue;
		}
		if (c == ';')
			return "\";\" outside a literal";
		if (c == '$')
			return "\"$\" outside a literal (dollar quoting)";
		if (c == '-' && i + 1 < len && sql[i + 1] == '-')
			return "\"--\" outside a literal";
		if (c == '/' && i + 1 < len && sql[i + 1] == '*')
			return "\"/*\" outside a literal";
		if (c == '(')
			depth++;
		else if (c == ')')
		{
			if (--depth < 0)
				return "unbalanced \")\"";
			if (depth == 0 && i + 1 != len)
				return "SQL is not one parenthesised expression";
		}
	}
	if (depth != 0)
		return "unbalanced \"(\"";
	return NULL;
}

/* Parse text within limits (NULL: the defaults) and print its canonical form into out. */
static ScimFilter *
parse_print_within(ScimArena *arena, const char *text, size_t len, const ScimFilterLimits *limits,
				   ScimBuf *out, ScimError *err)
{
	ScimFilter *f = ScimFilterParse(arena, text, len, limits, err);

	if (f != NULL)
	{
		ScimFilterPrint(f, out);
		if (out->oom)
			abort();
	}
	return f;
}

/* Parse text and print its canonical form into out; NULL tree if it does not parse. */
static ScimFilter *
parse_print(ScimArena *arena, const char *text, size_t len, ScimBuf *out, ScimError *err)
{
	return parse_print_within(arena, text, len, NULL, out, err);
}

/* The attribute expressions of a tree: what the limits call terms. */
static int
count_terms(const ScimFilter *f)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
		case SCIM_F_OR:
			return count_terms(f->left) + count_terms(f->right);
		case SCIM_F_NOT:
		case SCIM_F_VALUE_PATH:
			return count_terms(f->left);
		case SCIM_F_ATTR:
			return 1;
	}
	return 0;
}

static bool
is_limit_error(const ScimError *err)
{
	return strncmp(err->message, "SCIM filter has more than ", 26) == 0 ||
		strncmp(err->message, "SCIM filter nests more than ", 28) == 0;
}

/*
 * Parse text again under tight limits and check that they refuse exactly
 * what they should.  f is the default parse (NULL if it failed, with
 * err_default), canon its canonical form.
 */
static void
check_limits(ScimArena *arena, const char *text, size_t len, uint8_t pick,
			 const ScimFilter *f, const ScimError *err_default, const char *canon)
{
	ScimFilterLimits tight = {1 + (pick & 7), 1 + ((pick >> 3) & 3), NULL, NULL};
	ScimError	err;
	ScimBuf		out;
	ScimBuf		again;
	ScimFilter *g;

	ScimBufInit(&out);
	ScimBufInit(&again);
	g = parse_print_within(arena, text, len, &tight, &out, &err);
	if (g != NULL)
	{
		if (f == NULL)
			violation("parses under tight limits but not under the defaults", text, out.data, err_default->message);
		if (strcmp(out.data, canon) != 0)
			violation("tight limits give another canonical form", text, out.data, canon);
		if (count_terms(g) > tight.max_terms)
			violation("more terms than the limit admits", text, out.data, NULL);
		if (parse_print_within(arena, out.data, out.len, &tight, &again, &err) == NULL)
			violation("canonical form does not parse under the limits its filter met", text, out.data, err.message);
	}
	else if (!is_limit_error(&err))
	{
		if (f != NULL)
			violation("tight limits refuse a filter with another error than a limit's", text, err.message, canon);
		if (strcmp(err.message, err_default->message) != 0)
			violation("tight limits change a syntax error", text, err.message, err_default->message);
	}
	if (f != NULL && count_terms(f) > tight.max_terms && g != NULL)
		violation("tight limits admit more terms", text, out.data, NULL);
	if (f == NULL && is_limit_error(err_default) && g != NULL)
		violation("tight limits admit what the defaults refuse", text, out.data, err_default->message);
	ScimBufFree(&out);
	ScimBufFree(&again);
}

/*
 * The store's translation (membership through scim.group_members, and at
 * the root attributes of the other type absent): it must translate what
 * resolves for it, as safely, and the root resolution must refuse only
 * what the type's own refuses or no type has.
 */
static void
check_store(ScimArena *arena, const char *text, size_t len, const ScimResourceType *type)
{
	for (int root = 0; root < 2; root++)
	{
		ScimError	err;
		ScimBuf		sql;
		ScimFilter *f = ScimFilterParse(arena, text, len, NULL, &err);
		const char *why;

		if (f == NULL ||
			!ScimFilterResolveFor(f, registry, type, text, SCIM_RESOLVE_STORE | (root ? SCIM_RESOLVE_ROOT : 0), &err))
			continue;
		ScimBufInit(&sql);
		if (!ScimFilterToSqlStore(f, "x", &sql, &err))
			violation("ScimFilterToSqlStore failed on a resolved filter", text, err.message, NULL);
		why = sql_unsafe(sql.data ? sql.data : "", sql.len);
		if (why != NULL)
			violation(why, text, sql.data, NULL);
		ScimBufFree(&sql);
	}
}

/* Evaluate f on every resource into results[]. */
static void
eval_all(const ScimFilter *f, bool *results)
{
	for (size_t i = 0; i <= N_RESOURCES; i++)
		results[i] = ScimFilterEval(f, &resources[i], &ScimJsonCOps, NULL);
}

/* Check the resolved tree f of text: SQL safety, evaluation, and its round trip. */
static void
check_resolved(ScimArena *arena, ScimFilter *f, const ScimResourceType *type, const char *text)
{
	ScimError	err;
	ScimBuf		sql;
	ScimBuf		canon;
	ScimBuf		sql2;
	ScimBuf		canon2;
	ScimFilter *g;
	ScimFilter	negation;
	const char *why;
	bool		results[N_RESOURCES + 1];
	bool		results2[N_RESOURCES + 1];

	/*
	 * (a) the SQL.  Under ASan an allocation failure aborts rather than
	 * returning NULL, so any error here, "out of memory" included, is a bug:
	 * a resolved filter must always translate.
	 */
	ScimBufInit(&sql);
	if (!ScimFilterToSql(f, "data", &sql, &err))
		violation("ScimFilterToSql failed on a resolved filter", text, err.message, NULL);
	why = sql_unsafe(sql.data ? sql.data : "", sql.len);
	if (why != NULL)
		violation(why, text, sql.data, NULL);

	/* (b) the evaluator, and "not" inverting it */
	if (!ScimFilterEvalPrepare(f, arena, &ScimJsonCOps, NULL, &err))
		violation("ScimFilterEvalPrepare failed on a resolved filter", text, err.message, NULL);
	eval_all(f, results);
	memset(&negation, 0, sizeof(negation));
	negation.kind = SCIM_F_NOT;
	negation.left = f;
	for (size_t i = 0; i <= N_RESOURCES; i++)
		if (ScimFilterEval(&negation, &resources[i], &ScimJsonCOps, NULL) == results[i])
		{
			fprintf(stderr, "  resource: %s\n",
					i < N_RESOURCES ? resource_texts[i] : "null");
			violation("\"not\" does not invert the filter", text, NULL, NULL);
		}

	/*
	 * (c) the canonical form with canonical names is a fixed point too, and
	 * means the same: it resolves again, to the same SQL and results.
	 */
	ScimBufInit(&canon);
	ScimFilterPrint(f, &canon);
	if (canon.oom)
		abort();
	ScimBufInit(&canon2);
	g = parse_print(arena, canon.data, canon.len, &canon2, &err);
	if (g == NULL)
		violation("resolved canonical form does not parse", text, canon.data, err.message);
	ScimBufReset(&canon2);
	if (!ScimFilterResolve(g, registry, type, canon.data, &err))
		violation("resolved canonical form does not resolve", text, canon.data, err.message);
	ScimFilterPrint(g, &canon2);
	if (canon2.oom)
		abort();
	if (strcmp(canon.data, canon2.data) != 0)
		violation("resolved canonical form is not a fixed point", text, canon2.data, canon.data);
	ScimBufInit(&sql2);
	if (!ScimFilterToSql(g, "data", &sql2, &err))
		violation("ScimFilterToSql failed on the resolved canonical form", text, canon.data, err.message);
	if (strcmp(sql.data, sql2.data) != 0)
		violation("resolved canonical form gives other SQL", text, sql2.data, sql.data);
	if (!ScimFilterEvalPrepare(g, arena, &ScimJsonCOps, NULL, &err))
		violation("ScimFilterEvalPrepare failed on the resolved canonical form", text, canon.data, err.message);
	eval_all(g, results2);
	for (size_t i = 0; i <= N_RESOURCES; i++)
		if (results[i] != results2[i])
		{
			fprintf(stderr, "  resource: %s\n",
					i < N_RESOURCES ? resource_texts[i] : "null");
			violation("resolved canonical form evaluates differently", text, canon.data, NULL);
		}
	ScimBufFree(&sql);
	ScimBufFree(&sql2);
	ScimBufFree(&canon);
	ScimBufFree(&canon2);
}

/* One input: [type byte] filter text. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready = false;
	const ScimResourceType *type;
	ScimArena  *arena;
	ScimError	err;
	ScimBuf		first;
	ScimBuf		second;
	ScimFilter *f;
	char	   *text;
	size_t		len;

	if (!ready)
	{
		setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	type = (data[0] == 'G' || data[0] == 'g') ? group_type : user_type;

	/* a NUL-terminated copy, so that messages can print it */
	len = size - 1;
	text = malloc(len + 1);
	if (text == NULL)
		abort();
	memcpy(text, data + 1, len);
	text[len] = '\0';

	arena = ScimArenaCreate();
	if (arena == NULL)
		abort();
	ScimBufInit(&first);
	ScimBufInit(&second);

	f = parse_print(arena, text, len, &first, &err);
	check_limits(arena, text, len, data[0], f, &err, first.data ? first.data : "");
	if (f != NULL)
	{
		/* the canonical form parses, and prints as itself */
		if (parse_print(arena, first.data, first.len, &second, &err) == NULL)
			violation("canonical form does not parse", text, first.data, err.message);
		if (strcmp(first.data, second.data) != 0)
			violation("canonical form is not a fixed point", text, second.data, first.data);

		if (ScimFilterResolve(f, registry, type, text, &err))
			check_resolved(arena, f, type, text);
		check_store(arena, text, len, type);
	}

	ScimBufFree(&first);
	ScimBufFree(&second);
	ScimArenaFree(arena);
	free(text);
	return 0;
}
