/*
 * arena.h
 *		A bump allocator for the core's short-lived trees.
 *
 * A parsed filter is many small nodes that die together, so they come from
 * one arena and are released with one call.  That also keeps the glue
 * simple: it frees a single object on every path, including before
 * ereport(ERROR).  Allocation failure returns NULL; callers report it as
 * SCIM_ERR_OUT_OF_MEMORY.
 */
#ifndef SCIM_ARENA_H
#define SCIM_ARENA_H

#include <stddef.h>

typedef struct ScimArena ScimArena;

extern ScimArena *ScimArenaCreate(void);
extern void *ScimArenaAlloc(ScimArena *arena, size_t size);
extern void *ScimArenaAlloc0(ScimArena *arena, size_t size);
extern char *ScimArenaStrndup(ScimArena *arena, const char *s, size_t len);
extern size_t ScimArenaRoom(const ScimArena *arena);
extern void ScimArenaShrink(ScimArena *arena, void *p, size_t size);
extern void ScimArenaReset(ScimArena *arena);
extern void ScimArenaFree(ScimArena *arena);

#endif
