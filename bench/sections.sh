# sections.sh - the measurements of bench/run.sh (sourced after lib.sh).
# Each bench_NAME builds its inputs under $W/NAME from the shared fixture
# $F (tests/lib/applyfix.sh: vendor PKI, organisation keys, trust dir),
# checks once that every command it times does what it should, then times
# it and adds rows. A section returns non-zero when it could not measure.

# mkbundle FEED.xml SEQ OUT [create options...]: sign FEED as the vendor,
# bundle it with the fixture's PKI snapshot, sign it as the organisation.
mkbundle() {
	_mf=$1 _ms=$2 _mo=$3
	shift 3
	pki_sign_feed "$F/pki" signer "$_mf" "$_mo.feed.xml" &&
		emgap-bundle create --feed "$_mo.feed.xml" --pki "$F/pki" --sequence "$_ms" \
			--expires 2099-01-01 -o "$_mo" "$@" >/dev/null &&
		emgap-bundle sign --secret "$F/sign.key" --cert "$F/sign.cert" "$_mo" >/dev/null &&
		rm -f "$_mo.feed.xml"
}

# server_conf DIR NAME BUILD SOURCE [STATUS_DIR]: DIR/apply.conf for a
# server whose root is DIR/root and state DIR/state.
server_conf() {
	{
		printf '[server]\nname = %s\nproduct = Exchange2019\nbuild = %s\nroot = root\n' "$2" "$3"
		printf '[trust]\ndir = %s\n[state]\ndir = state\n' "$F/trust"
		printf '[sources]\npath = %s\n[host]\nbackend = sim\n' "$4"
		[ -n "${5:-}" ] && printf '[org]\nstatus_dir = %s\n' "$5"
		printf '[log]\nsyslog = false\n'
	} >"$1/apply.conf"
}

# sample_root DIR: a copy of samples/exchange2019 with the sim backend's
# host file (services and pools running), as scripts/demo.sh makes it.
sample_root() {
	cp -R "$ROOT/samples/exchange2019" "$1" &&
		printf 'service\tMSExchangeUM\tAutomatic\trunning\nservice\tMSExchangeUMCR\tAutomatic\trunning\napppool\tMSExchangeECPAppPool\trunning\napppool\tMSExchangeOABAppPool\trunning\n' \
			>"$1/emgap-sim-host.txt"
}

# ---- bundle verify ----------------------------------------------------------

# big_bundle DIR MB OUT: a bundle of about MB MiB: the fixture's feed and
# PKI snapshot plus one extra/payload.bin member of pseudo-random bytes
# (AES-CTR of zeros under a fixed key: the same bytes on every run).
# extra/ members are hashed while they stream and never kept or
# interpreted: the only member a verifier accepts at hundreds of MiB, and
# exactly the streaming path that must not grow with the bundle.
big_bundle() {
	mkdir -p "$1/x$2" || return 1
	openssl enc -aes-128-ctr -nosalt -K 656d6761702062656e6368206b657921 \
		-iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null |
		head -c $(($2 * 1048576 - 24576)) >"$1/x$2/payload.bin"
	mkbundle "$F/feed.xml" 1 "$3" --extra "$1/x$2" || return 1
	rm -rf "$1/x$2"
}

