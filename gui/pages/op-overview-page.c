/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Overview page: whether the service runs, how long the certificate
 * lasts, each domain's deliverability (green, amber or red), the queue
 * totals, and a chart of mail per hour over the last day or week.
 */
#include "pages/op-pages.h"

#include "op-chart.h"
#include "op-format.h"
#include "op-widgets.h"

#include <glib/gi18n.h>

/* The maximum number of domains checked on each visit, so the page stays quick. */
#define OP_OVERVIEW_MAX_CHECKS 50

typedef struct {
	OpClient *client;
	GCancellable *cancellable;
	AdwActionRow *service_row;
	AdwActionRow *certificate_row;
	GtkWidget *service_icon;
	GtkWidget *certificate_icon;
	AdwPreferencesGroup *domains_group;
	GPtrArray *domain_rows;
	GtkLabel *totals[4];
	OpChart *chart;
	GtkLabel *legend[OP_CHART_N_SERIES];
	GtkToggleButton *week_button;
} OpOverviewPage;

static const char *const op_total_keys[] = {"total", "queued", "deferred", "held"};

static void
page_free(gpointer data)
{
	OpOverviewPage *page = data;

	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	g_clear_object(&page->client);
	g_ptr_array_unref(page->domain_rows);
	g_free(page);
}

/* Sets a status icon to one of the health colors of libadwaita's style
 * classes: "success" (green), "warning" (amber), "error" (red). */
static void
set_health_icon(GtkWidget *icon, const char *health)
{
	static const char *const classes[] = {"success", "warning", "error", "dim-label"};
	const char *icon_name = "dialog-question-symbolic";
	const char *css = "dim-label";

	for (guint i = 0; i < G_N_ELEMENTS(classes); i++)
		gtk_widget_remove_css_class(icon, classes[i]);
	if (g_strcmp0(health, "green") == 0) {
		icon_name = "emblem-ok-symbolic";
		css = "success";
	} else if (g_strcmp0(health, "amber") == 0) {
		icon_name = "dialog-warning-symbolic";
		css = "warning";
	} else if (g_strcmp0(health, "red") == 0) {
		icon_name = "dialog-error-symbolic";
		css = "error";
	}
	gtk_image_set_from_icon_name(GTK_IMAGE(icon), icon_name);
	gtk_widget_add_css_class(icon, css);
}

static const char *
describe_health(const char *health)
{
	if (g_strcmp0(health, "green") == 0)
		return _("Deliverable: every check passed");
	if (g_strcmp0(health, "amber") == 0)
		return _("Needs attention: some checks warn");
	if (g_strcmp0(health, "red") == 0)
		return _("Failing: mail may be rejected or marked as spam");
	return _("Not checked");
}

static GtkWidget *
new_status_row(const char *title, GtkWidget **icon)
{
	GtkWidget *row = adw_action_row_new();

	*icon = gtk_image_new_from_icon_name("content-loading-symbolic");
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
	adw_action_row_add_prefix(ADW_ACTION_ROW(row), *icon);
	return row;
}

static void
settings_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpOverviewPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) settings = NULL;
	g_autofree char *days = NULL;
	const char *subject = "";
	gint64 not_after = 0;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (reply == NULL) {
		adw_action_row_set_subtitle(page->certificate_row, _("Unknown"));
		return;
	}
	g_variant_get(reply, "(@a{sv})", &settings);
	g_variant_lookup(settings, "tls-not-after", "x", &not_after);
	g_variant_lookup(settings, "tls-subject", "&s", &subject);
	days = op_format_days_left(not_after, now);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->certificate_row), days);
	adw_action_row_set_subtitle(page->certificate_row, subject);
	if (not_after <= now)
		set_health_icon(page->certificate_icon, "red");
	else if (not_after - now < 14 * 24 * 3600)
		set_health_icon(page->certificate_icon, "amber");
	else
		set_health_icon(page->certificate_icon, "green");
}

typedef struct {
	OpOverviewPage *page;
	AdwActionRow *row;
	GtkWidget *icon;
} OpDomainCheck;

