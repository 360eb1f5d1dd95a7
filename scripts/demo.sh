#!/bin/sh
# demo.sh - the whole emgap pipeline on the bundled samples, narrated.
#
#   scripts/demo.sh            (make demo builds the programs first)
#
# In a work directory it plays every role once, with the real programs:
#   1. the vendor: a throwaway PKI signs samples/feeds/mitigations.xml with
#      xmlsec1; nginx serves it over HTTPS on 127.0.0.1 with its CRLs and
#      CTL cabs (the stand-in for officeclient.microsoft.com);
#   2. the signing station: an offline root key and two signing keys,
#      threshold 2;
#   3. the DMZ host: emgap-mirror run fetches, verifies and stages a bundle;
#      two signers sign it;
#   4. the air gap: the bundle is copied to a folder standing for a USB stick;
#   5. an Exchange 2019 server (a copy of samples/exchange2019): emgap-apply
#      run --dry-run shows the plan and diff, block keeps one action out,
#      emgap-apply run applies the rest;
#   6. day 2: status, get-server, revert another mitigation, audit --verify,
#      and a tampered bundle refused with its exit code.
#
# Environment:
#   DEMO_DIR=DIR   work directory (absent or empty; default: a new temp dir)
#   DEMO_KEEP=1    keep the work directory and say where it is
#   EMGAP_BIN=DIR  the programs (default: build/release/bin)
#
# Exit status: 0 when every step did what it should; 1 naming the step
# otherwise. The web server is stopped whatever way the script ends.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd) || exit 1
BIN=${EMGAP_BIN:-$ROOT/build/release/bin}
# Absolute, since the demo works from inside its work directory.
case $BIN in
/*) ;;
*) BIN=$(pwd)/$BIN ;;
esac
PATH=$BIN:$PATH
export PATH
# The demo talks to 127.0.0.1 only; a proxy from the environment must not
# get in the way (the mirror config says "proxy = none" as well).
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

. "$ROOT/tests/lib/pki.sh"
. "$ROOT/tests/lib/https.sh"

STEP=0
STEP_NAME="setting up"
W=
W_MADE=0
START=$(date +%s)

# ---- narration --------------------------------------------------------

step() { # N TITLE
	STEP=$1
	STEP_NAME=$2
	if [ -t 1 ]; then
		printf '\n\033[1m[%s/6] %s\033[0m\n' "$1" "$2"
	else
		printf '\n[%s/6] %s\n' "$1" "$2"
	fi
}

say() {
	printf '      %s\n' "$*"
}

# show_cmd CMD...: the command as an operator would type it.
show_cmd() {
	printf '    $'
	for _a in "$@"; do
		case $_a in
		*[!A-Za-z0-9_./:=+@,-]* | '') printf " '%s'" "$_a" ;;
		*) printf ' %s' "$_a" ;;
		esac
	done
	printf '\n'
}

# indent FILE [MAX]: FILE's lines, indented; the first MAX (default 40).
indent() {
	_max=${2:-40}
	sed -n "1,${_max}s/^/      /p" "$1"
	_n=$(wc -l <"$1")
	[ "$_n" -le "$_max" ] || printf '      ... (%s more lines)\n' $((_n - _max))
}

die() {
	printf '\ndemo: step %s (%s) failed: %s\n' "$STEP" "$STEP_NAME" "$*" >&2
	[ -z "$W" ] || [ "${DEMO_KEEP:-0}" = 1 ] ||
		printf 'demo: run with DEMO_KEEP=1 to keep the work directory for a look\n' >&2
	exit 1
}

# stop_missing PROG: the program is not there (yet): stop here, cleanly.
stop_missing() {
	printf '\ndemo: stopped at step %s (%s): %s is not built in %s\n' \
		"$STEP" "$STEP_NAME" "$1" "$BIN" >&2
	printf 'demo: build it with make (make demo builds everything first)\n' >&2
	exit 1
}

need_prog() {
	for _p in "$@"; do
		[ -x "$BIN/$_p" ] || stop_missing "$_p"
	done
}

# run [-n MAX] [-x RC[|RC...]] CMD...: shows and runs CMD with its output
# indented (the first MAX lines, default 40); dies unless it exits with one
# of the RCs (default 0). The whole output stays in $W/log/.
RUN_N=0
run() {
	_max=40
	_want=0
	while :; do
		case $1 in
		-n) _max=$2; shift 2 ;;
		-x) _want=$2; shift 2 ;;
		*) break ;;
		esac
	done
	show_cmd "$@"
	RUN_N=$((RUN_N + 1))
	_log=$W/log/$RUN_N.out
	"$@" >"$_log" 2>&1 </dev/null
	_rc=$?
	indent "$_log" "$_max"
	if grep -q "not built yet" "$_log"; then
		printf '\ndemo: stopped at step %s (%s): "%s %s" is not built yet\n' \
			"$STEP" "$STEP_NAME" "$1" "${2:-}" >&2
		exit 1
	fi
	case "|$_want|" in
	*"|$_rc|"*) ;;
	*) die "'$*' exited $_rc (wanted $_want); output in ${_log#"$W"/}" ;;
	esac
	LAST_RC=$_rc
}

# ---- work directory and cleanup ----------------------------------------

CLEANED=0
cleanup() {
	[ "$CLEANED" = 0 ] || return 0
	CLEANED=1
	https_stop
	[ -n "$W" ] || return 0
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		printf '\ndemo: work directory kept: %s\n' "$W"
		return 0
	fi
	cd / || return 0
	if [ "$W_MADE" = 1 ]; then
		rm -rf "$W"
	else
		# DEMO_DIR was given empty: empty it again, keep the directory.
		find "$W" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
	fi
}
trap 'cleanup' EXIT
trap 'cleanup; exit 1' INT TERM HUP

for _t in openssl xmlsec1 gcab nginx; do
	command -v "$_t" >/dev/null 2>&1 || die "$_t is not installed (scripts/deps.sh installs it)"
done
need_prog emgap-keys

if [ -n "${DEMO_DIR:-}" ]; then
	if [ -e "$DEMO_DIR" ]; then
		[ -d "$DEMO_DIR" ] || die "DEMO_DIR $DEMO_DIR is not a directory"
		[ -z "$(ls -A "$DEMO_DIR")" ] || die "DEMO_DIR $DEMO_DIR is not empty"
	else
		mkdir -p "$DEMO_DIR" || die "cannot create DEMO_DIR $DEMO_DIR"
		W_MADE=1
	fi
	W=$(cd "$DEMO_DIR" && pwd) || die "cannot enter $DEMO_DIR"
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/emgap-demo.XXXXXX") || die "mktemp failed"
	W_MADE=1
fi
cd "$W" || die "cannot enter $W"
mkdir -p log vendor station/offline station/alice station/bob dmz usb exch01 share/servers ||
	die "cannot create the work directory's layout"

printf 'emgap demo: the whole pipeline, every role played once, in %s\n' "$W"
printf '(paths below are relative to it)\n'

# ---- 1. the vendor -----------------------------------------------------

step 1 "The vendor: a signed feed served over HTTPS"
say "A throwaway vendor PKI stands in for Microsoft's: root CA -> code-signing CA"
say "-> feed signer (EKU code signing), with a CRL for each CA and Windows-style"
say "certificate trust lists (authrootstl.cab, disallowedcertstl.cab)."
https_make_tls "$W/vendor/srv" >log/tls.log 2>&1 || die "could not make the TLS certificates"
https_start "$W/vendor/srv" >>log/tls.log 2>&1 || die "nginx did not start: $(tail -n 3 log/tls.log)"
WWW=vendor/srv/www
pki_make vendor/pki "http://127.0.0.1:$HTTP_PORT/crl" >log/pki.log 2>&1 ||
	die "pki_make failed: $(tail -n 3 log/pki.log)"
mkdir -p "$WWW/crl" "$WWW/ctl" &&
	cp vendor/pki/crl/root.crl vendor/pki/crl/inter.crl "$WWW/crl/" || die "cannot publish the CRLs"
pki_make_ctl vendor/pki authroot "$WWW/ctl/authrootstl.cab" vendor/pki/root.pem >>log/pki.log 2>&1 &&
	pki_make_ctl vendor/pki disallowed "$WWW/ctl/disallowedcertstl.cab" >>log/pki.log 2>&1 ||
	die "cannot make the CTL cabs: $(tail -n 3 log/pki.log)"
say "The sample feed samples/feeds/mitigations.xml (PING1, M1, BEC2021, UM1, AP1)"
say "is signed with xmlsec1 as OCS signs it (enveloped XMLDSig, RSA-SHA256):"
cp "$ROOT/samples/feeds/mitigations.xml" vendor/mitigations.xml || die "samples/feeds/mitigations.xml is missing"
show_cmd xmlsec1 --sign --privkey-pem vendor/pki/signer.key,vendor/pki/signer.pem,vendor/pki/inter.pem \
	--output "$WWW/GetExchangeMitigations" "$WWW/GetExchangeMitigations.tmpl"
pki_sign_feed vendor/pki signer vendor/mitigations.xml "$WWW/GetExchangeMitigations" 2>log/sign.log ||
	die "xmlsec1 could not sign the feed: $(cat log/sign.log)"
FEED_URL=https://127.0.0.1:$HTTPS_PORT/GetExchangeMitigations
say "nginx on 127.0.0.1 (ports picked free) serves:"
say "  feed  $FEED_URL"
say "  CRLs  http://127.0.0.1:$HTTP_PORT/crl/root.crl, inter.crl (the CDPs in the certificates)"
say "  CTLs  http://127.0.0.1:$HTTP_PORT/ctl/authrootstl.cab, disallowedcertstl.cab"

# ---- 2. the organisation's keys ----------------------------------------

step 2 "The signing station: an offline root key and two signing keys, threshold 2"
need_prog emgap-keys
EXPIRES=$(date -u -d '+365 days' +%Y-%m-%d) || die "date cannot compute a year from now"
say "The root key never leaves the offline station; it only certifies signing keys."
run emgap-keys generate --no-passphrase --comment "demo org root" \
	--public station/offline/root.pub --secret station/offline/root.key
for _who in alice bob; do
	run emgap-keys generate --no-passphrase --comment "demo signer $_who" \
		--public station/$_who/$_who.pub --secret station/$_who/$_who.key
	run emgap-keys certify --root-secret station/offline/root.key --key station/$_who/$_who.pub \
		--expires "$EXPIRES" -o station/$_who/$_who.cert
done
say "(Real keys are made without --no-passphrase: each secret key scrypt-encrypted.)"
say "The trust directory every Exchange server gets once, by hand: the root public"
say "key, the threshold, and the vendor's pinned anchor and signer rules."
mkdir -p exch01/trust/roots &&
	cp station/offline/root.pub exch01/trust/roots/root.pub &&
	cp vendor/pki/anchors.pem exch01/trust/vendor-anchors.pem || die "cannot build the trust dir"
cat >exch01/trust/trust.conf <<'EOF'
# trust.conf - what this server trusts (docs/formats.md)
[org]
threshold = 2
role = bundle

[vendor]
anchors = vendor-anchors.pem
eku = 1.3.6.1.5.5.7.3.3
subject = CN=emgap Test Feed Signer

[freshness]
max_sequence_step = 1000
EOF
run cat exch01/trust/trust.conf

# ---- 3. the DMZ host ---------------------------------------------------

step 3 "The DMZ host: emgap-mirror fetches, verifies and stages a bundle"
need_prog emgap-mirror emgap-bundle
cp vendor/pki/anchors.pem dmz/vendor-anchors.pem || die "cannot copy the vendor anchor"
cat >dmz/mirror.conf <<EOF
# mirror.conf for the demo (see mirror.conf(5)); relative paths are taken
# from this file's directory.
[feed]
url = $FEED_URL

[network]
# The demo's TLS CA; on a real DMZ host, the system CA store.
ca_bundle = ../vendor/srv/tlsca.pem
proxy = none
connect_timeout = 5
timeout = 20
retries = 0

[vendor]
anchors = vendor-anchors.pem
eku = 1.3.6.1.5.5.7.3.3
subject = CN=emgap Test Feed Signer

[ctl]
url = http://127.0.0.1:$HTTP_PORT/ctl/authrootstl.cab
url = http://127.0.0.1:$HTTP_PORT/ctl/disallowedcertstl.cab

[output]
staging = staging
drop = drop
retention = 24
expires_after = 7d

[log]
file = mirror.log
EOF
say "mirror.conf names the feed, the vendor's pinned anchor and signer rules, the"
say "CTLs and where to stage and publish. There is no [signing] section: bundles"
say "wait in the drop folder for the signers."
say "First the connectivity test, as EEMS has one: feed, CRL distribution points, CTLs."
run -n 8 emgap-mirror check --config dmz/mirror.conf
run emgap-mirror run --config dmz/mirror.conf
BUNDLE=$(cat dmz/drop/latest 2>/dev/null) || die "the mirror published no bundle (dmz/drop/latest)"
[ -f "dmz/drop/$BUNDLE" ] || die "dmz/drop/latest names $BUNDLE, which is not there"
run emgap-bundle inspect "dmz/drop/$BUNDLE"
say "The signing station takes the bundle; two signers sign it with their keys."
cp "dmz/drop/$BUNDLE" "station/$BUNDLE" || die "cannot copy the bundle to the signing station"
run emgap-bundle sign --secret station/alice/alice.key --cert station/alice/alice.cert "station/$BUNDLE"
say "One signature is not enough for this organisation (threshold 2):"
run -x 4 emgap-bundle verify --trust exch01/trust "station/$BUNDLE"
run emgap-bundle sign --secret station/bob/bob.key --cert station/bob/bob.cert "station/$BUNDLE"
run emgap-bundle verify --trust exch01/trust "station/$BUNDLE"

# ---- 4. the air gap ------------------------------------------------------

step 4 "The air gap: the bundle goes to a USB stick"
say "usb/ stands for the stick (or a read-only share the servers can see)."
run cp "station/$BUNDLE" "usb/$BUNDLE"
run ls -l usb

# ---- 5. the Exchange server ------------------------------------------------

step 5 "An isolated Exchange 2019 server: plan, then apply"
need_prog emgap-apply
cp -R "$ROOT/samples/exchange2019" exch01/root || die "cannot copy samples/exchange2019"
# The sim backend stands for the Service Control Manager and the running
# state of IIS app pools (a file under the server root).
if [ ! -f exch01/root/emgap-sim-host.txt ]; then
	printf 'apppool\tMSExchangeECPAppPool\trunning\napppool\tMSExchangeOABAppPool\trunning\n' \
		>exch01/root/emgap-sim-host.txt || die "cannot write the sim host file"
fi
cp -R exch01/root exch01/root.orig || die "cannot keep a pristine copy of the server tree"
cat >exch01/apply.conf <<'EOF'
# apply.conf for the demo server (see apply.conf(5)); relative paths are
# taken from this file's directory.
[server]
name = EXCH01
product = Exchange2019
# Exchange 2019 CU11: M1, BEC2021 and AP1 apply; UM1 is for Exchange 2016.
build = 15.2.986.5
# A copy of the server's C:\ (samples/exchange2019).
root = root

[trust]
dir = trust

[state]
dir = state

[sources]
path = ../usb

[host]
# sim: services and app pools in root/emgap-sim-host.txt (windows on Windows).
backend = sim

[org]
settings = ../share/org.conf
status_dir = ../share/servers

[log]
syslog = false
EOF
say "apply.conf: server EXCH01, Exchange2019 15.2.986.5 (CU11), server root = a copy"
say "of samples/exchange2019, bundles from usb/, the sim host backend."
say "This server must keep its OAB pool running: block AP1.2 (one action of AP1)."
say "(--force: no bundle has been accepted here yet, and block refuses ids it"
say "does not know, so that a typo cannot silently block nothing.)"
run emgap-apply block --force AP1.2 --config exch01/apply.conf
say "First the plan: what a run would do, with the exact diff of every file,"
say "changing nothing and accepting nothing."
run -n 80 emgap-apply run --dry-run --config exch01/apply.conf
say "Then the real run:"
run emgap-apply run --config exch01/apply.conf
say "The Default Web Site's web.config now carries the M1 rule: a splice, every"
say "other byte as it was (CRLF line ends kept), the old file kept in state/backup/."
run -x 1 diff exch01/root.orig/inetpub/wwwroot/web.config exch01/root/inetpub/wwwroot/web.config

# ---- 6. day 2 ------------------------------------------------------------

step 6 "Day 2: status, get-server, revert, fleet view, audit, and a tampered bundle"
say "Get-Mitigations and Get-ExchangeServer, emgap style:"
run emgap-apply status --config exch01/apply.conf
run emgap-apply get-server --config exch01/apply.conf
say "A partner application breaks on BEC2021's cookie rules: revert BEC2021."
say "Both global rules come out exactly; revert also blocks BEC2021 so the next"
say "hourly run leaves it alone."
run emgap-apply revert BEC2021 --config exch01/apply.conf
say "applicationHost.config now differs from the original only by AP1.1's pool:"
run -x 1 diff exch01/root.orig/Windows/System32/inetsrv/config/applicationHost.config \
	exch01/root/Windows/System32/inetsrv/config/applicationHost.config
say "The next scheduled run keeps it that way:"
run emgap-apply run --config exch01/apply.conf
say "The fleet view: every server writes its status to the share (share/servers/)."
run emgap-apply get-server --all --config exch01/apply.conf
say "Every admin change is in a hash-chained audit log; events in state/emgap.log:"
run emgap-apply audit --verify --config exch01/apply.conf
run -n 20 cat exch01/state/emgap.log
say "Someone with the USB stick edits M1's rule inside the bundle (one byte):"
cp "usb/$BUNDLE" usb/tampered.bundle || die "cannot copy the bundle"
perl -0777 -pi -e 's/\(\?=\.\*autodiscover\)/(?=.*autodiscovex)/' usb/tampered.bundle ||
	die "cannot tamper with the bundle"
cmp -s "usb/$BUNDLE" usb/tampered.bundle && die "the tampered bundle is unchanged"
run -x 4 emgap-bundle verify --trust exch01/trust --state exch01/state usb/tampered.bundle
TAMPER_RC=$LAST_RC
say "The server refuses it too (exit 4, event 1008) and keeps what it has:"
run emgap-apply check-source --config exch01/apply.conf
cp exch01/root/inetpub/wwwroot/web.config log/web.config.before || die "cannot copy web.config"
run -x 4 emgap-apply run --bundle usb/tampered.bundle --config exch01/apply.conf
run -n 3 tail -n 1 exch01/state/emgap.log
cmp -s log/web.config.before exch01/root/inetpub/wwwroot/web.config ||
	die "the tampered bundle changed web.config"
say "Refused with exit $TAMPER_RC (verification failed); nothing on the server changed."

printf '\ndemo: all six steps done in %ss.\n' $(($(date +%s) - START))
