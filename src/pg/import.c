/*
 * import.c
 *		scim.import(): the users or groups an application has already,
 *		brought into a tenant in one call, each document checked and stored
 *		as POST stores it, with the id it gives kept.
 *
 * A product that adopts SCIM has its users.  Imported with their own ids,
 * userNames and externalIds, they are what the identity provider's first
 * cycle finds by its matching attribute and updates, rather than creating
 * each one again.
 *
 * The call runs as the handler's do (tenant.c): as its owner, scim_handler,
 * acting for the tenant, so that row-level security keeps every row it
 * writes to that tenant.  Before that, the tenant's row is locked with the
 * caller's own rights, FOR NO KEY UPDATE, which takes UPDATE on
 * scim.tenant: a role that may not change the tenant may not import into
 * it, and two imports into one tenant take turns, each seeing the ids and
 * names the other wrote.  The handler's writes are not held back: their
 * foreign key checks take FOR KEY SHARE, which that lock lets through.
 *
 * Three steps, set-based.  Each document is made into what POST would
 * store (document.c's ScimPgNewDocument(); a group's members read as
 * members.c reads them), in C without a statement.  A document that fails
 * raises, as it would in a POST; the run over the documents is one
 * subtransaction, which that error ends, and a new one resumes after the
 * document: a subtransaction per failing document, not per document.
 * Then the tenant's ids, names and externalIds among the documents' are
 * looked up in the store's indexes (import_keys.c), and the documents
 * taken in order: one whose id, name or externalId the tenant or an
 * earlier document has, or with a member that is neither, fails (the first
 * document keeps what it has).  Last, the documents that passed are
 * inserted by one INSERT ... SELECT FROM unnest(), their memberships by
 * another: row triggers see each row, as they see a POST's.
 */
#include "handle_int.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/uuid.h"


/* what the change feed says made the changes of an import */
static const ScimPgOrigin import_origin = {"scim.import()", 201, NULL};

/*
 * The most documents one call takes.  A call is one transaction's work;
 * an import of a million users commits in batches of about 10,000, since
 * a long transaction holds back the change feed's delivery (README).
 */
#define IMPORT_MAX_DOCUMENTS 100000

typedef enum ImportStatement
{
	IS_LOCK_TENANT,
	IS_INSERT_USERS,
	IS_INSERT_GROUPS,
	IS_INSERT_MEMBERS,
	IS__COUNT
} ImportStatement;

#define INSERT_FROM_ARRAYS(table) \
	"INSERT INTO " table " (tenant, id, data, created, last_modified) " \
	"SELECT $1, d.id, d.data, $2, $2 FROM unnest($3::uuid[], $4::jsonb[]) d(id, data)"

/* $1 is the tenant */
static const StatementDef import_statements[IS__COUNT] = {
	/* with the caller's rights and search_path: every name qualified */
	[IS_LOCK_TENANT] = {
		"SELECT t.id FROM scim.tenant t WHERE t.id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
	1, {UUIDOID}},
	/* $2 the call's time, as meta shows it; $3 and $4 the ids and documents */
	[IS_INSERT_USERS] = {INSERT_FROM_ARRAYS("scim.users"), 4, {UUIDOID, TIMESTAMPTZOID, UUIDARRAYOID, JSONBARRAYOID}},
	[IS_INSERT_GROUPS] = {INSERT_FROM_ARRAYS("scim.groups"), 4, {UUIDOID, TIMESTAMPTZOID, UUIDARRAYOID, JSONBARRAYOID}},
	/* a member a group lists twice is one row, as for a POST */
	[IS_INSERT_MEMBERS] = {
		"INSERT INTO scim.group_members (tenant, group_id, value, type, display) "
		"SELECT $1, m.g, m.v, m.t, m.d FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) m(g, v, t, d) "
		"ON CONFLICT ON CONSTRAINT group_members_pkey DO NOTHING",
	5, {UUIDOID, UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID}},
};

static SPIPlanPtr import_plans[IS__COUNT];

/* One document of the call. */
typedef struct ImportDoc
{
	Jsonb	   *data;			/* what is stored; NULL when the document failed */
	pg_uuid_t	id;
	char	   *id_text;		/* as uuid_out() writes it */
	char	   *name;			/* userName or displayName, as given */
	char	   *name_key;		/* and lowered, as the store's unique index has it */
	char	   *external_id;	/* NULL for none */
	MemberRef  *members;		/* a group's */
	int			nmembers;
	const char **member_types;	/* what each member is, once found */
	char	   *left_out;		/* attributes the schema does not define, NULL for none */
	/* a failed document's: */
	int			status;
	const char *scim_type;
	char	   *detail;
} ImportDoc;

