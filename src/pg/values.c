/*
 * values.c
 *		The IMMUTABLE helpers that generated SQL calls and indexes are built
 *		on: scim.values(), scim.values_lower(), scim.instant(), and
 *		scim.index_ddl() which writes those indexes.
 */
#include "scim_pg.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "datetime.h"
#include "filter.h"
#include "strbuf.h"

/*
 * The ->> text of sub_attribute (or of the element itself when sub is NULL)
 * of every element of a JSON array, skipping absent and null values; lowered
 * with lower()'s rules when fold is set.  Exactly what the EXISTS form of a
 * filter compares, so that array containment can stand in for it.
 */
static Datum
collect_values(FunctionCallInfo fcinfo, bool fold)
{
	Jsonb	   *jb;
	text	   *sub = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	ArrayBuildState *astate;
	ScimValue	root;
	int			n;

	astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
	jb = PG_GETARG_JSONB_P(0);
	ScimJsonbRoot(jb, &root);
	if (root.kind != SCIM_JSON_ARRAY)
		PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));

	n = ScimJsonbOps.size(NULL, &root);
	for (int i = 0; i < n; i++)
	{
		ScimValue	e;
		ScimValue	v;
		char	   *s;
		size_t		len;

		ScimJsonbOps.element(NULL, &root, i, &e);
		if (sub != NULL)
		{
			if (e.kind != SCIM_JSON_OBJECT)
				continue;
			ScimJsonbOps.get(NULL, &e, VARDATA_ANY(sub), VARSIZE_ANY_EXHDR(sub), &v);
		}
		else
			v = e;
		s = ScimPgValueText(&v, &len);
		if (s == NULL)
			continue;
		if (fold)
		{
			char	   *lowered = str_tolower(s, len, DEFAULT_COLLATION_OID);

			pfree(s);
			s = lowered;
			len = strlen(s);
		}
		astate = accumArrayResult(astate, PointerGetDatum(cstring_to_text_with_len(s, (int) len)),
								  false, TEXTOID, CurrentMemoryContext);
		pfree(s);
	}
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

PG_FUNCTION_INFO_V1(scim_values);

Datum
scim_values(PG_FUNCTION_ARGS)
{
	return collect_values(fcinfo, false);
}

PG_FUNCTION_INFO_V1(scim_values_lower);

Datum
scim_values_lower(PG_FUNCTION_ARGS)
{
	return collect_values(fcinfo, true);
}

PG_FUNCTION_INFO_V1(scim_instant);

/* scim.instant(text): the xsd:dateTime's instant, or NULL. */
Datum
scim_instant(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	int64		usec;

	if (!ScimParseDateTime(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &usec))
		PG_RETURN_NULL();
	/* PostgreSQL counts from 2000-01-01 */
	PG_RETURN_TIMESTAMPTZ((TimestampTz) (usec -
										 ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)));
}

/* Lower-case an attribute path into an identifier fragment: emails_value. */
static void
name_fragment(StringInfo out, const char *s)
{
	for (; *s; s++)
	{
		char		c = *s;

		if (c >= 'A' && c <= 'Z')
			appendStringInfoChar(out, (char) (c + 'a' - 'A'));
		else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			appendStringInfoChar(out, c);
		else if (out->len > 0 && out->data[out->len - 1] != '_')
			appendStringInfoChar(out, '_');
	}
}

PG_FUNCTION_INFO_V1(scim_index_ddl);

/*
 * scim.index_ddl(tbl, resource_type, data_column, attributes): one CREATE
 * INDEX statement per attribute, on the very expression scim.filter_sql()
 * compares for eq.
 */
