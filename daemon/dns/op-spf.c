/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * check_host() of RFC 7208: record lookup and selection (§4), the mechanisms
 * (§5), redirect= and exp= (§6), macros (§7) and the processing limits (§4.6.4).
 * All DNS goes through an OpSpfLookup.
 */
#include "dns/op-spf.h"

#include <string.h>

#include "dns/op-spf-macro.h"
#include "op-error.h"

/* Limits of RFC 7208 §4.6.4. */
#define OP_SPF_MAX_VOID_LOOKUPS 2
#define OP_SPF_MAX_MX_NAMES 10
#define OP_SPF_MAX_PTR_NAMES 10
/* The longest domain name in text form without the trailing dot (§7.3). */
#define OP_SPF_MAX_NAME_LENGTH 253

typedef enum {
	OP_SPF_NO_MATCH,
	OP_SPF_MATCH,
	OP_SPF_MATCH_ERROR,
} OpSpfMatch;

/* The state of one check_host() call, shared by its includes and redirects. */
typedef struct {
	const OpSpfLookup *lookup;
	GInetAddress *ip; /* IPv4 for an IPv4-mapped IPv6 client */
	gboolean ipv4;
	char *sender;
	char *local_part;
	char *sender_domain;
	const char *helo;
	guint lookups;
	guint void_lookups;
} OpSpfEval;

/* What the %{p} macro needs: the evaluation and the current domain. */
typedef struct {
	OpSpfEval *eval;
	const char *domain;
} OpSpfMacroData;

static OpSpfResult op_spf_check_domain(OpSpfEval *eval, const char *domain,
				       char **explanation, GError **error);

static const char *const op_spf_result_names[] = {
	[OP_SPF_RESULT_NONE] = "none",		 [OP_SPF_RESULT_NEUTRAL] = "neutral",
	[OP_SPF_RESULT_PASS] = "pass",		 [OP_SPF_RESULT_FAIL] = "fail",
	[OP_SPF_RESULT_SOFTFAIL] = "softfail",	 [OP_SPF_RESULT_TEMPERROR] = "temperror",
	[OP_SPF_RESULT_PERMERROR] = "permerror",
};

const char *
op_spf_result_to_string(OpSpfResult result)
{
	if ((guint)result >= G_N_ELEMENTS(op_spf_result_names))
		return "unknown";
	return op_spf_result_names[result];
}

gboolean
op_spf_result_from_string(const char *text, OpSpfResult *result)
{
	for (guint i = 0; i < G_N_ELEMENTS(op_spf_result_names); i++) {
		if (g_ascii_strcasecmp(text, op_spf_result_names[i]) == 0) {
			*result = (OpSpfResult)i;
			return TRUE;
		}
	}
	return FALSE;
}

