/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One writer thread records the rejected submissions of every session, in
 * the order they happened, so a flood of rejected commands costs the main
 * loop nothing and the disk at most one queue of pending events.
 */
#define G_LOG_DOMAIN "outpost-smtp"

#include "smtp/op-smtp-rejections.h"

#include "smtp/op-smtp-session-private.h"

/* Events waiting for the writer before new ones are dropped. */
#define OP_MAX_PENDING_REJECTIONS 1000

typedef struct {
	OpStore *store;
	char *session_id;
	char *sender;
	GPtrArray *recipients; /* char *, empty when the event has no recipient */
	char *reply;
	char *account;
} OpRejection;

static GMutex op_rejections_lock;
static GThreadPool *op_rejections_pool;
static guint op_rejections_dropped;

static void
rejection_free(OpRejection *rejection)
{
	g_free(rejection->session_id);
	g_free(rejection->sender);
	g_ptr_array_unref(rejection->recipients);
	g_free(rejection->reply);
	g_free(rejection->account);
	g_free(rejection);
}

static void
write_rejection(gpointer data, gpointer user_data)
{
	OpRejection *rejection = data;
	guint count = MAX(rejection->recipients->len, 1);

	for (guint i = 0; i < count; i++) {
		const char *recipient = i < rejection->recipients->len
						? g_ptr_array_index(rejection->recipients, i)
						: NULL;
		g_autoptr(GError) error = NULL;

		if (!op_store_add_event_full(rejection->store, OP_EVENT_REJECTED, NULL,
					     rejection->sender, recipient, NULL, rejection->reply,
					     rejection->account, &error))
			g_warning("%s recording a rejected submission failed: %s",
				  rejection->session_id, error->message);
	}
	rejection_free(rejection);
}

static void
push_rejection(OpRejection *rejection)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&op_rejections_lock);

	if (op_rejections_pool == NULL)
		op_rejections_pool = g_thread_pool_new(write_rejection, NULL, 1, FALSE, NULL);
	if (g_thread_pool_unprocessed(op_rejections_pool) >= OP_MAX_PENDING_REJECTIONS) {
		/* Warn at the first drop and then once per thousand. */
		if (op_rejections_dropped++ % 1000 == 0)
			g_warning("%s: %u rejected submissions not recorded so far, because %d are "
				  "still waiting to be written",
				  rejection->session_id, op_rejections_dropped,
				  OP_MAX_PENDING_REJECTIONS);
		rejection_free(rejection);
		return;
	}
	g_thread_pool_push(op_rejections_pool, rejection, NULL);
}

void
op_smtp_session_record_rejection(OpSmtpSession *session, const char *sender,
				 const char *recipient, const char *reply)
{
	OpRejection *rejection;

	if (session->context->store == NULL)
		return;
	rejection = g_new0(OpRejection, 1);
	rejection->store = session->context->store;
	rejection->session_id = g_strdup(session->id);
	rejection->sender = g_strdup(sender);
	rejection->recipients = g_ptr_array_new_with_free_func(g_free);
	if (recipient != NULL) {
		g_ptr_array_add(rejection->recipients, g_strdup(recipient));
	} else {
		for (guint i = 0; i < session->recipients->len; i++)
			g_ptr_array_add(rejection->recipients,
					g_strdup(g_ptr_array_index(session->recipients, i)));
	}
	rejection->reply = g_strdup(reply);
	rejection->account = g_strdup(session->account);
	push_rejection(rejection);
}

void
op_smtp_rejections_flush(void)
{
	GThreadPool *pool;

	g_mutex_lock(&op_rejections_lock);
	pool = g_steal_pointer(&op_rejections_pool);
	g_mutex_unlock(&op_rejections_lock);
	if (pool != NULL)
		g_thread_pool_free(pool, FALSE, TRUE);
}
