#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Authorization and input checks of outpostd's D-Bus API on a system bus.

run-dbus-tests.sh starts a private system bus, polkitd and outpostd, then
runs this file as root. Every method of the introspection XML is called as
`nobody` (polkit refuses) and as root (polkit allows), and every method that
takes arguments is given bad input as root.
"""

import argparse
import os
import re
import socket
import struct
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ElementTree

BUS_NAME = "io.github.outpostmail.Outpost1"
OBJECT_PATH = "/io/github/outpostmail/Outpost1"
ERROR_PREFIX = "io.github.outpostmail.Outpost1.Error."
ACCESS_DENIED = {ERROR_PREFIX + "AccessDenied", "org.freedesktop.DBus.Error.AccessDenied"}
READ_ACTION = "io.github.outpostmail.outpost.read"
MANAGE_ACTION = "io.github.outpostmail.outpost.manage"

NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
CALL_TIMEOUT = 60

FIXTURE_DOMAIN = "fixture.example"
FIXTURE_ACCOUNT = "anna@fixture.example"
UNMANAGED_DOMAIN = "unmanaged.example"
GOOD_PASSWORD = "correct horse battery"
OVERLONG = "a" * 100 * 1024
PAGE = 1000

# Arguments that would succeed if the caller were authorized, once the
# fixtures exist. A key is an argument name, or (method, argument) where one
# method needs its own value. Each value carries its D-Bus signature, so an
# argument whose type changes falls back to a generic dummy value.
VALID_ARGUMENTS = {
    "domain": ("s", FIXTURE_DOMAIN),
    "address": ("s", FIXTURE_ACCOUNT),
    "password": ("s", GOOD_PASSWORD),
    "filter": ("s", ""),
    "offset": ("u", 0),
    "limit": ("u", 100),
    "force": ("b", False),
    ("AddDomain", "domain"): ("s", "nobody-test.example"),
    ("AddAccount", "address"): ("s", "new@" + FIXTURE_DOMAIN),
}

# Arguments for root's pass over every method: non-removing methods run in
# XML order, so AddDomain creates root-test.example before AddAccount uses
# it, and removing methods run last in reverse order, undoing the additions.
ROOT_ARGUMENTS = dict(
    VALID_ARGUMENTS,
    domain=("s", "root-test.example"),
    address=("s", "root@root-test.example"),
)
ROOT_ARGUMENTS.pop(("AddDomain", "domain"))
ROOT_ARGUMENTS.pop(("AddAccount", "address"))

# String arguments for which "" is documented as valid.
EMPTY_ALLOWED = {"filter"}

# Bad values by argument name: (value, error names expected, what is wrong).
BAD_DOMAINS = [
    ("no_underscore.example", "a label with an underscore"),
    ("-lead.example", "a label starting with a hyphen"),
    ("double..dot.example", "an empty label"),
    ("localhost", "a single label"),
    ("a" * 64 + ".example", "a 64-character label"),
    ("exa mple.example", "a space"),
    ("fixture.example\r\nX-Injected: yes", "CR LF"),
]
BAD_ADDRESSES = [
    ("no-at-sign.example", "no @"),
    ("@" + FIXTURE_DOMAIN, "an empty local part"),
    ("anna@", "an empty domain"),
    ("an na@" + FIXTURE_DOMAIN, "a space in the local part"),
    ("<anna@%s>" % FIXTURE_DOMAIN, "angle brackets"),
    ("anna@%s\r\nBcc: x@%s" % (FIXTURE_DOMAIN, UNMANAGED_DOMAIN), "CR LF"),
]
WEAK_PASSWORDS = [
    ("short", "5 characters"),
    ("123456789", "9 characters"),
    ("good password\n123", "a line break"),
    ("x" * 1025, "1025 bytes"),
]

# The machine's own system bus sockets, which this file refuses to use
# because the tests add and remove domains.
REAL_SYSTEM_BUS = {"/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket"}

DATA_DIR = None


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
        if self.name.startswith(("List", "Get")):
            return READ_ACTION
        return MANAGE_ACTION

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
    raise ValueError("signature %r has type code %r, which this test cannot build" %
                     (signature, code))


def dummy_value(signature):
    """Return a well-formed Python value for a complete D-Bus type.

    Raises ValueError for a type the test cannot send with gdbus (such as a
    file descriptor), so a new method with such an argument fails loudly.
    """
    code = signature[0]
    if code in "sg":
        return "dummy" if code == "s" else "s"
    if code == "o":
        return "/dummy"
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
    raise ValueError("signature %r has type code %r, which this test cannot build" %
                     (signature, code))


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
    """Format value as GVariant text with an explicit type, such as "@u 5"."""
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
    raise ValueError("cannot format a value of signature %r" % signature)


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


def find_method(methods, name):
    for method in methods:
        if method.name == name:
            return method
    raise AssertionError("the introspection XML has no method %s" % name)


class AuthorizationTest(unittest.TestCase):
    """outpostd's D-Bus API on a system bus, checked by a real polkitd."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.methods = load_methods()
        cls.add_fixture("AddDomain", FIXTURE_DOMAIN)
        cls.add_fixture("AddAccount", FIXTURE_ACCOUNT, GOOD_PASSWORD)

    @classmethod
    def add_fixture(cls, name, *values):
        """Create a domain or account as root unless it already exists."""
        method = find_method(cls.methods, name)
        texts = [gvariant_text(signature, value)
                 for (_, signature), value in zip(method.in_args, values)]
        reply = call_method(method, texts)
        if not reply.ok and reply.error_name != ERROR_PREFIX + "Exists":
            raise AssertionError("creating the fixture with %s%r as root failed: %s" %
                                 (name, values, reply.describe()))

    def call_as_root(self, name, *texts):
        reply = call_method(find_method(self.methods, name), list(texts))
        self.assertTrue(reply.ok, "%s as root failed: %s" % (name, reply.describe()))
        return reply.output

    def snapshot(self):
        """Return root's view of the domains, accounts and queue."""
        return {
            "domains": self.call_as_root("ListDomains"),
            "accounts": self.call_as_root("ListAccounts", "@s ''", "@u 0", "@u %d" % PAGE),
            "queue": self.call_as_root("ListQueue", "@u 0", "@u %d" % PAGE),
        }

    def assert_daemon_answers(self, after):
        reply = call_method(find_method(self.methods, "ListDomains"), [])
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

    def test_introspection_has_methods(self):
        self.assertGreater(len(self.methods), 0, "no methods found in the introspection XML")
        for method in self.methods:
            with self.subTest(method=repr(method)):
                build_arguments(method, VALID_ARGUMENTS)

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
                arguments = build_arguments(method, VALID_ARGUMENTS)
                reply = call_method(method, arguments, as_nobody=True)
                context = "%s(%s) as nobody" % (method.name, ", ".join(arguments))
                self.assertFalse(reply.ok, "%s succeeded: %s" % (context, reply.output))
                self.assertIn(reply.error_name, ACCESS_DENIED,
                              "%s: %s" % (context, reply.describe()))
                if reply.error_name.startswith(ERROR_PREFIX):
                    self.assertIn(method.action, reply.error_message,
                                  "%s: the error does not name the action" % context)
                    self.assert_readable(reply.error_message, context)
        self.assertEqual(self.snapshot(), before, "calls refused to nobody changed the state")
        self.assertNotIn("nobody-test.example", self.snapshot()["domains"])

    def test_nobody_denied_before_validation(self):
        # polkit must decide before the arguments are read, or an
        # unauthorized caller learns which domains and accounts exist from
        # NotFound and Exists.
        for method in self.methods:
            for name, signature in method.in_args:
                for value in bad_values(name, signature, method.name):
                    overrides = {name: value.value}
                    with self.subTest(method=method.name, argument=name, case=value.why):
                        arguments = build_arguments(method, VALID_ARGUMENTS, overrides)
                        reply = call_method(method, arguments, as_nobody=True)
                        self.assertIn(reply.error_name, ACCESS_DENIED,
                                      "%s with %s as nobody: %s" %
                                      (method.name, value.why, reply.describe()))

    def test_root_allowed_every_method(self):
        before = self.snapshot()
        adding = [m for m in self.methods if not m.name.startswith("Remove")]
        removing = [m for m in reversed(self.methods) if m.name.startswith("Remove")]
        for method in adding + removing:
            with self.subTest(method=repr(method)):
                arguments = build_arguments(method, ROOT_ARGUMENTS)
                reply = call_method(method, arguments)
                self.assertTrue(reply.ok, "%s(%s) as root: %s" %
                                (method.name, ", ".join(arguments), reply.describe()))
        self.assertEqual(self.snapshot(), before,
                         "root's additions and removals did not cancel out")

    def test_bad_input_rejected(self):
        before = self.snapshot()
        for method in self.methods:
            if not method.in_args:
                continue
            cases = [(name, value) for name, signature in method.in_args
                     for value in bad_values(name, signature, method.name)]
            with self.subTest(method=method.name):
                self.assertTrue(cases, "%s takes arguments but has no bad-input case: add "
                                "one to bad_values()" % method.name)
            for name, value in cases:
                with self.subTest(method=method.name, argument=name, case=value.why):
                    self.check_bad_input(method, name, value)
        self.assertEqual(self.snapshot(), before, "rejected calls changed the state")

    def check_bad_input(self, method, name, value):
        arguments = build_arguments(method, VALID_ARGUMENTS, {name: value.value})
        reply = call_method(method, arguments)
        context = "%s with %s %s as root" % (method.name, name, value.why)
        self.assertFalse(reply.ok, "%s succeeded: %s" % (context, shorten(reply.output)))
        self.assertIn(reply.error_name, value.errors, "%s: %s" % (context, reply.describe()))
        self.assert_readable(reply.error_message, context)
        self.assert_daemon_answers(context)

    def test_non_utf8_rejected_by_gdbus(self):
        # GVariant strings must be UTF-8, so gdbus rejects the argument while
        # parsing it and sends nothing.
        method = find_method(self.methods, "RemoveDomain")
        arguments = [b"@s 'fixture\xff.example'", b"@b false"]
        reply = call_method(method, arguments)
        self.assertFalse(reply.ok, "gdbus sent a string that is not UTF-8: %s" % reply.output)
        self.assertIsNone(reply.error_name, "the call reached the bus: %s" % reply.describe())
        self.assertIn(FIXTURE_DOMAIN, self.snapshot()["domains"])

    def test_non_utf8_rejected_by_bus(self):
        # A client that writes the message by hand gets past any library;
        # dbus-daemon then validates the body and drops the connection, so
        # outpostd never sees the string.
        method = find_method(self.methods, "RemoveDomain")
        with RawBusClient(bus_socket_path()) as client:
            client.hello()
            serial = client.send_call(method.interface, "RemoveDomain", "sb",
                                      [b"fixture\xff.example", False])
            replies = client.read_until_closed()
        for reply in replies:
            self.assertNotEqual(reply.get("reply_serial"), serial,
                                "the bus forwarded the call and got %r" % reply)
        self.assertIn(FIXTURE_DOMAIN, self.snapshot()["domains"])
        self.assert_daemon_answers("a message with a string that is not UTF-8")


