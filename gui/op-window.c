/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpWindow. An AdwLeaflet contains the sidebar and the page stack, so on a
 * narrow screen the window shows one of them at a time with a back button.
 * The window size and the last page are kept in GSettings when the schema
 * is installed.
 */
#include "op-window.h"

#include "op-widgets.h"
#include "pages/op-pages.h"

#include <glib/gi18n.h>

#define OP_APP_ID "io.github.outpostmail.Outpost"

struct _OpWindow {
	AdwApplicationWindow parent_instance;

	OpClient *client;
	GSettings *settings;
	AdwToastOverlay *toasts;
	GtkStack *main_stack;
	AdwLeaflet *leaflet;
	GtkStack *pages;
	AdwWindowTitle *title;
	AdwStatusPage *status;
	GtkButton *status_button;
};

G_DEFINE_FINAL_TYPE(OpWindow, op_window, ADW_TYPE_APPLICATION_WINDOW)

typedef struct {
	const char *name;
	const char *title;
	const char *icon;
	GtkWidget *(*create)(OpClient *client);
} OpPageEntry;

static const OpPageEntry op_page_entries[] = {
	{"overview", N_("Overview"), "org.gnome.Settings-device-diagnostics-symbolic",
	 op_overview_page_new},
	{"domains", N_("Domains"), "network-workgroup-symbolic", op_domains_page_new},
	{"accounts", N_("Accounts"), "system-users-symbolic", op_accounts_page_new},
	{"queue", N_("Queue"), "mail-send-receive-symbolic", op_queue_page_new},
	{"log", N_("Delivery Log"), "document-open-recent-symbolic", op_log_page_new},
	{"clients", N_("Client Setup"), "mail-unread-symbolic", op_client_setup_page_new},
	{"settings", N_("Settings"), "emblem-system-symbolic", op_settings_page_new},
};

/* Returns the app's GSettings, or NULL when the schema is not installed,
 * as when the app runs from the build tree. */
static GSettings *
new_settings(void)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;

	if (source != NULL)
		schema = g_settings_schema_source_lookup(source, OP_APP_ID, TRUE);
	return schema ? g_settings_new_full(schema, NULL, NULL) : NULL;
}

void
op_window_show_toast(OpWindow *self, const char *text)
{
	AdwToast *toast = adw_toast_new(text);

	adw_toast_set_timeout(toast, 4);
	adw_toast_overlay_add_toast(self->toasts, toast);
}

void
op_window_show_page(OpWindow *self, const char *name)
{
	gtk_stack_set_visible_child_name(self->pages, name);
}

GtkWidget *
op_window_get_page(OpWindow *self, const char *name)
{
	return gtk_stack_get_child_by_name(self->pages, name);
}

OpClient *
op_window_get_client(OpWindow *self)
{
	return self->client;
}

static void
update_status(OpWindow *self)
{
	OpClientState state = op_client_get_state(self->client);
	const char *detail = op_client_get_detail(self->client);
	gboolean system = op_client_get_bus_type(self->client) == G_BUS_TYPE_SYSTEM;
	g_autofree char *description = NULL;

	switch (state) {
	case OP_CLIENT_READY:
		gtk_stack_set_visible_child_name(self->main_stack, "pages");
		return;
	case OP_CLIENT_CONNECTING:
		adw_status_page_set_icon_name(self->status, "content-loading-symbolic");
		adw_status_page_set_title(self->status, _("Connecting to the Mail Server…"));
		adw_status_page_set_description(self->status, NULL);
		break;
	case OP_CLIENT_NOT_RUNNING:
		adw_status_page_set_icon_name(self->status, "network-offline-symbolic");
		adw_status_page_set_title(self->status, _("The Mail Server Is Not Running"));
		description = g_strdup_printf(
			"%s\n\n%s", detail ? detail : _("The Outpost service is not running."),
			system ? _("Start it with “systemctl start outpostd” as root. The app "
				   "connects by itself once the service is up.")
			       : _("Start outpostd with --session-bus. The app connects by itself "
				   "once the service is up."));
		adw_status_page_set_description(self->status, description);
		break;
	case OP_CLIENT_NOT_AUTHORIZED:
		adw_status_page_set_icon_name(self->status, "system-lock-screen-symbolic");
		adw_status_page_set_title(self->status, _("Not Allowed to Manage This Server"));
		description = g_strdup_printf(
			"%s\n\n%s", detail ? detail : "",
			_("Only administrators may manage the mail server. Log in as a member of "
			  "the “sudo” group, or ask an administrator to let you in, then try "
			  "again."));
		adw_status_page_set_description(self->status, description);
		break;
	}
	gtk_widget_set_visible(GTK_WIDGET(self->status_button), state != OP_CLIENT_CONNECTING);
	gtk_stack_set_visible_child_name(self->main_stack, "status");
}

