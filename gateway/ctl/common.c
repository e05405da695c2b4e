// SPDX-License-Identifier: MIT
#include "gateway/ctl/ctl.h"

#include <stdarg.h>
#include <stdio.h>

int ctl_usage_error(const char *command, const char *usage, const char *fmt,
		    ...)
{
	g_autofree char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "recoveryctl %s: %s\n%s", command, message, usage);
	return CTL_EXIT_USAGE;
}