bench_bundle() {
	say "bench: bundle verify, 1 / 64 / 256 MiB"
	d=$W/bundle
	mkdir -p "$d" || return 1
	minisign -G -W -p "$d/ms.pub" -s "$d/ms.key" >/dev/null 2>&1 || { say "minisign -G failed"; return 1; }
	for mb in 1 64 256; do
		b=$d/b$mb.bundle
		big_bundle "$d" "$mb" "$b" || { say "bundle of $mb MiB: create failed"; return 1; }
		minisign -S -s "$d/ms.key" -m "$b" >/dev/null 2>&1 || { say "minisign -S failed"; return 1; }
		emgap-bundle verify --trust "$F/trust" "$b" >"$d/v.out" 2>&1 ||
			{ say "emgap-bundle verify refused the $mb MiB bundle: $(cat "$d/v.out")"; return 1; }
		case $mb in 1) runs=30 ;; 64) runs=10 ;; *) runs=5 ;; esac
		hf "$d/b$mb.json" $runs \
			emgap "emgap-bundle verify --trust $F/trust $b" \
			sha256sum "sha256sum $b" \
			minisign "minisign -V -q -p $d/ms.pub -m $b" || return 1
		e=$(med "$d/b$mb.json" emgap)
		s=$(med "$d/b$mb.json" sha256sum)
		m=$(med "$d/b$mb.json" minisign)
		met=$(leratio "$e" "$s" 1.3)
		row "bundle verify $mb MiB vs sha256sum" "$(ms "$e")" "$(ms "$s")" "$(ratio "$e" "$s")" "≤ 1.30×" "$met"
		[ "$met" = yes ] || profile "bundle verify $mb MiB" emgap-bundle verify --trust "$F/trust" "$b"
		row "bundle verify $mb MiB vs minisign -V" "$(ms "$e")" "$(ms "$m")" "$(ratio "$e" "$m")" "—" "—"
		re=$(rss emgap-bundle verify --trust "$F/trust" "$b") || return 1
		rs=$(rss sha256sum "$b") || return 1
		row "bundle verify $mb MiB peak RSS (peer: sha256sum)" "$(mib "$re")" "$(mib "$rs")" "$(ratio "$re" "$rs")" "≤ 16 MiB" "$(le "$re" 16384)"
		rm -f "$b" "$b.minisig"
	done
	note "Bundles: the fixture's signed feed and CRLs plus one extra/payload.bin member of pseudo-random bytes (the verifier hashes extra/ members while they stream and keeps nothing of them); one organisation signature (threshold 1). sha256sum and minisign -V read the same bundle file; all from the page cache."
}

# ---- vendor feed verify -----------------------------------------------------

bench_feed() {
	say "bench: vendor feed verify, 64 KiB / 4 MiB"
	d=$W/feed
	mkdir -p "$d" || return 1
	for kb in 64 4096; do
		$GEN feed $((kb * 1024)) "$d/f$kb.xml" tmpl || return 1
		pki_sign_template "$F/pki" signer "$d/f$kb.xml" "$d/s$kb.xml" || { say "xmlsec1 --sign failed"; return 1; }
		emgap-bundle verify-feed --anchors "$F/pki/anchors.pem" --crl-dir "$F/pki/crl" --eku 1.3.6.1.5.5.7.3.3 \
			--subject 'CN=emgap Test Feed Signer' "$d/s$kb.xml" >/dev/null 2>"$d/err" ||
			{ say "verify-feed refused the $kb KiB feed: $(cat "$d/err")"; return 1; }
		pki_verify_feed_xmlsec "$F/pki" "$d/s$kb.xml" || { say "xmlsec1 refused the $kb KiB feed"; return 1; }
		case $kb in 64) runs=30 label="64 KiB" ;; *) runs=10 label="4 MiB" ;; esac
		hf "$d/f$kb.json" $runs \
			emgap "emgap-bundle verify-feed --anchors $F/pki/anchors.pem --crl-dir $F/pki/crl --eku 1.3.6.1.5.5.7.3.3 --subject 'CN=emgap Test Feed Signer' $d/s$kb.xml" \
			xmlsec1 "xmlsec1 --verify --trusted-pem $F/pki/root.pem --untrusted-pem $F/pki/inter.pem --enabled-reference-uris empty $d/s$kb.xml" ||
			return 1
		e=$(med "$d/f$kb.json" emgap)
		x=$(med "$d/f$kb.json" xmlsec1)
		met=$(leratio "$e" "$x" 1.0)
		row "feed verify $label vs xmlsec1 --verify" "$(ms "$e")" "$(ms "$x")" "$(ratio "$e" "$x")" "≤ 1.00×" "$met"
		[ "$met" = yes ] || profile "feed verify $label" emgap-bundle verify-feed --anchors "$F/pki/anchors.pem" \
			--crl-dir "$F/pki/crl" --eku 1.3.6.1.5.5.7.3.3 --subject 'CN=emgap Test Feed Signer' "$d/s$kb.xml"
	done
	note "Feed verify: emgap-bundle verify-feed checks the signature, the chain to the pinned anchor, the CRLs of every certificate, EKU and subject, and prints the mitigations (to /dev/null); xmlsec1 --verify checks signature and chain only (1.2.37 takes no CRLs). Feeds: PING1 plus M1-like IISUrlRewrite mitigations (1 action per Config at 64 KiB, 8 at 4 MiB: the parser allows 1024 Configs)."
}

