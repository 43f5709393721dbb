/*
 * filter_resolve.c
 *		Bind a parsed filter to a resource type's schema: canonical names,
 *		the implicit "value" sub-attribute, and operator/type checks.
 *
 * Everything a filter may not mean is refused here with invalidFilter
 * (RFC 7644 §3.12: "the specified attribute and filter comparison
 * combination is not supported"), never silently dropped: a dropped clause
 * broadens the result, and an identity provider then creates duplicates.
 *
 * Attributes that are never returned (a password) are never filtered or
 * sorted on either: a filter that names one answers yes or no about its
 * value, one guess per request, which is the value returned after all.
 */
#include "filter.h"

#include <stdio.h>
#include <string.h>

#include "datetime.h"

typedef struct Resolver
{
	const ScimRegistry *reg;
	const ScimResourceType *type;
	const char *text;
	int			flags;			/* SCIM_RESOLVE_* */
	ScimError  *err;
} Resolver;

/* Record an invalidFilter error at a node, with the position in the detail. */
static bool
fail(Resolver *r, int offset, const char *detail)
{
	int			pos = ScimCharPosition(r->text, offset);
	size_t		used = strlen(r->err->message);

	r->err->offset = pos;
	snprintf(r->err->message + used, sizeof(r->err->message) - used, " (character %d)", pos);
	if (detail != NULL)
		ScimErrorDetail(r->err, "%s", detail);
	return false;
}

/* Name of the attribute a node compares, for messages: "emails.value". */
static void
target_name(const ScimFilter *f, char *buf, size_t len)
{
	if (f->rpath.sub != NULL)
		snprintf(buf, len, "%s.%s", f->rpath.attr->name, f->rpath.sub->name);
	else
		snprintf(buf, len, "%s", f->rpath.attr->name);
}

