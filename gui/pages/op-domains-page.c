/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Domains page: the managed domains, adding one (the daemon generates
 * its DKIM key), and for each domain the DNS records to publish with a copy
 * button each, publishing them by DNS UPDATE, and the deliverability check
 * with a fix for each problem.
 */
#include "pages/op-pages.h"

#include "op-format.h"
#include "op-widgets.h"

#include <glib/gi18n.h>

typedef struct {
	OpClient *client;
	GCancellable *cancellable;
	GCancellable *publish_cancellable;
	GtkStack *stack;
	AdwPreferencesGroup *list_group;
	GPtrArray *list_rows;
	char *domain;
	AdwWindowTitle *detail_title;
	AdwPreferencesGroup *records_group;
	GPtrArray *record_rows;
	AdwEntryRow *server_row;
	AdwEntryRow *key_name_row;
	AdwComboRow *algorithm_row;
	AdwPasswordEntryRow *secret_row;
	GtkButton *publish_button;
	GtkButton *cancel_button;
	GtkSpinner *publish_spinner;
	GtkLabel *publish_result;
	AdwPreferencesGroup *checks_group;
	GPtrArray *check_rows;
	GtkButton *check_button;
} OpDomainsPage;

static void show_detail(OpDomainsPage *page, const char *domain);

static void
page_free(gpointer data)
{
	OpDomainsPage *page = data;

	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	if (page->publish_cancellable != NULL)
		g_cancellable_cancel(page->publish_cancellable);
	g_clear_object(&page->publish_cancellable);
	g_clear_object(&page->client);
	g_ptr_array_unref(page->list_rows);
	g_ptr_array_unref(page->record_rows);
	g_ptr_array_unref(page->check_rows);
	g_free(page->domain);
	g_free(page);
}

static void
clear_rows(AdwPreferencesGroup *group, GPtrArray *rows)
{
	for (guint i = 0; i < rows->len; i++)
		adw_preferences_group_remove(group, g_ptr_array_index(rows, i));
	g_ptr_array_set_size(rows, 0);
}

static void
add_row(AdwPreferencesGroup *group, GPtrArray *rows, GtkWidget *row)
{
	adw_preferences_group_add(group, row);
	g_ptr_array_add(rows, row);
}

/* The domain list ------------------------------------------------------ */

static void
domain_activated_cb(AdwActionRow *row, OpDomainsPage *page)
{
	show_detail(page, adw_preferences_row_get_title(ADW_PREFERENCES_ROW(row)));
}

static GtkWidget *
new_domain_row(OpDomainsPage *page, GVariant *domain)
{
	GtkWidget *row = adw_action_row_new();
	const char *name = "";
	const char *selector = "";
	guint32 accounts = 0;
	gboolean enabled = TRUE;
	g_autofree char *subtitle = NULL;

	g_variant_lookup(domain, "name", "&s", &name);
	g_variant_lookup(domain, "dkim-selector", "&s", &selector);
	g_variant_lookup(domain, "accounts", "u", &accounts);
	g_variant_lookup(domain, "enabled", "b", &enabled);
	subtitle = g_strdup_printf(ngettext("%u account · DKIM selector %s%s",
					    "%u accounts · DKIM selector %s%s", accounts),
				   accounts, selector, enabled ? "" : _(" · disabled"));
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row),
				  gtk_image_new_from_icon_name("go-next-symbolic"));
	gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), TRUE);
	g_signal_connect(row, "activated", G_CALLBACK(domain_activated_cb), page);
	return row;
}

static void
domains_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpDomainsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) domains = NULL;
	GVariantIter iter;
	GVariant *domain;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	clear_rows(page->list_group, page->list_rows);
	if (reply == NULL) {
		op_show_toast(GTK_WIDGET(page->stack), error->message);
		return;
	}
	domains = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, domains);
	while ((domain = g_variant_iter_next_value(&iter)) != NULL) {
		add_row(page->list_group, page->list_rows, new_domain_row(page, domain));
		g_variant_unref(domain);
	}
	if (page->list_rows->len == 0) {
		GtkWidget *row = adw_action_row_new();

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("No domains yet"));
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
					    _("Add the domain your mail is sent from, such as "
					      "example.org."));
		add_row(page->list_group, page->list_rows, row);
	}
}

