/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Finds where to deliver mail for a domain: its MX hosts in preference
 * order with their addresses (RFC 5321 §5.1), the implicit MX, the null MX of
 * RFC 7505, and the check that keeps the server from delivering to itself.
 */
#pragma once

#include <gio/gio.h>

#include "dns/op-resolver.h"

G_BEGIN_DECLS

/* At most this many MX hosts are tried, and this many addresses of each. */
#define OP_MX_MAX_HOSTS 10
#define OP_MX_MAX_ADDRESSES 16

typedef struct {
	char *host;	      /* lower-case, no trailing dot; "" is the root (null MX) */
	guint preference;
	GPtrArray *addresses; /* GInetAddress*; NULL or empty when it has none */
} OpMxHost;

typedef struct {
	char **own_names;	  /* our hostname, "localhost" etc; lower-case; NULL-terminated */
	GPtrArray *own_addresses; /* GInetSocketAddress* the daemon listens on; 0.0.0.0 and ::
				     stand for every local address with that port */
	guint delivery_port;	  /* the port delivery connects to */
} OpMxSelf;

OpMxHost *op_mx_host_new(const char *host, guint preference);
void op_mx_host_free(OpMxHost *host);

/* Resolves @domain_ascii to its MX hosts, best first, each with at least one
 * address. Fails with OP_ERROR_PERMANENT for a null MX, a domain that does not
 * exist, a domain with neither MX nor address records, and mail that would loop
 * back to this server. Fails with OP_ERROR_TEMPORARY when DNS fails or no MX
 * host has an address yet. op_mx_error_status() gives the enhanced status
 * code. Blocking. */
GPtrArray *op_mx_resolve(OpResolver *resolver, const char *domain_ascii, const OpMxSelf *self,
			 GError **error);

/* Orders parsed MX records (OpMxHost* without addresses): drops duplicates,
 * sorts by preference with equal preferences shuffled (RFC 5321 §5.1), keeps
 * the first OP_MX_MAX_HOSTS. No records gives the implicit MX, @domain at
 * preference 0. Records that all point at the root are a null MX and fail
 * with OP_ERROR_PERMANENT (RFC 7505 §3). Returns new hosts; @records is not
 * changed. */
GPtrArray *op_mx_order(GPtrArray *records, const char *domain, GError **error);

/* Applies the self check and address limits to ordered hosts with their
 * addresses. When this server is one of the hosts, it and every host of equal
 * or higher preference are dropped (RFC 5321 §5.1). If that leaves none, fails
 * with OP_ERROR_PERMANENT. Hosts without a usable address are skipped; if none
 * is left, fails with OP_ERROR_TEMPORARY. Returns copies of the kept hosts. */
GPtrArray *op_mx_select(GPtrArray *hosts, const char *domain, const OpMxSelf *self,
			GError **error);

/* Returns the RFC 3463 enhanced status code for an error from op_mx_resolve:
 * "5.1.10" null MX, "5.1.2" no such domain, "5.4.6" routing loop, "5.4.4" no
 * route, "4.4.3" DNS failure, "4.4.4" no address yet. */
const char *op_mx_error_status(const GError *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpMxHost, op_mx_host_free)

G_END_DECLS
