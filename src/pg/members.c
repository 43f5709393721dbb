/*
 * members.c
 *		A group's members, which scim.group_members holds apart from the
 *		group's document: read for the responses that show them, and
 *		written by POST, PUT and PATCH of a group, one row per member, so
 *		that adding one to a group of 100,000 is an index insert.
 */
#include "handle_int.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "jsonb_compat.h"
#include "utf8.h"

typedef enum MemberStatement
{
	MS_MEMBERS_OF,
	MS_DELETE_ALL,
	MS_DELETE_ONE,
	MS_DELETE_MATCHING,
	MS_ADD,
	MS_GROUPS_OF_USERS,
	MS_VALUE_EQ,
	MS__COUNT
} MemberStatement;

/* a user's groups as responses show them ($3 the base URL), of the users m.value */
#define GROUPS_SHOWN \
	"jsonb_agg(jsonb_build_object('value', g.id::text, 'display', g.data->>'displayName', " \
	"'type', 'direct', '$ref', $3 || '/Groups/' || g.id::text) ORDER BY g.id) "
#define GROUPS_OF \
	"FROM scim.group_members m JOIN scim.groups g ON g.tenant = m.tenant AND g.id = m.group_id " \
	"WHERE m.tenant = $1 AND "

/*
 * A member's display as responses show it (RFC 7643 section 4.2): the
 * current displayName of the user or group it is, else a user's userName,
 * whatever display the client sent when it added the member.  Joined
 * through scim.member_uuid(), which is LEAKPROOF, so that row-level
 * security leaves the joins their primary keys.
 */
#define MEMBER_ROWS \
	"FROM scim.group_members m " \
	"LEFT JOIN scim.users u ON u.tenant = m.tenant AND u.id = scim.member_uuid(m.value) " \
	"LEFT JOIN scim.groups g ON g.tenant = m.tenant AND g.id = scim.member_uuid(m.value) "
#define MEMBER_DISPLAY "coalesce(u.data->>'displayName', u.data->>'userName', g.data->>'displayName')"

/* $1 is the tenant, $2 the group, as everywhere in the handler */
static const StatementDef member_statements[MS__COUNT] = {
	/* a group's members as responses show them, in the order of their values; $3 is the base URL */
	[MS_MEMBERS_OF] = {
		"SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object("
		"'value', m.value, 'type', m.type, 'display', " MEMBER_DISPLAY ", "
		"'$ref', $3 || CASE m.type WHEN 'Group' THEN '/Groups/' ELSE '/Users/' END || m.value)) "
		"ORDER BY m.value), '[]'::jsonb) " MEMBER_ROWS
		"WHERE m.tenant = $1 AND m.group_id = $2",
	3, {UUIDOID, UUIDOID, TEXTOID}},
	[MS_DELETE_ALL] = {
		"DELETE FROM scim.group_members m WHERE m.tenant = $1 AND m.group_id = $2",
	2, {UUIDOID, UUIDOID}},
	[MS_DELETE_ONE] = {
		"DELETE FROM scim.group_members m WHERE m.tenant = $1 AND m.group_id = $2 AND m.value = $3",
	3, {UUIDOID, UUIDOID, TEXTOID}},
	/* members[<filter>]: each member tested as a group holding it alone, as shown, would be */
	[MS_DELETE_MATCHING] = {
		"DELETE FROM scim.group_members d WHERE d.tenant = $1 AND d.group_id = $2 AND (d.tenant, d.group_id, d.value) IN ("
		"SELECT m.tenant, m.group_id, m.value " MEMBER_ROWS "WHERE m.tenant = $1 AND m.group_id = $2 "
		"AND scim.matches(jsonb_build_object('members', jsonb_build_array(jsonb_strip_nulls("
		"jsonb_build_object('value', m.value, 'type', m.type, 'display', " MEMBER_DISPLAY ")))), "
		"'members[' || $3 || ']', 'Group'))",
	3, {UUIDOID, UUIDOID, TEXTOID}},
	/*
	 * One statement: what the member is (a user of the tenant, else a
	 * group, else nothing), and the row when it is something; the type, and
	 * how many rows went in (none for a member the group has).
	 */
	[MS_ADD] = {
		"WITH t AS (SELECT CASE "
		"WHEN EXISTS (SELECT 1 FROM scim.users u WHERE u.tenant = $1 AND u.id = $3::uuid) THEN 'User' "
		"WHEN EXISTS (SELECT 1 FROM scim.groups x WHERE x.tenant = $1 AND x.id = $3::uuid) THEN 'Group' "
		"END AS type), "
		"i AS (INSERT INTO scim.group_members (tenant, group_id, value, type, display) "
		"SELECT $1, $2, $3, t.type, $4 FROM t WHERE t.type IS NOT NULL "
		"ON CONFLICT ON CONSTRAINT group_members_pkey DO NOTHING RETURNING 1) "
		"SELECT t.type, (SELECT count(*) FROM i) FROM t",
	4, {UUIDOID, UUIDOID, TEXTOID, TEXTOID}},
	/* a user's groups as responses show them, NULL for none; $3 is the base URL */
	/* a user's groups (user_groups.c reads one user's) for each of the users $2 that is in a group */
	[MS_GROUPS_OF_USERS] = {
		"SELECT m.value, " GROUPS_SHOWN GROUPS_OF "m.value = ANY ($2) GROUP BY m.value",
	3, {UUIDOID, TEXTARRAYOID, TEXTOID}},
	/* a filter of members[...] that is value eq "...", by the database's own regular expressions */
	[MS_VALUE_EQ] = {"SELECT $1 ~* $2, substring($1 from $3)", 3, {TEXTOID, TEXTOID, TEXTOID}},
};

