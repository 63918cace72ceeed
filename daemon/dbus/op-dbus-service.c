/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Registers the admin API on the bus with the interface description that
 * gdbus-codegen generates from data/io.github.outpostmail.Outpost1.xml.
 * Every call is looked up in the method tables and authorized with polkit.
 * It then runs in a worker thread, and its reply or GError goes back to the
 * caller.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"
#include "op-worker.h"

#include "op-dbus-generated.h"
#include "op-error.h"

#define OP_DBUS_INTERFACE "io.github.outpostmail.Outpost1.Manager"
#define OP_MAX_PAGE 1000

static const OpDbusMethod *const op_dbus_method_tables[] = {
	op_dbus_domain_methods,
	op_dbus_queue_methods,
	op_dbus_settings_methods,
	op_dbus_deliverability_methods,
	op_dbus_publish_methods,
	op_dbus_client_methods,
};

static const OpDbusMethod *
find_method(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_dbus_method_tables); i++) {
		for (const OpDbusMethod *method = op_dbus_method_tables[i]; method->name; method++) {
			if (strcmp(method->name, name) == 0)
				return method;
		}
	}
	return NULL;
}

gboolean
op_dbus_check_page(guint limit, GError **error)
{
	if (limit == 0 || limit > OP_MAX_PAGE) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid limit %u: ask for 1 to %d entries per page", limit, OP_MAX_PAGE);
		return FALSE;
	}
	return TRUE;
}

void
op_dbus_add_entry(GVariantBuilder *builder, const char *key, GVariant *value)
{
	g_variant_builder_add(builder, "{sv}", key, value);
}

static void
call_free(OpCall *call)
{
	g_object_unref(call->invocation);
	g_variant_unref(call->parameters);
	g_free(call);
}

static void
call_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	OpCall *call = task_data;
	g_autoptr(GError) error = NULL;
	GVariant *result = call->func(call, &error);

	if (result == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, g_variant_ref_sink(result), (GDestroyNotify)g_variant_unref);
}

static void
call_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpCall *call = g_task_get_task_data(G_TASK(result));
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = g_task_propagate_pointer(G_TASK(result), &error);

	if (reply == NULL) {
		g_message("%s by %s failed: %s", call->method,
			  g_dbus_method_invocation_get_sender(call->invocation), error->message);
		g_dbus_method_invocation_return_gerror(g_object_ref(call->invocation), error);
		return;
	}
	g_dbus_method_invocation_return_value(g_object_ref(call->invocation), reply);
}

/* Logs an audit line for a change, naming its first argument when that is a
 * string: the first argument is never a secret. */
static void
audit(OpCall *call)
{
	g_autoptr(GVariant) first = NULL;

	g_autofree char *shown = NULL;

	if (g_strcmp0(call->action, OP_ACTION_MANAGE) != 0)
		return;
	if (g_variant_n_children(call->parameters) > 0)
		first = g_variant_get_child_value(call->parameters, 0);
	if (first != NULL && g_variant_is_of_type(first, G_VARIANT_TYPE_STRING)) {
		/* Escaped and cut, so a caller cannot forge or flood log lines. */
		const char *text = g_variant_get_string(first, NULL);
		g_autofree char *cut = g_utf8_substring(text, 0, MIN(g_utf8_strlen(text, -1), 80));

		shown = g_strescape(cut, NULL);
	}
	g_message("%s by %s authorized%s%s", call->method,
		  g_dbus_method_invocation_get_sender(call->invocation), shown ? " for " : "",
		  shown ? shown : "");
}

static void
authorized_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpCall *call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GTask) task = NULL;

	if (!op_authority_check_finish(call->service->authority, result, &error)) {
		g_message("%s by %s denied: %s", call->method,
			  g_dbus_method_invocation_get_sender(call->invocation), error->message);
		g_dbus_method_invocation_return_gerror(g_object_ref(call->invocation), error);
		call_free(call);
		return;
	}
	audit(call);
	task = g_task_new(NULL, NULL, call_done_cb, NULL);
	g_task_set_task_data(task, call, (GDestroyNotify)call_free);
	op_worker_run(OP_WORKER_ADMIN, task, call_thread);
}

