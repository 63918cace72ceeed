/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A thin layer over OpAdmin: each handler copies its arguments into a
 * GTask, the engine call runs in a worker thread, and the reply or a
 * GError (mapped to io.github.outpostmail.Outpost1.Error.*) goes back.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-service.h"

#include "dbus/op-authority.h"
#include "dns/op-records.h"
#include "op-dbus-generated.h"
#include "op-error.h"

#define OP_MAX_PAGE 1000

struct _OpDbusService {
	OpAdmin *admin;
	OpAuthority *authority;
	OpDbusOutpost1Manager *skeleton;
	guint owner_id;
	gboolean session_bus;
	GCallback ready_cb;
	GCallback lost_cb;
	gpointer user_data;
};

typedef struct _OpCall OpCall;
typedef GVariant *(*OpCallFunc)(OpCall *call, GError **error);

/* One method call in flight. */
struct _OpCall {
	OpDbusService *service;
	GDBusMethodInvocation *invocation;
	char *method;
	const char *action;
	OpCallFunc func;
	char *arg1;
	char *arg2;
	gboolean flag;
	guint offset;
	guint limit;
};

static void
call_free(OpCall *call)
{
	g_object_unref(call->invocation);
	g_free(call->method);
	g_free(call->arg1);
	if (call->arg2 != NULL)
		explicit_bzero(call->arg2, strlen(call->arg2));
	g_free(call->arg2);
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
	/* An audit line for every change, never with its secret arguments. */
	if (g_strcmp0(call->action, OP_ACTION_MANAGE) == 0)
		g_message("%s by %s authorized%s%s", call->method,
			  g_dbus_method_invocation_get_sender(call->invocation),
			  call->arg1 ? " for " : "", call->arg1 ? call->arg1 : "");
	task = g_task_new(NULL, NULL, call_done_cb, NULL);
	g_task_set_task_data(task, call, (GDestroyNotify)call_free);
	g_task_run_in_thread(task, call_thread);
}

/* Checks polkit for the caller, then runs func in a worker thread; the call
 * owns the copied arguments. */
static gboolean
dispatch(OpDbusService *service, GDBusMethodInvocation *invocation, const char *action,
	 OpCallFunc func, OpCall *call)
{
	call->service = service;
	call->invocation = g_object_ref(invocation);
	call->method = g_strdup(g_dbus_method_invocation_get_method_name(invocation));
	call->action = action;
	call->func = func;
	op_authority_check_async(service->authority, invocation, action, authorized_cb, call);
	return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static OpCall *
call_new(const char *arg1, const char *arg2)
{
	OpCall *call = g_new0(OpCall, 1);

	call->arg1 = g_strdup(arg1);
	call->arg2 = g_strdup(arg2);
	return call;
}

static gboolean
check_page(guint limit, GError **error)
{
	if (limit == 0 || limit > OP_MAX_PAGE) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid limit %u: ask for 1 to %d entries per page", limit,
			    OP_MAX_PAGE);
		return FALSE;
	}
	return TRUE;
}

/* ---- Domains ------------------------------------------------------------ */

