#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cross-check of Outpost's SPF evaluator with pyspf, an independent one.

Each scenario of tests/data/spf/rfc7208.json is served by knot on
127.0.0.1:5353, and its cases run through spf-eval (Outpost's evaluator over
its ldns resolver) and through pyspf (python3-spf over a dnspython resolver
pointed at knot, never at /etc/resolv.conf). The two must agree, and agree
with the expected result. Knot cannot time out on purpose, so names marked
TIMEOUT are left out (NXDOMAIN) and cases that expect temperror are skipped,
as are cases marked "crosscheck": false.
"""

import json
import os
import subprocess
import sys
import unittest

import dns.resolver

import harness

DATA = os.path.join(harness.HERE, "..", "data", "spf", "rfc7208.json")
ZONE_APEXES = ["example.com", "example.net", "example.org", "in-addr.arpa", "ip6.arpa"]

# Point dnspython's default resolver, which pyspf uses for every query, at knot
# before spf is imported. configure=False keeps /etc/resolv.conf unread.
RESOLVER = dns.resolver.Resolver(configure=False)
RESOLVER.nameservers = [harness.DNS_ADDRESS]
RESOLVER.port = harness.DNS_PORT
RESOLVER.lifetime = 5
dns.resolver.default_resolver = RESOLVER

import spf  # noqa: E402  (python3-spf, after the resolver is set)

env = None


def zone_text(value):
    """Return TXT character-strings in zone-file form (RFC 1035 §5.1)."""
    strings = value if isinstance(value, list) else [value]
    quoted = []
    for string in strings:
        out = []
        for char in string:
            if char in '"\\':
                out.append("\\" + char)
            elif ord(char) < 0x20 or ord(char) > 0x7e:
                out.append("\\%03d" % ord(char))
            else:
                out.append(char)
        quoted.append('"%s"' % "".join(out))
    return " ".join(quoted)


def zone_records(name, record):
    """Return the zone-file line of one JSON record, or None for TIMEOUT."""
    if record == "TIMEOUT":
        return None
    (rdtype, value), = record.items()
    owner = name.rstrip(".") + "."
    if rdtype == "TXT":
        return "%s TXT %s" % (owner, zone_text(value))
    if rdtype == "SPF":
        return "%s TYPE99 %s" % (owner, zone_text(value))
    if rdtype == "MX":
        return "%s MX %d %s." % (owner, value[0], value[1].rstrip("."))
    if rdtype == "PTR":
        return "%s PTR %s." % (owner, value.rstrip("."))
    return "%s %s %s" % (owner, rdtype, value)


def scenario_zones(data, scenario):
    """Group a scenario's records into knot zones and return {apex: [lines]}."""
    names = {}
    sources = [scenario["zonedata"]]
    if "zone" in scenario:
        sources.append(data["zones"][scenario["zone"]])
    for source in sources:
        for name, records in source.items():
            names.setdefault(name.lower().rstrip("."), []).extend(records)
    zones = {apex: [] for apex in ZONE_APEXES}
    for name, records in names.items():
        # Names with '@' or '%' stay out of the zone files, and so do their cases.
        if "@" in name or "%" in name:
            continue
        apex = next((a for a in ZONE_APEXES if name == a or name.endswith("." + a)), None)
        if apex is None or "TIMEOUT" in records:
            continue
        for record in records:
            zones[apex].append(zone_records(name, record))
    return zones


def run_outpost(cases):
    """Return [(result, explanation)] from spf-eval for (host, mailfrom, helo) cases."""
    lines = "".join("%s\t%s\t%s\n" % case for case in cases)
    output = subprocess.run([os.environ["OUTPOST_SPF_EVAL"], "%s:%d" % (
        harness.DNS_ADDRESS, harness.DNS_PORT)], input=lines, capture_output=True,
        text=True, timeout=300, check=True)
    results = [tuple(line.split("\t", 1)) for line in output.stdout.splitlines()]
    if len(results) != len(cases):
        raise AssertionError("spf-eval returned %d results for %d cases: %s"
                             % (len(results), len(cases), output.stderr))
    return results


def run_pyspf(host, mailfrom, helo):
    assert dns.resolver.get_default_resolver() is RESOLVER
    try:
        result, explanation = spf.check2(i=host, s=mailfrom, h=helo)
    except Exception as error:  # pylint: disable=broad-except
        return "raised %s" % type(error).__name__, ""
    return result.lower(), explanation


class Environment:
    def __init__(self, scratch):
        self.scratch = scratch
        with open(DATA) as data_file:
            self.data = json.load(data_file)


class SpfCrossCheck(unittest.TestCase):
    def test_agree_with_pyspf(self):
        compared = 0
        disagreements = []
        for index, scenario in enumerate(env.data["scenarios"]):
            cases = [case for case in scenario["tests"]
                     if case.get("crosscheck", True) and case["result"] != "temperror"]
            if not cases:
                continue
            knot = harness.KnotServer(os.path.join(env.scratch, "dns-%d" % index),
                                      zones=scenario_zones(env.data, scenario))
            os.makedirs(knot.directory, exist_ok=True)
            knot.start()
            try:
                ours = run_outpost([(c["host"], c["mailfrom"], c["helo"]) for c in cases])
                for case, (result, _) in zip(cases, ours):
                    theirs, _ = run_pyspf(case["host"], case["mailfrom"], case["helo"])
                    expected = case["result"]
                    expected = expected if isinstance(expected, list) else [expected]
                    compared += 1
                    if result != theirs or result not in expected:
                        disagreements.append("%s/%s: outpost %s, pyspf %s, expected %s" % (
                            scenario["name"], case["name"], result, theirs,
                            "/".join(expected)))
            finally:
                knot.stop()
        print("compared %d cases with pyspf %s" % (compared, spf.__version__),
              file=sys.stderr)
        self.assertGreaterEqual(compared, 150)
        self.assertEqual(disagreements, [], "\n".join(disagreements))


TEST_CLASSES = [SpfCrossCheck]


def make_environment(scratch, outpostd, outpostctl):
    os.makedirs(scratch, exist_ok=True)
    return Environment(scratch)


def report(result):
    print("knot logs are in the scratch folder", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(harness.run_tests(sys.modules[__name__], __doc__,
                               "SpfCrossCheck.test_agree_with_pyspf", make_environment,
                               report))
