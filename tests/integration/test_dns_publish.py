#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of DNS publishing: outpostctl dns publish sends a domain's
records to knot with one TSIG-signed DNS UPDATE (RFC 2136), and the tests read
them back from knot with dnspython.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5353 and ports 2525, 10587 and 10465 of the host.
"""

import base64
import os
import sys
import unittest

import dns.rdata
import dns.rdataclass
import dns.rdatatype

import harness

ZONE = "publish.test"
# A zone the key may not update.
CLOSED_ZONE = "closed.test"
SERVER = "%s:%d" % (harness.DNS_ADDRESS, harness.DNS_PORT)
KEY_NAME = "outpost-key"
ALGORITHM = "hmac-sha256"
SECRET = base64.b64encode(os.urandom(32)).decode("ascii")
WRONG_SECRET = base64.b64encode(os.urandom(32)).decode("ascii")
# Apex TXT records that are not Outpost's must survive a publish, while the
# old SPF record is replaced.
SITE_TXT = '"site-verification=outpost-test"'
ZONE_RECORDS = ["@ TXT %s" % SITE_TXT, '@ TXT "v=spf1 -all"']

# The environment shared by every test, set up by main().
env = None


class Environment:
    """knot with an update key for ZONE, and outpostd."""

    def __init__(self, scratch, outpostd, outpostctl):
        zones = dict(harness.ZONES)
        zones[ZONE] = ZONE_RECORDS
        zones[CLOSED_ZONE] = []
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"), zones=zones,
                                       tsig_key=(KEY_NAME, ALGORITHM, SECRET),
                                       update_zones=[ZONE])
        os.makedirs(self.knot.directory, exist_ok=True)
        self.daemon = harness.Outpostd(outpostd, outpostctl, os.path.join(scratch, "outpostd"))
        os.makedirs(self.daemon.directory, exist_ok=True)
        self.started = False

    def start(self):
        if not self.started:
            self.knot.start()
            self.daemon.start()
            self.started = True

    def ctl(self, *args, **kwargs):
        return self.daemon.ctl(*args, **kwargs)

    def publish(self, *tsig_args, check=True, input_text=None):
        return self.ctl("dns", "publish", ZONE, "--server", SERVER, *tsig_args,
                        check=check, input_text=input_text)


def rdata_set(rdtype, values):
    return {dns.rdata.from_text(dns.rdataclass.IN, rdtype, value) for value in values}


def is_spf(rdata):
    text = b"".join(rdata.strings)
    return text == b"v=spf1" or text.startswith(b"v=spf1 ")


class PublishTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env.start()
        env.ctl("domain", "add", ZONE)

    def setUp(self):
        env.daemon.process.check_running()

    def records(self):
        return env.daemon.ctl_json("dns", "records", ZONE)

    def zone_serial(self):
        return harness.dns_query(ZONE, "SOA")[0].serial

    def assert_published(self, records):
        for record in records:
            found = set(harness.dns_query(record["name"], record["type"]))
            expected = rdata_set(record["type"], [record["value"]])
            if record["name"] == ZONE + "." and record["type"] == "TXT":
                self.assertEqual({r for r in found if is_spf(r)}, expected, record["name"])
                self.assertIn(dns.rdata.from_text("IN", "TXT", SITE_TXT), found)
            else:
                self.assertEqual(found, expected, "%s %s" % (record["name"], record["type"]))

    def test_1_publish_reads_back(self):
        records = self.records()
        result = env.publish("--tsig", "%s:%s:%s" % (KEY_NAME, ALGORITHM, SECRET))
        self.assertIn("Published %d DNS records" % len(records), result.stdout)
        self.assert_published(records)

    def test_2_wrong_secret_changes_nothing(self):
        serial = self.zone_serial()
        result = env.publish("--tsig", "-", check=False,
                             input_text="%s:%s:%s\n" % (KEY_NAME, ALGORITHM, WRONG_SECRET))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the DNS server rejected the TSIG key %s: check the key name, "
                      "algorithm and secret" % KEY_NAME, result.stderr)
        self.assertNotIn(WRONG_SECRET, result.stderr)
        self.assertEqual(self.zone_serial(), serial)
        self.assertNotIn(WRONG_SECRET, env.daemon.read_log())

    def test_3_new_key_gets_own_selector(self):
        old = {r["name"]: r["value"] for r in self.records() if "_domainkey" in r["name"]}
        env.ctl("domain", "remove", ZONE, "--force")
        env.ctl("domain", "add", ZONE)
        records = self.records()
        new = {r["name"]: r["value"] for r in records if "_domainkey" in r["name"]}
        # A new key takes a selector of its own, so verifiers never check its
        # signatures against the old key's record.
        self.assertEqual(len(new), 1)
        self.assertFalse(set(old) & set(new))
        key_file = os.path.join(env.daemon.directory, "tsig.key")
        with open(key_file, "w") as output:
            output.write("%s:%s:%s\n" % (KEY_NAME, ALGORITHM, SECRET))
        env.publish("--tsig-file", key_file)
        self.assert_published(records)
        for name, value in new.items():
            self.assertEqual(len(harness.dns_query(name, "TXT")), 1, name)

    def test_stored_target_publishes(self):
        key_file = os.path.join(env.daemon.directory, "stored-tsig.key")
        with open(key_file, "w") as output:
            output.write("%s:%s:%s\n" % (KEY_NAME, ALGORITHM, SECRET))
        env.ctl("dns", "target", "set", ZONE, "--server", SERVER, "--tsig-file", key_file)
        shown = env.ctl("dns", "target", "show", ZONE).stdout
        self.assertIn(SERVER, shown)
        self.assertIn(KEY_NAME, shown)
        self.assertNotIn(SECRET, shown)
        result = env.ctl("dns", "publish", ZONE)
        self.assertIn("to its stored target", result.stdout)
        self.assert_published(self.records())
        self.assertNotIn(SECRET, env.daemon.read_log())

    def test_unknown_key_is_refused(self):
        serial = self.zone_serial()
        result = env.publish("--tsig", "other-key:%s:%s" % (ALGORITHM, SECRET), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("rejected the TSIG key other-key", result.stderr)
        self.assertEqual(self.zone_serial(), serial)

    def test_zone_without_update_acl_is_refused(self):
        env.ctl("domain", "add", CLOSED_ZONE)
        serial = harness.dns_query(CLOSED_ZONE, "SOA")[0].serial
        result = env.ctl("dns", "publish", CLOSED_ZONE, "--server", SERVER, "--tsig",
                         "%s:%s:%s" % (KEY_NAME, ALGORITHM, SECRET), check=False)
        self.assertNotEqual(result.returncode, 0)
        # knot replies BADKEY when its access list denies a valid key.
        self.assertIn("the DNS server rejected the TSIG key %s: check the key name, algorithm "
                      "and secret, and that the key may update %s" % (KEY_NAME, CLOSED_ZONE),
                      result.stderr)
        self.assertEqual(harness.dns_query(CLOSED_ZONE, "SOA")[0].serial, serial)
        self.assertEqual(harness.dns_query("_dmarc." + CLOSED_ZONE, "TXT"), [])

    def test_unreachable_server_is_temporary(self):
        result = env.ctl("dns", "publish", ZONE, "--server", "127.0.0.1:5399", "--tsig",
                         "%s:%s:%s" % (KEY_NAME, ALGORITHM, SECRET), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no reply from the DNS server 127.0.0.1:5399", result.stderr)

    def test_bad_input_is_refused(self):
        serial = self.zone_serial()
        cases = [
            (["--tsig", "%s:hmac-md5:%s" % (KEY_NAME, SECRET)], "hmac-sha256 or hmac-sha512"),
            (["--tsig", "%s:%s:not*base64" % (KEY_NAME, ALGORITHM)], "not valid base64"),
            (["--tsig", "no-colons"], "NAME:ALGORITHM:SECRET"),
        ]
        for args, message in cases:
            with self.subTest(args=args[1][:20]):
                result = env.publish(*args, check=False)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)
        result = env.ctl("dns", "publish", ZONE, "--server", "",
                         "--tsig", "%s:%s:%s" % (KEY_NAME, ALGORITHM, SECRET), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("IP address", result.stderr)
        result = env.ctl("dns", "publish", ZONE, "--server", "ns.example.org",
                         "--tsig", "%s:%s:%s" % (KEY_NAME, ALGORITHM, SECRET), check=False)
        self.assertIn("is not an IP address", result.stderr)
        self.assertEqual(self.zone_serial(), serial)


TEST_CLASSES = [PublishTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost DNS publishing tests",
                             "PublishTest.test_1_publish_reads_back", Environment)


if __name__ == "__main__":
    sys.exit(main())