static OpSpfMatch
op_spf_permerror(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static OpSpfMatch
op_spf_permerror(GError **error, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	g_propagate_error(error, g_error_new_valist(OP_ERROR, OP_ERROR_PERMANENT, format, args));
	va_end(args);
	return OP_SPF_MATCH_ERROR;
}

static OpSpfResult
op_spf_error_result(const GError *error)
{
	return g_error_matches(error, OP_ERROR, OP_ERROR_TEMPORARY) ? OP_SPF_RESULT_TEMPERROR
								     : OP_SPF_RESULT_PERMERROR;
}

/* Checks the domain of check_host() (RFC 7208 §4.3): labels of 1..63 letters,
 * digits, hyphens and underscores, at most 253 octets in all, and at least two
 * labels. A domain literal such as "[192.0.2.1]" is malformed. */
static gboolean
op_spf_domain_is_valid(const char *domain)
{
	gsize length = strlen(domain);
	gsize label = 0;
	guint labels = 0;

	if (length > 0 && domain[length - 1] == '.')
		length--;
	if (length == 0 || length > OP_SPF_MAX_NAME_LENGTH)
		return FALSE;
	for (gsize i = 0; i <= length; i++) {
		if (i < length && domain[i] != '.') {
			if (!g_ascii_isalnum(domain[i]) && domain[i] != '-' && domain[i] != '_')
				return FALSE;
			label++;
			continue;
		}
		if (label == 0 || label > 63)
			return FALSE;
		labels++;
		label = 0;
	}
	return labels >= 2;
}

/* Returns whether @name is @domain or a subdomain of it, ignoring case and a
 * trailing dot on either. */
static gboolean
op_spf_name_is_within(const char *name, const char *domain)
{
	gsize name_length = strlen(name);
	gsize domain_length = strlen(domain);

	if (name_length > 0 && name[name_length - 1] == '.')
		name_length--;
	if (domain_length > 0 && domain[domain_length - 1] == '.')
		domain_length--;
	if (domain_length == 0 || name_length < domain_length)
		return FALSE;
	if (g_ascii_strncasecmp(name + name_length - domain_length, domain, domain_length) != 0)
		return FALSE;
	return name_length == domain_length || name[name_length - domain_length - 1] == '.';
}

static gboolean
op_spf_name_equal(const char *a, const char *b)
{
	return op_spf_name_is_within(a, b) && op_spf_name_is_within(b, a);
}

/* Runs one lookup. NXDOMAIN and other non-temporary errors become an empty
 * answer, which counts as a void lookup when @count_void is set (§4.6.4). */
static GPtrArray *
op_spf_query(OpSpfEval *eval, GPtrArray *(*lookup)(gpointer, const char *, GError **),
	     const char *name, gboolean count_void, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	GPtrArray *answer = lookup(eval->lookup->user_data, name, &local_error);

	if (answer == NULL && g_error_matches(local_error, OP_ERROR, OP_ERROR_TEMPORARY)) {
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY, "DNS lookup of %s failed: %s",
			    name, local_error->message);
		return NULL;
	}
	if (answer == NULL)
		answer = g_ptr_array_new();
	if (answer->len == 0 && count_void &&
	    ++eval->void_lookups > OP_SPF_MAX_VOID_LOOKUPS) {
		g_ptr_array_unref(answer);
		op_spf_permerror(error, "more than %d DNS lookups found nothing (the last for %s)",
				 OP_SPF_MAX_VOID_LOOKUPS, name);
		return NULL;
	}
	return answer;
}

/* Looks up the addresses of @name in the family of the client address (§5). */
static GPtrArray *
op_spf_query_addresses(OpSpfEval *eval, const char *name, gboolean count_void, GError **error)
{
	return op_spf_query(eval, eval->ipv4 ? eval->lookup->lookup_a : eval->lookup->lookup_aaaa,
			    name, count_void, error);
}

/* Returns whether one of @addresses is in the same network as the client for
 * the prefix lengths of @term (§5.6). */
static gboolean
op_spf_addresses_match(OpSpfEval *eval, GPtrArray *addresses, const OpSpfTerm *term)
{
	OpSpfTerm network = {
		.kind = eval->ipv4 ? OP_SPF_TERM_IP4 : OP_SPF_TERM_IP6,
		.cidr4 = term->cidr4,
		.cidr6 = term->cidr6,
	};

	for (guint i = 0; i < addresses->len; i++) {
		GInetAddress *address = g_ptr_array_index(addresses, i);

		if (g_inet_address_get_family(address) !=
		    (eval->ipv4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6))
			continue;
		memcpy(network.network, g_inet_address_to_bytes(address),
		       g_inet_address_get_native_size(address));
		if (op_spf_term_matches_address(&network, eval->ip))
			return TRUE;
	}
	return FALSE;
}

/* Returns the names of the client's PTR records that resolve back to it (§5.5).
 * Only the first 10 names are tried, and DNS errors skip a name. */
static GPtrArray *
op_spf_dup_validated_names(OpSpfEval *eval, gboolean count_void, GError **error)
{
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GError) local_error = NULL;
	GPtrArray *validated = g_ptr_array_new_with_free_func(g_free);

	names = eval->lookup->lookup_ptr(eval->lookup->user_data, eval->ip, &local_error);
	if ((names == NULL || names->len == 0) && count_void &&
	    ++eval->void_lookups > OP_SPF_MAX_VOID_LOOKUPS) {
		g_ptr_array_unref(validated);
		op_spf_permerror(error, "more than %d DNS lookups found nothing (the last for "
				 "the PTR record of the client)", OP_SPF_MAX_VOID_LOOKUPS);
		return NULL;
	}
	for (guint i = 0; names != NULL && i < MIN(names->len, OP_SPF_MAX_PTR_NAMES); i++) {
		const char *name = g_ptr_array_index(names, i);
		g_autoptr(GPtrArray) addresses = op_spf_query_addresses(eval, name, FALSE, NULL);
		OpSpfTerm exact = {.cidr4 = -1, .cidr6 = -1};

		if (addresses != NULL && op_spf_addresses_match(eval, addresses, &exact))
			g_ptr_array_add(validated, g_strdup(name));
	}
	return validated;
}

