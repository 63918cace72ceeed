/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl commands for the delivery log (search and follow), the server
 * settings and reloading them.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- Times ------------------------------------------------------------------ */

/* Reads Unix time, or YYYY-MM-DD or YYYY-MM-DDTHH:MM in local time. */
static gboolean
parse_time(const char *option, const char *text, gint64 *time, GError **error)
{
	g_autoptr(GDateTime) local = NULL;
	int year = 0, month = 0, day = 0, hour = 0, minute = 0;
	int end = 0;

	if (g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, time, NULL))
		return TRUE;
	if (sscanf(text, "%4d-%2d-%2d%n", &year, &month, &day, &end) == 3 && text[end] == '\0')
		local = g_date_time_new_local(year, month, day, 0, 0, 0);
	else if (sscanf(text, "%4d-%2d-%2dT%2d:%2d%n", &year, &month, &day, &hour, &minute,
			&end) == 5 &&
		 text[end] == '\0')
		local = g_date_time_new_local(year, month, day, hour, minute, 0);
	if (local == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid --%s \"%s\": give Unix time, YYYY-MM-DD or YYYY-MM-DDTHH:MM "
			    "in local time",
			    option, text);
		return FALSE;
	}
	*time = g_date_time_to_unix(local);
	return TRUE;
}

static char *
dup_local_time(gint64 time)
{
	g_autoptr(GDateTime) local = g_date_time_new_from_unix_local(time);

	return local ? g_date_time_format(local, "%Y-%m-%d %H:%M:%S") : g_strdup("-");
}

/* ---- log search ------------------------------------------------------------- */

static gboolean
add_time_filter(GVariantBuilder *filter, const char *key, const char *text, GError **error)
{
	gint64 time = 0;

	if (text == NULL)
		return TRUE;
	if (!parse_time(key, text, &time, error))
		return FALSE;
	g_variant_builder_add(filter, "{sv}", key, g_variant_new_int64(time));
	return TRUE;
}

static const char *
pick_queue_id(OpCtl *ctl, char **args, GError **error)
{
	const char *positional = args[0];

	if (g_strv_length(args) > 1) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "usage: outpostctl log search [QUEUE-ID] [--recipient TEXT] "
			    "[--domain DOMAIN] [--state STATUS] [--since TIME] [--until TIME] "
			    "[--json]");
		return NULL;
	}
	if (positional != NULL && ctl->id != NULL && strcmp(positional, ctl->id) != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "two different queue ids, %s and --id %s: give one", positional,
			    ctl->id);
		return NULL;
	}
	if (positional != NULL)
		return positional;
	return ctl->id != NULL ? ctl->id : "";
}

/* Builds the SearchEvents filter from the options. Both --sender and
 * --recipient set the address, which matches either. */
static GVariant *
new_event_filter(OpCtl *ctl, char **args, GError **error)
{
	g_auto(GVariantBuilder) filter = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	const char *queue_id = pick_queue_id(ctl, args, error);
	const char *address = ctl->recipient ? ctl->recipient : ctl->sender;

	if (queue_id == NULL)
		return NULL;
	if (ctl->recipient != NULL && ctl->sender != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "give --recipient or --sender, not both: either matches the sender "
			    "and the recipient of each event");
		return NULL;
	}
	if (*queue_id != '\0')
		g_variant_builder_add(&filter, "{sv}", "queue-id", g_variant_new_string(queue_id));
	if (address != NULL)
		g_variant_builder_add(&filter, "{sv}", "address", g_variant_new_string(address));
	if (ctl->domain != NULL)
		g_variant_builder_add(&filter, "{sv}", "domain", g_variant_new_string(ctl->domain));
	if (ctl->state != NULL)
		g_variant_builder_add(&filter, "{sv}", "status", g_variant_new_string(ctl->state));
	if (!add_time_filter(&filter, "since", ctl->since, error) ||
	    !add_time_filter(&filter, "until", ctl->until, error))
		return NULL;
	return g_variant_builder_end(&filter);
}

static void
print_event_header(void)
{
	g_print("%-19s  %-12s  %-14s  %-28s  %-28s  %s\n", "TIME", "STATUS", "QUEUE ID", "SENDER",
		"RECIPIENT", "MX / REPLY");
}

static void
print_event(GVariant *event)
{
	gint64 time = 0;
	g_autofree char *when = NULL;
	const char *mx = op_ctl_lookup_string(event, "mx");
	const char *sender = op_ctl_lookup_string(event, "sender");

	g_variant_lookup(event, "time", "x", &time);
	when = dup_local_time(time);
	g_print("%-19s  %-12s  %-14s  %-28s  %-28s  %s%s%s\n", when,
		op_ctl_lookup_string(event, "status"), op_ctl_lookup_string(event, "queue-id"),
		*sender ? sender : "<>", op_ctl_lookup_string(event, "recipient"), mx,
		*mx ? ": " : "", op_ctl_lookup_string(event, "reply"));
}

