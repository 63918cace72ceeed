/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Accounts page: search the mailbox accounts, create one (with a
 * password strength hint and a generator), enable or disable it, reset its
 * password, set its hourly limit and the further addresses it may send as,
 * and delete it after confirmation.
 */
#include "pages/op-pages.h"

#include "op-format.h"
#include "op-widgets.h"

#include <glib/gi18n.h>
#include <string.h>

/* The maximum number of accounts listed at once. A search narrows the list. */
#define OP_ACCOUNTS_LIMIT 200

typedef struct {
	OpClient *client;
	GCancellable *cancellable;
	GtkWidget *root;
	GtkSearchEntry *search;
	AdwPreferencesGroup *group;
	GPtrArray *rows;
	GtkLabel *more_label;
} OpAccountsPage;

/* One account call: which page it came from and what to say after it. */
typedef struct {
	OpAccountsPage *page;
	char *success;
	char *failure;
} OpAccountCall;

static void load_accounts(OpAccountsPage *page);

static void
page_free(gpointer data)
{
	OpAccountsPage *page = data;

	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	g_clear_object(&page->client);
	g_ptr_array_unref(page->rows);
	g_free(page);
}

static void
account_call_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpAccountCall *call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);

	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			op_show_error(call->page->root, call->failure, error);
	} else {
		op_show_toast(call->page->root, call->success);
		load_accounts(call->page);
	}
	g_free(call->success);
	g_free(call->failure);
	g_free(call);
}

/* Calls an account method, then shows success in a toast and reloads the
 * list, or shows the daemon's sentence under the heading failure. */
static void
call_account(OpAccountsPage *page, const char *method, GVariant *parameters,
	     const char *success, const char *failure)
{
	OpAccountCall *call = g_new0(OpAccountCall, 1);

	call->page = page;
	call->success = g_strdup(success);
	call->failure = g_strdup(failure);
	op_client_call(page->client, method, parameters, page->cancellable, account_call_done_cb,
		       call);
}

static const char *
row_address(GtkWidget *widget)
{
	return g_object_get_data(G_OBJECT(widget), "op-address");
}

static void
enabled_changed_cb(GtkSwitch *toggle, GParamSpec *pspec, OpAccountsPage *page)
{
	gboolean enabled = gtk_switch_get_active(toggle);

	call_account(page, "SetAccountEnabled", g_variant_new("(sb)", row_address(GTK_WIDGET(toggle)),
							      enabled),
		     enabled ? _("Account enabled") : _("Account disabled"),
		     _("Could Not Change the Account"));
}

static void
limit_clicked_cb(GtkButton *button, OpAccountsPage *page)
{
	GtkSpinButton *spin = g_object_get_data(G_OBJECT(button), "op-spin");

	call_account(page, "SetAccountHourlyLimit",
		     g_variant_new("(su)", row_address(GTK_WIDGET(button)),
				   (guint32)gtk_spin_button_get_value_as_int(spin)),
		     _("Hourly limit saved"), _("Could Not Set the Hourly Limit"));
}

static void
alias_apply_cb(AdwEntryRow *row, OpAccountsPage *page)
{
	g_autofree char *alias = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(row))));

	if (*alias == '\0')
		return;
	call_account(page, "AddAlias", g_variant_new("(ss)", row_address(GTK_WIDGET(row)), alias),
		     _("Sender address added"), _("Could Not Add the Sender Address"));
}

static void
alias_remove_cb(GtkButton *button, OpAccountsPage *page)
{
	const char *alias = g_object_get_data(G_OBJECT(button), "op-alias");

	call_account(page, "RemoveAlias",
		     g_variant_new("(ss)", row_address(GTK_WIDGET(button)), alias),
		     _("Sender address removed"), _("Could Not Remove the Sender Address"));
}

static void
delete_confirmed(gpointer user_data)
{
	GtkWidget *button = user_data;
	OpAccountsPage *page = g_object_get_data(G_OBJECT(button), "op-page");

	call_account(page, "RemoveAccount", g_variant_new("(s)", row_address(button)),
		     _("Account deleted"), _("Could Not Delete the Account"));
}

