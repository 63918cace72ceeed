/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The MTA-STS policy (RFC 8461) served at
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt, and the id of its
 * _mta-sts TXT record.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OP_MTA_STS_PATH "/.well-known/mta-sts.txt"

/* A week, in seconds: RFC 8461 §3.2 suggests weeks or more, and a short
 * max_age lets a changed policy spread quickly while it is in testing mode. */
#define OP_MTA_STS_MAX_AGE 604800

/* Returns the policy text for a domain whose mail is received at mx_host,
 * with CRLF line endings (RFC 8461 §3.2). */
char *op_mta_sts_dup_policy(const char *mx_host);

/* Returns the policy id: 20 hexadecimal digits of the SHA-256 of the policy
 * text, so the id changes whenever the text does (RFC 8461 §3.1). */
char *op_mta_sts_dup_id(const char *policy);

/* Returns the value of the _mta-sts TXT record, "v=STSv1; id=ID". */
char *op_mta_sts_dup_txt(const char *policy);

G_END_DECLS
