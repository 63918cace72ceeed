/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Apple configuration profiles (.mobileconfig) with one com.apple.mail.managed
 * payload that sets up an account in Apple Mail on macOS and iOS.
 */
#pragma once

#include "http/op-client-settings.h"

G_BEGIN_DECLS

#define OP_MOBILECONFIG_CONTENT_TYPE "application/x-apple-aspen-config"

/* Returns the unsigned profile (an XML property list) for address. The
 * payload identifiers and UUIDs derive from the address, so a profile made
 * again is the same and replaces the installed one. The password is not in
 * the profile, so the device requests it on installation. Fails with
 * OP_ERROR_NOT_FOUND when the domain has neither an IMAP nor a POP3 server,
 * because the payload must name an incoming server. */
GBytes *op_mobileconfig_new(const OpClientSettings *settings, const char *address,
			    GError **error);

/* The server certificate and key that sign profiles, read once before the
 * daemon drops its privileges. */
typedef struct _OpProfileSigner OpProfileSigner;

OpProfileSigner *op_profile_signer_new(const char *cert_path, const char *key_path,
				       GError **error);
void op_profile_signer_free(OpProfileSigner *signer);

/* Returns profile wrapped in a CMS SignedData structure (DER) that contains
 * the profile and is signed with the key. The certificates of cert_path are
 * included, so a device can show who signed the profile. */
GBytes *op_profile_signer_sign(OpProfileSigner *signer, GBytes *profile, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpProfileSigner, op_profile_signer_free)

G_END_DECLS
