/*
 * json_view.h
 *		The evaluator's JSON view over json-c documents.
 */
#ifndef SCIM_JSON_VIEW_H
#define SCIM_JSON_VIEW_H

#include "filter_eval.h"

struct json_object;

extern const ScimValueOps ScimJsonCOps;
extern void ScimJsonCValue(struct json_object *obj, ScimValue *out);

#endif