static gboolean
log_search(OpCtl *ctl, char **args, GError **error)
{
	GVariant *filter = new_event_filter(ctl, args, error);
	g_autoptr(GVariant) events = NULL;
	GVariantIter iter;
	GVariant *event;

	if (filter == NULL)
		return FALSE;
	if (!op_dbus_outpost1_manager_call_search_events_sync(ctl->proxy, filter, 0, OP_PAGE,
							       &events, NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(events);
		return TRUE;
	}
	print_event_header();
	g_variant_iter_init(&iter, events);
	while ((event = g_variant_iter_next_value(&iter)) != NULL) {
		print_event(event);
		g_variant_unref(event);
	}
	if (g_variant_n_children(events) == OP_PAGE)
		g_printerr("Only the newest %d events are shown: narrow the search with --since, "
			   "--until or a filter.\n",
			   OP_PAGE);
	return TRUE;
}

/* ---- log follow ------------------------------------------------------------- */

static void
event_added_cb(OpDbusOutpost1Manager *proxy, GVariant *event, gpointer user_data)
{
	OpCtl *ctl = user_data;

	if (ctl->json) {
		g_autoptr(JsonNode) node = json_gvariant_serialize(event);
		g_autofree char *text = json_to_string(node, FALSE);

		g_print("%s\n", text);
	} else {
		print_event(event);
	}
	fflush(stdout);
}

static gboolean
quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	/* log_follow removes both signal sources once the loop has stopped. */
	return G_SOURCE_CONTINUE;
}

/* A search for one event checks that the caller may read the log before
 * anything is shown. It also travels after the signal subscription on the
 * same connection, so once it returns no new event can be missed. */
static gboolean
check_log_access(OpCtl *ctl, GError **error)
{
	g_autoptr(GVariant) events = NULL;
	g_autofree char *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(ctl->proxy));

	if (owner == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "outpostd is not running on the %s bus",
			    ctl->session_bus ? "session" : "system");
		return FALSE;
	}
	return op_dbus_outpost1_manager_call_search_events_sync(
		ctl->proxy, g_variant_new("a{sv}", NULL), 0, 1, &events, NULL, error);
}

static gboolean
log_follow(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	guint sigint_id;
	guint sigterm_id;

	if (!op_ctl_expect_args(args, 0, "log follow [--json]", error))
		return FALSE;
	g_signal_connect(ctl->proxy, "event-added", G_CALLBACK(event_added_cb), ctl);
	if (!check_log_access(ctl, error))
		return FALSE;
	g_printerr("Following the delivery log; press Ctrl+C to stop.\n");
	if (!ctl->json)
		print_event_header();
	fflush(stdout);
	sigint_id = g_unix_signal_add(SIGINT, quit_cb, loop);
	sigterm_id = g_unix_signal_add(SIGTERM, quit_cb, loop);
	g_main_loop_run(loop);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
	return TRUE;
}

/* ---- settings --------------------------------------------------------------- */

static void
print_list(const char *key, GVariant *settings)
{
	g_autofree const char **list = NULL;
	g_autofree char *joined = NULL;

	g_variant_lookup(settings, key, "^a&s", &list);
	joined = list ? g_strjoinv(", ", (char **)list) : g_strdup("");
	g_print("%-20s %s\n", key, *joined ? joined : "(none)");
}

static void
print_expiry(GVariant *settings)
{
	gint64 not_after = 0;
	g_autofree char *when = NULL;
	gint64 days;

	g_variant_lookup(settings, "tls-not-after", "x", &not_after);
	if (not_after == 0) {
		g_print("%-20s %s\n", "tls-not-after", "(unknown)");
		return;
	}
	when = dup_local_time(not_after);
	days = (not_after - g_get_real_time() / G_USEC_PER_SEC) / 86400;
	g_print("%-20s %s (%s %" G_GINT64_FORMAT " days)\n", "tls-not-after", when,
		days < 0 ? "expired" : "in", days < 0 ? -days : days);
}

