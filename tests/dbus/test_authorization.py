#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Authorization and input checks of outpostd's D-Bus API on a system bus.

run-dbus-tests.sh starts a private system bus, polkitd and outpostd, then
runs this file as root. Every method of the introspection XML is called as
`nobody`, whom polkit denies, and as root, whom polkit allows, and every
method that takes arguments is given bad input as root.
"""

import argparse
import os
import re
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ElementTree
from email.message import EmailMessage

BUS_NAME = "io.github.outpostmail.Outpost1"
OBJECT_PATH = "/io/github/outpostmail/Outpost1"
ERROR_PREFIX = "io.github.outpostmail.Outpost1.Error."
ACCESS_DENIED = {ERROR_PREFIX + "AccessDenied", "org.freedesktop.DBus.Error.AccessDenied"}
UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod"
INVALID = {ERROR_PREFIX + "InvalidArgument"}
NOT_FOUND = {ERROR_PREFIX + "NotFound"}
EXISTS = {ERROR_PREFIX + "Exists"}
READ_ACTION = "io.github.outpostmail.outpost.read"
MANAGE_ACTION = "io.github.outpostmail.outpost.manage"
# Check runs only reads; it keeps the outcome, which changes no setting.
READ_PREFIXES = ("List", "Get", "Search", "Check")

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
CALL_TIMEOUT = 60

FIXTURE_DOMAIN = "fixture.example"
FIXTURE_ACCOUNT = "anna@" + FIXTURE_DOMAIN
FIXTURE_ALIAS = "sales@" + FIXTURE_DOMAIN
UNMANAGED_DOMAIN = "unmanaged.example"
RECIPIENT = "someone@recipient.example"
GOOD_PASSWORD = "correct horse battery"
OVERLONG = "a" * 100 * 1024
PAGE = 1000

# Methods left out of the before-and-after comparisons because their output
# changes from call to call (GetStatistics returns one row per hour, and each
# GetAppleProfile carries a new ECDSA signature), or because calling them keeps
# an outcome that ListDomains shows (CheckDomainDns).
CLOCK_DEPENDENT = {"GetStatistics", "GetAppleProfile", "CheckDomainDns"}

# String arguments for which "" is documented as valid.
EMPTY_ALLOWED = {"filter", "sort", "algorithm"}

# The machine's own system bus sockets. main() exits rather than use them,
# because the tests add and remove domains.
REAL_SYSTEM_BUS = {"/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket"}

DATA_DIR = None
OUTPOSTCTL = None


# Methods that talk to another server, which this suite does not run.
# ActivateDkimKey first looks up the key's record, and no DNS server here has it.
NEEDS_NETWORK = {"PublishDnsRecords", "ActivateDkimKey"}

# Methods whose reply names something a later method of root's pass works on:
# the method, and the root argument its one string result becomes.
CAPTURED_RESULTS = {"RotateDkimKey": "selector"}

# The API key of the publish target the tests store. No reply may contain it.
PUBLISH_SECRET = "dbus-test-api-key-5f3e"


def valid_arguments(message_id):
    """Return the arguments that succeed once the fixtures exist.

    A key is an argument name, or (method, argument) where one method needs
    its own value. Each value carries its D-Bus signature, so an argument
    whose type changes falls back to a generic dummy value.
    """
    return {
        "domain": ("s", FIXTURE_DOMAIN),
        "address": ("s", FIXTURE_ACCOUNT),
        "alias": ("s", FIXTURE_ALIAS),
        "password": ("s", GOOD_PASSWORD),
        "filter": ("s", ""),
        "sort": ("s", ""),
        "descending": ("b", False),
        "offset": ("u", 0),
        "limit": ("u", 100),
        "enabled": ("b", True),
        "hours": ("u", 24),
        "id": ("s", message_id),
        "ids": ("as", [message_id]),
        # Nothing listens on port 9, so an authorized publish fails as
        # temporary after the checks that polkit must come before.
        "server": ("s", "127.0.0.1:9"),
        "tsig_name": ("s", "outpost-key"),
        "tsig_algorithm": ("s", "hmac-sha256"),
        "tsig_secret": ("s", "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"),
        "algorithm": ("s", "rsa"),
        # No key has this selector; root's pass uses the one RotateDkimKey makes.
        "selector": ("s", "nosuchkey"),
        ("AddDomain", "domain"): ("s", "nobody-test.example"),
        # Mail from the fixture domain is queued, so only force removes it.
        ("RemoveDomain", "force"): ("b", True),
        ("AddAccount", "address"): ("s", "new@" + FIXTURE_DOMAIN),
        ("AddAlias", "alias"): ("s", "new-alias@" + FIXTURE_DOMAIN),
        ("ListQueue", "filter"): ("a{sv}", {}),
        ("SearchEvents", "filter"): ("a{sv}", {}),
        # An incoming server lets GetAppleProfile succeed for the domain's accounts.
        ("SetDomainSettings", "settings"): ("a{sv}", {"hourly-limit": ("u", 100),
                                                      "imap-server": ("s", "imap.example:993")}),
        ("SetSettings", "settings"): ("a{sv}", {"message-lifetime": ("t", 5 * 86400)}),
        # Storing a target contacts no server, so port 9 is enough.
        ("SetPublishTarget", "target"): ("a{sv}", {
            "kind": ("s", "powerdns"), "api-url": ("s", "http://127.0.0.1:9"),
            "api-key": ("s", PUBLISH_SECRET)}),
    }


def root_arguments(message_id):
    """Return the arguments of root's pass over every method.

    The pass works on a domain, account, alias and message of its own.
    Methods that remove nothing run in XML order, so AddDomain creates
    root-test.example before AddAccount uses it, and Remove* methods run last
    in reverse order, undoing the additions.
    """
    arguments = valid_arguments(message_id)
    for key in [("AddDomain", "domain"), ("AddAccount", "address"), ("AddAlias", "alias"),
                ("RemoveDomain", "force")]:
        del arguments[key]
    arguments.update({
        "domain": ("s", "root-test.example"),
        "address": ("s", "root@root-test.example"),
        "alias": ("s", "root-alias@root-test.example"),
        "force": ("b", False),
    })
    return arguments


class Method:
    """One method of the introspection XML."""

    def __init__(self, interface, element):
        self.interface = interface
        self.name = element.get("name")
        self.in_args = [
            (arg.get("name"), arg.get("type"))
            for arg in element.findall("arg")
            if arg.get("direction", "in") == "in"
        ]

    @property
    def action(self):
        """Return the polkit action the method must check."""
        return READ_ACTION if self.is_read() else MANAGE_ACTION

    def is_read(self):
        return self.name.startswith(READ_PREFIXES)

    def has_arg(self, name):
        return any(arg == name for arg, _ in self.in_args)

    def __repr__(self):
        return "%s.%s" % (self.interface, self.name)


def load_methods():
    """Return every method of every interface in the introspection XML."""
    path = os.path.join(DATA_DIR, "io.github.outpostmail.Outpost1.xml")
    root = ElementTree.parse(path).getroot()
    methods = []
    for interface in root.findall("interface"):
        for element in interface.findall("method"):
            methods.append(Method(interface.get("name"), element))
    return methods


# ---- GVariant text from D-Bus signatures ----------------------------------

BASIC_KEYWORDS = {
    "y": "byte",
    "n": "int16",
    "q": "uint16",
    "i": "int32",
    "u": "uint32",
    "x": "int64",
    "t": "uint64",
    "d": "double",
}


def cannot_build(signature, code):
    return ValueError("signature %r has type code %r, which this test cannot build: "
                      "extend dummy_value() and gvariant_literal()" % (signature, code))


def split_signature(signature):
    """Split a D-Bus signature into its complete types, e.g. "sa{sv}u"."""
    types = []
    index = 0
    while index < len(signature):
        end = complete_type_end(signature, index)
        types.append(signature[index:end])
        index = end
    return types


def complete_type_end(signature, index):
    """Return the index just past the complete type starting at index."""
    if index >= len(signature):
        raise ValueError("truncated signature %r" % signature)
    code = signature[index]
    if code in "am":
        return complete_type_end(signature, index + 1)
    if code in "({":
        closing = ")" if code == "(" else "}"
        index += 1
        while index < len(signature) and signature[index] != closing:
            index = complete_type_end(signature, index)
        if index >= len(signature):
            raise ValueError("unbalanced %r in signature %r" % (code, signature))
        return index + 1
    if code in "sogbvynqiuxtd":
        return index + 1
    raise cannot_build(signature, code)


def dummy_value(signature):
    """Return a well-formed Python value for a complete D-Bus type.

    Raises ValueError for a type the test cannot send with gdbus, such as a
    file descriptor (h), so a new method with such an argument fails loudly.
    """
    code = signature[0]
    if code == "s":
        return "dummy"
    if code == "o":
        return "/dummy"
    if code == "g":
        return "s"
    if code == "b":
        return False
    if code in "ynqiuxt":
        return 1
    if code == "d":
        return 1.0
    if code == "v":
        return ("s", "dummy")
    if code == "m":
        return dummy_value(signature[1:])
    if signature.startswith("a{"):
        key, value = split_signature(signature[2:-1])
        return {dummy_value(key): dummy_value(value)}
    if code == "a":
        return [dummy_value(signature[1:])]
    if code == "(":
        return tuple(dummy_value(member) for member in split_signature(signature[1:-1]))
    raise cannot_build(signature, code)


def quote_string(text):
    """Quote text as a GVariant text string, escaping quotes and controls."""
    quoted = []
    for char in text:
        if char in "\\'":
            quoted.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            quoted.append("\\u%04x" % ord(char))
        else:
            quoted.append(char)
    return "'" + "".join(quoted) + "'"


def gvariant_text(signature, value):
    """Format value as GVariant text with an explicit type, such as "@u 5".

    The type annotation makes the text mean the same whether or not gdbus
    could introspect the method first, and no value starts with "-", which
    gdbus would take for an option.
    """
    return "@%s %s" % (signature, gvariant_literal(signature, value))


def gvariant_literal(signature, value):
    """Format value as GVariant text without its leading type annotation."""
    code = signature[0]
    if code == "s":
        return quote_string(value)
    if code == "o":
        return "objectpath " + quote_string(value)
    if code == "g":
        return "signature " + quote_string(value)
    if code == "b":
        return "true" if value else "false"
    if code in BASIC_KEYWORDS:
        return "%s %r" % (BASIC_KEYWORDS[code], value)

    if code == "v":
        return "<%s>" % gvariant_text(*value)
    if code == "m":
        if value is None:
            return "nothing"
        return "just " + gvariant_text(signature[1:], value)
    if signature.startswith("a{"):
        key, item = split_signature(signature[2:-1])
        entries = ["%s: %s" % (gvariant_text(key, k), gvariant_text(item, v))
                   for k, v in value.items()]
        return "{%s}" % ", ".join(entries)
    if code == "a":
        return "[%s]" % ", ".join(gvariant_text(signature[1:], item) for item in value)
    if code == "(":
        members = split_signature(signature[1:-1])
        texts = [gvariant_text(member, item) for member, item in zip(members, value)]
        if len(texts) == 1:
            return "(%s,)" % texts[0]
        return "(%s)" % ", ".join(texts)
    raise cannot_build(signature, code)


def build_arguments(method, table, overrides=None):
    """Return the GVariant text of each in-argument of method.

    A value comes from overrides (by argument name), then from table (by
    (method, argument) or argument name, when its signature matches), and
    otherwise is a generic dummy value built from the signature.
    """
    overrides = overrides or {}
    texts = []
    for name, signature in method.in_args:
        if name in overrides:
            value = overrides[name]
        else:
            entry = table.get((method.name, name), table.get(name))
            if entry is not None and entry[0] == signature:
                value = entry[1]
            else:
                value = dummy_value(signature)
        texts.append(gvariant_text(signature, value))
    return texts


# ---- Bad input --------------------------------------------------------------


class BadValue:
    """A bad argument value, the error names it may get, and what is wrong."""

    def __init__(self, value, errors, description):
        self.value = value
        self.errors = errors
        self.description = description


BAD_DOMAINS = [
    ("no_underscore.example", "a label with an underscore"),
    ("-lead.example", "a label starting with a hyphen"),
    ("double..dot.example", "an empty label"),
    ("localhost", "a single label"),
    ("a" * 64 + ".example", "a 64-character label"),
    ("exa mple.example", "a space"),
    (FIXTURE_DOMAIN + "\r\nX-Injected: yes", "CR LF"),
]
BAD_ADDRESSES = [
    ("no-at-sign.example", "no @"),
    ("@" + FIXTURE_DOMAIN, "an empty local part"),
    ("anna@", "an empty domain"),
    ("an na@" + FIXTURE_DOMAIN, "a space in the local part"),
    ("<%s>" % FIXTURE_ACCOUNT, "angle brackets"),
    ("%s\r\nBcc: x@%s" % (FIXTURE_ACCOUNT, UNMANAGED_DOMAIN), "CR LF"),
]
WEAK_PASSWORDS = [
    ("short", "5 characters"),
    ("123456789", "9 characters"),
    ("good password\n123", "a line break"),
    ("x" * 1025, "1025 bytes"),
]

# Dictionary arguments with a documented set of keys, by (method, argument):
# values of the wrong type or out of range, each expected to be refused.
BAD_DICTIONARIES = {
    ("SetDomainSettings", "settings"): [
        ({"hourly-limit": ("s", "ten")}, "hourly-limit as a string"),
        ({"enabled": ("s", "yes")}, "enabled as a string"),
        ({"smarthost": ("s", "relay.example:99999")}, "a smarthost port above 65535"),
    ],
    ("SetSettings", "settings"): [
        ({"hostname": ("s", "")}, "an empty hostname"),
        ({"hostname": ("s", OVERLONG)}, "a 100 KB hostname"),
        ({"hostname": ("u", 5)}, "hostname as a number"),
        ({"max-message-size": ("t", 0)}, "a max-message-size of 0"),
        ({"message-lifetime": ("t", 0)}, "a message-lifetime of 0"),
        ({"tls-cert": ("s", "/nonexistent/cert.pem")}, "a tls-cert that does not exist"),
        ({"submission-listen": ("as", ["not an address"])}, "a listen address without port"),
    ],
    ("ListQueue", "filter"): [
        ({"state": ("s", "bogus")}, "an unknown state"),
        ({"sender": ("u", 5)}, "sender as a number"),
        ({"min-age": ("s", "1h")}, "min-age as a string"),
    ],
    ("SearchEvents", "filter"): [
        ({"status": ("s", "bogus")}, "an unknown status"),
        ({"since": ("s", "yesterday")}, "since as a string"),
    ],
    ("SetPublishTarget", "target"): [
        ({}, "no kind"),
        ({"kind": ("s", "nsupdate")}, "an unknown kind"),
        ({"kind": ("u", 1)}, "kind as a number"),
        ({"kind": ("s", "powerdns"), "api-url": ("s", "ftp://127.0.0.1"),
          "api-key": ("s", "k")}, "an ftp:// API URL"),
        ({"kind": ("s", "powerdns"), "api-url": ("s", "http://127.0.0.1:9")},
         "no API key"),
        ({"kind": ("s", "powerdns"), "api-url": ("s", "http://127.0.0.1:9"),
          "api-key": ("s", "k\r\nX-Injected: 1")}, "an API key with CR LF"),
        ({"kind": ("s", "powerdns"), "api-url": ("s", "http://127.0.0.1:9"),
          "api-key": ("s", "k"), "tsig-name": ("s", "outpost-key")},
         "a dns-update key on a powerdns target"),
        ({"kind": ("s", "dns-update"), "server": ("s", "ns.example.org"),
          "tsig-name": ("s", "outpost-key"), "tsig-algorithm": ("s", "hmac-sha256"),
          "tsig-secret": ("s", "c2VjcmV0")}, "a server that is no IP address"),
        ({"kind": ("s", "powerdns"), "api-url": ("s", "http://127.0.0.1:9"),
          "api-key": ("s", "k"), "zone": ("s", "other.example")},
         "a zone that does not contain the domain"),
    ],
}


def bad_strings(name, method):
    """Return the generic bad values of a string argument."""
    values = []
    if name not in EMPTY_ALLOWED:
        values.append(BadValue("", INVALID | NOT_FOUND, "empty"))
    values.append(BadValue(OVERLONG, INVALID | NOT_FOUND, "of 100 KB"))
    if name == "sort":
        values.append(BadValue("bogus", INVALID, "naming no column"))
    if name == "id":
        values.append(BadValue("no-such-id", NOT_FOUND, "of no message"))
    return values


def bad_domains(method):
    # Adding checks the syntax first, while other methods may only look it up.
    malformed = INVALID if method.name.startswith("Add") else INVALID | NOT_FOUND
    if method.name == "AddDomain":
        values = [BadValue(FIXTURE_DOMAIN, EXISTS, "already managed")]
    else:
        values = [BadValue(UNMANAGED_DOMAIN, NOT_FOUND, "not managed")]
    for domain, problem in BAD_DOMAINS:
        values.append(BadValue(domain, malformed, "with " + problem))
    return values


def bad_addresses(name, method):
    malformed = INVALID if method.name.startswith("Add") else INVALID | NOT_FOUND
    values = []
    if (method.name, name) in (("AddAccount", "address"), ("AddAlias", "alias")):
        values.append(BadValue(FIXTURE_ACCOUNT, EXISTS, "of an existing account"))
        values.append(BadValue("x@" + UNMANAGED_DOMAIN, NOT_FOUND, "in no managed domain"))
    else:
        values.append(BadValue("nobody-here@" + FIXTURE_DOMAIN, NOT_FOUND, "that is unknown"))
    if (method.name, name) == ("AddAlias", "alias"):
        values.append(BadValue(FIXTURE_ALIAS, EXISTS, "that is already an alias"))
    for address, problem in BAD_ADDRESSES:
        values.append(BadValue(address, malformed, "with " + problem))
    return values


def bad_cases(method):
    """Return (argument name, BadValue) for every bad value of every argument."""
    return [(name, value) for name, signature in method.in_args
            for value in bad_values(method, name, signature)]


def bad_values(method, name, signature):
    """Return the bad values for one argument of one method."""
    values = []
    if signature == "s":
        values += bad_strings(name, method)
        if name == "domain":
            values += bad_domains(method)
        if name in ("address", "alias"):
            values += bad_addresses(name, method)
        if name == "password":
            values += [BadValue(password, INVALID, "of " + problem)
                       for password, problem in WEAK_PASSWORDS]
    if signature == "as":
        values.append(BadValue([""], INVALID | NOT_FOUND, "with an empty string"))
        values.append(BadValue([OVERLONG], INVALID | NOT_FOUND, "with a 100 KB string"))
    if signature == "a{sv}":
        values.append(BadValue({"no-such-key": ("s", "x")}, INVALID, "with an unknown key"))
        for value, problem in BAD_DICTIONARIES.get((method.name, name), []):
            values.append(BadValue(value, INVALID, "with " + problem))
    # A limit is a page size only beside an offset: SetAccountHourlyLimit's
    # limit of 0 means no limit.
    if name == "limit" and signature == "u" and method.has_arg("offset"):
        values.append(BadValue(0, INVALID, "0"))
        values.append(BadValue(100000, INVALID, "100000"))
    if name == "hours" and signature == "u":
        values.append(BadValue(0, INVALID, "0"))
        values.append(BadValue(721, INVALID, "721"))
    return values


# ---- Calling the daemon -----------------------------------------------------


class Reply:
    """The outcome of one gdbus call."""

    def __init__(self, completed):
        self.returncode = completed.returncode
        self.output = completed.stdout.decode("utf-8", "replace").strip()
        self.stderr = completed.stderr.decode("utf-8", "replace").strip()
        self.error_name = None
        self.error_message = None
        match = re.search(r"GDBus\.Error:([A-Za-z0-9_.]+): (.*)", self.stderr, re.DOTALL)
        if match:
            self.error_name = match.group(1)
            self.error_message = match.group(2)

    @property
    def ok(self):
        return self.returncode == 0

    def describe(self):
        if self.ok:
            return "success: %s" % shorten(self.output)
        if self.error_name:
            return "%s: %s" % (self.error_name, shorten(self.error_message))
        return "gdbus exited with status %d: %s" % (self.returncode, shorten(self.stderr))


def shorten(text, limit=300):
    if len(text) <= limit:
        return text
    return "%s... (%d characters in all)" % (text[:limit], len(text))


def call(interface, name, arguments, as_nobody=False):
    """Call a method with gdbus, as root or as nobody, and return a Reply.

    arguments are GVariant text strings, or bytes to pass text that is not
    valid UTF-8.
    """
    command = ["gdbus", "call", "--system", "--dest", BUS_NAME, "--object-path", OBJECT_PATH,
               "--method", "%s.%s" % (interface, name), "--timeout", str(CALL_TIMEOUT)]
    command += arguments
    env = dict(os.environ, LC_ALL="C.UTF-8")
    if as_nobody:
        command = NOBODY + command
        env["HOME"] = "/nonexistent"
    completed = subprocess.run(command, capture_output=True, env=env,
                               timeout=CALL_TIMEOUT + 30, check=False)
    return Reply(completed)


def call_method(method, arguments, as_nobody=False):
    return call(method.interface, method.name, arguments, as_nobody)


def wait_for(predicate, timeout, description, interval=0.2):
    """Call predicate until it returns a true value and return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, description))
        time.sleep(interval)


