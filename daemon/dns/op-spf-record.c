/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SPF record syntax (RFC 7208 §4.6 and the ABNF of §12), lookup counting and
 * the merge that adds a server's terms to the record a domain already has.
 */
#include "dns/op-spf-record.h"

#include <string.h>

#include "dns/op-spf-macro.h"
#include "op-error.h"

static const struct {
	const char *name;
	OpSpfTermKind kind;
} op_spf_mechanisms[] = {
	{"all", OP_SPF_TERM_ALL},     {"include", OP_SPF_TERM_INCLUDE},
	{"a", OP_SPF_TERM_A},         {"mx", OP_SPF_TERM_MX},
	{"ptr", OP_SPF_TERM_PTR},     {"ip4", OP_SPF_TERM_IP4},
	{"ip6", OP_SPF_TERM_IP6},     {"exists", OP_SPF_TERM_EXISTS},
};

void
op_spf_term_free(OpSpfTerm *term)
{
	if (term == NULL)
		return;
	g_free(term->text);
	g_free(term->name);
	g_free(term->domain_spec);
	g_free(term);
}

void
op_spf_record_free(OpSpfRecord *record)
{
	if (record == NULL)
		return;
	g_ptr_array_unref(record->terms);
	g_free(record);
}

gboolean
op_spf_record_is_spf(const char *text)
{
	return text != NULL && g_ascii_strncasecmp(text, "v=spf1", 6) == 0 &&
	       (text[6] == '\0' || text[6] == ' ');
}

const char *
op_spf_record_select(GPtrArray *texts, const char *domain, GError **error)
{
	const char *found = NULL;

	for (guint i = 0; texts != NULL && i < texts->len; i++) {
		const char *text = g_ptr_array_index(texts, i);

		if (!op_spf_record_is_spf(text))
			continue;
		if (found != NULL) {
			g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT,
				    "%s publishes more than one SPF record: merge them into one",
				    domain);
			return NULL;
		}
		found = text;
	}
	if (found == NULL)
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "%s has no SPF record", domain);
	return found;
}

/* Parses a CIDR length of 0..@max written without leading zeros (RFC 7208 §12). */
static gboolean
op_spf_parse_cidr(const char *digits, gsize length, int max, int *out)
{
	int value = 0;

	if (length == 0 || length > 3 || (digits[0] == '0' && length > 1))
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isdigit(digits[i]))
			return FALSE;
		value = value * 10 + (digits[i] - '0');
	}
	if (value > max)
		return FALSE;
	*out = value;
	return TRUE;
}

/* Finds a trailing "/DIGITS" in text[0..*length) and shortens *length to drop it.
 * Returns the digits, or NULL when there is no such suffix. */
static const char *
op_spf_split_cidr(const char *text, gsize *length, gsize *digits_length)
{
	gsize end = *length;
	gsize start = end;

	while (start > 0 && g_ascii_isdigit(text[start - 1]))
		start--;
	if (start == end || start == 0 || text[start - 1] != '/')
		return NULL;
	*digits_length = end - start;
	*length = start - 1;
	return text + start;
}

/* Checks a toplabel (RFC 7208 §7.1): alphanumerics with at least one letter, or
 * alphanumerics and hyphens that neither start nor end with a hyphen. */
static gboolean
op_spf_is_toplabel(const char *label, gsize length)
{
	gboolean has_alpha = FALSE;
	gboolean has_hyphen = FALSE;

	if (length == 0 || label[0] == '-' || label[length - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (g_ascii_isalpha(label[i]))
			has_alpha = TRUE;
		else if (label[i] == '-')
			has_hyphen = TRUE;
		else if (!g_ascii_isdigit(label[i]))
			return FALSE;
	}
	return has_alpha || has_hyphen;
}

/* Returns whether a syntactically valid macro string ends with a macro-expand. */
static gboolean
op_spf_ends_with_macro(const char *text)
{
	gboolean last_was_macro = FALSE;

	for (const char *p = text; *p != '\0';) {
		if (*p != '%') {
			last_was_macro = FALSE;
			p++;
			continue;
		}
		last_was_macro = TRUE;
		if (p[1] == '{')
			p = strchr(p, '}') + 1;
		else
			p += 2;
	}
	return last_was_macro;
}

/* Checks domain-spec = macro-string domain-end (RFC 7208 §7.1). */
static gboolean
op_spf_check_domain_spec(const char *spec, const char *term, GError **error)
{
	g_autofree char *checked = NULL;
	gsize length = strlen(spec);
	const char *dot;

	if (length == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid SPF term \"%s\": the domain is empty", term);
		return FALSE;
	}
	checked = op_spf_macro_expand(spec, NULL, FALSE, error);
	if (checked == NULL) {
		g_prefix_error(error, "invalid SPF term \"%s\": ", term);
		return FALSE;
	}
	if (op_spf_ends_with_macro(spec))
		return TRUE;
	if (spec[length - 1] == '.')
		length--;
	dot = g_strrstr_len(spec, length, ".");
	if (dot == NULL || !op_spf_is_toplabel(dot + 1, length - (dot + 1 - spec))) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid SPF term \"%s\": \"%s\" does not end in a valid top-level "
			    "label such as \".org\"", term, spec);
		return FALSE;
	}
	return TRUE;
}

