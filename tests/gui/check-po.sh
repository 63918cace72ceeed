#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Check the app's translations. Every file under gui/ that marks a string
# with _(), N_() or ngettext() must be listed in po/POTFILES.in, and every
# listed file must exist. Every catalog in po/LINGUAS must pass
# `msgfmt --check` and, merged with a fresh xgettext template, contain no
# untranslated or fuzzy message.
# Usage: check-po.sh SOURCE_ROOT
set -eu

root=$1
po="$root/po"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/outpost-po.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
failed=0

listed="$scratch/listed"
grep -v -e '^#' -e '^$' "$po/POTFILES.in" | sort >"$listed"
while read -r file; do
	if [ ! -f "$root/$file" ]; then
		echo "not ok: po/POTFILES.in lists $file, which does not exist"
		failed=1
	fi
done <"$listed"

marked="$scratch/marked"
(cd "$root" && grep -rlE '(^|[^A-Za-z0-9_])(_|N_|C_|NC_|ngettext)\(' --include='*.c' \
	--include='*.h' --include='*.ui' gui) | sort >"$marked"
for file in $(comm -23 "$marked" "$listed"); do
	echo "not ok: $file has translatable strings but is missing from po/POTFILES.in"
	failed=1
done

# The same keywords and flags as meson's i18n "glib" preset.
(cd "$root" && xgettext --files-from=po/POTFILES.in --output="$scratch/outpost.pot" \
	--from-code=UTF-8 --add-comments --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
	--keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --flag=N_:1:pass-c-format \
	--flag=g_strdup_printf:1:c-format --package-name=outpost)

for lang in $(grep -v '^#' "$po/LINGUAS"); do
	catalog="$po/$lang.po"
	if ! msgfmt --check --output-file=/dev/null "$catalog"; then
		echo "not ok: msgfmt --check failed on po/$lang.po"
		failed=1
		continue
	fi
	msgmerge --quiet --no-fuzzy-matching --output-file="$scratch/$lang.po" "$catalog" \
		"$scratch/outpost.pot"
	stats=$(msgfmt --statistics --output-file=/dev/null "$scratch/$lang.po" 2>&1)
	case "$stats" in
	*untranslated* | *fuzzy*)
		echo "not ok: po/$lang.po is incomplete against the sources: $stats"
		failed=1
		;;
	*)
		echo "ok: po/$lang.po: $stats"
		;;
	esac
done
exit "$failed"
