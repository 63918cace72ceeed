/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue half of the store: enqueue with one durable commit, the due
 * recipients for the scheduler, each recipient's outcome, and the admin
 * API's paged views and changes of queued messages.
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
 * recipient is left. A recipient that an administrator removed while it was
 * being delivered is already gone, which is not an error. */
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

/* Records a failed attempt. A recipient removed meanwhile by an
 * administrator matches no row and stays removed. */
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

/* ---- Queue administration ------------------------------------------------ */

/* The indexes behind the admin API's queue views. The sort keys created,
 * size and sender each have an index that also contains the other columns
 * of a listed row, so a page is read from the index alone and never from
 * the table rows, which contain the bodies. recipients_state lets the
 * per-message state, attempts and next attempt be computed from an index
 * too, and recipients_domain serves the domain filter. */
static const char op_store_queue_indexes[] =
	"CREATE INDEX IF NOT EXISTS messages_created ON messages(created, id, sender, size);"
	"CREATE INDEX IF NOT EXISTS messages_size ON messages(size, id, created, sender);"
	"CREATE INDEX IF NOT EXISTS messages_sender ON messages(sender, id, created, size);"
	"CREATE INDEX IF NOT EXISTS recipients_state "
	"  ON recipients(message_id, held, attempts, next_attempt);"
	"CREATE INDEX IF NOT EXISTS recipients_domain ON recipients(domain, message_id);";

/* Creates the queue indexes that are missing. Safe to call at every open:
 * on a database that has them, it changes nothing. */
gboolean
op_store_create_queue_indexes(OpStore *store, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);

	if (!op_store_exec(store->write_db, op_store_queue_indexes, error)) {
		g_prefix_error(error, "creating the queue indexes: ");
		return FALSE;
	}
	return TRUE;
}

/* Opens a connection for one admin view. A view of a large queue takes tens
 * of milliseconds. On read_db it would hold read_lock that long, and the
 * scheduler and the SMTP sessions take that lock on the main loop. In WAL
 * mode this connection reads the last committed state and waits for nobody. */
static sqlite3 *
open_view(OpStore *store, GError **error)
{
	g_autofree char *path = NULL;
	sqlite3 *db = NULL;
	int rc;

	{
		g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);

		path = g_strdup(sqlite3_db_filename(store->read_db, "main"));
	}
	if (path == NULL || *path == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "the queue views need a database file, not an in-memory database");
		return NULL;
	}
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		op_store_set_sqlite_error(db, rc, "opening the database for the queue view", error);
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static const char *const op_queue_state_names[] = {
	[OP_QUEUE_STATE_ANY] = "any",
	[OP_QUEUE_STATE_QUEUED] = "queued",
	[OP_QUEUE_STATE_DEFERRED] = "deferred",
	[OP_QUEUE_STATE_HELD] = "held",
};

const char *
op_queue_state_to_string(OpQueueState state)
{
	return op_queue_state_names[state];
}

/* A message's state from its recipients, as a number equal to OpQueueState:
 * held if any recipient is held, deferred once any was tried. A message
 * without recipients counts as queued. */
#define OP_SQL_MESSAGE_STATE                                                                  \
	"(SELECT CASE WHEN max(held) = 1 THEN 3 WHEN max(attempts) > 0 THEN 2 ELSE 1 END "     \
	"FROM recipients WHERE message_id = m.id)"

/* The ORDER BY expression of each sort key. m.id breaks ties, so pages
 * neither overlap nor skip a message while the queue stays the same. */
static const char *const op_queue_sort_columns[] = {
	[OP_QUEUE_SORT_CREATED] = "m.created",
	[OP_QUEUE_SORT_SIZE] = "m.size",
	[OP_QUEUE_SORT_SENDER] = "m.sender",
	[OP_QUEUE_SORT_ATTEMPTS] =
		"(SELECT max(attempts) FROM recipients WHERE message_id = m.id)",
	[OP_QUEUE_SORT_NEXT_ATTEMPT] =
		"(SELECT min(next_attempt) FROM recipients WHERE message_id = m.id)",
};

