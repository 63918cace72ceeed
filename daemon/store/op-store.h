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
	char *dkim_selector;  /* the active RSA signing key, NULL if none */
	char *dkim_key_path;
	char *dkim_algorithm;
	gboolean enabled;
	gint64 created;
	guint accounts;
	guint hourly_limit; /* messages per hour from the domain, 0 for no limit */
	char *smarthost;    /* "host:port" to relay through, "" to deliver by MX */
	char *imap_server;  /* "host:port" users read mail from, "" when not set */
	char *pop3_server;  /* "host:port", "" when not set */
	char *dmarc_policy; /* "none", "quarantine" or "reject" */
	char *dmarc_rua;    /* the aggregate report address, "" for postmaster@ */
	char *health;	    /* of the last deliverability check, NULL before one */
	gint64 checked;	    /* when that check ran */
} OpStoreDomain;

typedef struct {
	char *address;
	char *domain;
	char *password_hash;
	gboolean enabled;   /* the account and its domain are both enabled */
	gint64 created;
	guint hourly_limit; /* messages per hour, 0 for no limit */
	char **aliases;     /* filled by op_store_list_accounts only, else NULL */
} OpStoreAccount;

/* The domain settings to change: a field is changed only when its has_ flag is set. */
typedef struct {
	gboolean has_enabled;
	gboolean enabled;
	gboolean has_hourly_limit;
	guint hourly_limit;
	gboolean has_smarthost;
	const char *smarthost;
	gboolean has_imap_server;
	const char *imap_server;
	gboolean has_pop3_server;
	const char *pop3_server;
	gboolean has_dmarc_policy;
	const char *dmarc_policy;
	gboolean has_dmarc_rua;
	const char *dmarc_rua;
} OpStoreDomainSettings;

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

/* One row of ListQueue, with message-wide values that summarize its
 * recipients. The state is held if any recipient is held, else deferred once
 * any was tried. The row has the most attempts, the earliest next attempt of
 * the recipients not held, and the reply of the recipient tried most. */
typedef struct {
	char *id;
	char *sender;
	char *account;	      /* the authenticated account, or NULL */
	GPtrArray *recipients; /* char *, "local@domain" */
	guint64 size;
	gint64 created;
	char *state;	      /* "queued", "deferred" or "held" */
	guint attempts;
	gint64 next_attempt;
	char *last_reply;
	GPtrArray *recipient_states; /* OpStoreRecipientState *, as in recipients */
} OpStoreQueueEntry;

