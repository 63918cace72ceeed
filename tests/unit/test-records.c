/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The DNS records generated for a domain and the quoting of long TXT values into
 * 255-octet character-strings.
 */
#include <string.h>

#include <ldns/ldns.h>

#include "dns/op-records.h"
#include "http/op-mta-sts.h"

/* Parses zone-file character-strings back into the value they encode and checks
 * that none is longer than 255 octets (RFC 1035 §3.3, §5.1). */
static char *
unquote_txt(const char *quoted, guint *count)
{
	GString *value = g_string_new(NULL);
	const char *p = quoted;

	*count = 0;
	while (*p != '\0') {
		gsize octets = 0;

		g_assert_cmpint(*p, ==, '"');
		for (p++; *p != '"'; p++) {
			g_assert_cmpint(*p, !=, '\0');
			if (*p == '\\' && g_ascii_isdigit(p[1])) {
				g_string_append_c(value, (char)((p[1] - '0') * 100 +
								(p[2] - '0') * 10 + (p[3] - '0')));
				p += 3;
			} else {
				if (*p == '\\')
					p++;
				g_string_append_c(value, *p);
			}
			octets++;
		}
		g_assert_cmpuint(octets, <=, 255);
		(*count)++;
		p++;
		if (*p == ' ')
			p++;
	}
	return g_string_free(value, FALSE);
}

static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
test_quote_round_trip(void)
{
	g_autoptr(GString) dkim = g_string_new("v=DKIM1; k=rsa; p=");
	const char *values[5];
	guint expected_counts[] = { 1, 1, 1, 2, 1 };
	gsize i;

	/* The SubjectPublicKeyInfo of a 2048-bit RSA key is 392 characters of base64. */
	for (i = 0; i < 392; i++)
		g_string_append_c(dkim, base64_alphabet[i % 64]);
	values[0] = "";
	values[1] = "v=spf1 ~all";
	values[2] = "quote \" and backslash \\ and tab \t and byte \xc3\xa9";
	values[3] = dkim->str;
	values[4] = "v=DMARC1; p=none";

	for (i = 0; i < G_N_ELEMENTS(values); i++) {
		g_autofree char *quoted = op_records_quote_txt(values[i]);
		g_autofree char *unquoted = NULL;
		guint count;

		g_test_message("value %" G_GSIZE_FORMAT ": %s", i, quoted);
		unquoted = unquote_txt(quoted, &count);
		g_assert_cmpstr(unquoted, ==, values[i]);
		g_assert_cmpuint(count, ==, expected_counts[i]);
	}
}

static void
test_quote_boundaries(void)
{
	static const struct {
		gsize length;
		guint strings;
	} cases[] = {
		{ 254, 1 }, { 255, 1 }, { 256, 2 }, { 510, 2 }, { 511, 3 },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *value = g_strnfill(cases[i].length, 'a');
		g_autofree char *quoted = op_records_quote_txt(value);
		g_autofree char *unquoted = NULL;
		guint count;

		unquoted = unquote_txt(quoted, &count);
		g_assert_cmpstr(unquoted, ==, value);
		g_assert_cmpuint(count, ==, cases[i].strings);
	}
}

/* The escaping counts the octets before escaping: 255 quotes fit in one string. */
static void
test_quote_escapes_do_not_count(void)
{
	g_autofree char *value = g_strnfill(255, '"');
	g_autofree char *quoted = op_records_quote_txt(value);
	g_autofree char *unquoted = NULL;
	guint count;

	unquoted = unquote_txt(quoted, &count);
	g_assert_cmpstr(unquoted, ==, value);
	g_assert_cmpuint(count, ==, 1);
}

static const OpDnsRecord *
find_record(GPtrArray *records, const char *name, const char *type)
{
	guint i;

	for (i = 0; i < records->len; i++) {
		const OpDnsRecord *record = g_ptr_array_index(records, i);

		if (g_str_equal(record->name, name) && g_str_equal(record->type, type))
			return record;
	}
	return NULL;
}

static char *
dup_txt_value(const OpDnsRecord *record)
{
	guint count;

	g_assert_nonnull(record);
	return unquote_txt(record->value, &count);
}

