# bundle_cli.sh - command-line contracts and trust-directory errors: the
# right exit code and a message naming the file or option.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
bundle_make "$T/good" 10 2>"$T/err" || { fail "make bundle" "$(cat "$T/err")"; exit 1; }
C="--feed $T/feed.xml --pki $T/snap --sequence 1 --created $B_CREATED"

expect_exit "create without -o (2)" 2 emgap-bundle create $C --expires +1d
expect_err "create without -o: says what is required" "-o are required"
expect_exit "create with a bad sequence (2)" 2 emgap-bundle create $C --expires +1d --sequence 1x -o "$T/o"
expect_exit "create with a bad --expires (2)" 2 emgap-bundle create $C --expires tomorrow -o "$T/o"
expect_exit "create: expires before created (2)" 2 emgap-bundle create $C --expires 2020-01-01 -o "$T/o"
expect_exit "create: unknown option (2)" 2 emgap-bundle create $C --expires +1d --bogus -o "$T/o"
expect_err "unknown option named" "--bogus"
expect_exit "create: missing feed file (7)" 7 emgap-bundle create --feed "$T/nope.xml" --pki "$T/snap" \
	--sequence 1 --expires +1d -o "$T/o"
expect_err "missing feed named" "nope.xml"
mkdir -p "$T/badsnap/crl" && echo x >"$T/badsnap/crl/notes.txt"
expect_exit "create: a stray file in the snapshot (3)" 3 emgap-bundle create --feed "$T/feed.xml" \
	--pki "$T/badsnap" --sequence 1 --expires +1d -o "$T/o"
expect_err "stray file named" "notes.txt"
if [ -e "$T/o" ]; then fail "failed creates write no bundle" "$T/o exists"; else pass "failed creates write no bundle"; fi
expect_exit "create --source with a space refused (3)" 3 emgap-bundle create $C --expires +1d \
	--source "http://a b" -o "$T/o"

expect_exit "sign without --cert (2)" 2 emgap-bundle sign --secret "$T/k/a.key" "$T/good"
expect_exit "sign: missing certificate signature (7)" 7 emgap-bundle sign --secret "$T/k/a.key" \
	--cert "$T/k/a.pub" "$T/good"
expect_err "sign: missing .minisig named" "a.pub.minisig"
expect_exit "verify without --trust (2)" 2 emgap-bundle verify "$T/good"
expect_exit "verify: missing bundle (7)" 7 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/nothing"
expect_exit "verify: bad --at (2)" 2 emgap-bundle verify --trust "$T/trust" --at yesterday "$T/good"
expect_exit "verify: not a tar (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/feed.xml"
expect_exit "extract without -C (2)" 2 emgap-bundle extract --trust "$T/trust" "$T/good"
expect_exit "inspect: two bundles (2)" 2 emgap-bundle inspect "$T/good" "$T/good"

trust_case() { # NAME CODE TEXT DIR
	expect_exit "$1 ($2)" "$2" emgap-bundle verify --trust "$4" --at "$B_AT" "$T/good"
	expect_err "$1: message" "$3"
}
trust_case "no trust dir" 3 "trust.conf" "$T/none"
bundle_trust "$T/t1" '[org]' 'colour = blue'
trust_case "unknown key in trust.conf" 3 "colour" "$T/t1"
bundle_trust "$T/t2"
sed -i '/^threshold/d' "$T/t2/trust.conf"
trust_case "threshold missing" 3 "threshold is missing" "$T/t2"
bundle_trust "$T/t3"
sed -i '/^anchors/d' "$T/t3/trust.conf"
trust_case "anchors missing" 3 "anchors is missing" "$T/t3"
bundle_trust "$T/t4"
rm "$T/t4/roots/root.pub"
trust_case "no root keys" 3 "no root public keys" "$T/t4"
bundle_trust "$T/t5" '[limits]' 'ratio_max = lots'
trust_case "malformed limit" 3 "ratio_max" "$T/t5"
bundle_trust "$T/t6"
echo "not a key" >"$T/t6/roots/broken.pub"
trust_case "malformed root key" 3 "broken.pub" "$T/t6"
bundle_trust "$T/t7"
sed -i 's/^threshold = 2/threshold = 3/' "$T/t7/trust.conf"
trust_case "threshold 3 with two signers" 4 "of 3 required" "$T/t7"

# A manifest that does not parse is malformed input (3), whoever signed it.
tar xf "$T/good" -C "$T" manifest
printf 'bogus 1\n' >>"$T/manifest"
craft "$T/good" "$T/badman" "replace:manifest=$T/manifest"
expect_exit "malformed manifest (3)" 3 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/badman"
expect_err "malformed manifest: line named" "manifest:"

expect_exit "--help" 0 emgap-bundle --help
expect_out "--help lists extract" "extract --trust DIR -C DIR"
for sub in create sign verify inspect extract; do
	expect_exit "$sub --help" 0 emgap-bundle $sub --help
	expect_out "$sub --help shows the usage" "emgap-bundle COMMAND"
done
expect_exit "--version" 0 emgap-bundle --version
expect_out "--version names the program" "emgap-bundle "

# An encrypted signing key: passphrase from a file; a wrong one is refused.
printf 'correct horse\n' >"$T/pass"
printf 'wrong horse\n' >"$T/wrong"
emgap-keys generate --public "$T/k/e.pub" --secret "$T/k/e.key" --passphrase-file "$T/pass" \
	--kdf-opslimit 32768 --kdf-memlimit 16777216 >/dev/null 2>&1 ||
	emgap-keys generate --public "$T/k/e.pub" --secret "$T/k/e.key" --passphrase-file "$T/pass" >/dev/null 2>&1
emgap-keys certify --root-secret "$T/k/root.key" --key "$T/k/e.pub" --not-before "$B_CREATED" \
	--expires 2099-01-01 -o "$T/k/e.cert" >/dev/null 2>&1
cp "$T/good" "$T/enc"
expect_exit "sign: wrong passphrase refused (4)" 4 emgap-bundle sign --secret "$T/k/e.key" \
	--cert "$T/k/e.cert" --passphrase-file "$T/wrong" "$T/enc"
same_file "sign: wrong passphrase leaves the bundle alone" "$T/good" "$T/enc"
expect_exit "sign: --no-passphrase on an encrypted key refused (2)" 2 emgap-bundle sign \
	--secret "$T/k/e.key" --cert "$T/k/e.cert" --no-passphrase "$T/enc"
expect_exit "sign: encrypted key with --passphrase-file" 0 emgap-bundle sign --secret "$T/k/e.key" \
	--cert "$T/k/e.cert" --passphrase-file "$T/pass" "$T/enc"
n=$(tar tf "$T/enc" | grep -c '^sig/')
if [ "$n" -eq 3 ]; then pass "third signer added"; else fail "third signer added" "$n signatures"; fi
expect_exit "three signers verify" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" --json "$T/enc"
expect_out "three valid signers counted" "$(keyid e)"
