# common_unit_harness.sh - a unit test run by hand, without the runner's
# TEST_TMP, stops with exit 2 and says why, and writes nothing where it
# was started (tests/unit/check.h: check_tmpdir).
. "$EMGAP_SRC/tests/lib/testlib.sh"
case $EMGAP_VARIANT in release | asan) ;; *) exit 0 ;; esac

U=$EMGAP_SRC/build/$EMGAP_VARIANT/tests/bundle_archive
[ -x "$U" ] || { fail "unit test binary" "$U not built"; exit 1; }
mkdir -p "$T/cwd" || exit 1
(cd "$T/cwd" && env -u TEST_TMP "$U") >"$T/out" 2>"$T/err" </dev/null
rc=$?
[ "$rc" -eq 2 ] && pass "without TEST_TMP a unit test exits 2" || fail "without TEST_TMP a unit test exits 2" "exit $rc"
grep -q "TEST_TMP is not set: run this test through tests/run.sh" "$T/err" &&
	pass "the message says how to run it" || fail "the message says how to run it" "$(cat "$T/err")"
[ -z "$(ls -A "$T/cwd")" ] && pass "nothing is written where it was started" ||
	fail "nothing is written where it was started" "$(ls -A "$T/cwd")"