# ---- Fixtures ---------------------------------------------------------------


def listening_ports():
    """Return the TCP ports listening on 127.0.0.1 in this network namespace."""
    ports = []
    with open("/proc/net/tcp", encoding="ascii") as table:
        next(table)
        for line in table:
            fields = line.split()
            address, port = fields[1].split(":")
            if fields[3] == "0A" and address == "0100007F":
                ports.append(int(port, 16))
    return ports


def find_submission_port():
    """Return the port of outpostd's STARTTLS submission server.

    outpostd listens on port 0, so the kernel picked both submission ports.
    The STARTTLS port sends a 220 greeting in clear text, while the
    implicit-TLS port waits for a TLS handshake.
    """
    for port in listening_ports():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(4).startswith(b"220"):
                    return port
        except OSError:
            continue
    raise AssertionError("no STARTTLS submission port found among %r" % listening_ports())


def submit_message(port, subject):
    """Submit a message as the fixture account over STARTTLS."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    message = EmailMessage()
    message["From"] = FIXTURE_ACCOUNT
    message["To"] = RECIPIENT
    message["Subject"] = subject
    message.set_content("A message that stays queued: no DNS server answers.\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.starttls(context=context)
        client.login(FIXTURE_ACCOUNT, GOOD_PASSWORD)
        client.send_message(message)


class Fixtures:
    """Creates, as root, what valid arguments refer to, and records failures."""

    def __init__(self, methods):
        self.methods = {method.name: method for method in methods}
        self.problems = []
        self.message_ids = []
        self.submission_port = None

    def call(self, name, *values):
        method = self.methods.get(name)
        if method is None:
            self.problems.append("the introspection XML has no method %s" % name)
            return None
        texts = [gvariant_text(signature, value)
                 for (_, signature), value in zip(method.in_args, values)]
        return call_method(method, texts)

    def create(self, name, *values):
        reply = self.call(name, *values)
        if reply is not None and not reply.ok and reply.error_name != ERROR_PREFIX + "Exists":
            self.problems.append("%s%r as root failed: %s" % (name, values, reply.describe()))

    def queue_entries(self):
        """Return [(id, state, next attempt)] from ListQueue, or None if it fails."""
        method = self.methods.get("ListQueue")
        if method is None:
            return None
        reply = call_method(method, build_arguments(method, valid_arguments(""),
                                                    {"limit": PAGE}))
        if not reply.ok:
            return None
        # Each message's dictionary has each key once, so the n-th match of
        # every key belongs to the n-th message.
        ids = re.findall(r"'id': <'([^']*)'>", reply.output)
        states = re.findall(r"'state': <'([^']*)'>", reply.output)
        next_attempts = re.findall(r"'next-attempt': <(?:int64 )?(-?\d+)>", reply.output)
        return list(zip(ids, states, [int(n) for n in next_attempts]))

    def is_settled(self):
        """Return whether no message is being delivered or due for delivery."""
        entries = self.queue_entries()
        if entries is None:
            return True
        now = time.time()
        return all(state == "held" or (state == "deferred" and next_attempt > now)
                   for _, state, next_attempt in entries)

    def wait_until_settled(self):
        wait_for(self.is_settled, 60, "the queue to settle (every message deferred or held)")

    def submit_messages(self):
        try:
            self.submission_port = find_submission_port()
            for subject in ("fixture", "root pass"):
                submit_message(self.submission_port, subject)
        except (AssertionError, OSError, smtplib.SMTPException) as error:
            self.problems.append("submitting the fixture messages failed: %s" % error)
            return
        deadline = time.monotonic() + 30
        while True:
            entries = self.queue_entries()
            if entries is None:
                self.problems.append("ListQueue as root failed, so no message ids are known")
                return
            if len(entries) >= 2:
                self.message_ids = sorted(entry[0] for entry in entries)[:2]
                return
            if time.monotonic() > deadline:
                self.problems.append("the two submitted messages are not in the queue")
                return
            time.sleep(0.2)

    def create_all(self):
        self.create("AddDomain", FIXTURE_DOMAIN)
        self.create("SetDomainSettings", FIXTURE_DOMAIN,
                    {"imap-server": ("s", "imap.%s:993" % FIXTURE_DOMAIN)})
        self.create("AddAccount", FIXTURE_ACCOUNT, GOOD_PASSWORD)
        self.create("AddAlias", FIXTURE_ACCOUNT, FIXTURE_ALIAS)
        self.submit_messages()
        self.wait_until_settled()


class AuthorizationTest(unittest.TestCase):
    """outpostd's D-Bus API on a system bus, checked by a real polkitd."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.methods = load_methods()
        cls.fixtures = Fixtures(cls.methods)
        cls.fixtures.create_all()
        ids = cls.fixtures.message_ids + ["no-fixture-message"] * 2
        cls.valid = valid_arguments(ids[0])
        cls.root = root_arguments(ids[1])

    def find_method(self, name):
        for method in self.methods:
            if method.name == name:
                return method
        self.fail("the introspection XML has no method %s" % name)
        return None

    def snapshot(self):
        """Return root's replies to every read method.

        A reply that is an error is kept as it is, so a read method that fails
        shows up in its own test rather than in every comparison.
        """
        replies = {}
        for method in self.methods:
            if method.is_read() and method.name not in CLOCK_DEPENDENT:
                arguments = build_arguments(method, self.valid, {"limit": PAGE})
                replies[method.name] = call_method(method, arguments).describe()
        return replies

    def is_unimplemented(self, method, reply):
        """Report once a method of the XML that outpostd does not implement.

        Returns True for such a reply, so the caller skips the method's other
        cases instead of failing each one for the same reason.
        """
        if reply.error_name != UNKNOWN_METHOD:
            return False
        with self.subTest(method=method.name):
            self.fail("%s is in the introspection XML but outpostd does not implement it: %s"
                      % (method.name, reply.error_message))
        return True

    def assert_daemon_answers(self, after):
        reply = call_method(self.find_method("ListDomains"), [])
        self.assertTrue(reply.ok, "outpostd no longer answers after %s: %s" %
                        (after, reply.describe()))

    def assert_readable(self, message, context):
        """Check that an error message is a short sentence a person can read."""
        self.assertTrue(message, "%s: the error has no message" % context)
        self.assertLessEqual(len(message), 300, "%s: the message is %d characters long: %s" %
                             (context, len(message), shorten(message, 120)))
        self.assertRegex(message, r"^[A-Za-z]",
                         "%s: the message does not start with a word" % context)
        self.assertGreaterEqual(len(message.split()), 3,
                                "%s: the message is not a sentence: %r" % (context, message))
        self.assertNotRegex(message, r"[\x00-\x1f\x7f]",
                            "%s: the message contains a control character: %r" %
                            (context, shorten(message, 120)))
        self.assertNotIn("(null)", message, "%s: %r" % (context, message))

    # ---- Tests -------------------------------------------------------------

    def test_fixtures_created(self):
        self.assertEqual(self.fixtures.problems, [])
        self.assertEqual(len(self.fixtures.message_ids), 2, "fixture messages in the queue")

    def test_introspection_has_methods(self):
        self.assertGreater(len(self.methods), 0, "no methods found in the introspection XML")
        for method in self.methods:
            with self.subTest(method=repr(method)):
                build_arguments(method, self.valid)
                build_arguments(method, self.root)

    def test_policy_actions_installed(self):
        # pkcheck exits 0 when authorized, 1 when not, and 127 for an action
        # polkitd does not know, which would mean the policy file is missing.
        for action in (READ_ACTION, MANAGE_ACTION):
            check = "exec pkcheck --action-id %s --process $$" % action
            as_root = subprocess.run(["sh", "-c", check], capture_output=True, check=False)
            as_nobody = subprocess.run(NOBODY + ["sh", "-c", check], capture_output=True,
                                       check=False)
            with self.subTest(action=action):
                self.assertEqual(as_root.returncode, 0, as_root.stderr.decode())
                self.assertEqual(as_nobody.returncode, 1, as_nobody.stderr.decode())

    def test_nobody_denied_every_method(self):
        before = self.snapshot()
        for method in self.methods:
            with self.subTest(method=repr(method)):
                arguments = build_arguments(method, self.valid)
                reply = call_method(method, arguments, as_nobody=True)
                context = "%s(%s) as nobody" % (method.name, shorten(", ".join(arguments)))
                self.assertFalse(reply.ok, "%s succeeded: %s" % (context, reply.output))
                self.assertIn(reply.error_name, ACCESS_DENIED,
                              "%s: %s" % (context, reply.describe()))
                if reply.error_name.startswith(ERROR_PREFIX):
                    self.assertIn(method.action, reply.error_message,
                                  "%s: the error does not name the action" % context)
                    self.assert_readable(reply.error_message, context)
        after = self.snapshot()
        for name in before:
            with self.subTest(unchanged=name):
                self.assertEqual(after[name], before[name],
                                 "calls refused to nobody changed %s" % name)
        self.assertNotIn("nobody-test.example", after.get("ListDomains", ""))

    def test_nobody_denied_before_validation(self):
        # polkit must decide before the arguments are read, or an
        # unauthorized caller learns which domains and accounts exist from
        # NotFound and Exists.
        for method in self.methods:
            for name, value in bad_cases(method):
                arguments = build_arguments(method, self.valid, {name: value.value})
                reply = call_method(method, arguments, as_nobody=True)
                if self.is_unimplemented(method, reply):
                    break
                with self.subTest(method=method.name, argument=name, case=value.description):
                    self.assertIn(reply.error_name, ACCESS_DENIED,
                                  "%s with %s %s as nobody: %s" %
                                  (method.name, name, value.description, reply.describe()))

    def test_nobody_misses_events(self):
        # EventAdded carries senders and recipients. outpostd sends it only to
        # clients that made an authorized SearchEvents call, which
        # "outpostctl log follow" does first, so root's follower sees the
        # events of a submission while nobody's follower is refused and a
        # passive monitor run by nobody sees nothing.
        if self.fixtures.submission_port is None:
            self.skipTest("the submission port is unknown: see test_fixtures_created")
        followers = {who: start_follower(who == "nobody") for who in ("root", "nobody")}
        monitor = start_monitor(True)
        # Give both followers time to make their SearchEvents call.
        time.sleep(1.5)
        try:
            submit_message(self.fixtures.submission_port, "event trigger")
            self.fixtures.wait_until_settled()
            time.sleep(1)
        finally:
            output = {who: stop_monitor(follower) for who, follower in followers.items()}
            passive = stop_monitor(monitor)
        self.assertIn('"queue-id"', output["root"],
                      "root's log follow printed no event: %s" % shorten(output["root"]))
        self.assertNotIn('"queue-id"', output["nobody"],
                         "nobody's log follow printed events: %s" % shorten(output["nobody"]))
        self.assertIn("not authorized", output["nobody"])
        self.assertNotIn("EventAdded", passive,
                         "nobody's monitor received events: %s" % shorten(passive))

    def test_publish_target_secret_hidden(self):
        # A stored target's secret is write-only: no read method returns it.
        set_method = self.find_method("SetPublishTarget")
        remove = self.find_method("RemovePublishTarget")
        reply = call_method(set_method, build_arguments(set_method, self.valid))
        self.assertTrue(reply.ok, reply.describe())
        try:
            for method in self.methods:
                if not method.is_read():
                    continue
                reply = call_method(method, build_arguments(method, self.valid, {"limit": PAGE}))
                with self.subTest(method=method.name):
                    self.assertNotIn(PUBLISH_SECRET, reply.output + reply.stderr)
                if method.name == "GetPublishTarget":
                    self.assertIn("'has-secret': <true>", reply.output)
        finally:
            reply = call_method(remove, build_arguments(remove, self.valid))
            self.assertTrue(reply.ok, reply.describe())

    def test_root_allowed_every_method(self):
        adding = [m for m in self.methods if not m.name.startswith("Remove")]
        removing = [m for m in reversed(self.methods) if m.name.startswith("Remove")]
        for method in adding + removing:
            with self.subTest(method=repr(method)):
                arguments = build_arguments(method, self.root)
                reply = call_method(method, arguments)
                # The suite has no DNS server: reaching the network is success here.
                reached = method.name in NEEDS_NETWORK and \
                    reply.error_name == "io.github.outpostmail.Outpost1.Error.Temporary"
                self.assertTrue(reply.ok or reached, "%s(%s) as root: %s" %
                                (method.name, shorten(", ".join(arguments)), reply.describe()))
                if reply.ok and method.name in CAPTURED_RESULTS:
                    match = re.fullmatch(r"\('([^']*)',\)", reply.output)
                    self.assertIsNotNone(match, "%s replied %r" % (method.name, reply.output))
                    self.root[CAPTURED_RESULTS[method.name]] = ("s", match.group(1))
                self.fixtures.wait_until_settled()
        domains = call_method(self.find_method("ListDomains"), [])
        self.assertNotIn("root-test.example", domains.output,
                         "RemoveDomain did not undo AddDomain")

    def test_bad_input_rejected(self):
        before = self.snapshot()
        for method in self.methods:
            cases = bad_cases(method)
            with self.subTest(method=method.name):
                self.assertTrue(cases or not method.in_args, "%s takes arguments but has no "
                                "bad-input case: add one to bad_values()" % method.name)
            for name, value in cases:
                arguments = build_arguments(method, self.valid, {name: value.value})
                reply = call_method(method, arguments)
                if self.is_unimplemented(method, reply):
                    break
                with self.subTest(method=method.name, argument=name, case=value.description):
                    context = "%s with %s %s as root" % (method.name, name, value.description)
                    self.check_rejected(reply, value.errors, context)
        after = self.snapshot()
        for name in before:
            with self.subTest(unchanged=name):
                self.assertEqual(after[name], before[name], "rejected calls changed %s" % name)

    def check_rejected(self, reply, errors, context):
        self.assertFalse(reply.ok, "%s succeeded: %s" % (context, shorten(reply.output)))
        self.assertIn(reply.error_name, errors, "%s: %s" % (context, reply.describe()))
        self.assert_readable(reply.error_message, context)
        self.assert_daemon_answers(context)

    def test_non_utf8_rejected_by_bus(self):
        # Client libraries will not send a string that is not UTF-8 (gdbus of
        # GLib 2.74 even crashes on one), so the message is written by hand.
        # dbus-daemon validates the body and drops the connection, so
        # outpostd never receives the string.
        method = self.find_method("RemoveDomain")
        with RawBusClient(bus_socket_path()) as client:
            client.hello()
            serial = client.send_call(method.interface, method.name, "sb",
                                      [UNMANAGED_DOMAIN.encode(), True])
            control = client.read_reply(serial)
        self.assertEqual(control.get("error_name"), ERROR_PREFIX + "NotFound",
                         "the raw client's well-formed call got %r" % control)

        with RawBusClient(bus_socket_path()) as client:
            client.hello()
            serial = client.send_call(method.interface, method.name, "sb",
                                      [b"fixture\xff.example", True])
            replies = client.read_until_closed()
        for reply in replies:
            self.assertNotEqual(reply.get("reply_serial"), serial,
                                "the bus forwarded the call and got %r" % reply)
        self.assertIn(FIXTURE_DOMAIN, self.snapshot()["ListDomains"])
        self.assert_daemon_answers("a message with a string that is not UTF-8")


