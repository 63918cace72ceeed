#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of outpostd: submission, DKIM signing, queueing, delivery,
retries, bounces and the admin CLI, against knot and recipient SMTP servers
(recipient_server.py) on loopback.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5353 and ports 2525, 10587 and 10465 of the host.
"""

import base64
import difflib
import email
import email.policy
import json
import logging
import os
import re
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import unittest

import dkim

import harness
from harness import wait_for

SENDER = "user@example.org"
PASSWORD = "correct horse battery staple"
OTHER_SENDER = "other@example.org"
OTHER_PASSWORD = "other account password"
# A second sender domain whose MX rejects every recipient, so a bounce to it fails.
REJECTING_SENDER = "user@example.com"

DELIVERY_TIMEOUT = 30
# outpostd warns about a message still queued after DELAY_WARNING seconds and
# bounces it after MESSAGE_LIFETIME seconds. Every other test finishes well before.
DELAY_WARNING = 3
MESSAGE_LIFETIME = 10
CLIENT_TLS = ssl._create_unverified_context()

# The environment shared by every test, set up by setUpModule().
env = None


class Environment:
    """DNS, recipient servers and outpostd with one domain and its accounts."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"))
        os.makedirs(self.knot.directory, exist_ok=True)
        self.mx_dir = os.path.join(scratch, "mx")
        os.makedirs(self.mx_dir, exist_ok=True)
        self.daemon = harness.Outpostd(
            outpostd, outpostctl, os.path.join(scratch, "outpostd"),
            ["--delay-warning", str(DELAY_WARNING), "--message-lifetime", str(MESSAGE_LIFETIME)])
        self.accept = None
        self.tempfail = None
        self.reject = None
        self.implicit = None
        self.injection = None
        self.greeting_421 = None
        self.drop_after_dot = None
        self.slow = None
        self.selector = None

    def start(self):
        self.knot.start()
        certificate = harness.make_certificate(self.mx_dir, "mx.accept.test")
        self.accept = harness.RecipientServer(self.mx_dir, "127.0.0.2", tls=certificate)
        self.tempfail = harness.RecipientServer(self.mx_dir, "127.0.0.3", mode="tempfail")
        self.reject = harness.RecipientServer(self.mx_dir, "127.0.0.4", mode="reject")
        self.implicit = harness.RecipientServer(self.mx_dir, "127.0.0.5")
        self.injection = harness.RecipientServer(self.mx_dir, "127.0.0.6", mode="reply-injection")
        self.greeting_421 = harness.RecipientServer(self.mx_dir, "127.0.0.9", mode="greeting-421")
        self.drop_after_dot = harness.RecipientServer(self.mx_dir, "127.0.0.10",
                                                      mode="drop-after-dot")
        # Nothing listens on 127.0.0.7 until the crash-recovery test starts it.
        self.slow = harness.RecipientServer(self.mx_dir, "127.0.0.7")
        for server in self.servers()[:-1]:
            server.start()

        os.makedirs(self.daemon.directory, exist_ok=True)
        self.daemon.start()
        self.add_domain("example.org")
        self.add_domain("example.com")
        self.add_account(SENDER, PASSWORD)
        self.add_account(OTHER_SENDER, OTHER_PASSWORD)
        self.add_account(REJECTING_SENDER, PASSWORD)
        self.publish_records("example.org")
        self.selector = self.find_selector("example.org")

    def servers(self):
        """Return every recipient server, the one started late (slow) last."""
        return [self.accept, self.tempfail, self.reject, self.implicit, self.injection,
                self.greeting_421, self.drop_after_dot, self.slow]

    def add_domain(self, domain):
        self.daemon.ctl("domain", "add", domain)

    def add_account(self, address, password):
        self.daemon.ctl("account", "add", address, "--password-stdin",
                        input_text=password + "\n")

    def publish_records(self, domain):
        """Copy the TXT records outpostctl generates into the zones knot serves."""
        records = self.daemon.ctl_json("dns", "records", domain)
        by_zone = {}
        for record in records:
            if record.get("type") != "TXT":
                continue
            name = record["name"]
            zone = self.zone_of(name)
            if zone is None:
                harness.log("not publishing %s: no test zone contains it" % name)
                continue
            by_zone.setdefault(zone, []).append((name, 300, "TXT", record["value"]))
        if domain not in by_zone:
            raise AssertionError("dns records %s returned no TXT record in the zone: %r"
                                 % (domain, records))
        for zone, zone_records in by_zone.items():
            self.knot.set_records(zone, zone_records)

    @staticmethod
    def zone_of(name):
        name = name.rstrip(".")
        for zone in harness.ZONES:
            if name == zone or name.endswith("." + zone):
                return zone
        return None

    def find_selector(self, domain):
        for entry in self.daemon.ctl_json("domain", "list"):
            if domain in entry.values():
                selector = entry.get("dkim-selector")
                if not selector:
                    raise AssertionError("domain list --json has no dkim-selector: %r" % entry)
                return selector
        raise AssertionError("domain list --json does not list %s" % domain)

    def stop(self):
        harness.stop_all()


