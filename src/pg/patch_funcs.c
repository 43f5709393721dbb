/*
 * patch_funcs.c
 *		scim.patch(): a PatchOp request applied to a jsonb resource.
 *
 * The core's PATCH engine works on json-c; this converts in and out,
 * holds every json-c tree in PG_TRY so that none leaks when anything
 * raises, and returns the input datum itself when the request changed
 * nothing, so a no-op PATCH leaves the row byte-identical.
 */
#include "scim_pg.h"

#include "jsonc_conv.h"
#include "patch.h"

PG_FUNCTION_INFO_V1(scim_patch);

/* scim.patch(resource jsonb, patch jsonb, resource_type text) */
Datum
scim_patch(PG_FUNCTION_ARGS)
{
	Jsonb	   *resource = PG_GETARG_JSONB_P(0);
	Jsonb	   *patch = PG_GETARG_JSONB_P(1);
	text	   *resource_type = PG_GETARG_TEXT_PP(2);
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimPgResourceType(reg, resource_type);
	struct json_object *volatile jres = NULL;
	struct json_object *volatile jpatch = NULL;
	struct json_object *volatile out = NULL;
	Jsonb	   *result = NULL;
	ScimError	err;
	bool		changed = false;

	if (!JB_ROOT_IS_OBJECT(resource))
		ereport(ERROR,
				(errcode(ScimPgSqlState(SCIM_ERR_INVALID_VALUE)),
				 errmsg("the resource to patch must be a JSON object")));

	PG_TRY();
	{
		jres = ScimJsonbToJsonC(&resource->root);
		jpatch = ScimJsonbToJsonC(&patch->root);
		out = ScimPatchApply(reg, type, jres, jpatch, &changed, &err);
		if (out != NULL && changed)
			result = ScimJsonCToJsonb(out);
	}
	PG_CATCH();
	{
		ScimJsonCFree(jres);
		ScimJsonCFree(jpatch);
		ScimJsonCFree(out);
		PG_RE_THROW();
	}
	PG_END_TRY();

	ScimJsonCFree(jres);
	ScimJsonCFree(jpatch);
	if (out == NULL)
		ScimPgRaise(&err);
	ScimJsonCFree(out);
	if (!changed)
		PG_RETURN_JSONB_P(resource);
	PG_RETURN_JSONB_P(result);
}
