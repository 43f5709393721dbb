/*
 * filter_parse.c
 *		Recursive-descent parser for the SCIM filter grammar (RFC 7644
 *		§3.4.2.2, Figure 1); filter_print.c prints its canonical form.
 *
 * Precedence is "not" over "and" over "or", with parentheses first; the
 * comparison operators bind tighter than all of them (the RFC's own ordered
 * list reads the other way round; erratum 4670 flags that as a slip).
 * Operators, keywords and attribute names are case-insensitive.  "not(" and
 * "not (" are both accepted (erratum 7319).  Entra ID's
 * "emails[type eq "work"].value eq "x"" is read as
 * "emails[type eq "work" and value eq "x"]".
 *
 * The parser checks the grammar only; ScimFilterResolve binds paths to a
 * schema.  It works on bytes and refuses invalid UTF-8 and NUL bytes up
 * front, so positions reported in characters are meaningful.  It counts
 * terms and levels as it reads (ScimFilterLimits), so that an oversized
 * filter is refused at its first term too many, before its tree is built.
 */
#include "filter.h"

#include <string.h>

#include "decimal.h"
#include "utf8.h"

typedef struct Parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	int			depth;
	int			max_depth;		/* deepest nesting reached so far */
	int			terms;			/* attribute expressions read so far */
	int			limit_terms;	/* ScimFilterLimits, clamped */
	int			limit_depth;
	const ScimFilterLimits *limits;
	bool		in_bracket;
	const char *bracket_attr;	/* for messages */
	size_t		bracket_attr_len;
	ScimArena  *arena;
	ScimError  *err;
} Parser;

static const char *const op_names[] = {
	"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"
};

/* The canonical (lower-case) spelling of an operator. */
const char *
ScimFilterOpName(ScimFilterOp op)
{
	return op_names[op];
}

static bool
is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '_' || c == ':' || c == '.' || c == '$';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(Parser *p)
{
	while (p->pos < p->len && is_space(p->s[p->pos]))
		p->pos++;
}

/* Length of the word (a run of name characters) starting at pos. */
static size_t
word_len(Parser *p, size_t pos)
{
	size_t		n = 0;

	while (pos + n < p->len && is_name_char(p->s[pos + n]))
		n++;
	return n;
}

/*
 * Report a syntax error at byte offset "at", quoting the token found there
 * and saying what was expected.
 */
static bool
syntax_error(Parser *p, size_t at, const char *expected)
{
	int			charpos = ScimCharPosition(p->s, (int) at);

	if (at >= p->len)
		ScimErrorSet(p->err, SCIM_ERR_INVALID_FILTER, charpos,
					 "invalid SCIM filter at end of input (character %d)", charpos);
	else
	{
		size_t		n = word_len(p, at);
		const char *tok = p->s + at;

		if (n == 0 && p->s[at] == '"')
		{
			/* quote the whole string literal, up to a sane length */
			n = 1;
			while (at + n < p->len && p->s[at + n] != '"')
				n += (p->s[at + n] == '\\' && at + n + 1 < p->len) ? 2 : 1;
			if (at + n < p->len)
				n++;
		}
		else if (n == 0 && (unsigned char) p->s[at] < 0x20)
		{
			/* show a control character as its escape, not raw */
			ScimErrorSet(p->err, SCIM_ERR_INVALID_FILTER, charpos,
						 "invalid SCIM filter at or near \"\\u%04x\" (character %d)",
						 (unsigned int) (unsigned char) p->s[at], charpos);
			ScimErrorDetail(p->err, "Expected %s.", expected);
			return false;
		}
		else if (n == 0)
		{
			n = 1;
			while (at + n < p->len && ((unsigned char) p->s[at + n] & 0xC0) == 0x80)
				n++;
		}
		if (n > 40)
		{
			/* cut at a character boundary */
			n = 40;
			while (n > 0 && ((unsigned char) tok[n] & 0xC0) == 0x80)
				n--;
			ScimErrorSet(p->err, SCIM_ERR_INVALID_FILTER, charpos,
						 "invalid SCIM filter at or near \"%.*s...\" (character %d)",
						 (int) n, tok, charpos);
		}
		else
			ScimErrorSet(p->err, SCIM_ERR_INVALID_FILTER, charpos,
						 "invalid SCIM filter at or near \"%.*s\" (character %d)",
						 (int) n, tok, charpos);
	}
	ScimErrorDetail(p->err, "Expected %s.", expected);
	return false;
}

