# apply_run.sh - emgap-apply run and revert end to end: real bundles
# (minisign-compatible org signatures, xmlsec-signed vendor feed, CRLs),
# a CRLF Exchange 2019 server tree, the sim host backend.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"

F=$T/fix
apply_fixture "$F" || { fail "fixture" "PKI, keys or tree setup failed"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$F/src/emgap-1.bundle" ||
	{ fail "fixture bundle" "$(cat "$F/bundle.err")"; exit 1; }
cp -R "$F/root" "$T/pristine"

WC=root/inetpub/wwwroot/web.config
AH=root/Windows/System32/inetsrv/config/applicationHost.config
OWA="root/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/web.config"

# fresh NAME: a copy of the fixture in $T/NAME, made the current dir.
fresh() {
	rm -rf "$T/$1"
	cp -R "$F" "$T/$1"
	cd "$T/$1" || exit 1
}

# status SUBID: the status the state file records for SUBID.
status() {
	awk -v id="$1" '$1 == "action" && $2 == id { on = 1 } on && $1 == "status" { print $2; exit }' state/state
}

expect_status() { # NAME SUBID STATUS
	_s=$(status "$2")
	if [ "$_s" = "$3" ]; then pass "$1"; else fail "$1" "$2 is '$_s', wanted $3"; fi
}

# --- apply -> state -> status -----------------------------------------------
fresh a
expect_exit "first run applies" 0 emgap-apply run --config apply.conf
expect_out "first run names the bundle" "sequence 1"
expect_status "PING1.1 Applied" PING1.1 Applied
expect_status "M1.1 (Site rule) Applied" M1.1 Applied
expect_status "M2.2 (Server rule) Applied" M2.2 Applied
expect_status "M3.1 (VDir rule) Applied" M3.1 Applied
expect_status "UM.1 (Service) Applied" UM.1 Applied
expect_status "ECP.1 (AppPool) Applied" ECP.1 Applied
expect_status "OLD.1 above max build is Obsolete" OLD.1 Obsolete
expect_status "unknown action type is Unsupported" FUT.1 Unsupported
check "rule in the site web.config" grep -q 'EEMS M1.1 PowerShell - inbound' "$WC"
check "server rule in globalRules" grep -q 'X-BEResource Abort - inbound' "$AH"
check "vdir rule in owa web.config" grep -q 'EEMS M3.1 OWA' "$OWA"
check "web.config keeps CRLF on every line" sh -c "! grep -qv \"\$(printf '\\r')\$\" '$WC'"
check "service stopped and Disabled" grep -q "$(printf 'service\tMSExchangeUM\tDisabled\tstopped')" root/emgap-sim-host.txt
check "app pool stopped" grep -q "$(printf 'apppool\tMSExchangeECPAppPool\tstopped')" root/emgap-sim-host.txt
check "app pool autoStart=false startMode=OnDemand" grep -q 'name="MSExchangeECPAppPool" managedRuntimeVersion="v4.0" autoStart="false" startMode="OnDemand"' "$AH"
check "obsolete service left alone" grep -q "$(printf 'service\tMSExchangeUMCR\tManual\tstopped')" root/emgap-sim-host.txt
check "backup of the original kept in the state dir" sh -c "ls state/backup | grep -q ."
check "event 1005 logged" grep -q ' 1005 info M1.1 applied' state/emgap.log
check "event 1006 logged" grep -q ' 1006 info run finished' state/emgap.log
check "state records the sequence" grep -q '^sequence 1$' state/state

# --- idempotent second run ------------------------------------------------------
cp -R root "$T/after1"
expect_exit "second run exits 0" 0 emgap-apply run --config apply.conf
expect_out "second run: nothing to do" "no change since the last run"
if diff -r "$T/after1" root >/dev/null; then pass "second run: byte-identical files"; else fail "second run: byte-identical files" "$(diff -r "$T/after1" root | head -5)"; fi

# --- manual removal is re-applied ------------------------------------------------
cp "$T/pristine/inetpub/wwwroot/web.config" "$WC"
expect_exit "run after manual removal" 0 emgap-apply run --config apply.conf
same_file "removed rule re-applied byte for byte" "$T/after1/inetpub/wwwroot/web.config" "$WC"
printf 'service\tMSExchangeUM\tAutomatic\trunning\nservice\tMSExchangeUMCR\tManual\tstopped\napppool\tMSExchangeECPAppPool\tstopped\napppool\tMSExchangeOWAAppPool\trunning\n' >root/emgap-sim-host.txt
expect_exit "run after service re-enabled by hand" 0 emgap-apply run --config apply.conf
check "service disabled again" grep -q "$(printf 'service\tMSExchangeUM\tDisabled\tstopped')" root/emgap-sim-host.txt

# --- revert restores byte-identical originals --------------------------------------
expect_exit "revert every mitigation" 0 emgap-apply revert --config apply.conf M1 M2 M3 UM ECP
if diff -r "$T/pristine" root >/dev/null; then pass "revert: server tree byte-identical to the original"; else fail "revert: server tree byte-identical to the original" "$(diff -r "$T/pristine" root | head -5)"; fi
expect_status "reverted action is Reverted" M3.1 Reverted
check "revert blocks the ids" grep -q 'mitigations_blocked = M1, M2, M3, UM, ECP' state/server.conf
expect_exit "run after revert" 0 emgap-apply run --config apply.conf
expect_status "reverted and blocked stays Blocked" M1.1 Blocked
if diff -r "$T/pristine" root >/dev/null; then pass "blocked: nothing re-applied"; else fail "blocked: nothing re-applied" "$(diff -r "$T/pristine" root | head -5)"; fi
expect_exit "revert of an unknown id" 2 emgap-apply revert --config apply.conf NOPE
expect_err "unknown id named" "NOPE"

# --- blocked id / sub-id ----------------------------------------------------------
fresh b
mkdir -p state
printf '[server]\nmitigations_enabled = true\nmitigations_blocked = M2.1, M1\n' >state/server.conf
expect_exit "run with blocked ids" 0 emgap-apply run --config apply.conf
expect_status "blocked id M1: M1.1 Blocked" M1.1 Blocked
expect_status "blocked sub-id M2.1 Blocked" M2.1 Blocked
expect_status "sibling sub-id M2.2 still Applied" M2.2 Applied
same_file "blocked: site web.config untouched" "$T/pristine/inetpub/wwwroot/web.config" "$WC"
check "blocked: M2.1 rule absent" sh -c "! grep -q 'X-AnonResource-Backend' '$AH'"
check "blocked: M2.2 rule present" grep -q 'X-BEResource Abort' "$AH"
printf '[server]\nmitigations_enabled = true\nmitigations_blocked =\n' >state/server.conf
expect_exit "run after unblock" 0 emgap-apply run --config apply.conf
expect_status "unblocked M1.1 applied" M1.1 Applied

# --- server / org disabled ------------------------------------------------------------
for who in server org; do
	fresh "dis-$who"
	mkdir -p state
	if [ "$who" = server ]; then
		printf '[server]\nmitigations_enabled = false\n' >state/server.conf
	else
		printf '[organization]\nmitigations_enabled = false\n' >org.conf
	fi
	expect_exit "$who disabled: run exits 0" 0 emgap-apply run --config apply.conf
	if diff -r "$T/pristine" root >/dev/null; then pass "$who disabled: nothing applied"; else fail "$who disabled: nothing applied" "$(diff -r "$T/pristine" root | head -3)"; fi
	expect_status "$who disabled: M1.1 Blocked" M1.1 Blocked
	check "$who disabled: still checked (bundle accepted)" grep -q '^sequence 1$' state/state
	check "$who disabled: last check recorded" test -f state/last-check
done

# --- build above max -> Obsolete; auto_revert_obsolete -------------------------------
fresh obs
expect_exit "obsolete: first run" 0 emgap-apply run --config apply.conf
sed -i 's/^build = .*/build = 15.2.1258.12/' apply.conf
expect_exit "obsolete: run on the newer build" 0 emgap-apply run --config apply.conf
expect_status "build above max: M1.1 Obsolete" M1.1 Obsolete
check "obsolete: rule kept while auto_revert_obsolete is false" grep -q 'EEMS M1.1' "$WC"
printf '[policy]\nauto_revert_obsolete = true\n' >>apply.conf
expect_exit "obsolete: run with auto_revert_obsolete" 0 emgap-apply run --config apply.conf
same_file "obsolete: auto-reverted to the original bytes" "$T/pristine/inetpub/wwwroot/web.config" "$WC"
expect_status "obsolete: still Obsolete after revert" M1.1 Obsolete

# --- dry run changes nothing ------------------------------------------------------------
fresh dry
expect_exit "dry run exits 0" 0 emgap-apply run --dry-run --config apply.conf
expect_out "dry run prints a unified diff" "+++ b/inetpub/wwwroot/web.config"
expect_out "dry run shows the added rule" '+                <rule name="EEMS M1.1 PowerShell - inbound"'
expect_out "dry run shows the app pool change" '+            <add name="MSExchangeECPAppPool" managedRuntimeVersion="v4.0" autoStart="false" startMode="OnDemand" />'
expect_out "dry run names the service change" "would stop service MSExchangeUM"
if diff -r "$T/pristine" root >/dev/null; then pass "dry run: server tree unchanged"; else fail "dry run: server tree unchanged" "$(diff -r "$T/pristine" root | head -3)"; fi
check "dry run: no state written" test ! -e state/state
check "dry run: bundle not accepted" sh -c "! ls state | grep -qv '^lock\$'"

# --- malformed web.config: that action Failed, others proceed ---------------------------
fresh bad
printf '<?xml version="1.0"?>\r\n<configuration>\r\n  <system.webServer>\r\n</configuration>\r\n' >"$OWA"
cp "$OWA" "$T/bad-owa"
expect_exit "malformed web.config: exit 6" 6 emgap-apply run --config apply.conf
expect_status "malformed web.config: M3.1 Failed" M3.1 Failed
check "failure reason names the file" grep -q "^reason .*owa/web.config" state/state
expect_status "malformed web.config: M1.1 still Applied" M1.1 Applied
expect_status "malformed web.config: UM.1 still Applied" UM.1 Applied
same_file "malformed web.config left as it was" "$T/bad-owa" "$OWA"
check "event 1008 for the failure" grep -q ' 1008 error M3.1 failed' state/emgap.log
cp "$T/pristine/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/web.config" "$OWA"
expect_exit "fixed web.config: next run succeeds" 0 emgap-apply run --config apply.conf
expect_status "fixed web.config: M3.1 Applied" M3.1 Applied

# --- URL Rewrite module missing: Failed with the 500.19 reason ---------------------------
fresh nomod
sed -i '/RewriteModule/d' "$AH"
expect_exit "no RewriteModule: exit 6" 6 emgap-apply run --config apply.conf
expect_status "no RewriteModule: M1.1 Failed" M1.1 Failed
check "no RewriteModule: reason says 500.19" grep -q '^reason .*500.19' state/state
same_file "no RewriteModule: web.config untouched" "$T/pristine/inetpub/wwwroot/web.config" "$WC"
expect_status "no RewriteModule: service action still Applied" UM.1 Applied

# --- a second concurrent run exits 8 --------------------------------------------------------
fresh busy
mkdir -p state
: >state/lock
flock state/lock sleep 3 &
lockpid=$!
sleep 0.5
expect_exit "run while another holds the lock: exit 8" 8 emgap-apply run --config apply.conf
expect_err "busy message" "another emgap-apply is running"
wait $lockpid
expect_exit "run once the lock is free" 0 emgap-apply run --config apply.conf

# --- a tampered or partial newer bundle never blocks a valid older one ----------------------
fresh tamper
sed 's/evil/worse/' "$F/feed.xml" >"$T/feed2.xml"
apply_feed "$T/tamper" signed2 "$T/feed2.xml" && apply_bundle "$T/tamper" "$T/tamper/signed2.xml" 2 "$T/b2.bundle" ||
	fail "tamper: second bundle" "$(cat bundle.err)"
head -c 3000 "$T/b2.bundle" >src/emgap-2.bundle
expect_exit "partial newer bundle: run exits 0" 0 emgap-apply run --config apply.conf
check "partial newer bundle: sequence 1 accepted" grep -q '^sequence 1$' state/state
check "partial newer bundle: skip logged as 1008" grep -q ' 1008 error bundle .*emgap-2.bundle skipped' state/emgap.log
expect_status "partial newer bundle: M1.1 Applied from the older one" M1.1 Applied
cp "$OWA" "$T/owa.before-named"
expect_exit "partial bundle named with --bundle: exit 4" 4 emgap-apply run --config apply.conf --bundle src/emgap-2.bundle
expect_err "named partial bundle: message names it" "emgap-2.bundle"
same_file "named partial bundle: nothing changed" "$T/owa.before-named" "$OWA"
cp "$T/b2.bundle" src/emgap-2.bundle
expect_exit "complete newer bundle: run" 0 emgap-apply run --config apply.conf
check "complete newer bundle: sequence 2 accepted" grep -q '^sequence 2$' state/state
check "newer bundle: changed rule updated" grep -q 'pattern="worse"' "$OWA"
expect_exit "revert after an update" 0 emgap-apply revert --config apply.conf M3
same_file "revert after an update: original bytes" "$T/pristine/Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/owa/web.config" "$OWA"

# --- no bundle anywhere / bad config ---------------------------------------------------------
fresh none
rm -f src/*
expect_exit "no bundle: exit 0" 0 emgap-apply run --config apply.conf
expect_out "no bundle: says so" "no bundle found"
printf '[server]\nname = X\nbogus = 1\n' >bad.conf
expect_exit "unknown config key: exit 3" 3 emgap-apply run --config bad.conf
expect_err "unknown key named with file:line" "bad.conf:3"
sed 's/^root = root$/root = \//' apply.conf >slash.conf
expect_exit "root = / refused: exit 3" 3 emgap-apply run --config slash.conf
expect_err "root = / message" "allow_root_slash"
expect_exit "unknown run option: exit 2" 2 emgap-apply run --frobnicate --config apply.conf

# --- the sample Exchange 2019 tree with the sample feed, then revert all -------------------
fresh sample
rm -rf root src/*
cp -R "$EMGAP_SRC/samples/exchange2019" root
cp -R root "$T/sample-orig"
sed -i 's/^build = .*/build = 15.2.986.5/' apply.conf
apply_feed "$T/sample" sfeed "$EMGAP_SRC/samples/feeds/mitigations.xml" &&
	apply_bundle "$T/sample" "$T/sample/sfeed.xml" 1 src/emgap-1.bundle || fail "sample bundle" "$(cat bundle.err)"
expect_exit "sample tree: run" 0 emgap-apply run --config apply.conf
expect_status "sample tree: M1.1 Applied" M1.1 Applied
expect_status "sample tree: BEC2021.2 Applied" BEC2021.2 Applied
expect_status "sample tree: AP1.2 Applied" AP1.2 Applied
expect_status "sample tree: Exchange 2016 only action NotApplicable" UM1.1 NotApplicable
if diff -r "$T/sample-orig" root >/dev/null; then fail "sample tree: files changed" "nothing changed"; else pass "sample tree: files changed"; fi
expect_exit "sample tree: revert everything" 0 emgap-apply revert --config apply.conf M1 BEC2021 AP1 PING1
if diff -r "$T/sample-orig" root >/dev/null; then pass "sample tree: byte-identical after revert"; else fail "sample tree: byte-identical after revert" "$(diff -r "$T/sample-orig" root | head -5)"; fi
