/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Apple configuration profiles: the property list, its com.apple.mail.managed
 * payload keys, stable identifiers, and the CMS signature.
 */
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <openssl/cms.h>

#include "http/op-mobileconfig.h"
#include "op-error.h"
#include "tls/op-tls-cert.h"

static GBytes *
new_profile(const char *imap, const char *pop3, const char *address)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	GBytes *profile;

	settings = op_client_settings_new("example.org", "mail.example.net", imap, pop3, &error);
	g_assert_no_error(error);
	profile = op_mobileconfig_new(settings, address, &error);
	g_assert_no_error(error);
	g_assert_nonnull(profile);
	return profile;
}

static xmlDocPtr
parse_profile(GBytes *profile)
{
	gsize length = 0;
	const char *data = g_bytes_get_data(profile, &length);
	xmlDocPtr doc = xmlReadMemory(data, (int)length, "profile.xml", NULL, XML_PARSE_NONET);

	g_assert_nonnull(doc);
	return doc;
}

/* Returns the value element that follows <key>key</key> in the dictionary at
 * dict_path, as text; booleans read "true" or "false". */
static char *
dup_value(xmlDocPtr doc, const char *dict_path, const char *key)
{
	g_autofree char *expression = g_strdup_printf(
		"%s/key[. = '%s']/following-sibling::*[1]", dict_path, key);
	xmlXPathContextPtr context = xmlXPathNewContext(doc);
	xmlXPathObjectPtr result = xmlXPathEvalExpression((const xmlChar *)expression, context);
	char *text = NULL;

	g_assert_nonnull(result);
	if (result->nodesetval != NULL && result->nodesetval->nodeNr == 1) {
		xmlNodePtr node = result->nodesetval->nodeTab[0];
		const char *name = (const char *)node->name;

		if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
			text = g_strdup(name);
		} else {
			xmlChar *content = xmlNodeGetContent(node);

			text = g_strdup((const char *)content);
			xmlFree(content);
		}
	}
	xmlXPathFreeObject(result);
	xmlXPathFreeContext(context);
	return text;
}

static void
assert_value(xmlDocPtr doc, const char *dict_path, const char *key, const char *expected)
{
	g_autofree char *value = dup_value(doc, dict_path, key);

	g_test_message("%s %s", dict_path, key);
	g_assert_cmpstr(value, ==, expected);
}

#define TOP "/plist/dict"
#define MAIL "/plist/dict/array/dict"

static void
test_mobileconfig_keys(void)
{
	g_autoptr(GBytes) profile = new_profile("imap.example.org:993", "", "anna@example.org");
	xmlDocPtr doc = parse_profile(profile);

	g_assert_nonnull(doc->intSubset);
	g_assert_cmpstr((const char *)doc->intSubset->ExternalID, ==,
			"-//Apple//DTD PLIST 1.0//EN");
	assert_value(doc, TOP, "PayloadType", "Configuration");
	assert_value(doc, TOP, "PayloadVersion", "1");
	assert_value(doc, TOP, "PayloadIdentifier",
		     "io.github.outpostmail.profile.anna@example.org");
	assert_value(doc, TOP, "PayloadRemovalDisallowed", "false");
	assert_value(doc, MAIL, "PayloadType", "com.apple.mail.managed");
	assert_value(doc, MAIL, "PayloadVersion", "1");
	assert_value(doc, MAIL, "EmailAccountType", "EmailTypeIMAP");
	assert_value(doc, MAIL, "EmailAddress", "anna@example.org");
	assert_value(doc, MAIL, "IncomingMailServerHostName", "imap.example.org");
	assert_value(doc, MAIL, "IncomingMailServerPortNumber", "993");
	assert_value(doc, MAIL, "IncomingMailServerUseSSL", "true");
	assert_value(doc, MAIL, "IncomingMailServerUsername", "anna@example.org");
	assert_value(doc, MAIL, "IncomingMailServerAuthentication", "EmailAuthPassword");
	assert_value(doc, MAIL, "OutgoingMailServerHostName", "mail.example.net");
	assert_value(doc, MAIL, "OutgoingMailServerPortNumber", "587");
	assert_value(doc, MAIL, "OutgoingMailServerUseSSL", "true");
	assert_value(doc, MAIL, "OutgoingMailServerUsername", "anna@example.org");
	assert_value(doc, MAIL, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	/* The profile never carries a password. */
	g_assert_null(dup_value(doc, MAIL, "IncomingPassword"));
	g_assert_null(dup_value(doc, MAIL, "OutgoingPassword"));
	xmlFreeDoc(doc);
}

static void
test_mobileconfig_pop3_only(void)
{
	g_autoptr(GBytes) profile = new_profile(NULL, "pop.example.org:110", "anna@example.org");
	xmlDocPtr doc = parse_profile(profile);

	assert_value(doc, MAIL, "EmailAccountType", "EmailTypePOP");
	assert_value(doc, MAIL, "IncomingMailServerHostName", "pop.example.org");
	assert_value(doc, MAIL, "IncomingMailServerPortNumber", "110");
	xmlFreeDoc(doc);
}

/* The same account gets the same profile, so a reinstall replaces it, while
 * another account gets other UUIDs. */
static void
test_mobileconfig_stable_uuids(void)
{
	g_autoptr(GBytes) first = new_profile("imap.example.org", NULL, "anna@example.org");
	g_autoptr(GBytes) again = new_profile("imap.example.org", NULL, "anna@example.org");
	g_autoptr(GBytes) other = new_profile("imap.example.org", NULL, "bob@example.org");
	xmlDocPtr first_doc = parse_profile(first);
	xmlDocPtr other_doc = parse_profile(other);
	g_autofree char *top = dup_value(first_doc, TOP, "PayloadUUID");
	g_autofree char *mail = dup_value(first_doc, MAIL, "PayloadUUID");
	g_autofree char *other_top = dup_value(other_doc, TOP, "PayloadUUID");

	g_assert_true(g_bytes_equal(first, again));
	g_assert_true(g_uuid_string_is_valid(top));
	g_assert_true(g_uuid_string_is_valid(mail));
	/* RFC 4122 §4.3: a name-based SHA-1 UUID has version 5. */
	g_assert_cmpint(top[14], ==, '5');
	g_assert_cmpstr(top, !=, mail);
	g_assert_cmpstr(top, !=, other_top);
	xmlFreeDoc(first_doc);
	xmlFreeDoc(other_doc);
}

static void
test_mobileconfig_escapes_address(void)
{
	g_autoptr(GBytes) profile = new_profile("imap.example.org", NULL, "\"<a&b>\"@example.org");
	xmlDocPtr doc = parse_profile(profile);

	assert_value(doc, MAIL, "EmailAddress", "\"<a&b>\"@example.org");
	xmlFreeDoc(doc);
}

static void
test_mobileconfig_needs_incoming_server(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpClientSettings) settings = NULL;
	g_autoptr(GBytes) profile = NULL;

	settings = op_client_settings_new("example.org", "mail.example.net", "", "", &error);
	g_assert_no_error(error);
	profile = op_mobileconfig_new(settings, "anna@example.org", &error);
	g_assert_null(profile);
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_assert_nonnull(strstr(error->message, "imap-server"));
}

