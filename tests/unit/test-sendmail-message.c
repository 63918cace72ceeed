/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of how outpost-sendmail prepares a message: LF to CRLF with bare CR
 * left for the server to reject, the header edits (From: added, Bcc:
 * removed, -t recipients), address lists with bare names, the From: field
 * and dot-stuffing.
 */
#include "op-error.h"
#include "sendmail/op-sendmail-message.h"

#include <string.h>

typedef struct {
	const char *name;
	const char *input;
	const char *output;
} ConvertCase;

static const ConvertCase crlf_cases[] = {
	{"empty", "", ""},
	{"lf", "a\nb\n", "a\r\nb\r\n"},
	{"crlf-kept", "a\r\nb\r\n", "a\r\nb\r\n"},
	{"mixed", "a\r\nb\nc\r\n", "a\r\nb\r\nc\r\n"},
	{"no-final-newline", "a\nb", "a\r\nb\r\n"},
	{"leading-lf", "\nbody\n", "\r\nbody\r\n"},
	{"lone-dot-line", "a\n.\nb\n", "a\r\n.\r\nb\r\n"},
	{"bare-cr-kept", "a\rb\n", "a\rb\r\n"},
	{"cr-cr-lf", "a\r\r\n", "a\r\r\n"},
	{"final-bare-cr", "a\r", "a\r\r\n"},
	{"nul-kept", "a\0b\n", "a\0b\r\n"},
};

static void
test_to_crlf(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(crlf_cases); i++) {
		const ConvertCase *c = &crlf_cases[i];
		/* The NUL case needs its length from the output's shape. */
		gsize in_len = strcmp(c->name, "nul-kept") == 0 ? 4 : strlen(c->input);
		gsize out_len = strcmp(c->name, "nul-kept") == 0 ? 5 : strlen(c->output);
		g_autoptr(GByteArray) out = op_sendmail_to_crlf((const guint8 *)c->input, in_len);

		g_test_message("case %s", c->name);
		g_assert_cmpmem(out->data, out->len, c->output, out_len);
	}
}

typedef struct {
	const char *name;
	const char *input;
	const char *from;
	const char *output;
	/* The -t field values joined with "|", or NULL to collect none. */
	const char *fields;
} HeaderCase;

static const HeaderCase header_cases[] = {
	{"from-added", "Subject: hi\r\n\r\nbody\r\n", "app@example.org",
	 "From: app@example.org\r\nSubject: hi\r\n\r\nbody\r\n", NULL},
	{"from-kept", "From: Me <me@example.org>\r\nSubject: hi\r\n\r\nbody\r\n",
	 "app@example.org", "From: Me <me@example.org>\r\nSubject: hi\r\n\r\nbody\r\n", NULL},
	{"from-lower-case", "from: me@example.org\r\n\r\nbody\r\n", "app@example.org",
	 "from: me@example.org\r\n\r\nbody\r\n", NULL},
	{"no-from-given", "Subject: hi\r\n\r\nbody\r\n", NULL, "Subject: hi\r\n\r\nbody\r\n",
	 NULL},
	{"bcc-removed", "To: a@example.org\r\nBcc: secret@example.org,\r\n other@example.org\r\n"
			"Subject: hi\r\n\r\nbody\r\n",
	 NULL, "To: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n", NULL},
	{"extract", "To: A <a@example.org>\r\nCc: c@example.org\r\nBCC: b@example.org\r\n"
		    "Subject: hi\r\n\r\nTo: not-a-header@example.org\r\n",
	 NULL, "To: A <a@example.org>\r\nCc: c@example.org\r\nSubject: hi\r\n\r\n"
	       "To: not-a-header@example.org\r\n",
	 "A <a@example.org>|c@example.org|b@example.org"},
	{"extract-folded", "To: a@example.org,\r\n\tb@example.org\r\n\r\nbody\r\n", NULL,
	 "To: a@example.org,\r\n\tb@example.org\r\n\r\nbody\r\n", "a@example.org,\tb@example.org"},
	{"extract-resent", "To: old@example.org\r\nResent-To: new@example.org\r\n"
			   "Resent-Bcc: hidden@example.org\r\n\r\nbody\r\n",
	 NULL, "To: old@example.org\r\nResent-To: new@example.org\r\n\r\nbody\r\n",
	 "new@example.org|hidden@example.org"},
	{"extract-none", "Subject: hi\r\n\r\nbody\r\n", NULL, "Subject: hi\r\n\r\nbody\r\n", ""},
	{"mbox-from-line", "From app@example.org Thu Dec  4 16:00:00 2025\r\nSubject: hi\r\n\r\n"
			   "body\r\n",
	 "app@example.org", "From: app@example.org\r\nSubject: hi\r\n\r\nbody\r\n", NULL},
	{"no-header", "Hello,\r\nthis is the body.\r\n", "app@example.org",
	 "From: app@example.org\r\n\r\nHello,\r\nthis is the body.\r\n", NULL},
	{"header-then-text", "Subject: hi\r\nHello,\r\n", "app@example.org",
	 "From: app@example.org\r\nSubject: hi\r\n\r\nHello,\r\n", NULL},
	{"space-before-colon", "Subject : hi\r\n\r\nbody\r\n", NULL,
	 "\r\nSubject : hi\r\n\r\nbody\r\n", NULL},
	{"starts-with-continuation", " folded\r\n\r\nbody\r\n", NULL,
	 "\r\n folded\r\n\r\nbody\r\n", NULL},
	{"headers-only", "Subject: hi\r\n", "app@example.org",
	 "From: app@example.org\r\nSubject: hi\r\n", NULL},
	{"empty-message", "", "app@example.org", "From: app@example.org\r\n", NULL},
	{"empty-body", "Subject: hi\r\n\r\n", NULL, "Subject: hi\r\n\r\n", NULL},
	{"bare-cr-in-body", "Subject: hi\r\n\r\na\rb\r\n", NULL, "Subject: hi\r\n\r\na\rb\r\n",
	 NULL},
};

