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

gboolean ctl_parse_options(const struct ctl_command *command,
			   const GOptionEntry *entries, int *argc, char ***argv)
{
	g_autoptr(GOptionContext) options =
	    g_option_context_new(command->parameter_string);
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(options, command->summary);
	g_option_context_add_main_entries(options, entries, NULL);
	if (!g_option_context_parse(options, argc, argv, &error)) {
		ctl_usage_error(command->name, command->usage, "%s",
				error->message);
		return FALSE;
	}
	if (command->no_arguments && *argc > 1) {
		ctl_usage_error(command->name, command->usage,
				"unexpected argument '%s'", (*argv)[1]);
		return FALSE;
	}
	return TRUE;
}
