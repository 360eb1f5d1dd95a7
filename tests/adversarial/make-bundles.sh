#!/bin/sh
# make-bundles.sh OUT - builds the part of the adversarial corpus that needs
# real keys and signatures (or is too big to keep in git), under OUT/gen:
#
#   gen/pki/      a throw-away vendor PKI (tests/lib/pki.sh); gen/other/ a
#                 second one nobody trusts
#   gen/k/        organisation root and signing keys, certificates
#   gen/trust/    trust dir, threshold 1; gen/trust2/ the same, threshold 2
#   gen/feed/     vendor feeds: a good one and signature-wrapping variants
#   gen/bundle/   bundles for every TUF attack class, slips, bombs, truncation
#   gen/keys/     a signed message and malformed / foreign signatures
#   gen/iis/      hostile applicationHost.config files too big for git
#   gen/apply/    an applier setup: apply.conf, state, src/ with a good
#                 bundle, root/ (a copy of samples/exchange2019)
#   gen/outside/  a web.config outside that root (symlink escapes)
#
# Needs emgap-keys and emgap-bundle on PATH, openssl, xmlsec1, python3.
# Everything is made fresh with the real tools, so signatures never go
# stale. Runs in a few seconds; only OUT is written.
set -eu
OUT=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
A=$SRC/tests/adversarial
G=$OUT/gen
TEST_TMP=$OUT
export TEST_TMP
. "$SRC/tests/lib/pki.sh"

craft() { python3 "$A/tarcraft.py" "$@"; }
quiet() { "$@" >/dev/null 2>>"$G/make.log"; }

mkdir -p "$G/k" "$G/feed" "$G/bundle" "$G/keys" "$G/iis" "$G/snap/crl" "$G/snap/ctl" "$G/w"
: >"$G/make.log"
now=$(date -u +%s)
day=86400

# ---- vendor layer ------------------------------------------------------
quiet pki_make "$G/pki" http://127.0.0.1:9/crl
quiet pki_make "$G/other" http://127.0.0.1:9/crl
feed_in=$SRC/samples/feeds/ping1.xml
pki_sign_feed "$G/pki" signer "$feed_in" "$G/feed/good.xml"
pki_sign_feed "$G/pki" revoked "$feed_in" "$G/feed/revoked-signer.xml"
pki_sign_feed "$G/pki" noeku "$feed_in" "$G/feed/no-eku-signer.xml"
pki_sign_feed "$G/pki" expired "$feed_in" "$G/feed/expired-signer.xml"
pki_sign_feed "$G/other" signer "$feed_in" "$G/feed/untrusted-root.xml"
cp "$G/pki/crl/root.crl" "$G/pki/crl/inter.crl" "$G/snap/crl/"

# XSW 1: an unsigned Config added beside the signed one.
sed 's|<Config id="PING1"|<Config id="EVIL"><ActionList><Action type="Service" scope="Server"><Value>W3SVC</Value></Action></ActionList></Config>\n  &|' \
	"$G/feed/good.xml" >"$G/feed/xsw-added-config.xml"
# XSW 2: the signed document wrapped inside a new root with an evil Config.
{
	echo '<?xml version="1.0" encoding="utf-8"?>'
	echo '<EOCS version="1.0.4"><Config id="EVIL"><ActionList><Action type="Service" scope="Server"><Value>W3SVC</Value></Action></ActionList></Config>'
	sed 1d "$G/feed/good.xml"
	echo '</EOCS>'
} >"$G/feed/xsw-wrapped-root.xml"
# XSW 3: the Signature moved into an evil Config that replaces the signed one.
awk '/<Signature/{s=1} s{sig=sig $0 "\n"} !s{body=body $0 "\n"} /<\/Signature>/{s=0}
END{sub(/<\/EOCS>/, "", body); printf "%s  <Config id=\"EVIL\"><ActionList><Action type=\"Service\" scope=\"Server\"><Value>W3SVC</Value></Action></ActionList>\n%s  </Config>\n</EOCS>\n", body, sig}' \
	"$G/feed/good.xml" >"$G/feed/xsw-signature-moved.xml"
# XSW 4: a second Signature (a copy) appended: exactly one is allowed.
awk '/<Signature/{s=1} s{sig=sig $0 "\n"} /<\/Signature>/{s=0} {print} ' "$G/feed/good.xml" |
	sed '$d' >"$G/w/body.xml"
{
	cat "$G/w/body.xml"
	awk '/<Signature/{s=1} s{print} /<\/Signature>/{s=0}' "$G/feed/good.xml"
	echo '</EOCS>'
} >"$G/feed/xsw-two-signatures.xml"
# XSW 5: Reference URI pointing at an element by Id (xmlsec says valid;
# emgap signs and checks whole documents only, URI="").
pki_feed_template "$feed_in" "$G/w/tmpl.xml"
sed -e 's|<Config id="PING1"|<Config Id="signed" id="PING1"|' -e 's|<Reference URI="">|<Reference URI="#signed">|' \
	"$G/w/tmpl.xml" >"$G/w/tmpl-id.xml"
