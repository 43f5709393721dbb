/*
 * document.c
 *		The document a POST or PUT stores: the request's body read as
 *		jsonb_in() reads it, checked against the schema (canonical names,
 *		coerced types, read-only attributes ignored, the name required),
 *		its password hashed.
 */
#include "handle_int.h"

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "utils/builtins.h"
#include "utils/resowner.h"
#include "utils/varlena.h"

#include "jsonb_compat.h"

#define PATCH_OP_URN "urn:ietf:params:scim:api:messages:2.0:PatchOp"

/*
 * Run fn(arg) in a subtransaction of its own: NULL when it succeeds, else
 * the error it raised, caught, with the subtransaction rolled back.  For
 * the errors a request answers as its own: any of the general path's
 * (route.c), and within it a name the tenant has already.
 */
ErrorData *
ScimPgAttempt(void (*fn) (void *arg), void *arg, MemoryContext cxt)
{
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile error = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		error = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return error;
}

/*
 * The body of a POST, PUT or PATCH as ScimPgReadBody() reads it; a request
 * without one fails.
 */
Jsonb *
ScimPgRequestBody(const Request *req)
{
	if (req->body_text == NULL)
		ScimPgFail(400, "invalidSyntax", "the request has no body");
	return ScimPgReadBody(req->body_text);
}

/* Fail unless body is a JSON object, as a POST or PUT body must be. */
void
ScimPgCheckBody(Jsonb *body)
{
	if (!JB_ROOT_IS_OBJECT(body))
		ScimPgFail(400, "invalidSyntax", "the request body must be a JSON object");
}

/*
 * What a write left out as the schema does not define it (ScimPgNormalize(),
 * the PATCH engine), as its event's detail names it; NULL for nothing.
 */
char *
ScimPgLeftOut(const ScimIgnored *ignored)
{
	int			listed = 1;

	if (ignored->n == 0)
		return NULL;
	for (const char *p = ignored->names; (p = strstr(p, ", ")) != NULL; p++)
		listed++;
	return psprintf("attributes the schema does not define, left out: %s%s", ignored->names,
					listed < ignored->n ? ", ..." : "");
}

/* An extension URN before another, as ORDER BY sorts text. */
static int
urn_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *) a;
	const char *y = *(const char *const *) b;

	return varstr_cmp(x, strlen(x), y, strlen(y), DEFAULT_COLLATION_OID);
}

/*
 * A POST or PUT body checked against the schema, the way a PUT or POST
 * must: names canonical, types coerced, read-only attributes a client may
 * send back ignored (Okta sends groups, id), attributes the schema does
 * not define left out and named in *ignored; a replace PATCH of an empty
 * resource does it.  schemas lists the core schema, then the extensions
 * present; userName or displayName is required.
 */
Jsonb *
ScimPgNormalize(const Request *req, Jsonb *body, ScimIgnored *ignored)
{
	/* read-only attributes a client sends back, and what is stored apart */
	static const char *const apart[] = {"id", "meta", "groups", "schemas", "members", "password"};
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimRegistryFindType(reg, req->rtype, strlen(req->rtype));
	JsonbParseState *st = NULL;
	JsonbValue	v;
	Jsonb	   *request;
	Jsonb	   *out;
	ScimError	err;
	bool		changed;
	const char **urns;
	int			n = 0;
	char	   *required;

	ScimPgCheckBody(body);
	scim_push_jsonb(&st, WJB_BEGIN_OBJECT, NULL);
	scim_push_string(&st, WJB_KEY, "schemas");
	scim_push_jsonb(&st, WJB_BEGIN_ARRAY, NULL);
	scim_push_string(&st, WJB_ELEM, PATCH_OP_URN);
	scim_push_jsonb(&st, WJB_END_ARRAY, NULL);
	scim_push_string(&st, WJB_KEY, "Operations");
	scim_push_jsonb(&st, WJB_BEGIN_ARRAY, NULL);
	scim_push_jsonb(&st, WJB_BEGIN_OBJECT, NULL);
	scim_push_string(&st, WJB_KEY, "op");
	scim_push_string(&st, WJB_VALUE, "replace");
	scim_push_string(&st, WJB_KEY, "value");
	scim_push_binary(&st, WJB_VALUE, ScimPgWithout(&body->root, apart, lengthof(apart)));
	scim_push_jsonb(&st, WJB_END_OBJECT, NULL);
	scim_push_jsonb(&st, WJB_END_ARRAY, NULL);
	request = JsonbValueToJsonb(scim_push_jsonb(&st, WJB_END_OBJECT, NULL));
	out = ScimPgPatchTry(ScimPgObjectJsonb(NULL, 0), request, cstring_to_text(req->rtype), NULL, &changed, &err,
						 ignored);
	if (out == NULL)
		ScimPgRaise(&err);

	/* the core schema first, then the extensions present, in text's order */
	urns = palloc(sizeof(char *) * (type->n_extensions + 1));
	for (int i = 0; i < type->n_extensions; i++)
		if (ScimPgKeyValue(out, type->extensions[i].schema->id) != NULL)
			urns[n++] = type->extensions[i].schema->id;
	qsort(urns, n, sizeof(char *), urn_cmp);
	st = NULL;
	scim_push_jsonb(&st, WJB_BEGIN_ARRAY, NULL);
	scim_push_string(&st, WJB_ELEM, type->core->id);
	for (int i = 0; i < n; i++)
		scim_push_string(&st, WJB_ELEM, urns[i]);
	out = ScimPgWithMember(&out->root, "schemas",
						   scim_jsonb_binary(&v, JsonbValueToJsonb(scim_push_jsonb(&st, WJB_END_ARRAY, NULL))));

	required = ScimPgKeyText(out, req->users ? "userName" : "displayName");
	if (required == NULL || required[0] == '\0')
		ScimPgFail(400, "invalidValue", "%s is required", req->users ? "userName" : "displayName");
	return out;
}

