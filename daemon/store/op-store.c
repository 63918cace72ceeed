/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SQLite in WAL mode with synchronous=FULL, so a committed enqueue is on
 * stable storage: the submission server replies 250 only after that commit.
 * Two connections: one for reads, one for writes, each behind its own mutex.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store.h"

#include "op-error.h"

#include <openssl/rand.h>

struct _OpStore {
	sqlite3 *read_db;
	sqlite3 *write_db;
	GMutex read_lock;
	GMutex write_lock;
};

static const char op_store_schema[] =
	"CREATE TABLE IF NOT EXISTS domains ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  dkim_selector TEXT NOT NULL,"
	"  dkim_key_path TEXT NOT NULL,"
	"  dkim_algorithm TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  address TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	"  password_hash TEXT NOT NULL,"
	"  enabled INTEGER NOT NULL DEFAULT 1,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS messages ("
	"  id TEXT PRIMARY KEY,"
	"  sender TEXT NOT NULL,"
	"  account TEXT,"
	"  size INTEGER NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  is_bounce INTEGER NOT NULL DEFAULT 0,"
	"  delay_warned INTEGER NOT NULL DEFAULT 0,"
	"  body BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS recipients ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  address TEXT NOT NULL,"
	"  domain TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_reply TEXT);"
	"CREATE INDEX IF NOT EXISTS recipients_due ON recipients(next_attempt);"
	"CREATE INDEX IF NOT EXISTS recipients_message ON recipients(message_id);"
	"CREATE TABLE IF NOT EXISTS events ("
	"  id INTEGER PRIMARY KEY,"
	"  time INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  queue_id TEXT,"
	"  sender TEXT,"
	"  recipient TEXT,"
	"  mx TEXT,"
	"  reply TEXT);"
	"CREATE INDEX IF NOT EXISTS events_time ON events(time);"
	"CREATE INDEX IF NOT EXISTS events_queue_id ON events(queue_id);";

static const char *const op_event_names[] = {
	[OP_EVENT_ACCEPTED] = "accepted",   [OP_EVENT_DELIVERED] = "delivered",
	[OP_EVENT_DEFERRED] = "deferred",   [OP_EVENT_BOUNCED] = "bounced",
	[OP_EVENT_EXPIRED] = "expired",	    [OP_EVENT_DELAY_WARNED] = "delay-warned",
	[OP_EVENT_REJECTED] = "rejected",
};

static gboolean
set_sqlite_error(sqlite3 *db, int rc, const char *what, GError **error)
{
	int code = OP_ERROR_FAILED;

	if (rc == SQLITE_FULL)
		code = OP_ERROR_TEMPORARY;
	else if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		code = OP_ERROR_BUSY;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		code = OP_ERROR_EXISTS;
	g_set_error(error, OP_ERROR, code, "%s failed: %s", what,
		    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return FALSE;
}

static gboolean
exec_sql(sqlite3 *db, const char *sql, GError **error)
{
	char *message = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &message);

	if (rc != SQLITE_OK) {
		g_set_error(error, OP_ERROR, rc == SQLITE_FULL ? OP_ERROR_TEMPORARY : OP_ERROR_FAILED,
			    "database statement failed: %s", message ? message : sqlite3_errstr(rc));
		sqlite3_free(message);
		return FALSE;
	}
	return TRUE;
}

static sqlite3_stmt *
prepare(sqlite3 *db, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc != SQLITE_OK) {
		set_sqlite_error(db, rc, "preparing a database statement", error);
		return NULL;
	}
	return stmt;
}

static sqlite3 *
open_connection(const char *path, GError **error)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc != SQLITE_OK) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to open the database %s: %s",
			    path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	/* synchronous=FULL makes each commit wait for fsync of the WAL, which is
	 * the durability contract behind every 250 reply. */
	if (!exec_sql(db,
		      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
		      "PRAGMA foreign_keys=ON;",
		      error)) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

OpStore *
op_store_open(const char *path, GError **error)
{
	g_autoptr(OpStore) store = g_new0(OpStore, 1);

	g_mutex_init(&store->read_lock);
	g_mutex_init(&store->write_lock);
	store->write_db = open_connection(path, error);
	if (store->write_db == NULL)
		return NULL;
	if (!exec_sql(store->write_db, op_store_schema, error))
		return NULL;
	store->read_db = open_connection(path, error);
	if (store->read_db == NULL)
		return NULL;
	return g_steal_pointer(&store);
}

