/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The DATA end-of-data scanner and dot-unstuffer (RFC 5321 §4.1.1.4, §4.5.2),
 * and the dot-stuffer that the delivery client uses. Only CRLF "." CRLF ends
 * the data, so a bare LF or CR can never end one message and start another
 * (SMTP smuggling): both are faults and neither counts as a line end.
 */
#include "smtp/op-data-scanner.h"

#include <string.h>

/* Text line limit of RFC 5321 §4.5.3.1.6: 1000 octets with the CRLF, not
 * counting the leading dot added for transparency. */
#define OP_DATA_MAX_LINE_CONTENT 998

enum {
	/* At the start of a line: after CRLF, or before the first octet. */
	OP_DATA_STATE_LINE_START,
	/* Inside a line. */
	OP_DATA_STATE_TEXT,
	/* After a CR inside a line. */
	OP_DATA_STATE_CR,
	/* After a "." at the start of a line. */
	OP_DATA_STATE_DOT,
	/* After "." CR at the start of a line. */
	OP_DATA_STATE_DOT_CR,
	/* After the terminating CRLF "." CRLF. */
	OP_DATA_STATE_FINISHED,
};

void
op_data_scanner_init(OpDataScanner *scanner, guint64 max_size)
{
	g_return_if_fail(scanner != NULL);

	memset(scanner, 0, sizeof(*scanner));
	scanner->max_size = max_size;
	scanner->state = OP_DATA_STATE_LINE_START;
}

OpDataFault
op_data_scanner_get_fault(const OpDataScanner *scanner)
{
	return scanner->fault;
}

guint64
op_data_scanner_get_size(const OpDataScanner *scanner)
{
	return scanner->size;
}

static void
op_data_scanner_set_fault(OpDataScanner *scanner, OpDataFault fault)
{
	if (scanner->fault == OP_DATA_FAULT_NONE)
		scanner->fault = fault;
}

/* Counts @len unstuffed octets and appends them to @out while no fault has
 * been seen. A max_size of 0 means no limit. */
static void
op_data_scanner_emit(OpDataScanner *scanner, const guint8 *data, gsize len, GByteArray *out)
{
	scanner->size += len;
	if (scanner->max_size > 0 && scanner->size > scanner->max_size)
		op_data_scanner_set_fault(scanner, OP_DATA_FAULT_TOO_BIG);
	if (scanner->fault == OP_DATA_FAULT_NONE && out != NULL && len > 0)
		g_byte_array_append(out, data, (guint)len);
}

/* Adds @len octets of content to the current line and checks the line
 * limit. */
static void
op_data_scanner_count_line(OpDataScanner *scanner, gsize len)
{
	scanner->line_length += len;
	if (scanner->line_length > OP_DATA_MAX_LINE_CONTENT)
		op_data_scanner_set_fault(scanner, OP_DATA_FAULT_LINE_TOO_LONG);
}

/* Handles one octet of line content that is neither CR nor LF, or a bare CR
 * or LF which is content too because it does not end the line. */
static void
op_data_scanner_text_octet(OpDataScanner *scanner, guint8 c, GByteArray *out)
{
	if (c == '\n') {
		op_data_scanner_set_fault(scanner, OP_DATA_FAULT_BARE_LF);
	} else if (c == '\r') {
		scanner->state = OP_DATA_STATE_CR;
		return;
	}
	op_data_scanner_count_line(scanner, 1);
	op_data_scanner_emit(scanner, &c, 1, out);
	scanner->state = OP_DATA_STATE_TEXT;
}

static void
op_data_scanner_line_end(OpDataScanner *scanner, GByteArray *out)
{
	static const guint8 crlf[] = {'\r', '\n'};

	op_data_scanner_emit(scanner, crlf, sizeof(crlf), out);
	scanner->line_length = 0;
	scanner->state = OP_DATA_STATE_LINE_START;
}

/* Steps the state machine by one octet in every state except TEXT, whose
 * plain octets go through the bulk path in op_data_scanner_feed(). */
