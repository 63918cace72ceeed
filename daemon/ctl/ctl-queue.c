/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl commands for the queue.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <string.h>

static gboolean
queue_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) messages = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!op_ctl_expect_args(args, 0, "queue list [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_queue_sync(
		    ctl->proxy, g_variant_new("a{sv}", NULL), ctl->sort ? ctl->sort : "",
		    ctl->descending, 0, OP_PAGE, &messages, NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(messages);
		return TRUE;
	}
	g_print("%-16s %-30s %-30s %10s %-8s %s\n", "ID", "SENDER", "RECIPIENTS", "SIZE", "STATE",
		"LAST REPLY");
	g_variant_iter_init(&iter, messages);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		g_autofree const char **recipients = NULL;
		g_autofree char *joined = NULL;
		guint64 size = 0;

		g_variant_lookup(dict, "recipients", "^a&s", &recipients);
		g_variant_lookup(dict, "size", "t", &size);
		joined = recipients ? g_strjoinv(",", (char **)recipients) : g_strdup("");
		g_print("%-16s %-30s %-30s %10" G_GUINT64_FORMAT " %-8s %s\n",
			op_ctl_lookup_string(dict, "id"), op_ctl_lookup_string(dict, "sender"), joined, size,
			op_ctl_lookup_string(dict, "state"), op_ctl_lookup_string(dict, "last-reply"));
		g_variant_unref(dict);
	}
	return TRUE;
}

const OpCtlCommand op_ctl_queue_commands[] = {
	{"queue", "list", queue_list, ": list the queued messages"},
	{NULL, NULL, NULL, NULL},
};
