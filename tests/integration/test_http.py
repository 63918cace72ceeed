#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""End-to-end tests of outpostd's HTTP endpoint: Thunderbird autoconfig,
Outlook autodiscover, the Apple profile and the MTA-STS policy, fetched with
curl over HTTPS from a running outpostd, with the Host headers clients send.

XML responses are validated with xmllint against the schemas in
tests/data/schemas, and every value is compared with the daemon's settings.
run-integration.sh runs this inside a private network namespace; run alone it
would bind ports 10443, 10080, 10587 and 10465 on 127.0.0.1.
"""

import hashlib
import http.client
import json
import os
import plistlib
import re
import shutil
import ssl
import subprocess
import sys
import unittest

import harness

HTTPS_PORT = 10443
HTTP_PORT = 10080
BASE = "https://127.0.0.1:%d" % HTTPS_PORT
DOMAIN = "example.org"
ACCOUNT = "anna@" + DOMAIN
PASSWORD = "correct horse battery staple"
IMAP_SERVER = ("imap.example.org", 993)
# A managed domain without an incoming server, and one that is disabled.
BARE_DOMAIN = "bare.example"
DISABLED_DOMAIN = "disabled.example"
SCHEMAS = os.path.join(os.path.dirname(harness.HERE), "data", "schemas")
AUTOCONFIG_XSD = os.path.join(SCHEMAS, "autoconfig-clientconfig-1.1.xsd")
AUTODISCOVER_XSD = os.path.join(SCHEMAS, "autodiscover-response.xsd")
BUS_PATH = "/io/github/outpostmail/Outpost1"
INTERFACE = "io.github.outpostmail.Outpost1.Manager"
REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"

env = None


def autodiscover_request(address):
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<Autodiscover xmlns="%s">\n'
            '  <Request>\n'
            '    <EMailAddress>%s</EMailAddress>\n'
            '    <AcceptableResponseSchema>%s</AcceptableResponseSchema>\n'
            '  </Request>\n'
            '</Autodiscover>\n' % (REQUEST_NS, address, OUTLOOK_NS))


class Environment:
    """outpostd with HTTPS and plain HTTP listeners and one managed domain."""

    def __init__(self, scratch, outpostd, outpostctl):
        self.scratch = scratch
        self.daemon = harness.Outpostd(outpostd, outpostctl, os.path.join(scratch, "outpostd"),
                                       ["--https", "127.0.0.1:%d" % HTTPS_PORT,
                                        "--http", "127.0.0.1:%d" % HTTP_PORT])

    def start(self):
        missing = [tool for tool in ("curl", "xmllint", "openssl") if not shutil.which(tool)]
        if missing:
            raise AssertionError("missing test tools: %s; run build-aux/setup.sh as root"
                                 % " ".join(missing))
        os.makedirs(self.daemon.directory, exist_ok=True)
        self.daemon.start()
        for domain in (DOMAIN, BARE_DOMAIN, DISABLED_DOMAIN):
            self.daemon.ctl("domain", "add", domain)
        for address in (ACCOUNT, "bob@" + BARE_DOMAIN, "carl@" + DISABLED_DOMAIN):
            self.daemon.ctl("account", "add", address, "--password-stdin",
                            input_text=PASSWORD + "\n")
        self.set_domain(DOMAIN, "{'imap-server': <'%s:%d'>}" % IMAP_SERVER)
        self.set_domain(DISABLED_DOMAIN, "{'imap-server': <'imap.disabled.example:993'>}")
        self.daemon.ctl("domain", "set", DISABLED_DOMAIN, "--enabled=no")

    def set_domain(self, domain, settings):
        result = subprocess.run(["gdbus", "call", "--session", "--dest", harness.BUS_NAME,
                                 "--object-path", BUS_PATH, "--method",
                                 INTERFACE + ".SetDomainSettings", domain, settings],
                                capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise AssertionError("SetDomainSettings %s failed: %s" % (domain, result.stderr))

    def stop(self):
        harness.stop_all()


def setUpModule():
    env.start()


def tearDownModule():
    env.stop()


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")


def curl(path, host, base=BASE, data=None, extra=()):
    """Fetch base + path with curl and the given Host header; return a Reply."""
    argv = ["curl", "--silent", "--show-error", "--insecure", "--max-time", "20",
            "--noproxy", "*", "--dump-header", "-", "-H", "Host: " + host]
    if data is not None:
        argv += ["--data-binary", "@-", "-H", "Content-Type: text/xml"]
    argv += list(extra) + [base + path]
    result = subprocess.run(argv, input=data, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError("curl %s (Host %s) failed: %s"
                             % (path, host, result.stderr.decode(errors="replace")))
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    # A "100 Continue" comes before the final response's headers.
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(status, headers, body)


def validate(test, body, schema):
    path = os.path.join(env.scratch, "answer.xml")
    with open(path, "wb") as output:
        output.write(body)
    result = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", schema, path],
                            capture_output=True, text=True, timeout=30)
    test.assertEqual(result.returncode, 0, "%s does not validate against %s: %s"
                     % (body.decode(errors="replace"), os.path.basename(schema), result.stderr))


def element_text(root, path, namespaces=None):
    node = root.find(path, namespaces or {})
    return None if node is None else node.text


class AutoconfigTest(unittest.TestCase):
    """Thunderbird's clientConfig, on autoconfig.DOMAIN and on DOMAIN."""

    def check_config(self, reply):
        import xml.etree.ElementTree as ElementTree

        self.assertEqual(reply.status, 200, reply.text)
        self.assertTrue(reply.headers.get("content-type", "").startswith("application/xml"))
        validate(self, reply.body, AUTOCONFIG_XSD)
        root = ElementTree.fromstring(reply.body)
        provider = root.find("emailProvider")
        self.assertEqual(provider.get("id"), DOMAIN)
        self.assertEqual(element_text(provider, "domain"), DOMAIN)
        incoming = provider.findall("incomingServer")
        self.assertEqual(len(incoming), 1)
        self.assertEqual(incoming[0].get("type"), "imap")
        self.assertEqual(element_text(incoming[0], "hostname"), IMAP_SERVER[0])
        self.assertEqual(element_text(incoming[0], "port"), str(IMAP_SERVER[1]))
        self.assertEqual(element_text(incoming[0], "socketType"), "SSL")
        outgoing = provider.findall("outgoingServer")
        self.assertEqual([(element_text(s, "port"), element_text(s, "socketType"))
                          for s in outgoing], [("587", "STARTTLS"), ("465", "SSL")])
        for server in incoming + outgoing:
            self.assertEqual(element_text(server, "username"), "%EMAILADDRESS%")
            self.assertEqual(element_text(server, "authentication"), "password-cleartext")
        for server in outgoing:
            self.assertEqual(element_text(server, "hostname"), harness.HOSTNAME)

    def test_autoconfig_host(self):
        self.check_config(curl("/mail/config-v1.1.xml?emailaddress=anna%40example.org",
                               "autoconfig." + DOMAIN))

    def test_well_known_on_domain(self):
        self.check_config(curl("/.well-known/autoconfig/mail/config-v1.1.xml", DOMAIN))

    def test_unknown_account_same_response(self):
        # The response depends on the domain only, so it reveals no account.
        known = curl("/mail/config-v1.1.xml?emailaddress=anna%40example.org",
                     "autoconfig." + DOMAIN)
        unknown = curl("/mail/config-v1.1.xml?emailaddress=nobody%40example.org",
                       "autoconfig." + DOMAIN)
        self.assertEqual(unknown.status, 200)
        self.assertEqual(unknown.body, known.body)

    def test_not_served(self):
        cases = [
            ("/mail/config-v1.1.xml?emailaddress=a%40unknown.example",
             "autoconfig.unknown.example", 404),
            ("/mail/config-v1.1.xml", "autoconfig.unknown.example", 404),
            # An address of another domain on this domain's host.
            ("/mail/config-v1.1.xml?emailaddress=a%40other.example", "autoconfig." + DOMAIN,
             404),
            ("/mail/config-v1.1.xml?emailaddress=a%40" + DISABLED_DOMAIN,
             "autoconfig." + DISABLED_DOMAIN, 404),
            ("/mail/config-v1.1.xml?emailaddress=not-an-address", "autoconfig." + DOMAIN, 400),
            ("/mail/config-v1.1.xml", "mta-sts." + DOMAIN, 404),
            ("/etc/passwd", "autoconfig." + DOMAIN, 404),
            ("/", DOMAIN, 404),
        ]
        for path, host, status in cases:
            with self.subTest(path=path, host=host):
                self.assertEqual(curl(path, host).status, status)

    def test_plain_http_off_by_default(self):
        reply = curl("/mail/config-v1.1.xml", "autoconfig." + DOMAIN,
                     base="http://127.0.0.1:%d" % HTTP_PORT)
        self.assertEqual(reply.status, 404)