static void
client_state_cb(OpClient *client, GParamSpec *pspec, OpWindow *self)
{
	update_status(self);
}

static void
retry_clicked_cb(GtkButton *button, OpWindow *self)
{
	op_client_reconnect(self->client);
}

static void
page_changed_cb(GtkStack *pages, GParamSpec *pspec, OpWindow *self)
{
	GtkWidget *child = gtk_stack_get_visible_child(pages);
	GtkStackPage *page;

	if (child == NULL)
		return;
	page = gtk_stack_get_page(pages, child);
	adw_window_title_set_title(self->title, gtk_stack_page_get_title(page));
	adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
	if (self->settings != NULL)
		g_settings_set_string(self->settings, "last-page",
				      gtk_stack_page_get_name(page));
}

static void
back_clicked_cb(GtkButton *button, OpWindow *self)
{
	adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
update_subtitle(OpWindow *self)
{
	adw_window_title_set_subtitle(self->title, op_client_get_hostname(self->client));
}

static GtkWidget *
build_sidebar(OpWindow *self)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *header = adw_header_bar_new();
	GtkWidget *sidebar = gtk_stack_sidebar_new();

	adw_header_bar_set_title_widget(ADW_HEADER_BAR(header),
					adw_window_title_new(_("Outpost"), NULL));
	adw_header_bar_set_show_end_title_buttons(ADW_HEADER_BAR(header), FALSE);
	g_object_bind_property(self->leaflet, "folded", header, "show-end-title-buttons",
			       G_BINDING_SYNC_CREATE);
	gtk_box_append(GTK_BOX(box), header);
	gtk_stack_sidebar_set_stack(GTK_STACK_SIDEBAR(sidebar), self->pages);
	gtk_widget_set_vexpand(sidebar, TRUE);
	gtk_widget_set_size_request(box, 200, -1);
	gtk_box_append(GTK_BOX(box), sidebar);
	return box;
}

static GtkWidget *
build_menu_button(void)
{
	g_autoptr(GMenu) menu = g_menu_new();
	g_autoptr(GMenu) style = g_menu_new();
	GtkWidget *button = gtk_menu_button_new();

	g_menu_append(style, _("Follow System Style"), "app.color-scheme::default");
	g_menu_append(style, _("Light Style"), "app.color-scheme::light");
	g_menu_append(style, _("Dark Style"), "app.color-scheme::dark");
	g_menu_append_section(menu, NULL, G_MENU_MODEL(style));
	g_menu_append(menu, _("_Reload"), "win.refresh");
	g_menu_append(menu, _("_Keyboard Shortcuts"), "win.show-help-overlay");
	g_menu_append(menu, _("_About Outpost"), "app.about");
	gtk_menu_button_set_icon_name(GTK_MENU_BUTTON(button), "open-menu-symbolic");
	gtk_menu_button_set_menu_model(GTK_MENU_BUTTON(button), G_MENU_MODEL(menu));
	gtk_menu_button_set_primary(GTK_MENU_BUTTON(button), TRUE);
	gtk_widget_set_tooltip_text(button, _("Main Menu"));
	gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Main Menu"), -1);
	return button;
}

