/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The DNS records an admin publishes for a sending domain, in zone-file form:
 * DKIM (RFC 6376), SPF (RFC 7208), DMARC (RFC 7489) and the submission SRV
 * records that mail clients use to configure themselves (RFC 6186, RFC 8314).
 */
#include "dns/op-records.h"

#include "dns/op-resolver.h"
#include "http/op-mta-sts.h"

#include <gio/gio.h>
#include <string.h>

/* RFC 1035 §3.3: a <character-string> contains at most 255 octets. */
#define OP_RECORDS_TXT_CHUNK 255

void
op_dns_record_free(OpDnsRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->name);
	g_free(record->type);
	g_free(record->value);
	g_free(record->purpose);
	g_free(record);
}

static void
op_records_append_quoted(GString *out, const char *chunk, gsize len)
{
	gsize i;

	g_string_append_c(out, '"');
	for (i = 0; i < len; i++) {
		guchar c = (guchar)chunk[i];

		/* RFC 1035 §5.1: \X quotes a character, \DDD gives an octet in decimal. */
		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			g_string_append_printf(out, "\\%03u", c);
		else
			g_string_append_c(out, (char)c);
	}
	g_string_append_c(out, '"');
}

char *
op_records_quote_txt(const char *value)
{
	GString *out = g_string_new(NULL);
	gsize len;
	gsize offset = 0;

	g_return_val_if_fail(value != NULL, NULL);

	/* Verifiers join the strings of one record without a separator (RFC 6376
	 * §3.6.2.2, RFC 7208 §3.3), so the split points carry no meaning. */
	len = strlen(value);
	do {
		gsize chunk = MIN(len - offset, OP_RECORDS_TXT_CHUNK);

		if (offset > 0)
			g_string_append_c(out, ' ');
		op_records_append_quoted(out, value + offset, chunk);
		offset += chunk;
	} while (offset < len);
	return g_string_free(out, FALSE);
}

/* Returns name without trailing dots, the form SPF and DMARC values use. */
static char *
op_records_dup_relative(const char *name)
{
	gsize len = strlen(name);

	while (len > 0 && name[len - 1] == '.')
		len--;
	return g_strndup(name, len);
}

/* Returns name in absolute form, with exactly one trailing dot. */
static char *
op_records_dup_fqdn(const char *name)
{
	g_autofree char *relative = op_records_dup_relative(name);

	return g_strconcat(relative, ".", NULL);
}

static OpDnsRecord *
op_records_add(GPtrArray *records, char *name, const char *type, char *value,
	       const char *purpose)
{
	OpDnsRecord *record = g_new0(OpDnsRecord, 1);

	record->name = name;
	record->type = g_strdup(type);
	record->value = value;
	record->purpose = g_strdup(purpose);
	g_ptr_array_add(records, record);
	return record;
}

/* Builds "v=spf1 ... ~all" (RFC 7208 §5). Entries of sending_addresses that are
 * not IP addresses are skipped; with none left, the a: mechanism covers the
 * addresses of hostname. The ~all softfail lets a new domain start without
 * losing mail that leaves through another path. */
static char *
op_records_dup_spf(const char *hostname, const char *const *sending_addresses)
{
	GString *spf = g_string_new("v=spf1");
	gsize mechanisms = 0;
	gsize i;

	for (i = 0; sending_addresses != NULL && sending_addresses[i] != NULL; i++) {
		g_autoptr(GInetAddress) address = NULL;

		address = g_inet_address_new_from_string(sending_addresses[i]);
		if (address == NULL)
			continue;
		g_string_append_printf(spf, " %s:%s",
				       g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6
					       ? "ip6"
					       : "ip4",
				       sending_addresses[i]);
		mechanisms++;
	}
	if (mechanisms == 0) {
		g_autofree char *host = op_records_dup_relative(hostname);

		g_string_append_printf(spf, " a:%s", host);
	}
	g_string_append(spf, " ~all");
	return g_string_free(spf, FALSE);
}

static OpDnsRecord *
op_records_add_txt(GPtrArray *records, const char *name, const char *value,
		   const char *purpose)
{
	return op_records_add(records, op_records_dup_fqdn(name), "TXT",
			      op_records_quote_txt(value), purpose);
}

