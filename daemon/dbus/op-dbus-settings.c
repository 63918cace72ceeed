/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server-settings and delivery-log methods of the admin API, and the
 * EventAdded signal. A store hook receives each recorded event in the thread
 * that recorded it, and the main loop emits it on the bus.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "op-dbus-generated.h"
#include "op-error.h"
#include "tls/op-tls-cert.h"

/* Returns a D-Bus string for text from the store, which may hold bytes
 * that are not UTF-8, such as a remote server's reply. */
static GVariant *
new_text(const char *text)
{
	if (text == NULL)
		return g_variant_new_string("");
	if (!g_utf8_validate(text, -1, NULL))
		return g_variant_new_take_string(g_utf8_make_valid(text, -1));
	return g_variant_new_string(text);
}

static GVariant *
new_event_dict(const OpStoreEvent *event)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	op_dbus_add_entry(&builder, "id", g_variant_new_uint64((guint64)event->id));
	op_dbus_add_entry(&builder, "time", g_variant_new_int64(event->time));
	op_dbus_add_entry(&builder, "status",
			  g_variant_new_string(op_event_type_to_string(event->type)));
	op_dbus_add_entry(&builder, "queue-id", new_text(event->queue_id));
	op_dbus_add_entry(&builder, "sender", new_text(event->sender));
	op_dbus_add_entry(&builder, "recipient", new_text(event->recipient));
	op_dbus_add_entry(&builder, "mx", new_text(event->mx));
	op_dbus_add_entry(&builder, "reply", new_text(event->reply));
	return g_variant_builder_end(&builder);
}

/* ---- EventAdded ------------------------------------------------------------- */

/* The maximum number of subscribers. Each client connection has one bus name. */
#define OP_MAX_EVENT_SUBSCRIBERS 256

/* The recipients of EventAdded. Events name senders and recipients, which
 * only callers with the read action may read, so the signal goes to the
 * clients that passed that check with a SearchEvents call rather than to
 * every client on the bus. Apart from the reference count, the relay is
 * used on the main loop only. */
struct _OpEventRelay {
	gatomicrefcount ref_count;
	GDBusConnection *connection;
	GHashTable *subscribers; /* unique bus name to its watch id */
	gboolean stopped;
};

typedef struct _OpEventRelay OpEventRelay;

static OpEventRelay *
relay_ref(OpEventRelay *relay)
{
	g_atomic_ref_count_inc(&relay->ref_count);
	return relay;
}

static void
relay_unref(gpointer data)
{
	OpEventRelay *relay = data;

	if (!g_atomic_ref_count_dec(&relay->ref_count))
		return;
	g_object_unref(relay->connection);
	g_hash_table_unref(relay->subscribers);
	g_free(relay);
}

static void
subscriber_vanished_cb(GDBusConnection *connection, const char *name, gpointer user_data)
{
	OpEventRelay *relay = user_data;
	guint watch_id = GPOINTER_TO_UINT(g_hash_table_lookup(relay->subscribers, name));

	if (watch_id == 0)
		return;
	g_hash_table_remove(relay->subscribers, name);
	g_bus_unwatch_name(watch_id);
}

typedef struct {
	OpEventRelay *relay;
	char *name;
} OpSubscription;

static void
subscription_free(gpointer data)
{
	OpSubscription *subscription = data;

	relay_unref(subscription->relay);
	g_free(subscription->name);
	g_free(subscription);
}

static gboolean
subscribe_cb(gpointer user_data)
{
	OpSubscription *subscription = user_data;
	OpEventRelay *relay = subscription->relay;
	guint watch_id;

	if (relay->stopped || g_hash_table_contains(relay->subscribers, subscription->name))
		return G_SOURCE_REMOVE;
	if (g_hash_table_size(relay->subscribers) >= OP_MAX_EVENT_SUBSCRIBERS) {
		g_message("%s will not receive EventAdded: %d clients already do",
			  subscription->name, OP_MAX_EVENT_SUBSCRIBERS);
		return G_SOURCE_REMOVE;
	}
	/* The watch reports at once when the client has already left. */
	watch_id = g_bus_watch_name_on_connection(relay->connection, subscription->name,
						  G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
						  subscriber_vanished_cb, relay_ref(relay),
						  relay_unref);
	g_hash_table_insert(relay->subscribers, g_strdup(subscription->name),
			    GUINT_TO_POINTER(watch_id));
	return G_SOURCE_REMOVE;
}

/* Adds the caller of an authorized SearchEvents to the subscribers. */
static void
subscribe_caller(OpCall *call)
{
	const char *sender = g_dbus_method_invocation_get_sender(call->invocation);
	OpSubscription *subscription;

	if (sender == NULL || call->service->events == NULL)
		return;
	subscription = g_new0(OpSubscription, 1);
	subscription->relay = relay_ref(call->service->events);
	subscription->name = g_strdup(sender);
	g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, subscribe_cb, subscription,
				   subscription_free);
}

typedef struct {
	OpEventRelay *relay;
	GVariant *parameters;
} OpEmission;

