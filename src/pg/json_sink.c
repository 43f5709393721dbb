/*
 * json_sink.c
 *		Where a document the glue makes goes: into a jsonb being built, or
 *		straight out as JSON text, written as jsonb_out() would write that
 *		jsonb.
 *
 * scim.handle_text() hands its HTTP layer the body as text.  Building a
 * jsonb only for jsonb_out() to walk it again was a quarter of the
 * instructions of a lookup: pushJsonbValue() unpacks every member kept
 * whole, the jsonb is encoded, then decoded and escaped a character at a
 * time.  Written once as text, a member kept whole is copied from the
 * stored document in one walk.
 *
 * The text is byte for byte jsonb_out()'s (sql/handle_text.sql holds the
 * two to it): ", " and ": " between members, strings escaped as
 * escape_json() escapes them, numbers through numeric_out(), and an
 * object's members in jsonb's order, which the callers keep (ScimPgKeyCmp).
 */
#include "scim_pg.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "jsonb_compat.h"

/* jsonb's order of object keys: shorter first, then byte by byte. */
int
ScimPgKeyCmp(const char *a, int alen, const char *b, int blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* Does key (keylen bytes) equal one of names[], case-insensitively? */
bool
ScimPgKeyIn(const char *key, int keylen, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (ScimStrCaseEq(key, (size_t) keylen, names[i], strlen(names[i])))
			return true;
	return false;
}

/* Append n bytes to buf, keeping count of a member's length. */
static void
put_bytes(StringInfo buf, const char *data, uint32 len, uint32 *total)
{
	appendBinaryStringInfo(buf, data, len);
	*total += len;
}

/*
 * Append an object of members m[0..n-1] (in jsonb's key order, no two the
 * same) to buf, which must end int-aligned, as JsonbValueToJsonb() would
 * write it.  A member's value is copied as it is: a nested container's
 * offsets are its own, so one can be copied from another document.
 */
void
ScimPgWriteObject(StringInfo buf, const ScimPgMember *m, int n)
{
	uint32		header = (uint32) n | JB_FOBJECT;
	int			jentries;
	uint32		total = 0;

	Assert(INTALIGN(buf->len) == buf->len);
	appendBinaryStringInfo(buf, (const char *) &header, sizeof(header));
	jentries = buf->len;
	enlargeStringInfo(buf, sizeof(JEntry) * n * 2);
	buf->len += sizeof(JEntry) * n * 2;
	for (int i = 0; i < n * 2; i++)
	{
		const ScimPgEntry *e = i < n ? &m[i].key : &m[i - n].value;
		uint32		start = total;
		JEntry		je;

		if (e->type == JENTRY_ISNUMERIC || e->type == JENTRY_ISCONTAINER)
		{
			static const char zeros[sizeof(int32)] = {0};

			/* the padding counts as part of the value, as jsonb has it */
			put_bytes(buf, zeros, INTALIGN(buf->len) - buf->len, &total);
		}
		put_bytes(buf, e->data, e->len, &total);
		if (total > JENTRY_OFFLENMASK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("total size of jsonb object elements exceeds the maximum of %u bytes",
							JENTRY_OFFLENMASK)));
		/* every JB_OFFSET_STRIDE'th entry holds its end offset, the rest their lengths */
		je = e->type | (i % JB_OFFSET_STRIDE == 0 ? JENTRY_HAS_OFF | total : total - start);
		memcpy(buf->data + jentries + i * sizeof(JEntry), &je, sizeof(JEntry));
	}
}

/* An object of members m[0..n-1], as ScimPgWriteObject() writes it, as a document. */
Jsonb *
ScimPgObjectJsonb(const ScimPgMember *m, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	ScimPgWriteObject(&buf, m, n);
	SET_VARSIZE(buf.data, buf.len);
	return (Jsonb *) buf.data;
}

/*
 * The members of object obj with add[0..nadd-1] (in jsonb's key order, no
 * two the same) put in: one with a key obj has takes that member's place
 * (the new value wins, as in jsonb_in), and obj's members named in skip[]
 * (case-insensitively) are left out.  Sets *count; obj's members are not
 * copied, only pointed to.
 */
