/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The SPF evaluator: check_host() of RFC 7208 §4-§7 over a small DNS lookup
 * interface, so tests can feed zone data from a file and the daemon uses its
 * ldns resolver.
 */
#pragma once

#include <gio/gio.h>

#include "dns/op-resolver.h"
#include "dns/op-spf-record.h"

G_BEGIN_DECLS

/* The results of RFC 7208 §2.6. */
typedef enum {
	OP_SPF_RESULT_NONE,
	OP_SPF_RESULT_NEUTRAL,
	OP_SPF_RESULT_PASS,
	OP_SPF_RESULT_FAIL,
	OP_SPF_RESULT_SOFTFAIL,
	OP_SPF_RESULT_TEMPERROR,
	OP_SPF_RESULT_PERMERROR,
} OpSpfResult;

/* DNS lookups for the evaluator. Each returns a new GPtrArray, empty for NODATA,
 * or NULL with OP_ERROR_NOT_FOUND for NXDOMAIN and OP_ERROR_TEMPORARY for a
 * timeout or SERVFAIL. Other error codes count as NXDOMAIN. Elements: TXT gives
 * char* (character-strings joined), A and AAAA GInetAddress*, MX char* exchange
 * names, PTR char* names (of the in-addr.arpa or ip6.arpa name of @address). */
typedef struct {
	GPtrArray *(*lookup_txt)(gpointer user_data, const char *name, GError **error);
	GPtrArray *(*lookup_a)(gpointer user_data, const char *name, GError **error);
	GPtrArray *(*lookup_aaaa)(gpointer user_data, const char *name, GError **error);
	GPtrArray *(*lookup_mx)(gpointer user_data, const char *name, GError **error);
	GPtrArray *(*lookup_ptr)(gpointer user_data, GInetAddress *address, GError **error);
	gpointer user_data;
} OpSpfLookup;

/* Returns "none", "neutral", "pass", "fail", "softfail", "temperror" or
 * "permerror". */
const char *op_spf_result_to_string(OpSpfResult result);

/* Parses one of the names above, in any case. */
gboolean op_spf_result_from_string(const char *text, OpSpfResult *result);

/* Fills @lookup with lookups through @resolver, which must outlive it. */
void op_spf_lookup_init_resolver(OpSpfLookup *lookup, OpResolver *resolver);

/* Runs check_host() (RFC 7208 §4) for the client address @ip, the domain @domain
 * (the MAIL FROM domain, or the HELO name when MAIL FROM is empty) and @sender,
 * "local@domain". A NULL @sender or a missing local part means "postmaster"
 * (§4.3). @helo is the HELO/EHLO name for the %{h} macro and may be NULL.
 *
 * For "fail", *@explanation (when @explanation is not NULL) receives the
 * expanded exp= text, or NULL when the record has none or it cannot be used
 * (§6.2). For "temperror" and "permerror", @error receives the reason with the
 * code OP_ERROR_TEMPORARY or OP_ERROR_PERMANENT; for other results it stays
 * unset. */
OpSpfResult op_spf_check_host(const OpSpfLookup *lookup, GInetAddress *ip, const char *domain,
			      const char *sender, const char *helo, char **explanation,
			      GError **error);

/* Counts the DNS-lookup terms that evaluating @record_text as the record of
 * @domain can reach, following include and redirect targets through @lookup
 * (RFC 7208 §4.6.4), so a caller can say "the record needs 12 lookups, the limit
 * is 10". Targets that contain macros count but are not followed, because they
 * depend on the message. Targets without a record count 1. Following stops once
 * the count passes 100, which also ends include loops. Fails when @record_text
 * does not parse or a lookup fails temporarily. */
gboolean op_spf_count_record_lookups(const OpSpfLookup *lookup, const char *domain,
				     const char *record_text, guint *count, GError **error);

/* Looks up the SPF record of @domain and counts as above. A domain without an
 * SPF record fails with OP_ERROR_NOT_FOUND. */
gboolean op_spf_count_lookups(const OpSpfLookup *lookup, const char *domain, guint *count,
			      GError **error);

G_END_DECLS
