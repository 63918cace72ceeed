/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Declarations shared by the outpostctl source files: the options, the D-Bus
 * proxy, the command tables of each area and the output helpers.
 */
#pragma once

#include "op-dbus-generated.h"

#include <glib.h>

G_BEGIN_DECLS

/* Entries per page when a command lists everything. */
#define OP_PAGE 1000

typedef struct {
	gboolean session_bus;
	gboolean json;
	gboolean password_stdin;
	gboolean force;
	gboolean descending;
	char *filter;
	char *sort;
	char *state;
	char *sender;
	char *recipient;
	char *domain;
	char *since;
	char *until;
	char *id;	    /* log search: a queue id */
	char *enabled;	    /* domain set: "yes" or "no" */
	char *hourly_limit; /* domain set: messages per hour, 0 for no limit */
	char *smarthost;    /* domain set: "HOST:PORT", "" for delivery by MX */
	char *server;	    /* dns publish: "HOST[:PORT]" of the primary DNS server */
	char *tsig;	    /* dns publish: "NAME:ALGORITHM:SECRET", or "-" for stdin */
	char *tsig_file;    /* dns publish: a file whose first line is as --tsig */
	/* domain set and dkim (ctl-domains.c, ctl-dkim.c) */
	char *dkim_selector; /* domain set: start a rotation to this selector */
	char *imap_server;   /* domain set: "HOST:PORT" clients read mail from */
	char *pop3_server;
	char *dmarc_policy;  /* domain set: none, quarantine or reject */
	char *dmarc_rua;     /* domain set: the DMARC report address */
	char *algorithm;     /* dkim rotate: rsa or ed25519 */
	/* dns target set and dns records --zone-file (publish area, ctl-dns.c) */
	char *powerdns;	    /* the PowerDNS API's base URL */
	char *api_key_file; /* a file whose first line is the API key, "-" for stdin */
	char *server_id;    /* the PowerDNS server id, "localhost" when NULL */
	char *zone;	    /* the zone that contains the domain */
	gboolean zone_file; /* dns records: print zone-file lines */
	OpDbusOutpost1Manager *proxy;
} OpCtl;

typedef gboolean (*OpCommandFunc)(OpCtl *ctl, char **args, GError **error);

/* One command: noun, verb, the function and a help line "ARGS: what it does". */
typedef struct {
	const char *noun;
	const char *verb;
	OpCommandFunc func;
	const char *help;
} OpCtlCommand;

/* Tables of each area, ended by an entry whose noun is NULL. */
extern const OpCtlCommand op_ctl_domain_commands[];
extern const OpCtlCommand op_ctl_queue_commands[];
extern const OpCtlCommand op_ctl_settings_commands[];
extern const OpCtlCommand op_ctl_dns_commands[];
extern const OpCtlCommand op_ctl_dkim_commands[];
extern const OpCtlCommand op_ctl_check_commands[];
extern const OpCtlCommand op_ctl_client_commands[];

void op_ctl_print_json(GVariant *value);
const char *op_ctl_lookup_string(GVariant *dict, const char *key);
gboolean op_ctl_expect_args(char **args, guint count, const char *usage, GError **error);
char *op_ctl_read_password(OpCtl *ctl, GError **error);
void op_ctl_print_zone_file(GVariant *records);

G_END_DECLS