/* Check that the operator and literal suit the attribute's type. */
static bool
check_operand(Resolver *r, ScimFilter *f)
{
	const ScimAttr *t = f->rpath.sub ? f->rpath.sub : f->rpath.attr;
	char		name[300];

#define NAME() (target_name(f, name, sizeof(name)), name)
	const char *op = ScimFilterOpName(f->op);
	bool		ordering = f->op == SCIM_OP_GT || f->op == SCIM_OP_GE ||
		f->op == SCIM_OP_LT || f->op == SCIM_OP_LE;
	bool		substring = f->op == SCIM_OP_CO || f->op == SCIM_OP_SW || f->op == SCIM_OP_EW;

	/* the name is formatted only for a message: this runs for every node */
	if (f->op == SCIM_OP_PR)
		return true;
	if (f->lit_kind == SCIM_LIT_NULL)
	{
		if (f->op == SCIM_OP_EQ || f->op == SCIM_OP_NE)
			return true;
		ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
					 "operator \"%s\" cannot compare attribute \"%s\" with null", op, NAME());
		return fail(r, f->lit_offset, "Only eq null (absent) and ne null (present) are meaningful; use pr to test presence.");
	}

	switch (t->type)
	{
		case SCIM_TYPE_STRING:
		case SCIM_TYPE_REFERENCE:
		case SCIM_TYPE_BINARY:
			if (f->lit_kind != SCIM_LIT_STRING)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "attribute \"%s\" is of type %s and must be compared with a string",
							 NAME(), ScimAttrTypeName(t->type));
				return fail(r, f->lit_offset, "Write string values in double quotes, e.g. \"42\".");
			}
			if (t->type == SCIM_TYPE_BINARY && ordering)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "operator \"%s\" cannot be applied to binary attribute \"%s\"", op, NAME());
				return fail(r, f->offset, "RFC 7644 §3.4.2.2: binary attributes have no order; gt, ge, lt and le fail on them.");
			}
			return true;

		case SCIM_TYPE_BOOLEAN:
			if (ordering || substring)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "operator \"%s\" cannot be applied to boolean attribute \"%s\"", op, NAME());
				return fail(r, f->offset, "Boolean attributes support only eq, ne and pr (RFC 7644 §3.4.2.2).");
			}
			/* Entra ID writes booleans as "True"/"False" strings */
			if (f->lit_kind == SCIM_LIT_STRING)
			{
				if (ScimStrCaseEq(f->lit, f->lit_len, "true", 4))
					f->lit_kind = SCIM_LIT_TRUE;
				else if (ScimStrCaseEq(f->lit, f->lit_len, "false", 5))
					f->lit_kind = SCIM_LIT_FALSE;
			}
			if (f->lit_kind != SCIM_LIT_TRUE && f->lit_kind != SCIM_LIT_FALSE)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "attribute \"%s\" is boolean and must be compared with true or false", NAME());
				return fail(r, f->lit_offset, NULL);
			}
			return true;

		case SCIM_TYPE_INTEGER:
		case SCIM_TYPE_DECIMAL:
			if (substring)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "operator \"%s\" cannot be applied to %s attribute \"%s\"",
							 op, ScimAttrTypeName(t->type), NAME());
				return fail(r, f->offset, "Numbers support eq, ne, gt, ge, lt, le and pr.");
			}
			if (f->lit_kind != SCIM_LIT_NUMBER)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "attribute \"%s\" is of type %s and must be compared with a number",
							 NAME(), ScimAttrTypeName(t->type));
				return fail(r, f->lit_offset, "Write numbers without quotes, e.g. 42 or 1.5.");
			}
			return true;

		case SCIM_TYPE_DATETIME:
			if (substring)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "operator \"%s\" cannot be applied to dateTime attribute \"%s\"", op, NAME());
				return fail(r, f->offset, "DateTime values are compared as instants with eq, ne, gt, ge, lt, le and pr.");
			}
			if (f->lit_kind != SCIM_LIT_STRING ||
				!ScimParseDateTime(f->lit, f->lit_len, &f->instant))
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "attribute \"%s\" is a dateTime and must be compared with an xsd:dateTime string", NAME());
				return fail(r, f->lit_offset, "Write instants like \"2011-05-13T04:42:34Z\" or \"2011-05-13T06:42:34.5+02:00\".");
			}
			return true;

		case SCIM_TYPE_COMPLEX:
			break;
	}
	ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
				 "complex attribute \"%s\" cannot be compared with \"%s\"", NAME(), op);
	return fail(r, f->offset, "Compare one of its sub-attributes, or test it with pr.");
}
#undef NAME

/* Refuse path p for "use" (ScimPathFilterable), out of the way of the common case. */
static __attribute__((noinline)) bool
refuse_unfilterable(const ScimPath *p, ScimErrorKind kind, const char *use, ScimError *err)
{
	if (p->sub != NULL)
		ScimErrorSet(err, kind, 0, "attribute \"%s.%s\" cannot be %s", p->attr->name, p->sub->name, use);
	else
		ScimErrorSet(err, kind, 0, "attribute \"%s\" cannot be %s", p->attr->name, use);
	ScimErrorDetail(err, "Attributes that are never returned, such as passwords, cannot be filtered or sorted on.");
	return false;
}

/*
 * May path p be filtered or sorted on?  Not if its attribute or
 * sub-attribute is "returned": "never" (RFC 7643 §2.2), whatever schema
 * defines it.  "use" completes the message: "used in a filter", "sorted by".
 * On refusal err gets kind and the message.
 */
bool
ScimPathFilterable(const ScimPath *p, ScimErrorKind kind, const char *use, ScimError *err)
{
	if (p->attr->returned != SCIM_RET_NEVER && (p->sub == NULL || p->sub->returned != SCIM_RET_NEVER))
		return true;
	return refuse_unfilterable(p, kind, use, err);
}

/*
 * SCIM_RESOLVE_ROOT: does a resource type other than the resolver's have
 * the path?  Then the path names an attribute this type lacks, which has
 * no value here (RFC 7644 §3.4.2) rather than being an error.
 */
static bool
known_elsewhere(Resolver *r, const ScimFilter *f)
{
	ScimError	ignored;
	ScimPath	p;

	if (!(r->flags & SCIM_RESOLVE_ROOT))
		return false;
	for (int i = 0; i < r->reg->n_types; i++)
		if (r->reg->types[i] != r->type &&
			ScimResolvePath(r->reg, r->reg->types[i], f->path, f->path_len, &p, &ignored,
							SCIM_ERR_INVALID_FILTER, 0))
			return true;
	return false;
}