/* Returns the value of %{p} (§7.3): a validated name equal to the domain, else
 * one within it, else any validated name, else NULL for "unknown". */
static char *
op_spf_dup_macro_p(gpointer user_data)
{
	OpSpfMacroData *data = user_data;
	g_autoptr(GPtrArray) names = op_spf_dup_validated_names(data->eval, FALSE, NULL);
	const char *best = NULL;

	for (guint i = 0; names != NULL && i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);

		if (op_spf_name_equal(name, data->domain))
			return g_strdup(name);
		if (best == NULL || (op_spf_name_is_within(name, data->domain) &&
				     !op_spf_name_is_within(best, data->domain)))
			best = name;
	}
	return g_strdup(best);
}

static void
op_spf_macro_context_init(OpSpfEval *eval, OpSpfMacroData *data, const char *domain,
			  OpSpfMacroContext *context)
{
	data->eval = eval;
	data->domain = domain;
	*context = (OpSpfMacroContext){
		.sender = eval->sender,
		.local_part = eval->local_part,
		.sender_domain = eval->sender_domain,
		.domain = domain,
		.ip = eval->ip,
		.helo = eval->helo,
		.dup_validated_name = op_spf_dup_macro_p,
		.user_data = data,
	};
}

/* Expands a domain-spec and shortens the result from the left, label by label,
 * until it fits in 253 octets (§7.3). */
static char *
op_spf_expand_domain(OpSpfEval *eval, const char *domain, const char *spec, GError **error)
{
	OpSpfMacroData data;
	OpSpfMacroContext context;
	g_autofree char *expanded = NULL;
	const char *start;

	op_spf_macro_context_init(eval, &data, domain, &context);
	expanded = op_spf_macro_expand(spec, &context, FALSE, error);
	if (expanded == NULL) {
		g_prefix_error(error, "invalid SPF record of %s: ", domain);
		return NULL;
	}
	start = expanded;
	while (strlen(start) > OP_SPF_MAX_NAME_LENGTH && strchr(start, '.') != NULL)
		start = strchr(start, '.') + 1;
	return g_strdup(start);
}

/* Returns the target of a mechanism: its expanded domain-spec, or @domain. */
static char *
op_spf_dup_target(OpSpfEval *eval, const char *domain, const OpSpfTerm *term, GError **error)
{
	if (term->domain_spec == NULL)
		return g_strdup(domain);
	return op_spf_expand_domain(eval, domain, term->domain_spec, error);
}

static gboolean
op_spf_count_lookup(OpSpfEval *eval, const char *domain, const OpSpfTerm *term,
		    GError **error)
{
	if (++eval->lookups <= OP_SPF_MAX_DNS_LOOKUPS)
		return TRUE;
	op_spf_permerror(error, "the SPF evaluation needs more than %d DNS lookups, the limit "
			 "of RFC 7208: remove \"%s\" from the record of %s or flatten an include",
			 OP_SPF_MAX_DNS_LOOKUPS, term->text, domain);
	return FALSE;
}

static OpSpfMatch
op_spf_match_a(OpSpfEval *eval, const char *target, const OpSpfTerm *term, GError **error)
{
	g_autoptr(GPtrArray) addresses = op_spf_query_addresses(eval, target, TRUE, error);

	if (addresses == NULL)
		return OP_SPF_MATCH_ERROR;
	return op_spf_addresses_match(eval, addresses, term) ? OP_SPF_MATCH : OP_SPF_NO_MATCH;
}

/* The mx mechanism (§5.4): no implicit MX, and more than 10 MX names is a
 * permerror (§4.6.4). */
