/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Small widgets and helpers the pages share: toasts and error dialogs,
 * confirmation dialogs, copy buttons, icon and mnemonic buttons with
 * accessible labels, and GtkColumnView columns bound to OpRecord keys.
 */
#pragma once

#include "op-record.h"

#include <adwaita.h>

G_BEGIN_DECLS

/* Formats the value of key in a record for a column cell. */
typedef char *(*OpRecordFormatFunc)(OpRecord *record, const char *key);

typedef void (*OpConfirmFunc)(gpointer user_data);

void op_show_toast(GtkWidget *widget, const char *text);
void op_show_error(GtkWidget *widget, const char *heading, const GError *error);
void op_confirm(GtkWidget *widget, const char *heading, const char *body, const char *action,
		gboolean destructive, OpConfirmFunc callback, gpointer user_data,
		GDestroyNotify destroy);
GtkWidget *op_icon_button_new(const char *icon_name, const char *label);
GtkWidget *op_button_new_with_mnemonic(const char *label);
GtkWidget *op_toggle_button_new_with_mnemonic(const char *label);
GtkWidget *op_copy_button_new(const char *what, const char *text);
GtkWidget *op_copy_row_new(const char *title, const char *value);
GtkColumnViewColumn *op_record_column_new(const char *title, const char *key,
					  OpRecordFormatFunc format, gboolean expand);
char *op_record_format_string(OpRecord *record, const char *key);
char *op_record_format_time(OpRecord *record, const char *key);
char *op_record_format_size(OpRecord *record, const char *key);
char *op_record_format_number(OpRecord *record, const char *key);
GtkWidget *op_page_scroller_new(GtkWidget *child);
void op_page_add_refresh(GtkWidget *page, GCallback refresh);

G_END_DECLS
