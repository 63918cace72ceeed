/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prepares the message of a local program for submission the way sendmail
 * does, while leaving what outpostd checks (bare CR, NUL, line length) for
 * outpostd to reject with a reply the user can read.
 */
#include "sendmail/op-sendmail-message.h"

#include "op-error.h"
#include "smtp/op-address.h"

#include <string.h>

/* Octets of UTF-8 text per RFC 2047 encoded word: 45 octets make 60 base64
 * characters, and with "=?UTF-8?B?" and "?=" the word stays under the
 * 75-character limit of RFC 2047 §2. */
#define OP_ENCODED_WORD_TEXT 45
/* Display names longer than this are encoded, so the field can be folded. */
#define OP_MAX_QUOTED_NAME 60

GByteArray *
op_sendmail_to_crlf(const guint8 *data, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint)MIN(len + len / 32 + 2, G_MAXUINT));
	gsize pos = 0;

	while (pos < len) {
		const guint8 *lf = memchr(data + pos, '\n', len - pos);
		gsize end = lf != NULL ? (gsize)(lf - data) : len;

		g_byte_array_append(out, data + pos, (guint)(end - pos));
		if (lf == NULL) {
			g_byte_array_append(out, (const guint8 *)"\r\n", 2);
			break;
		}
		if (end == 0 || data[end - 1] != '\r')
			g_byte_array_append(out, (const guint8 *)"\r", 1);
		g_byte_array_append(out, (const guint8 *)"\n", 1);
		pos = end + 1;
	}
	return out;
}

/* ---- Header section ------------------------------------------------------ */

typedef struct {
	gsize start;
	gsize end;  /* after the CRLF of its last line */
	char *name; /* as written */
} OpRawField;

static void
raw_field_clear(OpRawField *field)
{
	g_free(field->name);
}

/* Returns the length of the field name when the line starts a header field:
 * printable US-ASCII other than ':' up to a ':' (RFC 5322 §3.6.8). */
static gsize
field_name_length(const guint8 *line, gsize len)
{
	gsize i = 0;

	while (i < len && line[i] >= 33 && line[i] <= 126 && line[i] != ':')
		i++;
	return i > 0 && i < len && line[i] == ':' ? i : 0;
}

static char *
dup_unfolded_value(const guint8 *data, const OpRawField *field)
{
	GString *value = g_string_new(NULL);

	/* Unfolding removes each CRLF (RFC 5322 §2.2.3). */
	for (gsize i = field->start + strlen(field->name) + 1; i < field->end; i++) {
		if (data[i] != '\r' && data[i] != '\n')
			g_string_append_c(value, (char)data[i]);
	}
	g_strstrip(value->str);
	return g_string_free(value, FALSE);
}

/* Splits the header section into fields. Returns the offset where the body
 * part starts (the empty line, or the first line that is no field) and sets
 * *needs_separator when that line is not the empty line. */
static gsize
split_fields(const guint8 *data, gsize len, gsize pos, GArray *fields, gboolean *needs_separator)
{
	*needs_separator = FALSE;
	while (pos < len) {
		const guint8 *lf = memchr(data + pos, '\n', len - pos);
		gsize line_end = lf != NULL ? (gsize)(lf - data) + 1 : len;
		gsize name_length;
		OpRawField field;

		if (line_end - pos == 2 && data[pos] == '\r')
			return pos;
		if (data[pos] == ' ' || data[pos] == '\t') {
			if (fields->len == 0)
				break;
			g_array_index(fields, OpRawField, fields->len - 1).end = line_end;
			pos = line_end;
			continue;
		}
		name_length = field_name_length(data + pos, line_end - pos);
		if (name_length == 0)
			break;
		field.start = pos;
		field.end = line_end;
		field.name = g_strndup((const char *)data + pos, name_length);
		g_array_append_val(fields, field);
		pos = line_end;
	}
	*needs_separator = pos < len;
	return pos;
}

