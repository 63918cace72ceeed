/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Plain-word explanations for what the daemon reports: a message's last
 * SMTP reply or local delivery failure, D-Bus errors, and a hint on how
 * strong a new password is.
 */
#include "op-format.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>

typedef struct {
	/* The enhanced status code without its class digit, e.g. "1.1" for 5.1.1
	 * (RFC 3463 §3), or a plain reply code such as "421". */
	const char *code;
	const char *sentence;
} OpReplyExplanation;

/* Subject and detail codes of RFC 3463 §3 and the registry that RFC 5248
 * set up, in the wording an admin needs. */
static const OpReplyExplanation op_enhanced_codes[] = {
	{"1.1", N_("The recipient's mailbox does not exist at the receiving server.")},
	{"1.2", N_("The recipient's domain does not exist or does not accept mail.")},
	{"1.3", N_("The recipient's address is not valid.")},
	{"1.8", N_("The receiving server does not accept mail from the sender's domain.")},
	{"1.10", N_("The recipient's domain accepts no mail (null MX).")},
	{"2.1", N_("The recipient's mailbox is disabled.")},
	{"2.2", N_("The recipient's mailbox is full.")},
	{"2.3", N_("The message is larger than the recipient's mailbox accepts.")},
	{"3.4", N_("The message is larger than the receiving server accepts.")},
	{"4.4", N_("No route to the recipient's mail server was found.")},
	{"4.7", N_("The message stayed in the queue longer than its lifetime allows.")},
	{"7.1", N_("The receiving server refused the message by its policy, often as "
		   "suspected spam or because the sender is not permitted.")},
	{"7.23", N_("The message failed the recipient's SPF check: publish the SPF record "
		    "of the sender's domain.")},
	{"7.25", N_("The sending server's address has no matching reverse DNS name.")},
	{"7.26", N_("The message failed the recipient's authentication checks (SPF, DKIM or "
		    "DMARC): publish the domain's DNS records.")},
	{"7.27", N_("The sender's domain accepts no mail, so the receiving server refused "
		    "the message.")},
};

static const OpReplyExplanation op_reply_codes[] = {
	{"421", N_("The receiving server is busy or closed the connection.")},
	{"450", N_("The receiving server could not use the mailbox for now.")},
	{"451", N_("The receiving server had a local problem.")},
	{"452", N_("The receiving server is short of storage.")},
	{"550", N_("The receiving server rejected the recipient.")},
	{"552", N_("The message is larger than the receiving server accepts.")},
	{"553", N_("The receiving server rejected the address as not allowed.")},
	{"554", N_("The receiving server rejected the message.")},
};

/* Failures the daemon reports before or without an SMTP reply. Each pattern
 * is a substring of the daemon's message, matched without case. */
static const OpReplyExplanation op_local_failures[] = {
	{"null MX", N_("The recipient's domain accepts no mail (null MX).")},
	{"loops back", N_("The recipient domain's MX record points at this server itself.")},
	{"does not exist", N_("The recipient's domain does not exist in DNS: check the address "
			      "for typos.")},
	{"is not a valid domain", N_("The recipient's domain is not a valid domain name.")},
	{"smarthost", N_("The relay server (smarthost) could not be used: check the smarthost "
			 "in Settings.")},
	{"lookup", N_("Looking up the recipient's mail servers in DNS failed: check the DNS "
		      "resolver of the server.")},
	{"no MX host", N_("None of the recipient domain's mail servers has an address yet.")},
	{"timed out", N_("The receiving server did not respond in time.")},
	{"TLS", N_("The encrypted connection (TLS) to the receiving server failed.")},
	{"connect", N_("The receiving server could not be reached.")},
	{"refused", N_("The receiving server could not be reached.")},
};

static const char *
find_enhanced_explanation(const char *reply)
{
	g_autoptr(GRegex) regex = g_regex_new("^[245][0-9][0-9][ -]+[245]\\.([0-9]{1,3}\\.[0-9]{1,3})\\b",
					      0, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;
	g_autofree char *detail = NULL;

	if (!g_regex_match(regex, reply, 0, &match))
		return NULL;
	detail = g_match_info_fetch(match, 1);
	for (guint i = 0; i < G_N_ELEMENTS(op_enhanced_codes); i++) {
		if (strcmp(detail, op_enhanced_codes[i].code) == 0)
			return _(op_enhanced_codes[i].sentence);
	}
	return NULL;
}

static const char *
find_table_explanation(const OpReplyExplanation *table, guint length, const char *reply,
		       gboolean prefix)
{
	g_autofree char *folded = g_ascii_strdown(reply, -1);

	for (guint i = 0; i < length; i++) {
		g_autofree char *pattern = g_ascii_strdown(table[i].code, -1);

		if (prefix ? g_str_has_prefix(folded, pattern) : strstr(folded, pattern) != NULL)
			return _(table[i].sentence);
	}
	return NULL;
}

/* Explains a message's last failure in plain words, with what happens next:
 * a 4xx reply is retried by the daemon, a 5xx one is not (RFC 5321 §4.2.1). */
char *
op_explain_reply(const char *reply)
{
	const char *cause = NULL;
	const char *next = NULL;

	if (reply == NULL || *reply == '\0')
		return g_strdup(_("No delivery attempt has failed yet."));

	if (g_ascii_isdigit(reply[0]) && g_ascii_isdigit(reply[1]) && g_ascii_isdigit(reply[2])) {
		cause = find_enhanced_explanation(reply);
		if (cause == NULL)
			cause = find_table_explanation(op_reply_codes, G_N_ELEMENTS(op_reply_codes),
						       reply, TRUE);
		if (reply[0] == '4')
			next = _("Outpost tries again later by itself.");
		else if (reply[0] == '5')
			next = _("Trying again will not help until the cause is fixed: bounce or "
				 "delete the message.");
	} else {
		cause = find_table_explanation(op_local_failures, G_N_ELEMENTS(op_local_failures),
					       reply, FALSE);
		next = _("Outpost tries again later by itself until the message lifetime ends.");
	}
	if (cause == NULL)
		cause = _("The delivery attempt failed. The reply below has the details.");
	return next ? g_strdup_printf("%s %s", cause, next) : g_strdup(cause);
}

static char *
dup_remote_name(const GError *error)
{
	if (error == NULL || !g_dbus_error_is_remote_error(error))
		return NULL;
	return g_dbus_error_get_remote_error(error);
}

gboolean
op_error_is_unknown_method(const GError *error)
{
	g_autofree char *name = dup_remote_name(error);

	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
		return TRUE;
	return g_strcmp0(name, "org.freedesktop.DBus.Error.UnknownMethod") == 0;
}

gboolean
op_error_is_access_denied(const GError *error)
{
	g_autofree char *name = dup_remote_name(error);

	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED))
		return TRUE;
	return g_strcmp0(name, OP_DBUS_ERROR_ACCESS_DENIED) == 0 ||
	       g_strcmp0(name, "org.freedesktop.DBus.Error.AccessDenied") == 0;
}