def setUpModule():
    env.start()


def tearDownModule():
    env.stop()


# Messages and SMTP sessions ---------------------------------------------------

def make_message(sender, recipient, token, from_header=None):
    """Return a CRLF message with a Message-ID and Date, so outpostd needs to add neither.

    from_header replaces the whole value of the From: header.
    """
    lines = [
        "From: " + (from_header or "Test User <%s>" % sender),
        "To: <%s>" % recipient,
        "Subject: integration test %s" % token,
        "X-Folded-Header: first part of a header",
        "\tthat continues on a second line",
        "Date: Thu, 04 Dec 2025 16:00:00 +0000",
        "Message-ID: <%s@example.org>" % token,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "First body line.",
        ".A line that starts with a dot survives dot-stuffing.",
        "..two dots",
        ".",
        "Trailing spaces and a tab stay as they are.   \t",
        "",
        "",
        "Last line after two empty lines.",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def open_submission(starttls=True):
    session = smtplib.SMTP("127.0.0.1", harness.SUBMISSION_PORT, local_hostname="client.test",
                           timeout=20)
    session.ehlo()
    if starttls:
        session.starttls(context=CLIENT_TLS)
        session.ehlo()
    return session


def open_submissions():
    session = smtplib.SMTP_SSL("127.0.0.1", harness.SUBMISSIONS_PORT,
                               local_hostname="client.test", context=CLIENT_TLS, timeout=20)
    session.ehlo()
    return session


def plain_token(authzid, authcid, password):
    raw = "%s\0%s\0%s" % (authzid, authcid, password)
    return base64.b64encode(raw.encode()).decode("ascii")


def auth_plain(session, user, password):
    return session.docmd("AUTH", "PLAIN " + plain_token("", user, password))


def open_authenticated(user=SENDER, password=PASSWORD, implicit_tls=False):
    session = open_submissions() if implicit_tls else open_submission()
    code, text = auth_plain(session, user, password)
    if code != 235:
        raise AssertionError("AUTH PLAIN as %s: expected 235, got %d %s" % (user, code, text))
    return session


def submit(raw, recipients, sender=SENDER, implicit_tls=False):
    """Submit raw as sender with AUTH PLAIN and return once the daemon replied 250."""
    session = open_authenticated(sender, PASSWORD, implicit_tls)
    try:
        refused = session.sendmail(sender, recipients, raw)
        if refused:
            raise AssertionError("recipients refused: %r" % refused)
    finally:
        session.close()


def quit_quietly(session):
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def queue_entries():
    return env.daemon.ctl_json("queue", "list")


def wait_for_empty_queue(timeout=DELIVERY_TIMEOUT):
    try:
        wait_for(lambda: not queue_entries(), timeout, "an empty queue", interval=0.3)
    except AssertionError as error:
        raise AssertionError("%s; still queued: %s"
                             % (error, json.dumps(queue_entries(), indent=1))) from None


def wait_until_dequeued(address):
    """Wait until no queue entry mentions address, as sender or recipient."""
    def dequeued():
        return not [entry for entry in queue_entries() if address in json.dumps(entry)]
    try:
        wait_for(dequeued, DELIVERY_TIMEOUT, "%s to leave the queue" % address, interval=0.3)
    except AssertionError as error:
        raise AssertionError("%s; still queued: %s"
                             % (error, json.dumps(queue_entries(), indent=1))) from None


def has_token(token):
    return lambda envelope, raw: ("<%s@example.org>" % token).encode() in raw


def split_added_headers(test, received, submitted):
    """Assert received is submitted with header lines put in front; return those lines."""
    if not received.endswith(submitted):
        diff = difflib.unified_diff(
            submitted.decode("ascii", "replace").splitlines(True),
            received.decode("ascii", "replace").splitlines(True),
            "submitted", "received")
        test.fail("the delivered message does not end with the submitted bytes:\n"
                  + "".join(diff))
    added = received[:len(received) - len(submitted)]
    test.assertTrue(added.endswith(b"\r\n"), "added headers must end with CRLF: %r" % added)
    lines = added[:-2].split(b"\r\n") if added else []
    for line in lines:
        test.assertRegex(line, rb"^([!-9;-~]+:|[ \t])",
                         "not a header line or continuation in front of the message")
    return lines


def added_header_names(lines):
    return [line.split(b":", 1)[0].decode().lower() for line in lines if line[:1] not in b" \t"]


def dkim_tags(raw):
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    value = message.get("DKIM-Signature")
    if value is None:
        return None
    unfolded = re.sub(r"\s+", "", value)
    tags = {}
    for item in unfolded.split(";"):
        if "=" in item:
            key, tag_value = item.split("=", 1)
            tags[key] = tag_value
    return tags


class OutpostTestCase(unittest.TestCase):
    def setUp(self):
        env.daemon.process.check_running()

    def assertReply(self, reply, code, enhanced=None, what="reply"):
        actual_code, text = reply
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        self.assertEqual(actual_code, code, "%s: %d %s" % (what, actual_code, text))
        if enhanced:
            self.assertTrue(text.startswith(enhanced),
                            "%s: expected enhanced status %s in %d %s"
                            % (what, enhanced, actual_code, text))

    def assertReport(self, raw, envelope, recipient, status_pattern, action="failed"):
        """Assert raw is an RFC 3464 report to SENDER about recipient; return its parts."""
        self.assertEqual(envelope["mail_from"], "", "a delivery report must use the null sender")
        self.assertEqual(envelope["rcpt_tos"], [SENDER])
        parsed = delivery_status_blocks(raw)
        self.assertIsNotNone(parsed, "the delivery report is not multipart/report")
        message, blocks = parsed
        self.assertEqual(message.get_param("report-type"), "delivery-status")
        self.assertTrue(blocks, "no message/delivery-status part with a per-recipient block")
        block = blocks[0]
        self.assertRegex(block.get("Final-Recipient", ""),
                         r"(?i)^rfc822;\s*" + re.escape(recipient) + "$")
        self.assertEqual(block.get("Action", "").strip().lower(), action)
        self.assertRegex(block.get("Status", "").strip(), status_pattern)
        return message, blocks

    def assertDeliveredIntact(self, envelope, raw, submitted, recipient):
        self.assertEqual(envelope["mail_from"], SENDER, "envelope sender changed")
        self.assertEqual(envelope["rcpt_tos"], [recipient])
        added = added_header_names(split_added_headers(self, raw, submitted))
        self.assertIn("dkim-signature", added)
        self.assertIn("received", added)


# Submission and delivery ------------------------------------------------------

class SubmissionTest(OutpostTestCase):
    def test_swaks_starttls_delivers_intact(self):
        token = "swaks-starttls"
        recipient = "user@accept.test"
        submitted = make_message(SENDER, recipient, token)
        data_file = os.path.join(env.scratch, token + ".eml")
        with open(data_file, "wb") as output:
            # swaks sends CRLF "." CRLF after the data, so the last CRLF stays out of the file.
            output.write(submitted[:-2])
        result = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % harness.SUBMISSION_PORT, "--tls",
             "--helo", "client.test", "--auth", "PLAIN", "--auth-user", SENDER,
             "--auth-password", PASSWORD, "--from", SENDER, "--to", recipient,
             "--data", "@" + data_file, "--timeout", "20"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, "swaks failed:\n" + result.stdout + result.stderr)

        envelope, raw = env.accept.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                    "the swaks message")
        self.assertDeliveredIntact(envelope, raw, submitted, recipient)
        self.assertTrue(envelope["tls"], "delivery to a server offering STARTTLS used plain text")
        self.assertEqual(envelope["helo"], harness.HOSTNAME)

    def test_implicit_tls_delivers_intact(self):
        token = "smtplib-implicit-tls"
        recipient = "user@accept.test"
        submitted = make_message(SENDER, recipient, token)
        submit(submitted, [recipient], implicit_tls=True)

        envelope, raw = env.accept.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                    "the implicit-TLS message")
        self.assertDeliveredIntact(envelope, raw, submitted, recipient)

    def test_missing_message_id_and_date_added(self):
        token = "no-message-id"
        recipient = "user@accept.test"
        submitted = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nbody\r\n"
                     % (SENDER, recipient, token)).encode()
        submit(submitted, [recipient])

        def find(envelope, raw):
            return ("Subject: %s\r\n" % token).encode() in raw
        envelope, raw = env.accept.wait_for_message(find, DELIVERY_TIMEOUT, "the message")
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        self.assertIsNotNone(message["Message-ID"])
        self.assertIsNotNone(message["Date"])
        self.assertTrue(dkim.verify(raw, dnsfunc=harness.dkim_dns_txt))

    def test_implicit_mx_uses_address_record(self):
        token = "implicit-mx"
        recipient = "user@implicit.test"
        submitted = make_message(SENDER, recipient, token)
        submit(submitted, [recipient])

        envelope, raw = env.implicit.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                      "the message for a domain without MX")
        self.assertDeliveredIntact(envelope, raw, submitted, recipient)


