# valgrind.sh - the `valgrind` pseudo-variant of tests/run.sh (sourced).
#
# It has no build of its own: its programs are the release build's, each
# run under valgrind's memcheck through a small wrapper script, and the
# integration tests run with EMGAP_BIN pointing at the wrappers. Every
# process writes its own report (--log-file, one per pid) into the
# directory $EMGAP_VALGRIND_LOGS names; with -q a report is empty unless
# memcheck found an error or a definite or indirect leak, so a test whose
# commands all left empty reports is clean - whatever exit codes the test
# itself expected. Possible and still-reachable blocks are not errors:
# libraries keep one-time allocations until exit.
#
# The pass runs a subset of the integration tests (VALGRIND_TESTS; set it
# in the environment to run others) that goes through every program's main
# paths, so it stays cheap; tests that only make sense in the release
# build skip themselves (EMGAP_VARIANT).

VALGRIND_TESTS=${VALGRIND_TESTS:-"bundle_happy mirror_pipeline apply_run demo_end_to_end"}

# valgrind_wrappers ROOT DIR: writes DIR/emgap-* wrappers around
# ROOT/build/release/bin/emgap-*. Children are traced: emgap-apply hands
# every run with work to do to emgap-apply-engine by exec, in the same
# process, whose report then replaces the front's (the front's own code
# is checked on the idle runs it ends by itself).
valgrind_wrappers() {
	_vr=$1 _vd=$2
	mkdir -p "$_vd" || return 1
	for _vp in "$_vr"/build/release/bin/emgap-*; do
		[ -x "$_vp" ] || continue
		_vn=$(basename "$_vp")
		cat >"$_vd/$_vn.new" <<EOF
#!/bin/sh
# emgap's valgrind pass (tests/lib/valgrind.sh): $_vn under memcheck.
: "\${EMGAP_VALGRIND_LOGS:?set by tests/run.sh}"
exec valgrind -q --error-exitcode=99 --leak-check=full --trace-children=yes \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--track-fds=no --num-callers=30 --suppressions="$_vr/tests/valgrind.supp" \\
	--log-file="\$EMGAP_VALGRIND_LOGS/$_vn.%p.log" "$_vp" "\$@"
EOF
		chmod 0755 "$_vd/$_vn.new" && mv "$_vd/$_vn.new" "$_vd/$_vn" || return 1
	done
}

# valgrind_report LOGDIR: prints every non-empty report (the test's
# findings) and returns 1 if there was one.
valgrind_report() {
	_vbad=0
	for _vl in "$1"/*.log; do
		[ -s "$_vl" ] || continue
		_vbad=1
		echo "FAIL valgrind: $(basename "$_vl"): $(grep -m1 -E '(Invalid|uninitialised|definitely|indirectly|Mismatched|overlap|free)' "$_vl" | sed 's/^==[0-9]*== //')"
		sed 's/^/    /' "$_vl"
	done
	return $_vbad
}
