/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Checks every argument before changing anything, so a refused call leaves
 * no trace: a domain's key file is removed again when the store refuses the
 * domain, and an account is stored only with a valid address and password.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "auth/op-password.h"
#include "dkim/op-dkim.h"
#include "dns/op-records.h"
#include "op-error.h"
#include "smtp/op-address.h"

#include <errno.h>
#include <glib/gstdio.h>

#define OP_MAX_DOMAIN_LENGTH 253
#define OP_MAX_ADDRESS_LENGTH 254

static gboolean
is_valid_label(const char *label, gsize len)
{
	if (len == 0 || len > 63 || label[0] == '-' || label[len - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(label[i]) && label[i] != '-')
			return FALSE;
	}
	return TRUE;
}

/* Returns the domain in lower-case A-label form, or an error saying why it
 * cannot be a mail domain. */
char *
op_admin_normalize_domain(const char *domain, GError **error)
{
	g_autofree char *ascii = NULL;
	g_auto(GStrv) labels = NULL;

	if (domain == NULL || *domain == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the domain name is empty: give a name such as example.org");
		return NULL;
	}
	if (!g_utf8_validate(domain, -1, NULL) || strlen(domain) > OP_MAX_DOMAIN_LENGTH)
		goto invalid;
	ascii = g_hostname_to_ascii(domain);
	if (ascii == NULL || strlen(ascii) > OP_MAX_DOMAIN_LENGTH)
		goto invalid;
	labels = g_strsplit(ascii, ".", -1);
	if (g_strv_length(labels) < 2)
		goto invalid;
	for (guint i = 0; labels[i] != NULL; i++) {
		if (!is_valid_label(labels[i], strlen(labels[i])))
			goto invalid;
	}
	return g_ascii_strdown(ascii, -1);

invalid:
	g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
		    "invalid domain name: expected labels of letters, digits and hyphens "
		    "separated by dots, such as example.org");
	return NULL;
}

static char *
dup_key_path(OpAdmin *admin, const char *domain, const char *selector)
{
	g_autofree char *name = g_strdup_printf("%s.%s.pem", domain, selector);

	return g_build_filename(admin->config->state_dir, "dkim", name, NULL);
}

gboolean
op_admin_add_domain(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *selector = NULL;
	g_autofree char *key_path = NULL;
	g_autofree char *key_dir = NULL;
	g_autoptr(OpStoreDomain) existing = NULL;

	if (name == NULL)
		return FALSE;
	existing = op_store_get_domain(admin->store, name, NULL);
	if (existing != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_EXISTS, "the domain %s is already managed",
			    name);
		return FALSE;
	}
	/* A dated selector lets a later key rotation publish a new one beside it. */
	selector = g_date_time_format(now, "op%Y%m");
	key_dir = g_build_filename(admin->config->state_dir, "dkim", NULL);
	if (g_mkdir_with_parents(key_dir, 0700) != 0) {
		int saved = errno;

		g_set_error(error, OP_ERROR, OP_ERROR_FAILED, "failed to create %s: %s", key_dir,
			    g_strerror(saved));
		return FALSE;
	}
	key_path = dup_key_path(admin, name, selector);
	/* A key left by an earlier, removed domain of the same name is replaced. */
	g_unlink(key_path);
	if (!op_dkim_generate_key(key_path, OP_DKIM_RSA_SHA256, error))
		return FALSE;
	if (!op_store_add_domain(admin->store, name, selector, key_path, "rsa-sha256", error)) {
		g_unlink(key_path);
		return FALSE;
	}
	g_message("domain %s added with DKIM selector %s", name, selector);
	return TRUE;
}

gboolean
op_admin_remove_domain(OpAdmin *admin, const char *domain, gboolean force, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(OpStoreDomain) stored = NULL;

	if (name == NULL)
		return FALSE;
	stored = op_store_get_domain(admin->store, name, error);
	if (stored == NULL)
		return FALSE;
	if (!op_store_remove_domain(admin->store, name, force, error))
		return FALSE;
	if (g_unlink(stored->dkim_key_path) != 0 && errno != ENOENT)
		g_warning("removing the DKIM key %s failed: %s", stored->dkim_key_path,
			  g_strerror(errno));
	g_message("domain %s removed", name);
	return TRUE;
}

GPtrArray *
op_admin_list_domains(OpAdmin *admin, GError **error)
{
	return op_store_list_domains(admin->store, error);
}

GPtrArray *
op_admin_get_dns_records(OpAdmin *admin, const char *domain, GError **error)
{
	g_autofree char *name = op_admin_normalize_domain(domain, error);
	g_autoptr(OpStoreDomain) stored = NULL;
	g_autofree char *txt = NULL;

	if (name == NULL)
		return NULL;
	stored = op_store_get_domain(admin->store, name, error);
	if (stored == NULL)
		return NULL;
	txt = op_dkim_dup_public_txt(stored->dkim_key_path, error);
	if (txt == NULL)
		return NULL;
	return op_records_for_domain(stored->name, admin->config->hostname, stored->dkim_selector,
				     txt, NULL);
}

/* Splits and checks an account address; returns its managed domain and
 * sets *normalized to the address with that domain's A-label form. */
static char *
check_address(OpAdmin *admin, const char *address, char **normalized, GError **error)
{
	g_autofree char *local_part = NULL;
	g_autofree char *domain = NULL;
	g_autofree char *ascii = NULL;
	g_autoptr(OpStoreDomain) stored = NULL;

	if (address == NULL || *address == '\0' || strlen(address) > OP_MAX_ADDRESS_LENGTH ||
	    !g_utf8_validate(address, -1, NULL) ||
	    !op_address_parse_mailbox(address, &local_part, &domain, NULL)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid address: expected name@domain, such as anna@example.org");
		return NULL;
	}
	ascii = op_admin_normalize_domain(domain, NULL);
	stored = ascii ? op_store_get_domain(admin->store, ascii, NULL) : NULL;
	if (stored == NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_NOT_FOUND,
			    "the domain %s is not managed: add it first", domain);
		return NULL;
	}
	*normalized = g_strdup_printf("%s@%s", local_part, stored->name);
	return g_strdup(stored->name);
}

gboolean
op_admin_add_account(OpAdmin *admin, const char *address, const char *password, GError **error)
{
	g_autofree char *normalized = NULL;
	g_autofree char *domain = check_address(admin, address, &normalized, error);
	g_autofree char *hash = NULL;

	if (domain == NULL)
		return FALSE;
	if (!op_password_check_policy(password, error))
		return FALSE;
	hash = op_password_hash(password, error);
	if (hash == NULL)
		return FALSE;
	if (!op_store_add_account(admin->store, normalized, domain, hash, error))
		return FALSE;
	g_message("account %s added", normalized);
	return TRUE;
}

gboolean
op_admin_remove_account(OpAdmin *admin, const char *address, GError **error)
{
	if (!op_store_remove_account(admin->store, address, error))
		return FALSE;
	g_message("account %s removed", address);
	return TRUE;
}

gboolean
op_admin_set_password(OpAdmin *admin, const char *address, const char *password, GError **error)
{
	g_autoptr(OpStoreAccount) account = op_store_get_account(admin->store, address, error);
	g_autofree char *hash = NULL;

	if (account == NULL)
		return FALSE;
	if (!op_password_check_policy(password, error))
		return FALSE;
	hash = op_password_hash(password, error);
	if (hash == NULL)
		return FALSE;
	if (!op_store_set_password_hash(admin->store, address, hash, error))
		return FALSE;
	g_message("password of account %s changed", address);
	return TRUE;
}
