/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes a configuration profile as an XML property list through
 * xmlTextWriter, with the keys of Apple's Configuration Profile Reference for
 * the top level and for the com.apple.mail.managed payload.
 */
#include "http/op-mobileconfig.h"

#include "http/op-xml-out.h"
#include "op-error.h"
#include "tls/op-tls.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#define OP_PROFILE_PREFIX "io.github.outpostmail.profile."

/* The RFC 4122 §4.3 namespace of Outpost's name-based payload UUIDs. */
static const guint8 op_profile_namespace[16] = {
	0x8f, 0x1c, 0x2d, 0x0e, 0x5b, 0x7a, 0x4c, 0x1e,
	0x9a, 0x3d, 0x6e, 0x2f, 0x4b, 0x8c, 0x7a, 0x15,
};

/* Returns the version 5 (SHA-1, name-based) UUID of name, in upper case as
 * Apple's examples write PayloadUUID. */
static char *
dup_name_uuid(const char *name)
{
	g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA1);
	guint8 digest[20];
	gsize length = sizeof digest;
	g_autofree char *text = NULL;

	g_checksum_update(checksum, op_profile_namespace, sizeof op_profile_namespace);
	g_checksum_update(checksum, (const guchar *)name, strlen(name));
	g_checksum_get_digest(checksum, digest, &length);
	digest[6] = (digest[6] & 0x0f) | 0x50;
	digest[8] = (digest[8] & 0x3f) | 0x80;
	text = g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			       "%02x%02x%02x%02x%02x%02x",
			       digest[0], digest[1], digest[2], digest[3], digest[4], digest[5],
			       digest[6], digest[7], digest[8], digest[9], digest[10], digest[11],
			       digest[12], digest[13], digest[14], digest[15]);
	return g_ascii_strup(text, -1);
}

static void
write_string(OpXmlOut *out, const char *key, const char *value)
{
	op_xml_out_element(out, "key", key);
	op_xml_out_element(out, "string", value);
}

static void
write_integer(OpXmlOut *out, const char *key, guint value)
{
	op_xml_out_element(out, "key", key);
	op_xml_out_element_uint(out, "integer", value);
}

static void
write_boolean(OpXmlOut *out, const char *key, gboolean value)
{
	op_xml_out_element(out, "key", key);
	op_xml_out_empty(out, value ? "true" : "false");
}

static void
write_mail_payload(OpXmlOut *out, const OpClientSettings *settings, const char *address,
		   const char *identifier)
{
	const OpMailServer *incoming = settings->imap ? settings->imap : settings->pop3;
	g_autofree char *payload_id = g_strconcat(identifier, ".mail", NULL);
	g_autofree char *uuid = dup_name_uuid(payload_id);

	op_xml_out_start(out, "dict");
	write_string(out, "EmailAccountDescription", address);
	write_string(out, "EmailAccountType",
		     settings->imap ? "EmailTypeIMAP" : "EmailTypePOP");
	write_string(out, "EmailAddress", address);
	write_string(out, "IncomingMailServerAuthentication", "EmailAuthPassword");
	write_string(out, "IncomingMailServerHostName", incoming->host);
	write_integer(out, "IncomingMailServerPortNumber", incoming->port);
	/* NOTE: TRUE on port 143 or 110 expects Mail to use STARTTLS there, which
	 * no test here checks on a device. */
	write_boolean(out, "IncomingMailServerUseSSL", TRUE);
	write_string(out, "IncomingMailServerUsername", address);
	write_string(out, "OutgoingMailServerAuthentication", "EmailAuthPassword");
	write_string(out, "OutgoingMailServerHostName", settings->smtp_host);
	write_integer(out, "OutgoingMailServerPortNumber", OP_SUBMISSION_PORT);
	write_boolean(out, "OutgoingMailServerUseSSL", TRUE);
	write_string(out, "OutgoingMailServerUsername", address);
	/* The incoming server is another system, whose password may differ. */
	write_boolean(out, "OutgoingPasswordSameAsIncomingPassword", FALSE);
	write_string(out, "PayloadDescription", "Configures the mail account");
	write_string(out, "PayloadDisplayName", address);
	write_string(out, "PayloadIdentifier", payload_id);
	write_string(out, "PayloadType", "com.apple.mail.managed");
	write_string(out, "PayloadUUID", uuid);
	write_integer(out, "PayloadVersion", 1);
	op_xml_out_end(out);
}

