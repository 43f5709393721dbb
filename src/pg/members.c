/*
 * members.c
 *		A group's members, which scim.group_members holds apart from the
 *		group's document: read for the responses that show them.
 */
#include "handle_int.h"

#include "utils/builtins.h"
#include "utils/uuid.h"

/*
 * The members of group gid (its id as text) as responses show them: value,
 * type, display and $ref, in the order of their values; [] for none.
 */
Jsonb *
ScimPgMembersOf(const Request *req, const char *gid, MemoryContext cxt)
{
	Datum		args[3];
	bool		isnull;
	Datum		d;

	args[0] = req->tenant_datum;
	args[1] = DirectFunctionCall1(uuid_in, CStringGetDatum(gid));
	args[2] = CStringGetTextDatum(req->base);
	if (ScimPgRun(ST_GROUP_MEMBERS, args, true, cxt) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "scim.handle(): could not read a group's members");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return DatumGetJsonbPCopy(d);
}
