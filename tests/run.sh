#!/bin/sh
# run.sh - runs emgap's tests and prints one closing line "N passed, N failed".
#
#   tests/run.sh [--only PART] VARIANT...
#
# For each build variant (release, asan, ...) it runs every unit-test binary
# in build/VARIANT/tests and every script in tests/integration, each in a
# fresh temporary directory (TEST_TMP) that is removed afterwards. Tests
# print "PASS name" / "FAIL name: why" lines; those lines are counted. A test
# that exits non-zero without printing a FAIL line counts as one failure.
#
# The variant `valgrind` has no build of its own: it runs a subset of the
# integration tests with the release programs under valgrind's memcheck
# (tests/lib/valgrind.sh); any error or leak it reports is a FAIL line.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
only=""
if [ "${1:-}" = "--only" ]; then
	only=$2
	shift 2
fi
[ $# -gt 0 ] || set -- release

passed=0
failed=0
failures=""
log_dir=$ROOT/build/test-logs
mkdir -p "$log_dir"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}"
[ -f "$ROOT/tests/lsan.supp" ] && export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
. "$ROOT/tests/lib/valgrind.sh"

run_one() { # variant name command...
	variant=$1
	name=$2
	shift 2
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/emgap-test.XXXXXX")
	vglogs=$(mktemp -d "${TMPDIR:-/tmp}/emgap-vg.XXXXXX")
	log="$log_dir/$variant-$name.log"
	start=$(date +%s)
	(cd "$tmp" && TEST_TMP=$tmp EMGAP_SRC=$ROOT EMGAP_BIN=$ROOT/build/$variant/bin \
		EMGAP_VARIANT=$variant EMGAP_VALGRIND_LOGS=$vglogs "$@") >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	[ "$variant" = valgrind ] && valgrind_report "$vglogs" >>"$log"
	rm -rf "$vglogs"
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL $name: exited $rc (see $log)" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		printf '  %-7s %-40s %3d passed, %d FAILED (%ss)\n' "$variant" "$name" "$p" "$f" $((end - start))
		grep '^FAIL ' "$log" | sed 's/^/      /'
		failures="$failures $variant/$name"
	else
		printf '  %-7s %-40s %3d passed (%ss)\n' "$variant" "$name" "$p" $((end - start))
	fi
	rm -rf "$tmp"
}

for variant in "$@"; do
	if [ "$variant" = valgrind ]; then
		if ! command -v valgrind >/dev/null 2>&1; then
			echo "  valgrind is not installed: its pass is skipped"
			continue
		fi
		valgrind_wrappers "$ROOT" "$ROOT/build/valgrind/bin" || exit 1
	fi
	bdir=$ROOT/build/$variant/tests
	for t in "$bdir"/*; do
		[ -x "$t" ] || continue
		n=$(basename "$t")
		[ -n "$only" ] && case "$n" in "$only" | "$only"_*) ;; *) continue ;; esac
		run_one "$variant" "$n" "$t"
	done
	for t in tests/integration/*.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		[ -n "$only" ] && case "$n" in "$only" | "$only"_*) ;; *) continue ;; esac
		[ "$variant" = valgrind ] && case " $VALGRIND_TESTS " in *" $n "*) ;; *) continue ;; esac
		run_one "$variant" "$n" sh "$ROOT/$t"
	done
done

[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
