/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The sender rules of one submission that need the store. The account must
 * still be enabled and own the sender address (its own or an alias), the
 * sender's domain must be enabled, and neither the account nor the domain
 * may have reached its hourly limit. Each check returns the rejecting reply.
 */
#pragma once

#include "store/op-store.h"

G_BEGIN_DECLS

/* How far back the hourly limits count accepted messages, in seconds. */
#define OP_HOURLY_LIMIT_WINDOW 3600

typedef struct {
	OpStore *store;		/* borrowed */
	char *account;		/* the authenticated account, NULL for a trusted client */
	OpStoreAccount *stored; /* the account as stored now, NULL once removed */
	char **aliases;		/* the account's aliases; empty without an account */
	GHashTable *domains;	/* A-label name -> OpStoreDomain *, NULL when not managed */
} OpSenderPolicy;

OpSenderPolicy *op_sender_policy_new(OpStore *store, const char *account, GError **error);
void op_sender_policy_free(OpSenderPolicy *policy);

/* Returns the 553 reply for an account that was disabled or removed since it
 * logged in, or NULL when it may send (and always for a trusted client). */
char *op_sender_policy_check_account(OpSenderPolicy *policy);

/* Checks one sender address: the envelope sender (role "Sender address") or
 * a From: address (role "From: address"). Returns FALSE on a store failure.
 * Otherwise returns TRUE with *rejection NULL when the address may be used,
 * or set to the 553 reply. The null sender "" always passes. */
gboolean op_sender_policy_check_address(OpSenderPolicy *policy, const char *address,
					const char *role, char **rejection, GError **error);

/* Checks the hourly limits of the account and of the envelope sender's
 * domain against the messages accepted since now - OP_HOURLY_LIMIT_WINDOW.
 * Sets *limited when either has a limit. Returns FALSE on a store failure.
 * Otherwise returns TRUE with *rejection NULL or set to the 451 reply. */
gboolean op_sender_policy_check_limits(OpSenderPolicy *policy, const char *sender, gint64 now,
				       gboolean *limited, char **rejection, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSenderPolicy, op_sender_policy_free)

G_END_DECLS
