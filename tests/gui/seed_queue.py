# SPDX-License-Identifier: GPL-3.0-or-later
"""Submit COUNT messages with STARTTLS and AUTH to fill the queue for the
GUI tests. Usage: seed_queue.py HOST PORT USER PASSWORD COUNT"""

import smtplib
import ssl
import sys

host, port, user, password, count = sys.argv[1:6]
# The daemon's certificate is self-signed in the test state folder.
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP(host, int(port), local_hostname="client.test", timeout=20) as session:
    session.starttls(context=context)
    session.login(user, password)
    for number in range(int(count)):
        recipient = "reader%d@unreachable%d.example" % (number, number % 3)
        body = ("From: <%s>\r\nTo: <%s>\r\nSubject: Order %d\r\n"
                "Message-ID: <order-%d@seed.example>\r\n\r\nOrder confirmation.\r\n"
                % (user, recipient, number, number))
        session.sendmail(user, [recipient], body.encode("ascii"))