/*
 * The longest password taken, in bytes.  SCRAM's iterations hash the
 * password whole each time: a password of 100 kB cost 270 ms to hash, so
 * one of a megabyte (what scim-server takes as a body) would cost
 * seconds of a backend per request.
 */
#define PASSWORD_MAX_BYTES 1024

/*
 * The secret of the password a User's body sends (its first member named
 * password, in any case), NULL for none: never stored itself.
 */
char *
ScimPgPasswordSecret(const Request *req, Jsonb *body)
{
	JsonbValue *pw = req->users && JB_ROOT_IS_OBJECT(body) ? ScimPgBodyMember(&body->root, "password") : NULL;

	if (pw == NULL || pw->type == jbvNull)
		return NULL;
	if (pw->type != jbvString)
		/* as a PATCH refuses it: the secret of a structure's JSON text is no password a person typed */
		ScimPgFail(400, "invalidValue", "attribute \"password\" must be a string");
	if (pw->val.string.len > PASSWORD_MAX_BYTES)
		ScimPgFail(400, "invalidValue", "attribute \"password\" must be at most %d bytes long", PASSWORD_MAX_BYTES);
	return ScimPgHashPassword(pnstrdup(pw->val.string.val, pw->val.string.len));
}

/* A new resource's id: a version 4 UUID, as gen_random_uuid() makes one. */
Datum
ScimPgNewId(void)
{
	pg_uuid_t  *uuid = palloc(sizeof(pg_uuid_t));

	if (!pg_strong_random(uuid->data, UUID_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate random values")));
	uuid->data[6] = (uuid->data[6] & 0x0f) | 0x40;
	uuid->data[8] = (uuid->data[8] & 0x3f) | 0x80;
	return UUIDPGetDatum(uuid);
}

/*
 * The document a POST stores for body (POST /Users and /Groups, and each
 * document of scim.import()): checked against the schema as
 * ScimPgNormalize() does, with the secret of its password, its id
 * (id_text, as uuid_out() writes it) and a new meta: created and
 * lastModified now_text, version W/"1".  A group's members are stored
 * apart (members.c).
 */
Jsonb *
ScimPgNewDocument(const Request *req, Jsonb *body, const char *id_text, const char *now_text,
				  ScimIgnored *ignored)
{
	static const char *const meta_keys[] = {"resourceType", "created", "lastModified", "version"};
	const char *meta_values[] = {req->rtype, now_text, now_text, "W/\"1\""};
	Jsonb	   *doc = ScimPgNormalize(req, body, ignored);
	char	   *secret = ScimPgPasswordSecret(req, body);
	ScimPgMember add[3];
	ScimPgMember *m;
	int			count;
	JsonbValue	meta;

	/* in jsonb's key order: id, meta, password */
	ScimPgStringEntry(&add[0].key, "id");
	ScimPgStringEntry(&add[0].value, id_text);
	ScimPgStringEntry(&add[1].key, "meta");
	m = ScimPgWithStrings(&ScimPgObjectJsonb(NULL, 0)->root, 4, meta_keys, meta_values, &count);
	ScimPgValueEntry(&add[1].value, scim_jsonb_binary(&meta, ScimPgObjectJsonb(m, count)));
	if (secret != NULL)
	{
		ScimPgStringEntry(&add[2].key, "password");
		ScimPgStringEntry(&add[2].value, secret);
	}
	m = ScimPgMergeMembers(&doc->root, add, secret != NULL ? 3 : 2, NULL, 0, &count);
	return ScimPgObjectJsonb(m, count);
}

/* doc with its password the secret given (none: doc itself). */
Jsonb *
ScimPgWithPassword(Jsonb *doc, const char *secret)
{
	JsonbValue	v;

	if (secret == NULL)
		return doc;
	return ScimPgWithMember(&doc->root, "password", scim_jsonb_string(&v, secret));
}

/*
 * What a PUT's body makes of the stored resource cur (RFC 7644 section
 * 3.5.1): the body normalised, with id; meta stays, and a password is only
 * replaced when one is sent, by its secret.  An immutable attribute that
 * has a value must keep it (400 mutability).  What the body sets that the
 * schema lacks is in *ignored.
 */
static void hold_immutable(const char *rtype, Jsonb *cur, Jsonb *doc);

Jsonb *
ScimPgReplacement(const Request *req, Jsonb *cur, Jsonb *body, const char *id, ScimIgnored *ignored)
{
	Jsonb	   *doc = ScimPgNormalize(req, body, ignored);
	JsonbValue	v;
	JsonbValue *meta = ScimPgKeyValue(cur, "meta");
	JsonbValue	null = {.type = jbvNull};

	doc = ScimPgWithMember(&doc->root, "id", scim_jsonb_string(&v, id));
	doc = ScimPgWithMember(&doc->root, "meta", meta ? meta : &null);
	if (ScimPgHasKey(cur, "password"))
	{
		JsonbValue *pw = ScimPgKeyValue(cur, "password");

		doc = ScimPgWithMember(&doc->root, "password", pw ? pw : &null);
	}
	doc = ScimPgWithPassword(doc, ScimPgPasswordSecret(req, body));
	hold_immutable(req->rtype, cur, doc);
	return doc;
}

/* Has a stored attribute a value (RFC 7643 section 2.5: not null, not an empty array)? */
static bool
assigned(const JsonbValue *v)
{
	return v != NULL && v->type != jbvNull &&
		!(v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data) && JsonContainerSize(v->val.binary.data) == 0);
}

/* Object c's member key, NULL when c is NULL or has none. */
static JsonbValue *
member_of(JsonbContainer *c, const char *key)
{
	return c != NULL ? getKeyJsonValueFromContainer(c, key, strlen(key), NULL) : NULL;
}

/* The object a value is, or NULL. */
static JsonbContainer *
object_of(const JsonbValue *v)
{
	return v != NULL && v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data) ? v->val.binary.data : NULL;
}