/* Parses an ip4-network: four decimal octets without leading zeros (§12). */
static gboolean
op_spf_parse_ip4(const char *text, gsize length, guint8 *network)
{
	guint part = 0;
	gsize i = 0;

	while (part < 4) {
		gsize start = i;
		guint value = 0;

		while (i < length && g_ascii_isdigit(text[i]) && i - start < 3)
			value = value * 10 + (guint)(text[i++] - '0');
		if (i == start || value > 255 || (text[start] == '0' && i - start > 1))
			return FALSE;
		network[part++] = (guint8)value;
		if (part < 4) {
			if (i >= length || text[i] != '.')
				return FALSE;
			i++;
		}
	}
	return i == length;
}

static gboolean
op_spf_parse_ip6(const char *text, gsize length, guint8 *network)
{
	g_autofree char *copy = g_strndup(text, length);
	g_autoptr(GInetAddress) address = NULL;

	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isxdigit(copy[i]) && copy[i] != ':' && copy[i] != '.')
			return FALSE;
	}
	address = g_inet_address_new_from_string(copy);
	if (address == NULL || g_inet_address_get_family(address) != G_SOCKET_FAMILY_IPV6)
		return FALSE;
	memcpy(network, g_inet_address_to_bytes(address), 16);
	return TRUE;
}

static gboolean
op_spf_term_fail(const char *term, const char *reason, GError **error)
{
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT, "invalid SPF term \"%s\": %s",
		    term, reason);
	return FALSE;
}

/* Parses "ip4:NETWORK[/LEN]" or "ip6:NETWORK[/LEN]" after the mechanism name. */
static gboolean
op_spf_parse_ip_term(OpSpfTerm *term, const char *rest, GError **error)
{
	gboolean ip4 = term->kind == OP_SPF_TERM_IP4;
	gsize length = strlen(rest);
	gsize digits_length = 0;
	const char *digits;
	int *cidr = ip4 ? &term->cidr4 : &term->cidr6;

	if (rest[0] != ':')
		return op_spf_term_fail(term->text, "expected ':' and a network", error);
	rest++;
	length--;
	digits = op_spf_split_cidr(rest, &length, &digits_length);
	if (digits != NULL && !op_spf_parse_cidr(digits, digits_length, ip4 ? 32 : 128, cidr))
		return op_spf_term_fail(term->text, "invalid prefix length", error);
	if (ip4 ? !op_spf_parse_ip4(rest, length, term->network)
		: !op_spf_parse_ip6(rest, length, term->network)) {
		return op_spf_term_fail(term->text,
					ip4 ? "invalid IPv4 network" : "invalid IPv6 network",
					error);
	}
	return TRUE;
}

/* Parses the [":" domain-spec] [dual-cidr-length] of a, mx, ptr, include and
 * exists. The CIDR lengths come off the end first because a domain-spec may
 * itself contain '/' (RFC 7208 §12). */
static gboolean
op_spf_parse_target(OpSpfTerm *term, const char *rest, GError **error)
{
	gboolean dual_cidr = term->kind == OP_SPF_TERM_A || term->kind == OP_SPF_TERM_MX;
	gboolean required = term->kind == OP_SPF_TERM_INCLUDE ||
			    term->kind == OP_SPF_TERM_EXISTS;
	gsize length = strlen(rest);
	gsize digits_length = 0;
	const char *digits;

	if (dual_cidr) {
		digits = op_spf_split_cidr(rest, &length, &digits_length);
		if (digits != NULL && length > 0 && rest[length - 1] == '/') {
			length--;
			if (!op_spf_parse_cidr(digits, digits_length, 128, &term->cidr6))
				return op_spf_term_fail(term->text, "invalid IPv6 prefix length",
							error);
			digits = op_spf_split_cidr(rest, &length, &digits_length);
		}
		if (digits != NULL && !op_spf_parse_cidr(digits, digits_length, 32, &term->cidr4))
			return op_spf_term_fail(term->text, "invalid IPv4 prefix length", error);
	}
	if (length == 0) {
		if (required)
			return op_spf_term_fail(term->text, "a domain is required", error);
		return TRUE;
	}
	if (rest[0] != ':')
		return op_spf_term_fail(term->text, "expected ':' and a domain", error);
	term->domain_spec = g_strndup(rest + 1, length - 1);
	return op_spf_check_domain_spec(term->domain_spec, term->text, error);
}