GBytes *
op_mobileconfig_new(const OpClientSettings *settings, const char *address, GError **error)
{
	g_autofree char *identifier = NULL;
	g_autofree char *uuid = NULL;
	g_autofree char *name = NULL;
	g_autofree char *text = NULL;
	gsize length = 0;
	OpXmlOut out;

	if (settings->imap == NULL && settings->pop3 == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s has no IMAP or POP3 server: set imap-server or "
			    "pop3-server for the domain first",
			    settings->domain);
		return NULL;
	}
	identifier = g_strconcat(OP_PROFILE_PREFIX, address, NULL);
	uuid = dup_name_uuid(identifier);
	name = g_strdup_printf("Mail account %s", address);

	op_xml_out_init(&out);
	op_xml_out_doctype(&out, "plist", "-//Apple//DTD PLIST 1.0//EN",
			   "http://www.apple.com/DTDs/PropertyList-1.0.dtd");
	op_xml_out_start(&out, "plist");
	op_xml_out_attribute(&out, "version", "1.0");
	op_xml_out_start(&out, "dict");
	op_xml_out_element(&out, "key", "PayloadContent");
	op_xml_out_start(&out, "array");
	write_mail_payload(&out, settings, address, identifier);
	op_xml_out_end(&out);
	write_string(&out, "PayloadDescription",
		     "Sets up the mail account in Mail. The password is asked for on "
		     "installation.");
	write_string(&out, "PayloadDisplayName", name);
	write_string(&out, "PayloadIdentifier", identifier);
	write_string(&out, "PayloadOrganization", settings->domain);
	write_boolean(&out, "PayloadRemovalDisallowed", FALSE);
	write_string(&out, "PayloadType", "Configuration");
	write_string(&out, "PayloadUUID", uuid);
	write_integer(&out, "PayloadVersion", 1);
	op_xml_out_end(&out);
	op_xml_out_end(&out);
	text = op_xml_out_finish(&out, &length, error);
	if (text == NULL)
		return NULL;
	return g_bytes_new_take(g_steal_pointer(&text), length);
}

/* ---- Signing ---------------------------------------------------------------- */

struct _OpProfileSigner {
	X509 *certificate;
	STACK_OF(X509) *chain; /* the certificates after the first in the PEM file */
	EVP_PKEY *key;
};

static gboolean
set_openssl_error(GError **error, const char *what, const char *path)
{
	g_autofree char *detail = op_tls_dup_openssl_errors();

	g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "%s %s failed: %s", what, path, detail);
	return FALSE;
}

static gboolean
read_certificates(OpProfileSigner *signer, const char *cert_path, GError **error)
{
	BIO *input = BIO_new_file(cert_path, "r");
	X509 *extra;

	if (input == NULL)
		return set_openssl_error(error, "opening the certificate", cert_path);
	signer->certificate = PEM_read_bio_X509(input, NULL, NULL, NULL);
	signer->chain = sk_X509_new_null();
	while ((extra = PEM_read_bio_X509(input, NULL, NULL, NULL)) != NULL)
		sk_X509_push(signer->chain, extra);
	/* The loop ends on the "no start line" error at the end of the file. */
	ERR_clear_error();
	BIO_free(input);
	if (signer->certificate == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "reading the certificate %s failed: no PEM certificate in it",
			    cert_path);
		return FALSE;
	}
	return TRUE;
}

OpProfileSigner *
op_profile_signer_new(const char *cert_path, const char *key_path, GError **error)
{
	g_autoptr(OpProfileSigner) signer = g_new0(OpProfileSigner, 1);
	BIO *input;

	if (!read_certificates(signer, cert_path, error))
		return NULL;
	input = BIO_new_file(key_path, "r");
	if (input == NULL) {
		set_openssl_error(error, "opening the key", key_path);
		return NULL;
	}
	signer->key = PEM_read_bio_PrivateKey(input, NULL, NULL, NULL);
	BIO_free(input);
	if (signer->key == NULL) {
		set_openssl_error(error, "reading the key", key_path);
		return NULL;
	}
	if (X509_check_private_key(signer->certificate, signer->key) != 1) {
		set_openssl_error(error, "matching the key to", cert_path);
		return NULL;
	}
	return g_steal_pointer(&signer);
}

void
op_profile_signer_free(OpProfileSigner *signer)
{
	if (signer == NULL)
		return;
	X509_free(signer->certificate);
	sk_X509_pop_free(signer->chain, X509_free);
	EVP_PKEY_free(signer->key);
	g_free(signer);
}

GBytes *
op_profile_signer_sign(OpProfileSigner *signer, GBytes *profile, GError **error)
{
	gsize size = 0;
	const void *data = g_bytes_get_data(profile, &size);
	BIO *input = BIO_new_mem_buf(data, (int)size);
	BIO *output = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms = NULL;
	GBytes *signed_profile = NULL;
	char *der = NULL;
	long length;

	/* CMS_BINARY keeps the property list's line endings as they are. */
	if (input != NULL && output != NULL)
		cms = CMS_sign(signer->certificate, signer->key, signer->chain, input, CMS_BINARY);
	if (cms != NULL && i2d_CMS_bio(output, cms) == 1) {
		length = BIO_get_mem_data(output, &der);
		signed_profile = g_bytes_new(der, (gsize)length);
	} else {
		set_openssl_error(error, "signing the profile with", "the server certificate");
	}
	CMS_ContentInfo_free(cms);
	BIO_free(input);
	BIO_free(output);
	return signed_profile;
}
