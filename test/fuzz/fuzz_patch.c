/*
 * fuzz_patch.c
 *		libFuzzer target for the PATCH engine (patch*.c): a PatchOp request
 *		applied to a resource, with the properties the callers rely on.
 *
 * Input: the first byte picks the resource type ('G' or 'g' for Group,
 * anything else for User).  The rest is split at its first NUL byte into
 * the resource's JSON text and the PatchOp's JSON text.  With no NUL the
 * whole rest is the PatchOp, applied to a built-in resource (RFC 7643 §8.2's
 * full User, or a Group with members), so that the fuzzer can spend its
 * mutations on requests.  Both texts must parse as JSON, of any kind, or the
 * input is ignored; so is one holding NaN, which equals nothing.
 *
 * Besides "does not crash or leak" (ASan, UBSan, LeakSanitizer), the target
 * traps on these invariants:
 *
 *   - ScimPatchApply fails only with err set (kind and message), succeeds
 *     only with err clear, and returns a JSON object;
 *   - it never modifies its inputs, the resource or the request, whether it
 *     succeeds or fails (atomicity: a failed request leaves no trace);
 *   - it is deterministic: the same request on the same resource gives an
 *     equal result and the same "changed", or the same error;
 *   - changed == false means the result equals the resource, and applying
 *     the request again to that result changes nothing either;
 *   - the result survives serialising and parsing again unchanged;
 *   - ScimPatchPrepare + ScimPatchExecute agree with ScimPatchApply, also
 *     when the prepared request has run on another resource first (the SQL
 *     function caches it across rows);
 *   - a request prepared from one copy and bound (ScimPatchBind) to the
 *     values of another, the first copy then freed, still agrees: scim.patch()
 *     binds a prepared request to each new request of the same shape;
 *   - executing on only the members ScimPatchTouched lists, then merging
 *     them back, gives what executing on the whole resource gives: that is
 *     what scim.patch() does (src/pg/patch_funcs.c).
 *
 * SCIM_FUZZ_STRICT_CHANGED=1 in the environment also traps when a request
 * of one operation with a path reports changed but the result equals the
 * resource: not wrong, but it costs the caller a conversion and a new
 * version for nothing.  (Several operations may undo each other, and a
 * no-path one expands into several, so those are left out.)  SCIM_FUZZ_TRACE=1
 * prints each input's outcome, to see what a seed exercises.
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
#include <strings.h>

#include <json-c/json.h>

#include "error.h"
#include "fixtures.h"
#include "patch.h"
#include "schema.h"

/* json-c's default is 32; deeper values are worth a look, the input is short */
#define PARSE_DEPTH 64