/* Parses name "=" macro-string (RFC 7208 §6, §12), with the '=' at offset
 * @name_length of the term's text. */
static OpSpfTerm *
op_spf_parse_modifier(OpSpfTerm *owned, gsize name_length, GError **error)
{
	g_autoptr(OpSpfTerm) term = owned;
	const char *text = term->text;
	const char *equals = text + name_length;
	g_autofree char *checked = NULL;

	term->name = g_ascii_strdown(text, equals - text);
	term->domain_spec = g_strdup(equals + 1);
	if (!g_ascii_isalpha(text[0])) {
		op_spf_term_fail(text, "a modifier name starts with a letter", error);
		return NULL;
	}
	for (const char *p = text; p < equals; p++) {
		if (!g_ascii_isalnum(*p) && strchr("-_.", *p) == NULL) {
			op_spf_term_fail(text, "invalid character in the modifier name", error);
			return NULL;
		}
	}
	if (strcmp(term->name, "redirect") == 0 || strcmp(term->name, "exp") == 0) {
		term->kind = term->name[0] == 'r' ? OP_SPF_TERM_REDIRECT : OP_SPF_TERM_EXP;
		if (!op_spf_check_domain_spec(term->domain_spec, text, error))
			return NULL;
		return g_steal_pointer(&term);
	}
	term->kind = OP_SPF_TERM_UNKNOWN_MODIFIER;
	checked = op_spf_macro_expand(term->domain_spec, NULL, FALSE, error);
	if (checked == NULL) {
		g_prefix_error(error, "invalid SPF term \"%s\": ", text);
		return NULL;
	}
	return g_steal_pointer(&term);
}

static gboolean
op_spf_parse_mechanism(OpSpfTerm *term, const char *body, GError **error)
{
	gsize name_length = strcspn(body, ":/");

	for (gsize i = 0; i < G_N_ELEMENTS(op_spf_mechanisms); i++) {
		const char *name = op_spf_mechanisms[i].name;

		if (strlen(name) != name_length || g_ascii_strncasecmp(body, name, name_length) != 0)
			continue;
		term->kind = op_spf_mechanisms[i].kind;
		if (term->kind == OP_SPF_TERM_ALL) {
			if (body[name_length] != '\0')
				return op_spf_term_fail(term->text, "\"all\" takes no argument",
							error);
			return TRUE;
		}
		if (term->kind == OP_SPF_TERM_IP4 || term->kind == OP_SPF_TERM_IP6)
			return op_spf_parse_ip_term(term, body + name_length, error);
		if (term->kind == OP_SPF_TERM_PTR && body[name_length] == '/')
			return op_spf_term_fail(term->text, "\"ptr\" takes no prefix length",
						error);
		return op_spf_parse_target(term, body + name_length, error);
	}
	return op_spf_term_fail(term->text, "unknown mechanism", error);
}

OpSpfTerm *
op_spf_term_parse(const char *text, GError **error)
{
	g_autoptr(OpSpfTerm) term = g_new0(OpSpfTerm, 1);
	const char *body = text;
	gsize name_length;

	term->text = g_strdup(text);
	term->cidr4 = -1;
	term->cidr6 = -1;
	term->qualifier = OP_SPF_QUALIFIER_PASS;

	/* A modifier's name is followed by '='; a mechanism's by ':', '/' or nothing. */
	name_length = strcspn(text, "=:/");
	if (text[name_length] == '=' && name_length > 0)
		return op_spf_parse_modifier(g_steal_pointer(&term), name_length, error);

	switch (*body) {
	case '+':
		body++;
		break;
	case '-':
		term->qualifier = OP_SPF_QUALIFIER_FAIL;
		body++;
		break;
	case '~':
		term->qualifier = OP_SPF_QUALIFIER_SOFTFAIL;
		body++;
		break;
	case '?':
		term->qualifier = OP_SPF_QUALIFIER_NEUTRAL;
		body++;
		break;
	default:
		break;
	}
	if (!op_spf_parse_mechanism(term, body, error))
		return NULL;
	return g_steal_pointer(&term);
}

