/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A token-bucket rate limiter keyed by client network. Each bucket holds up
 * to burst tokens and refills at per_minute tokens a minute; a request takes
 * one token. Used on the main loop only.
 */
#include "http/op-http-limits.h"

#include <string.h>

#define OP_USEC_PER_MINUTE (60 * G_USEC_PER_SEC)

typedef struct {
	double tokens;
	gint64 updated; /* monotonic microseconds of the last refill */
} OpBucket;

struct _OpRateLimiter {
	guint burst;
	guint per_minute;
	guint max_clients;
	GHashTable *buckets; /* client key to OpBucket */
};

OpRateLimiter *
op_rate_limiter_new(guint burst, guint per_minute, guint max_clients)
{
	OpRateLimiter *limiter = g_new0(OpRateLimiter, 1);

	limiter->burst = MAX(burst, 1);
	limiter->per_minute = MAX(per_minute, 1);
	limiter->max_clients = MAX(max_clients, 1);
	limiter->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return limiter;
}

void
op_rate_limiter_free(OpRateLimiter *limiter)
{
	if (limiter == NULL)
		return;
	g_hash_table_unref(limiter->buckets);
	g_free(limiter);
}

guint
op_rate_limiter_get_size(OpRateLimiter *limiter)
{
	return g_hash_table_size(limiter->buckets);
}

char *
op_rate_limiter_dup_client_key(GInetAddress *address)
{
	const guint8 *bytes = g_inet_address_to_bytes(address);
	static const guint8 mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV4)
		return g_inet_address_to_string(address);
	if (memcmp(bytes, mapped_prefix, sizeof mapped_prefix) == 0)
		return g_strdup_printf("%u.%u.%u.%u", bytes[12], bytes[13], bytes[14], bytes[15]);
	return g_strdup_printf("%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", bytes[0], bytes[1],
			       bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]);
}

static void
refill(OpRateLimiter *limiter, OpBucket *bucket, gint64 now)
{
	gint64 elapsed = now - bucket->updated;

	if (elapsed <= 0)
		return;
	bucket->tokens += (double)elapsed * limiter->per_minute / OP_USEC_PER_MINUTE;
	if (bucket->tokens > limiter->burst)
		bucket->tokens = limiter->burst;
	bucket->updated = now;
}

/* Forgets the clients whose buckets have refilled completely: they behave
 * like a new client. */
static void
forget_idle(OpRateLimiter *limiter, gint64 now)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, limiter->buckets);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		OpBucket *bucket = value;

		refill(limiter, bucket, now);
		if (bucket->tokens >= limiter->burst)
			g_hash_table_iter_remove(&iter);
	}
}

gboolean
op_rate_limiter_take(OpRateLimiter *limiter, GInetAddress *client, gint64 now)
{
	g_autofree char *key = op_rate_limiter_dup_client_key(client);
	OpBucket *bucket = g_hash_table_lookup(limiter->buckets, key);

	if (bucket == NULL) {
		if (g_hash_table_size(limiter->buckets) >= limiter->max_clients)
			forget_idle(limiter, now);
		if (g_hash_table_size(limiter->buckets) >= limiter->max_clients)
			return FALSE;
		bucket = g_new0(OpBucket, 1);
		bucket->tokens = limiter->burst;
		bucket->updated = now;
		g_hash_table_insert(limiter->buckets, g_steal_pointer(&key), bucket);
	}
	refill(limiter, bucket, now);
	if (bucket->tokens < 1.0)
		return FALSE;
	bucket->tokens -= 1.0;
	return TRUE;
}
