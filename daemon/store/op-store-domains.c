/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Domains and accounts in the store. Each domain has its DKIM keys (in
 * op-store-dkim.c), an hourly limit, a smarthost and the settings given to
 * mail clients. Each account has its password
 * hash, an hourly limit and aliases. The counts of accepted messages that
 * the hourly limits are checked against are here too.
 */
#define G_LOG_DOMAIN "outpost-store"

#include "store/op-store-private.h"

#include "op-error.h"

static gboolean
insert_domain(OpStore *store, const char *name, const char *selector, const char *key_path,
	      const char *algorithm, GError **error)
{
	g_autoptr(sqlite3_stmt) domain = op_store_prepare(store->write_db,
						 "INSERT INTO domains (name, created) VALUES (?, ?)",
						 error);
	g_autoptr(sqlite3_stmt) key = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (domain == NULL)
		return FALSE;
	sqlite3_bind_text(domain, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(domain, 2, now);
	if (!op_store_step_done(store->write_db, domain, "adding the domain", error))
		return FALSE;
	key = op_store_prepare(store->write_db,
			       "INSERT INTO dkim_keys (domain_id, selector, algorithm, key_path, "
			       "state, created, changed) VALUES (?, ?, ?, ?, 'active', ?, ?)",
			       error);
	if (key == NULL)
		return FALSE;
	sqlite3_bind_int64(key, 1, sqlite3_last_insert_rowid(store->write_db));
	sqlite3_bind_text(key, 2, selector, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(key, 3, algorithm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(key, 4, key_path, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(key, 5, now);
	sqlite3_bind_int64(key, 6, now);
	return op_store_step_done(store->write_db, key, "adding the DKIM key", error);
}

/* Adds the domain with its first DKIM key, active at once, in one transaction. */
gboolean
op_store_add_domain(OpStore *store, const char *name, const char *selector, const char *key_path,
		    const char *algorithm, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(GError) local_error = NULL;

	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!insert_domain(store, name, selector, key_path, algorithm, &local_error) ||
	    !op_store_exec(store->write_db, "COMMIT", &local_error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
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

/* Domain names contain no LIKE wildcards, because they were validated as
 * host names when added, so "%@" || name matches exactly the addresses in
 * that domain (LIKE ignores ASCII case). */
static gboolean
count_queued(sqlite3 *db, const char *name, guint *count, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db,
					       "SELECT count(*) FROM messages WHERE "
					       "sender LIKE '%@' || ?",
					       error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return op_store_set_sqlite_error(db, rc, "counting queued messages", error);
	*count = (guint)sqlite3_column_int64(stmt, 0);
	return TRUE;
}

gboolean
op_store_count_queued_from_domain(OpStore *store, const char *name, guint *count,
				  GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);

	return count_queued(store->read_db, name, count, error);
}

/* Deletes the domain and the aliases in it, which may belong to accounts of
 * other domains: an alias must stay in a managed domain. The caller holds
 * the write lock. */
static gboolean
delete_domain(OpStore *store, const char *name, GError **error)
{
	g_autoptr(sqlite3_stmt) aliases = op_store_prepare(store->write_db,
						  "DELETE FROM aliases WHERE address LIKE '%@' || ?",
						  error);
	g_autoptr(sqlite3_stmt) domain = NULL;

	if (aliases == NULL)
		return FALSE;
	sqlite3_bind_text(aliases, 1, name, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, aliases, "removing the domain's aliases", error))
		return FALSE;
	domain = op_store_prepare(store->write_db, "DELETE FROM domains WHERE name = ?", error);
	if (domain == NULL)
		return FALSE;
	sqlite3_bind_text(domain, 1, name, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, domain, "removing the domain", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is not managed",
			    name);
		return FALSE;
	}
	return TRUE;
}

gboolean
op_store_remove_domain(OpStore *store, const char *name, gboolean force, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	guint queued = 0;

	if (!count_queued(store->write_db, name, &queued, error))
		return FALSE;
	if (queued > 0 && !force) {
		g_set_error(error, OP_ERROR, OP_ERROR_BUSY,
			    "%u queued messages are from %s: wait for them to leave the queue or "
			    "remove the domain with force",
			    queued, name);
		return FALSE;
	}
	if (!op_store_exec(store->write_db, "BEGIN IMMEDIATE", error))
		return FALSE;
	if (!delete_domain(store, name, error) || !op_store_exec(store->write_db, "COMMIT", error)) {
		op_store_exec(store->write_db, "ROLLBACK", NULL);
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
	domain->hourly_limit = (guint)sqlite3_column_int64(stmt, 7);
	domain->smarthost = op_store_dup_column_text(stmt, 8);
	domain->imap_server = op_store_dup_column_text(stmt, 9);
	domain->pop3_server = op_store_dup_column_text(stmt, 10);
	domain->dmarc_policy = op_store_dup_column_text(stmt, 11);
	domain->dmarc_rua = op_store_dup_column_text(stmt, 12);
	domain->health = op_store_dup_column_text(stmt, 13);
	domain->checked = sqlite3_column_int64(stmt, 14);
	return domain;
}

/* The DKIM columns are those of the active RSA key, the one every message is signed
 * with; an Ed25519 key, when there is one, signs beside it. */
#define DOMAIN_COLUMNS                                                                             \
	"SELECT name, k.selector, k.key_path, k.algorithm, enabled, domains.created, "             \
	"(SELECT count(*) FROM accounts WHERE accounts.domain_id = domains.id), "                  \
	"hourly_limit, smarthost, imap_server, pop3_server, dmarc_policy, dmarc_rua, "             \
	"c.health, c.time "                                                                        \
	"FROM domains LEFT JOIN dkim_keys k ON k.domain_id = domains.id "                          \
	"AND k.state = 'active' AND k.algorithm = 'rsa-sha256' "                                   \
	"LEFT JOIN dns_checks c ON c.domain_id = domains.id "

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

/* Changes the settings whose has_ flag is set in one statement, so either
 * all of them change or none does. A NULL parameter keeps the column. */
gboolean
op_store_set_domain_settings(OpStore *store, const char *name,
			     const OpStoreDomainSettings *settings, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "UPDATE domains SET "
					       "enabled = coalesce(?2, enabled), "
					       "hourly_limit = coalesce(?3, hourly_limit), "
					       "smarthost = coalesce(?4, smarthost), "
					       "imap_server = coalesce(?5, imap_server), "
					       "pop3_server = coalesce(?6, pop3_server), "
					       "dmarc_policy = coalesce(?7, dmarc_policy), "
					       "dmarc_rua = coalesce(?8, dmarc_rua) "
					       "WHERE name = ?1",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
	if (settings->has_enabled)
		sqlite3_bind_int(stmt, 2, settings->enabled ? 1 : 0);
	if (settings->has_hourly_limit)
		sqlite3_bind_int64(stmt, 3, settings->hourly_limit);
	if (settings->has_smarthost)
		sqlite3_bind_text(stmt, 4, settings->smarthost, -1, SQLITE_TRANSIENT);
	if (settings->has_imap_server)
		sqlite3_bind_text(stmt, 5, settings->imap_server, -1, SQLITE_TRANSIENT);
	if (settings->has_pop3_server)
		sqlite3_bind_text(stmt, 6, settings->pop3_server, -1, SQLITE_TRANSIENT);
	if (settings->has_dmarc_policy)
		sqlite3_bind_text(stmt, 7, settings->dmarc_policy, -1, SQLITE_TRANSIENT);
	if (settings->has_dmarc_rua)
		sqlite3_bind_text(stmt, 8, settings->dmarc_rua, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "changing the domain", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "the domain %s is not managed",
			    name);
		return FALSE;
	}
	return TRUE;
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
	g_free(domain->smarthost);
	g_free(domain->imap_server);
	g_free(domain->pop3_server);
	g_free(domain->dmarc_policy);
	g_free(domain->dmarc_rua);
	g_free(domain->health);
	g_free(domain);
}

/* ---- Accounts ----------------------------------------------------------- */

/* Sets *owner to the address of the account that has alias as an alias, or
 * to NULL when no account has it. */
static gboolean
find_alias_owner(sqlite3 *db, const char *alias, char **owner, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db,
					       "SELECT a.address FROM aliases l JOIN accounts a "
					       "ON a.id = l.account_id WHERE l.address = ?",
					       error);
	int rc;

	*owner = NULL;
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, alias, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*owner = op_store_dup_column_text(stmt, 0);
	else if (rc != SQLITE_DONE)
		return op_store_set_sqlite_error(db, rc, "looking up the alias", error);
	return TRUE;
}

/* Returns the row id of the account, or 0 with OP_ERROR_NOT_FOUND. */
static gint64
find_account_id(sqlite3 *db, const char *address, GError **error)
{
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(db,
					       "SELECT id FROM accounts WHERE address = ?", error);
	int rc;

	if (stmt == NULL)
		return 0;
	sqlite3_bind_text(stmt, 1, address, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return sqlite3_column_int64(stmt, 0);
	if (rc == SQLITE_DONE)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "no account %s", address);
	else
		op_store_set_sqlite_error(db, rc, "looking up the account", error);
	return 0;
}

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
	g_autofree char *owner = NULL;

	if (stmt == NULL)
		return FALSE;
	/* An address is either an account or one account's alias, so exactly
	 * one account may send as it. */
	if (!find_alias_owner(store->write_db, address, &owner, error))
		return FALSE;
	if (owner != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
			    "%s is an alias of the account %s: remove the alias first", address,
			    owner);
		return FALSE;
	}
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

/* Runs stmt, a change of the account whose address is bound as ?1, and
 * reports a missing account. The caller holds the write lock. */
static gboolean
finish_account_update(OpStore *store, sqlite3_stmt *stmt, const char *address, GError **error)
{
	sqlite3_bind_text(stmt, 1, address, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "changing the account", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "no account %s", address);
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
	if (value != NULL)
		sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
	return finish_account_update(store, stmt, address, error);
}

static gboolean
update_account_number(OpStore *store, const char *sql, const char *address, gint64 value,
		      GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db, sql, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 2, value);
	return finish_account_update(store, stmt, address, error);
}

