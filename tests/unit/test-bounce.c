/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the DSN builder: the multipart/report structure (RFC 6522), the
 * delivery-status fields (RFC 3464), CRLF and line limits, and remote text
 * that must not add fields.
 */
#include <string.h>

#include "delivery/op-bounce.h"
#include "op-error.h"

static const char original_message[] = "Received: from client.example.org\r\n"
				       "From: Alice <alice@example.org>\r\n"
				       "To: bob@example.net\r\n"
				       "Subject: quarterly report\r\n"
				       "Message-ID: <1234@example.org>\r\n"
				       "\r\n"
				       "The secret body.\r\n";

static OpBounceRecipient *
recipient_new(const char *address, const char *action, const char *status,
	      const char *remote_mta, const char *diagnostic)
{
	OpBounceRecipient *recipient = g_new0(OpBounceRecipient, 1);

	recipient->recipient = g_strdup(address);
	recipient->action = action;
	recipient->status = g_strdup(status);
	recipient->remote_mta = g_strdup(remote_mta);
	recipient->diagnostic = g_strdup(diagnostic);
	return recipient;
}

typedef struct {
	OpBounceInfo info;
	GPtrArray *recipients;
	GBytes *original;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	fixture->recipients = g_ptr_array_new_with_free_func(
		(GDestroyNotify)op_bounce_recipient_free);
	fixture->original = g_bytes_new_static(original_message, sizeof(original_message) - 1);
	fixture->info.reporting_mta = "mail.example.org";
	fixture->info.queue_id = "Q1234";
	fixture->info.sender = "alice@example.org";
	fixture->info.arrival_time = 1700000000;
	fixture->info.recipients = fixture->recipients;
	fixture->info.original = fixture->original;
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	g_ptr_array_unref(fixture->recipients);
	g_bytes_unref(fixture->original);
}

/* Checks CRLF line ends and the 998-octet line limit of RFC 5322 §2.1.1. */
static void
assert_lines_wellformed(const char *text, gsize len)
{
	gsize line = 0;

	for (gsize i = 0; i < len; i++) {
		if (text[i] == '\n') {
			g_assert_cmpint(i, >, 0);
			g_assert_cmpint(text[i - 1], ==, '\r');
			line = 0;
			continue;
		}
		if (text[i] == '\r') {
			g_assert_cmpint(i + 1, <, len);
			g_assert_cmpint(text[i + 1], ==, '\n');
			continue;
		}
		g_assert_cmpint(text[i], !=, '\0');
		line++;
		g_assert_cmpuint(line, <=, 998);
	}
	g_assert_true(len >= 2 && text[len - 2] == '\r' && text[len - 1] == '\n');
}

static char *
dup_boundary(const char *text)
{
	const char *start = strstr(text, "boundary=\"");
	const char *end;

	g_assert_nonnull(start);
	start += strlen("boundary=\"");
	end = strchr(start, '"');
	g_assert_nonnull(end);
	return g_strndup(start, end - start);
}

static guint
count_occurrences(const char *text, const char *needle)
{
	guint count = 0;

	for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		count++;
	return count;
}

/* Splits the body into the parts between the boundary delimiters. */
static GPtrArray *
split_parts(const char *text, const char *boundary)
{
	g_autofree char *delimiter = g_strdup_printf("\r\n--%s", boundary);
	g_autofree char *closing = g_strdup_printf("\r\n--%s--\r\n", boundary);
	GPtrArray *parts = g_ptr_array_new_with_free_func(g_free);
	const char *p = strstr(text, delimiter);

	g_assert_nonnull(p);
	g_assert_true(g_str_has_suffix(text, closing));
	while (p != NULL && strncmp(p + strlen(delimiter), "--", 2) != 0) {
		const char *start = p + strlen(delimiter) + 2;
		const char *next = strstr(start, delimiter);

		g_assert_nonnull(next);
		g_ptr_array_add(parts, g_strndup(start, next - start));
		p = next;
	}
	return parts;
}

