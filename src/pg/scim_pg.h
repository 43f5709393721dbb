/*
 * scim_pg.h
 *		Shared declarations of the extension's glue (src/pg): errors, the
 *		cached schema registry, the jsonb view and arenas tied to memory
 *		contexts.
 *
 * No file that includes this one may include <json-c/json.h>: PostgreSQL
 * declares a function named json_object, and json-c stays in the core.
 */
#ifndef SCIM_PG_H
#define SCIM_PG_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "arena.h"
#include "error.h"
#include "filter_eval.h"
#include "schema.h"

/* errors.c */
extern void ScimPgRaise(const ScimError *err) pg_attribute_noreturn();
extern int	ScimPgSqlState(ScimErrorKind kind);

/* registry.c */
extern const ScimRegistry *ScimPgRegistry(uint64 *generation);
extern const ScimResourceType *ScimPgResourceType(const ScimRegistry *reg, text *name);

/* jsonb_view.c */
extern const ScimValueOps ScimJsonbOps;
extern void ScimJsonbRoot(Jsonb *jb, ScimValue *out);
extern char *ScimPgValueText(const ScimValue *v, size_t *len);
extern struct NumericData *ScimPgNumeric(const char *text);

/* module.c */
extern ScimArena *ScimPgArenaCreate(MemoryContext cxt);
extern char *ScimPgQuoteColumn(text *column);

#endif
