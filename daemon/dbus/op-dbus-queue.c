/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue and statistics methods of the admin API.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "op-error.h"

static GVariant *
do_list_queue(OpCall *call, GError **error)
{
	g_autoptr(GVariant) filter = NULL;
	const char *sort = NULL;
	gboolean descending = FALSE;
	guint offset = 0;
	guint limit = 0;
	g_autoptr(GPtrArray) entries = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(@a{sv}&sbuu)", &filter, &sort, &descending, &offset,
		      &limit);
	if (!op_dbus_check_page(limit, error))
		return NULL;
	/* TODO: apply filter, sort and descending. */
	entries = op_store_list_queue(call->service->admin->store, offset, limit, error);
	if (entries == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < entries->len; i++) {
		OpStoreQueueEntry *entry = g_ptr_array_index(entries, i);

		g_ptr_array_add(entry->recipients, NULL);
		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "id", g_variant_new_string(entry->id));
		op_dbus_add_entry(&builder, "sender", g_variant_new_string(entry->sender));
		op_dbus_add_entry(&builder, "recipients",
				  g_variant_new_strv((const char *const *)entry->recipients->pdata,
						     -1));
		op_dbus_add_entry(&builder, "size", g_variant_new_uint64(entry->size));
		op_dbus_add_entry(&builder, "created", g_variant_new_int64(entry->created));
		op_dbus_add_entry(&builder, "state", g_variant_new_string(entry->state));
		op_dbus_add_entry(&builder, "attempts", g_variant_new_uint32(entry->attempts));
		op_dbus_add_entry(&builder, "next-attempt", g_variant_new_int64(entry->next_attempt));
		op_dbus_add_entry(&builder, "last-reply",
				  g_variant_new_string(entry->last_reply ? entry->last_reply : ""));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

const OpDbusMethod op_dbus_queue_methods[] = {
	{"ListQueue", OP_ACTION_READ, do_list_queue},
	{NULL, NULL, NULL},
};
