/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The DSN builder: a plain-text explanation, the machine-readable
 * message/delivery-status part (RFC 3464 §2) and the original header section.
 * Addresses or headers that are not ASCII switch to the RFC 6533 types.
 */
#include "delivery/op-bounce.h"

#include <string.h>

#include "delivery/op-smtp-reply.h"
#include "op-error.h"

/* RFC 5322 §2.1.1: lines should stay under 78 octets and must not pass 998. */
#define OP_BOUNCE_FOLD 76
#define OP_BOUNCE_MAX_LINE 998
/* Octets of the original header section that go into the DSN. */
#define OP_BOUNCE_MAX_HEADERS (64 * 1024)

void
op_bounce_recipient_free(OpBounceRecipient *recipient)
{
	if (recipient == NULL)
		return;
	g_free(recipient->recipient);
	g_free(recipient->original_recipient);
	g_free(recipient->status);
	g_free(recipient->remote_mta);
	g_free(recipient->diagnostic);
	g_free(recipient);
}

/* Appends @text word by word, breaking lines before OP_BOUNCE_FOLD octets with
 * @break_with ("\r\n " folds a header field, "\r\n    " indents body text).
 * A word too long for a line is split at OP_BOUNCE_MAX_LINE. */
static void
op_bounce_append_wrapped(GString *out, gsize column, const char *text, const char *break_with)
{
	g_auto(GStrv) words = g_strsplit(text, " ", -1);
	gsize indent = strlen(break_with) - 2;
	gboolean first = TRUE;

	for (char **word = words; *word != NULL; word++) {
		const char *p = *word;
		gsize len = strlen(p);

		if (len == 0)
			continue;
		if (!first && column + 1 + len > OP_BOUNCE_FOLD) {
			g_string_append(out, break_with);
			column = indent;
		} else if (!first) {
			g_string_append_c(out, ' ');
			column++;
		}
		while (column + len > OP_BOUNCE_MAX_LINE) {
			gsize take = OP_BOUNCE_MAX_LINE - column;

			g_string_append_len(out, p, (gssize)take);
			g_string_append(out, break_with);
			column = indent;
			p += take;
			len -= take;
		}
		g_string_append_len(out, p, (gssize)len);
		column += len;
		first = FALSE;
	}
	g_string_append(out, "\r\n");
}

/* Appends a header or DSN field, folded (RFC 5322 §2.2.3). */
static void
op_bounce_append_field(GString *out, const char *name, const char *value)
{
	g_string_append_printf(out, "%s: ", name);
	op_bounce_append_wrapped(out, strlen(name) + 2, value, "\r\n ");
}

/* Returns remote text fit for a DSN: control characters stripped and,
 * because DSN fields are ASCII here, other octets above 127 as '?'. */
static char *
op_bounce_clean_ascii(const char *text)
{
	char *clean = op_smtp_reply_sanitize(text, strlen(text));

	for (char *p = clean; *p != '\0'; p++) {
		if ((guchar)*p >= 0x80)
			*p = '?';
	}
	return clean;
}

static char *
op_bounce_format_date(gint64 unix_seconds)
{
	static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_local(unix_seconds);
	g_autofree char *zone = NULL;

	if (time == NULL)
		time = g_date_time_new_now_utc();
	zone = g_date_time_format(time, "%z");
	/* RFC 5322 §3.3 names days and months in English, whatever the locale. */
	return g_strdup_printf("%s, %d %s %d %02d:%02d:%02d %s",
			       days[g_date_time_get_day_of_week(time) - 1],
			       g_date_time_get_day_of_month(time),
			       months[g_date_time_get_month(time) - 1], g_date_time_get_year(time),
			       g_date_time_get_hour(time), g_date_time_get_minute(time),
			       g_date_time_get_second(time), zone);
}

static gboolean
op_bounce_has_control(const char *text)
{
	for (const guchar *p = (const guchar *)text; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return TRUE;
	}
	return FALSE;
}

/* Returns TRUE for a status code "class.subject.detail" (RFC 3463 §2). */
static gboolean
op_bounce_status_is_valid(const char *status)
{
	g_auto(GStrv) parts = NULL;

	if (status == NULL || (status[0] != '2' && status[0] != '4' && status[0] != '5'))
		return FALSE;
	parts = g_strsplit(status, ".", -1);
	if (g_strv_length(parts) != 3 || strlen(parts[0]) != 1)
		return FALSE;
	for (guint i = 1; i < 3; i++) {
		gsize len = strlen(parts[i]);

		if (len == 0 || len > 3 || strspn(parts[i], "0123456789") != len)
			return FALSE;
	}
	return TRUE;
}

