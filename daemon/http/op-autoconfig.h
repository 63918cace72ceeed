/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Thunderbird autoconfig: the clientConfig 1.1 document that Thunderbird (and
 * other clients of draft-ietf-mailmaint-autoconfig) fetch from
 * autoconfig.DOMAIN/mail/config-v1.1.xml.
 */
#pragma once

#include "http/op-client-settings.h"

G_BEGIN_DECLS

/* The paths Thunderbird tries, on autoconfig.DOMAIN and on DOMAIN. */
#define OP_AUTOCONFIG_PATH "/mail/config-v1.1.xml"
#define OP_AUTOCONFIG_WELL_KNOWN_PATH "/.well-known/autoconfig/mail/config-v1.1.xml"

/* Returns the clientConfig document for settings: the domain's IMAP and POP3
 * servers when set, and outpostd's submission server on 587 (STARTTLS) and
 * 465 (SSL), each with %EMAILADDRESS% as user name and password-cleartext
 * authentication. */
char *op_autoconfig_dup_xml(const OpClientSettings *settings, gsize *length, GError **error);

G_END_DECLS
