/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One table describes each setting the admin API can change: its key, its
 * D-Bus type, where it lives in OpSettings and how its value is checked.
 * Checks here need no daemon state. Whether a certificate and key load
 * together is checked by the caller (op-admin-settings.c).
 */
#include "op-settings.h"

#include "op-error.h"

#include <string.h>

typedef enum {
	OP_SETTING_STRING, /* D-Bus "s" */
	OP_SETTING_LIST,   /* D-Bus "as", stored joined with "," */
	OP_SETTING_NUMBER, /* D-Bus "t", stored in decimal */
} OpSettingType;

typedef struct _OpSettingKey OpSettingKey;

/* Checks one string or one list entry. */
typedef gboolean (*OpSettingCheck)(const OpSettingKey *key, const char *value, GError **error);

struct _OpSettingKey {
	const char *name;
	OpSettingType type;
	gsize offset; /* of the field in OpSettings */
	OpSettingCheck check;
	guint64 min;  /* numbers only */
	guint64 max;
	const char *unit;
};

static gboolean check_hostname(const OpSettingKey *key, const char *value, GError **error);
static gboolean check_listen(const OpSettingKey *key, const char *value, GError **error);
static gboolean check_file(const OpSettingKey *key, const char *value, GError **error);
static gboolean check_smarthost(const OpSettingKey *key, const char *value, GError **error);
static gboolean check_credential(const OpSettingKey *key, const char *value, GError **error);
static gboolean check_optional_file(const OpSettingKey *key, const char *value,
				    GError **error);

static const OpSettingKey op_setting_keys[] = {
	{"hostname", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, hostname), check_hostname},
	{"submission-listen", OP_SETTING_LIST, G_STRUCT_OFFSET(OpSettings, submission_listen),
	 check_listen},
	{"submissions-listen", OP_SETTING_LIST, G_STRUCT_OFFSET(OpSettings, submissions_listen),
	 check_listen},
	{"tls-cert", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, tls_cert), check_file},
	{"tls-key", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, tls_key), check_file},
	{"max-message-size", OP_SETTING_NUMBER, G_STRUCT_OFFSET(OpSettings, max_message_size),
	 NULL, OP_SETTINGS_MIN_MESSAGE_SIZE, G_MAXUINT32, "octets"},
	/* A lifetime under a minute would bounce mail before its first retry. */
	{"message-lifetime", OP_SETTING_NUMBER, G_STRUCT_OFFSET(OpSettings, message_lifetime),
	 NULL, 60, G_MAXUINT32, "seconds"},
	{"smarthost", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, smarthost), check_smarthost},
	{"smarthost-user", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, smarthost_user),
	 check_credential},
	{"smarthost-password", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, smarthost_password),
	 check_credential},
	{"smarthost-ca-file", OP_SETTING_STRING, G_STRUCT_OFFSET(OpSettings, smarthost_ca_file),
	 check_optional_file},
};

char *
op_settings_dup_shown(const char *value, glong max_chars)
{
	g_autofree char *valid = g_utf8_make_valid(value, -1);
	GString *shown = g_string_new(NULL);
	glong count = 0;

	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p), count++) {
		gunichar c = g_utf8_get_char(p);

		if (count == max_chars) {
			g_string_append(shown, "...");
			break;
		}
		if (g_unichar_iscntrl(c))
			g_string_append_c(shown, '?');
		else
			g_string_append_unichar(shown, c);
	}
	return g_string_free(shown, FALSE);
}

static char *
dup_shown(const char *value)
{
	return op_settings_dup_shown(value, OP_SETTINGS_SHOWN_CHARS);
}

static const OpSettingKey *
find_key(const char *name, GError **error)
{
	g_autofree char *shown = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(op_setting_keys); i++) {
		if (g_strcmp0(op_setting_keys[i].name, name) == 0)
			return &op_setting_keys[i];
	}
	shown = dup_shown(name);
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "unknown setting \"%s\": use hostname, submission-listen, submissions-listen, "
		    "tls-cert, tls-key, max-message-size, message-lifetime, smarthost, "
		    "smarthost-user, smarthost-password or smarthost-ca-file",
		    shown);
	return NULL;
}

/* ---- Checks ------------------------------------------------------------- */

static gboolean
is_dns_name(const char *name)
{
	g_auto(GStrv) labels = NULL;
	gsize len = strlen(name);

	if (len == 0 || len > 253 || g_hostname_is_ip_address(name))
		return FALSE;
	labels = g_strsplit(name, ".", -1);
	for (guint i = 0; labels[i] != NULL; i++) {
		gsize label_len = strlen(labels[i]);

		/* RFC 1123 §2.1: letters, digits and inner hyphens, 63 at most. */
		if (label_len == 0 || label_len > 63 || labels[i][0] == '-' ||
		    labels[i][label_len - 1] == '-')
			return FALSE;
		for (gsize j = 0; j < label_len; j++) {
			if (!g_ascii_isalnum(labels[i][j]) && labels[i][j] != '-')
				return FALSE;
		}
	}
	return TRUE;
}

