/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Exports the administration API (data/io.github.outpostmail.Outpost1.xml)
 * on the system or session bus. Each method runs in a worker thread.
 */
#pragma once

#include "op-admin.h"

G_BEGIN_DECLS

#define OP_DBUS_NAME "io.github.outpostmail.Outpost1"
#define OP_DBUS_PATH "/io/github/outpostmail/Outpost1"

typedef struct _OpDbusService OpDbusService;

/* Owns the bus name; ready_cb runs once the name is ours, and lost_cb
 * when it could not be acquired or was lost. */
OpDbusService *op_dbus_service_new(OpAdmin *admin, gboolean session_bus, GCallback ready_cb,
				   GCallback lost_cb, gpointer user_data);
void op_dbus_service_free(OpDbusService *service);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpDbusService, op_dbus_service_free)

G_END_DECLS
