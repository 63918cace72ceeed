#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of publishing through the PowerDNS HTTP API and of stored
publish targets. outpostctl dns target set stores where records go and dns
publish sends them there. The tests read them back through the API and over
DNS from a real pdns_server with the SQLite backend. They also check that the
output of dns records --zone-file loads in knot's zone checker.

run-integration.sh runs this inside a private network namespace; run alone it
would bind 127.0.0.1:5300 and :8081 and ports 2525, 10587 and 10465 of the host.
"""

import http.server
import os
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import unittest

import dns.rdata
import dns.rdataclass

import harness

ZONE = "pdns.test"
# A managed domain whose zone is ZONE, and one with no zone in PowerDNS.
SUBDOMAIN = "shop." + ZONE
MISSING_ZONE = "missing.test"
API_KEY = secrets.token_urlsafe(24)
WRONG_KEY = secrets.token_urlsafe(24)
# Apex TXT records that are not Outpost's must survive a publish, disabled
# ones included, while the old SPF record is replaced.
SITE_TXT = '"site-verification=outpost-test"'
PAUSED_TXT = '"paused-verification"'
OLD_SPF = '"v=spf1 -all"'
ZONE_RRSETS = [{
    "name": ZONE + ".", "type": "TXT", "ttl": 300, "changetype": "REPLACE",
    "records": [{"content": SITE_TXT, "disabled": False},
                {"content": PAUSED_TXT, "disabled": True},
                {"content": OLD_SPF, "disabled": False}],
}]

# The environment shared by every test, set up by main().
env = None


class Environment:
    """pdns_server with ZONE, and outpostd."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.pdns = harness.PdnsServer(os.path.join(scratch, "pdns"), API_KEY)
        # Outpost reads the SPF record it merges into through its resolver,
        # here PowerDNS itself, which answers for ZONE.
        self.daemon = harness.Outpostd(
            outpostd, outpostctl, os.path.join(scratch, "outpostd"),
            extra_args=["--resolver", "%s:%d" % (harness.DNS_ADDRESS, harness.PDNS_DNS_PORT)])
        os.makedirs(self.daemon.directory, exist_ok=True)
        self.key_file = os.path.join(scratch, "api-key")
        self.started = False

    def start(self):
        if self.started:
            return
        if shutil.which("pdns_server") is None:
            raise AssertionError("pdns_server is missing: run build-aux/setup.sh as root")
        self.pdns.start()
        self.pdns.create_zone(ZONE, ZONE_RRSETS)
        self.daemon.start()
        with open(self.key_file, "w") as output:
            output.write(API_KEY + "\n")
        os.chmod(self.key_file, 0o600)
        self.started = True

    def ctl(self, *args, **kwargs):
        return self.daemon.ctl(*args, **kwargs)

    def set_target(self, domain, *extra, key_file=None, check=True, input_text=None):
        return self.ctl("dns", "target", "set", domain, "--powerdns", self.pdns.url,
                        "--api-key-file", key_file or self.key_file, *extra,
                        check=check, input_text=input_text)


