/*
 * test_filter.c
 *		Core tests of the filter parser, resolver, SQL generator and
 *		evaluator, with no database.
 */
#define _POSIX_C_SOURCE 200809L

#include <json-c/json.h>
#include <string.h>

#include "filter.h"
#include "filter_eval.h"
#include "fixtures.h"
#include "json_view.h"
#include "unit.h"

static ScimRegistry *reg;

/* Parse within limits (NULL: the defaults) and print canonically; returns a malloc'ed string or NULL. */
static char *
canonical_within(const char *text, const ScimFilterLimits *limits, ScimError *err)
{
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), limits, err);
	char	   *out = NULL;

	if (f != NULL)
	{
		ScimBuf		buf;

		ScimBufInit(&buf);
		ScimFilterPrint(f, &buf);
		out = strdup(buf.data);
		ScimBufFree(&buf);
	}
	ScimArenaFree(arena);
	return out;
}

static char *
canonical(const char *text, ScimError *err)
{
	return canonical_within(text, NULL, err);
}

static void
check_canonical(const char *text, const char *want)
{
	ScimError	err;
	char	   *got = canonical(text, &err);

	CHECK_STR(got ? got : err.message, want, "canonical: %s", text);
	free(got);
}

static void
check_syntax_error(const char *text, const char *want_message, const char *want_detail)
{
	ScimError	err;
	char	   *got = canonical(text, &err);

	CHECK(got == NULL && err.kind == SCIM_ERR_INVALID_FILTER, "rejected: %s", text);
	if (got == NULL)
	{
		CHECK_STR(err.message, want_message, "message for: %s", text);
		if (want_detail)
			CHECK_STR(err.detail, want_detail, "detail for: %s", text);
	}
	free(got);
}

/* Parse, resolve against a type and translate; returns SQL or the error message. */
static char *
to_sql(const char *type, const char *text, ScimError *err)
{
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), NULL, err);
	char	   *out = NULL;

	if (f != NULL && ScimFilterResolve(f, reg, ScimRegistryFindType(reg, type, strlen(type)), text, err))
	{
		ScimBuf		buf;

		ScimBufInit(&buf);
		if (ScimFilterToSql(f, "data", &buf, err))
			out = strdup(buf.data);
		ScimBufFree(&buf);
	}
	if (out == NULL)
		out = strdup(err->message);
	ScimArenaFree(arena);
	return out;
}

static void
check_sql(const char *type, const char *text, const char *want)
{
	ScimError	err;
	char	   *got = to_sql(type, text, &err);

	CHECK_STR(got, want, "sql: %s", text);
	free(got);
}

static void
check_resolve_error(const char *text, const char *want)
{
	ScimError	err;
	char	   *got = to_sql("User", text, &err);

	CHECK(err.kind == SCIM_ERR_INVALID_FILTER, "resolve rejects: %s", text);
	CHECK_STR(got, want, "resolve message: %s", text);
	free(got);
}

/* Evaluate text on a JSON document with the json-c view. */
static int
eval(const char *type, const char *text, const char *json)
{
	ScimError	err;
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), NULL, &err);
	struct json_object *doc = json_tokener_parse(json);
	ScimValue	root;
	int			r = -1;

	if (f != NULL && doc != NULL &&
		ScimFilterResolve(f, reg, ScimRegistryFindType(reg, type, strlen(type)), text, &err) &&
		ScimFilterEvalPrepare(f, arena, &ScimJsonCOps, NULL, &err))
	{
		ScimJsonCValue(doc, &root);
		r = ScimFilterEval(f, &root, &ScimJsonCOps, NULL) ? 1 : 0;
	}
	json_object_put(doc);
	ScimArenaFree(arena);
	return r;
}

