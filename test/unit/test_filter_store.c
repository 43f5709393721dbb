/*
 * test_filter_store.c
 *		Core tests of filters as the store translates them: membership
 *		through scim.group_members (SCIM_RESOLVE_STORE), and attributes of
 *		other resource types at the root (SCIM_RESOLVE_ROOT).
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

#define UID "2819c223-7f76-453a-919d-413861904646"

/* Parse, resolve with flags and translate for the store's row "x"; SQL or the error message. */
static char *
store_sql(const char *type, const char *text, int flags, ScimError *err)
{
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), NULL, err);
	char	   *out = NULL;

	if (f != NULL &&
		ScimFilterResolveFor(f, reg, ScimRegistryFindType(reg, type, strlen(type)), text, flags, err))
	{
		ScimBuf		buf;

		ScimBufInit(&buf);
		if (ScimFilterToSqlStore(f, "x", &buf, err))
			out = strdup(buf.data);
		ScimBufFree(&buf);
	}
	if (out == NULL)
		out = strdup(err->message);
	ScimArenaFree(arena);
	return out;
}

static void
check_store(const char *type, const char *text, int flags, const char *want)
{
	ScimError	err;
	char	   *got = store_sql(type, text, flags, &err);

	CHECK_STR(got, want, "store sql (%s): %s", type, text);
	free(got);
}

static void
check_refused(const char *type, const char *text, int flags, const char *want)
{
	ScimError	err;
	char	   *got = store_sql(type, text, flags, &err);

	CHECK(err.kind == SCIM_ERR_INVALID_FILTER, "refused (%s): %s", type, text);
	CHECK_STR(got, want, "refusal (%s): %s", type, text);
	free(got);
}

/* Evaluate text resolved with flags on a JSON document; -1 when it does not resolve. */
static int
eval_with(const char *type, const char *text, int flags, const char *json)
{
	ScimError	err;
	ScimArena  *arena = ScimArenaCreate();
	ScimFilter *f = ScimFilterParse(arena, text, strlen(text), NULL, &err);
	struct json_object *doc = json_tokener_parse(json);
	ScimValue	root;
	int			r = -1;

	if (f != NULL && doc != NULL &&
		ScimFilterResolveFor(f, reg, ScimRegistryFindType(reg, type, strlen(type)), text, flags, &err) &&
		ScimFilterEvalPrepare(f, arena, &ScimJsonCOps, NULL, &err))
	{
		ScimJsonCValue(doc, &root);
		r = ScimFilterEval(f, &root, &ScimJsonCOps, NULL) ? 1 : 0;
	}
	json_object_put(doc);
	ScimArenaFree(arena);
	return r;
}

#define MEMBERS_HOW "a group's members are filtered by id (members.value) or type (members.type) with eq, ne or pr"
#define GROUPS_HOW "a user's groups are filtered by group id (groups.value) with eq, ne or pr"
#define MEMBERS "(EXISTS (SELECT 1 FROM scim.group_members scim_m WHERE scim_m.tenant = x.tenant AND scim_m.group_id = x.id"
#define GROUPS "(EXISTS (SELECT 1 FROM scim.group_members scim_m WHERE scim_m.tenant = x.tenant AND scim_m.value = scim.id_text(x.id) AND scim.member_uuid(scim_m.value) = x.id"

