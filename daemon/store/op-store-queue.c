/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue half of the store: enqueue with one durable commit, the due
 * recipients for the scheduler, and each recipient's outcome.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

#include <openssl/rand.h>

/* Queue ids sort by arrival: eight hex digits of the arrival second, then
 * six random ones. Two ids of the same second rarely collide, and a
 * collision fails the insert, which the client sees as a 451 and retries. */
char *
op_store_new_queue_id(void)
{
	guint8 random[3] = {0};
	guint32 seconds = (guint32)(g_get_real_time() / G_USEC_PER_SEC);

	if (RAND_bytes(random, sizeof random) != 1)
		g_random_set_seed((guint32)g_get_monotonic_time());
	return g_strdup_printf("%08X%02X%02X%02X", seconds, random[0], random[1], random[2]);
}

static const char *
domain_of(const char *address)
{
	const char *at = strrchr(address, '@');

	return at ? at + 1 : "";
}

static gboolean
insert_message(OpStore *store, const OpStoreMessage *message, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "INSERT INTO messages (id, sender, account, size, "
					       "created, is_bounce, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
					       error);
	gsize size = 0;
	const void *data = g_bytes_get_data(message->body, &size);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, message->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, message->sender, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, message->account, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)size);
	sqlite3_bind_int64(stmt, 5, message->created);
	sqlite3_bind_int(stmt, 6, message->is_bounce);
	sqlite3_bind_blob64(stmt, 7, data ? data : "", size, SQLITE_STATIC);
	return op_store_step_done(store->write_db, stmt, "storing the message", error);
}

static gboolean
insert_recipients(OpStore *store, const OpStoreMessage *message, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "INSERT INTO recipients (message_id, address, domain, "
					       "next_attempt) VALUES (?, ?, lower(?), ?)",
					       error);

	if (stmt == NULL)
		return FALSE;
	for (guint i = 0; i < message->recipients->len; i++) {
		const char *address = g_ptr_array_index(message->recipients, i);

		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, message->id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 2, address, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 3, domain_of(address), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(stmt, 4, message->created);
		if (!op_store_step_done(store->write_db, stmt, "storing a recipient", error))
			return FALSE;
	}
	return TRUE;
}

gboolean
op_store_enqueue(OpStore *store, const OpStoreMessage *message, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);

	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!insert_message(store, message, error) || !insert_recipients(store, message, error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	/* The COMMIT returns once the WAL is fsynced (synchronous=FULL). */
	if (!op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	return TRUE;
}

void
op_store_message_clear(OpStoreMessage *message)
{
	g_clear_pointer(&message->id, g_free);
	g_clear_pointer(&message->sender, g_free);
	g_clear_pointer(&message->account, g_free);
	g_clear_pointer(&message->recipients, g_ptr_array_unref);
	g_clear_pointer(&message->body, g_bytes_unref);
}

GPtrArray *
op_store_list_due(OpStore *store, gint64 now, guint limit, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
					       "SELECT r.id, r.message_id, m.sender, r.address, "
					       "r.domain, r.attempts, m.created, m.delay_warned, "
					       "m.is_bounce FROM recipients r JOIN messages m ON "
					       "m.id = r.message_id WHERE r.next_attempt <= ? AND r.held = 0 "
					       "ORDER BY r.next_attempt, r.id LIMIT ?",
					       error);
	g_autoptr(GPtrArray) due = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_recipient_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int64(stmt, 2, limit);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		OpStoreRecipient *recipient = g_new0(OpStoreRecipient, 1);

		recipient->recipient_id = sqlite3_column_int64(stmt, 0);
		recipient->message_id = op_store_dup_column_text(stmt, 1);
		recipient->sender = op_store_dup_column_text(stmt, 2);
		recipient->address = op_store_dup_column_text(stmt, 3);
		recipient->domain = op_store_dup_column_text(stmt, 4);
		recipient->attempts = (guint)sqlite3_column_int(stmt, 5);
		recipient->created = sqlite3_column_int64(stmt, 6);
		recipient->delay_warned = sqlite3_column_int(stmt, 7) != 0;
		recipient->is_bounce = sqlite3_column_int(stmt, 8) != 0;
		g_ptr_array_add(due, recipient);
	}
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(store->read_db, rc, "listing due recipients", error);
		return NULL;
	}
	return g_steal_pointer(&due);
}

/* Returns the earliest next_attempt in the queue, or G_MAXINT64 when it is empty. */
gint64
op_store_get_next_due(OpStore *store, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
					       "SELECT min(next_attempt) FROM recipients WHERE held = 0", error);

	if (stmt == NULL || sqlite3_step(stmt) != SQLITE_ROW)
		return G_MAXINT64;
	if (sqlite3_column_type(stmt, 0) == SQLITE_NULL)
		return G_MAXINT64;
	return sqlite3_column_int64(stmt, 0);
}

