#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of relaying through a smarthost: routing by the sender's
domain, required STARTTLS with a verified certificate, AUTH with the stored
credentials, and deferral (never a bounce) when the relay refuses the login
or offers no TLS. The relays are aiosmtpd servers in this process.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5353, 127.0.0.8 and ports 2525, 10587 and 10465 of the host.
"""

import os
import re
import smtplib
import ssl
import subprocess
import sys
import threading
import unittest
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import harness

RELAY_ADDRESS = "127.0.0.8"
RELAY_HOST = "relay.test"
TLS_PORT = 2587
PLAIN_PORT = 2588
RELAY_USER = "outpost-relay-user"
RELAY_PASSWORD = "relay secret 42"
WRONG_PASSWORD = "not the relay secret"
PASSWORD = "correct horse battery staple"
# The MX of reject.test rejects every recipient, so mail that went by MX
# instead of the smarthost would bounce.
RECIPIENT_DOMAIN = "reject.test"
TIMEOUT = 10
CLIENT_TLS = ssl._create_unverified_context()

# aiosmtpd 1.4 warns about its own use of Session.login_data after AUTH.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")
harness.ZONES[RELAY_HOST] = ["@ A %s" % RELAY_ADDRESS]

env = None


class RelayHandler:
    """Stores each message with the login of its session."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.logins = []

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        with self.lock:
            self.logins.append((mechanism, user))
        ok = user == RELAY_USER and auth_data.password.decode("utf-8") == RELAY_PASSWORD
        return AuthResult(success=ok, handled=False, auth_data=user)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append({"sender": envelope.mail_from,
                                  "recipients": list(envelope.rcpt_tos),
                                  "login": session.auth_data,
                                  "tls": session.ssl is not None,
                                  "raw": envelope.original_content})
        return "250 2.0.0 relayed"

    def find(self, token):
        with self.lock:
            return [m for m in self.messages if token.encode() in m["raw"]]


class Environment:
    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"))
        os.makedirs(self.knot.directory, exist_ok=True)
        self.mx_dir = os.path.join(scratch, "mx")
        os.makedirs(self.mx_dir, exist_ok=True)
        self.daemon = harness.Outpostd(outpostd, outpostctl, os.path.join(scratch, "outpostd"))
        self.reject = harness.RecipientServer(self.mx_dir, "127.0.0.4", mode="reject")
        self.tls_relay = RelayHandler()
        self.plain_relay = RelayHandler()
        self.controllers = []
        self.ca_file = None

    def make_relay_certificate(self):
        key = os.path.join(self.scratch, RELAY_HOST + ".key")
        cert = os.path.join(self.scratch, RELAY_HOST + ".crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + RELAY_HOST,
                        "-addext", "subjectAltName=DNS:" + RELAY_HOST],
                       check=True, capture_output=True, timeout=60)
        return cert, key

    def start_relay(self, handler, port, tls_context):
        controller = Controller(handler, hostname=RELAY_ADDRESS, port=port,
                                server_hostname=RELAY_HOST, tls_context=tls_context,
                                require_starttls=tls_context is not None,
                                auth_require_tls=True, authenticator=handler.authenticate)
        controller.start()
        self.controllers.append(controller)

    def start(self):
        self.knot.start()
        self.reject.start()
        cert, key = self.make_relay_certificate()
        self.ca_file = cert
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.start_relay(self.tls_relay, TLS_PORT, context)
        self.start_relay(self.plain_relay, PLAIN_PORT, None)
        os.makedirs(self.daemon.directory, exist_ok=True)
        self.daemon.start()

    def stop(self):
        for controller in self.controllers:
            controller.stop()
        harness.stop_all()

    def ctl(self, *args, **kwargs):
        return self.daemon.ctl(*args, **kwargs)

    def ctl_json(self, *args):
        return self.daemon.ctl_json(*args)

    def set_password(self, password):
        self.ctl("settings", "set", "smarthost-password", "-", input_text=password + "\n")
        self.ctl("reload")


def setUpModule():
    env.start()
    env.ctl("settings", "set", "smarthost-user", RELAY_USER, "smarthost-ca-file", env.ca_file)
    env.set_password(RELAY_PASSWORD)
    for domain, port in (("relayed.test", TLS_PORT), ("plainrelay.test", PLAIN_PORT)):
        env.ctl("domain", "add", domain)
        env.ctl("domain", "set", domain, "--smarthost=%s:%d" % (RELAY_HOST, port))
        env.ctl("account", "add", "sender@" + domain, "--password-stdin",
                input_text=PASSWORD + "\n")


def tearDownModule():
    env.stop()


def submit(sender, recipient, token):
    raw = ("From: <%s>\r\nTo: <%s>\r\nSubject: smarthost %s\r\n"
           "Date: Thu, 04 Dec 2025 16:00:00 +0000\r\nMessage-ID: <%s@smarthost.test>\r\n"
           "\r\nBody of %s.\r\n" % (sender, recipient, token, token, token)).encode("ascii")
    session = smtplib.SMTP("127.0.0.1", harness.SUBMISSION_PORT, local_hostname="client.test",
                           timeout=20)
    try:
        session.starttls(context=CLIENT_TLS)
        session.login(sender, PASSWORD)
        refused = session.sendmail(sender, [recipient], raw)
        if refused:
            raise AssertionError("recipients refused: %r" % refused)
    finally:
        session.quit()


