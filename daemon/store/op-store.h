/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SQLite store: domains, accounts, the queue (message bodies included)
 * and the delivery-event log. Safe to call from any thread. Reads and writes
 * use separate connections, and in WAL mode a reader does not wait for a
 * commit in progress.
 */
#pragma once

#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

typedef struct _OpStore OpStore;

typedef struct {
	char *name;
	char *dkim_selector;
	char *dkim_key_path;
	char *dkim_algorithm;
	gboolean enabled;
	gint64 created;
	guint accounts;
} OpStoreDomain;

typedef struct {
	char *address;
	char *domain;
	char *password_hash;
	gboolean enabled;
	gint64 created;
} OpStoreAccount;

/* A message ready to enter the queue. */
typedef struct {
	char *id;
	char *sender;	  /* "" for the null sender */
	char *account;	  /* the authenticated account, or NULL */
	GPtrArray *recipients; /* char *, "local@domain" */
	GBytes *body;	  /* the message as it will be sent, CRLF line endings */
	gint64 created;
	gboolean is_bounce;
} OpStoreMessage;

/* One recipient of one queued message that is due for delivery. */
typedef struct {
	gint64 recipient_id;
	char *message_id;
	char *sender;
	char *address;
	char *domain;
	guint attempts;
	gint64 created;
	gboolean delay_warned;
	gboolean is_bounce;
} OpStoreRecipient;

/* One row of ListQueue. */
typedef struct {
	char *id;
	char *sender;
	GPtrArray *recipients;
	guint64 size;
	gint64 created;
	char *state;
	guint attempts;
	gint64 next_attempt;
	char *last_reply;
} OpStoreQueueEntry;

typedef enum {
	OP_EVENT_ACCEPTED,
	OP_EVENT_DELIVERED,
	OP_EVENT_DEFERRED,
	OP_EVENT_BOUNCED,
	OP_EVENT_EXPIRED,
	OP_EVENT_DELAY_WARNED,
	OP_EVENT_REJECTED,
} OpEventType;

OpStore *op_store_open(const char *path, GError **error);
void op_store_free(OpStore *store);

/* Domains */
gboolean op_store_add_domain(OpStore *store, const char *name, const char *selector,
			     const char *key_path, const char *algorithm, GError **error);
gboolean op_store_remove_domain(OpStore *store, const char *name, gboolean force,
				GError **error);
OpStoreDomain *op_store_get_domain(OpStore *store, const char *name, GError **error);
GPtrArray *op_store_list_domains(OpStore *store, GError **error);
void op_store_domain_free(OpStoreDomain *domain);

/* Accounts */
gboolean op_store_add_account(OpStore *store, const char *address, const char *domain,
			      const char *password_hash, GError **error);
gboolean op_store_remove_account(OpStore *store, const char *address, GError **error);
gboolean op_store_set_password_hash(OpStore *store, const char *address,
				    const char *password_hash, GError **error);
OpStoreAccount *op_store_get_account(OpStore *store, const char *address, GError **error);
GPtrArray *op_store_list_accounts(OpStore *store, const char *filter, guint offset,
				  guint limit, GError **error);
void op_store_account_free(OpStoreAccount *account);

/* Queue */
char *op_store_new_queue_id(void);
gboolean op_store_enqueue(OpStore *store, const OpStoreMessage *message, GError **error);
void op_store_message_clear(OpStoreMessage *message);
GPtrArray *op_store_list_due(OpStore *store, gint64 now, guint limit, GError **error);
gint64 op_store_get_next_due(OpStore *store, GError **error);
GBytes *op_store_load_body(OpStore *store, const char *message_id, GError **error);
gboolean op_store_finish_recipient(OpStore *store, gint64 recipient_id, GError **error);
gboolean op_store_defer_recipient(OpStore *store, gint64 recipient_id, gint64 next_attempt,
				  const char *reply, GError **error);
gboolean op_store_mark_delay_warned(OpStore *store, const char *message_id, GError **error);
GPtrArray *op_store_list_queue(OpStore *store, guint offset, guint limit, GError **error);
void op_store_recipient_free(OpStoreRecipient *recipient);
void op_store_queue_entry_free(OpStoreQueueEntry *entry);

/* Delivery events */
gboolean op_store_add_event(OpStore *store, OpEventType type, const char *queue_id,
			    const char *sender, const char *recipient, const char *mx,
			    const char *reply, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStore, op_store_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreDomain, op_store_domain_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreAccount, op_store_account_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreRecipient, op_store_recipient_free)

G_END_DECLS
