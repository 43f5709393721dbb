/*
 * filter.h
 *		SCIM filters (RFC 7644 §3.4.2.2): the tree, the parser, the resolver
 *		that binds it to a schema, and the printers.
 *
 * A filter goes through two steps.  ScimFilterParse checks the grammar only
 * and needs no schema (the scim.filter type uses just this).  ScimFilterResolve
 * binds every attribute path to the schema registry, canonicalises names,
 * checks operators against attribute types and prepares literals.  Both the
 * SQL generator and the evaluator then work on the one resolved tree, which
 * is what keeps them in agreement.
 */
#ifndef SCIM_FILTER_H
#define SCIM_FILTER_H

#include <stdint.h>

#include "arena.h"
#include "error.h"
#include "schema.h"
#include "strbuf.h"
#include "utf8.h"

/* Filters longer than this are refused before parsing. */
#define SCIM_FILTER_MAX_LENGTH 65536

/*
 * How complex a filter may be (ScimFilterParse refuses more, as it reads).
 * A term is an attribute expression ("userName eq "x"", "title pr"),
 * also inside a value filter "emails[...]"; every later step (resolving,
 * SQL generation, evaluation, and the query the SQL becomes) costs in
 * proportion to the terms, and a few thousand "co" terms in one request
 * cost the database seconds.  The depth is the nesting of parentheses
 * (with or without "not") and value filters; the parser recurses once per
 * level.  Identity providers send 1-3 terms, 1-2 levels deep.
 *
 * The defaults admit a hundred terms (a lookup of a page's worth of
 * userNames or ids joined by "or") and 20 levels, far more than any
 * generated filter needs.  Callers may set other limits within the
 * ceilings, which keep every recursion over the tree shallow: a tree has
 * fewer than two nodes per term plus one per level.  The setting names,
 * when given, are named in the hint of a refusal.
 */
typedef struct ScimFilterLimits
{
	int			max_terms;		/* 1 .. SCIM_FILTER_MAX_TERMS */
	int			max_depth;		/* 1 .. SCIM_FILTER_MAX_DEPTH */
	const char *max_terms_setting;	/* e.g. "scim.filter_max_terms", or NULL */
	const char *max_depth_setting;
} ScimFilterLimits;

#define SCIM_FILTER_DEFAULT_MAX_TERMS 100
#define SCIM_FILTER_DEFAULT_MAX_DEPTH 20
/* ceilings: 64 kB of text hold about 8000 terms; nesting past 100 is hostile */
#define SCIM_FILTER_MAX_TERMS 10000
#define SCIM_FILTER_MAX_DEPTH 100

typedef enum ScimFilterKind
{
	SCIM_F_AND,
	SCIM_F_OR,
	SCIM_F_NOT,
	SCIM_F_ATTR,				/* attrPath op value, or attrPath pr */
	SCIM_F_VALUE_PATH			/* attrPath [ filter ] */
} ScimFilterKind;

typedef enum ScimFilterOp
{
	SCIM_OP_EQ,
	SCIM_OP_NE,
	SCIM_OP_CO,
	SCIM_OP_SW,
	SCIM_OP_EW,
	SCIM_OP_GT,
	SCIM_OP_GE,
	SCIM_OP_LT,
	SCIM_OP_LE,
	SCIM_OP_PR
} ScimFilterOp;

typedef enum ScimLitKind
{
	SCIM_LIT_NONE,				/* "pr" has no operand */
	SCIM_LIT_STRING,
	SCIM_LIT_NUMBER,
	SCIM_LIT_TRUE,
	SCIM_LIT_FALSE,
	SCIM_LIT_NULL
} ScimLitKind;

/*
 * The store (scim.handle()) keeps group membership out of the documents,
 * in scim.group_members: a Group's "members" and a User's "groups" are
 * read from there.  Filters on them are translated for that table.
 */
typedef enum ScimMembership
{
	SCIM_MEMBERSHIP_NONE,
	SCIM_MEMBERSHIP_MEMBERS,	/* Group "members": rows of the group */
	SCIM_MEMBERSHIP_GROUPS		/* User "groups": rows naming the user */
} ScimMembership;

/*
 * How ScimFilterResolveFor binds a filter:
 *   SCIM_RESOLVE_ROOT   for a search across resource types (POST /.search):
 *                       an attribute this type lacks but another resource
 *                       type of the registry has is absent here, as if the
 *                       resource had no value for it (RFC 7644 §3.4.2),
 *                       instead of an error;
 *   SCIM_RESOLVE_STORE  for the store's tables: filters on membership are
 *                       translated to scim.group_members, and the shapes
 *                       that table cannot answer cheaply are refused.
 */
#define SCIM_RESOLVE_ROOT	0x01
#define SCIM_RESOLVE_STORE	0x02

typedef struct ScimFilter
{
	ScimFilterKind kind;
	int			offset;			/* byte offset of the node in the text */
	struct ScimFilter *left;	/* AND, OR, NOT operand; VALUE_PATH's inner filter */
	struct ScimFilter *right;	/* AND, OR */

	/* ATTR and VALUE_PATH */
	const char *path;			/* as written */
	size_t		path_len;
	ScimFilterOp op;
	ScimLitKind lit_kind;
	const char *lit;			/* decoded string, or number text; NUL-terminated */
	size_t		lit_len;
	int			lit_offset;

	/* filled in by ScimFilterResolve */
	bool		resolved;
	bool		in_bracket;		/* path is a sub-attribute of the bracket's attribute */
	bool		absent;			/* SCIM_RESOLVE_ROOT: an attribute this type lacks (left unresolved) */
	ScimMembership membership;	/* SCIM_RESOLVE_STORE: a path into the membership table */
	ScimPath	rpath;
	int64_t		instant;		/* dateTime literal, microseconds since 1970 UTC */

	/* filled in by ScimFilterEvalPrepare */
	const char *folded;			/* literal after the evaluator's case folding */
	size_t		folded_len;
} ScimFilter;

extern ScimFilter *ScimFilterParse(ScimArena *arena, const char *text, size_t len,
								   const ScimFilterLimits *limits, ScimError *err);
extern bool ScimFilterResolve(ScimFilter *f, const ScimRegistry *reg, const ScimResourceType *type,
							  const char *text, ScimError *err);
extern bool ScimFilterResolveFor(ScimFilter *f, const ScimRegistry *reg, const ScimResourceType *type,
								 const char *text, int flags, ScimError *err);
extern bool ScimPathFilterable(const ScimPath *p, ScimErrorKind kind, const char *use, ScimError *err);
extern void ScimFilterPrint(const ScimFilter *f, ScimBuf *out);
extern const char *ScimFilterOpName(ScimFilterOp op);
extern void ScimJsonQuote(ScimBuf *out, const char *s, size_t len);

/* SQL generation (filter_sql.c) */
extern bool ScimFilterToSql(const ScimFilter *f, const char *column, ScimBuf *out, ScimError *err);
extern bool ScimFilterToSqlStore(const ScimFilter *f, const char *alias, ScimBuf *out, ScimError *err);
extern void ScimSqlQuoteLiteral(ScimBuf *out, const char *s, size_t len);
extern bool ScimIndexSql(const ScimPath *p, const char *column, ScimBuf *out, bool *gin, ScimError *err);
extern bool ScimSortSql(const ScimPath *p, const char *column, ScimBuf *out, ScimError *err);

#endif
