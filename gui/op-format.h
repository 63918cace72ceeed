/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Formatting for the admin app's views: sizes, times, durations, queue and
 * event states, SMTP replies and D-Bus errors in plain words, and password
 * strength. Pure functions, so they are tested without a display.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The D-Bus error names of the daemon that the app treats specially. */
#define OP_DBUS_ERROR_ACCESS_DENIED "io.github.outpostmail.Outpost1.Error.AccessDenied"

typedef enum {
	OP_PASSWORD_TOO_SHORT,
	OP_PASSWORD_WEAK,
	OP_PASSWORD_FAIR,
	OP_PASSWORD_STRONG,
} OpPasswordStrength;

/* The shortest password the daemon accepts (AddAccount, SetPassword). */
#define OP_PASSWORD_MIN_LENGTH 10

char *op_format_size(guint64 octets);
char *op_format_time(gint64 unix_time, gint64 now);
char *op_format_relative(gint64 unix_time, gint64 now);
char *op_format_duration(guint64 seconds);
char *op_format_days_left(gint64 not_after, gint64 now);
const char *op_format_queue_state(const char *state);
const char *op_format_event_status(const char *status);
char *op_explain_reply(const char *reply);
char *op_dup_error_sentence(const GError *error);
gboolean op_error_is_unknown_method(const GError *error);
gboolean op_error_is_access_denied(const GError *error);
gboolean op_error_is_not_running(const GError *error);
OpPasswordStrength op_password_strength(const char *password, const char **hint);
char *op_generate_password(void);

G_END_DECLS
