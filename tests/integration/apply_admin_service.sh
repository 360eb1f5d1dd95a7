# apply_admin_service.sh - "emgap-apply service" as a real daemon process:
# the first check waits for the delay and applies the bundle, checks
# repeat, SIGHUP reloads (a broken config is reported and the old one
# kept), SIGTERM stops cleanly with exit 0, --max-runs stops by itself,
# bad arguments are usage errors.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/admin.sh"

adm_org "$T/org" || { fail "fixture" "PKI or org keys failed"; exit 1; }
S=$T/s1
adm_server "$S" EXCH01 "$T/share" || { fail "fixture" "server tree"; exit 1; }
adm_bundle "$T/org" 1 "$S/src/b1.bundle" || { fail "fixture" "bundle"; exit 1; }
CONF=$S/apply.conf
LOG=$T/svc.log

# wait_for TEXT COUNT SECONDS: until LOG holds COUNT lines with TEXT.
wait_for() {
	_i=0
	while [ "$_i" -lt $(($3 * 10)) ]; do
		[ "$(grep -c -- "$1" "$LOG" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

emgap-apply service --config "$CONF" --first-delay 2 --interval 1 --jitter 0 >"$T/svc.out" 2>"$LOG" &
PID=$!
sleep 1
if grep -q "check finished\|check failed" "$LOG"; then fail "first check waits for --first-delay" "$(cat "$LOG")"; else
	pass "first check waits for --first-delay"; fi
wait_for "check finished: ok" 1 10 && pass "first check ran" || fail "first check ran" "$(cat "$LOG")"
cmp -s "$S/srv/inetpub/wwwroot/web.config" "$S/srv.orig/inetpub/wwwroot/web.config" &&
	fail "the check applied the bundle" "web.config unchanged" || pass "the check applied the bundle"
wait_for "check finished: ok" 2 10 && pass "checks repeat every interval" || fail "checks repeat" "$(cat "$LOG")"

kill -HUP "$PID"
wait_for "reloaded $CONF" 1 5 && pass "SIGHUP reloads the config" || fail "SIGHUP reloads" "$(cat "$LOG")"
cp "$CONF" "$T/apply.conf.good"
echo "bogus line" >>"$CONF"
kill -HUP "$PID"
wait_for "reload failed, keeping the old config" 1 5 && pass "broken config on SIGHUP reported" ||
	fail "broken config on SIGHUP reported" "$(cat "$LOG")"
n=$(grep -c "check finished" "$LOG")
wait_for "check finished: ok" $((n + 1)) 10 && pass "checks go on with the old config" ||
	fail "checks go on with the old config" "$(cat "$LOG")"
kill -0 "$PID" 2>/dev/null && pass "daemon survives a bad reload" || fail "daemon survives a bad reload" "$(cat "$LOG")"
cp "$T/apply.conf.good" "$CONF"

kill -TERM "$PID"
rc=0
i=0
while kill -0 "$PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$PID" 2>/dev/null; then
	fail "SIGTERM stops the daemon" "still running"
	kill -KILL "$PID"
else
	wait "$PID"
	rc=$?
	[ "$rc" -eq 0 ] && pass "SIGTERM stops the daemon with exit 0" || fail "SIGTERM exit code" "exit $rc; $(cat "$LOG")"
fi
grep -q "service: stopped" "$LOG" && pass "clean stop logged" || fail "clean stop logged" "$(cat "$LOG")"

expect_exit "--max-runs 2 stops by itself" 0 \
	emgap-apply service --config "$CONF" --first-delay 0 --interval 1 --jitter 0 --max-runs 2
[ "$(grep -c 'check finished' "$T/err")" -eq 2 ] && pass "exactly two checks" || fail "exactly two checks" "$(cat "$T/err")"

expect_exit "--interval 0 refused" 2 emgap-apply service --config "$CONF" --interval 0
expect_err "--interval 0 explained" "--interval must be at least 1 second"
expect_exit "--first-delay abc refused" 2 emgap-apply service --config "$CONF" --first-delay abc
expect_err "bad number named" "--first-delay takes a number of seconds, not 'abc'"
expect_exit "unknown service option" 2 emgap-apply service --config "$CONF" --forever
expect_exit "missing config is a config error" 3 emgap-apply service --config "$T/nope.conf" --max-runs 1
