// SPDX-License-Identifier: MIT
#include "gateway/outbox.h"

gboolean outbox_pending_messages(store *s, int64_t after_id, unsigned limit,
				 GPtrArray *ret, GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)store_outbox_row_free);

	if (!store_outbox_pending(s, after_id, limit, rows, error))
		return FALSE;
	for (guint i = 0; i < rows->len; i++) {
		const struct store_outbox_row *r = rows->pdata[i];

		g_ptr_array_add(ret,
				mqtt_message_new(r->id, r->topic, r->payload,
						 r->qos, r->retain));
	}
	return TRUE;
}