/* RFC 7643 §8.2's full User with the enterprise extension (§8.3). */
static const char user_text[] =
	"{\"schemas\": [\"" USER_URN "\", \"" ENTERPRISE_URN "\"],"
	" \"id\": \"2819c223-7f76-453a-919d-413861904646\", \"externalId\": \"701984\","
	" \"userName\": \"bjensen@example.com\","
	" \"name\": {\"formatted\": \"Ms. Barbara J Jensen, III\", \"familyName\": \"Jensen\","
	"  \"givenName\": \"Barbara\", \"middleName\": \"Jane\", \"honorificPrefix\": \"Ms.\","
	"  \"honorificSuffix\": \"III\"},"
	" \"displayName\": \"Babs Jensen\", \"nickName\": \"Babs\","
	" \"profileUrl\": \"https://login.example.com/bjensen\","
	" \"emails\": [{\"value\": \"bjensen@example.com\", \"type\": \"work\", \"primary\": true},"
	"  {\"value\": \"babs@jensen.org\", \"type\": \"home\"}],"
	" \"addresses\": [{\"type\": \"work\", \"streetAddress\": \"100 Universal City Plaza\","
	"  \"locality\": \"Hollywood\", \"region\": \"CA\", \"postalCode\": \"91608\","
	"  \"country\": \"USA\", \"formatted\": \"100 Universal City Plaza\\nHollywood, CA 91608 USA\","
	"  \"primary\": true},"
	"  {\"type\": \"home\", \"streetAddress\": \"456 Hollywood Blvd\", \"locality\": \"Hollywood\","
	"  \"region\": \"CA\", \"postalCode\": \"91608\", \"country\": \"USA\","
	"  \"formatted\": \"456 Hollywood Blvd\\nHollywood, CA 91608 USA\"}],"
	" \"phoneNumbers\": [{\"value\": \"555-555-5555\", \"type\": \"work\"},"
	"  {\"value\": \"555-555-4444\", \"type\": \"mobile\"}],"
	" \"ims\": [{\"value\": \"someaimhandle\", \"type\": \"aim\"}],"
	" \"photos\": [{\"value\": \"https://photos.example.com/profilephoto/72930000000Ccne/F\", \"type\": \"photo\"},"
	"  {\"value\": \"https://photos.example.com/profilephoto/72930000000Ccne/T\", \"type\": \"thumbnail\"}],"
	" \"userType\": \"Employee\", \"title\": \"Tour Guide\", \"preferredLanguage\": \"en-US\","
	" \"locale\": \"en-US\", \"timezone\": \"America/Los_Angeles\", \"active\": true,"
	" \"password\": \"t1meMa$heen\","
	" \"groups\": [{\"value\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\","
	"  \"$ref\": \"https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a\","
	"  \"display\": \"Tour Guides\"},"
	"  {\"value\": \"fc348aa8-3835-40eb-a20b-c726e15c55b5\","
	"  \"$ref\": \"https://example.com/v2/Groups/fc348aa8-3835-40eb-a20b-c726e15c55b5\","
	"  \"display\": \"Employees\"}],"
	" \"x509Certificates\": [{\"value\": \"MIIDQzCCAqugAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx\"}],"
	" \"" ENTERPRISE_URN "\": {\"employeeNumber\": \"701984\", \"costCenter\": \"4130\","
	"  \"organization\": \"Universal Studios\", \"division\": \"Theme Park\","
	"  \"department\": \"Tour Operations\","
	"  \"manager\": {\"value\": \"26118915-6090-4610-87e4-49d8ca9f808d\","
	"   \"$ref\": \"../Users/26118915-6090-4610-87e4-49d8ca9f808d\", \"displayName\": \"John Smith\"}},"
	" \"meta\": {\"resourceType\": \"User\", \"created\": \"2010-01-23T04:56:22Z\","
	"  \"lastModified\": \"2011-05-13T04:42:34Z\", \"version\": \"W/\\\"3694e05e9dff591\\\"\","
	"  \"location\": \"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646\"}}";

/* A group with two members, as in RFC 7643 §8.4. */
static const char group_text[] =
	"{\"schemas\": [\"" GROUP_URN "\"], \"id\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\","
	" \"displayName\": \"Tour Guides\","
	" \"members\": [{\"value\": \"2819c223-7f76-453a-919d-413861904646\","
	"  \"$ref\": \"https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646\","
	"  \"display\": \"Babs Jensen\", \"type\": \"User\"},"
	"  {\"value\": \"902c246b-6245-4190-8e05-00816be7344a\","
	"  \"$ref\": \"https://example.com/v2/Users/902c246b-6245-4190-8e05-00816be7344a\","
	"  \"display\": \"Mandy Pepperidge\", \"type\": \"User\"}],"
	" \"meta\": {\"resourceType\": \"Group\", \"created\": \"2010-01-23T04:56:22Z\","
	"  \"lastModified\": \"2011-05-13T04:42:34Z\", \"version\": \"W/\\\"3694e05e9dff592\\\"\","
	"  \"location\": \"https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a\"}}";

static ScimRegistry *registry;
static const ScimResourceType *user_type;
static const ScimResourceType *group_type;
static struct json_object *user_resource;
static struct json_object *group_resource;
static struct json_object *empty_resource;
static bool strict_changed;
static bool trace;

/* The input being checked, for the report of a violation. */
static const char *cur_resource;
static const char *cur_request;

/*
 * Parse text (len bytes, all of it) as JSON into *out; false if it is not
 * JSON.  JSON null parses, as json-c's NULL.
 */
