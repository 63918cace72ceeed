/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tests of the DATA end-of-data scanner and the dot-stuffer. Every case is fed
 * whole, one octet at a time and split in two at every offset, because the
 * state must carry over between reads.
 */
#include "smtp/op-data-scanner.h"

#include <string.h>

#define SMUGGLED_TAIL                                                                      \
	"MAIL FROM:<ceo@example.org>\r\nRCPT TO:<v@example.net>\r\nDATA\r\n\r\nfake\r\n.\r\n"

typedef struct {
	const char *name;
	const char *input;
	/* The dot-unstuffed message, checked only when fault is NONE. */
	const char *output;
	gboolean finished;
	/* Octets consumed when finished, or -1 for all of the input. */
	gssize consumed;
	OpDataFault fault;
} ScanCase;

static const ScanCase scan_cases[] = {
	{"normal", "Subject: a\r\n\r\nbody\r\n.\r\n", "Subject: a\r\n\r\nbody\r\n", TRUE, -1,
	 OP_DATA_FAULT_NONE},
	{"empty", ".\r\n", "", TRUE, -1, OP_DATA_FAULT_NONE},
	{"empty-line", "\r\n.\r\n", "\r\n", TRUE, -1, OP_DATA_FAULT_NONE},
	{"dot-stuffed", "..hidden\r\na\r\n..\r\n.\r\n", ".hidden\r\na\r\n.\r\n", TRUE, -1,
	 OP_DATA_FAULT_NONE},
	{"dot-text", ".x\r\n.\r\n", "x\r\n", TRUE, -1, OP_DATA_FAULT_NONE},
	{"dot-inside-line", "a.\r\n a .\r\n.\r\n", "a.\r\n a .\r\n", TRUE, -1,
	 OP_DATA_FAULT_NONE},
	{"unfinished", "a\r\nb\r\n", "a\r\nb\r\n", FALSE, -1, OP_DATA_FAULT_NONE},
	{"unfinished-dot-cr", "a\r\n.\r", "a\r\n", FALSE, -1, OP_DATA_FAULT_NONE},
	{"pipelined", "a\r\n.\r\nQUIT\r\n", "a\r\n", TRUE, 6, OP_DATA_FAULT_NONE},
	{"pipelined-data", "a\r\n.\r\n.\r\n", "a\r\n", TRUE, 6, OP_DATA_FAULT_NONE},
	{"utf8", "caf\xc3\xa9 \xff!\r\n.\r\n", "caf\xc3\xa9 \xff!\r\n", TRUE, -1,
	 OP_DATA_FAULT_NONE},

	/* SMTP smuggling: none of these end the data early, so the forged
	 * commands stay inside one faulty message that is rejected. */
	{"smuggle-lf-dot-crlf", "Subject: x\r\n\r\nhi\n.\r\n" SMUGGLED_TAIL, NULL, TRUE, -1,
	 OP_DATA_FAULT_BARE_LF},
	{"smuggle-lf-dot-lf", "Subject: x\r\n\r\nhi\n.\n" SMUGGLED_TAIL, NULL, TRUE, -1,
	 OP_DATA_FAULT_BARE_LF},
	{"smuggle-crlf-dot-lf", "Subject: x\r\n\r\nhi\r\n.\n" SMUGGLED_TAIL, NULL, TRUE, -1,
	 OP_DATA_FAULT_BARE_LF},
	{"smuggle-crlf-dot-cr-crlf", "Subject: x\r\n\r\nhi\r\n.\r\r\n" SMUGGLED_TAIL, NULL, TRUE,
	 -1, OP_DATA_FAULT_BARE_CR},
	{"smuggle-cr-dot-cr", "Subject: x\r\n\r\nhi\r.\r" SMUGGLED_TAIL, NULL, TRUE, -1,
	 OP_DATA_FAULT_BARE_CR},
	{"smuggle-lf-dot-crlf-only", "hi\n.\r\n", NULL, FALSE, -1, OP_DATA_FAULT_BARE_LF},
	{"smuggle-lf-dot-lf-only", "hi\n.\n", NULL, FALSE, -1, OP_DATA_FAULT_BARE_LF},
	{"smuggle-crlf-dot-lf-only", "hi\r\n.\n", NULL, FALSE, -1, OP_DATA_FAULT_BARE_LF},
	{"smuggle-cr-crlf-only", "hi\r\n.\r\r\n", NULL, FALSE, -1, OP_DATA_FAULT_BARE_CR},
	{"smuggle-first-line-lf", ".\n", NULL, FALSE, -1, OP_DATA_FAULT_BARE_LF},
	{"smuggle-first-line-cr", ".\rx\r\n", NULL, FALSE, -1, OP_DATA_FAULT_BARE_CR},
	{"bare-cr-inside", "a\rb\r\n.\r\n", NULL, TRUE, -1, OP_DATA_FAULT_BARE_CR},
	{"bare-lf-inside", "a\nb\r\n.\r\n", NULL, TRUE, -1, OP_DATA_FAULT_BARE_LF},
	{"cr-cr-lf", "a\r\r\n.\r\n", NULL, TRUE, -1, OP_DATA_FAULT_BARE_CR},
	{"first-fault-kept", "a\rb\nc\r\n.\r\n", NULL, TRUE, -1, OP_DATA_FAULT_BARE_CR},
};

