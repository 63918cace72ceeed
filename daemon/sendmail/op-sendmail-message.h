/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Turns what a local program wrote to outpost-sendmail into a message for
 * SMTP: CRLF lines, a From: field when it has none, no Bcc: field, the
 * recipients of -t, and dot-stuffing. Pure functions over buffers.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns @data with every LF that has no CR before it preceded by one, and
 * CRLF after a last line that has no line end. A CR without an LF after it
 * is kept as it is, so outpostd finds it and rejects the message: guessing
 * where such a line ends could change what the author meant. */
GByteArray *op_sendmail_to_crlf(const guint8 *data, gsize len);

/* Edits the header section of @message (CRLF lines) in place:
 * - drops an mbox "From " line at the start;
 * - removes every Bcc: and Resent-Bcc: field, which must not reach the
 *   recipients (RFC 5322 §3.6.3);
 * - adds "From: @from" at the top when the message has no From: field and
 *   @from is not NULL;
 * - inserts the empty line that ends the header section when a line that is
 *   no header field (such as "Hello,") comes before one, so that line
 *   starts the body.
 * When @recipient_fields is not NULL, appends to it (char *) the unfolded
 * values of To:, Cc: and Bcc:, or of Resent-To:, Resent-Cc: and Resent-Bcc:
 * when the message has any of these (RFC 5322 §3.6.6), as sendmail -t does. */
void op_sendmail_edit_headers(GByteArray *message, const char *from,
			      GPtrArray *recipient_fields);

/* Appends each address of @text, an address list such as the value of To:
 * or a recipient argument ("a@example.org, B <b@example.org>"), to
 * @addresses as "local@domain" with the domain in A-label form. An address
 * without a domain ("root") gets @default_domain, as sendmail does. An empty
 * group such as "undisclosed-recipients:;" adds nothing. Fails with
 * OP_ERROR_INVALID_ARGUMENT on invalid syntax. */
gboolean op_sendmail_parse_addresses(const char *text, const char *default_domain,
				     GPtrArray *addresses, GError **error);

/* Returns the sender given with -f as "local@domain" (domain in A-label
 * form): angle brackets are removed, an address without a domain gets
 * @default_domain, and "<>" gives "". Fails with OP_ERROR_INVALID_ARGUMENT. */
char *op_sendmail_parse_sender(const char *text, const char *default_domain, GError **error);

/* Returns the value of a From: field for @sender, with @full_name (-F, may
 * be NULL) as the display name: a quoted string when it is short printable
 * ASCII, else RFC 2047 encoded words, folded so no line exceeds 78 octets. */
char *op_sendmail_format_from(const char *sender, const char *full_name);

/* Returns @data (CRLF lines) dot-stuffed (RFC 5321 §4.5.2) and followed by
 * the end of data, ".\r\n". Unlike op_data_stuff(), which turns a bare CR
 * into CRLF, a bare CR stays in its line for the server to reject. */
GBytes *op_sendmail_dot_stuff(const guint8 *data, gsize len);

G_END_DECLS
