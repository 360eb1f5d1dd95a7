# apply_admin_fleet.sh - several simulated servers on one share: the
# organisation/server MitigationsEnabled table (org false => nothing
# applied anywhere, server false => not on that server, and both still
# check and report), and the fleet view (get-server --all --share) over
# their status files, including a broken one.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/admin.sh"

adm_org "$T/org" || { fail "fixture" "PKI or org keys failed"; exit 1; }
SH=$T/share
adm_bundle "$T/org" 1 "$T/b1.bundle" || { fail "fixture" "bundle"; exit 1; }
for s in EXCH01 EXCH02 EXCH03 EXCH04; do
	adm_server "$T/$s" "$s" "$SH" || { fail "fixture" "server $s"; exit 1; }
	cp "$T/b1.bundle" "$T/$s/src/"
done
web() { echo "$T/$1/srv/inetpub/wwwroot/web.config"; }
orig_web() { echo "$T/$1/srv.orig/inetpub/wwwroot/web.config"; }

# Org true: EXCH01 (server true) applies, EXCH02 (server false) does not.
expect_exit "EXCH02: set-server --mitigations-enabled false" 0 \
	emgap-apply set-server --mitigations-enabled false --config "$T/EXCH02/apply.conf"
expect_exit "EXCH01 run (org true, server true)" 0 emgap-apply run --config "$T/EXCH01/apply.conf"
expect_exit "EXCH02 run (org true, server false)" 0 emgap-apply run --config "$T/EXCH02/apply.conf"
if cmp -s "$(web EXCH01)" "$(orig_web EXCH01)"; then fail "org true, server true: applied" "web.config unchanged"; else
	pass "org true, server true: applied"; fi
same_file "org true, server false: nothing applied" "$(web EXCH02)" "$(orig_web EXCH02)"
emgap-apply status --config "$T/EXCH02/apply.conf" >"$T/out" 2>&1
grep -q '^M1.1 ' "$T/out" && ! grep -q '^M1.1 .* Applied ' "$T/out" &&
	pass "server false: still checked, every action reported" || fail "server false: still reported" "$(cat "$T/out")"

# Org false (set from EXCH01, read by all): EXCH04 (server true) applies nothing.
expect_exit "set-org --mitigations-enabled false" 0 \
	emgap-apply set-org --mitigations-enabled false --config "$T/EXCH01/apply.conf"
expect_exit "EXCH04 run (org false, server true)" 0 emgap-apply run --config "$T/EXCH04/apply.conf"
same_file "org false, server true: nothing applied" "$(web EXCH04)" "$(orig_web EXCH04)"
cmp -s "$T/EXCH04/srv/emgap-sim-host.txt" "$T/EXCH04/srv.orig/emgap-sim-host.txt" &&
	pass "org false: no service or app pool touched" || fail "org false: host untouched" "$(cat "$T/EXCH04/srv/emgap-sim-host.txt")"
expect_exit "EXCH02 run (org false, server false)" 0 emgap-apply run --config "$T/EXCH02/apply.conf"
same_file "org false, server false: nothing applied" "$(web EXCH02)" "$(orig_web EXCH02)"
emgap-apply status --identity M1 --config "$T/EXCH04/apply.conf" >"$T/out" 2>&1
grep -q '^M1.1 ' "$T/out" && pass "org false: still checked, M1.1 reported" || fail "org false: still reported" "$(cat "$T/out")"
expect_exit "set-org back to true" 0 emgap-apply set-org --mitigations-enabled true --config "$T/EXCH01/apply.conf"
expect_exit "EXCH04 run (org true again)" 0 emgap-apply run --config "$T/EXCH04/apply.conf"
cmp -s "$(web EXCH04)" "$(orig_web EXCH04)" && fail "org true again: applied" "web.config unchanged" ||
	pass "org true again: applied"

# EXCH03 blocks M2; every server's status reaches the share.
expect_exit "EXCH03 run" 0 emgap-apply run --config "$T/EXCH03/apply.conf"
expect_exit "EXCH03 block M2" 0 emgap-apply block M2 --config "$T/EXCH03/apply.conf"
# A run alone (no admin command since) writes its server's status file.
grep -q '^mitigations_applied = M1.1,M2.1,M2.2,M3.1,M4.1,PING1.1$' "$SH/servers/EXCH04.status" &&
	grep -q '^sequence = 1$' "$SH/servers/EXCH04.status" && grep -q '^org_mitigations_enabled = true$' "$SH/servers/EXCH04.status" &&
	pass "each run writes its status file to the share" || fail "run writes its status file" "$(cat "$SH/servers/EXCH04.status" 2>&1)"
rm -f "$SH/servers/EXCH04.status"
ls "$SH/servers" >"$T/out"
[ "$(grep -c '\.status$' "$T/out")" -eq 3 ] && pass "three status files on the share" || fail "three status files" "$(cat "$T/out")"