class AutodiscoverTest(unittest.TestCase):
    """Outlook's POX autodiscover, on autodiscover.DOMAIN and on DOMAIN."""

    def post(self, body, host="autodiscover." + DOMAIN, path="/AutoDiscover/AutoDiscover.xml"):
        return curl(path, host, data=body.encode() if isinstance(body, str) else body)

    def test_valid_request(self):
        import xml.etree.ElementTree as ElementTree

        for host, path in (("autodiscover." + DOMAIN, "/AutoDiscover/AutoDiscover.xml"),
                           (DOMAIN, "/autodiscover/autodiscover.xml")):
            with self.subTest(host=host):
                reply = self.post(autodiscover_request(ACCOUNT), host, path)
                self.assertEqual(reply.status, 200, reply.text)
                validate(self, reply.body, AUTODISCOVER_XSD)
                root = ElementTree.fromstring(reply.body)
                ns = {"r": RESPONSE_NS, "o": OUTLOOK_NS}
                protocols = root.findall("o:Response/o:Account/o:Protocol", ns)
                found = {element_text(p, "o:Type", ns): p for p in protocols}
                self.assertEqual(sorted(found), ["IMAP", "SMTP"])
                smtp = found["SMTP"]
                self.assertEqual(element_text(smtp, "o:Server", ns), harness.HOSTNAME)
                self.assertEqual(element_text(smtp, "o:Port", ns), "587")
                self.assertEqual(element_text(smtp, "o:Encryption", ns), "TLS")
                self.assertEqual(element_text(smtp, "o:LoginName", ns), ACCOUNT)
                imap = found["IMAP"]
                self.assertEqual(element_text(imap, "o:Server", ns), IMAP_SERVER[0])
                self.assertEqual(element_text(imap, "o:Port", ns), str(IMAP_SERVER[1]))
                self.assertEqual(element_text(imap, "o:Encryption", ns), "SSL")

    def test_unknown_domain(self):
        reply = self.post(autodiscover_request("a@unknown.example"), "autodiscover.unknown.example")
        self.assertEqual(reply.status, 404)
        # Asked on a managed domain's host about another domain.
        reply = self.post(autodiscover_request("a@unknown.example"))
        self.assertEqual(reply.status, 404)

    def test_malformed_request(self):
        for body in ["", "not xml", "<Autodiscover><Request>",
                     "<Autodiscover><Request><EMailAddress>&x;</EMailAddress></Request>"
                     "</Autodiscover>"]:
            with self.subTest(body=body):
                self.assertEqual(self.post(body).status, 400)
        self.assertEqual(curl("/", DOMAIN).status, 404, "outpostd stopped answering")

    def test_external_entity(self):
        secret_path = os.path.join(env.scratch, "secret.txt")
        secret = "entity-secret-4711@example.org"
        with open(secret_path, "w") as output:
            output.write(secret)
        body = ('<?xml version="1.0"?>\n'
                '<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "file://%s">]>\n'
                '<Autodiscover xmlns="%s"><Request><EMailAddress>&x;</EMailAddress>'
                '</Request></Autodiscover>\n' % (secret_path, REQUEST_NS))
        reply = self.post(body)
        self.assertEqual(reply.status, 400)
        self.assertNotIn(secret, reply.text)
        self.assertNotIn(secret, env.daemon.read_log())

    def test_over_size_limit(self):
        padding = " " * 20000
        body = autodiscover_request(ACCOUNT).replace("<Request>", "<Request>" + padding)
        reply = self.post(body)
        self.assertIn(reply.status, (413, 400))
        chunked = curl("/autodiscover/autodiscover.xml", "autodiscover." + DOMAIN,
                       data=body.encode(), extra=["-H", "Transfer-Encoding: chunked"])
        self.assertIn(chunked.status, (413, 400))
        self.assertEqual(self.post(autodiscover_request(ACCOUNT)).status, 200)

    def test_get_not_allowed(self):
        reply = curl("/autodiscover/autodiscover.xml", "autodiscover." + DOMAIN)
        self.assertEqual(reply.status, 405)
        self.assertEqual(reply.headers.get("allow"), "POST")