/* Builds the page query from fixed fragments only: every value is bound to
 * the numbered parameters ?1 to ?9 (see bind_query). */
static char *
dup_query_sql(const OpStoreQueueQuery *query)
{
	GString *sql = g_string_new("SELECT m.id, m.sender, m.size, m.created FROM messages m "
				    "WHERE 1");
	const char *direction = query->descending ? " DESC" : "";

	/* Unset bounds stay out of the SQL: the planner cannot see that a bound
	 * parameter matches everything, and would range-scan the created index
	 * and sort instead of walking the sort key's index. */
	if (query->created_min != G_MININT64)
		g_string_append(sql, " AND m.created >= ?6");
	if (query->created_max != G_MAXINT64)
		g_string_append(sql, " AND m.created <= ?7");
	if (query->sender != NULL)
		g_string_append(sql, " AND instr(lower(m.sender), ?1) > 0");
	if (query->recipient != NULL)
		g_string_append(sql, " AND EXISTS (SELECT 1 FROM recipients WHERE "
				     "message_id = m.id AND instr(lower(address), ?2) > 0)");
	if (query->domain != NULL)
		g_string_append(sql, " AND m.id IN (SELECT message_id FROM recipients WHERE "
				     "domain IN (?3, ?4))");
	if (query->state != OP_QUEUE_STATE_ANY)
		g_string_append(sql, " AND " OP_SQL_MESSAGE_STATE " = ?5");
	g_string_append_printf(sql, " ORDER BY %s%s, m.id%s LIMIT ?8 OFFSET ?9",
			       op_queue_sort_columns[query->sort], direction, direction);
	return g_string_free(sql, FALSE);
}

static void
bind_query(sqlite3_stmt *stmt, const OpStoreQueueQuery *query)
{
	sqlite3_bind_text(stmt, 1, query->sender, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, query->recipient, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, query->domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, query->domain_unicode ? query->domain_unicode : query->domain,
			  -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(stmt, 5, (int)query->state);
	sqlite3_bind_int64(stmt, 6, query->created_min);
	sqlite3_bind_int64(stmt, 7, query->created_max);
	sqlite3_bind_int64(stmt, 8, query->limit);
	sqlite3_bind_int64(stmt, 9, query->offset);
}

static OpQueueState
recipient_state(gboolean held, guint attempts)
{
	if (held)
		return OP_QUEUE_STATE_HELD;
	return attempts > 0 ? OP_QUEUE_STATE_DEFERRED : OP_QUEUE_STATE_QUEUED;
}

/* Sets the message-wide values of @entry from its recipient states. */
static void
summarize_recipients(OpStoreQueueEntry *entry)
{
	OpQueueState state = OP_QUEUE_STATE_QUEUED;
	gint64 next_held = G_MAXINT64;
	gint64 next = G_MAXINT64;
	guint replied_attempts = 0;

	for (guint i = 0; i < entry->recipient_states->len; i++) {
		OpStoreRecipientState *recipient = g_ptr_array_index(entry->recipient_states, i);

		g_ptr_array_add(entry->recipients, g_strdup(recipient->address));
		state = MAX(state, recipient->state);
		entry->attempts = MAX(entry->attempts, recipient->attempts);
		if (recipient->state == OP_QUEUE_STATE_HELD)
			next_held = MIN(next_held, recipient->next_attempt);
		else
			next = MIN(next, recipient->next_attempt);
		if (recipient->last_reply != NULL &&
		    (entry->last_reply == NULL || recipient->attempts > replied_attempts)) {
			g_free(entry->last_reply);
			entry->last_reply = g_strdup(recipient->last_reply);
			replied_attempts = recipient->attempts;
		}
	}
	if (next == G_MAXINT64)
		next = next_held == G_MAXINT64 ? entry->created : next_held;
	entry->next_attempt = next;
	entry->state = g_strdup(op_queue_state_to_string(state));
}

/* Reads the recipients of @entry into it. */
static gboolean
read_recipient_states(sqlite3 *db, sqlite3_stmt *stmt, OpStoreQueueEntry *entry,
		      GError **error)
{
	int rc;

	sqlite3_reset(stmt);
	sqlite3_bind_text(stmt, 1, entry->id, -1, SQLITE_TRANSIENT);
	entry->recipients = g_ptr_array_new_with_free_func(g_free);
	entry->recipient_states = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_recipient_state_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		OpStoreRecipientState *recipient = g_new0(OpStoreRecipientState, 1);

		recipient->address = op_store_dup_column_text(stmt, 0);
		recipient->attempts = (guint)sqlite3_column_int(stmt, 2);
		recipient->state = recipient_state(sqlite3_column_int(stmt, 1) != 0,
						   recipient->attempts);
		recipient->next_attempt = sqlite3_column_int64(stmt, 3);
		recipient->last_reply = op_store_dup_column_text(stmt, 4);
		g_ptr_array_add(entry->recipient_states, recipient);
	}
	if (rc != SQLITE_DONE)
		return op_store_set_sqlite_error(db, rc, "reading the recipients", error);
	summarize_recipients(entry);
	return TRUE;
}