static const char *bjensen =
"{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
"\"id\":\"2819c223-7f76-453a-919d-413861904646\",\"externalId\":\"bjensen\","
"\"userName\":\"BJensen\",\"name\":{\"familyName\":\"O'Malley\",\"givenName\":\"Barbara\"},"
"\"title\":\"Tour Guide\",\"userType\":\"Employee\",\"active\":true,"
"\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
"{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
"\"meta\":{\"created\":\"2010-01-23T04:56:22Z\",\"lastModified\":\"2011-05-13T04:42:34Z\",\"version\":\"W/\\\"3694e05e9dff591\\\"\"},"
"\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"employeeNumber\":\"701984\","
"\"manager\":{\"value\":\"26118915-6090-4610-87e4-49d8ca9f808d\"}}}";

/* A malloc'ed filter: n copies of term joined by sep, each inside open/close. */
static char *
repeat_terms(int n, const char *term, const char *sep)
{
	size_t		tl = strlen(term);
	size_t		sl = strlen(sep);
	char	   *s = malloc((tl + sl) * (size_t) n + 1);
	size_t		len = 0;

	for (int i = 0; i < n; i++)
	{
		if (i > 0)
		{
			memcpy(s + len, sep, sl);
			len += sl;
		}
		memcpy(s + len, term, tl);
		len += tl;
	}
	s[len] = '\0';
	return s;
}

