/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parses SMTP paths (RFC 5321 §4.1.2) with the UTF-8 extensions of RFC 6531,
 * their ESMTP parameters, and the mailbox list of a From: or Sender: header
 * (RFC 5322 §3.4). Every address that passes is a plain "local@domain" that is
 * safe to store and compare; anything else fails with a short reason.
 */
#include "smtp/op-address.h"

#include "op-error.h"

#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>

/* Size limits of RFC 5321 §4.5.3.1. */
#define OP_ADDRESS_MAX_LOCAL_PART 64
#define OP_ADDRESS_MAX_DOMAIN 255
#define OP_ADDRESS_MAX_LABEL 63
#define OP_ADDRESS_MAX_PATH 256

G_GNUC_PRINTF(2, 3)
static gboolean
op_address_fail(GError **error, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	if (error != NULL)
		*error = g_error_new_valist(OP_ERROR, OP_ERROR_INVALID_ARGUMENT, format, args);
	va_end(args);
	return FALSE;
}

/* Describes an octet for an error message: printable ASCII as itself, any
 * other octet in hexadecimal so that no control character reaches a reply. */
static char *
op_address_describe_octet(char c)
{
	if (g_ascii_isgraph(c))
		return g_strdup_printf("'%c'", c);
	return g_strdup_printf("0x%02x", (guchar)c);
}

/* atext of RFC 5322 §3.2.3, extended with every non-ASCII octet of a UTF-8
 * sequence by RFC 6531 §3.3. Callers validate UTF-8 beforehand. */