/* The EHLO name is a domain (RFC 5321 §4.1.1.1), which the greeting and
 * the generated DNS records use unchanged, so an address is not accepted. */
gboolean
op_settings_check_hostname(const char *hostname, GError **error)
{
	if (!is_dns_name(hostname)) {
		g_autofree char *shown = dup_shown(hostname);

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid hostname \"%s\": use a DNS name of letters, digits, hyphens "
			    "and dots, such as mail.example.org",
			    shown);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_hostname(const OpSettingKey *key, const char *value, GError **error)
{
	return op_settings_check_hostname(value, error);
}

static gboolean
check_listen(const OpSettingKey *key, const char *value, GError **error)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) address = NULL;
	guint port = 0;

	/* The listeners bind to IP addresses only, as op_smtp_server_listen does. */
	if (!op_parse_host_port(value, 0, &host, &port, NULL) ||
	    (address = g_inet_address_new_from_string(host)) == NULL || port == 0) {
		g_autofree char *shown = dup_shown(value);

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s address \"%s\": expected an IP address and a port from 1 "
			    "to 65535, such as 0.0.0.0:587 or [::]:587",
			    key->name, shown);
		return FALSE;
	}
	return TRUE;
}

/* The daemon reads the file, so a path relative to the caller's directory
 * would name another file. */
static gboolean
check_file(const OpSettingKey *key, const char *value, GError **error)
{
	g_autofree char *shown = dup_shown(value);

	if (!g_path_is_absolute(value) || strlen(value) > OP_SETTINGS_MAX_PATH) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s \"%s\": give an absolute path of at most %d octets, such "
			    "as /etc/outpost/tls/fullchain.pem",
			    key->name, shown, OP_SETTINGS_MAX_PATH);
		return FALSE;
	}
	if (!g_file_test(value, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the %s file %s does not exist or is not a regular file", key->name,
			    shown);
		return FALSE;
	}
	return TRUE;
}

gboolean
op_settings_check_smarthost(const char *smarthost, GError **error)
{
	g_autofree char *host = NULL;
	guint port = 0;

	if (*smarthost == '\0')
		return TRUE;
	if (!op_parse_host_port(smarthost, 0, &host, &port, NULL) || port == 0 ||
	    (!is_dns_name(host) && !g_hostname_is_ip_address(host))) {
		g_autofree char *shown = dup_shown(smarthost);

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid smarthost \"%s\": expected host:port, such as "
			    "email-smtp.eu-west-1.amazonaws.com:587, or \"\" to deliver by MX",
			    shown);
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_smarthost(const OpSettingKey *key, const char *value, GError **error)
{
	return op_settings_check_smarthost(value, error);
}

/* The value goes into AUTH PLAIN, where a NUL separates the parts (RFC 4616
 * §2), so control characters are rejected. The error never repeats the
 * value, because it may be a password. */
static gboolean
check_credential(const OpSettingKey *key, const char *value, GError **error)
{
	gboolean valid = strlen(value) <= OP_SETTINGS_MAX_CREDENTIAL &&
			 g_utf8_validate(value, -1, NULL);

	for (const char *p = value; valid && *p != '\0'; p++)
		valid = (guchar)*p >= 0x20 && *p != 0x7f;
	if (!valid) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s: give at most %d octets of UTF-8 text without control "
			    "characters",
			    key->name, OP_SETTINGS_MAX_CREDENTIAL);
		return FALSE;
	}
	return TRUE;
}

/* "" stands for the default, such as the system's trust store. */
static gboolean
check_optional_file(const OpSettingKey *key, const char *value, GError **error)
{
	return *value == '\0' || check_file(key, value, error);
}

/* ---- Text form ---------------------------------------------------------- */

static gboolean
parse_list(const OpSettingKey *key, const char *text, char ***list, GError **error)
{
	g_auto(GStrv) entries = *text == '\0' ? g_new0(char *, 1) : g_strsplit(text, ",", -1);

	if (g_strv_length(entries) > OP_SETTINGS_MAX_LISTEN) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "too many %s addresses: give at most %d", key->name,
			    OP_SETTINGS_MAX_LISTEN);
		return FALSE;
	}
	for (guint i = 0; entries[i] != NULL; i++) {
		if (!key->check(key, entries[i], error))
			return FALSE;
	}
	*list = g_steal_pointer(&entries);
	return TRUE;
}

