/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared widgets for the admin app's pages. Every icon-only button gets a
 * tooltip and an accessible label, so screen readers and keyboard users
 * know what it does.
 */
#include "op-widgets.h"

#include "op-format.h"
#include "op-window.h"

#include <glib/gi18n.h>

/* Finds the app window for a widget, also from a dialog on top of it. */
static OpWindow *
find_window(GtkWidget *widget)
{
	GtkRoot *root = gtk_widget_get_root(widget);

	while (GTK_IS_WINDOW(root) && !OP_IS_WINDOW(root))
		root = GTK_ROOT(gtk_window_get_transient_for(GTK_WINDOW(root)));
	return OP_IS_WINDOW(root) ? OP_WINDOW(root) : NULL;
}

void
op_show_toast(GtkWidget *widget, const char *text)
{
	OpWindow *window = find_window(widget);

	if (window != NULL)
		op_window_show_toast(window, text);
}

/* Shows a daemon error in a dialog: the heading names what failed, the body is
 * the daemon's sentence. A cancelled call shows nothing. */
void
op_show_error(GtkWidget *widget, const char *heading, const GError *error)
{
	g_autofree char *sentence = NULL;
	GtkWidget *dialog;
	GtkRoot *root = gtk_widget_get_root(widget);

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	sentence = op_dup_error_sentence(error);
	dialog = adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, heading,
					sentence);
	adw_message_dialog_add_response(ADW_MESSAGE_DIALOG(dialog), "close", _("_Close"));
	gtk_window_present(GTK_WINDOW(dialog));
}

typedef struct {
	OpConfirmFunc callback;
	gpointer user_data;
	GDestroyNotify destroy;
} OpConfirmation;

static void
confirmation_free(gpointer data, GClosure *closure)
{
	OpConfirmation *confirmation = data;

	if (confirmation->destroy != NULL)
		confirmation->destroy(confirmation->user_data);
	g_free(confirmation);
}

static void
confirm_response_cb(AdwMessageDialog *dialog, const char *response,
		    OpConfirmation *confirmation)
{
	if (g_strcmp0(response, "confirm") == 0)
		confirmation->callback(confirmation->user_data);
}

/* Asks before an action that cannot be undone, such as deleting an account.
 * The cancel response is the default, so Enter does not destroy anything. */
void
op_confirm(GtkWidget *widget, const char *heading, const char *body, const char *action,
	   gboolean destructive, OpConfirmFunc callback, gpointer user_data,
	   GDestroyNotify destroy)
{
	GtkRoot *root = gtk_widget_get_root(widget);
	GtkWidget *dialog = adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
						   heading, body);
	AdwMessageDialog *message = ADW_MESSAGE_DIALOG(dialog);
	OpConfirmation *confirmation = g_new0(OpConfirmation, 1);

	confirmation->callback = callback;
	confirmation->user_data = user_data;
	confirmation->destroy = destroy;
	adw_message_dialog_add_responses(message, "cancel", _("_Cancel"), "confirm", action, NULL);
	adw_message_dialog_set_response_appearance(
		message, "confirm", destructive ? ADW_RESPONSE_DESTRUCTIVE : ADW_RESPONSE_SUGGESTED);
	adw_message_dialog_set_default_response(message, "cancel");
	adw_message_dialog_set_close_response(message, "cancel");
	g_signal_connect_data(dialog, "response", G_CALLBACK(confirm_response_cb), confirmation,
			      confirmation_free, 0);
	gtk_window_present(GTK_WINDOW(dialog));
}

GtkWidget *
op_icon_button_new(const char *icon_name, const char *label)
{
	GtkWidget *button = gtk_button_new_from_icon_name(icon_name);

	gtk_widget_set_tooltip_text(button, label);
	gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       label, -1);
	return button;
}

/* Sets a mnemonic button's accessible name to its text without the
 * underscores. GTK 4.8 otherwise joins its raw label and the text of the
 * mnemonic label that names it ("_Add Add"), which is what screen readers
 * and the accessibility-tree test see. A doubled "__" stands for one "_". */
static void
set_mnemonic_accessible_label(GtkWidget *button, const char *label)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (const char *p = label; *p != '\0'; p++) {
		if (*p == '_' && p[1] == '_')
			p++;
		else if (*p == '_')
			continue;
		g_string_append_c(text, *p);
	}
	gtk_accessible_reset_relation(GTK_ACCESSIBLE(button),
				      GTK_ACCESSIBLE_RELATION_LABELLED_BY);
	gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       text->str, -1);
}

GtkWidget *
op_button_new_with_mnemonic(const char *label)
{
	GtkWidget *button = gtk_button_new_with_mnemonic(label);

	set_mnemonic_accessible_label(button, label);
	return button;
}

GtkWidget *
op_toggle_button_new_with_mnemonic(const char *label)
{
	GtkWidget *button = gtk_toggle_button_new_with_mnemonic(label);

	set_mnemonic_accessible_label(button, label);
	return button;
}

static void
copy_clicked_cb(GtkButton *button, gpointer user_data)
{
	const char *text = g_object_get_data(G_OBJECT(button), "op-copy-text");

	gdk_clipboard_set_text(gtk_widget_get_clipboard(GTK_WIDGET(button)), text);
	op_show_toast(GTK_WIDGET(button), _("Copied to the clipboard"));
}

/* Makes a flat button that copies text; what names it for screen readers. */
GtkWidget *
op_copy_button_new(const char *what, const char *text)
{
	/* Translators: the label of a copy button, %s names what it copies. */
	g_autofree char *label = g_strdup_printf(_("Copy %s"), what);
	GtkWidget *button = op_icon_button_new("edit-copy-symbolic", label);

	gtk_widget_add_css_class(button, "flat");
	gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
	g_object_set_data_full(G_OBJECT(button), "op-copy-text", g_strdup(text), g_free);
	g_signal_connect(button, "clicked", G_CALLBACK(copy_clicked_cb), NULL);
	return button;
}

