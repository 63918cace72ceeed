# SPDX-License-Identifier: GPL-3.0-or-later
"""Servers the integration tests run against: knot and PowerDNS for DNS, the
recipient SMTP servers of recipient_server.py, and outpostd itself.

Every process is started by this module and stopped by stop_all(), which the
test runner calls even when a test fails. Nothing here talks to an address
outside 127.0.0.0/8, and DNS queries go only to the servers started here.
"""

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import dns.message
import dns.query
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

DNS_ADDRESS = "127.0.0.1"
DNS_PORT = 5353
DELIVERY_PORT = 2525
SUBMISSION_PORT = 10587
SUBMISSIONS_PORT = 10465
HOSTNAME = "mail.outpost.test"
BUS_NAME = "io.github.outpostmail.Outpost1"

# Zone contents (apart from SOA and NS, which make_zone_file adds). The MX
# targets are the recipient servers below, one loopback address each.
ZONES = {
    "example.org": ["@ MX 10 mx.accept.test."],
    # A second sender domain whose MX rejects every recipient, bounces included.
    "example.com": ["@ MX 10 mx.reject.test."],
    "accept.test": ["@ MX 10 mx", "mx A 127.0.0.2"],
    "tempfail.test": ["@ MX 10 mx", "mx A 127.0.0.3"],
    "reject.test": ["@ MX 10 mx", "mx A 127.0.0.4"],
    # A null MX (RFC 7505): the domain accepts no mail at all.
    "nullmx.test": ["@ MX 0 ."],
    # No MX: delivery falls back to the A record (RFC 5321 §5.1).
    "implicit.test": ["@ A 127.0.0.5"],
    "slow.test": ["@ MX 10 mx", "mx A 127.0.0.7"],
    # The MX host exists but has no address record, while the domain has one
    # that must not be used as a fallback.
    "noaddr.test": ["@ MX 10 mx", "@ A 127.0.0.5", 'mx TXT "no address record"'],
    "inject.test": ["@ MX 10 mx", "mx A 127.0.0.6"],
    "greet421.test": ["@ MX 10 mx", "mx A 127.0.0.9"],
    "dropdot.test": ["@ MX 10 mx", "mx A 127.0.0.10"],
    # The MX is outpostd's own host name.
    "self.test": ["@ MX 10 %s." % HOSTNAME],
    "outpost.test": ["mail A 127.0.0.1"],
}

_processes = []


def log(text):
    print(text, file=sys.stderr, flush=True)


def wait_for(predicate, timeout, description, interval=0.1):
    """Call predicate until it returns a true value and return that value.

    Raises AssertionError naming description when timeout seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, description))
        time.sleep(interval)


class ManagedProcess:
    """A child process whose output goes to a log file, stopped by stop_all()."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log_file = open(log_path, "ab")
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                      stderr=subprocess.STDOUT, env=env)
        _processes.append(self)

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def check_running(self):
        if not self.running():
            raise AssertionError("%s exited with status %s; log:\n%s"
                                 % (self.name, self.popen.returncode, self.read_log()))

    def read_log(self):
        with open(self.log_path, "rb") as source:
            return source.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Send sig and wait for the process, so its ports are free afterwards."""
        if self.running():
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log("%s did not exit %g s after signal %d: killing it"
                    % (self.name, timeout, sig))
                self.popen.kill()
                self.popen.wait()
        self.log_file.close()
        if self in _processes:
            _processes.remove(self)


def stop_all():
    for process in reversed(list(_processes)):
        process.stop()


# DNS --------------------------------------------------------------------------

def dns_query(name, rdtype):
    """Query the test DNS server and return the answer's rdata list (empty if none)."""
    query = dns.message.make_query(name, rdtype)
    response = dns.query.udp(query, DNS_ADDRESS, port=DNS_PORT, timeout=2)
    answers = []
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.from_text(rdtype):
            answers.extend(rrset)
    return answers


def dkim_dns_txt(name, timeout=5):
    """dnsfunc for dkim.verify(): the TXT record of name from the test DNS server."""
    if isinstance(name, bytes):
        name = name.decode("ascii")
    records = dns_query(name, "TXT")
    if not records:
        return None
    return b"".join(records[0].strings)


def make_zone_file(zone, records):
    lines = [
        "$ORIGIN %s." % zone,
        "$TTL 300",
        "@ SOA ns.%s. hostmaster.%s. 1 3600 900 604800 300" % (zone, zone),
        "@ NS ns",
        "ns A 127.0.0.1",
    ]
    lines.extend(records)
    return "\n".join(lines) + "\n"


