/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

/*
 * A value from outside quoted in a one-line message: a 10 MB number in a
 * CSV field or a JSON token must not become a 10 MB log line, and a line
 * break or an escape sequence in it must not garble the terminal or the
 * journal that shows it.
 */

/* Bytes of a value shown in a message; the rest is cut. */
#define QUOTE_SHOWN 64

enum quote_style {
	/* 'text': control characters and invalid UTF-8 shown as '?' */
	QUOTE_PLAIN,
	/* "text": '"' and '\' escaped, control characters as \xNN,
	 * invalid UTF-8 as '?' (the configuration's messages) */
	QUOTE_ESCAPED,
};

/*
 * @text (@len bytes, or up to its NUL when @len is negative) quoted in
 * @style: at most QUOTE_SHOWN bytes of it, cut between characters, never
 * inside one, followed by "... (N bytes)" when it was cut. Returns a new
 * string (g_free).
 */
char *quote_text(const char *text, gssize len, enum quote_style style);
