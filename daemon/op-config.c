/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads the [server] group of the GKeyFile and the command-line flags into an
 * OpConfig. Every address, port, directory and the resolver can be set both
 * ways so that tests run the daemon unprivileged on loopback.
 */
#include "op-config.h"

#include "op-error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OP_DEFAULT_CONFIG_FILE "/etc/outpost/outpost.conf"
#define OP_DEFAULT_STATE_DIR "/var/lib/outpost"
#define OP_DEV_STATE_DIR "state"

OpConfig *
op_config_new(void)
{
	OpConfig *config = g_new0(OpConfig, 1);
	const char *submission[] = {"0.0.0.0:587", NULL};
	const char *submissions[] = {"0.0.0.0:465", NULL};

	config->state_dir = g_strdup(OP_DEFAULT_STATE_DIR);
	config->hostname = g_strdup(g_get_host_name());
	config->submission_listen = g_strdupv((char **)submission);
	config->submissions_listen = g_strdupv((char **)submissions);
	config->http_listen = g_new0(char *, 1);
	config->https_listen = g_new0(char *, 1);
	config->trusted_networks = g_new0(char *, 1);
	config->delivery_port = 25;
	config->retry_min = 300;
	config->retry_max = 4 * 3600;
	config->message_lifetime = 5 * 24 * 3600;
	config->delay_warning = 4 * 3600;
	config->max_message_size = 25 * 1024 * 1024;
	config->max_recipients = 100;
	config->max_sessions = 4000;
	config->max_sessions_per_client = 100;
	config->delivery_concurrency = 16;
	config->per_destination_concurrency = 4;
	config->session_timeout = 300;
	config->smarthost = g_strdup("");
	config->smarthost_user = g_strdup("");
	config->smarthost_password = g_strdup("");
	config->smarthost_ca_file = g_strdup("");
	config->sending_addresses = g_new0(char *, 1);
	config->dnsbl_zones = g_new0(char *, 1);
	config->authoritative_port = 53;
	config->dkim_grace = 7 * 24 * 3600;
	config->dkim_check_interval = 600;
	config->retired = g_ptr_array_new_with_free_func(g_free);
	return config;
}

void
op_config_free(OpConfig *config)
{
	if (config == NULL)
		return;
	g_free(config->config_file);
	g_free(config->state_dir);
	g_free(config->hostname);
	g_strfreev(config->submission_listen);
	g_strfreev(config->submissions_listen);
	g_strfreev(config->http_listen);
	g_strfreev(config->https_listen);
	g_free(config->sendmail_socket);
	g_free(config->dns_resolver);
	g_strfreev(config->trusted_networks);
	g_strfreev(config->sending_addresses);
	g_strfreev(config->dnsbl_zones);
	g_free(config->tls_cert);
	g_free(config->tls_key);
	g_free(config->user);
	g_free(config->smarthost);
	g_free(config->smarthost_user);
	if (config->smarthost_password != NULL)
		explicit_bzero(config->smarthost_password, strlen(config->smarthost_password));
	g_free(config->smarthost_password);
	g_free(config->smarthost_ca_file);
	g_ptr_array_unref(config->retired);
	g_free(config);
}

/* Splits "HOST:PORT", "[V6]:PORT", "HOST" or "[V6]" into its parts. */
gboolean
op_parse_host_port(const char *text, guint default_port, char **host, guint *port,
		   GError **error)
{
	const char *colon;
	guint64 value;

	if (text == NULL || *text == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "empty address");
		return FALSE;
	}
	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (end == NULL) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid address \"%s\": missing ']'", text);
			return FALSE;
		}
		*host = g_strndup(text + 1, end - text - 1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid address \"%s\": expected ':' after ']'", text);
			g_clear_pointer(host, g_free);
			return FALSE;
		}
	} else {
		colon = strrchr(text, ':');
		/* A bare IPv6 address has several colons and no port. */
		if (colon != NULL && strchr(text, ':') != colon)
			colon = NULL;
		*host = colon ? g_strndup(text, colon - text) : g_strdup(text);
	}
	if (colon == NULL) {
		*port = default_port;
		return TRUE;
	}
	/* Port 0 requests a free port from the kernel, which tests use. */
	if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &value, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid port in \"%s\": expected a number from 0 to 65535", text);
		g_clear_pointer(host, g_free);
		return FALSE;
	}
	*port = (guint)value;
	return TRUE;
}