class BadValue:
    """A bad argument value, the error names it may get, and why it is bad."""

    def __init__(self, value, errors, why):
        self.value = value
        self.errors = errors
        self.why = why


def bad_values(name, signature, method_name):
    """Return the bad values for one argument of one method."""
    invalid = {ERROR_PREFIX + "InvalidArgument"}
    not_found = {ERROR_PREFIX + "NotFound"}
    exists = {ERROR_PREFIX + "Exists"}
    # Adding validates the syntax first; other methods may only look it up.
    malformed = invalid if method_name.startswith("Add") else invalid | not_found
    values = []
    if signature == "s":
        if name not in EMPTY_ALLOWED:
            values.append(BadValue("", invalid | not_found, "empty"))
        values.append(BadValue(OVERLONG, invalid | not_found, "of 100 KB"))
    if name == "domain" and signature == "s":
        if method_name == "AddDomain":
            values.append(BadValue(FIXTURE_DOMAIN, exists, "already managed"))
        else:
            values.append(BadValue(UNMANAGED_DOMAIN, not_found, "not managed"))
        for domain, why in BAD_DOMAINS:
            values.append(BadValue(domain, malformed, "with " + why))
    if name == "address" and signature == "s":
        if method_name == "AddAccount":
            values.append(BadValue(FIXTURE_ACCOUNT, exists, "of an existing account"))
            values.append(BadValue("x@" + UNMANAGED_DOMAIN, not_found, "in no managed domain"))
        else:
            values.append(BadValue("nobody-here@" + FIXTURE_DOMAIN, not_found,
                                   "of no account"))
        for address, why in BAD_ADDRESSES:
            values.append(BadValue(address, malformed, "with " + why))
    if name == "password" and signature == "s":
        for password, why in WEAK_PASSWORDS:
            values.append(BadValue(password, invalid, "of " + why))
    if name == "limit" and signature == "u":
        values.append(BadValue(0, invalid, "0"))
        values.append(BadValue(100000, invalid, "100000"))
    return values


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
            raise AssertionError("the bus refused EXTERNAL authentication: %r" % line)
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
        while True:
            message = self.read_message()
            if message is None:
                raise AssertionError("the bus closed the connection after Hello")
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
    global DATA_DIR
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="the source tree's data/ folder")
    options, rest = parser.parse_known_args()
    DATA_DIR = options.data
    if os.getuid() != 0:
        sys.exit("run this as root through run-dbus-tests.sh")
    if bus_socket_path() in REAL_SYSTEM_BUS:
        sys.exit("DBUS_SYSTEM_BUS_ADDRESS names the machine's system bus; these tests add "
                 "and remove domains, so run them through run-dbus-tests.sh")
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
