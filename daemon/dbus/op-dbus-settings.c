/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The server-settings and delivery-log methods of the admin API.
 */
#define G_LOG_DOMAIN "outpost-dbus"

#include "dbus/op-dbus-private.h"

#include "op-error.h"

const OpDbusMethod op_dbus_settings_methods[] = {
	{NULL, NULL, NULL},
};
