/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The administration engine behind the D-Bus API: managing domains (with
 * their DKIM keys), accounts and the queue. Blocking and thread-safe, so the
 * bus layer runs each call in a worker thread and tests need no bus.
 */
#pragma once

#include "http/op-client-settings.h"
#include "op-config.h"
#include "dkim/op-dkim.h"
#include "dns/op-dns-check.h"
#include "op-settings.h"
#include "queue/op-queue.h"
#include "smtp/op-smtp-server.h"
#include "store/op-store.h"

G_BEGIN_DECLS

typedef struct {
	OpConfig *config;
	OpStore *store;

	/* Settings and delivery log (settings area, op-admin-settings.c) */
	OpSettings *file_settings;   /* the config file and flags, before stored settings */
	OpSmtpContext *smtp_context; /* whose TLS context Reload replaces; NULL without SMTP */

	/* Queue administration (queue area, op-admin-queue.c) */
	OpQueue *queue; /* woken after a retry, release or bounce; NULL in tests */

	/* DKIM key rotation (op-admin-dkim.c) */
	guint dkim_timer;	    /* the periodic check, 0 when not started */
	gboolean dkim_running;	    /* a check runs in a worker thread */
	/* Mail-client setup (clients area, op-admin-clients.c) */
	struct _OpProfileSigner *profile_signer; /* signs Apple profiles; NULL: unsigned */
} OpAdmin;

gboolean op_admin_add_domain(OpAdmin *admin, const char *domain, GError **error);
gboolean op_admin_remove_domain(OpAdmin *admin, const char *domain, gboolean force,
				GError **error);
GPtrArray *op_admin_list_domains(OpAdmin *admin, GError **error);
GPtrArray *op_admin_get_dns_records(OpAdmin *admin, const char *domain, GError **error);
GPtrArray *op_admin_get_dns_records_full(OpAdmin *admin, const char *domain,
					 gboolean for_publishing, GError **error);
gboolean op_admin_add_account(OpAdmin *admin, const char *address, const char *password,
			      GError **error);
gboolean op_admin_remove_account(OpAdmin *admin, const char *address, GError **error);
gboolean op_admin_set_password(OpAdmin *admin, const char *address, const char *password,
			       GError **error);
char *op_admin_normalize_domain(const char *domain, GError **error);

/* Domain settings, account state and aliases (domains area, op-admin.c) */
char *op_admin_normalize_address(const char *address, GError **error);
char *op_admin_normalize_smarthost(const char *smarthost, GError **error);
/* Returns a caller's dictionary key for an error message: quoted, escaped and
 * cut at 64 characters, so a hostile key cannot add lines to the log. */
char *op_admin_dup_printable_key(const char *key);
OpStoreDomain *op_admin_get_domain(OpAdmin *admin, const char *domain, guint *queued,
				   GError **error);
GPtrArray *op_admin_list_accounts(OpAdmin *admin, const char *filter, guint offset, guint limit,
				  GError **error);
gboolean op_admin_set_domain_settings(OpAdmin *admin, const char *domain, GVariant *settings,
				      GError **error);
gboolean op_admin_set_account_enabled(OpAdmin *admin, const char *address, gboolean enabled,
				      GError **error);
gboolean op_admin_set_account_hourly_limit(OpAdmin *admin, const char *address, guint limit,
					   GError **error);
char **op_admin_list_aliases(OpAdmin *admin, const char *address, GError **error);
gboolean op_admin_add_alias(OpAdmin *admin, const char *address, const char *alias,
			    GError **error);
gboolean op_admin_remove_alias(OpAdmin *admin, const char *address, const char *alias,
			       GError **error);

/* Settings and delivery log (settings area, op-admin-settings.c) */
GPtrArray *op_admin_search_events(OpAdmin *admin, const OpStoreEventFilter *filter,
				  guint offset, guint limit, GError **error);
OpSettings *op_admin_dup_settings(OpAdmin *admin, GError **error);
gboolean op_admin_set_settings(OpAdmin *admin, GHashTable *changes, GError **error);
gboolean op_admin_reload(OpAdmin *admin, GError **error);

/* Queue administration (queue area, op-admin-queue.c) */

/* The ListQueue filter; NULL strings and unset ages match every message. */
typedef struct {
	const char *sender;    /* substring of the sender, case-insensitive */
	const char *recipient; /* substring of a recipient, case-insensitive */
	const char *domain;    /* a recipient domain */
	const char *state;     /* "queued", "deferred" or "held" */
	gboolean has_min_age;
	gint64 min_age; /* seconds since the message arrived */
	gboolean has_max_age;
	gint64 max_age;
} OpAdminQueueFilter;

GPtrArray *op_admin_list_queue(OpAdmin *admin, const OpAdminQueueFilter *filter,
			       const char *sort, gboolean descending, guint offset, guint limit,
			       GError **error);
OpStoreQueueEntry *op_admin_get_message(OpAdmin *admin, const char *id, GBytes **headers,
					GError **error);
gboolean op_admin_retry_messages(OpAdmin *admin, const char *const *ids, guint *count,
				 GError **error);
