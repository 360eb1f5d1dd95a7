#!/bin/sh
# run.sh - make bench: emgap's speed and memory, side by side with its peers.
#
#   bench/run.sh [SECTION...]     sections: bundle feed iis apply fleet mirror
#                                 (default: all, in that order)
#
# Runs the programs in build/bench/bin and the drivers in build/bench/bench
# (make VARIANT=bench bench-tools) on inputs generated deterministically in
# a temporary directory under /tmp, which is removed at the end, and prints
# a table (what, emgap figure, peer figure, ratio, target, met?) that is
# also written to bench/results.md with the machine line. Every ratio
# compares commands timed together by hyperfine (medians, two passes in
# opposite order), so that the noise of a shared machine falls on both
# sides; every missed target gets a callgrind profile. docs/performance.md
# says what the figures mean.
#
# Environment:
#   BENCH_FLEET=N     servers in the fleet section (default 1000)
#   BENCH_KEEP=1      keep the work directory and say where it is
#   BENCH_OUT=FILE    the results file (default bench/results.md)
#   BENCH_PROFILE=0   no callgrind profiles of missed targets
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
BIN=$ROOT/build/bench/bin
PATH=$BIN:$ROOT/build/bench/bench:$PATH
export PATH
# Loopback servers only: a proxy from the environment must not get in.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
# Fixed locale and time zone: sort orders and dates in the inputs.
LC_ALL=C TZ=UTC
export LC_ALL TZ

for p in bin/emgap-bundle bin/emgap-apply bin/emgap-apply-engine bin/emgap-mirror bin/emgap-keys bench/iisedit; do
	[ -x "$ROOT/build/bench/$p" ] || { echo "bench: build/bench/$p missing (make VARIANT=bench bench-tools)" >&2; exit 2; }
done
for p in hyperfine jq python3 sha256sum minisign xmlsec1 xmlstarlet nginx curl openssl; do
	command -v "$p" >/dev/null 2>&1 || { echo "bench: $p not found (scripts/deps.sh --all)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time not found (Debian package time)" >&2; exit 2; }

W=$(mktemp -d /tmp/emgap-bench.XXXXXX) || exit 7
OUT=${BENCH_OUT:-$ROOT/bench/results.md}

# shellcheck source=tests/lib/pki.sh
. "$ROOT/tests/lib/pki.sh"
# shellcheck source=tests/lib/orgkeys.sh
. "$ROOT/tests/lib/orgkeys.sh"
# shellcheck source=tests/lib/applyfix.sh
. "$ROOT/tests/lib/applyfix.sh"
# shellcheck source=tests/lib/https.sh
. "$ROOT/tests/lib/https.sh"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

# shellcheck disable=SC2317 # called from the traps
cleanup() {
	https__cleanup
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "bench: work directory kept: $W"
	else
		rm -rf "$W"
	fi
}
# Replaces https.sh's trap: stop the servers and remove the inputs.
trap 'cleanup' EXIT
trap 'cleanup; trap - EXIT; exit 1' INT TERM HUP

GEN="python3 $ROOT/bench/gen.py"
: >"$W/rows"
: >"$W/notes"
: >"$W/profiles"
: >"$W/profiles.idx"
START=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# The shared fixture: a vendor PKI, an organisation root and a certified
# signing key, a trust directory (threshold 1), all from tests/lib.
say "bench: fixtures (vendor PKI, organisation keys)"
F=$W/fix
apply_fixture "$F" || { say "bench: fixture setup failed"; exit 1; }

# shellcheck source=bench/sections.sh
. "$ROOT/bench/sections.sh"

[ $# -gt 0 ] || set -- bundle feed iis apply fleet mirror
printf '  %-52s %12s %12s %8s %8s %s\n' what emgap peer ratio target met?
failed=0
for sec in "$@"; do
	case $sec in
	bundle | feed | iis | apply | fleet | mirror) ;;
	*) say "bench: unknown section '$sec'"; exit 2 ;;
	esac
	sec_start=$(date +%s)
	if ! "bench_$sec"; then
		say "bench: section $sec failed"
		row "$sec: section failed (see above)" — — — — "**no**"
		failed=1
	fi
	say "bench: section $sec took $(($(date +%s) - sec_start)) s"
done

END=$(date +%s)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
write_results "$OUT" || exit 7
say "bench: $((END - START)) s; results in ${OUT#"$ROOT"/}"
exit $failed