typedef struct {
	GByteArray *out;
	gsize consumed;
	gboolean finished;
	OpDataScanner scanner;
} ScanResult;

static void
scan_result_clear(ScanResult *result)
{
	g_clear_pointer(&result->out, g_byte_array_unref);
}

/* Feeds @input in pieces of @step octets, after a first piece of @first
 * octets, stopping at the end of data like a session would. */
static void
scan_pieces(const guint8 *input, gsize len, gsize first, gsize step, guint64 max_size,
	    ScanResult *result)
{
	gsize at = 0;

	op_data_scanner_init(&result->scanner, max_size);
	result->out = g_byte_array_new();
	result->finished = FALSE;
	while (at < len && !result->finished) {
		gsize piece = at == 0 && first > 0 ? first : step;
		gsize used;

		piece = MIN(piece, len - at);
		used = op_data_scanner_feed(&result->scanner, input + at, piece, result->out,
					    &result->finished);
		g_assert_cmpuint(used, <=, piece);
		if (!result->finished)
			g_assert_cmpuint(used, ==, piece);
		at += used;
	}
	result->consumed = at;
}

static void
check_scan_case(const ScanCase *test, const guint8 *input, gsize len, const ScanResult *result)
{
	gsize expected_consumed = test->consumed < 0 ? len : (gsize)test->consumed;

	g_test_message("case %s", test->name);
	g_assert_cmpint(result->finished, ==, test->finished);
	g_assert_cmpuint(result->consumed, ==, expected_consumed);
	g_assert_cmpint(op_data_scanner_get_fault(&result->scanner), ==, test->fault);
	if (test->fault == OP_DATA_FAULT_NONE && test->output != NULL) {
		g_assert_cmpuint(result->out->len, ==, strlen(test->output));
		g_assert_cmpmem(result->out->data, result->out->len, test->output,
				strlen(test->output));
		g_assert_cmpuint(op_data_scanner_get_size(&result->scanner), ==,
				 strlen(test->output));
	}
}

static void
test_scan_whole(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(scan_cases); i++) {
		const ScanCase *test = &scan_cases[i];
		gsize len = strlen(test->input);
		ScanResult result = {0};

		scan_pieces((const guint8 *)test->input, len, 0, len, 0, &result);
		check_scan_case(test, (const guint8 *)test->input, len, &result);
		scan_result_clear(&result);
	}
}

static void
test_scan_bytewise(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(scan_cases); i++) {
		const ScanCase *test = &scan_cases[i];
		gsize len = strlen(test->input);
		ScanResult result = {0};

		scan_pieces((const guint8 *)test->input, len, 0, 1, 0, &result);
		check_scan_case(test, (const guint8 *)test->input, len, &result);
		scan_result_clear(&result);
	}
}

static void
test_scan_every_split(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(scan_cases); i++) {
		const ScanCase *test = &scan_cases[i];
		gsize len = strlen(test->input);

		for (gsize split = 1; split < len; split++) {
			ScanResult result = {0};

			scan_pieces((const guint8 *)test->input, len, split, len, 0, &result);
			check_scan_case(test, (const guint8 *)test->input, len, &result);
			scan_result_clear(&result);
		}
	}
}

static void
test_scan_nul_octet(void)
{
	static const char input[] = "caf\xc3\xa9 \x00!\r\n.\r\n";
	static const char expected[] = "caf\xc3\xa9 \x00!\r\n";
	ScanResult result = {0};

	scan_pieces((const guint8 *)input, sizeof(input) - 1, 0, 1, 0, &result);
	g_assert_true(result.finished);
	g_assert_cmpmem(result.out->data, result.out->len, expected, sizeof(expected) - 1);
	scan_result_clear(&result);
}

