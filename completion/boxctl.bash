# bash completion for boxctl(1), the command line of the boxd sandbox
# daemon. Works on its own (bash --norc) and with the bash-completion
# package, whose helpers it uses when they are loaded.
#
# Adding an option to boxctl run: add "NAME:NUMBER_OF_VALUES" to
# _boxctl_run_options, and a case to _boxctl_run_value if its values can
# be completed. tests/docs/check-completion.sh compares the list with
# `boxctl run --help`.

_boxctl_commands='run ps kill status version help'
_boxctl_global_options='--socket --help -h --version'
_boxctl_run_options='
	--ro-bind:2 --bind:2 --dev-bind:2 --overlay:2 --overlay-persist:3
	--tmpfs:1 --size:1 --perms:1
	--proc:1 --dev:1 --symlink:2 --dir:1 --remount-ro:1 --hide:1 --file:2
	--file-data:2 --sort-mounts:0
	--setenv:2 --unsetenv:1 --chdir:1 --hostname:1 --uid:1 --gid:1
	--net:1 --profile:1 --write:1 --no-exec:0 --max-isolation:0 --no-new-session:0 --no-die-with-client:0
	--tty:0 --no-tty:0
	--memory:1 --memory-swap:1 --cpus:1 --pids:1 --timeout:1
	--cpu-time:1 --seccomp:1 --rlimit:1 --lenient:0 --tag:1 --json:0
	--result-fd:1 --plan:0 --policy:1 --help:0 -h:0'
_boxctl_rlimits='nofile fsize core nproc stack as'

# How many values run option $1 takes; nothing if it is not an option.
_boxctl_run_nargs()
{
	local o
	for o in $_boxctl_run_options; do
		if [[ ${o%:*} == "$1" ]]; then
			echo "${o##*:}"
			return
		fi
	done
}