static gboolean
op_address_is_atext(char c)
{
	if ((guchar)c >= 0x80 || g_ascii_isalnum(c))
		return TRUE;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* qtextSMTP of RFC 5321 §4.1.2 with UTF-8 from RFC 6531 §3.3. */
static gboolean
op_address_is_qtext(char c)
{
	guchar u = (guchar)c;

	return u >= 0x80 || (u >= 32 && u <= 126 && c != '"' && c != '\\');
}

static gboolean
op_address_is_ldh(char c)
{
	return g_ascii_isalnum(c) || c == '-';
}

/* Scans a quoted-string local part starting at the opening quote. Returns the
 * offset after the closing quote in *end. */
static gboolean
op_address_scan_quoted(const char *text, gsize *end, GError **error)
{
	gsize i = 1;

	for (;;) {
		char c = text[i];

		if (c == '"') {
			*end = i + 1;
			return TRUE;
		}
		if (c == '\\') {
			/* quoted-pairSMTP = "\" followed by %d32-126. */
			if (text[i + 1] < 32 || text[i + 1] > 126)
				return op_address_fail(error,
						       "invalid quoted pair in the local part");
			i += 2;
			continue;
		}
		if (c == '\0')
			return op_address_fail(error, "unterminated quoted local part");
		if (!op_address_is_qtext(c)) {
			g_autofree char *octet = op_address_describe_octet(c);

			return op_address_fail(error,
					       "the local part contains the invalid "
					       "character %s",
					       octet);
		}
		i++;
	}
}

/* Scans a Dot-string local part: atoms of atext separated by single dots. */
static gboolean
op_address_scan_dot_string(const char *text, gsize *end, GError **error)
{
	gsize i = 0;

	for (;;) {
		gsize atom_start = i;

		while (op_address_is_atext(text[i]))
			i++;
		if (i == atom_start) {
			g_autofree char *octet = NULL;

			if (text[i] == '.' || text[i] == '@' || text[i] == '>' || text[i] == '\0')
				return op_address_fail(error, "the local part has an empty atom");
			octet = op_address_describe_octet(text[i]);
			return op_address_fail(error,
					       "the local part contains the invalid "
					       "character %s",
					       octet);
		}
		if (text[i] != '.')
			break;
		i++;
	}
	*end = i;
	return TRUE;
}

/* Scans the Local-part at @text (RFC 5321 §4.1.2) and checks its length.
 * The caller checks the octet at *end. */
static gboolean
op_address_scan_local_part(const char *text, gsize *end, GError **error)
{
	gboolean ok;

	if (text[0] == '"')
		ok = op_address_scan_quoted(text, end, error);
	else
		ok = op_address_scan_dot_string(text, end, error);
	if (!ok)
		return FALSE;
	if (*end > OP_ADDRESS_MAX_LOCAL_PART)
		return op_address_fail(error, "the local part is longer than %d octets",
				       OP_ADDRESS_MAX_LOCAL_PART);
	return TRUE;
}

/* Checks a domain of LDH labels (RFC 5321 §4.1.2 sub-domain, RFC 1035 §2.3.4
 * sizes). */
static gboolean
op_address_check_ldh_domain(const char *domain, GError **error)
{
	const char *label = domain;

	if (strlen(domain) > OP_ADDRESS_MAX_DOMAIN)
		return op_address_fail(error, "the domain is longer than %d octets",
				       OP_ADDRESS_MAX_DOMAIN);
	for (;;) {
		gsize len = 0;

		while (op_address_is_ldh(label[len]))
			len++;
		if (len == 0)
			return op_address_fail(error, "the domain has an empty label");
		if (len > OP_ADDRESS_MAX_LABEL)
			return op_address_fail(error, "a domain label is longer than %d octets",
					       OP_ADDRESS_MAX_LABEL);
		if (label[0] == '-' || label[len - 1] == '-')
			return op_address_fail(error, "a domain label starts or ends with '-'");
		if (label[len] == '\0')
			return TRUE;
		if (label[len] != '.') {
			g_autofree char *octet = op_address_describe_octet(label[len]);

			return op_address_fail(
			    error, "the domain contains the invalid character %s", octet);
		}
		label += len + 1;
	}
}

/* Checks an address-literal (RFC 5321 §4.1.3) such as "[192.0.2.1]" or
 * "[IPv6:2001:db8::1]". General-address-literals are rejected because no
 * mail can be routed to them. */
static gboolean
op_address_check_literal(const char *literal, GError **error)
{
	gsize len = strlen(literal);
	g_autofree char *inner = NULL;
	g_autoptr(GInetAddress) address = NULL;
	const char *text;
	GSocketFamily family = G_SOCKET_FAMILY_IPV4;

	if (len < 2 || literal[len - 1] != ']')
		return op_address_fail(error, "unterminated address literal");
	inner = g_strndup(literal + 1, len - 2);
	text = inner;
	if (g_ascii_strncasecmp(text, "IPv6:", 5) == 0) {
		text += 5;
		family = G_SOCKET_FAMILY_IPV6;
	}

	/* A scope id ("%eth0") means nothing outside this host, and an IPv4
	 * literal must not pass as an IPv6 one without its tag. */
	if (strchr(text, '%') != NULL || (family == G_SOCKET_FAMILY_IPV4 && strchr(text, ':')))
		return op_address_fail(error, "invalid address literal");
	address = g_inet_address_new_from_string(text);
	if (address == NULL || g_inet_address_get_family(address) != family)
		return op_address_fail(error, "invalid address literal");
	return TRUE;
}

/* Converts a domain of LDH labels and U-labels to A-labels, and back when
 * @non_ascii is TRUE. The round trip must give the same A-labels, which
 * rejects "xn--" labels that are not valid Punycode. */
static gboolean
op_address_convert_idn(const char *lower, gboolean non_ascii, char **ascii, char **unicode,
		       GError **error)
{
	g_autofree char *converted = NULL;
	g_autofree char *decoded = NULL;
	g_autofree char *again = NULL;

	converted = non_ascii ? g_hostname_to_ascii(lower) : g_strdup(lower);
	if (converted == NULL)
		return op_address_fail(error, "invalid internationalized domain");
	if (!op_address_check_ldh_domain(converted, error))
		return FALSE;

	if (non_ascii || g_hostname_is_ascii_encoded(converted)) {
		decoded = g_hostname_to_unicode(converted);
		again = decoded != NULL ? g_hostname_to_ascii(decoded) : NULL;
		if (again == NULL || g_ascii_strcasecmp(again, converted) != 0)
			return op_address_fail(error, "invalid internationalized domain");
	}
	*ascii = g_steal_pointer(&converted);
	*unicode = non_ascii ? g_steal_pointer(&decoded) : g_strdup(lower);
	return TRUE;
}

/* Checks a Domain or address-literal of @len octets, and returns it
 * lower-cased and in A-label form (RFC 5890 §2.3.2.1) for DNS lookups.
 * A domain with non-ASCII octets is returned as the U-labels of its A-labels,
 * so that spellings which reach the same DNS name (upper case, full-width
 * letters) give the same string for ownership checks. */
static gboolean
op_address_check_domain(const char *text, gsize len, char **domain, char **domain_ascii,
			gboolean *utf8, GError **error)
{
	g_autofree char *lower = NULL;
	gboolean non_ascii = FALSE;

	if (len == 0)
		return op_address_fail(error, "the domain is missing");
	if (len > OP_ADDRESS_MAX_DOMAIN)
		return op_address_fail(error, "the domain is longer than %d octets",
				       OP_ADDRESS_MAX_DOMAIN);
	lower = g_ascii_strdown(text, (gssize)len);

	if (lower[0] == '[') {
		if (!op_address_check_literal(lower, error))
			return FALSE;
		*domain_ascii = g_strdup(lower);
		*domain = g_steal_pointer(&lower);
		*utf8 = FALSE;
		return TRUE;
	}

	for (gsize i = 0; i < len; i++)
		non_ascii |= (guchar)lower[i] >= 0x80;
	if (!op_address_convert_idn(lower, non_ascii, domain_ascii, domain, error))
		return FALSE;
	*utf8 = non_ascii;
	return TRUE;
}

static gboolean
op_address_check_text(const char *text, gsize len, GError **error)
{
	if (!g_utf8_validate_len(text, len, NULL))
		return op_address_fail(error, "the address is not valid UTF-8");
	for (gsize i = 0; i < len; i++) {
		if ((guchar)text[i] < 0x20 || text[i] == 0x7f)
			return op_address_fail(error, "the address contains a control character");
	}
	return TRUE;
}

static gboolean
op_address_has_non_ascii(const char *text, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		if ((guchar)text[i] >= 0x80)
			return TRUE;
	}
	return FALSE;
}

