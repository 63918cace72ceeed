/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Self-signed server certificates for a first start without an admin-supplied
 * certificate, made with OpenSSL, and a reader for the subject, names and expiry
 * that the admin app shows.
 */
#include "tls/op-tls-cert.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "op-error.h"

/* The CA/Browser Forum maximum for server certificates from 2018 to 2020. Clients
 * still accept it, and it spares the admin yearly renewals of a self-signed pair. */
#define OP_TLS_CERT_VALIDITY_DAYS 825
/* RFC 5280 §4.1.2.2: serials are positive and at most 20 octets. */
#define OP_TLS_CERT_SERIAL_BITS 159
/* RFC 5280 Appendix A: ub-common-name is 64 characters. */
#define OP_TLS_CERT_MAX_CN 64

G_DEFINE_AUTOPTR_CLEANUP_FUNC(EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BIO, BIO_free_all)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BIGNUM, BN_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GENERAL_NAMES, GENERAL_NAMES_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(X509_EXTENSION, X509_EXTENSION_free)

/* Accepts a DNS name of letters, digits and hyphens (RFC 1123 §2.1) or an IP
 * address, so that the name can go into the certificate unchanged. */
static gboolean
op_tls_cert_check_hostname(const char *hostname, GError **error)
{
	g_auto(GStrv) labels = NULL;
	gsize len = strlen(hostname);
	guint i;

	if (g_hostname_is_ip_address(hostname))
		return TRUE;
	if (len == 0 || len > 253)
		goto invalid;
	labels = g_strsplit(hostname, ".", -1);
	for (i = 0; labels[i] != NULL; i++) {
		gsize label_len = strlen(labels[i]);
		gsize j;

		if (label_len == 0 || label_len > 63 || labels[i][0] == '-' ||
		    labels[i][label_len - 1] == '-')
			goto invalid;
		for (j = 0; j < label_len; j++) {
			if (!g_ascii_isalnum(labels[i][j]) && labels[i][j] != '-')
				goto invalid;
		}
	}
	return TRUE;

invalid:
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "Invalid host name “%s” for a certificate: use a DNS name such as "
		    "mail.example.org",
		    hostname);
	return FALSE;
}

static gboolean
op_tls_cert_add_name(GENERAL_NAMES *names, const char *name)
{
	GENERAL_NAME *general_name;

	if (g_hostname_is_ip_address(name)) {
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);

		if (ip == NULL)
			return FALSE;
		general_name = GENERAL_NAME_new();
		GENERAL_NAME_set0_value(general_name, GEN_IPADD, ip);
	} else {
		ASN1_IA5STRING *dns = ASN1_IA5STRING_new();

		if (dns == NULL || !ASN1_STRING_set(dns, name, -1)) {
			ASN1_IA5STRING_free(dns);
			return FALSE;
		}
		general_name = GENERAL_NAME_new();
		GENERAL_NAME_set0_value(general_name, GEN_DNS, dns);
	}
	return sk_GENERAL_NAME_push(names, general_name) > 0;
}

static gboolean
op_tls_cert_add_subject_alt_names(X509 *cert, const char *hostname)
{
	g_autoptr(GENERAL_NAMES) names = GENERAL_NAMES_new();

	if (names == NULL || !op_tls_cert_add_name(names, hostname))
		return FALSE;
	/* Local clients on a development host connect to the loopback addresses. */
	if (g_ascii_strcasecmp(hostname, "localhost") == 0 &&
	    (!op_tls_cert_add_name(names, "127.0.0.1") || !op_tls_cert_add_name(names, "::1")))
		return FALSE;
	return X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) == 1;
}

static gboolean
op_tls_cert_add_extensions(X509 *cert)
{
	static const struct {
		int nid;
		const char *value;
	} extensions[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature" },
		{ NID_ext_key_usage, "serverAuth" },
		{ NID_subject_key_identifier, "hash" },
	};
	X509V3_CTX ctx;
	gsize i;

	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	for (i = 0; i < G_N_ELEMENTS(extensions); i++) {
		g_autoptr(X509_EXTENSION) extension = NULL;

		extension = X509V3_EXT_conf_nid(NULL, &ctx, extensions[i].nid,
						extensions[i].value);
		if (extension == NULL || !X509_add_ext(cert, extension, -1))
			return FALSE;
	}
	return TRUE;
}

static gboolean
op_tls_cert_set_serial(X509 *cert)
{
	g_autoptr(BIGNUM) serial = BN_new();

	if (serial == NULL ||
	    !BN_rand(serial, OP_TLS_CERT_SERIAL_BITS, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
		return FALSE;
	return BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) != NULL;
}

static gboolean
op_tls_cert_set_subject(X509 *cert, const char *hostname)
{
	X509_NAME *name = X509_get_subject_name(cert);
	const char *common_name = hostname;

	/* A longer host name still reaches clients through the SubjectAltName, which
	 * is what they check (RFC 6125 §6.4.4). */
	if (strlen(hostname) > OP_TLS_CERT_MAX_CN)
		common_name = "Outpost self-signed";
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)common_name, -1, -1, 0))
		return FALSE;
	return X509_set_issuer_name(cert, name) == 1;
}

