#!/bin/sh
# make-seeds.sh - (re)makes the fuzz seeds that need real keys and
# signatures, and fixture_data.h, the trust material the bundle and feed
# verification targets load (the public halves only; the secret keys are
# thrown away, so nothing here can sign anything later).
#
#   tests/fuzz/make-seeds.sh [BINDIR]     (default build/release/bin)
#
# Run it again when the bundle or key formats change; it overwrites the
# seeds it made before (names start with "gen-") and fixture_data.h. Seeds
# made by hand or found by the fuzzer are left alone.
set -eu
cd "$(dirname "$0")/../.."
SRC=$(pwd)
BIN=${1:-$SRC/build/release/bin}
case $BIN in /*) ;; *) BIN=$SRC/$BIN ;; esac
W=$(mktemp -d "${TMPDIR:-/tmp}/emgap-seeds.XXXXXX")
trap 'rm -rf "$W"' EXIT INT TERM
PATH=$BIN:$PATH
export PATH
TEST_TMP=$W
export TEST_TMP
. "$SRC/tests/lib/pki.sh"
C=$SRC/tests/fuzz/corpus
S=$SRC/samples/feeds

cd "$W"
pki_make "$W/pki" http://127.0.0.1:8080/crl >"$W/pki.log" 2>&1 || { cat "$W/pki.log" >&2; exit 1; }
mkdir -p "$C/bundle_feed_verify" "$C/bundle_feed" "$C/bundle_ctl" "$C/bundle_manifest" \
	"$C/bundle_bundle" "$C/keys_pubkey" "$C/keys_signature" "$C/keys_seckey" "$C/keys_cert"
rm -f "$C"/*/gen-*

# Vendor layer: sample feeds signed by the test PKI's signer.
for f in ping1 m1 app-pools; do
	pki_sign_feed "$W/pki" signer "$S/$f.xml" "$C/bundle_feed_verify/gen-$f.xml"
done
pki_sign_feed "$W/pki" revoked "$S/ping1.xml" "$C/bundle_feed_verify/gen-revoked-signer.xml"
pki_sign_feed "$W/pki" noeku "$S/ping1.xml" "$C/bundle_feed_verify/gen-noeku-signer.xml"
cp "$C/bundle_feed_verify/gen-m1.xml" "$C/bundle_feed/gen-m1-signed.xml"

# CTLs as Windows Update ships them and bare.
pki_make_ctl "$W/pki" disallowed "$C/bundle_ctl/gen-disallowed.stl" "$W/pki/revoked.pem" >/dev/null
pki_make_ctl "$W/pki" authroot "$C/bundle_ctl/gen-authroot.cab" "$W/pki/root.pem" >/dev/null
rm -rf "$C/bundle_ctl"/*.d

# Organisation layer: a root, a certified signing key, a signed bundle.
emgap-keys generate --public root.pub --secret root.key --no-passphrase --comment "emgap fuzz root" >/dev/null
emgap-keys generate --public s1.pub --secret s1.key --no-passphrase >/dev/null
echo fuzz >pass
emgap-keys generate --public s2.pub --secret s2.key --passphrase-file pass \
	--kdf-opslimit 32768 --kdf-memlimit 16777216 >/dev/null
now=$(date -u +%s)
emgap-keys certify --root-secret root.key --key s1.pub --not-before "@$((now - 3600))" \
	--expires "@$((now + 400 * 86400))" -o s1.cert >/dev/null
mkdir -p pkidir/crl pkidir/ctl
cp "$W/pki/crl/inter.crl" "$W/pki/crl/root.crl" pkidir/crl/
cp "$C/bundle_ctl/gen-disallowed.stl" pkidir/ctl/disallowedcert.stl
emgap-bundle create --feed "$C/bundle_feed_verify/gen-m1.xml" --pki pkidir --sequence 7 \
	--created "@$now" --fetched "@$now" --expires "@$((now + 30 * 86400))" -o b.bundle >/dev/null
emgap-bundle sign --secret s1.key --cert s1.cert --no-passphrase b.bundle >/dev/null
cp b.bundle "$C/bundle_bundle/gen-signed.bundle"
gzip -9 -c b.bundle >"$C/bundle_bundle/gen-signed.bundle.gz"
mkdir x && (cd x && tar xf ../b.bundle)
cp x/manifest "$C/bundle_manifest/gen-manifest"
cp root.pub "$C/keys_pubkey/gen-root.pub"
cp s1.pub "$C/keys_pubkey/gen-s1.pub"
cp x/sig/*.minisig "$C/keys_signature/gen-manifest.minisig"
cp s1.cert.minisig "$C/keys_signature/gen-cert.minisig"
cp s1.cert "$C/keys_cert/gen-s1.cert"
cp s1.key "$C/keys_seckey/gen-unencrypted.key"
cp s2.key "$C/keys_seckey/gen-encrypted.key"
# minisign's own files, when it is there.
if command -v minisign >/dev/null 2>&1; then
	minisign -G -W -p m.pub -s m.key >/dev/null 2>&1 &&
		echo hello >msg && minisign -S -s m.key -m msg >/dev/null 2>&1 &&
		minisign -S -l -s m.key -m msg -x msg.legacy >/dev/null 2>&1 &&
		cp m.pub "$C/keys_pubkey/gen-minisign.pub" &&
		cp msg.minisig "$C/keys_signature/gen-minisign.minisig" &&
		cp msg.legacy "$C/keys_signature/gen-minisign-legacy.minisig" &&
		cp m.key "$C/keys_seckey/gen-minisign.key" || true
fi

# The fixture: root public key, vendor anchors, and a time at which every
# seed above is valid (an hour after it was made).
{
	echo "/* fixture_data.h - made by tests/fuzz/make-seeds.sh; do not edit. */"
	echo "#ifndef EMG_FUZZ_FIXTURE_DATA_H"
	echo "#define EMG_FUZZ_FIXTURE_DATA_H"
	echo "#define EMG_FUZZ_AT ((time_t)$((now + 3600)))"
	echo "static const char emg_fuzz_root_pub[] ="
	sed 's/.*/\t"&\\n"/' root.pub
	echo "\t;"
	echo "static const char emg_fuzz_anchors_pem[] ="
	sed 's/.*/\t"&\\n"/' "$W/pki/anchors.pem"
	echo "\t;"
	echo "#endif"
} | sed 's/^\\t/\t/' >"$SRC/tests/fuzz/fixture_data.h"
echo "make-seeds: seeds and tests/fuzz/fixture_data.h written"
