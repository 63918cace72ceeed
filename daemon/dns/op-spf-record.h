/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SPF records (RFC 7208) as data: parsing "v=spf1 ..." into terms, counting the
 * terms that cost a DNS lookup, merging the terms a server needs into a record
 * an admin already publishes, and matching an address against ip4/ip6 terms.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The limit on terms that cause DNS queries in one evaluation (RFC 7208 §4.6.4). */
#define OP_SPF_MAX_DNS_LOOKUPS 10

typedef enum {
	OP_SPF_QUALIFIER_PASS,     /* "+" or none */
	OP_SPF_QUALIFIER_FAIL,     /* "-" */
	OP_SPF_QUALIFIER_SOFTFAIL, /* "~" */
	OP_SPF_QUALIFIER_NEUTRAL,  /* "?" */
} OpSpfQualifier;

typedef enum {
	OP_SPF_TERM_ALL,
	OP_SPF_TERM_INCLUDE,
	OP_SPF_TERM_A,
	OP_SPF_TERM_MX,
	OP_SPF_TERM_PTR,
	OP_SPF_TERM_IP4,
	OP_SPF_TERM_IP6,
	OP_SPF_TERM_EXISTS,
	/* Modifiers (RFC 7208 §6). They carry no qualifier. */
	OP_SPF_TERM_REDIRECT,
	OP_SPF_TERM_EXP,
	OP_SPF_TERM_UNKNOWN_MODIFIER,
} OpSpfTermKind;

/* One term of a record. Unset CIDR lengths are -1, and the evaluator then uses
 * 32 and 128 (RFC 7208 §5.6). */
typedef struct {
	OpSpfTermKind kind;
	OpSpfQualifier qualifier;
	char *text;        /* the term as written in the record */
	char *name;        /* modifier name in lower case, NULL for mechanisms */
	char *domain_spec; /* unexpanded domain-spec or modifier value, NULL when absent */
	guint8 network[16]; /* ip4 (first 4 octets) or ip6 network, host bits as written */
	int cidr4;         /* ip4 prefix, or the IPv4 prefix of a and mx */
	int cidr6;         /* ip6 prefix, or the IPv6 prefix of a and mx */
} OpSpfTerm;

typedef struct {
	GPtrArray *terms; /* OpSpfTerm*, in record order */
} OpSpfRecord;

void op_spf_term_free(OpSpfTerm *term);
void op_spf_record_free(OpSpfRecord *record);

/* Returns whether @text is an SPF record: "v=spf1" in any case, followed by a
 * space or the end (RFC 7208 §4.5). */
gboolean op_spf_record_is_spf(const char *text);

/* Selects the SPF record among the TXT strings of a domain (RFC 7208 §4.5).
 * Returns the borrowed string, or NULL with OP_ERROR_NOT_FOUND when there is
 * none and OP_ERROR_PERMANENT when there is more than one. */
const char *op_spf_record_select(GPtrArray *texts, const char *domain, GError **error);

/* Parses an SPF record (RFC 7208 §4.6, ABNF of §12). A syntax error fails with
 * OP_ERROR_INVALID_ARGUMENT and a sentence naming the term. Unknown modifiers
 * are kept, and a repeated redirect= or exp= is an error (§6). */
OpSpfRecord *op_spf_record_parse(const char *text, GError **error);

/* Parses one term, such as "ip4:192.0.2.10" or "a:mail.example.org". */
OpSpfTerm *op_spf_term_parse(const char *text, GError **error);

/* Returns whether the term costs a DNS lookup: include, a, mx, ptr, exists and
 * redirect do (RFC 7208 §4.6.4). */
gboolean op_spf_term_needs_lookup(const OpSpfTerm *term);

/* Counts the terms of @record alone that cost a DNS lookup and can be reached:
 * terms after "all", and redirect= in a record with "all", never are (RFC 7208
 * §5.1, §6.1). Records reached through include and redirect are not counted
 * here: op_spf_count_lookups() in op-spf.h follows them. */
guint op_spf_record_count_lookups(const OpSpfRecord *record);

/* Returns the modifier named @name ("redirect", "exp", lower case), or NULL. */
const OpSpfTerm *op_spf_record_get_modifier(const OpSpfRecord *record, const char *name);

/* Returns whether an ip4 or ip6 term contains @address. An IPv4-mapped IPv6
 * address counts as IPv4 (RFC 7208 §5). Other kinds never match. */
gboolean op_spf_term_matches_address(const OpSpfTerm *term, GInetAddress *address);

/* Returns the first ip4 or ip6 term before the first "all" that contains
 * @address, whatever its qualifier, or NULL. */
const OpSpfTerm *op_spf_record_find_address_term(const OpSpfRecord *record,
						 GInetAddress *address);

/* Returns whether @address passes through an ip4 or ip6 term: the first such
 * term containing it comes before any "all" and has the "+" qualifier. */
gboolean op_spf_record_covers_address(const OpSpfRecord *record, GInetAddress *address);

/* Merges @needed_terms (NULL-terminated, e.g. "ip4:192.0.2.10",
 * "ip6:2001:db8::10", "a:mail.example.org") into @existing and returns the new
 * record. Every existing term stays, in order. A needed term is skipped when the
 * record already has the same term or, for ip4/ip6, a "+" term whose network
 * contains it; the others go just before the first "all", or before redirect=
 * when there is no "all". A record with neither gets "~all" at the end. With
 * @existing NULL or empty, returns "v=spf1 TERMS ~all". @added_count, when not
 * NULL, receives the number of terms added. Fails with OP_ERROR_INVALID_ARGUMENT
 * when @existing or a needed term does not parse. */
char *op_spf_record_merge(const char *existing, const char *const *needed_terms,
			  guint *added_count, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSpfTerm, op_spf_term_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpSpfRecord, op_spf_record_free)

G_END_DECLS
