// SPDX-License-Identifier: MIT
/*
 * recoveryctl: the command-line companion of recoveryd. Each command is a
 * function with its own usage text; exit codes are 0 success, 1 the input or
 * the operation failed, 2 the command line was wrong.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "gateway/ctl/ctl.h"
#include "gateway/version.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *summary;
	/* Help for commands that do not parse options with GOption. */
	const char *help;
};

static const struct command commands[] = {
	{ "decode", ctl_decode, "UUID HEX[,HEX] | --adv HEX",
	  "decode a BLE payload or advertisement to JSON",
	  "\n"
	  "Decodes one characteristic value or service-data payload and "
	  "prints\n"
	  "it as one JSON object. UUID is one of 2a37 (heart rate), 2a38 "
	  "(body\n"
	  "sensor location), 2a19 (battery), 2a9d (weight), 2a9e (weight "
	  "scale\n"
	  "feature), 2a9c (body composition), 181d (Mi Scale), 181b (Mi Body\n"
	  "Composition Scale 2), fcd2 (BTHome v2); any case, 0x prefix or the\n"
	  "128-bit form allowed. HEX may contain spaces or colons and span\n"
	  "several arguments; the two packets of a multi-packet 2a9c\n"
	  "measurement are separated by a comma.\n"
	  "\n"
	  "--adv decodes a whole advertisement instead: its AD structures as\n"
	  "btmon or bluetoothctl show them, or an HCI LE advertising report\n"
	  "(04 3E ...) as btmon, ble_monitor or the ESPHome BLE gateway relay\n"
	  "it. The family is picked from what it carries (service data UUID,\n"
	  "company id, name): Mi scales, BTHome, QN, OKOK, Yunmai X, Eufy.\n"
	  "One JSON object per report, with its family, address and RSSI.\n"
	  "\n"
	  "Exit status: 0 decoded, 1 malformed payload or no decoder for the\n"
	  "advertisement (the reason, with the field and byte offset, on\n"
	  "stderr), 2 usage error.\n"
	  "\n"
	  "Example: recoveryctl decode 2a37 06 48\n"
	  "         {\"heart_rate\":72,\"contact\":\"detected\"}\n" },
	{ "hrv", ctl_hrv, "[--no-clean] FILE",
	  "HRV of RR intervals (ms, one a line)", NULL },
	{ "import", ctl_import, "--db PATH [--user ...] FILE",
	  "import readings and analyse their nights", NULL },
	{ "history", ctl_history, "--db PATH --user NAME",
	  "a person's recent nights and scores", NULL },
	{ "export", ctl_export, "--db PATH --format csv|json",
	  "readings and results as CSV or JSON", NULL },
	{ "scan", ctl_scan, "[--adapter hciN] [--seconds N]",
	  "list nearby devices recoveryd can decode", NULL },
	{ "watch", ctl_watch, "ADDRESS [--count N]",
	  "print a device's readings as JSON lines", NULL },
	{ "status", ctl_status, "[--db PATH] [--broker H:P]",
	  "what the daemon is doing (database, broker)", NULL },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (g_str_equal(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void print_usage(FILE *out)
{
	fprintf(out, "usage: recoveryctl COMMAND [ARGS...]\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-8s %-28s %s\n", commands[i].name,
			commands[i].args, commands[i].summary);
	fprintf(out, "\n'recoveryctl COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h")) {
		print_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (g_str_equal(argv[1], "--version")) {
		printf("recoveryctl %s\n", RECOVERYD_VERSION);
		return CTL_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "recoveryctl: unknown command '%s'\n", argv[1]);
		print_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (int i = 2; c->help && i < argc; i++) {
		if (g_str_equal(argv[i], "--help") ||
		    g_str_equal(argv[i], "-h")) {
			printf("usage: recoveryctl %s %s\n%s", c->name, c->args,
			       c->help);
			return CTL_EXIT_OK;
		}
	}
	return c->run(argc - 1, argv + 1);
}
