/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Switches the process to another user for good: supplementary groups,
 * then the group, then the user, and a check that root cannot come back.
 */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "outpostd"

#include "op-privileges.h"

#include "op-error.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

static struct passwd *
lookup_user(const char *user, GError **error)
{
	struct passwd *entry;

	errno = 0;
	entry = getpwnam(user);
	if (entry == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "user %s not found: create it (the sysusers.d file does) or set another "
			    "user",
			    user);
		return NULL;
	}
	if (entry->pw_uid == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "user %s has uid 0: choose an unprivileged user", user);
		return NULL;
	}
	return entry;
}

/* Gives path to user, so the daemon can still write it after the switch. */
gboolean
op_privileges_chown(const char *path, const char *user, GError **error)
{
	struct passwd *entry = lookup_user(user, error);

	if (entry == NULL)
		return FALSE;
	if (chown(path, entry->pw_uid, entry->pw_gid) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to give %s to %s: %s", path,
			    user, g_strerror(saved));
		return FALSE;
	}
	return TRUE;
}

gboolean
op_privileges_drop(const char *user, GError **error)
{
	struct passwd *entry = lookup_user(user, error);
	uid_t uid;
	gid_t gid;

	if (entry == NULL)
		return FALSE;
	uid = entry->pw_uid;
	gid = entry->pw_gid;
	if (initgroups(user, gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to switch to user %s: %s",
			    user, g_strerror(saved));
		return FALSE;
	}
	/* A process that can become root again has not dropped anything. */
	if (setuid(0) == 0 || geteuid() != uid || getegid() != gid) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "switching to user %s did not stick: refusing to run", user);
		return FALSE;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	g_message("running as user %s (uid %u)", user, (guint)uid);
	return TRUE;
}
