/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Authorizes each D-Bus method call with polkit, for the caller's bus name,
 * before the daemon reads or changes anything.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OP_ACTION_READ "io.github.outpostmail.outpost.read"
#define OP_ACTION_MANAGE "io.github.outpostmail.outpost.manage"

typedef struct _OpAuthority OpAuthority;

/* On the session bus every caller runs as the session's user, so calls are
 * allowed without polkit; on the system bus polkit decides. */
OpAuthority *op_authority_new(gboolean session_bus);
void op_authority_free(OpAuthority *authority);
void op_authority_check_async(OpAuthority *authority, GDBusMethodInvocation *invocation,
			      const char *action_id, GAsyncReadyCallback callback,
			      gpointer user_data);
gboolean op_authority_check_finish(OpAuthority *authority, GAsyncResult *result,
				   GError **error);

G_END_DECLS