ScimPgMember *
ScimPgMergeMembers(const JsonbContainer *obj, const ScimPgMember *add, int nadd,
				   const char *const *skip, int nskip, int *count)
{
	ScimPgMember *m = palloc(sizeof(ScimPgMember) * (JsonContainerSize(obj) + nadd + 1));
	int			n = 0;
	int			next = 0;
	ScimPgWalk	w;
	ScimPgMember cur;
	bool		more;

	ScimPgWalkInit(&w, obj);
	do
	{
		int			cmp = 1;

		more = ScimPgWalkNext(&w, &cur.key, &cur.value);
		if (more && nskip > 0 && ScimPgKeyIn(cur.key.data, cur.key.len, skip, nskip))
			continue;
		/* the new members that go before it, or in its place */
		while (next < nadd &&
			   (!more || (cmp = ScimPgKeyCmp(add[next].key.data, add[next].key.len,
											 cur.key.data, cur.key.len)) <= 0))
		{
			m[n++] = add[next++];
			if (cmp == 0)
				break;
		}
		if (more && cmp != 0)
			m[n++] = cur;
	} while (more);
	*count = n;
	return m;
}

/*
 * The members of object obj with its members keys[i] set to the strings
 * values[i] in place of its own (added where it has none); sets *count.
 */
ScimPgMember *
ScimPgWithStrings(const JsonbContainer *obj, int n, const char *const *keys, const char *const *values,
				  int *count)
{
	ScimPgMember *add = palloc(sizeof(ScimPgMember) * Max(n, 1));

	/* in jsonb's key order */
	for (int i = 0; i < n; i++)
	{
		int			j = i;

		for (; j > 0 && ScimPgKeyCmp(add[j - 1].key.data, add[j - 1].key.len, keys[i], strlen(keys[i])) > 0; j--)
			add[j] = add[j - 1];
		ScimPgStringEntry(&add[j].key, keys[i]);
		ScimPgStringEntry(&add[j].value, values[i]);
	}
	return ScimPgMergeMembers(obj, add, n, NULL, 0, count);
}

#define ONES UINT64CONST(0x0101010101010101)
#define HIGHS UINT64CONST(0x8080808080808080)

/*
 * Are the 8 bytes at p free of what JSON escapes (a byte below 0x20, '"'
 * or a backslash)?  The classic tests for a zero or smaller byte in a word:
 * a byte of 0x80 or more never counts, so UTF-8 passes.
 */
static inline bool
plain8(const char *p)
{
	uint64		w;
	uint64		q;
	uint64		b;

	memcpy(&w, p, 8);
	q = w ^ (ONES * '"');
	b = w ^ (ONES * '\\');
	return (((w - ONES * 0x20) | (q - ONES) | (b - ONES)) & ~w & HIGHS) == 0;
}

/*
 * s as a JSON string, escaped as escape_json() does, but eight bytes at a
 * time and with safe runs copied whole.  That function reads a C string,
 * so a string stops at a NUL here too (jsonb refuses \u0000, so a stored
 * string has none).
 */
static void
text_string(StringInfo out, const char *s, int len)
{
	const char *end = s + strnlen(s, len);
	const char *run = s;

	enlargeStringInfo(out, (end - s) + 2);
	appendStringInfoCharMacro(out, '"');
	for (const char *p = s; p < end; p++)
	{
		unsigned char c;
		const char *esc;

		while (end - p >= 8 && plain8(p))
			p += 8;
		if (p >= end)
			break;
		c = (unsigned char) *p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		appendBinaryStringInfo(out, run, p - run);
		run = p + 1;
		switch (c)
		{
			case '\b':
				esc = "\\b";
				break;
			case '\f':
				esc = "\\f";
				break;
			case '\n':
				esc = "\\n";
				break;
			case '\r':
				esc = "\\r";
				break;
			case '\t':
				esc = "\\t";
				break;
			case '"':
				esc = "\\\"";
				break;
			case '\\':
				esc = "\\\\";
				break;
			default:
				appendStringInfo(out, "\\u%04x", (int) c);
				continue;
		}
		appendBinaryStringInfo(out, esc, 2);
	}
	appendBinaryStringInfo(out, run, end - run);
	appendStringInfoCharMacro(out, '"');
}

static void
text_scalar(StringInfo out, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case jbvString:
			text_string(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																			NumericGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			if (v->val.boolean)
				appendBinaryStringInfo(out, "true", 4);
			else
				appendBinaryStringInfo(out, "false", 5);
			break;
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
}

static void text_container(StringInfo out, const JsonbContainer *c);

/* One member's value or element as JSON text. */
static void
text_entry(StringInfo out, const ScimPgEntry *e)
{
	switch (e->type)
	{
		case JENTRY_ISSTRING:
			text_string(out, e->data, e->len);
			break;
		case JENTRY_ISNUMERIC:
			appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																			PointerGetDatum(e->data))));
			break;
		case JENTRY_ISBOOL_TRUE:
			appendBinaryStringInfo(out, "true", 4);
			break;
		case JENTRY_ISBOOL_FALSE:
			appendBinaryStringInfo(out, "false", 5);
			break;
		case JENTRY_ISNULL:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case JENTRY_ISCONTAINER:
			text_container(out, (const JsonbContainer *) e->data);
			break;
		default:
			elog(ERROR, "unexpected jsonb entry type %u", e->type);
	}
}