typedef enum {
	OP_EVENT_ACCEPTED,
	OP_EVENT_DELIVERED,
	OP_EVENT_DEFERRED,
	OP_EVENT_BOUNCED,
	OP_EVENT_EXPIRED,
	OP_EVENT_DELAY_WARNED,
	OP_EVENT_REJECTED,
	OP_EVENT_DELETED, /* removed from the queue by an administrator, without a bounce */
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

/* DKIM keys (op-store-dkim.c) */
typedef enum {
	OP_DKIM_KEY_PENDING,  /* published or about to be; does not sign yet */
	OP_DKIM_KEY_ACTIVE,   /* signs every message of its domain */
	OP_DKIM_KEY_RETIRING, /* no longer signs; its record stays for the grace period */
} OpDkimKeyState;

typedef struct {
	char *domain;
	char *selector;
	char *algorithm; /* "rsa-sha256" or "ed25519-sha256" */
	char *key_path;
	OpDkimKeyState state;
	gint64 created;
	gint64 changed; /* when the state last changed */
} OpStoreDkimKey;

const char *op_dkim_key_state_to_string(OpDkimKeyState state);
GPtrArray *op_store_list_dkim_keys(OpStore *store, const char *domain, GError **error);
GPtrArray *op_store_list_signing_keys(OpStore *store, const char *domain, GError **error);
GPtrArray *op_store_list_pending_dkim_keys(OpStore *store, GError **error);
GPtrArray *op_store_list_expired_dkim_keys(OpStore *store, gint64 changed_before,
					   GError **error);
gboolean op_store_add_dkim_key(OpStore *store, const char *domain, const char *selector,
			       const char *algorithm, const char *key_path, GError **error);
gboolean op_store_activate_dkim_key(OpStore *store, const char *domain, const char *selector,
				    GError **error);
gboolean op_store_remove_dkim_key(OpStore *store, const char *domain, const char *selector,
				  GError **error);
/* The selectors of removed keys, oldest first, NULL-terminated. */
char **op_store_dup_revoked_selectors(OpStore *store, const char *domain, GError **error);
void op_store_dkim_key_free(OpStoreDkimKey *key);

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

/* Domain settings, account state, aliases and hourly sending limits (domains area) */
gboolean op_store_set_domain_settings(OpStore *store, const char *name,
				      const OpStoreDomainSettings *settings, GError **error);
gboolean op_store_set_dns_check(OpStore *store, const char *domain, const char *health,
				const char *report, GError **error);
gboolean op_store_count_queued_from_domain(OpStore *store, const char *name, guint *count,
					   GError **error);
gboolean op_store_set_account_enabled(OpStore *store, const char *address, gboolean enabled,
				      GError **error);
gboolean op_store_set_account_hourly_limit(OpStore *store, const char *address, guint limit,
					   GError **error);
char **op_store_dup_aliases(OpStore *store, const char *address, GError **error);
gboolean op_store_add_alias(OpStore *store, const char *address, const char *alias,
			    GError **error);
gboolean op_store_remove_alias(OpStore *store, const char *address, const char *alias,
			       GError **error);
gboolean op_store_count_accepted_for_account(OpStore *store, const char *account, gint64 since,
					     guint *count, GError **error);
gboolean op_store_count_accepted_from_domain(OpStore *store, const char *domain, gint64 since,
					     guint *count, GError **error);

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

/* Queue administration: listing, inspecting and changing queued messages
 * for the admin API (queue area) */
typedef enum {
	OP_QUEUE_STATE_ANY,
	OP_QUEUE_STATE_QUEUED,	 /* not tried yet */
	OP_QUEUE_STATE_DEFERRED, /* tried, waiting for the next attempt */
	OP_QUEUE_STATE_HELD,	 /* kept back until released */
} OpQueueState;

typedef enum {
	OP_QUEUE_SORT_CREATED,
	OP_QUEUE_SORT_SIZE,
	OP_QUEUE_SORT_SENDER,
	OP_QUEUE_SORT_ATTEMPTS,
	OP_QUEUE_SORT_NEXT_ATTEMPT,
} OpQueueSort;

/* One page of ListQueue. Each unset filter (NULL, OP_QUEUE_STATE_ANY,
 * G_MININT64 or G_MAXINT64) matches every message. */
typedef struct {
	const char *sender;	    /* substring of the sender, ASCII lower case */
	const char *recipient;	    /* substring of a recipient, ASCII lower case */
	const char *domain;	    /* a recipient domain, A-label form */
	const char *domain_unicode; /* the same domain as U-label, or NULL */
	OpQueueState state;
	gint64 created_min;	    /* Unix time */
	gint64 created_max;
	OpQueueSort sort;
	gboolean descending;
	guint offset;
	guint limit;
} OpStoreQueueQuery;

typedef struct {
	char *address;
	OpQueueState state;
	guint attempts;
	gint64 next_attempt;
	char *last_reply; /* NULL before the first attempt */
} OpStoreRecipientState;

typedef struct {
	guint queued;
	guint deferred;
	guint held;
	guint total;
} OpStoreQueueTotals;

/* Delivery events of one hour, for GetStatistics. */
typedef struct {
	gint64 hour; /* Unix time of the hour's start */
	guint sent;
	guint deferred;
	guint bounced; /* bounced and expired */
	guint rejected;
} OpStoreHourCounts;

gboolean op_store_create_queue_indexes(OpStore *store, GError **error);
const char *op_queue_state_to_string(OpQueueState state);
GPtrArray *op_store_query_queue(OpStore *store, const OpStoreQueueQuery *query, GError **error);
OpStoreQueueEntry *op_store_get_queue_entry(OpStore *store, const char *id, GError **error);
GBytes *op_store_load_header_section(OpStore *store, const char *id, gsize max_size,
				     GError **error);
gboolean op_store_retry_messages(OpStore *store, const char *const *ids, gint64 now,
				 guint *count, GError **error);
gboolean op_store_set_held(OpStore *store, const char *const *ids, gboolean held, guint *count,
			   GError **error);
gboolean op_store_delete_messages(OpStore *store, const char *const *ids, const char *reason,
				  guint *count, GError **error);
gboolean op_store_bounce_message(OpStore *store, const char *id, const OpStoreMessage *notice,
				 const char *reason, gboolean *found, GError **error);
gboolean op_store_get_queue_totals(OpStore *store, OpStoreQueueTotals *totals, GError **error);
GArray *op_store_count_events_by_hour(OpStore *store, gint64 first_hour, guint hours,
				      GError **error);
void op_store_recipient_state_free(OpStoreRecipientState *state);

/* Delivery events and settings (settings helper: op-store-events.c, op-store-settings.c) */

/* One row of the delivery-event log. */
typedef struct {
	gint64 id;
	gint64 time;	   /* Unix time */
	OpEventType type;
	char *queue_id;	   /* NULL for a rejection before queueing */
	char *sender;
	char *recipient;
	char *mx;
	char *reply;
	char *account;	   /* the authenticated account, or NULL */
} OpStoreEvent;

/* A search of the event log; NULL strings and unset bounds match everything. */
typedef struct {
	const char *address;  /* substring of the sender or the recipient, any case */
	const char *queue_id; /* exact queue id */
	const char *domain;   /* recipient domain in A-label form */
	int type;	      /* an OpEventType, or -1 for any */
	gboolean has_since;
	gint64 since;	      /* Unix time, inclusive */
	gboolean has_until;
	gint64 until;	      /* Unix time, exclusive */
} OpStoreEventFilter;

/* Called after each event is committed, under the store's write lock, so it
 * must be quick and must not call the store. */
typedef void (*OpStoreEventHook)(const OpStoreEvent *event, gpointer user_data);

const char *op_event_type_to_string(OpEventType type);
gboolean op_event_type_from_string(const char *name, OpEventType *type);
gboolean op_store_add_event(OpStore *store, OpEventType type, const char *queue_id,
			    const char *sender, const char *recipient, const char *mx,
			    const char *reply, GError **error);
gboolean op_store_add_event_full(OpStore *store, OpEventType type, const char *queue_id,
				 const char *sender, const char *recipient, const char *mx,
				 const char *reply, const char *account, GError **error);
void op_store_set_event_hook(OpStore *store, OpStoreEventHook hook, gpointer user_data,
			     GDestroyNotify destroy);
GPtrArray *op_store_search_events(OpStore *store, const OpStoreEventFilter *filter,
				  guint offset, guint limit, GError **error);
void op_store_event_free(OpStoreEvent *event);

/* Settings as key and text value; see op-settings.h for the keys. */
GHashTable *op_store_dup_settings(OpStore *store, GError **error);
gboolean op_store_set_settings(OpStore *store, GHashTable *values, GError **error);
GHashTable *op_store_read_settings_file(const char *path, GError **error);

/* Stored publishing targets, one per domain (publish area, op-store-publish.c).
 * OpPublishTarget is declared in dns/op-publisher.h. The secret is stored as
 * given and returned only to the daemon itself. */
typedef struct _OpPublishTarget OpPublishTarget;

gboolean op_store_set_publish_target(OpStore *store, const char *domain,
				     const OpPublishTarget *target, GError **error);
gboolean op_store_get_publish_target(OpStore *store, const char *domain,
				     OpPublishTarget **target, GError **error);
gboolean op_store_remove_publish_target(OpStore *store, const char *domain, GError **error);
/* Apple profile tokens (clients area, op-store-clients.c) */

/* Returns the account's profile token, making and storing one on first use;
 * OP_ERROR_NOT_FOUND when address is no account. */
char *op_store_ensure_profile_token(OpStore *store, const char *address, GError **error);
/* Returns the address of the account whose profile token is token, or NULL
 * with OP_ERROR_NOT_FOUND. */
char *op_store_find_profile_account(OpStore *store, const char *token, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStore, op_store_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreDomain, op_store_domain_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreDkimKey, op_store_dkim_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreAccount, op_store_account_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreRecipient, op_store_recipient_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreQueueEntry, op_store_queue_entry_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpStoreEvent, op_store_event_free)

G_END_DECLS
