/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpChart: a stacked bar chart of sent, deferred, bounced and rejected
 * messages per hour, from GetStatistics rows, drawn with cairo.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define OP_TYPE_CHART (op_chart_get_type())
G_DECLARE_FINAL_TYPE(OpChart, op_chart, OP, CHART, GtkWidget)

/* The series, in stacking order from the bottom. */
typedef enum {
	OP_CHART_SENT,
	OP_CHART_DEFERRED,
	OP_CHART_BOUNCED,
	OP_CHART_REJECTED,
	OP_CHART_N_SERIES,
} OpChartSeries;

GtkWidget *op_chart_new(void);
void op_chart_set_rows(OpChart *self, GVariant *rows);
void op_chart_get_series_color(OpChartSeries series, GdkRGBA *color);
const char *op_chart_get_series_key(OpChartSeries series);
guint64 op_chart_get_total(OpChart *self, OpChartSeries series);

G_END_DECLS
