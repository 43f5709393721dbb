/*
 * filter_sql_gen.h
 *		The SQL generator's state and pieces, shared by filter_sql.c (any
 *		jsonb document) and filter_store.c (the store's tables).  Internal
 *		to the core.
 */
#ifndef SCIM_FILTER_SQL_GEN_H
#define SCIM_FILTER_SQL_GEN_H

#include "filter.h"
#include "strbuf.h"

typedef struct SqlGen
{
	ScimBuf    *out;
	const char *column;			/* the jsonb document, quoted */
	const char *alias;			/* the store's row (ScimFilterToSqlStore), else NULL */
} SqlGen;

extern void ScimSqlEmit(SqlGen *g, const ScimFilter *f, const char *elem);

/* filter_store.c */
extern void ScimSqlEmitMembership(SqlGen *g, const ScimFilter *f, const char *elem);
extern void ScimSqlEmitMembershipPath(SqlGen *g, const ScimFilter *f);
extern bool ScimSqlStoreIdEq(const ScimFilter *f, char id[37]);

#endif