class KnotServer:
    """knotd on 127.0.0.1:5353 serving ZONES, changed through its control socket."""

    def __init__(self, directory, zones=None, tsig_key=None, update_zones=()):
        """zones defaults to ZONES. tsig_key (name, algorithm, base64 secret)
        may send DNS UPDATE (RFC 2136) to the zones named in update_zones."""
        self.directory = directory
        self.socket = os.path.join(directory, "knot.sock")
        self.process = None
        self.zones = ZONES if zones is None else zones
        self.tsig_key = tsig_key
        self.update_zones = set(update_zones)

    def write_config(self):
        zones_dir = os.path.join(self.directory, "zones")
        os.makedirs(zones_dir, exist_ok=True)
        config = [
            "server:",
            '    rundir: "%s"' % self.directory,
            "    listen: %s@%d" % (DNS_ADDRESS, DNS_PORT),
            "database:",
            '    storage: "%s"' % os.path.join(self.directory, "db"),
            "control:",
            '    listen: "%s"' % self.socket,
            "log:",
            "  - target: stdout",
            "    any: info",
            "template:",
            "  - id: default",
            '    storage: "%s"' % zones_dir,
            # Keep the zone files as written: changes live in memory only.
            "    zonefile-sync: -1",
            "    journal-content: none",
        ]
        if self.tsig_key:
            name, algorithm, secret = self.tsig_key
            config += ["key:", "  - id: %s" % name, "    algorithm: %s" % algorithm,
                       "    secret: %s" % secret,
                       "acl:", "  - id: update", "    key: %s" % name,
                       "    action: update"]
        config.append("zone:")
        for zone, records in self.zones.items():
            with open(os.path.join(zones_dir, zone + ".zone"), "w") as output:
                output.write(make_zone_file(zone, records))
            config.append("  - domain: %s" % zone)
            if self.tsig_key and zone in self.update_zones:
                config.append("    acl: update")
        path = os.path.join(self.directory, "knot.conf")
        with open(path, "w") as output:
            output.write("\n".join(config) + "\n")
        return path

    def start(self):
        config = self.write_config()
        self.process = ManagedProcess("knotd", ["knotd", "-c", config],
                                      os.path.join(self.directory, "knotd.log"))

        def serving():
            self.process.check_running()
            try:
                return all(dns_query(zone, "SOA") for zone in self.zones)
            except Exception:
                return False

        wait_for(serving, 15, "knotd to serve every zone")

    def knotc(self, *args):
        result = subprocess.run(["knotc", "-s", self.socket] + list(args),
                                capture_output=True, text=True, timeout=15)
        if result.returncode != 0:
            raise AssertionError("knotc %s failed: %s%s"
                                 % (" ".join(args), result.stdout, result.stderr))
        return result.stdout

    def set_records(self, zone, records):
        """Replace the (owner, type) record sets in zone with (owner, ttl, type, rdata) records."""
        self.knotc("zone-begin", zone)
        try:
            for owner, ttl, rdtype, rdata in records:
                try:
                    self.knotc("zone-unset", zone, owner, rdtype)
                except AssertionError:
                    pass  # No such record set yet.
                self.knotc("zone-set", zone, owner, str(ttl), rdtype, rdata)
            self.knotc("zone-commit", zone)
        except Exception:
            self.knotc("zone-abort", zone)
            raise

    def unset_records(self, zone, owner, rdtype):
        """Remove the (owner, type) record set from zone."""
        self.knotc("zone-begin", zone)
        try:
            self.knotc("zone-unset", zone, owner, rdtype)
            self.knotc("zone-commit", zone)
        except Exception:
            self.knotc("zone-abort", zone)
            raise

    def stop(self):
        if self.process:
            self.process.stop()


# PowerDNS ---------------------------------------------------------------------

PDNS_DNS_PORT = 5300
PDNS_API_PORT = 8081