Datum
scim_index_ddl(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid;
	text	   *resource_type;
	char	   *column;
	const ScimRegistry *reg;
	const ScimResourceType *type;
	Datum	   *paths;
	bool	   *nulls;
	int			npaths;
	char	   *relname;
	char	   *qualified;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table, resource type and data column must not be null")));
	relid = PG_GETARG_OID(0);
	resource_type = PG_GETARG_TEXT_PP(1);
	column = ScimPgQuoteColumn(PG_GETARG_TEXT_PP(2));
	reg = ScimPgRegistry(NULL);
	type = ScimPgResourceType(reg, resource_type);
	relname = get_rel_name(relid);
	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), relname);

	if (PG_ARGISNULL(3))
	{
		bool		group = strcmp(type->name, "Group") == 0;
		const char *defaults[4] = {"id", "externalId",
			group ? "displayName" : "userName",
		group ? "members.value" : "emails.value"};

		npaths = 4;
		paths = palloc(sizeof(Datum) * npaths);
		nulls = palloc0(sizeof(bool) * npaths);
		for (int i = 0; i < npaths; i++)
			paths[i] = CStringGetTextDatum(defaults[i]);
	}
	else
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), TEXTOID, -1, false, TYPALIGN_INT,
						  &paths, &nulls, &npaths);

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	for (int i = 0; i < npaths; i++)
	{
		char	   *path;
		ScimPath	p;
		ScimError	err;
		ScimBuf		expr;
		bool		gin;
		StringInfoData name;
		StringInfoData ddl;
		Datum		value;
		bool		isnull = false;

		if (nulls[i])
			continue;
		path = TextDatumGetCString(paths[i]);
		if (!ScimResolvePath(reg, type, path, strlen(path), &p, &err, SCIM_ERR_INVALID_PATH, 0))
			ScimPgRaise(&err);
		ScimBufInit(&expr);
		if (!ScimIndexSql(&p, column, &expr, &gin, &err))
		{
			ScimBufFree(&expr);
			ScimPgRaise(&err);
		}
		initStringInfo(&name);
		appendStringInfo(&name, "%s_", relname);
		name_fragment(&name, p.attr->name);
		if (p.sub != NULL)
		{
			appendStringInfoChar(&name, '_');
			name_fragment(&name, p.sub->name);
		}
		appendStringInfoString(&name, "_scim_idx");
		if (name.len >= NAMEDATALEN)
			name.data[NAMEDATALEN - 1] = '\0';

		initStringInfo(&ddl);
		appendStringInfo(&ddl, "CREATE INDEX IF NOT EXISTS %s ON %s USING %s ((%s))",
						 quote_identifier(name.data), qualified, gin ? "gin" : "btree", expr.data);
		ScimBufFree(&expr);
		value = CStringGetTextDatum(ddl.data);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}

/*
 * v as the ->> operator gives a member's value: the text of a string, the
 * JSON text of anything else, NULL for JSON null (or no value at all).
 */
char *
ScimPgArrowText(const JsonbValue *v, int *len)
{
	char	   *s;

	if (v == NULL || v->type == jbvNull)
		return NULL;
	switch (v->type)
	{
		case jbvString:
			*len = v->val.string.len;
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvBool:
			s = pstrdup(v->val.boolean ? "true" : "false");
			break;
		case jbvNumeric:
			s = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
			break;
		default:
			s = JsonbToCString(NULL, v->val.binary.data, v->val.binary.len);
			break;
	}
	*len = strlen(s);
	return s;
}

/* resource->>name as the ->> operator gives it, or NULL. */
static text *
member_text(Jsonb *resource, text *name)
{
	JsonbValue *v;
	char	   *s;
	int			len;

	if (!JB_ROOT_IS_OBJECT(resource))
		return NULL;
	v = getKeyJsonValueFromContainer(&resource->root, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name), NULL);
	if ((s = ScimPgArrowText(v, &len)) == NULL)
		return NULL;
	return cstring_to_text_with_len(s, len);
}

/*
 * scim.key(resource, name) and scim.key_lower(resource, name): the store's
 * lookup keys, resource->>name and lower(resource->>name).  LEAKPROOF,
 * which ->> and lower() are not: under row-level security a condition
 * that is not leakproof is evaluated only after the policy's, so it
 * cannot be an index condition, and a lookup by userName read every row
 * of the tenant.  These raise no error that depends on the resource.
 */
PG_FUNCTION_INFO_V1(scim_key);

Datum
scim_key(PG_FUNCTION_ARGS)
{
	text	   *t = member_text(PG_GETARG_JSONB_P(0), PG_GETARG_TEXT_PP(1));

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(t);
}

PG_FUNCTION_INFO_V1(scim_key_lower);

Datum
scim_key_lower(PG_FUNCTION_ARGS)
{
	text	   *t = member_text(PG_GETARG_JSONB_P(0), PG_GETARG_TEXT_PP(1));

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(str_tolower(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), DEFAULT_COLLATION_OID)));
}

PG_FUNCTION_INFO_V1(scim_id_text);

/* scim.id_text(id uuid) → text: id::text, LEAKPROOF, to join memberships on their index. */
Datum
scim_id_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(0)))));
}

PG_FUNCTION_INFO_V1(scim_member_uuid);

/*
 * scim.member_uuid(value text) → uuid: a member id (scim.member_id, as
 * uuid_out() writes it) as a uuid, NULL for any other text.  LEAKPROOF,
 * which the cast is not (it raises on bad input): a filter on a user's
 * groups then finds the users of a group's memberships through the users'
 * primary key under row-level security.  It raises nothing.
 */
Datum
scim_member_uuid(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(t);
	pg_uuid_t  *u;
	int			n = 0;

	if (VARSIZE_ANY_EXHDR(t) != 36)
		PG_RETURN_NULL();
	u = palloc(sizeof(pg_uuid_t));
	for (int i = 0; i < 36; i++)
	{
		char		c = s[i];
		int			d;

		if (i == 8 || i == 13 || i == 18 || i == 23)
		{
			if (c != '-')
				PG_RETURN_NULL();
			continue;
		}
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			PG_RETURN_NULL();
		if (n % 2 == 0)
			u->data[n / 2] = (unsigned char) (d << 4);
		else
			u->data[n / 2] |= (unsigned char) d;
		n++;
	}
	PG_RETURN_UUID_P(u);
}