static char *
make_line(gsize content_length, const char *prefix)
{
	GString *line = g_string_new(prefix);

	while (line->len < content_length)
		g_string_append_c(line, 'x');
	g_string_append(line, "\r\n.\r\n");
	return g_string_free(line, FALSE);
}

static void
test_scan_line_length(void)
{
	/* 998 octets and CRLF make the 1000-octet maximum of RFC 5321
	 * §4.5.3.1.6. The leading dot of a stuffed line does not count. */
	struct {
		gsize content;
		const char *prefix;
		OpDataFault fault;
	} cases[] = {
		{998, "", OP_DATA_FAULT_NONE},
		{999, "", OP_DATA_FAULT_LINE_TOO_LONG},
		{999, "..", OP_DATA_FAULT_NONE},
		{1000, "..", OP_DATA_FAULT_LINE_TOO_LONG},
		{5000, "", OP_DATA_FAULT_LINE_TOO_LONG},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *input = make_line(cases[i].content, cases[i].prefix);
		gsize len = strlen(input);

		for (gsize step = 1; step <= len; step = step * 7 + 1) {
			ScanResult result = {0};

			scan_pieces((const guint8 *)input, len, 0, step, 0, &result);
			g_assert_true(result.finished);
			g_assert_cmpuint(result.consumed, ==, len);
			g_assert_cmpint(op_data_scanner_get_fault(&result.scanner), ==,
					cases[i].fault);
			scan_result_clear(&result);
		}
	}
}

static void
test_scan_max_size(void)
{
	struct {
		const char *input;
		guint64 max_size;
		OpDataFault fault;
		guint64 size;
	} cases[] = {
		{"01234567\r\n.\r\n", 10, OP_DATA_FAULT_NONE, 10},
		{"0123456789\r\n.\r\n", 10, OP_DATA_FAULT_TOO_BIG, 12},
		{"0123456789\r\nmore\r\n.\r\n", 10, OP_DATA_FAULT_TOO_BIG, 18},
		{"0123456789\r\n.\r\n", 0, OP_DATA_FAULT_NONE, 12},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		gsize len = strlen(cases[i].input);
		ScanResult result = {0};

		scan_pieces((const guint8 *)cases[i].input, len, 0, 3, cases[i].max_size,
			    &result);
		g_assert_true(result.finished);
		g_assert_cmpuint(result.consumed, ==, len);
		g_assert_cmpint(op_data_scanner_get_fault(&result.scanner), ==, cases[i].fault);
		g_assert_cmpuint(op_data_scanner_get_size(&result.scanner), ==, cases[i].size);
		g_assert_cmpuint(result.out->len, <=, cases[i].max_size ?: G_MAXUINT);
		scan_result_clear(&result);
	}
}

/* After a fault the message is discarded, so the scanner stops appending but
 * keeps counting octets. */
static void
test_scan_no_output_after_fault(void)
{
	static const char input[] = "ok\r\nbad\nline\r\nmore text\r\n.\r\n";
	ScanResult result = {0};

	scan_pieces((const guint8 *)input, sizeof(input) - 1, 0, sizeof(input), 0, &result);
	g_assert_true(result.finished);
	g_assert_cmpint(op_data_scanner_get_fault(&result.scanner), ==, OP_DATA_FAULT_BARE_LF);
	g_assert_cmpmem(result.out->data, result.out->len, "ok\r\nbad", 7);
	g_assert_cmpuint(op_data_scanner_get_size(&result.scanner), ==, sizeof(input) - 1 - 3);
	scan_result_clear(&result);
}

static void
test_scan_after_finish(void)
{
	OpDataScanner scanner;
	g_autoptr(GByteArray) out = g_byte_array_new();
	gboolean finished = FALSE;
	gsize used;

	op_data_scanner_init(&scanner, 0);
	used = op_data_scanner_feed(&scanner, (const guint8 *)".\r\nQUIT\r\n", 9, out, &finished);
	g_assert_cmpuint(used, ==, 3);
	g_assert_true(finished);

	finished = FALSE;
	used = op_data_scanner_feed(&scanner, (const guint8 *)"QUIT\r\n", 6, out, &finished);
	g_assert_cmpuint(used, ==, 0);
	g_assert_true(finished);
	g_assert_cmpuint(out->len, ==, 0);
}