static bool
parse_json(const char *text, size_t len, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new_ex(PARSE_DEPTH);
	char	   *buf = malloc(len + 1);
	struct json_object *obj;
	size_t		end;
	bool		ok;

	if (tok == NULL || buf == NULL)
		abort();
	memcpy(buf, text, len);
	buf[len] = '\0';

	/* with the NUL, so that json-c sees the end of a bare 1 or null */
	obj = json_tokener_parse_ex(tok, buf, (int) len + 1);
	ok = json_tokener_get_error(tok) == json_tokener_success;
	if (ok)
	{
		/* the value must be the whole text, give or take white space */
		for (end = json_tokener_get_parse_end(tok); end < len; end++)
			if (strchr(" \t\r\n", buf[end]) == NULL || buf[end] == '\0')
				break;
		ok = end >= len;
	}
	json_tokener_free(tok);
	free(buf);
	if (!ok)
	{
		json_object_put(obj);
		obj = NULL;
	}
	*out = obj;
	return ok;
}

/*
 * Does the tree come back the same from its own text?  json-c also reads
 * numbers JSON has no place for: "7e", as a double that prints as another
 * number ("7", read back as an integer), and "NaN", which equals nothing,
 * itself included.  jsonb, where the extension's resources and requests
 * come from, never holds them.
 */
static bool
round_trips(struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	struct json_object *again;
	bool		same;

	if (!parse_json(text, strlen(text), &again))
		return false;
	same = json_object_equal(again, obj);
	json_object_put(again);
	return same;
}

/* Give up loudly: the target is useless without its fixtures. */
static void
setup_failed(const char *what)
{
	fprintf(stderr, "fuzz_patch: %s failed\n", what);
	abort();
}

/* Build the registry and the built-in resources, once. */
static void
setup(void)
{
	registry = fixture_registry();
	user_type = ScimRegistryFindType(registry, "User", 4);
	group_type = ScimRegistryFindType(registry, "Group", 5);
	if (user_type == NULL || group_type == NULL)
		setup_failed("ScimRegistryFindType");
	empty_resource = json_object_new_object();
	if (!parse_json(user_text, strlen(user_text), &user_resource) || user_resource == NULL ||
		!parse_json(group_text, strlen(group_text), &group_resource) || group_resource == NULL ||
		empty_resource == NULL)
		setup_failed("parsing the built-in resources");
	strict_changed = getenv("SCIM_FUZZ_STRICT_CHANGED") != NULL &&
		strcmp(getenv("SCIM_FUZZ_STRICT_CHANGED"), "1") == 0;
	trace = getenv("SCIM_FUZZ_TRACE") != NULL && strcmp(getenv("SCIM_FUZZ_TRACE"), "1") == 0;
}

/* A tree as compact text, for messages (json-c prints NULL as "null"). */
static const char *
text_of(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
}

/* Report a broken invariant with the evidence, then trap (kept out of line for the stack). */
static __attribute__((noinline, noreturn)) void
violation(const char *what, const char *got, const char *want)
{
	fprintf(stderr, "fuzz_patch: %s\n  resource: %s\n  request:  %s\n", what,
			cur_resource, cur_request);
	if (got != NULL)
		fprintf(stderr, "  got:      %s\n", got);
	if (want != NULL)
		fprintf(stderr, "  want:     %s\n", want);
	__builtin_trap();
}

/* A deep copy (NULL for JSON null), or abort (under ASan an allocation failure aborts anyway). */
static struct json_object *
copy_of(struct json_object *obj)
{
	struct json_object *copy = NULL;

	if (obj != NULL && json_object_deep_copy(obj, &copy, NULL) != 0)
		abort();
	return copy;
}

/* An error as "kind: message (detail)", for messages. */
static const char *
error_text(const ScimError *err, char *buf, size_t len)
{
	snprintf(buf, len, "kind %d: %s (%s)", (int) err->kind, err->message, err->detail);
	return buf;
}

/* Is request a PatchOp of exactly one operation, with a path? */
static bool
one_op_with_path(struct json_object *request)
{
	struct json_object *ops;
	struct json_object *path;

	return json_object_object_get_ex(request, "Operations", &ops) &&
		json_object_is_type(ops, json_type_array) && json_object_array_length(ops) == 1 &&
		json_object_object_get_ex(json_object_array_get_idx(ops, 0), "path", &path) &&
		json_object_is_type(path, json_type_string);
}

