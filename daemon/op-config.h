/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Server configuration: embedded defaults, then the GKeyFile, then the
 * command-line flags, each overriding the one before.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The socket outpost-sendmail uses unless --socket names another. A daemon
 * with a state directory of its own (--state-dir, --dev) keeps its socket
 * there instead, so two daemons never share one path. */
#define OP_DEFAULT_SENDMAIL_SOCKET "/run/outpost/sendmail.sock"

typedef struct {
	char *config_file;
	char *state_dir;
	gboolean session_bus;
	gboolean dev_mode;
	char *hostname;
	/* Listen addresses as "ADDR:PORT", NULL-terminated. */
	char **submission_listen;
	char **submissions_listen;
	char **http_listen;
	/* The HTTP endpoint over TLS, with tls_cert and tls_key. */
	char **https_listen;
	/* Whether plain HTTP serves autoconfig, autodiscover and profiles;
	 * MTA-STS is served over HTTPS only (RFC 8461 §3.3). */
	gboolean http_allow_plain;
	/* The UNIX socket of local submission; "" turns it off. */
	char *sendmail_socket;
	/* "ADDR[:PORT]"; NULL means the first nameserver of /etc/resolv.conf. */
	char *dns_resolver;
	guint delivery_port;
	guint retry_min;	   /* seconds */
	guint retry_max;	   /* seconds */
	guint64 message_lifetime;  /* seconds */
	guint64 delay_warning;	   /* seconds; 0 turns delay warnings off */
	char **trusted_networks;   /* CIDR strings */
	char *tls_cert;
	char *tls_key;
	char *user;		   /* drop to this user after binding; NULL keeps the uid */
	guint64 max_message_size;  /* octets */
	guint max_recipients;	   /* per message */
	guint max_sessions;	   /* concurrent SMTP sessions */
	guint max_sessions_per_client; /* concurrent sessions from one IP address */
	guint delivery_concurrency; /* delivery threads */
	guint per_destination_concurrency;
	guint session_timeout;	   /* seconds of client silence */
	/* "host:port" to relay all mail through, "" to deliver by MX. A
	 * domain's own smarthost takes precedence for its senders. */
	char *smarthost;
	/* The login at the smarthost (settings table only); "" sends no AUTH. */
	char *smarthost_user;
	char *smarthost_password;
	/* A PEM file of CA certificates that the smarthost's certificate must
	 * chain to; "" uses the system trust store. */
	char *smarthost_ca_file;
	/* Deliverability settings. sending_addresses are the public addresses
	 * mail leaves from, for the SPF, PTR and blocklist checks; when empty,
	 * the addresses of hostname are used. */
	char **sending_addresses;
	char **dnsbl_zones;
	guint authoritative_port;
	guint64 dkim_grace;	   /* seconds a retired key's record stays published */
	guint dkim_check_interval; /* seconds between checks of pending DKIM keys */
	/* Strings replaced at run time (op-settings.c), freed with the config
	 * because a worker thread may still be reading one. */
	GPtrArray *retired;
} OpConfig;

OpConfig *op_config_new(void);
void op_config_free(OpConfig *config);
gboolean op_config_parse(OpConfig *config, int *argc, char ***argv, GError **error);
gboolean op_config_load_key_file(OpConfig *config, const char *path, GError **error);
gboolean op_parse_host_port(const char *text, guint default_port, char **host, guint *port,
			    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpConfig, op_config_free)

G_END_DECLS