static void
test_membership(void)
{
	const int	S = SCIM_RESOLVE_STORE;

	/* the shapes identity providers send, all one indexed EXISTS */
	check_store("Group", "members eq \"" UID "\"", S, MEMBERS " AND (scim_m.value = '" UID "')))");
	check_store("Group", "members.value eq \"" UID "\"", S, MEMBERS " AND (scim_m.value = '" UID "')))");
	check_store("Group", "members[value eq \"" UID "\"]", S, MEMBERS " AND (scim_m.value = '" UID "')))");
	check_store("Group", "urn:ietf:params:scim:schemas:core:2.0:Group:members.value eq \"" UID "\"", S,
				MEMBERS " AND (scim_m.value = '" UID "')))");
	check_store("Group", "id eq \"g\" and members eq \"" UID "\"", S,
				"((scim.key(x.data, 'id') = 'g') AND " MEMBERS " AND (scim_m.value = '" UID "'))))");
	/* an id as the store writes them is its primary key too */
	check_store("Group", "id eq \"" UID "\" and members pr", S,
				"((x.id = '" UID "'::uuid AND scim.key(x.data, 'id') = '" UID "') AND " MEMBERS ")))");
	check_store("Group", "id eq \"2819C223-7F76-453A-919D-413861904646\"", S,
				"(scim.key(x.data, 'id') = '2819C223-7F76-453A-919D-413861904646')");
	check_store("User", "externalId eq \"e\" or userName sw \"b\"", S,
				"((scim.key(x.data, 'externalId') = 'e') OR (scim.key_lower(x.data, 'userName') LIKE lower('b%')))");
	/* the id in the form the table holds it, from any form uuid_in() reads */
	check_store("Group", "members eq \"{2819C223-7F76453A-919D-413861904646}\"", S,
				MEMBERS " AND (scim_m.value = '" UID "')))");
	check_store("Group", "members eq \"2819c2237f76453a919d413861904646\"", S,
				MEMBERS " AND (scim_m.value = '" UID "')))");
	/* no UUID, no member: nothing of the literal reaches the SQL */
	check_store("Group", "members eq \"x'); DROP TABLE scim.users; --\"", S, MEMBERS " AND (false)))");
	check_store("Group", "members eq \"2819c223-7f76-453a-919d-41386190464\"", S, MEMBERS " AND (false)))");
	check_store("Group", "members eq \"2819c223-7f76-453a-919d-4138619046460\"", S, MEMBERS " AND (false)))");
	check_store("Group", "members eq \"-2819c223-7f76-453a-919d-413861904646\"", S, MEMBERS " AND (false)))");
	check_store("Group", "members eq \"{2819c223-7f76-453a-919d-413861904646\"", S, MEMBERS " AND (false)))");
	check_store("Group", "members eq \"2819c223-7f76-453a-919d-413861904646-\"", S, MEMBERS " AND (false)))");
	check_store("Group", "members eq \"2819c223--7f76-453a-919d-413861904646\"", S, MEMBERS " AND (false)))");
	/* ne is not eq; pr is any member; eq null is none */
	check_store("Group", "members ne \"" UID "\"", S, "(NOT COALESCE(" MEMBERS " AND (scim_m.value = '" UID "'))), false))");
	check_store("Group", "members pr", S, MEMBERS "))");
	check_store("Group", "members.value pr", S, MEMBERS "))");
	check_store("Group", "members eq null", S, "(NOT COALESCE(" MEMBERS ")), false))");
	check_store("Group", "not (members pr)", S, "(NOT COALESCE(" MEMBERS ")), false))");
	/* a bracket's conditions hold on one membership row */
	check_store("Group", "members[value eq \"" UID "\" or value eq \"x\"]", S,
				MEMBERS " AND ((scim_m.value = '" UID "') OR (false))))");
	check_store("Group", "members[not (value ne \"" UID "\")]", S,
				MEMBERS " AND (NOT COALESCE((NOT COALESCE((scim_m.value = '" UID "'), false)), false))))");
	/* a User's groups: the memberships naming the user */
	check_store("User", "groups.value eq \"" UID "\"", S, GROUPS " AND (scim_m.group_id = '" UID "'::uuid)))");
	check_store("User", "groups eq \"" UID "\"", S, GROUPS " AND (scim_m.group_id = '" UID "'::uuid)))");
	check_store("User", "groups[value eq \"" UID "\"]", S, GROUPS " AND (scim_m.group_id = '" UID "'::uuid)))");
	check_store("User", "groups pr", S, GROUPS "))");
	check_store("User", "groups eq \"Sales\"", S, GROUPS " AND (false)))");
	/* everything else of membership is refused, never answered with nothing */
	check_refused("Group", "members.display eq \"Babs\"", S, "filter on \"members.display\" is not supported: " MEMBERS_HOW " (character 1)");
	check_refused("Group", "members.$ref eq \"x\"", S, "filter on \"members.$ref\" is not supported: " MEMBERS_HOW " (character 1)");
	check_refused("Group", "members[display pr]", S, "filter on \"members.display\" is not supported: " MEMBERS_HOW " (character 9)");
	check_refused("Group", "members.type sw \"U\"", S, "operator \"sw\" is not supported on \"members.type\": " MEMBERS_HOW " (character 1)");
	check_refused("User", "groups.type eq \"direct\"", S, "filter on \"groups.type\" is not supported: " GROUPS_HOW " (character 1)");
	/* a Group member's type, by the table's column */
	check_store("Group", "members[type eq \"Group\" and value eq \"" UID "\"]", S,
				MEMBERS " AND ((lower(scim_m.type) = lower('Group')) AND (scim_m.value = '" UID "'))))");
	check_store("Group", "members.type eq \"user\"", S, MEMBERS " AND (lower(scim_m.type) = lower('user'))))");
	check_store("Group", "members.type pr", S, MEMBERS " AND (scim_m.type IS NOT NULL)))");
	check_refused("Group", "members co \"a\"", S, "operator \"co\" is not supported on \"members.value\": " MEMBERS_HOW " (character 1)");
	check_refused("Group", "members.value sw \"a\"", S, "operator \"sw\" is not supported on \"members.value\": " MEMBERS_HOW " (character 1)");
	check_refused("Group", "members[value gt \"a\"]", S, "operator \"gt\" is not supported on \"members.value\": " MEMBERS_HOW " (character 9)");
	check_refused("User", "groups.display eq \"Sales\"", S, "filter on \"groups.display\" is not supported: " GROUPS_HOW " (character 1)");
	check_refused("User", "groups.value ew \"1\"", S, "operator \"ew\" is not supported on \"groups.value\": " GROUPS_HOW " (character 1)");
	/* other attributes stay as scim.filter_sql() writes them, over x.data */
	check_store("User", "userName eq \"bjensen\"", S, "(scim.key_lower(x.data, 'userName') = lower('bjensen'))");
	check_store("User", "emails.display eq \"b\"", S, "(scim.values_lower(x.data->'emails', 'display') @> ARRAY[lower('b')])");
	/* without the store flag, members are the document's (scim.filter_sql) */
	check_store("Group", "members.display eq \"Babs\"", 0, "(scim.values_lower(x.data->'members', 'display') @> ARRAY[lower('Babs')])");
}

