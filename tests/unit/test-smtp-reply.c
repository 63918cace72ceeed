/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the delivery client's SMTP reply parser: multi-line replies,
 * enhanced status codes, limits, and text that a remote server must not be
 * able to smuggle into the queue or a bounce.
 */
#include <string.h>

#include "delivery/op-smtp-reply.h"
#include "op-error.h"

typedef struct {
	const char *name;
	const char *lines[4]; /* fed in order; the last one completes the reply */
	guint code;
	const char *enhanced;
	const char *text;
} ReplyCase;

static const ReplyCase reply_cases[] = {
	{"single", {"250 OK"}, 250, "", "OK"},
	{"enhanced", {"250 2.1.0 Sender ok"}, 250, "2.1.0", "Sender ok"},
	{"enhanced-three-digits", {"550 5.7.100 no"}, 550, "5.7.100", "no"},
	{"enhanced-alone", {"250 2.0.0"}, 250, "2.0.0", ""},
	{"enhanced-wrong-class", {"550 4.1.1 odd"}, 550, "", "4.1.1 odd"},
	{"enhanced-glued", {"250 2.0.0Ok"}, 250, "", "2.0.0Ok"},
	{"bare-code", {"250"}, 250, "", ""},
	{"empty-text", {"250 "}, 250, "", ""},
	{"multi-line", {"550-5.1.1 The email account", "550 5.1.1 does not exist"}, 550,
	 "5.1.1", "The email account does not exist"},
	{"bare-final-line", {"553-Error", "553"}, 553, "", "Error"},
	{"other-enhanced-kept", {"550-5.1.1 first", "550 5.7.1 second"}, 550, "5.1.1",
	 "first 5.7.1 second"},
	{"tab", {"421 a\tb"}, 421, "", "a b"},
};

static void
feed_all(const ReplyCase *item, OpSmtpReply *reply)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_autoptr(GError) error = NULL;
	gsize n = 0;

	op_smtp_reply_parser_init(&parser);
	while (n < G_N_ELEMENTS(item->lines) && item->lines[n] != NULL)
		n++;
	for (gsize i = 0; i < n; i++) {
		gboolean complete = op_smtp_reply_parser_feed(&parser, item->lines[i],
							      strlen(item->lines[i]), reply,
							      &error);

		g_assert_no_error(error);
		g_assert_cmpint(complete, ==, i + 1 == n);
	}
}

static void
test_reply_table(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(reply_cases); i++) {
		const ReplyCase *item = &reply_cases[i];
		g_auto(OpSmtpReply) reply = {0};

		g_test_message("case %s", item->name);
		feed_all(item, &reply);
		g_assert_cmpuint(reply.code, ==, item->code);
		g_assert_cmpstr(reply.enhanced, ==, item->enhanced);
		g_assert_cmpstr(reply.text, ==, item->text);
	}
}

typedef struct {
	const char *name;
	const char *line;
} BadLineCase;

static const BadLineCase bad_lines[] = {
	{"empty", ""},
	{"short", "25"},
	{"letters", "abc def"},
	{"letter-in-code", "25O ok"},
	{"four-digits", "2500 x"},
	{"underscore", "250_x"},
	{"class-1", "199 x"},
	{"class-6", "600 x"},
	{"leading-space", " 250 x"},
	{"stray-lf-fields", "\ntype:x\nfield:y"},
};

static void
test_reply_bad_lines(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
		g_auto(OpSmtpReplyParser) parser = {0};
		g_auto(OpSmtpReply) reply = {0};
		g_autoptr(GError) error = NULL;
		gboolean complete;

		g_test_message("case %s", bad_lines[i].name);
		op_smtp_reply_parser_init(&parser);
		complete = op_smtp_reply_parser_feed(&parser, bad_lines[i].line,
						     strlen(bad_lines[i].line), &reply, &error);
		g_assert_false(complete);
		g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
	}
}

/* "553-Error\r\n553\r\n\ntype:x\nfield:y": the reply ends at the bare "553"
 * and the stray LF lines are an error of their own, never reply text. */