static X509 *
op_tls_cert_build(EVP_PKEY *pkey, const char *hostname)
{
	g_autoptr(X509) cert = X509_new();

	if (cert == NULL || !X509_set_version(cert, X509_VERSION_3) ||
	    !op_tls_cert_set_serial(cert) || !op_tls_cert_set_subject(cert, hostname))
		return NULL;
	if (X509_gmtime_adj(X509_getm_notBefore(cert), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert),
			    (long)OP_TLS_CERT_VALIDITY_DAYS * 24 * 3600) == NULL)
		return NULL;
	if (!X509_set_pubkey(cert, pkey) || !op_tls_cert_add_extensions(cert) ||
	    !op_tls_cert_add_subject_alt_names(cert, hostname))
		return NULL;
	if (X509_sign(cert, pkey, EVP_sha256()) <= 0)
		return NULL;
	return g_steal_pointer(&cert);
}

/* Replaces path with the contents of bio through a temporary file in the same
 * directory: write, fsync, rename, then fsync the directory. */
static gboolean
op_tls_cert_write_file(const char *path, BIO *bio, mode_t mode, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *tmp_path = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	int fd;
	int dir_fd;

	fd = g_mkstemp_full(tmp_path, O_RDWR | O_CLOEXEC, (int)mode);
	if (fd < 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "Cannot create a file in %s: %s",
			    dir, g_strerror(errno));
		return FALSE;
	}
	while (len > 0) {
		ssize_t written = write(fd, data, (size_t)len);

		if (written < 0 && errno == EINTR)
			continue;
		if (written <= 0)
			break;
		data += written;
		len -= written;
	}
	if (len > 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0 ||
	    rename(tmp_path, path) != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "Cannot write %s: %s", path,
			    g_strerror(errno));
		close(fd);
		g_unlink(tmp_path);
		return FALSE;
	}
	close(fd);

	dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0 || fsync(dir_fd) != 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "Cannot sync directory %s: %s",
			    dir, g_strerror(errno));
		if (dir_fd >= 0)
			close(dir_fd);
		return FALSE;
	}
	close(dir_fd);
	return TRUE;
}

gboolean
op_tls_cert_ensure_self_signed(const char *cert_path, const char *key_path,
			       const char *hostname, GError **error)
{
	g_autoptr(EVP_PKEY) pkey = NULL;
	g_autoptr(X509) cert = NULL;
	g_autoptr(BIO) key_bio = BIO_new(BIO_s_secmem());
	g_autoptr(BIO) cert_bio = BIO_new(BIO_s_mem());

	g_return_val_if_fail(cert_path != NULL && key_path != NULL, FALSE);
	g_return_val_if_fail(hostname != NULL, FALSE);

	if (g_file_test(cert_path, G_FILE_TEST_EXISTS) &&
	    g_file_test(key_path, G_FILE_TEST_EXISTS))
		return TRUE;
	if (!op_tls_cert_check_hostname(hostname, error))
		return FALSE;

	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cert = pkey != NULL ? op_tls_cert_build(pkey, hostname) : NULL;
	if (cert == NULL || key_bio == NULL || cert_bio == NULL ||
	    !PEM_write_bio_PrivateKey(key_bio, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cert_bio, cert)) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED,
			    "Cannot generate a self-signed certificate for %s", hostname);
		return FALSE;
	}

	/* The key goes first: a crash between the two writes leaves no certificate,
	 * so the next start makes a new pair instead of using a mismatched one. */
	if (!op_tls_cert_write_file(key_path, key_bio, 0600, error) ||
	    !op_tls_cert_write_file(cert_path, cert_bio, 0644, error)) {
		g_prefix_error(error, "Cannot save the self-signed certificate: ");
		return FALSE;
	}
	return TRUE;
}

static char *
op_tls_cert_dup_subject(X509 *cert)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	g_autoptr(BIO) bio = NULL;
	unsigned char *utf8 = NULL;
	char *data = NULL;
	long len;

	if (index >= 0) {
		ASN1_STRING *value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
		int utf8_len = ASN1_STRING_to_UTF8(&utf8, value);

		if (utf8_len >= 0) {
			char *subject = g_strndup((const char *)utf8, (gsize)utf8_len);

			OPENSSL_free(utf8);
			return subject;
		}
	}

	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
		return g_strdup("");
	len = BIO_get_mem_data(bio, &data);
	return g_strndup(data, (gsize)len);
}