static void
check_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autofree OpDomainCheck *check = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	const char *health = NULL;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (reply == NULL) {
		g_autofree char *sentence = op_dup_error_sentence(error);
		g_autofree char *text = g_strdup_printf(_("Not checked: %s"), sentence);

		set_health_icon(check->icon, NULL);
		adw_action_row_set_subtitle(check->row, text);
		return;
	}
	g_variant_get(reply, "(&s@aa{sv})", &health, NULL);
	set_health_icon(check->icon, health);
	adw_action_row_set_subtitle(check->row, describe_health(health));
}

static void
clear_domain_rows(OpOverviewPage *page)
{
	for (guint i = 0; i < page->domain_rows->len; i++)
		adw_preferences_group_remove(page->domains_group,
					     g_ptr_array_index(page->domain_rows, i));
	g_ptr_array_set_size(page->domain_rows, 0);
}

/* Shows the health the daemon kept from the domain's last check. Only a
 * domain never checked is checked now, because a check takes seconds. */
static void
add_domain_row(OpOverviewPage *page, const char *name, const char *health, gboolean check)
{
	OpDomainCheck *domain_check = g_new0(OpDomainCheck, 1);
	GtkWidget *row = new_status_row(name, &domain_check->icon);
	gboolean known = g_strcmp0(health, "green") == 0 || g_strcmp0(health, "amber") == 0 ||
			 g_strcmp0(health, "red") == 0;

	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(row), FALSE);
	adw_action_row_set_subtitle(ADW_ACTION_ROW(row), _("Checking…"));
	adw_preferences_group_add(page->domains_group, row);
	g_ptr_array_add(page->domain_rows, row);
	if (known || !check) {
		set_health_icon(domain_check->icon, known ? health : NULL);
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
					    describe_health(known ? health : NULL));
		g_free(domain_check);
		return;
	}
	domain_check->page = page;
	domain_check->row = ADW_ACTION_ROW(row);
	op_client_call(page->client, "CheckDomainDns", g_variant_new("(s)", name),
		       page->cancellable, check_done_cb, domain_check);
}

static void
domains_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpOverviewPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) domains = NULL;
	GVariantIter iter;
	GVariant *domain;
	guint count = 0;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	clear_domain_rows(page);
	if (reply == NULL)
		return;
	domains = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, domains);
	while ((domain = g_variant_iter_next_value(&iter)) != NULL) {
		const char *name = "";
		const char *health = NULL;

		g_variant_lookup(domain, "name", "&s", &name);
		g_variant_lookup(domain, "health", "&s", &health);
		add_domain_row(page, name, health, count++ < OP_OVERVIEW_MAX_CHECKS);
		g_variant_unref(domain);
	}
	if (count == 0) {
		GtkWidget *row = adw_action_row_new();

		adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), _("No domains yet"));
		adw_action_row_set_subtitle(ADW_ACTION_ROW(row),
					    _("Add a domain on the Domains page to send mail."));
		adw_preferences_group_add(page->domains_group, row);
		g_ptr_array_add(page->domain_rows, row);
	}
}

static void
totals_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpOverviewPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) totals = NULL;

	if (reply == NULL)
		return;
	totals = g_variant_get_child_value(reply, 0);
	for (guint i = 0; i < G_N_ELEMENTS(op_total_keys); i++) {
		guint32 value = 0;
		g_autofree char *text = NULL;

		g_variant_lookup(totals, op_total_keys[i], "u", &value);
		text = g_strdup_printf("%u", value);
		gtk_label_set_text(page->totals[i], text);
	}
}

static void
update_legend(OpOverviewPage *page)
{
	static const char *const names[OP_CHART_N_SERIES] = {
		N_("Sent"), N_("Deferred"), N_("Bounced"), N_("Rejected")};

	for (int s = 0; s < OP_CHART_N_SERIES; s++) {
		g_autofree char *text = g_strdup_printf(
			"%s %" G_GUINT64_FORMAT, _(names[s]), op_chart_get_total(page->chart, s));

		gtk_label_set_text(page->legend[s], text);
	}
}

static void
statistics_done_cb(GObject *source, GAsyncResult *result, gpointer user_data)
{
	OpOverviewPage *page = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = op_client_call_finish(OP_CLIENT(source), result, &error);
	g_autoptr(GVariant) rows = NULL;

	if (reply == NULL) {
		if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
			op_show_toast(GTK_WIDGET(page->chart), error->message);
		return;
	}
	rows = g_variant_get_child_value(reply, 0);
	op_chart_set_rows(page->chart, rows);
	update_legend(page);
}