gboolean
op_error_is_not_running(const GError *error)
{
	g_autofree char *name = dup_remote_name(error);

	if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	    g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
	    g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED))
		return TRUE;
	return g_strcmp0(name, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
	       g_strcmp0(name, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0;
}

/* Returns the sentence to show for an error from a D-Bus call: the daemon's
 * own sentence without the D-Bus error name, or a plain explanation for the
 * errors that the bus itself returns. */
char *
op_dup_error_sentence(const GError *error)
{
	g_autoptr(GError) copy = NULL;

	if (error == NULL)
		return g_strdup(_("Unknown error."));
	if (op_error_is_unknown_method(error))
		return g_strdup(_("This version of the Outpost service does not offer this yet."));
	if (op_error_is_not_running(error))
		return g_strdup(_("The Outpost service is not running."));
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		return g_strdup(_("The Outpost service did not answer in time."));
	copy = g_error_copy(error);
	g_dbus_error_strip_remote_error(copy);
	return g_strdup(copy->message);
}

static gboolean
is_common_password(const char *folded)
{
	static const char *const common[] = {
		"password", "passwort", "qwerty", "azerty", "123456", "letmein", "welcome",
		"admin", "iloveyou", "monkey", "dragon", "abc123", "111111", "secret",
	};

	for (guint i = 0; i < G_N_ELEMENTS(common); i++) {
		if (strstr(folded, common[i]) != NULL)
			return TRUE;
	}
	return FALSE;
}

/* Estimates a password's strength as its length times log2 of the size of
 * the character classes it draws from. This is an estimate for a hint only:
 * the daemon enforces just the minimum length. */
OpPasswordStrength
op_password_strength(const char *password, const char **hint)
{
	gboolean lower = FALSE, upper = FALSE, digit = FALSE, other = FALSE;
	g_autofree char *folded = NULL;
	g_autoptr(GHashTable) distinct = g_hash_table_new(NULL, NULL);
	glong length = g_utf8_strlen(password ? password : "", -1);
	double pool = 0;
	double bits;

	if (length < OP_PASSWORD_MIN_LENGTH) {
		*hint = _("Use at least 10 characters.");
		return OP_PASSWORD_TOO_SHORT;
	}
	for (const char *p = password; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		lower |= g_unichar_islower(c);
		upper |= g_unichar_isupper(c);
		digit |= g_unichar_isdigit(c);
		other |= !g_unichar_isalnum(c);
		g_hash_table_add(distinct, GUINT_TO_POINTER(c));
	}
	pool = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (other ? 33 : 0);
	bits = (double)MIN((glong)g_hash_table_size(distinct) * 2, length) * log2(MAX(pool, 2));
	folded = g_utf8_casefold(password, -1);

	if (is_common_password(folded) || bits < 50) {
		*hint = _("Weak: make it longer, or mix in capitals, digits and symbols.");
		return OP_PASSWORD_WEAK;
	}
	if (bits < 72) {
		*hint = _("Fair: a few more characters would make it strong.");
		return OP_PASSWORD_FAIR;
	}
	*hint = _("Strong password.");
	return OP_PASSWORD_STRONG;
}

/* Generates a password of four groups of five characters from the kernel's
 * random source, leaving out look-alikes (0, O, 1, l and I) so it can be read out
 * or typed from paper: 20 characters from 57 give about 116 bits. */
char *
op_generate_password(void)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const guint alphabet_size = sizeof alphabet - 1;
	/* The largest multiple of the alphabet size below 256, so that taking a
	 * byte modulo the size gives no character more often than another. */
	const guint limit = 256 - 256 % alphabet_size;
	GString *password = g_string_new(NULL);
	guint8 buffer[64];
	guint used = sizeof buffer;

	while (password->len < 23) {
		if (used == sizeof buffer) {
			if (getrandom(buffer, sizeof buffer, 0) != (ssize_t)sizeof buffer)
				g_error("getrandom() failed: no random source for passwords");
			used = 0;
		}
		if (buffer[used] >= limit) {
			used++;
			continue;
		}
		if (password->len % 6 == 5)
			g_string_append_c(password, '-');
		g_string_append_c(password, alphabet[buffer[used++] % alphabet_size]);
	}
	explicit_bzero(buffer, sizeof buffer);
	return g_string_free(password, FALSE);
}