static OpSpfMatch
op_spf_match_mx(OpSpfEval *eval, const char *target, const OpSpfTerm *term, GError **error)
{
	g_autoptr(GPtrArray) exchanges = op_spf_query(eval, eval->lookup->lookup_mx, target,
						      TRUE, error);

	if (exchanges == NULL)
		return OP_SPF_MATCH_ERROR;
	if (exchanges->len > OP_SPF_MAX_MX_NAMES)
		return op_spf_permerror(error, "%s has %u MX records, more than the %d that "
					"\"%s\" may look up", target, exchanges->len,
					OP_SPF_MAX_MX_NAMES, term->text);
	for (guint i = 0; i < exchanges->len; i++) {
		g_autoptr(GPtrArray) addresses = NULL;

		addresses = op_spf_query_addresses(eval, g_ptr_array_index(exchanges, i), FALSE,
						   error);
		if (addresses == NULL)
			return OP_SPF_MATCH_ERROR;
		if (op_spf_addresses_match(eval, addresses, term))
			return OP_SPF_MATCH;
	}
	return OP_SPF_NO_MATCH;
}

/* The ptr mechanism (§5.5): a DNS error on the PTR lookup is no match. */
static OpSpfMatch
op_spf_match_ptr(OpSpfEval *eval, const char *target, GError **error)
{
	g_autoptr(GPtrArray) names = op_spf_dup_validated_names(eval, TRUE, error);

	if (names == NULL)
		return OP_SPF_MATCH_ERROR;
	for (guint i = 0; i < names->len; i++) {
		if (op_spf_name_is_within(g_ptr_array_index(names, i), target))
			return OP_SPF_MATCH;
	}
	return OP_SPF_NO_MATCH;
}

/* The exists mechanism (§5.7) always looks up A records, whatever the client. */
static OpSpfMatch
op_spf_match_exists(OpSpfEval *eval, const char *target, GError **error)
{
	g_autoptr(GPtrArray) addresses = op_spf_query(eval, eval->lookup->lookup_a, target,
						      TRUE, error);

	if (addresses == NULL)
		return OP_SPF_MATCH_ERROR;
	return addresses->len > 0 ? OP_SPF_MATCH : OP_SPF_NO_MATCH;
}

/* The include mechanism (§5.2): pass matches, fail, softfail and neutral do not,
 * errors propagate and a target without a record is a permerror. */
static OpSpfMatch
op_spf_match_include(OpSpfEval *eval, const char *target, const OpSpfTerm *term,
		     GError **error)
{
	OpSpfResult result = op_spf_check_domain(eval, target, NULL, error);

	switch (result) {
	case OP_SPF_RESULT_PASS:
		return OP_SPF_MATCH;
	case OP_SPF_RESULT_NONE:
		return op_spf_permerror(error, "\"%s\" names %s, which has no SPF record",
					term->text, target);
	case OP_SPF_RESULT_TEMPERROR:
	case OP_SPF_RESULT_PERMERROR:
		return OP_SPF_MATCH_ERROR;
	default:
		return OP_SPF_NO_MATCH;
	}
}

static OpSpfMatch
op_spf_match_term(OpSpfEval *eval, const char *domain, const OpSpfTerm *term, GError **error)
{
	g_autofree char *target = NULL;

	if (term->kind == OP_SPF_TERM_ALL)
		return OP_SPF_MATCH;
	if (term->kind == OP_SPF_TERM_IP4 || term->kind == OP_SPF_TERM_IP6)
		return op_spf_term_matches_address(term, eval->ip) ? OP_SPF_MATCH
								    : OP_SPF_NO_MATCH;
	if (!op_spf_count_lookup(eval, domain, term, error))
		return OP_SPF_MATCH_ERROR;
	target = op_spf_dup_target(eval, domain, term, error);
	if (target == NULL)
		return OP_SPF_MATCH_ERROR;

	switch (term->kind) {
	case OP_SPF_TERM_INCLUDE:
		return op_spf_match_include(eval, target, term, error);
	case OP_SPF_TERM_A:
		return op_spf_match_a(eval, target, term, error);
	case OP_SPF_TERM_MX:
		return op_spf_match_mx(eval, target, term, error);
	case OP_SPF_TERM_PTR:
		return op_spf_match_ptr(eval, target, error);
	case OP_SPF_TERM_EXISTS:
		return op_spf_match_exists(eval, target, error);
	default:
		return OP_SPF_NO_MATCH;
	}
}

