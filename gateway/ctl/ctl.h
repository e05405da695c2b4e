/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include <glib.h>

#include "gateway/core/store.h"

/*
 * recoveryctl's commands, one file each (ctl-NAME.c). Each takes its own
 * argv (argv[0] is the command's name) and returns the exit status.
 */

enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1, /* the input or the operation failed */
	CTL_EXIT_USAGE = 2,  /* the command line was wrong */
};

int ctl_decode(int argc, char **argv);
int ctl_hrv(int argc, char **argv);
int ctl_import(int argc, char **argv);
int ctl_history(int argc, char **argv);
int ctl_export(int argc, char **argv);
int ctl_scan(int argc, char **argv);
int ctl_watch(int argc, char **argv);
int ctl_status(int argc, char **argv);

/*
 * Prints "recoveryctl COMMAND: MESSAGE" and @usage to stderr; returns
 * CTL_EXIT_USAGE.
 */
int ctl_usage_error(const char *command, const char *usage, const char *fmt,
		    ...) G_GNUC_PRINTF(3, 4);

/*
 * What a command shows about itself: its @name, the @usage text printed after
 * a usage error, and for --help the @parameter_string after [OPTION...]
 * (NULL: none; a G_OPTION_REMAINING entry names its own) and the @summary
 * above the options. @no_arguments: a word left after the options is a usage
 * error ("unexpected argument 'WORD'").
 */
struct ctl_command {
	const char *name;
	const char *usage;
	const char *parameter_string;
	const char *summary;
	bool no_arguments;
};

/*
 * Parses a command's own @argc/@argv (argv[0] is its name) against @entries
 * (ending with G_OPTION_ENTRY_NULL): values land where the entries point and
 * belong to the caller; parsed options leave @argv. --help prints the help
 * and exits 0. On a bad option (or a word left over, see @no_arguments)
 * prints the usage error as ctl_usage_error() does and returns FALSE: the
 * command then returns CTL_EXIT_USAGE.
 */
gboolean ctl_parse_options(const struct ctl_command *command,
			   const GOptionEntry *entries, int *argc,
			   char ***argv);

/*
 * Opens the database @db of a command that only reads one: when it does not
 * exist or cannot be opened, prints "recoveryctl COMMAND: DB: why" and
 * returns NULL (never creates an empty database by mistake).
 */
store *ctl_open_existing_store(const char *command, const char *db);

/*
 * Says on stderr ("recoveryctl COMMAND: skipped a damaged row: ...") which
 * rows the store left out of what was read because they do not read back;
 * returns how many.
 */
uint64_t ctl_report_damage(const char *command, store *s);

/*
 * The id of the existing person @name (@ret_id may be NULL); FALSE with an
 * error listing who is known when there is no such person.
 */
gboolean ctl_find_user(store *s, const char *name, int64_t *ret_id,
		       GError **error);
