/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Unit tests of the app's formatting: sizes, times, durations, certificate
 * days, SMTP replies explained, D-Bus error sentences and passwords.
 * Run with TZ=UTC and the C locale (meson sets both).
 */
#include "op-format.h"

#include <string.h>

/* 2025-03-14 12:00:00 UTC. */
#define NOW 1741953600

static void
test_size(void)
{
	g_autofree char *zero = op_format_size(0);
	g_autofree char *kilo = op_format_size(1500);
	g_autofree char *mega = op_format_size(25 * 1000 * 1000);

	g_assert_cmpstr(zero, ==, "0 bytes");
	g_assert_cmpstr(kilo, ==, "1.5\u00a0kB");
	g_assert_cmpstr(mega, ==, "25.0\u00a0MB");
}

static void
test_time(void)
{
	static const struct {
		gint64 time;
		const char *expected;
	} cases[] = {
		{0, "—"},
		{NOW - 3600, "11:00"},
		{NOW - 13 * 3600, "Yesterday 23:00"},
		{NOW - 40 * 24 * 3600, "2 Feb 12:00"},
		{NOW - 400 * 24 * 3600, "2024-02-08"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = op_format_time(cases[i].time, NOW);

		g_assert_cmpstr(text, ==, cases[i].expected);
	}
}

static void
test_relative(void)
{
	g_autofree char *now = op_format_relative(NOW + 30, NOW);
	g_autofree char *soon = op_format_relative(NOW + 300, NOW);
	g_autofree char *past = op_format_relative(NOW - 3 * 3600, NOW);
	g_autofree char *day = op_format_relative(NOW - 24 * 3600, NOW);

	g_assert_cmpstr(now, ==, "now");
	g_assert_cmpstr(soon, ==, "in 5 minutes");
	g_assert_cmpstr(past, ==, "3 hours ago");
	g_assert_cmpstr(day, ==, "1 day ago");
}

static void
test_duration(void)
{
	g_autofree char *lifetime = op_format_duration(5 * 24 * 3600);
	g_autofree char *mixed = op_format_duration(30 * 3600);
	g_autofree char *minutes = op_format_duration(150 * 60);
	g_autofree char *seconds = op_format_duration(1);

	g_assert_cmpstr(lifetime, ==, "5 days");
	g_assert_cmpstr(mixed, ==, "1 day 6 hours");
	g_assert_cmpstr(minutes, ==, "2 hours 30 minutes");
	g_assert_cmpstr(seconds, ==, "1 second");
}

static void
test_days_left(void)
{
	g_autofree char *none = op_format_days_left(0, NOW);
	g_autofree char *left = op_format_days_left(NOW + 90 * 24 * 3600 + 5, NOW);
	g_autofree char *today = op_format_days_left(NOW + 60, NOW);
	g_autofree char *expired = op_format_days_left(NOW - 2 * 24 * 3600, NOW);

	g_assert_cmpstr(none, ==, "No certificate");
	g_assert_cmpstr(left, ==, "90 days left");
	g_assert_cmpstr(today, ==, "Expires today");
	g_assert_cmpstr(expired, ==, "Expired 2 days ago");
}

static void
test_explain_reply(void)
{
	static const struct {
		const char *reply;
		const char *expected_start;
	} cases[] = {
		{"", "No delivery attempt has failed yet."},
		{"550 5.1.1 <bob@example.com>: user unknown",
		 "The recipient's mailbox does not exist"},
		{"452 4.2.2 mailbox full", "The recipient's mailbox is full."},
		{"554 5.7.1 rejected as spam", "The receiving server refused the message by its"},
		{"550 5.7.26 unauthenticated mail", "The message failed the recipient's auth"},
		{"421 too busy", "The receiving server is busy"},
		{"MX lookup for unreachable.example failed: timed out",
		 "Looking up the recipient's mail servers"},
		{"domain nowhere.example does not exist", "The recipient's domain does not exist"},
		{"domain example.net does not accept mail (null MX, RFC 7505)",
		 "The recipient's domain accepts no mail"},
		{"something odd", "The delivery attempt failed."},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = op_explain_reply(cases[i].reply);

		g_assert_true(g_str_has_prefix(text, cases[i].expected_start));
	}
}

static void
test_explain_next_step(void)
{
	g_autofree char *temporary = op_explain_reply("451 4.3.0 try later");
	g_autofree char *permanent = op_explain_reply("550 5.1.1 no such user");

	g_assert_nonnull(strstr(temporary, "tries again later"));
	g_assert_nonnull(strstr(permanent, "bounce or delete"));
}

static void
test_error_sentence(void)
{
	g_autoptr(GError) denied = g_dbus_error_new_for_dbus_error(
		OP_DBUS_ERROR_ACCESS_DENIED, "you are not allowed to change the mail server");
	g_autoptr(GError) unknown = g_dbus_error_new_for_dbus_error(
		"org.freedesktop.DBus.Error.UnknownMethod", "No such method");
	g_autoptr(GError) gone = g_dbus_error_new_for_dbus_error(
		"org.freedesktop.DBus.Error.ServiceUnknown", "not provided by any file");
	g_autoptr(GError) exists = g_dbus_error_new_for_dbus_error(
		"io.github.outpostmail.Outpost1.Error.Exists", "the domain shop.example exists");
	g_autofree char *denied_text = op_dup_error_sentence(denied);
	g_autofree char *unknown_text = op_dup_error_sentence(unknown);
	g_autofree char *gone_text = op_dup_error_sentence(gone);
	g_autofree char *exists_text = op_dup_error_sentence(exists);

	g_assert_true(op_error_is_access_denied(denied));
	g_assert_false(op_error_is_access_denied(exists));
	g_assert_true(op_error_is_unknown_method(unknown));
	g_assert_true(op_error_is_not_running(gone));
	g_assert_cmpstr(denied_text, ==, "you are not allowed to change the mail server");
	g_assert_cmpstr(unknown_text, ==,
			"This version of the Outpost service does not offer this yet.");
	g_assert_cmpstr(gone_text, ==, "The Outpost service is not running.");
	g_assert_cmpstr(exists_text, ==, "the domain shop.example exists");
}

static void
test_password_strength(void)
{
	static const struct {
		const char *password;
		OpPasswordStrength expected;
	} cases[] = {
		{"", OP_PASSWORD_TOO_SHORT},
		{"short", OP_PASSWORD_TOO_SHORT},
		{"password123", OP_PASSWORD_WEAK},
		{"aaaaaaaaaaaaaaaa", OP_PASSWORD_WEAK},
		{"correcthorsebat", OP_PASSWORD_FAIR},
		{"Tr0ub4dor&3-Xk9!qz", OP_PASSWORD_STRONG},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *hint = NULL;

		g_assert_cmpint(op_password_strength(cases[i].password, &hint), ==,
				cases[i].expected);
		g_assert_nonnull(hint);
	}
}

static void
test_generated_password(void)
{
	g_autofree char *first = op_generate_password();
	g_autofree char *second = op_generate_password();
	const char *hint = NULL;

	g_assert_cmpuint(strlen(first), ==, 23);
	g_assert_cmpint(first[5], ==, '-');
	g_assert_cmpint(first[11], ==, '-');
	g_assert_cmpint(first[17], ==, '-');
	g_assert_cmpstr(first, !=, second);
	g_assert_null(strpbrk(first, "0O1lI"));
	g_assert_cmpint(op_password_strength(first, &hint), ==, OP_PASSWORD_STRONG);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/gui/format/size", test_size);
	g_test_add_func("/gui/format/time", test_time);
	g_test_add_func("/gui/format/relative", test_relative);
	g_test_add_func("/gui/format/duration", test_duration);
	g_test_add_func("/gui/format/days-left", test_days_left);
	g_test_add_func("/gui/explain/reply", test_explain_reply);
	g_test_add_func("/gui/explain/next-step", test_explain_next_step);
	g_test_add_func("/gui/explain/error-sentence", test_error_sentence);
	g_test_add_func("/gui/password/strength", test_password_strength);
	g_test_add_func("/gui/password/generated", test_generated_password);
	return g_test_run();
}
