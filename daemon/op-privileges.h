/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Leaving root: outpostd binds its ports and reads its TLS key as root when
 * it must, then becomes an unprivileged user before it parses any input.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean op_privileges_chown(const char *path, const char *user, GError **error);
gboolean op_privileges_drop(const char *user, GError **error);

G_END_DECLS
