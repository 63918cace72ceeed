/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Maps an HTTP request's Host header and path to what the endpoint serves and
 * the domain it is asked about, before any lookup in the store.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	OP_HTTP_ROUTE_NONE,	    /* nothing served here: 404 */
	OP_HTTP_ROUTE_AUTOCONFIG,   /* Thunderbird's clientConfig */
	OP_HTTP_ROUTE_AUTODISCOVER, /* Outlook's POX autodiscover */
	OP_HTTP_ROUTE_MTA_STS,	    /* the MTA-STS policy, on mta-sts.DOMAIN only */
	OP_HTTP_ROUTE_PROFILE,	    /* an Apple profile by its token */
} OpHttpRouteKind;

typedef struct {
	OpHttpRouteKind kind;
	/* The domain named by the Host header, without autoconfig.,
	 * autodiscover. or mta-sts.; NULL when the host is outpostd's own name. */
	char *domain;
	char *token; /* OP_HTTP_ROUTE_PROFILE: the profile token */
} OpHttpRoute;

#define OP_HTTP_PROFILE_PREFIX "/profile/"
#define OP_HTTP_PROFILE_SUFFIX ".mobileconfig"

/* Fills route for a request; returns FALSE (and route->kind NONE) when the
 * host or the path matches nothing served. host is the Host header (with an
 * optional port), own_host is outpostd's host name. */
gboolean op_http_route_parse(const char *host, const char *path, const char *own_host,
			     OpHttpRoute *route);
void op_http_route_clear(OpHttpRoute *route);

/* Returns host without its port and trailing dot, in lower case, or NULL when
 * it is empty or not a plausible DNS name or address literal. */
char *op_http_route_dup_host_name(const char *host);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpHttpRoute, op_http_route_clear)

G_END_DECLS
