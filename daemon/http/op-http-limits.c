/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A token-bucket rate limiter keyed by client network. Each bucket holds up
 * to burst tokens and refills at per_minute tokens a minute; a request takes
 * one token. When the table is full, the least recently used bucket is
 * evicted. Used on the main loop only.
 */
#include "http/op-http-limits.h"

#include <string.h>

#define OP_USEC_PER_MINUTE (60 * G_USEC_PER_SEC)

typedef struct {
	double tokens;
	gint64 updated; /* monotonic microseconds of the last refill */
	GList link;     /* in OpRateLimiter.recent; link.data is the client key */
} OpBucket;

struct _OpRateLimiter {
	guint burst;
	guint per_minute;
	guint max_clients;
	GHashTable *buckets; /* client key to OpBucket */
	GQueue recent;       /* bucket links, least recently used first */
};

OpRateLimiter *
op_rate_limiter_new(guint burst, guint per_minute, guint max_clients)
{
	OpRateLimiter *limiter = g_new0(OpRateLimiter, 1);

	limiter->burst = MAX(burst, 1);
	limiter->per_minute = MAX(per_minute, 1);
	limiter->max_clients = MAX(max_clients, 1);
	limiter->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_queue_init(&limiter->recent);
	return limiter;
}

void
op_rate_limiter_free(OpRateLimiter *limiter)
{
	if (limiter == NULL)
		return;
	/* The queue links live inside the buckets, which the table frees. */
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
	return g_strdup_printf("%02x%02x:%02x%02x:%02x%02x:%02x00::/56", bytes[0], bytes[1],
			       bytes[2], bytes[3], bytes[4], bytes[5], bytes[6]);
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

/* Evicts the least recently used bucket. Its client then starts again with a
 * full bucket, so a client that was being limited could get one more burst.
 * That costs at most burst requests, while rejecting new clients would lock
 * out legitimate ones for as long as the table stays full. */
static void
evict_least_recent(OpRateLimiter *limiter)
{
	GList *link = g_queue_peek_head_link(&limiter->recent);

	if (link == NULL)
		return;
	g_queue_unlink(&limiter->recent, link);
	g_hash_table_remove(limiter->buckets, link->data);
}

static OpBucket *
add_bucket(OpRateLimiter *limiter, char *key, gint64 now)
{
	OpBucket *bucket;

	while (g_hash_table_size(limiter->buckets) >= limiter->max_clients)
		evict_least_recent(limiter);
	bucket = g_new0(OpBucket, 1);
	bucket->tokens = limiter->burst;
	bucket->updated = now;
	bucket->link.data = key;
	g_hash_table_insert(limiter->buckets, key, bucket);
	g_queue_push_tail_link(&limiter->recent, &bucket->link);
	return bucket;
}

gboolean
op_rate_limiter_take(OpRateLimiter *limiter, GInetAddress *client, gint64 now)
{
	g_autofree char *key = op_rate_limiter_dup_client_key(client);
	OpBucket *bucket = g_hash_table_lookup(limiter->buckets, key);

	if (bucket == NULL) {
		bucket = add_bucket(limiter, g_steal_pointer(&key), now);
	} else {
		g_queue_unlink(&limiter->recent, &bucket->link);
		g_queue_push_tail_link(&limiter->recent, &bucket->link);
	}
	refill(limiter, bucket, now);
	if (bucket->tokens < 1.0)
		return FALSE;
	bucket->tokens -= 1.0;
	return TRUE;
}
