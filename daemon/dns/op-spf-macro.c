/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SPF macro expansion (RFC 7208 §7). The same code checks the syntax, so the
 * parser and the evaluator cannot disagree on what a valid macro is.
 */
#include "dns/op-spf-macro.h"

#include <string.h>

#include "op-error.h"

/* More parts than any domain name has, so larger DIGIT values change nothing. */
#define OP_SPF_MACRO_MAX_DIGITS 1000

static gboolean
op_spf_macro_is_delimiter(char c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/* Returns the reversed nibbles of an IPv6 address joined by dots (RFC 7208 §7.3),
 * or the dotted quad of an IPv4 address. */
static char *
op_spf_macro_dup_ip(GInetAddress *ip)
{
	const guint8 *bytes = g_inet_address_to_bytes(ip);
	GString *text;

	if (g_inet_address_get_family(ip) == G_SOCKET_FAMILY_IPV4)
		return g_inet_address_to_string(ip);
	text = g_string_new(NULL);
	for (guint i = 0; i < 16; i++) {
		g_string_append_printf(text, "%s%x.%x", i == 0 ? "" : ".", bytes[i] >> 4,
				       bytes[i] & 0x0f);
	}
	return g_string_free(text, FALSE);
}

static char *
op_spf_macro_dup_value(char letter, const OpSpfMacroContext *context)
{
	switch (letter) {
	case 's':
		return g_strdup(context->sender);
	case 'l':
		return g_strdup(context->local_part);
	case 'o':
		return g_strdup(context->sender_domain);
	case 'd':
		return g_strdup(context->domain);
	case 'h':
		return g_strdup(context->helo);
	case 'i':
		return op_spf_macro_dup_ip(context->ip);
	case 'c':
		return g_inet_address_to_string(context->ip);
	case 'v':
		return g_strdup(g_inet_address_get_family(context->ip) == G_SOCKET_FAMILY_IPV4
					? "in-addr"
					: "ip6");
	case 'r':
		return g_strdup(context->receiver != NULL ? context->receiver : "unknown");
	case 't':
		return g_strdup_printf("%" G_GINT64_FORMAT, g_get_real_time() / G_USEC_PER_SEC);
	case 'p': {
		char *name = NULL;

		if (context->dup_validated_name != NULL)
			name = context->dup_validated_name(context->user_data);
		return name != NULL ? name : g_strdup("unknown");
	}
	default:
		return g_strdup("");
	}
}

/* Splits @value on @delimiters, optionally reverses the parts, keeps the
 * rightmost @digits of them (all when 0) and joins them with "." (§7.3). */
static char *
op_spf_macro_transform(const char *value, const char *delimiters, guint digits,
		       gboolean reverse)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
	GString *joined = g_string_new(NULL);
	const char *start = value;
	guint first = 0;

	for (const char *p = value;; p++) {
		if (*p != '\0' && strchr(delimiters, *p) == NULL)
			continue;
		g_ptr_array_add(parts, g_strndup(start, p - start));
		if (*p == '\0')
			break;
		start = p + 1;
	}
	if (reverse) {
		for (guint i = 0; i < parts->len / 2; i++) {
			gpointer swap = parts->pdata[i];

			parts->pdata[i] = parts->pdata[parts->len - 1 - i];
			parts->pdata[parts->len - 1 - i] = swap;
		}
	}
	if (digits > 0 && digits < parts->len)
		first = parts->len - digits;
	for (guint i = first; i < parts->len; i++) {
		if (i > first)
			g_string_append_c(joined, '.');
		g_string_append(joined, g_ptr_array_index(parts, i));
	}
	return g_string_free(joined, FALSE);
}

/* Parses one "%{...}" at @p (just after the "{") and appends its expansion to
 * @out when @context is set. Returns the position after the "}", or NULL. */
static const char *
op_spf_macro_expand_one(const char *text, const char *p, const OpSpfMacroContext *context,
			gboolean explanation, GString *out, GError **error)
{
	char letter = g_ascii_tolower(*p);
	gboolean upper = g_ascii_isupper(*p);
	char delimiters[8] = "";
	gsize n_delimiters = 0;
	guint digits = 0;
	gboolean has_digits = FALSE;
	gboolean reverse = FALSE;
	g_autofree char *value = NULL;
	g_autofree char *transformed = NULL;

	if (letter == '\0' || strchr("slodiphcrtv", letter) == NULL ||
	    (!explanation && strchr("crt", letter) != NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid macro letter '%c' in \"%s\"%s", *p != '\0' ? *p : ' ', text,
			    strchr("crt", letter) != NULL && letter != '\0'
				    ? ": c, r and t are allowed only in explanations"
				    : "");
		return NULL;
	}
	for (p++; g_ascii_isdigit(*p); p++) {
		has_digits = TRUE;
		digits = MIN(digits * 10 + (guint)(*p - '0'), OP_SPF_MACRO_MAX_DIGITS);
	}
	if (*p == 'r' || *p == 'R') {
		reverse = TRUE;
		p++;
	}
	for (; op_spf_macro_is_delimiter(*p); p++) {
		if (strchr(delimiters, *p) == NULL && n_delimiters < sizeof(delimiters) - 1)
			delimiters[n_delimiters++] = *p;
	}
	/* A DIGIT transformer of zero is not allowed (RFC 7208 §7.3). */
	if (*p != '}' || (has_digits && digits == 0)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid macro in \"%s\": expected %%{letter, digits, \"r\", "
			    "delimiters and \"}\"", text);
		return NULL;
	}
	if (context == NULL)
		return p + 1;

	value = op_spf_macro_dup_value(letter, context);
	transformed = op_spf_macro_transform(value != NULL ? value : "",
					     n_delimiters > 0 ? delimiters : ".", digits,
					     reverse);
	if (upper) {
		g_autofree char *escaped = g_uri_escape_string(transformed, NULL, FALSE);

		g_string_append(out, escaped);
	} else {
		g_string_append(out, transformed);
	}
	return p + 1;
}

char *
op_spf_macro_expand(const char *text, const OpSpfMacroContext *context, gboolean explanation,
		    GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const char *p = text;

	while (*p != '\0') {
		guchar c = (guchar)*p;

		if (c == '%') {
			switch (p[1]) {
			case '%':
				g_string_append_c(out, '%');
				p += 2;
				continue;
			case '_':
				g_string_append_c(out, ' ');
				p += 2;
				continue;
			case '-':
				g_string_append(out, "%20");
				p += 2;
				continue;
			case '{':
				p = op_spf_macro_expand_one(text, p + 2, context, explanation, out,
							    error);
				if (p == NULL)
					return NULL;
				continue;
			default:
				g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
					    "invalid macro in \"%s\": a '%%' must be followed by "
					    "'{', '%%', '_' or '-'", text);
				return NULL;
			}
		}
		/* macro-literal is visible ASCII; an explain-string also has spaces (§7.1). */
		if ((c < 0x21 || c > 0x7e) && !(explanation && c == ' ')) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid character 0x%02x in \"%s\"", c, text);
			return NULL;
		}
		g_string_append_c(out, (char)c);
		p++;
	}
	return context != NULL ? g_string_free(g_steal_pointer(&out), FALSE) : g_strdup("");
}
