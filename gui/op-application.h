/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpApplication: the admin app `outpost`, io.github.outpostmail.Outpost.
 * It talks to outpostd on the system bus, or with --session-bus to a
 * daemon on the session bus (for development and tests).
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define OP_TYPE_APPLICATION (op_application_get_type())
G_DECLARE_FINAL_TYPE(OpApplication, op_application, OP, APPLICATION, AdwApplication)

OpApplication *op_application_new(void);

G_END_DECLS
