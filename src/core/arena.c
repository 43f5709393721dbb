/*
 * arena.c
 *		Bump allocation in malloc'ed blocks, released all at once.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_SIZE 8192
#define ARENA_ALIGN 16

typedef struct ArenaBlock
{
	struct ArenaBlock *next;
	size_t		size;			/* usable bytes after the header */
	size_t		used;
	/* data follows, aligned */
} ArenaBlock;

struct ScimArena
{
	ArenaBlock *head;			/* block being filled; older ones follow */
};

#define BLOCK_HEADER (((sizeof(ArenaBlock) + ARENA_ALIGN - 1) / ARENA_ALIGN) * ARENA_ALIGN)
#define BLOCK_DATA(b) ((char *) (b) + BLOCK_HEADER)

/* Allocate a new block able to hold at least "need" bytes. */
static ArenaBlock *
arena_block(size_t need)
{
	size_t		size = need > ARENA_BLOCK_SIZE ? need : ARENA_BLOCK_SIZE;
	ArenaBlock *b;

	if (need > SIZE_MAX - BLOCK_HEADER)
		return NULL;
	b = malloc(BLOCK_HEADER + size);
	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

/* Create an empty arena, or NULL when out of memory. */
ScimArena *
ScimArenaCreate(void)
{
	ScimArena  *arena = malloc(sizeof(ScimArena));

	if (arena == NULL)
		return NULL;
	arena->head = arena_block(ARENA_BLOCK_SIZE);
	if (arena->head == NULL)
	{
		free(arena);
		return NULL;
	}
	return arena;
}

/* Allocate size bytes, aligned for any type; NULL when out of memory. */
void *
ScimArenaAlloc(ScimArena *arena, size_t size)
{
	ArenaBlock *b = arena->head;
	size_t		aligned;

	if (size > SIZE_MAX - ARENA_ALIGN)
		return NULL;
	aligned = (size + ARENA_ALIGN - 1) & ~((size_t) ARENA_ALIGN - 1);
	if (aligned == 0)
		aligned = ARENA_ALIGN;
	if (b->size - b->used < aligned)
	{
		ArenaBlock *nb = arena_block(aligned);

		if (nb == NULL)
			return NULL;
		if (aligned > ARENA_BLOCK_SIZE)
		{
			/* an oversized request gets a block of its own behind the head */
			nb->next = b->next;
			b->next = nb;
			nb->used = aligned;
			return BLOCK_DATA(nb);
		}
		nb->next = b;
		arena->head = nb;
		b = nb;
	}
	b->used += aligned;
	return BLOCK_DATA(b) + b->used - aligned;
}

/* Bytes the next allocation can take without a new block. */
size_t
ScimArenaRoom(const ScimArena *arena)
{
	return arena->head->size - arena->head->used;
}

/*
 * Shrink p, the latest allocation, to size bytes and give the rest back.
 * Only an allocation that ScimArenaRoom() said would fit can shrink (an
 * oversized one lives in a block of its own); others are left alone.
 */
void
ScimArenaShrink(ScimArena *arena, void *p, size_t size)
{
	ArenaBlock *b = arena->head;
	uintptr_t	data = (uintptr_t) BLOCK_DATA(b);
	uintptr_t	at = (uintptr_t) p;
	size_t		aligned = (size + ARENA_ALIGN - 1) & ~((size_t) ARENA_ALIGN - 1);

	if (aligned == 0)
		aligned = ARENA_ALIGN;
	if (at >= data && at < data + b->used && (at - data) + aligned <= b->used)
		b->used = (at - data) + aligned;
}

/* Allocate zeroed memory. */
void *
ScimArenaAlloc0(ScimArena *arena, size_t size)
{
	void	   *p = ScimArenaAlloc(arena, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

/* Copy len bytes of s into the arena and NUL-terminate them. */
char *
ScimArenaStrndup(ScimArena *arena, const char *s, size_t len)
{
	char	   *p;

	if (len == SIZE_MAX)
		return NULL;
	p = ScimArenaAlloc(arena, len + 1);
	if (p == NULL)
		return NULL;
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * Forget every allocation but keep one block for reuse.  The head is always
 * a standard-size block (oversized ones are linked behind it), so one is
 * always there to keep.
 */
void
ScimArenaReset(ScimArena *arena)
{
	ArenaBlock *b = arena->head->next;

	while (b != NULL)
	{
		ArenaBlock *next = b->next;

		free(b);
		b = next;
	}
	arena->head->next = NULL;
	arena->head->used = 0;
}

/* Release the arena and everything allocated in it. */
void
ScimArenaFree(ScimArena *arena)
{
	ArenaBlock *b;

	if (arena == NULL)
		return;
	b = arena->head;
	while (b != NULL)
	{
		ArenaBlock *next = b->next;

		free(b);
		b = next;
	}
	free(arena);
}
