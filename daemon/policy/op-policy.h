/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sender rules without the store: the trusted networks that relay without
 * AUTH, the ownership of sender addresses by accounts, and the reply once an
 * hourly sending limit is reached.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GPtrArray *op_policy_parse_networks(char **cidrs, GError **error);
gboolean op_policy_is_trusted(GPtrArray *networks, GInetAddress *address);

/* Returns TRUE when address is the account's own address or one of its
 * aliases (NULL-terminated, may be NULL). Every address is compared in the
 * form the store uses, with an A-label domain: see op_policy_dup_ascii_address(). */
gboolean op_policy_account_owns(const char *account, const char *const *aliases,
				const char *address);

/* Returns "local@domain" with the domain lower-cased in A-label form, the form
 * of accounts and aliases in the store, or NULL when the domain has no A-label
 * form (invalid UTF-8 or IDNA). It does not check the syntax of an ASCII
 * domain. An address without "@" is returned unchanged. */
char *op_policy_dup_ascii_address(const char *address);

/* Returns the 451 reply rejecting one more message from holder (an account
 * address or a domain name) when count messages in the last hour have reached
 * limit, or NULL when a message may go. A limit of 0 means no limit. */
char *op_policy_dup_limit_rejection(guint limit, guint count, const char *holder);

G_END_DECLS
