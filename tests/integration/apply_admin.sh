# apply_admin.sh - emgap-apply's admin commands on one simulated server,
# with real signed bundles and real runs: status (table, CSV that parses
# back, JSON), get-server, block -> run -> unblock -> re-applied, revert
# of each action type back to the original bytes, set-server/set-org and
# what they write, the audit log and its chain, bad arguments.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/admin.sh"

adm_org "$T/org" || { fail "fixture" "PKI or org keys failed"; exit 1; }
S=$T/s1
adm_server "$S" EXCH01 "$T/share" || { fail "fixture" "server tree"; exit 1; }
adm_bundle "$T/org" 1 "$S/src/b1.bundle" || { fail "fixture" "bundle"; exit 1; }
C="--config $S/apply.conf"
WEB=$S/srv/inetpub/wwwroot/web.config
AH=$S/srv/Windows/System32/inetsrv/config/applicationHost.config
SIM=$S/srv/emgap-sim-host.txt

# ---- a first run, then status ----
expect_exit "run applies the bundle" 0 emgap-apply run $C
expect_exit "status" 0 emgap-apply status $C
expect_out "status: M1.1 Applied" "M1.1    IISUrlRewrite Applied"
for want in "M2.1 .* Applied" "M2.2 .* Applied" "M3.1 .* Service .* Applied" "M4.1 .* AppPool .* Applied" \
	"PING1.1 .* Applied" "M5.1 .* Unsupported" "M6.1 .* Obsolete"; do
	if grep -q "^$want" "$T/out"; then pass "status shows $want"; else fail "status shows $want" "$(cat "$T/out")"; fi
done
expect_exit "status --identity M2" 0 emgap-apply status --identity M2 $C
n=$(grep -c '^M2\.' "$T/out")
[ "$n" -eq 2 ] && ! grep -q '^M1' "$T/out" && pass "--identity M2 shows M2.1 and M2.2 only" ||
	fail "--identity M2 shows M2.1 and M2.2 only" "$(cat "$T/out")"
expect_exit "status --identity M9 is a usage error" 2 emgap-apply status --identity M9 $C
expect_err "unknown id named" "unknown mitigation id 'M9'"
expect_exit "status --identity with a bad id" 2 emgap-apply status --identity 'M1;rm' $C

# CSV and JSON describe the same rows; the CSV parses back.
expect_exit "status --csv" 0 emgap-apply status --csv "$T/st.csv" $C
expect_exit "status --json" 0 emgap-apply status --json $C
cp "$T/out" "$T/st.json"
if python3 - "$T/st.csv" "$T/st.json" <<'EOF'
import csv, json, sys
with open(sys.argv[1], newline='') as f:
    raw = f.read()
rows = list(csv.reader(raw.splitlines(keepends=True)))
assert raw.endswith("\r\n"), "CRLF line ends"
assert rows[0] == ["Id", "Type", "Description", "Status", "Reason"], rows[0]
js = json.load(open(sys.argv[2]))
assert len(rows) - 1 == len(js) == 8, (len(rows), len(js))
for r, j in zip(rows[1:], js):
    assert r[:4] == [j["Id"], j["Type"], j["Description"], j["Status"]], (r, j)
m1 = [r for r in rows if r[0] == "M1.1"][0]
assert m1[2] == 'CVE-2022-41040: block "Autodiscover" requests, to PowerShell, early', m1
EOF
then pass "CSV parses back: header, quotes and commas, same rows as JSON"; else fail "CSV parses back" "$(cat "$T/st.csv")"; fi
grep -q '"CVE-2022-41040: block ""Autodiscover"" requests, to PowerShell, early"' "$T/st.csv" &&
	pass "CSV doubles quotes inside a quoted field" || fail "CSV doubles quotes" "$(cat "$T/st.csv")"

# ---- get-server ----
expect_exit "get-server" 0 emgap-apply get-server $C
expect_out "get-server name" "Name               : EXCH01"
expect_out "get-server enabled" "MitigationsEnabled : True"
expect_out "get-server applied" "MitigationsApplied : {M1.1, M2.1, M2.2, M3.1, M4.1, PING1.1}"
expect_out "get-server blocked" "MitigationsBlocked : {}"
expect_exit "get-server --json" 0 emgap-apply get-server --json $C
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))[0]; assert d["Name"]=="EXCH01" and "M4.1" in d["MitigationsApplied"] and d["MitigationsBlocked"]==[]' "$T/out" &&
	pass "get-server --json parses" || fail "get-server --json parses" "$(cat "$T/out")"

