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
 *     ignore what they do not understand in these parameters);
 *   - a multi-valued attribute with a value filter, emails[type eq "work"]
 *     (not in RFC 7644's grammar, but Microsoft's reference tests send it),
 *     names the elements the filter matches: "attributes" returns the
 *     attribute with only those (all of them when the attribute is also
 *     named without a filter), "excludedAttributes" leaves those out.  An
 *     attribute left with no element is left out.  A value filter that
 *     does not resolve, or one on an attribute that is not multi-valued,
 *     is an invalidValue error: ignoring it would drop data silently.
 * Members the schema does not know are kept by default and dropped when
 * "attributes" lists what to return.
 */
#include "projection.h"

#include <string.h>

#include "filter.h"

typedef struct ProjPath
{
	const ScimSchema *extension;	/* a whole extension ("urn:...:User") when attr is NULL */
	const ScimAttr *attr;
	const ScimAttr *sub;
	ScimFilter *filter;			/* attr[filter]: the value path, resolved */
} ProjPath;

struct ScimProjection
{
	ScimArena  *arena;
	const ScimRegistry *reg;
	const ScimResourceType *type;
	bool		has_attributes;	/* "attributes" was given */
	bool		has_filters;	/* some path has a value filter */
	ProjPath   *paths;			/* the listed or excluded paths */
	int			npaths;
};

/*
 * Parse attr[filter] (at s, len) into pp.  False with err set when it is
 * no value filter, does not resolve, or is on an attribute that is not
 * multi-valued; *ignored when its attribute is unknown (as any unknown
 * name is).
 */
static bool
add_filter(ScimProjection *p, const char *param, const char *s, size_t len, ProjPath *pp,
		   bool *ignored, ScimError *err)
{
	/* NUL-terminated for the resolver's messages, in the arena */
	char	   *text = ScimArenaStrndup(p->arena, s, len);
	ScimError	ferr;
	ScimPath	rp;
	ScimFilter *f;

	if (text == NULL)
		return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	f = ScimFilterParse(p->arena, text, len, NULL, &ferr);
	if (f != NULL && f->kind == SCIM_F_VALUE_PATH &&
		!ScimResolvePath(p->reg, p->type, f->path, f->path_len, &rp, &ferr, SCIM_ERR_INVALID_VALUE, 0))
	{
		*ignored = true;		/* unknown names are ignored */
		return true;
	}
	if (f == NULL || f->kind != SCIM_F_VALUE_PATH)
	{
		if (f != NULL)
			ScimErrorSet(&ferr, SCIM_ERR_INVALID_VALUE, 0, "a value filter is written attribute[filter]");
		ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0, "cannot use \"%s\" in %s: %s", text, param, ferr.message);
		ScimErrorDetail(err, "A value filter such as emails[type eq \"work\"] names the elements of a multi-valued attribute that the filter matches.");
		return false;
	}
	if (!ScimFilterResolve(f, p->reg, p->type, text, &ferr))
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0, "cannot use \"%s\" in %s: %s", text, param, ferr.message);
		if (ferr.detail[0] != '\0')
			ScimErrorDetail(err, "%s", ferr.detail);
		return false;
	}
	if (!f->rpath.attr->multi_valued)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_VALUE, 0,
					 "cannot use \"%s\" in %s: attribute \"%s\" is not multi-valued", text, param, f->rpath.attr->name);
		ScimErrorDetail(err, "A value filter names elements of a multi-valued attribute, such as emails[type eq \"work\"].");
		return false;
	}
	pp->extension = f->rpath.extension;
	pp->attr = f->rpath.attr;
	pp->filter = f;
	p->has_filters = true;
	return true;
}

/*
 * Add one comma-separated name to the list, if the schema knows it.
 * False with err set on a bad value filter or no memory.
 */
