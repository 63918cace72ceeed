/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Self-signed certificate generation: the files, their modes, the certificate's
 * names, extensions and validity, and that existing files are left alone.
 */
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "op-error.h"
#include "tls/op-tls-cert.h"

typedef struct {
	char *dir;
	char *cert_path;
	char *key_path;
} Fixture;

static void
fixture_set_up(Fixture *fixture, gconstpointer user_data)
{
	fixture->dir = g_dir_make_tmp("test-tls-cert-XXXXXX", NULL);
	g_assert_nonnull(fixture->dir);
	fixture->cert_path = g_build_filename(fixture->dir, "cert.pem", NULL);
	fixture->key_path = g_build_filename(fixture->dir, "key.pem", NULL);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer user_data)
{
	g_unlink(fixture->cert_path);
	g_unlink(fixture->key_path);
	g_assert_cmpint(g_rmdir(fixture->dir), ==, 0);
	g_free(fixture->cert_path);
	g_free(fixture->key_path);
	g_free(fixture->dir);
}

static X509 *
load_cert(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *cert;

	g_assert_nonnull(bio);
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	g_assert_nonnull(cert);
	return cert;
}

static EVP_PKEY *
load_key(const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *pkey;

	g_assert_nonnull(bio);
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	g_assert_nonnull(pkey);
	return pkey;
}

static void
test_generate(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_auto(OpTlsCertInfo) info = { 0 };
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	GStatBuf st;

	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "mail.example.org", &error));
	g_assert_no_error(error);

	g_assert_cmpint(g_stat(fixture->key_path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	g_assert_cmpint(g_stat(fixture->cert_path, &st), ==, 0);

	g_assert_true(op_tls_cert_read_info(fixture->cert_path, &info, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(info.subject, ==, "mail.example.org");
	g_assert_cmpuint(g_strv_length(info.dns_names), ==, 1);
	g_assert_cmpstr(info.dns_names[0], ==, "mail.example.org");
	/* 825 days, give or take the seconds the test took. */
	g_assert_cmpint(info.not_after, >=, now + 825 * 86400 - 60);
	g_assert_cmpint(info.not_after, <=, now + 825 * 86400 + 60);
}

static void
test_extensions(Fixture *fixture, gconstpointer user_data)
{
	X509 *cert;
	EVP_PKEY *pkey;
	BASIC_CONSTRAINTS *constraints;
	int critical = -1;

	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "mail.example.org", NULL));
	cert = load_cert(fixture->cert_path);
	pkey = load_key(fixture->key_path);

	g_assert_true(EVP_PKEY_is_a(pkey, "EC"));
	g_assert_cmpint(X509_check_private_key(cert, pkey), ==, 1);
	/* Self-signed: the certificate's own key verifies its signature. */
	g_assert_cmpint(X509_verify(cert, pkey), ==, 1);
	g_assert_cmpint(X509_get_signature_nid(cert), ==, NID_ecdsa_with_SHA256);
	g_assert_cmpint(X509_get_version(cert), ==, X509_VERSION_3);

	constraints = X509_get_ext_d2i(cert, NID_basic_constraints, &critical, NULL);
	g_assert_nonnull(constraints);
	g_assert_false(constraints->ca);
	g_assert_cmpint(critical, ==, 1);
	BASIC_CONSTRAINTS_free(constraints);

	g_assert_cmpuint(X509_get_key_usage(cert), ==, KU_DIGITAL_SIGNATURE);
	g_assert_cmpuint(X509_get_extended_key_usage(cert), ==, XKU_SSL_SERVER);
	g_assert_cmpint(X509_check_host(cert, "mail.example.org", 0, 0, NULL), ==, 1);
	g_assert_cmpint(X509_check_host(cert, "other.example.org", 0, 0, NULL), ==, 0);
	/* RFC 5280 §4.1.2.2: the serial is positive. */
	g_assert_cmpint(ASN1_INTEGER_get_int64(&(int64_t){ 0 },
					       X509_get0_serialNumber(cert)), >=, 0);

	X509_free(cert);
	EVP_PKEY_free(pkey);
}

static void
test_localhost(Fixture *fixture, gconstpointer user_data)
{
	g_auto(OpTlsCertInfo) info = { 0 };
	X509 *cert;

	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "localhost", NULL));
	g_assert_true(op_tls_cert_read_info(fixture->cert_path, &info, NULL));
	g_assert_cmpuint(g_strv_length(info.dns_names), ==, 1);
	g_assert_cmpstr(info.dns_names[0], ==, "localhost");

	cert = load_cert(fixture->cert_path);
	g_assert_cmpint(X509_check_ip_asc(cert, "127.0.0.1", 0), ==, 1);
	g_assert_cmpint(X509_check_ip_asc(cert, "::1", 0), ==, 1);
	X509_free(cert);
}

static void
test_keeps_existing(Fixture *fixture, gconstpointer user_data)
{
	g_autofree char *cert_before = NULL;
	g_autofree char *key_before = NULL;
	g_autofree char *cert_after = NULL;
	g_autofree char *key_after = NULL;

	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "mail.example.org", NULL));
	g_assert_true(g_file_get_contents(fixture->cert_path, &cert_before, NULL, NULL));
	g_assert_true(g_file_get_contents(fixture->key_path, &key_before, NULL, NULL));

	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "other.example.org", NULL));
	g_assert_true(g_file_get_contents(fixture->cert_path, &cert_after, NULL, NULL));
	g_assert_true(g_file_get_contents(fixture->key_path, &key_after, NULL, NULL));
	g_assert_cmpstr(cert_before, ==, cert_after);
	g_assert_cmpstr(key_before, ==, key_after);
}

