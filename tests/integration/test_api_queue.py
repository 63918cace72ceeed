#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of the queue admin API (ListQueue, GetMessage, Retry,
Hold, Release, Delete and BounceMessages, GetQueueTotals, GetStatistics)
through outpostctl and gdbus, against a real outpostd.

Messages stay in the queue because their recipient domains have MX hosts
where nothing listens (slow.test), or where a server of this file accepts
the connection and never greets (silent.test). outpostd retries only after
an hour. Bounces go to the sender domain's MX, a recipient server.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5353 and ports 2525, 10587 and 10465 of the host.
"""

import email
import email.policy
import os
import re
import smtplib
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import wait_for

ANNA = "anna@example.org"
BERT = "bert@example.org"
# tempfail.test's MX has no server in these tests, so a bounce to this
# sender stays queued: the null-sender message the bounce tests need.
CARL = "carl@tempfail.test"
PASSWORD = "queue test password"

# The MX of silent.test accepts connections and never greets, so a message
# to it stays in its first attempt, "queued", until SilentServer lets go.
SILENT_ADDRESS = "127.0.0.12"
harness.ZONES.setdefault("silent.test", ["@ MX 10 mx", "mx A %s" % SILENT_ADDRESS])

# outpostd retries after RETRY_MIN seconds: longer than the whole file runs.
RETRY_MIN = 3600
STATE_TIMEOUT = 30
OBJECT_PATH = "/io/github/outpostmail/Outpost1"
INTERFACE = "io.github.outpostmail.Outpost1.Manager"
ERROR_PREFIX = "io.github.outpostmail.Outpost1.Error."
CLIENT_TLS = ssl._create_unverified_context()

env = None


class SilentServer:
    """A TCP listener that accepts connections and keeps them open without a greeting."""

    def __init__(self, address):
        self.listener = socket.create_server((address, harness.DELIVERY_PORT))
        self.connections = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(connection)

    def connection_count(self):
        with self.lock:
            return len(self.connections)

    def release_all(self):
        """Send each open connection a 421 greeting and close it."""
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            try:
                connection.sendall(b"421 4.3.2 test server closing\r\n")
            except OSError:
                pass
            connection.close()

    def stop(self):
        self.listener.close()
        self.release_all()


class Environment:
    """knot, the example.org MX and outpostd with three sending accounts."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"))
        os.makedirs(self.knot.directory, exist_ok=True)
        self.mx_dir = os.path.join(scratch, "mx")
        os.makedirs(self.mx_dir, exist_ok=True)
        self.daemon = harness.Outpostd(
            outpostd, outpostctl, os.path.join(scratch, "outpostd"),
            ["--retry-min", str(RETRY_MIN), "--retry-max", str(2 * RETRY_MIN)])
        self.accept = harness.RecipientServer(self.mx_dir, "127.0.0.2")
        self.silent = None

    def start(self):
        self.knot.start()
        self.accept.start()
        self.silent = SilentServer(SILENT_ADDRESS)
        os.makedirs(self.daemon.directory, exist_ok=True)
        self.daemon.start()
        for domain in ("example.org", "tempfail.test"):
            self.daemon.ctl("domain", "add", domain)
        for address in (ANNA, BERT, CARL):
            self.daemon.ctl("account", "add", address, "--password-stdin",
                            input_text=PASSWORD + "\n")

    def stop(self):
        if self.silent is not None:
            self.silent.stop()
        harness.stop_all()

    def database(self):
        return sqlite3.connect(os.path.join(self.daemon.state_dir, "outpost.db"), timeout=10)


def setUpModule():
    env.start()


def tearDownModule():
    env.stop()


# Helpers ----------------------------------------------------------------------

