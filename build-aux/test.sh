#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build Outpost and run every meson test suite, then print one summary line
# "N passed, N failed[, N skipped]" counted from build/meson-logs/testlog.json.
# Exits non-zero when a test fails or meson test itself fails.
set -uo pipefail

cd "$(dirname "$0")/.."

if ! bash build-aux/setup.sh; then
	echo "error: build-aux/setup.sh failed; no test was run" >&2
	exit 1
fi

testlog=build/meson-logs/testlog.json
rm -f "$testlog"
meson_status=0
meson test -C build --print-errorlogs || meson_status=$?

if [ ! -f "$testlog" ]; then
	echo "error: meson test wrote no $testlog (status $meson_status)" >&2
	exit 1
fi

summary_status=0
/usr/bin/python3 - "$testlog" <<'EOF' || summary_status=$?
import json
import sys

# meson's result names, from mtest.py TestResult.
PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}
passed = failed = skipped = 0
with open(sys.argv[1]) as testlog:
    for line in testlog:
        if not line.strip():
            continue
        result = json.loads(line)["result"]
        if result in PASSED:
            passed += 1
        elif result in SKIPPED:
            skipped += 1
        else:
            failed += 1
summary = "%d passed, %d failed" % (passed, failed)
if skipped:
    summary += ", %d skipped" % skipped
print(summary)
sys.exit(1 if failed else 0)
EOF

if [ "$meson_status" != 0 ] || [ "$summary_status" != 0 ]; then
	exit 1
fi