# ---- check-source ----
expect_exit "check-source with a valid bundle" 0 emgap-apply check-source $C
expect_out "source readable" "source $S/src: readable"
expect_out "bundle listed with sequence, age and expiry" "b1.bundle: sequence 1, created "
expect_out "expiry shown" "expires 2099-01-01T00:00:00Z"
expect_out "already applied noted" "verifies, already applied"
expect_out "newest valid bundle named" "newest valid bundle: $S/src/b1.bundle (sequence 1)"
head -c 3000 "$S/src/b1.bundle" >"$S/src/b2.bundle"
expect_exit "a truncated bundle beside a valid one" 0 emgap-apply check-source $C
expect_out "truncated bundle reported" "b2.bundle: does not verify"
mkdir -p "$T/hold" && mv "$S/src/b1.bundle" "$T/hold/"
expect_exit "only a bad bundle: verification error" 4 emgap-apply check-source $C
expect_err "says none verifies" "none of the 1 bundles found verifies"
rm -f "$S/src/b2.bundle"
expect_exit "no bundle at all: I/O" 7 emgap-apply check-source $C
expect_err "says nothing found" "no bundle found in any configured source"
mv "$T/hold/b1.bundle" "$S/src/"

# ---- block -> run -> unblock -> re-applied ----
cp "$WEB" "$T/web.applied"
expect_exit "block M1" 0 emgap-apply block M1 $C
expect_err "block says the applied action stays in place" "note: M1.1 stays in place (blocking removes nothing); 'emgap-apply revert M1.1' removes it"
grep -q '^mitigations_blocked = M1$' "$S/state/server.conf" && pass "block writes server.conf" ||
	fail "block writes server.conf" "$(cat "$S/state/server.conf")"
expect_exit "run after block" 0 emgap-apply run $C
same_file "blocking does not remove the rule" "$WEB" "$T/web.applied"
emgap-apply status --identity M1 $C >"$T/out" 2>&1
grep -q "^M1.1 .* Blocked" "$T/out" && pass "blocked action shows Blocked" || fail "blocked action shows Blocked" "$(cat "$T/out")"
# Blocking does not remove: the reports say it is still there, and how to remove it.
grep -q "^M1.1 .* Blocked .*(MitigationsBlocked contains M1; still in place: use revert to remove)" "$T/out" &&
	pass "blocked and in place: the reason says so and names revert" ||
	fail "blocked and in place: the reason says so and names revert" "$(cat "$T/out")"
awk '$1 == "action" { on = ($2 == "M1.1") } on && $1 == "in-place" { print $2; exit }' "$S/state/state" >"$T/inplace"
[ "$(cat "$T/inplace")" = 1 ] && pass "blocked M1.1: the state still has it in place" ||
	fail "blocked M1.1: the state still has it in place" "in-place '$(cat "$T/inplace")'"
emgap-apply get-server $C >"$T/out" 2>&1
expect_out "blocked but in place: still in MitigationsApplied" "MitigationsApplied : {M1.1, M2.1, M2.2, M3.1, M4.1, PING1.1}"
expect_out "blocked: in MitigationsBlocked as well" "MitigationsBlocked : {M1}"
grep -q '^mitigations_applied = M1.1,' "$T/share/servers/EXCH01.status" &&
	pass "blocked but in place: the fleet status file lists it as applied" ||
	fail "blocked but in place: the fleet status file lists it as applied" "$(cat "$T/share/servers/EXCH01.status")"
expect_exit "revert M1" 0 emgap-apply revert M1 $C
same_file "revert removes the site rule: web.config as it was" "$WEB" "$S/srv.orig/inetpub/wwwroot/web.config"
expect_exit "run after revert" 0 emgap-apply run $C
same_file "a reverted, blocked rule stays out" "$WEB" "$S/srv.orig/inetpub/wwwroot/web.config"
emgap-apply get-server $C >"$T/out" 2>&1
expect_out "reverted: gone from MitigationsApplied" "MitigationsApplied : {M2.1, M2.2, M3.1, M4.1, PING1.1}"
emgap-apply status --identity M1 $C >"$T/out" 2>&1
grep -q "^M1.1 .* Blocked .*(MitigationsBlocked contains M1)$" "$T/out" &&
	pass "reverted and blocked: no longer said to be in place" ||
	fail "reverted and blocked: no longer said to be in place" "$(cat "$T/out")"
