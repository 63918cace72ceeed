#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of outpost-sendmail and outpostd's sendmail socket: mail
from root and from the user nobody reaches the recipient MX intact, in CRLF and
DKIM-signed; -t; the exit statuses; the sender rule; the per-uid session
limit; and the socket's life across restarts.

run-integration.sh runs this inside private network, mount and PID
namespaces. The file mounts a tmpfs on /run there, so the socket sits in
/run/outpost as in production and the user nobody can reach it, and it does
not run outside that mount namespace.
"""

import grp
import os
import pwd
import re
import shutil
import socket
import stat
import struct
import subprocess
import sys
import time
import unittest

import dkim

import harness
from harness import wait_for

SENDER = "app@example.org"
SOCKET = "/run/outpost/sendmail.sock"
# A copy of outpost-sendmail that the user nobody may run, whatever the build
# folder's modes.
TOOLS_DIR = "/run/outpost-sendmail-test"
SESSIONS_PER_CLIENT = 2
MAX_RECIPIENTS = 3
MAX_MESSAGE_SIZE = 1000000
DELIVERY_TIMEOUT = 30

# sysexits.h
EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_TEMPFAIL = 75
EX_NOPERM = 77

# Fields that outpost-sendmail or outpostd add to a message.
ADDED_FIELDS = {b"dkim-signature", b"received", b"message-id", b"date", b"from"}

env = None


def in_test_namespace():
    """Return True inside run-integration.sh's namespaces, where it is PID 1."""
    try:
        with open("/proc/1/cmdline", "rb") as source:
            return os.getppid() == 1 and b"run-integration.sh" in source.read()
    except OSError:
        return False


class Environment:
    """DNS, one recipient server and outpostd listening on SOCKET."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"))
        self.mx_dir = os.path.join(scratch, "mx")
        self.config = os.path.join(scratch, "outpost.conf")
        self.daemon_args = ["--config", self.config, "--sendmail-socket", SOCKET]
        self.daemon = harness.Outpostd(outpostd, outpostctl, os.path.join(scratch, "outpostd"),
                                       self.daemon_args)
        self.built_sendmail = os.environ.get(
            "OUTPOST_SENDMAIL", os.path.join(os.path.dirname(outpostd), "outpost-sendmail"))
        self.sendmail = os.path.join(TOOLS_DIR, "outpost-sendmail")
        self.accept = None
        self.mounts = []

    def mount(self, argv, target):
        subprocess.run(argv + [target], check=True, capture_output=True, timeout=30)
        self.mounts.append(target)

    def start(self):
        if not in_test_namespace():
            raise unittest.SkipTest("run through run-integration.sh: this file mounts a tmpfs "
                                    "on /run, which only its private mount namespace may see")
        for directory in (self.knot.directory, self.mx_dir, self.daemon.directory):
            os.makedirs(directory, exist_ok=True)
        with open(self.config, "w") as output:
            output.write("[server]\nmax_sessions_per_client = %d\nmax_recipients = %d\n"
                         "max_message_size = %d\n"
                         % (SESSIONS_PER_CLIENT, MAX_RECIPIENTS, MAX_MESSAGE_SIZE))
        self.mount(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs"], "/run")
        os.makedirs(TOOLS_DIR, mode=0o755)
        shutil.copy2(self.built_sendmail, self.sendmail)
        os.chmod(self.sendmail, 0o755)

        self.knot.start()
        self.accept = harness.RecipientServer(self.mx_dir, "127.0.0.2")
        self.accept.start()
        self.daemon.start()
        self.daemon.ctl("domain", "add", "example.org")
        self.publish_records("example.org")

    def publish_records(self, domain):
        """Copy the TXT records of domain that outpostctl generates into knot's zone."""
        records = [(record["name"], 300, "TXT", record["value"])
                   for record in self.daemon.ctl_json("dns", "records", domain)
                   if record.get("type") == "TXT"
                   and record["name"].rstrip(".").endswith(domain)]
        if not records:
            raise AssertionError("dns records %s returned no TXT record" % domain)
        self.knot.set_records(domain, records)

    def unmount(self, target):
        subprocess.run(["umount", "--lazy", target], capture_output=True, timeout=30)
        self.mounts.remove(target)

    def stop(self):
        harness.stop_all()
        for target in reversed(list(self.mounts)):
            self.unmount(target)