static void
load_statistics(OpOverviewPage *page)
{
	guint hours = gtk_toggle_button_get_active(page->week_button) ? 7 * 24 : 24;

	op_client_call(page->client, "GetStatistics", g_variant_new("(u)", hours),
		       page->cancellable, statistics_done_cb, page);
}

static void
refresh(GtkWidget *widget)
{
	OpOverviewPage *page = g_object_get_data(G_OBJECT(widget), "op-page");
	g_autofree char *service = NULL;
	const char *version = op_client_get_version(page->client);

	if (op_client_get_state(page->client) != OP_CLIENT_READY)
		return;
	g_cancellable_cancel(page->cancellable);
	g_clear_object(&page->cancellable);
	page->cancellable = g_cancellable_new();

	service = g_strdup_printf(_("Running, version %s"), *version ? version : "?");
	adw_action_row_set_subtitle(page->service_row, service);
	adw_preferences_row_set_title(ADW_PREFERENCES_ROW(page->service_row),
				      op_client_get_hostname(page->client));
	set_health_icon(page->service_icon, "green");
	op_client_call(page->client, "GetSettings", NULL, page->cancellable, settings_done_cb,
		       page);
	op_client_call(page->client, "ListDomains", NULL, page->cancellable, domains_done_cb,
		       page);
	op_client_call(page->client, "GetQueueTotals", NULL, page->cancellable, totals_done_cb,
		       page);
	load_statistics(page);
}

static GtkWidget *
build_totals(OpOverviewPage *page)
{
	static const char *const titles[] = {N_("In the queue"), N_("Queued"), N_("Deferred"),
					     N_("Held")};
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);

	gtk_box_set_homogeneous(GTK_BOX(box), TRUE);
	for (guint i = 0; i < G_N_ELEMENTS(titles); i++) {
		GtkWidget *card = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
		GtkWidget *value = gtk_label_new("—");
		GtkWidget *title = gtk_label_new(_(titles[i]));

		gtk_widget_add_css_class(card, "card");
		gtk_widget_add_css_class(value, "title-1");
		gtk_widget_add_css_class(title, "dim-label");
		gtk_widget_set_margin_top(value, 12);
		gtk_widget_set_margin_bottom(title, 12);
		gtk_box_append(GTK_BOX(card), value);
		gtk_box_append(GTK_BOX(card), title);
		gtk_accessible_update_relation(GTK_ACCESSIBLE(value),
					       GTK_ACCESSIBLE_RELATION_LABELLED_BY, title, NULL, -1);
		gtk_box_append(GTK_BOX(box), card);
		page->totals[i] = GTK_LABEL(value);
	}
	return box;
}

static void
range_toggled_cb(GtkToggleButton *button, OpOverviewPage *page)
{
	if (gtk_toggle_button_get_active(button) &&
	    op_client_get_state(page->client) == OP_CLIENT_READY)
		load_statistics(page);
}

static GtkWidget *
build_range_switch(OpOverviewPage *page)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
	GtkWidget *day = op_toggle_button_new_with_mnemonic(_("24 _Hours"));
	GtkWidget *week = op_toggle_button_new_with_mnemonic(_("7 _Days"));

	gtk_widget_add_css_class(box, "linked");
	gtk_widget_set_valign(box, GTK_ALIGN_CENTER);
	gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(week), GTK_TOGGLE_BUTTON(day));
	gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(day), TRUE);
	g_signal_connect(day, "toggled", G_CALLBACK(range_toggled_cb), page);
	g_signal_connect(week, "toggled", G_CALLBACK(range_toggled_cb), page);
	gtk_box_append(GTK_BOX(box), day);
	gtk_box_append(GTK_BOX(box), week);
	page->week_button = GTK_TOGGLE_BUTTON(week);
	return box;
}