static void
test_records_for_domain(void)
{
	const char *dkim_txt = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *dkim = NULL;
	g_autofree char *spf = NULL;
	g_autofree char *dmarc = NULL;
	const OpDnsRecord *submission;
	const OpDnsRecord *submissions;
	guint i;

	records = op_records_for_domain("example.org", "mail.example.org", "sel1", dkim_txt,
					NULL);
	/* DKIM, SPF, DMARC, two submission SRV and five for client setup. */
	g_assert_cmpuint(records->len, ==, 10);
	for (i = 0; i < records->len; i++) {
		const OpDnsRecord *record = g_ptr_array_index(records, i);

		g_assert_true(g_str_has_suffix(record->name, "example.org."));
		g_assert_false(g_str_has_suffix(record->name, ".."));
		g_assert_nonnull(record->purpose);
		g_assert_cmpstr(record->purpose, !=, "");
	}

	dkim = dup_txt_value(find_record(records, "sel1._domainkey.example.org.", "TXT"));
	g_assert_cmpstr(dkim, ==, dkim_txt);

	spf = dup_txt_value(find_record(records, "example.org.", "TXT"));
	g_assert_cmpstr(spf, ==, "v=spf1 a:mail.example.org ~all");

	dmarc = dup_txt_value(find_record(records, "_dmarc.example.org.", "TXT"));
	g_assert_cmpstr(dmarc, ==, "v=DMARC1; p=none; rua=mailto:postmaster@example.org");

	submission = find_record(records, "_submission._tcp.example.org.", "SRV");
	g_assert_nonnull(submission);
	g_assert_cmpstr(submission->value, ==, "0 1 587 mail.example.org.");
	submissions = find_record(records, "_submissions._tcp.example.org.", "SRV");
	g_assert_nonnull(submissions);
	g_assert_cmpstr(submissions->value, ==, "0 1 465 mail.example.org.");
}

static void
test_records_trailing_dots(void)
{
	g_autoptr(GPtrArray) records = NULL;
	const OpDnsRecord *submission;
	g_autofree char *spf = NULL;
	g_autofree char *dmarc = NULL;

	records = op_records_for_domain("example.org.", "mail.example.org.", NULL, NULL, NULL);
	/* Without a DKIM key there is no DKIM record. */
	g_assert_cmpuint(records->len, ==, 9);
	g_assert_nonnull(find_record(records, "example.org.", "TXT"));
	spf = dup_txt_value(find_record(records, "example.org.", "TXT"));
	g_assert_cmpstr(spf, ==, "v=spf1 a:mail.example.org ~all");
	dmarc = dup_txt_value(find_record(records, "_dmarc.example.org.", "TXT"));
	g_assert_true(g_str_has_suffix(dmarc, "@example.org"));
	submission = find_record(records, "_submission._tcp.example.org.", "SRV");
	g_assert_nonnull(submission);
	g_assert_cmpstr(submission->value, ==, "0 1 587 mail.example.org.");
}

static void
test_records_spf_addresses(void)
{
	static const struct {
		const char *addresses[4];
		const char *spf;
	} cases[] = {
		{ { "192.0.2.10", NULL }, "v=spf1 ip4:192.0.2.10 ~all" },
		{ { "192.0.2.10", "2001:db8::25", NULL },
		  "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all" },
		/* Entries that are not IP addresses are skipped. */
		{ { "not-an-address", "2001:db8::25", NULL }, "v=spf1 ip6:2001:db8::25 ~all" },
		{ { "a:evil.example", NULL }, "v=spf1 a:mail.example.org ~all" },
		{ { NULL }, "v=spf1 a:mail.example.org ~all" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GPtrArray) records = NULL;
		g_autofree char *spf = NULL;

		records = op_records_for_domain("example.org", "mail.example.org", NULL, NULL,
						cases[i].addresses);
		spf = dup_txt_value(find_record(records, "example.org.", "TXT"));
		g_assert_cmpstr(spf, ==, cases[i].spf);
	}
}

/* ldns reads every record as a zone-file line, and its TXT character-strings
 * join back into the value. */
