# bundle_vendor.sh - a properly signed bundle whose vendor feed fails its
# own checks is refused with the feed's exit code, and never accepted.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }

vendor() { # NAME CODE TEXT FEED [SNAPDIR]
	emgap-bundle create --feed "$4" --pki "${5:-$T/snap}" --sequence 10 --created "$B_CREATED" \
		--expires +30d -o "$T/v" 2>"$T/err" &&
		emgap-bundle sign --secret "$T/k/a.key" --cert "$T/k/a.cert" "$T/v" &&
		emgap-bundle sign --secret "$T/k/b.key" --cert "$T/k/b.cert" "$T/v" ||
		{ fail "$1: make bundle" "$(cat "$T/err")"; return; }
	expect_exit "$1: refused ($2)" "$2" emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/v"
	expect_err "$1: message names the feed member" "ocs/GetExchangeMitigations.xml"
	expect_err "$1: message" "$3"
	expect_exit "$1: extract refused ($2)" "$2" emgap-bundle extract --trust "$T/trust" --at "$B_AT" -C "$T/x" "$T/v"
}

# Changed after the vendor signed it (one attribute value).
sed 's/EEMS Heartbeat probe/EEMS Heartbeat probe!/' "$T/feed.xml" >"$T/tampered.xml"
vendor "feed altered after the vendor signed it" 4 "altered after signing" "$T/tampered.xml"
# Not signed at all.
vendor "unsigned feed" 4 "not signed" "$T/feed-plain.xml"
# Signed by a certificate without the code-signing EKU.
pki_sign_feed "$T/pki" noeku "$T/feed-plain.xml" "$T/noeku.xml"
vendor "signer without the code-signing EKU" 4 "extended key usage" "$T/noeku.xml"
# A trust.conf with no eku line still requires code signing (EEMS's check).
bundle_trust "$T/trust-noeku"
sed -i '/^eku = /d' "$T/trust-noeku/trust.conf"
if grep -q '^eku' "$T/trust-noeku/trust.conf"; then
	fail "trust dir without eku: fixture" "eku line still present"
else
	expect_exit "trust dir without eku: signer without code signing refused (4)" 4 \
		emgap-bundle verify --trust "$T/trust-noeku" --at "$B_AT" "$T/v"
	expect_err "trust dir without eku: message" "extended key usage"
fi
# Signed by a revoked certificate (revocation listed in the bundled CRL).
pki_sign_feed "$T/pki" revoked "$T/feed-plain.xml" "$T/revoked.xml"
vendor "revoked signer" 5 "certificate revoked" "$T/revoked.xml"
# A snapshot without the intermediate's CRL, and allow_missing_crl = false.
mkdir -p "$T/snap-nocrl/crl" "$T/snap-nocrl/ctl"
cp "$T/snap/crl/root.crl" "$T/snap-nocrl/crl/"
vendor "CRL missing from the snapshot" 4 "no CRL for it in the snapshot" "$T/feed.xml" "$T/snap-nocrl"
# Vendor anchors that are not the signer's root.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/fake.key" -subj "/CN=Fake Root" \
	-days 30 -out "$T/fake.pem" 2>/dev/null
bundle_trust "$T/trust-fake"
cp "$T/fake.pem" "$T/trust-fake/vendor-anchors.pem"
bundle_make "$T/good" 10 2>"$T/err"
expect_exit "feed chain to an unpinned root refused (4)" 4 \
	emgap-bundle verify --trust "$T/trust-fake" --at "$B_AT" "$T/good"
expect_err "unpinned root: message names the feed member" "ocs/GetExchangeMitigations.xml"

if [ -e "$T/state/sequence" ]; then fail "no vendor failure touched the state" "state written"; else pass "no vendor failure touched the state"; fi
if [ -e "$T/x" ] && [ -n "$(ls -A "$T/x")" ]; then fail "nothing extracted" "$(ls -A "$T/x")"; else pass "nothing extracted"; fi
expect_exit "the genuine bundle still verifies" 0 emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/good"