gboolean
op_store_remove_account(OpStore *store, const char *address, GError **error)
{
	return update_account(store, "DELETE FROM accounts WHERE address = ?1", address, NULL,
			      error);
}

gboolean
op_store_set_password_hash(OpStore *store, const char *address, const char *password_hash,
			   GError **error)
{
	return update_account(store, "UPDATE accounts SET password_hash = ?2 WHERE address = ?1",
			      address, password_hash, error);
}

gboolean
op_store_set_account_enabled(OpStore *store, const char *address, gboolean enabled,
			     GError **error)
{
	return update_account_number(store, "UPDATE accounts SET enabled = ?2 WHERE address = ?1",
				     address, enabled ? 1 : 0, error);
}

gboolean
op_store_set_account_hourly_limit(OpStore *store, const char *address, guint limit,
				  GError **error)
{
	return update_account_number(store,
				     "UPDATE accounts SET hourly_limit = ?2 WHERE address = ?1",
				     address, limit, error);
}

#define ACCOUNT_COLUMNS                                                                            \
	"SELECT a.address, d.name, a.password_hash, a.enabled AND d.enabled, a.created, "          \
	"a.hourly_limit, a.id FROM accounts a JOIN domains d ON d.id = a.domain_id "

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
	account->hourly_limit = (guint)sqlite3_column_int64(stmt, 5);
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

