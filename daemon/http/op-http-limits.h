/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Limits of the HTTP endpoint: the request body size, the idle timeout and a
 * per-client request rate (a token bucket for each IPv4 address or IPv6 /56).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The largest request body accepted. Only autodiscover requests have a body. */
#define OP_HTTP_MAX_BODY 8192
/* A body up to this size is read and discarded, so the client receives the
 * 413 response. Past it, the connection is shut down without a response. */
#define OP_HTTP_MAX_DRAIN (1024 * 1024)
/* Seconds a connection may stay silent before it is closed. */
#define OP_HTTP_IDLE_TIMEOUT 30
/* Requests a client may make at once, and per minute after that. A mail
 * client makes a handful while an account is set up, and one office behind
 * NAT may set up several at once. */
#define OP_HTTP_RATE_BURST 60
#define OP_HTTP_RATE_PER_MINUTE 60
/* The maximum number of clients tracked. Past it, a new client evicts the
 * least recently used bucket, so memory stays bounded and no client is
 * rejected only because the table is full. */
#define OP_HTTP_RATE_MAX_CLIENTS 10000

typedef struct _OpRateLimiter OpRateLimiter;

OpRateLimiter *op_rate_limiter_new(guint burst, guint per_minute, guint max_clients);
void op_rate_limiter_free(OpRateLimiter *limiter);

/* Takes one request from client's bucket at now (monotonic microseconds) and
 * returns FALSE when the bucket is empty. */
gboolean op_rate_limiter_take(OpRateLimiter *limiter, GInetAddress *client, gint64 now);

/* Returns how many clients are tracked. */
guint op_rate_limiter_get_size(OpRateLimiter *limiter);

/* Returns the bucket key of address: the IPv4 address (also for an
 * IPv4-mapped IPv6 address), or the /56 prefix of an IPv6 address. ISPs
 * commonly delegate a /56 or a /48 to one customer site, and with /64 keys
 * one site could fill the table with 256 or more of them. */
char *op_rate_limiter_dup_client_key(GInetAddress *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpRateLimiter, op_rate_limiter_free)

G_END_DECLS