void
op_store_free(OpStore *store)
{
	if (store == NULL)
		return;
	sqlite3_close(store->read_db);
	sqlite3_close(store->write_db);
	g_mutex_clear(&store->read_lock);
	g_mutex_clear(&store->write_lock);
	g_free(store);
}

static char *
dup_column_text(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);

	return text ? g_strdup((const char *)text) : NULL;
}

/* Runs a statement that returns no rows; the caller holds the write lock. */
static gboolean
step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, GError **error)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE)
		return set_sqlite_error(db, rc, what, error);
	return TRUE;
}

/* ---- Domains ------------------------------------------------------------ */

gboolean
op_store_add_domain(OpStore *store, const char *name, const char *selector, const char *key_path,
		    const char *algorithm, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
					       "INSERT INTO domains (name, dkim_selector, "
					       "dkim_key_path, dkim_algorithm, created) "
					       "VALUES (?, ?, ?, ?, ?)",
					       error);
	g_autoptr(GError) local_error = NULL;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, selector, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 3, key_path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, algorithm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 5, g_get_real_time() / G_USEC_PER_SEC);
	if (!step_done(store->write_db, stmt, "adding the domain", &local_error)) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_EXISTS)) {
			g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
				    "the domain %s is already managed", name);
			return FALSE;
		}
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	return TRUE;
}

static guint
count_queued_from_domain(OpStore *store, const char *name)
{
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
					       "SELECT count(*) FROM messages WHERE "
					       "sender LIKE '%@' || ? ESCAPE '\\'",
					       NULL);

	if (stmt == NULL)
		return 0;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(stmt) != SQLITE_ROW)
		return 0;
	return (guint)sqlite3_column_int64(stmt, 0);
}

gboolean
op_store_remove_domain(OpStore *store, const char *name, gboolean force, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	guint queued;

	/* Domain names contain no LIKE wildcards, because they were validated
	 * as host names when added. */
	queued = count_queued_from_domain(store, name);
	if (queued > 0 && !force) {
		g_set_error(error, OP_ERROR, OP_ERROR_BUSY,
			    "%u queued messages are from %s: wait for them to leave the queue or "
			    "remove the domain with force",
			    queued, name);
		return FALSE;
	}
	stmt = prepare(store->write_db, "DELETE FROM domains WHERE name = ?", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	if (!step_done(store->write_db, stmt, "removing the domain", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is not managed",
			    name);
		return FALSE;
	}
	return TRUE;
}

static OpStoreDomain *
read_domain_row(sqlite3_stmt *stmt)
{
	OpStoreDomain *domain = g_new0(OpStoreDomain, 1);

	domain->name = dup_column_text(stmt, 0);
	domain->dkim_selector = dup_column_text(stmt, 1);
	domain->dkim_key_path = dup_column_text(stmt, 2);
	domain->dkim_algorithm = dup_column_text(stmt, 3);
	domain->enabled = sqlite3_column_int(stmt, 4) != 0;
	domain->created = sqlite3_column_int64(stmt, 5);
	domain->accounts = (guint)sqlite3_column_int64(stmt, 6);
	return domain;
}

#define DOMAIN_COLUMNS                                                                             \
	"SELECT name, dkim_selector, dkim_key_path, dkim_algorithm, enabled, created, "            \
	"(SELECT count(*) FROM accounts WHERE accounts.domain_id = domains.id) FROM domains "

OpStoreDomain *
op_store_get_domain(OpStore *store, const char *name, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db, DOMAIN_COLUMNS "WHERE name = ?",
					       error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return read_domain_row(stmt);
	if (rc == SQLITE_DONE)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is not managed",
			    name);
	else
		set_sqlite_error(store->read_db, rc, "reading the domain", error);
	return NULL;
}

GPtrArray *
op_store_list_domains(OpStore *store, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db, DOMAIN_COLUMNS "ORDER BY name",
					       error);
	g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_domain_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(domains, read_domain_row(stmt));
	if (rc != SQLITE_DONE) {
		set_sqlite_error(store->read_db, rc, "listing domains", error);
		return NULL;
	}
	return g_steal_pointer(&domains);
}

void
op_store_domain_free(OpStoreDomain *domain)
{
	if (domain == NULL)
		return;
	g_free(domain->name);
	g_free(domain->dkim_selector);
	g_free(domain->dkim_key_path);
	g_free(domain->dkim_algorithm);
	g_free(domain);
}

/* ---- Accounts ----------------------------------------------------------- */