static void
test_edit_headers(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(header_cases); i++) {
		const HeaderCase *c = &header_cases[i];
		g_autoptr(GByteArray) message = g_byte_array_new();
		g_autoptr(GPtrArray) fields = NULL;

		g_test_message("case %s", c->name);
		g_byte_array_append(message, (const guint8 *)c->input, (guint)strlen(c->input));
		if (c->fields != NULL)
			fields = g_ptr_array_new_with_free_func(g_free);
		op_sendmail_edit_headers(message, c->from, fields);
		g_assert_cmpmem(message->data, message->len, c->output, strlen(c->output));
		if (c->fields != NULL) {
			g_autofree char *joined = NULL;

			g_ptr_array_add(fields, NULL);
			joined = g_strjoinv("|", (char **)fields->pdata);
			g_assert_cmpstr(joined, ==, c->fields);
		}
	}
}

typedef struct {
	const char *text;
	gboolean valid;
	/* The addresses joined with "|". */
	const char *addresses;
} AddressCase;

static const AddressCase address_cases[] = {
	{"a@example.org", TRUE, "a@example.org"},
	{"A <a@Example.ORG>, b@example.org", TRUE, "a@example.org|b@example.org"},
	{"\"Doe, Jane\" <jane@example.org>", TRUE, "jane@example.org"},
	{"team: a@example.org, b@example.org;", TRUE, "a@example.org|b@example.org"},
	{"undisclosed-recipients:;", TRUE, ""},
	{"undisclosed recipients: ;", TRUE, ""},
	{"root", TRUE, "root@mail.example.org"},
	{"root, admin@example.org", TRUE, "root@mail.example.org|admin@example.org"},
	{"user@b\xc3\xbc" "cher.example", TRUE, "user@xn--bcher-kva.example"},
	{"", FALSE, NULL},
	{"<>", FALSE, NULL},
	{"a@example.org>", FALSE, NULL},
	{"a@example.org\r\nRCPT TO:<b@example.org>", FALSE, NULL},
	{"root <", FALSE, NULL},
	{"a@@example.org", FALSE, NULL},
};

static void
test_parse_addresses(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(address_cases); i++) {
		const AddressCase *c = &address_cases[i];
		g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GError) error = NULL;
		g_autofree char *joined = NULL;
		g_autofree char *shown = g_strescape(c->text, NULL);
		gboolean ok;

		g_test_message("case %s", shown);
		ok = op_sendmail_parse_addresses(c->text, "mail.example.org", addresses, &error);
		g_assert_cmpint(ok, ==, c->valid);
		if (!c->valid) {
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		g_assert_no_error(error);
		g_ptr_array_add(addresses, NULL);
		joined = g_strjoinv("|", (char **)addresses->pdata);
		g_assert_cmpstr(joined, ==, c->addresses);
	}
}

static const AddressCase sender_cases[] = {
	{"app@example.org", TRUE, "app@example.org"},
	{"<app@example.org>", TRUE, "app@example.org"},
	{" app@example.org ", TRUE, "app@example.org"},
	{"www-data", TRUE, "www-data@mail.example.org"},
	{"<>", TRUE, ""},
	{"", TRUE, ""},
	{"app@B\xc3\xbc" "cher.example", TRUE, "app@xn--bcher-kva.example"},
	{"Shop <app@example.org>", FALSE, NULL},
	{"app@example.org> SIZE=1", FALSE, NULL},
	{"a;b@example.org", FALSE, NULL},
	{"app@example.org\r\nRSET", FALSE, NULL},
};