static sqlite3_stmt *
prepare_recipient_states(sqlite3 *db, GError **error)
{
	return op_store_prepare(db,
				"SELECT address, held, attempts, next_attempt, last_reply "
				"FROM recipients WHERE message_id = ? ORDER BY id",
				error);
}

/* Runs the page query and reads each listed message's recipients, inside
 * the caller's read transaction. */
static GPtrArray *
read_queue_page(sqlite3 *db, const OpStoreQueueQuery *query, GError **error)
{
	g_autofree char *sql = dup_query_sql(query);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db, sql, error);
	g_autoptr(sqlite3_stmt) recipients = NULL;
	g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_queue_entry_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	recipients = prepare_recipient_states(db, error);
	if (recipients == NULL)
		return NULL;
	bind_query(stmt, query);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		OpStoreQueueEntry *entry = g_new0(OpStoreQueueEntry, 1);

		g_ptr_array_add(entries, entry);
		entry->id = op_store_dup_column_text(stmt, 0);
		entry->sender = op_store_dup_column_text(stmt, 1);
		entry->size = (guint64)sqlite3_column_int64(stmt, 2);
		entry->created = sqlite3_column_int64(stmt, 3);
		if (!read_recipient_states(db, recipients, entry, error))
			return NULL;
	}
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(db, rc, "listing the queue", error);
		return NULL;
	}
	return g_steal_pointer(&entries);
}

/* Returns one page of the queue without reading any message body. The page
 * and its recipients come from one read transaction, so a message changed
 * meanwhile is shown either before or after the change. */
GPtrArray *
op_store_query_queue(OpStore *store, const OpStoreQueueQuery *query, GError **error)
{
	sqlite3 *db = open_view(store, error);
	GPtrArray *entries = NULL;

	if (db == NULL)
		return NULL;
	if (op_store_exec(db, "BEGIN", error))
		entries = read_queue_page(db, query, error);
	sqlite3_close(db);
	return entries;
}

/* Returns the first @limit messages after @offset, oldest first. */
GPtrArray *
op_store_list_queue(OpStore *store, guint offset, guint limit, GError **error)
{
	OpStoreQueueQuery query = {
		.created_min = G_MININT64,
		.created_max = G_MAXINT64,
		.sort = OP_QUEUE_SORT_CREATED,
		.offset = offset,
		.limit = limit,
	};

	return op_store_query_queue(store, &query, error);
}

static void
set_not_queued_error(const char *id, GError **error)
{
	g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
		    "no message with queue id %s is in the queue: it was delivered, bounced or "
		    "removed, or the id is mistyped",
		    id);
}