static gboolean
op_bounce_action_is_valid(const char *action)
{
	static const char *const actions[] = {"failed", "delayed", "delivered", "relayed",
					      "expanded"};

	for (gsize i = 0; action != NULL && i < G_N_ELEMENTS(actions); i++) {
		if (strcmp(action, actions[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

static gboolean
op_bounce_check_recipient(const OpBounceRecipient *recipient, GError **error)
{
	if (recipient->recipient == NULL || recipient->recipient[0] == '\0' ||
	    op_bounce_has_control(recipient->recipient) ||
	    (recipient->original_recipient != NULL &&
	     op_bounce_has_control(recipient->original_recipient))) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid recipient address in a delivery status notification");
		return FALSE;
	}
	if (!op_bounce_action_is_valid(recipient->action)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid DSN action \"%s\" for %s: expected failed or delayed",
			    recipient->action != NULL ? recipient->action : "(null)",
			    recipient->recipient);
		return FALSE;
	}
	return TRUE;
}

static gboolean
op_bounce_check(const OpBounceInfo *info, GError **error)
{
	const char *mta = info->reporting_mta;

	if (mta == NULL || mta[0] == '\0' || op_bounce_has_control(mta) ||
	    strchr(mta, ' ') != NULL) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "invalid reporting MTA name for a delivery status notification");
		return FALSE;
	}
	if (info->sender == NULL || info->sender[0] == '\0') {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the message has a null sender, and a bounce is never sent to a "
			    "bounce (RFC 5321 §6.1)");
		return FALSE;
	}
	if (op_bounce_has_control(info->sender)) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "the sender address contains control characters");
		return FALSE;
	}
	if (info->recipients == NULL || info->recipients->len == 0) {
		g_set_error(error, OP_ERROR, OP_ERROR_INVALID_ARGUMENT,
			    "a delivery status notification needs at least one recipient");
		return FALSE;
	}
	for (guint i = 0; i < info->recipients->len; i++) {
		if (!op_bounce_check_recipient(g_ptr_array_index(info->recipients, i), error))
			return FALSE;
	}
	return TRUE;
}

/* Appends one header line: NULs and bare CRs dropped, folded with CRLF SP
 * when longer than OP_BOUNCE_MAX_LINE. */
static void
op_bounce_append_header_line(GString *out, const char *line, gsize len, gboolean *eightbit)
{
	gsize column = 0;

	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)line[i];

		if (c == '\0' || c == '\r')
			continue;
		if (c >= 0x80)
			*eightbit = TRUE;
		if (column >= OP_BOUNCE_MAX_LINE) {
			g_string_append(out, "\r\n ");
			column = 1;
		}
		g_string_append_c(out, (char)c);
		column++;
	}
	g_string_append(out, "\r\n");
}

/* Returns the header section of @original (up to the first empty line) with
 * CRLF line ends, cut at a line end before OP_BOUNCE_MAX_HEADERS octets. */
static GString *
op_bounce_original_headers(GBytes *original, gboolean *eightbit)
{
	GString *out = g_string_new(NULL);
	gsize len = 0;
	const char *data = original != NULL ? g_bytes_get_data(original, &len) : NULL;
	const char *end = data + len;
	const char *p = data;

	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (gsize)(end - p));
		const char *stop = eol != NULL ? eol : end;

		if (stop > p && stop[-1] == '\r')
			stop--;
		if (stop == p || out->len + (gsize)(stop - p) + 4 > OP_BOUNCE_MAX_HEADERS)
			break;
		op_bounce_append_header_line(out, p, (gsize)(stop - p), eightbit);
		p = eol != NULL ? eol + 1 : end;
	}
	return out;
}

static gboolean
op_bounce_any_utf8(const OpBounceInfo *info)
{
	if (!g_str_is_ascii(info->sender))
		return TRUE;
	for (guint i = 0; i < info->recipients->len; i++) {
		const OpBounceRecipient *recipient = g_ptr_array_index(info->recipients, i);

		if (!g_str_is_ascii(recipient->recipient) ||
		    (recipient->original_recipient != NULL &&
		     !g_str_is_ascii(recipient->original_recipient)))
			return TRUE;
	}
	return FALSE;
}

