/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Builds the MTA-STS policy text and the id that ties it to the _mta-sts TXT
 * record. The HTTP endpoint and the DNS record generator both derive them
 * from the host name, so the served policy and the published id agree.
 */
#include "http/op-mta-sts.h"

#include <string.h>

/* RFC 8461 §3.1: the id is 1 to 32 letters and digits. */
#define OP_MTA_STS_ID_LENGTH 20

char *
op_mta_sts_dup_policy(const char *mx_host)
{
	g_autofree char *host = g_ascii_strdown(mx_host, -1);
	gsize length = strlen(host);

	while (length > 0 && host[length - 1] == '.')
		host[--length] = '\0';
	/* TODO: the policy names only outpostd's host name as MX, because no
	 * setting stores where a domain receives its mail. "testing" keeps a
	 * wrong MX list from costing mail: senders only report (RFC 8461 §5). */
	return g_strdup_printf("version: STSv1\r\n"
			       "mode: testing\r\n"
			       "mx: %s\r\n"
			       "max_age: %d\r\n",
			       host, OP_MTA_STS_MAX_AGE);
}

char *
op_mta_sts_dup_id(const char *policy)
{
	g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, policy, -1);

	return g_strndup(digest, OP_MTA_STS_ID_LENGTH);
}

char *
op_mta_sts_dup_txt(const char *policy)
{
	g_autofree char *id = op_mta_sts_dup_id(policy);

	return g_strdup_printf("v=STSv1; id=%s", id);
}