static OpStoreQueueEntry *
read_queue_entry(sqlite3 *db, const char *id, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db,
					       "SELECT id, sender, account, size, created "
					       "FROM messages WHERE id = ?",
					       error);
	g_autoptr(sqlite3_stmt) recipients = NULL;
	g_autoptr(OpStoreQueueEntry) entry = NULL;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		set_not_queued_error(id, error);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		op_store_set_sqlite_error(db, rc, "reading the message", error);
		return NULL;
	}
	entry = g_new0(OpStoreQueueEntry, 1);
	entry->id = op_store_dup_column_text(stmt, 0);
	entry->sender = op_store_dup_column_text(stmt, 1);
	entry->account = op_store_dup_column_text(stmt, 2);
	entry->size = (guint64)sqlite3_column_int64(stmt, 3);
	entry->created = sqlite3_column_int64(stmt, 4);
	recipients = prepare_recipient_states(db, error);
	if (recipients == NULL || !read_recipient_states(db, recipients, entry, error))
		return NULL;
	return g_steal_pointer(&entry);
}

/* Returns one queued message with its account and recipient states, or
 * fails with OP_ERROR_NOT_FOUND. */
OpStoreQueueEntry *
op_store_get_queue_entry(OpStore *store, const char *id, GError **error)
{
	sqlite3 *db = open_view(store, error);
	OpStoreQueueEntry *entry = NULL;

	if (db == NULL)
		return NULL;
	if (op_store_exec(db, "BEGIN", error))
		entry = read_queue_entry(db, id, error);
	sqlite3_close(db);
	return entry;
}

/* Returns the length of the header section at the start of @data: up to
 * and including the CRLF before the first empty line (RFC 5322 §2.1), or
 * -1 when the empty line is not in @data. The search starts at @from. */
static gssize
find_header_end(const guint8 *data, gsize len, gsize from)
{
	if (from == 0 && len >= 2 && data[0] == '\r' && data[1] == '\n')
		return 0;
	for (gsize i = from; i + 4 <= len; i++) {
		if (memcmp(data + i, "\r\n\r\n", 4) == 0)
			return (gssize)i + 2;
	}
	return -1;
}

/* Returns the length of @bytes up to and including its last CRLF. */
static gsize
cut_at_line_end(const GByteArray *bytes)
{
	for (gsize len = bytes->len; len >= 2; len--) {
		if (bytes->data[len - 2] == '\r' && bytes->data[len - 1] == '\n')
			return len;
	}
	return 0;
}

/* Reads the body's first octets chunk by chunk with incremental blob I/O,
 * so the rest of a large message is never loaded. */
static GBytes *
read_header_section(sqlite3_blob *blob, gsize max_size)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	gsize total = (gsize)sqlite3_blob_bytes(blob);
	gsize limit = MIN(total, max_size);
	gssize end = -1;

	while (end < 0 && bytes->len < limit) {
		guint8 chunk[4096];
		gsize want = MIN(sizeof chunk, limit - bytes->len);
		/* The empty line may straddle two chunks: search the last three octets again. */
		gsize from = bytes->len >= 3 ? bytes->len - 3 : 0;

		if (sqlite3_blob_read(blob, chunk, (int)want, (int)bytes->len) != SQLITE_OK)
			break;
		g_byte_array_append(bytes, chunk, (guint)want);
		end = find_header_end(bytes->data, bytes->len, from);
	}
	if (end >= 0)
		g_byte_array_set_size(bytes, (guint)end);
	else if (bytes->len < total)
		g_byte_array_set_size(bytes, (guint)cut_at_line_end(bytes));
	/* Otherwise the message has no body, and all of it is the header section. */
	return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}

static GBytes *
read_header_blob(sqlite3 *db, const char *id, gsize max_size, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db, "SELECT rowid FROM messages WHERE id = ?",
							error);
	sqlite3_blob *blob = NULL;
	GBytes *headers;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		set_not_queued_error(id, error);
		return NULL;
	}
	if (rc != SQLITE_ROW) {
		op_store_set_sqlite_error(db, rc, "reading the message", error);
		return NULL;
	}
	rc = sqlite3_blob_open(db, "main", "messages", "body", sqlite3_column_int64(stmt, 0), 0,
			       &blob);
	if (rc != SQLITE_OK) {
		sqlite3_blob_close(blob);
		op_store_set_sqlite_error(db, rc, "reading the message headers", error);
		return NULL;
	}
	headers = read_header_section(blob, max_size);
	sqlite3_blob_close(blob);
	return headers;
}