static gboolean
is_named(const OpRawField *field, const char *const *names)
{
	for (guint i = 0; names[i] != NULL; i++) {
		if (g_ascii_strcasecmp(field->name, names[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

static const char *const op_recipient_fields[] = {"To", "Cc", "Bcc", NULL};
static const char *const op_resent_recipient_fields[] = {"Resent-To", "Resent-Cc", "Resent-Bcc",
							 NULL};
static const char *const op_blind_fields[] = {"Bcc", "Resent-Bcc", NULL};
static const char *const op_from_fields[] = {"From", NULL};

static void
collect_recipient_fields(const guint8 *data, GArray *fields, GPtrArray *values)
{
	const char *const *names = op_recipient_fields;

	for (guint i = 0; i < fields->len; i++) {
		if (is_named(&g_array_index(fields, OpRawField, i), op_resent_recipient_fields))
			names = op_resent_recipient_fields;
	}
	for (guint i = 0; i < fields->len; i++) {
		const OpRawField *field = &g_array_index(fields, OpRawField, i);

		if (is_named(field, names))
			g_ptr_array_add(values, dup_unfolded_value(data, field));
	}
}

void
op_sendmail_edit_headers(GByteArray *message, const char *from, GPtrArray *recipient_fields)
{
	g_autoptr(GArray) fields = g_array_new(FALSE, FALSE, sizeof(OpRawField));
	g_autoptr(GByteArray) out = g_byte_array_sized_new(message->len + 256);
	const guint8 *data = message->data;
	gsize start = 0;
	gsize body;
	gboolean needs_separator;
	gboolean has_from = FALSE;

	g_array_set_clear_func(fields, (GDestroyNotify)raw_field_clear);
	/* An mbox "From " line is no header field, and sendmail drops it. */
	if (message->len >= 5 && memcmp(data, "From ", 5) == 0) {
		const guint8 *lf = memchr(data, '\n', message->len);

		start = lf != NULL ? (gsize)(lf - data) + 1 : message->len;
	}
	body = split_fields(data, message->len, start, fields, &needs_separator);
	if (recipient_fields != NULL)
		collect_recipient_fields(data, fields, recipient_fields);
	for (guint i = 0; i < fields->len; i++)
		has_from |= is_named(&g_array_index(fields, OpRawField, i), op_from_fields);

	if (!has_from && from != NULL) {
		g_byte_array_append(out, (const guint8 *)"From: ", 6);
		g_byte_array_append(out, (const guint8 *)from, (guint)strlen(from));
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	}
	for (guint i = 0; i < fields->len; i++) {
		const OpRawField *field = &g_array_index(fields, OpRawField, i);

		if (!is_named(field, op_blind_fields))
			g_byte_array_append(out, data + field->start,
					    (guint)(field->end - field->start));
	}
	if (needs_separator)
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	g_byte_array_append(out, data + body, (guint)(message->len - body));

	g_byte_array_set_size(message, 0);
	g_byte_array_append(message, out->data, out->len);
}

/* ---- Addresses ----------------------------------------------------------- */

/* Rewrites "local@domain" with the domain in A-label form, so that only a
 * non-ASCII local part needs SMTPUTF8. */
static char *
dup_ascii_address(const char *address, GError **error)
{
	const char *at = strrchr(address, '@');
	g_autofree char *domain = NULL;

	if (at == NULL)
		return g_strdup(address);
	domain = g_hostname_to_ascii(at + 1);
	if (domain == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid address %s: the domain is not a valid host name", address);
		return NULL;
	}
	return g_strdup_printf("%.*s@%s", (int)(at - address), address, domain);
}

/* Matches a local part with no domain, "root", which sendmail completes with
 * the host name: atext and dots only (RFC 5322 §3.2.3). */
static gboolean
is_bare_local_part(const char *text)
{
	return *text != '\0' && strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789!#$%&'*+-/=?^_`{|}~.") == strlen(text);
}

/* Matches a group without members, "undisclosed-recipients:;", which
 * op_address_parse_header() rejects because it contains no address. */
static gboolean
is_empty_group(const char *text)
{
	g_autoptr(GString) compact = g_string_new(NULL);

	for (const char *p = text; *p != '\0'; p++) {
		if (!g_ascii_isspace(*p))
			g_string_append_c(compact, *p);
	}
	return g_str_has_suffix(compact->str, ":;") &&
	       strcspn(compact->str, "<>@,;:\"()") == compact->len - 2;
}

static gboolean
append_address(GPtrArray *addresses, const char *address, GError **error)
{
	char *ascii = dup_ascii_address(address, error);

	if (ascii == NULL)
		return FALSE;
	g_ptr_array_add(addresses, ascii);
	return TRUE;
}

/* Parses a list in which some addresses lack a domain: "root, admin". */
static gboolean
parse_bare_names(const char *text, const char *default_domain, GPtrArray *addresses)
{
	g_auto(GStrv) pieces = g_strsplit(text, ",", -1);
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; pieces[i] != NULL; i++) {
		char *piece = g_strstrip(pieces[i]);

		if (*piece == '\0')
			continue;
		if (is_bare_local_part(piece)) {
			g_ptr_array_add(found, g_strdup_printf("%s@%s", piece, default_domain));
			continue;
		}
		if (!op_address_parse_header(piece, found, NULL))
			return FALSE;
	}
	for (guint i = 0; i < found->len; i++) {
		if (!append_address(addresses, g_ptr_array_index(found, i), NULL))
			return FALSE;
	}
	return found->len > 0;
}

gboolean
op_sendmail_parse_addresses(const char *text, const char *default_domain, GPtrArray *addresses,
			    GError **error)
{
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local_error = NULL;

	if (op_address_parse_header(text, found, &local_error)) {
		for (guint i = 0; i < found->len; i++) {
			if (!append_address(addresses, g_ptr_array_index(found, i), error))
				return FALSE;
		}
		return TRUE;
	}
	if (is_empty_group(text) || parse_bare_names(text, default_domain, addresses))
		return TRUE;
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "invalid address list \"%s\": %s",
		    text, local_error->message);
	return FALSE;
}

char *
op_sendmail_parse_sender(const char *text, const char *default_domain, GError **error)
{
	g_autofree char *address = g_strstrip(g_strdup(text));
	g_autofree char *qualified = NULL;
	g_autofree char *local_part = NULL;
	g_autofree char *domain = NULL;
	gsize len = strlen(address);

	if (len >= 2 && address[0] == '<' && address[len - 1] == '>') {
		memmove(address, address + 1, len - 2);
		address[len - 2] = '\0';
	}
	if (*address == '\0')
		return g_strdup("");
	qualified = strchr(address, '@') != NULL
			    ? g_strdup(address)
			    : g_strdup_printf("%s@%s", address, default_domain);
	if (!op_address_parse_mailbox(qualified, &local_part, &domain, error)) {
		g_prefix_error(error, "invalid sender address \"%s\": ", text);
		return NULL;
	}
	return dup_ascii_address(qualified, error);
}

/* ---- From: field ---------------------------------------------------------- */

/* Returns @name as valid UTF-8 without control characters, stripped. */
static char *
dup_clean_name(const char *name)
{
	char *clean = g_utf8_make_valid(name, -1);

	for (char *p = clean; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return g_strstrip(clean);
}

static gboolean
is_short_ascii(const char *text)
{
	gsize len = strlen(text);

	if (len > OP_MAX_QUOTED_NAME)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if ((guchar)text[i] < 0x20 || (guchar)text[i] > 0x7e)
			return FALSE;
	}
	return TRUE;
}

/* Appends @name as RFC 2047 "B" encoded words, each on a line of its own. */
static void
append_encoded_words(GString *out, const char *name)
{
	const char *p = name;

	while (*p != '\0') {
		const char *end = p;
		g_autofree char *encoded = NULL;

		/* Each word contains whole characters (RFC 2047 §5). */
		while (*end != '\0') {
			const char *next = g_utf8_next_char(end);

			if (next - p > OP_ENCODED_WORD_TEXT)
				break;
			end = next;
		}
		encoded = g_base64_encode((const guchar *)p, end - p);
		if (p != name)
			g_string_append(out, "\r\n ");
		g_string_append_printf(out, "=?UTF-8?B?%s?=", encoded);
		p = end;
	}
}

char *
op_sendmail_format_from(const char *sender, const char *full_name)
{
	g_autofree char *name = full_name != NULL ? dup_clean_name(full_name) : NULL;
	GString *out;

	if (name == NULL || *name == '\0')
		return g_strdup(sender);
	out = g_string_new(NULL);
	if (is_short_ascii(name)) {
		/* A quoted string (RFC 5322 §3.2.4) needs '\' and '"' escaped. */
		g_string_append_c(out, '"');
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				g_string_append_c(out, '\\');
			g_string_append_c(out, *p);
		}
		g_string_append_c(out, '"');
	} else {
		append_encoded_words(out, name);
	}
	g_string_append_printf(out, " <%s>", sender);
	return g_string_free(out, FALSE);
}

/* ---- Dot-stuffing ---------------------------------------------------------- */

GBytes *
op_sendmail_dot_stuff(const guint8 *data, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint)MIN(len + len / 64 + 8, G_MAXUINT));
	gsize pos = 0;

	while (pos < len) {
		const guint8 *lf = memchr(data + pos, '\n', len - pos);
		gsize end = lf != NULL ? (gsize)(lf - data) + 1 : len;

		if (data[pos] == '.')
			g_byte_array_append(out, (const guint8 *)".", 1);
		g_byte_array_append(out, data + pos, (guint)(end - pos));
		pos = end;
	}
	if (len > 0 && data[len - 1] != '\n')
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	g_byte_array_append(out, (const guint8 *)".\r\n", 3);
	return g_byte_array_free_to_bytes(out);
}
