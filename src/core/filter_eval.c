/*
 * filter_eval.c
 *		Evaluate a resolved filter on one resource.
 *
 * This is the meaning filter_sql.c writes as SQL, case for case: the same
 * value text (->> semantics), the same case folding (the view's lower()),
 * byte order for gt/ge/lt/le on strings (COLLATE "C"), numeric order for
 * JSON numbers, instants for dateTime, and "any element" for multi-valued
 * attributes.  A comparison on an absent value is false, "ne" is "not eq",
 * and "not" inverts: the SQL side gets the same two-valued logic from
 * COALESCE.
 */
#include "filter_eval.h"

#include <string.h>

#include "datetime.h"
#include "decimal.h"

typedef struct Eval
{
	const ScimValueOps *ops;
	void	   *ctx;
} Eval;

static bool eval(Eval *ev, const ScimFilter *f, const ScimValue *root, const ScimValue *elem);

/* Is the compared attribute a case-insensitive string? */
static bool
folds(const ScimFilter *f)
{
	const ScimAttr *t = f->rpath.sub ? f->rpath.sub : f->rpath.attr;

	return !t->case_exact && f->lit_kind == SCIM_LIT_STRING &&
		(t->type == SCIM_TYPE_STRING || t->type == SCIM_TYPE_REFERENCE ||
		 t->type == SCIM_TYPE_BINARY);
}

static bool
prepare(Eval *ev, ScimFilter *f, ScimArena *arena, ScimError *err)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
		case SCIM_F_OR:
			return prepare(ev, f->left, arena, err) && prepare(ev, f->right, arena, err);
		case SCIM_F_NOT:
		case SCIM_F_VALUE_PATH:
			/* an absent value path's bracket was never resolved */
			return f->absent || prepare(ev, f->left, arena, err);
		case SCIM_F_ATTR:
			if (f->absent)
				return true;
			if (folds(f))
			{
				size_t		n;
				char	   *s = ev->ops->fold(ev->ctx, f->lit, f->lit_len, &n);

				if (s == NULL)
					return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
				f->folded = ScimArenaStrndup(arena, s, n);
				f->folded_len = n;
				ev->ops->release(ev->ctx, s);
				if (f->folded == NULL)
					return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
			}
			else
			{
				f->folded = f->lit;
				f->folded_len = f->lit_len;
			}
			return true;
	}
	return true;
}

/*
 * Fold the literals of case-insensitive comparisons once, with the view's
 * fold(), so that rows are compared against the very lower() of the SQL.
 */
bool
ScimFilterEvalPrepare(ScimFilter *f, ScimArena *arena, const ScimValueOps *ops,
					  void *ctx, ScimError *err)
{
	Eval		ev = {ops, ctx};

	ScimErrorClear(err);
	return prepare(&ev, f, arena, err);
}

/* Member lookup that yields ABSENT on anything but an object. */
static void
get(Eval *ev, const ScimValue *obj, const char *key, size_t keylen, ScimValue *out)
{
	if (obj->kind != SCIM_JSON_OBJECT)
	{
		out->kind = SCIM_JSON_ABSENT;
		return;
	}
	ev->ops->get(ev->ctx, obj, key, keylen, out);
}

/* The top-level attribute of a path, read from the resource. */
static void
get_base(Eval *ev, const ScimPath *p, const ScimValue *root, ScimValue *out)
{
	if (p->extension != NULL)
	{
		ScimValue	ext;

		get(ev, root, p->extension->id, p->extension->id_len, &ext);
		get(ev, &ext, p->attr->name, p->attr->name_len, out);
	}
	else
		get(ev, root, p->attr->name, p->attr->name_len, out);
}

/* The compared value: elem's sub-attribute, elem itself, or read from root. */
static void
get_value(Eval *ev, const ScimFilter *f, const ScimValue *root, const ScimValue *elem, ScimValue *out)
{
	const ScimAttr *sub = f->rpath.sub;

	if (elem != NULL)
	{
		if (sub != NULL)
			get(ev, elem, sub->name, sub->name_len, out);
		else
			*out = *elem;
		return;
	}
	get_base(ev, &f->rpath, root, out);
	if (sub != NULL)
	{
		ScimValue	parent = *out;

		get(ev, &parent, sub->name, sub->name_len, out);
	}
}