/* Returns the header section of a queued message, without the empty line
 * that ends it, cut at a line end before @max_size octets. The body is not
 * read. Fails with OP_ERROR_NOT_FOUND when the message is not queued. */
GBytes *
op_store_load_header_section(OpStore *store, const char *id, gsize max_size, GError **error)
{
	sqlite3 *db = open_view(store, error);
	GBytes *headers = NULL;

	if (db == NULL)
		return NULL;
	if (op_store_exec(db, "BEGIN", error))
		headers = read_header_blob(db, id, max_size, error);
	sqlite3_close(db);
	return headers;
}

/* Runs @sql once per id in one transaction, with the id bound to ?1 and
 * @value to ?2, and counts the ids whose statement changed a row. */
static gboolean
update_each(OpStore *store, const char *sql, const char *const *ids, gint64 value, guint *count,
	    GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db, sql, error);
	guint changed = 0;

	if (stmt == NULL || !op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (guint i = 0; ids[i] != NULL; i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, ids[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(stmt, 2, value);
		if (!op_store_step_done(store->write_db, stmt, "changing a queued message",
					error)) {
			op_store_exec(store->write_db, "ROLLBACK", NULL);
			return FALSE;
		}
		if (sqlite3_changes(store->write_db) > 0)
			changed++;
	}
	if (!op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	*count = changed;
	return TRUE;
}

/* Makes every recipient of the messages due at @now and releases them. */
gboolean
op_store_retry_messages(OpStore *store, const char *const *ids, gint64 now, guint *count,
			GError **error)
{
	return update_each(store,
			   "UPDATE recipients SET next_attempt = ?2, held = 0 WHERE message_id = ?1",
			   ids, now, count, error);
}

/* Holds or releases every recipient of the messages. The scheduler skips
 * held recipients (op_store_list_due), and a release keeps next_attempt, so
 * a message whose retry time has passed is due at once. */
gboolean
op_store_set_held(OpStore *store, const char *const *ids, gboolean held, guint *count,
		  GError **error)
{
	return update_each(store, "UPDATE recipients SET held = ?2 WHERE message_id = ?1", ids,
			   held ? 1 : 0, count, error);
}

/* Records an event per removed recipient in the caller's transaction, so a
 * message never leaves the queue without a trace in the delivery log. Each
 * event is added to @events, to be announced once the transaction commits. */
static gboolean
insert_removal_events(OpStore *store, OpEventType type, const OpStoreEvent *removal,
		      GPtrArray *addresses, GPtrArray *events, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "INSERT INTO events (time, type, queue_id, sender, "
					       "recipient, reply, account) VALUES (?, ?, ?, ?, ?, ?, ?)",
					       error);

	if (stmt == NULL)
		return FALSE;
	/* A message without recipients still gets one event, without a recipient. */
	for (guint i = 0; i < MAX(addresses->len, 1u); i++) {
		OpStoreEvent *event = g_new0(OpStoreEvent, 1);

		g_ptr_array_add(events, event);
		event->time = g_get_real_time() / G_USEC_PER_SEC;
		event->type = type;
		event->queue_id = g_strdup(removal->queue_id);
		event->sender = g_strdup(removal->sender);
		event->recipient = g_strdup(i < addresses->len ? g_ptr_array_index(addresses, i)
							       : NULL);
		event->reply = g_strdup(removal->reply);
		event->account = g_strdup(removal->account);
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, event->time);
		sqlite3_bind_text(stmt, 2, op_event_type_to_string(type), -1, SQLITE_STATIC);
		sqlite3_bind_text(stmt, 3, event->queue_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 4, event->sender, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 5, event->recipient, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 6, event->reply, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, 7, event->account, -1, SQLITE_TRANSIENT);
		if (!op_store_step_done(store->write_db, stmt, "recording a delivery event", error))
			return FALSE;
		event->id = sqlite3_last_insert_rowid(store->write_db);
	}
	return TRUE;
}

