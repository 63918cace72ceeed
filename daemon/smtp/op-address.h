/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Parses the reverse-path and forward-path of MAIL and RCPT (RFC 5321 §4.1.2,
 * with UTF-8 from RFC 6531) and the mailbox list of a From: or Sender: header
 * (RFC 5322 §3.4). Pure parsers over strings: no sockets and no logging.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One Mail-parameter or Rcpt-parameter (RFC 5321 §4.1.2 esmtp-param). */
typedef struct {
	char *keyword; /* upper-cased, e.g. "SIZE" */
	char *value;   /* NULL when the parameter has no "=" */
} OpSmtpParam;

typedef struct {
	/* "local@domain" with the domain as in the domain field, "" for the
	 * null path <> and "postmaster" for <postmaster>. */
	char *mailbox;
	/* The local part exactly as received. A quoted string keeps its quotes. */
	char *local_part;
	/* The domain lower-cased, "" for <> and <postmaster>. A domain with
	 * non-ASCII octets is normalised to the U-labels of domain_ascii, so
	 * "Bücher.example" and "bücher.example" give the same string. */
	char *domain;
	/* The domain in A-label form (g_hostname_to_ascii) for DNS lookups. */
	char *domain_ascii;
	/* TRUE when the local part or the domain contains non-ASCII octets. */
	gboolean utf8;
	/* OpSmtpParam *, owned. */
	GPtrArray *params;
} OpSmtpPath;

/* Parses the arguments of MAIL or RCPT, e.g. "FROM:<a@b> SIZE=10".
 * @keyword is "FROM:" or "TO:" and is matched case-insensitively. One space
 * after the colon is tolerated. The null path <> is accepted for "FROM:" only,
 * and <postmaster> without a domain for "TO:" only. Fails with
 * OP_ERROR_INVALID_ARGUMENT and a short sentence. */
gboolean op_smtp_path_parse(const char *args, const char *keyword, OpSmtpPath *path,
			    GError **error);
void op_smtp_path_clear(OpSmtpPath *path);

/* Returns the value of the parameter @keyword (case-insensitive), or NULL when
 * it is missing or has no value: use op_smtp_path_has_param() for flags. */
const char *op_smtp_path_get_param(const OpSmtpPath *path, const char *keyword);
gboolean op_smtp_path_has_param(const OpSmtpPath *path, const char *keyword);

/* Parses an addr-spec "local@domain" with the grammar used inside <>.
 * *local_part is returned as received, *domain as in OpSmtpPath.domain. */
gboolean op_address_parse_mailbox(const char *text, char **local_part, char **domain,
				  GError **error);

/* Appends to @addresses (of char *, the caller frees them) every addr-spec of
 * an RFC 5322 From: or Sender: header value as "local@domain", with the domain
 * as in OpSmtpPath.domain. Accepts folding, display names, quoted strings, comments,
 * angle addresses and groups. Fails when the syntax is invalid or the value
 * contains no address. */
gboolean op_address_parse_header(const char *value, GPtrArray *addresses, GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(OpSmtpPath, op_smtp_path_clear)

G_END_DECLS