static SPIPlanPtr member_plans[MS__COUNT];

static int
run(MemberStatement st, Datum *args, const char *nulls, bool read_only, MemoryContext cxt)
{
	return ScimPgRunDef(member_statements, member_plans, st, args, nulls, read_only, cxt);
}

/* The one jsonb the last statement read, copied; NULL for SQL NULL. */
static Jsonb *
jsonb_result(void)
{
	bool		isnull;
	Datum		d = ScimPgOneValue(&isnull);

	return isnull ? NULL : DatumGetJsonbPCopy(d);
}

/*
 * The members of group gid (its id as text) as responses show them: value,
 * type, display (the member's current name) and $ref, in the order of
 * their values; [] for none.
 */
Jsonb *
ScimPgMembersOf(const Request *req, const char *gid, MemoryContext cxt)
{
	Datum		args[3];

	args[0] = req->tenant_datum;
	args[1] = DirectFunctionCall1(uuid_in, CStringGetDatum(gid));
	args[2] = CStringGetTextDatum(req->base);
	/* not read-only: a response shows the members this request wrote */
	run(MS_MEMBERS_OF, args, NULL, false, cxt);
	return jsonb_result();
}

static int
row_id_cmp(const void *a, const void *b)
{
	return strcmp((*(Row *const *) a)->id, (*(Row *const *) b)->id);
}

/*
 * The groups of users[0..n) (a page of a list) into their groups, as
 * ScimPgGroupsOf() gives them, read in one statement; the users are sorted
 * by id on the way.  Read-only: a list reads as of its count.
 */
void
ScimPgGroupsOfRows(const Request *req, Row **users, int n, MemoryContext cxt)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(n, 1));
	Datum		args[3];

	if (n == 0 || ScimPgWithoutMembers(req->tenant_datum, cxt))
		return;
	for (int i = 0; i < n; i++)
		ids[i] = CStringGetTextDatum(users[i]->id);
	args[0] = req->tenant_datum;
	args[1] = PointerGetDatum(construct_array(ids, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = CStringGetTextDatum(req->base);
	run(MS_GROUPS_OF_USERS, args, NULL, true, cxt);
	qsort(users, n, sizeof(Row *), row_id_cmp);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		bool		isnull;
		Row			key = {.id = SPI_getvalue(t, SPI_tuptable->tupdesc, 1)};
		Row		   *keyp = &key;
		Row		  **found = bsearch(&keyp, users, n, sizeof(Row *), row_id_cmp);

		if (found != NULL)
			(*found)->groups = DatumGetJsonbPCopy(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
	}
}

/*
 * A member's value as scim.group_members holds it: the id as uuid_out()
 * writes it (lower case, hyphenated) whatever case, braces or hyphens
 * uuid_in() accepts, so that one member is one row and a deleted user's or
 * group's memberships are found by its id; NULL when v is no UUID.  The
 * grammar is uuid_in()'s: 32 hex digits, a hyphen allowed after any group
 * of four, the whole in braces or not.
 */
char *
ScimPgCanonicalId(const char *v, int len)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = v;
	const char *end = v + len;
	char	   *out;
	int			k = 0;

	if (len > 0 && *p == '{')
	{
		if (end[-1] != '}')
			return NULL;
		p++;
		end--;
	}
	out = palloc(37);
	for (int group = 0; group < 8; group++)
	{
		if (group > 0 && p < end && *p == '-')
			p++;
		for (int i = 0; i < 4; i++, p++)
		{
			int			d = p < end ? ScimHexDigit(*p) : -1;

			if (d < 0)
				return NULL;
			if (k == 8 || k == 13 || k == 18 || k == 23)
				out[k++] = '-';
			out[k++] = hex[d];
		}
	}
	if (p != end)
		return NULL;
	out[k] = '\0';
	return out;
}