/* Hands the committed removal events to the event hook, as
 * op_store_add_event does for every other event. The caller holds the
 * write lock. */
static void
announce_events(OpStore *store, GPtrArray *events)
{
	if (store->event_hook == NULL)
		return;
	for (guint i = 0; i < events->len; i++)
		store->event_hook(g_ptr_array_index(events, i), store->event_hook_data);
}

/* Removes one message and its recipients, recording a @type event for each
 * recipient into @events, and sets *found to FALSE when the message is not
 * queued. The caller holds the write lock inside a transaction. */
static gboolean
remove_message(OpStore *store, const char *id, OpEventType type, const char *reason,
	       GPtrArray *events, gboolean *found, GError **error)
{
	g_autoptr(sqlite3_stmt) recipients = op_store_prepare(store->write_db,
						     "DELETE FROM recipients WHERE message_id = ? "
						     "RETURNING address",
						     error);
	g_autoptr(sqlite3_stmt) message = NULL;
	g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *sender = NULL;
	g_autofree char *account = NULL;
	OpStoreEvent removal = {0}; /* the fields all its events share, borrowed */
	int rc;

	if (recipients == NULL)
		return FALSE;
	sqlite3_bind_text(recipients, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(recipients)) == SQLITE_ROW)
		g_ptr_array_add(addresses, op_store_dup_column_text(recipients, 0));
	if (rc != SQLITE_DONE)
		return op_store_set_sqlite_error(store->write_db, rc, "removing the recipients",
						 error);
	message = op_store_prepare(store->write_db,
				   "DELETE FROM messages WHERE id = ? RETURNING sender, account",
				   error);
	if (message == NULL)
		return FALSE;
	sqlite3_bind_text(message, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(message);
	*found = rc == SQLITE_ROW;
	if (*found) {
		sender = op_store_dup_column_text(message, 0);
		account = op_store_dup_column_text(message, 1);
		rc = sqlite3_step(message);
	}
	if (rc != SQLITE_DONE)
		return op_store_set_sqlite_error(store->write_db, rc, "removing the message", error);
	if (!*found)
		return TRUE;
	removal.queue_id = (char *)id;
	removal.sender = sender;
	removal.reply = (char *)reason;
	removal.account = account;
	return insert_removal_events(store, type, &removal, addresses, events, error);
}

/* Removes the messages from the queue in one transaction, with a "deleted"
 * event for each recipient, and counts the messages that were queued. */
gboolean
op_store_delete_messages(OpStore *store, const char *const *ids, const char *reason,
			 guint *count, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_event_free);
	guint removed = 0;

	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (guint i = 0; ids[i] != NULL; i++) {
		gboolean found = FALSE;

		if (!remove_message(store, ids[i], OP_EVENT_DELETED, reason, events, &found,
				    error)) {
			op_store_exec(store->write_db, "ROLLBACK", NULL);
			return FALSE;
		}
		if (found)
			removed++;
	}
	if (!op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	announce_events(store, events);
	*count = removed;
	return TRUE;
}

/* Replaces a message by its bounce in one transaction: the message leaves
 * the queue with a "bounced" event per recipient, and @notice (NULL for a
 * message from the null sender) enters it. When the message is no longer
 * queued, *found is FALSE and nothing changes. */
gboolean
op_store_bounce_message(OpStore *store, const char *id, const OpStoreMessage *notice,
			const char *reason, gboolean *found, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_event_free);

	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!remove_message(store, id, OP_EVENT_BOUNCED, reason, events, found, error))
		goto failed;
	if (!*found) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
		return TRUE;
	}
	if (notice != NULL &&
	    (!insert_message(store, notice, error) || !insert_recipients(store, notice, error)))
		goto failed;
	if (!op_store_exec(store->write_db, "COMMIT", error))
		goto failed;
	announce_events(store, events);
	return TRUE;

failed:
	op_store_exec(store->write_db, "ROLLBACK", NULL);
	return FALSE;
}

