#!/bin/sh
# fuzz.sh SECONDS - runs every libFuzzer target for SECONDS, starting from
# its saved corpus; new inputs go to build/fuzz/corpus-new/<name>.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
status=0
for t in build/fuzz/fuzz/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	new=build/fuzz/corpus-new/${name#fuzz_}
	mkdir -p "$new" "$corpus"
	echo "fuzz: $name for ${secs}s"
	if ! "$t" -max_total_time="$secs" -max_len=1048576 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/$name-" "$new" "$corpus" \
		>"build/fuzz/$name.log" 2>&1; then
		echo "fuzz: $name found a problem: see build/fuzz/$name.log" >&2
		status=1
	fi
	grep -E '^#[0-9]+ *DONE|^Done [0-9]+ runs' "build/fuzz/$name.log" | tail -1 || true
done
exit $status