def find_entry(recipient):
    for entry in env.ctl_json("queue", "list", "--recipient", recipient):
        if recipient in entry["recipients"]:
            return entry
    return None


def wait_deferred(recipient, pattern):
    """Wait until the message to recipient is deferred with a reply matching pattern."""

    def deferred():
        entry = find_entry(recipient)
        if entry and entry["state"] == "deferred" and re.search(pattern, entry["last-reply"]):
            return entry
        return None

    return harness.wait_for(deferred, TIMEOUT, "the message to %s to be deferred" % recipient,
                            interval=0.2)


def bounced_events(recipient):
    return [event for event in env.ctl_json("log", "search", "--recipient", recipient)
            if event.get("status") in ("bounced", "expired")]


class SmarthostTest(unittest.TestCase):
    def test_relay_gets_signed_mail_with_login(self):
        recipient = "signed@" + RECIPIENT_DOMAIN
        submit("sender@relayed.test", recipient, "relay-signed")
        message = harness.wait_for(lambda: env.tls_relay.find("relay-signed"), TIMEOUT,
                                   "the message at the TLS relay")[0]
        self.assertEqual(message["sender"], "sender@relayed.test")
        self.assertEqual(message["recipients"], [recipient])
        self.assertTrue(message["tls"], "the message reached the relay without TLS")
        self.assertEqual(message["login"], RELAY_USER)
        self.assertRegex(message["raw"].decode("ascii", "replace"),
                         r"(?im)^DKIM-Signature:.*\bd=relayed\.test\b")
        self.assertEqual(env.reject.messages(), [], "the message also went to the MX")

    def test_wrong_password_defers(self):
        recipient = "wrongpass@" + RECIPIENT_DOMAIN
        env.set_password(WRONG_PASSWORD)
        try:
            submit("sender@relayed.test", recipient, "relay-wrong-password")
            entry = wait_deferred(recipient, r"refused the login")
            self.assertIn("check smarthost-user and smarthost-password", entry["last-reply"])
            self.assertIn("535", entry["last-reply"])
            self.assertNotIn(WRONG_PASSWORD, entry["last-reply"])
            self.assertEqual(bounced_events(recipient), [])
            self.assertEqual(env.tls_relay.find("relay-wrong-password"), [])
        finally:
            env.set_password(RELAY_PASSWORD)
        # With the right password, the next retry gets through.
        harness.wait_for(lambda: env.tls_relay.find("relay-wrong-password"), TIMEOUT,
                         "the deferred message at the relay after the fix")
        self.assertNotIn(WRONG_PASSWORD, env.daemon.read_log())
        self.assertNotIn(RELAY_PASSWORD, env.daemon.read_log())

    def test_relay_without_starttls_defers(self):
        recipient = "plain@" + RECIPIENT_DOMAIN
        submit("sender@plainrelay.test", recipient, "relay-plain")
        entry = wait_deferred(recipient, r"does not offer STARTTLS")
        self.assertIn(RELAY_HOST, entry["last-reply"])
        self.assertEqual(env.plain_relay.find("relay-plain"), [])
        self.assertEqual(env.plain_relay.logins, [], "credentials went out without TLS")
        self.assertEqual(bounced_events(recipient), [])

    def test_untrusted_certificate_defers(self):
        recipient = "untrusted@" + RECIPIENT_DOMAIN
        # The system trust store does not contain the relay's self-signed certificate.
        env.ctl("settings", "set", "smarthost-ca-file", "")
        env.ctl("reload")
        try:
            submit("sender@relayed.test", recipient, "relay-untrusted")
            entry = wait_deferred(recipient, r"TLS certificate of relay\.test\S* is not trusted")
            self.assertEqual(bounced_events(recipient), [])
            self.assertEqual(env.tls_relay.find("relay-untrusted"), [])
        finally:
            env.ctl("settings", "set", "smarthost-ca-file", env.ca_file)
            env.ctl("reload")

    def test_password_is_write_only(self):
        settings = env.ctl_json("settings", "get")
        self.assertNotIn("smarthost-password", settings)
        self.assertIs(settings["smarthost-password-set"], True)
        self.assertEqual(settings["smarthost-user"], RELAY_USER)
        self.assertEqual(settings["smarthost-ca-file"], env.ca_file)
        shown = env.ctl("settings", "get").stdout
        self.assertNotIn(RELAY_PASSWORD, shown)

    def test_control_character_in_password_rejected(self):
        result = env.ctl("settings", "set", "smarthost-password", "bad\tsecret", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("invalid smarthost-password", result.stderr)
        self.assertNotIn("secret", result.stderr, "the error repeats the password")


TEST_CLASSES = [SmarthostTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost smarthost relay tests",
                             "SmarthostTest.test_relay_gets_signed_mail_with_login",
                             Environment)


if __name__ == "__main__":
    sys.exit(main())
