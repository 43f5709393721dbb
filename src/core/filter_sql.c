/*
 * filter_sql.c
 *		Translate a resolved filter into one SQL boolean expression over a
 *		jsonb column.
 *
 * Rules that keep the output safe and exact:
 *   - every literal and every JSON key goes through ScimSqlQuoteLiteral;
 *     the column expression arrives already quoted by the caller;
 *   - the output is always one parenthesised boolean expression, whatever
 *     the input (the fuzz target checks this);
 *   - case-insensitive comparisons are written lower(x) = lower('lit'), so
 *     that lower() is the same function on both sides, PostgreSQL folds the
 *     constant side at plan time, and an index on lower(data->>'userName')
 *     applies;
 *   - under "not" and "ne" the operand is wrapped in COALESCE(..., false):
 *     an absent attribute makes a comparison NULL, and NOT NULL is NULL,
 *     which would drop rows that "not" must keep (two-valued logic);
 *   - "eq" on a string sub-attribute of a multi-valued attribute is written
 *     as array containment over scim.values()/scim.values_lower(), which a
 *     GIN expression index answers; value filters add the same containment
 *     as a redundant conjunct in front of their EXISTS for the same reason.
 *
 * filter_eval.c implements the same meaning on a single resource; the
 * property test checks that the two agree.
 */
#include "filter.h"

#include <string.h>

#include "datetime.h"
#include "filter_sql_gen.h"

/*
 * Append a SQL string literal.  Like PostgreSQL's quote_literal(), a value
 * with backslashes becomes an E'' literal so that the result means the same
 * whatever standard_conforming_strings says.
 */
void
ScimSqlQuoteLiteral(ScimBuf *out, const char *s, size_t len)
{
	bool		backslash = memchr(s, '\\', len) != NULL;
	size_t		run = 0;

	if (backslash)
		ScimBufAppendChar(out, 'E');
	ScimBufAppendChar(out, '\'');
	/* copy runs that need no doubling in one piece */
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] != '\'' && s[i] != '\\')
			continue;
		ScimBufAppend(out, s + run, i + 1 - run);
		ScimBufAppendChar(out, s[i]);
		run = i + 1;
	}
	ScimBufAppend(out, s + run, len - run);
	ScimBufAppendChar(out, '\'');
}

static void
quote_str(SqlGen *g, const char *s)
{
	ScimSqlQuoteLiteral(g->out, s, strlen(s));
}

/* The jsonb object that holds a top-level attribute: the column or its extension. */
static void
emit_container(SqlGen *g, const ScimPath *p)
{
	ScimBufAppendStr(g->out, g->column);
	if (p->extension != NULL)
	{
		ScimBufAppendStr(g->out, "->");
		quote_str(g, p->extension->id);
	}
}

/* The jsonb value of a top-level attribute. */
static void
emit_base(SqlGen *g, const ScimPath *p)
{
	emit_container(g, p);
	ScimBufAppendStr(g->out, "->");
	quote_str(g, p->attr->name);
}

/*
 * The compared value as jsonb (json=true) or as text with ->> semantics.
 * elem is the element expression inside EXISTS or a value filter, or NULL
 * for a single-valued attribute read from the resource itself.
 */
static void
emit_value(SqlGen *g, const ScimFilter *f, const char *elem, bool json)
{
	const ScimAttr *sub = f->rpath.sub;

	if (elem != NULL)
	{
		ScimBufAppendStr(g->out, elem);
		if (sub != NULL)
		{
			ScimBufAppendStr(g->out, json ? "->" : "->>");
			quote_str(g, sub->name);
		}
		else if (!json)
			ScimBufAppendStr(g->out, " #>> '{}'");
		return;
	}
	if (sub != NULL)
	{
		emit_base(g, &f->rpath);
		ScimBufAppendStr(g->out, json ? "->" : "->>");
		quote_str(g, sub->name);
	}
	else
	{
		emit_container(g, &f->rpath);
		ScimBufAppendStr(g->out, json ? "->" : "->>");
		quote_str(g, f->rpath.attr->name);
	}
}

