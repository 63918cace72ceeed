/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Client Setup page: for a chosen account, what a person types into a
 * mail client (server, port 587 with STARTTLS or 465 with SSL/TLS, normal
 * password, the full address as user name), with copy buttons, and the
 * automatic setup options (Thunderbird, Outlook, Apple) when the daemon
 * serves them.
 */
#include "pages/op-pages.h"

#include "op-format.h"
#include "op-widgets.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct {
	OpClient *client;
	GCancellable *cancellable;
	GtkWidget *root;
	AdwComboRow *account_row;
	GtkStringList *accounts;
	AdwPreferencesGroup *smtp_group;
	AdwPreferencesGroup *incoming_group;
	AdwPreferencesGroup *auto_group;
	GPtrArray *rows;
	char *address;
} OpClientSetupPage;

static void
page_free(gpointer data)
{
	OpClientSetupPage *page = data;

	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	g_clear_object(&page->client);
	g_clear_object(&page->accounts);
	g_ptr_array_unref(page->rows);
	g_free(page->address);
	g_free(page);
}

static void
add_row(OpClientSetupPage *page, AdwPreferencesGroup *group, GtkWidget *row)
{
	adw_preferences_group_add(group, row);
	g_ptr_array_add(page->rows, row);
}

static void
clear_rows(OpClientSetupPage *page)
{
	for (guint i = 0; i < page->rows->len; i++) {
		GtkWidget *row = g_ptr_array_index(page->rows, i);
		GtkWidget *group = gtk_widget_get_ancestor(row, ADW_TYPE_PREFERENCES_GROUP);

		adw_preferences_group_remove(ADW_PREFERENCES_GROUP(group), row);
	}
	g_ptr_array_set_size(page->rows, 0);
}

static void
add_note(OpClientSetupPage *page, AdwPreferencesGroup *group, const char *title,
	 const char *text)
{
	GtkWidget *row = adw_action_row_new();

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), text);
	add_row(page, group, row);
}

static void
show_smtp(OpClientSetupPage *page, const char *host, guint32 submission, guint32 submissions,
	  const char *username)
{
	g_autofree char *starttls = g_strdup_printf(_("%u, with STARTTLS"), submission);
	g_autofree char *implicit = g_strdup_printf(_("%u, with SSL/TLS"), submissions);

	add_row(page, page->smtp_group, op_copy_row_new(_("Server"), host));
	add_row(page, page->smtp_group, op_copy_row_new(_("Port and security"), starttls));
	add_row(page, page->smtp_group,
		op_copy_row_new(_("Or, if the client prefers it"), implicit));
	add_row(page, page->smtp_group, op_copy_row_new(_("User name"), username));
	add_note(page, page->smtp_group, _("Authentication"),
		 _("Normal password, the account's own password"));
}

typedef struct {
	OpClientSetupPage *page;
	char *address;
} OpProfileRequest;

static void
profile_saved_cb(GtkNativeDialog *chooser, int response, gpointer user_data)
{
	GBytes *profile = user_data;
	g_autoptr(GFile) file = NULL;
	g_autoptr(GError) error = NULL;

	if (response == GTK_RESPONSE_ACCEPT) {
		file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser));
		if (!g_file_replace_contents(file, g_bytes_get_data(profile, NULL),
					     g_bytes_get_size(profile), NULL, FALSE,
					     G_FILE_CREATE_PRIVATE, NULL, NULL, &error))
			g_warning("Saving the Apple profile failed: %s", error->message);
	}
	g_bytes_unref(profile);
	g_object_unref(chooser);
}

static void
profile_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpClientSetupPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) bytes = NULL;
	GtkFileChooserNative *chooser;
	g_autofree char *name = NULL;

	if (reply == NULL) {
		op_show_error(page->root, _("Could Not Make the Apple Profile"), error);
		return;
	}
	bytes = g_variant_get_child_value(reply, 0);
	chooser = gtk_file_chooser_native_new(_("Save the Apple Profile"),
					      GTK_WINDOW(gtk_widget_get_root(page->root)),
					      GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), NULL);
	name = g_strdup_printf("%s.mobileconfig", page->address);
	gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), name);
	g_signal_connect(chooser, "response", G_CALLBACK(profile_saved_cb),
			 g_variant_get_data_as_bytes(bytes));
	gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static void
