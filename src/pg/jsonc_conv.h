/*
 * jsonc_conv.h
 *		jsonb <-> json-c, for the core functions that work on json-c trees.
 *
 * Declared without json-c's header so that callers need not include it.
 */
#ifndef SCIM_JSONC_CONV_H
#define SCIM_JSONC_CONV_H

#include "postgres.h"

#include "utils/jsonb.h"

struct json_object;
struct ScimPgStamp;

extern struct json_object *ScimJsonbToJsonC(JsonbContainer *container);
extern struct json_object *ScimJsonbValueToJsonC(JsonbValue *v);
extern Jsonb *ScimJsonCToJsonb(struct json_object *obj);
extern void ScimJsonCFree(struct json_object *obj);
extern struct json_object *ScimJsonbToJsonCPartial(JsonbContainer *root, const char **names, int n);
extern Jsonb *ScimJsonbMerge(JsonbContainer *root, const char **names, int n, struct json_object *partial,
							 const struct ScimPgStamp *stamp);
extern bool ScimJsonCStamp(struct json_object *obj, const struct ScimPgStamp *stamp);

#endif