static void
load_list(OpDomainsPage *page)
{
	op_client_call(page->client, "ListDomains", NULL, page->cancellable, domains_done_cb,
		       page);
}

typedef struct {
	OpDomainsPage *page;
	char *domain;
} OpDomainRequest;

static void
add_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpDomainRequest *request = user_data;
	OpDomainsPage *page = request->page;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);

	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			op_show_error(GTK_WIDGET(page->stack), _("Could Not Add the Domain"),
				      error);
	} else {
		g_autofree char *text = g_strdup_printf(_("Added %s"), request->domain);

		op_show_toast(GTK_WIDGET(page->stack), text);
		load_list(page);
		show_detail(page, request->domain);
	}
	g_free(request->domain);
	g_free(request);
}

static void
add_response_cb(AdwMessageDialog *dialog, const char *response, OpDomainsPage *page)
{
	GtkEditable *entry = g_object_get_data(G_OBJECT(dialog), "op-entry");
	g_autofree char *domain = g_strstrip(g_strdup(gtk_editable_get_text(entry)));
	OpDomainRequest *request;

	if (g_strcmp0(response, "add") != 0 || *domain == '\0')
		return;
	request = g_new0(OpDomainRequest, 1);
	request->page = page;
	request->domain = g_steal_pointer(&domain);
	op_show_toast(GTK_WIDGET(page->stack), _("Adding the domain and generating its DKIM key…"));
	op_client_call(page->client, "AddDomain", g_variant_new("(s)", request->domain),
		       page->cancellable, add_done_cb, request);
}

static void
entry_changed_cb(GtkEditable *entry, AdwMessageDialog *dialog)
{
	g_autofree char *text = g_strstrip(g_strdup(gtk_editable_get_text(entry)));

	adw_message_dialog_set_response_enabled(dialog, "add", *text != '\0');
}

static void
add_clicked_cb(GtkButton *button, OpDomainsPage *page)
{
	GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(button));
	GtkWidget *dialog = adw_message_dialog_new(
		GTK_WINDOW(root), _("Add Domain"),
		_("Outpost generates a DKIM key for the domain and shows the DNS records to "
		  "publish."));
	GtkWidget *entry = gtk_entry_new();

	gtk_entry_set_placeholder_text(GTK_ENTRY(entry), "example.org");
	gtk_entry_set_activates_default(GTK_ENTRY(entry), TRUE);
	gtk_widget_set_name(entry, "add-domain-entry");
	gtk_accessible_update_property(GTK_ACCESSIBLE(entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Domain name"), -1);
	adw_message_dialog_set_extra_child(ADW_MESSAGE_DIALOG(dialog), entry);
	adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(dialog), "cancel", _("_Cancel"),
					 "add", _("_Add"), NULL);
	adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(dialog), "add",
						   ADW_RESPONSE_SUGGESTED);
	adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(dialog), "add");
	adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(dialog), "cancel");
	adw_message_dialog_set_response_enabled(ADW_MESSAGE_DIALOG(dialog), "add", FALSE);
	g_object_set_data(G_OBJECT(dialog), "op-entry", entry);
	g_signal_connect(entry, "changed", G_CALLBACK(entry_changed_cb), dialog);
	g_signal_connect(dialog, "response", G_CALLBACK(add_response_cb), page);
	gtk_window_present(GTK_WINDOW(dialog));
	gtk_widget_grab_focus(entry);
}

/* One domain's detail ---------------------------------------------------- */

