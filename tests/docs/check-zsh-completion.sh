#!/usr/bin/env bash
# The zsh completion of boxctl: it parses, compinit registers it for
# boxctl from a directory in fpath, and it has a spec for every option
# `boxctl run --help` prints. (Driving zsh's completion itself needs a
# terminal; the bash test covers the behaviour.)
# Argument: the script. Environment: BOXCTL.
set -uo pipefail

script=$1
if ! command -v zsh >/dev/null; then
	echo "SKIP: zsh is not installed"
	exit 77
fi
failed=0

if ! out=$(zsh -n "$script" 2>&1); then
	echo "FAIL: zsh cannot parse $script: $out"
	failed=$((failed + 1))
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$script" "$work/_boxctl"
out=$(cd "$work" && HOME=$work zsh -f -c '
	fpath=("$PWD" $fpath)
	autoload -Uz compinit && compinit -u -D -d "$PWD/zcompdump"
	print -r -- "$_comps[boxctl]"' 2>&1)
if [[ $out != _boxctl ]]; then
	echo "FAIL: compinit does not register _boxctl for boxctl: '$out'"
	failed=$((failed + 1))
fi

n=0
while read -r name; do
	n=$((n + 1))
	if ! grep -qE -- "(^|[^a-z-])$name([=[}]|$)" "$script"; then
		echo "FAIL: no spec for 'boxctl run $name' (from --help) in $script"
		failed=$((failed + 1))
	fi
done < <("$BOXCTL" run --help | sed -nE 's/^  (--[a-z][a-z0-9-]*).*/\1/p')
if ((n < 30)); then
	echo "FAIL: read only $n options from boxctl run --help: has its format changed?"
	failed=$((failed + 1))
fi

echo "$n run options checked, $failed problems"
((failed == 0))
