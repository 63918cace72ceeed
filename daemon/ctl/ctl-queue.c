/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl commands for the queue and the delivery statistics: listing,
 * showing, retrying, holding, releasing, deleting and bouncing messages.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <string.h>

/* Hours that `stats` reports when none are given. */
#define OP_DEFAULT_STATS_HOURS 24

/* Returns @text with control characters replaced by '?', so that a header
 * or a remote reply cannot send escape sequences to the terminal. Tabs and
 * line feeds stay when @keep_lines is TRUE. */
static char *
dup_printable(const char *text, gboolean keep_lines)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (keep_lines && (c == '\t' || c == '\n'))
			g_string_append_c(out, (char)c);
		else if (keep_lines && c == '\r')
			continue; /* the CR of a CRLF line end */
		else if (g_unichar_iscntrl(c))
			g_string_append_c(out, '?');
		else
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* Formats Unix time as local "YYYY-MM-DD HH:MM", or "-" for 0. */
static char *
dup_time(gint64 unix_time)
{
	g_autoptr(GDateTime) time = NULL;

	if (unix_time <= 0)
		return g_strdup("-");
	time = g_date_time_new_from_unix_local(unix_time);
	return time ? g_date_time_format(time, "%Y-%m-%d %H:%M") : g_strdup("-");
}

static char *
dup_lookup_printable(GVariant *dict, const char *key)
{
	return dup_printable(op_ctl_lookup_string(dict, key), FALSE);
}

static char *
dup_sender(GVariant *dict)
{
	const char *sender = op_ctl_lookup_string(dict, "sender");

	return *sender == '\0' ? g_strdup("<>") : dup_printable(sender, FALSE);
}

static GVariant *
new_filter(OpCtl *ctl)
{
	GVariantBuilder builder;

	g_variant_builder_init(&builder, G_VARIANT_TYPE("a{sv}"));
	if (ctl->sender != NULL)
		g_variant_builder_add(&builder, "{sv}", "sender", g_variant_new_string(ctl->sender));
	if (ctl->recipient != NULL)
		g_variant_builder_add(&builder, "{sv}", "recipient",
				      g_variant_new_string(ctl->recipient));
	if (ctl->domain != NULL)
		g_variant_builder_add(&builder, "{sv}", "domain", g_variant_new_string(ctl->domain));
	if (ctl->state != NULL)
		g_variant_builder_add(&builder, "{sv}", "state", g_variant_new_string(ctl->state));
	return g_variant_builder_end(&builder);
}

/* Reads every matching message, a page at a time, into one array. */
static GVariant *
list_all(OpCtl *ctl, GError **error)
{
	g_autoptr(GVariant) filter = g_variant_ref_sink(new_filter(ctl));
	GVariantBuilder all;

	g_variant_builder_init(&all, G_VARIANT_TYPE("aa{sv}"));
	for (guint offset = 0;; offset += OP_PAGE) {
		g_autoptr(GVariant) page = NULL;
		GVariantIter iter;
		GVariant *dict;

		if (!op_dbus_outpost1_manager_call_list_queue_sync(
			    ctl->proxy, filter, ctl->sort ? ctl->sort : "", ctl->descending, offset,
			    OP_PAGE, &page, NULL, error)) {
			g_variant_builder_clear(&all);
			return NULL;
		}
		g_variant_iter_init(&iter, page);
		while ((dict = g_variant_iter_next_value(&iter)) != NULL)
			g_variant_builder_add_value(&all, dict);
		if (g_variant_n_children(page) < OP_PAGE)
			break;
	}
	return g_variant_ref_sink(g_variant_builder_end(&all));
}

