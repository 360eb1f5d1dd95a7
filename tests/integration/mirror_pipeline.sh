# mirror_pipeline.sh - emgap-mirror fetch and run end to end against real
# nginx on 127.0.0.1 serving a feed signed by the test vendor PKI, its
# CRLs and CTL cabs: the published bundle verifies with emgap-bundle, an
# unchanged poll is answered 304 and publishes nothing, a changed feed
# publishes the next sequence, retention and `latest` follow, a tampered
# feed or an unreachable CRL publishes nothing and keeps the last bundle.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/https.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

M=$T/m
mirror_fixture "$M" || { fail "fixture" "PKI, TLS or nginx setup failed"; exit 1; }
C=$M/mirror.conf
W=$M/srv/www

# Organisation keys: a root, a bundle signing key certified by it, and the
# trust directory an inside server would have.
org_keys "$T" && org_trust "$T/trust" "$T/root.pub" "$M/pki/anchors.pem" ||
	{ fail "org keys" "emgap-keys failed"; exit 1; }
mkdir -p "$T/state"
cat >>"$C" <<EOF

[signing]
secret = $T/sign.key
cert = $T/sign.cert
EOF

# bundle_ok NAME BUNDLE SEQ: emgap-bundle verify accepts BUNDLE (both trust
# layers, sequence after the last accepted). Where emgap-bundle verify is
# not built yet, the bundle is opened with tar instead: the manifest names
# SEQ and the feed, and the feed member is the staged feed byte for byte.
bundle_ok() {
	emgap-bundle verify --trust "$T/trust" --state "$T/state" "$2" >"$T/v.out" 2>"$T/v.err"
	_rc=$?
	if [ "$_rc" -eq 0 ]; then
		pass "$1"
		return
	fi
	if ! grep -q "not built yet" "$T/v.err"; then
		fail "$1" "emgap-bundle verify exit $_rc: $(cat "$T/v.err")"
		return
	fi
	rm -rf "$T/x" && mkdir -p "$T/x" && tar -xf "$2" -C "$T/x" 2>"$T/v.err"
	_snap=$M/staging/snapshots/$(cat "$M/staging/current")
	if grep -q "^sequence $3\$" "$T/x/manifest" 2>/dev/null && ls "$T/x/sig/"*.minisig >/dev/null 2>&1 &&
		cmp -s "$T/x/ocs/GetExchangeMitigations.xml" "$_snap/GetExchangeMitigations.xml" &&
		cmp -s "$T/x/pki/crl/inter.crl" "$_snap/pki/crl/inter.crl"; then
		pass "$1 (manifest and members; emgap-bundle verify not built yet)"
	else
		fail "$1" "bundle content: $(ls -R "$T/x" | tr "\n" " ") $(cat "$T/x/manifest" 2>&1 | head -5)"
	fi
}

# --- fetch stages a snapshot ---
expect_exit "fetch: exit 0" 0 emgap-mirror fetch --config "$C"
snap=$M/staging/snapshots/$(cat "$M/staging/current")
same_file "fetch: feed staged byte for byte" "$W/feed.xml" "$snap/GetExchangeMitigations.xml"
same_file "fetch: signer's CRL staged" "$M/pki/crl/inter.crl" "$snap/pki/crl/inter.crl"
same_file "fetch: root CRL staged" "$M/pki/crl/root.crl" "$snap/pki/crl/root.crl"
same_file "fetch: authroot CTL staged" "$W/ctl/authrootstl.cab" "$snap/pki/ctl/authrootstl.cab"
same_file "fetch: disallowed CTL staged" "$W/ctl/disallowedcertstl.cab" "$snap/pki/ctl/disallowedcertstl.cab"
if grep -q "event 1005 info: feed .* verified: signer .*emgap Test Feed Signer" "$M/mirror.log"; then
	pass "fetch: verification logged as event 1005"
else
	fail "fetch: verification logged as event 1005" "$(cat "$M/mirror.log")"
fi
if [ -s "$T/err" ]; then fail "fetch: silent on stderr when not a TTY" "$(cat "$T/err")"; else pass "fetch: silent on stderr when not a TTY"; fi
if [ -d "$M/drop" ] && ls "$M/drop" | grep -q bundle; then fail "fetch: publishes nothing" "$(ls "$M/drop")"; else pass "fetch: publishes nothing"; fi