/* The call. */
typedef struct Import
{
	Request		req;			/* what document.c and respond.c read: the type, the tenant */
	TimestampTz ts;				/* the call's time, as meta shows it: */
	char	   *now_text;
	int			n;
	Datum	   *elems;			/* the documents as given */
	bool	   *nulls;
	ImportDoc  *docs;
	int			next;			/* check_documents(): the next document */
	MemoryContext cxt;			/* the call's */
	MemoryContext scratch;		/* one document's work */
	HTAB	   *ids;			/* IdClaim: the tenant's ids, then the accepted documents' */
	HTAB	   *names;			/* Claim: lowered names */
	HTAB	   *external_ids;	/* Claim */
	int			imported;
	int			failed;
} Import;

/* An id the tenant or an accepted document has, and what it is */
typedef struct IdClaim
{
	pg_uuid_t	id;
	const char *type;			/* "User" or "Group" */
} IdClaim;

/* A name or externalId the tenant or an accepted document has */
typedef struct Claim
{
	const char *key;
} Claim;

static int
run(ImportStatement st, Datum *args, const char *nulls, bool read_only, MemoryContext cxt)
{
	return ScimPgRunDef(import_statements, import_plans, st, args, nulls, read_only, cxt);
}

/* ------------------------------------------------------------------------
 * claims
 * ------------------------------------------------------------------------
 */

static uint32
key_hash(const void *key, Size keysize)
{
	const char *s = *(const char *const *) key;

	return hash_bytes((const unsigned char *) s, strlen(s));
}