static void
test_reply_smuggled_fields(void)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;
	const char *stray = "\ntype:x\nfield:y";

	op_smtp_reply_parser_init(&parser);
	g_assert_false(op_smtp_reply_parser_feed(&parser, "553-Error", 9, &reply, &error));
	g_assert_no_error(error);
	g_assert_true(op_smtp_reply_parser_feed(&parser, "553", 3, &reply, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(reply.code, ==, 553);
	g_assert_cmpstr(reply.text, ==, "Error");
	g_assert_null(strchr(reply.text, '\n'));

	op_smtp_reply_clear(&reply);
	g_assert_false(op_smtp_reply_parser_feed(&parser, stray, strlen(stray), &reply, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
	g_assert_null(reply.text);
}

static void
test_reply_control_stripped(void)
{
	static const char line[] = "550 5.7.1 bad\ntype:x\rfield:\0y\x7f";
	g_auto(OpSmtpReplyParser) parser = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *stored = NULL;

	op_smtp_reply_parser_init(&parser);
	g_assert_true(op_smtp_reply_parser_feed(&parser, line, sizeof(line) - 1, &reply, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(reply.enhanced, ==, "5.7.1");
	g_assert_cmpstr(reply.text, ==, "badtype:xfield:y");
	stored = op_smtp_reply_to_string(&reply);
	g_assert_cmpstr(stored, ==, "550 5.7.1 badtype:xfield:y");
}

static void
test_reply_utf8(void)
{
	g_autofree char *valid = op_smtp_reply_sanitize("caf\xc3\xa9", 5);
	g_autofree char *invalid = op_smtp_reply_sanitize("a\xff\xc3z", 4);
	g_autofree char *c1 = op_smtp_reply_sanitize("a\xc2\x85z", 4);

	g_assert_cmpstr(valid, ==, "caf\xc3\xa9");
	g_assert_cmpstr(invalid, ==, "a??z");
	g_assert_cmpstr(c1, ==, "az");
}

static void
test_reply_mixed_codes(void)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;

	op_smtp_reply_parser_init(&parser);
	g_assert_false(op_smtp_reply_parser_feed(&parser, "250-a", 5, &reply, &error));
	g_assert_no_error(error);
	g_assert_false(op_smtp_reply_parser_feed(&parser, "550 b", 5, &reply, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);

	/* After an error the parser starts afresh. */
	g_clear_error(&error);
	g_assert_true(op_smtp_reply_parser_feed(&parser, "221 bye", 7, &reply, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(reply.code, ==, 221);
	g_assert_cmpstr(reply.text, ==, "bye");
}

static void
test_reply_line_length(void)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_autofree char *line = g_malloc(OP_SMTP_REPLY_MAX_LINE + 1);
	g_autoptr(GError) error = NULL;

	memcpy(line, "250 ", 4);
	memset(line + 4, 'a', OP_SMTP_REPLY_MAX_LINE - 4);
	op_smtp_reply_parser_init(&parser);

	/* 998 octets and the CRLF make the longest line allowed. */
	{
		g_auto(OpSmtpReply) reply = {0};

		g_assert_true(op_smtp_reply_parser_feed(&parser, line, OP_SMTP_REPLY_MAX_LINE - 2,
							&reply, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(strlen(reply.text), ==, OP_SMTP_REPLY_MAX_LINE - 6);
	}
	{
		g_auto(OpSmtpReply) reply = {0};

		g_assert_false(op_smtp_reply_parser_feed(&parser, line, OP_SMTP_REPLY_MAX_LINE - 1,
							 &reply, &error));
		g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
	}
}

static void
test_reply_line_count(void)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;

	op_smtp_reply_parser_init(&parser);
	for (guint i = 0; i < OP_SMTP_REPLY_MAX_LINES - 1; i++) {
		g_assert_false(op_smtp_reply_parser_feed(&parser, "250-x", 5, &reply, &error));
		g_assert_no_error(error);
	}
	g_assert_true(op_smtp_reply_parser_feed(&parser, "250 x", 5, &reply, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(g_strv_length(reply.lines), ==, OP_SMTP_REPLY_MAX_LINES);
	op_smtp_reply_clear(&reply);

	for (guint i = 0; i < OP_SMTP_REPLY_MAX_LINES; i++) {
		g_assert_false(op_smtp_reply_parser_feed(&parser, "250-x", 5, &reply, &error));
		g_assert_no_error(error);
	}
	g_assert_false(op_smtp_reply_parser_feed(&parser, "250 x", 5, &reply, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
}

static void
test_reply_text_size(void)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *line = g_strnfill(504, 'b');
	guint fed = 0;

	memcpy(line, "550-", 4);
	op_smtp_reply_parser_init(&parser);
	/* 500 octets of text a line: the ninth line passes 4096 octets. */
	while (error == NULL && fed < 20) {
		op_smtp_reply_parser_feed(&parser, line, strlen(line), &reply, &error);
		fed++;
	}
	g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
	g_assert_cmpuint(fed, ==, OP_SMTP_REPLY_MAX_TEXT / 500 + 1);
}

static void
test_reply_ehlo(void)
{
	static const char *const lines[] = {
		"250-mx.example.net Hello client.example.org", "250-PIPELINING",
		"250-SIZE 10240000", "250-STARTTLS", "250-ENHANCEDSTATUSCODES", "250 8BITMIME",
	};
	g_auto(OpSmtpReplyParser) parser = {0};
	g_auto(OpSmtpReply) reply = {0};
	g_autoptr(GError) error = NULL;
	gboolean complete = FALSE;

	op_smtp_reply_parser_init(&parser);
	for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
		complete = op_smtp_reply_parser_feed(&parser, lines[i], strlen(lines[i]), &reply,
						     &error);
		g_assert_no_error(error);
	}
	g_assert_true(complete);
	g_assert_cmpuint(reply.code, ==, 250);
	g_assert_cmpuint(g_strv_length(reply.lines), ==, G_N_ELEMENTS(lines));
	g_assert_cmpstr(reply.lines[0], ==, "mx.example.net Hello client.example.org");
	g_assert_cmpstr(reply.lines[2], ==, "SIZE 10240000");
	g_assert_cmpstr(reply.lines[5], ==, "8BITMIME");
}

static void
test_reply_sequence(void)
{
	g_auto(OpSmtpReplyParser) parser = {0};
	g_autoptr(GError) error = NULL;

	op_smtp_reply_parser_init(&parser);
	{
		g_auto(OpSmtpReply) reply = {0};

		g_assert_true(op_smtp_reply_parser_feed(&parser, "250 2.1.5 ok", 12, &reply,
							&error));
		g_assert_cmpstr(reply.enhanced, ==, "2.1.5");
	}
	{
		g_auto(OpSmtpReply) reply = {0};

		g_assert_true(op_smtp_reply_parser_feed(&parser, "354 go", 6, &reply, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(reply.code, ==, 354);
		g_assert_cmpstr(reply.enhanced, ==, "");
		g_assert_cmpstr(reply.text, ==, "go");
	}
}

static void
test_reply_to_string(void)
{
	OpSmtpReply full = {.code = 550, .enhanced = "5.1.1", .text = (char *)"no such user"};
	OpSmtpReply bare = {.code = 250, .text = (char *)""};
	OpSmtpReply code_only = {.code = 250, .enhanced = "2.0.0", .text = (char *)""};
	g_autofree char *full_text = op_smtp_reply_to_string(&full);
	g_autofree char *bare_text = op_smtp_reply_to_string(&bare);
	g_autofree char *code_text = op_smtp_reply_to_string(&code_only);

	g_assert_cmpstr(full_text, ==, "550 5.1.1 no such user");
	g_assert_cmpstr(bare_text, ==, "250");
	g_assert_cmpstr(code_text, ==, "250 2.0.0");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/delivery/reply/table", test_reply_table);
	g_test_add_func("/delivery/reply/bad-lines", test_reply_bad_lines);
	g_test_add_func("/delivery/reply/smuggled-fields", test_reply_smuggled_fields);
	g_test_add_func("/delivery/reply/control-stripped", test_reply_control_stripped);
	g_test_add_func("/delivery/reply/utf8", test_reply_utf8);
	g_test_add_func("/delivery/reply/mixed-codes", test_reply_mixed_codes);
	g_test_add_func("/delivery/reply/line-length", test_reply_line_length);
	g_test_add_func("/delivery/reply/line-count", test_reply_line_count);
	g_test_add_func("/delivery/reply/text-size", test_reply_text_size);
	g_test_add_func("/delivery/reply/ehlo", test_reply_ehlo);
	g_test_add_func("/delivery/reply/sequence", test_reply_sequence);
	g_test_add_func("/delivery/reply/to-string", test_reply_to_string);
	return g_test_run();
}