static gboolean
parse_number(const OpSettingKey *key, const char *text, guint64 *number, GError **error)
{
	if (!g_ascii_string_to_unsigned(text, 10, key->min, key->max, number, NULL)) {
		g_autofree char *shown = dup_shown(text);

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s \"%s\": expected %" G_GUINT64_FORMAT
			    " to %" G_GUINT64_FORMAT " %s",
			    key->name, shown, key->min, key->max, key->unit);
		return FALSE;
	}
	return TRUE;
}

gboolean
op_settings_set_text(OpSettings *settings, const char *key_name, const char *text,
		     GError **error)
{
	const OpSettingKey *key = find_key(key_name, error);
	gpointer field;
	char **list = NULL;
	guint64 number = 0;

	if (key == NULL)
		return FALSE;
	field = G_STRUCT_MEMBER_P(settings, key->offset);
	switch (key->type) {
	case OP_SETTING_STRING:
		if (!key->check(key, text, error))
			return FALSE;
		g_free(*(char **)field);
		*(char **)field = g_strdup(text);
		return TRUE;
	case OP_SETTING_LIST:
		if (!parse_list(key, text, &list, error))
			return FALSE;
		g_strfreev(*(char ***)field);
		*(char ***)field = list;
		return TRUE;
	case OP_SETTING_NUMBER:
	default:
		if (!parse_number(key, text, &number, error))
			return FALSE;
		*(guint64 *)field = number;
		return TRUE;
	}
}

char *
op_settings_dup_text(const OpSettings *settings, const char *key_name)
{
	const OpSettingKey *key = find_key(key_name, NULL);
	gconstpointer field;

	g_return_val_if_fail(key != NULL, NULL);
	field = G_STRUCT_MEMBER_P(settings, key->offset);
	switch (key->type) {
	case OP_SETTING_STRING:
		return g_strdup(*(char *const *)field ? *(char *const *)field : "");
	case OP_SETTING_LIST:
		return *(char **const *)field ? g_strjoinv(",", *(char **const *)field)
					     : g_strdup("");
	case OP_SETTING_NUMBER:
	default:
		return g_strdup_printf("%" G_GUINT64_FORMAT, *(const guint64 *)field);
	}
}

void
op_settings_apply_stored(OpSettings *settings, GHashTable *stored, GPtrArray *problems)
{
	GHashTableIter iter;
	gpointer key;
	gpointer text;

	g_hash_table_iter_init(&iter, stored);
	while (g_hash_table_iter_next(&iter, &key, &text)) {
		g_autoptr(GError) error = NULL;

		if (!op_settings_set_text(settings, key, text, &error) && problems != NULL)
			g_ptr_array_add(problems,
					g_strdup_printf("ignoring the stored setting %s: %s",
							(const char *)key, error->message));
	}
}

/* ---- D-Bus form --------------------------------------------------------- */

static const char *const op_setting_dbus_types[] = {
	[OP_SETTING_STRING] = "s",
	[OP_SETTING_LIST] = "as",
	[OP_SETTING_NUMBER] = "t",
};

static char *
dup_variant_text(GVariant *value)
{
	g_autofree const char **list = NULL;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(value, NULL);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
		return g_strdup_printf("%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
	list = g_variant_get_strv(value, NULL);
	/* A "," inside an entry would split it when read back, so it is
	 * rejected here even though no valid listen address contains one. */
	for (guint i = 0; list[i] != NULL; i++) {
		if (strchr(list[i], ',') != NULL || *list[i] == '\0')
			return NULL;
	}
	return g_strjoinv(",", (char **)list);
}

static gboolean
parse_entry(const char *name, GVariant *value, GHashTable *changes, GError **error)
{
	const OpSettingKey *key = find_key(name, error);
	g_autoptr(OpSettings) scratch = g_new0(OpSettings, 1);
	g_autofree char *text = NULL;
	const char *type;

	if (key == NULL)
		return FALSE;
	type = op_setting_dbus_types[key->type];
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE(type))) {
		g_autofree char *shown = dup_shown(g_variant_get_type_string(value));

		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the setting %s has the D-Bus type \"%s\", not \"%s\"", name, type,
			    shown);
		return FALSE;
	}
	text = dup_variant_text(value);
	if (text == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid %s: an address is empty or contains \",\"", name);
		return FALSE;
	}
	if (!op_settings_set_text(scratch, name, text, error))
		return FALSE;
	g_hash_table_insert(changes, g_strdup(name), g_steal_pointer(&text));
	return TRUE;
}

GHashTable *
op_settings_parse_variant(GVariant *dict, GError **error)
{
	g_autoptr(GHashTable) changes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							       g_free);
	GVariantIter iter;
	const char *name;
	GVariant *value;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &value)) {
		g_autoptr(GVariant) owned = value;

		if (!parse_entry(name, value, changes, error))
			return NULL;
	}
	if (g_hash_table_size(changes) == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "no settings given: name at least one, such as hostname");
		return NULL;
	}
	return g_steal_pointer(&changes);
}