# ---- IIS config edit ----------------------------------------------------------

# The insertion both tools make: one global rule, in the <rewrite> and
# <globalRules> containers the sample's top-level <system.webServer> does
# not have yet. XS_EDIT is split by hyperfine (-N) and by eval below.
RULE_XML='<rule name="X-BEResource Abort - inbound" stopProcessing="true"><match url=".*"/><conditions><add input="{HTTP_COOKIE}" pattern="(.*)X-BEResource=(.+)/(.+)~(.+)"/></conditions><action type="AbortRequest"/></rule>'
G=/configuration/system.webServer/rewrite/globalRules
XS_EDIT="-s /configuration/system.webServer -t elem -n rewrite -s /configuration/system.webServer/rewrite -t elem -n globalRules -s $G -t elem -n rule -s $G/rule -t attr -n name -v 'X-BEResource Abort - inbound' -s $G/rule -t attr -n stopProcessing -v true -s $G/rule -t elem -n match -s $G/rule/match -t attr -n url -v '.*' -s $G/rule -t elem -n conditions -s $G/rule/conditions -t elem -n add -s $G/rule/conditions/add -t attr -n input -v '{HTTP_COOKIE}' -s $G/rule/conditions/add -t attr -n pattern -v '(.*)X-BEResource=(.+)/(.+)~(.+)' -s $G/rule -t elem -n action -s $G/rule/action -t attr -n type -v AbortRequest"
AHREL=Windows/System32/inetsrv/config/applicationHost.config