if pki_sign_template "$G/pki" signer "$G/w/tmpl-id.xml" "$G/w/id.xml" --id-attr:Id Config \
	2>>"$G/make.log"; then
	sed 's|<Config Id="signed" id="PING1"|<Config id="EVIL"><ActionList><Action type="Service" scope="Server"><Value>W3SVC</Value></Action></ActionList></Config>\n  &|' \
		"$G/w/id.xml" >"$G/feed/xsw-reference-by-id.xml"
fi
# Not a signature problem at all: a feed nobody signed.
cp "$feed_in" "$G/feed/unsigned.xml"

# ---- organisation layer ------------------------------------------------
gen_key() { # NAME
	quiet emgap-keys generate --public "$G/k/$1.pub" --secret "$G/k/$1.key" --no-passphrase
}
certify() { # ROOT NAME [options...]
	_r=$1 _n=$2
	shift 2
	quiet emgap-keys certify --root-secret "$G/k/$_r.key" --key "$G/k/$_n.pub" \
		-o "$G/k/$_n.cert" "$@"
}
gen_key root
gen_key root-x
for n in a b mallory expired role; do gen_key $n; done
certify root a --not-before "@$((now - day))" --expires "@$((now + 400 * day))"
certify root b --not-before "@$((now - day))" --expires "@$((now + 400 * day))"
certify root-x mallory --not-before "@$((now - day))" --expires "@$((now + 400 * day))"
certify root expired --not-before "@$((now - 40 * day))" --expires "@$((now - 10 * day))"
certify root role --not-before "@$((now - day))" --expires "@$((now + 400 * day))" --role mirror

trust_dir() { # DIR THRESHOLD
	mkdir -p "$1/roots"
	cp "$G/k/root.pub" "$1/roots/root.pub"
	cp "$G/pki/anchors.pem" "$1/anchors.pem"
	printf '[org]\nthreshold = %s\n[vendor]\nanchors = anchors.pem\neku = 1.3.6.1.5.5.7.3.3\nsubject = CN=emgap Test Feed Signer\n' \
		"$2" >"$1/trust.conf"
}
trust_dir "$G/trust" 1
trust_dir "$G/trust2" 2

# make_bundle OUT SEQ FEED [create options...]: created now, expires in 30 days.
make_bundle() {
	_o=$1 _s=$2 _f=$3
	shift 3
	quiet emgap-bundle create --feed "$_f" --pki "$G/snap" --sequence "$_s" \
		--created "@$((now - 60))" --fetched "@$((now - 60))" --expires "@$((now + 30 * day))" \
		-o "$_o" "$@"
}
sign() { # BUNDLE KEY
	quiet emgap-bundle sign --secret "$G/k/$2.key" --cert "$G/k/$2.cert" "$1"
}
B=$G/bundle
make_bundle "$B/good.bundle" 10 "$G/feed/good.xml"
sign "$B/good.bundle" a

# TUF: arbitrary software (a payload member changed after signing).
sed 's/PING1/PWNED/' "$G/feed/good.xml" >"$G/w/evil.xml"
craft "$B/good.bundle" "$B/tampered-feed.bundle" "put:ocs/GetExchangeMitigations.xml=$G/w/evil.xml"
# ... the manifest itself changed (sequence bumped) under the old signature.
mkdir -p "$G/w/x" && (cd "$G/w/x" && tar xf "$B/good.bundle")
sed 's/^sequence 10$/sequence 11/' "$G/w/x/manifest" >"$G/w/manifest-11"
craft "$B/good.bundle" "$B/tampered-manifest.bundle" "put:manifest=$G/w/manifest-11"
# No signature at all; fewer than the threshold.
make_bundle "$B/unsigned.bundle" 10 "$G/feed/good.xml"
cp "$B/good.bundle" "$B/below-threshold.bundle"
# Signed by a key certified by a root nobody trusts.
make_bundle "$B/untrusted-root.bundle" 10 "$G/feed/good.xml"
sign "$B/untrusted-root.bundle" mallory
# The certificate of another (trusted) key put in place of the signer's.
# The signer's 16-digit key id, as the bundle names it (the .pub comment
# drops leading zeros, as minisign does).
ida=$(tar tf "$B/good.bundle" | sed -n 's|^sig/\([0-9A-F]\{16\}\)\.minisig$|\1|p')
[ -n "$ida" ] || { echo "make-bundles: good.bundle has no signature" >&2; exit 1; }
craft "$B/good.bundle" "$B/cert-swapped.bundle" "put:keys/$ida.cert=$G/k/b.cert" \
	"put:keys/$ida.cert.minisig=$G/k/b.cert.minisig"
