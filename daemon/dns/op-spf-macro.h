/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * SPF macro strings (RFC 7208 §7): one walker that checks their syntax for the
 * record parser and expands them for the evaluator.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The values the macro letters expand to (RFC 7208 §7.2). */
typedef struct {
	const char *sender;        /* s: local-part@domain */
	const char *local_part;    /* l */
	const char *sender_domain; /* o */
	const char *domain;        /* d: the domain being checked */
	GInetAddress *ip;          /* i, c and v */
	const char *helo;          /* h */
	const char *receiver;      /* r: NULL expands to "unknown" */
	/* p: returns the validated domain name of ip (§5.5), or NULL for "unknown". */
	char *(*dup_validated_name)(gpointer user_data);
	gpointer user_data;
} OpSpfMacroContext;

/* Expands the macro string @text. With @context NULL only checks the syntax and
 * returns an empty string. @explanation allows the letters c, r and t and the
 * spaces of an explain-string (§6.2, §7.1). An invalid macro fails with
 * OP_ERROR_INVALID_ARGUMENT and a sentence naming it. */
char *op_spf_macro_expand(const char *text, const OpSpfMacroContext *context,
			  gboolean explanation, GError **error);

G_END_DECLS
