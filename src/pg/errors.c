/*
 * errors.c
 *		Turn the core's ScimError into ereport(), with the SQLSTATE of the
 *		error's scimType (the mapping table lives in src/core/error.c).
 */
#include "scim_pg.h"

#include "funcapi.h"
#include "utils/builtins.h"

/* The SQLSTATE (as PostgreSQL encodes it) of an error kind. */
int
ScimPgSqlState(ScimErrorKind kind)
{
	const ScimErrorCode *code = ScimErrorCodeOf(kind);
	const char *s;

	if (code == NULL)
		return ERRCODE_INTERNAL_ERROR;
	s = code->sqlstate;
	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/*
 * The SQLSTATE of a failure with an HTTP status and a scimType (NULL for
 * none): the table's row for the scimType, else the status's own row, else
 * SC400.
 */
int
ScimPgStatusSqlState(int status, const char *scim_type)
{
	int			n;
	const ScimErrorCode *codes = ScimErrorCodes(&n);
	const char *s = "SC400";

	for (int i = 0; i < n; i++)
		if (scim_type != NULL ? (codes[i].scim_type != NULL && strcmp(codes[i].scim_type, scim_type) == 0) :
			(codes[i].scim_type == NULL && codes[i].http_status == status))
		{
			s = codes[i].sqlstate;
			break;
		}
	return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

/*
 * The HTTP status and scimType (NULL for none) a request that failed with
 * SQLSTATE code is answered with; false when the table has no row for it.
 */
bool
ScimPgSqlStateStatus(int code, int *status, const char **scim_type)
{
	int			n;
	const ScimErrorCode *codes = ScimErrorCodes(&n);

	for (int i = 0; i < n; i++)
	{
		const char *s = codes[i].sqlstate;

		if (MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]) == code)
		{
			*status = codes[i].http_status;
			*scim_type = codes[i].scim_type;
			return true;
		}
	}
	return false;
}

/*
 * Raise err as an ERROR.  The core's memory must already be released: this
 * does not return.
 */
void
ScimPgRaise(const ScimError *err)
{
	if (err->kind == SCIM_ERR_OUT_OF_MEMORY)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	ereport(ERROR,
			(errcode(ScimPgSqlState(err->kind)),
			 errmsg("%s", err->message),
			 err->detail[0] ? errdetail("%s", err->detail) : 0,
			 err->hint[0] ? errhint("%s", err->hint) : 0));
	pg_unreachable();
}

PG_FUNCTION_INFO_V1(scim_error_codes);

/* scim.error_codes(): the mapping table, for callers and the docs. */
Datum
scim_error_codes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	const ScimErrorCode *codes = ScimErrorCodes(&n);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < n; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		if (codes[i].scim_type)
			values[0] = CStringGetTextDatum(codes[i].scim_type);
		else
			nulls[0] = true;
		values[1] = CStringGetTextDatum(codes[i].sqlstate);
		values[2] = Int32GetDatum(codes[i].http_status);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