static void
print_message_row(GVariant *dict)
{
	g_autofree const char **recipients = NULL;
	g_autofree char *joined = NULL;
	g_autofree char *printable_recipients = NULL;
	g_autofree char *sender = dup_sender(dict);
	g_autofree char *id = dup_lookup_printable(dict, "id");
	g_autofree char *reply = dup_lookup_printable(dict, "last-reply");
	g_autofree char *arrived = NULL;
	guint64 size = 0;
	gint64 created = 0;
	guint attempts = 0;

	g_variant_lookup(dict, "recipients", "^a&s", &recipients);
	g_variant_lookup(dict, "size", "t", &size);
	g_variant_lookup(dict, "created", "x", &created);
	g_variant_lookup(dict, "attempts", "u", &attempts);
	joined = recipients ? g_strjoinv(", ", (char **)recipients) : g_strdup("");
	printable_recipients = dup_printable(joined, FALSE);
	arrived = dup_time(created);
	g_print("%-14s %-8s %5u %10" G_GUINT64_FORMAT " %-16s %-30s %s\n", id,
		op_ctl_lookup_string(dict, "state"), attempts, size, arrived, sender,
		printable_recipients);
	if (*reply != '\0')
		g_print("%-14s (%s)\n", "", reply);
}

static gboolean
queue_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) messages = NULL;
	GVariantIter iter;
	GVariant *dict;
	gsize count;

	if (!op_ctl_expect_args(args, 0,
				"queue list [--sender TEXT] [--recipient TEXT] [--domain DOMAIN] "
				"[--state STATE] [--sort KEY] [--descending] [--json]",
				error))
		return FALSE;
	messages = list_all(ctl, error);
	if (messages == NULL)
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(messages);
		return TRUE;
	}
	count = g_variant_n_children(messages);
	if (count == 0) {
		g_print("No message in the queue matches.\n");
		return TRUE;
	}
	g_print("%-14s %-8s %5s %10s %-16s %-30s %s\n", "ID", "STATE", "TRIES", "SIZE", "ARRIVED",
		"SENDER", "RECIPIENTS");
	g_variant_iter_init(&iter, messages);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		print_message_row(dict);
		g_variant_unref(dict);
	}
	g_print("%" G_GSIZE_FORMAT " message%s\n", count, count == 1 ? "" : "s");
	return TRUE;
}

static void
print_recipient_states(GVariant *message)
{
	g_autoptr(GVariant) states = g_variant_lookup_value(message, "recipient-states",
							    G_VARIANT_TYPE("aa{sv}"));
	GVariantIter iter;
	GVariant *dict;

	if (states == NULL)
		return;
	g_print("\n%-40s %-8s %5s %-16s %s\n", "RECIPIENT", "STATE", "TRIES", "NEXT ATTEMPT",
		"LAST REPLY");
	g_variant_iter_init(&iter, states);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		g_autofree char *address = dup_lookup_printable(dict, "address");
		g_autofree char *reply = dup_lookup_printable(dict, "last-reply");
		g_autofree char *next = NULL;
		gint64 next_attempt = 0;
		guint attempts = 0;

		g_variant_lookup(dict, "attempts", "u", &attempts);
		g_variant_lookup(dict, "next-attempt", "x", &next_attempt);
		next = dup_time(next_attempt);
		g_print("%-40s %-8s %5u %-16s %s\n", address, op_ctl_lookup_string(dict, "state"),
			attempts, next, reply);
		g_variant_unref(dict);
	}
}

static void
print_message(GVariant *message)
{
	g_autofree char *id = dup_lookup_printable(message, "id");
	g_autofree char *sender = dup_sender(message);
	g_autofree char *account = dup_lookup_printable(message, "account");
	g_autofree char *headers = dup_printable(op_ctl_lookup_string(message, "headers"), TRUE);
	g_autofree char *arrived = NULL;
	g_autofree char *next = NULL;
	guint64 size = 0;
	gint64 created = 0;
	gint64 next_attempt = 0;
	guint attempts = 0;

	g_variant_lookup(message, "size", "t", &size);
	g_variant_lookup(message, "created", "x", &created);
	g_variant_lookup(message, "next-attempt", "x", &next_attempt);
	g_variant_lookup(message, "attempts", "u", &attempts);
	arrived = dup_time(created);
	next = dup_time(next_attempt);
	g_print("Queue id:     %s\n", id);
	g_print("State:        %s\n", op_ctl_lookup_string(message, "state"));
	g_print("Sender:       %s\n", sender);
	g_print("Account:      %s\n", *account != '\0' ? account : "-");
	g_print("Size:         %" G_GUINT64_FORMAT " octets\n", size);
	g_print("Arrived:      %s\n", arrived);
	g_print("Attempts:     %u\n", attempts);
	g_print("Next attempt: %s\n", next);
	print_recipient_states(message);
	g_print("\nHeaders:\n%s", headers);
}

