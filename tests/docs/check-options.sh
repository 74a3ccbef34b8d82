#!/usr/bin/env bash
# The man pages cannot fall behind the programs: every long option that
# boxctl --help, boxctl run/ps/kill/status --help and boxd --help print,
# every boxctl command, and every section and key the configuration parser
# knows (daemon/config.c, daemon/config-tenant.c) must appear in the
# rendered page that documents it. Arguments: the built man pages.
# Environment: BOXCTL, BOXD, SOURCE_ROOT.
set -uo pipefail

if (($# == 0)); then
	echo "SKIP: no man pages were built (scdoc not found, or -Dman=disabled)"
	exit 77
fi
if ! command -v groff >/dev/null; then
	echo "SKIP: groff is not installed (groff-base)"
	exit 77
fi

declare -A page
for p in "$@"; do
	page[$(basename "$p")]=$p
done
for want in boxctl.1 boxd.8 boxd.conf.5; do
	if [[ -z ${page[$want]:-} ]]; then
		echo "FAIL: $want is not among the built pages"
		exit 1
	fi
done

failed=0
checked=0

# Plain text, one paragraph per line (a very long line length), so that
# no option is split across lines.
render() {
	LC_ALL=C.UTF-8 groff -man -t -Tascii -rLL=5000n -P-cbou "$1" 2>/dev/null
}

# Long options in --help text: "--name" anywhere on a line.
long_options() {
	grep -oE -- '(^|[^[:alnum:]-])--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

# The words of a rendered page, one a line: runs of letters, digits and
# "_.[]-", without a sentence's final dot.
words_of() {
	tr -cs 'A-Za-z0-9_.[]-' '\n' <<<"$1" | sed 's/\.*$//' | sort -u
}

# $1: the page's words, $2: page name, $3: what, rest: names that must be
# among the words.
expect() {
	local words=$1 name=$2 what=$3 word
	shift 3
	for word in "$@"; do
		checked=$((checked + 1))
		if ! grep -qxF -- "$word" <<<"$words"; then
			echo "FAIL: $name does not document $what $word"
			failed=$((failed + 1))
		fi
	done
}

boxctl_text=$(words_of "$(render "${page[boxctl.1]}")")
boxd_text=$(words_of "$(render "${page[boxd.8]}")")
conf_text=$(words_of "$(render "${page[boxd.conf.5]}")")
for t in "$boxctl_text" "$boxd_text" "$conf_text"; do
	if (($(wc -l <<<"$t") < 100)); then
		echo "FAIL: a page rendered to almost nothing"
		exit 1
	fi
done

# boxctl: global options, commands, and each command's options.
help=$("$BOXCTL" --help) || { echo "FAIL: boxctl --help"; exit 1; }
expect "$boxctl_text" boxctl.1 "global option" $(long_options <<<"$help")
commands=$(sed -n '/^Commands:/,/^$/p' <<<"$help" | awk 'NR > 1 && NF { print $1 }')
[[ -n $commands ]] || { echo "FAIL: no commands found in boxctl --help"; exit 1; }
expect "$boxctl_text" boxctl.1 "command" $commands
for cmd in run ps kill status; do
	sub=$("$BOXCTL" "$cmd" --help) || { echo "FAIL: boxctl $cmd --help"; exit 1; }
	expect "$boxctl_text" boxctl.1 "'$cmd' option" $(long_options <<<"$sub")
done
run_options=$("$BOXCTL" run --help | long_options | wc -l)
if ((run_options < 30)); then
	echo "FAIL: boxctl run --help lists only $run_options options: is the help format still what this test reads?"
	failed=$((failed + 1))
fi

# boxd: every option.
help=$("$BOXD" --help) || { echo "FAIL: boxd --help"; exit 1; }
expect "$boxd_text" boxd.8 "option" $(long_options <<<"$help")

# boxd.conf: every section and key the parser knows.
keys=$(cat "$SOURCE_ROOT"/daemon/config.c "$SOURCE_ROOT"/daemon/config-tenant.c |
	grep -oE '\[[DPT]_[A-Z_]+\] = "[a-z-]+"' | sed -E 's/.*"(.*)"/\1/' | sort -u)
if (($(wc -w <<<"$keys") < 20)); then
	echo "FAIL: found only $(wc -w <<<"$keys") keys in the config parser: is its key table still written as this test reads it?"
	failed=$((failed + 1))
fi
expect "$conf_text" boxd.conf.5 "key" $keys
expect "$conf_text" boxd.conf.5 "section" '[daemon]' '[private-ids]' '[default]' '[tenant.NAME]'

echo "$checked names checked, $failed missing"
((failed == 0))
