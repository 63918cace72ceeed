/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The DNS records an admin publishes for a sending domain: DKIM, SPF, DMARC and
 * the SRV records that let mail clients find the submission ports.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	char *name;    /* FQDN with a trailing dot */
	char *type;    /* "TXT", "MX", "SRV", ... */
	char *value;   /* RDATA in zone-file form, TXT as quoted strings of <= 255 octets */
	char *purpose; /* one sentence for the admin */
	/* The kind of record for the deliverability check: "dkim-active",
	 * "dkim-pending", "dkim-retiring", "dkim-revoked", "spf", "dmarc", "srv",
	 * or "advice" for a record in a zone the admin may not run (the PTR of a
	 * sending address, the host name's address), which is shown but never
	 * published. NULL means an exact comparison whose absence is a warning.
	 * A static string, not freed. */
	const char *role;
} OpDnsRecord;

void op_dns_record_free(OpDnsRecord *record);

typedef struct {
	const char *selector;
	const char *txt;   /* "v=DKIM1; k=...; p=..." */
	const char *state; /* "pending", "active" or "retiring" */
} OpRecordsDkimKey;

typedef struct {
	const char *domain;
	const char *hostname;
	const OpRecordsDkimKey *dkim_keys;
	guint n_dkim_keys;
	const char *const *revoked_selectors; /* removed keys, published empty; or NULL */
	const char *const *sending_addresses; /* IP addresses, or NULL */
	const char *dmarc_policy;	      /* "none" (NULL), "quarantine" or "reject" */
	const char *dmarc_rua;		      /* NULL or "" for postmaster@domain */
	const char *spf;		      /* the SPF record to publish; NULL: a new one */
	const char *spf_purpose;	      /* its purpose sentence; NULL: the usual one */
	gboolean omit_spf;		      /* leave SPF out of the records */
} OpRecordsInput;

/* Returns the records of input as a GPtrArray of OpDnsRecord: a DKIM TXT per
 * key, SPF, DMARC with the domain's policy, and the submission SRV records. */
GPtrArray *op_records_build(const OpRecordsInput *input);

/* Removes the "advice" records, which are for someone else to publish. */
void op_records_remove_advice(GPtrArray *records);

/* Returns a GPtrArray of OpDnsRecord (freed with the array) for domain in ASCII
 * form: the DKIM TXT at <dkim_selector>._domainkey.<domain>. when dkim_txt is not
 * NULL, SPF ("a:<hostname>", or ip4:/ip6: mechanisms for sending_addresses when that
 * NULL-terminated list is given and not empty), DMARC with p=none and reports to postmaster, and the SRV
 * records _submission._tcp (port 587) and _submissions._tcp (port 465) of RFC 6186
 * and RFC 8314. */
GPtrArray *op_records_for_domain(const char *domain, const char *hostname,
				 const char *dkim_selector, const char *dkim_txt,
				 const char *const *sending_addresses);

/* Quotes a TXT value as zone-file character-strings of at most 255 octets each,
 * separated by spaces, with '"' and '\\' escaped (RFC 1035 §3.3.14, §5.1). */
char *op_records_quote_txt(const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpDnsRecord, op_dns_record_free)

G_END_DECLS
