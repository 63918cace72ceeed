#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of the domain and account admin API: domain settings,
account state, hourly limits and aliases, and their effect on the submission
server. The tests drive a real outpostd through outpostctl, and through
gdbus or dbus-send for argument types that outpostctl cannot send.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5353 and ports 2525, 10587 and 10465 of the host.
"""

import base64
import os
import smtplib
import ssl
import subprocess
import sys
import unittest

import harness

PASSWORD = "correct horse battery staple"
RECIPIENT = "someone@accept.test"
# Clients that connect from this address relay without AUTH (--trusted-networks).
TRUSTED_SOURCE = "127.0.0.8"
OVERLONG = "a" * 10 * 1024
DELIVERY_TIMEOUT = 30
CLIENT_TLS = ssl._create_unverified_context()
BUS_PATH = "/io/github/outpostmail/Outpost1"
INTERFACE = "io.github.outpostmail.Outpost1.Manager"

# The environment shared by every test, set up by setUpModule().
env = None


class Environment:
    """DNS, one recipient server and outpostd, with a few helpers around outpostctl."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"))
        os.makedirs(self.knot.directory, exist_ok=True)
        self.mx_dir = os.path.join(scratch, "mx")
        os.makedirs(self.mx_dir, exist_ok=True)
        self.daemon = harness.Outpostd(outpostd, outpostctl, os.path.join(scratch, "outpostd"),
                                       ["--trusted-networks", TRUSTED_SOURCE + "/32"])
        self.accept = harness.RecipientServer(self.mx_dir, "127.0.0.2")

    def start(self):
        self.knot.start()
        self.accept.start()
        os.makedirs(self.daemon.directory, exist_ok=True)
        self.daemon.start()

    def stop(self):
        harness.stop_all()

    def ctl(self, *args, **kwargs):
        return self.daemon.ctl(*args, **kwargs)

    def ctl_json(self, *args):
        return self.daemon.ctl_json(*args)

    def add_domain(self, domain):
        self.ctl("domain", "add", domain)

    def add_account(self, address, password=PASSWORD):
        self.ctl("account", "add", address, "--password-stdin", input_text=password + "\n")

    def show_domain(self, domain):
        return self.ctl_json("domain", "show", domain)

    def find_account(self, address):
        for entry in self.ctl_json("account", "list", "--filter", address):
            if entry.get("address") == address:
                return entry
        raise AssertionError("account list --json does not list %s" % address)

    def gdbus(self, method, *arguments):
        """Call a method with gdbus and return the CompletedProcess.

        Each argument is GVariant text, so a test can send types that
        outpostctl never sends.
        """
        argv = ["gdbus", "call", "--session", "--dest", harness.BUS_NAME,
                "--object-path", BUS_PATH, "--method", INTERFACE + "." + method]
        argv += list(arguments)
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def dbus_send(self, method, *arguments):
        """Call a method with dbus-send and return the CompletedProcess.

        Unlike gdbus, dbus-send sends each argument with the type it is given
        (such as uint32:5), even when the method expects another.
        """
        argv = ["dbus-send", "--session", "--print-reply", "--dest=" + harness.BUS_NAME,
                BUS_PATH, INTERFACE + "." + method]
        argv += list(arguments)
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def setUpModule():
    env.start()


def tearDownModule():
    env.stop()


# SMTP sessions ----------------------------------------------------------------

def open_submission(source=None):
    """Open a STARTTLS submission session, from source (an IPv4 address) if given."""
    session = smtplib.SMTP("127.0.0.1", harness.SUBMISSION_PORT, local_hostname="client.test",
                           timeout=20, source_address=(source, 0) if source else None)
    session.ehlo()
    session.starttls(context=CLIENT_TLS)
    session.ehlo()
    return session


def auth_plain(session, user, password=PASSWORD):
    token = base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode("ascii")
    return session.docmd("AUTH", "PLAIN " + token)


