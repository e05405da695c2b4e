// SPDX-License-Identifier: MIT
#include "gateway/common/quote.h"

#include <string.h>

/* One character of @style into @q. */
static void append_char(GString *q, const char *p, size_t size, gunichar c,
			enum quote_style style)
{
	if (style == QUOTE_ESCAPED && (c == '"' || c == '\\')) {
		g_string_append_printf(q, "\\%c", (char)c);
		return;
	}
	if (g_unichar_iscntrl(c)) {
		if (style == QUOTE_ESCAPED && c < 0x100)
			g_string_append_printf(q, "\\x%02x", (unsigned)c);
		else
			g_string_append_c(q, '?');
		return;
	}
	g_string_append_len(q, p, (gssize)size);
}

char *quote_text(const char *text, gssize len, enum quote_style style)
{
	const char mark = style == QUOTE_ESCAPED ? '"' : '\'';
	size_t total = len < 0 ? strlen(text) : (size_t)len;
	const char *p = text, *end = text + total;
	GString *q = g_string_sized_new(QUOTE_SHOWN + 24);

	g_string_append_c(q, mark);
	while (p < end) {
		gunichar c = g_utf8_get_char_validated(p, end - p);
		size_t size;

		if (c == (gunichar)-1 || c == (gunichar)-2) {
			/* Not UTF-8: one byte, shown as '?'. */
			if ((size_t)(p + 1 - text) > QUOTE_SHOWN)
				break;
			g_string_append_c(q, '?');
			p++;
			continue;
		}
		/* U+0000 is one byte; g_unichar_to_utf8 agrees. */
		size = (size_t)g_unichar_to_utf8(c, NULL);
		if ((size_t)(p + size - text) > QUOTE_SHOWN)
			break;
		append_char(q, p, size, c, style);
		p += size;
	}
	g_string_append_c(q, mark);
	if (p < end)
		g_string_append_printf(q, "... (%zu bytes)", total);
	return g_string_free(q, FALSE);
}
