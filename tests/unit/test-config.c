/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the config parsers and of the settings the admin API changes:
 * "ADDR:PORT" parsing, the checks and text form of each setting, the D-Bus
 * dictionary of SetSettings, and how settings apply to a running config.
 */
#include "op-config.h"
#include "op-error.h"
#include "op-settings.h"

#include <glib/gstdio.h>

typedef struct {
	const char *text;
	gboolean valid;
	const char *host;
	guint port;
} HostPortCase;

static void
test_host_port(void)
{
	static const HostPortCase cases[] = {
		{"127.0.0.1:587", TRUE, "127.0.0.1", 587},
		{"127.0.0.1", TRUE, "127.0.0.1", 25},
		{"[::1]:465", TRUE, "::1", 465},
		{"[::1]", TRUE, "::1", 25},
		{"::1", TRUE, "::1", 25},
		{"mail.example.org:0", TRUE, "mail.example.org", 0},
		{"", FALSE, NULL, 0},
		{"[::1", FALSE, NULL, 0},
		{"[::1]x", FALSE, NULL, 0},
		{"host:65536", FALSE, NULL, 0},
		{"host:-1", FALSE, NULL, 0},
		{"host:", FALSE, NULL, 0},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *host = NULL;
		guint port = 0;
		gboolean ok = op_parse_host_port(cases[i].text, 25, &host, &port, &error);

		g_test_message("case %s", cases[i].text);
		g_assert_cmpint(ok, ==, cases[i].valid);
		if (!cases[i].valid) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			g_assert_null(host);
			continue;
		}
		g_assert_cmpstr(host, ==, cases[i].host);
		g_assert_cmpuint(port, ==, cases[i].port);
	}
}

typedef struct {
	const char *key;
	const char *text;
	gboolean valid;
} SettingCase;