static void
test_scan_large_message(void)
{
	g_autoptr(GString) message = g_string_new(NULL);
	g_autoptr(GString) input = g_string_new(NULL);
	ScanResult result = {0};

	for (guint i = 0; i < 20000; i++) {
		g_string_append_printf(message, "%sline %u of a longer message\r\n",
				       i % 50 == 0 ? "." : "", i);
		g_string_append_printf(input, "%sline %u of a longer message\r\n",
				       i % 50 == 0 ? ".." : "", i);
	}
	g_string_append(input, ".\r\nQUIT\r\n");

	scan_pieces((const guint8 *)input->str, input->len, 0, 4096, 0, &result);
	g_assert_true(result.finished);
	g_assert_cmpuint(result.consumed, ==, input->len - 6);
	g_assert_cmpint(op_data_scanner_get_fault(&result.scanner), ==, OP_DATA_FAULT_NONE);
	g_assert_cmpmem(result.out->data, result.out->len, message->str, message->len);
	scan_result_clear(&result);
}

typedef struct {
	const char *input;
	const char *stuffed;
} StuffCase;

static const StuffCase stuff_cases[] = {
	{"", ".\r\n"},
	{"a\r\n", "a\r\n.\r\n"},
	{"a", "a\r\n.\r\n"},
	{".\r\n", "..\r\n.\r\n"},
	{".x", "..x\r\n.\r\n"},
	{"a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
	{"a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
	{"a\rb\r", "a\r\nb\r\n.\r\n"},
	{"a\r\n\r\n", "a\r\n\r\n.\r\n"},
	{"..\r\n", "...\r\n.\r\n"},
};

static void
test_stuff(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(stuff_cases); i++) {
		g_autoptr(GBytes) message = g_bytes_new_static(stuff_cases[i].input,
							       strlen(stuff_cases[i].input));
		g_autoptr(GBytes) stuffed = op_data_stuff(message);
		gsize len = 0;
		const char *data = g_bytes_get_data(stuffed, &len);

		g_autofree char *escaped = g_strescape(stuff_cases[i].input, NULL);

		g_test_message("input \"%s\"", escaped);
		g_assert_cmpmem(data, len, stuff_cases[i].stuffed, strlen(stuff_cases[i].stuffed));
	}
}

static void
test_stuff_round_trip(void)
{
	static const char *const messages[] = {
		"",
		"a\r\n",
		".\r\n",
		"..\r\n",
		".a\r\nb\r\n.\r\n",
		"line\r\n.\r\nafter\r\n",
		"Subject: x\r\n\r\n.\r\n..\r\n...\r\nend\r\n",
	};

	for (guint i = 0; i < G_N_ELEMENTS(messages); i++) {
		g_autoptr(GBytes) message = g_bytes_new_static(messages[i], strlen(messages[i]));
		g_autoptr(GBytes) stuffed = op_data_stuff(message);
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(stuffed, &len);
		ScanResult result = {0};

		scan_pieces(data, len, 0, len, 0, &result);
		g_assert_true(result.finished);
		g_assert_cmpuint(result.consumed, ==, len);
		g_assert_cmpint(op_data_scanner_get_fault(&result.scanner), ==,
				OP_DATA_FAULT_NONE);
		g_assert_cmpmem(result.out->data, result.out->len, messages[i],
				strlen(messages[i]));
		scan_result_clear(&result);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/smtp/data/scan-whole", test_scan_whole);
	g_test_add_func("/smtp/data/scan-bytewise", test_scan_bytewise);
	g_test_add_func("/smtp/data/scan-every-split", test_scan_every_split);
	g_test_add_func("/smtp/data/nul-octet", test_scan_nul_octet);
	g_test_add_func("/smtp/data/line-length", test_scan_line_length);
	g_test_add_func("/smtp/data/max-size", test_scan_max_size);
	g_test_add_func("/smtp/data/no-output-after-fault", test_scan_no_output_after_fault);
	g_test_add_func("/smtp/data/after-finish", test_scan_after_finish);
	g_test_add_func("/smtp/data/large-message", test_scan_large_message);
	g_test_add_func("/smtp/data/stuff", test_stuff);
	g_test_add_func("/smtp/data/stuff-round-trip", test_stuff_round_trip);
	return g_test_run();
}