/* Is path p a Group's members or a User's groups (SCIM_RESOLVE_STORE)? */
static ScimMembership
membership_of(const Resolver *r, const ScimPath *p)
{
	const char *schema;

	if (!(r->flags & SCIM_RESOLVE_STORE) || p->extension != NULL || p->attr->schema == NULL)
		return SCIM_MEMBERSHIP_NONE;
	schema = p->attr->schema->id;
	if (strcmp(schema, "urn:ietf:params:scim:schemas:core:2.0:Group") == 0 &&
		strcmp(p->attr->name, "members") == 0)
		return SCIM_MEMBERSHIP_MEMBERS;
	if (strcmp(schema, "urn:ietf:params:scim:schemas:core:2.0:User") == 0 &&
		strcmp(p->attr->name, "groups") == 0)
		return SCIM_MEMBERSHIP_GROUPS;
	return SCIM_MEMBERSHIP_NONE;
}

/*
 * A comparison on membership: the store answers eq and ne on the id
 * ("value", also implicitly: members eq "id"), and pr, from the indexes of
 * scim.group_members, and a Group member's type (User or Group) with eq,
 * ne and pr.  Other sub-attributes (display, $ref) and operators (co, sw,
 * gt ...) are refused, never answered with nothing: display and $ref are
 * not what the table holds, and a substring test could use no index.
 */
static bool
check_membership(Resolver *r, ScimFilter *f, ScimMembership m)
{
	const char *name = f->rpath.attr->name;
	/* in the message too: the handler's Error document carries the message alone */
	const char *how = m == SCIM_MEMBERSHIP_MEMBERS ?
		"a group's members are filtered by id (members.value) or type (members.type) with eq, ne or pr" :
		"a user's groups are filtered by group id (groups.value) with eq, ne or pr";
	const char *detail = m == SCIM_MEMBERSHIP_MEMBERS ?
		"Write members.value eq \"<id>\" (or members eq \"<id>\", members[value eq \"<id>\"]), members.value ne \"<id>\", members[type eq \"Group\" and value eq \"<id>\"], or members pr." :
		"Write groups.value eq \"<id>\" (or groups eq \"<id>\", groups[value eq \"<id>\"]), groups.value ne \"<id>\", or groups pr.";
	bool		type = m == SCIM_MEMBERSHIP_MEMBERS && f->rpath.sub != NULL &&
		strcmp(f->rpath.sub->name, "type") == 0;

	f->membership = m;
	if (f->rpath.sub != NULL && strcmp(f->rpath.sub->name, "value") != 0 && !type)
	{
		ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
					 "filter on \"%s.%s\" is not supported: %s", name, f->rpath.sub->name, how);
		return fail(r, f->offset, detail);
	}
	if (f->op != SCIM_OP_EQ && f->op != SCIM_OP_NE && f->op != SCIM_OP_PR)
	{
		ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
					 "operator \"%s\" is not supported on \"%s.%s\": %s",
					 ScimFilterOpName(f->op), name, type ? "type" : "value", how);
		return fail(r, f->offset, detail);
	}
	return true;
}