static char *
op_bounce_reason(const OpBounceRecipient *recipient)
{
	g_autofree char *diagnostic = NULL;
	g_autofree char *host = NULL;

	if (recipient->diagnostic == NULL || recipient->diagnostic[0] == '\0')
		return g_strdup_printf("delivery status %s", recipient->status);
	diagnostic = op_bounce_clean_ascii(recipient->diagnostic);
	if (recipient->remote_mta == NULL)
		return g_steal_pointer(&diagnostic);
	host = op_bounce_clean_ascii(recipient->remote_mta);
	return g_strdup_printf("host %s said: %s", host, diagnostic);
}

static GString *
op_bounce_text_part(const OpBounceInfo *info)
{
	GString *out = g_string_new(NULL);
	const char *summary = info->delay_warning
		? "Your message has not been delivered yet to the recipients listed below. "
		  "The mail system keeps trying, so you do not need to send it again. If "
		  "delivery finally fails, you will get another notice."
		: "Your message could not be delivered to the recipients listed below. The "
		  "mail system has given up and will not try again.";

	g_string_append_printf(out, "This is the mail system at host %s.\r\n\r\n",
			       info->reporting_mta);
	op_bounce_append_wrapped(out, 0, summary, "\r\n");
	g_string_append(out, "\r\n");
	for (guint i = 0; i < info->recipients->len; i++) {
		const OpBounceRecipient *recipient = g_ptr_array_index(info->recipients, i);
		g_autofree char *reason = op_bounce_reason(recipient);
		g_autofree char *line = g_strdup_printf("<%s>: %s", recipient->recipient, reason);

		op_bounce_append_wrapped(out, 0, line, "\r\n    ");
	}
	if (info->original != NULL)
		g_string_append(out, "\r\nThe header section of your message is attached.\r\n");
	return out;
}

/* Returns "rfc822; addr", or "utf-8; addr" for an address that is not ASCII
 * (RFC 3464 §2.3.2, RFC 6533 §3). */
static char *
op_bounce_address_field(const char *address)
{
	g_autofree char *clean = op_smtp_reply_sanitize(address, strlen(address));

	return g_strdup_printf("%s; %s", g_str_is_ascii(clean) ? "rfc822" : "utf-8", clean);
}

static void
op_bounce_append_recipient_fields(GString *out, const OpBounceRecipient *recipient)
{
	g_autofree char *final = op_bounce_address_field(recipient->recipient);
	const char *status = recipient->status;

	if (recipient->original_recipient != NULL) {
		g_autofree char *original = op_bounce_address_field(recipient->original_recipient);

		op_bounce_append_field(out, "Original-Recipient", original);
	}
	op_bounce_append_field(out, "Final-Recipient", final);
	op_bounce_append_field(out, "Action", recipient->action);
	if (!op_bounce_status_is_valid(status))
		status = strcmp(recipient->action, "failed") == 0    ? "5.0.0"
			 : strcmp(recipient->action, "delayed") == 0 ? "4.0.0"
								     : "2.0.0";
	op_bounce_append_field(out, "Status", status);
	if (recipient->remote_mta != NULL) {
		g_autofree char *host = op_bounce_clean_ascii(recipient->remote_mta);
		g_autofree char *value = g_strdup_printf("dns; %s", host);

		op_bounce_append_field(out, "Remote-MTA", value);
	}
	if (recipient->diagnostic != NULL && recipient->diagnostic[0] != '\0') {
		g_autofree char *diagnostic = op_bounce_clean_ascii(recipient->diagnostic);
		g_autofree char *value = g_strdup_printf("smtp; %s", diagnostic);

		op_bounce_append_field(out, "Diagnostic-Code", value);
	}
}

/* The message/delivery-status body: per-message fields, then one group of
 * fields per recipient, each group after an empty line (RFC 3464 §2.1). */
static GString *
op_bounce_status_part(const OpBounceInfo *info)
{
	GString *out = g_string_new(NULL);
	g_autofree char *reporting = g_strdup_printf("dns; %s", info->reporting_mta);

	op_bounce_append_field(out, "Reporting-MTA", reporting);
	if (info->queue_id != NULL) {
		g_autofree char *queue_id = op_bounce_clean_ascii(info->queue_id);

		op_bounce_append_field(out, "X-Outpost-Queue-ID", queue_id);
	}
	if (info->arrival_time > 0) {
		g_autofree char *date = op_bounce_format_date(info->arrival_time);

		op_bounce_append_field(out, "Arrival-Date", date);
	}
	for (guint i = 0; i < info->recipients->len; i++) {
		g_string_append(out, "\r\n");
		op_bounce_append_recipient_fields(out, g_ptr_array_index(info->recipients, i));
	}
	return out;
}