def open_authenticated(user, password=PASSWORD):
    session = open_submission()
    code, text = auth_plain(session, user, password)
    if code != 235:
        session.close()
        raise AssertionError("AUTH PLAIN as %s: expected 235, got %d %s" % (user, code, text))
    return session


def auth_reply(user, password=PASSWORD):
    session = open_submission()
    try:
        return auth_plain(session, user, password)
    finally:
        quit_quietly(session)


def quit_quietly(session):
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def make_message(from_address, token):
    lines = [
        "From: Test <%s>" % from_address,
        "To: <%s>" % RECIPIENT,
        "Subject: domain API test %s" % token,
        "Date: Thu, 04 Dec 2025 16:00:00 +0000",
        "Message-ID: <%s@api.test>" % token,
        "",
        "Body of %s." % token,
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def send_transaction(session, sender, token, from_address=None):
    """Run MAIL, RCPT and DATA and return the first reply that is not a success."""
    reply = session.docmd("MAIL", "FROM:<%s>" % sender)
    if reply[0] != 250:
        return reply
    reply = session.docmd("RCPT", "TO:<%s>" % RECIPIENT)
    if reply[0] != 250:
        return reply
    return session.data(make_message(from_address or sender, token))


def has_token(token):
    return lambda envelope, raw: ("<%s@api.test>" % token).encode() in raw


class ApiTestCase(unittest.TestCase):
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
        return text

    def assertCtlFails(self, args, expected, what=None):
        """Assert outpostctl ARGS exits 1 with an error naming expected."""
        result = env.ctl(*args, check=False)
        what = what or "outpostctl " + " ".join(arg[:40] for arg in args)
        self.assertEqual(result.returncode, 1, "%s: exit status %d, output %r"
                         % (what, result.returncode, result.stdout))
        self.assertTrue(result.stderr.startswith("outpostctl: "),
                        "%s: error not on stderr: %r" % (what, result.stderr))
        self.assertIn(expected, result.stderr, what)
        self.assertLess(len(result.stderr), 2000, "%s: error message too long" % what)

    def assertGdbusFails(self, expected_name, expected_text, method, *arguments):
        self.assertCallFails(env.gdbus, expected_name, expected_text, method, *arguments)

    def assertSignatureRejected(self, method, *arguments):
        """Assert the bus rejects arguments whose types differ from the XML's."""
        self.assertCallFails(env.dbus_send, "org.freedesktop.DBus.Error.InvalidArgs", "",
                             method, *arguments)

    def assertCallFails(self, call, expected_name, expected_text, method, *arguments):
        result = call(method, *arguments)
        what = "%s(%s)" % (method, ", ".join(arg[:60] for arg in arguments))
        self.assertNotEqual(result.returncode, 0, "%s succeeded: %s" % (what, result.stdout))
        self.assertIn(expected_name, result.stderr, what)
        self.assertIn(expected_text, result.stderr, what)


# Domains ----------------------------------------------------------------------

class DomainApiTest(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env.add_domain("settings.test")

    def test_show_has_documented_keys(self):
        shown = env.show_domain("settings.test")
        self.assertEqual(shown["name"], "settings.test")
        self.assertEqual(shown["status"], "ok")
        self.assertIs(shown["enabled"], True)
        self.assertEqual(shown["hourly-limit"], 0)
        self.assertEqual(shown["smarthost"], "")
        self.assertEqual(shown["queued"], 0)
        self.assertEqual(shown["accounts"], 0)
        self.assertTrue(shown["dkim-selector"])
        self.assertIsInstance(shown["created"], int)

    def test_show_human_output(self):
        result = env.ctl("domain", "show", "settings.test")
        self.assertIn("Domain:         settings.test", result.stdout)
        self.assertIn("Status:", result.stdout)
        self.assertIn("Hourly limit:", result.stdout)

    def test_set_limit_and_smarthost(self):
        env.ctl("domain", "set", "settings.test", "--hourly-limit=50",
                "--smarthost=Relay.Example.NET:587")
        shown = env.show_domain("settings.test")
        self.assertEqual(shown["hourly-limit"], 50)
        self.assertEqual(shown["smarthost"], "relay.example.net:587")
        listed = [entry for entry in env.ctl_json("domain", "list")
                  if entry["name"] == "settings.test"]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["hourly-limit"], 50)
        self.assertEqual(listed[0]["smarthost"], "relay.example.net:587")
        self.assertEqual(listed[0]["status"], "ok")

        env.ctl("domain", "set", "settings.test", "--smarthost=[::1]:2525")
        self.assertEqual(env.show_domain("settings.test")["smarthost"], "[::1]:2525")
        env.ctl("domain", "set", "settings.test", "--hourly-limit=0", "--smarthost=")
        shown = env.show_domain("settings.test")
        self.assertEqual(shown["hourly-limit"], 0)
        self.assertEqual(shown["smarthost"], "")

    def test_disable_and_enable(self):
        env.ctl("domain", "set", "settings.test", "--enabled=no")
        shown = env.show_domain("settings.test")
        self.assertIs(shown["enabled"], False)
        self.assertEqual(shown["status"], "disabled")
        env.ctl("domain", "set", "settings.test", "--enabled=yes")
        self.assertEqual(env.show_domain("settings.test")["status"], "ok")

    def test_set_rejects_bad_values(self):
        env.ctl("domain", "set", "settings.test", "--hourly-limit=7",
                "--smarthost=relay.example.net:25")
        cases = [
            (["--hourly-limit=-1"], "invalid --hourly-limit"),
            (["--hourly-limit=ten"], "invalid --hourly-limit"),
            (["--hourly-limit=4294967296"], "invalid --hourly-limit"),
            (["--enabled=maybe"], "expected yes or no"),
            (["--smarthost=relay.example.net:99999"], "invalid smarthost"),
            (["--smarthost=relay.example.net:0"], "invalid smarthost"),
            (["--smarthost=relay.example.net"], "invalid smarthost"),
            (["--smarthost=:25"], "invalid smarthost"),
            (["--smarthost=bad host.example:25"], "invalid smarthost"),
            (["--smarthost=under_score.example:25"], "invalid smarthost"),
            (["--smarthost=[::1:25"], "invalid smarthost"),
            (["--smarthost=relay.example.net:25\r\nX: y"], "invalid smarthost"),
            (["--smarthost=" + OVERLONG + ":25"], "invalid smarthost"),
            # A valid limit beside an invalid smarthost: neither is stored.
            (["--hourly-limit=99", "--smarthost=relay.example.net:abc"], "invalid smarthost"),
            ([], "nothing to change"),
        ]
        for options, expected in cases:
            with self.subTest(options=[option[:60] for option in options]):
                self.assertCtlFails(["domain", "set", "settings.test"] + options, expected)
        shown = env.show_domain("settings.test")
        self.assertEqual(shown["hourly-limit"], 7, "a rejected change was stored")
        self.assertEqual(shown["smarthost"], "relay.example.net:25", "a rejected change was stored")
        self.assertEqual(shown["status"], "ok")
        env.ctl("domain", "set", "settings.test", "--hourly-limit=0", "--smarthost=")

    def test_set_rejects_wrong_types(self):
        env.ctl("domain", "set", "settings.test", "--hourly-limit=7")
        invalid = "io.github.outpostmail.Outpost1.Error.InvalidArgument"
        cases = [
            ("{'hourly-limit': <'ten'>}", "hourly-limit must have the type u"),
            ("{'hourly-limit': <int32 5>}", "hourly-limit must have the type u"),
            ("{'hourly-limit': <uint64 5>}", "hourly-limit must have the type u"),
            ("{'enabled': <'yes'>}", "enabled must have the type b"),
            ("{'enabled': <uint32 1>}", "enabled must have the type b"),
            ("{'smarthost': <uint32 25>}", "smarthost must have the type s"),
            ("{'smarthost': <['relay.example.net:25']>}", "smarthost must have the type s"),
            ("{'colour': <'red'>}", "unknown domain setting"),
            ("{'Enabled': <true>}", "unknown domain setting"),
            ("{'': <true>}", "unknown domain setting"),
            ("{'hourly-limit': <uint32 1>, 'bogus\\nkey': <true>}", "unknown domain setting"),
            ("{'hourly-limit': <uint32 1>, 'hourly-limit': <uint32 2>}", "given twice"),
        ]
        for settings, expected in cases:
            with self.subTest(settings=settings):
                self.assertGdbusFails(invalid, expected, "SetDomainSettings",
                                      "'settings.test'", "@a{sv} " + settings)
        self.assertEqual(env.show_domain("settings.test")["hourly-limit"], 7,
                         "a rejected change was stored")
        env.ctl("domain", "set", "settings.test", "--hourly-limit=0")

    def test_empty_settings_change_nothing(self):
        result = env.gdbus("SetDomainSettings", "'settings.test'", "@a{sv} {}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(env.show_domain("settings.test")["status"], "ok")

    def test_bad_domain_names(self):
        cases = [
            ("", "the domain name is empty"),
            (OVERLONG, "invalid domain name"),
            ("no_underscore.example", "invalid domain name"),
            ("localhost", "invalid domain name"),
            ("settings.test\r\nX-Injected: yes", "invalid domain name"),
            ("unmanaged.test", "the domain unmanaged.test is not managed"),
        ]
        for domain, expected in cases:
            with self.subTest(domain=domain[:40]):
                self.assertCtlFails(["domain", "show", domain], expected)
                self.assertCtlFails(["domain", "set", domain, "--hourly-limit=1"], expected)

    def test_wrong_argument_types_rejected_by_bus(self):
        self.assertSignatureRejected("GetDomain", "uint32:5")
        self.assertSignatureRejected("GetDomain")
        self.assertSignatureRejected("SetDomainSettings", "string:settings.test",
                                    "dict:string:uint32:hourly-limit,5")
        self.assertSignatureRejected("SetDomainSettings", "string:settings.test")
        self.assertEqual(env.show_domain("settings.test")["hourly-limit"], 0)


# Accounts ---------------------------------------------------------------------

class AccountApiTest(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env.add_domain("accounts.test")
        env.add_account("state@accounts.test")

    def test_list_has_new_keys(self):
        entry = env.find_account("state@accounts.test")
        self.assertEqual(entry["hourly-limit"], 0)
        self.assertEqual(entry["aliases"], [])
        self.assertIs(entry["enabled"], True)

    def test_disable_stops_login(self):
        address = "state@accounts.test"
        env.ctl("account", "disable", address)
        self.assertIs(env.find_account(address)["enabled"], False)
        self.assertReply(auth_reply(address), 535, "5.7.8", "AUTH as a disabled account")
        env.ctl("account", "enable", address)
        self.assertIs(env.find_account(address)["enabled"], True)
        self.assertReply(auth_reply(address), 235, what="AUTH after enabling again")

    def test_disable_during_session_stops_sending(self):
        address = "state@accounts.test"
        session = open_authenticated(address)
        try:
            env.ctl("account", "disable", address)
            text = self.assertReply(session.docmd("MAIL", "FROM:<%s>" % address), 553, "5.7.1",
                                    "MAIL FROM after the account was disabled")
            self.assertIn("may not send", text)
        finally:
            quit_quietly(session)
            env.ctl("account", "enable", address)

    def test_hourly_limit_set_and_cleared(self):
        address = "state@accounts.test"
        env.ctl("account", "limit", address, "25")
        self.assertEqual(env.find_account(address)["hourly-limit"], 25)
        result = env.ctl("account", "list", "--filter", address)
        self.assertIn("25/h", result.stdout)
        env.ctl("account", "limit", address, "0")
        self.assertEqual(env.find_account(address)["hourly-limit"], 0)

    def test_bad_input(self):
        known = "state@accounts.test"
        addresses = [
            ("", "the address is empty"),
            (OVERLONG + "@accounts.test", "invalid address"),
            ("no-at-sign.example", "invalid address"),
            ("an na@accounts.test", "invalid address"),
            ("<state@accounts.test>", "invalid address"),
            ("state@accounts.test\r\nBcc: x@unmanaged.test", "invalid address"),
            ("nobody@accounts.test", "no account nobody@accounts.test"),
            ("state@unmanaged.test", "no account state@unmanaged.test"),
        ]
        for address, expected in addresses:
            with self.subTest(address=address[:40]):
                self.assertCtlFails(["account", "enable", address], expected)
                self.assertCtlFails(["account", "disable", address], expected)
                self.assertCtlFails(["account", "limit", address, "5"], expected)
        for limit in ["ten", "4294967296", "1.5", ""]:
            with self.subTest(limit=limit):
                self.assertCtlFails(["account", "limit", known, limit], "invalid limit")
        self.assertCtlFails(["account", "limit", known], "usage: outpostctl account limit")
        self.assertCtlFails(["account", "list", "--filter", OVERLONG],
                            "the filter is longer than an address can be")
        self.assertSignatureRejected("SetAccountHourlyLimit", "string:" + known, "int32:5")
        self.assertSignatureRejected("SetAccountHourlyLimit", "string:" + known, "string:5")
        self.assertSignatureRejected("SetAccountEnabled", "string:" + known, "string:yes")
        self.assertSignatureRejected("SetAccountEnabled", "string:" + known)
        entry = env.find_account(known)
        self.assertIs(entry["enabled"], True, "bad input changed the account")
        self.assertEqual(entry["hourly-limit"], 0, "bad input changed the account")


# Aliases ----------------------------------------------------------------------

class AliasApiTest(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env.add_domain("aliases.test")
        env.add_domain("other-aliases.test")
        env.add_account("owner@aliases.test")
        env.add_account("second@aliases.test")

    def test_add_list_remove(self):
        owner = "owner@aliases.test"
        env.ctl("alias", "add", owner, "Sales@Aliases.TEST")
        env.ctl("alias", "add", owner, "info@other-aliases.test")
        # Sorted without regard to case, and the local part keeps its case.
        expected = ["info@other-aliases.test", "Sales@aliases.test"]
        self.assertEqual(env.ctl_json("alias", "list", owner), expected)
        self.assertEqual(env.ctl("alias", "list", owner).stdout, "\n".join(expected) + "\n")
        self.assertEqual(env.find_account(owner)["aliases"], expected)

        env.ctl("alias", "remove", owner, "sales@aliases.test")
        env.ctl("alias", "remove", owner, "info@other-aliases.test")
        self.assertEqual(env.ctl_json("alias", "list", owner), [])
        self.assertEqual(env.ctl("alias", "list", owner).stdout, "")

    def test_alias_conflicts(self):
        owner = "owner@aliases.test"
        env.ctl("alias", "add", owner, "taken@aliases.test")
        try:
            cases = [
                (owner, "second@aliases.test", "second@aliases.test is an account"),
                (owner, owner, "owner@aliases.test is an account"),
                (owner, "TAKEN@aliases.test", "is already an alias of owner@aliases.test"),
                ("second@aliases.test", "taken@aliases.test",
                 "is already an alias of owner@aliases.test"),
                (owner, "x@unmanaged.test", "the domain unmanaged.test is not managed"),
                ("nobody@aliases.test", "new@aliases.test", "no account nobody@aliases.test"),
                (owner, "", "the address is empty"),
                ("", "new@aliases.test", "the address is empty"),
                (owner, OVERLONG + "@aliases.test", "invalid address"),
                (owner, "new@aliases.test\r\nBcc: x@unmanaged.test", "invalid address"),
                (owner, "no-at-sign", "invalid address"),
                (owner, "new@[127.0.0.1]", "invalid address"),
            ]
            for address, alias, expected in cases:
                with self.subTest(address=address[:40], alias=alias[:40]):
                    self.assertCtlFails(["alias", "add", address, alias], expected)
            self.assertEqual(env.ctl_json("alias", "list", owner), ["taken@aliases.test"])
            self.assertEqual(env.ctl_json("alias", "list", "second@aliases.test"), [])
        finally:
            env.ctl("alias", "remove", owner, "taken@aliases.test")

    def test_account_cannot_take_an_alias_address(self):
        owner = "owner@aliases.test"
        env.ctl("alias", "add", owner, "reserved@aliases.test")
        try:
            result = env.ctl("account", "add", "reserved@aliases.test", "--password-stdin",
                             input_text=PASSWORD + "\n", check=False)
            self.assertEqual(result.returncode, 1)
            self.assertIn("is an alias of the account owner@aliases.test", result.stderr)
        finally:
            env.ctl("alias", "remove", owner, "reserved@aliases.test")

    def test_remove_errors(self):
        owner = "owner@aliases.test"
        cases = [
            (owner, "never@aliases.test", "never@aliases.test is not an alias of"),
            ("second@aliases.test", "never@aliases.test", "is not an alias of"),
            ("nobody@aliases.test", "never@aliases.test", "no account nobody@aliases.test"),
            (owner, "", "the address is empty"),
            (owner, OVERLONG, "invalid address"),
            ("", "never@aliases.test", "the address is empty"),
        ]
        for address, alias, expected in cases:
            with self.subTest(address=address[:40], alias=alias[:40]):
                self.assertCtlFails(["alias", "remove", address, alias], expected)

    def test_list_errors(self):
        cases = [
            ("", "the address is empty"),
            (OVERLONG, "invalid address"),
            ("nobody@aliases.test", "no account nobody@aliases.test"),
        ]
        for address, expected in cases:
            with self.subTest(address=address[:40]):
                self.assertCtlFails(["alias", "list", address], expected)
        self.assertCtlFails(["alias", "add", "owner@aliases.test"],
                            "usage: outpostctl alias add")
        self.assertSignatureRejected("AddAlias", "string:owner@aliases.test", "uint32:1")
        self.assertSignatureRejected("RemoveAlias", "string:owner@aliases.test")
        self.assertSignatureRejected("ListAliases", "int32:1")

    def test_domain_removal_removes_its_aliases(self):
        owner = "owner@aliases.test"
        env.add_domain("short-lived.test")
        env.ctl("alias", "add", owner, "temp@short-lived.test")
        env.ctl("domain", "remove", "short-lived.test")
        self.assertNotIn("temp@short-lived.test", env.ctl_json("alias", "list", owner))


# Enforcement in the submission server ------------------------------------------

class SenderOwnershipTest(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env.add_domain("senders.test")
        env.add_domain("brand.test")
        env.add_account("anna@senders.test")
        env.add_account("bert@senders.test")
        env.ctl("alias", "add", "anna@senders.test", "sales@brand.test")

    def test_alias_may_send(self):
        session = open_authenticated("anna@senders.test")
        try:
            reply = send_transaction(session, "sales@brand.test", "alias-sender")
            self.assertReply(reply, 250, "2.0.0", "message sent as an alias")
        finally:
            quit_quietly(session)
        envelope, raw = env.accept.wait_for_message(has_token("alias-sender"), DELIVERY_TIMEOUT,
                                                    "the message sent as an alias")
        self.assertEqual(envelope["mail_from"], "sales@brand.test")

    def test_alias_in_from_header_with_own_envelope(self):
        session = open_authenticated("anna@senders.test")
        try:
            reply = send_transaction(session, "anna@senders.test", "alias-from",
                                     from_address="Sales@brand.test")
            self.assertReply(reply, 250, "2.0.0", "From: an alias in other case")
        finally:
            quit_quietly(session)

    def test_address_not_owned_rejected(self):
        session = open_authenticated("anna@senders.test")
        try:
            cases = ["bert@senders.test", "other@brand.test", "anna@unmanaged.test"]
            for sender in cases:
                with self.subTest(sender=sender):
                    text = self.assertReply(session.docmd("MAIL", "FROM:<%s>" % sender), 553,
                                            "5.7.1", "MAIL FROM:<%s>" % sender)
                    self.assertIn("is not owned by anna@senders.test", text)
        finally:
            quit_quietly(session)

    def test_from_header_not_owned_rejected(self):
        session = open_authenticated("anna@senders.test")
        try:
            reply = send_transaction(session, "sales@brand.test", "foreign-from",
                                     from_address="bert@senders.test")
            text = self.assertReply(reply, 553, "5.7.1", "From: another account's address")
            self.assertIn("From: address <bert@senders.test>", text)
        finally:
            quit_quietly(session)

    def test_removed_alias_rejected(self):
        env.ctl("alias", "add", "bert@senders.test", "gone@brand.test")
        session = open_authenticated("bert@senders.test")
        try:
            self.assertReply(session.docmd("MAIL", "FROM:<gone@brand.test>"), 250,
                             what="MAIL FROM an alias")
            session.rset()
            env.ctl("alias", "remove", "bert@senders.test", "gone@brand.test")
            self.assertReply(session.docmd("MAIL", "FROM:<gone@brand.test>"), 553, "5.7.1",
                             "MAIL FROM a removed alias")
        finally:
            quit_quietly(session)

    def test_other_accounts_alias_rejected(self):
        session = open_authenticated("bert@senders.test")
        try:
            self.assertReply(session.docmd("MAIL", "FROM:<sales@brand.test>"), 553, "5.7.1",
                             "MAIL FROM another account's alias")
        finally:
            quit_quietly(session)


class DisabledDomainTest(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env.add_domain("dormant.test")
        env.add_account("user@dormant.test")

    def tearDown(self):
        env.ctl("domain", "set", "dormant.test", "--enabled=yes")

    def test_trusted_client_rejected_for_disabled_domain(self):
        session = open_submission(TRUSTED_SOURCE)
        try:
            self.assertReply(session.docmd("MAIL", "FROM:<app@dormant.test>"), 250,
                             what="trusted MAIL FROM an enabled domain")
            session.rset()
            env.ctl("domain", "set", "dormant.test", "--enabled=no")
            text = self.assertReply(session.docmd("MAIL", "FROM:<app@dormant.test>"), 553,
                                    "5.7.1", "trusted MAIL FROM a disabled domain")
            self.assertIn("the domain dormant.test is disabled", text)
            session.rset()
            self.assertReply(session.docmd("MAIL", "FROM:<app@unmanaged.test>"), 250,
                             what="trusted MAIL FROM an unmanaged domain")
        finally:
            quit_quietly(session)

    def test_trusted_client_from_header_in_disabled_domain(self):
        env.ctl("domain", "set", "dormant.test", "--enabled=no")
        session = open_submission(TRUSTED_SOURCE)
        try:
            reply = send_transaction(session, "app@unmanaged.test", "dormant-from",
                                     from_address="app@dormant.test")
            text = self.assertReply(reply, 553, "5.7.1", "From: in a disabled domain")
            self.assertIn("disabled", text)
        finally:
            quit_quietly(session)

    def test_account_of_disabled_domain_cannot_log_in(self):
        self.assertReply(auth_reply("user@dormant.test"), 235, what="AUTH before disabling")
        env.ctl("domain", "set", "dormant.test", "--enabled=no")
        self.assertReply(auth_reply("user@dormant.test"), 535, "5.7.8",
                         "AUTH in a disabled domain")
        self.assertIs(env.find_account("user@dormant.test")["enabled"], False)


class HourlyLimitTest(ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env.add_domain("limited.test")
        env.add_domain("capped.test")
        env.add_account("counted@limited.test")
        env.add_account("racer@limited.test")
        env.add_account("first@capped.test")
        env.add_account("second@capped.test")

    def send_many(self, account, count, token):
        session = open_authenticated(account)
        try:
            for number in range(count):
                reply = send_transaction(session, account, "%s-%d" % (token, number))
                self.assertReply(reply, 250, "2.0.0", "message %d of %d" % (number + 1, count))
        finally:
            quit_quietly(session)

    def test_account_limit(self):
        account = "counted@limited.test"
        env.ctl("account", "limit", account, "2")
        self.send_many(account, 2, "account-limit")
        session = open_authenticated(account)
        try:
            text = self.assertReply(session.docmd("MAIL", "FROM:<%s>" % account), 451, "4.7.1",
                                    "the third message in an hour")
            self.assertIn("Hourly sending limit of 2 messages reached for %s" % account, text)
            self.assertIn("try again later", text)
            env.ctl("account", "limit", account, "0")
            self.assertReply(session.docmd("MAIL", "FROM:<%s>" % account), 250,
                             what="MAIL FROM once the limit is removed")
        finally:
            quit_quietly(session)

    def test_domain_limit_counts_every_sender(self):
        env.ctl("domain", "set", "capped.test", "--hourly-limit=3")
        self.send_many("first@capped.test", 2, "domain-limit-first")
        trusted = open_submission(TRUSTED_SOURCE)
        try:
            self.assertReply(send_transaction(trusted, "app@capped.test", "domain-limit-app"),
                             250, "2.0.0", "the third message, from a trusted client")
            text = self.assertReply(trusted.docmd("MAIL", "FROM:<app@capped.test>"), 451,
                                    "4.7.1", "trusted client over the domain limit")
            self.assertIn("Hourly sending limit of 3 messages reached for capped.test", text)
        finally:
            quit_quietly(trusted)
        session = open_authenticated("second@capped.test")
        try:
            self.assertReply(session.docmd("MAIL", "FROM:<second@capped.test>"), 451, "4.7.1",
                             "another account of the domain over the limit")
        finally:
            quit_quietly(session)
            env.ctl("domain", "set", "capped.test", "--hourly-limit=0")

    def test_limit_checked_again_at_end_of_data(self):
        account = "racer@limited.test"
        env.ctl("account", "limit", account, "1")
        first = open_authenticated(account)
        second = open_authenticated(account)
        try:
            for session in (first, second):
                self.assertReply(session.docmd("MAIL", "FROM:<%s>" % account), 250,
                                 what="MAIL FROM under the limit")
                self.assertReply(session.docmd("RCPT", "TO:<%s>" % RECIPIENT), 250)
            self.assertReply(first.data(make_message(account, "race-first")), 250, "2.0.0",
                             "the first message to finish")
            text = self.assertReply(second.data(make_message(account, "race-second")), 451,
                                    "4.7.1", "the second message to finish")
            self.assertIn("Hourly sending limit of 1 messages reached for %s" % account, text)
        finally:
            quit_quietly(first)
            quit_quietly(second)
            env.ctl("account", "limit", account, "0")
        queued_or_sent = [envelope for envelope, raw in env.accept.messages()
                          if has_token("race-second")(envelope, raw)]
        self.assertEqual(queued_or_sent, [], "the rejected message was delivered")

    def test_zero_means_no_limit(self):
        account = "counted@limited.test"
        env.ctl("account", "limit", account, "0")
        self.send_many(account, 3, "no-limit")


TEST_CLASSES = [DomainApiTest, AccountApiTest, AliasApiTest, SenderOwnershipTest,
                DisabledDomainTest, HourlyLimitTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost domain and account API tests",
                             "AliasApiTest.test_add_list_remove", Environment)

if __name__ == "__main__":
    sys.exit(main())
