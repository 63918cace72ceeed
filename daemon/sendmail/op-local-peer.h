/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A program that submits mail on the sendmail socket, known by the uid the
 * kernel reports for the connection (SO_PEERCRED), and the rule for the
 * envelope senders it may use.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Members of this group may use any envelope sender, as root may. */
#define OP_SUBMIT_GROUP "outpost-submit"

typedef struct {
	uid_t uid;
	char *user;	     /* login name, NULL when the uid has no passwd entry */
	gboolean any_sender; /* root, or a member of OP_SUBMIT_GROUP */
	/* "local uid=N (name)": names the client in logs and trace headers. */
	char *description;
} OpLocalPeer;

OpLocalPeer *op_local_peer_new(uid_t uid, const char *user, gboolean any_sender);
/* Reads the login name of @uid and its membership of OP_SUBMIT_GROUP from
 * the user and group databases: the group's member list or the user's
 * primary group. Blocks until the NSS lookups return. */
OpLocalPeer *op_local_peer_lookup(uid_t uid);
void op_local_peer_free(OpLocalPeer *peer);

/* Checks the envelope sender of a local submission, "local@domain" with the
 * domain in A-label form or "" for the null sender. A sender is required.
 * root and members of OP_SUBMIT_GROUP may use any. Every other user may use
 * their login name at @hostname, or an address in a domain the server
 * manages, which the caller looks up and passes as @managed_domain.
 * Returns NULL when the sender may be used, or the 553 reply. */
char *op_local_peer_check_sender(const OpLocalPeer *peer, const char *sender,
				 const char *hostname, gboolean managed_domain);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpLocalPeer, op_local_peer_free)

G_END_DECLS