/* Parses "local@domain" at @text up to @stop (or the end of the string when
 * @stop is NUL) and returns the offset of the stop character in *end. */
static gboolean
op_address_scan_mailbox(const char *text, char stop, gsize *end, OpSmtpPath *path, GError **error)
{
	gsize local_end = 0;
	const char *domain_start;
	const char *domain_end;

	if (!op_address_scan_local_part(text, &local_end, error))
		return FALSE;
	if (text[local_end] != '@') {
		g_autofree char *octet = NULL;

		if (text[local_end] == stop)
			return op_address_fail(error, "the domain is missing");
		octet = op_address_describe_octet(text[local_end]);
		return op_address_fail(error, "unexpected character %s after the local part",
				       octet);
	}

	domain_start = text + local_end + 1;
	domain_end = stop != '\0' ? strchr(domain_start, stop) : NULL;
	if (domain_end == NULL) {
		if (stop != '\0')
			return op_address_fail(error, "missing '%c' at the end of the address",
					       stop);
		domain_end = domain_start + strlen(domain_start);
	}
	if (!op_address_check_domain(domain_start, (gsize)(domain_end - domain_start),
				     &path->domain, &path->domain_ascii, &path->utf8, error))
		return FALSE;

	path->local_part = g_strndup(text, local_end);
	path->utf8 |= op_address_has_non_ascii(text, local_end);
	path->mailbox = g_strdup_printf("%s@%s", path->local_part, path->domain);
	*end = (gsize)(domain_end - text);
	return TRUE;
}