/* Presence (RFC 7643 §2.5): not absent, null, "", [] or {}. */
static bool
present(Eval *ev, const ScimValue *v)
{
	switch (v->kind)
	{
		case SCIM_JSON_ABSENT:
		case SCIM_JSON_NULL:
			return false;
		case SCIM_JSON_STRING:
			return v->len > 0;
		case SCIM_JSON_OBJECT:
		case SCIM_JSON_ARRAY:
			return ev->ops->size(ev->ctx, v) > 0;
		default:
			return true;
	}
}

/* Byte-wise comparison, shorter first on a common prefix: COLLATE "C". */
static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/*
 * Does an ordering result satisfy the operator?  "ne" is evaluated as "eq"
 * and negated by eval_attr, so it asks for equality here.
 */
static bool
ordered(ScimFilterOp op, int c)
{
	switch (op)
	{
		case SCIM_OP_EQ:
		case SCIM_OP_NE:
			return c == 0;
		case SCIM_OP_GT:
			return c > 0;
		case SCIM_OP_GE:
			return c >= 0;
		case SCIM_OP_LT:
			return c < 0;
		case SCIM_OP_LE:
			return c <= 0;
		default:
			return false;
	}
}

static bool
contains(const char *h, size_t hlen, const char *n, size_t nlen)
{
	if (nlen == 0)
		return true;
	if (nlen > hlen)
		return false;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nlen) == 0)
			return true;
	return false;
}

/* Compare a string-typed value by its text, folded when not caseExact. */
static bool
compare_text(Eval *ev, const ScimFilter *f, const ScimValue *v, bool fold)
{
	const char *t;
	size_t		tlen;
	const char *owned = NULL;
	char	   *folded = NULL;
	bool		r;

	if (v->kind == SCIM_JSON_ABSENT || v->kind == SCIM_JSON_NULL)
		return false;
	if (v->kind == SCIM_JSON_STRING)
	{
		t = v->str;
		tlen = v->len;
	}
	else
	{
		owned = t = ev->ops->text(ev->ctx, v, &tlen);
		if (t == NULL)
			return false;
	}
	if (fold)
	{
		folded = ev->ops->fold(ev->ctx, t, tlen, &tlen);
		t = folded;
		if (t == NULL)
		{
			if (owned)
				ev->ops->release(ev->ctx, owned);
			return false;
		}
	}
	switch (f->op)
	{
		case SCIM_OP_CO:
			r = contains(t, tlen, f->folded, f->folded_len);
			break;
		case SCIM_OP_SW:
			r = tlen >= f->folded_len && memcmp(t, f->folded, f->folded_len) == 0;
			break;
		case SCIM_OP_EW:
			r = tlen >= f->folded_len &&
				memcmp(t + tlen - f->folded_len, f->folded, f->folded_len) == 0;
			break;
		default:
			r = ordered(f->op, bytes_cmp(t, tlen, f->folded, f->folded_len));
			break;
	}
	if (folded)
		ev->ops->release(ev->ctx, folded);
	if (owned)
		ev->ops->release(ev->ctx, owned);
	return r;
}

/* A positive comparison (eq co sw ew gt ge lt le) of one value. */
static bool
compare(Eval *ev, const ScimFilter *f, const ScimValue *v)
{
	const ScimAttr *t = f->rpath.sub ? f->rpath.sub : f->rpath.attr;

	switch (t->type)
	{
		case SCIM_TYPE_STRING:
		case SCIM_TYPE_REFERENCE:
		case SCIM_TYPE_BINARY:
			return compare_text(ev, f, v, !t->case_exact);

		case SCIM_TYPE_BOOLEAN:
			return v->kind == (f->lit_kind == SCIM_LIT_TRUE ? SCIM_JSON_TRUE : SCIM_JSON_FALSE);

		case SCIM_TYPE_INTEGER:
		case SCIM_TYPE_DECIMAL:
			{
				const char *num;
				size_t		nlen;
				int			c;

				if (v->kind != SCIM_JSON_NUMBER)
					return false;
				num = ev->ops->text(ev->ctx, v, &nlen);
				if (num == NULL)
					return false;
				c = ScimCompareDecimal(num, nlen, f->lit, f->lit_len);
				ev->ops->release(ev->ctx, num);
				return ordered(f->op, c);
			}

		case SCIM_TYPE_DATETIME:
			{
				const char *s;
				size_t		slen;
				int64_t		at;
				bool		ok;

				if (v->kind == SCIM_JSON_ABSENT || v->kind == SCIM_JSON_NULL)
					return false;
				if (v->kind == SCIM_JSON_STRING)
					return ScimParseDateTime(v->str, v->len, &at) &&
						ordered(f->op, at < f->instant ? -1 : at > f->instant ? 1 : 0);
				s = ev->ops->text(ev->ctx, v, &slen);
				if (s == NULL)
					return false;
				ok = ScimParseDateTime(s, slen, &at);
				ev->ops->release(ev->ctx, s);
				return ok && ordered(f->op, at < f->instant ? -1 : at > f->instant ? 1 : 0);
			}

		case SCIM_TYPE_COMPLEX:
			return false;
	}
	return false;
}