profile_clicked_cb(GtkButton *button, OpClientSetupPage *page)
{
	op_client_call(page->client, "GetAppleProfile", g_variant_new("(s)", page->address),
		       page->cancellable, profile_done_cb, page);
}

static void
show_automatic(OpClientSetupPage *page, GVariant *settings)
{
	const char *autoconfig = "";
	const char *autodiscover = "";
	GtkWidget *row = adw_action_row_new();
	GtkWidget *button = op_button_new_with_mnemonic(_("_Save Profile…"));

	g_variant_lookup(settings, "autoconfig-url", "&s", &autoconfig);
	g_variant_lookup(settings, "autodiscover-url", "&s", &autodiscover);
	if (*autoconfig != '\0')
		add_row(page, page->auto_group,
			op_copy_row_new(_("Thunderbird and Evolution (autoconfig)"), autoconfig));
	if (*autodiscover != '\0')
		add_row(page, page->auto_group,
			op_copy_row_new(_("Outlook (Autodiscover)"), autodiscover));
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("Apple Mail, iPhone and iPad"));
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
				    _("A configuration profile the user opens on the device"));
	gtk_widget_set_valign(button, GTK_ALIGN_CENTER);
	g_signal_connect(button, "clicked", G_CALLBACK(profile_clicked_cb), page);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), button);
	add_row(page, page->auto_group, row);
}

/* Returns the port of the first "ADDRESS:PORT" in a listen list, or fallback. */
static guint32
first_port(GVariant *settings, const char *key, guint32 fallback)
{
	g_autofree const char **listen = NULL;
	const char *colon;
	guint64 port;

	if (!g_variant_lookup(settings, key, "^a&s", &listen) || listen[0] == NULL)
		return fallback;
	colon = strrchr(listen[0], ':');
	if (colon == NULL || !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL))
		return fallback;
	return (guint32)port;
}

static void
fallback_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpClientSetupPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) settings = NULL;
	const char *hostname = op_client_get_hostname(page->client);

	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			op_show_error(page->root, _("Could Not Load the Settings"), error);
		return;
	}
	settings = g_variant_get_child_value(reply, 0);
	g_variant_lookup(settings, "hostname", "&s", &hostname);
	show_smtp(page, hostname, first_port(settings, "submission-listen", 587),
		  first_port(settings, "submissions-listen", 465), page->address);
	add_note(page, page->auto_group, _("Not available yet"),
		 _("This version of the Outpost service does not serve automatic setup yet. "
		   "Give the user the settings above."));
}

/* Returns "host:port" of the incoming server whose keys start with prefix
 * ("imap-host", "imap-port"), or NULL when the domain has none. */
static char *
dup_server(GVariant *settings, const char *prefix)
{
	g_autofree char *host_key = g_strconcat(prefix, "-host", NULL);
	g_autofree char *port_key = g_strconcat(prefix, "-port", NULL);
	const char *host = "";
	guint32 port = 0;

	g_variant_lookup(settings, host_key, "&s", &host);
	g_variant_lookup(settings, port_key, "u", &port);
	if (*host == '\0')
		return NULL;
	return g_strdup_printf("%s:%u", host, port);
}

static void
client_settings_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpClientSetupPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) settings = NULL;
	const char *host = "";
	const char *username = page->address;
	g_autofree char *imap = NULL;
	g_autofree char *pop3 = NULL;
	guint32 submission = 587;
	guint32 submissions = 465;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	clear_rows(page);
	if (reply == NULL && op_error_is_unknown_method(error)) {
		op_client_call(page->client, "GetSettings", NULL, page->cancellable,
			       fallback_done_cb, page);
		return;
	}
	if (reply == NULL) {
		op_show_error(page->root, _("Could Not Load the Client Settings"), error);
		return;
	}
	settings = g_variant_get_child_value(reply, 0);
	g_variant_lookup(settings, "smtp-host", "&s", &host);
	g_variant_lookup(settings, "smtp-port", "u", &submission);
	g_variant_lookup(settings, "smtps-port", "u", &submissions);
	g_variant_lookup(settings, "username", "&s", &username);
	imap = dup_server(settings, "imap");
	pop3 = dup_server(settings, "pop3");
	show_smtp(page, host, submission, submissions, username);
	if (imap != NULL)
		add_row(page, page->incoming_group, op_copy_row_new(_("IMAP server"), imap));
	if (pop3 != NULL)
		add_row(page, page->incoming_group, op_copy_row_new(_("POP3 server"), pop3));
	gtk_widget_set_visible(GTK_WIDGET(page->incoming_group), imap != NULL || pop3 != NULL);
	show_automatic(page, settings);
}

