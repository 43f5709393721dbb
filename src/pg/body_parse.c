/*
 * body_parse.c
 *		A request body's JSON text as jsonb, in one pass, or NULL where
 *		jsonb_in() would raise.
 *
 * scim.handle()'s fast path used to check a body with the JSON parser and
 * then hand it to jsonb_in(), which parsed it again: a PATCH paid 16,000
 * instructions for the first pass alone.  This builds the same jsonb as
 * jsonb_in() from one pass of the same parser, and declines, instead of
 * raising, what jsonb_in() would raise on, so that the PL/pgSQL handler
 * answers it with a SCIM error.
 */
#include "scim_pg.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "jsonb_compat.h"

/*
 * Bodies up to this size only.  jsonb has its own limits (a string or a
 * whole document of 256 MB), and a number takes up to six times its text
 * in jsonb; below this none of them can be reached.  Identity providers
 * send a few kilobytes.
 */
#define BODY_MAX_BYTES (16 * 1024 * 1024)

/*
 * Numbers numeric_in() takes without raising, checked from their text: up
 * to this many characters with an exponent of at most three digits keep
 * weight and scale far inside numeric's range.  Anything larger declines.
 */
#define NUMBER_MAX_CHARS 1000
#define EXPONENT_MAX_DIGITS 3

typedef struct BodyState
{
	JsonbParseState *parse;
	JsonbValue *result;
	bool		declined;		/* a value jsonb_in() would raise on */
} BodyState;

/* Can numeric_in() take this JSON number token without raising? */
static bool
number_fits(const char *token)
{
	size_t		len = strlen(token);
	const char *e;

	if (len > NUMBER_MAX_CHARS)
		return false;
	e = strpbrk(token, "eE");
	if (e == NULL)
		return true;
	e++;
	if (*e == '+' || *e == '-')
		e++;
	while (*e == '0')
		e++;
	return strlen(e) <= EXPONENT_MAX_DIGITS;
}

static void
push_value(BodyState *state, JsonbValue *v)
{
	if (state->parse == NULL)
	{
		/* a scalar document: a one-element raw-scalar array, as jsonb_in() makes it */
		scim_push_jsonb(&state->parse, WJB_BEGIN_ARRAY, NULL);
		state->parse->contVal.val.array.rawScalar = true;
		scim_push_jsonb(&state->parse, WJB_ELEM, v);
		state->result = scim_push_jsonb(&state->parse, WJB_END_ARRAY, NULL);
	}
	else
		state->result = scim_push_jsonb(&state->parse,
										state->parse->contVal.type == jbvArray ? WJB_ELEM : WJB_VALUE, v);
}

static void
body_object_start(void *pstate)
{
	BodyState  *state = pstate;

	if (!state->declined)
		state->result = scim_push_jsonb(&state->parse, WJB_BEGIN_OBJECT, NULL);
}

static void
body_object_end(void *pstate)
{
	BodyState  *state = pstate;

	if (!state->declined)
		state->result = scim_push_jsonb(&state->parse, WJB_END_OBJECT, NULL);
}

static void
body_array_start(void *pstate)
{
	BodyState  *state = pstate;

	if (!state->declined)
		state->result = scim_push_jsonb(&state->parse, WJB_BEGIN_ARRAY, NULL);
}

static void
body_array_end(void *pstate)
{
	BodyState  *state = pstate;

	if (!state->declined)
		state->result = scim_push_jsonb(&state->parse, WJB_END_ARRAY, NULL);
}

static void
body_field_start(void *pstate, char *fname, bool isnull)
{
	BodyState  *state = pstate;
	JsonbValue	v;

	if (!state->declined)
		state->result = scim_push_jsonb(&state->parse, WJB_KEY, scim_jsonb_string(&v, fname));
}

static void
body_scalar(void *pstate, char *token, JsonTokenType type)
{
	BodyState  *state = pstate;
	JsonbValue	v;

	if (state->declined)
		return;
	switch (type)
	{
		case JSON_TOKEN_STRING:
			scim_jsonb_string(&v, token);
			break;
		case JSON_TOKEN_NUMBER:
			if (!number_fits(token))
			{
				state->declined = true;
				return;
			}
			v.type = jbvNumeric;
			v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(token),
																ObjectIdGetDatum(InvalidOid),
																Int32GetDatum(-1)));
			break;
		case JSON_TOKEN_TRUE:
		case JSON_TOKEN_FALSE:
			v.type = jbvBool;
			v.val.boolean = type == JSON_TOKEN_TRUE;
			break;
		case JSON_TOKEN_NULL:
			v.type = jbvNull;
			break;
		default:
			elog(ERROR, "unexpected JSON token type %d", (int) type);
	}
	push_value(state, &v);
}

/*
 * Nested no deeper than max_depth?  The parser recurses once per level and
 * raises past the stack's limit, so depth is counted first, in a scan that
 * only follows strings and brackets.
 */
static bool
depth_within(const char *s, int len, int max_depth)
{
	int			depth = 0;
	bool		in_string = false;

	for (int i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if ((c == '{' || c == '[') && ++depth > max_depth)
			return false;
		else if (c == '}' || c == ']')
			depth--;
	}
	return true;
}

/*
 * The JSON text s (len bytes, NUL-terminated) as jsonb_in() would make it;
 * NULL when it is not JSON, nests deeper than max_depth, or holds what
 * jsonb_in() would raise on.
 */
Jsonb *
ScimPgParseBody(char *s, int len, int max_depth)
{
	JsonLexContext *lex;
	JsonSemAction sem;
	BodyState	state;

	if (len > BODY_MAX_BYTES || !depth_within(s, len, max_depth))
		return NULL;
	memset(&state, 0, sizeof(state));
	memset(&sem, 0, sizeof(sem));
	sem.semstate = &state;
	sem.object_start = body_object_start;
	sem.object_end = body_object_end;
	sem.array_start = body_array_start;
	sem.array_end = body_array_end;
	sem.object_field_start = body_field_start;
	sem.scalar = body_scalar;
	lex = makeJsonLexContextCstringLen(s, len, GetDatabaseEncoding(), true);
	if (pg_parse_json(lex, &sem) != JSON_SUCCESS || state.declined || state.result == NULL)
		return NULL;
	return JsonbValueToJsonb(state.result);
}
