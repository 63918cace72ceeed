/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SQLite in WAL mode with synchronous=FULL, so a committed enqueue is on
 * stable storage: the submission server replies 250 only after that commit.
 * Two connections: one for reads, one for writes, each behind its own mutex.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

/* Each step moves the schema one version up; PRAGMA user_version counts the
 * steps done. Version 1 uses IF NOT EXISTS because databases made before
 * versions were counted already have its tables. */
static const char op_store_schema_v1[] =
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

static const char op_store_schema_v2[] =
	"ALTER TABLE domains ADD COLUMN hourly_limit INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE domains ADD COLUMN smarthost TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE accounts ADD COLUMN hourly_limit INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE aliases ("
	"  id INTEGER PRIMARY KEY,"
	"  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	"  address TEXT NOT NULL UNIQUE COLLATE NOCASE);"
	"CREATE INDEX aliases_account ON aliases(account_id);"
	"ALTER TABLE recipients ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE settings ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL);"
	"ALTER TABLE events ADD COLUMN account TEXT;"
	"CREATE INDEX events_type_time ON events(type, time);";

static const char op_store_schema_v3[] =
	"CREATE INDEX accounts_domain ON accounts(domain_id);";

/* Version 4: DKIM keys move to their own table, so a domain can have a pending,
 * an active and a retiring key during a rotation, and an Ed25519 key beside the
 * RSA one. It also adds per-domain client settings and DMARC policy, per-account
 * tokens for the Apple profile, stored publishing targets and the last check. */
static const char op_store_schema_v4[] =
	"CREATE TABLE dkim_keys ("
	"  id INTEGER PRIMARY KEY,"
	"  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	"  selector TEXT NOT NULL COLLATE NOCASE,"
	"  algorithm TEXT NOT NULL,"
	"  key_path TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  changed INTEGER NOT NULL,"
	"  UNIQUE (domain_id, selector));"
	"INSERT INTO dkim_keys (domain_id, selector, algorithm, key_path, state, created, changed)"
	"  SELECT id, dkim_selector, dkim_algorithm, dkim_key_path, 'active', created, created"
	"  FROM domains;"
	"ALTER TABLE domains DROP COLUMN dkim_selector;"
	"ALTER TABLE domains DROP COLUMN dkim_key_path;"
	"ALTER TABLE domains DROP COLUMN dkim_algorithm;"
	"ALTER TABLE domains ADD COLUMN imap_server TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domains ADD COLUMN pop3_server TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE domains ADD COLUMN dmarc_policy TEXT NOT NULL DEFAULT 'none';"
	"ALTER TABLE domains ADD COLUMN dmarc_rua TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE accounts ADD COLUMN profile_token TEXT;"
	"CREATE UNIQUE INDEX accounts_profile_token ON accounts(profile_token);"
	"CREATE TABLE publish_targets ("
	"  domain_id INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  server TEXT NOT NULL,"
	"  key_name TEXT NOT NULL DEFAULT '',"
	"  key_algorithm TEXT NOT NULL DEFAULT '',"
	"  secret TEXT NOT NULL,"
	"  zone TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE dns_checks ("
	"  domain_id INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,"
	"  time INTEGER NOT NULL,"
	"  health TEXT NOT NULL,"
	"  report TEXT NOT NULL);";

/* Version 5: the selectors of removed DKIM keys, whose records are published
 * with an empty key so that the key is revoked (RFC 6376 §3.6.1). */
static const char op_store_schema_v5[] =
	"CREATE TABLE dkim_revoked ("
	"  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,"
	"  selector TEXT NOT NULL COLLATE NOCASE,"
	"  removed INTEGER NOT NULL,"
	"  PRIMARY KEY (domain_id, selector));";

static const char *const op_store_migrations[] = {
	op_store_schema_v1,
	op_store_schema_v2,
	op_store_schema_v3,
	op_store_schema_v4,
	op_store_schema_v5,
};

static gboolean
migrate(sqlite3 *db, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db, "PRAGMA user_version", error);
	int version;

	if (stmt == NULL)
		return FALSE;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		return op_store_set_sqlite_error(db, SQLITE_ERROR, "reading the schema version",
						 error);
	version = sqlite3_column_int(stmt, 0);
	for (int step = version; step < (int)G_N_ELEMENTS(op_store_migrations); step++) {
		g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", step + 1);

		if (!op_store_exec(db, "BEGIN IMMEDIATE", error))
			return FALSE;
		if (!op_store_exec(db, op_store_migrations[step], error) ||
		    !op_store_exec(db, bump, error)) {
			op_store_exec(db, "ROLLBACK", NULL);
			g_prefix_error(error, "upgrading the database to version %d: ", step + 1);
			return FALSE;
		}
		if (!op_store_exec(db, "COMMIT", error))
			return FALSE;
	}
	return TRUE;
}


gboolean
op_store_set_sqlite_error(sqlite3 *db, int rc, const char *what, GError **error)
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

gboolean
op_store_exec(sqlite3 *db, const char *sql, GError **error)
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

sqlite3_stmt *
op_store_prepare(sqlite3 *db, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc != SQLITE_OK) {
		op_store_set_sqlite_error(db, rc, "preparing a database statement", error);
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
	if (!op_store_exec(db,
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
	if (!migrate(store->write_db, error))
		return NULL;
	if (!op_store_create_queue_indexes(store, error))
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

char *
op_store_dup_column_text(sqlite3_stmt *stmt, int column)
{
	const unsigned char *text = sqlite3_column_text(stmt, column);

	return text ? g_strdup((const char *)text) : NULL;
}

/* Runs a statement that returns no rows; the caller holds the write lock. */
gboolean
op_store_step_done(sqlite3 *db, sqlite3_stmt *stmt, const char *what, GError **error)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE)
		return op_store_set_sqlite_error(db, rc, what, error);
	return TRUE;
}