/* The attribute a node compares: its sub-attribute or the attribute itself. */
static const ScimAttr *
target(const ScimFilter *f)
{
	return f->rpath.sub ? f->rpath.sub : f->rpath.attr;
}

/* Presence (RFC 7643 §2.5): not absent, null, "", [] or {}. */
static void
emit_present(SqlGen *g, const ScimFilter *f, const char *elem)
{
	ScimBufAppendChar(g->out, '(');
	emit_value(g, f, elem, true);
	ScimBufAppendStr(g->out, " NOT IN ('null', '\"\"', '[]', '{}'))");
}

/*
 * Append a LIKE pattern literal: the value between the wildcards, with %,
 * _ and \ escaped by a backslash.  Any backslash makes it an E'' literal,
 * where each backslash is written twice.
 */
static void
emit_like_pattern(SqlGen *g, const ScimFilter *f)
{
	ScimBuf    *o = g->out;
	bool		special = false;

	for (size_t i = 0; i < f->lit_len && !special; i++)
		special = f->lit[i] == '%' || f->lit[i] == '_' || f->lit[i] == '\\';
	if (special)
		ScimBufAppendChar(o, 'E');
	ScimBufAppendChar(o, '\'');
	if (f->op != SCIM_OP_SW)
		ScimBufAppendChar(o, '%');
	for (size_t i = 0; i < f->lit_len; i++)
	{
		char		c = f->lit[i];

		if (c == '%' || c == '_' || c == '\\')
			ScimBufAppend(o, "\\\\", 2);	/* LIKE's escape, written as \\ */
		if (c == '\\' || c == '\'')
			ScimBufAppendChar(o, c);	/* doubled: \\ or '' */
		ScimBufAppendChar(o, c);
	}
	if (f->op != SCIM_OP_EW)
		ScimBufAppendChar(o, '%');
	ScimBufAppendChar(o, '\'');
}

static const char *
sql_op(ScimFilterOp op)
{
	switch (op)
	{
		case SCIM_OP_GT:
			return " > ";
		case SCIM_OP_GE:
			return " >= ";
		case SCIM_OP_LT:
			return " < ";
		case SCIM_OP_LE:
			return " <= ";
		default:
			return " = ";
	}
}

/*
 * A positive comparison (eq co sw ew gt ge lt le) of one value.  May be NULL
 * when the value is absent; callers in negative positions coalesce.
 */
