#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of DKIM key rotation. A new key waits until outpostctl dns
publish puts its record in knot, then signs. The old key's record stays for the
grace period, after which it is published empty, which revokes the key.
dkimpy checks the signatures, Ed25519 ones too, against the records in knot.

run-integration.sh runs this inside a private network namespace.
"""

import base64
import os
import smtplib
import ssl
import sys
import time
import unittest

import dkim

import harness

ZONE = "rotate.test"
SERVER = "%s:%d" % (harness.DNS_ADDRESS, harness.DNS_PORT)
KEY = ("outpost-key", "hmac-sha256", base64.b64encode(os.urandom(32)).decode("ascii"))
SENDER = "anna@" + ZONE
PASSWORD = "rotation-test-password"
RECIPIENT = "user@accept.test"
# Short enough for the test to see each step, long enough to be a real wait.
GRACE = 6
CHECK_INTERVAL = 1

env = None


class Environment:
    def __init__(self, scratch, outpostd, outpostctl):
        zones = dict(harness.ZONES)
        zones[ZONE] = []
        self.knot = harness.KnotServer(os.path.join(scratch, "dns"), zones=zones,
                                       tsig_key=KEY, update_zones=[ZONE])
        self.recipient = harness.RecipientServer(scratch, "127.0.0.2")
        self.daemon = harness.Outpostd(
            outpostd, outpostctl, os.path.join(scratch, "outpostd"),
            extra_args=["--dkim-grace", str(GRACE),
                        "--dkim-check-interval", str(CHECK_INTERVAL)])
        for directory in (self.knot.directory, self.daemon.directory):
            os.makedirs(directory, exist_ok=True)

    def start(self):
        self.knot.start()
        self.recipient.start()
        self.daemon.start()

    def ctl(self, *args, **kwargs):
        return self.daemon.ctl(*args, **kwargs)

    def publish(self):
        self.ctl("dns", "publish", ZONE, "--server", SERVER, "--tsig", "%s:%s:%s" % KEY)

    def keys(self):
        return {key["selector"]: key for key in self.daemon.ctl_json("dkim", "list", ZONE)}


def send(token):
    """Submit one message and return the raw message the recipient server got."""
    body = ("From: <%s>\r\nTo: <%s>\r\nSubject: rotation %s\r\n"
            "Message-ID: <%s@rotate.test>\r\n\r\nbody %s\r\n"
            % (SENDER, RECIPIENT, token, token, token))
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with smtplib.SMTP("127.0.0.1", harness.SUBMISSION_PORT, timeout=20) as session:
        session.starttls(context=context)
        session.login(SENDER, PASSWORD)
        session.sendmail(SENDER, [RECIPIENT], body.encode("ascii"))
    _, raw = env.recipient.wait_for_message(
        lambda envelope, raw: b"rotation %s" % token.encode() in raw, 30, "message " + token)
    return raw


def signatures(raw):
    """Return the s= and a= tags of each DKIM-Signature field, top to bottom."""
    found = []
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    unfolded = headers.replace("\r\n\t", " ").replace("\r\n ", " ")
    for line in unfolded.split("\r\n"):
        if line.lower().startswith("dkim-signature:"):
            tags = {}
            for item in line.split(":", 1)[1].split(";"):
                if "=" in item:
                    name, value = item.split("=", 1)
                    tags[name.strip()] = value.strip()
            found.append((tags.get("s"), tags.get("a")))
    return found


def verify_all(raw):
    """Verify every DKIM signature of raw with dkimpy; return how many verified."""
    verifier = dkim.DKIM(raw)
    count = len(signatures(raw))
    for index in range(count):
        if not verifier.verify(idx=index, dnsfunc=harness.dkim_dns_txt):
            return index
    return count


class RotationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env.start()
        env.ctl("domain", "add", ZONE)
        env.ctl("account", "add", SENDER, "--password-stdin", input_text=PASSWORD + "\n")
        env.publish()

    def setUp(self):
        env.daemon.process.check_running()

    def wait_for_state(self, selector, state, timeout=20):
        harness.wait_for(lambda: env.keys().get(selector, {}).get("state") == state, timeout,
                         "DKIM key %s to become %s" % (selector, state))

    def test_1_rotation_waits_for_dns_then_switches(self):
        (old,) = env.keys()
        self.assertEqual(env.keys()[old]["state"], "active")
        result = env.ctl("dkim", "rotate", ZONE, "--json")
        new = result.stdout.split('"')[1]
        self.assertNotEqual(new, old)
        self.assertEqual(env.keys()[new]["state"], "pending")

        # Unpublished, the new key neither signs nor can be activated.
        time.sleep(CHECK_INTERVAL * 3)
        self.assertEqual(env.keys()[new]["state"], "pending")
        raw = send("before-publish")
        self.assertEqual(signatures(raw), [(old, "rsa-sha256")])
        self.assertEqual(verify_all(raw), 1)
        signed_with_old = raw
        rejected = env.ctl("dkim", "activate", ZONE, new, check=False)
        self.assertNotEqual(rejected.returncode, 0)
        self.assertIn("does not show the new DKIM key yet", rejected.stderr)

        # Both records are generated; once published, the daemon switches.
        names = {r["name"] for r in env.daemon.ctl_json("dns", "records", ZONE)}
        self.assertIn("%s._domainkey.%s." % (old, ZONE), names)
        self.assertIn("%s._domainkey.%s." % (new, ZONE), names)
        env.publish()
        self.wait_for_state(new, "active")
        self.assertEqual(env.keys()[old]["state"], "retiring")
        self.assertIn("removed-after", env.keys()[old])
        raw = send("after-publish")
        self.assertEqual(signatures(raw), [(new, "rsa-sha256")])
        self.assertEqual(verify_all(raw), 1)

        # After the grace period the old key and its record go.
        harness.wait_for(lambda: old not in env.keys(), GRACE + 15, "the old key to go")
        # Its record now revokes it with an empty key, and once that is
        # published, mail signed with the removed key no longer verifies.
        records = {r["name"]: r["value"] for r in env.daemon.ctl_json("dns", "records", ZONE)}
        self.assertEqual(records["%s._domainkey.%s." % (old, ZONE)], '"v=DKIM1; p="')
        key_files = os.listdir(os.path.join(env.daemon.state_dir, "dkim"))
        self.assertFalse([name for name in key_files if ".%s." % old in name], key_files)
        env.publish()
        self.assertEqual(verify_all(signed_with_old), 0)
        reused = env.ctl("domain", "set", ZONE, "--dkim-selector=" + old, check=False)
        self.assertNotEqual(reused.returncode, 0)
        self.assertIn("belonged to a removed key", reused.stderr)

    def test_2_ed25519_signs_beside_rsa(self):
        result = env.ctl("dkim", "rotate", ZONE, "--algorithm=ed25519", "--json")
        selector = result.stdout.split('"')[1]
        env.publish()
        self.wait_for_state(selector, "active")
        raw = send("dual")
        found = signatures(raw)
        self.assertEqual([a for _, a in found], ["rsa-sha256", "ed25519-sha256"])
        self.assertEqual(found[1][0], selector)
        self.assertEqual(verify_all(raw), 2, "dkimpy did not verify both signatures")

    def test_3_selector_setting_starts_rotation(self):
        env.ctl("domain", "set", ZONE, "--dkim-selector=chosen2026")
        self.assertEqual(env.keys()["chosen2026"]["state"], "pending")
        busy = env.ctl("dkim", "rotate", ZONE, check=False)
        self.assertNotEqual(busy.returncode, 0)
        self.assertIn("already has a new DKIM key waiting (selector chosen2026)", busy.stderr)
        duplicate = env.ctl("domain", "set", ZONE, "--dkim-selector=chosen2026", check=False)
        self.assertNotEqual(duplicate.returncode, 0)
        # Forcing switches before the record is out; removing the pending key
        # instead cancels the rotation.
        env.ctl("dkim", "remove", ZONE, "chosen2026")
        self.assertNotIn("chosen2026", env.keys())
        active = [s for s, k in env.keys().items()
                  if k["state"] == "active" and k["algorithm"] == "rsa-sha256"]
        rejected = env.ctl("dkim", "remove", ZONE, active[0], check=False)
        self.assertNotEqual(rejected.returncode, 0)
        self.assertIn("signs the mail of %s" % ZONE, rejected.stderr)
        env.ctl("domain", "set", ZONE, "--dkim-selector=forced1")
        env.ctl("dkim", "activate", ZONE, "forced1", "--force")
        self.assertEqual(env.keys()["forced1"]["state"], "active")

    def test_4_unusable_record_not_activated(self):
        result = env.ctl("dkim", "rotate", ZONE, "--json")
        selector = result.stdout.split('"')[1]
        record = [r for r in env.daemon.ctl_json("dns", "records", ZONE)
                  if r["name"].startswith(selector + ".")][0]
        owner = record["name"]
        # A verifier skips a record of another DKIM version, and may take any
        # of several records at the name.
        wrong = record["value"].replace("v=DKIM1", "v=DKIM2", 1)
        env.knot.set_records(ZONE, [(owner, 300, "TXT", wrong)])
        rejected = env.ctl("dkim", "activate", ZONE, selector, check=False)
        self.assertIn("unusable record", rejected.stderr)
        env.knot.knotc("zone-begin", ZONE)
        env.knot.knotc("zone-set", ZONE, owner, "300", "TXT", record["value"])
        env.knot.knotc("zone-commit", ZONE)
        rejected = env.ctl("dkim", "activate", ZONE, selector, check=False)
        self.assertIn("more than one record", rejected.stderr)
        self.assertEqual(env.keys()[selector]["state"], "pending")
        env.ctl("dkim", "remove", ZONE, selector)

    def test_5_new_domain_gets_new_selector(self):
        env.ctl("domain", "add", "again.test")
        (first,) = [k["selector"] for k in env.daemon.ctl_json("dkim", "list", "again.test")]
        env.ctl("domain", "remove", "again.test")
        env.ctl("domain", "add", "again.test")
        (second,) = [k["selector"] for k in env.daemon.ctl_json("dkim", "list", "again.test")]
        self.assertNotEqual(first, second)

    def test_bad_input(self):
        cases = [
            (["dkim", "rotate", ZONE, "--algorithm=dsa"], "use rsa (the default) or ed25519"),
            (["domain", "set", ZONE, "--dkim-selector=bad_selector"], "invalid DKIM selector"),
            (["domain", "set", ZONE, "--dkim-selector=" + "a" * 64], "invalid DKIM selector"),
            (["dkim", "activate", ZONE, "nosuchkey"], "has no new DKIM key"),
            (["dkim", "list", "unknown.test"], "not managed"),
            (["domain", "set", ZONE, "--dmarc-policy=strict"], "none, quarantine or reject"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                result = env.ctl(*args, check=False)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)


TEST_CLASSES = [RotationTest]


def main():
    return harness.run_tests(sys.modules[__name__], "Outpost DKIM rotation tests",
                             "RotationTest.test_1_rotation_waits_for_dns_then_switches",
                             Environment)


if __name__ == "__main__":
    sys.exit(main())
