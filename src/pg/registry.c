/*
 * registry.c
 *		The schema registry as each backend sees it: loaded from the
 *		scim.schema tables with SPI on first use, cached in process memory,
 *		and dropped when any backend changes those tables.
 *
 * A statement trigger on the tables queues a relcache invalidation for the
 * table; every backend's relcache callback then marks its copy stale, and
 * the next call rebuilds it.  The rebuild happens only at the top of a SQL
 * function, never while a filter is being evaluated, and each rebuild bumps
 * a generation number so that filters cached in fn_extra know to resolve
 * again against the new registry.
 */
#include "scim_pg.h"

#include "catalog/namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"

static ScimRegistry *registry = NULL;
static bool registry_valid = false;
static uint64 registry_generation = 0;
static bool callback_registered = false;

/* The registry tables, noted at load: only their invalidations matter. */
static Oid	registry_relids[4];

static void
registry_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
	{
		registry_valid = false;	/* a full reset */
		return;
	}
	for (int i = 0; i < lengthof(registry_relids); i++)
		if (registry_relids[i] == relid)
			registry_valid = false;
}

/* Remember the OIDs of the registry tables. */
static void
note_registry_relids(Oid nsp)
{
	static const char *const names[] = {"schema", "resource_type", "resource_type_extension", "common_attributes"};

	for (int i = 0; i < lengthof(registry_relids); i++)
		registry_relids[i] = get_relname_relid(names[i], nsp);
}

/* Raise err; load_registry's PG_CATCH releases the half-built registry. */
static void
load_failed(ScimError *err, const char *what)
{
	ScimError	copy = *err;

	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("could not load the SCIM schema registry: %s", copy.message),
			 errdetail("The failing row is in %s.", what),
			 errhint("Fix or remove the row; scim.check_schema() validates a definition.")));
}

/* Read the registry tables into a new core registry. */
static ScimRegistry *
load_registry(void)
{
	ScimError	err;
	ScimRegistry *reg;
	int			ret;

	if (get_namespace_oid("scim", true) == InvalidOid ||
		get_relname_relid("schema", get_namespace_oid("scim", true)) == InvalidOid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"scim\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION scim.")));

	note_registry_relids(get_namespace_oid("scim", true));
	reg = ScimRegistryCreate(&err);
	if (reg == NULL)
		ScimPgRaise(&err);

	PG_TRY();
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");

		ret = SPI_execute("SELECT attributes::text FROM scim.common_attributes", true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read scim.common_attributes");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *json = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (!ScimRegistrySetCommon(reg, json, strlen(json), &err))
				load_failed(&err, "scim.common_attributes");
		}

		/* built-in schemas first, so that messages about custom ones name them */
		ret = SPI_execute("SELECT id, definition::text FROM scim.schema ORDER BY builtin DESC, id",
						  true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read scim.schema");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *json = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

			if (ScimRegistryAddSchema(reg, json, strlen(json), &err) == NULL)
				load_failed(&err, "scim.schema");
		}

		ret = SPI_execute("SELECT name, endpoint, description, schema FROM scim.resource_type ORDER BY name",
						  true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read scim.resource_type");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;

			if (ScimRegistryAddResourceType(reg, SPI_getvalue(tup, desc, 1), SPI_getvalue(tup, desc, 2),
											SPI_getvalue(tup, desc, 3), SPI_getvalue(tup, desc, 4),
											&err) == NULL)
				load_failed(&err, "scim.resource_type");
		}

		ret = SPI_execute("SELECT resource_type, schema, required FROM scim.resource_type_extension "
						  "ORDER BY resource_type, builtin DESC, schema", true, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "could not read scim.resource_type_extension");
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			char	   *req = SPI_getvalue(tup, desc, 3);

			if (!ScimRegistryAddExtension(reg, SPI_getvalue(tup, desc, 1), SPI_getvalue(tup, desc, 2),
										  req != NULL && req[0] == 't', &err))
				load_failed(&err, "scim.resource_type_extension");
		}
		SPI_finish();
	}
	PG_CATCH();
	{
		ScimRegistryFree(reg);
		PG_RE_THROW();
	}
	PG_END_TRY();
	return reg;
}

/*
 * The current registry, loading it if needed; *generation changes whenever
 * the registry is rebuilt.
 */
const ScimRegistry *
ScimPgRegistry(uint64 *generation)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(registry_invalidate, (Datum) 0);
		callback_registered = true;
	}
	/* pick up changes committed by other backends */
	AcceptInvalidationMessages();
	if (!registry_valid || registry == NULL)
	{
		ScimRegistry *fresh;

		/* an invalidation that arrives during the load clears this again */
		registry_valid = true;
		PG_TRY();
		{
			fresh = load_registry();
		}
		PG_CATCH();
		{
			registry_valid = false;
			PG_RE_THROW();
		}
		PG_END_TRY();
		if (registry != NULL)
			ScimRegistryFree(registry);
		registry = fresh;
		registry_generation++;
	}
	if (generation)
		*generation = registry_generation;
	return registry;
}

/* Look up a resource type by name (case-insensitive) or raise an error. */
const ScimResourceType *
ScimPgResourceType(const ScimRegistry *reg, text *name)
{
	const ScimResourceType *t = ScimRegistryFindType(reg, VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));

	if (t == NULL)
		ereport(ERROR,
				(errcode(ScimPgSqlState(SCIM_ERR_UNKNOWN_RESOURCE_TYPE)),
				 errmsg("resource type \"%s\" does not exist", text_to_cstring(name)),
				 errhint("Known resource types are listed in scim.resource_type.")));
	return t;
}

PG_FUNCTION_INFO_V1(scim_registry_changed);

/* Statement trigger on the registry tables: tell every backend. */
Datum
scim_registry_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("scim._registry_changed() must be called as a trigger")));
	CacheInvalidateRelcacheByRelid(RelationGetRelid(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(scim_check_schema);

/* scim.check_schema(jsonb): validate a schema definition with the core. */
Datum
scim_check_schema(PG_FUNCTION_ARGS)
{
	Jsonb	   *def = PG_GETARG_JSONB_P(0);
	char	   *json = JsonbToCString(NULL, &def->root, VARSIZE(def));
	ScimError	err;
	ScimRegistry *reg = ScimRegistryCreate(&err);

	if (reg == NULL)
		ScimPgRaise(&err);
	if (ScimRegistryAddSchema(reg, json, strlen(json), &err) == NULL)
	{
		ScimRegistryFree(reg);
		if (err.kind == SCIM_ERR_INVALID_SCHEMA)
			ereport(ERROR,
					(errcode(ScimPgSqlState(SCIM_ERR_INVALID_SCHEMA)),
					 errmsg("%s", err.message),
					 err.detail[0] ? errdetail("%s", err.detail) : 0,
					 errhint("A schema is an object with \"id\" (a URN), \"name\" and \"attributes\" as in RFC 7643 section 7.")));
		ScimPgRaise(&err);
	}
	ScimRegistryFree(reg);
	PG_RETURN_VOID();
}