/* Looks up and parses the SPF record of @domain (§4.4-§4.6). Returns NULL with
 * *result set to none, temperror or permerror when there is no usable record. */
static OpSpfRecord *
op_spf_load_record(OpSpfEval *eval, const char *domain, OpSpfResult *result, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GPtrArray) texts = NULL;
	const char *text;
	OpSpfRecord *record;

	*result = OP_SPF_RESULT_NONE;
	if (!op_spf_domain_is_valid(domain))
		return NULL;
	texts = eval->lookup->lookup_txt(eval->lookup->user_data, domain, &local_error);
	if (texts == NULL) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_TEMPORARY)) {
			*result = OP_SPF_RESULT_TEMPERROR;
			g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
				    "DNS lookup of the SPF record of %s failed: %s", domain,
				    local_error->message);
		}
		return NULL;
	}
	text = op_spf_record_select(texts, domain, &local_error);
	if (text == NULL) {
		if (g_error_matches(local_error, OP_ERROR, OP_ERROR_PERMANENT)) {
			*result = OP_SPF_RESULT_PERMERROR;
			g_propagate_error(error, g_steal_pointer(&local_error));
		}
		return NULL;
	}
	record = op_spf_record_parse(text, error);
	if (record == NULL) {
		*result = OP_SPF_RESULT_PERMERROR;
		g_prefix_error(error, "the SPF record of %s is invalid: ", domain);
	}
	return record;
}

/* Returns the text of exp= for a fail, or NULL when any step of §6.2 fails. */
static char *
op_spf_dup_explanation(OpSpfEval *eval, const char *domain, const OpSpfRecord *record)
{
	const OpSpfTerm *exp = op_spf_record_get_modifier(record, "exp");
	g_autofree char *target = NULL;
	g_autoptr(GPtrArray) texts = NULL;
	OpSpfMacroData data;
	OpSpfMacroContext context;

	if (exp == NULL)
		return NULL;
	target = op_spf_expand_domain(eval, domain, exp->domain_spec, NULL);
	if (target == NULL || !op_spf_domain_is_valid(target))
		return NULL;
	texts = eval->lookup->lookup_txt(eval->lookup->user_data, target, NULL);
	if (texts == NULL || texts->len != 1)
		return NULL;
	op_spf_macro_context_init(eval, &data, domain, &context);
	return op_spf_macro_expand(g_ptr_array_index(texts, 0), &context, TRUE, NULL);
}

static OpSpfResult
op_spf_result_for(OpSpfQualifier qualifier)
{
	switch (qualifier) {
	case OP_SPF_QUALIFIER_FAIL:
		return OP_SPF_RESULT_FAIL;
	case OP_SPF_QUALIFIER_SOFTFAIL:
		return OP_SPF_RESULT_SOFTFAIL;
	case OP_SPF_QUALIFIER_NEUTRAL:
		return OP_SPF_RESULT_NEUTRAL;
	default:
		return OP_SPF_RESULT_PASS;
	}
}

/* Follows redirect= (§6.1): the target's result, with the target's exp=, and a
 * target without a record is a permerror. */
static OpSpfResult
op_spf_follow_redirect(OpSpfEval *eval, const char *domain, const OpSpfTerm *redirect,
		       char **explanation, GError **error)
{
	g_autofree char *target = NULL;
	OpSpfResult result;

	if (!op_spf_count_lookup(eval, domain, redirect, error))
		return OP_SPF_RESULT_PERMERROR;
	target = op_spf_expand_domain(eval, domain, redirect->domain_spec, error);
	if (target == NULL)
		return OP_SPF_RESULT_PERMERROR;
	result = op_spf_check_domain(eval, target, explanation, error);
	if (result == OP_SPF_RESULT_NONE) {
		op_spf_permerror(error, "\"%s\" in the record of %s names %s, which has no SPF "
				 "record", redirect->text, domain, target);
		return OP_SPF_RESULT_PERMERROR;
	}
	return result;
}

/* Evaluates the record of @domain (§4.6). @explanation is NULL inside an include,
 * whose exp= must not be used (§6.2). */
