/*
 * test_patch.c
 *		Core tests of the PATCH engine with no database: atomicity, memory
 *		(run under valgrind by make test), and a random round-trip property:
 *		a patch followed by its inverse gives back the original resource.
 */
#define _POSIX_C_SOURCE 200809L

#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "fixtures.h"
#include "patch.h"
#include "unit.h"

static ScimRegistry *reg;
static const ScimResourceType *user_type;
static const ScimResourceType *group_type;

/* Apply ops (a JSON array text) to resource text; returns the result or NULL. */
static struct json_object *
apply(const ScimResourceType *type, struct json_object *res, const char *ops, ScimError *err, bool *changed)
{
	char		buf[8192];
	struct json_object *patch;
	struct json_object *out;

	snprintf(buf, sizeof(buf), "{\"schemas\":[\"%s\"],\"Operations\":%s}", SCIM_PATCHOP_URN, ops);
	patch = json_tokener_parse(buf);
	if (patch == NULL)
	{
		fprintf(stderr, "bad test JSON: %s\n", buf);
		exit(2);
	}
	out = ScimPatchApply(reg, type, res, patch, changed, err);
	json_object_put(patch);
	return out;
}

/*
 * Equality of resources where multi-valued attributes are sets: SCIM gives
 * their values no order, and a removed-then-added member comes back last.
 */
static bool
same_resource(struct json_object *a, struct json_object *b)
{
	if (json_object_is_type(a, json_type_array) && json_object_is_type(b, json_type_array))
	{
		size_t		n = json_object_array_length(a);

		if (n != json_object_array_length(b))
			return false;
		for (size_t i = 0; i < n; i++)
		{
			bool		found = false;

			for (size_t j = 0; j < n && !found; j++)
				found = same_resource(json_object_array_get_idx(a, i), json_object_array_get_idx(b, j));
			if (!found)
				return false;
		}
		return true;
	}
	if (json_object_is_type(a, json_type_object) && json_object_is_type(b, json_type_object))
	{
		if (json_object_object_length(a) != json_object_object_length(b))
			return false;
		json_object_object_foreach(a, key, val)
		{
			struct json_object *other;

			if (!json_object_object_get_ex(b, key, &other) || !same_resource(val, other))
				return false;
		}
		return true;
	}
	return json_object_equal(a, b);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static unsigned
rnd(unsigned n)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned) ((rng >> 33) % n);
}