static GtkWidget *
build_chart(OpOverviewPage *page)
{
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
	GtkWidget *legend = gtk_flow_box_new();

	gtk_widget_add_css_class(box, "card");
	page->chart = OP_CHART(op_chart_new());
	gtk_widget_set_margin_top(GTK_WIDGET(page->chart), 12);
	gtk_widget_set_margin_start(GTK_WIDGET(page->chart), 6);
	gtk_widget_set_margin_end(GTK_WIDGET(page->chart), 12);
	gtk_widget_set_size_request(GTK_WIDGET(page->chart), -1, 220);
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->chart));
	gtk_flow_box_set_selection_mode(GTK_FLOW_BOX(legend), GTK_SELECTION_NONE);
	gtk_flow_box_set_max_children_per_line(GTK_FLOW_BOX(legend), 4);
	gtk_widget_set_halign(legend, GTK_ALIGN_CENTER);
	gtk_widget_set_margin_bottom(legend, 12);
	for (int s = 0; s < OP_CHART_N_SERIES; s++) {
		GtkWidget *item = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
		GtkWidget *swatch = gtk_label_new(NULL);
		GdkRGBA color;
		g_autofree char *markup = NULL;
		g_autofree char *hex = NULL;

		op_chart_get_series_color(s, &color);
		hex = g_strdup_printf("#%02x%02x%02x", (int)(color.red * 255),
				      (int)(color.green * 255), (int)(color.blue * 255));
		markup = g_strdup_printf("<span foreground=\"%s\">■</span>", hex);
		gtk_label_set_markup(GTK_LABEL(swatch), markup);
		gtk_accessible_update_state(GTK_ACCESSIBLE(swatch), GTK_ACCESSIBLE_STATE_HIDDEN,
					    TRUE, -1);
		page->legend[s] = GTK_LABEL(gtk_label_new(NULL));
		gtk_box_append(GTK_BOX(item), swatch);
		gtk_box_append(GTK_BOX(item), GTK_WIDGET(page->legend[s]));
		gtk_flow_box_append(GTK_FLOW_BOX(legend), item);
	}
	gtk_box_append(GTK_BOX(box), legend);
	update_legend(page);
	return box;
}

static GtkWidget *
build_server_group(OpOverviewPage *page)
{
	GtkWidget *group = adw_preferences_group_new();

	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Server"));
	page->service_row =
		ADW_ACTION_ROW(new_status_row(_("Mail service"), &page->service_icon));
	page->certificate_row =
		ADW_ACTION_ROW(new_status_row(_("Certificate"), &page->certificate_icon));
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(page->service_row), FALSE);
	adw_preferences_row_set_use_markup(ADW_PREFERENCES_ROW(page->certificate_row), FALSE);
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), GTK_WIDGET(page->service_row));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group),
				  GTK_WIDGET(page->certificate_row));
	return group;
}

static void
client_ready_cb(OpClient *client, GtkWidget *widget)
{
	if (gtk_widget_get_mapped(widget))
		refresh(widget);
}

GtkWidget *
op_overview_page_new(OpClient *client)
{
	OpOverviewPage *page = g_new0(OpOverviewPage, 1);
	GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 24);
	GtkWidget *group;
	GtkWidget *scroller = op_page_scroller_new(box);

	page->client = g_object_ref(client);
	page->cancellable = g_cancellable_new();
	page->domain_rows = g_ptr_array_new();

	gtk_box_append(GTK_BOX(box), build_server_group(page));
	page->domains_group = ADW_PREFERENCES_GROUP(adw_preferences_group_new());
	adw_preferences_group_set_title(page->domains_group, _("Deliverability"));
	adw_preferences_group_set_description(
		page->domains_group, _("Whether each domain's DNS records let receivers trust "
				       "its mail"));
	gtk_box_append(GTK_BOX(box), GTK_WIDGET(page->domains_group));

	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Queue"));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), build_totals(page));
	gtk_box_append(GTK_BOX(box), group);

	group = adw_preferences_group_new();
	adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(group), _("Mail per Hour"));
	adw_preferences_group_set_header_suffix(ADW_PREFERENCES_GROUP(group),
						build_range_switch(page));
	adw_preferences_group_add(ADW_PREFERENCES_GROUP(group), build_chart(page));
	gtk_box_append(GTK_BOX(box), group);

	g_object_set_data_full(G_OBJECT(scroller), "op-page", page, page_free);
	op_page_add_refresh(scroller, G_CALLBACK(refresh));
	g_signal_connect(scroller, "map", G_CALLBACK(refresh), NULL);
	g_signal_connect_object(client, "ready", G_CALLBACK(client_ready_cb), scroller, 0);
	return scroller;
}