static void
delete_clicked_cb(GtkButton *button, OpAccountsPage *page)
{
	g_autofree char *heading = g_strdup_printf(_("Delete %s?"), row_address(GTK_WIDGET(button)));

	g_object_set_data(G_OBJECT(button), "op-page", page);
	op_confirm(GTK_WIDGET(button), heading,
		   _("The account can no longer send mail. Mail it already sent stays in the "
		     "queue and the log. This cannot be undone."),
		   _("_Delete"), TRUE, delete_confirmed, g_object_ref(button), g_object_unref);
}

/* The create and reset-password dialog -------------------------------------- */

typedef struct {
	OpAccountsPage *page;
	GtkEditable *address;
	GtkEntry *password;
	GtkLevelBar *level;
	GtkLabel *hint;
	char *reset_address;
} OpPasswordDialog;

static void
password_dialog_free(gpointer data, GClosure *closure)
{
	OpPasswordDialog *dialog = data;

	g_free(dialog->reset_address);
	g_free(dialog);
}

static void
update_strength(GtkWidget *widget, OpPasswordDialog *dialog)
{
	const char *password = gtk_editable_get_text(GTK_EDITABLE(dialog->password));
	const char *hint = "";
	OpPasswordStrength strength = op_password_strength(password, &hint);
	GtkWidget *window = gtk_widget_get_ancestor(GTK_WIDGET(dialog->password),
						    ADW_TYPE_MESSAGE_DIALOG);
	gboolean address_ok = dialog->address == NULL ||
			      strchr(gtk_editable_get_text(dialog->address), '@') != NULL;

	gtk_level_bar_set_value(dialog->level, strength);
	gtk_label_set_text(dialog->hint, hint);
	if (window != NULL)
		adw_message_dialog_set_response_enabled(ADW_MESSAGE_DIALOG(window), "save",
							address_ok &&
								strength != OP_PASSWORD_TOO_SHORT);
}

static void
generate_clicked_cb(GtkButton *button, OpPasswordDialog *dialog)
{
	g_autofree char *password = op_generate_password();

	gtk_entry_set_visibility(dialog->password, TRUE);
	gtk_editable_set_text(GTK_EDITABLE(dialog->password), password);
	explicit_bzero(password, strlen(password));
}

static void
password_response_cb(AdwMessageDialog *window, const char *response, OpPasswordDialog *dialog)
{
	const char *password = gtk_editable_get_text(GTK_EDITABLE(dialog->password));

	if (g_strcmp0(response, "save") != 0)
		return;
	if (dialog->reset_address != NULL) {
		call_account(dialog->page, "SetPassword",
			     g_variant_new("(ss)", dialog->reset_address, password),
			     _("Password changed"), _("Could Not Change the Password"));
		return;
	}
	call_account(dialog->page, "AddAccount",
		     g_variant_new("(ss)", gtk_editable_get_text(dialog->address), password),
		     _("Account created"), _("Could Not Create the Account"));
}

