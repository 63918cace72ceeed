/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The queue and statistics methods of the admin API: they check the types
 * of the arguments, call the engine (op-admin-queue.c) and turn its results
 * into the dictionaries that data/io.github.outpostmail.Outpost1.xml
 * describes.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "op-error.h"

/* Returns a string variant of @text, which may come from a remote server or
 * a client and so need not be UTF-8: D-Bus strings must be valid UTF-8
 * without NUL, so each invalid octet becomes U+FFFD. */
static GVariant *
new_text(const char *text, gssize len)
{
	if (text == NULL)
		return g_variant_new_string("");
	if (len < 0)
		len = (gssize)strlen(text);
	if (g_utf8_validate_len(text, (gsize)len, NULL))
		return g_variant_new_take_string(g_strndup(text, (gsize)len));
	return g_variant_new_take_string(g_utf8_make_valid(text, len));
}

static GVariant *
new_text_array(GPtrArray *texts)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("as"));
	for (guint i = 0; i < texts->len; i++)
		g_variant_builder_add_value(&builder, new_text(g_ptr_array_index(texts, i), -1));
	return g_variant_builder_end(&builder);
}

/* Adds the keys that ListQueue and GetMessage share. */
static void
add_entry_keys(GVariantBuilder *builder, const OpStoreQueueEntry *entry)
{
	op_dbus_add_entry(builder, "id", new_text(entry->id, -1));
	op_dbus_add_entry(builder, "sender", new_text(entry->sender, -1));
	op_dbus_add_entry(builder, "recipients", new_text_array(entry->recipients));
	op_dbus_add_entry(builder, "size", g_variant_new_uint64(entry->size));
	op_dbus_add_entry(builder, "created", g_variant_new_int64(entry->created));
	op_dbus_add_entry(builder, "state", g_variant_new_string(entry->state));
	op_dbus_add_entry(builder, "attempts", g_variant_new_uint32(entry->attempts));
	op_dbus_add_entry(builder, "next-attempt", g_variant_new_int64(entry->next_attempt));
	op_dbus_add_entry(builder, "last-reply", new_text(entry->last_reply, -1));
}

/* One ListQueue filter key and the GVariant type its value must have. */
typedef struct {
	const char *key;
	const char *type;
} OpFilterKey;

static const OpFilterKey op_queue_filter_keys[] = {
	{"sender", "s"}, {"recipient", "s"}, {"domain", "s"},
	{"state", "s"},	 {"min-age", "x"},   {"max-age", "x"},
};

/* Returns whether @text is short and printable enough to repeat in an error. */
static gboolean
is_quotable(const char *text)
{
	gsize len = strlen(text);

	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isgraph(text[i]))
			return FALSE;
	}
	return len > 0 && len <= 40;
}

static gboolean
check_filter_key(const char *key, GVariant *value, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_queue_filter_keys); i++) {
		const OpFilterKey *known = &op_queue_filter_keys[i];

		if (strcmp(key, known->key) != 0)
			continue;
		if (g_variant_is_of_type(value, G_VARIANT_TYPE(known->type)))
			return TRUE;
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the filter value of %s has the type %s: expected %s (%s)", key,
			    g_variant_get_type_string(value), known->type,
			    strcmp(known->type, "s") == 0 ? "a string" : "seconds as int64");
		return FALSE;
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown queue filter key%s%s: use sender, recipient, domain, state, min-age "
		    "or max-age",
		    is_quotable(key) ? " " : "", is_quotable(key) ? key : "");
	return FALSE;
}

/* Reads the filter dictionary, whose strings stay owned by @dict. */
static gboolean
parse_queue_filter(GVariant *dict, OpAdminQueueFilter *filter, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;

		if (!check_filter_key(key, value, error))
			return FALSE;
	}
	g_variant_lookup(dict, "sender", "&s", &filter->sender);
	g_variant_lookup(dict, "recipient", "&s", &filter->recipient);
	g_variant_lookup(dict, "domain", "&s", &filter->domain);
	g_variant_lookup(dict, "state", "&s", &filter->state);
	filter->has_min_age = g_variant_lookup(dict, "min-age", "x", &filter->min_age);
	filter->has_max_age = g_variant_lookup(dict, "max-age", "x", &filter->max_age);
	return TRUE;
}

static GVariant *
do_list_queue(OpCall *call, GError **error)
{
	g_autoptr(GVariant) dict = NULL;
	OpAdminQueueFilter filter = {0};
	const char *sort = NULL;
	gboolean descending = FALSE;
	guint offset = 0;
	guint limit = 0;
	g_autoptr(GPtrArray) entries = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(@a{sv}&sbuu)", &dict, &sort, &descending, &offset,
		      &limit);
	if (!op_dbus_check_page(limit, error) || !parse_queue_filter(dict, &filter, error))
		return NULL;
	entries = op_admin_list_queue(call->service->admin, &filter, sort, descending, offset,
				      limit, error);
	if (entries == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < entries->len; i++) {
		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		add_entry_keys(&builder, g_ptr_array_index(entries, i));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
new_recipient_states(GPtrArray *states)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < states->len; i++) {
		OpStoreRecipientState *state = g_ptr_array_index(states, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "address", new_text(state->address, -1));
		op_dbus_add_entry(&builder, "state",
				  g_variant_new_string(op_queue_state_to_string(state->state)));
		op_dbus_add_entry(&builder, "attempts", g_variant_new_uint32(state->attempts));
		op_dbus_add_entry(&builder, "next-attempt",
				  g_variant_new_int64(state->next_attempt));
		op_dbus_add_entry(&builder, "last-reply", new_text(state->last_reply, -1));
		g_variant_builder_close(&builder);
	}
	return g_variant_builder_end(&builder);
}

