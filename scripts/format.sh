#!/usr/bin/env bash
# Apply the tree's clang-format layout (.clang-format) to every C file we
# own, or with --check only report files that differ and fail.
#
#   scripts/format.sh           reformat in place
#   scripts/format.sh --check   exit 1 if any file is not formatted
set -euo pipefail
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$cf" ] || { echo "format.sh: clang-format not installed" >&2; exit 1; }
# Tracked files and new ones not ignored: a file is checked before its
# first commit too.
mapfile -t files < <(git ls-files --cached --others --exclude-standard \
	'*.c' '*.h')
if [ "${1:-}" = --check ]; then
	"$cf" --dry-run --Werror "${files[@]}"
else
	"$cf" -i "${files[@]}"
fi