static char *
build_text(const OpBounceInfo *info)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) bytes = op_bounce_build(info, &error);
	gsize len = 0;
	const char *data;

	g_assert_no_error(error);
	g_assert_nonnull(bytes);
	data = g_bytes_get_data(bytes, &len);
	assert_lines_wellformed(data, len);
	g_assert_cmpuint(strlen(data), ==, len);
	return g_strndup(data, len);
}

static void
test_bounce_failure(Fixture *fixture, gconstpointer data)
{
	g_autofree char *text = NULL;
	g_autofree char *boundary = NULL;
	g_autoptr(GPtrArray) parts = NULL;
	g_autofree char *delimiter = NULL;

	g_ptr_array_add(fixture->recipients,
			recipient_new("bob@example.net", "failed", "5.1.1", "mx.example.net",
				      "550 5.1.1 <bob@example.net>: user unknown"));
	g_ptr_array_add(fixture->recipients,
			recipient_new("carol@example.net", "failed", "5.7.1", "mx.example.net",
				      "550 5.7.1 rejected\r\nX-Injected: yes"));
	text = build_text(&fixture->info);

	g_assert_true(g_str_has_prefix(
		text, "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\n"));
	g_assert_nonnull(strstr(text, "\r\nTo: <alice@example.org>\r\n"));
	g_assert_nonnull(strstr(text, "\r\nSubject: Undelivered Mail Returned to Sender\r\n"));
	g_assert_true(g_regex_match_simple("\r\nDate: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), "
					   "\\d{1,2} [A-Z][a-z]{2} \\d{4} "
					   "\\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\r\n",
					   text, 0, 0));
	g_assert_true(g_regex_match_simple("\r\nMessage-ID: <[^@>]+@mail\\.example\\.org>\r\n",
					   text, 0, 0));
	g_assert_nonnull(strstr(text, "\r\nMIME-Version: 1.0\r\n"));
	g_assert_nonnull(strstr(text, "\r\nAuto-Submitted: auto-replied\r\n"));
	g_assert_nonnull(strstr(text, "Content-Type: multipart/report; "
				      "report-type=delivery-status;"));

	boundary = dup_boundary(text);
	delimiter = g_strdup_printf("--%s", boundary);
	/* The boundary appears in the Content-Type and the four delimiters only. */
	g_assert_cmpuint(count_occurrences(text, boundary), ==, 5);
	g_assert_cmpuint(count_occurrences(text, delimiter), ==, 4);

	parts = split_parts(text, boundary);
	g_assert_cmpuint(parts->len, ==, 3);
	g_assert_true(g_str_has_prefix(parts->pdata[0], "Content-Type: text/plain"));
	g_assert_nonnull(strstr(parts->pdata[0], "<bob@example.net>"));
	g_assert_nonnull(strstr(parts->pdata[0], "will not try again"));
	g_assert_true(g_str_has_prefix(parts->pdata[1], "Content-Type: message/delivery-status"));
	g_assert_true(g_str_has_prefix(parts->pdata[2], "Content-Type: text/rfc822-headers"));
}