static GtkWidget *
build_password_box(OpPasswordDialog *dialog)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
	GtkWidget *line = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
	GtkWidget *generate = op_button_new_with_mnemonic(_("_Generate"));

	if (dialog->address != NULL) {
		gtk_widget_set_name(GTK_WIDGET(dialog->address), "account-address-entry");
		gtk_entry_set_placeholder_text(GTK_ENTRY(dialog->address), "name@example.org");
		gtk_accessible_update_property(GTK_ACCESSIBLE(dialog->address),
					       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Address"), -1);
		g_signal_connect(dialog->address, "changed", G_CALLBACK(update_strength), dialog);
		gtk_box_append(GTK_BOX(box), GTK_WIDGET(dialog->address));
	}
	gtk_widget_set_name(GTK_WIDGET(dialog->password), "account-password-entry");
	gtk_entry_set_visibility(dialog->password, FALSE);
	gtk_entry_set_input_purpose(dialog->password, GTK_INPUT_PURPOSE_PASSWORD);
	gtk_entry_set_placeholder_text(dialog->password, _("Password"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(dialog->password),
				       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Password"), -1);
	gtk_widget_set_hexpand(GTK_WIDGET(dialog->password), TRUE);
	g_signal_connect(dialog->password, "changed", G_CALLBACK(update_strength), dialog);
	gtk_widget_set_name(generate, "generate-password-button");
	gtk_widget_set_tooltip_text(generate, _("Make a strong random password and show it"));
	g_signal_connect(generate, "clicked", G_CALLBACK(generate_clicked_cb), dialog);
	gtk_box_append(GTK_BOX(line), GTK_WIDGET(dialog->password));
	gtk_box_append(GTK_BOX(line), generate);
	gtk_box_append(GTK_BOX(box), line);

	dialog->level = GTK_LEVEL_BAR(gtk_level_bar_new_for_interval(0, OP_PASSWORD_STRONG));
	gtk_level_bar_set_mode(dialog->level, GTK_LEVEL_BAR_MODE_DISCRETE);
	gtk_accessible_update_property(GTK_ACCESSIBLE(dialog->level),
				       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Password strength"), -1);
	dialog->hint = GTK_LABEL(gtk_label_new(_("Use at least 10 characters.")));
	gtk_label_set_xalign(dialog->hint, 0);
	gtk_label_set_wrap(dialog->hint, TRUE);
	gtk_widget_add_css_class(GTK_WIDGET(dialog->hint), "dim-label");
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(dialog->level));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(dialog->hint));
	return box;
}

/* Opens the dialog to create an account, or to reset the password of
 * reset_address when it is not NULL. */
static void
open_password_dialog(OpAccountsPage *page, const char *reset_address)
{
	OpPasswordDialog *dialog = g_new0(OpPasswordDialog, 1);
	g_autofree char *heading = NULL;
	GtkWidget *window;

	dialog->page = page;
	dialog->reset_address = g_strdup(reset_address);
	if (reset_address == NULL)
		dialog->address = GTK_EDITABLE(gtk_entry_new());
	dialog->password = GTK_ENTRY(gtk_entry_new());
	heading = reset_address ? g_strdup_printf(_("New Password for %s"), reset_address)
				: g_strdup(_("New Account"));
	window = adw_message_dialog_new(GTK_WINDOW(gtk_widget_get_root(page->root)), heading,
					_("The user types the full address as the user name in "
					  "their mail client."));
	adw_message_dialog_set_extra_child(ADW_MESSAGE_DIALOG(window), build_password_box(dialog));
	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(window), "cancel", _("_Cancel"),
					 "save", reset_address ? _("_Change") : _("C_reate"), NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(window), "save",
						   ADW_RESPONSE_SUGGESTED);
	adw_message_dialog_set_response_enabled(ADW_MESSAGE_DIALOG(window), "save", FALSE);
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(window), "cancel");
	g_signal_connect_data(window, "response", G_CALLBACK(password_response_cb), dialog,
			      password_dialog_free, 0);
	gtk_window_present(GTK_WINDOW(window));
}

static void
add_clicked_cb(GtkButton *button, OpAccountsPage *page)
{
	open_password_dialog(page, NULL);
}

static void
reset_clicked_cb(GtkButton *button, OpAccountsPage *page)
{
	open_password_dialog(page, row_address(GTK_WIDGET(button)));
}

/* The account list ------------------------------------------------------------ */

static void
tag_address(GtkWidget *widget, const char *address)
{
	g_object_set_data_full(G_OBJECT(widget), "op-address", g_strdup(address), g_free);
}

static GtkWidget *
new_switch_row(OpAccountsPage *page, const char *address, gboolean enabled)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *toggle = gtk_switch_new();

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("Allowed to send"));
	gtk_switch_set_active(GTK_SWITCH(toggle), enabled);
	gtk_widget_set_valign(toggle, GTK_ALIGN_CENTER);
	tag_address(toggle, address);
	g_signal_connect(toggle, "notify::active", G_CALLBACK(enabled_changed_cb), page);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), toggle);
	adw_action_row_set_activatable_widget(ADW_ACTION_ROW(row), toggle);
	return row;
}

