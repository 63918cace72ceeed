/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpChart. One bar per hour, oldest on the left, with the series stacked
 * in OpChartSeries order; horizontal grid lines at round numbers and time
 * labels along the bottom. The widget's accessible description sums up the
 * totals, since a screen reader cannot read a picture.
 */
#include "op-chart.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <pango/pangocairo.h>

#define OP_CHART_AXIS_WIDTH 44
#define OP_CHART_LABEL_HEIGHT 22
/* Room above the top grid line for the half of its label that sits above it. */
#define OP_CHART_TOP_PADDING 10

typedef struct {
	gint64 hour;
	guint values[OP_CHART_N_SERIES];
} OpChartHour;

struct _OpChart {
	GtkWidget parent_instance;
	GArray *hours;
	guint64 totals[OP_CHART_N_SERIES];
};

G_DEFINE_FINAL_TYPE(OpChart, op_chart, GTK_TYPE_WIDGET)

static const struct {
	const char *key;
	const char *color;
} op_series[OP_CHART_N_SERIES] = {
	[OP_CHART_SENT] = {"sent", "#2ec27e"},
	[OP_CHART_DEFERRED] = {"deferred", "#e5a50a"},
	[OP_CHART_BOUNCED] = {"bounced", "#e01b24"},
	[OP_CHART_REJECTED] = {"rejected", "#9141ac"},
};

void
op_chart_get_series_color(OpChartSeries series, GdkRGBA *color)
{
	gdk_rgba_parse(color, op_series[series].color);
}

const char *
op_chart_get_series_key(OpChartSeries series)
{
	return op_series[series].key;
}

guint64
op_chart_get_total(OpChart *self, OpChartSeries series)
{
	return self->totals[series];
}

/* Rounds max up to 1, 2 or 5 times a power of ten, so grid lines fall on
 * numbers people read at a glance. */
static double
round_scale(guint max)
{
	double step = 1;

	if (max <= 4)
		return 4;
	while (step * 10 < max)
		step *= 10;
	if (max <= step * 2)
		return step * 2;
	if (max <= step * 5)
		return step * 5;
	return step * 10;
}

static void
draw_text(cairo_t *cr, GtkWidget *widget, const char *text, double x, double y,
	  double x_align)
{
	PangoLayout *layout = gtk_widget_create_pango_layout(widget, text);
	int width;
	int height;

	pango_layout_get_pixel_size(layout, &width, &height);
	cairo_move_to(cr, x - width * x_align, y - height / 2.0);
	pango_cairo_show_layout(cr, layout);
	g_object_unref(layout);
}

static void
draw_grid(OpChart *self, cairo_t *cr, const GdkRGBA *fg, double scale, double width,
	  double plot_height)
{
	for (int line = 0; line <= 4; line++) {
		double y = plot_height - plot_height * line / 4.0 + 0.5;
		g_autofree char *label = g_strdup_printf("%.0f", scale * line / 4.0);

		cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.15);
		cairo_move_to(cr, OP_CHART_AXIS_WIDTH, y);
		cairo_line_to(cr, width, y);
		cairo_stroke(cr);
		cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.7);
		draw_text(cr, GTK_WIDGET(self), label, OP_CHART_AXIS_WIDTH - 6, y, 1.0);
	}
}

/* Labels every sixth hour over a day, and each midnight over a week. */
static void
draw_time_label(OpChart *self, cairo_t *cr, const OpChartHour *hour, double x, double y)
{
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_local(hour->hour);
	g_autofree char *label = NULL;
	gboolean week = self->hours->len > 48;

	if (time == NULL)
		return;
	if (!week && g_date_time_get_hour(time) % 6 == 0)
		label = g_date_time_format(time, "%H:%M");
	else if (week && g_date_time_get_hour(time) == 0)
		/* Translators: a day label under the weekly chart, as in strftime(3). */
		label = g_date_time_format(time, _("%a %-d"));
	if (label != NULL)
		draw_text(cr, GTK_WIDGET(self), label, x, y, 0.5);
}