/* pr, or a positive comparison, of one value. */
static bool
attr_positive_one(Eval *ev, const ScimFilter *f, const ScimValue *v)
{
	if (f->op == SCIM_OP_PR || f->lit_kind == SCIM_LIT_NULL)
		return present(ev, v);
	return compare(ev, f, v);
}

/* The positive form of an attribute expression over any element. */
static bool
attr_positive(Eval *ev, const ScimFilter *f, const ScimValue *root, const ScimValue *elem)
{
	ScimValue	v;

	if (f->absent)
		return false;			/* an attribute this resource type lacks */
	if (elem == NULL && f->rpath.attr->multi_valued)
	{
		ScimValue	base;
		int			n;

		get_base(ev, &f->rpath, root, &base);
		if (base.kind != SCIM_JSON_ARRAY)
			return false;
		n = ev->ops->size(ev->ctx, &base);
		for (int i = 0; i < n; i++)
		{
			ScimValue	e;

			ev->ops->element(ev->ctx, &base, i, &e);
			if (f->rpath.sub != NULL)
				get(ev, &e, f->rpath.sub->name, f->rpath.sub->name_len, &v);
			else
				v = e;
			if (attr_positive_one(ev, f, &v))
				return true;
		}
		return false;
	}
	get_value(ev, f, root, elem, &v);
	return attr_positive_one(ev, f, &v);
}

static bool
eval_attr(Eval *ev, const ScimFilter *f, const ScimValue *root, const ScimValue *elem)
{
	bool		negate = (f->op == SCIM_OP_NE && f->lit_kind != SCIM_LIT_NULL) ||
		(f->op == SCIM_OP_EQ && f->lit_kind == SCIM_LIT_NULL);

	return attr_positive(ev, f, root, elem) != negate;
}

static bool
eval_value_path(Eval *ev, const ScimFilter *f, const ScimValue *root)
{
	ScimValue	base;

	if (f->absent)
		return false;
	get_base(ev, &f->rpath, root, &base);
	if (!f->rpath.attr->multi_valued)
		return base.kind == SCIM_JSON_OBJECT && eval(ev, f->left, root, &base);
	if (base.kind == SCIM_JSON_ARRAY)
	{
		int			n = ev->ops->size(ev->ctx, &base);

		for (int i = 0; i < n; i++)
		{
			ScimValue	e;

			ev->ops->element(ev->ctx, &base, i, &e);
			if (eval(ev, f->left, root, &e))
				return true;
		}
	}
	return false;
}

static bool
eval(Eval *ev, const ScimFilter *f, const ScimValue *root, const ScimValue *elem)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
			return eval(ev, f->left, root, elem) && eval(ev, f->right, root, elem);
		case SCIM_F_OR:
			return eval(ev, f->left, root, elem) || eval(ev, f->right, root, elem);
		case SCIM_F_NOT:
			return !eval(ev, f->left, root, elem);
		case SCIM_F_ATTR:
			return eval_attr(ev, f, root, elem);
		case SCIM_F_VALUE_PATH:
			return eval_value_path(ev, f, root);
	}
	return false;
}

/* Does the resource match the (resolved and prepared) filter? */
bool
ScimFilterEval(const ScimFilter *f, const ScimValue *resource, const ScimValueOps *ops, void *ctx)
{
	Eval		ev = {ops, ctx};

	return eval(&ev, f, resource, NULL);
}

/*
 * Does one element of a multi-valued attribute satisfy the bracket of a
 * value path (SCIM_F_VALUE_PATH)?  PATCH uses this to pick its targets.
 */
bool
ScimFilterEvalElement(const ScimFilter *value_path, const ScimValue *element,
					  const ScimValueOps *ops, void *ctx)
{
	Eval		ev = {ops, ctx};

	return eval(&ev, value_path->left, NULL, element);
}
