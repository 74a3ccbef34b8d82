#!/usr/bin/env bash
# The bash completion of boxctl, driven the way bash drives it (COMP_LINE,
# COMP_POINT, COMP_WORDS split at COMP_WORDBREAKS, COMP_CWORD), no terminal
# needed: it loads in `bash --norc` without a message, completes commands,
# options, option values, signals, run ids (from a stand-in boxctl's ps
# output) and files, offers every option `boxctl run --help` prints with
# the number of values --help gives it, and does the same with the
# bash-completion package loaded, which must find it by name.
# Argument: the script. Environment: BOXCTL.
set -uo pipefail

script=$1
if [[ ! -r $script ]]; then
	echo "FAIL: $script is missing"
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Files to complete, and a stand-in boxctl whose ps lists two runs and
# records how it was called.
mkdir -p "$work/cwd/rootfs" "$work/cwd/src dir"
: >"$work/cwd/policy.txt"
cat >"$work/fake-boxctl" <<EOF
#!/bin/sh
echo "\$*" >>"$work/fake-calls"
[ "\$*" = "--socket /x/y.sock ps" ] || [ "\$*" = ps ] || exit 1
echo "RUN      UID    PID      ELAPSED    TAG              COMMAND"
echo "17       1000   4242     3.20s      -                make"
echo "23       1000   4243     1.00s      judge            ./solution"
EOF
chmod +x "$work/fake-boxctl"

# Load the script in a clean bash (and, with "full", after bash-completion)
# and print its reply for each line given on stdin, or the check results.
cat >"$work/driver.bash" <<'EOF'
set -u
script=$1 mode=$2
if [[ $mode == full ]]; then
	source /usr/share/bash-completion/bash_completion || exit 1
fi
source "$script" || exit 1

# Split a line as bash does for COMP_WORDS: at blanks, and every run of
# COMP_WORDBREAKS characters (here '=' and ':') is a word of its own.
split_words()
{
	local line=$1 i c word='' kind='' k
	COMP_WORDS=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ $c == ' ' ]]; then
			[[ -n $word ]] && COMP_WORDS+=("$word")
			word='' kind=''
			continue
		fi
		[[ $c == [=:] ]] && k=break || k=text
		if [[ -n $word && $k != "$kind" ]]; then
			COMP_WORDS+=("$word")
			word=''
		fi
		word+=$c
		kind=$k
	done
	COMP_WORDS+=("$word")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
}

