/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * outpostd's HTTP endpoint (libsoup 3 on the daemon's main loop): Thunderbird
 * autoconfig, Outlook autodiscover, Apple profiles and the MTA-STS policy for
 * the managed domains.
 */
#pragma once

#include "op-admin.h"
#include "op-config.h"

G_BEGIN_DECLS

typedef struct _OpHttpServer OpHttpServer;

/* Returns whether the endpoint runs: a listener is configured and the host
 * name is a real DNS name. Otherwise sets *reason (when not NULL) to a
 * sentence saying why it is off. */
gboolean op_http_server_is_enabled(OpConfig *config, const char **reason);

/* Creates the server and binds every http_listen and https_listen address;
 * the HTTPS listeners use tls_cert and tls_key. Requests get 503 until
 * op_http_server_set_admin() is called. */
OpHttpServer *op_http_server_new(OpConfig *config, GError **error);
void op_http_server_set_admin(OpHttpServer *server, OpAdmin *admin);
void op_http_server_free(OpHttpServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpHttpServer, op_http_server_free)

G_END_DECLS
