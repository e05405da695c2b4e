/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/*
 * The broker password, kept in a file of its own (mode 0600) so it is in
 * neither the configuration nor the command line.
 *
 * The file holds the password and at most one trailing newline ("\n" or
 * "\r\n"), which is not part of it: editors add one. Anything else counts,
 * spaces included.
 */

/* Longest password accepted, in bytes. MQTT allows 65535; a longer file is
 * more likely the wrong file than a password. */
#define MQTT_PASSWORD_MAX 1024

/*
 * Reads the password in @path into *@ret_password (NUL-terminated; free it
 * with mqtt_password_free, which wipes it). Refuses, with
 * MQTT_CLIENT_ERROR_FILE and a message naming the file: a file that cannot
 * be opened or is not a regular file, an empty password, a password with a
 * NUL byte, one longer than MQTT_PASSWORD_MAX bytes, or one that is not
 * UTF-8 (MQTT 3.1.1 §3.1.3.5 allows binary data, but the broker's
 * password files and most tools do not).
 *
 * *@ret_exposed is set to whether group or others may read the file (the
 * caller warns); both out-params are untouched on failure.
 */
gboolean mqtt_password_read(const char *path, char **ret_password,
			    bool *ret_exposed, GError **error);

/* Overwrites @password with zeros and frees it. NULL-safe. */
void mqtt_password_free(char *password);
