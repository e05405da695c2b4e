/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

/*
 * Logging through the owner (BlueZ's util_debug habit): a library never
 * calls g_log itself; its owner hands it a function, and everything the
 * library has to say goes there, so only the program's top level decides
 * what reaches the journal.
 */
typedef void (*owner_log_func)(void *data, GLogLevelFlags level,
			       const char *message);

/*
 * Formats the message and passes it to @log with @data; does nothing when
 * @log is NULL (an owner that wants silence).
 */
void owner_log(owner_log_func log, void *data, GLogLevelFlags level,
	       const char *fmt, ...) G_GNUC_PRINTF(4, 5);