static GVariant *
do_get_message(OpCall *call, GError **error)
{
	const char *id = NULL;
	g_autoptr(OpStoreQueueEntry) entry = NULL;
	g_autoptr(GBytes) headers = NULL;
	GVariantBuilder builder;
	gsize headers_len = 0;
	const char *headers_data;

	g_variant_get(call->parameters, "(&s)", &id);
	entry = op_admin_get_message(call->service->admin, id, &headers, error);
	if (entry == NULL)
		return NULL;
	headers_data = g_bytes_get_data(headers, &headers_len);
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(a{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
	add_entry_keys(&builder, entry);
	op_dbus_add_entry(&builder, "account", new_text(entry->account, -1));
	op_dbus_add_entry(&builder, "headers",
			  new_text(headers_data ? headers_data : "", (gssize)headers_len));
	op_dbus_add_entry(&builder, "recipient-states",
			  new_recipient_states(entry->recipient_states));
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

typedef gboolean (*OpChangeFunc)(OpAdmin *admin, const char *const *ids, guint *count,
				 GError **error);

/* Runs one of the methods that take queue ids and return a count. */
static GVariant *
change_messages(OpCall *call, OpChangeFunc change, GError **error)
{
	g_autofree const char **ids = NULL;
	guint count = 0;

	g_variant_get(call->parameters, "(^a&s)", &ids);
	if (!change(call->service->admin, ids, &count, error))
		return NULL;
	return g_variant_new("(u)", count);
}

static GVariant *
do_retry_messages(OpCall *call, GError **error)
{
	return change_messages(call, op_admin_retry_messages, error);
}

static GVariant *
do_hold_messages(OpCall *call, GError **error)
{
	return change_messages(call, op_admin_hold_messages, error);
}

static GVariant *
do_release_messages(OpCall *call, GError **error)
{
	return change_messages(call, op_admin_release_messages, error);
}

static GVariant *
do_delete_messages(OpCall *call, GError **error)
{
	return change_messages(call, op_admin_delete_messages, error);
}

static GVariant *
do_bounce_messages(OpCall *call, GError **error)
{
	return change_messages(call, op_admin_bounce_messages, error);
}

static GVariant *
do_get_queue_totals(OpCall *call, GError **error)
{
	OpStoreQueueTotals totals = {0};
	GVariantBuilder builder;

	if (!op_admin_get_queue_totals(call->service->admin, &totals, error))
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(a{su})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("a{su}"));
	g_variant_builder_add(&builder, "{su}", "queued", totals.queued);
	g_variant_builder_add(&builder, "{su}", "deferred", totals.deferred);
	g_variant_builder_add(&builder, "{su}", "held", totals.held);
	g_variant_builder_add(&builder, "{su}", "total", totals.total);
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

static GVariant *
do_get_statistics(OpCall *call, GError **error)
{
	guint hours = 0;
	g_autoptr(GArray) rows = NULL;
	GVariantBuilder builder;

	g_variant_get(call->parameters, "(u)", &hours);
	rows = op_admin_get_statistics(call->service->admin, hours, error);
	if (rows == NULL)
		return NULL;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("(aa{sv})"));
	g_variant_builder_open(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rows->len; i++) {
		const OpStoreHourCounts *row = &g_array_index(rows, OpStoreHourCounts, i);

		g_variant_builder_open(&builder, G_VARIANT_TYPE("a{sv}"));
		op_dbus_add_entry(&builder, "hour", g_variant_new_int64(row->hour));
		op_dbus_add_entry(&builder, "sent", g_variant_new_uint32(row->sent));
		op_dbus_add_entry(&builder, "deferred", g_variant_new_uint32(row->deferred));
		op_dbus_add_entry(&builder, "bounced", g_variant_new_uint32(row->bounced));
		op_dbus_add_entry(&builder, "rejected", g_variant_new_uint32(row->rejected));
		g_variant_builder_close(&builder);
	}
	g_variant_builder_close(&builder);
	return g_variant_builder_end(&builder);
}

const OpDbusMethod op_dbus_queue_methods[] = {
	{"ListQueue", OP_ACTION_READ, do_list_queue},
	{"GetMessage", OP_ACTION_READ, do_get_message},
	{"RetryMessages", OP_ACTION_MANAGE, do_retry_messages},
	{"HoldMessages", OP_ACTION_MANAGE, do_hold_messages},
	{"ReleaseMessages", OP_ACTION_MANAGE, do_release_messages},
	{"DeleteMessages", OP_ACTION_MANAGE, do_delete_messages},
	{"BounceMessages", OP_ACTION_MANAGE, do_bounce_messages},
	{"GetQueueTotals", OP_ACTION_READ, do_get_queue_totals},
	{"GetStatistics", OP_ACTION_READ, do_get_statistics},
	{NULL, NULL, NULL},
};
