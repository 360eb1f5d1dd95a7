# bundle_refuse.sh - TUF attack classes on the organisation layer and the
# container: arbitrary content, threshold, wrong member, mix-and-match.
# Each refused case checks the exit code and the message.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
A=$(keyid a)
B=$(keyid b)
C=$(keyid c)
bundle_make "$T/good" 10 2>"$T/err" || { fail "make bundle" "$(cat "$T/err")"; exit 1; }
expect_exit "the unaltered bundle verifies" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/good"

refused() { # NAME CODE TEXT BUNDLE
	expect_exit "$1: exit $2" "$2" emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$4"
	expect_err "$1: message" "$3"
}
tar xf "$T/good" -C "$T" manifest "sig/$A.minisig" "sig/$B.minisig" "keys/$A.cert" "keys/$A.cert.minisig"

# --- arbitrary content ---------------------------------------------------
# A manifest changed after signing (one more byte in the source line).
sed 's|^source \(.*\)$|source \1x|' "$T/manifest" >"$T/manifest.evil"
craft "$T/good" "$T/evil-manifest" "replace:manifest=$T/manifest.evil"
refused "manifest altered after signing" 4 "of 2 required" "$T/evil-manifest"

# A signature with one flipped character.
awk 'NR==2 { c = substr($0, 10, 1); $0 = substr($0, 1, 9) (c == "A" ? "B" : "A") substr($0, 11) } { print }' \
	"$T/sig/$A.minisig" >"$T/badsig"
craft "$T/good" "$T/bad-sig" "replace:sig/$A.minisig=$T/badsig"
refused "bad signature" 4 "of 2 required" "$T/bad-sig"

# A signer certified by a root this host does not trust.
mkdir -p "$T/other"
emgap-keys generate --public "$T/other/root.pub" --secret "$T/other/root.key" --no-passphrase >/dev/null 2>&1
emgap-keys certify --root-secret "$T/other/root.key" --key "$T/k/c.pub" --not-before "$B_CREATED" \
	--expires 2099-01-01 -o "$T/other/c.cert" >/dev/null 2>&1
cp "$T/good" "$T/unknown-root"
emgap-bundle sign --secret "$T/k/c.key" --cert "$T/other/c.cert" "$T/unknown-root"
emgap-bundle sign --secret "$T/k/c.key" --cert "$T/other/c.cert" "$T/unknown-root"
craft "$T/unknown-root" "$T/unknown-root2" "drop:sig/$B.minisig" "drop:keys/$B.cert" "drop:keys/$B.cert.minisig"
refused "key certified by an unknown root" 4 "of 2 required" "$T/unknown-root2"

# An uncertified key: its "certificate" signed by itself.
emgap-keys certify --root-secret "$T/k/c.key" --key "$T/k/c.pub" --not-before "$B_CREATED" \
	--expires 2099-01-01 -o "$T/other/self.cert" >/dev/null 2>&1
cp "$T/good" "$T/uncert"
emgap-bundle sign --secret "$T/k/c.key" --cert "$T/other/self.cert" "$T/uncert"
craft "$T/uncert" "$T/uncert2" "drop:sig/$B.minisig" "drop:keys/$B.cert" "drop:keys/$B.cert.minisig"
refused "uncertified (self-signed) key" 4 "of 2 required" "$T/uncert2"

# A signature without its certificate members.
craft "$T/good" "$T/nocert" "drop:keys/$B.cert" "drop:keys/$B.cert.minisig"
refused "signature without certificate" 4 "comes without keys/$B.cert" "$T/nocert"

# An expired certificate, and one for another role.
emgap-keys certify --root-secret "$T/k/root.key" --key "$T/k/c.pub" --not-before 2020-01-01 \
	--expires 2021-01-01 -o "$T/other/old.cert" >/dev/null 2>&1
cp "$T/good" "$T/expired-cert"
emgap-bundle sign --secret "$T/k/c.key" --cert "$T/other/old.cert" "$T/expired-cert"
craft "$T/expired-cert" "$T/expired-cert2" "drop:sig/$B.minisig" "drop:keys/$B.cert" "drop:keys/$B.cert.minisig"
refused "expired key certificate" 4 "of 2 required" "$T/expired-cert2"
emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/expired-cert2" 2>"$T/err"
expect_err "expired key certificate: names the cause" "expired"
emgap-keys certify --root-secret "$T/k/root.key" --key "$T/k/c.pub" --not-before "$B_CREATED" \
	--expires 2099-01-01 --role mirror -o "$T/other/role.cert" >/dev/null 2>&1