# Mix and match: a genuine signature of another genuine manifest.
make_bundle "$B/w9.bundle" 9 "$G/feed/good.xml"
sign "$B/w9.bundle" a
mkdir -p "$G/w/y" && (cd "$G/w/y" && tar xf "$B/w9.bundle")
craft "$B/good.bundle" "$B/mix-and-match.bundle" "put:sig/$ida.minisig=$G/w/y/sig/$ida.minisig"
rm -f "$B/w9.bundle"
# Signing key certificate expired; certificate for another role.
make_bundle "$B/expired-cert.bundle" 10 "$G/feed/good.xml"
sign "$B/expired-cert.bundle" expired 2>/dev/null || true
make_bundle "$B/wrong-role.bundle" 10 "$G/feed/good.xml"
sign "$B/wrong-role.bundle" role
# Freeze: an expired bundle.
quiet emgap-bundle create --feed "$G/feed/good.xml" --pki "$G/snap" --sequence 10 \
	--created "@$((now - 40 * day))" --fetched "@$((now - 40 * day))" \
	--expires "@$((now - 10 * day))" -o "$B/expired.bundle"
sign "$B/expired.bundle" a
# Rollback and fast-forward (checked against a state that accepted 10).
make_bundle "$B/rollback.bundle" 9 "$G/feed/good.xml"
sign "$B/rollback.bundle" a
make_bundle "$B/fast-forward.bundle" 10000000 "$G/feed/good.xml"
sign "$B/fast-forward.bundle" a
# Members: extra, missing, duplicated, directory.
printf 'x' >"$G/w/x1"
craft "$B/good.bundle" "$B/extra-member.bundle" "put:extra/unlisted=$G/w/x1"
craft "$B/good.bundle" "$B/missing-member.bundle" "drop:pki/crl/root.crl"
craft "$B/good.bundle" "$B/duplicate-member.bundle" "dup:ocs/GetExchangeMitigations.xml"
craft "$B/good.bundle" "$B/directory-member.bundle" "dir:extra"
# Zip-slip / tar-slip and special files. The absolute and ../ targets name
# a canary under /tmp that the test checks is never created.
canary=emgap-adv-canary-$$-$now
echo "$canary" >"$G/canary"
craft "$B/good.bundle" "$B/slip-dotdot.bundle" "raw:../../../../../../../../tmp/$canary"
craft "$B/good.bundle" "$B/slip-absolute.bundle" "raw:/tmp/$canary"
craft "$B/good.bundle" "$B/slip-symlink.bundle" "symlink:extra/link=/tmp/$canary"
craft "$B/good.bundle" "$B/slip-symlink-then-file.bundle" "symlink:extra=/tmp" "raw:extra/$canary"
craft "$B/good.bundle" "$B/slip-hardlink.bundle" "hardlink:extra/hard=/etc/passwd"
craft "$B/good.bundle" "$B/chardev.bundle" "chardev:extra/null"
craft "$B/good.bundle" "$B/blockdev.bundle" "blockdev:extra/sda"
craft "$B/good.bundle" "$B/fifo.bundle" "fifo:extra/pipe"
# Decompression bombs: 256 MiB of zeros in a gzip of a few hundred KiB,
# unlisted; and 24 MiB listed in a properly signed bundle, gzipped (a
# ratio near 1000, over the limit of 100).
craft "$B/good.bundle" "$B/bomb-unlisted.bundle.gz" "zeros:extra/bomb=268435456"
mkdir -p "$G/w/extra"
head -c 25165824 /dev/zero >"$G/w/extra/zeros"
make_bundle "$G/w/bomb.bundle" 10 "$G/feed/good.xml" --extra "$G/w/extra"
sign "$G/w/bomb.bundle" a
gzip -9 -c "$G/w/bomb.bundle" >"$B/bomb-signed.bundle.gz"
rm -rf "$G/w/bomb.bundle" "$G/w/extra"
# Truncated downloads.
size=$(wc -c <"$B/good.bundle")
head -c $((size / 2)) "$B/good.bundle" >"$B/truncated-half.bundle"
head -c 700 "$B/good.bundle" >"$B/truncated-header.bundle"
head -c $((size - 1024)) "$B/good.bundle" >"$B/truncated-end-blocks.bundle"
gzip -9 -c "$B/good.bundle" >"$G/w/good.gz"
gsize=$(wc -c <"$G/w/good.gz")
head -c $((gsize - 20)) "$G/w/good.gz" >"$B/truncated.bundle.gz"
: >"$B/empty.bundle"
head -c 20000 /dev/urandom >"$B/random.bundle"
# Both layers are independent: org-signed bundles carrying a bad vendor feed.
make_bundle "$B/feed-xsw.bundle" 10 "$G/feed/xsw-added-config.xml"
sign "$B/feed-xsw.bundle" a
make_bundle "$B/feed-unsigned.bundle" 10 "$G/feed/unsigned.xml"
sign "$B/feed-unsigned.bundle" a
make_bundle "$B/feed-billion-laughs.bundle" 10 "$A/xml/billion-laughs.xml"
sign "$B/feed-billion-laughs.bundle" a
make_bundle "$B/feed-xxe.bundle" 10 "$A/xml/xxe-file.xml"
sign "$B/feed-xxe.bundle" a

