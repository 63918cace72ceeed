#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build Outpost and run every meson test suite, then the unit and integration
# suites again in a sanitizer build, and print one summary line
# "N passed, N failed[, N skipped]" counted from both meson test logs.
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

# The unit and integration suites again with AddressSanitizer, its leak
# checker and UndefinedBehaviorSanitizer, which stop at the first error.
# tests/data/lsan.supp names the one leak that is libopendkim's, and full
# stack unwinding on malloc lets the suppression see that library's frames.
sanlog=build-san/meson-logs/testlog.json
if [ -f build-san/build.ninja ]; then
	meson setup --reconfigure build-san >/dev/null
else
	meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
rm -f "$sanlog"
if ! ninja -C build-san >/dev/null; then
	echo "error: the sanitizer build failed" >&2
	meson_status=1
else
	ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:halt_on_error=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions="$PWD/tests/data/lsan.supp" \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-san --suite unit --suite integration --print-errorlogs ||
		meson_status=$?
fi

summary_status=0
/usr/bin/python3 - "$testlog" "$sanlog" <<'EOF' || summary_status=$?
import json
import sys

# meson's result names, from mtest.py TestResult.
PASSED = {"OK", "EXPECTEDFAIL"}
SKIPPED = {"SKIP"}
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        testlog = open(path)
    except FileNotFoundError:
        failed += 1
        print("error: %s is missing" % path, file=sys.stderr)
        continue
    with testlog:
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