/* Check what one ScimPatchApply call returned: err set exactly on failure, an object on success. */
static void
check_outcome(struct json_object *result, const ScimError *err)
{
	char		buf[1024];

	if (result == NULL)
	{
		if (err->kind == SCIM_OK)
			violation("ScimPatchApply returned NULL without an error", NULL, NULL);
		if (err->message[0] == '\0')
			violation("ScimPatchApply failed with an empty message", error_text(err, buf, sizeof(buf)), NULL);
		return;
	}
	if (err->kind != SCIM_OK)
		violation("ScimPatchApply succeeded with an error set", error_text(err, buf, sizeof(buf)), NULL);
	if (!json_object_is_type(result, json_type_object))
		violation("ScimPatchApply returned something other than an object", text_of(result), NULL);
}

/* Do two outcomes (result or error) agree?  what names the second one. */
static void
check_same(const char *what, struct json_object *r1, bool c1, const ScimError *e1,
		   struct json_object *r2, bool c2, const ScimError *e2)
{
	char		buf1[1024];
	char		buf2[1024];
	char		msg[200];

	if ((r1 == NULL) != (r2 == NULL) || (r1 == NULL && e1->kind != e2->kind))
	{
		snprintf(msg, sizeof(msg), "%s: outcome differs from ScimPatchApply's", what);
		violation(msg, r2 ? text_of(r2) : error_text(e2, buf2, sizeof(buf2)),
				  r1 ? text_of(r1) : error_text(e1, buf1, sizeof(buf1)));
	}
	if (r1 == NULL)
		return;
	if (!json_object_equal(r1, r2))
	{
		snprintf(msg, sizeof(msg), "%s: result differs from ScimPatchApply's", what);
		violation(msg, text_of(r2), text_of(r1));
	}
	if (c1 != c2)
	{
		snprintf(msg, sizeof(msg), "%s: \"changed\" is %s, ScimPatchApply said %s", what,
				 c2 ? "true" : "false", c1 ? "true" : "false");
		violation(msg, NULL, NULL);
	}
}

/* Is key one of names[], case-insensitively (jsonc_conv.c's key_in)? */
static bool
key_touched(const char *key, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (ScimStrCaseEq(key, strlen(key), names[i], strlen(names[i])))
			return true;
	return false;
}

/*
 * Run the prepared request on just the touched members of resource, as
 * scim.patch() does, and check it against the whole-resource outcome
 * (full, changed, full_err; full is NULL on failure).
 */
static void
check_partial(const ScimPatch *patch, struct json_object *resource,
			  struct json_object *full, bool changed, const ScimError *full_err)
{
	const char *const *names;
	int			n;
	struct json_object *partial;
	struct json_object *merged;
	ScimError	err;
	bool		pchanged;
	bool		ok;

	if (!ScimPatchTouched(patch, &names, &n))
		return;					/* too many to list: scim.patch() converts everything */
	if (n < 0 || n > 64 || (n > 0 && names == NULL))
		violation("ScimPatchTouched gave an impossible list", NULL, NULL);
	for (int i = 0; i < n; i++)
		if (names[i] == NULL || names[i][0] == '\0')
			violation("ScimPatchTouched listed an empty name", NULL, NULL);

	/* ScimJsonbToJsonCPartial: the members whose names are listed */
	partial = json_object_new_object();
	{
		json_object_object_foreach(resource, key, val)
			if (key_touched(key, names, n))
				json_object_object_add(partial, key, copy_of(val));
	}
	ok = ScimPatchExecute(patch, partial, &pchanged, &err);

	/* ScimJsonbMerge: the untouched members as they were, then the partial result */
	merged = json_object_new_object();
	{
		json_object_object_foreach(resource, key, val)
			if (!key_touched(key, names, n))
				json_object_object_add(merged, key, copy_of(val));
	}
	{
		json_object_object_foreach(partial, key, val)
			json_object_object_add(merged, key, json_object_get(val));
	}
	check_same("execution on the touched members, merged back", full, changed, full_err,
			   ok ? merged : NULL, pchanged, &err);
	json_object_put(merged);
	json_object_put(partial);
}

/* Operation op's "value" as the core finds it; false when two members could be it. */
static bool
op_value(struct json_object *op, struct json_object **value)
{
	int			seen = 0;

	*value = NULL;
	if (!json_object_is_type(op, json_type_object))
		return true;
	json_object_object_foreach(op, key, val)
	{
		if (strlen(key) == 5 && strncasecmp(key, "value", 5) == 0)
		{
			*value = val;
			seen++;
		}
	}
	return seen <= 1;
}