static gboolean
read_queue_totals(sqlite3 *db, OpStoreQueueTotals *totals, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		db,
		"SELECT (SELECT count(*) FROM messages), coalesce(sum(held), 0), "
		"  coalesce(sum(held = 0 AND attempts > 0), 0) "
		"FROM (SELECT max(held) AS held, max(attempts) AS attempts "
		"      FROM recipients GROUP BY message_id)",
		error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return op_store_set_sqlite_error(db, rc, "counting the queue", error);
	totals->total = (guint)sqlite3_column_int64(stmt, 0);
	totals->held = (guint)sqlite3_column_int64(stmt, 1);
	totals->deferred = (guint)sqlite3_column_int64(stmt, 2);
	/* Both counts come from one statement, so they are of one snapshot. */
	totals->queued = totals->total - MIN(totals->total, totals->held + totals->deferred);
	return TRUE;
}

/* Counts the messages per state from the recipients index alone. A message
 * without recipients counts as queued. */
gboolean
op_store_get_queue_totals(OpStore *store, OpStoreQueueTotals *totals, GError **error)
{
	sqlite3 *db = open_view(store, error);
	gboolean ok;

	if (db == NULL)
		return FALSE;
	ok = read_queue_totals(db, totals, error);
	sqlite3_close(db);
	return ok;
}

static void
add_to_hour(OpStoreHourCounts *row, const char *type, guint count)
{
	if (strcmp(type, "delivered") == 0)
		row->sent += count;
	else if (strcmp(type, "deferred") == 0)
		row->deferred += count;
	else if (strcmp(type, "bounced") == 0 || strcmp(type, "expired") == 0)
		row->bounced += count;
	else if (strcmp(type, "rejected") == 0)
		row->rejected += count;
}

static GArray *
read_hour_counts(sqlite3 *db, gint64 first_hour, guint hours, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(
		db,
		"SELECT time / 3600 * 3600, type, count(*) FROM events "
		"WHERE type IN ('delivered', 'deferred', 'bounced', 'expired', 'rejected') "
		"  AND time >= ?1 AND time < ?2 GROUP BY 1, 2",
		error);
	g_autoptr(GArray) rows = g_array_sized_new(FALSE, TRUE, sizeof(OpStoreHourCounts), hours);
	int rc;

	if (stmt == NULL)
		return NULL;
	g_array_set_size(rows, hours);
	for (guint i = 0; i < hours; i++)
		g_array_index(rows, OpStoreHourCounts, i).hour = first_hour + (gint64)i * 3600;
	sqlite3_bind_int64(stmt, 1, first_hour);
	sqlite3_bind_int64(stmt, 2, first_hour + (gint64)hours * 3600);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		gint64 index = (sqlite3_column_int64(stmt, 0) - first_hour) / 3600;
		const char *type = (const char *)sqlite3_column_text(stmt, 1);

		if (index >= 0 && index < hours && type != NULL)
			add_to_hour(&g_array_index(rows, OpStoreHourCounts, index), type,
				    (guint)sqlite3_column_int64(stmt, 2));
	}
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(db, rc, "counting the delivery events", error);
		return NULL;
	}
	return g_steal_pointer(&rows);
}

/* Returns @hours rows of OpStoreHourCounts, oldest first, starting with the
 * hour that begins at @first_hour (a multiple of 3600); hours without
 * events have zero counts. */
GArray *
op_store_count_events_by_hour(OpStore *store, gint64 first_hour, guint hours, GError **error)
{
	sqlite3 *db = open_view(store, error);
	GArray *rows;

	if (db == NULL)
		return NULL;
	rows = read_hour_counts(db, first_hour, hours, error);
	sqlite3_close(db);
	return rows;
}

void
op_store_recipient_state_free(OpStoreRecipientState *state)
{
	if (state == NULL)
		return;
	g_free(state->address);
	g_free(state->last_reply);
	g_free(state);
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
	g_free(entry->account);
	g_clear_pointer(&entry->recipients, g_ptr_array_unref);
	g_free(entry->state);
	g_free(entry->last_reply);
	g_clear_pointer(&entry->recipient_states, g_ptr_array_unref);
	g_free(entry);
}