/* The signed profile is DER CMS SignedData whose content is the profile,
 * and the signature verifies with the certificate it carries. */
static void
test_mobileconfig_signed(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-mobileconfig-XXXXXX", NULL);
	g_autofree char *cert_path = g_build_filename(dir, "cert.pem", NULL);
	g_autofree char *key_path = g_build_filename(dir, "key.pem", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(OpProfileSigner) signer = NULL;
	g_autoptr(GBytes) profile = new_profile("imap.example.org", NULL, "anna@example.org");
	g_autoptr(GBytes) signed_profile = NULL;
	const unsigned char *der;
	gsize length = 0;
	CMS_ContentInfo *cms;
	BIO *content = BIO_new(BIO_s_mem());
	char *data = NULL;
	long content_length;

	g_assert_true(op_tls_cert_ensure_self_signed(cert_path, key_path, "mail.example.net",
						     &error));
	g_assert_no_error(error);
	signer = op_profile_signer_new(cert_path, key_path, &error);
	g_assert_no_error(error);
	signed_profile = op_profile_signer_sign(signer, profile, &error);
	g_assert_no_error(error);
	der = g_bytes_get_data(signed_profile, &length);
	cms = d2i_CMS_ContentInfo(NULL, &der, (long)length);
	g_assert_nonnull(cms);
	g_assert_cmpint(CMS_verify(cms, NULL, NULL, NULL, content, CMS_NO_SIGNER_CERT_VERIFY), ==,
			1);
	content_length = BIO_get_mem_data(content, &data);
	g_assert_cmpint(content_length, ==, (long)g_bytes_get_size(profile));
	g_assert_cmpint(memcmp(data, g_bytes_get_data(profile, NULL), content_length), ==, 0);
	CMS_ContentInfo_free(cms);
	BIO_free(content);
	g_unlink(cert_path);
	g_unlink(key_path);
	g_rmdir(dir);
}

static void
test_mobileconfig_signer_missing_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OpProfileSigner) signer = NULL;

	signer = op_profile_signer_new("/nonexistent/cert.pem", "/nonexistent/key.pem", &error);
	g_assert_null(signer);
	g_assert_error(error, OP_ERROR, OP_ERROR_FAILED);
	g_assert_nonnull(strstr(error->message, "/nonexistent/cert.pem"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/http/mobileconfig/keys", test_mobileconfig_keys);
	g_test_add_func("/http/mobileconfig/pop3-only", test_mobileconfig_pop3_only);
	g_test_add_func("/http/mobileconfig/stable-uuids", test_mobileconfig_stable_uuids);
	g_test_add_func("/http/mobileconfig/escapes-address", test_mobileconfig_escapes_address);
	g_test_add_func("/http/mobileconfig/needs-incoming",
			test_mobileconfig_needs_incoming_server);
	g_test_add_func("/http/mobileconfig/signed", test_mobileconfig_signed);
	g_test_add_func("/http/mobileconfig/signer-missing-file",
			test_mobileconfig_signer_missing_file);
	return g_test_run();
}