static char **
op_tls_cert_dup_dns_names(X509 *cert)
{
	g_autoptr(GENERAL_NAMES) names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
							  NULL);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	int i;

	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
		const unsigned char *data;
		int len;

		if (name->type != GEN_DNS)
			continue;
		data = ASN1_STRING_get0_data(name->d.dNSName);
		len = ASN1_STRING_length(name->d.dNSName);
		/* A NUL inside a name would let "a.example\0.evil" pass for "a.example". */
		if (len > 0 && memchr(data, '\0', (size_t)len) == NULL) {
			g_autofree char *dns_name = g_strndup((const char *)data, (gsize)len);

			g_strv_builder_add(builder, dns_name);
		}
	}
	return g_strv_builder_end(builder);
}

gboolean
op_tls_cert_read_info(const char *cert_path, OpTlsCertInfo *info, GError **error)
{
	g_autoptr(BIO) bio = NULL;
	g_autoptr(X509) cert = NULL;
	struct tm not_after;

	g_return_val_if_fail(cert_path != NULL && info != NULL, FALSE);

	memset(info, 0, sizeof(*info));
	bio = BIO_new_file(cert_path, "r");
	if (bio == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND, "Cannot open %s: %s", cert_path,
			    g_strerror(errno));
		return FALSE;
	}
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (cert == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "%s does not contain a PEM certificate", cert_path);
		return FALSE;
	}
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert), &not_after)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "The certificate in %s has an invalid expiry date", cert_path);
		return FALSE;
	}

	info->subject = op_tls_cert_dup_subject(cert);
	info->dns_names = op_tls_cert_dup_dns_names(cert);
	info->not_after = (gint64)timegm(&not_after);
	return TRUE;
}

void
op_tls_cert_info_clear(OpTlsCertInfo *info)
{
	if (info == NULL)
		return;
	g_clear_pointer(&info->subject, g_free);
	g_clear_pointer(&info->dns_names, g_strfreev);
	info->not_after = 0;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(X509_STORE_CTX, X509_STORE_CTX_free)

static void
free_certificates(STACK_OF(X509) *certificates)
{
	sk_X509_pop_free(certificates, X509_free);
}

/* Reads every certificate of the PEM file: the leaf first, then the chain. */
static STACK_OF(X509) *
read_chain(const char *cert_path, GError **error)
{
	g_autoptr(BIO) bio = BIO_new_file(cert_path, "r");
	STACK_OF(X509) *certificates;
	X509 *certificate;

	if (bio == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "cannot be read");
		return NULL;
	}
	certificates = sk_X509_new_null();
	while ((certificate = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(certificates, certificate);
	ERR_clear_error();
	if (sk_X509_num(certificates) == 0) {
		free_certificates(certificates);
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "contains no PEM certificate");
		return NULL;
	}
	return certificates;
}

static void
set_verify_error(int code, const char *hostname, GError **error)
{
	switch (code) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "is self-signed, so mail clients warn their users or refuse to "
			    "connect");
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		g_set_error(error, OP_ERROR, OP_ERROR_TEMPORARY,
			    "does not chain to a trusted CA, perhaps because the file lacks the "
			    "intermediate certificates");
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "has expired");
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "is not valid for %s", hostname);
		break;
	default:
		g_set_error(error, OP_ERROR, OP_ERROR_PERMANENT, "failed verification (%s)",
			    X509_verify_cert_error_string(code));
	}
}

gboolean
op_tls_cert_check(const char *cert_path, const char *hostname, gint64 *days_left,
		  GError **error)
{
	STACK_OF(X509) *chain = read_chain(cert_path, error);
	g_autoptr(X509_STORE) store = X509_STORE_new();
	g_autoptr(X509_STORE_CTX) context = X509_STORE_CTX_new();
	X509 *leaf;
	int days = 0;
	int seconds = 0;
	gboolean ok = FALSE;

	if (chain == NULL)
		return FALSE;
	leaf = sk_X509_value(chain, 0);
	/* The system's trust store, or SSL_CERT_FILE and SSL_CERT_DIR when set. */
	if (store == NULL || context == NULL || !X509_STORE_set_default_paths(store) ||
	    !X509_STORE_CTX_init(context, store, leaf, chain)) {
		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "cannot be verified because memory ran out");
		goto out;
	}
	X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(context), hostname, 0);
	if (X509_verify_cert(context) != 1) {
		set_verify_error(X509_STORE_CTX_get_error(context), hostname, error);
		goto out;
	}
	ASN1_TIME_diff(&days, &seconds, NULL, X509_get0_notAfter(leaf));
	*days_left = days;
	ok = TRUE;
out:
	ERR_clear_error();
	free_certificates(chain);
	return ok;
}