cp "$T/good" "$T/wrong-role"
emgap-bundle sign --secret "$T/k/c.key" --cert "$T/other/role.cert" "$T/wrong-role"
craft "$T/wrong-role" "$T/wrong-role2" "drop:sig/$B.minisig" "drop:keys/$B.cert" "drop:keys/$B.cert.minisig"
refused "key certified for another role" 4 "of 2 required" "$T/wrong-role2"
emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/wrong-role2" 2>"$T/err"
expect_err "wrong role: names the cause" "role"

# sign refuses a certificate for another key.
cp "$T/good" "$T/mismatch"
expect_exit "sign: certificate of another key refused (3)" 3 \
	emgap-bundle sign --secret "$T/k/c.key" --cert "$T/k/a.cert" "$T/mismatch"
expect_err "sign: certificate mismatch message" "certifies key $A"
same_file "sign: refused signing leaves the bundle alone" "$T/good" "$T/mismatch"

# --- threshold: two signatures from one key count once -------------------
craft "$T/good" "$T/twice" "drop:sig/$B.minisig" "drop:keys/$B.cert" "drop:keys/$B.cert.minisig" \
	"after:keys/$A.cert.minisig=keys/$C.cert=$T/keys/$A.cert" \
	"after:keys/$A.cert.minisig=keys/$C.cert.minisig=$T/keys/$A.cert.minisig" \
	"after:sig/$A.minisig=sig/$C.minisig=$T/sig/$A.minisig"
refused "two signatures by one key" 4 "1 of 2 required" "$T/twice"

# --- wrong member -----------------------------------------------------------
printf 'tampered\n' >"$T/junk"
cp "$T/snap/crl/root.crl" "$T/crl.mod" && printf 'x' >>"$T/crl.mod"
craft "$T/good" "$T/size" "replace:pki/crl/root.crl=$T/crl.mod"
refused "size mismatch" 4 "the manifest says" "$T/size"
head -c "$(wc -c <"$T/snap/crl/root.crl")" /dev/zero >"$T/crl.zero"
craft "$T/good" "$T/hash" "replace:pki/crl/root.crl=$T/crl.zero"
refused "hash mismatch" 4 "does not match its SHA-256" "$T/hash"
craft "$T/good" "$T/extra" "add:pki/crl/extra.crl=$T/junk"
refused "member not in the manifest" 4 "'pki/crl/extra.crl' is not in the manifest" "$T/extra"
craft "$T/good" "$T/missing" "drop:pki/crl/inter.crl"
refused "member missing" 4 "'pki/crl/inter.crl' of the manifest is missing" "$T/missing"
craft "$T/good" "$T/dup" "add:pki/crl/root.crl=$T/snap/crl/root.crl"
refused "duplicate member" 4 "duplicate member 'pki/crl/root.crl'" "$T/dup"
craft "$T/good" "$T/dupsig" "after:sig/$B.minisig=sig/$B.minisig=$T/sig/$B.minisig"
refused "duplicate signature member" 4 "duplicate member 'sig/$B.minisig'" "$T/dupsig"
craft "$T/good" "$T/dupman" "add:manifest=$T/manifest"
refused "second manifest" 4 "duplicate member 'manifest'" "$T/dupman"
craft "$T/good" "$T/late" "add:sig/$C.minisig=$T/sig/$B.minisig"
refused "signature after the payload" 4 "comes after the payload" "$T/late"
craft "$T/good" "$T/orphan" "after:keys/$A.cert.minisig=keys/0123456789ABCDEF.cert=$T/keys/$A.cert"
refused "certificate without signature" 4 "'keys/0123456789ABCDEF.cert' belongs to no signature" "$T/orphan"
lastsig=$(tar tf "$T/good" | grep '^sig/' | tail -n 1)
craft "$T/good" "$T/oddname" "after:$lastsig=sig/$A.sig=$T/junk"
refused "unknown name in the signature layer" 4 "'sig/$A.sig' is not in the manifest" "$T/oddname"

# --- mix-and-match: a member from another (genuine, signed) bundle ---------
mkdir -p "$T/snap2/crl" "$T/snap2/ctl"
cp "$T/snap/crl/inter.crl" "$T/snap2/crl/" && cp "$T/snap/ctl/"* "$T/snap2/ctl/"
cp "$T/pki/crl-expired/root.crl" "$T/snap2/crl/root.crl"
emgap-bundle create --feed "$T/feed.xml" --pki "$T/snap2" --sequence 11 --created "$B_CREATED" \
	--expires +30d -o "$T/other-bundle"
tar xf "$T/other-bundle" -C "$T/other" pki/crl/root.crl
craft "$T/good" "$T/mix" "replace:pki/crl/root.crl=$T/other/pki/crl/root.crl"
refused "mix-and-match" 4 "pki/crl/root.crl" "$T/mix"

if [ -e "$T/state/sequence" ]; then fail "no refused bundle touched the state" "$(cat "$T/state/sequence")"; else pass "no refused bundle touched the state"; fi
