/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * DNS publishing: sends a managed domain's generated records to its primary
 * DNS server. The TSIG secret serves this one call: it is neither stored nor
 * logged.
 */
#define G_LOG_DOMAIN "outpost-admin"

#include "op-admin.h"

#include "dns/op-publish.h"
#include "dns/op-records.h"

gboolean
op_admin_publish_dns_records(OpAdmin *admin, const char *domain, const char *server,
			     const char *tsig_name, const char *tsig_algorithm,
			     const char *tsig_secret, guint *count, GError **error)
{
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *name = NULL;

	name = op_admin_normalize_domain(domain, error);
	if (name == NULL)
		return FALSE;
	records = op_admin_get_dns_records(admin, name, error);
	if (records == NULL)
		return FALSE;
	/* Every argument is checked before anything goes to the network. */
	if (!op_dns_publish_check_arguments(server, tsig_name, tsig_algorithm, tsig_secret,
					    error))
		return FALSE;
	if (!op_dns_publish(name, server, tsig_name, tsig_algorithm, tsig_secret, records,
			    error))
		return FALSE;
	g_info("published %u DNS records of %s to %s with the TSIG key %s", records->len, name,
	       server, tsig_name);
	*count = records->len;
	return TRUE;
}