static GtkWidget *
new_record_row(GVariant *record)
{
	const char *name = "";
	const char *type = "";
	const char *value = "";
	const char *purpose = "";
	g_autofree char *title = NULL;
	GtkWidget *row;

	g_variant_lookup(record, "name", "&s", &name);
	g_variant_lookup(record, "type", "&s", &type);
	g_variant_lookup(record, "value", "&s", &value);
	g_variant_lookup(record, "purpose", "&s", &purpose);
	title = g_strdup_printf("%s  %s", type, name);
	row = op_copy_row_new(title, value);
	adw_preferences_row_set_title_selectable(ADW_PREFERENCES_ROW(row), TRUE);
	adw_action_row_set_subtitle_lines(ADW_ACTION_ROW(row), 0);
	gtk_widget_set_tooltip_text(row, purpose);
	gtk_accessible_update_property(GTK_ACCESSIBLE(row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
				       purpose, -1);
	return row;
}

static void
records_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpDomainsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) records = NULL;
	GVariantIter iter;
	GVariant *record;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	clear_rows(page->records_group, page->record_rows);
	if (reply == NULL) {
		op_show_error(GTK_WIDGET(page->stack), _("Could Not Load the DNS Records"), error);
		return;
	}
	records = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, records);
	while ((record = g_variant_iter_next_value(&iter)) != NULL) {
		add_row(page->records_group, page->record_rows, new_record_row(record));
		g_variant_unref(record);
	}
}

static void
show_detail(OpDomainsPage *page, const char *domain)
{
	g_free(page->domain);
	page->domain = g_strdup(domain);
	adw_window_title_set_title(page->detail_title, domain);
	clear_rows(page->checks_group, page->check_rows);
	clear_rows(page->records_group, page->record_rows);
	gtk_label_set_text(page->publish_result, "");
	gtk_stack_set_visible_child_name(page->stack, "detail");
	op_client_call(page->client, "GetDnsRecords", g_variant_new("(s)", domain),
		       page->cancellable, records_done_cb, page);
}

static void
back_clicked_cb(GtkButton *button, OpDomainsPage *page)
{
	gtk_stack_set_visible_child_name(page->stack, "list");
	load_list(page);
}

static void
set_publishing(OpDomainsPage *page, gboolean publishing)
{
	gtk_spinner_set_spinning(page->publish_spinner, publishing);
	gtk_widget_set_visible(GTK_WIDGET(page->publish_spinner), publishing);
	gtk_widget_set_visible(GTK_WIDGET(page->cancel_button), publishing);
	gtk_widget_set_sensitive(GTK_WIDGET(page->publish_button), !publishing);
}

static void
publish_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpDomainsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autofree char *text = NULL;
	guint32 count = 0;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	set_publishing(page, FALSE);
	gtk_widget_remove_css_class(GTK_WIDGET(page->publish_result), "error");
	gtk_widget_remove_css_class(GTK_WIDGET(page->publish_result), "success");
	if (reply == NULL) {
		g_autofree char *sentence = op_dup_error_sentence(error);

		text = g_strdup_printf(_("Publishing failed: %s"), sentence);
		gtk_widget_add_css_class(GTK_WIDGET(page->publish_result), "error");
		gtk_label_set_text(page->publish_result, text);
		op_show_error(GTK_WIDGET(page->stack), _("Could Not Publish the Records"), error);
		return;
	}
	g_variant_get(reply, "(u)", &count);
	text = g_strdup_printf(ngettext("Published %u record. Receivers see it once the DNS "
					"caches expire.",
					"Published %u records. Receivers see them once the DNS "
					"caches expire.",
					count),
			       count);
	gtk_widget_add_css_class(GTK_WIDGET(page->publish_result), "success");
	gtk_label_set_text(page->publish_result, text);
}

