/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Publishing a domain's generated records to its primary DNS server with one
 * DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945).
 */
#pragma once

#include "dns/op-publisher.h"

G_BEGIN_DECLS

/* Checks the arguments before anything is sent: a server that is an IP
 * address with an optional port ("192.0.2.53", "192.0.2.53:5353",
 * "[2001:db8::53]:53"), a key name that is a domain name, an algorithm of
 * "hmac-sha256" or "hmac-sha512", and a secret in base64. Errors are
 * OP_ERROR_INVALID_ARGUMENT and never quote the secret. */
gboolean op_dns_publish_check_arguments(const char *server, const char *tsig_name,
					const char *tsig_algorithm,
					const char *tsig_secret_base64, GError **error);

/* Replaces, in one atomic UPDATE to server (as above, port 53 by default), the
 * record sets Outpost owns for each record of records (OpDnsRecord *) and adds
 * the new records. The zone's SOA must exist. Where records contains an SPF
 * record, only the TXT records starting with "v=spf1" are replaced, so the
 * name's other TXT records stay. A rejected key or refused update is
 * OP_ERROR_ACCESS_DENIED, an unreachable server OP_ERROR_TEMPORARY. */
gboolean op_dns_publish(const char *zone, const char *server, const char *tsig_name,
			const char *tsig_algorithm, const char *tsig_secret_base64,
			GPtrArray *records, GError **error);

/* The "dns-update" entry of the publisher table (op-publisher.c). */
extern const OpPublisher op_publisher_dns_update;

G_END_DECLS
