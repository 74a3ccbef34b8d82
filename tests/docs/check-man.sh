#!/usr/bin/env bash
# Renders every man page the build installs (the arguments) the ways a
# reader's tools do, with every warning on, and fails on any warning: groff
# with all warning categories, man-db's man -l at 80 columns, and lexgrog,
# which must find the NAME line that whatis and apropos index. A page with
# a placeholder left unfilled (@NAME@) fails too.
set -uo pipefail

if (($# == 0)); then
	echo "SKIP: no man pages were built (scdoc not found, or -Dman=disabled)"
	exit 77
fi
for tool in groff man lexgrog python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed (groff-base, man-db, python3)"
		exit 77
	fi
done

export LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat
unset MANROFFSEQ MAN_KEEP_FORMATTING
failed=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

for page in "$@"; do
	name=$(basename "$page")
	before=$failed
	if [[ ! -s $page ]]; then
		fail "$name: missing or empty"
		continue
	fi
	if grep -n '@[A-Z_]*@' "$page"; then
		fail "$name: placeholder not filled in by the build"
	fi

	# groff: every warning category, tbl for tables.
	warnings=$(groff -man -t -ww -z -Tutf8 "$page" 2>&1)
	[[ -z $warnings ]] || fail "$name: groff warns:"$'\n'"$warnings"

	# man-db, as man(1) shows it in a terminal of 80 columns.
	text=$(man --warnings=w -E UTF-8 -l "$page" 2>"$page.man-stderr")
	warnings=$(cat "$page.man-stderr")
	rm -f "$page.man-stderr"
	[[ -z $warnings ]] || fail "$name: man -l warns:"$'\n'"$warnings"
	if ! grep -q '^NAME' <<<"$text" || ! grep -q '^SEE ALSO' <<<"$text"; then
		fail "$name: rendered text lacks the NAME or SEE ALSO section"
	fi
	# Lines a reader would see cut or running past 80 columns.
	long=$(python3 -c 'import sys
for l in sys.stdin.read().splitlines():
    if len(l) > 80: print(l)' <<<"$text" 2>&1)
	[[ -z $long ]] || fail "$name: lines wider than 80 columns:"$'\n'"$long"

	# whatis/apropos: the NAME line must parse.
	if ! whatis_line=$(lexgrog "$page" 2>&1); then
		fail "$name: lexgrog cannot parse the NAME section: $whatis_line"
	fi

	((failed == before)) && echo "ok: $name (${whatis_line#*: })"
done

if ((failed)); then
	echo "$failed problems"
	exit 1
fi