/* A key without its certificate, as a crash between the two writes leaves it,
 * is replaced by a new matching pair. */
static void
test_replaces_half_pair(Fixture *fixture, gconstpointer user_data)
{
	X509 *cert;
	EVP_PKEY *pkey;

	g_assert_true(g_file_set_contents(fixture->key_path, "stale", -1, NULL));
	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "mail.example.org", NULL));
	cert = load_cert(fixture->cert_path);
	pkey = load_key(fixture->key_path);
	g_assert_cmpint(X509_check_private_key(cert, pkey), ==, 1);
	X509_free(cert);
	EVP_PKEY_free(pkey);
}

static void
test_invalid_hostname(Fixture *fixture, gconstpointer user_data)
{
	static const char *const hostnames[] = {
		"",
		"mail.example.org,DNS:evil.example",
		"mail..example.org",
		"-mail.example.org",
		"mail_.example.org",
		"mail example.org",
		"a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(hostnames); i++) {
		g_autoptr(GError) error = NULL;

		g_test_message("hostname \"%s\"", hostnames[i]);
		g_assert_false(op_tls_cert_ensure_self_signed(fixture->cert_path,
							      fixture->key_path, hostnames[i],
							      &error));
		g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
		g_assert_false(g_file_test(fixture->cert_path, G_FILE_TEST_EXISTS));
		g_assert_false(g_file_test(fixture->key_path, G_FILE_TEST_EXISTS));
	}
}

/* The common name is limited to 64 characters (RFC 5280 Appendix A), but the
 * SubjectAltName carries the full name. */
static void
test_long_hostname(Fixture *fixture, gconstpointer user_data)
{
	const char *hostname = "a-rather-long-host-name-for-a-mail-server.departments."
			       "example.org";
	g_auto(OpTlsCertInfo) info = { 0 };
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(strlen(hostname), >, 64);
	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     hostname, &error));
	g_assert_no_error(error);
	g_assert_true(op_tls_cert_read_info(fixture->cert_path, &info, NULL));
	g_assert_cmpstr(info.dns_names[0], ==, hostname);
}

static void
test_read_info_errors(Fixture *fixture, gconstpointer user_data)
{
	g_auto(OpTlsCertInfo) info = { 0 };
	g_autoptr(GError) error = NULL;

	g_assert_false(op_tls_cert_read_info(fixture->cert_path, &info, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_NOT_FOUND);
	g_clear_error(&error);

	g_assert_true(g_file_set_contents(fixture->cert_path, "not a certificate", -1, NULL));
	g_assert_false(op_tls_cert_read_info(fixture->cert_path, &info, &error));
	g_assert_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT);
}

/* The deliverability check prints "the submission certificate PATH" and
 * then these messages, so each must read on from there. */
static void
test_check_sentences(Fixture *fixture, gconstpointer user_data)
{
	g_autoptr(GError) self_signed = NULL;
	g_autoptr(GError) no_pem = NULL;
	g_autoptr(GError) missing = NULL;
	gint64 days = 0;

	g_assert_true(op_tls_cert_ensure_self_signed(fixture->cert_path, fixture->key_path,
						     "mail.example.org", NULL));
	g_assert_false(op_tls_cert_check(fixture->cert_path, "mail.example.org", &days,
					 &self_signed));
	g_assert_error(self_signed, OP_ERROR, OP_ERROR_TEMPORARY);
	g_assert_cmpstr(self_signed->message, ==,
			"is self-signed, so mail clients warn their users or refuse to connect");

	g_assert_true(g_file_set_contents(fixture->cert_path, "not a certificate", -1, NULL));
	g_assert_false(op_tls_cert_check(fixture->cert_path, "mail.example.org", &days, &no_pem));
	g_assert_cmpstr(no_pem->message, ==, "contains no PEM certificate");

	g_unlink(fixture->cert_path);
	g_assert_false(op_tls_cert_check(fixture->cert_path, "mail.example.org", &days,
					 &missing));
	g_assert_nonnull(missing);
}

static void
add_test(const char *path, void (*test)(Fixture *fixture, gconstpointer user_data))
{
	g_test_add(path, Fixture, NULL, fixture_set_up, test, fixture_tear_down);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	add_test("/tls/cert/generate", test_generate);
	add_test("/tls/cert/extensions", test_extensions);
	add_test("/tls/cert/localhost", test_localhost);
	add_test("/tls/cert/keeps-existing", test_keeps_existing);
	add_test("/tls/cert/replaces-half-pair", test_replaces_half_pair);
	add_test("/tls/cert/invalid-hostname", test_invalid_hostname);
	add_test("/tls/cert/long-hostname", test_long_hostname);
	add_test("/tls/cert/read-info-errors", test_read_info_errors);
	add_test("/tls/cert/check-sentences", test_check_sentences);
	return g_test_run();
}
