/*
 * patch_int.h
 *		What the PATCH engine's files share, and nothing else includes.
 *
 * The engine (patch.h's API) is in five files: patch.c (the request:
 * prepared, bound, applied), patch_path.c (PATCH paths), patch_value.c
 * (values coerced to the schema, and mutability), patch_apply.c (the
 * operations on a resource) and patch_json.c (json-c members by name).
 */
#ifndef SCIM_PATCH_INT_H
#define SCIM_PATCH_INT_H

#include "arena.h"
#include "patch.h"

typedef enum PatchKind
{
	PATCH_ADD,
	PATCH_REMOVE,
	PATCH_REPLACE
} PatchKind;

typedef struct Patcher
{
	const ScimRegistry *reg;
	const ScimResourceType *type;
	struct json_object *res;	/* the working copy */
	ScimArena  *arena;			/* parsed paths of the current operation */
	const ScimFilterLimits *limits; /* for value filters in paths */
	ScimError  *err;
	int			op_index;		/* 1-based, for messages */
	bool		kind_known;		/* op has been read: messages may name it */
	bool		dirty;			/* the resource was modified */
	bool		no_path;		/* path_text is a member of a no-path value */
	PatchKind	kind;
	const char *path_text;		/* as sent, or NULL */
	ScimIgnored *ignored;		/* what is left out, or NULL */
} Patcher;

typedef struct PatchPath
{
	ScimPath	p;
	ScimFilter *filter;			/* the value path's bracket, resolved; or NULL */
} PatchPath;

typedef enum Permit
{
	PERMIT_NO,					/* error set */
	PERMIT_SKIP,				/* a tolerated no-op */
	PERMIT_YES
} Permit;

/*
 * One operation, its path parsed and resolved.  A no-path add or replace
 * becomes one prepared operation per member of its value.
 */
typedef struct PreparedOp
{
	int			index;			/* 1-based number in "Operations" */
	PatchKind	kind;
	const char *path_text;		/* the path, or the member name of a no-path value */
	bool		no_path;		/* from a no-path value */
	PatchPath	pp;
	struct json_object *value;	/* borrowed from the request; NULL is JSON null */
	bool		has_value;
	/* a no-path value's member, and its member under a schema URN: for ScimPatchBind() */
	const char *value_key;
	const char *value_subkey;
} PreparedOp;

#define MAX_TOUCHED 64

struct ScimPatch
{
	ScimArena  *arena;
	const ScimRegistry *reg;
	const ScimResourceType *type;
	struct json_object *request;	/* a reference held for the borrowed values */
	struct json_object **values;	/* or, once bound, one per operation */
	int			noperations;
	PreparedOp *ops;
	int			nops;
	int			cap;
	int			ntouched;		/* -1: too many to list */
	const char *touched[MAX_TOUCHED];
	ScimIgnored ignored;		/* members of no-path values the schema does not define */
};

/* patch.c */
extern bool ScimPatchFail(Patcher *pt, ScimErrorKind kind, const char *fmt,...) __attribute__((format(printf, 3, 4)));
extern void ScimPatchIgnore(ScimIgnored *ignored, const char *parent, const char *name);

/* patch_json.c */
extern struct json_object *ScimPatchGetCi(struct json_object *obj, const char *name, size_t len, const char **key_out);
extern void ScimPatchPutCanonical(struct json_object *obj, const char *name, struct json_object *value);
extern void ScimPatchSetCanonical(Patcher *pt, struct json_object *obj, const char *name, struct json_object *value);
extern void ScimPatchDeleteAttr(Patcher *pt, struct json_object *obj, const char *name);

/* patch_path.c */
extern bool ScimPatchParsePath(Patcher *pt, const char *text, size_t len, PatchPath *out);

/* patch_value.c */
extern struct json_object *ScimPatchNormalize(Patcher *pt, const ScimAttr *a, struct json_object *v, bool element);
extern Permit ScimPatchMayWrite(Patcher *pt, const ScimAttr *a, struct json_object *current, struct json_object *proposed);

#endif