/*
 * A jsonb container as JSON text, as JsonbToCString() writes it, read
 * straight from its binary form.  A scalar document is an array of one
 * element, written without brackets.
 */
static void
text_container(StringInfo out, const JsonbContainer *c)
{
	bool		brackets = !JsonContainerIsScalar(c);
	ScimPgWalk	w;
	ScimPgEntry key;
	ScimPgEntry value;

	check_stack_depth();
	ScimPgWalkInit(&w, c);
	if (brackets)
		appendStringInfoCharMacro(out, w.object ? '{' : '[');
	for (bool first = true; ScimPgWalkNext(&w, &key, &value); first = false)
	{
		if (!first)
			appendBinaryStringInfo(out, ", ", 2);
		if (w.object)
		{
			text_string(out, key.data, key.len);
			appendBinaryStringInfo(out, ": ", 2);
		}
		text_entry(out, &value);
	}
	if (brackets)
		appendStringInfoCharMacro(out, w.object ? '}' : ']');
}

/* A sink into a new jsonb, or, with text, writing to text. */
void
ScimPgSinkInit(ScimPgSink *s, StringInfo text)
{
	s->st = NULL;
	s->text = text;
	s->first = true;
	s->result = NULL;
}

static inline void
text_separate(ScimPgSink *s)
{
	if (!s->first)
		appendBinaryStringInfo(s->text, ", ", 2);
}

/* Open an object (WJB_BEGIN_OBJECT) or an array (WJB_BEGIN_ARRAY). */
void
ScimPgSinkOpen(ScimPgSink *s, JsonbIteratorToken tok)
{
	if (s->text == NULL)
	{
		s->result = scim_push_jsonb(&s->st, tok, NULL);
		return;
	}
	text_separate(s);
	appendStringInfoCharMacro(s->text, tok == WJB_BEGIN_OBJECT ? '{' : '[');
	s->first = true;
}

/* Close what ScimPgSinkOpen() opened (WJB_END_OBJECT, WJB_END_ARRAY). */
void
ScimPgSinkClose(ScimPgSink *s, JsonbIteratorToken tok)
{
	if (s->text == NULL)
	{
		s->result = scim_push_jsonb(&s->st, tok, NULL);
		return;
	}
	appendStringInfoCharMacro(s->text, tok == WJB_END_OBJECT ? '}' : ']');
	s->first = false;
}

/* The next member's key: members must come in ScimPgKeyCmp() order. */
void
ScimPgSinkKey(ScimPgSink *s, const char *key, int len)
{
	if (s->text == NULL)
	{
		JsonbValue	k;

		k.type = jbvString;
		k.val.string.val = (char *) key;
		k.val.string.len = len;
		s->result = scim_push_jsonb(&s->st, WJB_KEY, &k);
		return;
	}
	text_separate(s);
	text_string(s->text, key, len);
	appendBinaryStringInfo(s->text, ": ", 2);
	s->first = true;
}

/* A member's value (WJB_VALUE) or an element (WJB_ELEM): a scalar or a whole container. */
void
ScimPgSinkValue(ScimPgSink *s, JsonbIteratorToken tok, JsonbValue *v)
{
	if (s->text == NULL)
	{
		s->result = scim_push_jsonb(&s->st, tok, v);
		return;
	}
	text_separate(s);
	if (v->type == jbvBinary)
		text_container(s->text, v->val.binary.data);
	else
		text_scalar(s->text, v);
	s->first = false;
}

void
ScimPgSinkString(ScimPgSink *s, JsonbIteratorToken tok, const char *str)
{
	JsonbValue	v;

	ScimPgSinkValue(s, tok, scim_jsonb_string(&v, str));
}

void
ScimPgSinkInt(ScimPgSink *s, JsonbIteratorToken tok, int64 n)
{
	JsonbValue	v;

	if (s->text != NULL)
	{
		text_separate(s);
		appendStringInfo(s->text, INT64_FORMAT, n);
		s->first = false;
		return;
	}
	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(n);
	ScimPgSinkValue(s, tok, &v);
}

/* A jsonb sink's document, once its outermost container is closed. */
Jsonb *
ScimPgSinkJsonb(ScimPgSink *s)
{
	Assert(s->text == NULL && s->st == NULL);
	return JsonbValueToJsonb(s->result);
}

/* A jsonb document as JSON text, as jsonb_out() writes it. */
void
ScimPgJsonbText(StringInfo out, Jsonb *jb)
{
	text_container(out, &jb->root);
}
