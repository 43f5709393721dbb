/*
 * patch.h
 *		PATCH (RFC 7644 §3.5.2) on json-c resources, with the quirks the
 *		identity providers rely on.
 */
#ifndef SCIM_PATCH_H
#define SCIM_PATCH_H

#include "error.h"
#include "filter.h"
#include "schema.h"

struct json_object;

#define SCIM_PATCHOP_URN "urn:ietf:params:scim:api:messages:2.0:PatchOp"

/* Operations beyond this many are refused (a PATCH is one resource's edit). */
#define SCIM_PATCH_MAX_OPERATIONS 1000

typedef struct ScimPatch ScimPatch;

/*
 * What a request set that the schema does not define, left out rather than
 * stored: a top-level attribute or an extension's in a value without a path
 * (a POST or PUT body is one), or a sub-attribute holding an object or an
 * array (nothing is stored deeper than the schema's nesting).  A
 * sub-attribute holding one value is kept as sent (Entra's roles
 * "displayName").  Names, ", "-separated, each once, cut short past the
 * buffer.
 */
typedef struct ScimIgnored
{
	char		names[512];
	size_t		len;
	int			n;
} ScimIgnored;

extern ScimPatch *ScimPatchPrepare(const ScimRegistry *reg, const ScimResourceType *type,
								   struct json_object *request, const ScimFilterLimits *limits,
								   ScimError *err);
extern bool ScimPatchExecute(const ScimPatch *patch, struct json_object *resource,
							 bool *changed, ScimError *err);
extern bool ScimPatchExecuteNoting(const ScimPatch *patch, struct json_object *resource,
								   bool *changed, ScimError *err, ScimIgnored *ignored);
extern bool ScimPatchBind(ScimPatch *patch, struct json_object *const *values, int n);
extern bool ScimPatchTouched(const ScimPatch *patch, const char *const **names, int *n);
extern void ScimPatchFree(ScimPatch *patch);
extern struct json_object *ScimPatchApply(const ScimRegistry *reg, const ScimResourceType *type,
										  struct json_object *resource, struct json_object *request,
										  bool *changed, ScimError *err);

#endif
