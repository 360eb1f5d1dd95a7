# lib.sh - helpers for bench/run.sh (sourced, POSIX sh).
#
#   hf JSON RUNS [--prepare CMD] NAME CMD [NAME CMD...]
#                       times the commands with hyperfine, RUNS runs each,
#                       in two passes of opposite order
#   med JSON NAME       median seconds of command NAME over all its runs
#   rss CMD...          peak RSS of one run of CMD, in KiB (GNU time -v)
#   row WHAT EMGAP PEER RATIO TARGET MET   one line of the results table
#   ratio A B           A / B, two decimals
#   ms SECONDS          "12.3 ms" (three significant digits)
#   le A B              "yes" when A <= B, else "**no**"
#   note TEXT           a line for the notes under the table
#
# The table is kept in $W/rows (tab-separated), the notes in $W/notes.

# hf__q STRING: STRING quoted for eval.
hf__q() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

hf() {
	_json=$1 _runs=$2 _prep=""
	shift 2
	if [ "$1" = --prepare ]; then
		_prep=$2
		shift 2
	fi
	if [ $# -lt 2 ] || [ $(($# % 2)) -ne 0 ]; then
		say "hf: NAME CMD pairs expected"
		return 1
	fi
	# hyperfine runs all of one command, then all of the next: a load
	# change in between would fall on one side only. Two passes, the
	# second in the reverse order, spread it over both sides.
	_pairs=$(($# / 2)) _fwd="" _rev=""
	while [ $# -gt 0 ]; do
		_p="-n $(hf__q "$1") $(hf__q "$2")"
		_fwd="$_fwd $_p" _rev="$_p $_rev"
		shift 2
	done
	if [ "$_pairs" -eq 1 ]; then
		eval "hf_pass \"\$_json.1\" \"\$_runs\" \"\$_prep\" $_fwd" || return 1
		: >"$_json.2"
	else
		_half=$(((_runs + 1) / 2))
		eval "hf_pass \"\$_json.1\" \"\$_half\" \"\$_prep\" $_fwd" &&
			eval "hf_pass \"\$_json.2\" \"\$_half\" \"\$_prep\" $_rev" || return 1
	fi
	cat "$_json.1" "$_json.2" >"$_json"
}

# hf_pass JSON RUNS PREPARE HYPERFINE-ARGS...: one hyperfine run, no shell
# between it and the commands (-N), one warm-up run.
hf_pass() {
	_pj=$1 _pr=$2 _pp=$3
	shift 3
	if [ -n "$_pp" ]; then
		set -- --prepare "$_pp" "$@"
	fi
	hyperfine -N --style none --warmup 1 --runs "$_pr" --export-json "$_pj" "$@" \
		>"$_pj.out" 2>&1 || { cat "$_pj.out" >&2; return 1; }
}

# med JSON NAME: the median of every time of command NAME in JSON (one or
# more hyperfine exports, concatenated).
med() {
	jq -n -r --arg n "$2" '[inputs | .results[] | select(.command == $n) | .times[]] | sort |
		if length == 0 then error("no times for " + $n)
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$1"
}

rss() {
	/usr/bin/time -v -o "$W/rss.out" "$@" >/dev/null 2>"$W/rss.err" ||
		{ echo "bench: $*: failed: $(tail -n 3 "$W/rss.err")" >&2; return 1; }
	sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$W/rss.out"
}

row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$W/rows"
	printf '  %-52s %12s %12s %8s %8s %s\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

note() {
	printf -- '- %s\n' "$*" >>"$W/notes"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "—" }'
}

ms() {
	awk -v s="$1" 'BEGIN {
		m = s * 1000
		if (m >= 100) printf "%.0f ms", m
		else if (m >= 10) printf "%.1f ms", m
		else printf "%.2f ms", m
	}'
}

le() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 <= b + 0) ? "yes" : "**no**" }'
}

# leratio A B MAX: "yes" when A / B <= MAX.
leratio() {
	awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { print (b > 0 && a / b <= m) ? "yes" : "**no**" }'
}

mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

say() {
	printf '%s\n' "$*" >&2
}

# profile LABEL CMD...: where CMD's instructions go (callgrind counts
# them reproducibly, whatever the load): its inclusive top functions,
# added to the results under "Profiles". Sections call it for every row
# whose target is missed; BENCH_PROFILE=0 skips it.
profile() {
	[ "${BENCH_PROFILE:-1}" = 1 ] || return 0
	command -v valgrind >/dev/null 2>&1 || return 0
	_pl=$1
	shift
	_pn=$(($(wc -l <"$W/profiles.idx") + 1))
	echo "$_pl" >>"$W/profiles.idx"
	say "bench: profiling ($_pl)"
	valgrind --tool=callgrind --callgrind-out-file="$W/cg.$_pn" "$@" >/dev/null 2>"$W/cg.$_pn.log" ||
		{ say "bench: callgrind of '$*' failed"; return 0; }
	{
		printf '\n### %s\n\n```\n$' "$_pl"
		for _a in "$@"; do
			case $_a in
			*' '*) printf " '%s'" "$_a" ;;
			*) printf ' %s' "$_a" ;;
			esac
		done | sed "s|$W/|\$W/|g"
		echo
		sed -n 's/^==[0-9]*== I *refs: *\(.*\)$/instructions: \1/p' "$W/cg.$_pn.log"
		# The table's top entries, named ones only (addresses say nothing).
		callgrind_annotate --inclusive=yes "$W/cg.$_pn" 2>/dev/null |
			awk '/file:function/ { on = 1; getline; next } on && /^-----/ { exit } on && NF' |
			grep -v -e '???:0x' -e 'ld-linux' -e 'libc_start' -e '(below main)' |
			sed -e 's|/usr/lib/x86_64-linux-gnu/||' -e "s|$ROOT/build/bench/bin/||" -e 's|\./[^ ]*/||' \
				>"$W/cg.$_pn.top"
		head -n 20 "$W/cg.$_pn.top" | cut -c1-150
		echo '...'
		echo 'emgap functions:'
		grep ':emg_' "$W/cg.$_pn.top" | head -n 12 | cut -c1-150
		echo '```'
	} >>"$W/profiles"
	rm -f "$W/cg.$_pn.top"
	rm -f "$W/cg.$_pn"
}
