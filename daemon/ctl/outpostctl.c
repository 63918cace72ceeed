/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl: the command-line admin client. It talks to outpostd only
 * through the D-Bus API, like the desktop app, and prints tables for people
 * or JSON (--json) for scripts.
 */
#include "op-dbus-generated.h"
#include "op-error.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define OP_DBUS_NAME "io.github.outpostmail.Outpost1"
#define OP_DBUS_PATH "/io/github/outpostmail/Outpost1"
#define OP_PAGE 1000
#define OP_MAX_PASSWORD 1024

typedef struct {
	gboolean session_bus;
	gboolean json;
	gboolean password_stdin;
	gboolean force;
	char *filter;
	OpDbusOutpost1Manager *proxy;
} OpCtl;

typedef gboolean (*OpCommandFunc)(OpCtl *ctl, char **args, GError **error);

static void
print_json(GVariant *value)
{
	g_autoptr(JsonNode) node = json_gvariant_serialize(value);
	g_autofree char *text = json_to_string(node, TRUE);

	g_print("%s\n", text);
}

static const char *
lookup_string(GVariant *dict, const char *key)
{
	const char *value = "";

	g_variant_lookup(dict, key, "&s", &value);
	return value;
}

static gboolean
expect_args(char **args, guint count, const char *usage, GError **error)
{
	if (g_strv_length(args) != count) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "usage: outpostctl %s",
			    usage);
		return FALSE;
	}
	return TRUE;
}

/* Reads a password from standard input (one line) or from the terminal
 * without echo, asking twice. */
static char *
read_password(OpCtl *ctl, GError **error)
{
	char buffer[OP_MAX_PASSWORD + 2] = {0};
	char again[OP_MAX_PASSWORD + 2] = {0};
	struct termios saved;
	struct termios quiet;
	gboolean tty = !ctl->password_stdin && isatty(STDIN_FILENO);

	if (!ctl->password_stdin && !tty) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "no terminal to ask for the password: use --password-stdin");
		return NULL;
	}
	if (tty) {
		tcgetattr(STDIN_FILENO, &saved);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		g_printerr("Password: ");
	}
	if (fgets(buffer, sizeof buffer, stdin) == NULL)
		buffer[0] = '\0';
	if (tty) {
		g_printerr("\nRepeat the password: ");
		if (fgets(again, sizeof again, stdin) == NULL)
			again[0] = '\0';
		g_printerr("\n");
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	}
	buffer[strcspn(buffer, "\r\n")] = '\0';
	again[strcspn(again, "\r\n")] = '\0';
	if (tty && strcmp(buffer, again) != 0) {
		explicit_bzero(buffer, sizeof buffer);
		explicit_bzero(again, sizeof again);
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the two passwords differ: try again");
		return NULL;
	}
	explicit_bzero(again, sizeof again);
	{
		char *password = g_strdup(buffer);

		explicit_bzero(buffer, sizeof buffer);
		return password;
	}
}

/* ---- domain ------------------------------------------------------------- */

static gboolean
domain_add(OpCtl *ctl, char **args, GError **error)
{
	if (!expect_args(args, 1, "domain add DOMAIN", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_add_domain_sync(ctl->proxy, args[0], NULL, error))
		return FALSE;
	g_print("Added %s with a new DKIM key. Publish its records: outpostctl dns records %s\n",
		args[0], args[0]);
	return TRUE;
}

static gboolean
domain_remove(OpCtl *ctl, char **args, GError **error)
{
	if (!expect_args(args, 1, "domain remove DOMAIN [--force]", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_remove_domain_sync(ctl->proxy, args[0], ctl->force,
								 NULL, error);
}

static gboolean
domain_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) domains = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!expect_args(args, 0, "domain list [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_domains_sync(ctl->proxy, &domains, NULL, error))
		return FALSE;
	if (ctl->json) {
		print_json(domains);
		return TRUE;
	}
	g_print("%-40s %-16s %8s %s\n", "DOMAIN", "DKIM SELECTOR", "ACCOUNTS", "ENABLED");
	g_variant_iter_init(&iter, domains);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		guint accounts = 0;
		gboolean enabled = FALSE;

		g_variant_lookup(dict, "accounts", "u", &accounts);
		g_variant_lookup(dict, "enabled", "b", &enabled);
		g_print("%-40s %-16s %8u %s\n", lookup_string(dict, "name"),
			lookup_string(dict, "dkim-selector"), accounts, enabled ? "yes" : "no");
		g_variant_unref(dict);
	}
	return TRUE;
}

/* ---- dns ---------------------------------------------------------------- */

static gboolean
dns_records(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) records = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!expect_args(args, 1, "dns records DOMAIN [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_get_dns_records_sync(ctl->proxy, args[0], &records,
								 NULL, error))
		return FALSE;
	if (ctl->json) {
		print_json(records);
		return TRUE;
	}
	g_variant_iter_init(&iter, records);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		g_print("; %s\n%s\tIN\t%s\t%s\n\n", lookup_string(dict, "purpose"),
			lookup_string(dict, "name"), lookup_string(dict, "type"),
			lookup_string(dict, "value"));
		g_variant_unref(dict);
	}
	return TRUE;
}

