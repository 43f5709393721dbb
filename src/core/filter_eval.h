/*
 * filter_eval.h
 *		Evaluate a resolved filter on one resource through a small view of
 *		its JSON, so that one evaluator serves jsonb (src/pg) and json-c
 *		(the core's tests and the HTTP layer) alike.
 */
#ifndef SCIM_FILTER_EVAL_H
#define SCIM_FILTER_EVAL_H

#include "filter.h"

typedef enum ScimJsonKind
{
	SCIM_JSON_ABSENT,			/* no such member */
	SCIM_JSON_NULL,
	SCIM_JSON_STRING,
	SCIM_JSON_NUMBER,
	SCIM_JSON_TRUE,
	SCIM_JSON_FALSE,
	SCIM_JSON_OBJECT,
	SCIM_JSON_ARRAY
} ScimJsonKind;

typedef struct ScimValue
{
	ScimJsonKind kind;
	const void *ptr;			/* the view's own handle */
	const char *str;			/* STRING: its bytes, not NUL-terminated */
	size_t		len;
} ScimValue;

/*
 * What the evaluator needs of a JSON document.  text() must return what
 * PostgreSQL's ->> returns for the value (a number's text, "true", a
 * container's JSON text): the SQL generator compares that text, and the
 * evaluator must compare the very same.  fold() must be the lower() the SQL
 * uses.  Strings returned by text() and fold() are released with release().
 */
typedef struct ScimValueOps
{
	void		(*get) (void *ctx, const ScimValue *obj, const char *key, size_t keylen, ScimValue *out);
	int			(*size) (void *ctx, const ScimValue *container);
	void		(*element) (void *ctx, const ScimValue *array, int i, ScimValue *out);
	const char *(*text) (void *ctx, const ScimValue *v, size_t *len);
	char	   *(*fold) (void *ctx, const char *s, size_t len, size_t *outlen);
	void		(*release) (void *ctx, const char *s);
} ScimValueOps;

extern bool ScimFilterEvalPrepare(ScimFilter *f, ScimArena *arena, const ScimValueOps *ops,
								  void *ctx, ScimError *err);
extern bool ScimFilterEval(const ScimFilter *f, const ScimValue *resource,
						   const ScimValueOps *ops, void *ctx);
extern bool ScimFilterEvalElement(const ScimFilter *value_path, const ScimValue *element,
								  const ScimValueOps *ops, void *ctx);

#endif