/* Makes a row showing a value that people copy, with a copy button. */
GtkWidget *
op_copy_row_new(const char *title, const char *value)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *button = op_copy_button_new(title, value);

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), value);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), button);
	return row;
}

typedef struct {
	char *key;
	OpRecordFormatFunc format;
} OpColumnBinding;

static void
column_binding_free(gpointer data)
{
	OpColumnBinding *binding = data;

	g_free(binding->key);
	g_free(binding);
}

static void
column_setup_cb(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
	GtkWidget *label = gtk_label_new(NULL);

	gtk_label_set_xalign(GTK_LABEL(label), 0);
	gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
	gtk_label_set_single_line_mode(GTK_LABEL(label), TRUE);
	gtk_list_item_set_child(item, label);
}

static void
update_cell(OpRecord *record, GParamSpec *pspec, GtkLabel *label)
{
	OpColumnBinding *binding = g_object_get_data(G_OBJECT(label), "op-binding");
	g_autofree char *text = NULL;

	if (op_record_is_loaded(record))
		text = binding->format(record, binding->key);
	gtk_label_set_text(label, text ? text : "…");
}

/* Binds a cell to its record, and rebinds when the record's page arrives. */
static void
column_bind_cb(GtkSignalListItemFactory *factory, GtkListItem *item, OpColumnBinding *binding)
{
	GtkWidget *label = gtk_list_item_get_child(item);
	OpRecord *record = gtk_list_item_get_item(item);

	g_object_set_data(G_OBJECT(label), "op-binding", binding);
	update_cell(record, NULL, GTK_LABEL(label));
	g_signal_connect_object(record, "notify::dict", G_CALLBACK(update_cell), label, 0);
}

static void
column_unbind_cb(GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
	GtkWidget *label = gtk_list_item_get_child(item);
	OpRecord *record = gtk_list_item_get_item(item);

	if (record != NULL)
		g_signal_handlers_disconnect_by_func(record, update_cell, label);
}

/* Makes a column whose cells show format(record, key). The column gets a
 * sorter that never reorders, so its header is clickable: the pages read
 * the chosen column and ask the daemon to sort. */
GtkColumnViewColumn *
op_record_column_new(const char *title, const char *key, OpRecordFormatFunc format,
		     gboolean expand)
{
	GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
	OpColumnBinding *binding = g_new0(OpColumnBinding, 1);
	GtkColumnViewColumn *column;

	binding->key = g_strdup(key);
	binding->format = format;
	g_signal_connect(factory, "setup", G_CALLBACK(column_setup_cb), NULL);
	g_signal_connect(factory, "bind", G_CALLBACK(column_bind_cb), binding);
	g_signal_connect(factory, "unbind", G_CALLBACK(column_unbind_cb), NULL);
	g_object_set_data_full(G_OBJECT(factory), "op-binding", binding, column_binding_free);
	column = gtk_column_view_column_new(title, factory);
	gtk_column_view_column_set_expand(column, expand);
	gtk_column_view_column_set_resizable(column, TRUE);
	return column;
}

char *
op_record_format_string(OpRecord *record, const char *key)
{
	return g_strdup(op_record_get_string(record, key));
}

char *
op_record_format_time(OpRecord *record, const char *key)
{
	return op_format_time(op_record_get_int(record, key), g_get_real_time() / G_USEC_PER_SEC);
}

char *
op_record_format_size(OpRecord *record, const char *key)
{
	return op_format_size(op_record_get_uint(record, key));
}

char *
op_record_format_number(OpRecord *record, const char *key)
{
	return g_strdup_printf("%" G_GUINT64_FORMAT, op_record_get_uint(record, key));
}

/* Wraps a page's content in a scrolled window with a clamp, the layout of
 * GNOME's preference-style pages. */
GtkWidget *
op_page_scroller_new(GtkWidget *child)
{
	GtkWidget *scroller = gtk_scrolled_window_new();
	GtkWidget *clamp = adw_clamp_new();

	adw_clamp_set_maximum_size(ADW_CLAMP(clamp), 900);
	adw_clamp_set_child(ADW_CLAMP(clamp), child);
	gtk_widget_set_margin_top(child, 24);
	gtk_widget_set_margin_bottom(child, 24);
	gtk_widget_set_margin_start(child, 12);
	gtk_widget_set_margin_end(child, 12);
	gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroller), GTK_POLICY_NEVER,
				       GTK_POLICY_AUTOMATIC);
	gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroller), clamp);
	gtk_widget_set_vexpand(scroller, TRUE);
	return scroller;
}

static void
refresh_activated_cb(GSimpleAction *action, GVariant *parameter, gpointer page)
{
	void (*refresh)(GtkWidget *) = g_object_get_data(G_OBJECT(action), "op-refresh");

	refresh(page);
}

/* Gives a page the action "page.refresh", which the window's Reload
 * shortcut (F5) activates on the page in view. */
void
op_page_add_refresh(GtkWidget *page, GCallback refresh)
{
	GSimpleActionGroup *group = g_simple_action_group_new();
	GSimpleAction *action = g_simple_action_new("refresh", NULL);

	g_object_set_data(G_OBJECT(action), "op-refresh", refresh);
	g_signal_connect(action, "activate", G_CALLBACK(refresh_activated_cb), page);
	g_action_map_add_action(G_ACTION_MAP(group), G_ACTION(action));
	gtk_widget_insert_action_group(page, "page", G_ACTION_GROUP(group));
	g_object_unref(action);
	g_object_unref(group);
}
