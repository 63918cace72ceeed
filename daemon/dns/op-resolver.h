/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A blocking DNS stub resolver over ldns for the delivery threads: one
 * configured recursive server (or the system's), a timeout, and DNS answers
 * turned into GErrors whose code shows whether a retry may help.
 */
#pragma once

#include <gio/gio.h>
#include <ldns/ldns.h>

G_BEGIN_DECLS

typedef struct _OpResolver OpResolver;

/* Creates a resolver that sends its queries to @server, "ADDR", "ADDR:PORT" or
 * "[V6]:PORT" with an IP address literal (port 53 by default). With @server NULL
 * it uses the nameservers of /etc/resolv.conf, read once here; only production
 * does that, tests always name their server. @timeout_seconds bounds one query
 * (both tries together). The resolver is immutable and may be shared between
 * threads. */
OpResolver *op_resolver_new(const char *server, guint timeout_seconds, GError **error);
void op_resolver_free(OpResolver *resolver);

/* Sends one recursive query (class IN) for @name and returns the answer packet.
 * NXDOMAIN fails with OP_ERROR_NOT_FOUND; SERVFAIL, REFUSED, other error rcodes,
 * timeouts and answers that do not match the query fail with OP_ERROR_TEMPORARY;
 * an invalid @name fails with OP_ERROR_INVALID_ARGUMENT. NOERROR with no
 * records of @type (NODATA) is a success: the caller looks at the answer. */
ldns_pkt *op_resolver_query(OpResolver *resolver, const char *name, ldns_rr_type type,
			    GError **error);

/* Looks up the AAAA and A records of @host and returns them as GInetAddress*,
 * IPv6 addresses first, each family in the order of the answer. With neither
 * record type present fails with OP_ERROR_NOT_FOUND; when one lookup fails
 * temporarily and the other finds nothing, with OP_ERROR_TEMPORARY. */
GPtrArray *op_resolver_lookup_addresses(OpResolver *resolver, const char *host, GError **error);

/* Looks up the TXT records of @name and returns one string per record, its
 * character-strings concatenated (RFC 7208 §3.3). NODATA gives an empty array,
 * NXDOMAIN fails with OP_ERROR_NOT_FOUND. */
GPtrArray *op_resolver_lookup_txt(OpResolver *resolver, const char *name, GError **error);

/* Looks up the @type records of @name and returns the domain names in their
 * rdata field @field (0 for NS and PTR, 1 for the exchange of MX) without the
 * trailing dot. NODATA gives an empty array, NXDOMAIN fails with
 * OP_ERROR_NOT_FOUND. */
GPtrArray *op_resolver_lookup_names(OpResolver *resolver, const char *name, ldns_rr_type type,
				    gsize field, GError **error);

/* Returns the labels of @address in reverse order, as reverse DNS (RFC 1035
 * §3.5, RFC 3596 §2.5) and DNS blocklists (RFC 5782 §2.1) use them:
 * "4.3.2.1" for 1.2.3.4, 32 nibbles for IPv6. */
char *op_resolver_dup_reverse_labels(GInetAddress *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpResolver, op_resolver_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ldns_pkt, ldns_pkt_free)

G_END_DECLS