complete_line()
{
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	split_words "$COMP_LINE"
	COMPREPLY=()
	local spec
	spec=$(complete -p "${COMP_WORDS[0]##*/}" 2>/dev/null || complete -p boxctl)
	spec=${spec#*-F }
	"${spec%% *}" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
	local IFS=' '
	echo "${COMPREPLY[*]}"
}

while IFS= read -r line; do
	complete_line "$line"
done
EOF

failed=0
passed=0
cases=()
wants=()

# A line to complete at its end, and the words the reply must contain; a
# word "!X" must not be in it; "=" first makes the reply exactly the words
# after it.
case_()
{
	cases+=("$1")
	shift
	wants+=("$*")
}

# $1: mode; runs every case in one bash and compares the replies.
run_cases()
{
	local mode=$1 i reply want w replies=()
	mapfile -t replies < <(cd "$work/cwd" && printf '%s\n' "${cases[@]}" |
		bash --norc --noprofile "$work/driver.bash" "$script" "$mode" 2>"$work/stderr")
	# A completion must never write to the terminal. (compopt complains
	# when called outside a completion that bash itself started, as
	# here: that one is the harness's.)
	sed -i '/compopt: not currently executing completion function/d' "$work/stderr"
	if [[ -s $work/stderr ]]; then
		echo "FAIL [$mode]: messages while completing:"
		cat "$work/stderr"
		failed=$((failed + 1))
	fi
	for i in "${!cases[@]}"; do
		reply=${replies[i]:-}
		want=${wants[i]}
		if [[ $want == '=' || $want == '= '* ]]; then
			want=${want#=}
			if ! same_words "$reply" "$want"; then
				echo "FAIL [$mode] '${cases[i]}': got '$reply', want exactly '${want# }'"
				failed=$((failed + 1))
				continue
			fi
		else
			local bad=0
			for w in $want; do
				if [[ $w == !* && " $reply " == *" ${w#!} "* ]]; then
					echo "FAIL [$mode] '${cases[i]}': '${w#!}' offered: '$reply'"
					bad=1
				elif [[ $w != !* && " $reply " != *" $w "* ]]; then
					echo "FAIL [$mode] '${cases[i]}': '$w' missing from '$reply'"
					bad=1
				fi
			done
			if ((bad)); then
				failed=$((failed + 1))
				continue
			fi
		fi
		passed=$((passed + 1))
	done
	if ((${#replies[@]} != ${#cases[@]})); then
		echo "FAIL [$mode]: ${#replies[@]} replies for ${#cases[@]} lines"
		failed=$((failed + 1))
	fi
}

# Do the space-separated words $1 and $2 make the same set?
same_words()
{
	local -A a=() b=()
	local w
	for w in $1; do a[$w]=1; done
	for w in $2; do b[$w]=1; done
	((${#a[@]} == ${#b[@]})) || return 1
	for w in "${!a[@]}"; do
		[[ -n ${b[$w]:-} ]] || return 1
	done
}

# Loads quietly, and registers itself for boxctl.
out=$(bash --norc --noprofile -c "source '$script' && complete -p boxctl" 2>&1)
if [[ $out != "complete -F _boxctl boxctl" ]]; then
	echo "FAIL: loading the script: '$out'"
	failed=$((failed + 1))
fi

fake=$work/fake-boxctl
case_ 'boxctl ' = run ps kill status version help
case_ 'boxctl st' = status
case_ 'boxctl --so' = --socket
case_ 'boxctl --socket ' policy.txt rootfs
case_ 'boxctl run --ne' = --net
case_ 'boxctl run --net ' = none loopback host outbound
case_ 'boxctl run --net l' = loopback
case_ 'boxctl run --net=' = none loopback host outbound
case_ 'boxctl run --net=lo' = loopback
case_ 'boxctl run --profile ' = default bare
case_ 'boxctl run --rlimit n' = nofile= nproc=
case_ 'boxctl run --rlimit ' = nofile= fsize= core= nproc= stack= as=
case_ 'boxctl run --rlimit as=64M:' = unlimited
case_ 'boxctl run --seccomp ' default none policy.txt rootfs
case_ 'boxctl run --seccomp=n' = none
case_ 'boxctl run --ro-bind ' policy.txt rootfs
case_ 'boxctl run --ro-bind r' = rootfs
case_ 'boxctl run --ro-bind rootfs ' =
case_ 'boxctl run --memory 1G --bind a /b --n' = --net --no-exec --no-new-session --no-die-with-client --no-tty
case_ 'boxctl run --sort-mounts --s' = --size --symlink --setenv --sort-mounts --seccomp
case_ 'boxctl run --net host ech' echo
case_ 'boxctl run -- ech' echo
case_ 'boxctl run -- cat ' policy.txt rootfs
case_ 'boxctl kill -s ' TERM KILL INT HUP '!SIGTERM' '!RTMIN'
case_ 'boxctl kill -s SIGT' SIGTERM '!TERM'
case_ 'boxctl kill --signal K' = KILL
case_ "$fake kill " = 17 23
case_ "$fake --socket /x/y.sock kill -s TERM " = 17 23
case_ "$fake kill 17 " = -s --signal --help
case_ 'boxctl ps --j' = --json
case_ 'boxctl status -' = --json --help -h
case_ 'boxctl version ' =

run_cases plain
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
	run_cases full
else
	echo "note: bash-completion is not installed: checked without it only"
fi
if ! grep -qx -- '--socket /x/y.sock ps' "$work/fake-calls" 2>/dev/null; then
	echo "FAIL: run ids were not asked of the socket given with --socket:"
	cat "$work/fake-calls" 2>/dev/null
	failed=$((failed + 1))
fi

# Every option boxctl run --help prints is offered, with the number of
# values --help gives it (the words between the name and the description).
if [[ -z ${BOXCTL:-} || ! -x $BOXCTL ]]; then
	echo "FAIL: BOXCTL is not set to the built boxctl"
	failed=$((failed + 1))
else
	offered=" $(cd "$work/cwd" && printf 'boxctl run --\n' |
		bash --norc --noprofile "$work/driver.bash" "$script" plain) "
	declare -A nargs_of
	while read -r name nargs; do
		nargs_of[$name]=$nargs
	done < <(bash --norc --noprofile -c "source '$script'
		for o in \$_boxctl_run_options; do echo \${o%:*} \${o##*:}; done")
	n=0
	while read -r name nargs; do
		n=$((n + 1))
		if [[ $offered != *" $name "* ]]; then
			echo "FAIL: 'boxctl run $name' (from --help) is not offered"
			failed=$((failed + 1))
			continue
		fi
		got=${nargs_of[$name]:-}
		if [[ $got != "$nargs" ]]; then
			echo "FAIL: the completion thinks $name takes $got values, --help says $nargs"
			failed=$((failed + 1))
		fi
	done < <("$BOXCTL" run --help | sed -nE 's/^  (--[a-z][a-z0-9-]*)((( [^ ]+)*))( {2,}.*)?$/\1 \2/p' |
		awk '{ print $1, NF - 1 }')
	if ((n < 30)); then
		echo "FAIL: read only $n options from boxctl run --help: has its format changed?"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
fi

# bash-completion loads the script on demand by the command's name from
# <dir>/bash-completion/completions for every dir in XDG_DATA_DIRS.
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
	mkdir -p "$work/share/bash-completion/completions"
	cp "$script" "$work/share/bash-completion/completions/boxctl"
	out=$(XDG_DATA_DIRS=$work/share bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion boxctl && complete -p boxctl' 2>&1)
	if [[ $out != "complete -F _boxctl boxctl" ]]; then
		echo "FAIL: bash-completion does not load it on demand: '$out'"
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