gboolean op_admin_hold_messages(OpAdmin *admin, const char *const *ids, guint *count,
				GError **error);
gboolean op_admin_release_messages(OpAdmin *admin, const char *const *ids, guint *count,
				   GError **error);
gboolean op_admin_delete_messages(OpAdmin *admin, const char *const *ids, guint *count,
				  GError **error);
gboolean op_admin_bounce_messages(OpAdmin *admin, const char *const *ids, guint *count,
				  GError **error);
gboolean op_admin_get_queue_totals(OpAdmin *admin, OpStoreQueueTotals *totals, GError **error);
GArray *op_admin_get_statistics(OpAdmin *admin, guint hours, GError **error);

/* DKIM keys and their rotation (op-admin-dkim.c) */
char *op_admin_dup_dkim_key_path(OpAdmin *admin, const char *domain, const char *selector);
char *op_admin_dup_new_selector(OpDkimAlgorithm algorithm);
/* Makes a new pending key (algorithm "rsa" or "ed25519", "" for rsa) with
 * selector, or a dated one when selector is NULL, and returns its selector. */
char *op_admin_rotate_dkim_key(OpAdmin *admin, const char *domain, const char *algorithm,
			       const char *selector, GError **error);
GPtrArray *op_admin_list_dkim_keys(OpAdmin *admin, const char *domain, GError **error);
gboolean op_admin_dkim_key_visible(OpAdmin *admin, const OpStoreDkimKey *key, GError **error);
/* Switches signing to a pending key once its record is visible (at once with force). */
gboolean op_admin_activate_dkim_key(OpAdmin *admin, const char *domain, const char *selector,
				    gboolean force, GError **error);
gboolean op_admin_remove_dkim_key(OpAdmin *admin, const char *domain, const char *selector,
				  GError **error);
/* Activates pending keys whose records are visible and removes retiring keys
 * past the grace period; blocking, for a worker thread. */
void op_admin_advance_dkim_rotations(OpAdmin *admin);
/* Runs op_admin_advance_dkim_rotations() in a worker thread now and every
 * dkim_check_interval seconds, until op_admin_stop_dkim_rotations(), which
 * waits for a check in progress. */
void op_admin_start_dkim_rotations(OpAdmin *admin);
void op_admin_stop_dkim_rotations(OpAdmin *admin);

/* The deliverability check (op-admin-check.c) */

/* Runs the check of domain, keeps its outcome and returns the OpCheck list;
 * *health is "green", "amber" or "red". Blocking. */
GPtrArray *op_admin_check_domain(OpAdmin *admin, const char *domain, const char **health,
				 GError **error);

/* DNS publishing and stored targets (publish area, op-admin-publish.c) */

/* Publishes the records of op_admin_get_dns_records() with one TSIG-signed
 * DNS UPDATE to server ("HOST[:PORT]"), or, when server is "" and the three
 * TSIG arguments too, to the target stored for domain. Sets *count to how
 * many records were sent. A given secret is used for this call only. */
gboolean op_admin_publish_dns_records(OpAdmin *admin, const char *domain, const char *server,
				      const char *tsig_name, const char *tsig_algorithm,
				      const char *tsig_secret, guint *count, GError **error);
/* Checks target (SetPublishTarget's a{sv}) completely, then stores it for
 * domain in place of any earlier one. */
gboolean op_admin_set_publish_target(OpAdmin *admin, const char *domain, GVariant *target,
				     GError **error);
/* Returns the stored target of domain as a floating a{sv} without its
 * secret, empty when none is stored. */
GVariant *op_admin_describe_publish_target(OpAdmin *admin, const char *domain, GError **error);
gboolean op_admin_remove_publish_target(OpAdmin *admin, const char *domain, GError **error);

/* Mail-client setup (clients area, op-admin-clients.c) */

/* What a user types into a mail client, for one account. */
typedef struct {
	char *address;
	OpClientSettings *settings;
	char *autoconfig_url;
	char *autodiscover_url;
	char *profile_url; /* "" when no listener serves profiles */
} OpAdminClientSetup;

/* Returns the client settings of a managed domain; with enabled_only, a
 * disabled domain is OP_ERROR_NOT_FOUND too. */
OpClientSettings *op_admin_dup_client_settings(OpAdmin *admin, const char *domain,
					       gboolean enabled_only, GError **error);
/* Returns the setup of an existing account, making its profile token on first use. */
OpAdminClientSetup *op_admin_get_client_setup(OpAdmin *admin, const char *address,
					      GError **error);
void op_admin_client_setup_free(OpAdminClientSetup *setup);
/* Returns the account's Apple profile (signed when a signer is set), making
 * its profile token on first use. */
GBytes *op_admin_get_apple_profile(OpAdmin *admin, const char *address, GError **error);
/* Returns the profile of the account whose token is token and sets *domain to
 * its domain; OP_ERROR_NOT_FOUND for an unknown token or a disabled domain. */
GBytes *op_admin_get_profile_by_token(OpAdmin *admin, const char *token, char **domain,
				      GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpAdminClientSetup, op_admin_client_setup_free)

G_END_DECLS