/* ---- Copies and the config ---------------------------------------------- */

OpSettings *
op_settings_new_from_config(const OpConfig *config)
{
	OpSettings *settings = g_new0(OpSettings, 1);

	settings->hostname = g_strdup(config->hostname);
	settings->submission_listen = g_strdupv(config->submission_listen);
	settings->submissions_listen = g_strdupv(config->submissions_listen);
	settings->tls_cert = g_strdup(config->tls_cert);
	settings->tls_key = g_strdup(config->tls_key);
	settings->max_message_size = config->max_message_size;
	settings->message_lifetime = config->message_lifetime;
	settings->smarthost = g_strdup(config->smarthost ? config->smarthost : "");
	settings->smarthost_user = g_strdup(config->smarthost_user ? config->smarthost_user : "");
	settings->smarthost_password = g_strdup(
		config->smarthost_password ? config->smarthost_password : "");
	settings->smarthost_ca_file = g_strdup(
		config->smarthost_ca_file ? config->smarthost_ca_file : "");
	return settings;
}

OpSettings *
op_settings_copy(const OpSettings *settings)
{
	OpSettings *copy = g_new0(OpSettings, 1);

	copy->hostname = g_strdup(settings->hostname);
	copy->submission_listen = g_strdupv(settings->submission_listen);
	copy->submissions_listen = g_strdupv(settings->submissions_listen);
	copy->tls_cert = g_strdup(settings->tls_cert);
	copy->tls_key = g_strdup(settings->tls_key);
	copy->max_message_size = settings->max_message_size;
	copy->message_lifetime = settings->message_lifetime;
	copy->smarthost = g_strdup(settings->smarthost);
	copy->smarthost_user = g_strdup(settings->smarthost_user);
	copy->smarthost_password = g_strdup(settings->smarthost_password);
	copy->smarthost_ca_file = g_strdup(settings->smarthost_ca_file);
	return copy;
}

void
op_settings_free(OpSettings *settings)
{
	if (settings == NULL)
		return;
	g_free(settings->hostname);
	g_strfreev(settings->submission_listen);
	g_strfreev(settings->submissions_listen);
	g_free(settings->tls_cert);
	g_free(settings->tls_key);
	g_free(settings->smarthost);
	g_free(settings->smarthost_user);
	if (settings->smarthost_password != NULL)
		explicit_bzero(settings->smarthost_password, strlen(settings->smarthost_password));
	g_free(settings->smarthost_password);
	g_free(settings->smarthost_ca_file);
	g_free(settings);
}

static void
replace_string(char **field, const char *value)
{
	g_free(*field);
	*field = g_strdup(value);
}

void
op_config_apply_settings(OpConfig *config, const OpSettings *settings)
{
	replace_string(&config->hostname, settings->hostname);
	g_strfreev(config->submission_listen);
	config->submission_listen = g_strdupv(settings->submission_listen);
	g_strfreev(config->submissions_listen);
	config->submissions_listen = g_strdupv(settings->submissions_listen);
	replace_string(&config->tls_cert, settings->tls_cert);
	replace_string(&config->tls_key, settings->tls_key);
	config->max_message_size = settings->max_message_size;
	config->message_lifetime = settings->message_lifetime;
	replace_string(&config->smarthost, settings->smarthost);
	replace_string(&config->smarthost_user, settings->smarthost_user);
	replace_string(&config->smarthost_password, settings->smarthost_password);
	replace_string(&config->smarthost_ca_file, settings->smarthost_ca_file);
}

/* Publishes a new string with one atomic pointer store, so a reader in
 * another thread gets the old string or the new one, never a torn pointer. */
static void
swap_string(OpConfig *config, char **field, const char *value)
{
	char *old;

	if (g_strcmp0(*field, value) == 0)
		return;
	old = g_atomic_pointer_exchange(field, g_strdup(value));
	if (old != NULL)
		g_ptr_array_add(config->retired, old);
}

void
op_config_reload_settings(OpConfig *config, const OpSettings *settings)
{
	swap_string(config, &config->hostname, settings->hostname);
	swap_string(config, &config->tls_cert, settings->tls_cert);
	swap_string(config, &config->tls_key, settings->tls_key);
	swap_string(config, &config->smarthost, settings->smarthost);
	swap_string(config, &config->smarthost_user, settings->smarthost_user);
	swap_string(config, &config->smarthost_password, settings->smarthost_password);
	swap_string(config, &config->smarthost_ca_file, settings->smarthost_ca_file);
	__atomic_store_n(&config->max_message_size, settings->max_message_size, __ATOMIC_RELAXED);
	__atomic_store_n(&config->message_lifetime, settings->message_lifetime, __ATOMIC_RELAXED);
}
