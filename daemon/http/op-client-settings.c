/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Builds the per-domain mail-client settings from outpostd's host name and
 * the incoming servers stored with the domain.
 */
#include "http/op-client-settings.h"

#include "op-config.h"
#include "op-error.h"

#include <string.h>

gboolean
op_client_settings_port_is_implicit_tls(guint port)
{
	/* RFC 8314 §3.3 (465), §5.1 (993 IMAP, 995 POP3). Other ports, such as 143
	 * and 110, are taken for STARTTLS, because a plain-text login is never
	 * offered to clients. */
	return port == 465 || port == 993 || port == 995;
}

static OpMailServer *
parse_server(const char *text, guint default_port, GError **error)
{
	g_autofree char *host = NULL;
	guint port = 0;
	OpMailServer *server;

	if (text == NULL || *text == '\0')
		return NULL;
	if (!op_parse_host_port(text, default_port, &host, &port, error))
		return NULL;
	server = g_new0(OpMailServer, 1);
	server->host = g_steal_pointer(&host);
	server->port = port;
	server->implicit_tls = op_client_settings_port_is_implicit_tls(port);
	return server;
}

static void
mail_server_free(OpMailServer *server)
{
	if (server == NULL)
		return;
	g_free(server->host);
	g_free(server);
}

OpClientSettings *
op_client_settings_new(const char *domain, const char *smtp_host, const char *imap_server,
		       const char *pop3_server, GError **error)
{
	g_autoptr(OpClientSettings) settings = g_new0(OpClientSettings, 1);
	GError *local_error = NULL;

	g_return_val_if_fail(domain != NULL && smtp_host != NULL, NULL);

	settings->domain = g_ascii_strdown(domain, -1);
	settings->smtp_host = g_strdup(smtp_host);
	settings->imap = parse_server(imap_server, 993, &local_error);
	if (local_error == NULL)
		settings->pop3 = parse_server(pop3_server, 995, &local_error);
	if (local_error != NULL) {
		g_propagate_prefixed_error(error, local_error,
					   "invalid incoming server of the domain %s: ", domain);
		return NULL;
	}
	return g_steal_pointer(&settings);
}

void
op_client_settings_free(OpClientSettings *settings)
{
	if (settings == NULL)
		return;
	g_free(settings->domain);
	g_free(settings->smtp_host);
	mail_server_free(settings->imap);
	mail_server_free(settings->pop3);
	g_free(settings);
}

char *
op_client_settings_dup_domain_of(const char *address)
{
	const char *at;

	if (address == NULL)
		return NULL;
	at = strrchr(address, '@');
	if (at == NULL || at[1] == '\0')
		return NULL;
	return g_ascii_strdown(at + 1, -1);
}