# DKIM -------------------------------------------------------------------------

class DkimTest(OutpostTestCase):
    def deliver(self, token):
        recipient = "dkim@accept.test"
        submit(make_message(SENDER, recipient, token), [recipient])
        return env.accept.wait_for_message(has_token(token), DELIVERY_TIMEOUT, "the message")[1]

    def test_published_key_verifies_signature(self):
        raw = self.deliver("dkim-verify")
        self.assertTrue(dkim.verify(raw, dnsfunc=harness.dkim_dns_txt),
                        "dkimpy could not verify the signature with the published key")

    def test_signature_tags(self):
        tags = dkim_tags(self.deliver("dkim-tags"))
        self.assertIsNotNone(tags, "no DKIM-Signature header")
        self.assertEqual(tags.get("d"), "example.org")
        self.assertEqual(tags.get("s"), env.selector)
        self.assertEqual(tags.get("a"), "rsa-sha256")
        self.assertEqual(tags.get("c"), "relaxed/relaxed")
        self.assertIn("from", tags.get("h", "").lower().split(":"))
        self.assertNotIn("l", tags, "l= lets anyone append to a signed body")

    def test_altered_body_fails_verification(self):
        raw = self.deliver("dkim-altered")
        altered = raw.replace(b"Last line after two empty lines.", b"Last line, changed.")
        self.assertNotEqual(altered, raw)
        self.assertFalse(dkim.verify(altered, dnsfunc=harness.dkim_dns_txt))