expect_exit "unblock M1" 0 emgap-apply unblock M1 $C
expect_out "unblock says the next run re-applies" "the next run applies"
expect_exit "run after unblock" 0 emgap-apply run $C
same_file "unblocked rule re-applied" "$WEB" "$T/web.applied"
emgap-apply get-server $C >"$T/out" 2>&1
expect_out "M1.1 applied again" "MitigationsApplied : {M1.1,"

# ---- revert of every action type restores the original bytes ----
expect_exit "revert M2 M3 M4 (rules, service, app pool)" 0 emgap-apply revert M2 M3 M4 $C
same_file "applicationHost.config as it was" "$AH" "$S/srv.orig/Windows/System32/inetsrv/config/applicationHost.config"
grep -q "$(printf 'service\tMSExchangeUM\tAutomatic\trunning')" "$SIM" &&
	grep -q "$(printf 'apppool\tMSExchangeECPAppPool\trunning')" "$SIM" &&
	pass "service and app pool back to their recorded state" || fail "service and app pool restored" "$(cat "$SIM")"
expect_exit "revert M1 --no-block" 0 emgap-apply revert --no-block M1 $C
same_file "web.config as it was" "$WEB" "$S/srv.orig/inetpub/wwwroot/web.config"
grep -q '^mitigations_blocked = M2, M3, M4$' "$S/state/server.conf" && pass "revert blocks, --no-block does not" ||
	fail "revert blocks, --no-block does not" "$(cat "$S/state/server.conf")"

# ---- set-server / set-org ----
expect_exit "set-server --mitigations-blocked M1,M2.1" 0 emgap-apply set-server --mitigations-blocked "M1, M2.1" $C
grep -q '^mitigations_blocked = M1, M2.1$' "$S/state/server.conf" && pass "--mitigations-blocked replaces the list" ||
	fail "--mitigations-blocked replaces the list" "$(cat "$S/state/server.conf")"
expect_exit "unblock M1.1 while M1 is blocked" 0 emgap-apply unblock M1.1 $C
expect_err "says M1.1 stays blocked by M1" "M1.1 stays blocked by M1"
expect_exit "set-server --mitigations-blocked '' empties it" 0 emgap-apply set-server --mitigations-blocked "" $C
grep -q '^mitigations_blocked = *$' "$S/state/server.conf" && pass "empty list as @()" ||
	fail "empty list as @()" "$(cat "$S/state/server.conf")"
expect_exit "set-server --mitigations-enabled false" 0 emgap-apply set-server --mitigations-enabled false $C
grep -q '^mitigations_enabled = false$' "$S/state/server.conf" && pass "server switch written" ||
	fail "server switch written" "$(cat "$S/state/server.conf")"
emgap-apply get-server $C >"$T/out" 2>&1
expect_out "get-server shows False" "MitigationsEnabled : False"
expect_exit "set-org --mitigations-enabled false" 0 emgap-apply set-org --mitigations-enabled false $C
grep -q '^mitigations_enabled = false$' "$T/share/org.conf" && pass "org file written on the share" ||
	fail "org file written on the share" "$(cat "$T/share/org.conf" 2>&1)"
expect_exit "set-org back to true" 0 emgap-apply set-org --mitigations-enabled TRUE $C

# ---- bad arguments: exit 2 with a message, nothing changed ----
cp "$S/state/server.conf" "$T/server.conf.before"
expect_exit "block without ids" 2 emgap-apply block $C
expect_err "block without ids says so" "needs at least one mitigation id"
expect_exit "block of an unknown id" 2 emgap-apply block M9 $C
expect_err "unknown id named with the known ones" "unknown mitigation id 'M9' (known: M1, M2, M3, M4, M5, M6, PING1)"
expect_exit "block of a malformed id" 2 emgap-apply block 'M1/../x' $C
expect_err "malformed id named" "'M1/../x' is not a mitigation id"
expect_exit "unblock of an unknown id" 2 emgap-apply unblock M77 $C
expect_exit "set-server with a bad boolean" 2 emgap-apply set-server --mitigations-enabled yes $C
expect_err "bad boolean named" "--mitigations-enabled takes true or false, not 'yes'"
expect_exit "set-org with a bad boolean" 2 emgap-apply set-org --mitigations-enabled 2 $C
expect_exit "set-server without options" 2 emgap-apply set-server $C
expect_exit "set-server with a bad list" 2 emgap-apply set-server --mitigations-blocked "M1,,M2" $C
expect_exit "unknown option" 2 emgap-apply status --bogus $C
expect_err "unknown option named" "unknown option '--bogus'"
expect_exit "--share without --all" 2 emgap-apply get-server --share "$T/share/servers" $C
expect_exit "audit without --verify" 2 emgap-apply audit $C
same_file "bad arguments changed nothing" "$S/state/server.conf" "$T/server.conf.before"
expect_exit "block --force of an id not yet in a bundle" 0 emgap-apply block --force M42 $C

