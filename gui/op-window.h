/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpWindow: the admin app's main window. A sidebar lists the pages; when
 * the daemon is not running or refuses the user, a status page explains it
 * and what to do, in place of empty lists.
 */
#pragma once

#include "op-client.h"

#include <adwaita.h>

G_BEGIN_DECLS

#define OP_TYPE_WINDOW (op_window_get_type())
G_DECLARE_FINAL_TYPE(OpWindow, op_window, OP, WINDOW, AdwApplicationWindow)

OpWindow *op_window_new(AdwApplication *application, OpClient *client);
void op_window_show_toast(OpWindow *self, const char *text);
void op_window_show_page(OpWindow *self, const char *name);
GtkWidget *op_window_get_page(OpWindow *self, const char *name);
OpClient *op_window_get_client(OpWindow *self);

G_END_DECLS