gboolean
op_store_add_account(OpStore *store, const char *address, const char *domain,
		     const char *password_hash, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
					       "INSERT INTO accounts (address, domain_id, "
					       "password_hash, created) SELECT ?, id, ?, ? "
					       "FROM domains WHERE name = ?",
					       error);
	g_autoptr(GError) local_error = NULL;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 2, password_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 3, g_get_real_time() / G_USEC_PER_SEC);
	sqlite3_bind_text(stmt, 4, domain, -1, SQLITE_TRANSIENT);
	if (!step_done(store->write_db, stmt, "adding the account", &local_error)) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_EXISTS)) {
			g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
				    "the account %s already exists", address);
			return FALSE;
		}
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s is not managed: add it first", domain);
		return FALSE;
	}
	return TRUE;
}

static gboolean
update_account(OpStore *store, const char *sql, const char *address, const char *value,
	       GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db, sql, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, address, -1, SQLITE_TRANSIENT);
	if (value != NULL)
		sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
	if (!step_done(store->write_db, stmt, "changing the account", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "no account %s", address);
		return FALSE;
	}
	return TRUE;
}

gboolean
op_store_remove_account(OpStore *store, const char *address, GError **error)
{
	return update_account(store, "DELETE FROM accounts WHERE address = ?", address, NULL,
			      error);
}

gboolean
op_store_set_password_hash(OpStore *store, const char *address, const char *password_hash,
			   GError **error)
{
	return update_account(store, "UPDATE accounts SET password_hash = ?2 WHERE address = ?1",
			      address, password_hash, error);
}

#define ACCOUNT_COLUMNS                                                                            \
	"SELECT a.address, d.name, a.password_hash, a.enabled AND d.enabled, a.created "           \
	"FROM accounts a JOIN domains d ON d.id = a.domain_id "

static OpStoreAccount *
read_account_row(sqlite3_stmt *stmt, gboolean with_hash)
{
	OpStoreAccount *account = g_new0(OpStoreAccount, 1);

	account->address = dup_column_text(stmt, 0);
	account->domain = dup_column_text(stmt, 1);
	if (with_hash)
		account->password_hash = dup_column_text(stmt, 2);
	account->enabled = sqlite3_column_int(stmt, 3) != 0;
	account->created = sqlite3_column_int64(stmt, 4);
	return account;
}

OpStoreAccount *
op_store_get_account(OpStore *store, const char *address, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db,
					       ACCOUNT_COLUMNS "WHERE a.address = ?", error);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, address, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return read_account_row(stmt, TRUE);
	if (rc == SQLITE_DONE)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "no account %s", address);
	else
		set_sqlite_error(store->read_db, rc, "reading the account", error);
	return NULL;
}

GPtrArray *
op_store_list_accounts(OpStore *store, const char *filter, guint offset, guint limit,
		       GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db,
					       ACCOUNT_COLUMNS "WHERE instr(lower(a.address), "
							       "lower(?)) > 0 ORDER BY a.address "
							       "LIMIT ? OFFSET ?",
					       error);
	g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_account_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, filter ? filter : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, limit);
	sqlite3_bind_int64(stmt, 3, offset);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(accounts, read_account_row(stmt, FALSE));
	if (rc != SQLITE_DONE) {
		set_sqlite_error(store->read_db, rc, "listing accounts", error);
		return NULL;
	}
	return g_steal_pointer(&accounts);
}

void
op_store_account_free(OpStoreAccount *account)
{
	if (account == NULL)
		return;
	g_free(account->address);
	g_free(account->domain);
	if (account->password_hash != NULL)
		explicit_bzero(account->password_hash, strlen(account->password_hash));
	g_free(account->password_hash);
	g_free(account);
}

/* ---- Queue -------------------------------------------------------------- */

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
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
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
	return step_done(store->write_db, stmt, "storing the message", error);
}

static gboolean
insert_recipients(OpStore *store, const OpStoreMessage *message, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
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
		if (!step_done(store->write_db, stmt, "storing a recipient", error))
			return FALSE;
	}
	return TRUE;
}