# ---- the state lock: a change while a run holds it is busy (8) ----
if command -v flock >/dev/null 2>&1; then
	cp "$S/state/server.conf" "$T/server.conf.unlocked"
	flock -x "$S/state/lock" sleep 2 &
	LPID=$!
	sleep 0.3
	expect_exit "block while the lock is held: busy" 8 emgap-apply block M1 $C
	expect_err "busy explained" "another emgap-apply is running"
	expect_exit "audit --verify while the lock is held: busy" 8 emgap-apply audit --verify $C
	wait "$LPID"
	same_file "a busy command changed nothing" "$S/state/server.conf" "$T/server.conf.unlocked"
fi

# ---- the audit log ----
L=$S/state/audit.log
n=$(wc -l <"$L")
expect_exit "audit --verify on the real log" 0 emgap-apply audit --verify $C
expect_out "audit counts entries" "audit log intact: $n entries"
[ "$n" -ge 8 ] && pass "every admin command appended an entry" || fail "every admin command appended" "$(cat "$L")"
for cmd in "block M1" "unblock M1" "set-server --mitigations-blocked M1, M2.1" "set-org --mitigations-enabled false" \
	"block --force M42" "revert M1" "revert M2 M3 M4" "revert --no-block M1"; do
	grep -qF "$(printf '\t%s\t' "$cmd")" "$L" && pass "audited: $cmd" || fail "audited: $cmd" "$(cat "$L")"
done
grep -qF "$(printf '\tMitigationsEnabled=True MitigationsBlocked={}\tMitigationsEnabled=True MitigationsBlocked={M1}\t')" "$L" &&
	pass "audit records before and after" || fail "audit records before and after" "$(head -3 "$L")"
grep -qF "$(printf '\trevert M1\tin place\treverted, blocked\t')" "$L" &&
	pass "audit records what a revert did" || fail "audit records what a revert did" "$(grep revert "$L")"
grep -qF "$(printf '\trevert --no-block M1\tin place\treverted\t')" "$L" &&
	pass "audit records a revert without block" || fail "audit records a revert without block" "$(grep revert "$L")"
grep -q "$(printf '^1\t[0-9T:-]*Z\t%s\t' "$(id -un)")" "$L" && pass "audit records the user" ||
	fail "audit records the user" "$(head -1 "$L")"
cp "$L" "$T/audit.good"
cp "$S/state/server.conf" "$T/server.conf.good"
sed "3s/$(printf '\t')$(id -un)$(printf '\t')/$(printf '\t')mallory$(printf '\t')/" "$T/audit.good" >"$L"
expect_exit "edited line found" 4 emgap-apply audit --verify $C
expect_err "edited line named" "line 3: hash does not match"
sed '2d' "$T/audit.good" >"$L"
expect_exit "deleted line found" 4 emgap-apply audit --verify $C
expect_err "deleted line named" "line 2: entry number 3, expected 2"
sed '$d' "$T/audit.good" >"$L"
expect_exit "deleted last line found" 4 emgap-apply audit --verify $C
expect_err "cut log reported" "lines were deleted from the end"
expect_exit "no admin change while the log is cut" 4 emgap-apply block M1 $C
same_file "the refused change left server.conf alone" "$S/state/server.conf" "$T/server.conf.good"
cp "$T/audit.good" "$L"
expect_exit "restored log verifies" 0 emgap-apply audit --verify $C

# ---- help ----
expect_exit "block --help" 0 emgap-apply block --help
expect_out "block --help prints its usage" "usage: emgap-apply block [--force] ID..."
expect_exit "status --help" 0 emgap-apply status --help
expect_out "status --help prints its usage" "usage: emgap-apply status [--identity ID]"