static void
emit_compare(SqlGen *g, const ScimFilter *f, const char *elem)
{
	const ScimAttr *t = target(f);
	ScimBuf    *o = g->out;
	bool		like = f->op == SCIM_OP_CO || f->op == SCIM_OP_SW || f->op == SCIM_OP_EW;
	bool		ordering = f->op >= SCIM_OP_GT && f->op <= SCIM_OP_LE;
	char		id[37];

	ScimBufAppendChar(o, '(');
	if (g->alias != NULL && elem == NULL && ScimSqlStoreIdEq(f, id))
	{
		/* the store's id column, its primary key, besides the document's id */
		ScimBufAppendStr(o, g->alias);
		ScimBufAppendStr(o, ".id = ");
		quote_str(g, id);
		ScimBufAppendStr(o, "::uuid AND ");
	}
	switch (t->type)
	{
		case SCIM_TYPE_STRING:
		case SCIM_TYPE_REFERENCE:
		case SCIM_TYPE_BINARY:
			if (g->alias != NULL && elem == NULL && f->rpath.sub == NULL && f->rpath.extension == NULL)
			{
				/*
				 * The store's keys: the same text, LEAKPROOF, and the
				 * expressions of its indexes (userName, displayName,
				 * externalId), so that a lookup within a larger filter is
				 * an index scan under row-level security too.
				 */
				ScimBufAppendStr(o, t->case_exact ? "scim.key(" : "scim.key_lower(");
				ScimBufAppendStr(o, g->column);
				ScimBufAppendStr(o, ", ");
				quote_str(g, f->rpath.attr->name);
				ScimBufAppendChar(o, ')');
			}
			else
			{
				/* parenthesised: COLLATE binds tighter than ->> */
				ScimBufAppendStr(o, t->case_exact ? "(" : "lower(");
				emit_value(g, f, elem, false);
				ScimBufAppendChar(o, ')');
			}
			if (ordering)
				ScimBufAppendStr(o, " COLLATE \"C\"");
			ScimBufAppendStr(o, like ? " LIKE " : sql_op(f->op));
			if (!t->case_exact)
				ScimBufAppendStr(o, "lower(");
			if (like)
				emit_like_pattern(g, f);
			else
				ScimSqlQuoteLiteral(o, f->lit, f->lit_len);
			if (!t->case_exact)
				ScimBufAppendChar(o, ')');
			break;

		case SCIM_TYPE_BOOLEAN:
			emit_value(g, f, elem, true);
			ScimBufAppendStr(o, f->lit_kind == SCIM_LIT_TRUE ? " = 'true'::jsonb" : " = 'false'::jsonb");
			break;

		case SCIM_TYPE_INTEGER:
		case SCIM_TYPE_DECIMAL:
			/* jsonb compares numbers numerically and never equals another type */
			if (ordering)
			{
				ScimBufAppendStr(o, "jsonb_typeof(");
				emit_value(g, f, elem, true);
				ScimBufAppendStr(o, ") = 'number' AND ");
			}
			emit_value(g, f, elem, true);
			ScimBufAppendStr(o, sql_op(f->op));
			ScimSqlQuoteLiteral(o, f->lit, f->lit_len);
			ScimBufAppendStr(o, "::jsonb");
			break;

		case SCIM_TYPE_DATETIME:
			{
				char		ts[40];
				int			n = ScimFormatDateTime(f->instant, ts, sizeof(ts));

				ScimBufAppendStr(o, "scim.instant(");
				emit_value(g, f, elem, false);
				ScimBufAppendChar(o, ')');
				ScimBufAppendStr(o, sql_op(f->op));
				if (n < 0)
					o->oom = true;	/* cannot happen: the resolver parsed it */
				else
					ScimSqlQuoteLiteral(o, ts, (size_t) n);
				ScimBufAppendStr(o, "::timestamptz");
				break;
			}

		case SCIM_TYPE_COMPLEX:
			/* the resolver never lets a complex target reach a comparison */
			ScimBufAppendStr(o, "false");
			break;
	}
	ScimBufAppendChar(o, ')');
}

/* Is f an eq on a string-like value that array containment can answer? */
static bool
containment_eq(const ScimFilter *f)
{
	const ScimAttr *t;

	if (f->kind != SCIM_F_ATTR || f->op != SCIM_OP_EQ || f->lit_kind != SCIM_LIT_STRING)
		return false;
	t = target(f);
	return t->type == SCIM_TYPE_STRING || t->type == SCIM_TYPE_REFERENCE ||
		t->type == SCIM_TYPE_BINARY;
}

/* scim.values[_lower](base, 'sub') @> ARRAY[lit]: any element's value equals lit. */
static void
emit_containment(SqlGen *g, const ScimFilter *f)
{
	const ScimAttr *t = target(f);
	ScimBuf    *o = g->out;

	ScimBufAppendStr(o, t->case_exact ? "(scim.values(" : "(scim.values_lower(");
	emit_base(g, &f->rpath);
	ScimBufAppendStr(o, ", ");
	if (f->rpath.sub != NULL)
		quote_str(g, f->rpath.sub->name);
	else
		ScimBufAppendStr(o, "NULL");
	ScimBufAppendStr(o, t->case_exact ? ") @> ARRAY[" : ") @> ARRAY[lower(");
	ScimSqlQuoteLiteral(o, f->lit, f->lit_len);
	ScimBufAppendStr(o, t->case_exact ? "])" : ")])");
}

