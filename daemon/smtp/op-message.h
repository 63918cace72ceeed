/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads the header section of an RFC 5322 message: a pure parser so that
 * the submission checks (From: ownership, missing Date or Message-ID) and
 * fuzzers can run it without a session.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	char *name;
	/* Unfolded (RFC 5322 §2.2.3), without the final CRLF and leading white space. */
	char *value;
} OpHeader;

void op_header_free(OpHeader *header);
GPtrArray *op_message_parse_headers(const guint8 *data, gsize len, gsize *body_offset,
				    GError **error);
const char *op_message_find_header(GPtrArray *headers, const char *name);
guint op_message_count_headers(GPtrArray *headers, const char *name);

G_END_DECLS