def start_monitor(as_nobody):
    """Start gdbus monitor on the daemon's signals, as root or as nobody."""
    command = ["gdbus", "monitor", "--system", "--dest", BUS_NAME]
    env = dict(os.environ, LC_ALL="C.UTF-8")
    if as_nobody:
        command = NOBODY + command
        env["HOME"] = "/nonexistent"
    monitor = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=env)
    # gdbus subscribes to the signals before it requests the name's
    # owner from the bus, so once it prints the owner, the bus has the match
    # rule.
    lines = []
    while True:
        line = monitor.stdout.readline().decode("utf-8", "replace")
        lines.append(line)
        if "is owned by" in line:
            return monitor
        if not line:
            monitor.wait(timeout=10)
            raise AssertionError("gdbus monitor exited: %s" % "".join(lines))


def start_follower(as_nobody):
    """Start "outpostctl log follow --json" as root or as nobody."""
    command = [OUTPOSTCTL, "log", "follow", "--json"]
    env = dict(os.environ, LC_ALL="C.UTF-8")
    if as_nobody:
        command = NOBODY + command
        env["HOME"] = "/nonexistent"
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def stop_monitor(monitor):
    monitor.terminate()
    output, _ = monitor.communicate(timeout=10)
    return output.decode("utf-8", "replace")