# Retries ----------------------------------------------------------------------

class RetryTest(OutpostTestCase):
    def test_tempfail_delivered_on_retry(self):
        token = "tempfail"
        recipient = "user@tempfail.test"
        submitted = make_message(SENDER, recipient, token)
        submit(submitted, [recipient])

        envelope, raw = env.tempfail.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                      "the retried message")
        self.assertDeliveredIntact(envelope, raw, submitted, recipient)
        message_id = "<%s@example.org>" % token
        attempts = [event for event in env.tempfail.events()
                    if event["event"] == "data" and event["message_id"] == message_id]
        self.assertEqual([event["reply"][:3] for event in attempts], ["451", "250"])

    def test_greeting_421_retried(self):
        token = "greeting-421"
        recipient = "user@greet421.test"
        submitted = make_message(SENDER, recipient, token)
        submit(submitted, [recipient])

        envelope, raw = env.greeting_421.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                          "the message after a 421 greeting")
        self.assertDeliveredIntact(envelope, raw, submitted, recipient)
        greetings = [event for event in env.greeting_421.events() if event["event"] == "greeting"]
        self.assertEqual(len(greetings), 1)

    def test_dropped_after_dot_retried(self):
        # The first copy is stored but its 250 never reaches outpostd: a second
        # copy is acceptable (RFC 5321 §6.1), a lost message is not.
        token = "drop-after-dot"
        recipient = "user@dropdot.test"
        submitted = make_message(SENDER, recipient, token)
        submit(submitted, [recipient])

        def acknowledged():
            return [event for event in env.drop_after_dot.events()
                    if event["event"] == "data" and event["reply"].startswith("250")]
        wait_for(acknowledged, DELIVERY_TIMEOUT, "a retry acknowledged with 250")
        wait_until_dequeued(recipient)
        replies = [event["reply"][:3] for event in env.drop_after_dot.events()
                   if event["event"] == "data"]
        self.assertEqual(replies, ["con", "250"], "expected one dropped and one acknowledged")
        for envelope, raw in env.drop_after_dot.messages():
            self.assertDeliveredIntact(envelope, raw, submitted, recipient)


# Bounces ----------------------------------------------------------------------

def delivery_status_blocks(raw):
    """Return (message, [per-recipient field blocks]) of an RFC 3464 report, or None."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return None
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            return message, blocks[1:]
    return message, []


def is_report_for(recipient, action="failed"):
    """Match a delivery status notification from <> with recipient's Final-Recipient."""
    def check(envelope, raw):
        if envelope["mail_from"] != "":
            return False
        final_recipient = rb"(?im)^Final-Recipient:\s*rfc822;\s*" + re.escape(recipient.encode())
        return (re.search(final_recipient, raw) is not None
                and re.search(rb"(?im)^Action:\s*" + action.encode(), raw) is not None)
    return check