static void
op_data_scanner_step(OpDataScanner *scanner, guint8 c, GByteArray *out)
{
	static const guint8 cr = '\r';

	switch (scanner->state) {
	case OP_DATA_STATE_LINE_START:
		/* RFC 5321 §4.5.2: the first dot of a line is removed. A line that
		 * is only a dot ends the data. */
		if (c == '.')
			scanner->state = OP_DATA_STATE_DOT;
		else
			op_data_scanner_text_octet(scanner, c, out);
		break;
	case OP_DATA_STATE_DOT:
		if (c == '\r')
			scanner->state = OP_DATA_STATE_DOT_CR;
		else
			op_data_scanner_text_octet(scanner, c, out);
		break;
	case OP_DATA_STATE_DOT_CR:
		if (c == '\n') {
			scanner->state = OP_DATA_STATE_FINISHED;
			break;
		}
		/* "." CR followed by anything but LF: the CR is bare. */
		op_data_scanner_set_fault(scanner, OP_DATA_FAULT_BARE_CR);
		op_data_scanner_count_line(scanner, 1);
		op_data_scanner_emit(scanner, &cr, 1, out);
		op_data_scanner_text_octet(scanner, c, out);
		break;
	case OP_DATA_STATE_CR:
		if (c == '\n') {
			op_data_scanner_line_end(scanner, out);
			break;
		}
		op_data_scanner_set_fault(scanner, OP_DATA_FAULT_BARE_CR);
		op_data_scanner_count_line(scanner, 1);
		op_data_scanner_emit(scanner, &cr, 1, out);
		op_data_scanner_text_octet(scanner, c, out);
		break;
	default:
		op_data_scanner_text_octet(scanner, c, out);
		break;
	}
}

/* Returns the length of the run of octets from @at that are neither CR nor
 * LF. The offsets of the next CR and LF (-1 before the first search, @len when
 * there is none) are cached across calls so that the scan stays linear even
 * when one of the two is rare. */
static gsize
op_data_find_run(const guint8 *data, gsize len, gsize at, gssize *next_cr, gssize *next_lf)
{
	const guint8 *found;

	if (*next_cr != (gssize)len && *next_cr < (gssize)at) {
		found = memchr(data + at, '\r', len - at);
		*next_cr = found != NULL ? found - data : (gssize)len;
	}
	if (*next_lf != (gssize)len && *next_lf < (gssize)at) {
		found = memchr(data + at, '\n', len - at);
		*next_lf = found != NULL ? found - data : (gssize)len;
	}
	return (gsize)MIN(*next_cr, *next_lf) - at;
}

gsize
op_data_scanner_feed(OpDataScanner *scanner, const guint8 *data, gsize len, GByteArray *out,
		     gboolean *finished)
{
	gssize next_cr = -1;
	gssize next_lf = -1;
	gsize i = 0;

	g_return_val_if_fail(scanner != NULL, 0);
	g_return_val_if_fail(data != NULL || len == 0, 0);
	g_return_val_if_fail(len <= G_MAXSSIZE, 0);

	while (i < len && scanner->state != OP_DATA_STATE_FINISHED) {
		gsize run = 0;

		if (scanner->state == OP_DATA_STATE_TEXT)
			run = op_data_find_run(data, len, i, &next_cr, &next_lf);
		if (run == 0) {
			op_data_scanner_step(scanner, data[i], out);
			i++;
			continue;
		}
		op_data_scanner_count_line(scanner, run);
		op_data_scanner_emit(scanner, data + i, run, out);
		i += run;
	}
	if (finished != NULL)
		*finished = scanner->state == OP_DATA_STATE_FINISHED;
	return i;
}

/* Appends one line end and, when the next line starts with ".", the extra
 * dot of RFC 5321 §4.5.2. */
static void
op_data_stuff_line_end(GByteArray *out, const guint8 *next, const guint8 *end)
{
	g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	if (next < end && *next == '.')
		g_byte_array_append(out, (const guint8 *)".", 1);
}

GBytes *
op_data_stuff(GBytes *message)
{
	gsize len = 0;
	const guint8 *data;
	const guint8 *end;
	const guint8 *p;
	GByteArray *out;

	g_return_val_if_fail(message != NULL, NULL);

	data = g_bytes_get_data(message, &len);
	out = g_byte_array_sized_new((guint)MIN(len + len / 64 + 8, G_MAXUINT));
	if (len == 0) {
		g_byte_array_append(out, (const guint8 *)".\r\n", 3);
		return g_byte_array_free_to_bytes(out);
	}
	end = data + len;
	p = data;
	if (p < end && *p == '.')
		g_byte_array_append(out, (const guint8 *)".", 1);
	while (p < end) {
		const guint8 *start = p;

		while (p < end && *p != '\r' && *p != '\n')
			p++;
		g_byte_array_append(out, start, (guint)(p - start));
		if (p == end)
			break;

		/* CRLF, a bare CR and a bare LF each become one CRLF. */
		if (*p == '\r' && p + 1 < end && p[1] == '\n')
			p++;
		p++;
		op_data_stuff_line_end(out, p, end);
	}

	if (out->len > 0 && out->data[out->len - 1] != '\n')
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	g_byte_array_append(out, (const guint8 *)".\r\n", 3);
	return g_byte_array_free_to_bytes(out);
}