/* Returns a boundary that occurs in none of the parts (RFC 2046 §5.1.1). */
static char *
op_bounce_make_boundary(GString **parts, gsize n_parts)
{
	for (;;) {
		g_autofree char *uuid = g_uuid_string_random();
		g_autofree char *boundary = g_strdup_printf("=_outpost_%s", uuid);
		gboolean found = FALSE;

		for (gsize i = 0; i < n_parts && !found; i++) {
			const GString *part = parts[i];

			found = g_strstr_len(part->str, (gssize)part->len, boundary) != NULL;
		}
		if (!found)
			return g_steal_pointer(&boundary);
	}
}

static void
op_bounce_append_headers(GString *out, const OpBounceInfo *info, const char *boundary,
			 gboolean global)
{
	g_autofree char *from =
		g_strdup_printf("Mail Delivery System <MAILER-DAEMON@%s>", info->reporting_mta);
	g_autofree char *to = g_strdup_printf("<%s>", info->sender);
	g_autofree char *date = op_bounce_format_date(g_get_real_time() / G_USEC_PER_SEC);
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *message_id = g_strdup_printf("<%s@%s>", uuid, info->reporting_mta);
	g_autofree char *content_type = g_strdup_printf(
		"multipart/report; report-type=%s; boundary=\"%s\"",
		global ? "global-delivery-status" : "delivery-status", boundary);

	op_bounce_append_field(out, "From", from);
	op_bounce_append_field(out, "To", to);
	op_bounce_append_field(out, "Subject", info->delay_warning
						       ? "Delayed Mail (still being retried)"
						       : "Undelivered Mail Returned to Sender");
	op_bounce_append_field(out, "Date", date);
	op_bounce_append_field(out, "Message-ID", message_id);
	/* RFC 3834 §5: a DSN is an automatic reply, so no responder answers it. */
	op_bounce_append_field(out, "Auto-Submitted", "auto-replied");
	op_bounce_append_field(out, "MIME-Version", "1.0");
	op_bounce_append_field(out, "Content-Type", content_type);
}

static void
op_bounce_append_part(GString *out, const char *boundary, const char *content_type,
		      gboolean eightbit, const GString *content)
{
	g_string_append_printf(out, "\r\n--%s\r\n", boundary);
	op_bounce_append_field(out, "Content-Type", content_type);
	op_bounce_append_field(out, "Content-Transfer-Encoding", eightbit ? "8bit" : "7bit");
	g_string_append(out, "\r\n");
	g_string_append_len(out, content->str, (gssize)content->len);
}

GBytes *
op_bounce_build(const OpBounceInfo *info, GError **error)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) text = NULL;
	g_autoptr(GString) status = NULL;
	g_autoptr(GString) headers = NULL;
	g_autofree char *boundary = NULL;
	gboolean eightbit_headers = FALSE;
	gboolean utf8;
	gboolean global;

	g_return_val_if_fail(info != NULL, NULL);
	if (!op_bounce_check(info, error))
		return NULL;

	utf8 = op_bounce_any_utf8(info);
	text = op_bounce_text_part(info);
	status = op_bounce_status_part(info);
	headers = op_bounce_original_headers(info->original, &eightbit_headers);
	global = utf8 || eightbit_headers;
	boundary = op_bounce_make_boundary((GString *[]){text, status, headers}, 3);

	op_bounce_append_headers(out, info, boundary, global);
	g_string_append(out, "\r\nThis is a delivery status notification in MIME format.\r\n");
	op_bounce_append_part(out, boundary,
			      utf8 ? "text/plain; charset=utf-8" : "text/plain; charset=us-ascii",
			      utf8, text);
	op_bounce_append_part(out, boundary,
			      global ? "message/global-delivery-status" : "message/delivery-status",
			      utf8, status);
	if (headers->len > 0)
		op_bounce_append_part(out, boundary,
				      global ? "message/global-headers" : "text/rfc822-headers",
				      eightbit_headers, headers);
	g_string_append_printf(out, "\r\n--%s--\r\n", boundary);
	return g_string_free_to_bytes(g_steal_pointer(&out));
}