/* Refuse the term that starts at byte offset "at": one more than the limit. */
static bool
too_many_terms(Parser *p, size_t at)
{
	int			charpos = ScimCharPosition(p->s, (int) at);

	ScimErrorSet(p->err, SCIM_ERR_INVALID_FILTER, charpos, "SCIM filter has more than %d term%s",
				 p->limit_terms, p->limit_terms == 1 ? "" : "s");
	ScimErrorDetail(p->err, "Term %d starts at character %d. Each attribute expression, such as userName eq \"bjensen\", is a term, also inside a value filter \"[...]\".",
					p->terms, charpos);
	if (p->limits->max_terms_setting != NULL)
		ScimErrorHint(p->err, "Send several smaller filters, or have a superuser raise %s.",
					  p->limits->max_terms_setting);
	return false;
}

/* Refuse the level "level" that opens at byte offset "at": one more than the limit. */
static bool
too_deep(Parser *p, size_t at, int level)
{
	int			charpos = ScimCharPosition(p->s, (int) at);

	ScimErrorSet(p->err, SCIM_ERR_INVALID_FILTER, charpos, "SCIM filter nests more than %d level%s deep",
				 p->limit_depth, p->limit_depth == 1 ? "" : "s");
	ScimErrorDetail(p->err, "Level %d opens at character %d. Parentheses, also those after \"not\", and value filters \"[...]\" each open a level.",
					level, charpos);
	if (p->limits->max_depth_setting != NULL)
		ScimErrorHint(p->err, "Write the filter with fewer nested parentheses, or have a superuser raise %s.",
					  p->limits->max_depth_setting);
	return false;
}