def setUpModule():
    env.start()


def tearDownModule():
    env.stop()


def sendmail(args, message, user="root", socket_path=SOCKET):
    """Run outpost-sendmail ARGS as user with message on standard input."""
    argv = [env.sendmail] + list(args)
    if user != "root":
        argv = ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", "--"] + argv
    child_env = dict(os.environ, OUTPOST_SENDMAIL_SOCKET=socket_path)
    return subprocess.run(argv, input=message, capture_output=True, timeout=60, env=child_env)


def token_of(test):
    return "%s-%d" % (test.id().rsplit(".", 1)[-1], time.monotonic_ns())


def split_fields(raw):
    """Return the header fields of raw, each with its folded lines, and the body."""
    header, _, body = raw.partition(b"\r\n\r\n")
    fields = []
    for line in header.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return fields, body


def field_name(field):
    return field.split(b":", 1)[0].strip().lower()


def field_values(raw, name):
    fields, _ = split_fields(raw)
    return [re.sub(rb"\r\n[ \t]", b" ", field.split(b":", 1)[1]).strip().decode()
            for field in fields if field_name(field) == name.lower().encode()]


def without_added_fields(raw):
    fields, body = split_fields(raw)
    kept = [field for field in fields if field_name(field) not in ADDED_FIELDS]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def wait_for_token(token):
    return env.accept.wait_for_message(lambda envelope, raw: token.encode() in raw,
                                       DELIVERY_TIMEOUT, "the message %s" % token)


def send_and_wait(test, args, user="root", socket_path=SOCKET):
    """Send a message with a token of its own and return it as the MX received it."""
    token = token_of(test)
    result = sendmail(args, ("Subject: %s\n\nbody\n" % token).encode(), user=user,
                      socket_path=socket_path)
    test.assertEqual(result.returncode, EX_OK, result.stderr.decode(errors="replace"))
    return wait_for_token(token)


