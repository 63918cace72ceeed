/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server settings that the admin API changes (GetSettings, SetSettings):
 * their keys, types and checks, their text form in the store's settings
 * table, and how they apply over the config file at start and at Reload.
 */
#pragma once

#include <gio/gio.h>

#include "op-config.h"

G_BEGIN_DECLS

/* RFC 5321 §4.5.3.1.7: a server must accept messages of at least 64K octets. */
#define OP_SETTINGS_MIN_MESSAGE_SIZE 65536
#define OP_SETTINGS_MAX_LISTEN 16
#define OP_SETTINGS_MAX_PATH 255
/* Characters of a caller's value that an error message repeats. */
#define OP_SETTINGS_SHOWN_CHARS 60
/* Octets of a smarthost user name or password; RFC 4616 §2 allows 255 each. */
#define OP_SETTINGS_MAX_CREDENTIAL 255

typedef struct {
	char *hostname;
	char **submission_listen;  /* "ADDR:PORT", NULL-terminated */
	char **submissions_listen;
	char *tls_cert;		   /* absolute paths of PEM files */
	char *tls_key;
	guint64 max_message_size;  /* octets */
	guint64 message_lifetime;  /* seconds */
	char *smarthost;	   /* "host:port", or "" to deliver by MX */
	char *smarthost_user;	   /* "" sends no AUTH */
	char *smarthost_password;  /* write-only: GetSettings never returns it */
	char *smarthost_ca_file;   /* absolute path of a PEM file, or "" for the system store */
} OpSettings;

/* Copies the values the config file and the flags gave. */
OpSettings *op_settings_new_from_config(const OpConfig *config);
OpSettings *op_settings_copy(const OpSettings *settings);
void op_settings_free(OpSettings *settings);

/* Checks the text form of one setting and stores it in settings. A list is
 * its entries joined with ",". On error settings is unchanged. */
gboolean op_settings_set_text(OpSettings *settings, const char *key, const char *text,
			      GError **error);
/* Returns the text form of one setting, as the settings table stores it. */
char *op_settings_dup_text(const OpSettings *settings, const char *key);

/* Applies the stored key/text table over settings. A value that no longer
 * passes its check is skipped, and a sentence saying so is added to
 * problems when it is not NULL. */
void op_settings_apply_stored(OpSettings *settings, GHashTable *stored, GPtrArray *problems);

/* Checks a SetSettings dictionary: known keys, their D-Bus types and their
 * values. Returns a table of key to text form, or NULL with an error. */
GHashTable *op_settings_parse_variant(GVariant *dict, GError **error);

gboolean op_settings_check_hostname(const char *hostname, GError **error);
/* Returns value as an error message may repeat it: valid UTF-8 without
 * control characters, cut to max_chars characters with "..." added. */
char *op_settings_dup_shown(const char *value, glong max_chars);
gboolean op_settings_check_smarthost(const char *smarthost, GError **error);

/* At start, before any thread runs: sets every field of config. */
void op_config_apply_settings(OpConfig *config, const OpSettings *settings);
/* At Reload, on the main loop: sets only the fields that may change while
 * the daemon runs (hostname, TLS paths, sizes, lifetime, smarthost).
 * Replaced strings stay allocated until the config is freed, so a worker
 * thread that read the old pointer can go on using it. */
void op_config_reload_settings(OpConfig *config, const OpSettings *settings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSettings, op_settings_free)

G_END_DECLS
