# bundlelib.sh - fixtures for emgap-bundle's tests (sourced after testlib.sh
# and pki.sh). Everything is made under $T with the real tools:
#
#   bundle_fixture      vendor PKI ($T/pki), a signed feed ($T/feed.xml), a
#                       PKI snapshot ($T/snap: crl/*.crl, ctl/*.cab), a root
#                       key and three certified signing keys a, b, c
#                       ($T/k/NAME.key|.pub|.cert), and a trust dir ($T/trust,
#                       threshold 2)
#   bundle_make OUT SEQ [create options...]   create + sign by a and b
#   craft ARGS...        tests/lib/bundle_craft.py (rewrites tar files)
#
# Times follow the real clock, since the test CRLs are issued now (valid
# 30 days): bundles are created at $B_CREATED (yesterday, midnight UTC)
# and expire 30 days later; tests verify at $B_AT (a minute from now).
# Signing-key certificates run from $B_CREATED for a year.

B_CREATED=$(date -u -d yesterday +%Y-%m-%dT00:00:00Z)
B_AT=@$(($(date +%s) + 60))
B_NOW=$(date +%s)

craft() {
	python3 "$EMGAP_SRC/tests/lib/bundle_craft.py" "$@"
}

bundle_keys() { # NAME [certify options...]
	_kn=$1
	shift
	emgap-keys generate --public "$T/k/$_kn.pub" --secret "$T/k/$_kn.key" --no-passphrase \
		>/dev/null 2>&1 &&
		emgap-keys certify --root-secret "$T/k/root.key" --key "$T/k/$_kn.pub" \
			--not-before "$B_CREATED" --expires "$(date -u -d '+365 days' +%Y-%m-%d)" \
			-o "$T/k/$_kn.cert" "$@" >/dev/null 2>&1
}

bundle_trust() { # DIR [extra trust.conf lines...]
	_td=$1
	shift
	mkdir -p "$_td/roots" &&
		cp "$T/k/root.pub" "$_td/roots/root.pub" &&
		cp "$T/pki/anchors.pem" "$_td/vendor-anchors.pem" || return 1
	{
		printf '[org]\nthreshold = 2\nrole = bundle\n'
		printf '[vendor]\nanchors = vendor-anchors.pem\neku = 1.3.6.1.5.5.7.3.3\n'
		printf 'subject = CN=emgap Test Feed Signer\n'
		printf '[freshness]\nmax_sequence_step = 1000\n'
		for _l in "$@"; do printf '%s\n' "$_l"; done
	} >"$_td/trust.conf"
}

bundle_fixture() {
	mkdir -p "$T/k" "$T/snap/crl" "$T/snap/ctl" || return 1
	pki_make "$T/pki" >/dev/null 2>&1 || return 1
	cat >"$T/feed-plain.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<EOCS version="1.0.4">
  <Config id="PING1" desc="EEMS Heartbeat probe. Does not modify any exchange settings.">
    <ActionList>
      <Action type="DoNothing" scope="Server" desc="Ping mitigation action.">
        <Value>DoNothing</Value>
      </Action>
    </ActionList>
  </Config>
</EOCS>
XML
	pki_sign_feed "$T/pki" signer "$T/feed-plain.xml" "$T/feed.xml" || return 1
	cp "$T/pki/crl/root.crl" "$T/pki/crl/inter.crl" "$T/snap/crl/" || return 1
	pki_make_ctl "$T/pki" disallowed "$T/snap/ctl/disallowedcertstl.cab" >/dev/null 2>&1 || return 1
	rm -f "$T/snap/ctl/"*.stl
	emgap-keys generate --public "$T/k/root.pub" --secret "$T/k/root.key" --no-passphrase \
		>/dev/null 2>&1 || return 1
	bundle_keys a && bundle_keys b && bundle_keys c || return 1
	bundle_trust "$T/trust"
}

bundle_make() { # OUT SEQ [create options...]
	_bo=$1 _bs=$2
	shift 2
	emgap-bundle create --feed "$T/feed.xml" --pki "$T/snap" --sequence "$_bs" \
		--created "$B_CREATED" --expires +30d -o "$_bo" "$@" &&
		emgap-bundle sign --secret "$T/k/a.key" --cert "$T/k/a.cert" "$_bo" &&
		emgap-bundle sign --secret "$T/k/b.key" --cert "$T/k/b.cert" "$_bo"
}

# keyid NAME: the key id of $T/k/NAME.pub (16 upper-case hex digits), read
# from the key itself (bytes 2..9 of the base64 line, little-endian), not
# from its comment.
keyid() {
	python3 -c 'import base64, sys
k = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
print(k[2:10][::-1].hex().upper())' "$T/k/$1.pub"
}