class MtaStsTest(unittest.TestCase):
    """The MTA-STS policy on mta-sts.DOMAIN, and its id in the DNS records."""

    def test_policy_matches_txt_record(self):
        reply = curl("/.well-known/mta-sts.txt", "mta-sts." + DOMAIN)
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers.get("content-type"), "text/plain")
        self.assertEqual(reply.text, "version: STSv1\r\nmode: testing\r\nmx: %s\r\n"
                         "max_age: 604800\r\n" % harness.HOSTNAME)
        records = env.daemon.ctl_json("dns", "records", DOMAIN)
        txt = [r["value"] for r in records if r["name"] == "_mta-sts.%s." % DOMAIN]
        self.assertEqual(len(txt), 1)
        policy_id = hashlib.sha256(reply.body).hexdigest()[:20]
        self.assertEqual(txt[0], '"v=STSv1; id=%s"' % policy_id)
        names = {(r["name"], r["type"]) for r in records}
        self.assertIn(("_autodiscover._tcp.%s." % DOMAIN, "SRV"), names)
        self.assertIn(("_submission._tcp.%s." % DOMAIN, "SRV"), names)
        self.assertIn(("_submissions._tcp.%s." % DOMAIN, "SRV"), names)
        self.assertIn(("_smtp._tls.%s." % DOMAIN, "TXT"), names)

    def test_not_served(self):
        cases = [("mta-sts.unknown.example", BASE), ("mta-sts." + DISABLED_DOMAIN, BASE),
                 (DOMAIN, BASE), ("autoconfig." + DOMAIN, BASE),
                 # RFC 8461 §3.3: HTTPS only.
                 ("mta-sts." + DOMAIN, "http://127.0.0.1:%d" % HTTP_PORT)]
        for host, base in cases:
            with self.subTest(host=host, base=base):
                self.assertEqual(curl("/.well-known/mta-sts.txt", host, base=base).status, 404)