class PdnsServer:
    """pdns_server with the SQLite backend: DNS on 127.0.0.1:5300 and the HTTP
    API on 127.0.0.1:8081, which only loopback clients may use."""

    def __init__(self, directory, api_key):
        self.directory = directory
        self.api_key = api_key
        self.process = None
        self.url = "http://%s:%d" % (DNS_ADDRESS, PDNS_API_PORT)

    def write_config(self):
        database = os.path.join(self.directory, "pdns.sqlite3")
        if os.path.exists(database):
            os.unlink(database)
        schema = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"
        with open(schema) as source:
            connection = sqlite3.connect(database)
            connection.executescript(source.read())
            connection.close()
        config = [
            "launch=gsqlite3",
            "gsqlite3-database=%s" % database,
            "local-address=%s" % DNS_ADDRESS,
            "local-port=%d" % PDNS_DNS_PORT,
            "api=yes",
            "api-key=%s" % self.api_key,
            "webserver=yes",
            "webserver-address=%s" % DNS_ADDRESS,
            "webserver-port=%d" % PDNS_API_PORT,
            "webserver-allow-from=127.0.0.0/8",
            # Empty, or pdns_server queries the system resolver for security notices.
            "security-poll-suffix=",
            "daemon=no",
            "guardian=no",
            "disable-syslog=yes",
            "socket-dir=%s" % self.directory,
            "receiver-threads=1",
            "distributor-threads=1",
        ]
        with open(os.path.join(self.directory, "pdns.conf"), "w") as output:
            output.write("\n".join(config) + "\n")

    def start(self):
        os.makedirs(self.directory, exist_ok=True)
        self.write_config()
        self.process = ManagedProcess("pdns_server",
                                      ["pdns_server", "--config-dir=%s" % self.directory],
                                      os.path.join(self.directory, "pdns.log"))

        def serving():
            self.process.check_running()
            try:
                return self.api("GET", "/servers/localhost")[0] == 200
            except OSError:
                return False

        wait_for(serving, 20, "pdns_server to answer on its HTTP API")

    def api(self, method, path, body=None, api_key=None):
        """Call the API below /api/v1 and return (status, decoded JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + "/api/v1" + path, data=data, method=method)
        request.add_header("X-API-Key", self.api_key if api_key is None else api_key)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        # No proxy from the environment: the request stays on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, None

    def create_zone(self, zone, rrsets=()):
        """Create a native zone with an SOA, an NS record and rrsets (API form)."""
        status, answer = self.api("POST", "/servers/localhost/zones", {
            "name": zone + ".", "kind": "Native", "nameservers": ["ns.%s." % zone],
            "rrsets": list(rrsets)})
        if status != 201:
            raise AssertionError("creating the zone %s failed: %s %s" % (zone, status, answer))

    def zone(self, zone):
        status, answer = self.api("GET", "/servers/localhost/zones/%s." % zone)
        if status != 200:
            raise AssertionError("reading the zone %s failed: %s %s" % (zone, status, answer))
        return answer

    def query(self, name, rdtype):
        """Query pdns_server over DNS and return the answer's rdata list."""
        query = dns.message.make_query(name, rdtype)
        response = dns.query.udp(query, DNS_ADDRESS, port=PDNS_DNS_PORT, timeout=2)
        answers = []
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.from_text(rdtype):
                answers.extend(rrset)
        return answers

    def stop(self):
        if self.process:
            self.process.stop()


# Recipient servers ------------------------------------------------------------