/* ---- account ------------------------------------------------------------ */

static gboolean
account_add(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *password = NULL;
	gboolean ok;

	if (!expect_args(args, 1, "account add ADDRESS [--password-stdin]", error))
		return FALSE;
	password = read_password(ctl, error);
	if (password == NULL)
		return FALSE;
	ok = op_dbus_outpost1_manager_call_add_account_sync(ctl->proxy, args[0], password, NULL,
							     error);
	explicit_bzero(password, strlen(password));
	return ok;
}

static gboolean
account_passwd(OpCtl *ctl, char **args, GError **error)
{
	g_autofree char *password = NULL;
	gboolean ok;

	if (!expect_args(args, 1, "account passwd ADDRESS [--password-stdin]", error))
		return FALSE;
	password = read_password(ctl, error);
	if (password == NULL)
		return FALSE;
	ok = op_dbus_outpost1_manager_call_set_password_sync(ctl->proxy, args[0], password, NULL,
							      error);
	explicit_bzero(password, strlen(password));
	return ok;
}

static gboolean
account_remove(OpCtl *ctl, char **args, GError **error)
{
	if (!expect_args(args, 1, "account remove ADDRESS", error))
		return FALSE;
	return op_dbus_outpost1_manager_call_remove_account_sync(ctl->proxy, args[0], NULL, error);
}

static gboolean
account_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) accounts = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!expect_args(args, 0, "account list [--filter TEXT] [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_accounts_sync(ctl->proxy,
							       ctl->filter ? ctl->filter : "", 0,
							       OP_PAGE, &accounts, NULL, error))
		return FALSE;
	if (ctl->json) {
		print_json(accounts);
		return TRUE;
	}
	g_print("%-50s %s\n", "ACCOUNT", "ENABLED");
	g_variant_iter_init(&iter, accounts);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		gboolean enabled = FALSE;

		g_variant_lookup(dict, "enabled", "b", &enabled);
		g_print("%-50s %s\n", lookup_string(dict, "address"), enabled ? "yes" : "no");
		g_variant_unref(dict);
	}
	return TRUE;
}

/* ---- queue -------------------------------------------------------------- */

static gboolean
queue_list(OpCtl *ctl, char **args, GError **error)
{
	g_autoptr(GVariant) messages = NULL;
	GVariantIter iter;
	GVariant *dict;

	if (!expect_args(args, 0, "queue list [--json]", error))
		return FALSE;
	if (!op_dbus_outpost1_manager_call_list_queue_sync(ctl->proxy, 0, OP_PAGE, &messages, NULL,
							    error))
		return FALSE;
	if (ctl->json) {
		print_json(messages);
		return TRUE;
	}
	g_print("%-16s %-30s %-30s %10s %-8s %s\n", "ID", "SENDER", "RECIPIENTS", "SIZE", "STATE",
		"LAST REPLY");
	g_variant_iter_init(&iter, messages);
	while ((dict = g_variant_iter_next_value(&iter)) != NULL) {
		g_autofree const char **recipients = NULL;
		g_autofree char *joined = NULL;
		guint64 size = 0;

		g_variant_lookup(dict, "recipients", "^a&s", &recipients);
		g_variant_lookup(dict, "size", "t", &size);
		joined = recipients ? g_strjoinv(",", (char **)recipients) : g_strdup("");
		g_print("%-16s %-30s %-30s %10" G_GUINT64_FORMAT " %-8s %s\n",
			lookup_string(dict, "id"), lookup_string(dict, "sender"), joined, size,
			lookup_string(dict, "state"), lookup_string(dict, "last-reply"));
		g_variant_unref(dict);
	}
	return TRUE;
}

