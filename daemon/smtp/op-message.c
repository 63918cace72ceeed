/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Splits a message's header section into fields. Lines end in CRLF; a line
 * starting with SP or HTAB continues the field before it (RFC 5322 §2.2.3).
 */
#include "smtp/op-message.h"

#include "op-error.h"

#include <string.h>

/* Header sections larger than this are refused rather than parsed. */
#define OP_MAX_HEADER_SECTION (1024 * 1024)

void
op_header_free(OpHeader *header)
{
	if (header == NULL)
		return;
	g_free(header->name);
	g_free(header->value);
	g_free(header);
}

static gboolean
is_field_name_char(guint8 c)
{
	/* RFC 5322 §3.6.8: printable US-ASCII except ':'. */
	return c >= 33 && c <= 126 && c != ':';
}

static OpHeader *
parse_field(const guint8 *start, gsize len, GError **error)
{
	const guint8 *colon = memchr(start, ':', len);
	g_autoptr(GString) value = NULL;
	OpHeader *header;

	if (colon == NULL || colon == start) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid header line: expected \"Name: value\"");
		return NULL;
	}
	for (const guint8 *p = start; p < colon; p++) {
		if (!is_field_name_char(*p)) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid character in a header field name");
			return NULL;
		}
	}
	value = g_string_sized_new(len);
	for (const guint8 *p = colon + 1; p < start + len; p++) {
		/* Unfolding removes each CRLF that is followed by white space. */
		if (*p == '\r' || *p == '\n')
			continue;
		g_string_append_c(value, (char)*p);
	}
	header = g_new0(OpHeader, 1);
	header->name = g_strndup((const char *)start, colon - start);
	header->value = g_strdup(g_strstrip(value->str));
	return header;
}

/* Returns the fields in order and sets *body_offset to the first octet of
 * the body (after the empty line), or to len when there is no body. */
GPtrArray *
op_message_parse_headers(const guint8 *data, gsize len, gsize *body_offset, GError **error)
{
	g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func((GDestroyNotify)op_header_free);
	gsize pos = 0;
	gsize field_start = 0;
	gboolean in_field = FALSE;

	while (pos < len) {
		const guint8 *eol = memchr(data + pos, '\n', len - pos);
		gsize line_end = eol ? (gsize)(eol - data) + 1 : len;
		gboolean empty = line_end - pos <= 2 &&
				 (data[pos] == '\r' || data[pos] == '\n');
		gboolean continuation = data[pos] == ' ' || data[pos] == '\t';

		if (pos > OP_MAX_HEADER_SECTION) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "the header section is larger than %d octets",
				    OP_MAX_HEADER_SECTION);
			return NULL;
		}
		if (in_field && !continuation) {
			OpHeader *header = parse_field(data + field_start, pos - field_start, error);

			if (header == NULL)
				return NULL;
			g_ptr_array_add(headers, header);
			in_field = FALSE;
		}
		if (empty) {
			*body_offset = line_end;
			return g_steal_pointer(&headers);
		}
		if (!continuation) {
			field_start = pos;
			in_field = TRUE;
		} else if (!in_field) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "the message starts with a continuation line");
			return NULL;
		}
		pos = line_end;
	}
	if (in_field) {
		OpHeader *header = parse_field(data + field_start, len - field_start, error);

		if (header == NULL)
			return NULL;
		g_ptr_array_add(headers, header);
	}
	*body_offset = len;
	return g_steal_pointer(&headers);
}

const char *
op_message_find_header(GPtrArray *headers, const char *name)
{
	for (guint i = 0; i < headers->len; i++) {
		OpHeader *header = g_ptr_array_index(headers, i);

		if (g_ascii_strcasecmp(header->name, name) == 0)
			return header->value;
	}
	return NULL;
}

guint
op_message_count_headers(GPtrArray *headers, const char *name)
{
	guint count = 0;

	for (guint i = 0; i < headers->len; i++) {
		OpHeader *header = g_ptr_array_index(headers, i);

		if (g_ascii_strcasecmp(header->name, name) == 0)
			count++;
	}
	return count;
}