static void
op_spf_term_free_cb(gpointer term)
{
	op_spf_term_free(term);
}

OpSpfRecord *
op_spf_record_parse(const char *text, GError **error)
{
	g_autoptr(OpSpfRecord) record = g_new0(OpSpfRecord, 1);
	g_auto(GStrv) words = NULL;
	gboolean seen_redirect = FALSE;
	gboolean seen_exp = FALSE;

	record->terms = g_ptr_array_new_with_free_func(op_spf_term_free_cb);
	if (!op_spf_record_is_spf(text)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid SPF record: it must start with \"v=spf1\"");
		return NULL;
	}
	/* Terms are separated by one or more spaces, and only spaces (§12). */
	words = g_strsplit(text + 6, " ", -1);
	for (guint i = 0; words[i] != NULL; i++) {
		OpSpfTerm *term;

		if (words[i][0] == '\0')
			continue;
		term = op_spf_term_parse(words[i], error);
		if (term == NULL)
			return NULL;
		g_ptr_array_add(record->terms, term);
		if ((term->kind == OP_SPF_TERM_REDIRECT && seen_redirect) ||
		    (term->kind == OP_SPF_TERM_EXP && seen_exp)) {
			g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
				    "invalid SPF record: \"%s=\" appears more than once", term->name);
			return NULL;
		}
		seen_redirect |= term->kind == OP_SPF_TERM_REDIRECT;
		seen_exp |= term->kind == OP_SPF_TERM_EXP;
	}
	return g_steal_pointer(&record);
}

gboolean
op_spf_term_needs_lookup(const OpSpfTerm *term)
{
	switch (term->kind) {
	case OP_SPF_TERM_INCLUDE:
	case OP_SPF_TERM_A:
	case OP_SPF_TERM_MX:
	case OP_SPF_TERM_PTR:
	case OP_SPF_TERM_EXISTS:
	case OP_SPF_TERM_REDIRECT:
		return TRUE;
	default:
		return FALSE;
	}
}

static gboolean
op_spf_record_has_all(const OpSpfRecord *record)
{
	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		if (term->kind == OP_SPF_TERM_ALL)
			return TRUE;
	}
	return FALSE;
}

guint
op_spf_record_count_lookups(const OpSpfRecord *record)
{
	gboolean has_all = op_spf_record_has_all(record);
	guint count = 0;

	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		/* Mechanisms after "all" are never reached, and neither is redirect=
		 * in a record with "all" (RFC 7208 §5.1, §6.1). */
		if (term->kind == OP_SPF_TERM_ALL)
			break;
		if (term->kind == OP_SPF_TERM_REDIRECT && has_all)
			continue;
		if (op_spf_term_needs_lookup(term))
			count++;
	}
	return count;
}

const OpSpfTerm *
op_spf_record_get_modifier(const OpSpfRecord *record, const char *name)
{
	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		if (term->name != NULL && g_ascii_strcasecmp(term->name, name) == 0)
			return term;
	}
	return NULL;
}

/* Compares the first @prefix bits of two addresses. */
static gboolean
op_spf_prefix_equal(const guint8 *a, const guint8 *b, int prefix)
{
	int whole = prefix / 8;
	int bits = prefix % 8;
	guint8 mask;

	if (memcmp(a, b, whole) != 0)
		return FALSE;
	if (bits == 0)
		return TRUE;
	mask = (guint8)(0xff << (8 - bits));
	return (a[whole] & mask) == (b[whole] & mask);
}

/* Returns the 4 or 16 octets of @address and sets *ipv4. An IPv4-mapped IPv6
 * address is taken as IPv4 (RFC 7208 §5). */
static const guint8 *
op_spf_address_bytes(GInetAddress *address, gboolean *ipv4)
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const guint8 *bytes = g_inet_address_to_bytes(address);

	*ipv4 = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4;
	if (!*ipv4 && memcmp(bytes, mapped, sizeof(mapped)) == 0) {
		*ipv4 = TRUE;
		return bytes + 12;
	}
	return bytes;
}

gboolean
op_spf_term_matches_address(const OpSpfTerm *term, GInetAddress *address)
{
	gboolean ipv4;
	const guint8 *bytes = op_spf_address_bytes(address, &ipv4);

	if (term->kind == OP_SPF_TERM_IP4 && ipv4)
		return op_spf_prefix_equal(term->network, bytes,
					   term->cidr4 >= 0 ? term->cidr4 : 32);
	if (term->kind == OP_SPF_TERM_IP6 && !ipv4)
		return op_spf_prefix_equal(term->network, bytes,
					   term->cidr6 >= 0 ? term->cidr6 : 128);
	return FALSE;
}