class RecordingServer:
    """An HTTP server in this process that records each request and responds
    to it with status and headers. With tls it serves HTTPS with a self-signed
    certificate, which outpostd must not trust."""

    def __init__(self, address, port, status, headers=(), tls=None):
        self.requests = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                owner.requests.append((self.command, self.path, dict(self.headers)))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PATCH = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((address, port), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def rdata(rdtype, value):
    return dns.rdata.from_text(dns.rdataclass.IN, rdtype, value)


def is_spf(item):
    text = b"".join(item.strings)
    return text == b"v=spf1" or text.startswith(b"v=spf1 ")


def api_rrsets(zone):
    """Return {(name, type): [(rdata, disabled)]} of the zone through the API."""
    found = {}
    for rrset in env.pdns.zone(zone)["rrsets"]:
        key = (rrset["name"].lower(), rrset["type"])
        found[key] = [(rdata(rrset["type"], record["content"]), record["disabled"])
                      for record in rrset["records"]]
    return found


class PowerDnsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env.start()
        env.ctl("domain", "add", ZONE)
        env.set_target(ZONE)

    def setUp(self):
        env.daemon.process.check_running()

    def records(self, domain=ZONE):
        return env.daemon.ctl_json("dns", "records", domain)

    def serial(self):
        return env.pdns.zone(ZONE)["serial"]

    def assert_published(self, records, zone=ZONE):
        rrsets = api_rrsets(zone)
        by_set = {}
        for record in records:
            by_set.setdefault((record["name"], record["type"]), set()).add(
                rdata(record["type"], record["value"]))
        for (name, rdtype), expected in by_set.items():
            with self.subTest(name=name, type=rdtype):
                through_api = {item for item, disabled in rrsets.get((name, rdtype), [])}
                over_dns = set(env.pdns.query(name, rdtype))
                if name == zone + "." and rdtype == "TXT":
                    self.assertEqual({r for r in through_api if is_spf(r)}, expected)
                    self.assertEqual({r for r in over_dns if is_spf(r)}, expected)
                else:
                    self.assertEqual(through_api, expected)
                    self.assertEqual(over_dns, expected)

    def test_1_stored_target_publishes(self):
        records = self.records()
        result = env.ctl("dns", "publish", ZONE)
        self.assertIn("Published %d DNS records of %s to its stored target"
                      % (len(records), ZONE), result.stdout)
        self.assert_published(records)

    def test_2_other_apex_txt_kept(self):
        env.ctl("dns", "publish", ZONE)
        apex = api_rrsets(ZONE)[(ZONE + ".", "TXT")]
        self.assertIn((rdata("TXT", SITE_TXT), False), apex)
        self.assertIn((rdata("TXT", PAUSED_TXT), True), apex)
        self.assertNotIn(rdata("TXT", OLD_SPF), [item for item, _ in apex])
        self.assertEqual(len([item for item, _ in apex if is_spf(item)]), 1)
        over_dns = env.pdns.query(ZONE, "TXT")
        self.assertIn(rdata("TXT", SITE_TXT), over_dns)
        # A disabled record is kept in the API but not served.
        self.assertNotIn(rdata("TXT", PAUSED_TXT), over_dns)

    def test_3_republish_is_idempotent(self):
        env.ctl("dns", "publish", ZONE)
        before = api_rrsets(ZONE)
        env.ctl("dns", "publish", ZONE)
        after = api_rrsets(ZONE)
        before.pop((ZONE + ".", "SOA"), None)
        after.pop((ZONE + ".", "SOA"), None)
        self.assertEqual({k: sorted(map(str, v)) for k, v in before.items()},
                         {k: sorted(map(str, v)) for k, v in after.items()})

    def test_show_never_prints_key(self):
        shown = env.ctl("dns", "target", "show", ZONE).stdout
        self.assertIn("powerdns", shown)
        self.assertIn(env.pdns.url, shown)
        self.assertIn("stored (never shown)", shown)
        self.assertNotIn(API_KEY, shown)
        target = env.daemon.ctl_json("dns", "target", "show", ZONE)
        self.assertEqual(target, {"kind": "powerdns", "api-url": env.pdns.url,
                                  "server-id": "localhost", "zone": ZONE,
                                  "has-secret": True})
        self.assertNotIn(API_KEY, env.daemon.read_log())

    def test_wrong_key_changes_nothing(self):
        env.ctl("dns", "publish", ZONE)
        serial = self.serial()
        before = api_rrsets(ZONE)
        try:
            env.set_target(ZONE, key_file="-", input_text=WRONG_KEY + "\n")
            result = env.ctl("dns", "publish", ZONE, check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("the PowerDNS server refused the API key", result.stderr)
            self.assertNotIn(WRONG_KEY, result.stderr)
        finally:
            env.set_target(ZONE)
        self.assertEqual(self.serial(), serial)
        self.assertEqual(api_rrsets(ZONE), before)
        self.assertNotIn(WRONG_KEY, env.daemon.read_log())
        self.assertNotIn(API_KEY, env.daemon.read_log())

    def test_zone_above_domain(self):
        env.ctl("domain", "add", SUBDOMAIN)
        env.set_target(SUBDOMAIN, "--zone", ZONE)
        self.assertEqual(env.daemon.ctl_json("dns", "target", "show", SUBDOMAIN)["zone"], ZONE)
        records = self.records(SUBDOMAIN)
        env.ctl("dns", "publish", SUBDOMAIN)
        rrsets = api_rrsets(ZONE)
        for record in records:
            with self.subTest(name=record["name"], type=record["type"]):
                found = {item for item, _ in rrsets[(record["name"], record["type"])]}
                self.assertEqual(found, {rdata(record["type"], record["value"])})
        # The zone's own apex TXT records are left alone.
        apex = [item for item, _ in rrsets[(ZONE + ".", "TXT")]]
        self.assertIn(rdata("TXT", SITE_TXT), apex)

    def test_unknown_zone_is_not_found(self):
        env.ctl("domain", "add", MISSING_ZONE)
        env.set_target(MISSING_ZONE)
        result = env.ctl("dns", "publish", MISSING_ZONE, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the PowerDNS server localhost has no zone %s" % MISSING_ZONE,
                      result.stderr)

    def test_unknown_server_id_is_not_found(self):
        env.ctl("domain", "add", "serverid.test", check=False)
        env.set_target("serverid.test", "--server-id", "elsewhere")
        result = env.ctl("dns", "publish", "serverid.test", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the PowerDNS server elsewhere has no zone serverid.test", result.stderr)

    def test_unreachable_is_temporary(self):
        env.ctl("domain", "add", "closed.test", check=False)
        env.ctl("dns", "target", "set", "closed.test", "--powerdns", "http://127.0.0.1:8089",
                "--api-key-file", env.key_file)
        result = env.ctl("dns", "publish", "closed.test", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the PowerDNS API on 127.0.0.1 is unreachable", result.stderr)

    def test_redirect_is_not_followed(self):
        domain = "redirect.test"
        elsewhere = RecordingServer("127.0.0.2", 8091, 200)
        redirect = RecordingServer("127.0.0.1", 8090, 307, [
            ("Location", "http://127.0.0.2:8091/api/v1/servers/localhost/zones/%s." % domain)])
        try:
            env.ctl("domain", "add", domain)
            env.ctl("dns", "target", "set", domain, "--powerdns", "http://127.0.0.1:8090/",
                    "--api-key-file", env.key_file)
            result = env.ctl("dns", "publish", domain, check=False)
        finally:
            redirect.stop()
            elsewhere.stop()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("responded with a redirect (HTTP 307), which Outpost does not follow",
                      result.stderr)
        self.assertEqual(elsewhere.requests, [])
        self.assertEqual(len(redirect.requests), 1)
        method, path, headers = redirect.requests[0]
        self.assertEqual(method, "GET")
        self.assertEqual(path, "/api/v1/servers/localhost/zones/%s." % domain)
        self.assertEqual(headers.get("X-API-Key"), API_KEY)
        self.assertNotIn(API_KEY, path)

    def test_untrusted_certificate_rejected(self):
        domain = "tls.test"
        certificate = harness.make_certificate(env.scratch, "127.0.0.1")
        server = RecordingServer("127.0.0.1", 8443, 200, tls=certificate)
        try:
            env.ctl("domain", "add", domain)
            env.ctl("dns", "target", "set", domain, "--powerdns", "https://127.0.0.1:8443",
                    "--api-key-file", env.key_file)
            result = env.ctl("dns", "publish", domain, check=False)
        finally:
            server.stop()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("the TLS connection to the PowerDNS API on 127.0.0.1 failed",
                      result.stderr)
        # The key goes out only after the certificate is accepted.
        self.assertEqual(server.requests, [])

    def test_bad_targets_change_nothing(self):
        before = env.daemon.ctl_json("dns", "target", "show", ZONE)
        cases = [
            (["--powerdns", "ftp://127.0.0.1:8081"], "http:// or https://"),
            (["--powerdns", "http://user:pw@127.0.0.1:8081"], "user name or password"),
            (["--powerdns", "http://127.0.0.1:8081/?x=1"], "no query"),
            (["--powerdns", "http://127.0.0.1:8081", "--server-id", "a/b"], "server id"),
            (["--powerdns", "http://127.0.0.1:8081", "--zone", "other.test"],
             "is not inside the zone other.test"),
            (["--powerdns", "http://127.0.0.1:8081", "--server", "127.0.0.1"],
             "give either --server"),
            (["--powerdns", "http://127.0.0.1:8081", "--tsig", "k:hmac-sha256:AAAA"],
             "--tsig and --tsig-file apply to --server targets only"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                result = env.ctl("dns", "target", "set", ZONE, "--api-key-file", env.key_file,
                                 *args, check=False)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)
        result = env.ctl("dns", "target", "set", ZONE, "--powerdns", env.pdns.url,
                         "--api-key-file", "-", input_text="bad key\n", check=False)
        self.assertIn("visible ASCII", result.stderr)
        self.assertEqual(env.daemon.ctl_json("dns", "target", "show", ZONE), before)

    def test_remove_target(self):
        domain = "removed.test"
        env.ctl("domain", "add", domain)
        env.set_target(domain)
        env.ctl("dns", "target", "remove", domain)
        self.assertIn("No publish target is stored for %s" % domain,
                      env.ctl("dns", "target", "show", domain).stdout)
        result = env.ctl("dns", "publish", domain, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no publish target is stored for %s" % domain, result.stderr)
        result = env.ctl("dns", "target", "remove", domain, check=False)
        self.assertIn("no publish target is stored for %s" % domain, result.stderr)

    def test_target_removed_with_domain(self):
        domain = "gone.test"
        env.ctl("domain", "add", domain)
        env.set_target(domain)
        env.ctl("domain", "remove", domain)
        env.ctl("domain", "add", domain)
        self.assertEqual(env.daemon.ctl_json("dns", "target", "show", domain), {})


class ZoneFileTest(unittest.TestCase):
    """dns records --zone-file prints lines that knot's zone loader accepts."""

    @classmethod
    def setUpClass(cls):
        env.start()
        env.ctl("domain", "add", "zonefile.test")

    def test_zone_file_loads_in_kzonecheck(self):
        if shutil.which("kzonecheck") is None:
            self.fail("kzonecheck is missing: run build-aux/setup.sh (knot-dnssecutils)")
        domain = "zonefile.test"
        records = env.daemon.ctl_json("dns", "records", domain)
        lines = env.ctl("dns", "records", domain, "--zone-file").stdout.splitlines()
        self.assertEqual(len(lines), len(records))
        for line, record in zip(lines, records):
            fields = line.split("\t")
            self.assertEqual(fields[:4], [record["name"], "3600", "IN", record["type"]])
            self.assertEqual(fields[4], record["value"])
            # kzonecheck skips names outside the zone without an error.
            self.assertTrue(fields[0].endswith("." + domain + ".") or
                            fields[0] == domain + ".", line)
            self.assertNotIn("$ORIGIN", line)
        path = os.path.join(env.scratch, domain + ".zone")
        with open(path, "w") as output:
            output.write("%s. 3600 IN SOA ns.%s. hostmaster.%s. 1 3600 900 604800 300\n"
                         % (domain, domain, domain))
            output.write("%s. 3600 IN NS ns.%s.\n" % (domain, domain))
            output.write("ns.%s. 3600 IN A 127.0.0.1\n" % domain)
            output.write("\n".join(lines) + "\n")
        result = subprocess.run(["kzonecheck", "-o", domain, path], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


TEST_CLASSES = [PowerDnsTest, ZoneFileTest]


def report(result):
    print("\n==== outpostd log ====", file=sys.stderr)
    print(harness.tail(env.daemon.read_log(), 150), file=sys.stderr)
    log_path = os.path.join(env.pdns.directory, "pdns.log")
    if os.path.exists(log_path):
        with open(log_path, errors="replace") as source:
            print("\n==== pdns_server log ====", file=sys.stderr)
            print(harness.tail(source.read(), 60), file=sys.stderr)


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost PowerDNS publishing tests",
                             "PowerDnsTest.test_1_stored_target_publishes", Environment,
                             report)


if __name__ == "__main__":
    sys.exit(main())
