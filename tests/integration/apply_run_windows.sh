# apply_run_windows.sh - the windows host backend (Service Control Manager,
# appcmd) cross-compiles with mingw-w64 under the project's warnings, and
# the library exports the backend's entry point. Skipped (no PASS lines)
# where the cross compiler is not installed.
. "$EMGAP_SRC/tests/lib/testlib.sh"
[ "$EMGAP_VARIANT" = release ] || exit 0
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || { echo "SKIP mingw-w64 not installed"; exit 0; }

if make -s -C "$EMGAP_SRC" windows >"$T/make.log" 2>&1; then
	pass "make windows builds the SCM backend"
else
	fail "make windows builds the SCM backend" "$(tail -c 800 "$T/make.log")"
	exit 1
fi
LIB=$EMGAP_SRC/build/windows/libemgap_win.a
x86_64-w64-mingw32-nm "$LIB" >"$T/nm" 2>&1
check "library exports emg_backend_windows_open" grep -q ' T emg_backend_windows_open$' "$T/nm"
check "backend calls ChangeServiceConfigA" grep -q ' U __imp_ChangeServiceConfigA$' "$T/nm"
check "backend calls ControlService" grep -q ' U __imp_ControlService$' "$T/nm"
# The same source refuses to build for anything but Windows.
if cc -std=c11 -Icommon -I"$EMGAP_SRC/common" -I"$EMGAP_SRC" -c "$EMGAP_SRC/apply/win/backend_win.c" -o "$T/x.o" 2>"$T/cc.err"; then
	fail "backend_win.c refuses a non-Windows build" "it compiled"
else
	expect_err_file() { grep -q "make windows" "$T/cc.err"; }
	if expect_err_file; then pass "backend_win.c refuses a non-Windows build"; else fail "backend_win.c refuses a non-Windows build" "$(head -c 300 "$T/cc.err")"; fi
fi