gboolean
op_address_parse_mailbox(const char *text, char **local_part, char **domain, GError **error)
{
	OpSmtpPath path = {0};
	gsize end = 0;

	g_return_val_if_fail(text != NULL, FALSE);

	if (!op_address_check_text(text, strlen(text), error) ||
	    !op_address_scan_mailbox(text, '\0', &end, &path, error)) {
		op_smtp_path_clear(&path);
		return FALSE;
	}
	if (local_part != NULL)
		*local_part = g_steal_pointer(&path.local_part);
	if (domain != NULL)
		*domain = g_steal_pointer(&path.domain);
	op_smtp_path_clear(&path);
	return TRUE;
}

/* Skips the source route "@a.example,@b.example:" of RFC 5321 §4.1.2
 * (A-d-l). Servers must accept it and may ignore the route (§4.1.2 and
 * Appendix C), but its domains must still be valid. */
static gboolean
op_address_skip_route(const char *text, gsize *end, GError **error)
{
	gsize i = 0;

	while (text[i] == '@') {
		gsize start = ++i;
		g_autofree char *domain = NULL;
		g_autofree char *ascii = NULL;
		gboolean utf8 = FALSE;

		while (text[i] != ',' && text[i] != ':' && text[i] != '>' && text[i] != '\0')
			i++;
		if (!op_address_check_domain(text + start, i - start, &domain, &ascii, &utf8,
					     error)) {
			g_prefix_error(error, "invalid source route: ");
			return FALSE;
		}
		if (text[i] == ':') {
			*end = i + 1;
			return TRUE;
		}
		if (text[i] != ',')
			break;
		i++;
	}
	return op_address_fail(error, "invalid source route: expected \"@domain:\"");
}

static void
op_smtp_param_free(gpointer data)
{
	OpSmtpParam *param = data;

	g_free(param->keyword);
	g_free(param->value);
	g_free(param);
}

/* Parses one esmtp-param "KEYWORD[=VALUE]" (RFC 5321 §4.1.2). The value may
 * also carry UTF-8 (RFC 6531 §3.3). */
static gboolean
op_address_parse_param(const char *text, gsize len, OpSmtpPath *path, GError **error)
{
	gsize keyword_len = 0;
	OpSmtpParam *param;
	g_autofree char *keyword = NULL;

	while (keyword_len < len && op_address_is_ldh(text[keyword_len]))
		keyword_len++;
	if (keyword_len == 0 || text[0] == '-' || (keyword_len < len && text[keyword_len] != '='))
		return op_address_fail(error, "invalid parameter keyword");
	keyword = g_ascii_strup(text, (gssize)keyword_len);
	if (op_smtp_path_has_param(path, keyword))
		return op_address_fail(error, "duplicate parameter %s", keyword);

	if (keyword_len + 1 == len)
		return op_address_fail(error, "parameter %s has an empty value", keyword);
	for (gsize i = keyword_len + 1; i < len; i++) {
		guchar c = (guchar)text[i];

		if (c < 33 || c == '=' || c == 127)
			return op_address_fail(error, "parameter %s has an invalid value", keyword);
	}

	param = g_new0(OpSmtpParam, 1);
	param->keyword = g_steal_pointer(&keyword);
	if (keyword_len < len)
		param->value = g_strndup(text + keyword_len + 1, len - keyword_len - 1);
	g_ptr_array_add(path->params, param);
	return TRUE;
}

static gboolean
op_address_parse_params(const char *text, OpSmtpPath *path, GError **error)
{
	while (*text != '\0') {
		gsize len = 0;

		if (*text != ' ')
			return op_address_fail(error, "expected a space before the parameters");
		while (*text == ' ')
			text++;
		while (text[len] != ' ' && text[len] != '\0')
			len++;
		if (len > 0 && !op_address_parse_param(text, len, path, error))
			return FALSE;
		text += len;
	}
	return TRUE;
}