bench_iis() {
	say "bench: IIS config edit, 5 MB applicationHost.config"
	d=$W/iis
	mkdir -p "$d/src" || return 1
	sample_root "$d/root.orig" || return 1
	$GEN apphost "$ROOT/samples/exchange2019/$AHREL" "$d/root.orig/$AHREL" 5000000 || return 1
	cp "$d/root.orig/$AHREL" "$d/apphost.orig" || return 1
	{
		printf '<?xml version="1.0" encoding="utf-8"?>\n<EOCS version="1.0.4">\n'
		printf '  <Config id="BEC" desc="Abort requests with a malformed X-BEResource cookie.">\n'
		printf '    <ActionList>\n      <Action type="IISUrlRewrite" scope="Server" desc="X-BEResource">\n'
		printf '        <Value>%s</Value>\n' "$RULE_XML"
		printf '      </Action>\n    </ActionList>\n  </Config>\n</EOCS>\n'
	} >"$d/feed.xml"
	mkbundle "$d/feed.xml" 1 "$d/src/emgap-1.bundle" || { say "iis bundle failed"; return 1; }
	server_conf "$d" IIS01 15.2.1118.7 "$d/src"
	# Before every timed run: the pristine tree and state for emgap, the
	# pristine files for xmlstarlet -L and iisedit.
	printf '%s' "$RULE_XML" >"$d/frag.xml"
	printf 'rm -rf "%s/root" "%s/state" && cp -R "%s/root.orig" "%s/root" && mkdir "%s/state" && cp "%s/apphost.orig" "%s/xs.config" && cp "%s/apphost.orig" "%s/ie.config"\n' \
		"$d" "$d" "$d" "$d" "$d" "$d" "$d" "$d" "$d" >"$d/reset.sh"
	sh "$d/reset.sh" || return 1
	emgap-apply run --config "$d/apply.conf" >"$d/run.out" 2>&1 || { say "emgap-apply run failed: $(tail -n 5 "$d/run.out")"; return 1; }
	grep -q 'X-BEResource Abort - inbound' "$d/root/$AHREL" || { say "emgap-apply run did not insert the rule"; return 1; }
	eval "xmlstarlet ed -P $XS_EDIT \"\$d/apphost.orig\"" >"$d/xs.out" 2>"$d/xs.err" ||
		{ say "xmlstarlet ed failed: $(cat "$d/xs.err")"; return 1; }
	grep -q 'X-BEResource Abort - inbound' "$d/xs.out" || { say "xmlstarlet did not insert the rule"; return 1; }
	# shellcheck disable=SC2046
	set -- $($GEN splice "$d/apphost.orig" "$d/root/$AHREL") $($GEN splice "$d/apphost.orig" "$d/xs.out")
	[ $# -eq 4 ] || return 1
	echg=$1 eadd=$2 xchg=$3 xadd=$4

	iisedit apphost "$d/ie.config" "$d/frag.xml" 2>"$d/ie.err" || { say "iisedit failed: $(cat "$d/ie.err")"; return 1; }
	cmp -s "$d/ie.config" "$d/root/$AHREL" || { say "iisedit and emgap-apply run made different files"; return 1; }

	hf "$d/dry.json" 10 --prepare "sh $d/reset.sh" \
		emgap "emgap-apply run --dry-run --config $d/apply.conf" \
		iisedit "iisedit --dry-run apphost $d/apphost.orig $d/frag.xml" \
		xmlstarlet "xmlstarlet ed -P $XS_EDIT $d/apphost.orig" || return 1
	hf "$d/real.json" 10 --prepare "sh $d/reset.sh" \
		emgap "emgap-apply run --config $d/apply.conf" \
		iisedit "iisedit apphost $d/ie.config $d/frag.xml" \
		xmlstarlet "xmlstarlet ed -P -L $XS_EDIT $d/xs.config" || return 1
	e=$(med "$d/dry.json" emgap)
	x=$(med "$d/dry.json" xmlstarlet)
	met=$(leratio "$e" "$x" 1.0)
	row "config edit 5 MB, dry run vs xmlstarlet ed (stdout)" "$(ms "$e")" "$(ms "$x")" "$(ratio "$e" "$x")" "≤ 1.00×" "$met"
	[ "$met" = yes ] || { sh "$d/reset.sh" && profile "config edit 5 MB, dry run" emgap-apply run --dry-run --config "$d/apply.conf"; }
	e=$(med "$d/real.json" emgap)
	x=$(med "$d/real.json" xmlstarlet)
	met=$(leratio "$e" "$x" 1.0)
	row "config edit 5 MB, real vs xmlstarlet ed -L" "$(ms "$e")" "$(ms "$x")" "$(ratio "$e" "$x")" "≤ 1.00×" "$met"
	[ "$met" = yes ] || { sh "$d/reset.sh" && profile "config edit 5 MB, real" emgap-apply run --config "$d/apply.conf"; }
	for m in dry real; do
		i=$(med "$d/$m.json" iisedit)
		x=$(med "$d/$m.json" xmlstarlet)
		case $m in
		dry) label="config edit 5 MB, edit alone (iisedit) vs xmlstarlet ed" ;;
		*) label="config edit 5 MB, edit alone in place (iisedit) vs ed -L" ;;
		esac
		row "$label" "$(ms "$i")" "$(ms "$x")" "$(ratio "$i" "$x")" "≤ 1.00×" "$(leratio "$i" "$x" 1.0)"
	done
	row "config edit: original bytes changed (bytes added)" "$echg B ($eadd)" "$xchg B ($xadd)" "—" "0 B" "$(le "$echg" 0)"
	note "Config edit: the emgap figure is the whole program, emgap-apply run [--dry-run], on a copy of samples/exchange2019 whose applicationHost.config is grown to 5 MB with 7,378 tenant sites (BOM, CRLF kept), applying a bundle with one Server-scope rule: it verifies the bundle (both trust layers), locates, splices and re-parses; the real run also backs the file up, writes it atomically with fsync and records state. xmlstarlet ed -P makes the same insertion (rewrite/globalRules/rule) and writes without fsync. bench/iisedit is the edit alone, the same library call (emg_iis_rules_upsert: parse to locate, splice, re-parse to check) on the file, to stdout or written atomically with fsync: it makes the same bytes as the program (checked). 'Original bytes changed' counts the bytes of the original not kept in place around one contiguous inserted span; xmlstarlet re-serialises the whole file."
}