class BounceTest(OutpostTestCase):
    def test_rejected_recipient_bounces(self):
        recipient = "nobody@reject.test"
        submit(make_message(SENDER, recipient, "bounce-reject"), [recipient])

        envelope, raw = env.accept.wait_for_message(is_report_for(recipient),
                                                    DELIVERY_TIMEOUT, "the bounce")
        self.assertReport(raw, envelope, recipient, r"^5\.\d{1,3}\.\d{1,3}$")
        rcpt_attempts = [event for event in env.reject.events()
                         if event["event"] == "rcpt" and event["rcpt"] == recipient]
        self.assertEqual(len(rcpt_attempts), 1, "a 550 must not be retried")

    def test_null_mx_bounces_with_5_1_10(self):
        recipient = "user@nullmx.test"
        submit(make_message(SENDER, recipient, "bounce-null-mx"), [recipient])

        envelope, raw = env.accept.wait_for_message(is_report_for(recipient),
                                                    DELIVERY_TIMEOUT, "the null MX bounce")
        self.assertReport(raw, envelope, recipient, r"^5\.1\.10$")

    def test_nonexistent_domain_bounces(self):
        recipient = "user@missing.accept.test"
        submit(make_message(SENDER, recipient, "bounce-nxdomain"), [recipient])

        envelope, raw = env.accept.wait_for_message(is_report_for(recipient),
                                                    DELIVERY_TIMEOUT, "the NXDOMAIN bounce")
        self.assertReport(raw, envelope, recipient, r"^5\.\d{1,3}\.\d{1,3}$")

    def test_mx_of_own_hostname_bounces(self):
        recipient = "user@self.test"
        submit(make_message(SENDER, recipient, "bounce-mx-loop"), [recipient])

        envelope, raw = env.accept.wait_for_message(is_report_for(recipient),
                                                    DELIVERY_TIMEOUT, "the mail-loop bounce")
        self.assertReport(raw, envelope, recipient, r"^5\.4\.6$")

    def test_injected_reply_lines_dropped(self):
        recipient = "victim@inject.test"
        submit(make_message(SENDER, recipient, "bounce-injection"), [recipient])

        envelope, raw = env.accept.wait_for_message(is_report_for(recipient),
                                                    DELIVERY_TIMEOUT, "the bounce")
        message, blocks = self.assertReport(raw, envelope, recipient, r"^5\.\d{1,3}\.\d{1,3}$")
        for block in blocks:
            self.assertIsNone(block.get("type"), "a remote reply added a field to the report")
            self.assertIsNone(block.get("field"), "a remote reply added a field to the report")
        self.assertNotRegex(raw, rb"(?im)^(type:x|field:y)",
                            "remote reply text starts a line of the bounce")

    def test_one_rejected_of_two_recipients(self):
        token = "bounce-one-of-two"
        good, bad = "partial@accept.test", "partial@reject.test"
        submitted = make_message(SENDER, good, token)
        submit(submitted, [good, bad])

        envelope, raw = env.accept.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                    "the message for the good recipient")
        self.assertEqual(envelope["rcpt_tos"], [good])
        envelope, raw = env.accept.wait_for_message(is_report_for(bad), DELIVERY_TIMEOUT,
                                                    "the bounce for the bad recipient")
        message, blocks = self.assertReport(raw, envelope, bad, r"^5\.\d{1,3}\.\d{1,3}$")
        recipients = [block.get("Final-Recipient", "") for block in blocks]
        self.assertFalse([value for value in recipients if good in value],
                         "the delivered recipient is listed in the bounce")

    def wait_for_reject_attempt(self, mail_from, recipient):
        def attempted():
            return any(event["event"] == "rcpt" and event["rcpt"] == recipient
                       and event["mail_from"] == mail_from
                       for event in env.reject.events())
        wait_for(attempted, DELIVERY_TIMEOUT,
                 "a delivery attempt from <%s> to <%s>" % (mail_from, recipient))

    def assertNoBounceToNullSender(self, recipient):
        """Check for a few seconds that no bounce of the failed null-sender message exists."""
        wait_for_empty_queue()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for entry in queue_entries():
                self.assertNotIn(entry.get("sender"), ("", "<>"),
                                 "a bounce was queued after the queue drained: %r" % entry)
            time.sleep(0.3)
        for server in (env.accept, env.reject):
            for event in server.events():
                self.assertFalse(event["event"] == "rcpt" and event["rcpt"] in ("", "<>"),
                                 "something was sent to the null sender: %r" % event)
        bounces = [raw for envelope, raw in env.accept.messages()
                   if envelope["mail_from"] == "" and recipient.encode() in raw]
        self.assertEqual(bounces, [])

    def test_null_sender_failure_not_bounced(self):
        recipient = "null-sender@reject.test"
        session = open_authenticated()
        try:
            self.assertReply(session.docmd("MAIL", "FROM:<>"), 250, what="MAIL FROM:<>")
            self.assertReply(session.docmd("RCPT", "TO:<%s>" % recipient), 250, what="RCPT")
            self.assertReply(session.data(make_message(SENDER, recipient, "null-sender")), 250,
                             what="end of data")
        finally:
            quit_quietly(session)

        self.wait_for_reject_attempt("", recipient)
        self.assertNoBounceToNullSender(recipient)

    def test_failed_bounce_not_bounced(self):
        # The bounce goes to example.com, whose MX rejects every recipient.
        recipient = "double@reject.test"
        submit(make_message(REJECTING_SENDER, recipient, "double-bounce"), [recipient],
               sender=REJECTING_SENDER)

        self.wait_for_reject_attempt(REJECTING_SENDER, recipient)
        self.wait_for_reject_attempt("", REJECTING_SENDER)
        self.assertNoBounceToNullSender(REJECTING_SENDER)
        bounce_attempts = [event for event in env.reject.events()
                           if event["event"] == "rcpt" and event["rcpt"] == REJECTING_SENDER]
        self.assertEqual(len(bounce_attempts), 1, "the rejected bounce was retried")


# Refusals ---------------------------------------------------------------------

SMUGGLING_ENDINGS = {
    "lf-dot-lf": b"\n.\n",
    "crlf-dot-lf": b"\r\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-cr-crlf": b"\r\n.\r\r\n",
    "cr-dot-cr": b"\r.\r",
}


def read_extra_replies(session, seconds=1.0):
    """Return the replies the server sends without a command, until it is quiet or closes."""
    replies = []
    session.sock.settimeout(seconds)
    try:
        while True:
            replies.append(session.getreply())
    except (socket.timeout, smtplib.SMTPServerDisconnected, OSError):
        pass
    return replies


