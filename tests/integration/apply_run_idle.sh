# apply_run_idle.sh - the idle hourly run: it stays idle whatever directory
# it starts in (a relative --config is remembered by its real path), and a
# bad bundle that stays on a source is logged (event 1008) once per bundle,
# not on every hourly run.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"

F=$T/fix
apply_fixture "$F" || { fail "fixture" "PKI, keys or tree setup failed"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$F/src/emgap-1.bundle" ||
	{ fail "fixture bundle" "$(cat "$F/bundle.err")"; exit 1; }
cd "$F" || exit 1
mkdir -p elsewhere/deeper

# --- a relative --config, runs started from different directories ------------------------
expect_exit "first run, relative --config" 0 emgap-apply run --config apply.conf
expect_out "first run applies" "M1.1       IISUrlRewrite  Applied"
grep -q "^watch [^ ]* $F/apply.conf\$" state/state && pass "the state watches the config by its real path" ||
	fail "the state watches the config by its real path" "$(grep '^watch' state/state | head -3)"
(cd elsewhere/deeper && emgap-apply run --config ../../apply.conf) >"$T/out" 2>"$T/err"
expect_out "run from another directory is idle" "no change since the last run"
(cd elsewhere && emgap-apply run --config "$F/elsewhere/../apply.conf") >"$T/out" 2>"$T/err"
expect_out "run with an absolute --config is idle too" "no change since the last run"
touch apply.conf
(cd elsewhere && emgap-apply run --config ../apply.conf) >"$T/out" 2>"$T/err"
if grep -q "no change since the last run" "$T/out"; then
	fail "a touched config is noticed from another directory" "the run stayed idle"
else
	pass "a touched config is noticed from another directory"
fi

# --- a bad bundle that stays on the source: one event 1008, not one per run ----------------
head -c 3000 src/emgap-1.bundle >src/emgap-2.bundle
count_skips() { grep -c ' 1008 error bundle .*emgap-2.bundle skipped' state/emgap.log; }
for i in 1 2 3; do
	expect_exit "hourly run $i with a bad bundle on the source" 0 emgap-apply run --config apply.conf
done
n=$(count_skips)
[ "$n" -eq 1 ] && pass "the bad bundle is logged once, not on every run" ||
	fail "the bad bundle is logged once, not on every run" "$n events: $(grep 1008 state/emgap.log)"
expect_out "the runs after it stay idle" "no change since the last run"
sha=$(sha256sum src/emgap-2.bundle | cut -d' ' -f1)
grep -q "$sha" state/state && pass "the state remembers the bad bundle's hash" ||
	fail "the state remembers the bad bundle's hash" "$(grep -v '^ ' state/state | head -20)"
# Another bad bundle (another hash) is news again: logged once too.
head -c 2000 src/emgap-1.bundle >src/emgap-2.bundle
emgap-apply run --config apply.conf >/dev/null 2>&1
emgap-apply run --config apply.conf >/dev/null 2>&1
n=$(count_skips)
[ "$n" -eq 2 ] && pass "a different bad bundle is logged once as well" ||
	fail "a different bad bundle is logged once as well" "$n events: $(grep 1008 state/emgap.log)"
