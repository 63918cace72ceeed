/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one error domain of Outpost. Each code maps to a D-Bus error name under
 * io.github.outpostmail.Outpost1.Error so that callers see the same sentence.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OP_ERROR (op_error_quark())

typedef enum {
	OP_ERROR_FAILED,
	OP_ERROR_INVALID_ARGUMENT,
	OP_ERROR_NOT_FOUND,
	OP_ERROR_EXISTS,
	OP_ERROR_ACCESS_DENIED,
	OP_ERROR_BUSY,
	/* A failure that may clear up by itself: retry later. */
	OP_ERROR_TEMPORARY,
	/* A failure that will not clear up by retrying. */
	OP_ERROR_PERMANENT,
	OP_ERROR_LAST
} OpError;

GQuark op_error_quark(void);

G_END_DECLS
