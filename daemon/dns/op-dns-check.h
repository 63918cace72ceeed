/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The deliverability check of a sending domain: what the authoritative DNS
 * servers publish against what Outpost generates, SPF evaluated for each
 * sending address, forward-confirmed reverse DNS and the HELO name, DNS
 * blocklists and the submission certificate. Each problem is told in a
 * sentence that names the value and the fix.
 */
#pragma once

#include <gio/gio.h>

#include "dns/op-resolver.h"

G_BEGIN_DECLS

typedef enum {
	OP_CHECK_PASS,
	OP_CHECK_WARN, /* works, but a receiver or a mail client may object */
	OP_CHECK_FAIL, /* mail goes to spam or is refused until fixed */
} OpCheckState;

typedef struct {
	char *name;	/* what was checked, such as "spf 192.0.2.10" */
	OpCheckState state;
	char *sentence; /* what was found, naming the value */
	char *fix;	/* what to do, "" when nothing */
} OpCheck;

typedef struct {
	const char *domain;
	const char *hostname;		    /* the EHLO name */
	GPtrArray *records;		    /* OpDnsRecord: what should be published */
	GPtrArray *sending_addresses;	    /* GInetAddress; empty: those of hostname */
	const char *const *dnsbl_zones;	    /* NULL-terminated */
	OpResolver *resolver;		    /* recursive: what receivers see */
	guint authoritative_port;
	const char *tls_cert;		    /* the submission certificate, PEM */
} OpDnsCheckInput;

/* Runs every check and returns the OpCheck list. Blocking (DNS queries), for
 * a worker thread. */
GPtrArray *op_dns_check_run(const OpDnsCheckInput *input);

/* "green" when every check passes, "amber" with warnings only, else "red". */
const char *op_dns_check_health(GPtrArray *checks);
const char *op_check_state_to_string(OpCheckState state);

void op_check_free(OpCheck *check);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpCheck, op_check_free)

G_END_DECLS