static void
account_selected_cb(AdwComboRow *row, GParamSpec *pspec, OpClientSetupPage *page)
{
	GtkStringObject *item = adw_combo_row_get_selected_item(row);

	clear_rows(page);
	if (item == NULL)
		return;
	g_free(page->address);
	page->address = g_strdup(gtk_string_object_get_string(item));
	op_client_call(page->client, "GetClientSettings", g_variant_new("(s)", page->address),
		       page->cancellable, client_settings_done_cb, page);
}

static void
accounts_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpClientSetupPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) accounts = NULL;
	g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
	GVariantIter iter;
	GVariant *account;

	if (reply == NULL)
		return;
	accounts = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, accounts);
	while ((account = g_variant_iter_next_value(&iter)) != NULL) {
		const char *address = "";

		g_variant_lookup(account, "address", "&s", &address);
		g_ptr_array_add(addresses, g_strdup(address));
		g_variant_unref(account);
	}
	g_ptr_array_add(addresses, NULL);
	gtk_string_list_splice(page->accounts, 0,
			       g_list_model_get_n_items(G_LIST_MODEL(page->accounts)),
			       (const char *const *)addresses->pdata);
	if (addresses->len == 1)
		add_note(page, page->smtp_group, _("No accounts yet"),
			 _("Create an account on the Accounts page first."));
}

static void
refresh(GtkWidget *widget)
{
	OpClientSetupPage *page = g_object_get_data(G_OBJECT(widget), "op-page");

	if (op_client_get_state(page->client) != OP_CLIENT_READY)
		return;
	clear_rows(page);
	op_client_call(page->client, "ListAccounts", g_variant_new("(suu)", "", 0, 1000),
		       page->cancellable, accounts_done_cb, page);
}

static void
client_ready_cb(OpClient *client, GtkWidget *widget)
{
	if (gtk_widget_get_mapped(widget))
		refresh(widget);
}

static AdwPreferencesGroup *
add_group(GtkWidget *box, const char *title, const char *description)
{
	GtkWidget *group = adw_preferences_group_new();

	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), title);
	adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(group), description);
	gtk_box_append(GTK_BOX(box), group);
	return ADW_PREFERENCES_GROUP(group);
}

GtkWidget *
op_client_setup_page_new(OpClient *client)
{
	OpClientSetupPage *page = g_new0(OpClientSetupPage, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
	AdwPreferencesGroup *choose;
	g_autoptr(GtkExpression) expression = NULL;

	page->client = g_object_ref(client);
	page->cancellable = g_cancellable_new();
	page->rows = g_ptr_array_new();
	page->accounts = gtk_string_list_new(NULL);
	choose = add_group(box, _("Account"), _("Whose mail client to set up"));
	page->account_row = ADW_COMBO_ROW(adw_combo_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->account_row), _("Account"));
	expression = gtk_property_expression_new(GTK_TYPE_STRING_OBJECT, NULL, "string");
	adw_combo_row_set_expression(page->account_row, expression);
	adw_combo_row_set_model(page->account_row, G_LIST_MODEL(page->accounts));
	g_signal_connect(page->account_row, "notify::selected-item",
			 G_CALLBACK(account_selected_cb), page);
	adw_preferences_group_add(choose, GTK_WIDGET(page->account_row));
	page->smtp_group = add_group(box, _("Outgoing Mail (SMTP)"),
				     _("What the user types into the mail client"));
	page->incoming_group = add_group(box, _("Incoming Mail"), NULL);
	gtk_widget_set_visible(GTK_WIDGET(page->incoming_group), FALSE);
	page->auto_group = add_group(box, _("Automatic Setup"),
				     _("Mail clients that find these settings by themselves"));

	page->root = op_page_scroller_new(box);
	g_object_set_data_full(G_OBJECT(page->root), "op-page", page, page_free);
	op_page_add_refresh(page->root, G_CALLBACK(refresh));
	g_signal_connect(page->root, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), page->root, 0);
	return page->root;
}