class RecipientServer:
    """One recipient_server.py process on address:DELIVERY_PORT."""

    def __init__(self, directory, address, mode="accept", tls=None):
        self.address = address
        self.mode = mode
        self.tls = tls
        self.store = os.path.join(directory, "mx-" + address)
        self.process = None

    def start(self):
        os.makedirs(self.store, exist_ok=True)
        ready_file = os.path.join(self.store, "ready")
        if os.path.exists(ready_file):
            os.unlink(ready_file)
        argv = [PYTHON, os.path.join(HERE, "recipient_server.py"),
                "--address", self.address, "--port", str(DELIVERY_PORT),
                "--store", self.store, "--mode", self.mode, "--ready-file", ready_file]
        if self.tls:
            argv += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.process = ManagedProcess("recipient " + self.address, argv,
                                      os.path.join(self.store, "server.log"))

        def ready():
            self.process.check_running()
            return os.path.exists(ready_file)

        wait_for(ready, 15, "recipient server on %s" % self.address)

    def stop(self):
        if self.process:
            self.process.stop()

    def messages(self):
        """Return every stored message as (envelope dict, raw bytes), oldest first."""
        found = []
        if not os.path.isdir(self.store):
            return found
        for name in sorted(os.listdir(self.store)):
            if not name.endswith(".json"):
                continue
            base = os.path.join(self.store, name[:-len(".json")])
            with open(base + ".json") as source:
                envelope = json.load(source)
            with open(base + ".eml", "rb") as source:
                found.append((envelope, source.read()))
        return found

    def events(self):
        path = os.path.join(self.store, "events.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as source:
            return [json.loads(line) for line in source if line.endswith("\n")]

    def wait_for_message(self, predicate, timeout, description):
        """Wait for a stored message whose (envelope, raw) satisfies predicate."""

        def find():
            for envelope, raw in self.messages():
                if predicate(envelope, raw):
                    return envelope, raw
            return None

        return wait_for(find, timeout, "%s at %s" % (description, self.address))


def make_certificate(directory, common_name):
    key = os.path.join(directory, common_name + ".key")
    cert = os.path.join(directory, common_name + ".crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + common_name],
                   check=True, capture_output=True, timeout=60)
    return cert, key


# outpostd ---------------------------------------------------------------------

class Outpostd:
    """outpostd on the session bus with loopback listeners and the test resolver."""

    def __init__(self, binary, ctl_binary, directory, extra_args=(), env=None):
        """env: variables added to outpostd's environment."""
        self.env = dict(os.environ, **env) if env else None
        self.binary = binary
        self.ctl_binary = ctl_binary
        self.directory = directory
        self.state_dir = os.path.join(directory, "state")
        self.log_path = os.path.join(directory, "outpostd.log")
        self.extra_args = list(extra_args)
        self.process = None
        self.starts = 0

    def argv(self):
        return [self.binary, "--session-bus", "--config", "/dev/null",
                "--state-dir", self.state_dir, "--hostname", HOSTNAME,
                "--submission", "127.0.0.1:%d" % SUBMISSION_PORT,
                "--submissions", "127.0.0.1:%d" % SUBMISSIONS_PORT,
                "--resolver", "%s:%d" % (DNS_ADDRESS, DNS_PORT),
                "--delivery-port", str(DELIVERY_PORT),
                "--retry-min", "1", "--retry-max", "2"] + self.extra_args

    def start(self):
        os.makedirs(self.state_dir, exist_ok=True)
        self.starts += 1
        with open(self.log_path, "ab") as output:
            output.write(b"==== outpostd start %d ====\n" % self.starts)
        self.process = ManagedProcess("outpostd", self.argv(), self.log_path, env=self.env)
        wait = subprocess.Popen(["gdbus", "wait", "--session", "--timeout", "20", BUS_NAME],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def owned():
            self.process.check_running()
            return wait.poll() is not None

        try:
            wait_for(owned, 25, "outpostd to own %s" % BUS_NAME)
        finally:
            if wait.poll() is None:
                wait.kill()
                wait.wait()
        if wait.returncode != 0:
            raise AssertionError("gdbus wait for %s failed: %s"
                                 % (BUS_NAME, wait.stderr.read().decode(errors="replace")))

    def kill(self):
        """SIGKILL the daemon, as a crash or power loss would stop it."""
        self.process.stop(signal.SIGKILL)

    def stop(self):
        if self.process:
            self.process.stop()

    def read_log(self):
        if not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as source:
            return source.read().decode("utf-8", "replace")

    def ctl(self, *args, input_text=None, check=True):
        """Run outpostctl --session-bus ARGS and return the CompletedProcess."""
        argv = [self.ctl_binary, "--session-bus"] + list(args)
        result = subprocess.run(argv, input=input_text, capture_output=True, text=True,
                                timeout=30)
        if check and result.returncode != 0:
            raise AssertionError("%s exited with status %d: %s%s"
                                 % (" ".join(argv), result.returncode, result.stdout,
                                    result.stderr))
        return result

    def ctl_json(self, *args):
        result = self.ctl(*(list(args) + ["--json"]))
        try:
            return json.loads(result.stdout)
        except ValueError as error:
            raise AssertionError("outpostctl %s --json printed invalid JSON (%s): %r"
                                 % (" ".join(args), error, result.stdout)) from None


def tail(text, count):
    """Return the last count lines of text, saying how many were left out."""
    lines = text.splitlines()
    if len(lines) > count:
        lines = ["[%d earlier lines are in the scratch folder]" % (len(lines) - count)] \
            + lines[-count:]
    return "\n".join(lines)


def run_tests(module, description, example, make_environment, report=None):
    """Parse the runner's arguments, set module.env and run module.TEST_CLASSES.

    run-integration.sh passes --outpostd, --outpostctl and --scratch; test
    names such as example select single tests. On failure, report(result)
    prints what helps, by default the end of outpostd's log. Returns the
    exit status.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--outpostd", required=True)
    parser.add_argument("--outpostctl", required=True)
    parser.add_argument("--scratch", required=True, help="empty folder for state and logs")
    parser.add_argument("tests", nargs="*", help="test names, e.g. " + example)
    args = parser.parse_args()

    module.env = make_environment(args.scratch, args.outpostd, args.outpostctl)
    loader = unittest.TestLoader()
    if args.tests:
        suite = loader.loadTestsFromNames(args.tests, module)
    else:
        suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls)
                                   for cls in module.TEST_CLASSES)
    try:
        result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    finally:
        stop_all()
    if result.wasSuccessful():
        return 0
    if report is not None:
        report(result)
    else:
        print("\n==== outpostd log (%s) ====" % module.env.daemon.log_path, file=sys.stderr)
        print(tail(module.env.daemon.read_log(), 200), file=sys.stderr)
    return 1