expect_exit "fleet view" 0 emgap-apply get-server --all --share "$SH/servers"
cp "$T/out" "$T/fleet.txt"
[ "$(grep -c '^Name ' "$T/fleet.txt")" -eq 3 ] && pass "fleet view lists three servers" || fail "three servers" "$(cat "$T/fleet.txt")"
awk '/^Name/{n=$3} /^MitigationsEnabled/{print n, $3}' "$T/fleet.txt" >"$T/en"
printf 'EXCH01 True\nEXCH02 False\nEXCH03 True\n' | cmp -s - "$T/en" && pass "fleet view: each server's MitigationsEnabled, sorted" ||
	fail "fleet view MitigationsEnabled" "$(cat "$T/en")"
grep -q '^MitigationsApplied    : {M1.1, M2.1, M2.2, M3.1, M4.1, PING1.1}$' "$T/fleet.txt" &&
	pass "fleet view: applied list" || fail "fleet view: applied list" "$(cat "$T/fleet.txt")"
grep -q '^MitigationsBlocked    : {M2}$' "$T/fleet.txt" && pass "fleet view: EXCH03 blocks M2" ||
	fail "fleet view: EXCH03 blocks M2" "$(cat "$T/fleet.txt")"
grep -q '^ExchangeBuild         : 15.2.1118.7$' "$T/fleet.txt" && grep -q '^BundleSequence        : 1$' "$T/fleet.txt" &&
	pass "fleet view: build and sequence" || fail "fleet view: build and sequence" "$(cat "$T/fleet.txt")"
expect_exit "fleet view --json" 0 emgap-apply get-server --all --share "$SH/servers" --json
python3 - "$T/out" <<'EOF' && pass "fleet JSON parses: three servers" || fail "fleet JSON" "$(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["Name"] for s in d] == ["EXCH01", "EXCH02", "EXCH03"], d
assert d[1]["MitigationsEnabled"] is False and d[1]["MitigationsApplied"] == []
assert d[2]["MitigationsBlocked"] == ["M2"]
EOF
expect_exit "get-server --all from the config" 0 emgap-apply get-server --all --config "$T/EXCH02/apply.conf"
same_file "config's status_dir gives the same view" "$T/out" "$T/fleet.txt"

# A server that stopped checking (last check older than 2 x its interval) is Stale.
[ "$(grep -c '^Stale                 : False$' "$T/fleet.txt")" -eq 3 ] && pass "fleet view: servers that check are not Stale" ||
	fail "fleet view: servers that check are not Stale" "$(cat "$T/fleet.txt")"
grep -q '^interval = 3600$' "$SH/servers/EXCH02.status" && pass "status file carries the check interval" ||
	fail "status file carries the check interval" "$(cat "$SH/servers/EXCH02.status")"
old=$(date -u -d '-3 hours' +%Y-%m-%dT%H:%M:%SZ)
sed -i "s/^last_checked = .*/last_checked = $old/" "$SH/servers/EXCH02.status"
recent=$(date -u -d '-90 minutes' +%Y-%m-%dT%H:%M:%SZ)
sed -i "s/^last_checked = .*/last_checked = $recent/" "$SH/servers/EXCH03.status"
expect_exit "fleet view with a silent server" 0 emgap-apply get-server --all --share "$SH/servers"
awk '/^Name/{n=$3} /^Stale/{print n, $3}' "$T/out" >"$T/stale"
printf 'EXCH01 False\nEXCH02 True\nEXCH03 False\n' | cmp -s - "$T/stale" &&
	pass "fleet view: 3 h without a check (interval 1 h) is Stale; 90 min is not" ||
	fail "fleet view: Stale" "$(cat "$T/stale")"
expect_exit "fleet view --json with a silent server" 0 emgap-apply get-server --all --share "$SH/servers" --json
python3 - "$T/out" <<'EOF2' && pass "fleet JSON: Stale per server" || fail "fleet JSON: Stale" "$(cat "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert [s["Stale"] for s in d] == [False, True, False], d
EOF2
sed -i 's/^interval = .*/interval = 7200/' "$SH/servers/EXCH02.status"
emgap-apply get-server --all --share "$SH/servers" >"$T/out" 2>&1
grep -A12 '^Name .*EXCH02' "$T/out" | grep -q '^Stale .*: False$' &&
	pass "fleet view: judged against each server's own interval" ||
	fail "fleet view: judged against each server's own interval" "$(cat "$T/out")"
emgap-apply get-server --config "$T/EXCH01/apply.conf" >"$T/out" 2>&1
grep -q '^Stale' "$T/out" && fail "single-server get-server has no Stale line" "$(cat "$T/out")" ||
	pass "single-server get-server has no Stale line"
emgap-apply run --config "$T/EXCH02/apply.conf" >/dev/null 2>&1

# A broken status file is that server's error; the others still show.
printf '[server]\nname = EXCH05\nmitigations_enabled = maybe\n' >"$SH/servers/EXCH05.status"
expect_exit "broken status file: exit 3" 3 emgap-apply get-server --all --share "$SH/servers"
expect_out "broken file shown as that server's error" "Error : "
[ "$(grep -c '^Name ' "$T/out")" -eq 4 ] && pass "the other servers still shown" || fail "others still shown" "$(cat "$T/out")"
expect_err "broken file named with its line" "EXCH05.status:3"
expect_exit "missing share: I/O error" 7 emgap-apply get-server --all --share "$T/nowhere"