/* Parses what follows the "<" of a path: the null path, <postmaster>, or an
 * optional source route and a mailbox. Returns the offset of the ">". */
static gboolean
op_address_parse_bracketed(const char *text, gboolean recipient, OpSmtpPath *path, gsize *end,
			   GError **error)
{
	gsize route_end = 0;
	gsize mailbox_end = 0;

	if (text[0] == '>') {
		if (recipient)
			return op_address_fail(error, "the null path <> is not a valid recipient");
		path->mailbox = g_strdup("");
		path->local_part = g_strdup("");
		path->domain = g_strdup("");
		path->domain_ascii = g_strdup("");
		*end = 0;
		return TRUE;
	}

	/* RFC 5321 §4.1.1.3: <Postmaster> without a domain, case-insensitively,
	 * is a valid recipient. */
	if (recipient && g_ascii_strncasecmp(text, "postmaster>", 11) == 0) {
		path->mailbox = g_strdup("postmaster");
		path->local_part = g_strndup(text, 10);
		path->domain = g_strdup("");
		path->domain_ascii = g_strdup("");
		*end = 10;
		return TRUE;
	}

	if (text[0] == '@' && !op_address_skip_route(text, &route_end, error))
		return FALSE;
	if (!op_address_scan_mailbox(text + route_end, '>', &mailbox_end, path, error))
		return FALSE;
	*end = route_end + mailbox_end;
	return TRUE;
}

static gboolean
op_smtp_path_parse_checked(const char *args, const char *keyword, OpSmtpPath *path, GError **error)
{
	gsize keyword_len = strlen(keyword);
	gboolean recipient = g_ascii_strcasecmp(keyword, "TO:") == 0;
	const char *open;
	gsize close = 0;

	if (g_ascii_strncasecmp(args, keyword, keyword_len) != 0)
		return op_address_fail(error, "expected \"%s\"", keyword);
	open = args + keyword_len;

	/* RFC 5321 allows no space after the colon, but many clients send one. */
	if (*open == ' ')
		open++;
	if (*open != '<')
		return op_address_fail(error, "the address must be enclosed in angle brackets");
	if (!op_address_parse_bracketed(open + 1, recipient, path, &close, error))
		return FALSE;

	/* close is the offset of ">" after "<", so the path spans close + 2
	 * octets with its brackets (RFC 5321 §4.5.3.1.3). */
	if (close + 2 > OP_ADDRESS_MAX_PATH)
		return op_address_fail(error, "the path is longer than %d octets",
				       OP_ADDRESS_MAX_PATH);
	return op_address_parse_params(open + close + 2, path, error);
}

gboolean
op_smtp_path_parse(const char *args, const char *keyword, OpSmtpPath *path, GError **error)
{
	g_return_val_if_fail(args != NULL, FALSE);
	g_return_val_if_fail(keyword != NULL, FALSE);
	g_return_val_if_fail(path != NULL, FALSE);

	memset(path, 0, sizeof(*path));
	path->params = g_ptr_array_new_with_free_func(op_smtp_param_free);
	if (!op_address_check_text(args, strlen(args), error) ||
	    !op_smtp_path_parse_checked(args, keyword, path, error)) {
		op_smtp_path_clear(path);
		return FALSE;
	}
	return TRUE;
}

void
op_smtp_path_clear(OpSmtpPath *path)
{
	if (path == NULL)
		return;
	g_clear_pointer(&path->mailbox, g_free);
	g_clear_pointer(&path->local_part, g_free);
	g_clear_pointer(&path->domain, g_free);
	g_clear_pointer(&path->domain_ascii, g_free);
	g_clear_pointer(&path->params, g_ptr_array_unref);
	path->utf8 = FALSE;
}