# ---- A raw D-Bus client, to send what client libraries refuse to ------------


def bus_socket_path():
    address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "")
    match = re.fullmatch(r"unix:path=([^,;]+)", address)
    if match is None:
        raise AssertionError("DBUS_SYSTEM_BUS_ADDRESS %r is not a unix:path= address" % address)
    return match.group(1)


class Marshaller:
    """Little-endian D-Bus marshalling of the few types the raw client needs."""

    def __init__(self):
        self.data = bytearray()

    def align(self, boundary):
        self.data += b"\0" * (-len(self.data) % boundary)

    def byte(self, value):
        self.data.append(value)

    def uint32(self, value):
        self.align(4)
        self.data += struct.pack("<I", value)

    def string(self, value):
        if isinstance(value, str):
            value = value.encode()
        self.uint32(len(value))
        self.data += value + b"\0"

    def signature(self, value):
        value = value.encode()
        self.byte(len(value))
        self.data += value + b"\0"

    def value(self, signature, value):
        if signature in "so":
            self.string(value)
        elif signature == "g":
            self.signature(value)
        elif signature == "b":
            self.uint32(1 if value else 0)
        elif signature == "u":
            self.uint32(value)
        else:
            raise ValueError("the raw client cannot marshal %r" % signature)


HEADER_FIELDS = {1: "path", 2: "interface", 3: "member", 4: "error_name", 5: "reply_serial",
                 6: "destination", 7: "sender", 8: "signature"}