/* The text of member m's "value": an object's value member (as ->> gives it), a string itself; else NULL. */
static char *
member_value(const JsonbValue *m, int *len)
{
	if (m->type == jbvString)
	{
		*len = m->val.string.len;
		return pnstrdup(m->val.string.val, m->val.string.len);
	}
	if (m->type == jbvBinary && JsonContainerIsObject(m->val.binary.data))
		return ScimPgArrowText(getKeyJsonValueFromContainer(m->val.binary.data, "value", 5, NULL), len);
	return NULL;
}

/*
 * Member m of a group as a request sends it (an object with a "value", or
 * the value itself): its id as scim.group_members holds it, the value as
 * given and, when display is asked for, the display sent (NULL for none).
 * A member without a value, or whose value is no UUID, fails.
 */
void
ScimPgMemberRef(const JsonbValue *m, bool display, MemberRef *ref)
{
	int			len;

	ref->given = member_value(m, &len);
	if (ref->given == NULL)
		ScimPgFail(400, "invalidValue", "each member needs a \"value\", the id of a User or Group");
	/* never a member: not even a remove can name it */
	if ((ref->id = ScimPgCanonicalId(ref->given, len)) == NULL)
		ScimPgFail(400, "invalidValue", SCIM_MEMBER_UNKNOWN, ref->given);
	ref->display = NULL;
	if (display && m->type == jbvBinary)
		ref->display = ScimPgArrowText(getKeyJsonValueFromContainer(m->val.binary.data, "display", 7, NULL), &len);
}

/*
 * fn(m, arg) for each member m of members, one member or an array of
 * them, in order; none for NULL or JSON null.
 */
void
ScimPgEachMember(const JsonbValue *members, void (*fn) (const JsonbValue *m, void *arg), void *arg)
{
	if (members == NULL || members->type == jbvNull)
		return;
	if (members->type == jbvBinary && JsonContainerIsArray(members->val.binary.data))
	{
		ScimPgWalk	w;
		ScimPgEntry e;
		JsonbValue	m;

		ScimPgWalkInit(&w, members->val.binary.data);
		while (ScimPgWalkNext(&w, NULL, &e))
		{
			CHECK_FOR_INTERRUPTS();
			ScimPgEntryValue(&m, &e);
			fn(&m, arg);
		}
	}
	else
		fn(members, arg);
}

/* What set_member() needs besides the member, and what it tells. */
typedef struct SetMember
{
	const Request *req;
	Datum		gid;
	bool		remove;
	MemoryContext cxt;
	bool		changed;		/* the membership changed */
} SetMember;

/* Add (or with remove, take away) member m of group s->gid. */
static void
set_member(const JsonbValue *m, void *arg)
{
	SetMember  *s = (SetMember *) arg;
	MemberRef	ref;
	Datum		args[4];
	char		nulls[4] = "    ";
	bool		isnull;

	ScimPgMemberRef(m, !s->remove, &ref);
	args[0] = s->req->tenant_datum;
	args[1] = s->gid;
	args[2] = CStringGetTextDatum(ref.id);
	if (s->remove)
	{
		if (run(MS_DELETE_ONE, args, NULL, false, s->cxt) == SPI_OK_DELETE && SPI_processed > 0)
			s->changed = true;
		return;
	}
	if (ref.display != NULL)
		args[3] = CStringGetTextDatum(ref.display);
	else
		nulls[3] = 'n';
	if (run(MS_ADD, args, nulls, false, s->cxt) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "scim.handle(): could not add a member");
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		ScimPgFail(400, "invalidValue", SCIM_MEMBER_UNKNOWN, ref.given);
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) > 0)
		s->changed = true;
}