static void
test_bounce_status_fields(Fixture *fixture, gconstpointer data)
{
	g_autofree char *text = NULL;
	g_autofree char *boundary = NULL;
	g_autoptr(GPtrArray) parts = NULL;
	const char *status;
	OpBounceRecipient *bob = recipient_new("bob@example.net", "failed", "5.1.1",
					       "mx.example.net", "550 5.1.1 user unknown");

	bob->original_recipient = g_strdup("bob@old.example.net");
	g_ptr_array_add(fixture->recipients, bob);
	g_ptr_array_add(fixture->recipients,
			recipient_new("carol@example.net", "failed", "5.7.1", "mx.example.net",
				      "550 5.7.1 rejected\r\nX-Injected: yes\nAction: delivered"));
	text = build_text(&fixture->info);
	boundary = dup_boundary(text);
	parts = split_parts(text, boundary);
	status = parts->pdata[1];

	g_assert_nonnull(strstr(status, "\r\n\r\nReporting-MTA: dns; mail.example.org\r\n"));
	g_assert_nonnull(strstr(status, "\r\nX-Outpost-Queue-ID: Q1234\r\n"));
	g_assert_nonnull(strstr(status, "\r\nArrival-Date: "));
	g_assert_nonnull(strstr(status, "\r\nOriginal-Recipient: rfc822; bob@old.example.net\r\n"));
	g_assert_nonnull(strstr(status, "\r\nFinal-Recipient: rfc822; bob@example.net\r\n"));
	g_assert_nonnull(strstr(status, "\r\nAction: failed\r\n"));
	g_assert_nonnull(strstr(status, "\r\nStatus: 5.1.1\r\n"));
	g_assert_nonnull(strstr(status, "\r\nRemote-MTA: dns; mx.example.net\r\n"));
	g_assert_nonnull(strstr(status, "\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"));
	g_assert_nonnull(strstr(status, "\r\nFinal-Recipient: rfc822; carol@example.net\r\n"));
	g_assert_nonnull(strstr(status, "550 5.7.1 rejectedX-Injected: yesAction: delivered"));
	g_assert_null(strstr(text, "\r\nX-Injected"));
	g_assert_null(strstr(text, "\r\nAction: delivered"));
	g_assert_cmpuint(count_occurrences(status, "\r\nAction: failed\r\n"), ==, 2);
}

static void
test_bounce_original_headers(Fixture *fixture, gconstpointer data)
{
	g_autofree char *text = NULL;
	g_autofree char *boundary = NULL;
	g_autoptr(GPtrArray) parts = NULL;

	g_ptr_array_add(fixture->recipients,
			recipient_new("bob@example.net", "failed", "5.1.1", NULL, NULL));
	text = build_text(&fixture->info);
	boundary = dup_boundary(text);
	parts = split_parts(text, boundary);

	g_assert_nonnull(strstr(parts->pdata[2], "\r\nSubject: quarterly report\r\n"));
	g_assert_nonnull(strstr(parts->pdata[2], "\r\nMessage-ID: <1234@example.org>\r\n"));
	g_assert_nonnull(strstr(parts->pdata[2], "\r\nReceived: from client.example.org\r\n"));
	g_assert_null(strstr(text, "secret body"));
	/* Without a diagnostic the text part still names the status. */
	g_assert_nonnull(strstr(parts->pdata[0], "<bob@example.net>: delivery status 5.1.1"));
	g_assert_null(strstr(parts->pdata[1], "Diagnostic-Code"));
	g_assert_null(strstr(parts->pdata[1], "Remote-MTA"));
}

static void
test_bounce_delay(Fixture *fixture, gconstpointer data)
{
	g_autofree char *text = NULL;

	fixture->info.delay_warning = TRUE;
	g_ptr_array_add(fixture->recipients,
			recipient_new("bob@example.net", "delayed", "4.4.1", "mx.example.net",
				      "connect to mx.example.net[192.0.2.1]:25 failed"));
	text = build_text(&fixture->info);

	g_assert_nonnull(strstr(text, "\r\nSubject: Delayed Mail (still being retried)\r\n"));
	g_assert_nonnull(strstr(text, "\r\nAction: delayed\r\n"));
	g_assert_nonnull(strstr(text, "\r\nStatus: 4.4.1\r\n"));
	g_assert_nonnull(strstr(text, "keeps trying"));
	g_assert_null(strstr(text, "will not try again"));
}

static void
test_bounce_long_lines(Fixture *fixture, gconstpointer data)
{
	g_autofree char *word = g_strnfill(2500, 'x');
	g_autofree char *diagnostic = g_strdup_printf("550 5.1.1 %s and more words", word);
	g_autofree char *original = g_strdup_printf("Subject: %s\r\nX-Long: %s\r\n\r\nbody\r\n",
						    word, word);
	g_autoptr(GBytes) bytes = g_bytes_new(original, strlen(original));
	g_autofree char *text = NULL;

	fixture->info.original = bytes;
	g_ptr_array_add(fixture->recipients,
			recipient_new("bob@example.net", "failed", "5.1.1", "mx.example.net",
				      diagnostic));
	/* build_text() checks that no line passes 998 octets. */
	text = build_text(&fixture->info);
	g_assert_nonnull(strstr(text, "and more words"));
	g_assert_cmpuint(count_occurrences(text, "x"), >=, 4 * 2500);
}

