/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Names the local user behind a sendmail-socket connection and applies the
 * sender rule of local submission. The daemon trusts the kernel's uid, never
 * anything the client says about itself.
 */
#include "sendmail/op-local-peer.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

OpLocalPeer *
op_local_peer_new(uid_t uid, const char *user, gboolean any_sender)
{
	OpLocalPeer *peer = g_new0(OpLocalPeer, 1);

	peer->uid = uid;
	peer->user = g_strdup(user);
	peer->any_sender = any_sender || uid == 0;
	if (user != NULL)
		peer->description = g_strdup_printf("local uid=%u (%s)", (guint)uid, user);
	else
		peer->description = g_strdup_printf("local uid=%u", (guint)uid);
	return peer;
}

void
op_local_peer_free(OpLocalPeer *peer)
{
	if (peer == NULL)
		return;
	g_free(peer->user);
	g_free(peer->description);
	g_free(peer);
}

static gsize
get_buffer_size(int name)
{
	long size = sysconf(name);

	return size > 0 ? (gsize)size : 16384;
}

static gboolean
is_submit_group_member(const char *user, gid_t primary_gid)
{
	gsize size = get_buffer_size(_SC_GETGR_R_SIZE_MAX);

	/* A group with many members needs a larger buffer than sysconf suggests. */
	for (;;) {
		g_autofree char *buffer = g_malloc(size);
		struct group entry;
		struct group *found = NULL;
		int rc = getgrnam_r(OP_SUBMIT_GROUP, &entry, buffer, size, &found);

		if (rc == ERANGE && size < 16 * 1024 * 1024) {
			size *= 2;
			continue;
		}
		if (rc != 0 || found == NULL)
			return FALSE;
		if (found->gr_gid == primary_gid)
			return TRUE;
		for (char **member = found->gr_mem; *member != NULL; member++) {
			if (strcmp(*member, user) == 0)
				return TRUE;
		}
		return FALSE;
	}
}

OpLocalPeer *
op_local_peer_lookup(uid_t uid)
{
	gsize size = get_buffer_size(_SC_GETPW_R_SIZE_MAX);

	for (;;) {
		g_autofree char *buffer = g_malloc(size);
		struct passwd entry;
		struct passwd *found = NULL;
		int rc = getpwuid_r(uid, &entry, buffer, size, &found);

		if (rc == ERANGE && size < 1024 * 1024) {
			size *= 2;
			continue;
		}
		/* A uid without a passwd entry, common in containers, can still
		 * submit: it is named by number and has no login@hostname. */
		if (rc != 0 || found == NULL)
			return op_local_peer_new(uid, NULL, FALSE);
		return op_local_peer_new(uid, found->pw_name,
					 is_submit_group_member(found->pw_name, found->pw_gid));
	}
}

char *
op_local_peer_check_sender(const OpLocalPeer *peer, const char *sender, const char *hostname,
			   gboolean managed_domain)
{
	const char *at = strrchr(sender, '@');

	/* A local program has no business sending bounces, and a message from
	 * the null sender could never be returned to the user who sent it. */
	if (*sender == '\0')
		return g_strdup("553 5.1.7 A local submission needs a sender address: give one "
				"with outpost-sendmail -f ADDRESS");
	if (peer->any_sender || managed_domain)
		return NULL;
	if (peer->user != NULL && at != NULL && (gsize)(at - sender) == strlen(peer->user) &&
	    strncmp(sender, peer->user, at - sender) == 0 &&
	    g_ascii_strcasecmp(at + 1, hostname) == 0)
		return NULL;
	if (peer->user == NULL)
		return g_strdup_printf("553 5.7.1 Sender address <%s> is not allowed for local uid "
				       "%u: use an address in a domain this server manages",
				       sender, (guint)peer->uid);
	return g_strdup_printf("553 5.7.1 Sender address <%s> is not allowed for local user %s: "
			       "use %s@%s or an address in a domain this server manages, or "
			       "ask the admin to add %s to the %s group",
			       sender, peer->user, peer->user, hostname, peer->user,
			       OP_SUBMIT_GROUP);
}
