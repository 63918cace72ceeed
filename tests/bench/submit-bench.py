#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Measure submission throughput and memory of outpostd on loopback.

Run through run-bench.sh, which provides a private network namespace and
session bus. Submits a batch of small messages over STARTTLS with AUTH on
several parallel connections, each message DKIM-signed and committed
before its 250, and reads the daemon's resident memory at rest, with idle
connections open, and after the batch.
"""
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

OUTPOSTD, OUTPOSTCTL = sys.argv[1], sys.argv[2]
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
IDLE_SESSIONS = int(os.environ.get("BENCH_IDLE", "1000"))
PORT = 11587
PASSWORD = "bench-password-1"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def ctl(*args, stdin=None):
    subprocess.run([OUTPOSTCTL, "--session-bus", *args], input=stdin, text=True, check=True,
                   stdout=subprocess.DEVNULL)


def sender(count, errors):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with smtplib.SMTP("127.0.0.1", PORT, timeout=60) as client:
            client.starttls(context=context)
            client.login("bench@example.org", PASSWORD)
            for i in range(count):
                body = (f"From: bench@example.org\r\nTo: r@example.net\r\n"
                        f"Subject: bench {i}\r\n\r\n" + "x" * 70 + "\r\n")
                client.sendmail("bench@example.org", ["r@example.net"], body)
    except Exception as error:  # reported in the summary
        errors.append(repr(error))


def main():
    state = tempfile.mkdtemp(prefix="outpost-bench-")
    log = open(os.path.join(state, "outpostd.log"), "w")
    # All idle connections come from 127.0.0.1, above the default per-client limit.
    config = os.path.join(state, "outpost.conf")
    with open(config, "w") as conf:
        conf.write(f"[server]\nmax_sessions_per_client={IDLE_SESSIONS + CONNECTIONS + 10}\n")
    daemon = subprocess.Popen([
        OUTPOSTD, "--session-bus", "--config", config, "--state-dir", state,
        "--hostname", "mail.outpost.test", "--submission", f"127.0.0.1:{PORT}",
        "--submissions", "127.0.0.1:11465", "--resolver", "127.0.0.1:9",
        "--delivery-port", "9", "--retry-min", "3600"], stdout=log, stderr=log)
    try:
        subprocess.run(["gdbus", "wait", "--session", "--timeout", "20",
                        "io.github.outpostmail.Outpost1"], check=True)
        ctl("domain", "add", "example.org")
        ctl("account", "add", "bench@example.org", "--password-stdin", stdin=PASSWORD + "\n")
        time.sleep(0.5)
        at_rest = rss_kib(daemon.pid)

        idle = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(IDLE_SESSIONS)]
        time.sleep(1)
        with_idle = rss_kib(daemon.pid)
        for sock in idle:
            sock.close()

        errors = []
        per_connection = MESSAGES // CONNECTIONS
        threads = [threading.Thread(target=sender, args=(per_connection, errors))
                   for _ in range(CONNECTIONS)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
        after = rss_kib(daemon.pid)
        sent = per_connection * CONNECTIONS
        print(f"messages: {sent} over {CONNECTIONS} connections in {elapsed:.2f} s "
              f"= {sent / elapsed:.0f} messages/s")
        print(f"RSS at rest: {at_rest} KiB; with {IDLE_SESSIONS} idle sessions: {with_idle} KiB "
              f"({(with_idle - at_rest) * 1024 / IDLE_SESSIONS:.0f} bytes per session); "
              f"after the batch: {after} KiB")
        if errors:
            print("errors:", errors[:3])
            return 1
        return 0
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