static const OpSmtpParam *
op_smtp_path_find_param(const OpSmtpPath *path, const char *keyword)
{
	if (path->params == NULL)
		return NULL;
	for (guint i = 0; i < path->params->len; i++) {
		const OpSmtpParam *param = g_ptr_array_index(path->params, i);

		if (g_ascii_strcasecmp(param->keyword, keyword) == 0)
			return param;
	}
	return NULL;
}

const char *
op_smtp_path_get_param(const OpSmtpPath *path, const char *keyword)
{
	const OpSmtpParam *param;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(keyword != NULL, NULL);

	param = op_smtp_path_find_param(path, keyword);
	return param != NULL ? param->value : NULL;
}

gboolean
op_smtp_path_has_param(const OpSmtpPath *path, const char *keyword)
{
	g_return_val_if_fail(path != NULL, FALSE);
	g_return_val_if_fail(keyword != NULL, FALSE);

	return op_smtp_path_find_param(path, keyword) != NULL;
}

/* Header parsing: the value is split into tokens first (RFC 5322 §3.2), with
 * comments and folding white space dropped, then the address-list grammar of
 * §3.4 runs over the tokens. */

typedef enum {
	OP_TOKEN_ATOM,
	OP_TOKEN_QUOTED,
	OP_TOKEN_LITERAL,
	OP_TOKEN_SPECIAL,
} OpTokenKind;

typedef struct {
	OpTokenKind kind;
	const char *start;
	gsize len;
} OpToken;

typedef struct {
	GArray *tokens;
	guint next;
	GPtrArray *addresses;
} OpHeaderParser;

static gboolean
op_token_is(const OpHeaderParser *parser, guint index, char special)
{
	const OpToken *token;

	if (index >= parser->tokens->len)
		return FALSE;
	token = &g_array_index(parser->tokens, OpToken, index);
	return token->kind == OP_TOKEN_SPECIAL && token->start[0] == special;
}

static gboolean
op_token_is_word(const OpHeaderParser *parser, guint index)
{
	const OpToken *token;

	if (index >= parser->tokens->len)
		return FALSE;
	token = &g_array_index(parser->tokens, OpToken, index);
	return token->kind == OP_TOKEN_ATOM || token->kind == OP_TOKEN_QUOTED;
}

/* Returns the offset after the comment, quoted string or domain literal that
 * starts at @text[0] and ends with @close, or 0 when it is unterminated.
 * A "\" quotes the next octet, and comments nest (RFC 5322 §3.2.2). */
static gsize
op_header_skip_delimited(const char *text, char close)
{
	guint depth = 1;

	for (gsize i = 1; text[i] != '\0'; i++) {
		if (text[i] == '\\' && text[i + 1] != '\0')
			i++;
		else if (close == ')' && text[i] == '(')
			depth++;
		else if (text[i] == close && --depth == 0)
			return i + 1;
	}
	return 0;
}

/* Returns the length of the folding white space at @text: blanks, and line
 * breaks followed by a blank (RFC 5322 §3.2.2). */
static gsize
op_header_skip_fws(const char *text)
{
	gsize i = 0;

	for (;;) {
		if (text[i] == ' ' || text[i] == '\t')
			i++;
		else if (text[i] == '\r' && text[i + 1] == '\n' &&
			 (text[i + 2] == ' ' || text[i + 2] == '\t'))
			i += 3;
		else if (text[i] == '\n' && (text[i + 1] == ' ' || text[i + 1] == '\t'))
			i += 2;
		else
			return i;
	}
}