static void
emission_free(gpointer data)
{
	OpEmission *emission = data;

	relay_unref(emission->relay);
	g_variant_unref(emission->parameters);
	g_free(emission);
}

static gboolean
emit_event_cb(gpointer user_data)
{
	OpEmission *emission = user_data;
	OpEventRelay *relay = emission->relay;
	GHashTableIter iter;
	gpointer name;

	if (relay->stopped)
		return G_SOURCE_REMOVE;
	g_hash_table_iter_init(&iter, relay->subscribers);
	while (g_hash_table_iter_next(&iter, &name, NULL)) {
		g_autoptr(GError) error = NULL;

		if (!g_dbus_connection_emit_signal(relay->connection, name, OP_DBUS_PATH,
						   op_dbus_outpost1_manager_interface_info()->name,
						   "EventAdded", emission->parameters, &error))
			g_warning("sending EventAdded to %s failed: %s", (const char *)name,
				  error->message);
	}
	return G_SOURCE_REMOVE;
}

/* Runs under the store's write lock in the thread that recorded the event,
 * so it only builds the signal and queues it for the main loop. */
static void
event_added_hook(const OpStoreEvent *event, gpointer user_data)
{
	OpEmission *emission = g_new0(OpEmission, 1);

	emission->relay = relay_ref(user_data);
	emission->parameters = g_variant_ref_sink(g_variant_new("(@a{sv})",
								 new_event_dict(event)));
	g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, emit_event_cb, emission,
				   emission_free);
}

/* ---- SearchEvents --------------------------------------------------------- */

static gboolean
check_type(const char *key, GVariant *value, const char *type, GError **error)
{
	g_autofree char *shown = NULL;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE(type)))
		return TRUE;
	shown = op_settings_dup_shown(g_variant_get_type_string(value), OP_SETTINGS_SHOWN_CHARS);
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "the filter key %s has the D-Bus type \"%s\", not \"%s\"", key, type, shown);
	return FALSE;
}

static gboolean
parse_status(GVariant *value, OpStoreEventFilter *filter, GError **error)
{
	const char *name = g_variant_get_string(value, NULL);
	OpEventType type;

	if (!op_event_type_from_string(name, &type)) {
		g_autofree char *shown = op_settings_dup_shown(name, OP_SETTINGS_SHOWN_CHARS);

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid status \"%s\": use accepted, delivered, deferred, bounced, "
			    "expired, delay-warned, rejected or deleted",
			    shown);
		return FALSE;
	}
	filter->type = (int)type;
	return TRUE;
}

/* The strings stay owned by the filter dictionary, which outlives the search. */
static gboolean
parse_filter_entry(const char *key, GVariant *value, OpStoreEventFilter *filter,
		   GError **error)
{
	gboolean is_time = g_strcmp0(key, "since") == 0 || g_strcmp0(key, "until") == 0;

	if (!check_type(key, value, is_time ? "x" : "s", error))
		return FALSE;
	if (g_strcmp0(key, "address") == 0)
		filter->address = g_variant_get_string(value, NULL);
	else if (g_strcmp0(key, "queue-id") == 0)
		filter->queue_id = g_variant_get_string(value, NULL);
	else if (g_strcmp0(key, "domain") == 0)
		filter->domain = g_variant_get_string(value, NULL);
	else if (g_strcmp0(key, "status") == 0)
		return parse_status(value, filter, error);
	else if (g_strcmp0(key, "since") == 0)
		filter->since = g_variant_get_int64(value);
	else
		filter->until = g_variant_get_int64(value);
	filter->has_since |= g_strcmp0(key, "since") == 0;
	filter->has_until |= g_strcmp0(key, "until") == 0;
	return TRUE;
}

static gboolean
parse_filter(GVariant *dict, OpStoreEventFilter *filter, GError **error)
{
	static const char *const keys[] = {"address", "queue-id", "domain",
					   "status",  "since",	  "until",  NULL};
	GVariantIter iter;
	const char *key;
	GVariant *value;

	filter->type = -1;
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;

		if (!g_strv_contains(keys, key)) {
			g_autofree char *shown = op_settings_dup_shown(key, OP_SETTINGS_SHOWN_CHARS);

			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "unknown filter key \"%s\": use address, queue-id, domain, "
				    "status, since or until",
				    shown);
			return FALSE;
		}
		if (!parse_filter_entry(key, value, filter, error))
			return FALSE;
	}
	return TRUE;
}

static GVariant *
do_search_events(OpCall *call, GError **error)
{
	g_autoptr(GVariant) dict = NULL;
	OpStoreEventFilter filter = {0};
	guint offset = 0;
	guint limit = 0;
	g_autoptr(GPtrArray) events = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(@a{sv}uu)", &dict, &offset, &limit);
	if (!op_dbus_check_page(limit, error) || !parse_filter(dict, &filter, error))
		return NULL;
	events = op_admin_search_events(call->service->admin, &filter, offset, limit, error);
	if (events == NULL)
		return NULL;
	subscribe_caller(call);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < events->len; i++)
		g_variant_builder_add_value(&builder, new_event_dict(g_ptr_array_index(events, i)));
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