static int
key_match(const void *a, const void *b, Size keysize)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static HTAB *
claims(const char *name, int n, bool strings, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.hcxt = cxt;
	if (strings)
	{
		ctl.keysize = sizeof(char *);
		ctl.entrysize = sizeof(Claim);
		ctl.hash = key_hash;
		ctl.match = key_match;
		return hash_create(name, Max(n, 16), &ctl, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	}
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(IdClaim);
	return hash_create(name, Max(n, 16), &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* Has the tenant or an accepted document key (none: NULL)? */
static bool
claimed(HTAB *h, const char *key)
{
	return key != NULL && hash_search(h, &key, HASH_FIND, NULL) != NULL;
}

static void
claim(HTAB *h, const char *key)
{
	if (key != NULL)
		(void) hash_search(h, &key, HASH_ENTER, NULL);
}

/* Claim id for a resource of type; an id claimed already keeps its type. */
static void
claim_id(HTAB *h, const pg_uuid_t *id, const char *type)
{
	bool		found;
	IdClaim    *c = hash_search(h, id, HASH_ENTER, &found);

	if (!found)
		c->type = type;
}

/* ------------------------------------------------------------------------
 * step 1: each document as POST would store it
 * ------------------------------------------------------------------------
 */

/* Collects a group's members, for ScimPgEachMember(). */
typedef struct Members
{
	MemberRef  *refs;
	int			n;
	int			size;
} Members;

static void
add_member(const JsonbValue *m, void *arg)
{
	Members    *ms = (Members *) arg;

	if (ms->n == ms->size)
	{
		ms->size = Max(8, ms->size * 2);
		ms->refs = ms->refs ? repalloc(ms->refs, sizeof(MemberRef) * ms->size) : palloc(sizeof(MemberRef) * ms->size);
	}
	ScimPgMemberRef(m, true, &ms->refs[ms->n++]);
}

static char *
copy_text(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/*
 * Document i as POST would store it, with the id it gives (a UUID) or a
 * new one; raises where POST would fail.  Worked out in the scratch
 * context, kept in the call's.
 */
static void
check_document(Import *im, int i)
{
	ImportDoc  *d = &im->docs[i];
	Jsonb	   *body;
	JsonbValue *given;
	Datum		id;
	char	   *id_text;
	Jsonb	   *doc;
	char	   *name;
	char	   *external_id;
	ScimIgnored ignored = {{0}, 0, 0};
	Members		ms = {NULL, 0, 0};
	MemoryContext old;

	MemoryContextReset(im->scratch);
	old = MemoryContextSwitchTo(im->scratch);
	if (im->nulls[i])
		ScimPgFail(400, "invalidSyntax", "the document is NULL");
	body = DatumGetJsonbP(im->elems[i]);
	ScimPgCheckBody(body);
	given = ScimPgBodyMember(&body->root, "id");
	if (given != NULL && given->type != jbvNull)
	{
		int			len;
		char	   *text = ScimPgArrowText(given, &len);
		char	   *canonical = ScimPgCanonicalId(text, len);

		if (canonical == NULL)
			ScimPgFail(400, "invalidValue", "id \"%s\" is not a UUID", text);
		id = DirectFunctionCall1(uuid_in, CStringGetDatum(canonical));
	}
	else
		id = ScimPgNewId();
	id_text = DatumGetCString(DirectFunctionCall1(uuid_out, id));
	doc = ScimPgNewDocument(&im->req, body, id_text, im->now_text, &ignored);
	name = ScimPgKeyText(doc, im->req.users ? "userName" : "displayName");
	external_id = ScimPgKeyText(doc, "externalId");
	if (!im->req.users)
		ScimPgEachMember(ScimPgBodyMember(&body->root, "members"), add_member, &ms);

	MemoryContextSwitchTo(im->cxt);
	d->data = palloc(VARSIZE(doc));
	memcpy(d->data, doc, VARSIZE(doc));
	d->id = *DatumGetUUIDP(id);
	d->id_text = pstrdup(id_text);
	d->name = pstrdup(name);
	d->name_key = str_tolower(name, strlen(name), DEFAULT_COLLATION_OID);
	/* an empty externalId is no externalId, as pr has it */
	d->external_id = external_id && external_id[0] ? pstrdup(external_id) : NULL;
	d->left_out = copy_text(ScimPgLeftOut(&ignored));
	d->nmembers = ms.n;
	d->members = palloc(sizeof(MemberRef) * Max(ms.n, 1));
	d->member_types = palloc0(sizeof(char *) * Max(ms.n, 1));
	for (int j = 0; j < ms.n; j++)
	{
		d->members[j].id = pstrdup(ms.refs[j].id);
		d->members[j].given = pstrdup(ms.refs[j].given);
		d->members[j].display = copy_text(ms.refs[j].display);
	}
	MemoryContextSwitchTo(old);
}

/* Step 1 from im->next on, for ScimPgAttempt(). */
static void
check_documents(void *arg)
{
	Import	   *im = (Import *) arg;

	for (; im->next < im->n; im->next++)
	{
		CHECK_FOR_INTERRUPTS();
		check_document(im, im->next);
	}
}

/* Document i failed with status, scim_type and detail. */
static void
fail_document(Import *im, int i, int status, const char *scim_type, char *detail)
{
	ImportDoc  *d = &im->docs[i];

	d->data = NULL;
	d->status = status;
	d->scim_type = scim_type;
	d->detail = detail;
	im->failed++;
}

/*
 * Step 1 for every document.  A document's error is its failure when POST
 * would answer it with a 4xx; any other (a cancel, an internal error)
 * ends the call.
 */
static void
check_all(Import *im)
{
	ErrorData  *e;

	im->next = 0;
	while ((e = ScimPgAttempt(check_documents, im, im->cxt)) != NULL)
	{
		const char *scim_type;
		int			status = ScimPgFailureStatus(e, &scim_type);

		if (e->sqlerrcode == ERRCODE_QUERY_CANCELED || status < 400 || status >= 500)
			ReThrowError(e);
		fail_document(im, im->next, status, scim_type, e->message);
		im->next++;
	}
}

/* ------------------------------------------------------------------------
 * step 2: what the tenant has
 * ------------------------------------------------------------------------
 */

/* Claim for the tenant the id of the user or group it has as id. */
static void
claim_tenant_id(Import *im, ScimPgKeys *users, ScimPgKeys *groups, const pg_uuid_t *id)
{
	Datum		d = UUIDPGetDatum(id);

	if (hash_search(im->ids, id, HASH_FIND, NULL) != NULL)
		return;
	/* a user first, as members.c finds a member */
	if (ScimPgKeysHas(users, im->req.tenant_datum, d))
		claim_id(im->ids, id, "User");
	else if (ScimPgKeysHas(groups, im->req.tenant_datum, d))
		claim_id(im->ids, id, "Group");
}

/*
 * Read which of the documents' ids, names and externalIds, and which of
 * their members' ids, the tenant has, into the claims.
 */
static void
read_tenant(Import *im)
{
	bool		users = im->req.users;
	ScimPgKeys *user_ids = ScimPgKeysOpen("users", "users_pkey");
	ScimPgKeys *group_ids = ScimPgKeysOpen("groups", "groups_pkey");
	ScimPgKeys *names = users ? ScimPgKeysOpen("users", "users_username_idx") :
		ScimPgKeysOpen("groups", "groups_displayname_idx");
	ScimPgKeys *external_ids = users ? ScimPgKeysOpen("users", "users_externalid_idx") :
		ScimPgKeysOpen("groups", "groups_externalid_idx");

	for (int i = 0; i < im->n; i++)
	{
		ImportDoc  *d = &im->docs[i];

		if (d->data == NULL)
			continue;
		claim_tenant_id(im, user_ids, group_ids, &d->id);
		for (int j = 0; j < d->nmembers; j++)
			claim_tenant_id(im, user_ids, group_ids,
							DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(d->members[j].id))));
		if (ScimPgKeysHas(names, im->req.tenant_datum, CStringGetTextDatum(d->name_key)))
			claim(im->names, d->name_key);
		if (d->external_id != NULL &&
			ScimPgKeysHas(external_ids, im->req.tenant_datum, CStringGetTextDatum(d->external_id)))
			claim(im->external_ids, d->external_id);
	}
	ScimPgKeysClose(user_ids);
	ScimPgKeysClose(group_ids);
	ScimPgKeysClose(names);
	ScimPgKeysClose(external_ids);
}

/* ------------------------------------------------------------------------
 * step 3: the documents in order
 * ------------------------------------------------------------------------
 */

/* The 409 of POST for a key the tenant, or an earlier document, has. */
static void
fail_uniqueness(Import *im, int i, const char *type, const char *key, const char *value)
{
	fail_document(im, i, 409, "uniqueness", psprintf("a %s with %s \"%s\" already exists", type, key, value));
}

/*
 * Accept document i, or fail it: its id, name and externalId free, its
 * members users or groups of the tenant, groups accepted before it, or
 * itself.  An accepted document claims what it has.
 */
static void
accept(Import *im, int i)
{
	ImportDoc  *d = &im->docs[i];
	IdClaim    *held = hash_search(im->ids, &d->id, HASH_FIND, NULL);

	if (held != NULL)
	{
		fail_uniqueness(im, i, held->type, "id", d->id_text);
		return;
	}
	if (claimed(im->names, d->name_key))
	{
		fail_uniqueness(im, i, im->req.rtype, im->req.users ? "userName" : "displayName", d->name);
		return;
	}
	if (claimed(im->external_ids, d->external_id))
	{
		fail_uniqueness(im, i, im->req.rtype, "externalId", d->external_id);
		return;
	}
	for (int j = 0; j < d->nmembers; j++)
	{
		pg_uuid_t  *id = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(d->members[j].id)));
		IdClaim    *member = hash_search(im->ids, id, HASH_FIND, NULL);

		if (member != NULL)
			d->member_types[j] = member->type;
		else if (memcmp(id, &d->id, sizeof(pg_uuid_t)) == 0)
			d->member_types[j] = "Group";
		else
		{
			fail_document(im, i, 400, "invalidValue", psprintf(SCIM_MEMBER_UNKNOWN, d->members[j].given));
			return;
		}
	}
	claim_id(im->ids, &d->id, im->req.rtype);
	claim(im->names, d->name_key);
	claim(im->external_ids, d->external_id);
	im->imported++;
}

