#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of the delivery log (SearchEvents, EventAdded) and the
server settings (GetSettings, SetSettings, Reload, SIGHUP) of outpostd,
through outpostctl and gdbus, against knot and a recipient SMTP server on
loopback.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5353 and ports 2525, 10587, 10588 and 10465 of the host.
"""

import base64
import json
import os
import queue
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import wait_for

SENDER = "settings@example.org"
PASSWORD = "settings test password"
OBJECT_PATH = "/io/github/outpostmail/Outpost1"
INTERFACE = "io.github.outpostmail.Outpost1.Manager"
DELIVERY_TIMEOUT = 30
# Rejected submissions are written by a writer thread after the reply.
EVENT_TIMEOUT = 10
DEFAULT_MAX_SIZE = 25 * 1024 * 1024
CLIENT_TLS = ssl._create_unverified_context()
SETTING_KEYS = ["hostname", "submission-listen", "submissions-listen", "tls-cert", "tls-key",
                "max-message-size", "message-lifetime", "smarthost"]

# The environment shared by every test, set up by setUpModule().
env = None


class Environment:
    """DNS, one recipient server and outpostd with one domain and account."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"))
        self.mx_dir = os.path.join(scratch, "mx")
        self.cert_dir = os.path.join(scratch, "certs")
        self.daemon = harness.Outpostd(outpostd, outpostctl, os.path.join(scratch, "outpostd"))
        self.accept = None
        self.initial_settings = None

    def start(self):
        for directory in (self.knot.directory, self.mx_dir, self.cert_dir,
                          self.daemon.directory):
            os.makedirs(directory, exist_ok=True)
        self.knot.start()
        self.accept = harness.RecipientServer(self.mx_dir, "127.0.0.2")
        self.accept.start()
        self.daemon.start()
        self.daemon.ctl("domain", "add", "example.org")
        self.daemon.ctl("account", "add", SENDER, "--password-stdin",
                        input_text=PASSWORD + "\n")
        self.initial_settings = self.daemon.ctl_json("settings", "get")

    def stop(self):
        harness.stop_all()


def setUpModule():
    env.start()


def tearDownModule():
    env.stop()


# SMTP helpers -------------------------------------------------------------------