# --- run publishes a signed bundle that emgap-bundle accepts ---
expect_exit "run: exit 0" 0 emgap-mirror run --config "$C"
check "run: emgap-1.bundle published" test -f "$M/drop/emgap-1.bundle"
if [ "$(cat "$M/drop/latest" 2>/dev/null)" = "emgap-1.bundle" ]; then pass "run: latest names emgap-1.bundle"; else fail "run: latest names emgap-1.bundle" "$(cat "$M/drop/latest" 2>&1)"; fi
bundle_ok "run: the bundle verifies" "$M/drop/emgap-1.bundle" 1
if ls -a "$M/drop" | grep -q "^\.emgap-tmp"; then fail "run: no temporary files left in drop" "$(ls -a "$M/drop")"; else pass "run: no temporary files left in drop"; fi
grep -q "event 1006 info: published .*emgap-1.bundle" "$M/mirror.log" && pass "run: publication logged as event 1006" ||
	fail "run: publication logged as event 1006" "$(tail -n 3 "$M/mirror.log")"

# --- unchanged poll: conditional GET answered 304, no CRL refetch, no new bundle ---
lines=$(wc -l <"$M/srv/access.log")
expect_exit "unchanged poll: exit 0" 0 emgap-mirror run --config "$C"
tail -n +"$((lines + 1))" "$M/srv/access.log" >"$T/poll.log"
if grep -q "GET /feed.xml 304 .*\"" "$T/poll.log" || grep -q 'GET /feed.xml 304 \\x22' "$T/poll.log"; then
	pass "unchanged poll: feed answered 304 to If-None-Match"
else
	fail "unchanged poll: feed answered 304 to If-None-Match" "$(cat "$T/poll.log")"
fi
if grep -q "GET /crl/" "$T/poll.log"; then fail "unchanged poll: current CRLs not fetched again" "$(cat "$T/poll.log")"; else pass "unchanged poll: current CRLs not fetched again"; fi
check "unchanged poll: no second bundle" test ! -e "$M/drop/emgap-2.bundle"
expect_out "unchanged poll: says nothing new" "nothing new"

# --- a new feed publishes the next sequence ---
sed 's/EEMS Heartbeat probe/EEMS Heartbeat probe 2/' "$M/feed-unsigned.xml" >"$T/feed2.xml"
pki_sign_feed "$M/pki" signer "$T/feed2.xml" "$W/feed.xml" || fail "sign feed 2" "xmlsec1"
touch -d '+1 minute' "$W/feed.xml" 2>/dev/null
expect_exit "new feed: exit 0" 0 emgap-mirror run --config "$C"
check "new feed: emgap-2.bundle published" test -f "$M/drop/emgap-2.bundle"
if [ "$(cat "$M/drop/latest")" = "emgap-2.bundle" ]; then pass "new feed: latest moves to emgap-2.bundle"; else fail "new feed: latest moves to emgap-2.bundle" "$(cat "$M/drop/latest")"; fi
bundle_ok "new feed: the bundle verifies (sequence 2 after 1)" "$M/drop/emgap-2.bundle" 2

# --- a tampered feed: exit 4, logged, nothing published, old bundle kept ---
cp "$W/feed.xml" "$T/good.xml"
sed 's/DoNothing</DoEverything</' "$T/good.xml" >"$W/feed.xml"
touch -d '+2 minutes' "$W/feed.xml" 2>/dev/null
expect_exit "tampered feed: exit 4" 4 emgap-mirror run --config "$C"
expect_err "tampered feed: says verification failed" "failed verification"
check "tampered feed: no bundle published" test ! -e "$M/drop/emgap-3.bundle"
if [ "$(cat "$M/drop/latest")" = "emgap-2.bundle" ]; then pass "tampered feed: latest still emgap-2.bundle"; else fail "tampered feed: latest still emgap-2.bundle" "$(cat "$M/drop/latest")"; fi
check "tampered feed: previous bundle kept" test -f "$M/drop/emgap-2.bundle"
grep -q "event 1008 error: run failed: feed .* failed verification" "$M/mirror.log" &&
	pass "tampered feed: logged as event 1008" || fail "tampered feed: logged as event 1008" "$(tail -n 2 "$M/mirror.log")"
snap2=$M/staging/snapshots/$(cat "$M/staging/current")
same_file "tampered feed: the staged snapshot keeps the good feed" "$T/good.xml" "$snap2/GetExchangeMitigations.xml"

# --- retention: keep 2 ---
sed 's/EEMS Heartbeat probe/EEMS Heartbeat probe 3/' "$M/feed-unsigned.xml" >"$T/feed3.xml"
pki_sign_feed "$M/pki" signer "$T/feed3.xml" "$W/feed.xml" || fail "sign feed 3" "xmlsec1"
touch -d '+3 minutes' "$W/feed.xml" 2>/dev/null
expect_exit "third feed: exit 0" 0 emgap-mirror run --config "$C"
check "retention: emgap-3.bundle published" test -f "$M/drop/emgap-3.bundle"
check "retention: emgap-1.bundle removed (keep 2)" test ! -e "$M/drop/emgap-1.bundle"
check "retention: emgap-2.bundle kept" test -f "$M/drop/emgap-2.bundle"