# ---- first apply, idle hourly run -------------------------------------------------

bench_apply() {
	say "bench: first apply of the sample bundle, idle hourly run"
	d=$W/apply
	mkdir -p "$d/src" || return 1
	sample_root "$d/root.orig" || return 1
	mkbundle "$ROOT/samples/feeds/mitigations.xml" 1 "$d/src/emgap-1.bundle" || { say "sample bundle failed"; return 1; }
	# Exchange 2019 CU11: M1, BEC2021 and AP1 apply, as in scripts/demo.sh.
	server_conf "$d" EXCH01 15.2.986.5 "$d/src"
	printf 'rm -rf "%s/root" "%s/state" && cp -R "%s/root.orig" "%s/root" && mkdir "%s/state"\n' \
		"$d" "$d" "$d" "$d" "$d" >"$d/reset.sh"
	sh "$d/reset.sh" || return 1
	emgap-apply run --config "$d/apply.conf" >"$d/run.out" 2>&1 || { say "first apply failed: $(tail -n 5 "$d/run.out")"; return 1; }
	grep -q 'EEMS M1.1 PowerShell' "$d/root/inetpub/wwwroot/web.config" || { say "first apply: M1.1 not in place"; return 1; }
	hf "$d/first.json" 10 --prepare "sh $d/reset.sh" emgap "emgap-apply run --config $d/apply.conf" || return 1
	f=$(med "$d/first.json" emgap)
	row "first apply of the sample bundle" "$(ms "$f")" "—" "—" "—" "—"

	# Idle: the bundle is applied and nothing drifted. Check that a run
	# really changes nothing before timing it.
	sh "$d/reset.sh" && emgap-apply run --config "$d/apply.conf" >/dev/null 2>&1 || return 1
	cp -R "$d/root" "$d/root.applied" || return 1
	emgap-apply run --config "$d/apply.conf" >"$d/idle.out" 2>&1 || { say "idle run failed: $(cat "$d/idle.out")"; return 1; }
	diff -r "$d/root.applied" "$d/root" >/dev/null || { say "idle run changed the server tree"; return 1; }
	# The floor under process start: an empty program that needs the same
	# shared libraries as emgap-apply (its DT_NEEDED list, in order),
	# linked the same way (full RELRO), so that the dynamic loader's share
	# is measured rather than asserted.
	needed=$(readelf -d "$BIN/emgap-apply" | sed -n 's/.*Shared library: \[\(.*\)\]/-l:\1/p' | grep -v -- '-l:libc\.so')
	nlibs=$(ldd "$BIN/emgap-apply" | grep -c '=>')
	printf 'int main(void)\n{\n\treturn 0;\n}\n' >"$d/empty.c"
	${CC:-cc} -O2 -o "$d/empty" "$d/empty.c" -Wl,-z,relro -Wl,-z,now -Wl,--no-as-needed $needed ||
		{ say "cannot link the empty program against: $needed"; return 1; }
	hf "$d/idle.json" 100 emgap "emgap-apply run --config $d/apply.conf" true /bin/true \
		start "emgap-apply --version" empty "$d/empty" || return 1
	e=$(med "$d/idle.json" emgap)
	t=$(med "$d/idle.json" true)
	v=$(med "$d/idle.json" start)
	z=$(med "$d/idle.json" empty)
	met=$(leratio "$e" "$t" 5)
	row "idle hourly run (nothing new, no drift) vs /bin/true" "$(ms "$e")" "$(ms "$t")" "$(ratio "$e" "$t")" "≤ 5.00×" "$met"
	row "of which process start (emgap-apply --version)" "$(ms "$v")" "$(ms "$t")" "$(ratio "$v" "$t")" "—" "—"
	row "empty program needing the same $nlibs shared objects" "$(ms "$z")" "$(ms "$t")" "$(ratio "$z" "$t")" "—" "—"
	# Every run with work to do becomes the engine (apply/front/main.c).
	hf "$d/engine.json" 100 engine "emgap-apply-engine --version" true /bin/true || return 1
	g=$(med "$d/engine.json" engine)
	t=$(med "$d/engine.json" true)
	row "engine start (emgap-apply-engine --version)" "$(ms "$g")" "$(ms "$t")" "$(ratio "$g" "$t")" "—" "—"
	[ "$met" = yes ] || profile "idle hourly run" emgap-apply run --config "$d/apply.conf"
	r=$(rss emgap-apply run --config "$d/apply.conf") || return 1
	row "idle hourly run, peak RSS" "$(mib "$r")" "—" "—" "—" "—"
	note "First apply: samples/feeds/mitigations.xml on a copy of samples/exchange2019 as Exchange 2019 CU11 (M1, BEC2021 and AP1 apply: 5 actions, PING1 and UM1 recorded too), the tree and state reset before each run. Idle: the same server right after, the bundle already accepted, nothing drifted (checked: the run changes no file). emgap-apply is a small front that ends an idle run itself and hands every other run to emgap-apply-engine by exec (apply/front/main.c); the empty program is main() { return 0; } linked with -z now against the front's own DT_NEEDED list: what loading those libraries costs before any emgap code runs."
}