static gboolean
op_header_next_token(const char *text, gsize *length, OpToken *token, GError **error)
{
	char c = text[0];
	gsize len = 0;

	token->start = text;
	if (c == '(') {
		len = op_header_skip_delimited(text, ')');
		if (len == 0)
			return op_address_fail(error, "unterminated comment");
		/* A comment becomes an empty token, which the caller drops. */
		token->kind = OP_TOKEN_LITERAL;
		token->len = 0;
	} else if (c == '"') {
		len = op_header_skip_delimited(text, '"');
		if (len == 0)
			return op_address_fail(error, "unterminated quoted string");
		token->kind = OP_TOKEN_QUOTED;
		token->len = len;
	} else if (c == '[') {
		len = op_header_skip_delimited(text, ']');
		if (len == 0)
			return op_address_fail(error, "unterminated domain literal");
		token->kind = OP_TOKEN_LITERAL;
		token->len = len;
	} else if (c != '\0' && strchr("<>@,;:.", c) != NULL) {
		token->kind = OP_TOKEN_SPECIAL;
		len = token->len = 1;
	} else {
		while (op_address_is_atext(text[len]))
			len++;
		if (len == 0) {
			g_autofree char *octet = op_address_describe_octet(c);

			return op_address_fail(error, "unexpected character %s", octet);
		}
		token->kind = OP_TOKEN_ATOM;
		token->len = len;
	}
	*length = len;
	return TRUE;
}

static GArray *
op_header_tokenize(const char *value, GError **error)
{
	g_autoptr(GArray) tokens = g_array_new(FALSE, FALSE, sizeof(OpToken));
	const char *p = value;

	for (;;) {
		OpToken token;
		gsize len = 0;

		p += op_header_skip_fws(p);
		if (*p == '\0')
			break;
		if (!op_header_next_token(p, &len, &token, error))
			return NULL;
		if (token.len > 0)
			g_array_append_val(tokens, token);
		p += len;
	}
	return g_steal_pointer(&tokens);
}

/* Checks that the tokens of an addr-spec alternate between words and the
 * separators "." and "@", with one "@", no quoted string in the domain and no
 * domain literal in the local part. */
static gboolean
op_header_check_addr_spec(const OpHeaderParser *parser, guint first, guint last)
{
	gboolean in_domain = FALSE;
	gboolean want_word = TRUE;

	for (guint i = first; i < last; i++) {
		const OpToken *token = &g_array_index(parser->tokens, OpToken, i);

		if (op_token_is(parser, i, '@') || op_token_is(parser, i, '.')) {
			if (want_word || (in_domain && token->start[0] == '@'))
				return FALSE;
			in_domain |= token->start[0] == '@';
			want_word = TRUE;
			continue;
		}
		if (token->kind == OP_TOKEN_SPECIAL || !want_word)
			return FALSE;
		if ((in_domain && token->kind == OP_TOKEN_QUOTED) ||
		    (!in_domain && token->kind == OP_TOKEN_LITERAL))
			return FALSE;
		want_word = FALSE;
	}
	return in_domain && !want_word;
}

/* Joins the tokens [@first, @last) of an addr-spec and parses the result with
 * the SMTP mailbox grammar, so that a header address compares equal to an
 * envelope address. */
static gboolean
op_header_add_addr_spec(OpHeaderParser *parser, guint first, guint last, GError **error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *local_part = NULL;
	g_autofree char *domain = NULL;

	if (!op_header_check_addr_spec(parser, first, last))
		return op_address_fail(error, "invalid address: expected local-part@domain");
	for (guint i = first; i < last; i++) {
		const OpToken *token = &g_array_index(parser->tokens, OpToken, i);

		g_string_append_len(text, token->start, (gssize)token->len);
	}
	if (!op_address_parse_mailbox(text->str, &local_part, &domain, error))
		return FALSE;
	g_ptr_array_add(parser->addresses, g_strdup_printf("%s@%s", local_part, domain));
	return TRUE;
}

/* Parses an angle-addr after its "<". An obsolete route (RFC 5322 §4.4) is
 * skipped. */
