/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parses the replies of a remote SMTP server line by line (RFC 5321 §4.2),
 * with the enhanced status code of RFC 2034/3463, and makes the text safe to
 * store: a remote server must not be able to add lines or fields to the queue
 * or to a bounce.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Octets of one reply line with its CRLF. RFC 5321 §4.5.3.1.5 allows 512;
 * servers exceed that, so this is the text-line limit of §4.5.3.1.6. */
#define OP_SMTP_REPLY_MAX_LINE 1000
#define OP_SMTP_REPLY_MAX_LINES 100
/* Octets of text in one reply, all lines together. */
#define OP_SMTP_REPLY_MAX_TEXT 4096

typedef struct {
	guint code;	   /* 200 to 599 */
	char enhanced[32]; /* "5.1.1", or "" when the server sent none */
	char *text;	   /* the lines' text joined with " ", without the enhanced code */
	char **lines;	   /* each line's text after the code; EHLO keywords are here */
} OpSmtpReply;

/* The state of a reply in progress. The fields are private. */
typedef struct {
	guint code;
	guint n_lines;
	gsize text_octets;
	char enhanced[32];
	GString *text;
	GPtrArray *lines;
} OpSmtpReplyParser;

void op_smtp_reply_parser_init(OpSmtpReplyParser *parser);
void op_smtp_reply_parser_clear(OpSmtpReplyParser *parser);

/* Feeds one reply line without its CRLF. Returns TRUE when the line completes
 * the reply: then *reply is filled (clear it with op_smtp_reply_clear()) and the
 * parser is ready for the next reply. Returns FALSE with *error unset when more
 * lines are needed. A bare code such as "553" ends a reply. Fails with
 * OP_ERROR_FAILED, and resets, on any of these:
 * - a line that does not start with a code from 200 to 599;
 * - a fourth character other than '-' or ' ';
 * - a code that differs from the first line's;
 * - a line over OP_SMTP_REPLY_MAX_LINE octets;
 * - a reply over OP_SMTP_REPLY_MAX_LINES lines or OP_SMTP_REPLY_MAX_TEXT
 *   octets of text. */
gboolean op_smtp_reply_parser_feed(OpSmtpReplyParser *parser, const char *line, gsize len,
				   OpSmtpReply *reply, GError **error);

void op_smtp_reply_clear(OpSmtpReply *reply);

/* Returns the reply as one line, "550 5.1.1 text", safe to store and log. */
char *op_smtp_reply_to_string(const OpSmtpReply *reply);

/* Returns a copy of @text with control characters removed (a tab becomes a
 * space) and each octet that is not part of valid UTF-8 replaced by '?'. */
char *op_smtp_reply_sanitize(const char *text, gsize len);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSmtpReply, op_smtp_reply_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSmtpReplyParser, op_smtp_reply_parser_clear)

G_END_DECLS