static gboolean
queue_show(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) message = NULL;

	if (!op_ctl_expect_args(args, 1, "queue show ID [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_message_sync(ctl->proxy, args[0], &message, NULL,
							     error))
		return FALSE;
	if (ctl->json)
		op_ctl_print_json(message);
	else
		print_message(message);
	return TRUE;
}

typedef gboolean (*OpCtlChangeCall)(OpDbusOutpost1Manager *proxy, const char *const *ids,
				    guint *count, GCancellable *cancellable, GError **error);

/* One command that changes messages by id: its name in the usage line, the
 * D-Bus call and the past tense for the summary. */
typedef struct {
	const char *verb;
	OpCtlChangeCall call;
	const char *done;
} OpCtlChange;

/* Sends the ids in calls of at most OP_PAGE ids, each once, and prints how
 * many messages changed. Fails when none of them is in the queue. */
static gboolean
change_messages(OpCtl *ctl, char **args, const OpCtlChange *change, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	guint changed = 0;

	for (guint i = 0; args[i] != NULL; i++) {
		char *upper = g_ascii_strup(args[i], -1);

		if (g_hash_table_add(seen, upper))
			g_ptr_array_add(ids, upper);
	}
	if (ids->len == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "usage: outpostctl queue %s ID...", change->verb);
		return FALSE;
	}
	for (guint start = 0; start < ids->len; start += OP_PAGE) {
		g_autoptr(GPtrArray) chunk = g_ptr_array_new();
		guint count = 0;

		for (guint i = start; i < ids->len && i < start + OP_PAGE; i++)
			g_ptr_array_add(chunk, g_ptr_array_index(ids, i));
		g_ptr_array_add(chunk, NULL);
		if (!change->call(ctl->proxy, (const char *const *)chunk->pdata, &count, NULL,
				  error))
			return FALSE;
		changed += count;
	}
	if (changed == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "none of the given messages is in the queue: they were delivered, "
			    "bounced or removed, or the ids are mistyped");
		return FALSE;
	}
	g_print("%s %u of %u message%s.\n", change->done, changed, ids->len,
		ids->len == 1 ? "" : "s");
	if (changed < ids->len)
		g_print("The other %u %s not in the queue.\n", ids->len - changed,
			ids->len - changed == 1 ? "was" : "were");
	return TRUE;
}

static const OpCtlChange op_ctl_retry = {
	"retry", op_dbus_outpost1_manager_call_retry_messages_sync, "Retried"};
static const OpCtlChange op_ctl_hold = {
	"hold", op_dbus_outpost1_manager_call_hold_messages_sync, "Held"};
static const OpCtlChange op_ctl_release = {
	"release", op_dbus_outpost1_manager_call_release_messages_sync, "Released"};
static const OpCtlChange op_ctl_delete = {
	"delete", op_dbus_outpost1_manager_call_delete_messages_sync, "Deleted"};
static const OpCtlChange op_ctl_bounce = {
	"bounce", op_dbus_outpost1_manager_call_bounce_messages_sync, "Bounced"};

static gboolean
queue_retry(OpCtl *ctl, char **args, GError **error)
{
	return change_messages(ctl, args, &op_ctl_retry, error);
}

static gboolean
queue_hold(OpCtl *ctl, char **args, GError **error)
{
	return change_messages(ctl, args, &op_ctl_hold, error);
}

static gboolean
queue_release(OpCtl *ctl, char **args, GError **error)
{
	return change_messages(ctl, args, &op_ctl_release, error);
}

