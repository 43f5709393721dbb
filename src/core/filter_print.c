/*
 * filter_print.c
 *		The canonical form of a parsed filter (ScimFilterPrint): what
 *		filter_parse.c reads back into the same tree.
 */
#include "filter.h"

/* Append s as a JSON string literal (quotes and escapes included). */
void
ScimJsonQuote(ScimBuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	ScimBufAppendChar(out, '"');
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		switch (c)
		{
			case '"':
				ScimBufAppend(out, "\\\"", 2);
				break;
			case '\\':
				ScimBufAppend(out, "\\\\", 2);
				break;
			case '\n':
				ScimBufAppend(out, "\\n", 2);
				break;
			case '\r':
				ScimBufAppend(out, "\\r", 2);
				break;
			case '\t':
				ScimBufAppend(out, "\\t", 2);
				break;
			case '\b':
				ScimBufAppend(out, "\\b", 2);
				break;
			case '\f':
				ScimBufAppend(out, "\\f", 2);
				break;
			default:
				if (c < 0x20)
				{
					char		esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

					ScimBufAppend(out, esc, 6);
				}
				else
					ScimBufAppendChar(out, (char) c);
		}
	}
	ScimBufAppendChar(out, '"');
}

/* Print a path: canonical names once resolved, else as written. */
static void
print_path(const ScimFilter *f, ScimBuf *out)
{
	if (!f->resolved)
	{
		ScimBufAppend(out, f->path, f->path_len);
		return;
	}
	if (f->in_bracket)
	{
		ScimBufAppend(out, f->rpath.sub->name, f->rpath.sub->name_len);
		return;
	}
	if (f->rpath.extension != NULL)
	{
		ScimBufAppend(out, f->rpath.extension->id, f->rpath.extension->id_len);
		ScimBufAppendChar(out, ':');
	}
	ScimBufAppend(out, f->rpath.attr->name, f->rpath.attr->name_len);
	if (f->rpath.sub != NULL)
	{
		ScimBufAppendChar(out, '.');
		ScimBufAppend(out, f->rpath.sub->name, f->rpath.sub->name_len);
	}
}

/* Print an operand, parenthesised when it binds looser than its context. */
static void
print_operand(const ScimFilter *f, ScimFilterKind parent, ScimBuf *out)
{
	bool		paren = (f->kind == SCIM_F_OR && parent == SCIM_F_AND);

	if (paren)
		ScimBufAppendChar(out, '(');
	ScimFilterPrint(f, out);
	if (paren)
		ScimBufAppendChar(out, ')');
}

/*
 * Print the canonical form: lower-case operators and keywords, single
 * spaces, minimal parentheses, JSON-escaped strings, and canonical attribute
 * names once the filter is resolved.  Parsing the output yields the same tree.
 */
void
ScimFilterPrint(const ScimFilter *f, ScimBuf *out)
{
	switch (f->kind)
	{
		case SCIM_F_AND:
		case SCIM_F_OR:
			print_operand(f->left, f->kind, out);
			ScimBufAppendStr(out, f->kind == SCIM_F_AND ? " and " : " or ");
			/* a right operand of the same kind came from parentheses */
			if (f->right->kind == f->kind)
			{
				ScimBufAppendChar(out, '(');
				ScimFilterPrint(f->right, out);
				ScimBufAppendChar(out, ')');
			}
			else
				print_operand(f->right, f->kind, out);
			break;
		case SCIM_F_NOT:
			ScimBufAppendStr(out, "not (");
			ScimFilterPrint(f->left, out);
			ScimBufAppendChar(out, ')');
			break;
		case SCIM_F_VALUE_PATH:
			print_path(f, out);
			ScimBufAppendChar(out, '[');
			ScimFilterPrint(f->left, out);
			ScimBufAppendChar(out, ']');
			break;
		case SCIM_F_ATTR:
			print_path(f, out);
			ScimBufAppendChar(out, ' ');
			ScimBufAppendStr(out, ScimFilterOpName(f->op));
			switch (f->lit_kind)
			{
				case SCIM_LIT_NONE:
					break;
				case SCIM_LIT_STRING:
					ScimBufAppendChar(out, ' ');
					ScimJsonQuote(out, f->lit, f->lit_len);
					break;
				case SCIM_LIT_NUMBER:
					ScimBufAppendChar(out, ' ');
					ScimBufAppend(out, f->lit, f->lit_len);
					break;
				case SCIM_LIT_TRUE:
					ScimBufAppendStr(out, " true");
					break;
				case SCIM_LIT_FALSE:
					ScimBufAppendStr(out, " false");
					break;
				case SCIM_LIT_NULL:
					ScimBufAppendStr(out, " null");
					break;
			}
			break;
	}
}