static void
test_parse_sender(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(sender_cases); i++) {
		const AddressCase *c = &sender_cases[i];
		g_autoptr(GError) error = NULL;
		g_autofree char *sender = NULL;
		g_autofree char *shown = g_strescape(c->text, NULL);

		g_test_message("case %s", shown);
		sender = op_sendmail_parse_sender(c->text, "mail.example.org", &error);
		if (!c->valid) {
			g_assert_null(sender);
			g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
			continue;
		}
		g_assert_no_error(error);
		g_assert_cmpstr(sender, ==, c->addresses);
	}
}

typedef struct {
	const char *full_name;
	const char *value;
} FromCase;

static const FromCase from_cases[] = {
	{NULL, "app@example.org"},
	{"", "app@example.org"},
	{"  ", "app@example.org"},
	{"Web Shop", "\"Web Shop\" <app@example.org>"},
	{"Say \"hi\" \\o/", "\"Say \\\"hi\\\" \\\\o/\" <app@example.org>"},
	{"Line\r\nBcc: x@example.org", "\"Line  Bcc: x@example.org\" <app@example.org>"},
	{"Caf\xc3\xa9", "=?UTF-8?B?Q2Fmw6k=?= <app@example.org>"},
	{"\xff", "=?UTF-8?B?77+9?= <app@example.org>"},
};

static void
test_format_from(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(from_cases); i++) {
		const FromCase *c = &from_cases[i];
		g_autofree char *value = op_sendmail_format_from("app@example.org", c->full_name);

		g_test_message("case %u", i);
		g_assert_cmpstr(value, ==, c->value);
	}
}

/* A long name is split into encoded words of whole characters, one per
 * line, so no line of the field reaches the 78-octet limit of RFC 5322. */
static void
test_format_from_long(void)
{
	g_autoptr(GString) name = g_string_new(NULL);
	g_autofree char *value = NULL;
	g_autofree char *field = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GString) decoded = g_string_new(NULL);

	for (guint i = 0; i < 40; i++)
		g_string_append(name, "\xc3\xa9t\xc3\xa9 ");
	g_strstrip(name->str);
	value = op_sendmail_format_from("app@example.org", name->str);
	field = g_strconcat("From: ", value, NULL);
	lines = g_strsplit(field, "\r\n", -1);
	g_assert_cmpuint(g_strv_length(lines), >, 1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *word = strstr(lines[i], "=?UTF-8?B?");
		g_autofree guchar *text = NULL;
		gsize len = 0;
		char *end;

		g_assert_cmpuint(strlen(lines[i]), <=, 78);
		g_assert_nonnull(word);
		word += strlen("=?UTF-8?B?");
		end = strstr(word, "?=");
		g_assert_nonnull(end);
		*end = '\0';
		text = g_base64_decode(word, &len);
		g_assert_true(g_utf8_validate((const char *)text, (gssize)len, NULL));
		g_string_append_len(decoded, (const char *)text, (gssize)len);
	}
	g_assert_cmpstr(decoded->str, ==, name->str);
	g_assert_true(g_str_has_suffix(value, " <app@example.org>"));
}

static const ConvertCase stuff_cases[] = {
	{"plain", "a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
	{"empty", "", ".\r\n"},
	{"lone-dot", "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	{"leading-dot", ".a\r\n", "..a\r\n.\r\n"},
	{"dot-inside", "a.b\r\n a .\r\n", "a.b\r\n a .\r\n.\r\n"},
	{"two-dots", "..\r\n", "...\r\n.\r\n"},
	{"bare-cr-kept", "a\r.b\r\n", "a\r.b\r\n.\r\n"},
	{"no-final-crlf", "a", "a\r\n.\r\n"},
};

static void
test_dot_stuff(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(stuff_cases); i++) {
		const ConvertCase *c = &stuff_cases[i];
		g_autoptr(GBytes) out = op_sendmail_dot_stuff((const guint8 *)c->input,
							      strlen(c->input));
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(out, &len);

		g_test_message("case %s", c->name);
		g_assert_cmpmem(data, len, c->output, strlen(c->output));
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sendmail/message/to-crlf", test_to_crlf);
	g_test_add_func("/sendmail/message/edit-headers", test_edit_headers);
	g_test_add_func("/sendmail/message/parse-addresses", test_parse_addresses);
	g_test_add_func("/sendmail/message/parse-sender", test_parse_sender);
	g_test_add_func("/sendmail/message/format-from", test_format_from);
	g_test_add_func("/sendmail/message/format-from-long", test_format_from_long);
	g_test_add_func("/sendmail/message/dot-stuff", test_dot_stuff);
	return g_test_run();
}
