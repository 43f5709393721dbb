/*
 * body_parse.c
 *		A request body's JSON text as jsonb, in one pass, or NULL where
 *		jsonb_in() would raise.
 *
 * scim.handle()'s fast path used to check a body with PostgreSQL's JSON
 * parser and then hand it to jsonb_in(), which parsed it again.  One pass
 * of that parser still cost a PATCH 24,000 instructions, 9,000 of them in
 * its lexer appending strings a byte at a time.  This reads RFC 8259 JSON
 * itself, copying the plain runs of a string whole, and builds the value
 * through pushJsonbValue() as jsonb_in() does, so the result is the same
 * jsonb (duplicate keys, key order and numbers included).  It never
 * accepts what jsonb_in() refuses; what it declines goes to jsonb_in(),
 * and what that raises on is answered with a SCIM error (ScimPgReadBody()).
 */
#include "scim_pg.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "jsonb_compat.h"
#include "utf8.h"

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

typedef struct Parser
{
	const char *p;
	const char *end;
	int			depth;
	bool		utf8;			/* the database's encoding is UTF-8 */
	JsonbParseState *parse;
	JsonbValue *result;
} Parser;

static bool parse_value(Parser *ps);

static inline void
skip_space(Parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/* Push a scalar where the parse is: an element, a member's value, or the document. */
static void
push_scalar(Parser *ps, JsonbValue *v)
{
	if (ps->parse == NULL)
	{
		/* a scalar document: a one-element raw-scalar array, as jsonb_in() makes it */
		scim_push_jsonb(&ps->parse, WJB_BEGIN_ARRAY, NULL);
		ps->parse->contVal.val.array.rawScalar = true;
		scim_push_jsonb(&ps->parse, WJB_ELEM, v);
		ps->result = scim_push_jsonb(&ps->parse, WJB_END_ARRAY, NULL);
	}
	else
		ps->result = scim_push_jsonb(&ps->parse,
									 ps->parse->contVal.type == jbvArray ? WJB_ELEM : WJB_VALUE, v);
}

/*
 * The string at ps->p (its opening quote) into *v, the parser past its
 * closing quote.  A string without escapes points into the text; one with
 * them is decoded into palloc'd memory, as jsonb_in()'s lexer decodes it.
 * False where that lexer reports an error (a raw control character, or an
 * escape ScimJsonUnescape() refuses) or converts a \u escape to another
 * encoding, which is left to it.
 */
static bool
parse_string(Parser *ps, JsonbValue *v)
{
	const char *p = ps->p + 1;
	const char *run = p;
	char	   *out = NULL;
	char	   *o = NULL;
	size_t		written;
	size_t		used;
	unsigned int cp;

	for (;;)
	{
		unsigned char c;

		while (p < ps->end && (unsigned char) *p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p >= ps->end)
			return false;
		c = (unsigned char) *p;
		if (c < 0x20)
			return false;
		if (out != NULL || c == '\\')
		{
			if (out == NULL)
				o = out = palloc(ps->end - ps->p);	/* decoded is never longer */
			memcpy(o, run, p - run);
			o += p - run;
		}
		if (c == '"')
			break;
		/* an escape */
		if (ps->end - p < 2 || ScimJsonUnescape(p, ps->end, o, &written, &used, &cp) != SCIM_ESCAPE_OK ||
			(cp > 0x7F && !ps->utf8))
			return false;
		o += written;
		p += used;
		run = p;
	}
	v->type = jbvString;
	v->val.string.val = out != NULL ? out : (char *) run;
	v->val.string.len = out != NULL ? o - out : p - run;
	ps->p = p + 1;
	return true;
}

/* Can numeric_in() take this JSON number text without raising? */
static bool
number_fits(const char *start, const char *end)
{
	const char *e = start;

	if (end - start > NUMBER_MAX_CHARS)
		return false;
	while (e < end && *e != 'e' && *e != 'E')
		e++;
	if (e == end)
		return true;
	e++;
	if (*e == '+' || *e == '-')
		e++;
	while (e < end && *e == '0')
		e++;
	return end - e <= EXPONENT_MAX_DIGITS;
}

static inline bool
is_digit(Parser *ps)
{
	return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

/* The number at ps->p, by RFC 8259's grammar, which PostgreSQL's lexer follows. */
static bool
parse_number(Parser *ps, JsonbValue *v)
{
	const char *start = ps->p;

	if (*ps->p == '-')
		ps->p++;
	if (!is_digit(ps))
		return false;
	if (*ps->p++ != '0')
		while (is_digit(ps))
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.')
	{
		ps->p++;
		if (!is_digit(ps))
			return false;
		while (is_digit(ps))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
	{
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!is_digit(ps))
			return false;
		while (is_digit(ps))
			ps->p++;
	}
	if (!number_fits(start, ps->p))
		return false;
	v->type = jbvNumeric;
	v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in,
														 CStringGetDatum(pnstrdup(start, ps->p - start)),
														 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	return true;
}

static bool
parse_literal(Parser *ps, const char *word, int len)
{
	if (ps->end - ps->p < len || memcmp(ps->p, word, len) != 0)
		return false;
	ps->p += len;
	return true;
}

/* An object or array at ps->p (its opening bracket). */
static bool
parse_container(Parser *ps)
{
	bool		object = *ps->p == '{';
	char		close = object ? '}' : ']';

	if (++ps->depth > SCIM_BODY_MAX_DEPTH)
		return false;
	check_stack_depth();
	ps->result = scim_push_jsonb(&ps->parse, object ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, NULL);
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close)
		ps->p++;
	else
		for (;;)
		{
			if (object)
			{
				JsonbValue	key;

				if (ps->p >= ps->end || *ps->p != '"' || !parse_string(ps, &key))
					return false;
				scim_push_jsonb(&ps->parse, WJB_KEY, &key);
				skip_space(ps);
				if (ps->p >= ps->end || *ps->p++ != ':')
					return false;
				skip_space(ps);
			}
			if (!parse_value(ps))
				return false;
			skip_space(ps);
			if (ps->p >= ps->end)
				return false;
			if (*ps->p == close)
			{
				ps->p++;
				break;
			}
			if (*ps->p++ != ',')
				return false;
			skip_space(ps);
		}
	ps->depth--;
	ps->result = scim_push_jsonb(&ps->parse, object ? WJB_END_OBJECT : WJB_END_ARRAY, NULL);
	return true;
}

static bool
parse_value(Parser *ps)
{
	JsonbValue	v;

	if (ps->p >= ps->end)
		return false;
	switch (*ps->p)
	{
		case '{':
		case '[':
			return parse_container(ps);
		case '"':
			if (!parse_string(ps, &v))
				return false;
			break;
		case 't':
		case 'f':
			v.type = jbvBool;
			v.val.boolean = *ps->p == 't';
			if (!parse_literal(ps, v.val.boolean ? "true" : "false", v.val.boolean ? 4 : 5))
				return false;
			break;
		case 'n':
			v.type = jbvNull;
			if (!parse_literal(ps, "null", 4))
				return false;
			break;
		default:
			if (!parse_number(ps, &v))
				return false;
			break;
	}
	push_scalar(ps, &v);
	return true;
}

/*
 * The JSON text s (len bytes) as jsonb_in() would make it; NULL when it is
 * not JSON, nests deeper than SCIM_BODY_MAX_DEPTH, or holds what jsonb_in()
 * would raise on or this parser leaves to it.
 */
Jsonb *
ScimPgParseBody(const char *s, size_t len)
{
	Parser		ps = {s, s + len, 0, GetDatabaseEncoding() == PG_UTF8, NULL, NULL};

	if (len > BODY_MAX_BYTES)
		return NULL;
	skip_space(&ps);
	if (!parse_value(&ps))
		return NULL;
	skip_space(&ps);
	if (ps.p != ps.end)
		return NULL;			/* text after the document */
	return JsonbValueToJsonb(ps.result);
}

/*
 * A request body as the handler reads it, NULL for none: what
 * ScimPgParseBody() declines goes to jsonb_in(), and what that refuses
 * fails the request with its message, as the PL/pgSQL handler's
 * body::jsonb did: text that is no JSON (or holds an escape the database
 * cannot store) 400 invalidSyntax, a number numeric cannot hold 400
 * invalidValue.  Anything else jsonb_in() raises (a string past jsonb's
 * limit, too deep a nesting) is raised as it is.
 */
Jsonb *
ScimPgReadBody(text *body)
{
	MemoryContext cxt = CurrentMemoryContext;
	char	   *s;
	volatile Datum jb = (Datum) 0;

	if (body == NULL)
		return NULL;
	s = VARDATA_ANY(body);
	jb = PointerGetDatum(ScimPgParseBody(s, VARSIZE_ANY_EXHDR(body)));
	if (jb != (Datum) 0)
		return DatumGetJsonbP(jb);
	s = text_to_cstring(body);
	/* the error is replaced by another, never recovered from: no subtransaction needed */
	PG_TRY();
	{
		jb = DirectFunctionCall1(jsonb_in, CStringGetDatum(s));
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (e->sqlerrcode != ERRCODE_INVALID_TEXT_REPRESENTATION &&
			e->sqlerrcode != ERRCODE_UNTRANSLATABLE_CHARACTER &&
			e->sqlerrcode != ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE)
			PG_RE_THROW();
		FlushErrorState();
		if (e->sqlerrcode == ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE)
			ereport(ERROR,
					(errcode(ScimPgStatusSqlState(400, "invalidValue")),
					 errmsg("the request body holds a number that cannot be stored: %s", e->message)));
		ereport(ERROR,
				(errcode(ScimPgStatusSqlState(400, "invalidSyntax")),
				 errmsg("the request body is not valid JSON: %s", e->message)));
	}
	PG_END_TRY();
	return DatumGetJsonbP(jb);
}

PG_FUNCTION_INFO_V1(scim_body_jsonb);

/*
 * scim._body_jsonb(body text) → jsonb: the body as the one-pass parser
 * reads it, NULL where it leaves the body to jsonb_in(); for tests that
 * compare it with jsonb_in().
 */
Datum
scim_body_jsonb(PG_FUNCTION_ARGS)
{
	text	   *body = PG_GETARG_TEXT_PP(0);
	Jsonb	   *jb = ScimPgParseBody(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body));

	if (jb == NULL)
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(jb);
}