/*
 * Prepare from one copy of the request, bind to the values of another and
 * free the first: the prepared request must agree with ScimPatchApply and
 * read nothing of the freed copy (AddressSanitizer sees to that).
 */
static void
check_bound(const ScimResourceType *type, struct json_object *resource, struct json_object *request,
			struct json_object *result, bool changed, const ScimError *apply_err)
{
	struct json_object *first = copy_of(request);
	struct json_object *second = copy_of(request);
	struct json_object *ops = NULL;
	struct json_object **values;
	ScimPatch  *patch;
	ScimError	err;
	struct json_object *work;
	bool		wchanged;
	bool		ok = true;
	size_t		n;

	patch = ScimPatchPrepare(registry, type, first, NULL, &err);
	json_object_put(first);
	if (patch == NULL)
	{
		json_object_put(second);
		return;
	}
	/* the core found "Operations" when it prepared; two that could be it, skip */
	json_object_object_foreach(second, key, val)
	{
		if (strcasecmp(key, "Operations") == 0)
		{
			ok = ops == NULL;
			ops = val;
		}
	}
	n = ok ? json_object_array_length(ops) : 0;
	values = calloc(n > 0 ? n : 1, sizeof(*values));
	if (values == NULL)
		abort();
	for (size_t i = 0; i < n && ok; i++)
		ok = op_value(json_object_array_get_idx(ops, i), &values[i]);
	if (ok)
	{
		if (!ScimPatchBind(patch, values, (int) n))
			violation("ScimPatchBind refused the values of the request itself", NULL, NULL);
		json_object_put(second);	/* the prepared request holds what it took */
		second = NULL;
		work = copy_of(resource);
		ok = ScimPatchExecute(patch, work, &wchanged, &err);
		check_same("ScimPatchExecute after ScimPatchBind", result, changed, apply_err,
				   ok ? work : NULL, wchanged, &err);
		json_object_put(work);
	}
	free(values);
	json_object_put(second);
	ScimPatchFree(patch);
}

/*
 * The Prepare/Execute path must agree with ScimPatchApply's outcome
 * (result, changed, err; result NULL on failure), also after the prepared
 * request has run on another resource.
 */
static void
check_prepared(const ScimResourceType *type, struct json_object *resource,
			   struct json_object *request, struct json_object *other,
			   struct json_object *result, bool changed, const ScimError *apply_err)
{
	ScimPatch  *patch;
	ScimError	err;
	struct json_object *work;
	bool		wchanged;
	bool		ok;

	patch = ScimPatchPrepare(registry, type, request, NULL, &err);
	if (patch == NULL)
	{
		if (err.kind == SCIM_OK)
			violation("ScimPatchPrepare returned NULL without an error", NULL, NULL);
		check_same("ScimPatchPrepare", result, changed, apply_err, NULL, false, &err);
		return;
	}
	if (err.kind != SCIM_OK)
		violation("ScimPatchPrepare succeeded with an error set", err.message, NULL);

	/* on a copy of the resource, in place */
	work = copy_of(resource);
	ok = ScimPatchExecute(patch, work, &wchanged, &err);
	check_same("ScimPatchExecute", result, changed, apply_err, ok ? work : NULL, wchanged, &err);
	json_object_put(work);

	/* once on another resource, then on this one again: nothing carries over */
	work = copy_of(other);
	(void) ScimPatchExecute(patch, work, &wchanged, &err);
	json_object_put(work);
	work = copy_of(resource);
	ok = ScimPatchExecute(patch, work, &wchanged, &err);
	check_same("ScimPatchExecute after a run on another resource", result, changed, apply_err,
			   ok ? work : NULL, wchanged, &err);
	json_object_put(work);

	if (json_object_is_type(resource, json_type_object))
		check_partial(patch, resource, result, changed, apply_err);
	ScimPatchFree(patch);
	check_bound(type, resource, request, result, changed, apply_err);
}

/* All the checks for one (type, resource, request). */
static void
check(const ScimResourceType *type, struct json_object *resource, struct json_object *request,
	  struct json_object *other)
{
	struct json_object *resource_before = copy_of(resource);
	struct json_object *request_before = copy_of(request);
	struct json_object *r1;
	struct json_object *r2;
	ScimError	e1;
	ScimError	e2;
	bool		c1;
	bool		c2;

