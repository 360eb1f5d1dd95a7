#!/bin/sh
# fuzz.sh SECONDS - runs every libFuzzer target for SECONDS, starting from
# its saved corpus; new inputs go to build/fuzz/corpus-new/<name>.
# FUZZ_JOBS=N runs N targets at a time (default 1). Each target's closing
# figures (runs, coverage) are collected in build/fuzz/summary.txt.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
jobs=${FUZZ_JOBS:-1}
summary=$(pwd)/build/fuzz/summary.txt

run_target() { # path
	t=$1
	name=$(basename "$t")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	new=build/fuzz/corpus-new/${name#fuzz_}
	mkdir -p "$new" "$corpus"
	echo "fuzz: $name for ${secs}s"
	if "$t" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/$name-" "$new" "$corpus" \
		>"build/fuzz/$name.log" 2>&1; then
		result=ok
	else
		result="FOUND A PROBLEM (build/fuzz/$name.log)"
	fi
	last=$(grep -E '^#[0-9]+' "build/fuzz/$name.log" | tail -1 | cut -c1-100)
	printf '%s\t%ss\t%s\t%s\n' "$name" "$secs" "$result" "$last" >>"$summary"
	[ "$result" = ok ]
}

if [ "${1:-}" = "--one" ]; then
	secs=$2
	summary=$3
	run_target "$4"
	exit $?
fi

status=0
: >"$summary"
ls build/fuzz/fuzz/fuzz_* | xargs -P "$jobs" -n 1 "$0" --one "$secs" "$summary" || status=1
sort "$summary"
exit $status
