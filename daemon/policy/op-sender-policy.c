/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads what the sender rules need from the store: the account and its
 * aliases when the policy is made, each domain on first use. The submission
 * server checks at MAIL FROM, on the main loop where only store reads are
 * allowed, and again in the worker that accepts the message.
 */
#define G_LOG_DOMAIN "outpost-policy"

#include "policy/op-sender-policy.h"

#include "op-error.h"
#include "policy/op-policy.h"

#include <string.h>

OpSenderPolicy *
op_sender_policy_new(OpStore *store, const char *account, GError **error)
{
	g_autoptr(OpSenderPolicy) policy = g_new0(OpSenderPolicy, 1);
	g_autoptr(GError) local_error = NULL;

	policy->store = store;
	policy->account = g_strdup(account);
	policy->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						(GDestroyNotify)op_store_domain_free);
	if (account == NULL) {
		policy->aliases = g_new0(char *, 1);
		return g_steal_pointer(&policy);
	}
	/* A removed account is no store failure: check_account rejects it. */
	policy->stored = op_store_get_account(store, account, &local_error);
	if (policy->stored == NULL && !g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return NULL;
	}
	g_clear_error(&local_error);
	policy->aliases = op_store_dup_aliases(store, account, &local_error);
	if (policy->aliases == NULL) {
		if (!g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
			g_propagate_error(error, g_steal_pointer(&local_error));
			return NULL;
		}
		policy->aliases = g_new0(char *, 1);
	}
	return g_steal_pointer(&policy);
}

void
op_sender_policy_free(OpSenderPolicy *policy)
{
	if (policy == NULL)
		return;
	g_free(policy->account);
	op_store_account_free(policy->stored);
	g_strfreev(policy->aliases);
	g_clear_pointer(&policy->domains, g_hash_table_unref);
	g_free(policy);
}

/* Sets *domain to the managed domain called name, or to NULL when the domain
 * is not managed. */
static gboolean
lookup_domain(OpSenderPolicy *policy, const char *name, OpStoreDomain **domain, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	OpStoreDomain *found;

	if (g_hash_table_lookup_extended(policy->domains, name, NULL, (gpointer *)domain))
		return TRUE;
	found = op_store_get_domain(policy->store, name, &local_error);
	if (found == NULL && !g_error_matches(local_error, OP_ERROR, OP_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&local_error));
		return FALSE;
	}
	g_hash_table_insert(policy->domains, g_strdup(name), found);
	*domain = found;
	return TRUE;
}

char *
op_sender_policy_check_account(OpSenderPolicy *policy)
{
	if (policy->account == NULL)
		return NULL;
	/* A session stays logged in after the admin disables or removes its
	 * account, so every transaction checks the account again. */
	if (policy->stored == NULL)
		return g_strdup_printf("553 5.7.1 The account %s no longer exists",
				       policy->account);
	if (!policy->stored->enabled)
		return g_strdup_printf("553 5.7.1 The account %s may not send: it or its domain "
				       "is disabled",
				       policy->account);
	return NULL;
}

gboolean
op_sender_policy_check_address(OpSenderPolicy *policy, const char *address, const char *role,
			       char **rejection, GError **error)
{
	g_autofree char *ascii = NULL;
	OpStoreDomain *domain = NULL;
	const char *at;

	*rejection = NULL;
	/* The null sender is for notifications such as read receipts and
	 * belongs to nobody, so it needs no ownership (RFC 5321 §4.5.5). */
	if (*address == '\0')
		return TRUE;
	ascii = op_policy_dup_ascii_address(address);
	if (policy->account != NULL &&
	    (ascii == NULL || !op_policy_account_owns(policy->account,
						      (const char *const *)policy->aliases,
						      ascii))) {
		*rejection = g_strdup_printf("553 5.7.1 %s <%s> is not owned by %s", role, address,
					   policy->account);
		return TRUE;
	}
	/* A domain without an A-label form cannot be a managed domain. */
	at = ascii != NULL ? strrchr(ascii, '@') : NULL;
	if (at == NULL)
		return TRUE;
	if (!lookup_domain(policy, at + 1, &domain, error))
		return FALSE;
	if (domain != NULL && !domain->enabled)
		*rejection = g_strdup_printf("553 5.7.1 %s <%s> is rejected: the domain %s is "
					   "disabled",
					   role, address, domain->name);
	return TRUE;
}

static gboolean
check_domain_limit(OpSenderPolicy *policy, const char *sender, gint64 since, gboolean *limited,
		   char **rejection, GError **error)
{
	g_autofree char *ascii = op_policy_dup_ascii_address(sender);
	const char *at = ascii != NULL ? strrchr(ascii, '@') : NULL;
	OpStoreDomain *domain = NULL;
	guint count = 0;

	if (at == NULL)
		return TRUE;
	if (!lookup_domain(policy, at + 1, &domain, error))
		return FALSE;
	if (domain == NULL || domain->hourly_limit == 0)
		return TRUE;
	*limited = TRUE;
	if (!op_store_count_accepted_from_domain(policy->store, domain->name, since, &count,
						 error))
		return FALSE;
	*rejection = op_policy_dup_limit_rejection(domain->hourly_limit, count, domain->name);
	return TRUE;
}

gboolean
op_sender_policy_check_limits(OpSenderPolicy *policy, const char *sender, gint64 now,
			      gboolean *limited, char **rejection, GError **error)
{
	gint64 since = now - OP_HOURLY_LIMIT_WINDOW;
	OpStoreAccount *account = policy->stored;
	guint count = 0;

	*limited = FALSE;
	*rejection = NULL;
	if (account != NULL && account->hourly_limit > 0) {
		*limited = TRUE;
		if (!op_store_count_accepted_for_account(policy->store, account->address, since,
							 &count, error))
			return FALSE;
		*rejection = op_policy_dup_limit_rejection(account->hourly_limit, count,
						       account->address);
		if (*rejection != NULL)
			return TRUE;
	}
	/* The domain limit counts by the envelope sender's domain, so it also
	 * covers trusted clients. The null sender has no domain. */
	return check_domain_limit(policy, sender, since, limited, rejection, error);
}
