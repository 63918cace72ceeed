/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Finds the end of the DATA stream and removes dot-stuffing (RFC 5321
 * §4.1.1.4, §4.5.2). Only CRLF "." CRLF ends the data: a bare CR or LF is a
 * fault and never a line end, which defeats SMTP smuggling. Also dot-stuffs a
 * message for the delivery client.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OP_DATA_FAULT_NONE,
	OP_DATA_FAULT_BARE_LF,
	OP_DATA_FAULT_BARE_CR,
	/* A line longer than 1000 octets with its CRLF (RFC 5321 §4.5.3.1.6). */
	OP_DATA_FAULT_LINE_TOO_LONG,
	OP_DATA_FAULT_TOO_BIG
} OpDataFault;

/* Scanner state, a plain struct so that a session can embed it. The fields
 * are private: use the functions below. */
typedef struct {
	guint64 max_size;
	guint64 size;
	gsize line_length;
	OpDataFault fault;
	int state;
} OpDataScanner;

void op_data_scanner_init(OpDataScanner *scanner, guint64 max_size);

/* Consumes octets of the DATA stream. While no fault has been seen, appends
 * the dot-unstuffed message to @out (lines end in CRLF, the final ".\r\n" is
 * not included). After the first fault it appends nothing more but keeps
 * looking for the end. Returns the number of octets consumed: @len, or fewer
 * when the end of data was found, in which case *finished is TRUE and the
 * count includes the terminating ".\r\n". The octets after it belong to the
 * next command (pipelining, RFC 2920). */
gsize op_data_scanner_feed(OpDataScanner *scanner, const guint8 *data, gsize len, GByteArray *out,
			   gboolean *finished);

/* Returns the first fault seen, OP_DATA_FAULT_NONE if there was none. */
OpDataFault op_data_scanner_get_fault(const OpDataScanner *scanner);

/* Returns the number of dot-unstuffed octets seen so far, counted after a
 * fault too. */
guint64 op_data_scanner_get_size(const OpDataScanner *scanner);

/* Dot-stuffs @message for sending (RFC 5321 §4.5.2): each line that starts
 * with "." gets another "." in front. A bare LF or a bare CR in the input
 * becomes CRLF. Appends the terminating ".\r\n", after a CRLF when the
 * message does not already end with one. */
GBytes *op_data_stuff(GBytes *message);

G_END_DECLS
