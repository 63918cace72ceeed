/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpClient. Calls go through g_dbus_proxy_call() on the generated proxy, so
 * methods that an older daemon lacks fail with UnknownMethod instead of
 * needing a newer generated file. Every call allows interactive
 * authorization, so polkit may ask the user for a password.
 */
#include "op-client.h"

#include "op-format.h"
#include "op-gui-dbus.h"

#include <glib/gi18n.h>

/* Long enough for AddDomain, which generates a 2048-bit RSA key, and for a
 * DNS UPDATE to a slow server; D-Bus's default of 25 s is not. */
#define OP_CALL_TIMEOUT_MS (120 * 1000)

struct _OpClient {
	GObject parent_instance;

	GBusType bus_type;
	guint watch_id;
	OpClientState state;
	char *detail;
	OpDbusOutpost1Manager *proxy;
	GCancellable *cancellable;
};

enum { PROP_0, PROP_STATE, N_PROPS };
enum { SIGNAL_EVENT_ADDED, SIGNAL_READY, N_SIGNALS };

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(OpClient, op_client, G_TYPE_OBJECT)

static void
set_state(OpClient *self, OpClientState state, const char *detail)
{
	if (self->state == state && g_strcmp0(self->detail, detail) == 0)
		return;
	self->state = state;
	g_free(self->detail);
	self->detail = g_strdup(detail);
	g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STATE]);
}

static void
event_added_cb(OpDbusOutpost1Manager *proxy, GVariant *event, OpClient *self)
{
	g_signal_emit(self, signals[SIGNAL_EVENT_ADDED], 0, event);
}

/* A first read decides between "ready" and "not authorized". */
static void
probe_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OpClient) self = user_data;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (reply != NULL) {
		set_state(self, OP_CLIENT_READY, NULL);
		g_signal_emit(self, signals[SIGNAL_READY], 0);
		return;
	}
	op_client_note_error(self, error);
	if (self->state == OP_CLIENT_CONNECTING) {
		g_autofree char *sentence = op_dup_error_sentence(error);

		set_state(self, OP_CLIENT_NOT_RUNNING, sentence);
	}
}

static void
proxy_ready_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(OpClient) self = user_data;
	g_autoptr(GError) error = NULL;
	OpDbusOutpost1Manager *proxy;

	proxy = op_dbus_outpost1_manager_proxy_new_finish(result, &error);
	if (proxy == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			set_state(self, OP_CLIENT_NOT_RUNNING, error->message);
		return;
	}
	g_clear_object(&self->proxy);
	self->proxy = proxy;
	g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(proxy), OP_CALL_TIMEOUT_MS);
	g_signal_connect_object(proxy, "event-added", G_CALLBACK(event_added_cb), self, 0);
	g_dbus_proxy_call(G_DBUS_PROXY(proxy), "GetQueueTotals", NULL,
			  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, self->cancellable,
			  probe_done_cb, g_object_ref(self));
}

static void
name_appeared_cb(GDBusConnection *connection, const char *name, const char *owner,
		 gpointer user_data)
{
	OpClient *self = user_data;

	set_state(self, OP_CLIENT_CONNECTING, NULL);
	op_dbus_outpost1_manager_proxy_new(connection, G_DBUS_PROXY_FLAGS_NONE, OP_BUS_NAME,
					   OP_OBJECT_PATH, self->cancellable, proxy_ready_cb,
					   g_object_ref(self));
}

static void
name_vanished_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	OpClient *self = user_data;

	g_clear_object(&self->proxy);
	if (connection == NULL)
		set_state(self, OP_CLIENT_NOT_RUNNING, _("The message bus is not available."));
	else
		set_state(self, OP_CLIENT_NOT_RUNNING, NULL);
}

/* Starts watching the daemon's name again, as after the app started. */
void
op_client_reconnect(OpClient *self)
{
	if (self->watch_id != 0)
		g_bus_unwatch_name(self->watch_id);
	g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	self->cancellable = g_cancellable_new();
	g_clear_object(&self->proxy);
	set_state(self, OP_CLIENT_CONNECTING, NULL);
	/* AUTO_START lets the system bus start the daemon by D-Bus activation. */
	self->watch_id = g_bus_watch_name(self->bus_type, OP_BUS_NAME,
					  G_BUS_NAME_WATCHER_FLAGS_AUTO_START, name_appeared_cb,
					  name_vanished_cb, self, NULL);
}

/* Updates the state after a failed call: an access denial or a vanished
 * daemon replaces the pages with an explanation. */
void
op_client_note_error(OpClient *self, const GError *error)
{
	g_autofree char *sentence = op_dup_error_sentence(error);

	if (op_error_is_access_denied(error))
		set_state(self, OP_CLIENT_NOT_AUTHORIZED, sentence);
	else if (op_error_is_not_running(error))
		set_state(self, OP_CLIENT_NOT_RUNNING, sentence);
}