static void
test_root(void)
{
	const int	R = SCIM_RESOLVE_ROOT | SCIM_RESOLVE_STORE;
	const char *group = "{\"displayName\":\"Sales\"}";

	/* an attribute only Users have has no value in a Group (RFC 7644 §3.4.2) */
	check_store("Group", "displayName eq \"Sales\" or userName eq \"x\"", R,
				"((scim.key_lower(x.data, 'displayName') = lower('Sales')) OR (false))");
	check_store("Group", "userName pr", R, "(false)");
	check_store("Group", "not (userName eq \"x\")", R, "(NOT COALESCE((false), false))");
	check_store("Group", "userName ne \"x\"", R, "(NOT COALESCE((false), false))");
	check_store("Group", "emails[type eq \"work\"]", R, "(false)");
	check_store("Group", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"1\"", R, "(false)");
	check_store("User", "members eq \"" UID "\"", R, "(false)");
	/* the evaluator agrees */
	CHECK(eval_with("Group", "displayName eq \"Sales\" or userName eq \"x\"", R, group) == 1, "eval root: or with a User attribute");
	CHECK(eval_with("Group", "userName pr", R, group) == 0, "eval root: pr of a User attribute");
	CHECK(eval_with("Group", "not (userName eq \"x\")", R, group) == 1, "eval root: not of a User attribute");
	CHECK(eval_with("Group", "emails[type eq \"work\"]", R, group) == 0, "eval root: value path of a User attribute");
	/* what no resource type has is still an error, as are type errors */
	check_refused("Group", "nosuch eq \"x\"", R, "unknown attribute \"nosuch\" in filter (character 1)");
	/* a bracket of an attribute this type lacks is not read; Users refuse it, which a root search answers */
	check_store("Group", "emails[nosuch eq \"x\"]", R, "(false)");
	check_refused("User", "emails[nosuch eq \"x\"]", R, "unknown attribute \"emails.nosuch\" in filter (character 8)");
	check_refused("User", "userName gt 1", R, "attribute \"userName\" is of type string and must be compared with a string (character 13)");
	/* at a type's own endpoint, an attribute it lacks is an error */
	check_refused("Group", "userName eq \"x\"", SCIM_RESOLVE_STORE, "unknown attribute \"userName\" in filter (character 1)");
	CHECK(eval_with("Group", "userName eq \"x\"", 0, group) == -1, "eval: a User attribute on Groups does not resolve");
}

int
main(void)
{
	reg = fixture_registry();
	test_membership();
	test_root();
	ScimRegistryFree(reg);
	return UNIT_DONE();
}
