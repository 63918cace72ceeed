/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostctl: the command-line admin client. It talks to outpostd only
 * through the D-Bus API, like the desktop app, and prints tables for people
 * or JSON (--json) for scripts.
 */
#include "ctl/outpostctl.h"

#include "op-error.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define OP_DBUS_NAME "io.github.outpostmail.Outpost1"
#define OP_DBUS_PATH "/io/github/outpostmail/Outpost1"
#define OP_MAX_PASSWORD 1024

static const OpCtlCommand *const op_ctl_tables[] = {
	op_ctl_domain_commands,
	op_ctl_queue_commands,
	op_ctl_settings_commands,
	op_ctl_dns_commands,
	op_ctl_dkim_commands,
	op_ctl_check_commands,
	op_ctl_client_commands,
};

void
op_ctl_print_json(GVariant *value)
{
	g_autoptr(JsonNode) node = json_gvariant_serialize(value);
	g_autofree char *text = json_to_string(node, TRUE);

	g_print("%s\n", text);
}

const char *
op_ctl_lookup_string(GVariant *dict, const char *key)
{
	const char *value = "";

	g_variant_lookup(dict, key, "&s", &value);
	return value;
}

gboolean
op_ctl_expect_args(char **args, guint count, const char *usage, GError **error)
{
	if (g_strv_length(args) != count) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "usage: outpostctl %s",
			    usage);
		return FALSE;
	}
	return TRUE;
}

/* Reads one line of standard input into buffer without its line ending.
 * Returns FALSE when the line contains a NUL octet or is not valid UTF-8. */
static gboolean
read_line(char *buffer, gsize size)
{
	gsize len = 0;
	gboolean valid = TRUE;
	int c;

	while ((c = getchar()) != EOF && c != '\n') {
		if (c == '\0')
			valid = FALSE;
		if (len + 1 < size)
			buffer[len++] = (char)c;
	}
	if (len > 0 && buffer[len - 1] == '\r')
		len--;
	buffer[len] = '\0';
	return valid && g_utf8_validate(buffer, (gssize)len, NULL);
}

/* Reads a password from standard input (one line) or from the terminal
 * without echo, asking twice. */
char *
op_ctl_read_password(OpCtl *ctl, GError **error)
{
	char buffer[OP_MAX_PASSWORD + 2] = {0};
	char again[OP_MAX_PASSWORD + 2] = {0};
	struct termios saved;
	struct termios quiet;
	gboolean tty = !ctl->password_stdin && isatty(STDIN_FILENO);
	gboolean valid;

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
	valid = read_line(buffer, sizeof buffer);
	if (tty) {
		g_printerr("\nRepeat the password: ");
		read_line(again, sizeof again);
		g_printerr("\n");
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	}
	if (!valid) {
		explicit_bzero(buffer, sizeof buffer);
		explicit_bzero(again, sizeof again);
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the password contains a NUL character or is not valid UTF-8");
		return NULL;
	}
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

/* Appends "  USAGE\n      DESCRIPTION\n" for one command. */
static void
append_usage(GString *text, const OpCtlCommand *command)
{
	/* ": " ends the arguments, which may contain a colon (HOST:PORT). */
	const char *colon = strstr(command->help, ": ");
	g_autofree char *usage = g_strdup_printf("%s %s %.*s", command->noun, command->verb,
						 (int)(colon - command->help), command->help);
	g_auto(GStrv) words = g_strsplit(usage, " ", -1);
	g_autofree char *joined = NULL;
	guint kept = 0;

	/* An empty verb or argument list leaves no double or trailing space. */
	for (guint i = 0; words[i] != NULL; i++) {
		if (*words[i] != '\0')
			words[kept++] = words[i];
		else
			g_free(words[i]);
	}
	words[kept] = NULL;
	joined = g_strjoinv(" ", words);
	g_string_append_printf(text, "  %s\n      %s\n", joined, colon + 2);
}

/* Lists the commands, or only those of noun (and verb) when given, so
 * "outpostctl queue --help" and "outpostctl queue list --help" describe
 * just those commands. */
static char *
dup_command_summary(const char *noun, const char *verb)
{
	GString *text = g_string_new("Commands:\n");

	for (guint t = 0; t < G_N_ELEMENTS(op_ctl_tables); t++) {
		for (const OpCtlCommand *command = op_ctl_tables[t]; command->noun; command++) {
			if (noun != NULL && strcmp(noun, command->noun) != 0)
				continue;
			if (verb != NULL && *command->verb != '\0' &&
			    strcmp(verb, command->verb) != 0)
				continue;
			append_usage(text, command);
		}
	}
	return g_string_free(text, FALSE);
}

/* Finds the noun and verb a --help request is about: the first two words
 * that are not options, when the first one names a command. */
static void
find_help_topic(int argc, char **argv, const char **noun, const char **verb)
{
	const char *words[2] = {NULL, NULL};
	guint found = 0;
	gboolean help = FALSE;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			help = TRUE;
		else if (argv[i][0] != '-' && found < G_N_ELEMENTS(words))
			words[found++] = argv[i];
	}
	if (!help || words[0] == NULL)
		return;
	for (guint t = 0; t < G_N_ELEMENTS(op_ctl_tables); t++) {
		for (const OpCtlCommand *command = op_ctl_tables[t]; command->noun; command++) {
			if (strcmp(words[0], command->noun) != 0)
				continue;
			*noun = words[0];
			/* An unknown verb shows every verb of the noun. */
			if (words[1] != NULL && strcmp(words[1], command->verb) == 0) {
				*verb = words[1];
				return;
			}
		}
	}
}

