/*
 * projection.c
 *		Which members of a resource a response carries (RFC 7644 §3.9,
 *		RFC 7643 §2.2 "returned").
 *
 *   - returned "never" (password) is never emitted, whatever was asked;
 *   - returned "always" (id, schemas) is emitted even when excluded or not
 *     listed;
 *   - with "attributes", only the listed attributes (and "always" ones)
 *     are emitted; "name.givenName" emits name with only that
 *     sub-attribute;
 *   - with "excludedAttributes", everything "default" is emitted but what
 *     is listed; returned "request" attributes appear only when listed in
 *     "attributes";
 *   - names are case-insensitive and may carry a schema URN; names the
 *     schema does not know are ignored (RFC 7644 §3.4.2 asks servers to
 *     ignore what they do not understand in these parameters).
 * Members the schema does not know are kept by default and dropped when
 * "attributes" lists what to return.
 */
#include "projection.h"

#include <string.h>

typedef struct ProjPath
{
	const ScimSchema *extension;	/* a whole extension ("urn:...:User") when attr is NULL */
	const ScimAttr *attr;
	const ScimAttr *sub;
} ProjPath;

struct ScimProjection
{
	ScimArena  *arena;
	const ScimRegistry *reg;
	const ScimResourceType *type;
	bool		has_attributes;	/* "attributes" was given */
	ProjPath   *paths;			/* the listed or excluded paths */
	int			npaths;
};

/* Add one comma-separated name to the list, if the schema knows it. */
static bool
add_path(ScimProjection *p, const ScimRegistry *reg, const char *s, size_t len, int *cap)
{
	ScimPath	rp;
	ScimError	ignored;
	ProjPath	pp = {NULL, NULL, NULL};

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return true;
	for (int i = 0; i < p->type->n_extensions; i++)
	{
		const ScimSchema *ext = p->type->extensions[i].schema;

		if (ScimStrCaseEq(s, len, ext->id, ext->id_len))
			pp.extension = ext;
	}
	if (pp.extension == NULL)
	{
		if (!ScimResolvePath(reg, p->type, s, len, &rp, &ignored, SCIM_ERR_INVALID_VALUE, 0))
			return true;		/* unknown names are ignored */
		pp.extension = rp.extension;
		pp.attr = rp.attr;
		pp.sub = rp.sub;
	}
	if (p->npaths == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 8;
		ProjPath   *np = ScimArenaAlloc(p->arena, sizeof(ProjPath) * (size_t) ncap);

		if (np == NULL)
			return false;
		if (p->npaths)
			memcpy(np, p->paths, sizeof(ProjPath) * (size_t) p->npaths);
		p->paths = np;
		*cap = ncap;
	}
	p->paths[p->npaths++] = pp;
	return true;
}

/*
 * Parse "attributes" or "excludedAttributes" (pass NULL for absent; at
 * most one of them).  Returns NULL with err set on a bad request.
 */
ScimProjection *
ScimProjectionParse(const ScimRegistry *reg, const ScimResourceType *type,
					const char *attributes, size_t attributes_len,
					const char *excluded, size_t excluded_len, ScimError *err)
{
	ScimArena  *arena;
	ScimProjection *p;
	const char *list;
	size_t		len;
	int			cap = 0;

	ScimErrorClear(err);
	if (attributes != NULL && excluded != NULL)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0,
					 "attributes and excludedAttributes cannot be given together");
		ScimErrorDetail(err, "RFC 7644 section 3.9 makes the two parameters mutually exclusive.");
		return NULL;
	}
	arena = ScimArenaCreate();
	p = arena ? ScimArenaAlloc0(arena, sizeof(ScimProjection)) : NULL;
	if (p == NULL)
	{
		ScimArenaFree(arena);
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	p->arena = arena;
	p->reg = reg;
	p->type = type;
	p->has_attributes = attributes != NULL;
	list = attributes ? attributes : excluded;
	len = attributes ? attributes_len : excluded_len;
	while (list != NULL && len > 0)
	{
		const char *comma = memchr(list, ',', len);
		size_t		n = comma ? (size_t) (comma - list) : len;

		if (!add_path(p, reg, list, n, &cap))
		{
			ScimProjectionFree(p);
			ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
			return NULL;
		}
		if (comma == NULL)
			break;
		list = comma + 1;
		len -= n + 1;
	}
	return p;
}

/* Release a projection. */
void
ScimProjectionFree(ScimProjection *p)
{
	if (p != NULL)
		ScimArenaFree(p->arena);
}

/* Does the projection keep every default member as it is (no parameters)? */
bool
ScimProjectionIsIdentity(const ScimProjection *p)
{
	return !p->has_attributes && p->npaths == 0;
}

/*
 * Would a response carry top-level attribute attr_name at all?  Lets a
 * caller skip expensive work, such as reading a group's members when
 * Entra ID asks with excludedAttributes=members.
 */
bool
ScimProjectionWants(const ScimProjection *p, const char *attr_name)
{
	const ScimAttr *a = ScimSchemaFindAttr(p->type->core, attr_name, strlen(attr_name));
	ScimProjScope root = {NULL, NULL};
	ScimProjScope child;

	if (a == NULL)
		return true;
	return ScimProjectionDecide(p, &root, a->name, a->name_len, &child) != SCIM_PROJ_DROP;
}