/* ------------------------------------------------------------------------
 * the writes
 * ------------------------------------------------------------------------
 */

/* The INSERT of the accepted documents, for ScimPgAttempt(): its arguments. */
typedef struct Insert
{
	Import	   *im;
	Datum		args[5];
	ImportStatement st;
} Insert;

static void
run_insert(void *arg)
{
	Insert	   *ins = (Insert *) arg;

	if (run(ins->st, ins->args, NULL, false, ins->im->cxt) != SPI_OK_INSERT)
		elog(ERROR, "scim.import(): could not insert the documents");
}

/*
 * Insert the accepted documents, then the groups' members.  A name
 * another transaction took since step 2 fails the call: the tenant's lock
 * keeps imports from one another, not from the handler.
 */
static void
write_documents(Import *im)
{
	ImportDoc **ok = palloc(sizeof(ImportDoc *) * Max(im->imported, 1));
	Datum	   *ids = palloc(sizeof(Datum) * Max(im->imported, 1));
	Datum	   *data = palloc(sizeof(Datum) * Max(im->imported, 1));
	int			n = 0;
	int			nmembers = 0;
	Insert		ins;
	ErrorData  *e;

	for (int i = 0; i < im->n; i++)
		if (im->docs[i].data != NULL)
		{
			ok[n++] = &im->docs[i];
			nmembers += im->docs[i].nmembers;
		}
	if (n == 0)
		return;
	for (int i = 0; i < n; i++)
	{
		ids[i] = UUIDPGetDatum(&ok[i]->id);
		data[i] = JsonbPGetDatum(ok[i]->data);
	}
	ins.im = im;
	ins.st = im->req.users ? IS_INSERT_USERS : IS_INSERT_GROUPS;
	ins.args[0] = im->req.tenant_datum;
	ins.args[1] = TimestampTzGetDatum(im->ts);
	ins.args[2] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	ins.args[3] = PointerGetDatum(construct_array(data, n, JSONBOID, -1, false, TYPALIGN_INT));
	if ((e = ScimPgAttempt(run_insert, &ins, im->cxt)) != NULL)
	{
		if (e->sqlerrcode != ERRCODE_UNIQUE_VIOLATION)
			ReThrowError(e);
		ScimPgFail(409, "uniqueness",
				   "another transaction took an id or name of this call's %ss meanwhile; nothing was imported",
				   im->req.rtype);
	}
	if (nmembers > 0)
	{
		Datum	   *gid = palloc(sizeof(Datum) * nmembers);
		Datum	   *value = palloc(sizeof(Datum) * nmembers);
		Datum	   *type = palloc(sizeof(Datum) * nmembers);
		Datum	   *display = palloc(sizeof(Datum) * nmembers);
		bool	   *nulls = palloc(sizeof(bool) * nmembers);
		int			dims[1] = {nmembers};
		int			lbs[1] = {1};
		int			k = 0;

		for (int i = 0; i < n; i++)
			for (int j = 0; j < ok[i]->nmembers; j++, k++)
			{
				gid[k] = UUIDPGetDatum(&ok[i]->id);
				value[k] = CStringGetTextDatum(ok[i]->members[j].id);
				type[k] = CStringGetTextDatum(ok[i]->member_types[j]);
				nulls[k] = ok[i]->members[j].display == NULL;
				display[k] = nulls[k] ? (Datum) 0 : CStringGetTextDatum(ok[i]->members[j].display);
			}
		ins.args[1] = PointerGetDatum(construct_array(gid, k, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
		ins.args[2] = PointerGetDatum(construct_array(value, k, TEXTOID, -1, false, TYPALIGN_INT));
		ins.args[3] = PointerGetDatum(construct_array(type, k, TEXTOID, -1, false, TYPALIGN_INT));
		ins.args[4] = PointerGetDatum(construct_md_array(display, nulls, 1, dims, lbs, TEXTOID, -1, false,
														 TYPALIGN_INT));
		if (run(IS_INSERT_MEMBERS, ins.args, NULL, false, im->cxt) != SPI_OK_INSERT)
			elog(ERROR, "scim.import(): could not insert the members");
	}
}

/*
 * With stop_on_error: the failure of the first document that failed,
 * raised with the SQLSTATE src/core/error.c's table gives it.
 */
static void
raise_first(Import *im)
{
	for (int i = 0; i < im->n; i++)
		if (im->docs[i].data == NULL)
			ereport(ERROR,
					(errcode(ScimPgStatusSqlState(im->docs[i].status, im->docs[i].scim_type)),
					 errmsg("%s", im->docs[i].detail),
					 errdetail("Document %d of %d failed; nothing was imported.", i + 1, im->n)));
}

/* ------------------------------------------------------------------------
 * scim.import()
 * ------------------------------------------------------------------------
 */

/* The rows of the result: each document's id, or its failure. */
static void
emit(FunctionCallInfo fcinfo, Import *im)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	for (int i = 0; i < im->n; i++)
	{
		ImportDoc  *d = &im->docs[i];
		Datum		values[4];
		bool		nulls[4] = {false, d->data == NULL, d->scim_type == NULL, false};
		char	   *detail = d->data ? d->left_out : d->detail;

		values[0] = Int32GetDatum(i + 1);
		values[1] = d->data ? UUIDPGetDatum(&d->id) : (Datum) 0;
		values[2] = d->scim_type ? CStringGetTextDatum(d->scim_type) : (Datum) 0;
		nulls[3] = detail == NULL;
		values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* The call, with SPI connected, as the handler's role acting for the tenant. */
static void
import(FunctionCallInfo fcinfo, Import *im, bool stop_on_error)
{
	char	   *counts;

	check_all(im);
	read_tenant(im);
	for (int i = 0; i < im->n; i++)
		if (im->docs[i].data != NULL)
			accept(im, i);
	if (stop_on_error && im->failed > 0)
		raise_first(im);
	write_documents(im);
	counts = psprintf("imported %d, failed %d", im->imported, im->failed);
	im->req.method = "IMPORT";
	im->req.path = im->req.users ? "/Users" : "/Groups";
	ScimPgLogEvent(&im->req, "imported", im->req.rtype, NULL, 200, NULL, counts, im->cxt);
	emit(fcinfo, im);
}

/*
 * Lock the tenant's row with the caller's rights (see the file's header);
 * a tenant that does not exist fails.
 */
static void
lock_tenant(Import *im)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "scim.import(): SPI_connect failed");
	run(IS_LOCK_TENANT, &im->req.tenant_datum, NULL, false, im->cxt);
	if (SPI_processed == 0)
		ScimPgFail(404, NULL, "tenant \"%s\" not found", im->req.tenant_text);
	SPI_finish();
	MemoryContextSwitchTo(im->cxt);
}

PG_FUNCTION_INFO_V1(scim_import);

/*
 * scim.import(tenant uuid, resource_type text, documents jsonb[],
 * stop_on_error boolean) → table (ordinality integer, id uuid, scim_type
 * text, detail text)
 */
Datum
scim_import(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = CurrentMemoryContext;
	Import		im;
	ArrayType  *documents;
	char	   *type;
	bool		stop_on_error;
	ScimPgCall	call;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("scim.import() needs a tenant, a resource type and stop_on_error")));
	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(2))
		return (Datum) 0;

	memset(&im, 0, sizeof(im));
	type = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (pg_strcasecmp(type, "User") != 0 && pg_strcasecmp(type, "Group") != 0)
		ScimPgFail(404, NULL, "resource type \"%s\" cannot be imported; User and Group can", type);
	im.req.users = pg_strcasecmp(type, "User") == 0;
	im.req.rtype = im.req.users ? "User" : "Group";
	im.req.tenant = *PG_GETARG_UUID_P(0);
	im.req.tenant_datum = UUIDPGetDatum(&im.req.tenant);
	strlcpy(im.req.tenant_text, DatumGetCString(DirectFunctionCall1(uuid_out, im.req.tenant_datum)),
			sizeof(im.req.tenant_text));
	stop_on_error = PG_GETARG_BOOL(3);

	documents = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_NDIM(documents) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("scim.import() takes a one-dimensional array of documents")));
	deconstruct_array(documents, JSONBOID, -1, false, TYPALIGN_INT, &im.elems, &im.nulls, &im.n);
	if (im.n > IMPORT_MAX_DOCUMENTS)
		ScimPgFail(413, NULL, "scim.import() takes at most %d documents a call, not %d", IMPORT_MAX_DOCUMENTS, im.n);
	if (im.n == 0)
		return (Datum) 0;
	im.docs = palloc0(sizeof(ImportDoc) * im.n);
	im.cxt = cxt;
	/* a block that holds a document's work, kept from one document to the next */
	im.scratch = AllocSetContextCreate(cxt, "scim.import() document", 64 * 1024, 64 * 1024, ALLOCSET_DEFAULT_MAXSIZE);
	im.ts = GetCurrentTimestamp();
	im.now_text = ScimPgTimestampText(im.ts);
	im.ids = claims("scim.import() ids", im.n, false, cxt);
	im.names = claims("scim.import() names", im.n, true, cxt);
	im.external_ids = claims("scim.import() externalIds", im.n, true, cxt);

	lock_tenant(&im);
	ScimPgHandlerEnter(fcinfo, &call);
	PG_TRY();
	{
		ScimPgPinPath();
		ScimPgActForBatch(&im.req.tenant);
		/* the feed's rows of what is imported say so, as a request's name it */
		ScimPgChangesOrigin(&import_origin);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "scim.import(): SPI_connect failed");
		MemoryContextSwitchTo(cxt);
		import(fcinfo, &im, stop_on_error);
		SPI_finish();
		MemoryContextSwitchTo(cxt);
	}
	PG_CATCH();
	{
		ScimPgHandlerAbort(&call);
		PG_RE_THROW();
	}
	PG_END_TRY();
	ScimPgHandlerLeave(&call);
	return (Datum) 0;
}