static void
test_records_parse_with_ldns(void)
{
	g_autoptr(GString) dkim_txt = g_string_new("v=DKIM1; k=rsa; p=");
	const char *addresses[] = { "192.0.2.10", "2001:db8::25", NULL };
	g_autoptr(GPtrArray) records = NULL;
	guint i;

	for (i = 0; i < 392; i++)
		g_string_append_c(dkim_txt, base64_alphabet[i % 64]);
	records = op_records_for_domain("example.org", "mail.example.org", "sel1",
					dkim_txt->str, addresses);

	for (i = 0; i < records->len; i++) {
		const OpDnsRecord *record = g_ptr_array_index(records, i);
		g_autofree char *line = g_strdup_printf("%s 3600 IN %s %s", record->name,
							record->type, record->value);
		ldns_rr *rr = NULL;
		ldns_status status;

		g_test_message("%s", line);
		status = ldns_rr_new_frm_str(&rr, line, 0, NULL, NULL);
		g_assert_cmpstr(ldns_get_errorstr_by_id(status), ==,
				ldns_get_errorstr_by_id(LDNS_STATUS_OK));
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT) {
			g_autoptr(GString) joined = g_string_new(NULL);
			g_autofree char *expected = NULL;
			guint count;
			gsize j;

			for (j = 0; j < ldns_rr_rd_count(rr); j++) {
				const ldns_rdf *rdf = ldns_rr_rdf(rr, j);

				/* The first octet of a character-string is its length. */
				g_string_append_len(joined,
						    (const char *)ldns_rdf_data(rdf) + 1,
						    (gssize)ldns_rdf_size(rdf) - 1);
			}
			expected = unquote_txt(record->value, &count);
			g_assert_cmpstr(joined->str, ==, expected);
		}
		ldns_rr_free(rr);
	}
}

/* The autodiscover SRV, MTA-STS and TLS-RPT records, and the names that
 * point at outpostd; the MTA-STS id is the one of the policy outpostd serves. */
static void
test_records_client_setup(void)
{
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *policy = op_mta_sts_dup_policy("mail.example.org");
	g_autofree char *expected_sts = op_mta_sts_dup_txt(policy);
	g_autofree char *sts = NULL;
	g_autofree char *tls_rpt = NULL;
	const OpDnsRecord *autodiscover;
	const OpDnsRecord *mta_sts_host;
	const OpDnsRecord *autoconfig_host;

	records = op_records_for_domain("example.org.", "MAIL.example.org.", NULL, NULL, NULL);
	autodiscover = find_record(records, "_autodiscover._tcp.example.org.", "SRV");
	g_assert_nonnull(autodiscover);
	g_assert_cmpstr(autodiscover->value, ==, "0 1 443 MAIL.example.org.");
	sts = dup_txt_value(find_record(records, "_mta-sts.example.org.", "TXT"));
	g_assert_cmpstr(sts, ==, expected_sts);
	tls_rpt = dup_txt_value(find_record(records, "_smtp._tls.example.org.", "TXT"));
	g_assert_cmpstr(tls_rpt, ==, "v=TLSRPTv1; rua=mailto:postmaster@example.org");
	mta_sts_host = find_record(records, "mta-sts.example.org.", "CNAME");
	g_assert_nonnull(mta_sts_host);
	g_assert_cmpstr(mta_sts_host->value, ==, "MAIL.example.org.");
	autoconfig_host = find_record(records, "autoconfig.example.org.", "CNAME");
	g_assert_nonnull(autoconfig_host);
	g_assert_cmpstr(autoconfig_host->value, ==, "MAIL.example.org.");
}

/* Another host name gives another policy and so another MTA-STS id. */
static void
test_records_mta_sts_id_follows_host(void)
{
	g_autoptr(GPtrArray) first = op_records_for_domain("example.org", "mail.example.org",
							   NULL, NULL, NULL);
	g_autoptr(GPtrArray) second = op_records_for_domain("example.org", "mx.example.org",
							    NULL, NULL, NULL);
	g_autofree char *first_id = dup_txt_value(find_record(first, "_mta-sts.example.org.",
							      "TXT"));
	g_autofree char *second_id = dup_txt_value(find_record(second, "_mta-sts.example.org.",
							       "TXT"));

	g_assert_cmpstr(first_id, !=, second_id);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/dns/records/quote-round-trip", test_quote_round_trip);
	g_test_add_func("/dns/records/quote-boundaries", test_quote_boundaries);
	g_test_add_func("/dns/records/quote-escapes", test_quote_escapes_do_not_count);
	g_test_add_func("/dns/records/for-domain", test_records_for_domain);
	g_test_add_func("/dns/records/trailing-dots", test_records_trailing_dots);
	g_test_add_func("/dns/records/spf-addresses", test_records_spf_addresses);
	g_test_add_func("/dns/records/parse-with-ldns", test_records_parse_with_ldns);
	g_test_add_func("/dns/records/client-setup", test_records_client_setup);
	g_test_add_func("/dns/records/mta-sts-id-follows-host",
			test_records_mta_sts_id_follows_host);
	return g_test_run();
}