static void
add_dkim_records(GPtrArray *records, const char *apex, const OpRecordsInput *input)
{
	for (guint i = 0; i < input->n_dkim_keys; i++) {
		const OpRecordsDkimKey *key = &input->dkim_keys[i];
		g_autofree char *name = g_strdup_printf("%s._domainkey.%s", key->selector, apex);
		const char *purpose = "Receivers check the DKIM signature on each message with "
				      "this public key.";
		const char *role = "dkim-active";

		if (g_strcmp0(key->state, "pending") == 0) {
			purpose = "A new DKIM key: publish it now. Outpost signs with it once "
				  "this record is visible in DNS.";
			role = "dkim-pending";
		} else if (g_strcmp0(key->state, "retiring") == 0) {
			purpose = "The previous DKIM key: keep it until Outpost drops it, so "
				  "mail signed with it before the switch still verifies.";
			role = "dkim-retiring";
		}
		op_records_add_txt(records, name, key->txt, purpose)->role = role;
	}
	/* An empty p= revokes a key (RFC 6376 §3.6.1): signatures made with a
	 * removed key stop verifying, even for someone who kept its file. */
	for (gsize i = 0; input->revoked_selectors && input->revoked_selectors[i]; i++) {
		g_autofree char *name = g_strdup_printf("%s._domainkey.%s",
							input->revoked_selectors[i], apex);

		op_records_add_txt(records, name, "v=DKIM1; p=",
				   "A removed DKIM key, revoked: the empty key makes signatures "
				   "made with it fail.")
			->role = "dkim-revoked";
	}
}

/* The path of RFC 7489 §6.3 and Appendix C: collect reports with p=none,
 * then tighten once they show every legitimate source passing. */
static const char *
dmarc_purpose(const char *policy)
{
	if (g_strcmp0(policy, "reject") == 0)
		return "DMARC asks receivers to reject mail that fails both SPF and DKIM "
		       "alignment, and to send reports.";
	if (g_strcmp0(policy, "quarantine") == 0)
		return "DMARC asks receivers to put mail that fails SPF and DKIM alignment in "
		       "spam. Once the reports stay clean for a few weeks, move to p=reject.";
	return "DMARC asks receivers to send reports on mail that fails SPF and DKIM "
	       "alignment. Once the reports show all of your mail passing for a few weeks, "
	       "move to p=quarantine, then p=reject.";
}

static void
add_dmarc_record(GPtrArray *records, const char *apex, const char *bare_domain,
		 const OpRecordsInput *input)
{
	const char *policy = input->dmarc_policy ? input->dmarc_policy : "none";
	g_autofree char *name = g_strconcat("_dmarc.", apex, NULL);
	g_autofree char *rua = NULL;
	g_autofree char *value = NULL;

	if (input->dmarc_rua != NULL && *input->dmarc_rua != '\0')
		rua = g_strdup(input->dmarc_rua);
	else
		rua = g_strdup_printf("postmaster@%s", bare_domain);
	value = g_strdup_printf("v=DMARC1; p=%s; rua=mailto:%s", policy, rua);
	op_records_add_txt(records, name, value, dmarc_purpose(policy))->role = "dmarc";
}

/* The host name's address records and the reverse DNS of each sending
 * address (RFC 1035 §3.5, RFC 3596 §2.5), which receivers compare with the
 * HELO name. The reverse zone belongs to the owner of the address. */
static void
add_advice_records(GPtrArray *records, const char *host, const OpRecordsInput *input)
{
	for (gsize i = 0; input->sending_addresses && input->sending_addresses[i]; i++) {
		g_autoptr(GInetAddress) address =
			g_inet_address_new_from_string(input->sending_addresses[i]);
		gboolean ipv6;
		g_autofree char *labels = NULL;

		if (address == NULL)
			continue;
		ipv6 = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6;
		labels = op_resolver_dup_reverse_labels(address);
		op_records_add(records, g_strdup(host), ipv6 ? "AAAA" : "A",
			       g_inet_address_to_string(address),
			       "The server's host name must resolve to each address it sends "
			       "from: publish it in the zone that holds the host name.")
			->role = "advice";
		op_records_add(records,
			       g_strconcat(labels, ipv6 ? ".ip6.arpa." : ".in-addr.arpa.", NULL),
			       "PTR", g_strdup(host),
			       "Receivers check that the address's reverse DNS name leads back to "
			       "it and matches the HELO name: ask whoever runs the address "
			       "(usually the hosting provider) to set this PTR record.")
			->role = "advice";
	}
}

void
op_records_remove_advice(GPtrArray *records)
{
	for (guint i = records->len; i > 0; i--) {
		const OpDnsRecord *record = records->pdata[i - 1];

		if (g_strcmp0(record->role, "advice") == 0)
			g_ptr_array_remove_index(records, i - 1);
	}
}

