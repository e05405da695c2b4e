// SPDX-License-Identifier: MIT
#include "gateway/common/owner-log.h"

#include <stdarg.h>

void owner_log(owner_log_func log, void *data, GLogLevelFlags level,
	       const char *fmt, ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	if (!log)
		return;
	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	log(data, level, message);
}