static void
test_setting_checks(void)
{
	static const SettingCase cases[] = {
		{"hostname", "mail.example.org", TRUE},
		{"hostname", "localhost", TRUE},
		{"hostname", "xn--bcher-kva.example", TRUE},
		{"hostname", "", FALSE},
		{"hostname", "bad host", FALSE},
		{"hostname", "-leading.example.org", FALSE},
		{"hostname", "trailing-.example.org", FALSE},
		{"hostname", "mail.example.org.", FALSE},
		{"hostname", "192.0.2.1", FALSE},
		{"hostname", "under_score.example.org", FALSE},
		{"submission-listen", "0.0.0.0:587", TRUE},
		{"submission-listen", "0.0.0.0:587,[::]:587", TRUE},
		{"submission-listen", "", TRUE},
		{"submission-listen", "0.0.0.0", FALSE},
		{"submission-listen", "0.0.0.0:0", FALSE},
		{"submission-listen", "mail.example.org:587", FALSE},
		{"submission-listen", "0.0.0.0:587,", FALSE},
		{"submissions-listen", "1.1.1.1:1,1.1.1.1:2,1.1.1.1:3,1.1.1.1:4,1.1.1.1:5,"
				       "1.1.1.1:6,1.1.1.1:7,1.1.1.1:8,1.1.1.1:9,1.1.1.1:10,"
				       "1.1.1.1:11,1.1.1.1:12,1.1.1.1:13,1.1.1.1:14,1.1.1.1:15,"
				       "1.1.1.1:16,1.1.1.1:17",
		 FALSE},
		{"tls-cert", "relative.pem", FALSE},
		{"tls-cert", "/nonexistent/cert.pem", FALSE},
		{"tls-key", "/", FALSE},
		{"max-message-size", "65536", TRUE},
		{"max-message-size", "4294967295", TRUE},
		{"max-message-size", "65535", FALSE},
		{"max-message-size", "4294967296", FALSE},
		{"max-message-size", "10k", FALSE},
		{"max-message-size", "-1", FALSE},
		{"message-lifetime", "60", TRUE},
		{"message-lifetime", "59", FALSE},
		{"smarthost", "", TRUE},
		{"smarthost", "relay.example.net:587", TRUE},
		{"smarthost", "[2001:db8::1]:25", TRUE},
		{"smarthost", "relay.example.net", FALSE},
		{"smarthost", "relay.example.net:0", FALSE},
		{"smarthost", "bad host:25", FALSE},
		{"colour", "blue", FALSE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(OpSettings) settings = g_new0(OpSettings, 1);
		g_autoptr(GError) error = NULL;
		g_autofree char *text = NULL;
		gboolean ok = op_settings_set_text(settings, cases[i].key, cases[i].text, &error);

		g_test_message("case %s=%s", cases[i].key, cases[i].text);
		g_assert_cmpint(ok, ==, cases[i].valid);
		if (!cases[i].valid) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		text = op_settings_dup_text(settings, cases[i].key);
		g_assert_cmpstr(text, ==, cases[i].text);
	}
}

static void
test_setting_file(void)
{
	g_autofree char *dir = g_dir_make_tmp("outpost-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "cert.pem", NULL);
	g_autoptr(OpSettings) settings = g_new0(OpSettings, 1);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, "x", -1, NULL));
	g_assert_true(op_settings_set_text(settings, "tls-cert", path, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(settings->tls_cert, ==, path);
	g_assert_false(op_settings_set_text(settings, "tls-cert", dir, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	g_assert_cmpstr(settings->tls_cert, ==, path);
	g_unlink(path);
	g_rmdir(dir);
}

static void
test_apply_stored(void)
{
	g_autoptr(OpConfig) config = op_config_new();
	g_autoptr(OpSettings) settings = op_settings_new_from_config(config);
	g_autoptr(GHashTable) stored = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

	g_hash_table_insert(stored, "hostname", "stored.example.org");
	g_hash_table_insert(stored, "max-message-size", "too big");
	g_hash_table_insert(stored, "submission-listen", "127.0.0.1:2587,[::1]:2587");
	g_hash_table_insert(stored, "no-such-key", "x");
	op_settings_apply_stored(settings, stored, problems);

	g_assert_cmpstr(settings->hostname, ==, "stored.example.org");
	g_assert_cmpuint(g_strv_length(settings->submission_listen), ==, 2);
	g_assert_cmpstr(settings->submission_listen[1], ==, "[::1]:2587");
	g_assert_cmpuint(settings->max_message_size, ==, config->max_message_size);
	g_assert_cmpuint(problems->len, ==, 2);
}

static GVariant *
parse_dict(const char *text, GHashTable **changes, GError **error)
{
	g_autoptr(GVariant) dict = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL,
						   NULL);

	g_assert_nonnull(dict);
	*changes = op_settings_parse_variant(dict, error);
	return g_steal_pointer(&dict);
}

static void
test_parse_variant(void)
{
	static const struct {
		const char *dict;
		const char *key; /* NULL when the dictionary is refused */
		const char *text;
	} cases[] = {
		{"{'hostname': <'mail.example.org'>}", "hostname", "mail.example.org"},
		{"{'max-message-size': <uint64 100000>}", "max-message-size", "100000"},
		{"{'submission-listen': <['0.0.0.0:587', '[::]:587']>}", "submission-listen",
		 "0.0.0.0:587,[::]:587"},
		{"{'submission-listen': <@as []>}", "submission-listen", ""},
		{"{}", NULL, NULL},
		{"{'hostname': <uint64 5>}", NULL, NULL},
		{"{'max-message-size': <'100000'>}", NULL, NULL},
		{"{'max-message-size': <100000>}", NULL, NULL},
		{"{'submission-listen': <['']>}", NULL, NULL},
		{"{'submission-listen': <'0.0.0.0:587'>}", NULL, NULL},
		{"{'hostname': <'ok.example.org'>, 'colour': <'blue'>}", NULL, NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GHashTable) changes = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) dict = parse_dict(cases[i].dict, &changes, &error);

		g_test_message("case %s", cases[i].dict);
		if (cases[i].key == NULL) {
			g_assert_null(changes);
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpuint(g_hash_table_size(changes), ==, 1);
		g_assert_cmpstr(g_hash_table_lookup(changes, cases[i].key), ==, cases[i].text);
	}
}

static void
test_reload_keeps_old_strings(void)
{
	g_autoptr(OpConfig) config = op_config_new();
	g_autoptr(OpSettings) settings = op_settings_new_from_config(config);
	const char *old_hostname = config->hostname;
	char *old_listen = config->submission_listen[0];

	g_free(settings->hostname);
	settings->hostname = g_strdup("reloaded.example.org");
	g_strfreev(settings->submission_listen);
	settings->submission_listen = g_strsplit("127.0.0.1:2587", ",", -1);
	settings->max_message_size = 100000;
	settings->message_lifetime = 3600;
	op_config_reload_settings(config, settings);

	g_assert_cmpstr(config->hostname, ==, "reloaded.example.org");
	g_assert_true(g_ptr_array_find(config->retired, old_hostname, NULL));
	g_assert_cmpuint(config->max_message_size, ==, 100000);
	g_assert_cmpuint(config->message_lifetime, ==, 3600);
	/* Listen addresses wait for the next start. */
	g_assert_true(config->submission_listen[0] == old_listen);

	op_config_apply_settings(config, settings);
	g_assert_cmpstr(config->submission_listen[0], ==, "127.0.0.1:2587");
}

static void
test_shown_value(void)
{
	static const struct {
		const char *value;
		const char *shown;
	} cases[] = {
		{"mail.example", "mail.example"},
		{"line\r\nbreak", "line??break"},
		{"abcdefghijklmnopqrstuvwxyz", "abcdefghijkl..."},
		{"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
		{"bad\xff" "byte", "bad\xef\xbf\xbd" "byte"},
		{"", ""},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *shown = op_settings_dup_shown(cases[i].value, 12);

		g_test_message("case %u", i);
		g_assert_cmpstr(shown, ==, cases[i].shown);
	}
}

static void
test_key_file_smarthost(void)
{
	g_autofree char *dir = g_dir_make_tmp("outpost-config-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "outpost.conf", NULL);
	g_autoptr(OpConfig) config = op_config_new();
	g_autoptr(GError) error = NULL;

	g_assert_cmpstr(config->smarthost, ==, "");
	g_assert_true(g_file_set_contents(path, "[server]\nsmarthost=relay.example.net:587\n",
					  -1, NULL));
	g_assert_true(op_config_load_key_file(config, path, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(config->smarthost, ==, "relay.example.net:587");
	g_unlink(path);
	g_rmdir(dir);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/host-port", test_host_port);
	g_test_add_func("/config/key-file/smarthost", test_key_file_smarthost);
	g_test_add_func("/config/settings/checks", test_setting_checks);
	g_test_add_func("/config/settings/shown-value", test_shown_value);
	g_test_add_func("/config/settings/file", test_setting_file);
	g_test_add_func("/config/settings/apply-stored", test_apply_stored);
	g_test_add_func("/config/settings/parse-variant", test_parse_variant);
	g_test_add_func("/config/settings/reload", test_reload_keeps_old_strings);
	return g_test_run();
}