static bool
add_path(ScimProjection *p, const ScimRegistry *reg, const char *param, const char *s, size_t len,
		 int *cap, ScimError *err)
{
	ScimPath	rp;
	ScimError	ignored;
	ProjPath	pp = {NULL, NULL, NULL, NULL};

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return true;
	if (memchr(s, '[', len) != NULL)
	{
		bool		unknown = false;

		if (!add_filter(p, param, s, len, &pp, &unknown, err))
			return false;
		if (unknown)
			return true;
	}
	else
	{
		for (int i = 0; i < p->type->n_extensions; i++)
		{
			const ScimSchema *ext = p->type->extensions[i].schema;

			if (ScimStrCaseEq(s, len, ext->id, ext->id_len))
				pp.extension = ext;
		}
		if (pp.extension == NULL)
		{
			if (!ScimResolvePath(reg, p->type, s, len, &rp, &ignored, SCIM_ERR_INVALID_VALUE, 0))
				return true;	/* unknown names are ignored */
			pp.extension = rp.extension;
			pp.attr = rp.attr;
			pp.sub = rp.sub;
		}
	}
	if (p->npaths == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 8;
		ProjPath   *np = ScimArenaAlloc(p->arena, sizeof(ProjPath) * (size_t) ncap);

		if (np == NULL)
			return ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		if (p->npaths)
			memcpy(np, p->paths, sizeof(ProjPath) * (size_t) p->npaths);
		p->paths = np;
		*cap = ncap;
	}
	p->paths[p->npaths++] = pp;
	return true;
}

/*
 * The length of the name at s (of len bytes) up to its comma: commas
 * inside a value filter's brackets or its quoted strings are its own.
 */
static size_t
name_length(const char *s, size_t len)
{
	int			depth = 0;
	bool		quoted = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (quoted)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				quoted = false;
		}
		else if (c == '"' && depth > 0)
			quoted = true;
		else if (c == '[')
			depth++;
		else if (c == ']' && depth > 0)
			depth--;
		else if (c == ',' && depth == 0)
			return i;
	}
	return len;
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
		size_t		n = name_length(list, len);

		if (!add_path(p, reg, attributes ? "attributes" : "excludedAttributes", list, n, &cap, err))
		{
			ScimProjectionFree(p);
			return NULL;
		}
		if (n == len)
			break;
		list += n + 1;
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
	bool		filtered = false;

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
			if (pp->filter != NULL)
				filtered = true;	/* some of its elements, whole */
			else if (pp->sub == NULL)
				whole = true;
			else
				some = true;
		}
	}
	child->extension = NULL;
	child->attr = a;
	if (p->has_attributes)
	{
		if (whole || filtered)
			return a->n_sub > 0 ? SCIM_PROJ_SUBSET : SCIM_PROJ_KEEP;
		return some ? SCIM_PROJ_SUBSET : SCIM_PROJ_DROP;
	}
	if (whole || a->returned == SCIM_RET_REQUEST)
		return SCIM_PROJ_DROP;
	return (some || filtered || a->n_sub > 0) ? SCIM_PROJ_SUBSET : SCIM_PROJ_KEEP;
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
	/* has_filters first: this runs for every complex attribute of every response */
	if (p->has_attributes || (p->has_filters && ScimProjectionFiltersElements(p, attr)))
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

/*
 * Fold the literals of the value filters for ops (ScimFilterEvalPrepare),
 * before ScimProjectionKeepsElement is asked.
 */
bool
ScimProjectionPrepare(ScimProjection *p, const ScimValueOps *ops, void *ctx, ScimError *err)
{
	for (int i = 0; i < p->npaths; i++)
		if (p->paths[i].filter != NULL &&
			!ScimFilterEvalPrepare(p->paths[i].filter, p->arena, ops, ctx, err))
			return false;
	return true;
}

/*
 * Does the projection keep only some elements of multi-valued attribute
 * attr (a value filter names it, and with "attributes" nothing names it
 * without one)?  Then ask ScimProjectionKeepsElement of each.
 */
bool
ScimProjectionFiltersElements(const ScimProjection *p, const ScimAttr *attr)
{
	bool		filtered = false;

	if (!p->has_filters)
		return false;
	for (int i = 0; i < p->npaths; i++)
	{
		const ProjPath *pp = &p->paths[i];

		if (pp->attr == attr && pp->filter != NULL)
			filtered = true;
		else if (p->has_attributes &&
				 (pp->attr == attr || (pp->attr == NULL && pp->extension == attr->schema)))
			return false;		/* named without a filter too: every element */
	}
	return filtered;
}

/*
 * Is element elem of attr returned: does a value filter on attr match it
 * ("attributes"), or none ("excludedAttributes")?
 */
bool
ScimProjectionKeepsElement(const ScimProjection *p, const ScimAttr *attr, const ScimValue *elem,
						   const ScimValueOps *ops, void *ctx)
{
	for (int i = 0; i < p->npaths; i++)
	{
		const ProjPath *pp = &p->paths[i];

		if (pp->attr == attr && pp->filter != NULL &&
			ScimFilterEvalElement(pp->filter, elem, ops, ctx))
			return p->has_attributes;
	}
	return !p->has_attributes;
}