# ---- minisign files ----------------------------------------------------
printf 'emgap adversarial message\n' >"$G/keys/msg"
quiet emgap-keys sign --secret "$G/k/a.key" "$G/keys/msg"
cp "$G/k/a.pub" "$G/keys/a.pub"
quiet emgap-keys sign --secret "$G/k/b.key" "$G/keys/msg"
mv "$G/keys/msg.minisig" "$G/keys/other-key.minisig"
quiet emgap-keys sign --secret "$G/k/a.key" "$G/keys/msg"
sed '3s/^trusted comment: .*/trusted comment: timestamp:0\tfile:evil/' "$G/keys/msg.minisig" \
	>"$G/keys/trusted-comment-changed.minisig"
{
	sed -n 1,2p "$G/keys/msg.minisig"
	printf 'trusted comment: '
	head -c 9000 /dev/zero | tr '\0' 'A'
	printf '\n'
	sed -n 4p "$G/keys/msg.minisig"
} >"$G/keys/huge-trusted-comment.minisig"
head -c 9000 /dev/zero | tr '\0' 'x' >"$G/keys/huge-line.pub"
printf 'emgap adversarial message\nX\n' >"$G/keys/msg-changed"

# ---- hostile IIS config ------------------------------------------------
# Deep nesting (well beyond EMG_IIS_MAX_DEPTH).
{
	printf '<?xml version="1.0" encoding="UTF-8"?>\r\n<configuration>\r\n'
	i=0
	while [ $i -lt 200 ]; do printf '<a>'; i=$((i + 1)); done
	i=0
	while [ $i -lt 200 ]; do printf '</a>'; i=$((i + 1)); done
	printf '\r\n</configuration>\r\n'
} >"$G/iis/deep-nesting.config"
# One attribute value of 8 MiB (under the file limit: must still work or
# fail cleanly, never crash), and a file over the 64 MiB limit.
ah=$SRC/samples/exchange2019/Windows/System32/inetsrv/config/applicationHost.config
cp "$ah" "$G/iis/sample.config"
python3 - "$ah" "$G/iis" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
doc = open(src, "rb").read()
i = doc.index(b"<system.applicationHost>")
big = b'<!-- x --><emgapHuge value="' + b"A" * (8 << 20) + b'" />'
open(out + "/huge-attribute.config", "wb").write(doc[:i] + big + doc[i:])
with open(out + "/over-size-limit.config", "wb") as f:
    f.write(doc[:i])
    f.write(b"<!--")
    f.write(b" " * ((64 << 20) + 1))
    f.write(b"-->")
    f.write(doc[i:])
PY

# ---- an applier that reads gen/apply/src --------------------------------
P=$G/apply
mkdir -p "$P/src" "$P/state" "$P/trust"
cp -R "$SRC/samples/exchange2019" "$P/root"
# The sim backend's view of the host: the services and pools the feed names.
printf 'service\tMSExchangeUM\tAutomatic\trunning\nservice\tMSExchangeUMCR\tManual\tstopped\napppool\tMSExchangeECPAppPool\trunning\napppool\tMSExchangeOABAppPool\trunning\n' \
	>"$P/root/emgap-sim-host.txt"
trust_dir "$P/trust" 1
pki_sign_feed "$G/pki" signer "$SRC/samples/feeds/mitigations.xml" "$G/w/mitigations.xml"
make_bundle "$P/src/emgap-10.bundle" 10 "$G/w/mitigations.xml"
sign "$P/src/emgap-10.bundle" a
cat >"$P/apply.conf" <<CONF
[server]
name = EXCH01
product = Exchange2019
build = 15.2.986.5
root = root
[trust]
dir = trust
[state]
dir = state
[sources]
path = src
[host]
backend = sim
[log]
syslog = false
CONF
# A directory outside the server root, for the symlinked web root cases.
mkdir -p "$G/outside"
cp "$SRC/samples/exchange2019/inetpub/wwwroot/web.config" "$G/outside/web.config"
rm -rf "$G/w"
