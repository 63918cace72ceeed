/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The envelope of a delivery status notification. It comes from the null
 * sender, so that no server bounces it in turn, and goes to the original
 * message's envelope sender.
 */
#define G_LOG_DOMAIN "outpost-queue"

#include "queue/op-notice.h"

gboolean
op_notice_prepare(const OpBounceInfo *info, OpStoreMessage *notice, GError **error)
{
	GBytes *report = op_bounce_build(info, error);

	if (report == NULL)
		return FALSE;
	notice->id = op_store_new_queue_id();
	notice->sender = g_strdup("");
	notice->account = NULL;
	notice->recipients = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(notice->recipients, g_strdup(info->sender));
	notice->body = report;
	notice->created = g_get_real_time() / G_USEC_PER_SEC;
	notice->is_bounce = TRUE;
	return TRUE;
}