static GVariant *
do_add_domain(OpCall *call, GError **error)
{
	if (!op_admin_add_domain(call->service->admin, call->arg1, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_remove_domain(OpCall *call, GError **error)
{
	if (!op_admin_remove_domain(call->service->admin, call->arg1, call->flag, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_list_domains(OpCall *call, GError **error)
{
	g_autoptr(GPtrArray) domains = op_admin_list_domains(call->service->admin, error);
	GVariantBuilder builder;

	if (domains == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < domains->len; i++) {
		OpStoreDomain *domain = g_ptr_array_index(domains, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&builder, "{sv}", "name", g_variant_new_string(domain->name));
		g_variant_builder_add(&builder, "{sv}", "dkim-selector",
				      g_variant_new_string(domain->dkim_selector));
		g_variant_builder_add(&builder, "{sv}", "enabled",
				      g_variant_new_boolean(domain->enabled));
		g_variant_builder_add(&builder, "{sv}", "accounts",
				      g_variant_new_uint32(domain->accounts));
		g_variant_builder_add(&builder, "{sv}", "created",
				      g_variant_new_int64(domain->created));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_get_dns_records(OpCall *call, GError **error)
{
	g_autoptr(GPtrArray) records =
	    op_admin_get_dns_records(call->service->admin, call->arg1, error);
	GVariantBuilder builder;

	if (records == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < records->len; i++) {
		OpDnsRecord *record = g_ptr_array_index(records, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&builder, "{sv}", "name", g_variant_new_string(record->name));
		g_variant_builder_add(&builder, "{sv}", "type", g_variant_new_string(record->type));
		g_variant_builder_add(&builder, "{sv}", "value",
				      g_variant_new_string(record->value));
		g_variant_builder_add(&builder, "{sv}", "purpose",
				      g_variant_new_string(record->purpose ? record->purpose : ""));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

/* ---- Accounts ----------------------------------------------------------- */

static GVariant *
do_add_account(OpCall *call, GError **error)
{
	if (!op_admin_add_account(call->service->admin, call->arg1, call->arg2, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_remove_account(OpCall *call, GError **error)
{
	if (!op_admin_remove_account(call->service->admin, call->arg1, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_set_password(OpCall *call, GError **error)
{
	if (!op_admin_set_password(call->service->admin, call->arg1, call->arg2, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_list_accounts(OpCall *call, GError **error)
{
	g_autoptr(GPtrArray) accounts = NULL;
	GVariantBuilder builder;

	if (!check_page(call->limit, error))
		return NULL;
	accounts = op_store_list_accounts(call->service->admin->store, call->arg1, call->offset,
					  call->limit, error);
	if (accounts == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < accounts->len; i++) {
		OpStoreAccount *account = g_ptr_array_index(accounts, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&builder, "{sv}", "address",
				      g_variant_new_string(account->address));
		g_variant_builder_add(&builder, "{sv}", "enabled",
				      g_variant_new_boolean(account->enabled));
		g_variant_builder_add(&builder, "{sv}", "created",
				      g_variant_new_int64(account->created));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

/* ---- Queue -------------------------------------------------------------- */

static GVariant *
do_list_queue(OpCall *call, GError **error)
{
	g_autoptr(GPtrArray) entries = NULL;
	GVariantBuilder builder;

	if (!check_page(call->limit, error))
		return NULL;
	entries =
	    op_store_list_queue(call->service->admin->store, call->offset, call->limit, error);
	if (entries == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < entries->len; i++) {
		OpStoreQueueEntry *entry = g_ptr_array_index(entries, i);

		g_ptr_array_add(entry->recipients, NULL);
		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		g_variant_builder_add(&builder, "{sv}", "id", g_variant_new_string(entry->id));
		g_variant_builder_add(&builder, "{sv}", "sender",
				      g_variant_new_string(entry->sender));
		g_variant_builder_add(
		    &builder, "{sv}", "recipients",
		    g_variant_new_strv((const char *const *)entry->recipients->pdata, -1));
		g_variant_builder_add(&builder, "{sv}", "size", g_variant_new_uint64(entry->size));
		g_variant_builder_add(&builder, "{sv}", "created",
				      g_variant_new_int64(entry->created));
		g_variant_builder_add(&builder, "{sv}", "state",
				      g_variant_new_string(entry->state));
		g_variant_builder_add(&builder, "{sv}", "attempts",
				      g_variant_new_uint32(entry->attempts));
		g_variant_builder_add(&builder, "{sv}", "next-attempt",
				      g_variant_new_int64(entry->next_attempt));
		g_variant_builder_add(
		    &builder, "{sv}", "last-reply",
		    g_variant_new_string(entry->last_reply ? entry->last_reply : ""));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

/* ---- Signal handlers ---------------------------------------------------- */

static gboolean
handle_add_domain(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		  const char *domain, gpointer user_data)
{
	return dispatch(user_data, invocation, OP_ACTION_MANAGE, do_add_domain,
			call_new(domain, NULL));
}

static gboolean
handle_remove_domain(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		     const char *domain, gboolean force, gpointer user_data)
{
	OpCall *call = call_new(domain, NULL);

	call->flag = force;
	return dispatch(user_data, invocation, OP_ACTION_MANAGE, do_remove_domain, call);
}

static gboolean
handle_list_domains(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		    gpointer user_data)
{
	return dispatch(user_data, invocation, OP_ACTION_READ, do_list_domains,
			call_new(NULL, NULL));
}

static gboolean
handle_get_dns_records(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		       const char *domain, gpointer user_data)
{
	return dispatch(user_data, invocation, OP_ACTION_READ, do_get_dns_records,
			call_new(domain, NULL));
}

static gboolean
handle_add_account(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		   const char *address, const char *password, gpointer user_data)
{
	return dispatch(user_data, invocation, OP_ACTION_MANAGE, do_add_account,
			call_new(address, password));
}

static gboolean
handle_remove_account(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		      const char *address, gpointer user_data)
{
	return dispatch(user_data, invocation, OP_ACTION_MANAGE, do_remove_account,
			call_new(address, NULL));
}

static gboolean
handle_set_password(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		    const char *address, const char *password, gpointer user_data)
{
	return dispatch(user_data, invocation, OP_ACTION_MANAGE, do_set_password,
			call_new(address, password));
}

static gboolean
handle_list_accounts(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation,
		     const char *filter, guint offset, guint limit, gpointer user_data)
{
	OpCall *call = call_new(filter, NULL);

	call->offset = offset;
	call->limit = limit;
	return dispatch(user_data, invocation, OP_ACTION_READ, do_list_accounts, call);
}

static gboolean
handle_list_queue(OpDbusOutpost1Manager *skeleton, GDBusMethodInvocation *invocation, guint offset,
		  guint limit, gpointer user_data)
{
	OpCall *call = call_new(NULL, NULL);

	call->offset = offset;
	call->limit = limit;
	return dispatch(user_data, invocation, OP_ACTION_READ, do_list_queue, call);
}

/* ---- Bus name ----------------------------------------------------------- */

static void
bus_acquired_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	OpDbusService *service = user_data;
	g_autoptr(GError) error = NULL;

	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(service->skeleton),
					      connection, OP_DBUS_PATH, &error))
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
	static const struct {
		const char *signal;
		GCallback handler;
	} handlers[] = {
	    {"handle-add-domain", G_CALLBACK(handle_add_domain)},
	    {"handle-remove-domain", G_CALLBACK(handle_remove_domain)},
	    {"handle-list-domains", G_CALLBACK(handle_list_domains)},
	    {"handle-get-dns-records", G_CALLBACK(handle_get_dns_records)},
	    {"handle-add-account", G_CALLBACK(handle_add_account)},
	    {"handle-remove-account", G_CALLBACK(handle_remove_account)},
	    {"handle-set-password", G_CALLBACK(handle_set_password)},
	    {"handle-list-accounts", G_CALLBACK(handle_list_accounts)},
	    {"handle-list-queue", G_CALLBACK(handle_list_queue)},
	};

	/* Registers the D-Bus names of OP_ERROR before the first reply. */
	(void)OP_ERROR;
	service->admin = admin;
	service->authority = op_authority_new(session_bus);
	service->session_bus = session_bus;
	service->ready_cb = ready_cb;
	service->lost_cb = lost_cb;
	service->user_data = user_data;
	service->skeleton = op_dbus_outpost1_manager_skeleton_new();
	op_dbus_outpost1_manager_set_version(service->skeleton, PACKAGE_VERSION);
	op_dbus_outpost1_manager_set_hostname(service->skeleton, admin->config->hostname);
	for (guint i = 0; i < G_N_ELEMENTS(handlers); i++)
		g_signal_connect(service->skeleton, handlers[i].signal, handlers[i].handler,
				 service);
	service->owner_id =
	    g_bus_own_name(session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, OP_DBUS_NAME,
			   G_BUS_NAME_OWNER_FLAGS_NONE, bus_acquired_cb, name_acquired_cb,
			   name_lost_cb, service, NULL);
	return service;
}

void
op_dbus_service_free(OpDbusService *service)
{
	if (service == NULL)
		return;
	g_bus_unown_name(service->owner_id);
	if (g_dbus_interface_skeleton_get_connection(G_DBUS_INTERFACE_SKELETON(service->skeleton)))
		g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(service->skeleton));
	g_object_unref(service->skeleton);
	op_authority_free(service->authority);
	g_free(service);
}