gboolean
op_store_enqueue(OpStore *store, const OpStoreMessage *message, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);

	if (!exec_sql(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!insert_message(store, message, error) || !insert_recipients(store, message, error)) {
		exec_sql(store->write_db, "ROLLBACK", NULL);
		return FALSE;
	}
	/* The COMMIT returns once the WAL is fsynced (synchronous=FULL). */
	if (!exec_sql(store->write_db, "COMMIT", error)) {
		exec_sql(store->write_db, "ROLLBACK", NULL);
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
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db,
					       "SELECT r.id, r.message_id, m.sender, r.address, "
					       "r.domain, r.attempts, m.created, m.delay_warned, "
					       "m.is_bounce FROM recipients r JOIN messages m ON "
					       "m.id = r.message_id WHERE r.next_attempt <= ? "
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
		recipient->message_id = dup_column_text(stmt, 1);
		recipient->sender = dup_column_text(stmt, 2);
		recipient->address = dup_column_text(stmt, 3);
		recipient->domain = dup_column_text(stmt, 4);
		recipient->attempts = (guint)sqlite3_column_int(stmt, 5);
		recipient->created = sqlite3_column_int64(stmt, 6);
		recipient->delay_warned = sqlite3_column_int(stmt, 7) != 0;
		recipient->is_bounce = sqlite3_column_int(stmt, 8) != 0;
		g_ptr_array_add(due, recipient);
	}
	if (rc != SQLITE_DONE) {
		set_sqlite_error(store->read_db, rc, "listing due recipients", error);
		return NULL;
	}
	return g_steal_pointer(&due);
}

/* Returns the earliest next_attempt in the queue, or G_MAXINT64 when it is empty. */
gint64
op_store_get_next_due(OpStore *store, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db,
					       "SELECT min(next_attempt) FROM recipients", error);

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
	g_autoptr(sqlite3_stmt) stmt = prepare(store->read_db,
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
			set_sqlite_error(store->read_db, rc, "reading the message", error);
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
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
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
		message_id = dup_column_text(stmt, 0);
		rc = sqlite3_step(stmt);
	}
	if (rc != SQLITE_DONE)
		return set_sqlite_error(store->write_db, rc, "removing a delivered recipient",
					error);
	if (message_id == NULL)
		return TRUE;
	cleanup = prepare(store->write_db,
			  "DELETE FROM messages WHERE id = ?1 AND NOT EXISTS "
			  "(SELECT 1 FROM recipients WHERE message_id = ?1)",
			  error);
	if (cleanup == NULL)
		return FALSE;
	sqlite3_bind_text(cleanup, 1, message_id, -1, SQLITE_TRANSIENT);
	return step_done(store->write_db, cleanup, "removing a finished message", error);
}

gboolean
op_store_defer_recipient(OpStore *store, gint64 recipient_id, gint64 next_attempt,
			 const char *reply, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
					       "UPDATE recipients SET attempts = attempts + 1, "
					       "next_attempt = ?, last_reply = ? WHERE id = ?",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, next_attempt);
	sqlite3_bind_text(stmt, 2, reply, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 3, recipient_id);
	return step_done(store->write_db, stmt, "deferring a recipient", error);
}

gboolean
op_store_mark_delay_warned(OpStore *store, const char *message_id, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
					       "UPDATE messages SET delay_warned = 1 WHERE id = ?",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, message_id, -1, SQLITE_TRANSIENT);
	return step_done(store->write_db, stmt, "marking the delay warning", error);
}

GPtrArray *
op_store_list_queue(OpStore *store, guint offset, guint limit, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(
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

		entry->id = dup_column_text(stmt, 0);
		entry->sender = dup_column_text(stmt, 1);
		entry->size = (guint64)sqlite3_column_int64(stmt, 2);
		entry->created = sqlite3_column_int64(stmt, 3);
		entry->recipients = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; recipients[i] != NULL; i++)
			if (*recipients[i] != '\0')
				g_ptr_array_add(entry->recipients, g_strdup(recipients[i]));
		entry->attempts = (guint)sqlite3_column_int(stmt, 5);
		entry->next_attempt = sqlite3_column_int64(stmt, 6);
		entry->last_reply = dup_column_text(stmt, 7);
		entry->state = g_strdup(entry->attempts > 0 ? "deferred" : "queued");
		g_ptr_array_add(entries, entry);
	}
	if (rc != SQLITE_DONE) {
		set_sqlite_error(store->read_db, rc, "listing the queue", error);
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

/* ---- Events ------------------------------------------------------------- */

gboolean
op_store_add_event(OpStore *store, OpEventType type, const char *queue_id, const char *sender,
		   const char *recipient, const char *mx, const char *reply, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = prepare(store->write_db,
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
	return step_done(store->write_db, stmt, "recording a delivery event", error);
}