static GtkWidget *
build_content(OpWindow *self)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *header = adw_header_bar_new();
	GtkWidget *back = op_icon_button_new("go-previous-symbolic", _("Back to the Page List"));

	self->title = ADW_WINDOW_TITLE(adw_window_title_new("", NULL));
	adw_header_bar_set_title_widget(ADW_HEADER_BAR(header), GTK_WIDGET(self->title));
	g_object_bind_property(self->leaflet, "folded", back, "visible", G_BINDING_SYNC_CREATE);
	g_signal_connect(back, "clicked", G_CALLBACK(back_clicked_cb), self);
	adw_header_bar_pack_start(ADW_HEADER_BAR(header), back);
	adw_header_bar_pack_end(ADW_HEADER_BAR(header), build_menu_button());
	gtk_box_append(GTK_BOX(box), header);
	gtk_widget_set_vexpand(GTK_WIDGET(self->pages), TRUE);
	gtk_widget_set_hexpand(GTK_WIDGET(self->pages), TRUE);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->pages));
	return box;
}

static GtkWidget *
build_status(OpWindow *self)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
	GtkWidget *header = adw_header_bar_new();

	gtk_box_append(GTK_BOX(box), header);
	self->status = ADW_STATUS_PAGE(adw_status_page_new());
	gtk_widget_set_vexpand(GTK_WIDGET(self->status), TRUE);
	self->status_button = GTK_BUTTON(op_button_new_with_mnemonic(_("_Try Again")));
	gtk_widget_set_halign(GTK_WIDGET(self->status_button), GTK_ALIGN_CENTER);
	gtk_widget_add_css_class(GTK_WIDGET(self->status_button), "pill");
	gtk_widget_add_css_class(GTK_WIDGET(self->status_button), "suggested-action");
	g_signal_connect(self->status_button, "clicked", G_CALLBACK(retry_clicked_cb), self);
	adw_status_page_set_child(self->status, GTK_WIDGET(self->status_button));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->status));
	return box;
}

static void
add_pages(OpWindow *self)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_page_entries); i++) {
		const OpPageEntry *entry = &op_page_entries[i];
		GtkWidget *page = entry->create(self->client);
		GtkStackPage *stack_page;

		stack_page = gtk_stack_add_titled(self->pages, page, entry->name, _(entry->title));
		gtk_stack_page_set_icon_name(stack_page, entry->icon);
	}
}

static void
refresh_activated_cb(GtkWidget *widget, const char *action, GVariant *parameter)
{
	OpWindow *self = OP_WINDOW(widget);
	GtkWidget *page = gtk_stack_get_visible_child(self->pages);

	if (op_client_get_state(self->client) != OP_CLIENT_READY)
		op_client_reconnect(self->client);
	else if (page != NULL)
		gtk_widget_activate_action(page, "page.refresh", NULL);
}

static void
page_activated_cb(GtkWidget *widget, const char *action, GVariant *parameter)
{
	OpWindow *self = OP_WINDOW(widget);
	int index = g_variant_get_int32(parameter);

	if (index >= 0 && index < (int)G_N_ELEMENTS(op_page_entries))
		op_window_show_page(self, op_page_entries[index].name);
}

static void
save_window_state(OpWindow *self)
{
	int width;
	int height;

	if (self->settings == NULL)
		return;
	gtk_window_get_default_size(GTK_WINDOW(self), &width, &height);
	g_settings_set_int(self->settings, "window-width", width);
	g_settings_set_int(self->settings, "window-height", height);
	g_settings_set_boolean(self->settings, "window-maximized",
			       gtk_window_is_maximized(GTK_WINDOW(self)));
}

static gboolean
op_window_close_request(GtkWindow *window)
{
	save_window_state(OP_WINDOW(window));
	return GTK_WINDOW_CLASS(op_window_parent_class)->close_request(window);
}

