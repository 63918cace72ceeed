/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Who may send what: trusted networks that relay without AUTH, and whether
 * an authenticated account owns a sender address.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GPtrArray *op_policy_parse_networks(char **cidrs, GError **error);
gboolean op_policy_is_trusted(GPtrArray *networks, GInetAddress *address);
gboolean op_policy_account_owns(const char *account, const char *address);

G_END_DECLS