static GtkWidget *
new_limit_row(OpAccountsPage *page, const char *address, guint64 limit)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *spin = gtk_spin_button_new_with_range(0, 100000, 10);
	GtkWidget *apply = op_button_new_with_mnemonic(_("_Set"));

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("Messages per hour"));
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), _("0 for no limit"));
	gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), (double)limit);
	gtk_widget_set_valign(spin, GTK_ALIGN_CENTER);
	gtk_accessible_update_property(GTK_ACCESSIBLE(spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Messages per hour"), -1);
	gtk_widget_set_valign(apply, GTK_ALIGN_CENTER);
	tag_address(apply, address);
	g_object_set_data(G_OBJECT(apply), "op-spin", spin);
	g_signal_connect(apply, "clicked", G_CALLBACK(limit_clicked_cb), page);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), spin);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), apply);
	return row;
}

static void
add_alias_rows(OpAccountsPage *page, AdwExpanderRow *expander, GVariant *account,
	       const char *address)
{
	g_autofree const char **aliases = NULL;
	GtkWidget *entry = adw_entry_row_new();

	g_variant_lookup(account, "aliases", "^a&s", &aliases);
	for (guint i = 0; aliases != NULL && aliases[i] != NULL; i++) {
		GtkWidget *row = adw_action_row_new();
		/* Translators: %s is an e-mail address the account may send as. */
		g_autofree char *label = g_strdup_printf(_("Remove %s"), aliases[i]);
		GtkWidget *remove = op_icon_button_new("list-remove-symbolic", label);

		adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), aliases[i]);
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row), _("Also sends as"));
		gtk_widget_add_css_class(remove, "flat");
		gtk_widget_set_valign(remove, GTK_ALIGN_CENTER);
		tag_address(remove, address);
		g_object_set_data_full(G_OBJECT(remove), "op-alias", g_strdup(aliases[i]), g_free);
		g_signal_connect(remove, "clicked", G_CALLBACK(alias_remove_cb), page);
		adw_action_row_add_suffix(ADW_ACTION_ROW(row), remove);
		adw_expander_row_add_row(expander, row);
	}
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(entry),
				      _("Add another address it may send as"));
	adw_entry_row_set_show_apply_button(ADW_ENTRY_ROW(entry), TRUE);
	tag_address(entry, address);
	g_signal_connect(entry, "apply", G_CALLBACK(alias_apply_cb), page);
	adw_expander_row_add_row(expander, entry);
}

static GtkWidget *
new_buttons_row(OpAccountsPage *page, const char *address)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	GtkWidget *reset = op_button_new_with_mnemonic(_("Reset _Password…"));
	GtkWidget *remove = op_button_new_with_mnemonic(_("_Delete Account…"));

	gtk_widget_set_halign(box, GTK_ALIGN_END);
	gtk_widget_set_margin_top(box, 6);
	gtk_widget_set_margin_bottom(box, 6);
	gtk_widget_set_margin_end(box, 12);
	gtk_widget_add_css_class(remove, "destructive-action");
	tag_address(reset, address);
	tag_address(remove, address);
	g_signal_connect(reset, "clicked", G_CALLBACK(reset_clicked_cb), page);
	g_signal_connect(remove, "clicked", G_CALLBACK(delete_clicked_cb), page);
	gtk_box_append(GTK_BOX(box), reset);
	gtk_box_append(GTK_BOX(box), remove);
	return box;
}

static GtkWidget *
new_account_row(OpAccountsPage *page, GVariant *account)
{
	GtkWidget *row = adw_expander_row_new();
	const char *address = "";
	gboolean enabled = TRUE;
	guint32 limit = 0;
	g_autofree char *subtitle = NULL;

	g_variant_lookup(account, "address", "&s", &address);
	g_variant_lookup(account, "enabled", "b", &enabled);
	g_variant_lookup(account, "hourly-limit", "u", &limit);
	if (!enabled)
		subtitle = g_strdup(_("Disabled"));
	else if (limit > 0)
		subtitle = g_strdup_printf(ngettext("Up to %u message per hour",
						    "Up to %u messages per hour", limit),
					   limit);
	else
		subtitle = g_strdup(_("No hourly limit"));
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), address);
	adw_expander_row_set_subtitle(ADW_EXPANDER_ROW(row), subtitle);
	adw_expander_row_add_row(ADW_EXPANDER_ROW(row), new_switch_row(page, address, enabled));
	adw_expander_row_add_row(ADW_EXPANDER_ROW(row), new_limit_row(page, address, limit));
	add_alias_rows(page, ADW_EXPANDER_ROW(row), account, address);
	adw_expander_row_add_row(ADW_EXPANDER_ROW(row), new_buttons_row(page, address));
	return row;
}