static gboolean
read_string(GKeyFile *file, const char *key, char **target, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	char *value = g_key_file_get_string(file, "server", key, &local_error);

	if (value == NULL) {
		if (g_error_matches(local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
		    g_error_matches(local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
			return TRUE;
		g_propagate_prefixed_error(error, g_steal_pointer(&local_error), "key %s: ", key);
		return FALSE;
	}
	g_free(*target);
	*target = value;
	return TRUE;
}

static gboolean
read_list(GKeyFile *file, const char *key, char ***target, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	char **value = g_key_file_get_string_list(file, "server", key, NULL, &local_error);

	if (value == NULL) {
		if (g_error_matches(local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
		    g_error_matches(local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
			return TRUE;
		g_propagate_prefixed_error(error, g_steal_pointer(&local_error), "key %s: ", key);
		return FALSE;
	}
	g_strfreev(*target);
	*target = value;
	return TRUE;
}

static gboolean
read_number(GKeyFile *file, const char *key, guint64 max, guint64 *target, GError **error)
{
	g_autofree char *text = NULL;
	guint64 value;

	if (!read_string(file, key, &text, error))
		return FALSE;
	if (text == NULL)
		return TRUE;
	if (!g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, max, &value, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "key %s: invalid value \"%s\": expected a number from 0 to %" G_GUINT64_FORMAT,
			    key, text, max);
		return FALSE;
	}
	*target = value;
	return TRUE;
}

static gboolean
read_uint(GKeyFile *file, const char *key, guint max, guint *target, GError **error)
{
	guint64 value = *target;

	if (!read_number(file, key, max, &value, error))
		return FALSE;
	*target = (guint)value;
	return TRUE;
}

static gboolean
read_boolean(GKeyFile *file, const char *key, gboolean *target, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	gboolean value = g_key_file_get_boolean(file, "server", key, &local_error);

	if (local_error == NULL) {
		*target = value;
		return TRUE;
	}
	if (g_error_matches(local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND) ||
	    g_error_matches(local_error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND))
		return TRUE;
	g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
				   "key %s: expected true or false: ", key);
	return FALSE;
}

gboolean
op_config_load_key_file(OpConfig *config, const char *path, GError **error)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autofree char *text = NULL;
	gsize length = 0;

	/* Reading the text first also accepts /dev/null as an empty file. */
	if (!g_file_get_contents(path, &text, &length, error) ||
	    !g_key_file_load_from_data(file, text, length, G_KEY_FILE_NONE, error)) {
		g_prefix_error(error, "failed to read %s: ", path);
		return FALSE;
	}
	if (!read_string(file, "state_dir", &config->state_dir, error) ||
	    !read_string(file, "hostname", &config->hostname, error) ||
	    !read_list(file, "submission_listen", &config->submission_listen, error) ||
	    !read_list(file, "submissions_listen", &config->submissions_listen, error) ||
	    !read_list(file, "http_listen", &config->http_listen, error) ||
	    !read_list(file, "https_listen", &config->https_listen, error) ||
	    !read_boolean(file, "http_allow_plain", &config->http_allow_plain, error) ||
	    !read_string(file, "sendmail_socket", &config->sendmail_socket, error) ||
	    !read_string(file, "dns_resolver", &config->dns_resolver, error) ||
	    !read_uint(file, "delivery_port", 65535, &config->delivery_port, error) ||
	    !read_uint(file, "retry_min", G_MAXUINT, &config->retry_min, error) ||
	    !read_uint(file, "retry_max", G_MAXUINT, &config->retry_max, error) ||
	    !read_number(file, "message_lifetime", G_MAXUINT32, &config->message_lifetime, error) ||
	    !read_number(file, "delay_warning", G_MAXUINT32, &config->delay_warning, error) ||
	    !read_list(file, "trusted_networks", &config->trusted_networks, error) ||
	    !read_string(file, "tls_cert", &config->tls_cert, error) ||
	    !read_string(file, "tls_key", &config->tls_key, error) ||
	    !read_string(file, "user", &config->user, error) ||
	    !read_number(file, "max_message_size", G_MAXUINT32, &config->max_message_size, error) ||
	    !read_uint(file, "max_recipients", 100000, &config->max_recipients, error) ||
	    !read_uint(file, "max_sessions", 1000000, &config->max_sessions, error) ||
	    !read_uint(file, "max_sessions_per_client", 1000000,
		       &config->max_sessions_per_client, error) ||
	    !read_uint(file, "delivery_concurrency", 1024, &config->delivery_concurrency, error) ||
	    !read_uint(file, "per_destination_concurrency", 1024,
		       &config->per_destination_concurrency, error) ||
	    !read_uint(file, "session_timeout", 86400, &config->session_timeout, error) ||
	    !read_string(file, "smarthost", &config->smarthost, error) ||
	    !read_string(file, "smarthost_ca_file", &config->smarthost_ca_file, error) ||
	    !read_list(file, "sending_addresses", &config->sending_addresses, error) ||
	    !read_list(file, "dnsbl_zones", &config->dnsbl_zones, error) ||
	    !read_uint(file, "authoritative_port", 65535, &config->authoritative_port, error) ||
	    !read_number(file, "dkim_grace", G_MAXUINT32, &config->dkim_grace, error) ||
	    !read_uint(file, "dkim_check_interval", 86400, &config->dkim_check_interval,
		       error)) {
		g_prefix_error(error, "%s: ", path);
		return FALSE;
	}
	return TRUE;
}

/* Values given on the command line; a zero or NULL means "not given". */
typedef struct {
	char *config_file;
	char *state_dir;
	gboolean session_bus;
	gboolean dev_mode;
	char *hostname;
	char **submission;
	char **submissions;
	char **http;
	char **https;
	gboolean http_allow_plain;
	char *sendmail_socket;
	char *resolver;
	int delivery_port;
	int retry_min;
	int retry_max;
	gint64 message_lifetime;
	gint64 delay_warning;
	char **trusted_networks;
	char *tls_cert;
	char *tls_key;
	char *user;
	gint64 max_message_size;
	char **sending_addresses;
	char **dnsbl_zones;
	int authoritative_port;
	gint64 dkim_grace;
	int dkim_check_interval;
} OpFlags;

static void
op_flags_clear(OpFlags *flags)
{
	g_free(flags->config_file);
	g_free(flags->state_dir);
	g_free(flags->hostname);
	g_strfreev(flags->submission);
	g_strfreev(flags->submissions);
	g_strfreev(flags->http);
	g_strfreev(flags->https);
	g_free(flags->sendmail_socket);
	g_free(flags->resolver);
	g_strfreev(flags->trusted_networks);
	g_free(flags->tls_cert);
	g_free(flags->tls_key);
	g_free(flags->user);
	g_strfreev(flags->sending_addresses);
	g_strfreev(flags->dnsbl_zones);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpFlags, op_flags_clear)

static void
replace_string(char **target, char *value)
{
	if (value == NULL)
		return;
	g_free(*target);
	*target = g_strdup(value);
}

static void
replace_list(char ***target, char **value)
{
	if (value == NULL)
		return;
	g_strfreev(*target);
	*target = g_strdupv(value);
}

static void
apply_dev_defaults(OpConfig *config)
{
	const char *submission[] = {"127.0.0.1:2587", NULL};
	const char *submissions[] = {"127.0.0.1:2465", NULL};

	/* Development mode keeps every default on this machine: state in the
	 * working directory, loopback listeners and a loopback resolver. */
	replace_string(&config->state_dir, OP_DEV_STATE_DIR);
	replace_list(&config->submission_listen, (char **)submission);
	replace_list(&config->submissions_listen, (char **)submissions);
	replace_string(&config->dns_resolver, "127.0.0.1");
	replace_string(&config->hostname, "localhost");
	config->session_bus = TRUE;
}

/* The socket goes to /run/outpost, which every local user can reach, unless
 * the state directory comes from --state-dir or --dev: then it goes there,
 * so a development or test daemon never takes over the system's socket. */
static char *
dup_default_sendmail_socket(OpConfig *config, gboolean own_state_dir)
{
	if (!own_state_dir)
		return g_strdup(OP_DEFAULT_SENDMAIL_SOCKET);
	return g_build_filename(config->state_dir, "sendmail.sock", NULL);
}

static gboolean
check_config(OpConfig *config, GError **error)
{
	if (config->retry_min == 0 || config->retry_max < config->retry_min) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid retry delays: retry_min (%u) must be at least 1 and at most "
			    "retry_max (%u)",
			    config->retry_min, config->retry_max);
		return FALSE;
	}
	if (config->delivery_port == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid delivery_port 0: expected a number from 1 to 65535");
		return FALSE;
	}
	for (char **address = config->sending_addresses; *address != NULL; address++) {
		if (!g_hostname_is_ip_address(*address)) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid sending address \"%s\": expected an IPv4 or IPv6 "
				    "address such as 192.0.2.10",
				    *address);
			return FALSE;
		}
	}
	if (config->authoritative_port == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid authoritative_port 0: expected a number from 1 to 65535");
		return FALSE;
	}
	if ((config->tls_cert == NULL) != (config->tls_key == NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "tls_cert and tls_key must be set together");
		return FALSE;
	}
	return TRUE;
}