static OpSpfResult
op_spf_check_domain(OpSpfEval *eval, const char *domain, char **explanation, GError **error)
{
	g_autoptr(OpSpfRecord) record = NULL;
	const OpSpfTerm *redirect;
	OpSpfResult result;

	record = op_spf_load_record(eval, domain, &result, error);
	if (record == NULL)
		return result;

	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);
		OpSpfMatch match;

		if (term->name != NULL)
			continue;
		match = op_spf_match_term(eval, domain, term, error);
		if (match == OP_SPF_MATCH_ERROR)
			return op_spf_error_result(*error);
		if (match == OP_SPF_NO_MATCH)
			continue;
		result = op_spf_result_for(term->qualifier);
		if (result == OP_SPF_RESULT_FAIL && explanation != NULL)
			*explanation = op_spf_dup_explanation(eval, domain, record);
		return result;
	}

	/* No mechanism matched, so the record has no "all" and redirect= applies. */
	redirect = op_spf_record_get_modifier(record, "redirect");
	if (redirect != NULL)
		return op_spf_follow_redirect(eval, domain, redirect, explanation, error);
	return OP_SPF_RESULT_NEUTRAL;
}

/* Splits @sender into local part and domain. A missing local part becomes
 * "postmaster" and a missing domain @domain (§4.3). */
static void
op_spf_eval_set_sender(OpSpfEval *eval, const char *sender, const char *domain)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;

	if (sender == NULL || *sender == '\0') {
		eval->local_part = g_strdup("postmaster");
		eval->sender_domain = g_strdup(domain);
	} else if (at == NULL) {
		eval->local_part = g_strdup("postmaster");
		eval->sender_domain = g_strdup(sender);
	} else {
		eval->local_part = at == sender ? g_strdup("postmaster")
						: g_strndup(sender, at - sender);
		eval->sender_domain = g_strdup(at[1] != '\0' ? at + 1 : domain);
	}
	eval->sender = g_strdup_printf("%s@%s", eval->local_part, eval->sender_domain);
}

/* Returns @ip, or the IPv4 address inside an IPv4-mapped IPv6 address, which
 * RFC 7208 §5 treats as IPv4. */
static GInetAddress *
op_spf_normalize_ip(GInetAddress *ip)
{
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const guint8 *bytes = g_inet_address_to_bytes(ip);

	if (g_inet_address_get_family(ip) == G_SOCKET_FAMILY_IPV6 &&
	    memcmp(bytes, mapped, sizeof(mapped)) == 0)
		return g_inet_address_new_from_bytes(bytes + 12, G_SOCKET_FAMILY_IPV4);
	return g_object_ref(ip);
}

OpSpfResult
op_spf_check_host(const OpSpfLookup *lookup, GInetAddress *ip, const char *domain,
		  const char *sender, const char *helo, char **explanation, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	OpSpfEval eval = {.lookup = lookup, .helo = helo != NULL ? helo : "unknown"};
	OpSpfResult result;

	g_return_val_if_fail(lookup != NULL, OP_SPF_RESULT_TEMPERROR);
	g_return_val_if_fail(G_IS_INET_ADDRESS(ip), OP_SPF_RESULT_TEMPERROR);
	g_return_val_if_fail(domain != NULL, OP_SPF_RESULT_TEMPERROR);

	if (explanation != NULL)
		*explanation = NULL;
	eval.ip = op_spf_normalize_ip(ip);
	eval.ipv4 = g_inet_address_get_family(eval.ip) == G_SOCKET_FAMILY_IPV4;
	op_spf_eval_set_sender(&eval, sender, domain);

	result = op_spf_check_domain(&eval, domain, explanation, &local_error);
	if (result == OP_SPF_RESULT_TEMPERROR || result == OP_SPF_RESULT_PERMERROR) {
		if (local_error == NULL)
			local_error = g_error_new(OP_ERROR, OP_ERROR_FAILED, "SPF %s for %s",
						  op_spf_result_to_string(result), domain);
		/* Macro and syntax errors come up as INVALID_ARGUMENT, but the caller
		 * gets one code per result. */
		local_error->code = result == OP_SPF_RESULT_TEMPERROR ? OP_ERROR_TEMPORARY
								      : OP_ERROR_PERMANENT;
		g_propagate_error(error, g_steal_pointer(&local_error));
	}
	g_object_unref(eval.ip);
	g_free(eval.sender);
	g_free(eval.local_part);
	g_free(eval.sender_domain);
	return result;
}
