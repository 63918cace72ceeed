/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Settings page: host name, TLS certificate, message size limit,
 * message lifetime and smarthost. Saving sends only the changed values
 * with SetSettings, then calls Reload so the daemon applies them.
 */
#include "pages/op-pages.h"

#include "op-format.h"
#include "op-widgets.h"

#include <glib/gi18n.h>

#define OP_MEBIBYTE (1024 * 1024)
#define OP_HOUR 3600

typedef struct {
	OpClient *client;
	GCancellable *cancellable;
	GtkWidget *root;
	GVariant *loaded;
	AdwEntryRow *hostname;
	AdwActionRow *certificate;
	AdwEntryRow *tls_cert;
	AdwEntryRow *tls_key;
	GtkSpinButton *size;
	GtkSpinButton *lifetime;
	AdwEntryRow *smarthost;
	AdwEntryRow *smarthost_user;
	AdwPasswordEntryRow *smarthost_password;
	AdwEntryRow *smarthost_ca;
	GtkButton *save;
} OpSettingsPage;

static void
page_free(gpointer data)
{
	OpSettingsPage *page = data;

	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	g_clear_object(&page->client);
	g_clear_pointer(&page->loaded, g_variant_unref);
	g_free(page);
}

static const char *
loaded_string(OpSettingsPage *page, const char *key)
{
	const char *value = "";

	if (page->loaded != NULL)
		g_variant_lookup(page->loaded, key, "&s", &value);
	return value;
}

static guint64
loaded_uint64(OpSettingsPage *page, const char *key)
{
	guint64 value = 0;

	if (page->loaded != NULL)
		g_variant_lookup(page->loaded, key, "t", &value);
	return value;
}

static void
show_certificate(OpSettingsPage *page)
{
	g_autofree const char **names = NULL;
	g_autofree char *joined = NULL;
	g_autofree char *days = NULL;
	g_autofree char *subtitle = NULL;
	gint64 not_after = 0;

	g_variant_lookup(page->loaded, "tls-names", "^a&s", &names);
	g_variant_lookup(page->loaded, "tls-not-after", "x", &not_after);
	joined = names ? g_strjoinv(", ", (char **)names) : g_strdup("");
	days = op_format_days_left(not_after, g_get_real_time() / G_USEC_PER_SEC);
	subtitle = g_strdup_printf("%s\n%s", loaded_string(page, "tls-subject"), joined);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->certificate), days);
	adw_action_row_set_subtitle(page->certificate, subtitle);
}

static void
settings_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpSettingsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	gboolean password_set = FALSE;

	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			op_show_error(page->root, _("Could Not Load the Settings"), error);
		return;
	}
	g_clear_pointer(&page->loaded, g_variant_unref);
	page->loaded = g_variant_get_child_value(reply, 0);
	gtk_editable_set_text(GTK_EDITABLE(page->hostname), loaded_string(page, "hostname"));
	gtk_editable_set_text(GTK_EDITABLE(page->tls_cert), loaded_string(page, "tls-cert"));
	gtk_editable_set_text(GTK_EDITABLE(page->tls_key), loaded_string(page, "tls-key"));
	gtk_spin_button_set_value(page->size,
				  (double)loaded_uint64(page, "max-message-size") / OP_MEBIBYTE);
	gtk_spin_button_set_value(page->lifetime,
				  (double)loaded_uint64(page, "message-lifetime") / OP_HOUR);
	gtk_editable_set_text(GTK_EDITABLE(page->smarthost), loaded_string(page, "smarthost"));
	gtk_editable_set_text(GTK_EDITABLE(page->smarthost_user),
			      loaded_string(page, "smarthost-user"));
	gtk_editable_set_text(GTK_EDITABLE(page->smarthost_password), "");
	g_variant_lookup(page->loaded, "smarthost-password-set", "b", &password_set);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->smarthost_password),
				      password_set ? _("Smarthost password (stored; type to replace)")
						   : _("Smarthost password"));
	gtk_editable_set_text(GTK_EDITABLE(page->smarthost_ca),
			      loaded_string(page, "smarthost-ca-file"));
	show_certificate(page);
}

static void
refresh(GtkWidget *widget)
{
	OpSettingsPage *page = g_object_get_data(G_OBJECT(widget), "op-page");

	if (op_client_get_state(page->client) != OP_CLIENT_READY)
		return;
	op_client_call(page->client, "GetSettings", NULL, page->cancellable, settings_done_cb,
		       page);
}

static void
reload_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpSettingsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);

	gtk_widget_set_sensitive(GTK_WIDGET(page->save), TRUE);
	if (reply == NULL) {
		op_show_error(page->root, _("The Settings Were Saved but Not Applied"), error);
		return;
	}
	op_show_toast(page->root, _("Settings saved and applied. New listen addresses take "
				    "effect at the next start."));
	refresh(page->root);
}

static void
save_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpSettingsPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);

	if (reply == NULL) {
		gtk_widget_set_sensitive(GTK_WIDGET(page->save), TRUE);
		op_show_error(page->root, _("Could Not Save the Settings"), error);
		return;
	}
	op_client_call(page->client, "Reload", NULL, page->cancellable, reload_done_cb, page);
}

static void
add_if_changed(OpSettingsPage *page, GVariantBuilder *builder, const char *key,
	       AdwEntryRow *row)
{
	const char *text = gtk_editable_get_text(GTK_EDITABLE(row));

	if (g_strcmp0(text, loaded_string(page, key)) != 0)
		g_variant_builder_add(builder, "{sv}", key, g_variant_new_string(text));
}