/*
 * Replace, add or remove (op) members of group gid: the membership table,
 * not the document.  members is one member or an array of them; NULL (or
 * JSON null) for none, which replace makes the group's whole membership.
 * Each member must be a User or Group of the tenant.  True if membership
 * changed.
 */
bool
ScimPgSetMembers(const Request *req, Datum gid, const char *op, const JsonbValue *members, MemoryContext cxt)
{
	SetMember	s = {req, gid, strcmp(op, "remove") == 0, cxt, false};
	Datum		args[2];

	if (strcmp(op, "replace") == 0)
	{
		args[0] = req->tenant_datum;
		args[1] = gid;
		s.changed = run(MS_DELETE_ALL, args, NULL, false, cxt) == SPI_OK_DELETE && SPI_processed > 0;
	}
	ScimPgEachMember(members, set_member, &s);
	return s.changed;
}

/*
 * Is filter (of members[<filter>]) value eq "<id>", as the expression
 * '^\s*value\s+eq\s+"[^"\\]*"\s*$' (case-insensitive) has it?  Then *id is
 * the quoted text.  Plain ASCII is read here; anything else by the
 * database's expressions, whose \s a locale may widen.
 */
static bool
value_eq(const char *f, MemoryContext cxt, char **id)
{
	const char *p = f;
	const char *start;
	Datum		args[3];
	bool		isnull;
	Datum		d;

	if (!ScimPgPlain(f))
	{
		args[0] = CStringGetTextDatum(f);
		args[1] = CStringGetTextDatum("^\\s*value\\s+eq\\s+\"[^\"\\\\]*\"\\s*$");
		args[2] = CStringGetTextDatum("\"([^\"\\\\]*)\"");
		run(MS_VALUE_EQ, args, NULL, true, cxt);
		d = ScimPgOneValue(&isnull);
		if (isnull || !DatumGetBool(d))
			return false;
		*id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		if (*id != NULL)
			*id = MemoryContextStrdup(cxt, *id);
		return true;
	}
	while (ScimPgIsSpace(*p))
		p++;
	if (pg_strncasecmp(p, "value", 5) != 0 || !ScimPgIsSpace(p[5]))
		return false;
	for (p += 5; ScimPgIsSpace(*p); p++)
		;
	if (pg_strncasecmp(p, "eq", 2) != 0 || !ScimPgIsSpace(p[2]))
		return false;
	for (p += 2; ScimPgIsSpace(*p); p++)
		;
	if (*p++ != '"')
		return false;
	for (start = p; *p != '\0' && *p != '"' && *p != '\\'; p++)
		;
	if (*p != '"')
		return false;
	*id = pnstrdup(start, p - start);
	for (p++; ScimPgIsSpace(*p); p++)
		;
	return *p == '\0';
}

/* Take away the members of group gid that members[<filter>] selects; true if any were. */
static bool
remove_matching(const Request *req, Datum gid, const char *filter, MemoryContext cxt)
{
	Datum		args[3];
	char	   *id;

	args[0] = req->tenant_datum;
	args[1] = gid;
	/*
	 * members[value eq "id"] is an index lookup (of the id in the form it is
	 * stored in: value is not caseExact); other filters test each member
	 */
	if (value_eq(filter, cxt, &id))
	{
		char	   *mid = id ? ScimPgCanonicalId(id, strlen(id)) : NULL;

		if (mid == NULL)
			return false;
		args[2] = CStringGetTextDatum(mid);
		return run(MS_DELETE_ONE, args, NULL, false, cxt) == SPI_OK_DELETE && SPI_processed > 0;
	}
	args[2] = CStringGetTextDatum(filter);
	return run(MS_DELETE_MATCHING, args, NULL, false, cxt) == SPI_OK_DELETE && SPI_processed > 0;
}

/*
 * Is path (lower-cased) members, members[...] or the same under the Group
 * schema's URN, as '^(urn:ietf:params:scim:schemas:core:2\.0:group:)?members(\[|$)' has it?
 */
static bool
members_path(const char *p)
{
	static const char urn[] = "urn:ietf:params:scim:schemas:core:2.0:group:";

	if (pg_strncasecmp(p, urn, sizeof(urn) - 1) == 0)
		p += sizeof(urn) - 1;
	return pg_strncasecmp(p, "members", 7) == 0 && (p[7] == '\0' || p[7] == '[');
}