def peak_memory_kib(pid):
    """Return the peak resident set size (VmHWM) of pid in KiB."""
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


class RefusalTest(OutpostTestCase):
    def test_relay_without_auth_denied(self):
        for name, opener in (("starttls", open_submission), ("implicit-tls", open_submissions)):
            with self.subTest(port=name):
                session = opener()
                try:
                    self.assertReply(session.docmd("MAIL", "FROM:<%s>" % SENDER), 250,
                                     what="MAIL without AUTH")
                    self.assertReply(session.docmd("RCPT", "TO:<victim@accept.test>"),
                                     554, "5.7.1", "RCPT without AUTH")
                finally:
                    quit_quietly(session)

    def test_forged_envelope_sender(self):
        for forged in (OTHER_SENDER, "ceo@accept.test", "USER@example.org.evil.test"):
            with self.subTest(sender=forged):
                session = open_authenticated()
                try:
                    self.assertReply(session.docmd("MAIL", "FROM:<%s>" % forged),
                                     553, "5.7.1", "MAIL FROM another address")
                finally:
                    quit_quietly(session)

    def test_forged_from_header(self):
        forged_from = {
            "other-account": OTHER_SENDER,
            "display-name-trick": '"%s" <%s>' % (SENDER, OTHER_SENDER),
            "second-address": "%s, %s" % (SENDER, OTHER_SENDER),
        }
        for name, from_value in forged_from.items():
            with self.subTest(case=name):
                token = "forged-from-" + name
                recipient = "forged-from@accept.test"
                message = make_message(SENDER, recipient, token, from_header=from_value)
                session = open_authenticated()
                try:
                    self.assertReply(session.docmd("MAIL", "FROM:<%s>" % SENDER), 250)
                    self.assertReply(session.docmd("RCPT", "TO:<%s>" % recipient), 250)
                    self.assertReply(session.data(message), 553, "5.7.1", "end of data")
                finally:
                    quit_quietly(session)

    def test_auth_before_starttls(self):
        session = open_submission(starttls=False)
        try:
            self.assertReply(auth_plain(session, SENDER, PASSWORD), 530, "5.7.0",
                             "AUTH PLAIN before STARTTLS")
            self.assertReply(session.docmd("AUTH", "LOGIN"), 530, "5.7.0",
                             "AUTH LOGIN before STARTTLS")
        finally:
            quit_quietly(session)

    def assertUnauthenticated(self, session):
        self.assertReply(session.docmd("MAIL", "FROM:<%s>" % SENDER), 250)
        self.assertReply(session.docmd("RCPT", "TO:<victim@accept.test>"), 554, "5.7.1",
                         "RCPT after a failed AUTH")

    def test_wrong_password(self):
        session = open_submission()
        try:
            # Failed logins use OTHER_SENDER so a lockout cannot break later submissions.
            self.assertReply(auth_plain(session, OTHER_SENDER, "wrong password"), 535, "5.7.8",
                             "AUTH PLAIN with a wrong password")
            self.assertUnauthenticated(session)
        finally:
            quit_quietly(session)

    def test_auth_edge_cases(self):
        # Each entry: (name, AUTH arguments, follow-up line or None, expected code, status).
        cases = [
            ("empty-authcid", "PLAIN " + plain_token(OTHER_SENDER, "", OTHER_PASSWORD), None,
             535, "5.7.8"),
            ("other-authzid", "PLAIN " + plain_token(SENDER, OTHER_SENDER, OTHER_PASSWORD),
             None, 535, None),
            ("bad-base64", "PLAIN !!!notb64", None, 501, "5.5.2"),
            ("login-cancelled", "LOGIN", "*", 501, None),
            ("login-wrong-password", "LOGIN", None, 535, "5.7.8"),
        ]
        for name, arguments, follow_up, code, enhanced in cases:
            with self.subTest(case=name):
                session = open_submission()
                try:
                    reply = session.docmd("AUTH", arguments)
                    if name.startswith("login"):
                        self.assertReply(reply, 334, what="AUTH LOGIN")
                        if follow_up is None:
                            user = base64.b64encode(OTHER_SENDER.encode()).decode()
                            reply = session.docmd(user)
                            self.assertReply(reply, 334, what="AUTH LOGIN user name")
                            follow_up = base64.b64encode(b"wrong").decode()
                        reply = session.docmd(follow_up)
                    self.assertReply(reply, code, enhanced, "AUTH " + name)
                    self.assertUnauthenticated(session)
                finally:
                    quit_quietly(session)

    def test_smuggled_message_never_delivered(self):
        for name, ending in SMUGGLING_ENDINGS.items():
            with self.subTest(ending=name):
                payload = (b"Subject: x\r\n\r\nhi" + ending
                           + b"MAIL FROM:<" + SENDER.encode() + b">\r\n"
                           + b"RCPT TO:<smuggled@accept.test>\r\n"
                           + b"DATA\r\n\r\nfake\r\n.\r\n")
                session = open_authenticated()
                try:
                    self.assertReply(session.docmd("MAIL", "FROM:<%s>" % SENDER), 250)
                    self.assertReply(session.docmd("RCPT", "TO:<carrier@accept.test>"), 250)
                    self.assertReply(session.docmd("DATA"), 354)
                    session.send(payload)
                    code, text = session.getreply()
                    self.assertGreaterEqual(code, 500, "end of data: %d %s" % (code, text))
                    self.assertLess(code, 600, "end of data: %d %s" % (code, text))
                    extra = read_extra_replies(session)
                    self.assertFalse([reply for reply in extra if reply[0] != 421],
                                     "replies to smuggled commands: %r" % extra)
                finally:
                    session.close()

        # A message submitted afterwards shows the queue has run past anything smuggled.
        token = "after-smuggling"
        submit(make_message(SENDER, "marker@accept.test", token), ["marker@accept.test"])
        env.accept.wait_for_message(has_token(token), DELIVERY_TIMEOUT, "the marker message")
        wait_for_empty_queue()
        for envelope, raw in env.accept.messages():
            self.assertNotIn("smuggled@accept.test", envelope["rcpt_tos"])
            self.assertNotIn("carrier@accept.test", envelope["rcpt_tos"])
            self.assertNotEqual(raw, b"fake\r\n")

    def test_invalid_sender_address(self):
        session = open_authenticated()
        try:
            self.assertReply(session.docmd("MAIL", "FROM:<;sleep 66;>"), 501,
                             what="MAIL FROM:<;sleep 66;>")
        finally:
            quit_quietly(session)

    def test_command_line_too_long(self):
        session = open_submission()
        try:
            session.send(b"NOOP " + b"a" * 1000 + b"\r\n")
            self.assertReply(session.getreply(), 500, what="a 1005-octet command line")
        finally:
            session.close()

    def test_endless_line_bounded(self):
        peak_before = peak_memory_kib(env.daemon.process.pid)
        session = smtplib.SMTP("127.0.0.1", harness.SUBMISSION_PORT, timeout=5)
        reply = None
        try:
            session.send(b"EHLO " + b"a" * (10 * 1024 * 1024))
            reply = session.getreply()
        except (smtplib.SMTPServerDisconnected, OSError):
            pass  # Closing the connection (or never ending the line) is acceptable.
        finally:
            session.close()
        if reply is not None:
            self.assertIn(reply[0], (421, 500), "reply to 10 MiB without CRLF: %r" % (reply,))
        env.daemon.process.check_running()
        growth = peak_memory_kib(env.daemon.process.pid) - peak_before
        self.assertLess(growth, 8 * 1024, "peak memory grew by %d KiB for one line" % growth)
        fresh = open_submission(starttls=False)
        self.assertEqual(fresh.noop()[0], 250)
        quit_quietly(fresh)