/* Decide on attribute a (top-level, in the core or an extension). */
static ScimProjDecision
decide_attr(const ScimProjection *p, const ScimAttr *a, ScimProjScope *child)
{
	bool		whole = false;
	bool		some = false;

	if (a->returned == SCIM_RET_NEVER)
		return SCIM_PROJ_DROP;
	if (a->returned == SCIM_RET_ALWAYS)
		return SCIM_PROJ_KEEP;
	for (int i = 0; i < p->npaths; i++)
	{
		const ProjPath *pp = &p->paths[i];

		if (pp->attr == NULL && pp->extension != NULL && pp->extension == a->schema)
			whole = true;		/* the whole extension was named */
		else if (pp->attr == a)
		{
			if (pp->sub == NULL)
				whole = true;
			else
				some = true;
		}
	}
	child->extension = NULL;
	child->attr = a;
	if (p->has_attributes)
	{
		if (whole)
			return a->n_sub > 0 ? SCIM_PROJ_SUBSET : SCIM_PROJ_KEEP;
		return some ? SCIM_PROJ_SUBSET : SCIM_PROJ_DROP;
	}
	if (whole || a->returned == SCIM_RET_REQUEST)
		return SCIM_PROJ_DROP;
	return (some || a->n_sub > 0) ? SCIM_PROJ_SUBSET : SCIM_PROJ_KEEP;
}

/* Decide on sub-attribute s of attribute a. */
static ScimProjDecision
decide_sub(const ScimProjection *p, const ScimAttr *a, const ScimAttr *s)
{
	bool		parent_whole = false;
	bool		listed = false;

	if (s->returned == SCIM_RET_NEVER)
		return SCIM_PROJ_DROP;
	if (s->returned == SCIM_RET_ALWAYS)
		return SCIM_PROJ_KEEP;
	for (int i = 0; i < p->npaths; i++)
	{
		const ProjPath *pp = &p->paths[i];

		if ((pp->attr == a && pp->sub == NULL) ||
			(pp->attr == NULL && pp->extension != NULL && pp->extension == a->schema))
			parent_whole = true;
		else if (pp->attr == a && pp->sub == s)
			listed = true;
	}
	if (p->has_attributes)
		return (parent_whole || listed) && (s->returned != SCIM_RET_REQUEST || listed) ?
			SCIM_PROJ_KEEP : SCIM_PROJ_DROP;
	return (listed || s->returned == SCIM_RET_REQUEST) ? SCIM_PROJ_DROP : SCIM_PROJ_KEEP;
}

/*
 * Does p keep every member of attr's values, sub-attributes it does not
 * know included?  Then a walk into a value (SCIM_PROJ_SUBSET) changes
 * nothing in it but to leave out objects with nothing in them, and a
 * caller that finds none may keep the value as it is.
 */
bool
ScimProjectionKeepsSubs(const ScimProjection *p, const ScimAttr *attr)
{
	if (p->has_attributes)
		return false;
	for (int i = 0; i < attr->n_sub; i++)
		if (decide_sub(p, attr, &attr->sub[i]) != SCIM_PROJ_KEEP)
			return false;
	return true;
}

/*
 * What to do with the member named key within scope: drop it, keep it as
 * it is, or walk into it with *child as the scope (for a multi-valued
 * complex attribute, into each element).
 */
ScimProjDecision
ScimProjectionDecide(const ScimProjection *p, const ScimProjScope *scope,
					 const char *key, size_t len, ScimProjScope *child)
{
	const ScimAttr *a;

	child->extension = NULL;
	child->attr = NULL;
	if (scope->attr != NULL)
	{
		const ScimAttr *s = ScimAttrFindSub(scope->attr, key, len);

		if (s == NULL)
			return p->has_attributes ? SCIM_PROJ_DROP : SCIM_PROJ_KEEP;
		return decide_sub(p, scope->attr, s);
	}
	if (scope->extension != NULL)
	{
		a = ScimSchemaFindAttr(scope->extension, key, len);
		if (a == NULL)
			return p->has_attributes ? SCIM_PROJ_DROP : SCIM_PROJ_KEEP;
		return decide_attr(p, a, child);
	}

	/* the resource itself: an extension object, a core or common attribute */
	for (int i = 0; i < p->type->n_extensions; i++)
	{
		const ScimSchema *ext = p->type->extensions[i].schema;

		if (ScimStrCaseEq(key, len, ext->id, ext->id_len))
		{
			bool		any = !p->has_attributes;

			for (int j = 0; j < p->npaths && !any; j++)
				any = p->paths[j].extension == ext;
			child->extension = ext;
			return any ? SCIM_PROJ_SUBSET : SCIM_PROJ_DROP;
		}
	}
	a = ScimSchemaFindAttr(p->type->core, key, len);
	/* the common attributes (id, externalId, meta, schemas) */
	if (a == NULL && p->reg->common != NULL)
		a = ScimSchemaFindAttr(p->reg->common, key, len);
	if (a == NULL)
		return p->has_attributes ? SCIM_PROJ_DROP : SCIM_PROJ_KEEP;
	return decide_attr(p, a, child);
}