static void
publish_clicked_cb(GtkButton *button, OpDomainsPage *page)
{
	const char *algorithms[] = {"hmac-sha256", "hmac-sha512"};
	guint algorithm = adw_combo_row_get_selected(page->algorithm_row);

	if (page->publish_cancellable != NULL)
		g_object_unref(page->publish_cancellable);
	page->publish_cancellable = g_cancellable_new();
	set_publishing(page, TRUE);
	gtk_label_set_text(page->publish_result, _("Sending the DNS UPDATE…"));
	op_client_call(page->client, "PublishDnsRecords",
		       g_variant_new("(sssss)", page->domain,
				     gtk_editable_get_text(GTK_EDITABLE(page->server_row)),
				     gtk_editable_get_text(GTK_EDITABLE(page->key_name_row)),
				     algorithms[MIN(algorithm, 1)],
				     gtk_editable_get_text(GTK_EDITABLE(page->secret_row))),
		       page->publish_cancellable, publish_done_cb, page);
}

/* Stops waiting for the reply. The DNS server applies an update entirely
 * or not at all (RFC 2136 §3.4), so the zone is never left half-changed,
 * but the update may still complete: the result message asks the user to check. */
static void
cancel_clicked_cb(GtkButton *button, OpDomainsPage *page)
{
	g_cancellable_cancel(page->publish_cancellable);
	set_publishing(page, FALSE);
	gtk_label_set_text(page->publish_result,
			   _("Stopped waiting. The server may still apply the update: run the "
			     "check to see what is published."));
}

static GtkWidget *
new_check_row(GVariant *check)
{
	const char *name = "";
	const char *state = "";
	const char *sentence = "";
	const char *fix = "";
	GtkWidget *row = adw_action_row_new();
	GtkWidget *icon;
	g_autofree char *subtitle = NULL;

	g_variant_lookup(check, "name", "&s", &name);
	g_variant_lookup(check, "state", "&s", &state);
	g_variant_lookup(check, "sentence", "&s", &sentence);
	g_variant_lookup(check, "fix", "&s", &fix);
	if (g_strcmp0(state, "pass") == 0) {
		icon = gtk_image_new_from_icon_name("emblem-ok-symbolic");
		gtk_widget_add_css_class(icon, "success");
	} else if (g_strcmp0(state, "warn") == 0) {
		icon = gtk_image_new_from_icon_name("dialog-warning-symbolic");
		gtk_widget_add_css_class(icon, "warning");
	} else {
		icon = gtk_image_new_from_icon_name("dialog-error-symbolic");
		gtk_widget_add_css_class(icon, "error");
	}
	gtk_accessible_update_property(GTK_ACCESSIBLE(icon), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       state, -1);
	/* Translators: %s is what to change to fix a failed DNS check. */
	subtitle = *fix ? g_strdup_printf(_("%s\nFix: %s"), sentence, fix) : g_strdup(sentence);
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), name);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
	adw_action_row_set_subtitle_lines(ADW_ACTION_ROW(row), 0);
	adw_action_row_add_prefix(ADW_ACTION_ROW(row), icon);
	return row;
}

static void
check_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpDomainsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) checks = NULL;
	GVariantIter iter;
	GVariant *check;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	gtk_widget_set_sensitive(GTK_WIDGET(page->check_button), TRUE);
	clear_rows(page->checks_group, page->check_rows);
	if (reply == NULL) {
		g_autofree char *sentence = op_dup_error_sentence(error);
		GtkWidget *row = adw_action_row_new();

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("The check did not run"));
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row), sentence);
		add_row(page->checks_group, page->check_rows, row);
		return;
	}
	checks = g_variant_get_child_value(reply, 1);
	g_variant_iter_init(&iter, checks);
	while ((check = g_variant_iter_next_value(&iter)) != NULL) {
		add_row(page->checks_group, page->check_rows, new_check_row(check));
		g_variant_unref(check);
	}
}

static void
check_clicked_cb(GtkButton *button, OpDomainsPage *page)
{
	gtk_widget_set_sensitive(GTK_WIDGET(page->check_button), FALSE);
	op_client_call(page->client, "CheckDomainDns", g_variant_new("(s)", page->domain),
		       page->cancellable, check_done_cb, page);
}

static void
remove_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpDomainsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);

	if (reply == NULL) {
		op_show_error(GTK_WIDGET(page->stack), _("Could Not Remove the Domain"), error);
		return;
	}
	op_show_toast(GTK_WIDGET(page->stack), _("Domain removed"));
	gtk_stack_set_visible_child_name(page->stack, "list");
	load_list(page);
}