# --- same feed, but the last bundle is past half its life: publish again ---
sed -i "s/^expires .*/expires 2000-01-01T00:00:00Z/" "$M/staging/published"
expect_exit "refresh before expiry: exit 0" 0 emgap-mirror run --config "$C"
check "refresh before expiry: emgap-4.bundle published" test -f "$M/drop/emgap-4.bundle"
bundle_ok "refresh before expiry: the bundle verifies" "$M/drop/emgap-4.bundle" 4
expect_exit "refresh before expiry: then nothing new again" 0 emgap-mirror run --config "$C"
check "refresh before expiry: no fifth bundle" test ! -e "$M/drop/emgap-5.bundle"

# --- CRL unreachable: a fresh staging dir, no CRL on the server ---
sed "s#$M/staging#$T/staging2#; s#$M/drop#$T/drop2#" "$C" >"$T/c2.conf"
mv "$W/crl/inter.crl" "$T/inter.crl.away"
expect_exit "CRL unreachable: exit 7" 7 emgap-mirror run --config "$T/c2.conf"
expect_err "CRL unreachable: names the CRL and the reason" "CRL of the vendor chain: http://127.0.0.1:$HTTP_PORT/crl/inter.crl: HTTP status 404"
if [ -e "$T/drop2" ] && ls "$T/drop2" | grep -q bundle; then fail "CRL unreachable: no bundle" "$(ls "$T/drop2")"; else pass "CRL unreachable: no bundle"; fi
check "CRL unreachable: no snapshot staged" test ! -e "$T/staging2/current"
mv "$T/inter.crl.away" "$W/crl/inter.crl"

# --- a CRL that is not a CRL: exit 3, named ---
sed "s#$M/staging#$T/staging5#; s#$M/drop#$T/drop5#" "$C" >"$T/c5.conf"
cp "$W/crl/inter.crl" "$T/inter.crl.good"
printf 'this is not a CRL\n' >"$W/crl/inter.crl"
expect_exit "garbage CRL: exit 3" 3 emgap-mirror fetch --config "$T/c5.conf"
expect_err "garbage CRL: names the URL" "http://127.0.0.1:$HTTP_PORT/crl/inter.crl: not a CRL"
check "garbage CRL: no snapshot staged" test ! -e "$T/staging5/current"
cp "$T/inter.crl.good" "$W/crl/inter.crl"
touch -d '+4 minutes' "$W/crl/inter.crl"

# --- expired CRL in the cache is fetched again (past nextUpdate) ---
sed "s#$M/staging#$T/staging3#; s#$M/drop#$T/drop3#" "$C" >"$T/c3.conf"
cp "$M/pki/crl-expired/inter.crl" "$W/crl/inter.crl"
emgap-mirror fetch --config "$T/c3.conf" >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 4 ] || [ "$rc" -eq 5 ]; then pass "expired CRL: verification refuses it"; else fail "expired CRL: verification refuses it" "exit $rc: $(cat "$T/err")"; fi
cp "$M/pki/crl/inter.crl" "$W/crl/inter.crl"
# nginx's ETag is mtime and size: make the new CRL look new.
touch -d '+5 minutes' "$W/crl/inter.crl"
lines=$(wc -l <"$M/srv/access.log")
expect_exit "expired CRL: next fetch refreshes it and succeeds" 0 emgap-mirror fetch --config "$T/c3.conf"
tail -n +"$((lines + 1))" "$M/srv/access.log" | grep -q "GET /crl/inter.crl 200" &&
	pass "expired CRL: refetched past nextUpdate" || fail "expired CRL: refetched past nextUpdate" "no request"

# --- no [signing]: published unsigned, signed later at the signing station ---
sed "s#$M/staging#$T/staging6#; s#$M/drop#$T/drop6#; /^\[signing\]/,\$d" "$C" >"$T/c6.conf"
expect_exit "unsigned: run exits 0" 0 emgap-mirror run --config "$T/c6.conf"
check "unsigned: emgap-1.bundle published" test -f "$T/drop6/emgap-1.bundle"
mkdir -p "$T/state6"
emgap-bundle verify --trust "$T/trust" --state "$T/state6" "$T/drop6/emgap-1.bundle" >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 4 ]; then pass "unsigned: emgap-bundle verify refuses it (exit 4)"; else fail "unsigned: emgap-bundle verify refuses it (exit 4)" "exit $rc"; fi
cp "$T/drop6/emgap-1.bundle" "$T/signed.bundle"
expect_exit "unsigned: emgap-bundle sign signs it" 0 \
	emgap-bundle sign --secret "$T/sign.key" --cert "$T/sign.cert" "$T/signed.bundle"