/*
 * Is a single-valued attribute immutable, or one of its sub-attributes?
 * Most schemas have none: the schema is walked instead of the documents.
 */
static bool
holds_immutable(const ScimAttr *a)
{
	if (a->multi_valued)
		return false;
	if (a->mutability == SCIM_MUT_IMMUTABLE)
		return true;
	for (int i = 0; a->type == SCIM_TYPE_COMPLEX && i < a->n_sub; i++)
		if (holds_immutable(&a->sub[i]))
			return true;
	return false;
}

/* hold_immutable() for attrs[0..n-1], their values in objects cur and doc (NULL: none). */
static void
hold_attrs(const ScimAttr *attrs, int n, JsonbContainer *cur, JsonbContainer *doc)
{
	for (int i = 0; i < n; i++)
	{
		const ScimAttr *a = &attrs[i];
		JsonbValue *was;
		JsonbValue *now;

		if (!holds_immutable(a))
			continue;
		was = member_of(cur, a->name);
		now = member_of(doc, a->name);
		if (a->mutability == SCIM_MUT_IMMUTABLE && assigned(was) && !(now != NULL && ScimPgSameValue(was, now)))
		{
			if (a->parent != NULL)
				ScimPgFail(400, "mutability", "attribute \"%s.%s\" is immutable and already has a value",
						   a->parent->name, a->name);
			ScimPgFail(400, "mutability", "attribute \"%s\" is immutable and already has a value", a->name);
		}
		if (a->type == SCIM_TYPE_COMPLEX && object_of(was) != NULL)
			hold_attrs(a->sub, a->n_sub, object_of(was), object_of(now));
	}
}

/*
 * Refuse a PUT whose document doc changes an immutable attribute that the
 * stored resource cur has a value for (RFC 7644 section 3.5.1: "If one or
 * more values are already set for the attribute, the input value(s) MUST
 * match"): 400 mutability, as a PATCH is refused.  A value left out is a
 * change too, as a PATCH that removes one is.  This holds for
 * single-valued attributes, those of a single-valued complex one, and
 * those of extensions; the elements of a multi-valued attribute have no
 * identity a PUT keeps, so a group's members, whose sub-attributes are
 * immutable, are replaced whole (Okta does it).
 */
static void
hold_immutable(const char *rtype, Jsonb *cur, Jsonb *doc)
{
	const ScimRegistry *reg = ScimPgRegistry(NULL);
	const ScimResourceType *type = ScimRegistryFindType(reg, rtype, strlen(rtype));

	if (!JB_ROOT_IS_OBJECT(cur) || !JB_ROOT_IS_OBJECT(doc))
		return;
	hold_attrs(type->core->attrs, type->core->n_attrs, &cur->root, &doc->root);
	for (int i = 0; i < type->n_extensions; i++)
	{
		const ScimSchema *ext = type->extensions[i].schema;

		hold_attrs(ext->attrs, ext->n_attrs, object_of(member_of(&cur->root, ext->id)),
				   object_of(member_of(&doc->root, ext->id)));
	}
}
