// SPDX-License-Identifier: MIT
#include "gateway/ctl/ctl.h"

#include <stdio.h>

store *ctl_open_existing_store(const char *command, const char *db)
{
	g_autoptr(GError) error = NULL;
	store *s;

	if (!g_file_test(db, G_FILE_TEST_EXISTS)) {
		fprintf(stderr, "recoveryctl %s: %s: no such database\n",
			command, db);
		return NULL;
	}
	s = store_open(db, NULL, &error);
	/* The store's message starts with the path. */
	if (!s)
		fprintf(stderr, "recoveryctl %s: %s\n", command,
			error->message);
	return s;
}

uint64_t ctl_report_damage(const char *command, store *s)
{
	g_autoptr(GArray) found =
	    g_array_new(FALSE, FALSE, sizeof(struct store_damage));
	uint64_t more = store_take_damage(s, found);

	for (guint i = 0; i < found->len; i++)
		fprintf(stderr, "recoveryctl %s: skipped a damaged row: %s\n",
			command,
			g_array_index(found, struct store_damage, i).message);
	if (more)
		fprintf(stderr,
			"recoveryctl %s: and %" G_GUINT64_FORMAT
			" more damaged rows\n",
			command, more);
	return found->len + more;
}

gboolean ctl_find_user(store *s, const char *name, int64_t *ret_id,
		       GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) known = g_string_new(NULL);

	if (!store_list_users(s, ids, names, error))
		return FALSE;
	for (guint i = 0; i < names->len; i++) {
		const char *n = g_ptr_array_index(names, i);

		if (g_str_equal(n, name)) {
			if (ret_id)
				*ret_id = g_array_index(ids, int64_t, i);
			return TRUE;
		}
		g_string_append_printf(known, "%s%s", i ? ", " : "", n);
	}
	g_set_error(error, STORE_ERROR, STORE_ERROR_INVALID,
		    "no person '%s' in the database (known: %s)", name,
		    known->len ? known->str : "nobody yet");
	return FALSE;
}
