#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drive the admin app through the accessibility tree with dogtail: find
controls by role and accessible name, go to the Domains page through the
sidebar's AT-SPI Selection, click "Add Domain…" and cancel the dialog.
GTK 4.8 implements neither EditableText nor Component.GrabFocus, and it
reports window-relative positions. So no text can be typed through the
tree, and test-gui-app.c adds a domain through the widgets. Prints TAP.
run-gui-tests.sh starts the session bus, outpostd and Xvfb first.
Usage: test-gui-a11y.py OUTPOST"""

import os
import subprocess
import sys
import time

# dogtail refuses to start unless the process looks accessibility-enabled;
# the app itself (GTK 4) needs no module, so it starts without this.
app_env = dict(os.environ)
os.environ["GTK_MODULES"] = "gail:atk-bridge"

# dogtail prints its own log lines, which are not TAP: send them to stderr
# and keep stdout for the TAP stream.
tap = sys.stdout
sys.stdout = sys.stderr

from dogtail import tree  # noqa: E402
from dogtail.config import config  # noqa: E402

DOMAIN = "never-added.example"
config.searchCutoffCount = 20
config.logDebugToFile = False
results = []


def report(ok, name, detail=""):
    results.append(ok)
    line = "%s %d - %s" % ("ok" if ok else "not ok", len(results), name)
    print(line + ("" if ok or not detail else "\n# " + detail), file=tap, flush=True)


def daemon_domains():
    reply = subprocess.run(
        ["gdbus", "call", "--session", "--dest", "io.github.outpostmail.Outpost1",
         "--object-path", "/io/github/outpostmail/Outpost1",
         "--method", "io.github.outpostmail.Outpost1.Manager.ListDomains"],
        capture_output=True, text=True, timeout=30)
    return reply.stdout


def find(node, role, name):
    """Return the first descendant with this role and accessible name."""
    return node.child(roleName=role, name=name)


def wait_until(predicate, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def open_add_domain(app, frame):
    sidebar = find(frame, "list", "Sidebar")
    report(sidebar.childCount == 7, "sidebar lists the seven pages",
           "found %d rows" % sidebar.childCount)
    # A GtkStackSidebar row has no AT-SPI action in GTK 4.8, but the list
    # implements Selection, which is how a screen reader picks a row.
    sidebar.querySelection().selectChild(1)
    seeded = find(frame, "list item", "seed.example")
    report(seeded is not None, "Domains page lists the seeded domain")
    add = find(frame, "push button", "Add Domain…")
    report("click" in add.actions, "Add Domain… button has a click action")
    add.doActionNamed("click")

    dialog = app.child(roleName="dialog", name="Add Domain")
    entry = find(dialog, "text", "Domain name")
    report(entry is not None, "Add Domain dialog asks for the domain name")
    # libadwaita 1.2 names its response buttons by raw and plain label
    # ("_Cancel Cancel"), so match on the end of the name.
    cancel = dialog.findChildren(
        lambda n: n.roleName == "push button" and n.name.endswith("Cancel"))
    report(len(cancel) > 0, "dialog has a Cancel button")
    cancel[0].doActionNamed("click")
    closed = wait_until(lambda: all(c.name != "Add Domain" for c in app.children), 10)
    report(closed, "Cancel closes the dialog")
    report("'%s'" % DOMAIN not in daemon_domains(), "cancelling adds no domain")


def main():
    outpost = sys.argv[1]
    app_process = subprocess.Popen([outpost, "--session-bus"], env=app_env)
    print("1..7", file=tap, flush=True)
    try:
        app = tree.root.application("outpost")
        frame = app.child(roleName="frame", name="Outpost")
        open_add_domain(app, frame)
    except Exception as error:  # A failed search raises; report it as TAP.
        report(False, "accessibility-tree flow", "%s: %s" % (type(error).__name__, error))
    finally:
        app_process.terminate()
        app_process.wait(timeout=10)
    return 0 if all(results) and len(results) == 7 else 1


if __name__ == "__main__":
    sys.exit(main())
