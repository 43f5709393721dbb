/*
 * patch_json.c
 *		The PATCH engine's json-c helpers: members found by name
 *		case-insensitively, and written under the canonical name.
 */
#include "patch_int.h"

#include <json-c/json.h>
#include <string.h>

/* Member lookup by name, case-insensitively; an exact match wins. */
struct json_object *
ScimPatchGetCi(struct json_object *obj, const char *name, size_t len, const char **key_out)
{
	struct json_object *found = NULL;
	const char *found_key = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return NULL;
	json_object_object_foreach(obj, key, val)
	{
		size_t		klen = strlen(key);

		if (klen == len && memcmp(key, name, len) == 0)
		{
			found = val;
			found_key = key;
			break;
		}
		if (found_key == NULL && ScimStrCaseEq(key, klen, name, len))
		{
			found = val;
			found_key = key;
		}
	}
	if (key_out)
		*key_out = found_key;
	return found;
}

/* Delete every member whose name equals name case-insensitively. */
static bool
del_ci(struct json_object *obj, const char *name)
{
	size_t		len = strlen(name);
	bool		again = true;
	bool		deleted = false;

	while (again)
	{
		again = false;
		json_object_object_foreach(obj, key, val)
		{
			(void) val;
			if (ScimStrCaseEq(key, strlen(key), name, len))
			{
				json_object_object_del(obj, key);
				again = deleted = true;
				break;
			}
		}
	}
	return deleted;
}

/* Store value (owned) under the canonical name, dropping other spellings. */
void
ScimPatchPutCanonical(struct json_object *obj, const char *name, struct json_object *value)
{
	const char *key = NULL;

	if (ScimPatchGetCi(obj, name, strlen(name), &key) != NULL && strcmp(key, name) != 0)
		del_ci(obj, name);
	json_object_object_add(obj, name, value);
}

/*
 * ScimPatchPutCanonical() on the resource itself: notes the change, unless the
 * member already holds an equal value under its canonical name.
 */
void
ScimPatchSetCanonical(Patcher *pt, struct json_object *obj, const char *name, struct json_object *value)
{
	struct json_object *old;

	if (json_object_object_get_ex(obj, name, &old) && json_object_equal(old, value) &&
		ScimPatchGetCi(obj, name, strlen(name), NULL) == old)
	{
		/* no other spelling to drop either: nothing changes */
		bool		other = false;

		json_object_object_foreach(obj, key, val)
		{
			(void) val;
			if (strcmp(key, name) != 0 && ScimStrCaseEq(key, strlen(key), name, strlen(name)))
				other = true;
		}
		if (!other)
		{
			json_object_put(value);
			return;
		}
	}
	ScimPatchPutCanonical(obj, name, value);
	pt->dirty = true;
}

/* del_ci() on the resource itself, noting the change. */
void
ScimPatchDeleteAttr(Patcher *pt, struct json_object *obj, const char *name)
{
	if (del_ci(obj, name))
		pt->dirty = true;
}
