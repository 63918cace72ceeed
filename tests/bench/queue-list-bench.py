#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Time the queue admin API of outpostd with a large queue.

Usage: tests/bench/queue-list-bench.py [BUILD_DIR]

Starts outpostd once to create its database, then fills the database
directly with SQLite: 100,000 messages by default, each with a body and one
to three recipients, none due for an hour. Then it starts outpostd again on
a private session bus and times ListQueue pages, GetMessage, GetQueueTotals
and GetStatistics over D-Bus. It prints the median of several calls per
case. The figures are records, not pass/fail thresholds.

outpostd listens on 127.0.0.1 only, and its resolver and delivery port
point at 127.0.0.1:9, where nothing answers; no message is due, so it
sends nothing. Needs python3-gi (Gio) and dbus-daemon.

Environment: BENCH_MESSAGES (100000), BENCH_BODY (body octets, 4096),
BENCH_REPEAT (calls per case, 5).
"""

import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from gi.repository import Gio, GLib

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
BODY_SIZE = int(os.environ.get("BENCH_BODY", "4096"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
BUS_NAME = "io.github.outpostmail.Outpost1"
OBJECT_PATH = "/io/github/outpostmail/Outpost1"
INTERFACE = "io.github.outpostmail.Outpost1.Manager"
PORT = 12587


def start_bus(directory):
    address = "unix:path=" + os.path.join(directory, "bus")
    pid = subprocess.run(["dbus-daemon", "--session", "--address=" + address, "--nopidfile",
                          "--fork", "--print-pid"], capture_output=True, text=True,
                         check=True).stdout.split()[0]
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    return int(pid)


def start_daemon(outpostd, state, log):
    daemon = subprocess.Popen([
        outpostd, "--session-bus", "--config", "/dev/null", "--state-dir", state,
        "--hostname", "mail.outpost.test", "--submission", "127.0.0.1:%d" % PORT,
        "--submissions", "127.0.0.1:%d" % (PORT + 1), "--resolver", "127.0.0.1:9",
        "--delivery-port", "9", "--retry-min", "3600"], stdout=log, stderr=log)
    started = time.monotonic()
    subprocess.run(["gdbus", "wait", "--session", "--timeout", "600", BUS_NAME], check=True)
    return daemon, time.monotonic() - started


def stop_daemon(daemon):
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(60)


def fill(path, count, body_size):
    """Insert count messages as the store would, in one transaction."""
    rng = random.Random(1)
    now = int(time.time())
    senders = ["sender%d@example.org" % i for i in range(200)]
    domains = ["domain%d.example" % i for i in range(50)]
    body = (b"Subject: bench\r\nFrom: <sender@example.org>\r\n\r\n"
            + b"x" * max(0, body_size - 46))
    database = sqlite3.connect(path)
    database.execute("PRAGMA synchronous=OFF")

    messages = []
    recipients = []
    for i in range(count):
        created = now - rng.randrange(5 * 86400)
        queue_id = "%08X%06X" % (created, i)
        messages.append((queue_id, rng.choice(senders), len(body) + rng.randrange(10000),
                         created, body))
        attempts = rng.randrange(8)
        held = 1 if rng.random() < 0.02 else 0
        for j in range(rng.randrange(1, 4)):
            domain = rng.choice(domains)
            recipients.append((queue_id, "user%d@%s" % (j, domain), domain, attempts,
                               now + 3600 + rng.randrange(86400), held,
                               "451 4.4.1 attempt failed" if attempts else None))

    with database:
        database.executemany("INSERT INTO messages (id, sender, size, created, body) "
                             "VALUES (?, ?, ?, ?, ?)", messages)
        database.executemany("INSERT INTO recipients (message_id, address, domain, attempts, "
                             "next_attempt, held, last_reply) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             recipients)
    database.close()
    return len(recipients)


def list_queue(bus, filters, sort="", descending=False, offset=0, limit=100):
    arguments = GLib.Variant("(a{sv}sbuu)", (filters, sort, descending, offset, limit))
    return bus.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, "ListQueue", arguments, None,
                         Gio.DBusCallFlags.NONE, 600000, None)


def call(bus, method, arguments):
    return bus.call_sync(BUS_NAME, OBJECT_PATH, INTERFACE, method, arguments, None,
                         Gio.DBusCallFlags.NONE, 600000, None)


def median_ms(function):
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def cases(some_id):
    s = GLib.Variant
    return [
        ("ListQueue first 100, by created", lambda b: list_queue(b, {})),
        ("ListQueue first 1000, by created", lambda b: list_queue(b, {}, limit=1000)),
        ("ListQueue 100 in the middle", lambda b: list_queue(b, {}, offset=MESSAGES // 2)),
        ("ListQueue last 100", lambda b: list_queue(b, {}, offset=max(0, MESSAGES - 100))),
        ("ListQueue by created, descending", lambda b: list_queue(b, {}, "created", True)),
        ("ListQueue by size", lambda b: list_queue(b, {}, "size")),
        ("ListQueue by sender, descending", lambda b: list_queue(b, {}, "sender", True)),
        ("ListQueue by attempts", lambda b: list_queue(b, {}, "attempts")),
        ("ListQueue by next-attempt", lambda b: list_queue(b, {}, "next-attempt")),
        ("ListQueue sender substring", lambda b: list_queue(b, {"sender": s("s", "der17@")})),
        ("ListQueue recipient substring",
         lambda b: list_queue(b, {"recipient": s("s", "user2@domain3.")})),
        ("ListQueue domain", lambda b: list_queue(b, {"domain": s("s", "domain7.example")})),
        ("ListQueue state held", lambda b: list_queue(b, {"state": s("s", "held")})),
        ("ListQueue state queued, by size",
         lambda b: list_queue(b, {"state": s("s", "queued")}, "size")),
        ("ListQueue max-age 1 hour",
         lambda b: list_queue(b, {"max-age": s("x", 3600)})),
        ("GetQueueTotals", lambda b: call(b, "GetQueueTotals", None)),
        ("GetMessage", lambda b: call(b, "GetMessage", GLib.Variant("(s)", (some_id,)))),
        ("GetStatistics 720 hours",
         lambda b: call(b, "GetStatistics", GLib.Variant("(u)", (720,)))),
    ]


def run_cases(bus):
    first = list_queue(bus, {}, limit=1).unpack()[0][0]["id"]
    print("%-40s %10s %8s" % ("case", "median ms", "rows"))
    for name, function in cases(first):
        milliseconds, result = median_ms(lambda: function(bus))
        rows = result.unpack()[0] if result is not None else ()
        print("%-40s %10.1f %8s" % (name, milliseconds,
                                    len(rows) if isinstance(rows, list) else "-"))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
    outpostd = os.path.join(build, "daemon", "outpostd")
    scratch = tempfile.mkdtemp(prefix="outpost-queue-bench-")
    state = os.path.join(scratch, "state")
    bus_pid = start_bus(scratch)
    log = open(os.path.join(scratch, "outpostd.log"), "w")
    try:
        daemon, _ = start_daemon(outpostd, state, log)
        stop_daemon(daemon)
        database = os.path.join(state, "outpost.db")
        started = time.monotonic()
        recipients = fill(database, MESSAGES, BODY_SIZE)
        print("filled %d messages (%d recipients, %d-octet bodies) in %.1f s; database %.0f MB"
              % (MESSAGES, recipients, BODY_SIZE, time.monotonic() - started,
                 os.path.getsize(database) / 1e6))
        daemon, start_seconds = start_daemon(outpostd, state, log)
        print("outpostd owned its bus name %.1f s after start" % start_seconds)
        try:
            bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
            run_cases(bus)
        finally:
            stop_daemon(daemon)
    finally:
        log.close()
        os.kill(bus_pid, signal.SIGTERM)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
