/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpClient: the app's connection to outpostd. It watches the daemon's bus
 * name, keeps the generated proxy, reports whether the daemon is running and
 * whether this user may manage it, and forwards the EventAdded signal.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OP_BUS_NAME "io.github.outpostmail.Outpost1"
#define OP_OBJECT_PATH "/io/github/outpostmail/Outpost1"

typedef enum {
	OP_CLIENT_CONNECTING,
	OP_CLIENT_READY,
	OP_CLIENT_NOT_RUNNING,
	OP_CLIENT_NOT_AUTHORIZED,
} OpClientState;

#define OP_TYPE_CLIENT (op_client_get_type())
G_DECLARE_FINAL_TYPE(OpClient, op_client, OP, CLIENT, GObject)

OpClient *op_client_new(GBusType bus_type);
OpClientState op_client_get_state(OpClient *self);
const char *op_client_get_detail(OpClient *self);
GBusType op_client_get_bus_type(OpClient *self);
const char *op_client_get_hostname(OpClient *self);
const char *op_client_get_version(OpClient *self);
void op_client_reconnect(OpClient *self);
void op_client_call(OpClient *self, const char *method, GVariant *parameters,
		    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
GVariant *op_client_call_finish(OpClient *self, GAsyncResult *result, GError **error);
/* A callback for op_client_call() whose user_data is a GTask (owned): returns
 * the reply's first value, or the error, through the task. Paged list models
 * fetch their pages with it. */
void op_client_return_first_value_cb(GObject *source, GAsyncResult *result,
				     gpointer user_data);
void op_client_note_error(OpClient *self, const GError *error);

G_END_DECLS