expect_exit "unsigned: then it verifies" 0 \
	emgap-bundle verify --trust "$T/trust" --state "$T/state6" "$T/signed.bundle"

# --- an encrypted signing key with [signing] passphrase_file ---
printf 'correct horse\n' >"$T/pass"
printf 'wrong horse\n' >"$T/badpass"
emgap-keys generate --public "$T/enc.pub" --secret "$T/enc.key" --passphrase-file "$T/pass" \
	--kdf-opslimit 32768 --kdf-memlimit 16777216 >/dev/null 2>&1 &&
	emgap-keys certify --root-secret "$T/root.key" --key "$T/enc.pub" --expires 2099-01-01 \
		-o "$T/enc.cert" >/dev/null 2>&1 || fail "encrypted key" "emgap-keys failed"
sed "s#$M/staging#$T/staging7#; s#$M/drop#$T/drop7#; s#$T/sign.key#$T/enc.key#; s#$T/sign.cert#$T/enc.cert#" "$C" >"$T/c7.conf"
cp "$T/c7.conf" "$T/c7bad.conf"
echo "passphrase_file = $T/badpass" >>"$T/c7bad.conf"
echo "passphrase_file = $T/pass" >>"$T/c7.conf"
emgap-mirror run --config "$T/c7bad.conf" >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "signing" "$T/err"; then pass "wrong passphrase: run fails while signing"; else fail "wrong passphrase: run fails while signing" "exit $rc: $(cat "$T/err")"; fi
if ls "$T/drop7" 2>/dev/null | grep -q "bundle\|latest"; then fail "wrong passphrase: nothing published" "$(ls "$T/drop7")"; else pass "wrong passphrase: nothing published"; fi
expect_exit "passphrase_file: run exits 0" 0 emgap-mirror run --config "$T/c7.conf"
mkdir -p "$T/state7"
expect_exit "passphrase_file: the bundle verifies" 0 \
	emgap-bundle verify --trust "$T/trust" --state "$T/state7" "$T/drop7/emgap-1.bundle"

# --- a feed signed by a foreign PKI: its CDPs are never fetched ---
cp "$W/feed.xml" "$T/feed3.signed"
pki_make "$T/evil" "http://127.0.0.1:$HTTP_PORT/evil" || fail "foreign PKI" "pki_make failed"
pki_sign_feed "$T/evil" signer "$M/feed-unsigned.xml" "$W/feed.xml" || fail "foreign PKI" "signing failed"
touch -d '+9 minutes' "$W/feed.xml"
sed "s#$M/staging#$T/staging4#; s#$M/drop#$T/drop4#" "$C" >"$T/c4.conf"
expect_exit "foreign signer: exit 4" 4 emgap-mirror run --config "$T/c4.conf"
if grep -q "GET /evil/" "$M/srv/access.log"; then
	fail "foreign signer: its CRL URLs are not fetched" "$(grep /evil/ "$M/srv/access.log")"
else
	pass "foreign signer: its CRL URLs are not fetched"
fi
check "foreign signer: nothing published" test ! -e "$T/drop4"
cp "$T/feed3.signed" "$W/feed.xml"
touch -d '+10 minutes' "$W/feed.xml"

# --- --watch: SIGTERM finishes the step and exits 0 ---
before=$(grep -c "nothing new" "$M/mirror.log")
emgap-mirror run --watch --quiet --config "$C" >"$T/watch.out" 2>&1 &
wpid=$!
i=0
while [ $i -lt 100 ] && [ "$(grep -c "nothing new" "$M/mirror.log")" -eq "$before" ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$wpid"
wait "$wpid"
rc=$?
if [ "$rc" -eq 0 ]; then pass "watch: SIGTERM exits 0"; else fail "watch: SIGTERM exits 0" "exit $rc: $(cat "$T/watch.out")"; fi
grep -q "stopping on request" "$M/mirror.log" && pass "watch: stop logged" || fail "watch: stop logged" "$(tail -n 2 "$M/mirror.log")"
[ "$i" -lt 100 ] && pass "watch: first pass ran (nothing new)" || fail "watch: first pass ran (nothing new)" "$(tail -n 3 "$M/mirror.log")"