def read_signed_profile(test, data):
    """Return the property list inside a CMS-signed profile."""
    path = os.path.join(env.scratch, "profile.der")
    with open(path, "wb") as output:
        output.write(data)
    result = subprocess.run(["openssl", "cms", "-verify", "-noverify", "-inform", "DER",
                             "-in", path], capture_output=True, timeout=30)
    test.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
    return plistlib.loads(result.stdout)


class ProfileTest(unittest.TestCase):
    """The Apple profile: from outpostctl and from its URL."""

    def check_profile(self, profile):
        self.assertEqual(profile["PayloadType"], "Configuration")
        self.assertEqual(profile["PayloadVersion"], 1)
        for key in ("PayloadIdentifier", "PayloadUUID", "PayloadDisplayName"):
            self.assertTrue(profile.get(key), key)
        self.assertEqual(len(profile["PayloadContent"]), 1)
        mail = profile["PayloadContent"][0]
        expected = {
            "PayloadType": "com.apple.mail.managed",
            "PayloadVersion": 1,
            "EmailAccountType": "EmailTypeIMAP",
            "EmailAddress": ACCOUNT,
            "IncomingMailServerHostName": IMAP_SERVER[0],
            "IncomingMailServerPortNumber": IMAP_SERVER[1],
            "IncomingMailServerUseSSL": True,
            "IncomingMailServerUsername": ACCOUNT,
            "IncomingMailServerAuthentication": "EmailAuthPassword",
            "OutgoingMailServerHostName": harness.HOSTNAME,
            "OutgoingMailServerPortNumber": 587,
            "OutgoingMailServerUseSSL": True,
            "OutgoingMailServerUsername": ACCOUNT,
            "OutgoingMailServerAuthentication": "EmailAuthPassword",
        }
        for key, value in expected.items():
            self.assertEqual(mail.get(key), value, key)
        self.assertNotIn("IncomingPassword", mail)
        self.assertNotIn("OutgoingPassword", mail)

    def test_profile_from_outpostctl_and_url(self):
        argv = [env.daemon.ctl_binary, "--session-bus", "account", "profile", ACCOUNT]
        exported = subprocess.run(argv, capture_output=True, timeout=30)
        self.assertEqual(exported.returncode, 0, exported.stderr.decode(errors="replace"))
        profile = read_signed_profile(self, exported.stdout)
        self.check_profile(profile)

        settings = env.daemon.ctl_json("account", "client-settings", ACCOUNT)
        url = settings["profile-url"]
        match = re.fullmatch(r"https://%s:%d(/profile/[0-9a-f]{32}\.mobileconfig)"
                             % (re.escape(harness.HOSTNAME), HTTPS_PORT), url)
        self.assertIsNotNone(match, url)
        reply = curl(match.group(1), harness.HOSTNAME)
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers.get("content-type"), "application/x-apple-aspen-config")
        self.assertEqual(read_signed_profile(self, reply.body), profile)
        # The same token on the domain's own autoconfig host works too.
        self.assertEqual(curl(match.group(1), "autoconfig." + DOMAIN).status, 200)
        self.assertEqual(curl(match.group(1), "autoconfig." + BARE_DOMAIN).status, 404)

    def test_client_settings_values(self):
        settings = env.daemon.ctl_json("account", "client-settings", ACCOUNT)
        self.assertEqual(settings["smtp-host"], harness.HOSTNAME)
        self.assertEqual((settings["smtp-port"], settings["smtp-security"]), (587, "starttls"))
        self.assertEqual((settings["smtps-port"], settings["smtps-security"]), (465, "ssl"))
        self.assertEqual(settings["username"], ACCOUNT)
        self.assertEqual((settings["imap-host"], settings["imap-port"]), IMAP_SERVER)
        self.assertEqual(settings["pop3-host"], "")
        self.assertEqual(settings["autoconfig-url"], "https://autoconfig.%s/mail/config-v1.1.xml"
                         "?emailaddress=anna%%40%s" % (DOMAIN, DOMAIN))

    def test_unknown_token(self):
        reply = curl("/profile/%s.mobileconfig" % ("0" * 32), harness.HOSTNAME)
        self.assertEqual(reply.status, 404)

    def test_disabled_account_profile(self):
        address = "dora@" + DOMAIN
        env.daemon.ctl("account", "add", address, "--password-stdin",
                       input_text=PASSWORD + "\n")
        url = env.daemon.ctl_json("account", "client-settings", address)["profile-url"]
        path = url[url.index("/profile/"):]
        self.assertEqual(curl(path, harness.HOSTNAME).status, 200)

        env.daemon.ctl("account", "disable", address)
        self.assertEqual(curl(path, harness.HOSTNAME).status, 404)
        self.assertEqual(curl(path, "autoconfig." + DOMAIN).status, 404)

        env.daemon.ctl("account", "enable", address)
        self.assertEqual(curl(path, harness.HOSTNAME).status, 200)

    def test_domain_without_incoming_server(self):
        result = env.daemon.ctl("account", "profile", "bob@" + BARE_DOMAIN, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("imap-server", result.stderr)


class RateLimitTest(unittest.TestCase):
    """A client that sends too many requests gets 429; others are served."""

    def test_rate_limit(self):
        context = ssl._create_unverified_context()
        statuses = []
        for _ in range(100):
            connection = http.client.HTTPSConnection("127.0.0.1", HTTPS_PORT, timeout=10,
                                                     context=context,
                                                     source_address=("127.0.0.9", 0))
            connection.request("GET", "/.well-known/mta-sts.txt",
                               headers={"Host": "mta-sts." + DOMAIN})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            connection.close()
        self.assertEqual(statuses[0], 200)
        self.assertIn(429, statuses)
        self.assertEqual(curl("/.well-known/mta-sts.txt", "mta-sts." + DOMAIN).status, 200)


TEST_CLASSES = [AutoconfigTest, AutodiscoverTest, MtaStsTest, ProfileTest, RateLimitTest]

if __name__ == "__main__":
    sys.exit(harness.run_tests(sys.modules[__name__], "outpostd's HTTP endpoint",
                               "AutodiscoverTest.test_valid_request", Environment))
