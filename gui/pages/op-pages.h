/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Constructors of the admin app's pages. Each page loads its data from the
 * daemon when it is shown and offers the action "page.refresh".
 */
#pragma once

#include "op-client.h"

#include <adwaita.h>

G_BEGIN_DECLS

GtkWidget *op_overview_page_new(OpClient *client);
GtkWidget *op_domains_page_new(OpClient *client);
GtkWidget *op_accounts_page_new(OpClient *client);
GtkWidget *op_queue_page_new(OpClient *client);
GtkWidget *op_log_page_new(OpClient *client);
GtkWidget *op_client_setup_page_new(OpClient *client);
GtkWidget *op_settings_page_new(OpClient *client);

G_END_DECLS
