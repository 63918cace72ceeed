/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Formatting for the admin app's views. Each function returns a new string
 * (or a static translated one for the state names), so list rows can bind
 * to them directly, and the unit tests call them without a display.
 */
#include "op-format.h"

#include <glib/gi18n.h>

#define OP_SECONDS_PER_DAY (24 * 3600)

char *
op_format_size(guint64 octets)
{
	return g_format_size(octets);
}

/* Formats a time for a list: the time of day for today, "Yesterday" and a
 * time for yesterday, day and month this year, and the full date before. */
char *
op_format_time(gint64 unix_time, gint64 now)
{
	g_autoptr(GDateTime) time = NULL;
	g_autoptr(GDateTime) today = NULL;
	g_autoptr(GDateTime) midnight = NULL;
	gint64 since_midnight;

	if (unix_time <= 0)
		return g_strdup("—");
	time = g_date_time_new_from_unix_local(unix_time);
	today = g_date_time_new_from_unix_local(now);
	if (time == NULL || today == NULL)
		return g_strdup("—");
	midnight = g_date_time_new_local(g_date_time_get_year(today),
					  g_date_time_get_month(today),
					  g_date_time_get_day_of_month(today), 0, 0, 0);
	since_midnight = unix_time - g_date_time_to_unix(midnight);

	if (since_midnight >= 0 && since_midnight < OP_SECONDS_PER_DAY)
		return g_date_time_format(time, "%H:%M");
	if (since_midnight < 0 && since_midnight >= -OP_SECONDS_PER_DAY)
		/* Translators: a time of yesterday, %H:%M as in strftime(3). */
		return g_date_time_format(time, _("Yesterday %H:%M"));
	if (g_date_time_get_year(time) == g_date_time_get_year(today))
		/* Translators: a date this year, as in strftime(3). */
		return g_date_time_format(time, _("%-d %b %H:%M"));
	return g_date_time_format(time, "%Y-%m-%d");
}

/* Formats the distance from now to unix_time: "in 5 minutes", "3 hours ago". */
char *
op_format_relative(gint64 unix_time, gint64 now)
{
	gint64 delta = unix_time - now;
	guint64 distance = (guint64)ABS(delta);
	g_autofree char *amount = NULL;

	if (unix_time <= 0)
		return g_strdup("—");
	if (distance < 60)
		return g_strdup(_("now"));
	if (distance < 3600) {
		guint minutes = (guint)(distance / 60);

		amount = g_strdup_printf(ngettext("%u minute", "%u minutes", minutes), minutes);
	} else if (distance < OP_SECONDS_PER_DAY) {
		guint hours = (guint)(distance / 3600);

		amount = g_strdup_printf(ngettext("%u hour", "%u hours", hours), hours);
	} else {
		guint days = (guint)(distance / OP_SECONDS_PER_DAY);

		amount = g_strdup_printf(ngettext("%u day", "%u days", days), days);
	}
	/* Translators: %s is an amount of time, such as "5 minutes". */
	return g_strdup_printf(delta > 0 ? _("in %s") : _("%s ago"), amount);
}

/* Formats a length of time with its two largest units: "1 day 6 hours". */
char *
op_format_duration(guint64 seconds)
{
	guint days = (guint)(seconds / OP_SECONDS_PER_DAY);
	guint hours = (guint)(seconds % OP_SECONDS_PER_DAY / 3600);
	guint minutes = (guint)(seconds % 3600 / 60);
	g_autofree char *large = NULL;
	g_autofree char *small = NULL;

	if (days > 0) {
		large = g_strdup_printf(ngettext("%u day", "%u days", days), days);
		if (hours > 0)
			small = g_strdup_printf(ngettext("%u hour", "%u hours", hours), hours);
	} else if (hours > 0) {
		large = g_strdup_printf(ngettext("%u hour", "%u hours", hours), hours);
		if (minutes > 0)
			small = g_strdup_printf(ngettext("%u minute", "%u minutes", minutes),
						minutes);
	} else if (minutes > 0) {
		large = g_strdup_printf(ngettext("%u minute", "%u minutes", minutes), minutes);
	} else {
		guint rest = (guint)seconds;

		return g_strdup_printf(ngettext("%u second", "%u seconds", rest), rest);
	}
	return small ? g_strdup_printf("%s %s", large, small) : g_strdup(large);
}

/* Formats a certificate's expiry as whole days left, rounding down. */
char *
op_format_days_left(gint64 not_after, gint64 now)
{
	gint64 seconds = not_after - now;
	guint days;

	if (not_after <= 0)
		return g_strdup(_("No certificate"));
	if (seconds < 0) {
		days = (guint)((-seconds + OP_SECONDS_PER_DAY - 1) / OP_SECONDS_PER_DAY);
		return g_strdup_printf(ngettext("Expired %u day ago", "Expired %u days ago", days),
				       days);
	}
	days = (guint)(seconds / OP_SECONDS_PER_DAY);
	if (days == 0)
		return g_strdup(_("Expires today"));
	return g_strdup_printf(ngettext("%u day left", "%u days left", days), days);
}

const char *
op_format_queue_state(const char *state)
{
	if (g_strcmp0(state, "queued") == 0)
		return _("Queued");
	if (g_strcmp0(state, "deferred") == 0)
		return _("Deferred");
	if (g_strcmp0(state, "held") == 0)
		return _("Held");
	return state != NULL ? state : "";
}

const char *
op_format_event_status(const char *status)
{
	static const struct {
		const char *status;
		const char *label;
	} labels[] = {
		{"accepted", N_("Accepted")}, {"delivered", N_("Delivered")},
		{"deferred", N_("Deferred")}, {"bounced", N_("Bounced")},
		{"expired", N_("Expired")},   {"delay-warned", N_("Delay warned")},
		{"rejected", N_("Rejected")}, {"deleted", N_("Deleted")},
	};

	for (guint i = 0; i < G_N_ELEMENTS(labels); i++) {
		if (g_strcmp0(status, labels[i].status) == 0)
			return _(labels[i].label);
	}
	return status != NULL ? status : "";
}
