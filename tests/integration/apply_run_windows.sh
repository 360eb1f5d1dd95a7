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
# Events go to the Windows event log there, behind the same events.h call.
check "library defines emg_event_system (events.h)" grep -q ' T emg_event_system$' "$T/nm"
check "events call ReportEventA" grep -q ' U __imp_ReportEventA$' "$T/nm"
check "events register the event source" grep -q ' U __imp_RegisterEventSourceA$' "$T/nm"
check "events release the event source" grep -q ' U __imp_DeregisterEventSource$' "$T/nm"
# The Linux build keeps syslog: no Windows object in the apply library.
nm "$EMGAP_SRC/build/$EMGAP_VARIANT/lib/libemgap_apply.a" >"$T/nm.linux" 2>&1
check "Linux events: syslog, no ReportEventA" sh -c "grep -Eq ' U (__)?syslog(_chk)?\$' '$T/nm.linux' && ! grep -q ReportEvent '$T/nm.linux'"
# The same sources refuse to build for anything but Windows.
if cc -std=c11 -I"$EMGAP_SRC/common" -I"$EMGAP_SRC" -c "$EMGAP_SRC/apply/win/events_win.c" -o "$T/y.o" 2>"$T/cc2.err"; then
	fail "events_win.c refuses a non-Windows build" "it compiled"
elif grep -q "make windows" "$T/cc2.err"; then
	pass "events_win.c refuses a non-Windows build"
else
	fail "events_win.c refuses a non-Windows build" "$(head -c 300 "$T/cc2.err")"
fi
if cc -std=c11 -Icommon -I"$EMGAP_SRC/common" -I"$EMGAP_SRC" -c "$EMGAP_SRC/apply/win/backend_win.c" -o "$T/x.o" 2>"$T/cc.err"; then
	fail "backend_win.c refuses a non-Windows build" "it compiled"
else
	expect_err_file() { grep -q "make windows" "$T/cc.err"; }
	if expect_err_file; then pass "backend_win.c refuses a non-Windows build"; else fail "backend_win.c refuses a non-Windows build" "$(head -c 300 "$T/cc.err")"; fi
fi
