/*
 * test_projection.c
 *		Core tests of attributes / excludedAttributes with value filters
 *		(emails[type eq "work"]): parsing, refusals, and which elements are
 *		kept, with no database.
 */
#define _POSIX_C_SOURCE 200809L

#include <json-c/json.h>
#include <string.h>

#include "fixtures.h"
#include "json_view.h"
#include "projection.h"
#include "unit.h"

static ScimRegistry *reg;
static const ScimResourceType *user;

/* A projection of attributes (or, with excluded, excludedAttributes), prepared; NULL with err set. */
static ScimProjection *
parse(const char *list, bool excluded, ScimError *err)
{
	ScimProjection *p = ScimProjectionParse(reg, user,
											excluded ? NULL : list, excluded ? 0 : strlen(list),
											excluded ? list : NULL, excluded ? strlen(list) : 0, err);

	if (p != NULL && !ScimProjectionPrepare(p, &ScimJsonCOps, NULL, err))
	{
		ScimProjectionFree(p);
		return NULL;
	}
	return p;
}

static void
check_refused(const char *list, bool excluded, const char *want)
{
	ScimError	err;
	ScimProjection *p = parse(list, excluded, &err);

	CHECK(p == NULL && err.kind == SCIM_ERR_INVALID_VALUE, "refused: %s", list);
	if (p == NULL)
		CHECK_STR(err.message, want, "message: %s", list);
	ScimProjectionFree(p);
}

/* Which of the elements (a JSON array) the projection keeps: "1,0,1". */
static void
check_kept(const char *list, bool excluded, const char *elements, const char *want)
{
	ScimError	err;
	ScimProjection *p = parse(list, excluded, &err);
	const ScimAttr *emails = ScimSchemaFindAttr(user->core, "emails", 6);
	struct json_object *arr = json_tokener_parse(elements);
	char		got[64] = "";

	if (p == NULL || arr == NULL)
	{
		CHECK(false, "parses: %s (%s)", list, p ? "bad JSON" : err.message);
		ScimProjectionFree(p);
		json_object_put(arr);
		return;
	}
	if (!ScimProjectionFiltersElements(p, emails))
		strcpy(got, "all");
	else
		for (size_t i = 0; i < json_object_array_length(arr); i++)
		{
			ScimValue	v;

			ScimJsonCValue(json_object_array_get_idx(arr, i), &v);
			strcat(got, i ? "," : "");
			strcat(got, ScimProjectionKeepsElement(p, emails, &v, &ScimJsonCOps, NULL) ? "1" : "0");
		}
	CHECK_STR(got, want, "kept by %s%s", excluded ? "excluding " : "", list);
	ScimProjectionFree(p);
	json_object_put(arr);
}

int
main(void)
{
	const char *emails = "[{\"value\":\"a@work\",\"type\":\"work\"},{\"value\":\"a@home\",\"type\":\"Home\"},{\"value\":\"x\"}]";

	reg = fixture_registry();
	user = ScimRegistryFindType(reg, "User", 4);

	/* attributes: the elements a filter matches; several filters, any */
	check_kept("emails[type eq \"work\"]", false, emails, "1,0,0");
	check_kept("EMAILS[Type EQ \"HOME\"]", false, emails, "0,1,0");
	check_kept("emails[type eq \"work\"], emails[type eq \"home\"]", false, emails, "1,1,0");
	check_kept("emails[not (type pr)]", false, emails, "0,0,1");
	check_kept("emails[value eq \"a@work\" or value eq \"x,y\"],userName", false, emails, "1,0,0");
	check_kept("urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq \"work\"]", false, emails, "1,0,0");
	/* named without a filter too: every element */
	check_kept("emails[type eq \"work\"],emails", false, emails, "all");
	check_kept("emails.value,emails[type eq \"work\"]", false, emails, "all");
	check_kept("userName", false, emails, "all");
	/* excludedAttributes: the elements a filter matches are left out */
	check_kept("emails[type eq \"work\"]", true, emails, "0,1,1");
	check_kept("emails[type pr]", true, emails, "0,0,1");
	check_kept("emails[type eq \"work\"],emails", true, emails, "0,1,1");
	/* an unknown attribute is ignored, as any unknown name */
	check_kept("nosuch[type eq \"work\"]", false, emails, "all");
	/* what cannot be a value filter is refused, never dropped */
	check_refused("emails[type eq 1]", false,
				  "cannot use \"emails[type eq 1]\" in attributes: attribute \"emails.type\" is of type string and must be compared with a string (character 16)");
	check_refused("emails[nosuch pr]", true,
				  "cannot use \"emails[nosuch pr]\" in excludedAttributes: unknown attribute \"emails.nosuch\" in filter (character 8)");
	check_refused("name[givenName eq \"a\"]", false,
				  "cannot use \"name[givenName eq \"a\"]\" in attributes: attribute \"name\" is not multi-valued");
	check_refused("emails[type eq \"work\"].value", false,
				  "cannot use \"emails[type eq \"work\"].value\" in attributes: invalid SCIM filter at end of input (character 29)");
	check_refused("userName, emails[type eq \"a,b]", false,
				  "cannot use \"emails[type eq \"a,b]\" in attributes: invalid SCIM filter at end of input (character 21)");
	check_refused("emails[type eq \"work\"] or userName pr", false,
				  "cannot use \"emails[type eq \"work\"] or userName pr\" in attributes: a value filter is written attribute[filter]");

	ScimRegistryFree(reg);
	return UNIT_DONE();
}