static void
op_chart_snapshot(GtkWidget *widget, GtkSnapshot *snapshot)
{
	OpChart *self = OP_CHART(widget);
	double width = gtk_widget_get_width(widget);
	double height = gtk_widget_get_height(widget);
	double plot_height = height - OP_CHART_LABEL_HEIGHT - OP_CHART_TOP_PADDING;
	double plot_width = width - OP_CHART_AXIS_WIDTH;
	guint max = 0;
	double scale;
	double slot;
	GdkRGBA fg;
	cairo_t *cr;

	if (plot_height <= 0 || plot_width <= 0)
		return;
	gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
	for (guint i = 0; i < self->hours->len; i++) {
		const OpChartHour *hour = &g_array_index(self->hours, OpChartHour, i);
		guint sum = 0;

		for (int s = 0; s < OP_CHART_N_SERIES; s++)
			sum += hour->values[s];
		max = MAX(max, sum);
	}
	scale = round_scale(max);
	cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, width, height));
	cairo_translate(cr, 0, OP_CHART_TOP_PADDING);
	cairo_set_line_width(cr, 1);
	draw_grid(self, cr, &fg, scale, width, plot_height);

	slot = self->hours->len > 0 ? plot_width / self->hours->len : plot_width;
	for (guint i = 0; i < self->hours->len; i++) {
		const OpChartHour *hour = &g_array_index(self->hours, OpChartHour, i);
		double x = OP_CHART_AXIS_WIDTH + i * slot;
		double bar = MAX(slot * 0.7, 1.0);
		double y = plot_height;

		for (int s = 0; s < OP_CHART_N_SERIES; s++) {
			double h = plot_height * hour->values[s] / scale;
			GdkRGBA color;

			if (hour->values[s] == 0)
				continue;
			op_chart_get_series_color(s, &color);
			gdk_cairo_set_source_rgba(cr, &color);
			cairo_rectangle(cr, x + (slot - bar) / 2, y - h, bar, h);
			cairo_fill(cr);
			y -= h;
		}
		cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.7);
		draw_time_label(self, cr, hour, x + slot / 2,
				plot_height + OP_CHART_LABEL_HEIGHT / 2.0);
	}
	cairo_destroy(cr);
}

static void
update_description(OpChart *self)
{
	/* The counts are cast to unsigned long long because xgettext cannot
	 * expand G_GUINT64_FORMAT inside a translatable string. */
	g_autofree char *text = g_strdup_printf(
		ngettext("%u hour: %llu sent, %llu deferred, %llu bounced, %llu rejected",
			 "%u hours: %llu sent, %llu deferred, %llu bounced, %llu rejected",
			 self->hours->len),
		self->hours->len, (unsigned long long)self->totals[OP_CHART_SENT],
		(unsigned long long)self->totals[OP_CHART_DEFERRED],
		(unsigned long long)self->totals[OP_CHART_BOUNCED],
		(unsigned long long)self->totals[OP_CHART_REJECTED]);

	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
				       text, -1);
}

/* Replaces the chart's data with GetStatistics rows (aa{sv}, oldest first). */
void
op_chart_set_rows(OpChart *self, GVariant *rows)
{
	GVariantIter iter;
	GVariant *row;

	g_array_set_size(self->hours, 0);
	memset(self->totals, 0, sizeof self->totals);
	g_variant_iter_init(&iter, rows);
	while ((row = g_variant_iter_next_value(&iter)) != NULL) {
		OpChartHour hour = {0};

		g_variant_lookup(row, "hour", "x", &hour.hour);
		for (int s = 0; s < OP_CHART_N_SERIES; s++) {
			g_variant_lookup(row, op_series[s].key, "u", &hour.values[s]);
			self->totals[s] += hour.values[s];
		}
		g_array_append_val(self->hours, hour);
		g_variant_unref(row);
	}
	update_description(self);
	gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void
op_chart_finalize(GObject *object)
{
	g_array_unref(OP_CHART(object)->hours);
	G_OBJECT_CLASS(op_chart_parent_class)->finalize(object);
}

static void
op_chart_class_init(OpChartClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

	object_class->finalize = op_chart_finalize;
	widget_class->snapshot = op_chart_snapshot;
	gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
	gtk_widget_class_set_css_name(widget_class, "chart");
}

static void
op_chart_init(OpChart *self)
{
	self->hours = g_array_new(FALSE, TRUE, sizeof(OpChartHour));
	gtk_widget_set_size_request(GTK_WIDGET(self), 240, 200);
	gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
				       _("Messages per hour"), -1);
}

GtkWidget *
op_chart_new(void)
{
	return g_object_new(OP_TYPE_CHART, NULL);
}