#define ALIASES_SQL "SELECT address FROM aliases WHERE account_id = ? ORDER BY address"

/* Runs ALIASES_SQL, prepared on db, for one account and returns its
 * aliases, an empty vector when it has none. */
static char **
collect_aliases(sqlite3 *db, sqlite3_stmt *stmt, gint64 account_id, GError **error)
{
	g_autoptr(GPtrArray) aliases = g_ptr_array_new_with_free_func(g_free);
	int rc;

	sqlite3_reset(stmt);
	sqlite3_bind_int64(stmt, 1, account_id);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(aliases, op_store_dup_column_text(stmt, 0));
	if (rc != SQLITE_DONE) {
		op_store_set_sqlite_error(db, rc, "listing aliases", error);
		return NULL;
	}
	g_ptr_array_add(aliases, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&aliases), FALSE);
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
	g_autoptr(sqlite3_stmt) aliases = op_store_prepare(store->read_db, ALIASES_SQL, error);
	g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_store_account_free);
	int rc;

	if (stmt == NULL || aliases == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, filter ? filter : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, limit);
	sqlite3_bind_int64(stmt, 3, offset);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		OpStoreAccount *account = read_account_row(stmt, FALSE);

		g_ptr_array_add(accounts, account);
		account->aliases = collect_aliases(store->read_db, aliases,
						   sqlite3_column_int64(stmt, 6), error);
		if (account->aliases == NULL)
			return NULL;
	}
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
	g_strfreev(account->aliases);
	g_free(account);
}

/* ---- Aliases ------------------------------------------------------------ */