def open_local_session():
    """Connect to SOCKET as root and return the socket and its greeting."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(20)
    client.connect(SOCKET)
    return client, read_reply(client)


def read_reply(client):
    data = b""
    while not re.search(rb"(^|\r\n)\d{3} [^\r\n]*\r\n$", data):
        chunk = client.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("ascii", "replace")


class SendmailTest(unittest.TestCase):
    """Messages through outpost-sendmail, as root and as the user nobody."""

    def check_delivered(self, user, args, message, token):
        result = sendmail(args, message, user=user)
        self.assertEqual(result.returncode, EX_OK, result.stderr.decode(errors="replace"))
        self.assertEqual(result.stderr, b"")
        envelope, raw = wait_for_token(token)
        self.assertIsNone(re.search(rb"(?<!\r)\n", raw), "a bare LF reached the MX")
        self.assertIsNone(re.search(rb"\r(?!\n)", raw), "a bare CR reached the MX")
        return envelope, raw

    def check_signed_delivery(self, user):
        token = token_of(self)
        message = ("Subject: hi %s\n\nbody\n" % token).encode()
        envelope, raw = self.check_delivered(user, ["-f", SENDER, "user@accept.test"], message,
                                             token)
        self.assertEqual(envelope["mail_from"], SENDER)
        self.assertEqual(envelope["rcpt_tos"], ["user@accept.test"])
        self.assertEqual(without_added_fields(raw), message.replace(b"\n", b"\r\n"))
        self.assertEqual(field_values(raw, "From"), [SENDER])
        self.assertTrue(dkim.verify(raw, dnsfunc=harness.dkim_dns_txt),
                        "dkimpy could not verify the signature")
        self.assertIn("d=example.org;", field_values(raw, "DKIM-Signature")[0].replace(" ", ""))
        uid = pwd.getpwnam(user).pw_uid
        self.assertIn("local uid=%d (%s)" % (uid, user), field_values(raw, "Received")[0])

    def test_root_message_delivered_signed(self):
        self.check_signed_delivery("root")

    def test_nobody_message_delivered_signed(self):
        self.check_signed_delivery("nobody")

    def test_extract_recipients_removes_bcc(self):
        token = token_of(self)
        message = ("To: A <a@accept.test>\nCc: b@accept.test\nBcc: hidden@accept.test\n"
                   "Subject: extract %s\n\nbody\n" % token).encode()
        envelope, raw = self.check_delivered("root", ["-t", "-i", "-f", SENDER], message, token)
        self.assertEqual(sorted(envelope["rcpt_tos"]),
                         ["a@accept.test", "b@accept.test", "hidden@accept.test"])
        self.assertEqual(field_values(raw, "Bcc"), [])
        self.assertNotIn(b"hidden@accept.test", raw)
        self.assertEqual(field_values(raw, "To"), ["A <a@accept.test>"])
        self.assertEqual(field_values(raw, "Cc"), ["b@accept.test"])

    def test_lone_dot_line_delivered(self):
        token = token_of(self)
        message = ("Subject: dots %s\n\nfirst\n.\n..two\n.\nlast\n" % token).encode()
        _, raw = self.check_delivered("root", ["-oi", "-f", SENDER, "user@accept.test"],
                                      message, token)
        self.assertTrue(raw.endswith(b"\r\n\r\nfirst\r\n.\r\n..two\r\n.\r\nlast\r\n"), raw)

    def test_default_sender_is_login_at_hostname(self):
        token = token_of(self)
        message = ("Subject: default sender %s\n\nbody\n" % token).encode()
        envelope, raw = self.check_delivered("nobody", ["user@accept.test"], message, token)
        self.assertEqual(envelope["mail_from"], "nobody@" + harness.HOSTNAME)
        self.assertEqual(field_values(raw, "From"), ["nobody@" + harness.HOSTNAME])

    def test_full_name_in_added_from(self):
        token = token_of(self)
        message = ("Subject: name %s\n\nbody\n" % token).encode()
        _, raw = self.check_delivered("root", ["-F", "Web Shop", "-f", SENDER,
                                               "user@accept.test"], message, token)
        self.assertEqual(field_values(raw, "From"), ['"Web Shop" <%s>' % SENDER])

    def test_recipients_over_limit_split(self):
        token = token_of(self)
        recipients = ["r%d@accept.test" % i for i in range(MAX_RECIPIENTS + 2)]
        message = ("Subject: many %s\n\nbody\n" % token).encode()
        result = sendmail(["-f", SENDER] + recipients, message)
        self.assertEqual(result.returncode, EX_OK, result.stderr.decode(errors="replace"))

        def all_delivered():
            found = [rcpt for envelope, raw in env.accept.messages()
                     if token.encode() in raw for rcpt in envelope["rcpt_tos"]]
            return sorted(found) == sorted(recipients) and found

        wait_for(all_delivered, DELIVERY_TIMEOUT, "every recipient of %s" % token)


class RejectionTest(unittest.TestCase):
    """What outpost-sendmail reports when outpostd rejects a message."""

    def check_rejected(self, args, message, status, expected_text, user="root"):
        result = sendmail(args, message, user=user)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, status, stderr)
        self.assertIn(expected_text, stderr)
        return stderr

    def test_bare_cr_rejected(self):
        self.check_rejected(["-f", SENDER, "user@accept.test"],
                           b"Subject: bare cr\n\nbad\rline\n", EX_DATAERR, "550 5.6.0")

    def test_nul_rejected(self):
        self.check_rejected(["-f", SENDER, "user@accept.test"],
                           b"Subject: nul\n\nnul\x00here\n", EX_DATAERR, "550 5.6.0")

    def test_line_over_1000_octets_rejected(self):
        self.check_rejected(["-f", SENDER, "user@accept.test"],
                           b"Subject: long\n\n" + b"x" * 1200 + b"\n", EX_DATAERR, "500 5.5.2")

    def test_message_over_size_limit_rejected(self):
        stderr = self.check_rejected(["-f", SENDER, "user@accept.test"],
                                    b"Subject: big\n\n" + (b"y" * 70 + b"\n") * 20000,
                                    EX_DATAERR, "limit of %d octets" % MAX_MESSAGE_SIZE)
        self.assertIn("not sent", stderr)

    def test_null_sender_rejected(self):
        self.check_rejected(["-f", "<>", "user@accept.test"], b"Subject: null\n\nbody\n",
                           EX_DATAERR, "553 5.1.7")

    def test_unmanaged_sender_rejected_for_nobody(self):
        stderr = self.check_rejected(["-f", "ceo@elsewhere.example", "user@accept.test"],
                                    b"Subject: spoof\n\nbody\n", EX_NOPERM, "553 5.7.1",
                                    user="nobody")
        self.assertIn("outpost-submit", stderr)
        self.assertIn("nobody@" + harness.HOSTNAME, stderr)

    def test_unmanaged_from_rejected_for_nobody(self):
        # The envelope sender is nobody's own, but the From: field names a
        # domain the server does not manage: that would sign a forgery.
        message = b"From: ceo@elsewhere.example\nSubject: spoof\n\nbody\n"
        stderr = self.check_rejected(["-f", "nobody@" + harness.HOSTNAME, "user@accept.test"],
                                    message, EX_NOPERM, "553 5.7.1", user="nobody")
        self.assertIn("ceo@elsewhere.example", stderr)

    def test_unmanaged_sender_allowed_for_root(self):
        envelope, _ = send_and_wait(self, ["-f", "ceo@elsewhere.example", "user@accept.test"])
        self.assertEqual(envelope["mail_from"], "ceo@elsewhere.example")

    def test_submit_group_member_may_use_any_sender(self):
        group_file = os.path.join(env.scratch, "group")
        gid = next(gid for gid in range(64000, 65000) if not any(
            entry.gr_gid == gid for entry in grp.getgrall()))
        shutil.copy2("/etc/group", group_file)
        with open(group_file, "a") as output:
            output.write("outpost-submit:x:%d:nobody\n" % gid)
        env.mount(["mount", "--bind", group_file], "/etc/group")
        try:
            envelope, _ = send_and_wait(self, ["-f", "ceo@elsewhere.example",
                                               "user@accept.test"], user="nobody")
            self.assertEqual(envelope["mail_from"], "ceo@elsewhere.example")
        finally:
            env.unmount("/etc/group")

    def test_no_recipients_is_usage_error(self):
        self.check_rejected(["-t"], b"Subject: nobody to send to\n\nbody\n", EX_USAGE,
                           "no recipients")

    def test_smtp_mode_rejected(self):
        self.check_rejected(["-bs"], b"", EX_USAGE, "-bs")


class SocketTest(unittest.TestCase):
    """The sendmail socket itself: its file, its sessions and its limits."""

    def test_socket_open_to_every_user(self):
        info = os.lstat(SOCKET)
        self.assertTrue(stat.S_ISSOCK(info.st_mode))
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o666)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(SOCKET)).st_mode), 0o755)

    def test_plain_session_without_tls_or_auth(self):
        client, greeting = open_local_session()
        with client:
            self.assertTrue(greeting.startswith("220 %s " % harness.HOSTNAME), greeting)
            client.sendall(b"EHLO localhost\r\n")
            ehlo = read_reply(client)
            self.assertIn("250-SIZE %d" % MAX_MESSAGE_SIZE, ehlo)
            self.assertNotIn("STARTTLS", ehlo)
            self.assertNotIn("AUTH", ehlo)
            client.sendall(b"STARTTLS\r\n")
            self.assertTrue(read_reply(client).startswith("502 5.5.1"))
            client.sendall(b"AUTH PLAIN AGFAYg==\r\n")
            self.assertTrue(read_reply(client).startswith("503 5.5.1"))
            client.sendall(b"QUIT\r\n")
            self.assertTrue(read_reply(client).startswith("221"))

    def test_clients_hanging_up_at_once(self):
        # The greeting's write fails for these, which once freed the session
        # while it was still starting.
        for _ in range(20):
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.connect(SOCKET)
            client.close()
            tcp = socket.create_connection(("127.0.0.1", harness.SUBMISSION_PORT), timeout=20)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            tcp.close()
        env.daemon.process.check_running()
        send_and_wait(self, ["-f", SENDER, "user@accept.test"])

    def test_session_limit_counts_each_uid(self):
        held = [open_local_session() for _ in range(SESSIONS_PER_CLIENT)]
        try:
            for _, greeting in held:
                self.assertTrue(greeting.startswith("220 "), greeting)
            extra, reply = open_local_session()
            extra.close()
            self.assertTrue(reply.startswith("421 4.7.0"), reply)

            # Another uid, and a network client, have limits of their own.
            send_and_wait(self, ["user@accept.test"], user="nobody")
            with socket.create_connection(("127.0.0.1", harness.SUBMISSION_PORT),
                                          timeout=20) as tcp:
                self.assertTrue(read_reply(tcp).startswith("220 "))
        finally:
            for client, _ in held:
                client.close()

        def root_may_send():
            return sendmail(["-f", SENDER, "user@accept.test"],
                            b"Subject: after limit\n\nbody\n").returncode == EX_OK

        wait_for(root_may_send, 10, "root's sessions to close")
        send_and_wait(self, ["-f", SENDER, "user@accept.test"])


class LifecycleTest(unittest.TestCase):
    """The socket across restarts: removed, replaced, defaulted, never stolen."""

    @staticmethod
    def restart(args):
        env.daemon.stop()
        env.daemon.extra_args = list(args)
        env.daemon.start()

    def tearDown(self):
        # Each test leaves outpostd as setUpModule started it.
        if env.daemon.extra_args != env.daemon_args or not env.daemon.process.running():
            self.restart(env.daemon_args)

    def test_daemon_down_is_temporary_failure(self):
        env.daemon.stop()
        self.assertFalse(os.path.exists(SOCKET), "outpostd left its socket behind")
        result = sendmail(["-f", SENDER, "user@accept.test"], b"Subject: down\n\nbody\n")
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, EX_TEMPFAIL, stderr)
        self.assertIn(SOCKET, stderr)
        self.assertIn("not sent", stderr)

    def test_stale_socket_replaced(self):
        env.daemon.kill()
        self.assertTrue(os.path.exists(SOCKET))
        env.daemon.start()
        send_and_wait(self, ["-f", SENDER, "user@accept.test"])

    def test_second_daemon_does_not_take_socket(self):
        state = os.path.join(env.scratch, "second-state")
        result = subprocess.run(
            [env.daemon.binary, "--session-bus", "--config", "/dev/null", "--state-dir", state,
             "--hostname", harness.HOSTNAME, "--submission", "127.0.0.1:0",
             "--submissions", "127.0.0.1:0", "--resolver",
             "%s:%d" % (harness.DNS_ADDRESS, harness.DNS_PORT), "--sendmail-socket", SOCKET],
            capture_output=True, timeout=60)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, 1, stderr)
        self.assertIn("another process listens on " + SOCKET, stderr)
        send_and_wait(self, ["-f", SENDER, "user@accept.test"])

    def test_default_socket_in_state_dir(self):
        self.restart(["--config", env.config])
        default_socket = os.path.join(env.daemon.state_dir, "sendmail.sock")
        self.assertTrue(stat.S_ISSOCK(os.lstat(default_socket).st_mode))
        send_and_wait(self, ["-f", SENDER, "user@accept.test"], socket_path=default_socket)
        # The state directory is 0700, so only root and outpostd's user get in.
        result = sendmail(["user@accept.test"], b"Subject: default\n\nbody\n", user="nobody",
                          socket_path=default_socket)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, EX_TEMPFAIL, stderr)
        self.assertIn("every user can search", stderr)

    def test_empty_path_turns_socket_off(self):
        self.restart(["--config", env.config, "--sendmail-socket", ""])
        self.assertFalse(os.path.exists(SOCKET))
        self.assertFalse(os.path.exists(os.path.join(env.daemon.state_dir, "sendmail.sock")))


TEST_CLASSES = [SendmailTest, RejectionTest, SocketTest, LifecycleTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost sendmail tests",
                             "SendmailTest.test_nobody_message_delivered_signed", Environment)


if __name__ == "__main__":
    sys.exit(main())