/* EXISTS over the elements of a multi-valued attribute, as "v". */
static void
emit_exists_open(SqlGen *g, const ScimPath *p)
{
	ScimBufAppendStr(g->out, "EXISTS (SELECT 1 FROM scim.elements(");
	emit_base(g, p);
	ScimBufAppendStr(g->out, ") AS e(v) WHERE ");
}

static void emit(SqlGen *g, const ScimFilter *f, const char *elem);

/* Wrap a possibly-NULL expression so that it is false instead. */
static void
emit_not(SqlGen *g, const ScimFilter *f, const char *elem, void (*inner) (SqlGen *, const ScimFilter *, const char *))
{
	ScimBufAppendStr(g->out, "(NOT COALESCE(");
	inner(g, f, elem);
	ScimBufAppendStr(g->out, ", false))");
}

/* The positive form of an attribute expression: pr, or eq and friends. */
static void
emit_attr_positive(SqlGen *g, const ScimFilter *f, const char *elem)
{
	bool		multi;
	bool		present = f->op == SCIM_OP_PR || f->lit_kind == SCIM_LIT_NULL;

	/* an attribute this resource type lacks has no value (SCIM_RESOLVE_ROOT) */
	if (f->absent)
	{
		ScimBufAppendStr(g->out, "(false)");
		return;
	}
	multi = elem == NULL && f->rpath.attr->multi_valued;
	if (f->membership != SCIM_MEMBERSHIP_NONE && g->alias != NULL)
	{
		ScimSqlEmitMembership(g, f, elem);
		return;
	}
	if (multi && !present && containment_eq(f))
	{
		emit_containment(g, f);
		return;
	}
	if (multi)
	{
		/* parenthesised like every other atom: the output is one (...) */
		ScimBufAppendChar(g->out, '(');
		emit_exists_open(g, &f->rpath);
		if (present)
			emit_present(g, f, "v");
		else
			emit_compare(g, f, "v");
		ScimBufAppendStr(g->out, "))");
		return;
	}
	if (present)
		emit_present(g, f, elem);
	else
		emit_compare(g, f, elem);
}

/* An attribute expression, with ne and eq null expressed through negation. */
static void
emit_attr(SqlGen *g, const ScimFilter *f, const char *elem)
{
	if (f->op == SCIM_OP_PR || (f->op == SCIM_OP_NE && f->lit_kind == SCIM_LIT_NULL))
		emit_attr_positive(g, f, elem);
	else if (f->op == SCIM_OP_NE || (f->op == SCIM_OP_EQ && f->lit_kind == SCIM_LIT_NULL))
		emit_not(g, f, elem, emit_attr_positive);
	else
		emit_attr_positive(g, f, elem);
}

/* Containment hints from the top-level conjuncts of a value filter. */
static void
emit_hints(SqlGen *g, const ScimFilter *f)
{
	if (f->kind == SCIM_F_AND)
	{
		emit_hints(g, f->left);
		emit_hints(g, f->right);
	}
	else if (containment_eq(f) && f->rpath.sub != NULL && strcmp(f->rpath.sub->name, "value") == 0)
	{
		/*
		 * Only "value": that is what scim.index_ddl() indexes (emails.value,
		 * members.value).  A hint on an unindexed sub-attribute such as type
		 * made sequential scans half again slower and bought nothing.
		 */
		emit_containment(g, f);
		ScimBufAppendStr(g->out, " AND ");
	}
}