/* Adds the records of mail-client setup and SMTP TLS policy. They are the
 * autodiscover SRV, the MTA-STS id (RFC 8461 §3.1) of the policy outpostd
 * serves, and the TLS-RPT address (RFC 8460 §3). autoconfig.DOMAIN and
 * mta-sts.DOMAIN point at outpostd, which serves both names over HTTPS. */
static void
op_records_add_client_setup(GPtrArray *records, const char *bare_domain, const char *apex,
			    const char *host)
{
	g_autofree char *policy = op_mta_sts_dup_policy(host);
	g_autofree char *mta_sts = op_mta_sts_dup_txt(policy);
	g_autofree char *tls_rpt = g_strdup_printf("v=TLSRPTv1; rua=mailto:postmaster@%s",
						   bare_domain);
	g_autofree char *mta_sts_name = g_strconcat("_mta-sts.", apex, NULL);
	g_autofree char *tls_rpt_name = g_strconcat("_smtp._tls.", apex, NULL);

	op_records_add(records, g_strconcat("_autodiscover._tcp.", apex, NULL), "SRV",
		       g_strdup_printf("0 1 443 %s", host),
		       "Outlook finds the autodiscover server with this record.");
	op_records_add_txt(records, mta_sts_name, mta_sts,
			   "MTA-STS tells senders to deliver to the domain over TLS only; the "
			   "id changes whenever the policy outpostd serves over HTTPS does.");
	op_records_add_txt(records, tls_rpt_name, tls_rpt,
			   "TLS-RPT asks senders to report TLS failures when they deliver to "
			   "the domain.");
	op_records_add(records, g_strconcat("mta-sts.", apex, NULL), "CNAME", g_strdup(host),
		       "Senders fetch the MTA-STS policy from this name, served by outpostd "
		       "over HTTPS.");
	op_records_add(records, g_strconcat("autoconfig.", apex, NULL), "CNAME",
		       g_strdup(host),
		       "Thunderbird fetches the account settings from this name, served by "
		       "outpostd over HTTPS.");
}

GPtrArray *
op_records_build(const OpRecordsInput *input)
{
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)op_dns_record_free);
	g_autofree char *bare_domain = NULL;
	g_autofree char *apex = NULL;
	g_autofree char *host = NULL;
	g_autofree char *spf = NULL;

	g_return_val_if_fail(input->domain != NULL && input->hostname != NULL, records);

	bare_domain = op_records_dup_relative(input->domain);
	apex = op_records_dup_fqdn(input->domain);
	host = op_records_dup_fqdn(input->hostname);

	add_dkim_records(records, apex, input);

	spf = input->spf ? g_strdup(input->spf)
			 : op_records_dup_spf(input->hostname, input->sending_addresses);
	if (!input->omit_spf)
		op_records_add_txt(records, apex, spf,
				   input->spf_purpose ? input->spf_purpose
						      : "SPF tells receivers which servers may send "
							"mail for the domain.")
			->role = "spf";

	add_dmarc_record(records, apex, bare_domain, input);

	/* RFC 6186 §3.1 and RFC 8314 §5.1: priority 0, weight 1, the port and the
	 * target host. */
	op_records_add(records, g_strconcat("_submission._tcp.", apex, NULL), "SRV",
		       g_strdup_printf("0 1 587 %s", host),
		       "Mail clients find the STARTTLS submission port with this record.")
		->role = "srv";
	op_records_add(records, g_strconcat("_submissions._tcp.", apex, NULL), "SRV",
		       g_strdup_printf("0 1 465 %s", host),
		       "Mail clients find the implicit-TLS submission port with this "
		       "record.")
		->role = "srv";
	op_records_add_client_setup(records, bare_domain, apex, host);
	add_advice_records(records, host, input);
	return records;
}

GPtrArray *
op_records_for_domain(const char *domain, const char *hostname, const char *dkim_selector,
		      const char *dkim_txt, const char *const *sending_addresses)
{
	OpRecordsDkimKey key = { dkim_selector, dkim_txt, "active" };
	OpRecordsInput input = {
		.domain = domain,
		.hostname = hostname,
		.dkim_keys = &key,
		.n_dkim_keys = dkim_selector != NULL && dkim_txt != NULL ? 1 : 0,
		.sending_addresses = sending_addresses,
	};

	return op_records_build(&input);
}
