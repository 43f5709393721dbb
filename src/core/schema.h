/*
 * schema.h
 *		The schema model (RFC 7643 §2 and §7): attribute characteristics,
 *		schemas, resource types and the registry that holds them.
 *
 * Everything that interprets a path (filters, PATCH, sorting, projection)
 * asks this model for an attribute's canonical name, type, caseExact,
 * multiValued and sub-attributes.  A registry owns all its memory in one
 * arena and is immutable once built, so a cached one can be shared.
 */
#ifndef SCIM_SCHEMA_H
#define SCIM_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "error.h"

typedef enum ScimAttrType
{
	SCIM_TYPE_STRING,
	SCIM_TYPE_BOOLEAN,
	SCIM_TYPE_DECIMAL,
	SCIM_TYPE_INTEGER,
	SCIM_TYPE_DATETIME,
	SCIM_TYPE_REFERENCE,
	SCIM_TYPE_BINARY,
	SCIM_TYPE_COMPLEX
} ScimAttrType;

typedef enum ScimMutability
{
	SCIM_MUT_READ_WRITE,
	SCIM_MUT_READ_ONLY,
	SCIM_MUT_IMMUTABLE,
	SCIM_MUT_WRITE_ONLY
} ScimMutability;

typedef enum ScimReturned
{
	SCIM_RET_DEFAULT,
	SCIM_RET_ALWAYS,
	SCIM_RET_NEVER,
	SCIM_RET_REQUEST
} ScimReturned;

typedef enum ScimUniqueness
{
	SCIM_UNIQ_NONE,
	SCIM_UNIQ_SERVER,
	SCIM_UNIQ_GLOBAL
} ScimUniqueness;

struct ScimSchema;

typedef struct ScimAttr
{
	const char *name;			/* canonical spelling */
	size_t		name_len;
	ScimAttrType type;
	bool		multi_valued;
	bool		required;
	bool		case_exact;
	ScimMutability mutability;
	ScimReturned returned;
	ScimUniqueness uniqueness;
	const char *description;
	const char **canonical_values;
	int			n_canonical_values;
	const char **reference_types;
	int			n_reference_types;
	struct ScimAttr *sub;		/* sub-attributes of a complex attribute */
	int			n_sub;
	const struct ScimAttr *parent;	/* NULL for a top-level attribute */
	const struct ScimSchema *schema;	/* the schema that defines it */
} ScimAttr;

typedef struct ScimSchema
{
	const char *id;				/* the URN */
	size_t		id_len;
	const char *name;
	const char *description;
	ScimAttr   *attrs;
	int			n_attrs;
	bool		common;			/* the RFC 7643 §3.1 attributes, not a URN */
} ScimSchema;

typedef struct ScimExtensionRef
{
	const ScimSchema *schema;
	bool		required;
} ScimExtensionRef;

typedef struct ScimResourceType
{
	const char *name;			/* "User" */
	const char *endpoint;		/* "/Users" */
	const char *description;
	const ScimSchema *core;
	ScimExtensionRef *extensions;
	int			n_extensions;
	int			cap_extensions;
} ScimResourceType;

typedef struct ScimRegistry
{
	ScimArena  *arena;
	ScimSchema *common;			/* id, externalId, meta, schemas */
	ScimSchema **schemas;
	int			n_schemas;
	int			cap_schemas;
	ScimResourceType **types;
	int			n_types;
	int			cap_types;
} ScimRegistry;

extern ScimRegistry *ScimRegistryCreate(ScimError *err);
extern void ScimRegistryFree(ScimRegistry *reg);
extern bool ScimRegistrySetCommon(ScimRegistry *reg, const char *json, size_t len, ScimError *err);
extern const ScimSchema *ScimRegistryAddSchema(ScimRegistry *reg, const char *json, size_t len, ScimError *err);
extern const ScimResourceType *ScimRegistryAddResourceType(ScimRegistry *reg, const char *name,
														   const char *endpoint, const char *description,
														   const char *core_urn, ScimError *err);
extern bool ScimRegistryAddExtension(ScimRegistry *reg, const char *type_name, const char *urn,
									 bool required, ScimError *err);

extern const ScimResourceType *ScimRegistryFindType(const ScimRegistry *reg, const char *name, size_t len);
extern const ScimSchema *ScimRegistryFindSchema(const ScimRegistry *reg, const char *urn, size_t len);
extern const ScimAttr *ScimSchemaFindAttr(const ScimSchema *schema, const char *name, size_t len);
extern const ScimAttr *ScimAttrFindSub(const ScimAttr *attr, const char *name, size_t len);
extern const char *ScimAttrTypeName(ScimAttrType type);

/* A path resolved against a resource type: [extension URN:]attr[.sub] */
typedef struct ScimPath
{
	const ScimSchema *extension;	/* set when attr lives under an extension URN */
	const ScimAttr *attr;
	const ScimAttr *sub;		/* NULL when the path names attr itself */
} ScimPath;

extern bool ScimResolvePath(const ScimRegistry *reg, const ScimResourceType *type,
							const char *text, size_t len, ScimPath *out, ScimError *err,
							ScimErrorKind kind, int offset);

extern bool ScimStrCaseEq(const char *a, size_t alen, const char *b, size_t blen);

#endif
