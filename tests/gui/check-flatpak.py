#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the Flatpak manifest: the GNOME runtime 45 or later (45 ships
GTK 4.12 and libadwaita 1.4; the app needs GTK 4.8 and libadwaita 1.2),
the app id and command, a build with -Dgui=enabled, and finish-args that
are exactly the app's sandbox holes and nothing broader.
Usage: check-flatpak.py MANIFEST.json"""

import json
import sys

APP_ID = "io.github.outpostmail.Outpost"
ALLOWED_FINISH_ARGS = {
    "--share=ipc",
    "--socket=wayland",
    "--socket=fallback-x11",
    "--device=dri",
    "--system-talk-name=io.github.outpostmail.Outpost1",
}


def check(manifest):
    problems = []
    if manifest.get("id", manifest.get("app-id")) != APP_ID:
        problems.append("id is %r, expected %r" % (manifest.get("id"), APP_ID))
    if manifest.get("command") != "outpost":
        problems.append("command is %r, expected 'outpost'" % manifest.get("command"))
    if manifest.get("runtime") != "org.gnome.Platform":
        problems.append("runtime is %r, expected org.gnome.Platform" % manifest.get("runtime"))
    if manifest.get("sdk") != "org.gnome.Sdk":
        problems.append("sdk is %r, expected org.gnome.Sdk" % manifest.get("sdk"))
    version = str(manifest.get("runtime-version", ""))
    if not version.isdigit() or int(version) < 45:
        problems.append("runtime-version is %r, expected 45 or later" % version)

    finish_args = manifest.get("finish-args", [])
    for arg in finish_args:
        if arg not in ALLOWED_FINISH_ARGS:
            problems.append("finish-arg %r is not allowed" % arg)
    for arg in sorted(ALLOWED_FINISH_ARGS - set(finish_args)):
        problems.append("finish-arg %r is missing" % arg)

    modules = manifest.get("modules", [])
    app = [m for m in modules if isinstance(m, dict) and m.get("name") == "outpost"]
    if len(app) != 1:
        problems.append("expected one module named 'outpost', found %d" % len(app))
    else:
        commands = " ".join(app[0].get("build-commands", []) + app[0].get("config-opts", []))
        if "-Dgui=enabled" not in commands:
            problems.append("the outpost module does not configure with -Dgui=enabled")
        # The GNOME SDK lacks the daemon's libraries (libopendkim, ldns).
        if "-Ddaemon=false" not in commands:
            problems.append("the outpost module does not configure with -Ddaemon=false")
    return problems


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        manifest = json.load(f)
    problems = check(manifest)
    for problem in problems:
        print("not ok: %s" % problem)
    if not problems:
        print("ok: %s" % sys.argv[1])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