/* One random patch with a known inverse; fills ops and inverse. */
static void
random_pair(struct json_object *res, bool group, char *ops, char *inverse, size_t len)
{
	static const char *const attrs[] = {"title", "nickName", "displayName", "locale", "profileUrl"};
	static const char *const types[] = {"work", "home", "other"};
	unsigned	k = rnd(group ? 2 : 4);
	char		id[32];

	snprintf(id, sizeof(id), "m%u", rnd(20));
	if (group)
	{
		struct json_object *members;
		bool		has = false;

		if (json_object_object_get_ex(res, "members", &members))
			for (size_t i = 0; i < json_object_array_length(members); i++)
			{
				struct json_object *v;

				if (json_object_object_get_ex(json_object_array_get_idx(members, i), "value", &v) &&
					strcmp(json_object_get_string(v), id) == 0)
					has = true;
			}
		if (!has)
		{
			snprintf(ops, len, "[{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", id);
			snprintf(inverse, len, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", id);
		}
		else if (k == 0)
		{
			snprintf(ops, len, "[{\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", id);
			snprintf(inverse, len, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", id);
		}
		else
		{
			snprintf(ops, len, "[{\"op\":\"remove\",\"path\":\"members[value eq \\\"%s\\\"]\"}]", id);
			snprintf(inverse, len, "[{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"%s\"}]}]", id);
		}
		return;
	}
	{
		const char *a = attrs[rnd(5)];
		struct json_object *old;

		if (k <= 1)
		{
			if (json_object_object_get_ex(res, a, &old))
			{
				snprintf(ops, len, "[{\"op\":\"%s\",\"path\":\"%s\",\"value\":\"v%u\"}]",
						 k ? "Replace" : "replace", a, rnd(1000));
				snprintf(inverse, len, "[{\"op\":\"replace\",\"path\":\"%s\",\"value\":%s}]", a,
						 json_object_to_json_string(old));
			}
			else
			{
				snprintf(ops, len, "[{\"op\":\"add\",\"value\":{\"%s\":\"v%u\"}}]", a, rnd(1000));
				snprintf(inverse, len, "[{\"op\":\"remove\",\"path\":\"%s\"}]", a);
			}
		}
		else if (k == 2)
		{
			const char *t = types[rnd(3)];
			struct json_object *emails;
			bool		has = false;

			if (json_object_object_get_ex(res, "emails", &emails))
				for (size_t i = 0; i < json_object_array_length(emails); i++)
				{
					struct json_object *v;

					if (json_object_object_get_ex(json_object_array_get_idx(emails, i), "type", &v) &&
						strcmp(json_object_get_string(v), t) == 0)
						has = true;
				}
			if (has)
			{
				/* nothing simple inverts a change to an existing element: no-op pair */
				snprintf(ops, len, "[{\"op\":\"add\",\"path\":\"userName\",\"value\":%s}]",
						 json_object_to_json_string(json_object_object_get(res, "userName")));
				snprintf(inverse, len, "%s", ops);
			}
			else
			{
				snprintf(ops, len, "[{\"op\":\"Add\",\"path\":\"emails[type eq \\\"%s\\\"].value\",\"value\":\"x%u@example.com\"}]",
						 t, rnd(1000));
				snprintf(inverse, len, "[{\"op\":\"remove\",\"path\":\"emails[type eq \\\"%s\\\"]\"}]", t);
			}
		}
		else
		{
			struct json_object *ent;

			if (json_object_object_get_ex(res, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", &ent))
			{
				snprintf(ops, len, "[{\"op\":\"add\",\"path\":\"userName\",\"value\":%s}]",
						 json_object_to_json_string(json_object_object_get(res, "userName")));
				snprintf(inverse, len, "%s", ops);
			}
			else
			{
				snprintf(ops, len, "[{\"op\":\"add\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\",\"value\":\"d%u\"}]", rnd(100));
				snprintf(inverse, len, "[{\"op\":\"remove\",\"path\":\"department\"}]");
			}
		}
	}
}

int
main(void)
{
	ScimError	err;
	bool		changed;
	struct json_object *res;
	struct json_object *out;

	reg = fixture_registry();
	user_type = ScimRegistryFindType(reg, "User", 4);
	group_type = ScimRegistryFindType(reg, "Group", 5);

	/* atomic: a failing second operation leaves no trace */
	res = json_tokener_parse("{\"userName\":\"a\",\"id\":\"1\"}");
	out = apply(user_type, res, "[{\"op\":\"add\",\"path\":\"title\",\"value\":\"t\"},{\"op\":\"replace\",\"path\":\"id\",\"value\":\"2\"}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_MUTABILITY, "failing op 2 fails the request");
	CHECK(json_object_object_get(res, "title") == NULL, "input untouched");
	CHECK(strstr(err.detail, "number 2") != NULL, "detail names the operation: %s", err.detail);

	/* no-op */
	out = apply(user_type, res, "[{\"op\":\"add\",\"path\":\"userName\",\"value\":\"a\"}]", &err, &changed);
	CHECK(out != NULL && !changed, "no-op add reports no change");
	json_object_put(out);

	/*
	 * what the schema does not define is left out and named: members of a
	 * no-path value, and sub-attributes holding an object or array; a
	 * sub-attribute holding one value is kept (Entra's roles displayName)
	 */
	{
		ScimIgnored ignored;
		ScimPatch  *prepared;
		struct json_object *req = json_tokener_parse("{\"schemas\":[\"" SCIM_PATCHOP_URN "\"],\"Operations\":["
			"{\"op\":\"replace\",\"value\":{\"title\":\"t\",\"nosuch\":1,\"\":0,\"name.nosuch\":2,"
			"\"name\":{\"givenName\":\"g\",\"deep\":{\"x\":1},\"kept\":\"k\"}}},"
			"{\"op\":\"add\",\"path\":\"roles\",\"value\":[{\"value\":\"r\",\"displayName\":\"R\",\"list\":[1]}]}]}");
		struct json_object *work = json_tokener_parse("{\"userName\":\"a\"}");
		struct json_object *v;

		prepared = ScimPatchPrepare(reg, user_type, req, NULL, &err);
		CHECK(prepared != NULL, "unknown members of a no-path value prepare (%s)", err.message);
		CHECK(prepared != NULL && ScimPatchExecuteNoting(prepared, work, &changed, &err, &ignored),
			  "and apply (%s)", err.message);
		CHECK_STR(ignored.names, "nosuch, \"\", name.nosuch, name.deep, roles.list", "left out, each named");
		CHECK(json_object_object_get_ex(work, "name", &v) && json_object_object_get(v, "kept") != NULL &&
			  json_object_object_get(v, "deep") == NULL && json_object_object_get(work, "nosuch") == NULL,
			  "one value kept, an object left out: %s", json_object_to_json_string(work));
		CHECK(json_object_object_get_ex(work, "roles", &v) &&
			  json_object_object_get(json_object_array_get_idx(v, 0), "displayName") != NULL,
			  "roles[].displayName kept: %s", json_object_to_json_string(work));
		ScimPatchFree(prepared);
		json_object_put(work);
		json_object_put(req);
	}

	/* changes that change nothing say so (scim.patch then returns its input as is) */
	{
		static const char *const noops[] = {
			"[{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"a\"}]",
			"[{\"op\":\"remove\",\"path\":\"title\"}]",
			"[{\"op\":\"replace\",\"value\":{\"id\":\"1\",\"userName\":\"a\"}}]",
			"[{\"op\":\"remove\",\"path\":\"emails[type eq \\\"work\\\"]\"}]",
			"[{\"op\":\"add\",\"path\":\"title\",\"value\":\"t\"},{\"op\":\"remove\",\"path\":\"title\"}]",
		};

		for (int i = 0; i < 5; i++)
		{
			out = apply(user_type, res, noops[i], &err, &changed);
			CHECK(out != NULL && (i == 4 ? changed : !changed) && json_object_equal(out, res),
				  "no-op %d: %s (%s)", i, noops[i], out ? "applied" : err.message);
			json_object_put(out);
		}
	}

	/* each error class */
	out = apply(user_type, res, "[{\"op\":\"remove\"}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_NO_TARGET, "remove without path: noTarget");
	out = apply(user_type, res, "[{\"op\":\"add\",\"path\":\"x y\",\"value\":1}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_INVALID_PATH, "bad path: invalidPath");
	out = apply(user_type, res, "[{\"op\":\"add\",\"path\":\"active\",\"value\":1}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_INVALID_VALUE, "wrong type: invalidValue");
	out = apply(user_type, res, "[{\"op\":\"jump\",\"path\":\"active\",\"value\":true}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_INVALID_SYNTAX, "unknown op: invalidSyntax");
	out = apply(user_type, res, "[{\"op\":\"remove\",\"path\":\"userName\"}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_MUTABILITY, "required: mutability");
	out = apply(user_type, res, "[{\"op\":\"replace\",\"path\":\"emails[value sw \\\"x\\\"].type\",\"value\":\"work\"}]", &err, &changed);
	CHECK(out == NULL && err.kind == SCIM_ERR_NO_TARGET, "no match and no element to create: noTarget");
	out = apply(user_type, res, "[{\"op\":\"add\",\"path\":\"emails[type eq \\\"work\\\"]\",\"value\":{\"value\":\"a@b\"}}]", &err, &changed);
	CHECK(out != NULL && changed, "filtered add with no match creates the element");
	CHECK(out && strcmp(json_object_to_json_string_ext(json_object_object_get(out, "emails"), JSON_C_TO_STRING_PLAIN),
						"[{\"type\":\"work\",\"value\":\"a@b\"}]") == 0, "created element: %s",
		  out ? json_object_to_json_string_ext(json_object_object_get(out, "emails"), JSON_C_TO_STRING_PLAIN) : "");
	json_object_put(out);
	json_object_put(res);

	/* random round trips: patch, then its inverse, gives back the original */
	{
		int			ok = 0;
		int			total = 0;
		char		ops[2048];
		char		inverse[2048];
		struct json_object *users[2];

		users[0] = json_tokener_parse("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"u\",\"title\":\"t\",\"emails\":[{\"type\":\"home\",\"value\":\"h@x\"}]}");
		users[1] = json_tokener_parse("{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"g\",\"members\":[{\"value\":\"m1\"},{\"value\":\"m2\"}]}");
		for (int i = 0; i < 3000; i++)
		{
			bool		group = (i % 3) == 2;
			struct json_object *base = users[group ? 1 : 0];
			struct json_object *after;
			struct json_object *back;
			bool		c1;
			bool		c2;

			random_pair(base, group, ops, inverse, sizeof(ops));
			after = apply(group ? group_type : user_type, base, ops, &err, &c1);
			if (after == NULL)
			{
				printf("# patch failed: %s: %s\n", ops, err.message);
				total++;
				continue;
			}
			back = apply(group ? group_type : user_type, after, inverse, &err, &c2);
			total++;
			if (back != NULL && same_resource(back, base))
				ok++;
			else
				printf("# no round trip: %s then %s\n#   %s\n", ops, inverse,
					   back ? json_object_to_json_string(back) : err.message);
			json_object_put(back);
			/* walk on from the patched state so that the states vary */
			json_object_put(base);
			users[group ? 1 : 0] = after;
		}
		CHECK(ok == total, "%d of %d random patches undone by their inverse", ok, total);
		json_object_put(users[0]);
		json_object_put(users[1]);
	}

	/*
	 * A prepared request bound to another request's values does what that
	 * request, prepared on its own, does; and refuses values it cannot place.
	 */
	{
		static const char *const pairs[][2] = {
			{"[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"a\"},{\"op\":\"remove\",\"path\":\"nickName\"}]",
			"[{\"op\":\"replace\",\"path\":\"title\",\"value\":\"b\"},{\"op\":\"remove\",\"path\":\"nickName\"}]"},
			{"[{\"op\":\"replace\",\"value\":{\"title\":\"a\",\"active\":true}}]",
			"[{\"op\":\"replace\",\"value\":{\"title\":\"b\",\"active\":false}}]"},
			{"[{\"op\":\"add\",\"value\":{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"a\"}}}]",
			"[{\"op\":\"add\",\"value\":{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"b\"}}}]"},
		};

		for (int i = 0; i < 3; i++)
		{
			char		a[1024];
			char		b[1024];
			struct json_object *ra;
			struct json_object *rb;
			struct json_object *values[1];
			ScimPatch  *prepared;
			struct json_object *bound;
			struct json_object *fresh;
			bool		c1 = false;
			bool		c2 = false;

			snprintf(a, sizeof(a), "{\"schemas\":[\"%s\"],\"Operations\":%s}", SCIM_PATCHOP_URN, pairs[i][0]);
			snprintf(b, sizeof(b), "{\"schemas\":[\"%s\"],\"Operations\":%s}", SCIM_PATCHOP_URN, pairs[i][1]);
			ra = json_tokener_parse(a);
			rb = json_tokener_parse(b);
			res = json_tokener_parse("{\"userName\":\"u\",\"nickName\":\"n\"}");
			prepared = ScimPatchPrepare(reg, user_type, ra, NULL, &err);
			json_object_put(ra);	/* the prepared request holds its own */
			values[0] = json_object_object_get(json_object_array_get_idx(json_object_object_get(rb, "Operations"), 0), "value");
			/* pair 0 has two operations, the others one */
			if (i == 0)
			{
				struct json_object *two[2] = {values[0], NULL};

				CHECK(!ScimPatchBind(prepared, two, 1), "bind %d: refuses a count of operations not its own", i);
				CHECK(ScimPatchBind(prepared, two, 2), "bind %d: takes the values", i);
			}
			else
				CHECK(ScimPatchBind(prepared, values, 1), "bind %d: takes the values", i);
			bound = NULL;
			json_object_deep_copy(res, &bound, NULL);
			CHECK(ScimPatchExecute(prepared, bound, &c1, &err), "bind %d: executes", i);
			fresh = ScimPatchApply(reg, user_type, res, rb, &c2, &err);
			CHECK(fresh != NULL && c1 == c2 && json_object_equal(bound, fresh),
				  "bind %d: the same as the request prepared on its own: %s", i, json_object_to_json_string(bound));
			json_object_put(bound);
			json_object_put(fresh);
			json_object_put(rb);	/* the prepared request still holds the values it took */
			if (i == 1)
			{
				struct json_object *lacking = json_tokener_parse("{\"title\":\"c\"}");

				CHECK(!ScimPatchBind(prepared, &lacking, 1), "bind %d: refuses a value without a member it needs", i);
				json_object_put(lacking);
				bound = NULL;
				json_object_deep_copy(res, &bound, NULL);
				CHECK(ScimPatchExecute(prepared, bound, &c1, &err) &&
					  strcmp(json_object_get_string(json_object_object_get(bound, "title")), "b") == 0,
					  "bind %d: a refused bind leaves the values it had", i);
				json_object_put(bound);
			}
			ScimPatchFree(prepared);
			json_object_put(res);
		}
	}

	/* value filters in paths are held to the caller's filter limits */
	{
		static const ScimFilterLimits two = {2, 1, "scim.filter_max_terms", "scim.filter_max_depth"};
		static const char *const paths[] = {
			"emails[type eq \\\"work\\\" or type eq \\\"home\\\"].value",	/* 2 terms, 1 level */
			"emails[type eq \\\"work\\\" or type eq \\\"home\\\" or primary eq true].value",
			"emails[(type eq \\\"work\\\")].value",
		};
		static const char *const want[] = {
			NULL,
			"invalid value filter in PATCH path: SCIM filter has more than 2 terms",
			"invalid value filter in PATCH path: SCIM filter nests more than 1 level deep",
		};

		for (int i = 0; i < 3; i++)
		{
			char		buf[1024];
			struct json_object *request;
			ScimPatch  *prepared;

			snprintf(buf, sizeof(buf), "{\"schemas\":[\"%s\"],\"Operations\":[{\"op\":\"remove\",\"path\":\"%s\"}]}",
					 SCIM_PATCHOP_URN, paths[i]);
			request = json_tokener_parse(buf);
			prepared = ScimPatchPrepare(reg, user_type, request, &two, &err);
			if (want[i] == NULL)
				CHECK(prepared != NULL, "limits %d: within them (%s)", i, prepared ? "" : err.message);
			else
			{
				CHECK(prepared == NULL && err.kind == SCIM_ERR_INVALID_PATH, "limits %d: refused as invalidPath", i);
				CHECK_STR(err.message, want[i], "limits %d: message", i);
			}
			ScimPatchFree(prepared);
			json_object_put(request);
		}
	}

	ScimRegistryFree(reg);
	return UNIT_DONE();
}
