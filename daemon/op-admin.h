/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The administration engine behind the D-Bus API: managing domains (with
 * their DKIM keys), accounts and the queue. Blocking and thread-safe, so the
 * bus layer runs each call in a worker thread and tests need no bus.
 */
#pragma once

#include "op-config.h"
#include "store/op-store.h"

G_BEGIN_DECLS

typedef struct {
	OpConfig *config;
	OpStore *store;
} OpAdmin;

gboolean op_admin_add_domain(OpAdmin *admin, const char *domain, GError **error);
gboolean op_admin_remove_domain(OpAdmin *admin, const char *domain, gboolean force,
				GError **error);
GPtrArray *op_admin_list_domains(OpAdmin *admin, GError **error);
GPtrArray *op_admin_get_dns_records(OpAdmin *admin, const char *domain, GError **error);
gboolean op_admin_add_account(OpAdmin *admin, const char *address, const char *password,
			      GError **error);
gboolean op_admin_remove_account(OpAdmin *admin, const char *address, GError **error);
gboolean op_admin_set_password(OpAdmin *admin, const char *address, const char *password,
			       GError **error);
char *op_admin_normalize_domain(const char *domain, GError **error);

G_END_DECLS