gboolean
op_config_parse(OpConfig *config, int *argc, char ***argv, GError **error)
{
	g_auto(OpFlags) flags = {.delivery_port = 0,
				 .retry_min = 0,
				 .retry_max = 0,
				 .message_lifetime = -1,
				 .delay_warning = -1,
				 .max_message_size = -1,
				 .dkim_grace = -1};
	const GOptionEntry entries[] = {
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &flags.config_file,
		 "Read settings from FILE (default " OP_DEFAULT_CONFIG_FILE ")", "FILE"},
		{"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &flags.state_dir,
		 "Keep the database and DKIM keys in DIR (default " OP_DEFAULT_STATE_DIR ")",
		 "DIR"},
		{"session-bus", 0, 0, G_OPTION_ARG_NONE, &flags.session_bus,
		 "Own the D-Bus name on the session bus instead of the system bus", NULL},
		{"dev", 0, 0, G_OPTION_ARG_NONE, &flags.dev_mode,
		 "Development mode: state in ./state, submission on 127.0.0.1:2587 and "
		 "127.0.0.1:2465, resolver 127.0.0.1, session bus",
		 NULL},
		{"hostname", 0, 0, G_OPTION_ARG_STRING, &flags.hostname,
		 "EHLO name and the name in generated DNS records (default: this host's name)",
		 "NAME"},
		{"submission", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.submission,
		 "Listen for STARTTLS submission on ADDR:PORT; repeatable (default 0.0.0.0:587)",
		 "ADDR:PORT"},
		{"submissions", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.submissions,
		 "Listen for implicit-TLS submission on ADDR:PORT; repeatable (default "
		 "0.0.0.0:465)",
		 "ADDR:PORT"},
		{"http", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.http,
		 "Serve mail-client autoconfig over plain HTTP on ADDR:PORT, port 80 unless "
		 "given; repeatable (default: off; see --http-allow-plain)",
		 "ADDR:PORT"},
		{"https", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.https,
		 "Serve autoconfig, autodiscover, Apple profiles and the MTA-STS policy over "
		 "HTTPS on ADDR:PORT with the TLS certificate, port 443 unless given; "
		 "repeatable (default: off)",
		 "ADDR:PORT"},
		{"http-allow-plain", 0, 0, G_OPTION_ARG_NONE, &flags.http_allow_plain,
		 "Answer autoconfig, autodiscover and profile requests on the --http "
		 "listeners too (default: HTTPS only)",
		 NULL},
		{"sendmail-socket", 0, 0, G_OPTION_ARG_FILENAME, &flags.sendmail_socket,
		 "Take mail from outpost-sendmail on the UNIX socket PATH; \"\" turns it off "
		 "(default " OP_DEFAULT_SENDMAIL_SOCKET ", or sendmail.sock in a state "
		 "directory given with --state-dir or --dev)",
		 "PATH"},
		{"resolver", 0, 0, G_OPTION_ARG_STRING, &flags.resolver,
		 "Send every DNS query to ADDR, port 53 unless given (default: first nameserver "
		 "in /etc/resolv.conf)",
		 "ADDR[:PORT]"},
		{"delivery-port", 0, 0, G_OPTION_ARG_INT, &flags.delivery_port,
		 "Deliver to this TCP port on each MX (default 25)", "PORT"},
		{"retry-min", 0, 0, G_OPTION_ARG_INT, &flags.retry_min,
		 "First retry delay in seconds after a temporary failure, doubling up to "
		 "--retry-max (default 300)",
		 "SECONDS"},
		{"retry-max", 0, 0, G_OPTION_ARG_INT, &flags.retry_max,
		 "Longest retry delay in seconds (default 14400)", "SECONDS"},
		{"message-lifetime", 0, 0, G_OPTION_ARG_INT64, &flags.message_lifetime,
		 "Bounce a message still undelivered after SECONDS (default 432000, 5 days)",
		 "SECONDS"},
		{"delay-warning", 0, 0, G_OPTION_ARG_INT64, &flags.delay_warning,
		 "Warn the sender once when a message is still queued after SECONDS; 0 turns it "
		 "off (default 14400)",
		 "SECONDS"},
		{"trusted-networks", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.trusted_networks,
		 "Let clients in CIDR relay without AUTH; repeatable (default: none)", "CIDR"},
		{"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &flags.tls_cert,
		 "PEM certificate chain (default: a self-signed one made in the state directory)",
		 "FILE"},
		{"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &flags.tls_key,
		 "PEM private key for --tls-cert", "FILE"},
		{"user", 0, 0, G_OPTION_ARG_STRING, &flags.user,
		 "When started as root, switch to USER once the ports are bound (default: stay "
		 "as the starting user)",
		 "USER"},
		{"max-message-size", 0, 0, G_OPTION_ARG_INT64, &flags.max_message_size,
		 "Largest message accepted, in octets (default 26214400)", "OCTETS"},
		{"sending-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.sending_addresses,
		 "A public IP address mail leaves from, for SPF, reverse DNS and blocklist "
		 "checks; repeatable (default: the addresses of --hostname)",
		 "ADDR"},
		{"dnsbl-zone", 0, 0, G_OPTION_ARG_STRING_ARRAY, &flags.dnsbl_zones,
		 "Check the sending addresses against the DNS blocklist ZONE; repeatable "
		 "(default: none)",
		 "ZONE"},
		{"authoritative-port", 0, 0, G_OPTION_ARG_INT, &flags.authoritative_port,
		 "Query authoritative DNS servers on PORT in deliverability checks (default 53)",
		 "PORT"},
		{"dkim-grace", 0, 0, G_OPTION_ARG_INT64, &flags.dkim_grace,
		 "Keep a replaced DKIM key's record published for SECONDS (default 604800, "
		 "7 days)",
		 "SECONDS"},
		{"dkim-check-interval", 0, 0, G_OPTION_ARG_INT, &flags.dkim_check_interval,
		 "Look for new DKIM keys' records in DNS every SECONDS (default 600)",
		 "SECONDS"},
		{NULL}};
	g_autoptr(GOptionContext) context = g_option_context_new("- Outpost mail submission and delivery daemon");

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, argc, argv, error))
		return FALSE;

	if (flags.dev_mode)
		apply_dev_defaults(config);
	config->dev_mode = flags.dev_mode;

	/* The config file is optional only when it was not named explicitly. */
	config->config_file = g_strdup(flags.config_file ? flags.config_file
					  : flags.dev_mode ? NULL
							   : OP_DEFAULT_CONFIG_FILE);
	if (config->config_file != NULL &&
	    (flags.config_file != NULL || g_file_test(config->config_file, G_FILE_TEST_EXISTS))) {
		if (!op_config_load_key_file(config, config->config_file, error))
			return FALSE;
	}

	replace_string(&config->state_dir, flags.state_dir);
	replace_string(&config->hostname, flags.hostname);
	replace_list(&config->submission_listen, flags.submission);
	replace_list(&config->submissions_listen, flags.submissions);
	replace_list(&config->http_listen, flags.http);
	replace_list(&config->https_listen, flags.https);
	if (flags.http_allow_plain)
		config->http_allow_plain = TRUE;
	replace_string(&config->sendmail_socket, flags.sendmail_socket);
	if (config->sendmail_socket == NULL)
		config->sendmail_socket = dup_default_sendmail_socket(
			config, flags.state_dir != NULL || flags.dev_mode);
	replace_string(&config->dns_resolver, flags.resolver);
	replace_list(&config->trusted_networks, flags.trusted_networks);
	replace_string(&config->tls_cert, flags.tls_cert);
	replace_string(&config->tls_key, flags.tls_key);
	replace_string(&config->user, flags.user);
	if (flags.session_bus)
		config->session_bus = TRUE;
	if (flags.delivery_port < 0 || flags.delivery_port > 65535 || flags.retry_min < 0 ||
	    flags.retry_max < 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid number: ports range from 1 to 65535 and delays are positive");
		return FALSE;
	}
	if (flags.delivery_port > 0)
		config->delivery_port = (guint)flags.delivery_port;
	if (flags.retry_min > 0)
		config->retry_min = (guint)flags.retry_min;
	if (flags.retry_max > 0)
		config->retry_max = (guint)flags.retry_max;
	else if (flags.retry_min > 0 && config->retry_max < config->retry_min)
		config->retry_max = config->retry_min;
	if (flags.message_lifetime >= 0)
		config->message_lifetime = (guint64)flags.message_lifetime;
	if (flags.delay_warning >= 0)
		config->delay_warning = (guint64)flags.delay_warning;
	if (flags.max_message_size >= 0)
		config->max_message_size = (guint64)flags.max_message_size;
	replace_list(&config->sending_addresses, flags.sending_addresses);
	replace_list(&config->dnsbl_zones, flags.dnsbl_zones);
	if (flags.authoritative_port < 0 || flags.authoritative_port > 65535 ||
	    flags.dkim_check_interval < 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid number: --authoritative-port ranges from 1 to 65535 and "
			    "--dkim-check-interval is positive");
		return FALSE;
	}
	if (flags.authoritative_port > 0)
		config->authoritative_port = (guint)flags.authoritative_port;
	if (flags.dkim_grace >= 0)
		config->dkim_grace = (guint64)flags.dkim_grace;
	if (flags.dkim_check_interval > 0)
		config->dkim_check_interval = (guint)flags.dkim_check_interval;

	return check_config(config, error);
}