static void
remove_confirmed(gpointer user_data)
{
	OpDomainsPage *page = user_data;

	op_client_call(page->client, "RemoveDomain", g_variant_new("(sb)", page->domain, FALSE),
		       page->cancellable, remove_done_cb, page);
}

static void
remove_clicked_cb(GtkButton *button, OpDomainsPage *page)
{
	g_autofree char *heading = g_strdup_printf(_("Remove %s?"), page->domain);

	op_confirm(GTK_WIDGET(button), heading,
		   _("Its accounts and DKIM key are deleted, and its users can no longer send "
		     "mail. This cannot be undone."),
		   _("_Remove"), TRUE, remove_confirmed, page, NULL);
}

/* Layout ------------------------------------------------------------------ */

static GtkWidget *
build_list(OpDomainsPage *page)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
	GtkWidget *add = op_button_new_with_mnemonic(_("_Add Domain…"));

	gtk_widget_set_name(add, "add-domain-button");
	gtk_widget_add_css_class(add, "suggested-action");
	g_signal_connect(add, "clicked", G_CALLBACK(add_clicked_cb), page);
	page->list_group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(page->list_group, _("Domains"));
	adw_preferences_group_set_description(page->list_group,
					      _("The domains this server sends mail for"));
	adw_preferences_group_set_header_suffix(page->list_group, add);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->list_group));
	return op_page_scroller_new(box);
}

static GtkWidget *
build_publish_group(OpDomainsPage *page)
{
	GtkWidget *group = adw_preferences_group_new();
	GtkWidget *buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
	const char *algorithms[] = {"hmac-sha256", "hmac-sha512", NULL};

	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Publish by DNS UPDATE"));
	adw_preferences_group_set_description(
		ADW_PREFERENCES_GROUP(group),
		_("Sends all records to the zone's primary DNS server in one signed update. The "
		  "key is used once and not stored."));
	page->server_row = ADW_ENTRY_ROW(adw_entry_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->server_row),
				      _("Primary DNS server address, such as 192.0.2.53:53"));
	page->key_name_row = ADW_ENTRY_ROW(adw_entry_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->key_name_row), _("TSIG key name"));
	page->algorithm_row = ADW_COMBO_ROW(adw_combo_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->algorithm_row),
				      _("TSIG algorithm"));
	adw_combo_row_set_model(page->algorithm_row,
				G_LIST_MODEL(gtk_string_list_new(algorithms)));
	page->secret_row = ADW_PASSWORD_ENTRY_ROW(adw_password_entry_row_new());
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->secret_row),
				      _("TSIG secret (base64)"));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(page->server_row));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(page->key_name_row));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(page->algorithm_row));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(page->secret_row));

	page->publish_button = GTK_BUTTON(op_button_new_with_mnemonic(_("_Publish Records")));
	gtk_widget_add_css_class(GTK_WIDGET(page->publish_button), "suggested-action");
	g_signal_connect(page->publish_button, "clicked", G_CALLBACK(publish_clicked_cb), page);
	page->cancel_button = GTK_BUTTON(op_button_new_with_mnemonic(_("_Stop Waiting")));
	g_signal_connect(page->cancel_button, "clicked", G_CALLBACK(cancel_clicked_cb), page);
	page->publish_spinner = GTK_SPINNER(gtk_spinner_new());
	page->publish_result = GTK_LABEL(gtk_label_new(NULL));
	gtk_label_set_wrap(page->publish_result, TRUE);
	gtk_label_set_xalign(page->publish_result, 0);
	gtk_widget_set_hexpand(GTK_WIDGET(page->publish_result), TRUE);
	gtk_widget_set_margin_top(buttons, 12);
	gtk_box_append(GTK_BOX(buttons), GTK_WIDGET(page->publish_spinner));
	gtk_box_append(GTK_BOX(buttons), GTK_WIDGET(page->publish_result));
	gtk_box_append(GTK_BOX(buttons), GTK_WIDGET(page->cancel_button));
	gtk_box_append(GTK_BOX(buttons), GTK_WIDGET(page->publish_button));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), buttons);
	set_publishing(page, FALSE);
	return group;
}