GBytes *
op_store_load_body(OpStore *store, const char *message_id, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
					       "SELECT body FROM messages WHERE id = ?", error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, message_id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
				    "message %s is not in the queue", message_id);
		else
			op_store_set_sqlite_error(store->read_db, rc, "reading the message", error);
		return NULL;
	}
	return g_bytes_new(sqlite3_column_blob(stmt, 0), (gsize)sqlite3_column_bytes(stmt, 0));
}

/* Deletes a delivered or bounced recipient, and its message once no
 * recipient is left. */
gboolean
op_store_finish_recipient(OpStore *store, gint64 recipient_id, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "DELETE FROM recipients WHERE id = ? "
					       "RETURNING message_id",
					       error);
	g_autoptr(sqlite3_stmt) cleanup = NULL;
	g_autofree char *message_id = NULL;
	int rc;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, recipient_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		message_id = op_store_dup_column_text(stmt, 0);
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_DONE)
		return op_store_set_sqlite_error(store->write_db, rc, "removing a delivered recipient",
					error);
	if (message_id == NULL)
		return TRUE;
	cleanup = op_store_prepare(store->write_db,
			  "DELETE FROM messages WHERE id = ?1 AND NOT EXISTS "
			  "(SELECT 1 FROM recipients WHERE message_id = ?1)",
			  error);
	if (cleanup == NULL)
		return FALSE;
	sqlite3_bind_text(cleanup, 1, message_id, -1, SQLITE_TRANSIENT);
	return op_store_step_done(store->write_db, cleanup, "removing a finished message", error);
}

gboolean
op_store_defer_recipient(OpStore *store, gint64 recipient_id, gint64 next_attempt,
			 const char *reply, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "UPDATE recipients SET attempts = attempts + 1, "
					       "next_attempt = ?, last_reply = ? WHERE id = ?",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, next_attempt);
	sqlite3_bind_text(stmt, 2, reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 3, recipient_id);
	return op_store_step_done(store->write_db, stmt, "deferring a recipient", error);
}

gboolean
op_store_mark_delay_warned(OpStore *store, const char *message_id, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "UPDATE messages SET delay_warned = 1 WHERE id = ?",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, message_id, -1, SQLITE_TRANSIENT);
	return op_store_step_done(store->write_db, stmt, "marking the delay warning", error);
}

GPtrArray *
op_store_list_queue(OpStore *store, guint offset, guint limit, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		store->read_db,
		"SELECT m.id, m.sender, m.size, m.created, "
		"  (SELECT group_concat(address, char(10)) FROM recipients WHERE message_id = m.id), "
		"  (SELECT max(attempts) FROM recipients WHERE message_id = m.id), "
		"  (SELECT min(next_attempt) FROM recipients WHERE message_id = m.id), "
		"  (SELECT last_reply FROM recipients WHERE message_id = m.id AND "
		"   last_reply IS NOT NULL ORDER BY attempts DESC LIMIT 1) "
		"FROM messages m ORDER BY m.created, m.id LIMIT ? OFFSET ?",
		error);
	g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_queue_entry_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, limit);
	sqlite3_bind_int64(stmt, 2, offset);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		OpStoreQueueEntry *entry = g_new0(OpStoreQueueEntry, 1);
		g_auto(GStrv) recipients = g_strsplit(
			(const char *)(sqlite3_column_text(stmt, 4) ?: (const unsigned char *)""),
			"\n", -1);

		entry->id = op_store_dup_column_text(stmt, 0);
		entry->sender = op_store_dup_column_text(stmt, 1);
		entry->size = (guint64)sqlite3_column_int64(stmt, 2);
		entry->created = sqlite3_column_int64(stmt, 3);
		entry->recipients = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; recipients[i] != NULL; i++)
			if (*recipients[i] != '\0')
				g_ptr_array_add(entry->recipients, g_strdup(recipients[i]));
		entry->attempts = (guint)sqlite3_column_int(stmt, 5);
		entry->next_attempt = sqlite3_column_int64(stmt, 6);
		entry->last_reply = op_store_dup_column_text(stmt, 7);
		entry->state = g_strdup(entry->attempts > 0 ? "deferred" : "queued");
		g_ptr_array_add(entries, entry);
	}
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(store->read_db, rc, "listing the queue", error);
		return NULL;
	}
	return g_steal_pointer(&entries);
}

void
op_store_recipient_free(OpStoreRecipient *recipient)
{
	if (recipient == NULL)
		return;
	g_free(recipient->message_id);
	g_free(recipient->sender);
	g_free(recipient->address);
	g_free(recipient->domain);
	g_free(recipient);
}

void
op_store_queue_entry_free(OpStoreQueueEntry *entry)
{
	if (entry == NULL)
		return;
	g_free(entry->id);
	g_free(entry->sender);
	g_clear_pointer(&entry->recipients, g_ptr_array_unref);
	g_free(entry->state);
	g_free(entry->last_reply);
	g_free(entry);
}

