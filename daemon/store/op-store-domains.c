/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Domains and accounts in the store: each domain with its DKIM key's
 * selector and path, each account with its password hash.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

gboolean
op_store_add_domain(OpStore *store, const char *name, const char *selector, const char *key_path,
		    const char *algorithm, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
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
	if (!op_store_step_done(store->write_db, stmt, "adding the domain", &local_error)) {
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
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
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
	stmt = op_store_prepare(store->write_db, "DELETE FROM domains WHERE name = ?", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "removing the domain", error))
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

	domain->name = op_store_dup_column_text(stmt, 0);
	domain->dkim_selector = op_store_dup_column_text(stmt, 1);
	domain->dkim_key_path = op_store_dup_column_text(stmt, 2);
	domain->dkim_algorithm = op_store_dup_column_text(stmt, 3);
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
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db, DOMAIN_COLUMNS "WHERE name = ?",
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
		op_store_set_sqlite_error(store->read_db, rc, "reading the domain", error);
	return NULL;
}

GPtrArray *
op_store_list_domains(OpStore *store, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db, DOMAIN_COLUMNS "ORDER BY name",
					       error);
	g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_domain_free);
	int rc;

	if (stmt == NULL)
		return NULL;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(domains, read_domain_row(stmt));
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(store->read_db, rc, "listing domains", error);
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
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
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
	if (!op_store_step_done(store->write_db, stmt, "adding the account", &local_error)) {
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
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db, sql, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, address, -1, SQLITE_TRANSIENT);
	if (value != NULL)
		sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "changing the account", error))
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

	account->address = op_store_dup_column_text(stmt, 0);
	account->domain = op_store_dup_column_text(stmt, 1);
	if (with_hash)
		account->password_hash = op_store_dup_column_text(stmt, 2);
	account->enabled = sqlite3_column_int(stmt, 3) != 0;
	account->created = sqlite3_column_int64(stmt, 4);
	return account;
}

OpStoreAccount *
op_store_get_account(OpStore *store, const char *address, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
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
		op_store_set_sqlite_error(store->read_db, rc, "reading the account", error);
	return NULL;
}

GPtrArray *
op_store_list_accounts(OpStore *store, const char *filter, guint offset, guint limit,
		       GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db,
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
		op_store_set_sqlite_error(store->read_db, rc, "listing accounts", error);
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