static void
test_bounce_bare_lf_original(Fixture *fixture, gconstpointer data)
{
	static const char bare[] = "Subject: bare\nFrom: a@example.org\rX: y\n\nbody\n";
	g_autoptr(GBytes) bytes = g_bytes_new_static(bare, sizeof(bare) - 1);
	g_autofree char *text = NULL;

	fixture->info.original = bytes;
	g_ptr_array_add(fixture->recipients,
			recipient_new("bob@example.net", "failed", "5.1.1", NULL, NULL));
	text = build_text(&fixture->info);
	g_assert_nonnull(strstr(text, "\r\nSubject: bare\r\nFrom: a@example.orgX: y\r\n"));
	g_assert_null(strstr(text, "body"));
}

static void
test_bounce_utf8(Fixture *fixture, gconstpointer data)
{
	g_autofree char *text = NULL;

	g_ptr_array_add(fixture->recipients,
			recipient_new("j\xc3\xb6rg@example.net", "failed", "5.1.1", NULL, NULL));
	text = build_text(&fixture->info);
	g_assert_nonnull(strstr(text, "report-type=global-delivery-status"));
	g_assert_nonnull(strstr(text, "Content-Type: message/global-delivery-status"));
	g_assert_nonnull(strstr(text, "Final-Recipient: utf-8; j\xc3\xb6rg@example.net\r\n"));
	g_assert_nonnull(strstr(text, "Content-Type: text/plain; charset=utf-8"));
}

typedef struct {
	const char *name;
	const char *sender;
	const char *action;
	gboolean add_recipient;
} InvalidCase;

static const InvalidCase invalid_cases[] = {
	{"null-sender", "", "failed", TRUE},
	{"missing-sender", NULL, "failed", TRUE},
	{"sender-line-break", "a@example.org\r\nBcc: x@example.net", "failed", TRUE},
	{"no-recipients", "alice@example.org", "failed", FALSE},
	{"unknown-action", "alice@example.org", "bounced", TRUE},
};

static void
test_bounce_invalid(Fixture *fixture, gconstpointer data)
{
	for (gsize i = 0; i < G_N_ELEMENTS(invalid_cases); i++) {
		const InvalidCase *item = &invalid_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) bytes = NULL;

		g_test_message("case %s", item->name);
		g_ptr_array_set_size(fixture->recipients, 0);
		if (item->add_recipient)
			g_ptr_array_add(fixture->recipients,
					recipient_new("bob@example.net", item->action, "5.1.1",
						      NULL, NULL));
		fixture->info.sender = item->sender;
		bytes = op_bounce_build(&fixture->info, &error);
		g_assert_null(bytes);
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
	}
}

static void
test_bounce_boundaries_differ(Fixture *fixture, gconstpointer data)
{
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *first_boundary = NULL;
	g_autofree char *second_boundary = NULL;

	g_ptr_array_add(fixture->recipients,
			recipient_new("bob@example.net", "failed", "5.1.1", NULL, NULL));
	first = build_text(&fixture->info);
	second = build_text(&fixture->info);
	first_boundary = dup_boundary(first);
	second_boundary = dup_boundary(second);
	g_assert_cmpstr(first_boundary, !=, second_boundary);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, func) \
	g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
	ADD("/delivery/bounce/failure", test_bounce_failure);
	ADD("/delivery/bounce/status-fields", test_bounce_status_fields);
	ADD("/delivery/bounce/original-headers", test_bounce_original_headers);
	ADD("/delivery/bounce/delay", test_bounce_delay);
	ADD("/delivery/bounce/long-lines", test_bounce_long_lines);
	ADD("/delivery/bounce/bare-lf-original", test_bounce_bare_lf_original);
	ADD("/delivery/bounce/utf8", test_bounce_utf8);
	ADD("/delivery/bounce/invalid", test_bounce_invalid);
	ADD("/delivery/bounce/boundaries-differ", test_bounce_boundaries_differ);
#undef ADD
	return g_test_run();
}
