# demo_end_to_end.sh - runs scripts/demo.sh (what `make demo` runs) with its
# work directory under $TEST_TMP and checks the end state it leaves with the
# real programs: the mitigations applied, blocked and reverted as narrated,
# the M1 rule spliced into the sample web.config (nothing else changed), the
# BEC2021 rules gone again from applicationHost.config, the fleet view on
# the share, the audit chain intact, the tampered bundle refused with exit
# 4, and nginx stopped. Then the cleanup paths: a demo that stops at a
# missing program names the step, removes its work directory and leaves no
# server running; a non-empty DEMO_DIR is refused and left alone.
. "$EMGAP_SRC/tests/lib/testlib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

DEMO=$EMGAP_SRC/scripts/demo.sh
D=$T/demo
SAMPLE=$EMGAP_SRC/samples/exchange2019
WEBCONF=inetpub/wwwroot/web.config
APPHOST=Windows/System32/inetsrv/config/applicationHost.config

# servers_of DIR: the processes (nginx) still running with a file under
# DIR on their command line; fails when there are none. Reads /proc, since
# ps is not on every minimal system.
servers_of() {
	_found=1
	for _c in /proc/[0-9]*/cmdline; do
		_a=$( { tr '\0' ' ' <"$_c"; } 2>/dev/null) || continue
		case $_a in
		*"$1/"*) echo "${_c%/cmdline}: $_a"; _found=0 ;;
		esac
	done
	return $_found
}

# --- the whole demo ---
start=$(date +%s)
DEMO_DIR=$D DEMO_KEEP=1 EMGAP_BIN=$EMGAP_BIN sh "$DEMO" >"$T/demo.out" 2>"$T/demo.err" </dev/null
rc=$?
took=$(($(date +%s) - start))
if [ "$rc" -eq 0 ]; then
	pass "demo: exits 0"
else
	fail "demo: exits 0" "exit $rc: $(tail -n 5 "$T/demo.err") / $(tail -n 15 "$T/demo.out")"
	exit 1
fi
missing=""
for n in 1 2 3 4 5 6; do
	grep -q "^\[$n/6\] " "$T/demo.out" || missing="$missing $n"
done
if [ -z "$missing" ] && grep -q "^demo: all six steps done" "$T/demo.out"; then
	pass "demo: narrates all six steps"
else
	fail "demo: narrates all six steps" "missing step(s)$missing"
fi
# The time is the release build's property; under valgrind it says nothing.
if [ "$EMGAP_VARIANT" = valgrind ]; then
	:
elif [ "$took" -lt 60 ]; then pass "demo: under a minute (${took}s)"; else fail "demo: under a minute" "${took}s"; fi
expect_out_demo() { # NAME TEXT
	if grep -qF -- "$2" "$T/demo.out"; then pass "$1"; else fail "$1" "demo output lacks '$2'"; fi
}
expect_out_demo "demo: the mirror published a bundle" "published dmz/drop/emgap-1.bundle"
expect_out_demo "demo: one signature is below the threshold" "1 of 2 required signing keys valid"
expect_out_demo "demo: two signers verify" "2 valid signers"
expect_out_demo "demo: the dry run shows the diff" "+++ b/"
expect_out_demo "demo: says the tampered bundle was refused with exit 4" "Refused with exit 4"

# --- nothing left running ---
if servers_of "$D" >"$T/ps" 2>&1; then
	fail "demo: nginx stopped" "$(cat "$T/ps")"
else
	pass "demo: nginx stopped"
fi
if [ -f "$D/vendor/srv/nginx.pid" ] && kill -0 "$(cat "$D/vendor/srv/nginx.pid")" 2>/dev/null; then
	fail "demo: the pid in nginx.pid is gone" "$(cat "$D/vendor/srv/nginx.pid")"
else
	pass "demo: the pid in nginx.pid is gone"
fi

# --- the server's state, through the real emgap-apply ---
C=$D/exch01/apply.conf
expect_exit "status: exit 0" 0 emgap-apply status --json --config "$C"
# status_is ID STATUS: the JSON status line of ID says STATUS.
status_is() {
	if grep -q "\"Id\": \"$1\",.*\"Status\": \"$2\"" "$T/out"; then
		pass "status: $1 $2"
	else
		fail "status: $1 $2" "$(grep "\"$1\"" "$T/out")"
	fi
}
status_is M1.1 Applied
status_is PING1.1 Applied
status_is AP1.1 Applied
status_is AP1.2 Blocked
status_is BEC2021.1 Blocked
status_is BEC2021.2 Blocked
status_is UM1.1 NotApplicable
status_is UM1.2 NotApplicable
expect_exit "get-server: exit 0" 0 emgap-apply get-server --config "$C"
expect_out "get-server: MitigationsApplied" "MitigationsApplied : {AP1.1, M1.1, PING1.1}"
expect_out "get-server: MitigationsBlocked" "MitigationsBlocked : {AP1.2, BEC2021}"
expect_exit "get-server --all: exit 0" 0 emgap-apply get-server --all --share "$D/share/servers"
expect_out "get-server --all: EXCH01 from the share" "Name                  : EXCH01"
expect_out "get-server --all: its applied ids" "MitigationsApplied    : {AP1.1, M1.1, PING1.1}"
expect_out "get-server --all: its bundle sequence" "BundleSequence        : 1"
expect_exit "audit --verify: the chain holds" 0 emgap-apply audit --verify --config "$C"

