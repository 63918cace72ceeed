/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The MTA-STS policy text and the id of its TXT record (RFC 8461 §3.1-3.2).
 */
#include <string.h>

#include "http/op-mta-sts.h"

static void
test_mta_sts_policy_text(void)
{
	g_autofree char *policy = op_mta_sts_dup_policy("mail.example.org");

	g_assert_cmpstr(policy, ==,
			"version: STSv1\r\n"
			"mode: testing\r\n"
			"mx: mail.example.org\r\n"
			"max_age: 604800\r\n");
}

/* A host name written with a trailing dot or in capitals gives the same
 * policy, so the DNS records and the HTTP answer agree. */
static void
test_mta_sts_host_forms(void)
{
	static const char *const hosts[] = {"mail.example.org.", "MAIL.Example.ORG",
					    "mail.example.org.."};
	g_autofree char *expected = op_mta_sts_dup_policy("mail.example.org");

	for (gsize i = 0; i < G_N_ELEMENTS(hosts); i++) {
		g_autofree char *policy = op_mta_sts_dup_policy(hosts[i]);

		g_assert_cmpstr(policy, ==, expected);
	}
}

static void
test_mta_sts_id(void)
{
	g_autofree char *policy = op_mta_sts_dup_policy("mail.example.org");
	g_autofree char *other_policy = op_mta_sts_dup_policy("mx.example.org");
	g_autofree char *id = op_mta_sts_dup_id(policy);
	g_autofree char *same_id = op_mta_sts_dup_id(policy);
	g_autofree char *other_id = op_mta_sts_dup_id(other_policy);
	g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, policy, -1);

	/* RFC 8461 §3.1: 1 to 32 letters and digits. */
	g_assert_cmpuint(strlen(id), >=, 1);
	g_assert_cmpuint(strlen(id), <=, 32);
	for (const char *c = id; *c != '\0'; c++)
		g_assert_true(g_ascii_isalnum(*c));
	g_assert_true(g_str_has_prefix(digest, id));
	g_assert_cmpstr(id, ==, same_id);
	g_assert_cmpstr(id, !=, other_id);
}

static void
test_mta_sts_txt(void)
{
	g_autofree char *policy = op_mta_sts_dup_policy("mail.example.org");
	g_autofree char *id = op_mta_sts_dup_id(policy);
	g_autofree char *txt = op_mta_sts_dup_txt(policy);
	g_autofree char *expected = g_strdup_printf("v=STSv1; id=%s", id);

	g_assert_cmpstr(txt, ==, expected);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/http/mta-sts/policy-text", test_mta_sts_policy_text);
	g_test_add_func("/http/mta-sts/host-forms", test_mta_sts_host_forms);
	g_test_add_func("/http/mta-sts/id", test_mta_sts_id);
	g_test_add_func("/http/mta-sts/txt", test_mta_sts_txt);
	return g_test_run();
}