class RawBusClient:
    """A D-Bus connection that writes messages byte by byte, without checks."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.serial = 0
        self.buffer = b""
        uid = str(os.getuid()).encode().hex().encode()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid + b"\r\n")
        line = self.read_line()
        if not line.startswith(b"OK "):
            raise AssertionError("the bus rejected EXTERNAL authentication: %r" % line)
        self.sock.sendall(b"BEGIN\r\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def read_line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError("the bus closed the connection during authentication")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def send_call(self, interface, member, signature, values, path=OBJECT_PATH,
                  destination=BUS_NAME):
        """Send a method call and return its serial number."""
        body = Marshaller()
        for code, value in zip(signature, values):
            body.value(code, value)
        fields = [(1, "o", path), (2, "s", interface), (3, "s", member),
                  (6, "s", destination)]
        if signature:
            fields.append((8, "g", signature))
        self.serial += 1
        message = Marshaller()
        message.data += b"l\x01\x00\x01"
        message.uint32(len(body.data))
        message.uint32(self.serial)
        # The header fields are an array of (byte, variant) structs, each
        # aligned to 8 bytes from the start of the message.
        array = Marshaller()
        for code, field_signature, value in fields:
            array.align(8)
            array.byte(code)
            array.signature(field_signature)
            array.value(field_signature, value)
        message.uint32(len(array.data))
        message.align(8)
        message.data += array.data
        message.align(8)
        self.sock.sendall(bytes(message.data) + bytes(body.data))
        return self.serial

    def hello(self):
        serial = self.send_call("org.freedesktop.DBus", "Hello", "", [],
                                path="/org/freedesktop/DBus", destination="org.freedesktop.DBus")
        return self.read_reply(serial)

    def read_reply(self, serial):
        """Return the header fields of the reply to the call with serial."""
        while True:
            message = self.read_message()
            if message is None:
                raise AssertionError("the bus closed the connection before replying to "
                                     "call %d" % serial)
            if message.get("reply_serial") == serial:
                return message

    def read_exactly(self, size):
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_message(self):
        """Return the next message's type and header fields, or None at EOF."""
        fixed = self.read_exactly(16)
        if fixed is None:
            return None
        order = "<" if fixed[0:1] == b"l" else ">"
        body_length, _, fields_length = struct.unpack(order + "III", fixed[4:16])
        rest = self.read_exactly(fields_length + (-fields_length % 8) + body_length)
        if rest is None:
            return None
        message = {"type": fixed[1]}
        message.update(parse_header_fields(order, fixed + rest[:fields_length]))
        return message

    def read_until_closed(self):
        messages = []
        try:
            while True:
                message = self.read_message()
                if message is None:
                    return messages
                messages.append(message)
        except socket.timeout as error:
            raise AssertionError("the bus kept the connection open after a message with "
                                 "invalid UTF-8; messages so far: %r" % messages) from error


