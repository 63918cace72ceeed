/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The delivery-event log: one row per acceptance, attempt, bounce and
 * rejection, searched by the admin app's log view. A hook set by the D-Bus
 * service receives each event once it is committed, so it can announce it live.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

static const char *const op_event_names[] = {
	[OP_EVENT_ACCEPTED] = "accepted",   [OP_EVENT_DELIVERED] = "delivered",
	[OP_EVENT_DEFERRED] = "deferred",   [OP_EVENT_BOUNCED] = "bounced",
	[OP_EVENT_EXPIRED] = "expired",	    [OP_EVENT_DELAY_WARNED] = "delay-warned",
	[OP_EVENT_REJECTED] = "rejected",   [OP_EVENT_DELETED] = "deleted",
};

const char *
op_event_type_to_string(OpEventType type)
{
	if ((guint)type >= G_N_ELEMENTS(op_event_names))
		return "unknown";
	return op_event_names[type];
}

gboolean
op_event_type_from_string(const char *name, OpEventType *type)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_event_names); i++) {
		if (g_strcmp0(name, op_event_names[i]) == 0) {
			*type = (OpEventType)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
op_store_add_event(OpStore *store, OpEventType type, const char *queue_id, const char *sender,
		   const char *recipient, const char *mx, const char *reply, GError **error)
{
	return op_store_add_event_full(store, type, queue_id, sender, recipient, mx, reply, NULL,
				       error);
}

/* Hands the committed row to the hook. The caller holds the write lock. */
static void
call_event_hook(OpStore *store, gint64 id, gint64 time, OpEventType type, const char *queue_id,
		const char *sender, const char *recipient, const char *mx, const char *reply,
		const char *account)
{
	/* The hook only reads the strings, so borrowing them here is safe. */
	const OpStoreEvent event = {
		.id = id,
		.time = time,
		.type = type,
		.queue_id = (char *)queue_id,
		.sender = (char *)sender,
		.recipient = (char *)recipient,
		.mx = (char *)mx,
		.reply = (char *)reply,
		.account = (char *)account,
	};

	store->event_hook(&event, store->event_hook_data);
}

gboolean
op_store_add_event_full(OpStore *store, OpEventType type, const char *queue_id,
			const char *sender, const char *recipient, const char *mx,
			const char *reply, const char *account, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	g_return_val_if_fail((guint)type < G_N_ELEMENTS(op_event_names), FALSE);

	stmt = op_store_prepare(store->write_db,
				"INSERT INTO events (time, type, queue_id, sender, recipient, mx, "
				"reply, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_text(stmt, 2, op_event_names[type], -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, queue_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, sender, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 5, recipient, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 6, mx, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 7, reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 8, account, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "recording a delivery event", error))
		return FALSE;
	if (store->event_hook != NULL)
		call_event_hook(store, sqlite3_last_insert_rowid(store->write_db), now, type,
				queue_id, sender, recipient, mx, reply, account);
	return TRUE;
}

/* Replaces the hook. The old hook's destroy function runs once no event is
 * being announced, so after this returns the old hook is never called. */
void
op_store_set_event_hook(OpStore *store, OpStoreEventHook hook, gpointer user_data,
			GDestroyNotify destroy)
{
	gpointer old_data;
	GDestroyNotify old_destroy;

	g_mutex_lock(&store->write_lock);
	old_data = store->event_hook_data;
	old_destroy = store->event_hook_destroy;
	store->event_hook = hook;
	store->event_hook_data = user_data;
	store->event_hook_destroy = destroy;
	g_mutex_unlock(&store->write_lock);
	if (old_destroy != NULL)
		old_destroy(old_data);
}

/* Turns a domain into a LIKE pattern matching addresses in it, with the
 * pattern characters of the domain escaped. */
static char *
dup_domain_pattern(const char *domain)
{
	GString *pattern = g_string_new("%@");

	for (const char *p = domain; *p != '\0'; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			g_string_append_c(pattern, '\\');
		g_string_append_c(pattern, *p);
	}
	return g_string_free(pattern, FALSE);
}

/* Builds the search statement. Each condition reads a fixed parameter
 * number, so the binding does not depend on which conditions are present. */
static char *
dup_search_sql(const OpStoreEventFilter *filter)
{
	GString *sql = g_string_new("SELECT id, time, type, queue_id, sender, recipient, mx, "
				    "reply, account FROM events WHERE 1");

	if (filter->address != NULL)
		g_string_append(sql, " AND (instr(lower(sender), ?1) > 0"
				     " OR instr(lower(recipient), ?1) > 0)");
	if (filter->queue_id != NULL)
		g_string_append(sql, " AND queue_id = ?2");
	if (filter->domain != NULL)
		g_string_append(sql, " AND recipient LIKE ?3 ESCAPE '\\'");
	if (filter->type >= 0)
		g_string_append(sql, " AND type = ?4");
	if (filter->has_since)
		g_string_append(sql, " AND time >= ?5");
	if (filter->has_until)
		g_string_append(sql, " AND time < ?6");
	/* Newest first. The index on time also orders equal times by id. */
	g_string_append(sql, " ORDER BY time DESC, id DESC LIMIT ?7 OFFSET ?8");
	return g_string_free(sql, FALSE);
}

static void
bind_search(sqlite3_stmt *stmt, const OpStoreEventFilter *filter, guint offset, guint limit)
{
	/* SQLite's lower() folds ASCII only, so the needle is folded the same way. */
	if (filter->address != NULL)
		sqlite3_bind_text(stmt, 1, g_ascii_strdown(filter->address, -1), -1, g_free);
	if (filter->queue_id != NULL)
		sqlite3_bind_text(stmt, 2, filter->queue_id, -1, SQLITE_TRANSIENT);
	if (filter->domain != NULL)
		sqlite3_bind_text(stmt, 3, dup_domain_pattern(filter->domain), -1, g_free);
	if (filter->type >= 0)
		sqlite3_bind_text(stmt, 4, op_event_type_to_string(filter->type), -1,
				  SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 5, filter->since);
	sqlite3_bind_int64(stmt, 6, filter->until);
	sqlite3_bind_int64(stmt, 7, limit);
	sqlite3_bind_int64(stmt, 8, offset);
}

static OpStoreEvent *
read_event(sqlite3_stmt *stmt)
{
	OpStoreEvent *event = g_new0(OpStoreEvent, 1);
	OpEventType type = OP_EVENT_ACCEPTED;

	event->id = sqlite3_column_int64(stmt, 0);
	event->time = sqlite3_column_int64(stmt, 1);
	op_event_type_from_string((const char *)sqlite3_column_text(stmt, 2), &type);
	event->type = type;
	event->queue_id = op_store_dup_column_text(stmt, 3);
	event->sender = op_store_dup_column_text(stmt, 4);
	event->recipient = op_store_dup_column_text(stmt, 5);
	event->mx = op_store_dup_column_text(stmt, 6);
	event->reply = op_store_dup_column_text(stmt, 7);
	event->account = op_store_dup_column_text(stmt, 8);
	return event;
}

/* Returns the matching events, newest first, as OpStoreEvent pointers. */
GPtrArray *
op_store_search_events(OpStore *store, const OpStoreEventFilter *filter, guint offset,
		       guint limit, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autofree char *sql = dup_search_sql(filter);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db, sql, error);
	g_autoptr(GPtrArray) events = NULL;
	int rc;

	if (stmt == NULL)
		return NULL;
	bind_search(stmt, filter, offset, limit);
	events = g_ptr_array_new_with_free_func((GDestroyNotify)op_store_event_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(events, read_event(stmt));
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(store->read_db, rc, "searching the delivery log", error);
		return NULL;
	}
	return g_steal_pointer(&events);
}

void
op_store_event_free(OpStoreEvent *event)
{
	if (event == NULL)
		return;
	g_free(event->queue_id);
	g_free(event->sender);
	g_free(event->recipient);
	g_free(event->mx);
	g_free(event->reply);
	g_free(event->account);
	g_free(event);
}
