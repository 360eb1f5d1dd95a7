# testlib.sh - helpers for emgap's shell tests (sourced, POSIX sh).
# Each check prints "PASS name" or "FAIL name: why"; tests/run.sh counts them.
# Variables from the runner: EMGAP_BIN, EMGAP_SRC, TEST_TMP, EMGAP_VARIANT.

: "${EMGAP_BIN:?run through tests/run.sh}"
: "${TEST_TMP:?run through tests/run.sh}"
T=$TEST_TMP
PATH=$EMGAP_BIN:$PATH
export PATH

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

# expect_exit NAME CODE CMD... : runs CMD, stdout to $T/out, stderr to $T/err.
expect_exit() {
	_n=$1
	_want=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then
		pass "$_n"
	else
		fail "$_n" "exit $_rc, wanted $_want; stderr: $(head -c 400 "$T/err")"
	fi
}

# expect_err NAME TEXT : the last command's stderr contains TEXT.
expect_err() {
	if grep -qF -- "$2" "$T/err"; then pass "$1"; else fail "$1" "stderr lacks '$2': $(head -c 400 "$T/err")"; fi
}

# expect_out NAME TEXT : the last command's stdout contains TEXT.
expect_out() {
	if grep -qF -- "$2" "$T/out"; then pass "$1"; else fail "$1" "stdout lacks '$2': $(head -c 400 "$T/out")"; fi
}

# check NAME CMD... : passes when CMD succeeds.
check() {
	_n=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$_n"; else fail "$_n" "command failed: $*"; fi
}

# same_file NAME A B : byte-identical files.
same_file() {
	if cmp -s "$2" "$3"; then pass "$1"; else fail "$1" "$2 and $3 differ"; fi
}
