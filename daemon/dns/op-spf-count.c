/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Counting the DNS-lookup terms of a whole SPF evaluation: the record's own
 * terms plus those of every record reached through include and redirect
 * (RFC 7208 §4.6.4), for telling an admin that a record needs too many.
 */
#include "dns/op-spf.h"

#include <string.h>

#include "op-error.h"

/* Past this count the result is "far too many", and include loops end here. */
#define OP_SPF_COUNT_STOP 100

static gboolean op_spf_count_domain(const OpSpfLookup *lookup, const char *domain,
				    guint *count, GError **error);

static gboolean
op_spf_record_has_all_term(const OpSpfRecord *record)
{
	for (guint i = 0; i < record->terms->len; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		if (term->kind == OP_SPF_TERM_ALL)
			return TRUE;
	}
	return FALSE;
}

/* Adds the lookups of @record and follows the include and redirect targets that
 * an evaluation can reach, in the same way as op_spf_record_count_lookups(). */
static gboolean
op_spf_count_record(const OpSpfLookup *lookup, const OpSpfRecord *record, guint *count,
		    GError **error)
{
	gboolean has_all = op_spf_record_has_all_term(record);

	*count += op_spf_record_count_lookups(record);
	for (guint i = 0; i < record->terms->len && *count <= OP_SPF_COUNT_STOP; i++) {
		const OpSpfTerm *term = g_ptr_array_index(record->terms, i);

		if (term->kind == OP_SPF_TERM_ALL)
			break;
		if (term->kind != OP_SPF_TERM_INCLUDE &&
		    (term->kind != OP_SPF_TERM_REDIRECT || has_all))
			continue;
		/* A target with macros depends on the message being checked. */
		if (strchr(term->domain_spec, '%') != NULL)
			continue;
		if (!op_spf_count_domain(lookup, term->domain_spec, count, error))
			return FALSE;
	}
	return TRUE;
}

/* Adds the lookups of the record of @domain. Only a temporary DNS failure is an
 * error: a target without a usable record adds nothing beyond its own term. */
static gboolean
op_spf_count_domain(const OpSpfLookup *lookup, const char *domain, guint *count,
		    GError **error)
{
	g_autoptr(GError) local_error = NULL;
	g_autoptr(GPtrArray) texts = lookup->lookup_txt(lookup->user_data, domain, &local_error);
	g_autoptr(OpSpfRecord) record = NULL;
	const char *text;

	if (texts == NULL) {
		if (!g_error_matches(local_error, OP_ERROR, OP_ERROR_TEMPORARY))
			return TRUE;
		g_propagate_prefixed_error(error, g_steal_pointer(&local_error),
					   "cannot count the SPF lookups of %s: ", domain);
		return FALSE;
	}
	text = op_spf_record_select(texts, domain, NULL);
	if (text == NULL)
		return TRUE;
	record = op_spf_record_parse(text, NULL);
	if (record == NULL)
		return TRUE;
	return op_spf_count_record(lookup, record, count, error);
}

gboolean
op_spf_count_record_lookups(const OpSpfLookup *lookup, const char *domain,
			    const char *record_text, guint *count, GError **error)
{
	g_autoptr(OpSpfRecord) record = NULL;

	g_return_val_if_fail(lookup != NULL, FALSE);
	g_return_val_if_fail(count != NULL, FALSE);

	*count = 0;
	record = op_spf_record_parse(record_text, error);
	if (record == NULL) {
		g_prefix_error(error, "the SPF record of %s is invalid: ", domain);
		return FALSE;
	}
	return op_spf_count_record(lookup, record, count, error);
}

gboolean
op_spf_count_lookups(const OpSpfLookup *lookup, const char *domain, guint *count,
		     GError **error)
{
	g_autoptr(GPtrArray) texts = NULL;
	const char *text;

	g_return_val_if_fail(lookup != NULL, FALSE);
	g_return_val_if_fail(count != NULL, FALSE);

	*count = 0;
	texts = lookup->lookup_txt(lookup->user_data, domain, error);
	if (texts == NULL)
		return FALSE;
	text = op_spf_record_select(texts, domain, error);
	if (text == NULL)
		return FALSE;
	return op_spf_count_record_lookups(lookup, domain, text, count, error);
}