static void
emit_value_path(SqlGen *g, const ScimFilter *f)
{
	ScimBuf    *o = g->out;

	if (f->absent)
	{
		ScimBufAppendStr(o, "(false)");
		return;
	}
	if (f->membership != SCIM_MEMBERSHIP_NONE && g->alias != NULL)
	{
		ScimSqlEmitMembershipPath(g, f);
		return;
	}
	ScimBufAppendChar(o, '(');
	if (f->rpath.attr->multi_valued)
	{
		emit_hints(g, f->left);
		emit_exists_open(g, &f->rpath);
		emit(g, f->left, "v");
		ScimBufAppendChar(o, ')');
	}
	else
	{
		/* a single-valued complex attribute is its own one element */
		ScimBuf		base;

		ScimBufInit(&base);
		{
			SqlGen		bg = {&base, g->column, g->alias};

			emit_base(&bg, &f->rpath);
		}
		if (base.oom)
			o->oom = true;
		else
		{
			ScimBufAppendStr(o, "jsonb_typeof(");
			ScimBufAppendStr(o, base.data);
			ScimBufAppendStr(o, ") = 'object' AND ");
			emit(g, f->left, base.data);
		}
		ScimBufFree(&base);
	}
	ScimBufAppendChar(o, ')');
}

static void
emit_node_not(SqlGen *g, const ScimFilter *f, const char *elem)
{
	emit(g, f->left, elem);
}

static void
emit(SqlGen *g, const ScimFilter *f, const char *elem)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
		case SCIM_F_OR:
			ScimBufAppendChar(g->out, '(');
			emit(g, f->left, elem);
			ScimBufAppendStr(g->out, f->kind == SCIM_F_AND ? " AND " : " OR ");
			emit(g, f->right, elem);
			ScimBufAppendChar(g->out, ')');
			break;
		case SCIM_F_NOT:
			emit_not(g, f, elem, emit_node_not);
			break;
		case SCIM_F_ATTR:
			emit_attr(g, f, elem);
			break;
		case SCIM_F_VALUE_PATH:
			emit_value_path(g, f);
			break;
	}
}

/* emit() for filter_store.c: f, with elem the element expression inside a value filter, else NULL. */
void
ScimSqlEmit(SqlGen *g, const ScimFilter *f, const char *elem)
{
	emit(g, f, elem);
}

/*
 * Append the SQL for resolved filter f over jsonb expression "column" (an
 * already-quoted SQL identifier or qualified name) to out.
 */
bool
ScimFilterToSql(const ScimFilter *f, const char *column, ScimBuf *out, ScimError *err)
{
	SqlGen		g = {out, column, NULL};

	ScimErrorClear(err);
	emit(&g, f, NULL);
	if (out->oom)
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	return true;
}

/*
 * Append the index expression that the SQL above compares for an "eq" on
 * path p, and say whether it wants GIN (array containment) or btree.  Kept
 * next to the generator so that the two cannot drift apart.
 */
bool
ScimIndexSql(const ScimPath *p, const char *column, ScimBuf *out, bool *gin, ScimError *err)
{
	ScimFilter	f;
	SqlGen		g = {out, column, NULL};
	const ScimAttr *t;

	ScimErrorClear(err);
	memset(&f, 0, sizeof(f));
	f.kind = SCIM_F_ATTR;
	f.op = SCIM_OP_EQ;
	f.rpath = *p;
	if (f.rpath.sub == NULL && f.rpath.attr->type == SCIM_TYPE_COMPLEX)
		f.rpath.sub = ScimAttrFindSub(f.rpath.attr, "value", 5);
	if (f.rpath.sub == NULL && f.rpath.attr->type == SCIM_TYPE_COMPLEX)
		return ScimErrorSet(err, SCIM_ERR_INVALID_PATH, 0,
							"complex attribute \"%s\" cannot be indexed for eq", p->attr->name);
	t = target(&f);
	*gin = f.rpath.attr->multi_valued;
	if (*gin)
	{
		if (t->type != SCIM_TYPE_STRING && t->type != SCIM_TYPE_REFERENCE && t->type != SCIM_TYPE_BINARY)
			return ScimErrorSet(err, SCIM_ERR_INVALID_PATH, 0,
								"multi-valued attribute \"%s\" can be indexed only for string values",
								p->attr->name);
		ScimBufAppendStr(out, t->case_exact ? "scim.values(" : "scim.values_lower(");
		emit_base(&g, &f.rpath);
		ScimBufAppendStr(out, ", ");
		if (f.rpath.sub != NULL)
			quote_str(&g, f.rpath.sub->name);
		else
			ScimBufAppendStr(out, "NULL");
		ScimBufAppendChar(out, ')');
	}
	else
	{
		switch (t->type)
		{
			case SCIM_TYPE_STRING:
			case SCIM_TYPE_REFERENCE:
			case SCIM_TYPE_BINARY:
				ScimBufAppendStr(out, t->case_exact ? "(" : "lower(");
				emit_value(&g, &f, NULL, false);
				ScimBufAppendChar(out, ')');
				break;
			case SCIM_TYPE_DATETIME:
				ScimBufAppendStr(out, "scim.instant(");
				emit_value(&g, &f, NULL, false);
				ScimBufAppendChar(out, ')');
				break;
			default:
				ScimBufAppendChar(out, '(');
				emit_value(&g, &f, NULL, true);
				ScimBufAppendChar(out, ')');
				break;
		}
	}
	if (out->oom)
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	return true;
}