const OpSpfTerm *
op_spf_record_find_address_term(const OpSpfRecord *record, GInetAddress *address)
{
	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		if (term->kind == OP_SPF_TERM_ALL)
			return NULL;
		if (op_spf_term_matches_address(term, address))
			return term;
	}
	return NULL;
}

gboolean
op_spf_record_covers_address(const OpSpfRecord *record, GInetAddress *address)
{
	const OpSpfTerm *term = op_spf_record_find_address_term(record, address);

	return term != NULL && term->qualifier == OP_SPF_QUALIFIER_PASS;
}

static int
op_spf_term_prefix(const OpSpfTerm *term)
{
	if (term->kind == OP_SPF_TERM_IP4)
		return term->cidr4 >= 0 ? term->cidr4 : 32;
	return term->cidr6 >= 0 ? term->cidr6 : 128;
}

/* Returns whether @have makes @needed redundant: the same term, or for ip4/ip6
 * a "+" network that contains the needed one. */
static gboolean
op_spf_term_covers(const OpSpfTerm *have, const OpSpfTerm *needed)
{
	if (have->kind != needed->kind || have->qualifier != needed->qualifier)
		return FALSE;
	switch (needed->kind) {
	case OP_SPF_TERM_IP4:
	case OP_SPF_TERM_IP6:
		return op_spf_term_prefix(have) <= op_spf_term_prefix(needed) &&
		       op_spf_prefix_equal(have->network, needed->network,
					   op_spf_term_prefix(have));
	default:
		return have->cidr4 == needed->cidr4 && have->cidr6 == needed->cidr6 &&
		       g_strcmp0(have->name, needed->name) == 0 &&
		       (have->domain_spec == needed->domain_spec ||
			(have->domain_spec != NULL && needed->domain_spec != NULL &&
			 g_ascii_strcasecmp(have->domain_spec, needed->domain_spec) == 0));
	}
}

/* Returns the index before which new terms go: the first "all", else redirect=,
 * else the end. */
static guint
op_spf_record_insert_position(const OpSpfRecord *record)
{
	guint redirect = record->terms->len;

	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		if (term->kind == OP_SPF_TERM_ALL)
			return i;
		if (term->kind == OP_SPF_TERM_REDIRECT)
			redirect = i;
	}
	return redirect;
}

static gboolean
op_spf_record_has_term(const OpSpfRecord *record, guint before, const OpSpfTerm *needed)
{
	for (guint i = 0; i < before; i++) {
		if (op_spf_term_covers(g_ptr_array_index(record->terms, i), needed))
			return TRUE;
	}
	return FALSE;
}

static OpSpfTerm *
op_spf_parse_needed_term(const char *text, GError **error)
{
	g_autoptr(OpSpfTerm) term = op_spf_term_parse(text, error);

	if (term == NULL)
		return NULL;
	if (term->kind == OP_SPF_TERM_ALL || term->name != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "cannot merge \"%s\" into an SPF record: only mechanisms other than "
			    "\"all\" can be added", text);
		return NULL;
	}
	return g_steal_pointer(&term);
}

char *
op_spf_record_merge(const char *existing, const char *const *needed_terms, guint *added_count,
		    GError **error)
{
	g_autoptr(OpSpfRecord) record = NULL;
	GString *merged;
	guint position;
	guint added = 0;

	if (existing == NULL || *existing == '\0')
		existing = "v=spf1 ~all";
	record = op_spf_record_parse(existing, error);
	if (record == NULL)
		return NULL;
	if (!op_spf_record_has_all(record) &&
	    op_spf_record_get_modifier(record, "redirect") == NULL)
		g_ptr_array_add(record->terms, op_spf_term_parse("~all", NULL));

	/* NOTE: a needed ip4/ip6 term goes before "all" even when an earlier "-" or
	 * "~" term already matches the address; that earlier term still wins. */
	position = op_spf_record_insert_position(record);
	for (guint i = 0; needed_terms != NULL && needed_terms[i] != NULL; i++) {
		OpSpfTerm *term = op_spf_parse_needed_term(needed_terms[i], error);

		if (term == NULL)
			return NULL;
		if (op_spf_record_has_term(record, position, term)) {
			op_spf_term_free(term);
			continue;
		}
		g_ptr_array_insert(record->terms, (gint)position++, term);
		added++;
	}

	merged = g_string_new("v=spf1");
	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		g_string_append_printf(merged, " %s", term->text);
	}
	if (added_count != NULL)
		*added_count = added;
	return g_string_free(merged, FALSE);
}
