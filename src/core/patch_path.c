/*
 * patch_path.c
 *		PATCH paths (RFC 7644 §3.5.2): parsed and resolved against the
 *		resource type's schemas.
 */
#include "patch_int.h"

#include <string.h>

#include "filter_eval.h"
#include "json_view.h"

/*
 * Parse and resolve a PATCH path (RFC 7644 §3.5.2 Figure 7):
 * attrPath, or valuePath optionally followed by ".subAttr".  The bracket is
 * parsed by the filter parser, so PATCH paths and filters read alike.
 */
bool
ScimPatchParsePath(Patcher *pt, const char *text, size_t len, PatchPath *out)
{
	const char *lb = memchr(text, '[', len);
	ScimError	ferr;
	size_t		close;
	bool		in_string = false;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "empty PATCH path");
	if (!ScimUtf8Valid(text, len, NULL))
		return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "PATCH path is not valid UTF-8");
	if (lb == NULL)
	{
		for (size_t i = 0; i < len; i++)
			if (strchr(" \t\r\n\"()]", text[i]) != NULL)
				return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\"",
									 (int) (len > 200 ? 200 : len), text);
		if (!ScimResolvePath(pt->reg, pt->type, text, len, &out->p, &ferr, SCIM_ERR_INVALID_PATH, 0))
		{
			ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "%s", ferr.message);
			return false;
		}
		return true;
	}

	/* find the "]" that closes the bracket, skipping string literals */
	for (close = (size_t) (lb - text) + 1; close < len; close++)
	{
		char		c = text[close];

		if (in_string)
		{
			if (c == '\\')
				close++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == ']')
			break;
	}
	if (close >= len)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\": \"[\" is not closed",
							 (int) (len > 200 ? 200 : len), text);

	out->filter = ScimFilterParse(pt->arena, text, close + 1, pt->limits, &ferr);
	if (out->filter == NULL || out->filter->kind != SCIM_F_VALUE_PATH)
	{
		if (out->filter == NULL)
			ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid value filter in PATCH path: %s", ferr.message);
		else
			ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\"",
						  (int) (len > 200 ? 200 : len), text);
		return false;
	}
	if (!ScimFilterResolve(out->filter, pt->reg, pt->type, text, &ferr))
	{
		ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid value filter in PATCH path: %s", ferr.message);
		return false;
	}
	/* elements are matched with the core's JSON view (ASCII case folding) */
	if (!ScimFilterEvalPrepare(out->filter, pt->arena, &ScimJsonCOps, NULL, &ferr))
	{
		ScimErrorSet(pt->err, ferr.kind, 0, "%s", ferr.message);
		return false;
	}
	out->p = out->filter->rpath;
	if (close + 1 < len)
	{
		const char *sub = text + close + 2;
		size_t		sub_len = len - close - 2;

		if (text[close + 1] != '.')
			return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\": expected \".\" or the end after \"]\"",
								 (int) (len > 200 ? 200 : len), text);
		if (sub_len == 0 ||
			(out->p.sub = ScimAttrFindSub(out->p.attr, sub, sub_len)) == NULL)
			return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "invalid PATCH path \"%.*s\": \"%.*s\" is not a sub-attribute of \"%s\"",
								 (int) (len > 200 ? 200 : len), text,
								 (int) (sub_len > 100 ? 100 : sub_len), sub, out->p.attr->name);
	}
	if (!out->p.attr->multi_valued)
		return ScimPatchFail(pt, SCIM_ERR_INVALID_PATH, "attribute \"%s\" is single-valued and takes no value filter",
							 out->p.attr->name);
	return true;
}