/*
 * Append the SQL sort key for sortBy path p (RFC 7644 §3.4.2.3): strings
 * by code point, folded when not caseExact; dateTimes as instants; a
 * multi-valued attribute by its primary value, else its first.  Missing
 * values are NULL, which PostgreSQL sorts last ascending and first
 * descending, as the RFC asks.  Never-returned attributes are refused as
 * in a filter (ScimPathFilterable, invalidFilter): an order reveals what
 * a filter would.
 */
bool
ScimSortSql(const ScimPath *p, const char *column, ScimBuf *out, ScimError *err)
{
	ScimFilter	f;
	SqlGen		g = {out, column, NULL};
	const ScimAttr *t;
	const char *elem = NULL;

	ScimErrorClear(err);
	memset(&f, 0, sizeof(f));
	f.kind = SCIM_F_ATTR;
	f.rpath = *p;
	if (f.rpath.sub == NULL && f.rpath.attr->type == SCIM_TYPE_COMPLEX)
		f.rpath.sub = ScimAttrFindSub(f.rpath.attr, "value", 5);
	if (f.rpath.sub == NULL && f.rpath.attr->type == SCIM_TYPE_COMPLEX)
		return ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0,
							"complex attribute \"%s\" cannot be sorted by", p->attr->name);
	/* invalidFilter, not invalidValue: it is the filter's rule, and the same answer */
	if (!ScimPathFilterable(&f.rpath, SCIM_ERR_INVALID_FILTER, "sorted by", err))
		return false;
	t = target(&f);
	if (f.rpath.attr->multi_valued)
	{
		ScimBufAppendStr(out, "(SELECT ");
		elem = "v";
	}
	switch (t->type)
	{
		case SCIM_TYPE_STRING:
		case SCIM_TYPE_REFERENCE:
		case SCIM_TYPE_BINARY:
			ScimBufAppendStr(out, t->case_exact ? "(" : "lower(");
			emit_value(&g, &f, elem, false);
			ScimBufAppendStr(out, ") COLLATE \"C\"");
			break;
		case SCIM_TYPE_DATETIME:
			ScimBufAppendStr(out, "scim.instant(");
			emit_value(&g, &f, elem, false);
			ScimBufAppendChar(out, ')');
			break;
		default:
			emit_value(&g, &f, elem, true);
			break;
	}
	if (f.rpath.attr->multi_valued)
	{
		ScimBufAppendStr(out, " FROM jsonb_array_elements(CASE WHEN jsonb_typeof(");
		emit_base(&g, &f.rpath);
		ScimBufAppendStr(out, ") = 'array' THEN ");
		emit_base(&g, &f.rpath);
		ScimBufAppendStr(out, " END) WITH ORDINALITY AS e(v, n) ORDER BY (v->'primary' = 'true'::jsonb) DESC NULLS LAST, n LIMIT 1)");
	}
	if (out->oom)
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	return true;
}
