/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The delivery-event log: one row per acceptance, attempt, bounce and
 * rejection, for the admin app's log view and statistics.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

static const char *const op_event_names[] = {
	[OP_EVENT_ACCEPTED] = "accepted",   [OP_EVENT_DELIVERED] = "delivered",
	[OP_EVENT_DEFERRED] = "deferred",   [OP_EVENT_BOUNCED] = "bounced",
	[OP_EVENT_EXPIRED] = "expired",	    [OP_EVENT_DELAY_WARNED] = "delay-warned",
	[OP_EVENT_REJECTED] = "rejected",
};

gboolean
op_store_add_event(OpStore *store, OpEventType type, const char *queue_id, const char *sender,
		   const char *recipient, const char *mx, const char *reply, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "INSERT INTO events (time, type, queue_id, sender, "
					       "recipient, mx, reply) VALUES (?, ?, ?, ?, ?, ?, ?)",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, g_get_real_time() / G_USEC_PER_SEC);
	sqlite3_bind_text(stmt, 2, op_event_names[type], -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, queue_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, sender, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 5, recipient, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, mx, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 7, reply, -1, SQLITE_TRANSIENT);
	return op_store_step_done(store->write_db, stmt, "recording a delivery event", error);
}
