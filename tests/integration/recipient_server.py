# SPDX-License-Identifier: GPL-3.0-or-later
"""Recipient SMTP server for the integration tests.

Each instance listens on one loopback address. It stores every message it
accepts as NNNN.eml (the bytes after dot-unstuffing, exactly as received) and
NNNN.json (envelope, TLS state). It also appends one JSON line per SMTP event
to events.jsonl, so a test can see attempts that never reached DATA.

The accept, tempfail and reject modes run aiosmtpd. The modes that misbehave
on purpose (greeting-421, drop-after-dot, reply-injection) need control over
every byte on the wire, so they use a small hand-written server instead.
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

AIOSMTPD_MODES = ["accept", "tempfail", "reject"]
SCRIPTED_MODES = ["greeting-421", "drop-after-dot", "reply-injection"]

# A multiline reply whose last line is a bare code (valid, RFC 5321 §4.2),
# followed in the same write by LF-separated text that must never become
# fields of the sender's queue entry or bounce.
INJECTION_REPLY = b"553-Error\r\n553\r\n\ntype:x\nfield:y"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--store", required=True, help="folder for messages and events")
    parser.add_argument("--mode", choices=AIOSMTPD_MODES + SCRIPTED_MODES, default="accept",
                        help="tempfail: 451 4.3.0 after the first DATA of each Message-ID; "
                             "reject: 550 5.1.1 for every RCPT; "
                             "greeting-421: 421 4.7.0 greeting on the first connection; "
                             "drop-after-dot: close without a reply after the first message; "
                             "reply-injection: INJECTION_REPLY for every RCPT")
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


class MessageStore:
    """The folder of one recipient server: numbered messages and the event log."""

    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.events = open(os.path.join(folder, "events.jsonl"), "a", buffering=1)

    def log_event(self, **fields):
        self.events.write(json.dumps(fields) + "\n")

    def store(self, envelope_fields, raw):
        """Store one message and return the reply text that names it."""
        self.count += 1
        base = os.path.join(self.folder, "%04d" % self.count)
        envelope_fields["message_id"] = header_message_id(raw)
        write_atomically(base + ".eml", raw)
        write_atomically(base + ".json", json.dumps(envelope_fields).encode())
        return "250 2.0.0 OK stored as %04d" % self.count


def reverse_path(envelope):
    return "" if envelope.mail_from == "<>" else envelope.mail_from


class RecipientHandler:
    """aiosmtpd handler for the accept, tempfail and reject modes."""

    def __init__(self, store, mode):
        self.store = store
        self.mode = mode
        self.seen_message_ids = set()

    def log_event(self, server, **fields):
        self.store.log_event(tls=server._tls_protocol is not None, **fields)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # aiosmtpd gives the null reverse-path as "<>" and needs a non-empty
        # mail_from to accept RCPT, so "<>" stays in the envelope and only the
        # stored records use "".
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.log_event(server, event="mail", mail_from=reverse_path(envelope),
                       options=mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.mode == "reject":
            reply = "550 5.1.1 <%s>: mailbox unavailable" % address
        else:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
            reply = "250 2.1.5 OK"
        self.log_event(server, event="rcpt", mail_from=reverse_path(envelope), rcpt=address,
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

        envelope_fields = {
            "mail_from": reverse_path(envelope),
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "helo": session.host_name,
            "tls": server._tls_protocol is not None,
        }
        reply = self.store.store(envelope_fields, raw)
        self.log_event(server, event="data", message_id=message_id, reply=reply)
        return reply


def angle_address(argument):
    """Return the address between < and > in a MAIL or RCPT argument."""
    start = argument.find("<")
    end = argument.find(">", start + 1)
    if start < 0 or end < 0:
        return argument.strip()
    return argument[start + 1:end]


class ScriptedServer:
    """A minimal SMTP server whose misbehaviour is chosen by the mode."""

    def __init__(self, store, mode):
        self.store = store
        self.mode = mode
        self.connections = 0
        self.messages_read = 0

    async def handle(self, reader, writer):
        self.connections += 1
        try:
            await self.converse(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def converse(self, reader, writer):
        if self.mode == "greeting-421" and self.connections == 1:
            self.store.log_event(event="greeting", reply="421")
            writer.write(b"421 4.7.0 too busy, try again later\r\n")
            await writer.drain()
            return

        writer.write(b"220 scripted.test ESMTP\r\n")
        envelope = {"mail_from": None, "rcpt_tos": [], "helo": None, "tls": False}
        while True:
            line = await reader.readuntil(b"\r\n")
            verb, _, argument = line[:-2].decode("ascii", "replace").partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO"):
                envelope["helo"] = argument
                writer.write(b"250-scripted.test\r\n250 8BITMIME\r\n")
            elif verb == "MAIL":
                envelope["mail_from"] = angle_address(argument.partition(":")[2])
                envelope["rcpt_tos"] = []
                self.store.log_event(event="mail", mail_from=envelope["mail_from"])
                writer.write(b"250 2.1.0 OK\r\n")
            elif verb == "RCPT":
                await self.reply_rcpt(writer, envelope, angle_address(argument.partition(":")[2]))
            elif verb == "DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                if not await self.read_message(reader, writer, envelope):
                    return
            elif verb == "QUIT":
                writer.write(b"221 2.0.0 bye\r\n")
                await writer.drain()
                return
            elif verb in ("RSET", "NOOP"):
                writer.write(b"250 2.0.0 OK\r\n")
            else:
                writer.write(b"500 5.5.2 unrecognised command\r\n")
            await writer.drain()

    async def reply_rcpt(self, writer, envelope, address):
        if self.mode == "reply-injection":
            self.store.log_event(event="rcpt", mail_from=envelope["mail_from"], rcpt=address,
                                 reply=INJECTION_REPLY.decode())
            writer.write(INJECTION_REPLY)
            return
        envelope["rcpt_tos"].append(address)
        self.store.log_event(event="rcpt", mail_from=envelope["mail_from"], rcpt=address,
                             reply="250")
        writer.write(b"250 2.1.5 OK\r\n")

    async def read_message(self, reader, writer, envelope):
        """Read one message after 354; return False when the connection must close."""
        lines = []
        while True:
            line = await reader.readuntil(b"\r\n")
            if line == b".\r\n":
                break
            lines.append(line[1:] if line.startswith(b".") else line)
        raw = b"".join(lines)
        self.messages_read += 1
        reply = self.store.store(dict(envelope), raw)
        if self.mode == "drop-after-dot" and self.messages_read == 1:
            # The message is stored but the sender never receives the reply, as
            # when a connection breaks after the final dot (RFC 5321 §6.1).
            self.store.log_event(event="data", message_id=header_message_id(raw),
                                 reply="connection closed")
            return False
        self.store.log_event(event="data", message_id=header_message_id(raw), reply=reply)
        writer.write(reply.encode() + b"\r\n")
        return True


def make_tls_context(cert, key):
    if not cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def start_server(args, store):
    loop = asyncio.get_running_loop()
    if args.mode in SCRIPTED_MODES:
        scripted = ScriptedServer(store, args.mode)
        return await asyncio.start_server(scripted.handle, host=args.address, port=args.port,
                                          reuse_address=True)

    handler = RecipientHandler(store, args.mode)
    tls_context = make_tls_context(args.tls_cert, args.tls_key)

    def make_protocol():
        # An explicit hostname keeps aiosmtpd from calling getfqdn(), a DNS lookup.
        return SMTP(handler, hostname="mx-%s.test" % args.address.replace(".", "-"),
                    tls_context=tls_context, require_starttls=False,
                    enable_SMTPUTF8=True, decode_data=False, loop=loop)

    return await loop.create_server(make_protocol, host=args.address, port=args.port,
                                    reuse_address=True)


async def serve(args):
    os.makedirs(args.store, exist_ok=True)
    server = await start_server(args, MessageStore(args.store))
    with open(args.ready_file, "w") as ready:
        ready.write("%d\n" % os.getpid())

    loop = asyncio.get_running_loop()
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