# --- the files on the server copy, against the pristine sample ---
R=$D/exch01/root
if grep -q 'rule name="EEMS M1.1 PowerShell - inbound"' "$R/$WEBCONF" &&
	grep -qF 'pattern="(?=.*autodiscover)(?=.*powershell)"' "$R/$WEBCONF"; then
	pass "web.config: the M1 rule is there"
else
	fail "web.config: the M1 rule is there" "$(cat "$R/$WEBCONF")"
fi
# Only added lines: every line of the sample is still there, in order.
diff "$SAMPLE/$WEBCONF" "$R/$WEBCONF" >"$T/web.diff"
if [ $? -eq 1 ] && ! grep -q '^<' "$T/web.diff"; then
	pass "web.config: the sample's lines untouched, the rule added"
else
	fail "web.config: the sample's lines untouched, the rule added" "$(head -n 20 "$T/web.diff")"
fi
if [ "$(grep -c "$(printf '\r')\$" "$R/$WEBCONF")" -eq "$(wc -l <"$R/$WEBCONF")" ]; then
	pass "web.config: CRLF line ends kept"
else
	fail "web.config: CRLF line ends kept" "some lines end in LF only"
fi
if grep -q "X-AnonResource-Backend\|X-BEResource" "$R/$APPHOST"; then
	fail "applicationHost.config: BEC2021 rules reverted" "$(grep -n "X-" "$R/$APPHOST")"
else
	pass "applicationHost.config: BEC2021 rules reverted"
fi
# Left: only AP1.1's change to the ECP pool's line.
diff "$SAMPLE/$APPHOST" "$R/$APPHOST" >"$T/apphost.diff"
if [ "$(grep -c '^[<>]' "$T/apphost.diff")" -eq 2 ] &&
	grep -q '^> .*name="MSExchangeECPAppPool" autoStart="false".*startMode="OnDemand"' "$T/apphost.diff"; then
	pass "applicationHost.config: only the ECP pool line differs from the sample"
else
	fail "applicationHost.config: only the ECP pool line differs from the sample" "$(head -n 20 "$T/apphost.diff")"
fi
if grep -q "^apppool.MSExchangeECPAppPool.stopped" "$R/emgap-sim-host.txt" &&
	grep -q "^apppool.MSExchangeOABAppPool.running" "$R/emgap-sim-host.txt"; then
	pass "host: ECP pool stopped, OAB pool (blocked) still running"
else
	fail "host: ECP pool stopped, OAB pool (blocked) still running" "$(cat "$R/emgap-sim-host.txt")"
fi
if grep -q "1005 info M1.1 applied" "$D/exch01/state/emgap.log" &&
	grep -q "1005 info BEC2021.1 reverted" "$D/exch01/state/emgap.log" &&
	grep -q "1008 error bundle .*tampered.bundle skipped" "$D/exch01/state/emgap.log"; then
	pass "events: 1005 applied and reverted, 1008 for the tampered bundle"
else
	fail "events: 1005 applied and reverted, 1008 for the tampered bundle" "$(cat "$D/exch01/state/emgap.log")"
fi

# --- the tampered bundle: refused with exit 4, the genuine one accepted ---
expect_exit "tampered bundle: emgap-bundle verify exits 4" 4 \
	emgap-bundle verify --trust "$D/exch01/trust" "$D/usb/tampered.bundle"
expect_err "tampered bundle: names the member that does not match" \
	"member 'ocs/GetExchangeMitigations.xml' does not match its SHA-256"
expect_exit "genuine bundle: emgap-bundle verify exits 0" 0 \
	emgap-bundle verify --trust "$D/exch01/trust" "$D/usb/emgap-1.bundle"

# --- a step that cannot run: stops there, names it, cleans up ---
mkdir -p "$T/bin"
for p in emgap-keys emgap-bundle emgap-apply; do
	ln -s "$EMGAP_BIN/$p" "$T/bin/$p"
done
DEMO_DIR=$T/demo2 EMGAP_BIN=$T/bin sh "$DEMO" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ "$rc" -ne 0 ]; then pass "no emgap-mirror: demo fails"; else fail "no emgap-mirror: demo fails" "exit 0"; fi
expect_err "no emgap-mirror: names the step and the program" "stopped at step 3"
expect_err "no emgap-mirror: says which program is missing" "emgap-mirror is not built"
check "no emgap-mirror: work directory removed" test ! -e "$T/demo2"
if servers_of "$T/demo2" >"$T/ps" 2>&1; then
	fail "no emgap-mirror: nginx stopped" "$(cat "$T/ps")"
else
	pass "no emgap-mirror: nginx stopped"
fi

# --- a DEMO_DIR that is not empty is refused and left alone ---
mkdir -p "$T/full" && echo keep >"$T/full/precious"
DEMO_DIR=$T/full EMGAP_BIN=$EMGAP_BIN sh "$DEMO" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ "$rc" -ne 0 ]; then pass "non-empty DEMO_DIR: refused"; else fail "non-empty DEMO_DIR: refused" "exit 0"; fi
expect_err "non-empty DEMO_DIR: says why" "is not empty"
if [ "$(cat "$T/full/precious" 2>/dev/null)" = keep ] && [ "$(ls -A "$T/full")" = precious ]; then
	pass "non-empty DEMO_DIR: left as it was"
else
	fail "non-empty DEMO_DIR: left as it was" "$(ls -A "$T/full")"
fi
