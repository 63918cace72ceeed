/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The settings a mail client needs for one managed domain: outpostd's
 * submission server and the incoming servers the admin set for the domain.
 * The autoconfig, autodiscover and Apple profile writers all read this.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The public submission ports: RFC 6409 (STARTTLS) and RFC 8314 §3.3 (implicit
 * TLS). They are what clients and the SRV records name, whatever port
 * outpostd itself listens on behind a port forward. */
#define OP_SUBMISSION_PORT 587
#define OP_SUBMISSIONS_PORT 465

typedef struct {
	char *host;
	guint port;
	/* TRUE for implicit TLS (ports 465, 993, 995), FALSE for STARTTLS. */
	gboolean implicit_tls;
} OpMailServer;

typedef struct {
	char *domain;	   /* the managed domain in A-label form */
	char *smtp_host;   /* outpostd's host name */
	OpMailServer *imap; /* NULL when the domain has no IMAP server */
	OpMailServer *pop3; /* NULL when the domain has no POP3 server */
} OpClientSettings;

/* Builds the settings of domain. imap_server and pop3_server are "HOST:PORT" as
 * the store keeps them, or "" (or NULL) for none. */
OpClientSettings *op_client_settings_new(const char *domain, const char *smtp_host,
					 const char *imap_server, const char *pop3_server,
					 GError **error);
void op_client_settings_free(OpClientSettings *settings);

/* Returns TRUE when port is an implicit-TLS port (465, 993, 995). */
gboolean op_client_settings_port_is_implicit_tls(guint port);

/* Returns the domain part of address in lower case, or NULL when address has no
 * '@' or an empty domain. */
char *op_client_settings_dup_domain_of(const char *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpClientSettings, op_client_settings_free)

G_END_DECLS