/* Resolve an attribute expression outside or inside brackets. */
static bool
resolve_attr(Resolver *r, ScimFilter *f, const ScimFilter *bracket)
{
	if (bracket == NULL)
	{
		if (!ScimResolvePath(r->reg, r->type, f->path, f->path_len, &f->rpath, r->err,
							 SCIM_ERR_INVALID_FILTER, 0))
		{
			if (!known_elsewhere(r, f))
				return fail(r, f->offset, NULL);
			ScimErrorClear(r->err);
			f->absent = true;
			return true;
		}
	}
	else
	{
		const ScimAttr *sub = ScimAttrFindSub(bracket->rpath.attr, f->path, f->path_len);

		if (sub == NULL)
		{
			ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
						 "unknown attribute \"%s.%.*s\" in filter",
						 bracket->rpath.attr->name, (int) f->path_len, f->path);
			ScimErrorDetail(r->err, "Attribute \"%s\" has no sub-attribute \"%.*s\".",
							bracket->rpath.attr->name, (int) f->path_len, f->path);
			return fail(r, f->offset, NULL);
		}
		f->rpath = bracket->rpath;
		f->rpath.sub = sub;
		f->in_bracket = true;
	}

	/* "emails co x" compares emails.value (RFC 7644 §3.4.2.2) */
	if (f->rpath.sub == NULL && f->rpath.attr->type == SCIM_TYPE_COMPLEX && f->op != SCIM_OP_PR)
	{
		const ScimAttr *value = ScimAttrFindSub(f->rpath.attr, "value", 5);

		if (value == NULL)
		{
			ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
						 "complex attribute \"%s\" cannot be compared with \"%s\"",
						 f->rpath.attr->name, ScimFilterOpName(f->op));
			return fail(r, f->offset, "It has no \"value\" sub-attribute to compare implicitly; name a sub-attribute, or test it with pr.");
		}
		f->rpath.sub = value;
	}
	if (!ScimPathFilterable(&f->rpath, SCIM_ERR_INVALID_FILTER, "used in a filter", r->err))
		return fail(r, f->offset, NULL);
	f->resolved = true;
	if (!check_operand(r, f))
		return false;
	if (bracket != NULL && bracket->membership != SCIM_MEMBERSHIP_NONE)
		return check_membership(r, f, bracket->membership);
	if (bracket == NULL && membership_of(r, &f->rpath) != SCIM_MEMBERSHIP_NONE)
		return check_membership(r, f, membership_of(r, &f->rpath));
	return true;
}

static bool
resolve(Resolver *r, ScimFilter *f, const ScimFilter *bracket)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
		case SCIM_F_OR:
			return resolve(r, f->left, bracket) && resolve(r, f->right, bracket);
		case SCIM_F_NOT:
			return resolve(r, f->left, bracket);
		case SCIM_F_ATTR:
			return resolve_attr(r, f, bracket);
		case SCIM_F_VALUE_PATH:
			if (!ScimResolvePath(r->reg, r->type, f->path, f->path_len, &f->rpath, r->err,
								 SCIM_ERR_INVALID_FILTER, 0))
			{
				if (!known_elsewhere(r, f))
					return fail(r, f->offset, NULL);
				/* its bracket is not read: the attribute has no element here */
				ScimErrorClear(r->err);
				f->absent = true;
				return true;
			}
			if (!ScimPathFilterable(&f->rpath, SCIM_ERR_INVALID_FILTER, "used in a filter", r->err))
				return fail(r, f->offset, NULL);
			if (f->rpath.sub != NULL || f->rpath.attr->type != SCIM_TYPE_COMPLEX)
			{
				ScimErrorSet(r->err, SCIM_ERR_INVALID_FILTER, 0,
							 "attribute \"%.*s\" cannot take a value filter",
							 (int) f->path_len, f->path);
				return fail(r, f->offset, "A value filter \"[...]\" applies to complex attributes such as emails or members.");
			}
			f->resolved = true;
			f->membership = membership_of(r, &f->rpath);
			return resolve(r, f->left, f);
	}
	return false;
}

/*
 * Bind every path of f to resource type "type" of registry "reg".  "text" is
 * the filter text as parsed, for positions in messages.
 */
bool
ScimFilterResolve(ScimFilter *f, const ScimRegistry *reg, const ScimResourceType *type,
				  const char *text, ScimError *err)
{
	return ScimFilterResolveFor(f, reg, type, text, 0, err);
}

/* ScimFilterResolve, for a root search or the store as flags (SCIM_RESOLVE_*) say. */
bool
ScimFilterResolveFor(ScimFilter *f, const ScimRegistry *reg, const ScimResourceType *type,
					 const char *text, int flags, ScimError *err)
{
	Resolver	r = {reg, type, text, flags, err};

	ScimErrorClear(err);
	return resolve(&r, f, NULL);
}