static gboolean
run(OpCtl *ctl, int argc, char **argv, GError **error)
{
	const OpCtlCommand *found = NULL;

	for (guint t = 0; t < G_N_ELEMENTS(op_ctl_tables) && found == NULL; t++) {
		for (const OpCtlCommand *command = op_ctl_tables[t]; command->noun; command++) {
			/* A command with an empty verb is one word, such as "reload". */
			if (argc >= 2 && strcmp(argv[1], command->noun) == 0 &&
			    (*command->verb == '\0' ||
			     (argc >= 3 && strcmp(argv[2], command->verb) == 0))) {
				found = command;
				break;
			}
		}
	}
	for (int i = 1; i < argc; i++) {
		if (!g_utf8_validate(argv[i], -1, NULL)) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "argument %d is not valid UTF-8", i);
			return FALSE;
		}
	}
	if (found != NULL) {
		ctl->proxy = op_dbus_outpost1_manager_proxy_new_for_bus_sync(
			ctl->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
			G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
				G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
			OP_DBUS_NAME, OP_DBUS_PATH, NULL, error);
		if (ctl->proxy == NULL)
			return FALSE;
		/* Adding a domain generates an RSA key: allow for a slow machine. */
		g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(ctl->proxy), 120000);
		return found->func(ctl, argv + (*found->verb == '\0' ? 2 : 3), error);
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
	const char *help_noun = NULL;
	const char *help_verb = NULL;
	g_autofree char *summary = NULL;
	const GOptionEntry entries[] = {
		{"session-bus", 0, 0, G_OPTION_ARG_NONE, &ctl.session_bus,
		 "Talk to outpostd on the session bus instead of the system bus", NULL},
		{"json", 0, 0, G_OPTION_ARG_NONE, &ctl.json, "Print listings as JSON", NULL},
		{"password-stdin", 0, 0, G_OPTION_ARG_NONE, &ctl.password_stdin,
		 "Read the password from the first line of standard input", NULL},
		{"force", 0, 0, G_OPTION_ARG_NONE, &ctl.force,
		 "Remove a domain even while mail from it is queued; with dkim activate, switch "
		 "before the key's record is visible",
		 NULL},
		{"filter", 0, 0, G_OPTION_ARG_STRING, &ctl.filter,
		 "Only list accounts whose address contains TEXT", "TEXT"},
		{"sender", 0, 0, G_OPTION_ARG_STRING, &ctl.sender,
		 "Only list queued messages whose sender contains TEXT", "TEXT"},
		{"recipient", 0, 0, G_OPTION_ARG_STRING, &ctl.recipient,
		 "Only list messages or events whose recipient contains TEXT", "TEXT"},
		{"domain", 0, 0, G_OPTION_ARG_STRING, &ctl.domain,
		 "Only list messages or events for this recipient domain", "DOMAIN"},
		{"state", 0, 0, G_OPTION_ARG_STRING, &ctl.state,
		 "Only list messages in STATE (queued, deferred, held) or events with this status",
		 "STATE"},
		{"since", 0, 0, G_OPTION_ARG_STRING, &ctl.since,
		 "Only list events from this time on (Unix time or YYYY-MM-DD[THH:MM])", "TIME"},
		{"until", 0, 0, G_OPTION_ARG_STRING, &ctl.until,
		 "Only list events before this time (Unix time or YYYY-MM-DD[THH:MM])", "TIME"},
		{"id", 0, 0, G_OPTION_ARG_STRING, &ctl.id, "Only list events of this queue id",
		 "QUEUE-ID"},
		{"sort", 0, 0, G_OPTION_ARG_STRING, &ctl.sort,
		 "Sort the queue by created, size, sender, attempts or next-attempt", "KEY"},
		{"descending", 0, 0, G_OPTION_ARG_NONE, &ctl.descending, "Reverse the sort order",
		 NULL},
		{"enabled", 0, 0, G_OPTION_ARG_STRING, &ctl.enabled,
		 "With domain set: yes accepts the domain's mail, no refuses it", "yes|no"},
		{"hourly-limit", 0, 0, G_OPTION_ARG_STRING, &ctl.hourly_limit,
		 "With domain set: messages per hour the domain may send, 0 for no limit", "N"},
		{"smarthost", 0, 0, G_OPTION_ARG_STRING, &ctl.smarthost,
		 "With domain set: relay the domain's mail through HOST:PORT, \"\" to deliver by MX",
		 "HOST:PORT"},
		{"server", 0, 0, G_OPTION_ARG_STRING, &ctl.server,
		 "With dns publish: the zone's primary DNS server, an IP address", "HOST[:PORT]"},
		{"tsig", 0, 0, G_OPTION_ARG_STRING, &ctl.tsig,
		 "With dns publish: the TSIG key, or - to read it from standard input",
		 "NAME:ALGORITHM:SECRET"},
		{"tsig-file", 0, 0, G_OPTION_ARG_FILENAME, &ctl.tsig_file,
		 "With dns publish: read the TSIG key (NAME:ALGORITHM:SECRET) from FILE", "FILE"},
		{"dkim-selector", 0, 0, G_OPTION_ARG_STRING, &ctl.dkim_selector,
		 "With domain set: rotate to a new DKIM key with this selector", "SELECTOR"},
		{"imap-server", 0, 0, G_OPTION_ARG_STRING, &ctl.imap_server,
		 "With domain set: the IMAP server users read mail from, \"\" for none",
		 "HOST:PORT"},
		{"pop3-server", 0, 0, G_OPTION_ARG_STRING, &ctl.pop3_server,
		 "With domain set: the POP3 server users read mail from, \"\" for none",
		 "HOST:PORT"},
		{"dmarc-policy", 0, 0, G_OPTION_ARG_STRING, &ctl.dmarc_policy,
		 "With domain set: the DMARC policy in the generated record",
		 "none|quarantine|reject"},
		{"dmarc-rua", 0, 0, G_OPTION_ARG_STRING, &ctl.dmarc_rua,
		 "With domain set: where DMARC reports go, \"\" for postmaster at the domain",
		 "ADDRESS"},
		{"algorithm", 0, 0, G_OPTION_ARG_STRING, &ctl.algorithm,
		 "With dkim rotate: the new key's algorithm (default rsa)", "rsa|ed25519"},
		{"powerdns", 0, 0, G_OPTION_ARG_STRING, &ctl.powerdns,
		 "With dns target set: publish through the PowerDNS HTTP API at URL", "URL"},
		{"api-key-file", 0, 0, G_OPTION_ARG_FILENAME, &ctl.api_key_file,
		 "With dns target set: read the PowerDNS API key from FILE, - for standard input",
		 "FILE"},
		{"server-id", 0, 0, G_OPTION_ARG_STRING, &ctl.server_id,
		 "With dns target set: the PowerDNS server id; default localhost", "ID"},
		{"zone", 0, 0, G_OPTION_ARG_STRING, &ctl.zone,
		 "With dns target set: the zone that contains the domain; default the domain",
		 "ZONE"},
		{"zone-file", 0, 0, G_OPTION_ARG_NONE, &ctl.zone_file,
		 "With dns records: print the records as zone-file lines", NULL},
		{NULL}};
	g_autoptr(GOptionContext) context = g_option_context_new("NOUN VERB [ARGUMENT]");
	int status = 0;

	/* Non-ASCII domain names print in the user's locale. */
	setlocale(LC_ALL, "");
	find_help_topic(argc, argv, &help_noun, &help_verb);
	summary = dup_command_summary(help_noun, help_verb);
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
	g_free(ctl.sender);
	g_free(ctl.recipient);
	g_free(ctl.domain);
	g_free(ctl.state);
	g_free(ctl.since);
	g_free(ctl.until);
	g_free(ctl.id);
	g_free(ctl.sort);
	g_free(ctl.enabled);
	g_free(ctl.hourly_limit);
	g_free(ctl.smarthost);
	g_free(ctl.server);
	g_free(ctl.tsig);
	g_free(ctl.tsig_file);
	g_free(ctl.dkim_selector);
	g_free(ctl.imap_server);
	g_free(ctl.pop3_server);
	g_free(ctl.dmarc_policy);
	g_free(ctl.dmarc_rua);
	g_free(ctl.algorithm);
	g_free(ctl.powerdns);
	g_free(ctl.api_key_file);
	g_free(ctl.server_id);
	g_free(ctl.zone);
	return status;
}
