# apply_run_plan.sh - emgap-apply run --dry-run as a plan: each action's
# line says what would happen (WouldApply, NoChange, WouldRevert), the
# state dir is left exactly as it was, and the printed diff applies with
# "patch -p1" in the server root to give what a real run writes.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"

F=$T/fix
apply_fixture "$F" || { fail "fixture" "PKI, keys or tree setup failed"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$F/src/emgap-1.bundle" ||
	{ fail "fixture bundle" "$(cat "$F/bundle.err")"; exit 1; }
WC=inetpub/wwwroot/web.config
AH=Windows/System32/inetsrv/config/applicationHost.config
OWA="Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/web.config"

# plan_line SUBID: the word after the type on SUBID's line of $T/out.
plan_line() { awk -v id="$1" '$1 == id { print $3; exit }' "$T/out"; }
expect_plan() { # NAME SUBID WORD
	_w=$(plan_line "$2")
	if [ "$_w" = "$3" ]; then pass "$1"; else fail "$1" "$2 shows '$_w', wanted $3: $(grep "^$2 " "$T/out")"; fi
}

# --- a first dry run: the plan says what would happen, never "Applied" ------------------
cp -R "$F" "$T/d" && cd "$T/d" || exit 1
expect_exit "dry run on a fresh server" 0 emgap-apply run --dry-run --config apply.conf
cp "$T/out" "$T/plan1"
expect_plan "rule to add: WouldApply" M1.1 WouldApply
expect_plan "server rule to add: WouldApply" M2.2 WouldApply
expect_plan "service to stop: WouldApply" UM.1 WouldApply
expect_plan "app pool to stop: WouldApply" ECP.1 WouldApply
expect_plan "obsolete action keeps its status word" OLD.1 Obsolete
check "no action claims Applied in a dry run" sh -c "! awk '{print \$3}' '$T/plan1' | grep -qx Applied"
check "dry run: no state written" test ! -e state/state

# --- the diff names files below the server root and applies with patch -p1 ---------------
expect_out "diff header relative to the server root (a/)" "--- a/$WC"
expect_out "diff header relative to the server root (b/)" "+++ b/$AH"
check "no double slash in the diff headers" sh -c "! grep -q '^[-+][-+][-+] [ab]//' '$T/plan1'"
check "no absolute test path in the diff headers" sh -c "! grep '^[-+][-+][-+] ' '$T/plan1' | grep -qF '$T'"
sed -n '/^--- /,$p' "$T/plan1" >"$T/plan1.diff"
cp -R root "$T/patched"
if (cd "$T/patched" && patch -p1 -s <"$T/plan1.diff") >"$T/patch.log" 2>&1; then
	pass "patch -p1 in the server root applies the dry-run diff"
else
	fail "patch -p1 in the server root applies the dry-run diff" "$(head -c 400 "$T/patch.log")"
fi
expect_exit "the real run" 0 emgap-apply run --config apply.conf
for f in "$WC" "$AH" "$OWA"; do
	same_file "patched = really applied: $f" "$T/patched/$f" "root/$f"
done

# --- after a run: NoChange, and a rule removed by hand is WouldApply again ----------------
cp "$F/root/$WC" "root/$WC"
for f in state/state state/emgap.log; do
	[ -e "$f" ] && cp -p "$f" "$T/before.$(basename "$f")"
done
ls -l --time-style=full-iso state >"$T/state.ls.before"
expect_exit "dry run after a run and a manual removal" 0 emgap-apply run --dry-run --config apply.conf
cp "$T/out" "$T/plan2"
expect_plan "removed by hand: WouldApply" M1.1 WouldApply
expect_plan "still in place: NoChange" M2.2 NoChange
expect_plan "service still stopped: NoChange" UM.1 NoChange
expect_out "the re-apply is announced as a plan" "M1.1: would re-apply"
for f in state emgap.log; do
	same_file "dry run leaves state/$f byte-identical" "state/$f" "$T/before.$f"
done
ls -l --time-style=full-iso state >"$T/state.ls.after"
same_file "dry run writes nothing in the state dir (names, sizes, times)" "$T/state.ls.before" "$T/state.ls.after"
grep -q '^status Applied' state/state && pass "state still records the real statuses" ||
	fail "state still records the real statuses" "$(head -20 state/state)"
same_file "dry run: the hand-edited file stays as it is" "$F/root/$WC" "root/$WC"

# --- an obsolete action with auto_revert_obsolete: WouldRevert ----------------------------
emgap-apply run --config apply.conf >/dev/null 2>&1
sed -i 's/^build = .*/build = 15.2.1258.12/' apply.conf
printf '[policy]\nauto_revert_obsolete = true\n' >>apply.conf
expect_exit "dry run on a build above M1's maximum" 0 emgap-apply run --dry-run --config apply.conf
expect_plan "obsolete and in place: WouldRevert" M1.1 WouldRevert
expect_out "the revert shows in the diff" "-                <rule name=\"EEMS M1.1 PowerShell - inbound\""
check "the rule is still there after the dry run" grep -q 'EEMS M1.1' "root/$WC"