static ScimFilter *
new_node(Parser *p, ScimFilterKind kind, size_t offset)
{
	ScimFilter *f = ScimArenaAlloc0(p->arena, sizeof(ScimFilter));

	if (f == NULL)
	{
		ScimErrorSet(p->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	f->kind = kind;
	f->offset = (int) offset;
	return f;
}

/* Does the word at pos equal kw, case-insensitively? */
static bool
word_is(Parser *p, size_t pos, size_t n, const char *kw)
{
	return ScimStrCaseEq(p->s + pos, n, kw, strlen(kw));
}

/* Check an attribute path's shape: [urn:...:]name[.name], or a bare name in a bracket. */
static bool
check_path(Parser *p, size_t start, size_t n)
{
	const char *s = p->s + start;
	size_t		name_start = 0;
	bool		seen_dot = false;

	if (n > 4 && ScimStrCaseEq(s, 4, "urn:", 4))
	{
		const char *last = NULL;

		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				last = s + i;
		name_start = (size_t) (last - s) + 1;
		if (p->in_bracket)
			goto sub_only;
	}
	if (name_start >= n)
		return syntax_error(p, start, "an attribute name after the schema URN");
	for (size_t i = name_start; i < n; i++)
	{
		char		c = s[i];
		bool		first = i == name_start || s[i - 1] == '.';

		if (c == '.')
		{
			if (seen_dot || first || i + 1 == n)
				return syntax_error(p, start, "an attribute path of the form \"name\" or \"name.subAttribute\"");
			if (p->in_bracket)
				goto sub_only;
			seen_dot = true;
			continue;
		}
		if (c == ':')
			return syntax_error(p, start, "a schema URN to start with \"urn:\"");
		if (first && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '$'))
			return syntax_error(p, start, "an attribute name, which starts with a letter");
		if (c == '$' && !(first && n - i >= 4 && ScimStrCaseEq(s + i, 4, "$ref", 4) &&
						  (i + 4 == n || s[i + 4] == '.')))
			return syntax_error(p, start, "an attribute name (\"$\" may only begin \"$ref\")");
	}
	return true;

sub_only:
	syntax_error(p, start, "a sub-attribute name");
	ScimErrorDetail(p->err, "Inside \"%.*s[...]\" only sub-attributes of \"%.*s\" may appear, without a schema URN or a dot.",
					(int) p->bracket_attr_len, p->bracket_attr,
					(int) p->bracket_attr_len, p->bracket_attr);
	return false;
}

/* Parse a JSON string literal at pos (which holds the opening quote). */
static bool
parse_string(Parser *p, ScimFilter *f)
{
	size_t		start = p->pos;
	size_t		i = p->pos + 1;
	size_t		end;
	size_t		need;
	char	   *out;
	size_t		n = 0;
	size_t		written;
	size_t		used;
	unsigned int cp;

	/*
	 * Decoded text is never longer than the source, so the rest of the
	 * filter bounds it: decode into that much room and give back what is
	 * not used.  When the current block lacks the room, size by the
	 * literal's extent instead: a new block sized by the rest of the filter
	 * for each of many strings would cost memory quadratic in its length.
	 */
	need = p->len - start + 1;
	if (need > ScimArenaRoom(p->arena))
	{
		for (end = i; end < p->len && p->s[end] != '"'; end++)
			if (p->s[end] == '\\')
				end++;
		need = (end < p->len ? end : p->len) - start + 1;
	}
	out = ScimArenaAlloc(p->arena, need);
	if (out == NULL)
		return ScimErrorSet(p->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
	while (i < p->len && p->s[i] != '"')
	{
		unsigned char c = (unsigned char) p->s[i];

		if (c < 0x20)
		{
			syntax_error(p, i, "a character allowed in a JSON string");
			ScimErrorDetail(p->err, "Control characters in a string value must be written as escapes such as \\n or \\u0009.");
			return false;
		}
		if (c != '\\')
		{
			out[n++] = (char) c;
			i++;
			continue;
		}
		if (i + 1 >= p->len)
			break;
		switch (ScimJsonUnescape(p->s + i, p->s + p->len, out + n, &written, &used, &cp))
		{
			case SCIM_ESCAPE_OK:
				break;
			case SCIM_ESCAPE_UNKNOWN:
				return syntax_error(p, i, "a valid escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
			case SCIM_ESCAPE_HEX:
				return syntax_error(p, i, "four hexadecimal digits after \\u");
			case SCIM_ESCAPE_NUL:
				syntax_error(p, i, "a character other than \\u0000");
				ScimErrorDetail(p->err, "String values cannot contain the NUL character.");
				return false;
			case SCIM_ESCAPE_NO_LOW:
				return syntax_error(p, i, "a low surrogate \\uDC00-\\uDFFF after a high surrogate");
			case SCIM_ESCAPE_LONE_LOW:
				return syntax_error(p, i, "a high surrogate before a low surrogate");
		}
		/* escapes are at least as long as what they encode */
		n += written;
		i += used;
	}
	if (i >= p->len)
	{
		syntax_error(p, p->len, "a closing double quote");
		ScimErrorDetail(p->err, "The string value that starts at character %d is not terminated.",
						ScimCharPosition(p->s, (int) start));
		return false;
	}
	out[n] = '\0';
	ScimArenaShrink(p->arena, out, n + 1);
	f->lit_kind = SCIM_LIT_STRING;
	f->lit = out;
	f->lit_len = n;
	f->lit_offset = (int) start;
	p->pos = i + 1;
	return true;
}

/* Parse a comparison value: a JSON string, number, true, false or null. */
static bool
parse_value(Parser *p, ScimFilter *f)
{
	size_t		start;
	size_t		n;

	skip_ws(p);
	start = p->pos;
	if (p->pos >= p->len)
		return syntax_error(p, p->pos, "a comparison value");
	if (p->s[p->pos] == '"')
		return parse_string(p, f);
	if (p->s[p->pos] == '-' || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
	{
		n = 0;
		while (p->pos + n < p->len &&
			   (strchr("0123456789+-.eE", p->s[p->pos + n]) != NULL))
			n++;
		if (!ScimIsJsonNumber(p->s + start, n))
			return syntax_error(p, start, "a JSON number such as 42, -1.5 or 1e3");
		if (!ScimDecimalInRange(p->s + start, n))
		{
			syntax_error(p, start, "a number of reasonable magnitude");
			ScimErrorDetail(p->err, "Numbers in filters may have at most 1000 significant digits and an exponent between -1000 and 1000.");
			return false;
		}
		f->lit_kind = SCIM_LIT_NUMBER;
		f->lit = ScimArenaStrndup(p->arena, p->s + start, n);
		if (f->lit == NULL)
			return ScimErrorSet(p->err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		f->lit_len = n;
		f->lit_offset = (int) start;
		p->pos += n;
		return true;
	}
	n = word_len(p, p->pos);
	if (n > 0 && word_is(p, start, n, "true"))
		f->lit_kind = SCIM_LIT_TRUE;
	else if (n > 0 && word_is(p, start, n, "false"))
		f->lit_kind = SCIM_LIT_FALSE;
	else if (n > 0 && word_is(p, start, n, "null"))
		f->lit_kind = SCIM_LIT_NULL;
	else
	{
		syntax_error(p, start, "a comparison value: a string in double quotes, a number, true, false or null");
		if (n > 0)
			ScimErrorHint(p->err, "Put string values in double quotes: \"%.*s\".",
						  (int) (n > 60 ? 60 : n), p->s + start);
		return false;
	}
	f->lit_offset = (int) start;
	p->pos += n;
	return true;
}

/* Parse "op value" or "pr" after an attribute path into f. */
static bool
parse_comparison(Parser *p, ScimFilter *f)
{
	size_t		n;
	int			op = -1;

	skip_ws(p);
	n = word_len(p, p->pos);
	for (int i = 0; i < 10 && n > 0; i++)
		if (word_is(p, p->pos, n, op_names[i]))
			op = i;
	if (op < 0)
		return syntax_error(p, p->pos, "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)");
	p->pos += n;
	f->op = (ScimFilterOp) op;
	if (f->op == SCIM_OP_PR)
	{
		f->lit_kind = SCIM_LIT_NONE;
		return true;
	}
	if (p->pos < p->len && !is_space(p->s[p->pos]) && p->s[p->pos] != '"')
		return syntax_error(p, p->pos, "a space after the operator");
	return parse_value(p, f);
}

static ScimFilter *parse_or(Parser *p);

/* Parse an attribute expression or a value path. */
static ScimFilter *
parse_attr(Parser *p)
{
	size_t		start = p->pos;
	size_t		n = word_len(p, p->pos);
	ScimFilter *f;

	if (n == 0)
	{
		syntax_error(p, p->pos, "an attribute path, \"not\" or \"(\"");
		return NULL;
	}
	if (!check_path(p, start, n))
		return NULL;
	p->pos += n;

	if (p->pos < p->len && p->s[p->pos] == '[')
	{
		ScimFilter *inner;
		int			inner_max_before;
		int			inner_max;

		if (p->in_bracket)
		{
			syntax_error(p, p->pos, "a comparison operator");
			ScimErrorDetail(p->err, "Value filters cannot be nested: complex attributes have no complex sub-attributes (RFC 7643 §2.3.8).");
			return NULL;
		}
		{
			/* "[" follows an attribute, never a sub-attribute */
			const char *name = p->s + start;

			for (size_t i = 0; i < n; i++)
				if (p->s[start + i] == ':')
					name = p->s + start + i + 1;
			if (memchr(name, '.', (size_t) (p->s + start + n - name)) != NULL)
			{
				syntax_error(p, p->pos, "a comparison operator");
				ScimErrorDetail(p->err, "A value filter \"[...]\" follows a multi-valued attribute, not a sub-attribute.");
				return NULL;
			}
		}
		f = new_node(p, SCIM_F_VALUE_PATH, start);
		if (f == NULL)
			return NULL;
		f->path = p->s + start;
		f->path_len = n;
		p->pos++;
		p->in_bracket = true;
		p->bracket_attr = p->s + start;
		p->bracket_attr_len = n;
		inner_max_before = p->max_depth;
		p->max_depth = 0;
		if (++p->depth > p->limit_depth)
		{
			too_deep(p, p->pos - 1, p->depth);
			return NULL;
		}
		if (p->depth > p->max_depth)
			p->max_depth = p->depth;
		inner = parse_or(p);
		p->depth--;
		if (inner == NULL)
			return NULL;
		inner_max = p->max_depth;
		if (inner_max_before > p->max_depth)
			p->max_depth = inner_max_before;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ']')
		{
			syntax_error(p, p->pos, "\"]\", \"and\" or \"or\"");
			return NULL;
		}
		p->pos++;
		if (p->pos < p->len && p->s[p->pos] == '.')
		{
			/* Entra ID's emails[type eq "work"].value eq "x" */
			ScimFilter *sub;
			ScimFilter *conj;
			size_t		sstart = ++p->pos;
			size_t		sn = word_len(p, sstart);

			if (sn == 0 || !check_path(p, sstart, sn))
			{
				if (sn == 0)
					syntax_error(p, sstart, "a sub-attribute name after \"].\"");
				return NULL;
			}
			if (++p->terms > p->limit_terms)
			{
				too_many_terms(p, sstart);
				return NULL;
			}
			sub = new_node(p, SCIM_F_ATTR, sstart);
			conj = new_node(p, SCIM_F_AND, start);
			if (sub == NULL || conj == NULL)
				return NULL;
			sub->path = p->s + sstart;
			sub->path_len = sn;
			p->pos += sn;
			if (!parse_comparison(p, sub))
				return NULL;
			/* an "or" inside gains parentheses when printed: one level more */
			if (inner->kind == SCIM_F_OR && inner_max + 1 > p->limit_depth)
			{
				too_deep(p, start, inner_max + 1);
				ScimErrorDetail(p->err, "Level %d opens at character %d: the canonical form of \"%.*s[...].%.*s\" puts the filter inside the brackets in parentheses.",
								inner_max + 1, ScimCharPosition(p->s, (int) start),
								(int) (n > 60 ? 60 : n), p->s + start, (int) (sn > 60 ? 60 : sn), p->s + sstart);
				return NULL;
			}
			conj->left = inner;
			conj->right = sub;
			inner = conj;
		}
		p->in_bracket = false;
		f->left = inner;
		return f;
	}

	if (++p->terms > p->limit_terms)
	{
		too_many_terms(p, start);
		return NULL;
	}
	f = new_node(p, SCIM_F_ATTR, start);
	if (f == NULL)
		return NULL;
	f->path = p->s + start;
	f->path_len = n;
	if (p->pos < p->len && !is_space(p->s[p->pos]))
	{
		syntax_error(p, p->pos, "a space after the attribute path");
		return NULL;
	}
	if (!parse_comparison(p, f))
		return NULL;
	return f;
}

/*
 * Is the word after pos a comparison operator?  Then "not" before it is an
 * attribute named "not" (Entra's "x[...].not pr" prints as "x[... and not
 * pr]"), not the keyword.
 */
static bool
followed_by_operator(Parser *p, size_t pos)
{
	size_t		n;

	if (pos >= p->len || !is_space(p->s[pos]))
		return false;
	while (pos < p->len && is_space(p->s[pos]))
		pos++;
	n = word_len(p, pos);
	for (int i = 0; i < 10; i++)
		if (n == 2 && word_is(p, pos, n, op_names[i]))
			return true;
	return false;
}

/* Parse "not ( filter )", "( filter )" or an attribute expression. */
static ScimFilter *
parse_unary(Parser *p)
{
	size_t		start;
	size_t		n;
	ScimFilter *f = NULL;

	skip_ws(p);
	start = p->pos;
	n = word_len(p, p->pos);
	if (n == 3 && word_is(p, start, n, "not") && !followed_by_operator(p, start + 3))
	{
		size_t		after = start + 3;

		while (after < p->len && is_space(p->s[after]))
			after++;
		if (after < p->len && p->s[after] == '(')
		{
			f = new_node(p, SCIM_F_NOT, start);
			if (f == NULL)
				return NULL;
			p->pos = after;
		}
		else
		{
			syntax_error(p, after, "\"(\" after \"not\"");
			return NULL;
		}
	}
	if (p->pos < p->len && p->s[p->pos] == '(')
	{
		ScimFilter *inner;
		size_t		open = p->pos;

		p->pos++;
		if (++p->depth > p->max_depth)
			p->max_depth = p->depth;
		if (p->depth > p->limit_depth)
		{
			too_deep(p, open, p->depth);
			return NULL;
		}
		inner = parse_or(p);
		p->depth--;
		if (inner == NULL)
			return NULL;
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ')')
		{
			syntax_error(p, p->pos, "\")\", \"and\" or \"or\"");
			return NULL;
		}
		p->pos++;
		if (f == NULL)
			return inner;
		f->left = inner;
		return f;
	}
	return parse_attr(p);
}

/* Parse a chain of operands joined by one logical keyword. */
static ScimFilter *
parse_chain(Parser *p, const char *kw, ScimFilterKind kind, ScimFilter *(*operand) (Parser *))
{
	ScimFilter *left = operand(p);

	while (left != NULL)
	{
		size_t		save;
		size_t		n;
		ScimFilter *node;

		skip_ws(p);
		save = p->pos;
		n = word_len(p, p->pos);
		if (n == 0 || !word_is(p, save, n, kw))
			break;
		/* keywords must stand apart from what follows */
		if (save + n < p->len && !is_space(p->s[save + n]) && p->s[save + n] != '(')
			break;
		p->pos += n;
		node = new_node(p, kind, left->offset);
		if (node == NULL)
			return NULL;
		node->left = left;
		node->right = operand(p);
		if (node->right == NULL)
			return NULL;
		left = node;
	}
	return left;
}

static ScimFilter *
parse_and(Parser *p)
{
	return parse_chain(p, "and", SCIM_F_AND, parse_unary);
}

static ScimFilter *
parse_or(Parser *p)
{
	return parse_chain(p, "or", SCIM_F_OR, parse_and);
}

static const ScimFilterLimits default_limits = {
	SCIM_FILTER_DEFAULT_MAX_TERMS, SCIM_FILTER_DEFAULT_MAX_DEPTH, NULL, NULL
};

/* v within [1, ceiling] */
static int
clamp_limit(int v, int ceiling)
{
	return v < 1 ? 1 : v > ceiling ? ceiling : v;
}

/*
 * Parse filter text into a tree allocated in arena, within limits (NULL:
 * the defaults; values outside the ceilings are clamped to them).  Returns
 * NULL with err set on any error.  The tree points into a copy of the text
 * it keeps.
 */
ScimFilter *
ScimFilterParse(ScimArena *arena, const char *text, size_t len, const ScimFilterLimits *limits,
				ScimError *err)
{
	Parser		p;
	ScimFilter *f;
	size_t		bad;
	char	   *copy;

	ScimErrorClear(err);
	if (len > SCIM_FILTER_MAX_LENGTH)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_FILTER, 0, "SCIM filter is too long");
		ScimErrorDetail(err, "The filter is %zu bytes; the limit is %d.", len, SCIM_FILTER_MAX_LENGTH);
		return NULL;
	}
	if (!ScimUtf8Valid(text, len, &bad))
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_FILTER, 0,
					 "invalid SCIM filter: %s at byte %zu",
					 text[bad] == '\0' ? "NUL byte" : "invalid UTF-8", bad + 1);
		ScimErrorDetail(err, "Filters must be UTF-8 text without NUL bytes.");
		return NULL;
	}
	copy = ScimArenaStrndup(arena, text, len);
	if (copy == NULL)
	{
		ScimErrorSet(err, SCIM_ERR_OUT_OF_MEMORY, 0, "out of memory");
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.s = copy;
	p.len = len;
	p.arena = arena;
	p.err = err;
	p.limits = limits != NULL ? limits : &default_limits;
	p.limit_terms = clamp_limit(p.limits->max_terms, SCIM_FILTER_MAX_TERMS);
	p.limit_depth = clamp_limit(p.limits->max_depth, SCIM_FILTER_MAX_DEPTH);

	skip_ws(&p);
	if (p.pos >= p.len)
	{
		ScimErrorSet(err, SCIM_ERR_INVALID_FILTER, 1, "SCIM filter is empty");
		ScimErrorDetail(err, "A filter needs at least one expression such as userName eq \"bjensen\".");
		return NULL;
	}
	f = parse_or(&p);
	if (f == NULL)
		return NULL;
	skip_ws(&p);
	if (p.pos < p.len)
	{
		syntax_error(&p, p.pos, "\"and\", \"or\" or the end of the filter");
		return NULL;
	}
	return f;
}