static gboolean
op_header_parse_angle_addr(OpHeaderParser *parser, GError **error)
{
	guint first = parser->next;
	guint close = first;

	while (close < parser->tokens->len && !op_token_is(parser, close, '>'))
		close++;
	if (close == parser->tokens->len)
		return op_address_fail(error, "missing '>'");
	if (op_token_is(parser, first, '@')) {
		while (first < close && !op_token_is(parser, first, ':'))
			first++;
		first++;
	}
	parser->next = close + 1;
	return op_header_add_addr_spec(parser, first, close, error);
}

/* Parses one mailbox (RFC 5322 §3.4): an addr-spec, or a display name
 * followed by an angle-addr. */
static gboolean
op_header_parse_mailbox(OpHeaderParser *parser, GError **error)
{
	guint first = parser->next;
	guint i = first;

	while (op_token_is_word(parser, i) || op_token_is(parser, i, '.'))
		i++;
	if (op_token_is(parser, i, '<')) {
		parser->next = i + 1;
		return op_header_parse_angle_addr(parser, error);
	}
	if (!op_token_is(parser, i, '@') || i == first)
		return op_address_fail(error, "expected an address");

	/* The domain of an addr-spec: atoms and dots, or one domain literal. */
	i++;
	while (i < parser->tokens->len && !op_token_is(parser, i, ',') &&
	       !op_token_is(parser, i, ';') && !op_token_is(parser, i, '>') &&
	       !op_token_is(parser, i, '<') && !op_token_is(parser, i, ':'))
		i++;
	parser->next = i;
	return op_header_add_addr_spec(parser, first, i, error);
}

/* Parses a group "display-name: [mailbox-list] ;" (RFC 5322 §3.4) after its
 * colon. */
static gboolean
op_header_parse_group(OpHeaderParser *parser, GError **error)
{
	for (;;) {
		if (parser->next >= parser->tokens->len)
			return op_address_fail(error, "unterminated group: missing ';'");
		if (op_token_is(parser, parser->next, ';')) {
			parser->next++;
			return TRUE;
		}
		if (op_token_is(parser, parser->next, ',')) {
			parser->next++;
			continue;
		}
		if (!op_header_parse_mailbox(parser, error))
			return FALSE;
		if (!op_token_is(parser, parser->next, ',') &&
		    !op_token_is(parser, parser->next, ';'))
			return op_address_fail(error, "expected ',' or ';' in a group");
	}
}

static gboolean
op_header_parse_address(OpHeaderParser *parser, GError **error)
{
	guint i = parser->next;

	while (op_token_is_word(parser, i) || op_token_is(parser, i, '.'))
		i++;
	if (i > parser->next && op_token_is(parser, i, ':')) {
		parser->next = i + 1;
		return op_header_parse_group(parser, error);
	}
	return op_header_parse_mailbox(parser, error);
}

gboolean
op_address_parse_header(const char *value, GPtrArray *addresses, GError **error)
{
	g_autoptr(GArray) tokens = NULL;
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
	OpHeaderParser parser = {0};

	g_return_val_if_fail(value != NULL, FALSE);
	g_return_val_if_fail(addresses != NULL, FALSE);

	if (!g_utf8_validate(value, -1, NULL))
		return op_address_fail(error, "the header is not valid UTF-8");
	tokens = op_header_tokenize(value, error);
	if (tokens == NULL)
		return FALSE;

	parser.tokens = tokens;
	parser.addresses = found;
	while (parser.next < tokens->len) {
		/* Empty list elements are obsolete syntax (RFC 5322 §4.4). */
		if (op_token_is(&parser, parser.next, ',')) {
			parser.next++;
			continue;
		}
		if (!op_header_parse_address(&parser, error))
			return FALSE;
		if (parser.next < tokens->len && !op_token_is(&parser, parser.next, ','))
			return op_address_fail(error, "expected ',' between addresses");
	}
	if (found->len == 0)
		return op_address_fail(error, "the header contains no address");

	for (guint i = 0; i < found->len; i++)
		g_ptr_array_add(addresses, g_steal_pointer(&g_ptr_array_index(found, i)));
	return TRUE;
}