	r1 = ScimPatchApply(registry, type, resource, request, &c1, &e1);
	if (trace)
	{
		char		buf[1024];

		fprintf(stderr, "fuzz_patch: %s\n", r1 == NULL ? error_text(&e1, buf, sizeof(buf)) :
				c1 ? text_of(r1) : "unchanged");
	}
	check_outcome(r1, &e1);
	if (!json_object_equal(resource, resource_before))
		violation(r1 ? "ScimPatchApply modified the resource it was given"
				  : "ScimPatchApply failed and left the resource changed",
				  text_of(resource), text_of(resource_before));
	if (!json_object_equal(request, request_before))
		violation("ScimPatchApply modified the request", text_of(request), text_of(request_before));

	/* determinism */
	r2 = ScimPatchApply(registry, type, resource, request, &c2, &e2);
	check_same("ScimPatchApply again", r1, c1, &e1, r2, c2, &e2);
	if (r1 == NULL && (strcmp(e1.message, e2.message) != 0 || strcmp(e1.detail, e2.detail) != 0))
		violation("ScimPatchApply again: another message", e2.message, e1.message);
	json_object_put(r2);

	if (r1 != NULL)
	{
		struct json_object *reparsed;
		const char *text;

		/* changed == false: nothing changed, and nothing will */
		if (!c1 && !json_object_equal(r1, resource))
			violation("\"changed\" is false but the result differs", text_of(r1), NULL);
		if (c1 && strict_changed && one_op_with_path(request) && json_object_equal(r1, resource))
			violation("\"changed\" is true but the result equals the resource", NULL, NULL);
		if (!c1)
		{
			bool		c3;
			ScimError	e3;
			struct json_object *r3 = ScimPatchApply(registry, type, r1, request, &c3, &e3);

			if (r3 == NULL)
				violation("a request that changed nothing fails on its own result", e3.message, NULL);
			if (c3 || !json_object_equal(r3, r1))
				violation("a request that changed nothing changes its own result", text_of(r3), text_of(r1));
			json_object_put(r3);
		}

		/* the result survives a round trip through text */
		text = json_object_to_json_string_ext(r1, JSON_C_TO_STRING_PLAIN);
		if (!parse_json(text, strlen(text), &reparsed))
			violation("the result does not parse back", text, NULL);
		if (!json_object_equal(reparsed, r1))
			violation("the result parses back as another tree", text_of(reparsed), text);
		json_object_put(reparsed);
	}

	check_prepared(type, resource, request, other, r1, c1, &e1);
	if (!json_object_equal(request, request_before))
		violation("Prepare/Execute modified the request", text_of(request), text_of(request_before));

	json_object_put(r1);
	json_object_put(resource_before);
	json_object_put(request_before);
}

/* One input: [type byte] resource NUL request, or [type byte] request. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready = false;
	const ScimResourceType *type;
	struct json_object *builtin;
	struct json_object *resource;
	struct json_object *request;
	const char *text;
	const char *nul;
	size_t		len;
	char	   *resource_copy = NULL;
	char	   *request_copy;

	if (!ready)
	{
		setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	if (data[0] == 'G' || data[0] == 'g')
	{
		type = group_type;
		builtin = group_resource;
	}
	else
	{
		type = user_type;
		builtin = user_resource;
	}
	text = (const char *) data + 1;
	len = size - 1;

	nul = memchr(text, '\0', len);
	if (nul != NULL)
	{
		if (!parse_json(text, (size_t) (nul - text), &resource))
			return 0;
		len -= (size_t) (nul - text) + 1;
		text = nul + 1;
	}
	else
		resource = json_object_get(builtin);
	if (!parse_json(text, len, &request) || !round_trips(resource) || !round_trips(request))
	{
		json_object_put(resource);
		json_object_put(request);
		return 0;
	}

	/* the inputs as text, for messages */
	resource_copy = strdup(text_of(resource));
	request_copy = strdup(text_of(request));
	if (resource_copy == NULL || request_copy == NULL)
		abort();
	cur_resource = resource_copy;
	cur_request = request_copy;

	/* "other" is where a cached prepared request ran before this resource */
	check(type, resource, request, resource == builtin ? empty_resource : builtin);

	json_object_put(resource);
	json_object_put(request);
	free(resource_copy);
	free(request_copy);
	return 0;
}