static void
method_call_cb(GDBusConnection *connection, const char *sender, const char *path,
	       const char *interface, const char *name, GVariant *parameters,
	       GDBusMethodInvocation *invocation, gpointer user_data)
{
	OpDbusService *service = user_data;
	const OpDbusMethod *method = find_method(name);
	OpCall *call;

	if (method == NULL) {
		g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR,
						      G_DBUS_ERROR_UNKNOWN_METHOD,
						      "method %s is not implemented", name);
		return;
	}
	call = g_new0(OpCall, 1);
	call->service = service;
	call->invocation = g_object_ref(invocation);
	call->method = method->name;
	call->action = method->action;
	call->func = method->func;
	call->parameters = g_variant_ref(parameters);
	op_authority_check_async(service->authority, invocation, method->action, authorized_cb,
				 call);
}

/* The two properties describe the server to anyone, without polkit. */
static GVariant *
get_property_cb(GDBusConnection *connection, const char *sender, const char *path,
		const char *interface, const char *name, GError **error, gpointer user_data)
{
	OpDbusService *service = user_data;

	if (strcmp(name, "Version") == 0)
		return g_variant_new_string(PACKAGE_VERSION);
	if (strcmp(name, "Hostname") == 0)
		return g_variant_new_string(service->admin->config->hostname);
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", name);
	return NULL;
}

static const GDBusInterfaceVTable op_dbus_vtable = {
	.method_call = method_call_cb,
	.get_property = get_property_cb,
};

static void
bus_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	OpDbusService *service = user_data;
	g_autoptr(GError) error = NULL;

	service->connection = g_object_ref(connection);
	op_dbus_events_start(service);
	service->registration_id = g_dbus_connection_register_object(
		connection, OP_DBUS_PATH, op_dbus_outpost1_manager_interface_info(),
		&op_dbus_vtable, service, NULL, &error);
	if (service->registration_id == 0)
		g_warning("exporting %s failed: %s", OP_DBUS_PATH, error->message);
}

static void
name_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	OpDbusService *service = user_data;

	g_message("owning %s on the %s bus", name, service->session_bus ? "session" : "system");
	if (service->ready_cb != NULL)
		((void (*)(gpointer))service->ready_cb)(service->user_data);
}

static void
name_lost_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	OpDbusService *service = user_data;

	if (service->lost_cb != NULL)
		((void (*)(gpointer))service->lost_cb)(service->user_data);
}

OpDbusService *
op_dbus_service_new(OpAdmin *admin, gboolean session_bus, GCallback ready_cb, GCallback lost_cb,
		    gpointer user_data)
{
	OpDbusService *service = g_new0(OpDbusService, 1);

	/* Registers the D-Bus names of OP_ERROR before the first reply. */
	(void)OP_ERROR;
	service->admin = admin;
	service->authority = op_authority_new(session_bus);
	service->session_bus = session_bus;
	service->ready_cb = ready_cb;
	service->lost_cb = lost_cb;
	service->user_data = user_data;
	service->owner_id = g_bus_own_name(session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
					   OP_DBUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
					   bus_acquired_cb, name_acquired_cb, name_lost_cb, service,
					   NULL);
	return service;
}

void
op_dbus_service_free(OpDbusService *service)
{
	if (service == NULL)
		return;
	g_bus_unown_name(service->owner_id);
	op_dbus_events_stop(service);
	if (service->registration_id != 0)
		g_dbus_connection_unregister_object(service->connection, service->registration_id);
	g_clear_object(&service->connection);
	op_authority_free(service->authority);
	g_free(service);
}