static GtkWidget *
build_detail(OpDomainsPage *page)
{
	GtkWidget *outer = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *bar = gtk_center_box_new();
	GtkWidget *back = op_icon_button_new("go-previous-symbolic", _("Back to the Domains"));
	GtkWidget *remove = op_button_new_with_mnemonic(_("_Remove Domain…"));
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);

	gtk_widget_add_css_class(bar, "toolbar");
	g_signal_connect(back, "clicked", G_CALLBACK(back_clicked_cb), page);
	gtk_widget_add_css_class(remove, "destructive-action");
	g_signal_connect(remove, "clicked", G_CALLBACK(remove_clicked_cb), page);
	page->detail_title = ADW_WINDOW_TITLE(adw_window_title_new("", _("Domain")));
	gtk_center_box_set_start_widget(GTK_CENTER_BOX(bar), back);
	gtk_center_box_set_center_widget(GTK_CENTER_BOX(bar), GTK_WIDGET(page->detail_title));
	gtk_center_box_set_end_widget(GTK_CENTER_BOX(bar), remove);
	gtk_box_append(GTK_BOX(outer), bar);

	page->records_group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(page->records_group, _("DNS Records to Publish"));
	adw_preferences_group_set_description(
		page->records_group, _("Add these records at your DNS provider, or publish them "
				       "below. Hover over a record to see what it is for."));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->records_group));
	gtk_box_append(GTK_BOX(box), build_publish_group(page));

	page->checks_group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(page->checks_group, _("Deliverability Check"));
	adw_preferences_group_set_description(
		page->checks_group, _("Looks up the published records the way receivers do"));
	page->check_button = GTK_BUTTON(op_button_new_with_mnemonic(_("_Check Now")));
	adw_preferences_group_set_header_suffix(page->checks_group,
						GTK_WIDGET(page->check_button));
	g_signal_connect(page->check_button, "clicked", G_CALLBACK(check_clicked_cb), page);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->checks_group));
	gtk_box_append(GTK_BOX(outer), op_page_scroller_new(box));
	return outer;
}

static void
refresh(GtkWidget *widget)
{
	OpDomainsPage *page = g_object_get_data(G_OBJECT(widget), "op-page");

	if (op_client_get_state(page->client) != OP_CLIENT_READY)
		return;
	load_list(page);
	if (page->domain != NULL &&
	    g_strcmp0(gtk_stack_get_visible_child_name(page->stack), "detail") == 0)
		show_detail(page, page->domain);
}

static void
client_ready_cb(OpClient *client, GtkWidget *widget)
{
	if (gtk_widget_get_mapped(widget))
		refresh(widget);
}

GtkWidget *
op_domains_page_new(OpClient *client)
{
	OpDomainsPage *page = g_new0(OpDomainsPage, 1);

	page->client = g_object_ref(client);
	page->cancellable = g_cancellable_new();
	page->list_rows = g_ptr_array_new();
	page->record_rows = g_ptr_array_new();
	page->check_rows = g_ptr_array_new();
	page->stack = GTK_STACK(gtk_stack_new());
	gtk_stack_set_transition_type(page->stack, GTK_STACK_TRANSITION_TYPE_SLIDE_LEFT_RIGHT);
	gtk_stack_add_named(page->stack, build_list(page), "list");
	gtk_stack_add_named(page->stack, build_detail(page), "detail");

	g_object_set_data_full(G_OBJECT(page->stack), "op-page", page, page_free);
	op_page_add_refresh(GTK_WIDGET(page->stack), G_CALLBACK(refresh));
	g_signal_connect(page->stack, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), page->stack, 0);
	return GTK_WIDGET(page->stack);
}