# Administration through outpostctl ---------------------------------------------

def auth_reply(user, password):
    session = open_submission()
    try:
        return auth_plain(session, user, password)
    finally:
        quit_quietly(session)


class AdminTest(OutpostTestCase):
    def test_dns_records_format(self):
        records = env.daemon.ctl_json("dns", "records", "example.org")
        dkim_name = "%s._domainkey.example.org." % env.selector
        for record in records:
            with self.subTest(record=record.get("name")):
                for key in ("name", "type", "value", "purpose"):
                    self.assertIn(key, record)
                self.assertTrue(record["name"].endswith("."), "name is not a FQDN")
                if record["type"] == "TXT":
                    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', record["value"])
                    self.assertTrue(strings, "TXT value is not quoted: %r" % record["value"])
                    for string in strings:
                        self.assertLessEqual(len(string), 255)
        dkim_records = [record for record in records if record["name"] == dkim_name]
        self.assertEqual(len(dkim_records), 1, "no single DKIM record at %s" % dkim_name)
        published = harness.dkim_dns_txt(dkim_name)
        self.assertIn(b"p=", published)

    def test_account_password_change(self):
        address = "passwd@example.org"
        env.add_account(address, "first password")
        self.assertReply(auth_reply(address, "first password"), 235)

        env.daemon.ctl("account", "passwd", address, "--password-stdin",
                       input_text="second password\n")
        self.assertReply(auth_reply(address, "first password"), 535, "5.7.8",
                         "AUTH with the old password")
        self.assertReply(auth_reply(address, "second password"), 235,
                         what="AUTH with the new password")

    def test_account_remove(self):
        address = "removed@example.org"
        env.add_account(address, PASSWORD)
        listed = json.dumps(env.daemon.ctl_json("account", "list"))
        self.assertIn(address, listed)

        env.daemon.ctl("account", "remove", address)
        self.assertNotIn(address, json.dumps(env.daemon.ctl_json("account", "list")))
        self.assertReply(auth_reply(address, PASSWORD), 535, "5.7.8",
                         "AUTH as a removed account")

    def test_duplicate_account_rejected(self):
        result = env.daemon.ctl("account", "add", SENDER, "--password-stdin",
                                input_text="another password\n", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(result.stderr.strip(), "no error message on stderr")
        self.assertReply(auth_reply(SENDER, PASSWORD), 235,
                         what="AUTH with the original password")

    def test_domain_add_and_remove(self):
        domain = "removable.test"
        env.add_domain(domain)
        self.assertIn(domain, json.dumps(env.daemon.ctl_json("domain", "list")))
        duplicate = env.daemon.ctl("domain", "add", domain, check=False)
        self.assertNotEqual(duplicate.returncode, 0, "adding a domain twice succeeded")
        self.assertTrue(duplicate.stderr.strip(), "no error message on stderr")

        env.daemon.ctl("domain", "remove", domain)
        self.assertNotIn(domain, json.dumps(env.daemon.ctl_json("domain", "list")))


# Delay warnings and expiry ----------------------------------------------------

class ExpiryTest(OutpostTestCase):
    def test_unreachable_mx_warned_then_bounced(self):
        # noaddr.test has an MX host without an address record: delivery must
        # stay deferred rather than fall back to the domain's own A record.
        recipient = "user@noaddr.test"
        submit(make_message(SENDER, recipient, "expiry"), [recipient])

        envelope, raw = env.accept.wait_for_message(
            is_report_for(recipient, "delayed"), DELAY_WARNING + DELIVERY_TIMEOUT,
            "the delay warning")
        self.assertReport(raw, envelope, recipient, r"^4\.\d{1,3}\.\d{1,3}$", "delayed")
        envelope, raw = env.accept.wait_for_message(
            is_report_for(recipient), MESSAGE_LIFETIME + DELIVERY_TIMEOUT,
            "the bounce after the message lifetime")
        self.assertReport(raw, envelope, recipient, r"^[45]\.\d{1,3}\.\d{1,3}$")
        wait_until_dequeued(recipient)

        warnings = [raw for envelope, raw in env.accept.messages()
                    if is_report_for(recipient, "delayed")(envelope, raw)]
        self.assertEqual(len(warnings), 1, "the delay warning was sent more than once")
        fallbacks = [envelope for envelope, raw in env.implicit.messages()
                     if recipient in envelope["rcpt_tos"]]
        self.assertEqual(fallbacks, [], "delivered to the A record of a domain that has an MX")


# Crash recovery ---------------------------------------------------------------

class CrashRecoveryTest(OutpostTestCase):
    def test_acknowledged_message_survives_sigkill(self):
        token = "after-sigkill"
        recipient = "someone@slow.test"
        submitted = make_message(SENDER, recipient, token)
        submit(submitted, [recipient])
        env.daemon.kill()

        env.daemon.start()
        env.slow.start()
        envelope, raw = env.slow.wait_for_message(has_token(token), DELIVERY_TIMEOUT,
                                                  "the message acknowledged before SIGKILL")
        self.assertDeliveredIntact(envelope, raw, submitted, recipient)
        self.assertTrue(dkim.verify(raw, dnsfunc=harness.dkim_dns_txt))
        wait_for_empty_queue()
        copies = [raw for envelope, raw in env.slow.messages() if has_token(token)(envelope, raw)]
        self.assertEqual(len(copies), 1, "the message was delivered more than once")


TEST_CLASSES = [SubmissionTest, DkimTest, RetryTest, BounceTest, RefusalTest, AdminTest,
                ExpiryTest, CrashRecoveryTest]


def print_logs():
    """Print the ends of the server logs to stderr, outpostd's first and longest."""
    sections = [("outpostd", env.daemon.log_path, 300),
                ("knotd", os.path.join(env.knot.directory, "knotd.log"), 30)]
    for server in env.servers():
        if server is not None:
            sections.append(("recipient " + server.address,
                             os.path.join(server.store, "server.log"), 30))
    for name, path, count in sections:
        if not os.path.exists(path) or os.path.getsize(path) == 0:
            continue
        with open(path, "rb") as source:
            text = source.read().decode("utf-8", "replace")
        print("\n==== %s log (%s) ====" % (name, path), file=sys.stderr)
        print(harness.tail(text, count), file=sys.stderr)


def print_failures(result):
    """Repeat each failure after the logs, where a truncated test log still shows it."""
    print("\n==== failed tests ====", file=sys.stderr)
    for test, trace in result.failures + result.errors:
        print("%s\n%s" % (test, harness.tail(trace.rstrip(), 12)), file=sys.stderr)
    print("%d run, %d failed, %d errors, %d skipped"
          % (result.testsRun, len(result.failures), len(result.errors), len(result.skipped)),
          file=sys.stderr)


def main():
    logging.getLogger("dkim").setLevel(logging.CRITICAL)
    return harness.run_tests(sys.modules[__name__], "Outpost end-to-end delivery tests",
                             "BounceTest.test_null_mx_bounces_with_5_1_10", Environment,
                             report)


def report(result):
    print_logs()
    print_failures(result)

if __name__ == "__main__":
    sys.exit(main())