/* The op of an operation, when it is add, remove or replace (in any case); else NULL. */
static const char *
op_kind(const char *op, int len)
{
	static const char *const kinds[] = {"add", "remove", "replace"};

	if (op == NULL)
		return NULL;
	for (int i = 0; i < lengthof(kinds); i++)
		if (ScimStrCaseEq(op, len, kinds[i], strlen(kinds[i])))
			return kinds[i];
	return NULL;
}

/*
 * Apply the member operations of a Group PATCH request to the membership
 * table and return the request without them, for the PATCH engine to apply
 * to the document (*changed: whether membership changed).  An operation
 * on members, members[<filter>] or a value object holding members is
 * theirs; any other stays.  A request without an "Operations" array is
 * returned as it is, for the engine to say what is wrong with it.
 */
Jsonb *
ScimPgPatchMembers(const Request *req, Datum gid, Jsonb *request, bool *changed, MemoryContext cxt)
{
	JsonbValue *ops = ScimPgKeyValue(request, "Operations");
	JsonbParseState *rest = NULL;
	JsonbValue	rest_value;
	ScimPgWalk	w;
	ScimPgEntry e;

	*changed = false;
	if (ops == NULL || ops->type != jbvBinary || !JsonContainerIsArray(ops->val.binary.data))
		return request;
	scim_push_jsonb(&rest, WJB_BEGIN_ARRAY, NULL);
	ScimPgWalkInit(&w, ops->val.binary.data);
	while (ScimPgWalkNext(&w, NULL, &e))
	{
		JsonbValue	op;
		JsonbContainer *c = NULL;
		const char *kind = NULL;
		char	   *path = NULL;
		int			len;
		JsonbValue *value = NULL;
		JsonbValue *members;

		CHECK_FOR_INTERRUPTS();
		ScimPgEntryValue(&op, &e);
		if (op.type == jbvBinary && JsonContainerIsObject(op.val.binary.data))
		{
			char	   *name;

			c = op.val.binary.data;
			name = ScimPgArrowText(getKeyJsonValueFromContainer(c, "op", 2, NULL), &len);
			kind = op_kind(name, len);
			path = ScimPgArrowText(getKeyJsonValueFromContainer(c, "path", 4, NULL), &len);
			value = getKeyJsonValueFromContainer(c, "value", 5, NULL);
		}
		if (kind != NULL && path != NULL && members_path(path))
		{
			/* the filter of members[<filter>]: from the first "[" to a "]" that ends the path */
			char	   *open = strchr(path, '[');
			char	   *filter = NULL;

			if (open != NULL && path[len - 1] == ']' && open < path + len - 1)
				filter = pnstrdup(open + 1, path + len - 1 - (open + 1));
			if (filter == NULL)
			{
				if (strcmp(kind, "remove") == 0 && value == NULL)
					*changed = ScimPgSetMembers(req, gid, "replace", NULL, cxt) || *changed;
				else
					*changed = ScimPgSetMembers(req, gid, kind, value, cxt) || *changed;
			}
			else if (strcmp(kind, "remove") == 0)
				*changed = remove_matching(req, gid, filter, cxt) || *changed;
			else
				ScimPgFail(400, "invalidPath",
						   "path \"%s\": members are added without a filter and changed by removing and adding",
						   path);
		}
		else if (kind != NULL && strcmp(kind, "remove") != 0 && path == NULL && value != NULL &&
				 value->type == jbvBinary && JsonContainerIsObject(value->val.binary.data) &&
				 (members = ScimPgBodyMember(value->val.binary.data, "members")) != NULL)
		{
			static const char *const only_members[] = {"members"};
			JsonbValue	rest_of_value;

			*changed = ScimPgSetMembers(req, gid, kind, members, cxt) || *changed;
			scim_jsonb_binary(&rest_of_value, ScimPgWithout(value->val.binary.data, only_members, 1));
			scim_jsonb_binary(&op, ScimPgWithMember(c, "value", &rest_of_value));
			scim_push_jsonb(&rest, WJB_ELEM, &op);
		}
		else
			scim_push_jsonb(&rest, WJB_ELEM, &op);
	}
	return ScimPgWithMember(&request->root, "Operations",
							scim_jsonb_binary(&rest_value,
											  JsonbValueToJsonb(scim_push_jsonb(&rest, WJB_END_ARRAY, NULL))));
}
