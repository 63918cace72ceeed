#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of the deliverability check: one command publishes a
domain's records to knot, `outpostctl dns check` turns green, and breaking any
one record, the reverse DNS or the blocklist status turns it red with the
sentence that names the value and the fix. Also the SPF merge with a record the
domain already publishes, and the warning past 10 DNS lookups.

run-integration.sh runs this inside a private network namespace.
"""

import base64
import json
import os
import subprocess
import sys
import unittest

import dns.rdata

import harness

ZONE = "check.test"
# A domain that already publishes an SPF record of its own.
MERGE_ZONE = "merge.test"
# A domain whose SPF record includes more than 10 lookups' worth of domains.
HEAVY_ZONE = "heavy.test"
REVERSE_ZONE = "127.in-addr.arpa"
BLOCKLIST = "bl.test"
SERVER = "%s:%d" % (harness.DNS_ADDRESS, harness.DNS_PORT)
KEY = ("outpost-key", "hmac-sha256", base64.b64encode(os.urandom(32)).decode("ascii"))
SENDING_ADDRESS = "127.0.0.1"

env = None


def heavy_zone():
    """Eleven includes, each a record of its own: 11 lookups."""
    records = ['@ TXT "v=spf1 %s ~all"'
               % " ".join("include:s%d.heavy.test" % i for i in range(11))]
    records += ['s%d TXT "v=spf1 ip4:192.0.2.%d -all"' % (i, i) for i in range(11)]
    return records


def make_ca_and_certificate(directory):
    """A test CA and a certificate for the daemon's host name signed by it."""
    ca_key = os.path.join(directory, "ca.key")
    ca_cert = os.path.join(directory, "ca.crt")
    key = os.path.join(directory, "server.key")
    request = os.path.join(directory, "server.csr")
    cert = os.path.join(directory, "server.crt")
    extensions = os.path.join(directory, "server.ext")
    with open(extensions, "w") as output:
        output.write("subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n" % harness.HOSTNAME)
    commands = [
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca_cert, "-days", "30", "-subj",
         "/CN=Outpost test CA"],
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=" + harness.HOSTNAME],
        ["openssl", "x509", "-req", "-in", request, "-CA", ca_cert, "-CAkey", ca_key,
         "-CAcreateserial", "-out", cert, "-days", "90", "-extfile", extensions],
    ]
    for command in commands:
        subprocess.run(command, check=True, capture_output=True)
    return ca_cert, cert, key


class Environment:
    def __init__(self, scratch, outpostd, outpostctl):
        zones = dict(harness.ZONES)
        zones[ZONE] = []
        zones[MERGE_ZONE] = ['@ TXT "v=spf1 include:_spf.merge.test ~all"',
                             '_spf TXT "v=spf1 ip4:192.0.2.0/24 -all"']
        zones[HEAVY_ZONE] = heavy_zone()
        zones[REVERSE_ZONE] = ["1.0.0 PTR %s." % harness.HOSTNAME]
        zones[BLOCKLIST] = []
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"), zones=zones,
                                       tsig_key=KEY, update_zones=[ZONE, HEAVY_ZONE])
        directory = os.path.join(scratch, "outpostd")
        for path in (self.knot.directory, directory):
            os.makedirs(path, exist_ok=True)
        ca_cert, cert, key = make_ca_and_certificate(directory)
        self.daemon = harness.Outpostd(
            outpostd, outpostctl, directory,
            extra_args=["--sending-address", SENDING_ADDRESS, "--dnsbl-zone", BLOCKLIST,
                        "--authoritative-port", str(harness.DNS_PORT),
                        "--tls-cert", cert, "--tls-key", key],
            env={"SSL_CERT_FILE": ca_cert})

    def start(self):
        if self.daemon.process is None:
            self.knot.start()
            self.daemon.start()

    def ctl(self, *args, **kwargs):
        return self.daemon.ctl(*args, **kwargs)

    def publish(self):
        self.ctl("dns", "publish", ZONE, "--server", SERVER, "--tsig", "%s:%s:%s" % KEY)

    def check(self):
        """Run dns check --json; return (exit status, health, {name: check})."""
        result = self.ctl("dns", "check", ZONE, "--json", check=False)
        reply = json.loads(result.stdout)
        health, checks = reply[0], reply[1]
        return result.returncode, health, {check["name"]: check for check in checks}


class CheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env.start()
        env.ctl("domain", "add", ZONE)
        env.publish()

    def setUp(self):
        env.daemon.process.check_running()

    def assert_green(self):
        status, health, checks = env.check()
        problems = ["%s: %s" % (c["name"], c["sentence"]) for c in checks.values()
                    if c["state"] != "pass"]
        self.assertEqual(problems, [])
        self.assertEqual(health, "green")
        self.assertEqual(status, 0)
        return checks

    def assert_red(self, name_part, sentence_part, fix_part=None):
        status, health, checks = env.check()
        self.assertEqual(health, "red")
        self.assertNotEqual(status, 0)
        failed = [c for n, c in checks.items() if name_part in n and c["state"] == "fail"]
        self.assertTrue(failed, "no failed check named like %r: %r" % (name_part, checks))
        self.assertIn(sentence_part, failed[0]["sentence"])
        if fix_part:
            self.assertIn(fix_part, failed[0]["fix"])
        return failed[0]

    def test_1_published_domain_is_green(self):
        checks = self.assert_green()
        for name in ("spf %s" % SENDING_ADDRESS, "ptr %s" % SENDING_ADDRESS, "dmarc",
                     "certificate", "blocklist %s %s" % (BLOCKLIST, SENDING_ADDRESS)):
            self.assertIn(name, checks)
        listed = env.daemon.ctl_json("domain", "list")
        self.assertEqual([d["health"] for d in listed if d["name"] == ZONE], ["green"])

    def test_dkim_record_removed(self):
        (selector,) = [k["selector"] for k in env.daemon.ctl_json("dkim", "list", ZONE)]
        owner = "%s._domainkey.%s." % (selector, ZONE)
        env.knot.unset_records(ZONE, owner, "TXT")
        self.assert_red("_domainkey", "the DKIM record %s is missing" % owner.rstrip("."),
                        "outpostctl dns publish")
        env.publish()
        self.assert_green()

    def test_dkim_record_with_another_key(self):
        (selector,) = [k["selector"] for k in env.daemon.ctl_json("dkim", "list", ZONE)]
        owner = "%s._domainkey.%s." % (selector, ZONE)
        env.knot.set_records(ZONE, [(owner, 300, "TXT", '"v=DKIM1; k=rsa; p=MFkwEwYHKoZI"')])
        self.assert_red("_domainkey", "holds another key")
        env.publish()
        self.assert_green()

    def test_spf_without_the_server(self):
        env.knot.set_records(ZONE, [(ZONE + ".", 300, "TXT", '"v=spf1 ip4:192.0.2.1 -all"')])
        failed = self.assert_red("spf %s" % SENDING_ADDRESS, "SPF does not allow 127.0.0.1",
                                 "ip4:192.0.2.1 ip4:127.0.0.1 -all")
        self.assertIn("add ip4:127.0.0.1 before the final all", failed["sentence"])
        env.publish()
        self.assert_green()

    def test_spf_plus_all(self):
        before = [r.to_text() for r in harness.dns_query(ZONE, "TXT")]
        env.knot.set_records(ZONE, [(ZONE + ".", 300, "TXT", '"v=spf1 ip4:127.0.0.1 +all"')])
        try:
            self.assert_red("spf all", 'ends in "+all", which lets any server',
                            "~all or -all")
        finally:
            env.knot.set_records(ZONE, [(ZONE + ".", 300, "TXT", before[0])])
        self.assert_green()

    def test_spf_missing(self):
        env.knot.unset_records(ZONE, ZONE + ".", "TXT")
        self.assert_red("spf", "has no SPF record")
        env.publish()
        self.assert_green()

    def test_dmarc_missing(self):
        env.knot.unset_records(ZONE, "_dmarc.%s." % ZONE, "TXT")
        self.assert_red("dmarc", "has no DMARC record")
        env.publish()
        self.assert_green()

    def test_reverse_dns_missing(self):
        owner = "1.0.0.%s." % REVERSE_ZONE
        env.knot.unset_records(REVERSE_ZONE, owner, "PTR")
        try:
            self.assert_red("ptr", "127.0.0.1 has no reverse DNS name",
                            "set its PTR record to %s" % harness.HOSTNAME)
        finally:
            env.knot.set_records(REVERSE_ZONE, [(owner, 300, "PTR", harness.HOSTNAME + ".")])
        self.assert_green()

    def test_reverse_dns_not_confirmed(self):
        owner = "1.0.0.%s." % REVERSE_ZONE
        env.knot.set_records(REVERSE_ZONE, [(owner, 300, "PTR", "host.accept.test.")])
        try:
            self.assert_red("ptr", "is host.accept.test, which does not resolve back")
        finally:
            env.knot.set_records(REVERSE_ZONE, [(owner, 300, "PTR", harness.HOSTNAME + ".")])
        self.assert_green()

    def test_blocklisted_address(self):
        owner = "1.0.0.127.%s." % BLOCKLIST
        env.knot.set_records(BLOCKLIST, [(owner, 300, "A", "127.0.0.2")])
        try:
            self.assert_red("blocklist", "127.0.0.1 is listed on bl.test (answer 127.0.0.2)")
        finally:
            env.knot.unset_records(BLOCKLIST, owner, "A")
        self.assert_green()

    def test_check_of_unknown_domain(self):
        result = env.ctl("dns", "check", "unknown.test", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("not managed", result.stderr)


class RecordsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env.start()

    def spf(self, domain):
        for record in env.daemon.ctl_json("dns", "records", domain):
            if record["name"] == domain + "." and record["type"] == "TXT":
                return record
        raise AssertionError("no SPF record for %s" % domain)

    def test_existing_spf_is_merged(self):
        env.ctl("domain", "add", MERGE_ZONE)
        record = self.spf(MERGE_ZONE)
        self.assertEqual(record["value"],
                         '"v=spf1 include:_spf.merge.test ip4:127.0.0.1 ~all"')

    def test_reverse_and_address_advice(self):
        records = env.daemon.ctl_json("dns", "records", ZONE)
        advice = {(r["name"], r["type"], r["value"]) for r in records if not r["publish"]}
        self.assertEqual(advice, {
            ("1.0.0.127.in-addr.arpa.", "PTR", harness.HOSTNAME + "."),
            (harness.HOSTNAME + ".", "A", SENDING_ADDRESS)})
        snippet = env.ctl("dns", "records", ZONE, "--zone-file").stdout
        self.assertIn("; elsewhere: 1.0.0.127.in-addr.arpa.", snippet)

    def test_too_many_lookups_warned(self):
        env.ctl("domain", "add", HEAVY_ZONE, check=False)
        record = self.spf(HEAVY_ZONE)
        # Longer than 255 octets, so it comes as two strings.
        rdata = dns.rdata.from_text("IN", "TXT", record["value"])
        self.assertEqual(len(rdata.strings), 2)
        self.assertEqual(len(rdata.strings[0]), 255)
        self.assertTrue(b"".join(rdata.strings).endswith(
            b"include:s10.heavy.test ip4:127.0.0.1 ~all"))
        self.assertIn("would need 11 DNS lookups, and receivers treat more than 10 as an "
                      "error", record["purpose"])


    def test_unsafe_spf_is_not_published(self):
        env.ctl("domain", "add", HEAVY_ZONE, check=False)
        before = harness.dns_query(HEAVY_ZONE, "TXT")
        result = env.ctl("dns", "publish", HEAVY_ZONE, "--server", SERVER, "--tsig",
                         "%s:%s:%s" % KEY)
        self.assertIn("Published", result.stdout)
        # The DMARC record went out, the SPF record stayed as the admin had it.
        self.assertTrue(harness.dns_query("_dmarc." + HEAVY_ZONE, "TXT"))
        self.assertEqual(harness.dns_query(HEAVY_ZONE, "TXT"), before)


TEST_CLASSES = [CheckTest, RecordsTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost deliverability check tests",
                             "CheckTest.test_1_published_domain_is_green", Environment)


if __name__ == "__main__":
    sys.exit(main())
