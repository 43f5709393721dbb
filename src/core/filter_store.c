/*
 * filter_store.c
 *		Filters as the store (scim.handle()) translates them: a Group's
 *		members and a User's groups live in scim.group_members, not in the
 *		documents, and the store's columns and LEAKPROOF keys are indexed.
 *
 * filter_resolve.c marks the membership nodes (SCIM_RESOLVE_STORE) and
 * refuses the shapes the table cannot answer; filter_sql.c writes the rest
 * as for any jsonb document and calls in here for those nodes.
 */
#include "filter.h"

#include <string.h>

#include "filter_sql_gen.h"

/*
 * A member id as scim.group_members holds it: the UUID as uuid_out()
 * writes it, from any form uuid_in() reads (upper case, braces, hyphens
 * after any group of four digits).  False when s is no UUID: then no
 * membership has it.
 */
static bool
member_id(const char *s, size_t len, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t		i = 0;
	int			n = 0;
	bool		braces = len > 0 && s[0] == '{';

	if (braces)
	{
		if (s[len - 1] != '}')
			return false;
		i = 1;
		len--;
	}
	while (n < 32)
	{
		char		c = i < len ? s[i] : '\0';
		const char *d = (c >= 'A' && c <= 'F') ? strchr(hex, c - 'A' + 'a') : (c ? strchr(hex, c) : NULL);

		if (d == NULL)
			return false;
		if (n == 8 || n == 12 || n == 16 || n == 20)
			*out++ = '-';
		*out++ = *d;
		i++;
		n++;
		/* uuid_in() takes a hyphen after each group of four digits but the last */
		if (n % 4 == 0 && n < 32 && i < len && s[i] == '-')
			i++;
	}
	*out = '\0';
	return i == len;
}

/*
 * One membership row, "scim_m", has the id compared by f (an eq, with ne
 * and eq null as its negation, or pr): a Group's member by its value, a
 * User's group by its group_id; or a Group member's type.
 */
static void
emit_membership_row(SqlGen *g, const ScimFilter *f)
{
	char		id[37];

	if (f->rpath.sub != NULL && strcmp(f->rpath.sub->name, "type") == 0)
	{
		/* a Group member's type, User or Group (caseExact false) */
		if (f->op == SCIM_OP_PR || f->lit_kind == SCIM_LIT_NULL)
			ScimBufAppendStr(g->out, "(scim_m.type IS NOT NULL)");
		else
		{
			ScimBufAppendStr(g->out, "(lower(scim_m.type) = lower(");
			ScimSqlQuoteLiteral(g->out, f->lit, f->lit_len);
			ScimBufAppendStr(g->out, "))");
		}
	}
	else if (f->op == SCIM_OP_PR || f->lit_kind == SCIM_LIT_NULL)
		ScimBufAppendStr(g->out, "(true)");
	else if (!member_id(f->lit, f->lit_len, id))
		ScimBufAppendStr(g->out, "(false)");
	else
	{
		ScimBufAppendStr(g->out, f->membership == SCIM_MEMBERSHIP_MEMBERS ?
						 "(scim_m.value = " : "(scim_m.group_id = ");
		ScimSqlQuoteLiteral(g->out, id, strlen(id));
		ScimBufAppendStr(g->out, f->membership == SCIM_MEMBERSHIP_MEMBERS ? ")" : "::uuid)");
	}
}

/*
 * EXISTS over the row's memberships: the members of a group, or the
 * groups naming a user, by the indexes (tenant, group_id, value) and
 * (tenant, value), or from a group's rows to its users by their primary
 * key.  scim.id_text() and scim.member_uuid(), not casts: they are
 * LEAKPROOF, so under row-level security the join still runs on an index
 * (src/pg/values.c).
 */
static void
emit_membership_open(SqlGen *g, ScimMembership m)
{
	ScimBuf    *o = g->out;

	ScimBufAppendStr(o, "(EXISTS (SELECT 1 FROM scim.group_members scim_m WHERE scim_m.tenant = ");
	ScimBufAppendStr(o, g->alias);
	if (m == SCIM_MEMBERSHIP_MEMBERS)
	{
		ScimBufAppendStr(o, ".tenant AND scim_m.group_id = ");
		ScimBufAppendStr(o, g->alias);
		ScimBufAppendStr(o, ".id");
		return;
	}
	/* both ways round: from the user to its rows, and from rows to their users */
	ScimBufAppendStr(o, ".tenant AND scim_m.value = scim.id_text(");
	ScimBufAppendStr(o, g->alias);
	ScimBufAppendStr(o, ".id) AND scim.member_uuid(scim_m.value) = ");
	ScimBufAppendStr(o, g->alias);
	ScimBufAppendStr(o, ".id");
}

/*
 * members eq "id", groups.value eq "id", members pr, on the membership
 * table; inside a membership value filter (elem given), on its row.
 */
void
ScimSqlEmitMembership(SqlGen *g, const ScimFilter *f, const char *elem)
{
	if (elem != NULL)
	{
		emit_membership_row(g, f);
		return;
	}
	emit_membership_open(g, f->membership);
	if ((f->op != SCIM_OP_PR && f->lit_kind != SCIM_LIT_NULL) ||
		(f->rpath.sub != NULL && strcmp(f->rpath.sub->name, "type") == 0))
	{
		ScimBufAppendStr(g->out, " AND ");
		emit_membership_row(g, f);
	}
	ScimBufAppendStr(g->out, "))");
}

/* members[...]: every condition of the bracket on the same membership row. */
void
ScimSqlEmitMembershipPath(SqlGen *g, const ScimFilter *f)
{
	emit_membership_open(g, f->membership);
	ScimBufAppendStr(g->out, " AND ");
	ScimSqlEmit(g, f->left, "scim_m");
	ScimBufAppendStr(g->out, "))");
}

/*
 * Is f "id eq" a UUID as the store writes ids (so that the row's id column
 * can be compared)?  Then id holds it.
 */
bool
ScimSqlStoreIdEq(const ScimFilter *f, char id[37])
{
	return f->op == SCIM_OP_EQ && f->rpath.sub == NULL && f->rpath.extension == NULL &&
		f->rpath.attr->schema != NULL && f->rpath.attr->schema->common &&
		strcmp(f->rpath.attr->name, "id") == 0 &&
		member_id(f->lit, f->lit_len, id) && f->lit_len == 36 && memcmp(f->lit, id, 36) == 0;
}

/*
 * Append the SQL for f, resolved with SCIM_RESOLVE_STORE, over a row of
 * the store's scim.users or scim.groups named "alias" (an already-quoted
 * identifier): its document is alias.data, and membership is read from
 * scim.group_members by alias.tenant and alias.id.
 */
bool
ScimFilterToSqlStore(const ScimFilter *f, const char *alias, ScimBuf *out, ScimError *err)
{
	ScimBuf		column;

	ScimBufInit(&column);
	ScimBufAppendStr(&column, alias);
	ScimBufAppendStr(&column, ".data");
	if (column.oom)
	{
		ScimBufFree(&column);
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	}
	{
		SqlGen		g = {out, column.data, alias};

		ScimErrorClear(err);
		ScimSqlEmit(&g, f, NULL);
	}
	ScimBufFree(&column);
	if (out->oom)
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	return true;
}