static void
accounts_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpAccountsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) accounts = NULL;
	GVariantIter iter;
	GVariant *account;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	for (guint i = 0; i < page->rows->len; i++)
		adw_preferences_group_remove(page->group, g_ptr_array_index(page->rows, i));
	g_ptr_array_set_size(page->rows, 0);
	if (reply == NULL) {
		op_show_toast(page->root, error->message);
		return;
	}
	accounts = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, accounts);
	while ((account = g_variant_iter_next_value(&iter)) != NULL) {
		GtkWidget *row = new_account_row(page, account);

		adw_preferences_group_add(page->group, row);
		g_ptr_array_add(page->rows, row);
		g_variant_unref(account);
	}
	gtk_widget_set_visible(GTK_WIDGET(page->more_label),
			       page->rows->len >= OP_ACCOUNTS_LIMIT);
	if (page->rows->len == 0) {
		GtkWidget *row = adw_action_row_new();

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("No accounts found"));
		adw_preferences_group_add(page->group, row);
		g_ptr_array_add(page->rows, row);
	}
}

static void
load_accounts(OpAccountsPage *page)
{
	const char *filter = gtk_editable_get_text(GTK_EDITABLE(page->search));

	op_client_call(page->client, "ListAccounts",
		       g_variant_new("(suu)", filter, 0, OP_ACCOUNTS_LIMIT), page->cancellable,
		       accounts_done_cb, page);
}

static void
refresh(GtkWidget *widget)
{
	OpAccountsPage *page = g_object_get_data(G_OBJECT(widget), "op-page");

	if (op_client_get_state(page->client) == OP_CLIENT_READY)
		load_accounts(page);
}

static void
search_changed_cb(GtkSearchEntry *entry, OpAccountsPage *page)
{
	refresh(page->root);
}

static void
client_ready_cb(OpClient *client, GtkWidget *widget)
{
	if (gtk_widget_get_mapped(widget))
		refresh(widget);
}

GtkWidget *
op_accounts_page_new(OpClient *client)
{
	OpAccountsPage *page = g_new0(OpAccountsPage, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *add = op_button_new_with_mnemonic(_("_Add Account…"));

	page->client = g_object_ref(client);
	page->cancellable = g_cancellable_new();
	page->rows = g_ptr_array_new();
	page->search = GTK_SEARCH_ENTRY(gtk_search_entry_new());
	g_object_set(page->search, "placeholder-text", _("Search accounts"), NULL);
	gtk_accessible_update_property(GTK_ACCESSIBLE(page->search),
				       GTK_ACCESSIBLE_PROPERTY_LABEL, _("Search accounts"), -1);
	g_signal_connect(page->search, "search-changed", G_CALLBACK(search_changed_cb), page);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->search));

	page->group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(page->group, _("Accounts"));
	adw_preferences_group_set_description(page->group,
					      _("People and programs that send mail through this "
						"server"));
	gtk_widget_set_name(add, "add-account-button");
	gtk_widget_add_css_class(add, "suggested-action");
	gtk_widget_set_valign(add, GTK_ALIGN_CENTER);
	g_signal_connect(add, "clicked", G_CALLBACK(add_clicked_cb), page);
	adw_preferences_group_set_header_suffix(page->group, add);
	gtk_widget_set_margin_top(GTK_WIDGET(page->group), 12);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->group));
	page->more_label = GTK_LABEL(gtk_label_new(
		_("Only the first 200 accounts are shown: search to find the others.")));
	gtk_widget_add_css_class(GTK_WIDGET(page->more_label), "dim-label");
	gtk_widget_set_visible(GTK_WIDGET(page->more_label), FALSE);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->more_label));

	page->root = op_page_scroller_new(box);
	g_object_set_data_full(G_OBJECT(page->root), "op-page", page, page_free);
	op_page_add_refresh(page->root, G_CALLBACK(refresh));
	g_signal_connect(page->root, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), page->root, 0);
	return page->root;
}