static gboolean
queue_delete(OpCtl *ctl, char **args, GError **error)
{
	return change_messages(ctl, args, &op_ctl_delete, error);
}

static gboolean
queue_bounce(OpCtl *ctl, char **args, GError **error)
{
	return change_messages(ctl, args, &op_ctl_bounce, error);
}

static gboolean
queue_totals(OpCtl *ctl, char **args, GError **error)
{
	static const char *const states[] = {"queued", "deferred", "held", "total"};
	g_autoptr(GVariant) totals = NULL;

	if (!op_ctl_expect_args(args, 0, "queue totals [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_queue_totals_sync(ctl->proxy, &totals, NULL,
								  error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(totals);
		return TRUE;
	}
	for (guint i = 0; i < G_N_ELEMENTS(states); i++) {
		guint count = 0;

		g_variant_lookup(totals, states[i], "u", &count);
		g_print("%-9s %u\n", states[i], count);
	}
	return TRUE;
}

static gboolean
parse_hours(char **args, guint *hours, GError **error)
{
	guint64 value = 0;

	*hours = OP_DEFAULT_STATS_HOURS;
	if (g_strv_length(args) > 1) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "usage: outpostctl stats [HOURS] [--json]");
		return FALSE;
	}
	if (args[0] == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(args[0], 10, 1, G_MAXUINT, &value, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid number of hours: give a whole number from 1 to 720");
		return FALSE;
	}
	*hours = (guint)value;
	return TRUE;
}

static void
print_statistics(GVariant *rows)
{
	guint totals[4] = {0};
	static const char *const keys[] = {"sent", "deferred", "bounced", "rejected"};
	GVariantIter iter;
	GVariant *dict;

	g_print("%-16s %8s %8s %8s %8s\n", "HOUR", "SENT", "DEFERRED", "BOUNCED", "REJECTED");
	g_variant_iter_init(&iter, rows);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		guint counts[4] = {0};
		gint64 hour = 0;
		g_autofree char *start = NULL;

		g_variant_lookup(dict, "hour", "x", &hour);
		for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
			g_variant_lookup(dict, keys[i], "u", &counts[i]);
			totals[i] += counts[i];
		}
		start = dup_time(hour);
		g_print("%-16s %8u %8u %8u %8u\n", start, counts[0], counts[1], counts[2],
			counts[3]);
		g_variant_unref(dict);
	}
	g_print("%-16s %8u %8u %8u %8u\n", "TOTAL", totals[0], totals[1], totals[2], totals[3]);
}

static gboolean
stats_show(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) rows = NULL;
	guint hours = 0;

	if (!parse_hours(args, &hours, error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_statistics_sync(ctl->proxy, hours, &rows, NULL,
								error))
		return FALSE;
	if (ctl->json)
		op_ctl_print_json(rows);
	else
		print_statistics(rows);
	return TRUE;
}

/* "stats" has no verb: its empty verb makes every later word an argument. */
const OpCtlCommand op_ctl_queue_commands[] = {
	{"queue", "list", queue_list,
	 "[--sender TEXT] [--recipient TEXT] [--domain DOMAIN] [--state STATE] [--sort KEY] "
	 "[--descending]: list the queued messages"},
	{"queue", "show", queue_show, "ID: show a message's envelope, recipients and headers"},
	{"queue", "retry", queue_retry, "ID...: try the messages now, releasing held ones"},
	{"queue", "hold", queue_hold, "ID...: keep the messages queued without trying them"},
	{"queue", "release", queue_release, "ID...: let held messages be tried again"},
	{"queue", "delete", queue_delete, "ID...: remove the messages without telling the sender"},
	{"queue", "bounce", queue_bounce,
	 "ID...: remove the messages and return each to its sender with a failure notice"},
	{"queue", "totals", queue_totals, ": count the queued messages per state"},
	{"stats", "", stats_show,
	 "[HOURS]: count sent, deferred, bounced and rejected mail per hour (default 24)"},
	{NULL, NULL, NULL, NULL},
};