char **
op_store_dup_aliases(OpStore *store, const char *address, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint64 account_id = find_account_id(store->read_db, address, error);

	if (account_id == 0)
		return NULL;
	stmt = op_store_prepare(store->read_db, ALIASES_SQL, error);
	if (stmt == NULL)
		return NULL;
	return collect_aliases(store->read_db, stmt, account_id, error);
}

/* Checks under the write lock that alias is neither an account nor anyone's
 * alias yet, so the check and the insert cannot interleave with another
 * change. */
static gboolean
check_new_alias(OpStore *store, const char *alias, GError **error)
{
	g_autofree char *owner = NULL;
	g_autoptr(GError) local_error = NULL;

	if (find_account_id(store->write_db, alias, &local_error) != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS,
			    "%s is an account: an alias must be an address that is not an account",
			    alias);
		return FALSE;
	}
	if (!g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	if (!find_alias_owner(store->write_db, alias, &owner, error))
		return FALSE;
	if (owner != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS, "%s is already an alias of %s",
			    alias, owner);
		return FALSE;
	}
	return TRUE;
}

gboolean
op_store_add_alias(OpStore *store, const char *address, const char *alias, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint64 account_id = find_account_id(store->write_db, address, error);

	if (account_id == 0)
		return FALSE;
	if (!check_new_alias(store, alias, error))
		return FALSE;
	stmt = op_store_prepare(store->write_db,
				"INSERT INTO aliases (account_id, address) VALUES (?, ?)", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, account_id);
	sqlite3_bind_text(stmt, 2, alias, -1, SQLITE_TRANSIENT);
	return op_store_step_done(store->write_db, stmt, "adding the alias", error);
}

gboolean
op_store_remove_alias(OpStore *store, const char *address, const char *alias, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = NULL;
	gint64 account_id = find_account_id(store->write_db, address, error);

	if (account_id == 0)
		return FALSE;
	stmt = op_store_prepare(store->write_db,
				"DELETE FROM aliases WHERE account_id = ? AND address = ?", error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, account_id);
	sqlite3_bind_text(stmt, 2, alias, -1, SQLITE_TRANSIENT);
	if (!op_store_step_done(store->write_db, stmt, "removing the alias", error))
		return FALSE;
	if (sqlite3_changes(store->write_db) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "%s is not an alias of %s: list them with ListAliases", alias,
			    address);
		return FALSE;
	}
	return TRUE;
}

/* ---- Hourly sending limits ---------------------------------------------- */

/* Counts the accepted events after since whose column matches value. The
 * index on (type, time) keeps this to the events of the window. */
static gboolean
count_accepted(OpStore *store, const char *sql, const char *value, gint64 since, guint *count,
	       GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->read_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->read_db, sql, error);
	int rc;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, since);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW)
		return op_store_set_sqlite_error(store->read_db, rc, "counting sent messages",
						 error);
	*count = (guint)sqlite3_column_int64(stmt, 0);
	return TRUE;
}

gboolean
op_store_count_accepted_for_account(OpStore *store, const char *account, gint64 since,
				    guint *count, GError **error)
{
	return count_accepted(store,
			      "SELECT count(*) FROM events WHERE type = 'accepted' AND time > ? "
			      "AND account = ? COLLATE NOCASE",
			      account, since, count, error);
}

/* Counts by the envelope sender's domain, so mail from a trusted network
 * counts as well as mail from the domain's accounts. */
gboolean
op_store_count_accepted_from_domain(OpStore *store, const char *domain, gint64 since,
				    guint *count, GError **error)
{
	return count_accepted(store,
			      "SELECT count(*) FROM events WHERE type = 'accepted' AND time > ? "
			      "AND sender LIKE '%@' || ?",
			      domain, since, count, error);
}

/* ---- Deliverability checks ---------------------------------------------- */

gboolean
op_store_set_dns_check(OpStore *store, const char *domain, const char *health,
		       const char *report, GError **error)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&store->write_lock);
	g_autoptr(sqlite3_stmt) stmt = op_store_prepare(store->write_db,
					       "INSERT OR REPLACE INTO dns_checks "
					       "(domain_id, time, health, report) "
					       "SELECT id, ?2, ?3, ?4 FROM domains WHERE name = ?1",
					       error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_text(stmt, 1, domain, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, g_get_real_time() / G_USEC_PER_SEC);
	sqlite3_bind_text(stmt, 3, health, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(stmt, 4, report, -1, SQLITE_TRANSIENT);
	return op_store_step_done(store->write_db, stmt, "keeping the check", error);
}