static gboolean
settings_get(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) settings = NULL;
	guint64 max_size = 0;
	guint64 lifetime = 0;
	gboolean password_set = FALSE;

	if (!op_ctl_expect_args(args, 0, "settings get [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_settings_sync(ctl->proxy, &settings, NULL, error))
		return FALSE;
	if (ctl->json) {
		op_ctl_print_json(settings);
		return TRUE;
	}
	g_variant_lookup(settings, "max-message-size", "t", &max_size);
	g_variant_lookup(settings, "message-lifetime", "t", &lifetime);
	g_print("%-20s %s\n", "hostname", op_ctl_lookup_string(settings, "hostname"));
	print_list("submission-listen", settings);
	print_list("submissions-listen", settings);
	g_print("%-20s %s\n", "tls-cert", op_ctl_lookup_string(settings, "tls-cert"));
	g_print("%-20s %s\n", "tls-key", op_ctl_lookup_string(settings, "tls-key"));
	g_print("%-20s %s\n", "tls-subject", op_ctl_lookup_string(settings, "tls-subject"));
	print_list("tls-names", settings);
	print_expiry(settings);
	g_print("%-20s %" G_GUINT64_FORMAT " octets\n", "max-message-size", max_size);
	g_print("%-20s %" G_GUINT64_FORMAT " seconds\n", "message-lifetime", lifetime);
	g_print("%-20s %s\n", "smarthost", *op_ctl_lookup_string(settings, "smarthost")
						   ? op_ctl_lookup_string(settings, "smarthost")
						   : "(none: delivery by MX)");
	g_variant_lookup(settings, "smarthost-password-set", "b", &password_set);
	g_print("%-20s %s\n", "smarthost-user", *op_ctl_lookup_string(settings, "smarthost-user")
							? op_ctl_lookup_string(settings, "smarthost-user")
							: "(none: no AUTH)");
	g_print("%-20s %s\n", "smarthost-password", password_set ? "(set)" : "(not set)");
	g_print("%-20s %s\n", "smarthost-ca-file",
		*op_ctl_lookup_string(settings, "smarthost-ca-file")
			? op_ctl_lookup_string(settings, "smarthost-ca-file")
			: "(system trust store)");
	return TRUE;
}

/* Gives VALUE the D-Bus type of KEY. Unknown keys go as strings, and the
 * daemon's error lists the keys it accepts. */
static GVariant *
new_setting_value(const char *key, const char *value, GError **error)
{
	guint64 number = 0;

	if (g_str_equal(key, "submission-listen") || g_str_equal(key, "submissions-listen")) {
		g_auto(GStrv) list = *value ? g_strsplit(value, ",", -1) : g_new0(char *, 1);

		for (guint i = 0; list[i] != NULL; i++)
			g_strstrip(list[i]);
		return g_variant_new_strv((const char *const *)list, -1);
	}
	if (g_str_equal(key, "max-message-size") || g_str_equal(key, "message-lifetime")) {
		if (!g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &number, NULL)) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid %s \"%s\": expected a whole number", key, value);
			return NULL;
		}
		return g_variant_new_uint64(number);
	}
	return g_variant_new_string(value);
}

static gboolean
settings_set(OpCtl *ctl, char **args, GError **error)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	guint count = g_strv_length(args);

	if (count == 0 || count % 2 != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "usage: outpostctl settings set KEY VALUE [KEY VALUE...]");
		return FALSE;
	}
	for (guint i = 0; i < count; i += 2) {
		g_autofree char *secret = NULL;
		const char *text = args[i + 1];
		GVariant *value;

		/* "-" reads the password from standard input or the terminal, so
		 * that it stays out of the shell history and the process list. */
		if (g_str_equal(args[i], "smarthost-password") && g_str_equal(text, "-")) {
			ctl->password_stdin = ctl->password_stdin || !isatty(STDIN_FILENO);
			secret = op_ctl_read_password(ctl, error);
			if (secret == NULL)
				return FALSE;
			text = secret;
		}
		value = new_setting_value(args[i], text, error);
		if (secret != NULL)
			explicit_bzero(secret, strlen(secret));

		if (value == NULL)
			return FALSE;
		g_variant_builder_add(&builder, "{sv}", args[i], value);
	}
	if (!op_dbus_outpost1_manager_call_set_settings_sync(
		    ctl->proxy, g_variant_builder_end(&builder), NULL, error))
		return FALSE;
	g_print("Stored. Run \"outpostctl reload\" to apply; listen addresses apply at the next "
		"start.\n");
	return TRUE;
}

static gboolean
reload(OpCtl *ctl, char **args, GError **error)
{
	if (!op_ctl_expect_args(args, 0, "reload", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_reload_sync(ctl->proxy, NULL, error);
}

const OpCtlCommand op_ctl_settings_commands[] = {
	{"log", "search", log_search,
	 "[QUEUE-ID] [--id QUEUE-ID] [--recipient TEXT] [--domain DOMAIN] [--state STATUS] "
	 "[--since TIME] [--until TIME]: list delivery events, newest first (at most 1000)"},
	{"log", "follow", log_follow,
	 ": print delivery events as they happen until interrupted; --json prints one object "
	 "per line"},
	{"settings", "get", settings_get, ": show the server settings and the TLS certificate"},
	{"settings", "set", settings_set,
	 "KEY VALUE [KEY VALUE...]: store settings (lists separated by \",\"), effective at the "
	 "next reload; \"smarthost-password -\" reads the password from standard input"},
	{"reload", "", reload,
	 ": apply the stored settings and load the TLS certificate again (also on SIGHUP)"},
	{NULL, NULL, NULL, NULL},
};