static const struct {
	const char *noun;
	const char *verb;
	OpCommandFunc func;
	const char *help;
} op_commands[] = {
	{"domain", "add", domain_add, "DOMAIN: manage a domain and generate its DKIM key"},
	{"domain", "list", domain_list, ": list the managed domains"},
	{"domain", "remove", domain_remove, "DOMAIN [--force]: stop managing a domain"},
	{"dns", "records", dns_records, "DOMAIN: print the DNS records to publish"},
	{"account", "add", account_add, "ADDRESS [--password-stdin]: create an account"},
	{"account", "list", account_list, "[--filter TEXT]: list accounts"},
	{"account", "remove", account_remove, "ADDRESS: delete an account"},
	{"account", "passwd", account_passwd, "ADDRESS [--password-stdin]: set a new password"},
	{"queue", "list", queue_list, ": list the queued messages"},
};

static char *
dup_command_summary(void)
{
	GString *text = g_string_new("Commands:\n");

	for (guint i = 0; i < G_N_ELEMENTS(op_commands); i++) {
		const char *help = op_commands[i].help;
		const char *colon = strchr(help, ':');

		g_string_append_printf(text, "  %s %s %.*s\n      %s\n", op_commands[i].noun,
				       op_commands[i].verb, (int)(colon - help), help, colon + 2);
	}
	return g_string_free(text, FALSE);
}

static gboolean
run(OpCtl *ctl, int argc, char **argv, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_commands); i++) {
		if (argc >= 3 && strcmp(argv[1], op_commands[i].noun) == 0 &&
		    strcmp(argv[2], op_commands[i].verb) == 0) {
			ctl->proxy = op_dbus_outpost1_manager_proxy_new_for_bus_sync(
				ctl->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
				G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
					G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
				OP_DBUS_NAME, OP_DBUS_PATH, NULL, error);
			if (ctl->proxy == NULL)
				return FALSE;
			/* Adding a domain generates an RSA key: allow for a slow machine. */
			g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(ctl->proxy), 120000);
			return op_commands[i].func(ctl, argv + 3, error);
		}
	}
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown command: run outpostctl --help for the list");
	return FALSE;
}

int
main(int argc, char **argv)
{
	OpCtl ctl = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *summary = dup_command_summary();
	const GOptionEntry entries[] = {
		{"session-bus", 0, 0, G_OPTION_ARG_NONE, &ctl.session_bus,
		 "Talk to outpostd on the session bus instead of the system bus", NULL},
		{"json", 0, 0, G_OPTION_ARG_NONE, &ctl.json, "Print listings as JSON", NULL},
		{"password-stdin", 0, 0, G_OPTION_ARG_NONE, &ctl.password_stdin,
		 "Read the password from the first line of standard input", NULL},
		{"force", 0, 0, G_OPTION_ARG_NONE, &ctl.force,
		 "Remove a domain even while mail from it is queued", NULL},
		{"filter", 0, 0, G_OPTION_ARG_STRING, &ctl.filter,
		 "Only list accounts whose address contains TEXT", "TEXT"},
		{NULL}};
	g_autoptr(GOptionContext) context = g_option_context_new("NOUN VERB [ARGUMENT]");
	int status = 0;

	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_set_description(context, summary);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("outpostctl: %s\n", error->message);
		return 2;
	}
	(void)OP_ERROR;
	if (!run(&ctl, argc, argv, &error)) {
		if (g_dbus_error_is_remote_error(error))
			g_dbus_error_strip_remote_error(error);
		g_printerr("outpostctl: %s\n", error->message);
		status = 1;
	}
	g_clear_object(&ctl.proxy);
	g_free(ctl.filter);
	return status;
}