static void
add_uint64_if_changed(OpSettingsPage *page, GVariantBuilder *builder, const char *key,
		      guint64 value)
{
	if (value != loaded_uint64(page, key))
		g_variant_builder_add(builder, "{sv}", key, g_variant_new_uint64(value));
}

static void
save_clicked_cb(GtkButton *button, OpSettingsPage *page)
{
	GVariantBuilder builder;
	const char *password = gtk_editable_get_text(GTK_EDITABLE(page->smarthost_password));
	/* Unchanged spin values keep the stored octets and seconds exactly. */
	guint64 size = (guint64)gtk_spin_button_get_value_as_int(page->size) * OP_MEBIBYTE;
	guint64 lifetime = (guint64)gtk_spin_button_get_value_as_int(page->lifetime) * OP_HOUR;

	if (page->loaded == NULL)
		return;
	g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
	add_if_changed(page, &builder, "hostname", page->hostname);
	add_if_changed(page, &builder, "tls-cert", page->tls_cert);
	add_if_changed(page, &builder, "tls-key", page->tls_key);
	if (size / OP_MEBIBYTE != loaded_uint64(page, "max-message-size") / OP_MEBIBYTE)
		add_uint64_if_changed(page, &builder, "max-message-size", size);
	if (lifetime / OP_HOUR != loaded_uint64(page, "message-lifetime") / OP_HOUR)
		add_uint64_if_changed(page, &builder, "message-lifetime", lifetime);
	add_if_changed(page, &builder, "smarthost", page->smarthost);
	add_if_changed(page, &builder, "smarthost-user", page->smarthost_user);
	add_if_changed(page, &builder, "smarthost-ca-file", page->smarthost_ca);
	if (*password != '\0')
		g_variant_builder_add(&builder, "{sv}", "smarthost-password",
				      g_variant_new_string(password));
	gtk_widget_set_sensitive(GTK_WIDGET(page->save), FALSE);
	op_client_call(page->client, "SetSettings", g_variant_new("(a{sv})", &builder),
		       page->cancellable, save_done_cb, page);
}

static AdwEntryRow *
add_entry(AdwPreferencesGroup *group, const char *title)
{
	GtkWidget *row = adw_entry_row_new();

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_preferences_group_add(group, row);
	return ADW_ENTRY_ROW(row);
}

static GtkSpinButton *
add_spin(AdwPreferencesGroup *group, const char *title, const char *subtitle, double max)
{
	GtkWidget *row = adw_action_row_new();
	GtkWidget *spin = gtk_spin_button_new_with_range(1, max, 1);

	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
	gtk_widget_set_valign(spin, GTK_ALIGN_CENTER);
	gtk_accessible_update_property(GTK_ACCESSIBLE(spin), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
				       -1);
	adw_action_row_add_suffix(ADW_ACTION_ROW(row), spin);
	adw_preferences_group_add(group, row);
	return GTK_SPIN_BUTTON(spin);
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

static void
client_ready_cb(OpClient *client, GtkWidget *widget)
{
	if (gtk_widget_get_mapped(widget))
		refresh(widget);
}

GtkWidget *
op_settings_page_new(OpClient *client)
{
	OpSettingsPage *page = g_new0(OpSettingsPage, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
	AdwPreferencesGroup *group;

	page->client = g_object_ref(client);
	page->cancellable = g_cancellable_new();

	group = add_group(box, _("Server"), NULL);
	page->hostname = add_entry(group, _("Host name (used in EHLO and the DNS records)"));
	page->save = GTK_BUTTON(op_button_new_with_mnemonic(_("_Save and Apply")));
	gtk_widget_add_css_class(GTK_WIDGET(page->save), "suggested-action");
	g_signal_connect(page->save, "clicked", G_CALLBACK(save_clicked_cb), page);
	adw_preferences_group_set_header_suffix(group, GTK_WIDGET(page->save));

	group = add_group(box, _("Certificate"),
			  _("The TLS certificate mail clients see on ports 587 and 465"));
	page->certificate = ADW_ACTION_ROW(adw_action_row_new());
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(page->certificate), FALSE);
	adw_preferences_group_add(group, GTK_WIDGET(page->certificate));
	page->tls_cert = add_entry(group, _("Certificate file (PEM)"));
	page->tls_key = add_entry(group, _("Private key file (PEM)"));

	group = add_group(box, _("Limits"), NULL);
	page->size = add_spin(group, _("Largest message"), _("In megabytes"), 1024);
	page->lifetime = add_spin(group, _("Message lifetime"),
				  _("Hours a message is retried before it bounces"), 24 * 30);

	group = add_group(box, _("Smarthost"),
			  _("Relay all mail through another server, such as a cloud relay, "
			    "instead of delivering it directly. Leave empty to deliver by MX."));
	page->smarthost = add_entry(group, _("Smarthost (host:port)"));
	page->smarthost_user = add_entry(group, _("Smarthost user name"));
	page->smarthost_password = ADW_PASSWORD_ENTRY_ROW(adw_password_entry_row_new());
	adw_preferences_group_add(group, GTK_WIDGET(page->smarthost_password));
	page->smarthost_ca = add_entry(group, _("CA certificates file (empty for the system's)"));

	page->root = op_page_scroller_new(box);
	g_object_set_data_full(G_OBJECT(page->root), "op-page", page, page_free);
	op_page_add_refresh(page->root, G_CALLBACK(refresh));
	g_signal_connect(page->root, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), page->root, 0);
	return page->root;
}