/* ---- Settings --------------------------------------------------------------- */

static const char *const op_no_names[] = {NULL};

/* Adds what the admin app shows about the certificate. A certificate that
 * cannot be read shows as empty rather than failing the whole call. */
static void
add_certificate_info(GVariantBuilder *builder, const char *cert_path)
{
	g_auto(OpTlsCertInfo) info = {0};
	g_autoptr(GError) error = NULL;

	if (cert_path == NULL || !op_tls_cert_read_info(cert_path, &info, &error)) {
		g_message("GetSettings: reading the certificate failed: %s",
			  error ? error->message : "no certificate is set");
		op_tls_cert_info_clear(&info);
	}
	op_dbus_add_entry(builder, "tls-subject", new_text(info.subject));
	op_dbus_add_entry(builder, "tls-names",
			  g_variant_new_strv(info.dns_names ? (const char *const *)info.dns_names
							    : op_no_names,
					     -1));
	op_dbus_add_entry(builder, "tls-not-after", g_variant_new_int64(info.not_after));
}

static GVariant *
new_list(char **list)
{
	return g_variant_new_strv(list ? (const char *const *)list : op_no_names, -1);
}

static GVariant *
do_get_settings(OpCall *call, GError **error)
{
	g_autoptr(OpSettings) settings = op_admin_dup_settings(call->service->admin, error);
	GVariantBuilder builder;

	if (settings == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(a{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE_VARDICT);
	op_dbus_add_entry(&builder, "hostname", new_text(settings->hostname));
	op_dbus_add_entry(&builder, "submission-listen", new_list(settings->submission_listen));
	op_dbus_add_entry(&builder, "submissions-listen", new_list(settings->submissions_listen));
	op_dbus_add_entry(&builder, "tls-cert", new_text(settings->tls_cert));
	op_dbus_add_entry(&builder, "tls-key", new_text(settings->tls_key));
	add_certificate_info(&builder, settings->tls_cert);
	op_dbus_add_entry(&builder, "max-message-size",
			  g_variant_new_uint64(settings->max_message_size));
	op_dbus_add_entry(&builder, "message-lifetime",
			  g_variant_new_uint64(settings->message_lifetime));
	op_dbus_add_entry(&builder, "smarthost", new_text(settings->smarthost));
	op_dbus_add_entry(&builder, "smarthost-user", new_text(settings->smarthost_user));
	/* The password is write-only: callers learn only whether one is set. */
	op_dbus_add_entry(&builder, "smarthost-password-set",
			  g_variant_new_boolean(settings->smarthost_password != NULL &&
						*settings->smarthost_password != '\0'));
	op_dbus_add_entry(&builder, "smarthost-ca-file", new_text(settings->smarthost_ca_file));
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_set_settings(OpCall *call, GError **error)
{
	g_autoptr(GVariant) dict = NULL;
	g_autoptr(GHashTable) changes = NULL;

	g_variant_get(call->parameters, "(@a{sv})", &dict);
	changes = op_settings_parse_variant(dict, error);
	if (changes == NULL || !op_admin_set_settings(call->service->admin, changes, error))
		return NULL;
	return g_variant_new("()");
}

static GVariant *
do_reload(OpCall *call, GError **error)
{
	if (!op_admin_reload(call->service->admin, error))
		return NULL;
	return g_variant_new("()");
}

const OpDbusMethod op_dbus_settings_methods[] = {
	{"SearchEvents", OP_ACTION_READ, do_search_events},
	{"GetSettings", OP_ACTION_READ, do_get_settings},
	{"SetSettings", OP_ACTION_MANAGE, do_set_settings},
	{"Reload", OP_ACTION_MANAGE, do_reload},
	{NULL, NULL, NULL},
};

/* ---- Starting and stopping EventAdded ---------------------------------------- */

void
op_dbus_events_start(OpDbusService *service)
{
	OpEventRelay *relay = g_new0(OpEventRelay, 1);

	g_atomic_ref_count_init(&relay->ref_count);
	relay->connection = g_object_ref(service->connection);
	relay->subscribers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	service->events = relay;
	op_store_set_event_hook(service->admin->store, event_added_hook, relay_ref(relay),
				relay_unref);
}

void
op_dbus_events_stop(OpDbusService *service)
{
	OpEventRelay *relay = g_steal_pointer(&service->events);
	GHashTableIter iter;
	gpointer watch_id;

	if (relay == NULL)
		return;
	op_store_set_event_hook(service->admin->store, NULL, NULL, NULL);
	relay->stopped = TRUE;
	g_hash_table_iter_init(&iter, relay->subscribers);
	while (g_hash_table_iter_next(&iter, NULL, &watch_id))
		g_bus_unwatch_name(GPOINTER_TO_UINT(watch_id));
	g_hash_table_remove_all(relay->subscribers);
	relay_unref(relay);
}