static void
call_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	GError *error = NULL;
	GVariant *reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);

	if (reply == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, reply, (GDestroyNotify)g_variant_unref);
}

/* Calls method on the daemon. The callback's source object is the client,
 * so callbacks finish with op_client_call_finish(OP_CLIENT(source), ...). */
void
op_client_call(OpClient *self, const char *method, GVariant *parameters,
	       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
	GTask *task = g_task_new(self, cancellable, callback, user_data);

	if (self->proxy != NULL) {
		g_dbus_proxy_call(G_DBUS_PROXY(self->proxy), method, parameters,
				  G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, cancellable,
				  call_done_cb, task);
		return;
	}
	if (parameters != NULL)
		g_variant_unref(g_variant_ref_sink(parameters));
	g_task_return_new_error(task, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN, "%s",
				_("The Outpost service is not running."));
	g_object_unref(task);
}

/* Finishes op_client_call(). A failure that shows the daemon vanished or
 * refuses this user also updates the client's state. */
GVariant *
op_client_call_finish(OpClient *self, GAsyncResult *result, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	GVariant *reply = g_task_propagate_pointer(G_TASK(result), &local_error);

	if (reply == NULL) {
		op_client_note_error(self, local_error);
		g_propagate_error(error, g_steal_pointer(&local_error));
	}
	return reply;
}

GBusType
op_client_get_bus_type(OpClient *self)
{
	return self->bus_type;
}

OpClientState
op_client_get_state(OpClient *self)
{
	return self->state;
}

/* Returns the sentence that explains the state, or NULL. */
const char *
op_client_get_detail(OpClient *self)
{
	return self->detail;
}

const char *
op_client_get_hostname(OpClient *self)
{
	const char *hostname = NULL;

	if (self->proxy != NULL)
		hostname = op_dbus_outpost1_manager_get_hostname(self->proxy);
	return hostname != NULL ? hostname : "";
}

const char *
op_client_get_version(OpClient *self)
{
	const char *version = NULL;

	if (self->proxy != NULL)
		version = op_dbus_outpost1_manager_get_version(self->proxy);
	return version != NULL ? version : "";
}

static void
op_client_dispose(GObject *object)
{
	OpClient *self = OP_CLIENT(object);

	if (self->watch_id != 0) {
		g_bus_unwatch_name(self->watch_id);
		self->watch_id = 0;
	}
	if (self->cancellable != NULL)
		g_cancellable_cancel(self->cancellable);
	g_clear_object(&self->cancellable);
	g_clear_object(&self->proxy);
	G_OBJECT_CLASS(op_client_parent_class)->dispose(object);
}

static void
op_client_finalize(GObject *object)
{
	g_free(OP_CLIENT(object)->detail);
	G_OBJECT_CLASS(op_client_parent_class)->finalize(object);
}

static void
op_client_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
	switch (id) {
	case PROP_STATE:
		g_value_set_int(value, OP_CLIENT(object)->state);
		break;
	default:
		G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
	}
}

static void
op_client_class_init(OpClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = op_client_dispose;
	object_class->finalize = op_client_finalize;
	object_class->get_property = op_client_get_property;
	properties[PROP_STATE] = g_param_spec_int("state", NULL, NULL, OP_CLIENT_CONNECTING,
						  OP_CLIENT_NOT_AUTHORIZED, OP_CLIENT_CONNECTING,
						  G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
							  G_PARAM_STATIC_STRINGS);
	g_object_class_install_properties(object_class, N_PROPS, properties);
	/* The daemon's EventAdded signal, with the event's a{sv}. */
	signals[SIGNAL_EVENT_ADDED] = g_signal_new("event-added", G_TYPE_FROM_CLASS(klass),
						   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
						   G_TYPE_NONE, 1, G_TYPE_VARIANT);
	/* Emitted when the client became ready, so pages load their data. */
	signals[SIGNAL_READY] = g_signal_new("ready", G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
					       G_TYPE_NONE, 0);
}

static void
op_client_init(OpClient *self)
{
	self->cancellable = g_cancellable_new();
}

OpClient *
op_client_new(GBusType bus_type)
{
	OpClient *self = g_object_new(OP_TYPE_CLIENT, NULL);

	self->bus_type = bus_type;
	op_client_reconnect(self);
	return self;
}

void
op_client_return_first_value_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	GTask *task = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);

	if (reply == NULL)
		g_task_return_error(task, g_steal_pointer(&error));
	else
		g_task_return_pointer(task, g_variant_get_child_value(reply, 0),
				      (GDestroyNotify)g_variant_unref);
	g_object_unref(task);
}
