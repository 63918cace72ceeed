/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reading the tags of a DKIM key record, to compare what DNS serves with the
 * key Outpost signs with.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns the value of tag in the DKIM tag list record with all whitespace
 * removed, or NULL when the tag is absent. */
char *op_dkim_record_dup_tag(const char *record, const char *tag);

/* Whether the published record carries the same key type and public key (p=)
 * as expected, in a record verifiers use: v= absent or "DKIM1" first, h=
 * allowing sha256, s= allowing email. A revoked key (empty p=) never
 * matches. */
gboolean op_dkim_record_same_key(const char *published, const char *expected);

G_END_DECLS