def make_message(recipient, token, body_lines=()):
    lines = [
        "From: Settings Test <%s>" % SENDER,
        "To: <%s>" % recipient,
        "Subject: settings test %s" % token,
        "Date: Thu, 04 Dec 2025 16:00:00 +0000",
        "Message-ID: <%s@example.org>" % token,
        "",
        "Body of %s." % token,
    ]
    lines.extend(body_lines)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def make_large_message(recipient, token, size):
    line = "x" * 76
    return make_message(recipient, token, [line] * (size // (len(line) + 2) + 1))


def open_submission(port=harness.SUBMISSION_PORT, starttls=True):
    session = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=20)
    session.ehlo()
    if starttls:
        session.starttls(context=CLIENT_TLS)
        session.ehlo()
    return session


def open_authenticated():
    session = open_submission()
    token = base64.b64encode(("\0%s\0%s" % (SENDER, PASSWORD)).encode()).decode("ascii")
    code, text = session.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise AssertionError("AUTH PLAIN as %s: expected 235, got %d %s" % (SENDER, code, text))
    return session


def quit_quietly(session):
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def send(session, recipient, message):
    """Run one transaction and return the (code, text) reply to the end of data."""
    code, text = session.docmd("MAIL", "FROM:<%s>" % SENDER)
    if code != 250:
        raise AssertionError("MAIL FROM: expected 250, got %d %s" % (code, text))
    code, text = session.docmd("RCPT", "TO:<%s>" % recipient)
    if code != 250:
        raise AssertionError("RCPT TO: expected 250, got %d %s" % (code, text))
    return session.data(message)


def submit(recipient, token):
    """Submit one message with AUTH and return its queue id."""
    session = open_authenticated()
    try:
        code, text = send(session, recipient, make_message(recipient, token))
    finally:
        quit_quietly(session)
    match = re.search(rb"queued as ([0-9A-Za-z]+)", text)
    if code != 250 or match is None:
        raise AssertionError("end of data: expected 250 with a queue id, got %d %s"
                             % (code, text))
    return match.group(1).decode("ascii")


def advertised_size():
    session = open_submission()
    try:
        return int(session.esmtp_features.get("size", "0"))
    finally:
        quit_quietly(session)


def served_subject(port=harness.SUBMISSIONS_PORT):
    """Return the subject line of the certificate a new implicit-TLS session gets."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with CLIENT_TLS.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    result = subprocess.run(["openssl", "x509", "-noout", "-subject"],
                            input=ssl.DER_cert_to_PEM_cert(der), capture_output=True,
                            text=True, check=True, timeout=30)
    return result.stdout.strip()


# Admin helpers ------------------------------------------------------------------

def search(*args):
    return env.daemon.ctl_json("log", "search", *args)


def statuses(events):
    return sorted(event["status"] for event in events)


def wait_for_events(args, predicate, description, timeout=DELIVERY_TIMEOUT):
    """Run log search ARGS until predicate(events) is true and return the events."""
    def found():
        events = search(*args)
        return events if predicate(events) else None
    try:
        return wait_for(found, timeout, description, interval=0.3)
    except AssertionError as error:
        raise AssertionError("%s; log search %s returned %s"
                             % (error, " ".join(args), json.dumps(search(*args), indent=1))) \
            from None


def settings():
    return env.daemon.ctl_json("settings", "get")


def set_settings(*pairs, check=True):
    return env.daemon.ctl("settings", "set", *pairs, check=check)


def restore_settings():
    """Store the settings the daemon started with and apply them."""
    initial = env.initial_settings
    pairs = []
    for key in SETTING_KEYS:
        value = initial[key]
        pairs += [key, ",".join(value) if isinstance(value, list) else str(value)]
    set_settings(*pairs)
    env.daemon.ctl("reload")


def gdbus_call(method, *args):
    argv = ["gdbus", "call", "--session", "--dest", harness.BUS_NAME, "--object-path",
            OBJECT_PATH, "--method", "%s.%s" % (INTERFACE, method), "--"] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


class LineReader:
    """Collects the lines of a pipe in a thread, so a test can wait with a timeout."""

    def __init__(self, pipe):
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self.read, args=(pipe,), daemon=True)
        self.thread.start()

    def read(self, pipe):
        for line in pipe:
            self.lines.put(line)

    def next_line(self, deadline):
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None


class ApiTestCase(unittest.TestCase):
    def setUp(self):
        env.daemon.process.check_running()

    def assertFails(self, result, pattern, what):
        """Assert that a CompletedProcess failed with a message matching pattern."""
        self.assertNotEqual(result.returncode, 0, "%s succeeded: %s" % (what, result.stdout))
        self.assertRegex(result.stderr, pattern, "%s: unexpected message" % what)


# The delivery log -----------------------------------------------------------------

class EventLogTest(ApiTestCase):
    def test_submission_events_by_queue_id(self):
        recipient = "log-by-id@accept.test"
        queue_id = submit(recipient, "log-by-id")
        events = wait_for_events([queue_id],
                                 lambda found: "delivered" in statuses(found),
                                 "a delivered event for %s" % queue_id)
        self.assertEqual(statuses(events), ["accepted", "delivered"])
        for event in events:
            self.assertEqual(event["queue-id"], queue_id)
            self.assertEqual(event["sender"], SENDER)
            self.assertLessEqual(abs(event["time"] - time.time()), 120)
        delivered = [event for event in events if event["status"] == "delivered"][0]
        self.assertEqual(delivered["recipient"], recipient)
        self.assertNotEqual(delivered["mx"], "")
        self.assertRegex(delivered["reply"], r"^2\d\d")
        self.assertEqual(search("--id", queue_id), events)

    def test_newest_event_first(self):
        queue_id = submit("log-order@accept.test", "log-order")
        events = wait_for_events([queue_id],
                                 lambda found: "delivered" in statuses(found),
                                 "a delivered event for %s" % queue_id)
        self.assertEqual(events[0]["status"], "delivered")
        ids = [event["id"] for event in search()]
        self.assertEqual(ids, sorted(ids, reverse=True))

    def test_filters_by_address_domain_and_status(self):
        recipient = "log-filters@accept.test"
        queue_id = submit(recipient, "log-filters")
        wait_for_events([queue_id], lambda found: "delivered" in statuses(found),
                        "a delivered event for %s" % queue_id)
        cases = {
            "recipient-substring": (["--recipient", "LOG-FILTERS@"], ["delivered"]),
            "sender": (["--sender", SENDER, queue_id], ["accepted", "delivered"]),
            "domain": (["--domain", "Accept.Test", queue_id], ["delivered"]),
            "other-domain": (["--domain", "example.net", queue_id], []),
            "status": (["--state", "accepted", queue_id], ["accepted"]),
            "since-today": (["--since", time.strftime("%Y-%m-%d"), queue_id],
                            ["accepted", "delivered"]),
            "until-today": (["--until", time.strftime("%Y-%m-%d"), queue_id], []),
            "since-tomorrow": (["--since", time.strftime("%Y-%m-%dT%H:%M",
                                                         time.localtime(time.time() + 86400)),
                                queue_id], []),
            "until-unix-time": (["--until", str(int(time.time()) + 60), queue_id],
                                ["accepted", "delivered"]),
        }
        for name, (args, expected) in cases.items():
            with self.subTest(case=name):
                self.assertEqual(statuses(search(*args)), expected)

    def test_human_output_lists_event(self):
        queue_id = submit("log-table@accept.test", "log-table")
        output = env.daemon.ctl("log", "search", queue_id).stdout
        self.assertIn("STATUS", output.splitlines()[0])
        self.assertIn(queue_id, output)
        self.assertIn("accepted", output)

    def test_follow_prints_new_events(self):
        argv = [env.daemon.ctl_binary, "--session-bus", "log", "follow", "--json"]
        follow = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        # A client that never called SearchEvents receives no events.
        monitor = subprocess.Popen(["gdbus", "monitor", "--session", "--dest",
                                    harness.BUS_NAME], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            stdout = LineReader(follow.stdout)
            stderr = LineReader(follow.stderr)
            first = stderr.next_line(time.monotonic() + 20)
            self.assertIsNotNone(first, "log follow printed nothing on stderr")
            self.assertIn("Following", first)
            recipient = "log-follow@accept.test"
            queue_id = submit(recipient, "log-follow")
            relay_victim = "follow-relay@relay.test"
            self.attempt_relay(relay_victim)
            seen = []
            deadline = time.monotonic() + DELIVERY_TIMEOUT
            expected = {("accepted", queue_id), ("delivered", queue_id), ("rejected", "")}
            while not expected <= {(event["status"], event["queue-id"]) for event in seen}:
                line = stdout.next_line(deadline)
                if line is None:
                    self.fail("log follow did not print %s; it printed %r" % (expected, seen))
                event = json.loads(line)
                if queue_id == event["queue-id"] or event["recipient"] == relay_victim:
                    seen.append(event)
            self.assertEqual([event["recipient"] for event in seen
                              if event["status"] == "rejected"], [relay_victim])
        finally:
            follow.send_signal(signal.SIGINT)
            follow.wait(10)
            monitor.terminate()
            monitored = monitor.communicate(timeout=10)[0]
        self.assertEqual(follow.returncode, 0)
        self.assertNotIn("EventAdded", monitored)

    @staticmethod
    def attempt_relay(victim):
        session = open_submission(starttls=False)
        try:
            session.docmd("MAIL", "FROM:<someone@relay-source.test>")
            code, text = session.docmd("RCPT", "TO:<%s>" % victim)
            if code != 554:
                raise AssertionError("relay attempt: expected 554, got %d %s" % (code, text))
        finally:
            quit_quietly(session)

    def test_relay_attempt_recorded(self):
        victim = "victim-relay@relay.test"
        self.attempt_relay(victim)
        events = wait_for_events(["--recipient", victim, "--state", "rejected"],
                                 lambda found: len(found) == 1,
                                 "one rejected event for %s" % victim, EVENT_TIMEOUT)
        self.assertEqual(events[0]["sender"], "someone@relay-source.test")
        self.assertEqual(events[0]["queue-id"], "")
        self.assertRegex(events[0]["reply"], r"^554 5\.7\.1 ")

    def test_bare_lf_message_recorded(self):
        recipient = "smuggled@accept.test"
        session = open_authenticated()
        try:
            session.docmd("MAIL", "FROM:<%s>" % SENDER)
            session.docmd("RCPT", "TO:<%s>" % recipient)
            code, _ = session.docmd("DATA")
            self.assertEqual(code, 354)
            # The bare LF before the dot must not end the data (RFC 5321 §4.1.1.4).
            session.send(b"Subject: x\r\n\r\nhi\n.\r\nstill data\r\n.\r\n")
            code, text = session.getreply()
            self.assertEqual(code, 550, text)
        finally:
            quit_quietly(session)
        events = wait_for_events(["--recipient", recipient, "--state", "rejected"],
                                 lambda found: len(found) >= 1,
                                 "a rejected event for %s" % recipient, EVENT_TIMEOUT)
        self.assertEqual(events[0]["sender"], SENDER)
        self.assertRegex(events[0]["reply"], r"^550 5\.6\.0 ")

    def test_repeated_auth_failures_recorded(self):
        before = int(time.time())
        session = open_submission()
        try:
            bad = base64.b64encode(("\0%s\0wrong password" % SENDER).encode()).decode()
            replies = [session.docmd("AUTH", "PLAIN " + bad)[0] for _ in range(3)]
        finally:
            session.close()
        self.assertEqual(replies, [535, 535, 421])
        wait_for_events(["--state", "rejected", "--since", str(before)],
                        lambda found: any(event["reply"].startswith("421 4.7.0")
                                          for event in found),
                        "a rejected event for the failed logins", EVENT_TIMEOUT)

    def test_search_bad_input(self):
        cases = {
            "status": (["--state", "lost"], r"invalid status \"lost\""),
            "domain": (["--domain", "not a domain"], r"invalid domain name"),
            "queue-id": (["--id", "no/such/id"], r"invalid queue id"),
            "since-text": (["--since", "yesterday"], r"invalid --since \"yesterday\""),
            "since-date": (["--since", "2025-02-30"], r"invalid --since"),
            "range": (["--since", "2000", "--until", "1000"], r"since .* is after until"),
            "two-ids": (["--id", "AAAA", "BBBB"], r"two different queue ids"),
            "extra-argument": (["AAAA", "BBBB"], r"usage: outpostctl log search"),
        }
        for name, (args, pattern) in cases.items():
            with self.subTest(case=name):
                result = env.daemon.ctl("log", "search", *args, check=False)
                self.assertFails(result, pattern, "log search " + " ".join(args))

    def test_search_events_bad_arguments(self):
        cases = {
            "limit-zero": (["@a{sv} {}", "0", "0"], r"invalid limit 0"),
            "limit-too-large": (["@a{sv} {}", "0", "1001"], r"invalid limit 1001"),
            "unknown-key": (["{'colour': <'blue'>}", "0", "10"], r"unknown filter key"),
            "wrong-type": (["{'since': <'today'>}", "0", "10"], r"D-Bus type \"x\""),
            "status-type": (["{'status': <uint32 1>}", "0", "10"], r"D-Bus type \"s\""),
        }
        for name, (args, pattern) in cases.items():
            with self.subTest(case=name):
                self.assertFails(gdbus_call("SearchEvents", *args), pattern, name)

    def test_search_events_paging(self):
        queue_id = submit("log-paging@accept.test", "log-paging")
        # Once delivered, the message adds no event between the two pages.
        wait_for_events([queue_id], lambda found: "delivered" in statuses(found),
                        "a delivered event for %s" % queue_id)
        first = gdbus_call("SearchEvents", "@a{sv} {}", "0", "2")
        second = gdbus_call("SearchEvents", "@a{sv} {}", "1", "1")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertEqual(second.returncode, 0, second.stderr)
        first_ids = re.findall(r"'id': <uint64 (\d+)>", first.stdout)
        second_ids = re.findall(r"'id': <uint64 (\d+)>", second.stdout)
        self.assertEqual(len(first_ids), 2)
        self.assertEqual(second_ids, first_ids[1:])


# Settings ---------------------------------------------------------------------------

class SettingsTest(ApiTestCase):
    def tearDown(self):
        restore_settings()

    def test_defaults_shown(self):
        current = settings()
        self.assertEqual(current["hostname"], harness.HOSTNAME)
        self.assertEqual(current["submission-listen"], ["127.0.0.1:%d" % harness.SUBMISSION_PORT])
        self.assertEqual(current["submissions-listen"],
                         ["127.0.0.1:%d" % harness.SUBMISSIONS_PORT])
        self.assertEqual(current["tls-cert"],
                         os.path.join(env.daemon.state_dir, "tls-cert.pem"))
        self.assertEqual(current["tls-subject"], harness.HOSTNAME)
        self.assertIn(harness.HOSTNAME, current["tls-names"])
        self.assertGreater(current["tls-not-after"], time.time() + 86400)
        self.assertEqual(current["max-message-size"], DEFAULT_MAX_SIZE)
        self.assertEqual(current["message-lifetime"], 5 * 24 * 3600)
        self.assertEqual(current["smarthost"], "")
        output = env.daemon.ctl("settings", "get").stdout
        self.assertRegex(output, r"tls-not-after\s+\d{4}-\d\d-\d\d .* \(in \d+ days\)")

    def test_round_trip(self):
        set_settings("hostname", "renamed.outpost.test", "message-lifetime", "7200",
                     "smarthost", "relay.outpost.test:587",
                     "submissions-listen", "127.0.0.1:10465,[::1]:10465")
        current = settings()
        self.assertEqual(current["hostname"], "renamed.outpost.test")
        self.assertEqual(current["message-lifetime"], 7200)
        self.assertEqual(current["smarthost"], "relay.outpost.test:587")
        self.assertEqual(current["submissions-listen"], ["127.0.0.1:10465", "[::1]:10465"])
        session = open_submission(starttls=False)
        try:
            self.assertEqual(session.docmd("NOOP")[0], 250)
            self.assertIn(harness.HOSTNAME.encode(), session.ehlo_resp,
                          "the hostname changed before Reload")
        finally:
            quit_quietly(session)
        env.daemon.ctl("reload")
        session = open_submission(starttls=False)
        try:
            self.assertIn(b"renamed.outpost.test", session.ehlo_resp)
        finally:
            quit_quietly(session)

    def test_max_size_applies_after_reload(self):
        limit = 100000
        recipient = "size-limit@accept.test"
        before_reload = open_authenticated()
        try:
            set_settings("max-message-size", str(limit))
            self.assertEqual(settings()["max-message-size"], limit)
            self.assertEqual(advertised_size(), DEFAULT_MAX_SIZE, "changed before Reload")
            env.daemon.ctl("reload")
            self.assertEqual(advertised_size(), limit)

            session = open_authenticated()
            try:
                code, text = send(session, recipient,
                                  make_large_message(recipient, "size-limit", 2 * limit))
                self.assertEqual(code, 552, text)
                self.assertIn(b"5.3.4", text)
                code, text = session.docmd("MAIL", "FROM:<%s> SIZE=%d" % (SENDER, 2 * limit))
                self.assertEqual(code, 552, text)
            finally:
                quit_quietly(session)

            # TLS was set up with the context Reload replaced: the session goes on.
            small = "size-small@accept.test"
            code, text = send(before_reload, small, make_message(small, "size-small"))
            self.assertEqual(code, 250, text)
        finally:
            quit_quietly(before_reload)
        events = wait_for_events(["--recipient", recipient, "--state", "rejected"],
                                 lambda found: len(found) >= 1,
                                 "a rejected event for %s" % recipient, EVENT_TIMEOUT)
        self.assertRegex(events[0]["reply"], r"^552 5\.3\.4 ")

    def test_certificate_replaced_on_reload(self):
        cert, key = harness.make_certificate(env.cert_dir, "reloaded.outpost.test")
        set_settings("tls-cert", cert, "tls-key", key)
        current = settings()
        self.assertEqual(current["tls-cert"], cert)
        self.assertEqual(current["tls-subject"], "reloaded.outpost.test")
        self.assertIn(harness.HOSTNAME, served_subject(), "served before Reload")
        env.daemon.ctl("reload")
        self.assertIn("reloaded.outpost.test", served_subject())

    def test_invalid_certificate_not_stored(self):
        cert, key = harness.make_certificate(env.cert_dir, "valid.outpost.test")
        _, other_key = harness.make_certificate(env.cert_dir, "other.outpost.test")
        garbage = os.path.join(env.cert_dir, "garbage.pem")
        with open(garbage, "w") as output:
            output.write("not a certificate\n")
        cases = {
            "missing-file": (["tls-cert", "/nonexistent/cert.pem"], r"does not exist"),
            "relative-path": (["tls-cert", "cert.pem"], r"give an absolute path"),
            "not-pem": (["tls-cert", garbage, "tls-key", key],
                        r"failed to load the TLS certificate"),
            "other-key": (["tls-cert", cert, "tls-key", other_key], r"does it match"),
            "cert-without-its-key": (["tls-cert", cert], r"does it match"),
            "with-valid-hostname": (["hostname", "unchanged.outpost.test",
                                     "tls-cert", cert, "tls-key", other_key],
                                    r"does it match"),
        }
        before = settings()
        for name, (pairs, pattern) in cases.items():
            with self.subTest(case=name):
                self.assertFails(set_settings(*pairs, check=False), pattern, name)
                self.assertEqual(settings(), before)

    def test_set_bad_input(self):
        cases = {
            "unknown-key": (["colour", "blue"], r"unknown setting \"colour\""),
            "hostname-space": (["hostname", "bad host"], r"invalid hostname"),
            "hostname-empty": (["hostname", ""], r"invalid hostname"),
            "hostname-address": (["hostname", "192.0.2.1"], r"invalid hostname"),
            "hostname-long": (["hostname", "a" * 5000], r"invalid hostname \"a+\.\.\.\""),
            "listen-text": (["submission-listen", "nonsense"], r"invalid submission-listen"),
            "listen-port": (["submission-listen", "127.0.0.1:99999"],
                            r"invalid submission-listen"),
            "listen-name": (["submissions-listen", "mail.example.org:465"],
                            r"invalid submissions-listen"),
            "listen-empty-entry": (["submission-listen", "127.0.0.1:587,,"],
                                   r"invalid submission-listen"),
            "no-listener": (["submission-listen", "", "submissions-listen", ""],
                            r"no listen address left"),
            "size-too-small": (["max-message-size", "100"], r"invalid max-message-size"),
            "size-not-number": (["max-message-size", "lots"], r"invalid max-message-size"),
            "lifetime-zero": (["message-lifetime", "0"], r"invalid message-lifetime"),
            "smarthost-no-port": (["smarthost", "relay.example.net"], r"invalid smarthost"),
            "smarthost-port-zero": (["smarthost", "relay.example.net:0"],
                                    r"invalid smarthost"),
            "odd-arguments": (["hostname"], r"usage: outpostctl settings set"),
            "one-bad-of-two": (["hostname", "unchanged.outpost.test", "max-message-size",
                                "100"], r"invalid max-message-size"),
        }
        before = settings()
        for name, (pairs, pattern) in cases.items():
            with self.subTest(case=name):
                result = set_settings(*pairs, check=False)
                self.assertFails(result, pattern, name)
                self.assertLess(len(result.stderr), 300, "%s: message too long" % name)
                self.assertEqual(settings(), before)

    def test_set_settings_bad_arguments(self):
        cases = {
            "empty": (["@a{sv} {}"], r"no settings given"),
            "wrong-type": (["{'hostname': <uint64 5>}"], r"D-Bus type \"s\", not \"t\""),
            "size-as-string": (["{'max-message-size': <'100000'>}"], r"D-Bus type \"t\""),
            "empty-address": (["{'submission-listen': <@as ['']>}"], r"an address is empty"),
        }
        before = settings()
        for name, (args, pattern) in cases.items():
            with self.subTest(case=name):
                self.assertFails(gdbus_call("SetSettings", *args), pattern, name)
        for method in ("Reload", "GetSettings"):
            with self.subTest(method=method):
                self.assertFails(gdbus_call(method, "'extra'"), r"InvalidArgs|signature",
                                 method + " with an argument")
        self.assertEqual(settings(), before)

    def test_reload_keeps_running_settings_on_failure(self):
        cert, key = harness.make_certificate(env.cert_dir, "vanishing.outpost.test")
        set_settings("tls-cert", cert, "tls-key", key, "max-message-size", "200000")
        os.unlink(cert)
        result = env.daemon.ctl("reload", check=False)
        self.assertFails(result, r"reload failed and the running settings are unchanged",
                         "reload with a missing certificate")
        self.assertIn(harness.HOSTNAME, served_subject())
        self.assertEqual(advertised_size(), DEFAULT_MAX_SIZE)
        env.daemon.process.check_running()

    def test_sighup_reloads(self):
        set_settings("max-message-size", "123456")
        env.daemon.process.popen.send_signal(signal.SIGHUP)
        wait_for(lambda: advertised_size() == 123456, 10, "SIZE 123456 after SIGHUP")
        env.daemon.process.check_running()

    def test_listen_address_applies_at_start(self):
        moved = harness.SUBMISSION_PORT + 1
        set_settings("submission-listen", "127.0.0.1:%d" % moved,
                     "hostname", "restarted.outpost.test")
        env.daemon.ctl("reload")
        session = open_submission(starttls=False)
        quit_quietly(session)
        try:
            env.daemon.stop()
            env.daemon.start()
            session = open_submission(port=moved, starttls=False)
            try:
                self.assertIn(b"restarted.outpost.test", session.ehlo_resp)
            finally:
                quit_quietly(session)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", harness.SUBMISSION_PORT), timeout=5)
        finally:
            restore_settings()
            env.daemon.stop()
            env.daemon.start()
        quit_quietly(open_submission(starttls=False))

    def test_stored_certificate_missing_at_start(self):
        cert, key = harness.make_certificate(env.cert_dir, "removed.outpost.test")
        set_settings("tls-cert", cert, "tls-key", key)
        os.unlink(cert)
        try:
            env.daemon.stop()
            env.daemon.start()
            self.assertIn(harness.HOSTNAME, served_subject())
            self.assertIn("ignoring the stored setting tls-cert", env.daemon.read_log())
        finally:
            restore_settings()


TEST_CLASSES = [EventLogTest, SettingsTest]


def print_logs():
    for name, path in (("outpostd", env.daemon.log_path),
                       ("recipient", os.path.join(env.accept.store, "server.log")
                        if env.accept else "")):
        if path and os.path.exists(path):
            with open(path, "rb") as source:
                lines = source.read().decode("utf-8", "replace").splitlines()
            print("\n==== %s log (%s), last 200 lines ====" % (name, path), file=sys.stderr)
            print("\n".join(lines[-200:]), file=sys.stderr)


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost delivery log and settings tests",
                             "SettingsTest.test_round_trip", Environment,
                             lambda result: print_logs())

if __name__ == "__main__":
    sys.exit(main())
