/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * polkit checks for the admin API. The subject is the caller's unique bus
 * name, so polkit looks up its process and user itself. A caller that set
 * the allow-interactive-authorization flag may be asked for a password.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-authority.h"

#include "op-error.h"

#include <polkit/polkit.h>

struct _OpAuthority {
	gboolean session_bus;
	PolkitAuthority *polkit; /* NULL until first needed */
};

OpAuthority *
op_authority_new(gboolean session_bus)
{
	OpAuthority *authority = g_new0(OpAuthority, 1);

	authority->session_bus = session_bus;
	return authority;
}

void
op_authority_free(OpAuthority *authority)
{
	if (authority == NULL)
		return;
	g_clear_object(&authority->polkit);
	g_free(authority);
}

static void
check_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitAuthorizationResult) answer = NULL;

	answer =
	    polkit_authority_check_authorization_finish(POLKIT_AUTHORITY(source), result, &error);
	if (answer == NULL) {
		g_warning("polkit check failed: %s", error->message);
		g_task_return_new_error(task, OP_ERROR, OP_ERROR_ACCESS_DENIED,
					"the authorization check failed: is polkitd running?");
		return;
	}
	if (!polkit_authorization_result_get_is_authorized(answer)) {
		g_task_return_new_error(task, OP_ERROR, OP_ERROR_ACCESS_DENIED,
					"not authorized: this needs the polkit action %s",
					(const char *)g_task_get_task_data(task));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
op_authority_check_async(OpAuthority *authority, GDBusMethodInvocation *invocation,
			 const char *action_id, GAsyncReadyCallback callback, gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(PolkitSubject) subject = NULL;
	PolkitCheckAuthorizationFlags flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE;
	GDBusMessage *message = g_dbus_method_invocation_get_message(invocation);

	g_task_set_task_data(task, g_strdup(action_id), g_free);
	if (authority->session_bus) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (authority->polkit == NULL) {
		authority->polkit = polkit_authority_get_sync(NULL, &error);
		if (authority->polkit == NULL) {
			g_warning("connecting to polkit failed: %s", error->message);
			g_task_return_new_error(task, OP_ERROR, OP_ERROR_ACCESS_DENIED,
						"the authorization check failed: is polkitd "
						"running?");
			return;
		}
	}
	if (g_dbus_message_get_flags(message) &
	    G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
		flags |= POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
	subject = polkit_system_bus_name_new(g_dbus_method_invocation_get_sender(invocation));
	polkit_authority_check_authorization(authority->polkit, subject, action_id, NULL, flags,
					     NULL, check_done_cb, g_steal_pointer(&task));
}

gboolean
op_authority_check_finish(OpAuthority *authority, GAsyncResult *result, GError **error)
{
	return g_task_propagate_boolean(G_TASK(result), error);
}
