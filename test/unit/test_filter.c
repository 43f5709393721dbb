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

/* Parse and print canonically; returns a malloc'ed string or NULL. */
static char *
canonical(const char *text, ScimError *err)
{
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), err);
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
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), err);
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
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), &err);
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
		check_syntax_error(deep, "invalid SCIM filter at or near \"emails\" (character 1)",
						   "Filters may nest at most 100 levels deep.");
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
		check_syntax_error(deep, "invalid SCIM filter at or near \"(\" (character 101)", "Filters may nest at most 100 levels deep.");
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

	ScimRegistryFree(reg);
	return UNIT_DONE();
}