def make_message(sender, recipient, token, padding=0):
    lines = [
        "From: <%s>" % sender,
        "To: <%s>" % recipient,
        "Subject: queue test %s" % token,
        "Date: Thu, 04 Dec 2025 16:00:00 +0000",
        "Message-ID: <%s@example.org>" % token,
        "",
        "BODY-%s must never leave the queue through the admin API." % token,
    ]
    # Padding in lines of 72 octets, well under the 998 of RFC 5322 §2.1.1.
    lines += ["x" * 70] * (padding // 72) + ["x" * (padding % 72)]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def submit(sender, recipients, token, padding=0):
    """Submit a message with STARTTLS and AUTH and return its queue id."""
    raw = make_message(sender, recipients[0], token, padding)
    with smtplib.SMTP("127.0.0.1", harness.SUBMISSION_PORT, local_hostname="client.test",
                      timeout=20) as session:
        session.starttls(context=CLIENT_TLS)
        session.login(sender, PASSWORD)
        refused = session.sendmail(sender, recipients, raw)
        if refused:
            raise AssertionError("recipients refused: %r" % refused)
    return wait_for(lambda: find_id(recipients[0]), STATE_TIMEOUT,
                    "the message to %s in the queue" % recipients[0], interval=0.2)


def list_queue(*options):
    return env.daemon.ctl_json("queue", "list", *options)


def find_entry(recipient):
    for entry in list_queue("--recipient", recipient):
        if recipient in entry["recipients"]:
            return entry
    return None


def find_id(recipient):
    entry = find_entry(recipient)
    return entry["id"] if entry else None


def wait_for_state(recipient, state, attempts=None):
    """Wait until the message to recipient has state (and at least attempts tries)."""
    def reached():
        entry = find_entry(recipient)
        if entry is None or entry["state"] != state:
            return None
        if attempts is not None and entry["attempts"] < attempts:
            return None
        return entry
    return wait_for(reached, STATE_TIMEOUT, "the message to %s to be %s" % (recipient, state),
                    interval=0.3)


def submit_deferred(sender, recipient, token, padding=0):
    """Submit a message to an unreachable MX and wait for its first failed attempt."""
    submit(sender, [recipient], token, padding)
    return wait_for_state(recipient, "deferred", attempts=1)


def gdbus_call(method, *arguments):
    argv = ["gdbus", "call", "--session", "--dest", harness.BUS_NAME, "--object-path",
            OBJECT_PATH, "--method", "%s.%s" % (INTERFACE, method)] + list(arguments)
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def list_ids_over_dbus(filter_text, sort="", descending=False):
    result = gdbus_call("ListQueue", filter_text, "'%s'" % sort,
                        "true" if descending else "false", "uint32 0", "uint32 1000")
    if result.returncode != 0:
        raise AssertionError("ListQueue %s failed: %s" % (filter_text, result.stderr))
    return re.findall(r"'id': <'([0-9A-F]+)'>", result.stdout)


def events_of(queue_id):
    with env.database() as database:
        return database.execute("SELECT type, sender, recipient, reply FROM events "
                                "WHERE queue_id = ? ORDER BY id", (queue_id,)).fetchall()


def report_fields(raw):
    """Return the per-recipient fields of an RFC 3464 report as a list of dicts."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if message.get_content_type() != "multipart/report":
        return None
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            return [dict(block.items()) for block in part.get_payload()[1:]]
    return []


class QueueTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        env.daemon.process.check_running()

    def assertCtlFails(self, args, pattern):
        result = env.daemon.ctl(*args, check=False)
        self.assertNotEqual(result.returncode, 0, "outpostctl %s succeeded: %s"
                            % (" ".join(args), result.stdout))
        self.assertRegex(result.stderr, pattern)
        self.assertNotIn("(null)", result.stderr)
        return result

    def assertDbusError(self, result, name, what):
        self.assertNotEqual(result.returncode, 0, "%s succeeded: %s" % (what, result.stdout))
        self.assertIn(ERROR_PREFIX + name, result.stderr, what)


# Listing ----------------------------------------------------------------------

class ListTest(QueueTestCase):
    @classmethod
    def setUpClass(cls):
        # Distinct senders, sizes and arrival seconds, all to unreachable MXs.
        cls.entries = [submit_deferred(ANNA, "list-1@slow.test", "list-1", padding=3000)]
        time.sleep(1.1)
        cls.entries.append(submit_deferred(BERT, "list-2@slow.test", "list-2", padding=10))
        time.sleep(1.1)
        cls.entries.append(submit_deferred(ANNA, "list-3@tempfail.test", "list-3",
                                           padding=800))
        cls.ids = [entry["id"] for entry in cls.entries]

    def test_entry_keys(self):
        entry = self.entries[0]
        now = time.time()
        self.assertRegex(entry["id"], r"^[0-9A-F]{14}$")
        self.assertEqual(entry["sender"], ANNA)
        self.assertEqual(entry["recipients"], ["list-1@slow.test"])
        self.assertGreater(entry["size"], 3000)
        self.assertLess(abs(entry["created"] - now), 120)
        self.assertEqual(entry["state"], "deferred")
        self.assertEqual(entry["attempts"], 1)
        self.assertGreater(entry["next-attempt"], now + RETRY_MIN - 120)
        self.assertNotEqual(entry["last-reply"], "")

    def test_filters(self):
        cases = [
            (["--sender", "bert@"], [self.ids[1]]),
            (["--sender", "ANNA@EXAMPLE"], [self.ids[0], self.ids[2]]),
            (["--recipient", "list-3@"], [self.ids[2]]),
            (["--domain", "slow.test", "--recipient", "list-"], self.ids[:2]),
            (["--domain", "TEMPFAIL.test", "--recipient", "list-"], [self.ids[2]]),
            (["--state", "deferred", "--recipient", "list-"], self.ids),
            (["--state", "held", "--recipient", "list-"], []),
            (["--state", "queued", "--recipient", "list-"], []),
            (["--sender", "anna", "--domain", "slow.test", "--recipient", "list-"],
             [self.ids[0]]),
        ]
        for options, expected in cases:
            with self.subTest(options=options):
                ids = [entry["id"] for entry in list_queue(*options)]
                self.assertEqual(ids, expected)

    def test_age_filters(self):
        # Only the D-Bus API has the age filters.
        newest = max(entry["created"] for entry in self.entries)
        young = list_ids_over_dbus("{'max-age': <int64 %d>, 'recipient': <'list-'>}"
                                   % (time.time() - newest + 300))
        old = list_ids_over_dbus("{'min-age': <int64 3600>, 'recipient': <'list-'>}")
        self.assertEqual(young, self.ids)
        self.assertEqual(old, [])

    def test_sort_orders(self):
        by_id = {entry["id"]: entry for entry in self.entries}
        keys = {
            "created": lambda entry: entry["created"],
            "size": lambda entry: entry["size"],
            "sender": lambda entry: entry["sender"],
            "attempts": lambda entry: entry["attempts"],
            "next-attempt": lambda entry: entry["next-attempt"],
        }
        for sort, key in keys.items():
            for descending in (False, True):
                options = ["--recipient", "list-", "--sort", sort]
                if descending:
                    options.append("--descending")
                with self.subTest(sort=sort, descending=descending):
                    ids = [entry["id"] for entry in list_queue(*options)]
                    expected = sorted(by_id, key=lambda queue_id: (key(by_id[queue_id]),
                                                                   queue_id),
                                      reverse=descending)
                    self.assertEqual(ids, expected)

    def test_size_order_over_dbus(self):
        ids = list_ids_over_dbus("{'recipient': <'list-'>}", "size", True)
        self.assertEqual(ids, [self.ids[0], self.ids[2], self.ids[1]])

    def test_human_table(self):
        result = env.daemon.ctl("queue", "list", "--recipient", "list-")
        lines = result.stdout.splitlines()
        self.assertRegex(lines[0], r"^ID\s+STATE\s+TRIES\s+SIZE\s+ARRIVED\s+SENDER\s+RECIPIENTS$")
        for queue_id in self.ids:
            self.assertRegex(result.stdout, r"(?m)^%s\s+deferred\s+1\s" % queue_id)
        self.assertEqual(lines[-1], "3 messages")
        empty = env.daemon.ctl("queue", "list", "--recipient", "nobody-at-all@")
        self.assertEqual(empty.stdout.strip(), "No message in the queue matches.")

    def test_show(self):
        message = env.daemon.ctl_json("queue", "show", self.ids[0])
        self.assertEqual(message["id"], self.ids[0])
        self.assertEqual(message["account"], ANNA)
        self.assertEqual(message["state"], "deferred")
        self.assertIn("Subject: queue test list-1\r\n", message["headers"])
        self.assertNotIn("BODY-list-1", message["headers"])
        self.assertEqual(len(message["recipient-states"]), 1)
        recipient = message["recipient-states"][0]
        self.assertEqual(recipient["address"], "list-1@slow.test")
        self.assertEqual(recipient["state"], "deferred")
        self.assertEqual(recipient["attempts"], 1)
        self.assertEqual(recipient["next-attempt"], message["next-attempt"])
        self.assertEqual(recipient["last-reply"], message["last-reply"])

        human = env.daemon.ctl("queue", "show", self.ids[0].lower()).stdout
        self.assertIn("Queue id:     %s" % self.ids[0], human)
        self.assertIn("Subject: queue test list-1", human)
        self.assertNotIn("BODY-list-1", human)
        self.assertNotIn("\r", human)


# Hold, release and retry -------------------------------------------------------

class HoldTest(QueueTestCase):
    def test_hold_then_release(self):
        entry = submit_deferred(BERT, "hold-1@slow.test", "hold-1")
        result = env.daemon.ctl("queue", "hold", entry["id"])
        self.assertEqual(result.stdout.strip(), "Held 1 of 1 message.")
        held = find_entry("hold-1@slow.test")
        self.assertEqual(held["state"], "held")
        self.assertIn(entry["id"], [e["id"] for e in list_queue("--state", "held")])
        self.assertEqual(held["next-attempt"], entry["next-attempt"])

        env.daemon.ctl("queue", "release", entry["id"])
        released = find_entry("hold-1@slow.test")
        self.assertEqual(released["state"], "deferred")
        self.assertEqual(released["next-attempt"], entry["next-attempt"],
                         "release must keep the retry time")
        self.assertEqual(released["attempts"], 1)

    def test_retry_releases_and_runs_at_once(self):
        entry = submit_deferred(BERT, "retry-1@slow.test", "retry-1")
        env.daemon.ctl("queue", "hold", entry["id"])
        result = env.daemon.ctl("queue", "retry", entry["id"])
        self.assertEqual(result.stdout.strip(), "Retried 1 of 1 message.")
        # Without the retry the next attempt would be an hour away.
        retried = wait_for_state("retry-1@slow.test", "deferred", attempts=2)
        self.assertGreater(retried["next-attempt"], time.time() + RETRY_MIN)
        deferrals = [row for row in events_of(entry["id"]) if row[0] == "deferred"]
        self.assertEqual(len(deferrals), 2)

    def test_totals(self):
        entry = submit_deferred(BERT, "totals-1@slow.test", "totals-1")
        env.daemon.ctl("queue", "hold", entry["id"])
        totals = env.daemon.ctl_json("queue", "totals")
        self.assertEqual(set(totals), {"queued", "deferred", "held", "total"})
        self.assertGreaterEqual(totals["held"], 1)
        self.assertEqual(totals["total"], totals["queued"] + totals["deferred"] + totals["held"])
        listed = list_queue()
        self.assertEqual(totals["total"], len(listed))
        for state in ("queued", "deferred", "held"):
            with self.subTest(state=state):
                self.assertEqual(totals[state], len([e for e in listed if e["state"] == state]))
        human = env.daemon.ctl("queue", "totals").stdout
        self.assertRegex(human, r"(?m)^held\s+%d$" % totals["held"])
        self.assertRegex(human, r"(?m)^total\s+%d$" % totals["total"])
        env.daemon.ctl("queue", "delete", entry["id"])


# Delete and bounce ------------------------------------------------------------

class RemoveTest(QueueTestCase):
    def test_delete_records_event(self):
        entry = submit_deferred(ANNA, "delete-1@slow.test", "delete-1")
        result = env.daemon.ctl("queue", "delete", entry["id"])
        self.assertEqual(result.stdout.strip(), "Deleted 1 of 1 message.")
        self.assertIsNone(find_entry("delete-1@slow.test"))
        deleted = [row for row in events_of(entry["id"]) if row[0] == "deleted"]
        self.assertEqual(deleted, [("deleted", ANNA, "delete-1@slow.test",
                                    "deleted by the administrator")])
        # Deleting sends no report to the sender's MX.
        time.sleep(1)
        reports = [raw for envelope, raw in env.accept.messages()
                   if b"delete-1@slow.test" in raw]
        self.assertEqual(reports, [])

    def test_delete_some_unknown(self):
        entry = submit_deferred(ANNA, "delete-2@slow.test", "delete-2")
        result = env.daemon.ctl("queue", "delete", entry["id"], "00000000000000")
        self.assertEqual(result.stdout.splitlines(),
                         ["Deleted 1 of 2 messages.", "The other 1 was not in the queue."])

    def test_bounce_returns_report(self):
        entry = submit_deferred(ANNA, "bounce-1@slow.test", "bounce-1")
        result = env.daemon.ctl("queue", "bounce", entry["id"])
        self.assertEqual(result.stdout.strip(), "Bounced 1 of 1 message.")
        self.assertIsNone(find_entry("bounce-1@slow.test"))

        def is_report(envelope, raw):
            return (envelope["mail_from"] == ""
                    and re.search(rb"(?i)Final-Recipient:\s*rfc822;\s*bounce-1@slow\.test", raw))
        envelope, raw = env.accept.wait_for_message(is_report, STATE_TIMEOUT,
                                                    "the administrator's bounce")
        self.assertEqual(envelope["rcpt_tos"], [ANNA])
        fields = report_fields(raw)
        self.assertIsNotNone(fields, "the bounce is not multipart/report")
        self.assertEqual(len(fields), 1)
        self.assertEqual(fields[0].get("Action", "").strip(), "failed")
        self.assertEqual(fields[0].get("Status", "").strip(), "5.0.0")
        self.assertIn("deleted by the administrator", " ".join(fields[0].values()))
        self.assertIn(b"Subject: queue test bounce-1", raw)
        self.assertNotIn(b"BODY-bounce-1", raw)
        bounced = [row for row in events_of(entry["id"]) if row[0] == "bounced"]
        self.assertEqual(len(bounced), 1)
        self.assertIn("deleted by the administrator", bounced[0][3])

    def test_bounce_never_to_null_sender(self):
        # carl's domain has an unreachable MX, so the report to carl stays queued.
        submit_deferred(CARL, "bounce-2@slow.test", "bounce-2")
        original = find_id("bounce-2@slow.test")
        env.daemon.ctl("queue", "bounce", original)
        report = wait_for_state(CARL, "deferred", attempts=1)
        self.assertEqual(report["sender"], "")
        before = env.daemon.ctl_json("queue", "totals")["total"]

        result = env.daemon.ctl("queue", "bounce", report["id"])
        self.assertEqual(result.stdout.strip(), "Bounced 1 of 1 message.")
        time.sleep(1)
        self.assertIsNone(find_entry(CARL))
        self.assertEqual(env.daemon.ctl_json("queue", "totals")["total"], before - 1,
                         "bouncing a null-sender message queued another report")
        self.assertEqual([row[0] for row in events_of(report["id"])][-1], "bounced")

    def test_delete_while_in_flight(self):
        connections = env.silent.connection_count()
        queue_id = submit(ANNA, ["inflight-1@silent.test"], "inflight-1")
        wait_for(lambda: env.silent.connection_count() > connections, STATE_TIMEOUT,
                 "outpostd to connect to the silent MX")
        self.assertIn(queue_id, [e["id"] for e in list_queue("--state", "queued")])

        env.daemon.ctl("queue", "delete", queue_id)
        env.silent.release_all()
        # The delivery job now records its failed attempt for a removed recipient.
        wait_for(lambda: any(row[0] == "deferred" for row in events_of(queue_id)),
                 STATE_TIMEOUT, "the delivery job to finish its attempt")
        time.sleep(1)
        self.assertIsNone(find_entry("inflight-1@silent.test"), "the message came back")
        env.daemon.process.check_running()
        log = env.daemon.read_log()
        self.assertNotIn("updating the queue for <inflight-1@silent.test> failed", log)


# Statistics -------------------------------------------------------------------

class StatisticsTest(QueueTestCase):
    @staticmethod
    def count_events(first_hour):
        """Return {(hour, column): count} of the events since first_hour."""
        columns = {"delivered": "sent", "deferred": "deferred", "bounced": "bounced",
                   "expired": "bounced", "rejected": "rejected"}
        counts = {}
        with env.database() as database:
            for event_time, event_type in database.execute(
                    "SELECT time, type FROM events WHERE time >= ?", (first_hour,)):
                if event_type in columns:
                    key = (event_time // 3600 * 3600, columns[event_type])
                    counts[key] = counts.get(key, 0) + 1
        return counts

    def test_rows_per_hour(self):
        submit_deferred(BERT, "stats-1@slow.test", "stats-1")
        first_hour = (int(time.time()) // 3600 - 24) * 3600
        before = self.count_events(first_hour)
        rows = env.daemon.ctl_json("stats")
        after = self.count_events(first_hour)

        self.assertEqual(len(rows), 24)
        hours = [row["hour"] for row in rows]
        self.assertEqual({b - a for a, b in zip(hours, hours[1:])}, {3600}, "hours not in order")
        self.assertLessEqual(abs(hours[-1] - time.time()), 3600, "the last row is not this hour")
        self.assertGreaterEqual(rows[-1]["deferred"] + rows[-2]["deferred"], 1)
        # Events recorded while the command ran may or may not be counted.
        for row in rows:
            for column in ("sent", "deferred", "bounced", "rejected"):
                with self.subTest(hour=row["hour"], column=column):
                    self.assertGreaterEqual(row[column], before.get((row["hour"], column), 0))
                    self.assertLessEqual(row[column], after.get((row["hour"], column), 0))

    def test_hours_argument(self):
        self.assertEqual(len(env.daemon.ctl_json("stats", "3")), 3)
        self.assertEqual(len(env.daemon.ctl_json("stats", "720")), 720)
        human = env.daemon.ctl("stats", "2").stdout.splitlines()
        self.assertRegex(human[0], r"^HOUR\s+SENT\s+DEFERRED\s+BOUNCED\s+REJECTED$")
        self.assertEqual(len(human), 4)
        self.assertRegex(human[-1], r"^TOTAL\s")
        for hours in ("0", "721"):
            with self.subTest(hours=hours):
                self.assertCtlFails(["stats", hours], r"1 to 720")
        self.assertCtlFails(["stats", "many"], r"whole number")


# Bad input --------------------------------------------------------------------

class BadInputTest(QueueTestCase):
    def test_unknown_id(self):
        self.assertCtlFails(["queue", "show", "00000000000000"], r"no message with queue id")
        for verb in ("retry", "hold", "release", "delete", "bounce"):
            with self.subTest(verb=verb):
                self.assertCtlFails(["queue", verb, "00000000000000"],
                                    r"none of the given messages is in the queue")

    def test_invalid_ids(self):
        self.assertCtlFails(["queue", "show", ""], r"invalid queue id")
        self.assertCtlFails(["queue", "hold", "0000 0000"], r"invalid queue id")
        self.assertCtlFails(["queue", "delete", "A" * 65], r"invalid queue id")
        for verb in ("retry", "hold", "release", "delete", "bounce"):
            with self.subTest(verb=verb):
                self.assertCtlFails(["queue", verb], r"usage: outpostctl queue %s ID" % verb)
                result = gdbus_call(verb.capitalize() + "Messages", "@as []")
                self.assertDbusError(result, "InvalidArgument", "%s with no ids" % verb)

    def test_bad_list_options(self):
        self.assertCtlFails(["queue", "list", "--sort", "bogus"],
                            r"created, size, sender, attempts or next-attempt")
        self.assertCtlFails(["queue", "list", "--state", "bogus"], r"queued, deferred or held")
        self.assertCtlFails(["queue", "list", "--domain", "no_such domain"], r"domain")

    def test_bad_dbus_arguments(self):
        cases = [
            (["@a{sv} {}", "''", "false", "uint32 0", "uint32 0"], "limit 0"),
            (["@a{sv} {}", "''", "false", "uint32 0", "uint32 100000"], "limit 100000"),
            (["@a{sv} {}", "'bogus'", "false", "uint32 0", "uint32 10"], "an unknown sort key"),
            (["{'sender': <uint32 5>}", "''", "false", "uint32 0", "uint32 10"],
             "sender as a number"),
            (["{'min-age': <'1h'>}", "''", "false", "uint32 0", "uint32 10"],
             "min-age as a string"),
            (["{'max-age': <int32 5>}", "''", "false", "uint32 0", "uint32 10"],
             "max-age as int32"),
            (["{'min-age': <int64 -1>}", "''", "false", "uint32 0", "uint32 10"],
             "a negative min-age"),
            (["{'colour': <'red'>}", "''", "false", "uint32 0", "uint32 10"],
             "an unknown filter key"),
            (["{'state': <'bogus'>}", "''", "false", "uint32 0", "uint32 10"],
             "an unknown state"),
        ]
        for arguments, what in cases:
            with self.subTest(case=what):
                self.assertDbusError(gdbus_call("ListQueue", *arguments), "InvalidArgument",
                                     "ListQueue with " + what)
        for hours in ("0", "721"):
            with self.subTest(hours=hours):
                self.assertDbusError(gdbus_call("GetStatistics", "uint32 " + hours),
                                     "InvalidArgument", "GetStatistics(%s)" % hours)
        self.assertDbusError(gdbus_call("GetMessage", "'no-such-id'"), "NotFound",
                             "GetMessage of an unknown id")
        self.assertDbusError(gdbus_call("GetMessage", "'%s'" % ("A" * 1000)),
                             "InvalidArgument", "GetMessage of a 1000-character id")

    def test_rejected_changes_nothing(self):
        entry = submit_deferred(BERT, "bad-1@slow.test", "bad-1")
        result = gdbus_call("HoldMessages", "['%s', '']" % entry["id"])
        self.assertDbusError(result, "InvalidArgument", "HoldMessages with an empty id")
        self.assertEqual(find_entry("bad-1@slow.test")["state"], "deferred")
        result = gdbus_call("DeleteMessages", "['%s', 'x y']" % entry["id"])
        self.assertDbusError(result, "InvalidArgument", "DeleteMessages with a space in an id")
        self.assertIsNotNone(find_entry("bad-1@slow.test"))


TEST_CLASSES = [ListTest, HoldTest, RemoveTest, StatisticsTest, BadInputTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost queue admin API tests",
                             "HoldTest.test_totals", Environment)

if __name__ == "__main__":
    sys.exit(main())
