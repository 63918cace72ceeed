/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SMTP reply parser of the delivery client. It takes one line at a time,
 * so a reply split over many reads, or many replies in one read (RFC 2920
 * pipelining), parse the same way.
 */
#include "delivery/op-smtp-reply.h"

#include <string.h>

#include "op-error.h"

void
op_smtp_reply_parser_init(OpSmtpReplyParser *parser)
{
	memset(parser, 0, sizeof(*parser));
	parser->text = g_string_new(NULL);
	parser->lines = g_ptr_array_new_with_free_func(g_free);
}

static void
op_smtp_reply_parser_reset(OpSmtpReplyParser *parser)
{
	parser->code = 0;
	parser->n_lines = 0;
	parser->text_octets = 0;
	parser->enhanced[0] = '\0';
	g_string_truncate(parser->text, 0);
	g_ptr_array_set_size(parser->lines, 0);
}

void
op_smtp_reply_parser_clear(OpSmtpReplyParser *parser)
{
	if (parser->text != NULL)
		g_string_free(parser->text, TRUE);
	g_clear_pointer(&parser->lines, g_ptr_array_unref);
	memset(parser, 0, sizeof(*parser));
}

void
op_smtp_reply_clear(OpSmtpReply *reply)
{
	g_clear_pointer(&reply->text, g_free);
	g_clear_pointer(&reply->lines, g_strfreev);
	reply->code = 0;
	reply->enhanced[0] = '\0';
}

char *
op_smtp_reply_sanitize(const char *text, gsize len)
{
	GString *out = g_string_sized_new(len);
	const char *end = text + len;
	const char *p = text;

	while (p < end) {
		guchar c = (guchar)*p;
		gunichar u;

		if (c < 0x80) {
			if (c == '\t')
				g_string_append_c(out, ' ');
			else if (c >= 0x20 && c != 0x7f)
				g_string_append_c(out, (char)c);
			p++;
			continue;
		}
		u = g_utf8_get_char_validated(p, end - p);
		if (u == (gunichar)-1 || u == (gunichar)-2) {
			g_string_append_c(out, '?');
			p++;
			continue;
		}
		/* C1 controls are control characters too. */
		if (u >= 0xa0)
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	return g_string_free(out, FALSE);
}

/* Returns the length of an enhanced status code "c.sss.ddd" (RFC 3463 §2) at
 * the start of @text whose class is @class, or 0 when there is none. */
static gsize
op_smtp_reply_enhanced_length(const char *text, char class)
{
	const char *p = text;

	if (*p != class || p[1] != '.')
		return 0;
	p += 2;
	for (int part = 0; part < 2; part++) {
		int digits = 0;

		while (g_ascii_isdigit(*p) && digits < 4) {
			p++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
		if (part == 0 && *p++ != '.')
			return 0;
	}
	if (*p != '\0' && *p != ' ')
		return 0;
	return (gsize)(p - text);
}

/* Removes the enhanced code from the start of a line's text: on the first
 * line any code of the reply's class, on later lines the same code repeated. */
static const char *
op_smtp_reply_strip_enhanced(OpSmtpReplyParser *parser, const char *text)
{
	gsize len = op_smtp_reply_enhanced_length(text, (char)('0' + parser->code / 100));

	if (len == 0 || len >= sizeof(parser->enhanced))
		return text;
	if (parser->n_lines == 1)
		memcpy(parser->enhanced, text, len);
	else if (strncmp(parser->enhanced, text, len) != 0 || parser->enhanced[len] != '\0')
		return text;
	text += len;
	while (*text == ' ')
		text++;
	return text;
}

static gboolean
op_smtp_reply_parse_code(const char *line, gsize len, guint *code, GError **error)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' || !g_ascii_isdigit(line[1]) ||
	    !g_ascii_isdigit(line[2])) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "invalid SMTP reply: %s",
			    "a line does not start with a code from 200 to 599");
		return FALSE;
	}
	if (len > 3 && line[3] != '-' && line[3] != ' ') {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "invalid SMTP reply: expected '-' or ' ' after the code");
		return FALSE;
	}
	*code = (guint)((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
	return TRUE;
}

static gboolean
op_smtp_reply_check_line(OpSmtpReplyParser *parser, const char *line, gsize len, guint *code,
			 GError **error)
{
	if (len + 2 > OP_SMTP_REPLY_MAX_LINE) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "invalid SMTP reply: a line is longer than %d octets",
			    OP_SMTP_REPLY_MAX_LINE);
		return FALSE;
	}
	if (!op_smtp_reply_parse_code(line, len, code, error))
		return FALSE;
	if (parser->code != 0 && *code != parser->code) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "invalid SMTP reply: line with code %u inside a reply with code %u",
			    *code, parser->code);
		return FALSE;
	}
	if (parser->n_lines + 1 > OP_SMTP_REPLY_MAX_LINES ||
	    parser->text_octets + (len > 4 ? len - 4 : 0) > OP_SMTP_REPLY_MAX_TEXT) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "invalid SMTP reply: more than %d lines or %d octets of text",
			    OP_SMTP_REPLY_MAX_LINES, OP_SMTP_REPLY_MAX_TEXT);
		return FALSE;
	}
	return TRUE;
}

static void
op_smtp_reply_finish(OpSmtpReplyParser *parser, OpSmtpReply *reply)
{
	reply->code = parser->code;
	g_strlcpy(reply->enhanced, parser->enhanced, sizeof(reply->enhanced));
	reply->text = g_strdup(parser->text->str);
	g_ptr_array_add(parser->lines, NULL);
	reply->lines = (char **)g_ptr_array_steal(parser->lines, NULL);
	op_smtp_reply_parser_reset(parser);
}

gboolean
op_smtp_reply_parser_feed(OpSmtpReplyParser *parser, const char *line, gsize len,
			  OpSmtpReply *reply, GError **error)
{
	g_autofree char *text = NULL;
	const char *part;
	guint code = 0;

	if (!op_smtp_reply_check_line(parser, line, len, &code, error)) {
		op_smtp_reply_parser_reset(parser);
		return FALSE;
	}
	parser->code = code;
	parser->n_lines++;
	parser->text_octets += len > 4 ? len - 4 : 0;

	text = op_smtp_reply_sanitize(len > 4 ? line + 4 : "", len > 4 ? len - 4 : 0);
	part = op_smtp_reply_strip_enhanced(parser, text);
	if (parser->text->len > 0 && *part != '\0')
		g_string_append_c(parser->text, ' ');
	g_string_append(parser->text, part);
	g_ptr_array_add(parser->lines, g_steal_pointer(&text));

	if (len > 3 && line[3] == '-')
		return FALSE;
	op_smtp_reply_finish(parser, reply);
	return TRUE;
}

char *
op_smtp_reply_to_string(const OpSmtpReply *reply)
{
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "%03u", reply->code);
	if (reply->enhanced[0] != '\0')
		g_string_append_printf(out, " %s", reply->enhanced);
	if (reply->text != NULL && reply->text[0] != '\0')
		g_string_append_printf(out, " %s", reply->text);
	return g_string_free(out, FALSE);
}