static void
op_window_dispose(GObject *object)
{
	OpWindow *self = OP_WINDOW(object);

	if (self->client != NULL)
		g_signal_handlers_disconnect_by_data(self->client, self);
	g_clear_object(&self->client);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(op_window_parent_class)->dispose(object);
}

static void
op_window_class_init(OpWindowClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
	GtkWindowClass *window_class = GTK_WINDOW_CLASS(klass);

	object_class->dispose = op_window_dispose;
	window_class->close_request = op_window_close_request;
	gtk_widget_class_install_action(widget_class, "win.refresh", NULL, refresh_activated_cb);
	gtk_widget_class_install_action(widget_class, "win.page", "i", page_activated_cb);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
	gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
					    "win.refresh", NULL);
	for (guint i = 0; i < G_N_ELEMENTS(op_page_entries); i++)
		gtk_widget_class_add_binding_action(widget_class, GDK_KEY_1 + i, GDK_ALT_MASK,
						    "win.page", "i", (int)i);
}

static void
op_window_init(OpWindow *self)
{
	self->settings = new_settings();
	self->toasts = ADW_TOAST_OVERLAY(adw_toast_overlay_new());
	self->main_stack = GTK_STACK(gtk_stack_new());
	self->leaflet = ADW_LEAFLET(adw_leaflet_new());
	self->pages = GTK_STACK(gtk_stack_new());
	gtk_stack_set_transition_type(self->pages, GTK_STACK_TRANSITION_TYPE_CROSSFADE);
}

static void
restore_window_state(OpWindow *self)
{
	g_autofree char *last_page = NULL;

	if (self->settings == NULL) {
		gtk_window_set_default_size(GTK_WINDOW(self), 1100, 720);
		return;
	}
	gtk_window_set_default_size(GTK_WINDOW(self),
				    g_settings_get_int(self->settings, "window-width"),
				    g_settings_get_int(self->settings, "window-height"));
	if (g_settings_get_boolean(self->settings, "window-maximized"))
		gtk_window_maximize(GTK_WINDOW(self));
	last_page = g_settings_get_string(self->settings, "last-page");
	if (gtk_stack_get_child_by_name(self->pages, last_page) != NULL)
		gtk_stack_set_visible_child_name(self->pages, last_page);
}

OpWindow *
op_window_new(AdwApplication *application, OpClient *client)
{
	OpWindow *self = g_object_new(OP_TYPE_WINDOW, "application", application, NULL);
	AdwLeafletPage *sidebar_page;

	self->client = g_object_ref(client);
	add_pages(self);

	sidebar_page = adw_leaflet_append(self->leaflet, build_sidebar(self));
	adw_leaflet_page_set_name(sidebar_page, "sidebar");
	/* The separator between sidebar and content is never a place to go. */
	adw_leaflet_page_set_navigatable(
		adw_leaflet_append(self->leaflet, gtk_separator_new(GTK_ORIENTATION_VERTICAL)),
		FALSE);
	adw_leaflet_append(self->leaflet, build_content(self));
	adw_leaflet_set_can_navigate_back(self->leaflet, TRUE);

	gtk_stack_add_named(self->main_stack, GTK_WIDGET(self->leaflet), "pages");
	gtk_stack_add_named(self->main_stack, build_status(self), "status");
	adw_toast_overlay_set_child(self->toasts, GTK_WIDGET(self->main_stack));
	adw_application_window_set_content(ADW_APPLICATION_WINDOW(self),
					   GTK_WIDGET(self->toasts));
	gtk_window_set_title(GTK_WINDOW(self), _("Outpost"));
	gtk_widget_set_size_request(GTK_WIDGET(self), 360, 400);

	restore_window_state(self);
	g_signal_connect(self->pages, "notify::visible-child", G_CALLBACK(page_changed_cb), self);
	page_changed_cb(self->pages, NULL, self);
	adw_leaflet_navigate(self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
	g_signal_connect(client, "notify::state", G_CALLBACK(client_state_cb), self);
	g_signal_connect_swapped(client, "ready", G_CALLBACK(update_subtitle), self);
	update_status(self);
	return self;
}
