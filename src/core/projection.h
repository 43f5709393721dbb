/*
 * projection.h
 *		attributes / excludedAttributes (RFC 7644 §3.9) under the "returned"
 *		characteristic (RFC 7643 §2.2), as decisions per member.
 *
 * The core decides; the caller walks its own representation (jsonb in
 * place, json-c) and asks about each member it meets.  A scope says where
 * the walk is: the resource itself, an extension object, or a complex
 * attribute (or each element of a multi-valued one).
 */
#ifndef SCIM_PROJECTION_H
#define SCIM_PROJECTION_H

#include "arena.h"
#include "error.h"
#include "filter_eval.h"
#include "schema.h"

typedef struct ScimProjection ScimProjection;

typedef struct ScimProjScope
{
	const ScimSchema *extension;	/* inside an extension object */
	const ScimAttr *attr;		/* inside a complex attribute's value */
} ScimProjScope;

typedef enum ScimProjDecision
{
	SCIM_PROJ_DROP,
	SCIM_PROJ_KEEP,				/* the member as it is */
	SCIM_PROJ_SUBSET			/* walk into it with the child scope */
} ScimProjDecision;

extern ScimProjection *ScimProjectionParse(const ScimRegistry *reg, const ScimResourceType *type,
										   const char *attributes, size_t attributes_len,
										   const char *excluded, size_t excluded_len,
										   ScimError *err);
extern ScimProjDecision ScimProjectionDecide(const ScimProjection *p, const ScimProjScope *scope,
											 const char *key, size_t len, ScimProjScope *child);
extern bool ScimProjectionIsIdentity(const ScimProjection *p);
extern bool ScimProjectionWants(const ScimProjection *p, const char *attr_name);
extern bool ScimProjectionKeepsSubs(const ScimProjection *p, const ScimAttr *attr);
extern bool ScimProjectionPrepare(ScimProjection *p, const ScimValueOps *ops, void *ctx, ScimError *err);
extern bool ScimProjectionFiltersElements(const ScimProjection *p, const ScimAttr *attr);
extern bool ScimProjectionKeepsElement(const ScimProjection *p, const ScimAttr *attr, const ScimValue *elem,
									   const ScimValueOps *ops, void *ctx);
extern void ScimProjectionFree(ScimProjection *p);

#endif