def parse_header_fields(order, header):
    """Parse the a(yv) header fields that follow the 16 fixed header bytes."""
    fields = {}
    offset = 16
    while offset < len(header):
        offset += -offset % 8
        code = header[offset]
        length = header[offset + 1]
        signature = header[offset + 2:offset + 2 + length].decode()
        offset += 3 + length
        if signature == "u":
            offset += -offset % 4
            value = struct.unpack(order + "I", header[offset:offset + 4])[0]
            offset += 4
        elif signature in "so":
            offset += -offset % 4
            size = struct.unpack(order + "I", header[offset:offset + 4])[0]
            value = header[offset + 4:offset + 4 + size].decode("utf-8", "replace")
            offset += 4 + size + 1
        elif signature == "g":
            size = header[offset]
            value = header[offset + 1:offset + 1 + size].decode()
            offset += 2 + size
        else:
            raise AssertionError("unexpected header field signature %r" % signature)
        fields[HEADER_FIELDS.get(code, code)] = value
    return fields


def main():
    global DATA_DIR, OUTPOSTCTL
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the source tree's data/ folder")
    parser.add_argument("--outpostctl", required=True, help="the built outpostctl")
    options, rest = parser.parse_known_args()
    DATA_DIR = options.data
    OUTPOSTCTL = options.outpostctl
    if os.getuid() != 0:
        sys.exit("run this as root through run-dbus-tests.sh")
    if bus_socket_path() in REAL_SYSTEM_BUS:
        sys.exit("DBUS_SYSTEM_BUS_ADDRESS names the machine's system bus; these tests add "
                 "and remove domains, so run them through run-dbus-tests.sh")
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
