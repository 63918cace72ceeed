/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Registers the OP_ERROR domain with GDBus so that a GError raised in the
 * daemon reaches outpostctl and the app under a stable D-Bus error name.
 */
#include "op-error.h"

#include <gio/gio.h>

static const GDBusErrorEntry op_dbus_error_entries[] = {
	{OP_ERROR_FAILED, "io.github.outpostmail.Outpost1.Error.Failed"},
	{OP_ERROR_INVALID_ARGUMENT, "io.github.outpostmail.Outpost1.Error.InvalidArgument"},
	{OP_ERROR_NOT_FOUND, "io.github.outpostmail.Outpost1.Error.NotFound"},
	{OP_ERROR_EXISTS, "io.github.outpostmail.Outpost1.Error.Exists"},
	{OP_ERROR_ACCESS_DENIED, "io.github.outpostmail.Outpost1.Error.AccessDenied"},
	{OP_ERROR_BUSY, "io.github.outpostmail.Outpost1.Error.Busy"},
	{OP_ERROR_TEMPORARY, "io.github.outpostmail.Outpost1.Error.Temporary"},
	{OP_ERROR_PERMANENT, "io.github.outpostmail.Outpost1.Error.Permanent"},
};

G_STATIC_ASSERT(G_N_ELEMENTS(op_dbus_error_entries) == OP_ERROR_LAST);

GQuark
op_error_quark(void)
{
	static gsize quark = 0;

	g_dbus_error_register_error_domain("op-error-quark", &quark, op_dbus_error_entries,
					   G_N_ELEMENTS(op_dbus_error_entries));
	return (GQuark)quark;
}