# The words of the line up to the cursor, as the shell will split them:
# bash's COMP_WORDS also break at '=' and ':' (COMP_WORDBREAKS), which
# would cut "--net=host" and "as=64M:1G" into pieces. Sets words (the
# joined words), cword (the index of the word at the cursor), and
# comp_index (for each word, its index in COMP_WORDS).
_boxctl_words()
{
	local line=${COMP_LINE:0:COMP_POINT} pos=0 i w rest trimmed ws
	words=()
	comp_index=()
	cword=0
	for ((i = 0; i <= COMP_CWORD && i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		rest=${line:pos}
		trimmed=${rest#"${rest%%[![:space:]]*}"}
		ws=$((${#rest} - ${#trimmed}))
		pos=$((pos + ws + ${#w}))
		if ((i > 0 && ws == 0 && ${#words[@]} > 0)); then
			words[${#words[@]} - 1]+=$w
		else
			words+=("$w")
			comp_index+=("$i")
		fi
	done
	cword=$((${#words[@]} - 1))
	((cword >= 0)) || { words=(''); comp_index=(0); cword=0; }
}

# Offer the candidates that start with $1, the whole word at the cursor.
# Readline replaces only the part after the last '=' or ':' (when those
# break words), so that much is cut from each candidate.
_boxctl_reply()
{
	local full=$1 cut='' c
	shift
	if [[ $COMP_WORDBREAKS == *=* || $COMP_WORDBREAKS == *:* ]]; then
		local breaks=''
		[[ $COMP_WORDBREAKS == *=* ]] && breaks+='='
		[[ $COMP_WORDBREAKS == *:* ]] && breaks+=':'
		if [[ $full == *[$breaks]* ]]; then
			cut=${full%"${full##*[$breaks]}"}
		fi
	fi
	for c in "$@"; do
		[[ $c == "$full"* ]] && COMPREPLY+=("${c#"$cut"}")
	done
}

# Host files and directories for the part of the word after $2 (a prefix
# such as "--seccomp=", or nothing).
_boxctl_files()
{
	local word=$1 prefix=$2 cur
	cur=${word#"$prefix"}
	compopt -o filenames 2>/dev/null
	if [[ -z $prefix ]] && declare -F _filedir >/dev/null; then
		_filedir
		return
	fi
	local IFS=$'\n'
	COMPREPLY+=($(compgen -f -- "$cur"))
}

# Run ids, from `boxctl ps` on the same socket.
_boxctl_run_ids()
{
	local prog=${words[0]} socket=$1 ids
	prog=${prog/#\~/$HOME}
	command -v -- "$prog" >/dev/null 2>&1 || prog=boxctl
	socket=${socket/#\~/$HOME}
	socket=${socket#[\'\"]}
	socket=${socket%[\'\"]}
	ids=$(timeout 2 "$prog" ${socket:+--socket "$socket"} ps 2>/dev/null |
		awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }')
	echo "$ids"
}

# Signal names boxctl kill accepts: without the SIG prefix unless the
# word has it.
_boxctl_signals()
{
	local s out=()
	for s in $(compgen -A signal); do
		[[ $s == SIGRT* ]] && continue
		if [[ $1 == [Ss][Ii][Gg]* ]]; then
			out+=("$s")
		else
			out+=("${s#SIG}")
		fi
	done
	echo "${out[*]}"
}

# Complete value number $3 of run option $1, for the word $2 (minus the
# prefix $4, "--option=" in the one-word form).
_boxctl_run_value()
{
	local opt=$1 word=$2 n=$3 prefix=$4 cur v=() r
	cur=${word#"$prefix"}
	case $opt in
	--ro-bind | --bind | --dev-bind)
		# The source is a host path; the destination is inside.
		((n == 1)) && _boxctl_files "$word" "$prefix"
		return
		;;
	--overlay)
		((n == 1)) && _boxctl_files "$word" "$prefix"
		return
		;;
	--overlay-persist)
		# SRC and DIR are host paths; DST is inside.
		((n != 2)) && _boxctl_files "$word" "$prefix"
		return
		;;
	--policy)
		_boxctl_files "$word" "$prefix"
		return
		;;
	--seccomp)
		v=(default none)
		_boxctl_reply "$word" "${v[@]/#/$prefix}"
		_boxctl_files "$word" "$prefix"
		return
		;;
	--net) v=(none loopback host outbound) ;;
	--profile) v=(default bare) ;;
	--proc) v=(/proc) ;;
	--dev) v=(/dev) ;;
	--unsetenv) v=(PATH) ;;
	--setenv)
		((n == 1)) && v=($(compgen -e))
		;;
	--rlimit)
		if [[ $cur != *=* ]]; then
			for r in $_boxctl_rlimits; do
				v+=("$r=")
			done
			compopt -o nospace 2>/dev/null
		else
			# NAME=SOFT[:HARD]: "unlimited" for either value.
			local head=${cur%[=:]*}
			head+=${cur:${#head}:1}
			v=("${head}unlimited")
		fi
		;;
	*) return ;;
	esac
	_boxctl_reply "$word" "${v[@]/#/$prefix}"
}

_boxctl_run()
{
	local first=$1 j w n skip=0 opt='' argno=0 start=-1
	for ((j = first; j < cword; j++)); do
		w=${words[j]}
		if ((skip > 0)); then
			skip=$((skip - 1))
			argno=$((argno + 1))
			continue
		fi
		if [[ $w == -- ]]; then
			start=$((j + 1))
			break
		fi
		if [[ $w != -* || $w == - ]]; then
			start=$j
			break
		fi
		[[ $w == --*=* ]] && continue
		n=$(_boxctl_run_nargs "$w")
		opt=$w
		argno=0
		skip=${n:-0}
	done

	if ((start < 0 && skip > 0)); then
		_boxctl_run_value "$opt" "$cur" $((argno + 1)) ''
		return
	fi
	if ((start >= 0)); then
		if declare -F _command_offset >/dev/null; then
			_command_offset "${comp_index[start]}"
		elif ((cword == start)); then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			_boxctl_files "$cur" ''
		fi
		return
	fi
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		[[ $(_boxctl_run_nargs "$opt") == 1 ]] &&
			_boxctl_run_value "$opt" "$cur" 1 "$opt="
		return
	fi
	if [[ -z $cur || $cur == -* ]]; then
		local names=() o
		for o in $_boxctl_run_options; do
			names+=("${o%:*}")
		done
		_boxctl_reply "$cur" "${names[@]}"
	else
		COMPREPLY=($(compgen -c -- "$cur"))
	fi
}

_boxctl_kill()
{
	local first=$1 j have_id=0
	case ${words[cword - 1]} in
	-s | --signal)
		_boxctl_reply "$cur" $(_boxctl_signals "$cur")
		return
		;;
	esac
	for ((j = first; j < cword; j++)); do
		case ${words[j]} in
		-s | --signal) j=$((j + 1)) ;;
		-*) ;;
		*) have_id=1 ;;
		esac
	done
	if [[ $cur == -* ]] || ((have_id)); then
		_boxctl_reply "$cur" -s --signal --help
	else
		_boxctl_reply "$cur" $(_boxctl_run_ids "$socket")
	fi
}

_boxctl()
{
	local words=() cword comp_index=() cur socket='' i cmd=''
	COMPREPLY=()
	_boxctl_words
	cur=${words[cword]}

	# Global options, up to the command.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--socket)
			socket=${words[i + 1]}
			i=$((i + 1))
			;;
		--socket=*) socket=${words[i]#--socket=} ;;
		-*) ;;
		*)
			cmd=${words[i]}
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ ${words[cword - 1]} == --socket ]] && ((cword > 1)); then
			_boxctl_files "$cur" ''
		elif [[ $cur == --socket=* ]]; then
			_boxctl_files "$cur" --socket=
		elif [[ $cur == -* ]]; then
			_boxctl_reply "$cur" $_boxctl_global_options
		else
			_boxctl_reply "$cur" $_boxctl_commands
		fi
		return 0
	fi

	case $cmd in
	run) _boxctl_run $((i + 1)) ;;
	kill) _boxctl_kill $((i + 1)) ;;
	ps | status) _boxctl_reply "$cur" --json --help -h ;;
	version | help) ;;
	esac
	return 0
}

complete -F _boxctl boxctl
