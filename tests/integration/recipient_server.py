# SPDX-License-Identifier: GPL-3.0-or-later
"""Recipient SMTP server (aiosmtpd) for the integration tests.

Each instance listens on one loopback address and stores every message it
accepts as NNNN.eml (the bytes after dot-unstuffing, exactly as received) and
NNNN.json (envelope, TLS state), plus one JSON line per SMTP event in
events.jsonl, so a test can see attempts that never reached DATA.
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import os
import signal
import ssl

from aiosmtpd.smtp import SMTP


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--store", required=True, help="folder for messages and events")
    parser.add_argument("--mode", choices=["accept", "tempfail", "reject"], default="accept",
                        help="tempfail: 451 4.3.0 after the first DATA of each Message-ID; "
                             "reject: 550 5.1.1 for every RCPT")
    parser.add_argument("--tls-cert", help="PEM certificate: offer STARTTLS")
    parser.add_argument("--tls-key", help="PEM key for --tls-cert")
    parser.add_argument("--ready-file", required=True,
                        help="file created once the socket listens")
    return parser.parse_args()


def write_atomically(path, data):
    """Write data to path through a temporary name so readers never see half a file."""
    temporary = path + ".tmp"
    with open(temporary, "wb") as output:
        output.write(data)
    os.rename(temporary, path)


def header_message_id(raw):
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    return (headers.get("Message-ID") or "").strip()


class RecipientHandler:
    def __init__(self, store, mode):
        self.store = store
        self.mode = mode
        self.count = 0
        self.seen_message_ids = set()
        self.events = open(os.path.join(store, "events.jsonl"), "a", buffering=1)

    def log_event(self, server, **fields):
        fields["tls"] = server._tls_protocol is not None
        self.events.write(json.dumps(fields) + "\n")

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # aiosmtpd returns the null reverse-path as "<>": store it as "".
        if address == "<>":
            address = ""
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.log_event(server, event="mail", mail_from=address, options=mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "reject":
            reply = "550 5.1.1 <%s>: mailbox unavailable" % address
        else:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            reply = "250 2.1.5 OK"
        self.log_event(server, event="rcpt", mail_from=envelope.mail_from, rcpt=address,
                       reply=reply)
        return reply

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content
        message_id = header_message_id(raw)
        if self.mode == "tempfail" and message_id not in self.seen_message_ids:
            # Refuse the first attempt of each message so the sender must retry.
            self.seen_message_ids.add(message_id)
            reply = "451 4.3.0 try again later"
            self.log_event(server, event="data", message_id=message_id, reply=reply)
            return reply

        self.count += 1
        base = os.path.join(self.store, "%04d" % self.count)
        envelope_fields = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "helo": session.host_name,
            "tls": server._tls_protocol is not None,
            "message_id": message_id,
        }
        write_atomically(base + ".eml", raw)
        write_atomically(base + ".json", json.dumps(envelope_fields).encode())
        reply = "250 2.0.0 OK stored as %04d" % self.count
        self.log_event(server, event="data", message_id=message_id, reply=reply)
        return reply


def make_tls_context(cert, key):
    if not cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def serve(args):
    os.makedirs(args.store, exist_ok=True)
    handler = RecipientHandler(args.store, args.mode)
    tls_context = make_tls_context(args.tls_cert, args.tls_key)
    loop = asyncio.get_running_loop()

    def make_protocol():
        # An explicit hostname keeps aiosmtpd from calling getfqdn(), a DNS lookup.
        return SMTP(handler, hostname="mx-%s.test" % args.address.replace(".", "-"),
                    tls_context=tls_context, require_starttls=False,
                    enable_SMTPUTF8=True, decode_data=False, loop=loop)

    server = await loop.create_server(make_protocol, host=args.address, port=args.port,
                                      reuse_address=True)
    with open(args.ready_file, "w") as ready:
        ready.write("%d\n" % os.getpid())

    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    args = parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