/* A malloc'ed filter: prefix n times, then middle, then suffix n times, then tail. */
static char *
nested(int n, const char *prefix, const char *middle, const char *suffix, const char *tail)
{
	size_t		len = strlen(prefix) * n + strlen(middle) + strlen(suffix) * n + strlen(tail);
	char	   *s = malloc(len + 1);

	s[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(s, prefix);
	strcat(s, middle);
	for (int i = 0; i < n; i++)
		strcat(s, suffix);
	strcat(s, tail);
	return s;
}

/* A malloc'ed a, b, c one after the other; frees b. */
static char *
around(const char *a, char *b, const char *c)
{
	char	   *s = malloc(strlen(a) + strlen(b) + strlen(c) + 1);

	sprintf(s, "%s%s%s", a, b, c);
	free(b);
	return s;
}

/* Does text parse within limits, and does its canonical form parse within them again? */
static bool
parses_within(const char *text, const ScimFilterLimits *limits)
{
	ScimError	err;
	char	   *first = canonical_within(text, limits, &err);
	char	   *second = first ? canonical_within(first, limits, &err) : NULL;
	bool		ok = second != NULL && strcmp(first, second) == 0;

	free(first);
	free(second);
	return ok;
}

/* Check a refusal within limits: message, detail and hint (NULL: not checked). */
static void
check_refused(const char *what, const char *text, const ScimFilterLimits *limits,
			  const char *message, const char *detail, const char *hint)
{
	ScimError	err;
	char	   *got = canonical_within(text, limits, &err);

	CHECK(got == NULL && err.kind == SCIM_ERR_INVALID_FILTER, "refused: %s", what);
	if (got == NULL)
	{
		CHECK_STR(err.message, message, "message: %s", what);
		if (detail)
			CHECK_STR(err.detail, detail, "detail: %s", what);
		if (hint)
			CHECK_STR(err.hint, hint, "hint: %s", what);
	}
	free(got);
}

/* Sort key SQL for path on User, or the error message; *kind gets the error kind. */
static char *
sort_sql(const char *path, ScimErrorKind *kind)
{
	const ScimResourceType *type = ScimRegistryFindType(reg, "User", 4);
	ScimPath	p;
	ScimError	err;
	ScimBuf		buf;
	char	   *out;

	ScimErrorClear(&err);
	ScimBufInit(&buf);
	if (ScimResolvePath(reg, type, path, strlen(path), &p, &err, SCIM_ERR_INVALID_VALUE, 0) &&
		ScimSortSql(&p, "data", &buf, &err))
		out = strdup(buf.data);
	else
		out = strdup(err.message);
	*kind = err.kind;
	ScimBufFree(&buf);
	return out;
}

/* The complexity limits: terms and nesting, counted as the parser reads. */
static void
test_limits(void)
{
	static const ScimFilterLimits small = {3, 2, "scim.filter_max_terms", "scim.filter_max_depth"};
	static const ScimFilterLimits one = {1, 1, NULL, NULL};
	static const ScimFilterLimits zero = {0, -5, NULL, NULL};
	static const ScimFilterLimits huge = {1000000, 1000000, NULL, NULL};
	char	   *s;

	/* terms: 100 by default; the 101st is refused where it starts */
	s = repeat_terms(100, "userName eq \"u\"", " or ");
	CHECK(parses_within(s, NULL), "100 terms parse");
	free(s);
	s = repeat_terms(101, "userName eq \"u\"", " or ");
	check_refused("101 terms", s, NULL, "SCIM filter has more than 100 terms",
				  "Term 101 starts at character 1901. Each attribute expression, such as userName eq \"bjensen\", is a term, also inside a value filter \"[...]\".", "");
	free(s);
	/* terms inside value filters count, and "pr" is a term */
	s = repeat_terms(50, "emails[type eq \"work\" and value pr]", " and ");
	CHECK(parses_within(s, NULL), "50 value filters of 2 terms parse");
	free(s);
	s = around("emails[", repeat_terms(101, "type pr", " or "), "]");
	check_refused("101 terms in a value filter", s, NULL, "SCIM filter has more than 100 terms", NULL, NULL);
	free(s);
	/* Entra's emails[...].value eq "x" is two terms */
	check_refused("Entra's value path is two terms", "emails[type eq \"work\"].value eq \"x\"", &one,
				  "SCIM filter has more than 1 term",
				  "Term 2 starts at character 24. Each attribute expression, such as userName eq \"bjensen\", is a term, also inside a value filter \"[...]\".", NULL);
	CHECK(parses_within("emails[type eq \"work\"].value eq \"x\"", &small), "Entra's value path within 3 terms");
	/* the caller's limits, and the setting named in the hint */
	CHECK(parses_within("a pr and (b pr or c pr)", &small), "3 terms within 3");
	check_refused("4 terms past 3", "a pr and (b pr or c pr) or d pr", &small, "SCIM filter has more than 3 terms",
				  "Term 4 starts at character 28. Each attribute expression, such as userName eq \"bjensen\", is a term, also inside a value filter \"[...]\".",
				  "Send several smaller filters, or have a superuser raise scim.filter_max_terms.");
	/* refused at the term too many, before the rest is read (the end is bad too) */
	s = around("", repeat_terms(5000, "a eq \"x\"", " or "), " xor");
	check_refused("5000 terms, then a syntax error", s, NULL, "SCIM filter has more than 100 terms", NULL, NULL);
	free(s);
	s = repeat_terms(100000, "a pr", " or ");
	check_refused("100,000 terms", s, NULL, "SCIM filter is too long", "The filter is 799996 bytes; the limit is 65536.", NULL);
	free(s);

	/* depth: 20 levels by default; parentheses, "not" and brackets each open one */
	s = nested(20, "(", "a pr", ")", "");
	CHECK(parses_within(s, NULL), "20 parentheses parse");
	free(s);
	s = nested(21, "(", "a pr", ")", "");
	check_refused("21 parentheses", s, NULL, "SCIM filter nests more than 20 levels deep",
				  "Level 21 opens at character 21. Parentheses, also those after \"not\", and value filters \"[...]\" each open a level.", "");
	free(s);
	s = nested(20, "not (", "a pr", ")", "");
	CHECK(parses_within(s, NULL), "20 nots parse");
	free(s);
	s = nested(21, "not(", "a pr", ")", "");
	check_refused("21 nots", s, NULL, "SCIM filter nests more than 20 levels deep",
				  "Level 21 opens at character 84. Parentheses, also those after \"not\", and value filters \"[...]\" each open a level.", NULL);
	free(s);
	s = nested(19, "(", "emails[not (type pr)]", ")", "");
	check_refused("a bracket is a level", s, NULL, "SCIM filter nests more than 20 levels deep",
				  "Level 21 opens at character 31. Parentheses, also those after \"not\", and value filters \"[...]\" each open a level.", NULL);
	free(s);
	s = nested(19, "(", "emails[type pr]", ")", "");
	CHECK(parses_within(s, NULL), "a bracket inside 19 parentheses parses");
	free(s);
	/* emails[... or ...].value prints as emails[(... or ...) and value ...]: one level more */
	s = around("emails[", nested(18, "not(", "type pr", ")", " or type pr"), "].value pr");
	CHECK(parses_within(s, NULL), "Entra value path whose canonical form is 20 deep");
	free(s);
	s = around("emails[", nested(19, "not(", "type pr", ")", " or type pr"), "].value pr");
	check_refused("Entra value path whose canonical form is 21 deep", s, NULL,
				  "SCIM filter nests more than 20 levels deep",
				  "Level 21 opens at character 1: the canonical form of \"emails[...].value\" puts the filter inside the brackets in parentheses.", NULL);
	free(s);
	check_refused("3 levels past 2", "((a pr or (b pr)))", &small, "SCIM filter nests more than 2 levels deep", NULL,
				  "Write the filter with fewer nested parentheses, or have a superuser raise scim.filter_max_depth.");
	check_refused("1 level", "not ((a pr))", &one, "SCIM filter nests more than 1 level deep", NULL, NULL);

	/* limits outside the ceilings are clamped to them */
	CHECK(parses_within("(a pr)", &zero), "limits below 1 admit one term, one level");
	check_refused("limits below 1: two terms", "a pr or b pr", &zero, "SCIM filter has more than 1 term", NULL, NULL);
	s = nested(100, "(", "a pr", ")", "");
	CHECK(parses_within(s, &huge), "100 levels within the ceiling");
	free(s);
	s = nested(101, "(", "a pr", ")", "");
	check_refused("101 levels past the ceiling", s, &huge, "SCIM filter nests more than 100 levels deep", NULL, NULL);
	free(s);
	/* the length limit admits no more than about 8000 terms, below the ceiling */
	s = repeat_terms(8000, "a pr", " or ");
	CHECK(parses_within(s, &huge), "8000 terms within the ceiling");
	free(s);
	/* strings longer than the arena has room for are sized by their extent, escapes and all */
	s = repeat_terms(3000, "a eq \"\\u00e9\\\"\"", " or ");
	CHECK(strlen(s) < SCIM_FILTER_MAX_LENGTH && parses_within(s, &huge), "3000 escaped strings parse");
	free(s);
}

/* Never-returned attributes (password) cannot be filtered or sorted on. */
static void
test_never_returned(void)
{
	ScimErrorKind kind;
	char	   *got;

	check_resolve_error("password eq \"t1meMa$heen\"", "attribute \"password\" cannot be used in a filter (character 1)");
	check_resolve_error("PassWord pr", "attribute \"password\" cannot be used in a filter (character 1)");
	check_resolve_error("urn:ietf:params:scim:schemas:core:2.0:User:password sw \"SCRAM\"",
						"attribute \"password\" cannot be used in a filter (character 1)");
	check_resolve_error("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:PASSWORD co \"a\"",
						"attribute \"password\" cannot be used in a filter (character 1)");
	check_resolve_error("userName eq \"bjensen\" and not (password gt \"m\")",
						"attribute \"password\" cannot be used in a filter (character 32)");
	check_resolve_error("emails[type eq \"work\"] or (title pr and password ew \"x\")",
						"attribute \"password\" cannot be used in a filter (character 41)");
	check_resolve_error("password[value eq \"x\"]", "attribute \"password\" cannot be used in a filter (character 1)");
	check_resolve_error("password eq null", "attribute \"password\" cannot be used in a filter (character 1)");

	got = sort_sql("password", &kind);
	CHECK(kind == SCIM_ERR_INVALID_FILTER, "sortBy password: invalidFilter, as in a filter");
	CHECK_STR(got, "attribute \"password\" cannot be sorted by", "sortBy password");
	free(got);
	got = sort_sql("urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD", &kind);
	CHECK_STR(got, "attribute \"password\" cannot be sorted by", "sortBy URN-qualified password");
	free(got);
	got = sort_sql("userName", &kind);
	CHECK(kind == SCIM_OK, "sortBy userName");
	free(got);
}

/*
 * The rule follows the schema, not the name: a custom extension's
 * never-returned attributes and sub-attributes are refused too.
 */
static void
test_never_returned_custom(void)
{
	static const char schema[] =
		"{\"id\": \"urn:example:secrets:2.0:User\", \"attributes\": ["
		" {\"name\": \"pin\", \"type\": \"string\", \"returned\": \"never\", \"mutability\": \"writeOnly\"},"
		" {\"name\": \"keys\", \"type\": \"complex\", \"multiValued\": true, \"subAttributes\": ["
		"  {\"name\": \"value\", \"type\": \"string\", \"returned\": \"never\"},"
		"  {\"name\": \"label\", \"type\": \"string\"}]}]}";
	ScimRegistry *saved = reg;
	ScimError	err;
	ScimErrorKind kind;
	char	   *got;

	reg = fixture_registry();
	CHECK(ScimRegistryAddSchema(reg, schema, strlen(schema), &err) != NULL &&
		  ScimRegistryAddExtension(reg, "User", "urn:example:secrets:2.0:User", false, &err),
		  "register a schema with never-returned attributes");
	check_resolve_error("pin eq \"1234\"", "attribute \"pin\" cannot be used in a filter (character 1)");
	check_resolve_error("urn:example:secrets:2.0:User:pin pr", "attribute \"pin\" cannot be used in a filter (character 1)");
	check_resolve_error("keys[label eq \"a\" and value eq \"k\"]", "attribute \"keys.value\" cannot be used in a filter (character 23)");
	check_resolve_error("keys.value sw \"k\"", "attribute \"keys.value\" cannot be used in a filter (character 1)");
	check_resolve_error("keys co \"k\"", "attribute \"keys.value\" cannot be used in a filter (character 1)");
	check_sql("User", "keys[label eq \"a\"]",
			  "(EXISTS (SELECT 1 FROM scim.elements(data->'urn:example:secrets:2.0:User'->'keys') AS e(v) WHERE (lower(v->>'label') = lower('a'))))");
	got = sort_sql("pin", &kind);
	CHECK_STR(got, "attribute \"pin\" cannot be sorted by", "sortBy a never-returned extension attribute");
	free(got);
	got = sort_sql("keys", &kind);
	CHECK_STR(got, "attribute \"keys.value\" cannot be sorted by", "sortBy a multi-valued attribute whose value is never returned");
	free(got);
	ScimRegistryFree(reg);
	reg = saved;
}

int
main(void)
{
	reg = fixture_registry();

	/* canonical form: operators and keywords lower-case, minimal parentheses */
	check_canonical("userName Eq \"john\"", "userName eq \"john\"");
	check_canonical("title pr AND userType EQ \"Employee\"", "title pr and userType eq \"Employee\"");
	check_canonical("a eq 1 and b eq 2 or c eq 3", "a eq 1 and b eq 2 or c eq 3");
	check_canonical("a eq 1 and (b eq 2 or c eq 3)", "a eq 1 and (b eq 2 or c eq 3)");
	check_canonical("(a eq 1 and b eq 2) or c eq 3", "a eq 1 and b eq 2 or c eq 3");
	check_canonical("not(a pr)", "not (a pr)");
	check_canonical("NOT   (a pr)", "not (a pr)");
	check_canonical("emails[type eq \"work\"].value eq \"x\"", "emails[type eq \"work\" and value eq \"x\"]");
	check_canonical("userName eq \"a\\\"b\\\\c\\u00e9\\ud83d\\ude00\"", "userName eq \"a\\\"b\\\\c\xc3\xa9\xf0\x9f\x98\x80\"");
	check_canonical("x eq TRUE or y eq Null", "x eq true or y eq null");
	check_canonical("n gt -1.5e3", "n gt -1.5e3");
	check_canonical("a eq 1 or (b eq 2 or c eq 3)", "a eq 1 or (b eq 2 or c eq 3)");

	/* syntax errors name the token, the character and what was expected */
	check_syntax_error("userName eq", "invalid SCIM filter at end of input (character 12)", "Expected a comparison value.");
	check_syntax_error("userName equals \"x\"", "invalid SCIM filter at or near \"equals\" (character 10)",
					   "Expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr).");
	check_syntax_error("userName eq bjensen", "invalid SCIM filter at or near \"bjensen\" (character 13)", NULL);
	check_syntax_error("userName eq \"x", "invalid SCIM filter at end of input (character 15)", "The string value that starts at character 13 is not terminated.");
	check_syntax_error("(userName eq \"x\"", "invalid SCIM filter at end of input (character 17)", "Expected \")\", \"and\" or \"or\".");
	check_syntax_error("userName eq \"x\" xor title pr", "invalid SCIM filter at or near \"xor\" (character 17)", NULL);
	check_syntax_error("not title pr", "invalid SCIM filter at or near \"title\" (character 5)", "Expected \"(\" after \"not\".");
	check_syntax_error("emails[value[x eq 1]]", "invalid SCIM filter at or near \"[\" (character 13)", NULL);
	check_syntax_error("emails[type.x eq 1]", "invalid SCIM filter at or near \"type.x\" (character 8)", NULL);
	check_syntax_error("userName eq \"\\u0000\"", "invalid SCIM filter at or near \"\\\" (character 14)", NULL);
	check_syntax_error("", "SCIM filter is empty", NULL);
	check_syntax_error("userName eq \"\xff\"", "invalid SCIM filter: invalid UTF-8 at byte 14", NULL);
	check_syntax_error("userName eq 1e99999", "invalid SCIM filter at or near \"1e99999\" (character 13)", NULL);
	check_syntax_error("userName regex \"x\"", "invalid SCIM filter at or near \"regex\" (character 10)", NULL);
	/* fuzz findings: canonical forms must parse back */
	check_canonical("x[a pr].not pr", "x[a pr and not pr]");
	check_canonical("x[a pr and not pr]", "x[a pr and not pr]");
	check_syntax_error("not pr and", "invalid SCIM filter at end of input (character 11)", NULL);
	{
		char		deep[600];
		int			n = sprintf(deep, "emails[");

		for (int i = 0; i < 99; i++)
			n += sprintf(deep + n, "not(");
		n += sprintf(deep + n, "type pr");
		for (int i = 0; i < 99; i++)
			n += sprintf(deep + n, ")");
		sprintf(deep + n, " or type pr].value pr");
		check_refused("canonical form 101 deep", deep, &(ScimFilterLimits) {100, 100, NULL, NULL},
					  "SCIM filter nests more than 100 levels deep", NULL, NULL);
	}
	check_syntax_error("é eq \"x\"", "invalid SCIM filter at or near \"é\" (character 1)", NULL);
	{
		char		deep[1000];
		int			n = 0;

		for (int i = 0; i < 150; i++)
			deep[n++] = '(';
		strcpy(deep + n, "a pr");
		n += 4;
		for (int i = 0; i < 150; i++)
			deep[n++] = ')';
		deep[n] = '\0';
		check_syntax_error(deep, "SCIM filter nests more than 20 levels deep",
						   "Level 21 opens at character 21. Parentheses, also those after \"not\", and value filters \"[...]\" each open a level.");
	}

	/* resolution: canonical names, types, operators */
	check_resolve_error("foo eq \"x\"", "unknown attribute \"foo\" in filter (character 1)");
	check_resolve_error("active gt true", "operator \"gt\" cannot be applied to boolean attribute \"active\" (character 1)");
	check_resolve_error("x509Certificates.value lt \"x\"", "operator \"lt\" cannot be applied to binary attribute \"x509Certificates.value\" (character 1)");
	check_resolve_error("userName eq 5", "attribute \"userName\" is of type string and must be compared with a string (character 13)");
	check_resolve_error("meta.created gt \"yesterday\"", "attribute \"meta.created\" is a dateTime and must be compared with an xsd:dateTime string (character 17)");
	check_resolve_error("name eq \"x\"", "complex attribute \"name\" cannot be compared with \"eq\" (character 1)");
	check_resolve_error("userName co null", "operator \"co\" cannot compare attribute \"userName\" with null (character 13)");
	check_resolve_error("emails[foo eq \"x\"]", "unknown attribute \"emails.foo\" in filter (character 8)");
	check_resolve_error("urn:ietf:params:scim:schemas:extension:nope:2.0:User:x eq \"1\"",
						"unknown schema in attribute path \"urn:ietf:params:scim:schemas:extension:nope:2.0:User:x\" (character 1)");

	/* SQL: exact shapes */
	check_sql("User", "USERNAME eq \"bjensen\"", "(lower(data->>'userName') = lower('bjensen'))");
	check_sql("User", "externalId eq \"O'x\"", "((data->>'externalId') = 'O''x')");
	check_sql("User", "userName co \"50%_\\\\\"", "(lower(data->>'userName') LIKE lower(E'%50\\\\%\\\\_\\\\\\\\%'))");
	check_sql("User", "userName ne \"x\"", "(NOT COALESCE((lower(data->>'userName') = lower('x')), false))");
	check_sql("User", "title pr", "(data->'title' NOT IN ('null', '\"\"', '[]', '{}'))");
	check_sql("User", "title eq null", "(NOT COALESCE((data->'title' NOT IN ('null', '\"\"', '[]', '{}')), false))");
	check_sql("User", "active eq \"False\"", "(data->'active' = 'false'::jsonb)");
	check_sql("User", "meta.lastModified gt \"2011-05-13T06:42:34+02:00\"",
			  "(scim.instant(data->'meta'->>'lastModified') > '2011-05-13T04:42:34Z'::timestamptz)");
	check_sql("User", "emails co \"example.com\"",
			  "(EXISTS (SELECT 1 FROM scim.elements(data->'emails') AS e(v) WHERE (lower(v->>'value') LIKE lower('%example.com%'))))");
	check_sql("User", "emails.value eq \"A@B.C\"", "(scim.values_lower(data->'emails', 'value') @> ARRAY[lower('A@B.C')])");
	check_sql("User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"1\"",
			  "(lower(data->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'->>'employeeNumber') = lower('1'))");
	check_sql("User", "employeeNumber eq \"1\"",
			  "(lower(data->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'->>'employeeNumber') = lower('1'))");
	check_sql("User", "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"", "(lower(data->>'userName') LIKE lower('J%'))");
	check_sql("User", "manager eq \"26\"",
			  "(lower(data->'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'->'manager'->>'value') = lower('26'))");
	check_sql("Group", "members[value eq \"abc\"]",
			  "((scim.values_lower(data->'members', 'value') @> ARRAY[lower('abc')]) AND EXISTS (SELECT 1 FROM scim.elements(data->'members') AS e(v) WHERE (lower(v->>'value') = lower('abc'))))");
	check_sql("User", "name[givenName eq \"B\"]",
			  "(jsonb_typeof(data->'name') = 'object' AND (lower(data->'name'->>'givenName') = lower('B')))");

	/* evaluation: RFC 7644 §3.4.2.2 examples against RFC 7643 §8.2's user */
	CHECK(eval("User", "userName eq \"bjensen\"", bjensen) == 1, "eval userName eq, case-insensitive");
	CHECK(eval("User", "externalId eq \"BJENSEN\"", bjensen) == 0, "eval externalId is caseExact");
	CHECK(eval("User", "name.familyName co \"O'Malley\"", bjensen) == 1, "eval co with quote");
	CHECK(eval("User", "userName sw \"J\"", bjensen) == 0, "eval sw false");
	CHECK(eval("User", "userName sw \"bj\"", bjensen) == 1, "eval sw true");
	CHECK(eval("User", "title pr", bjensen) == 1, "eval pr");
	CHECK(eval("User", "nickName pr", bjensen) == 0, "eval pr absent");
	CHECK(eval("User", "nickName ne \"x\"", bjensen) == 1, "eval ne on absent is true");
	CHECK(eval("User", "userName ne \"BJENSEN\"", bjensen) == 0, "eval ne on equal value is false");
	CHECK(eval("User", "emails.value ne \"babs@jensen.org\"", bjensen) == 0, "eval ne on multi-valued is not eq");
	CHECK(eval("User", "not (nickName eq \"x\")", bjensen) == 1, "eval not on absent is true");
	CHECK(eval("User", "meta.lastModified gt \"2011-05-13T04:42:34Z\"", bjensen) == 0, "eval dateTime gt equal instant");
	CHECK(eval("User", "meta.lastModified ge \"2011-05-13T06:42:34+02:00\"", bjensen) == 1, "eval dateTime ge with offset");
	CHECK(eval("User", "title pr and userType eq \"Employee\"", bjensen) == 1, "eval and");
	CHECK(eval("User", "userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")", bjensen) == 1, "eval RFC and/or");
	CHECK(eval("User", "userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")", bjensen) == 0, "eval RFC not");
	CHECK(eval("User", "emails[type eq \"work\" and value co \"@example.com\"]", bjensen) == 1, "eval value path");
	CHECK(eval("User", "emails[type eq \"home\" and value co \"@example.com\"]", bjensen) == 0, "eval value path: same element");
	CHECK(eval("User", "emails.type eq \"home\" and emails.value co \"@example.com\"", bjensen) == 1, "eval any element each");
	CHECK(eval("User", "emails[type eq \"work\"].value eq \"BJENSEN@example.com\"", bjensen) == 1, "eval Entra value path");
	CHECK(eval("User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"", bjensen) == 1, "eval extension URN");
	CHECK(eval("User", "id eq \"2819c223-7f76-453a-919d-413861904646\" and manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\"", bjensen) == 1, "eval Entra manager check");
	CHECK(eval("User", "active eq \"True\"", bjensen) == 1, "eval Entra boolean string");
	CHECK(eval("User", "schemas eq \"URN:ietf:params:scim:schemas:core:2.0:User\"", bjensen) == 1, "eval simple multi-valued");
	CHECK(eval("User", "emails pr", "{\"emails\":[]}") == 0, "eval empty array not present");
	CHECK(eval("User", "title pr", "{\"title\":\"\"}") == 0, "eval empty string not present");
	CHECK(eval("User", "name pr", "{\"name\":{}}") == 0, "eval empty object not present");
	CHECK(eval("User", "title eq null", "{\"title\":null}") == 1, "eval eq null on null");
	CHECK(eval("User", "emails.value eq \"x\"", "{\"emails\":\"x\"}") == 0, "eval non-array multi-valued");
	CHECK(eval("User", "userName eq \"x\"", "[1,2]") == 0, "eval array root");

	test_limits();
	test_never_returned();
	test_never_returned_custom();

	ScimRegistryFree(reg);
	return UNIT_DONE();
}