# ---- fleet ----------------------------------------------------------------------

bench_fleet() {
	n=${BENCH_FLEET:-1000}
	[ "$n" -ge 20 ] || { say "BENCH_FLEET must be at least 20"; return 1; }
	say "bench: fleet of $n servers (building the trees)"
	f0=$(date +%s)
	d=$W/fleet
	share=$d/share
	mkdir -p "$share/bundles" "$share/servers" || return 1
	sample_root "$d/pristine" || return 1
	mkbundle "$ROOT/samples/feeds/mitigations.xml" 1 "$share/bundles/emgap-1.bundle" || return 1
	# One server made the way every other is, then copied by one process:
	# thousands of cp -R would time process start-up on a busy machine.
	mkdir -p "$d/model" && cp -R "$d/pristine" "$d/model/root" || return 1
	server_conf "$d/model" EXCH0000 15.2.986.5 "$share/bundles" "$share/servers"
	$GEN fleetmake "$d/model" "$n" "$d" || return 1
	rm -rf "$d/model"
	say "bench: fleet of $n servers (applying, one after the other; $(($(date +%s) - f0)) s so far)"
	# A dry run first, so that server 1 does not pay for cold caches.
	emgap-apply run --dry-run --config "$d/s0001/apply.conf" >/dev/null 2>&1
	t0=$(date +%s.%N)
	$GEN fleetrun "$d" "$n" "$d/times" || return 1
	t1=$(date +%s.%N)
	ok=$(grep -l '^sequence 1$' "$d"/s*/state/state 2>/dev/null | wc -l)
	st=$(find "$share/servers" -name '*.status' | wc -l)
	[ "$ok" -eq "$n" ] || { say "fleet: only $ok of $n servers recorded sequence 1"; return 1; }
	# shellcheck disable=SC2046
	set -- $($GEN fleet "$d/times")
	[ $# -eq 8 ] || return 1
	total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f s", b - a }')
	row "fleet: $n servers, sequential, total wall time" "$total" "—" "—" "—" "—"
	row "fleet: per-server median" "$(ms "$3")" "—" "—" "—" "—"
	row "fleet: per-server cost at server $n vs 10 (fitted line)" "$(ms "$8")" "$(ms "$7")" "$(ratio "$8" "$7")" "≤ 1.25×" "$(leratio "$8" "$7" 1.25)"
	row "fleet: median of servers $((n - 9))–$n vs 1–10" "$(ms "$5")" "$(ms "$4")" "$(ratio "$5" "$4")" "—" "—"
	say "bench: fleet applied ($(($(date +%s) - f0)) s so far); removing it"
	note "Fleet: $n copies of samples/exchange2019, each with its own apply.conf, state and sim host file, all taking the one bundle from a shared directory and writing a status file into one shared directory ($st written); each run timed alone from python3 (the spawn is about 1 ms of it); the slowest single run took $(ms "$6"). 'Flat' is judged on a least-squares line through all $n runs (its value at server $n against server 10); the ten-run medians are shown too, but swing with the load."
	rm -rf "$d"
}

# ---- mirror poll ------------------------------------------------------------------

# http_bytes LOG FROM-LINE: requests, and request + response bytes (HTTP
# level: headers and bodies; TLS records not counted) logged after FROM-LINE.
http_bytes() {
	tail -n +"$(($2 + 1))" "$1" | awk '{ n++; b += $(NF - 1) + $NF } END { printf "%d %d\n", n, b }'
}

bench_mirror() {
	say "bench: mirror, unchanged hourly poll (304)"
	M=$W/mirror
	mirror_fixture "$M" >"$W/mirror-fixture.log" 2>&1 || { say "mirror fixture failed: $(tail -n 5 "$W/mirror-fixture.log")"; return 1; }
	C=$M/mirror.conf
	printf '\n[signing]\nsecret = %s\ncert = %s\n' "$F/sign.key" "$F/sign.cert" >>"$C"
	# https.sh's log line plus the request and response sizes.
	# shellcheck disable=SC2016 # nginx variables, not the shell's
	sed -i 's/\$http_if_none_match|\$http_if_modified_since/& $request_length $bytes_sent/' "$M/srv/nginx.conf" &&
		nginx -p "$M/srv" -e "$M/srv/nginx-error.log" -c "$M/srv/nginx.conf" -s reload || return 1
	sleep 1
	emgap-mirror run --config "$C" >"$M/run.out" 2>&1 || { say "first mirror run failed: $(cat "$M/run.out")"; return 1; }
	[ -f "$M/drop/emgap-1.bundle" ] || { say "first mirror run published nothing"; return 1; }
	url=https://127.0.0.1:$HTTPS_PORT/feed.xml
	curl -s --cacert "$M/srv/tlsca.pem" --etag-save "$M/etag" -o /dev/null "$url" || return 1
	l0=$(wc -l <"$M/srv/access.log")
	emgap-mirror run --config "$C" >"$M/poll.out" 2>&1 || { say "unchanged poll failed: $(cat "$M/poll.out")"; return 1; }
	grep -q 'nothing new' "$M/poll.out" || { say "unchanged poll did not say nothing new: $(cat "$M/poll.out")"; return 1; }
	tail -n +"$((l0 + 1))" "$M/srv/access.log" | grep -q 'GET /feed.xml 304' ||
		{ say "unchanged poll: no 304 for the feed"; return 1; }
	# shellcheck disable=SC2046
	set -- $(http_bytes "$M/srv/access.log" "$l0")
	ereq=$1 ebytes=$2
	l0=$(wc -l <"$M/srv/access.log")
	curl -s --cacert "$M/srv/tlsca.pem" --etag-compare "$M/etag" -o /dev/null "$url" || return 1
	# shellcheck disable=SC2046
	set -- $(http_bytes "$M/srv/access.log" "$l0")
	creq=$1 cbytes=$2
	hf "$M/poll.json" 20 emgap "emgap-mirror run --config $C" \
		curl "curl -s --cacert $M/srv/tlsca.pem --etag-compare $M/etag -o /dev/null $url" || return 1
	e=$(med "$M/poll.json" emgap)
	c=$(med "$M/poll.json" curl)
	[ ! -e "$M/drop/emgap-2.bundle" ] || { say "unchanged polls published a bundle"; return 1; }
	row "mirror unchanged poll (304) vs curl --etag-compare" "$(ms "$e")" "$(ms "$c")" "$(ratio "$e" "$c")" "—" "—"
	row "mirror unchanged poll: HTTP bytes (requests)" "$ebytes B ($ereq)" "$cbytes B ($creq)" "$(ratio "$ebytes" "$cbytes")" "—" "—"
	note "Mirror: nginx on 127.0.0.1 (tests/lib/https.sh) serving the feed over HTTPS and CRLs and CTLs over HTTP; the poll is emgap-mirror run after a first run published emgap-1.bundle. Bytes are what nginx logs (\$request_length + \$bytes_sent: headers and bodies, not TLS records). The peer is one curl conditional GET of the feed alone."
	https_stop
}

# ---- results file -----------------------------------------------------------------

write_results() { # FILE
	{
		echo "# emgap bench results"
		echo
		echo "Written by \`make bench\` (bench/run.sh); what the figures mean: docs/performance.md."
		echo
		printf 'Machine: %s CPUs, %s, %s; load average %s at the start, %s at the end (other work shares this machine).\n' \
			"$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
			"$(uname -sr)" "$LOAD0" "$LOAD1"
		printf 'Run: %s, %s s in all; build: make VARIANT=bench (the release flags without -g: -O2, hardening, full RELRO); %s.\n' \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$((END - START))" "$(emgap-bundle --version 2>/dev/null | head -n 1)"
		printf 'Peers: %s; minisign %s; %s; xmlstarlet %s; %s.\n' "$(sha256sum --version | head -n 1)" \
			"$(minisign -v 2>&1 | head -n 1 | sed 's/^minisign //')" "$(xmlsec1 --version | head -n 1)" \
			"$(xmlstarlet --version | head -n 1)" "$(curl --version | head -n 1 | cut -d' ' -f1-2)"
		printf 'Tools: %s; GNU time (peak RSS); %s.\n' "$(hyperfine --version)" \
			"$(valgrind --version 2>/dev/null || echo 'no valgrind')"
		echo
		echo "Times are hyperfine medians over two passes in opposite order (one warm-up run each);"
		echo "ratio = emgap / peer. With 2 CPUs, a load average above 2 means the figures were taken"
		echo "while other work competed for the CPUs and the disk: trust the ratios more than the times."
		echo
		echo "| what | emgap | peer | ratio | target | met? |"
		echo "| --- | --- | --- | --- | --- | --- |"
		awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$W/rows"
		echo
		echo "Notes:"
		echo
		cat "$W/notes"
		if [ -s "$W/profiles" ]; then
			echo
			echo "## Profiles of the missed targets"
			echo
			echo "valgrind --tool=callgrind, instructions (Ir) inclusive of callees, emgap side only."
			echo "Instruction counts do not see cache misses, page faults or system time: compare with the"
			echo "times above. docs/performance.md explains the causes."
			cat "$W/profiles"
		fi
	} >"$1.tmp" && mv "$1.tmp" "$1"
}
