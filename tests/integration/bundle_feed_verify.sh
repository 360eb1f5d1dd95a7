# bundle_feed_verify.sh - emgap-bundle verify-feed against feeds signed by the
# real xmlsec1 with a test PKI made by openssl: what is accepted, what is
# refused (each case its own check, exit code and message), and that every
# signature verdict agrees with xmlsec1 --verify.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"

P=$T/pki
S=$EMGAP_SRC/samples/feeds
if ! pki_make "$P" http://127.0.0.1:8080/crl >"$T/pki.log" 2>&1 ||
	! pki_make "$T/other" http://127.0.0.1:8080/crl >>"$T/pki.log" 2>&1; then
	fail "test PKI is built" "$(head -c 600 "$T/pki.log")"
	exit 1
fi
pki_sign_feed "$P" signer "$S/mitigations.xml" "$T/good.xml" || { fail "sample feed is signed" "xmlsec1 --sign failed"; exit 1; }

vf() {
	emgap-bundle verify-feed --anchors "$P/anchors.pem" --crl-dir "$P/crl" "$@"
}

# xmlsec NAME FEED WANT [OPT...]: xmlsec1's own verdict on FEED is WANT
# (valid or invalid).
xmlsec() {
	_xn=$1 _xf=$2 _xw=$3
	shift 3
	if pki_verify_feed_xmlsec "$P" "$_xf" "$@"; then _xv=valid; else _xv=invalid; fi
	if [ "$_xv" = "$_xw" ]; then pass "$_xn"; else fail "$_xn" "xmlsec1 says $_xv, wanted $_xw"; fi
}

# ---- accepted ------------------------------------------------------------
expect_exit "valid feed: exit 0" 0 vf "$T/good.xml"
expect_out "valid feed: names the signer" "signer: O=emgap test,CN=emgap Test Feed Signer"
expect_out "valid feed: shows the chain up to the anchor" "2 CN=emgap Test Root CA,O=emgap test"
expect_out "valid feed: shows M1.1 with its scope and site" 'M1.1 IISUrlRewrite scope=Site site="Default Web Site"'
expect_out "valid feed: shows the M1 rule" '<rule name="EEMS M1.1 PowerShell - inbound"'
expect_out "valid feed: shows applicability" "applies: Exchange2019 15.2.0.0 .. 15.2.1118.15"
expect_out "valid feed: shows UM1.2" "UM1.2 Service scope=Server value=MSExchangeUMCR"
xmlsec "valid feed: xmlsec1 agrees it is valid" "$T/good.xml" valid

expect_exit "valid feed --json: exit 0" 0 vf --json "$T/good.xml"
expect_out "valid feed --json: valid" '{"valid":true,'
expect_out "valid feed --json: action sub-id and type" '{"subid":"BEC2021.2","type":"IISUrlRewrite","supported":true,"scope":"Server"'
expect_out "valid feed --json: app pool value" '"value":"MSExchangeOABAppPool"'

for f in ping1 m1 backend-cookie-2021 um-services app-pools; do
	pki_sign_feed "$P" signer "$S/$f.xml" "$T/$f.xml"
	expect_exit "sample $f.xml signed and verified" 0 vf "$T/$f.xml"
done

expect_exit "subject rule that matches: exit 0" 0 vf --subject "CN=emgap Test Feed Signer" "$T/good.xml"
expect_exit "at a fixed time inside every validity: exit 0" 0 vf --at "$(date -u -d '+1 day' +%Y-%m-%d)" "$T/good.xml"

# ---- altered bytes -------------------------------------------------------
sed 's/MSExchangeUMCR/MSExchangeUMCX/' "$T/good.xml" >"$T/altered.xml"
expect_exit "altered byte in the content: exit 4" 4 vf "$T/altered.xml"
expect_err "altered byte in the content: says the digest does not match" "does not match the signed digest"
xmlsec "altered byte in the content: xmlsec1 agrees it is invalid" "$T/altered.xml" invalid

first=$(sed -n 's/.*<SignatureValue>\(.\).*/\1/p' "$T/good.xml")
if [ "$first" = A ]; then other=B; else other=A; fi
sed "s/<SignatureValue>./<SignatureValue>$other/" "$T/good.xml" >"$T/badsig.xml"
expect_exit "altered signature value: exit 4" 4 vf "$T/badsig.xml"
expect_err "altered signature value: says the signature is invalid" "feed signature is invalid"
xmlsec "altered signature value: xmlsec1 agrees it is invalid" "$T/badsig.xml" invalid

# ---- signature wrapping --------------------------------------------------
# An unsigned Config added next to the signed ones.
sed 's|<Config id="PING1"|<Config id="EVIL" desc="unsigned"><ActionList><Action type="Service"><Value>W3SVC</Value></Action></ActionList></Config>\n  &|' \
	"$T/good.xml" >"$T/dup.xml"
expect_exit "wrapping, added Config: exit 4" 4 vf "$T/dup.xml"
expect_err "wrapping, added Config: digest mismatch" "does not match the signed digest"
xmlsec "wrapping, added Config: xmlsec1 agrees it is invalid" "$T/dup.xml" invalid

# The signed document moved inside a new root that carries an unsigned Config.
{
	echo '<?xml version="1.0" encoding="utf-8"?>'
	echo '<EOCS version="1.0.4"><Config id="EVIL"><ActionList><Action type="DoNothing"/></ActionList></Config>'
	sed '1d' "$T/good.xml"
	echo '</EOCS>'
} >"$T/moved.xml"
expect_exit "wrapping, signed tree moved under a new root: exit 4" 4 vf "$T/moved.xml"
expect_err "wrapping, signed tree moved: Signature must be a child of the root" "not a direct child of the root"
xmlsec "wrapping, signed tree moved: xmlsec1 agrees it is invalid" "$T/moved.xml" invalid

# A signed Config moved out of place (after the Signature).
awk '
	/<Config id="PING1"/ { grab = 1 }
	grab { held = held $0 "\n"; if ($0 ~ /<\/Config>/) grab = 0; next }
	/<\/EOCS>/ { printf "%s", held }
	{ print }' "$T/good.xml" >"$T/reordered.xml"
expect_exit "wrapping, signed Config moved after the Signature: exit 4" 4 vf "$T/reordered.xml"
xmlsec "wrapping, signed Config moved: xmlsec1 agrees it is invalid" "$T/reordered.xml" invalid

# A second Signature (a copy of the first).
awk '
	/<Signature / { grab = 1 }
	grab { held = held $0 "\n" }
	/<\/Signature>/ { grab = 0 }
	/<\/EOCS>/ { printf "%s", held }
	{ print }' "$T/good.xml" >"$T/twosig.xml"
expect_exit "wrapping, second Signature: exit 4" 4 vf "$T/twosig.xml"
expect_err "wrapping, second Signature: says only one is allowed" "2 Signature elements"
xmlsec "wrapping, second Signature: xmlsec1 agrees it is invalid" "$T/twosig.xml" invalid

# A genuine signature whose Reference names one Config by ID, with an
# unsigned Config beside it: the vendor's key, but not the whole document.
pki_feed_template "$S/ping1.xml" "$T/idref.tmpl"
sed -i 's|<Reference URI="">|<Reference URI="#PING1">|' "$T/idref.tmpl"
if pki_sign_template "$P" signer "$T/idref.tmpl" "$T/idref-signed.xml" --id-attr:id Config 2>"$T/sign.log"; then
	sed 's|<Config id="PING1"|<Config id="EVIL"><ActionList><Action type="Service"><Value>W3SVC</Value></Action></ActionList></Config>\n  &|' \
		"$T/idref-signed.xml" >"$T/idref.xml"
	expect_exit "wrapping, Reference to an ID: exit 4" 4 vf "$T/idref.xml"
	expect_err "wrapping, Reference to an ID: demands URI=\"\"" 'must have URI=""'
	xmlsec "wrapping, Reference to an ID: xmlsec1 limited to URI=\"\" agrees it is invalid" "$T/idref.xml" invalid
	xmlsec "wrapping, Reference to an ID: plain xmlsec1 would accept it (why the shape check exists)" \
		"$T/idref.xml" valid --id-attr:id Config
else
	fail "wrapping, Reference to an ID: template signed" "$(head -c 400 "$T/sign.log")"
fi

# Duplicate ID attributes inside a genuinely signed document.
sed 's|<Config id="M1"|<Config id="PING1" desc="twin"><ActionList><Action type="DoNothing"/></ActionList></Config>\n  &|' \
	"$S/mitigations.xml" >"$T/dupid.in"
pki_sign_feed "$P" signer "$T/dupid.in" "$T/dupid.xml"
expect_exit "duplicate ID attributes: exit 4" 4 vf "$T/dupid.xml"
expect_err "duplicate ID attributes: named" "ID 'PING1' appears twice"

# A transform outside enveloped + c14n (XPath here).
pki_feed_template "$S/ping1.xml" "$T/xpath.tmpl"
sed -i 's|<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>|&<Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><XPath>not(ancestor-or-self::Config[@id="PING1"])</XPath></Transform>|' "$T/xpath.tmpl"
if pki_sign_template "$P" signer "$T/xpath.tmpl" "$T/xpath.xml" 2>"$T/sign.log"; then
	expect_exit "XPath transform: exit 4" 4 vf "$T/xpath.xml"
	expect_err "XPath transform: named as not allowed" "REC-xpath-19991116' is not allowed"
else
	fail "XPath transform: template signed" "$(head -c 400 "$T/sign.log")"
fi

# SHA-1 where the vendor uses SHA-256: a valid signature, but refused.
pki_feed_template "$S/ping1.xml" "$T/sha1.tmpl"
sed -i 's|http://www.w3.org/2001/04/xmlenc#sha256|http://www.w3.org/2000/09/xmldsig#sha1|; s|http://www.w3.org/2001/04/xmldsig-more#rsa-sha256|http://www.w3.org/2000/09/xmldsig#rsa-sha1|' "$T/sha1.tmpl"
if pki_sign_template "$P" signer "$T/sha1.tmpl" "$T/sha1.xml" 2>"$T/sign.log"; then
	expect_exit "RSA-SHA1 signature: exit 4" 4 vf "$T/sha1.xml"
	expect_err "RSA-SHA1 signature: names the algorithm" "SignatureMethod 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' is not allowed"
	xmlsec "RSA-SHA1 signature: cryptographically valid for xmlsec1 (refused by policy)" "$T/sha1.xml" valid
else
	fail "RSA-SHA1 signature: template signed" "$(head -c 400 "$T/sign.log")"
fi

cp "$S/mitigations.xml" "$T/unsigned.xml"
expect_exit "unsigned feed: exit 4" 4 vf "$T/unsigned.xml"
expect_err "unsigned feed: says so" "not signed"

# ---- hostile XML -----------------------------------------------------------
cat >"$T/xxe.xml" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE EOCS [<!ENTITY x SYSTEM "file:///etc/hostname">]>
<EOCS version="1.0.4"><Config id="X" desc="&x;"><ActionList><Action type="DoNothing"/></ActionList></Config></EOCS>
EOF
expect_exit "XXE: exit 3" 3 vf "$T/xxe.xml"
expect_err "XXE: DOCTYPE refused" "DOCTYPE declaration, which is refused"

{
	echo '<?xml version="1.0"?>'
	printf '<!DOCTYPE lolz [<!ENTITY l0 "lol">'
	i=1
	while [ $i -le 9 ]; do
		p=$((i - 1))
		printf '<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">' $i $p $p $p $p $p $p $p $p $p $p
		i=$((i + 1))
	done
	echo ']>'
	echo '<EOCS><Config id="B" desc="&l9;"><ActionList><Action type="DoNothing"/></ActionList></Config></EOCS>'
} >"$T/lol.xml"
start=$(date +%s)
expect_exit "billion laughs: exit 3" 3 vf "$T/lol.xml"
expect_err "billion laughs: DOCTYPE refused" "DOCTYPE declaration, which is refused"
end=$(date +%s)
if [ $((end - start)) -le 2 ]; then pass "billion laughs: refused at once"; else fail "billion laughs: refused at once" "took $((end - start)) s"; fi

head -c $((8 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$T/big.xml"
expect_exit "oversize input: exit 3" 3 vf "$T/big.xml"
expect_err "oversize input: names the limit" "larger than the limit of 8388608 bytes"

printf 'this is not XML' >"$T/junk.xml"
expect_exit "malformed input: exit 3" 3 vf "$T/junk.xml"
expect_err "malformed input: says not well-formed" "not well-formed"

# ---- certificates ----------------------------------------------------------
pki_sign_feed "$P" noeku "$S/ping1.xml" "$T/noeku.xml"
expect_exit "signer without the code-signing EKU: exit 4" 4 vf "$T/noeku.xml"
expect_err "signer without the code-signing EKU: named" "lacks the required extended key usage 1.3.6.1.5.5.7.3.3"
xmlsec "signer without the EKU: xmlsec1 alone accepts it (no EKU check, DESIGN §8)" "$T/noeku.xml" valid
expect_exit "signer without the EKU, --eku serverAuth allowed: exit 0" 0 vf --eku 1.3.6.1.5.5.7.3.1 "$T/noeku.xml"

pki_sign_feed "$T/other" signer "$S/ping1.xml" "$T/unknown-root.xml"
expect_exit "signer from an unknown root: exit 4" 4 vf "$T/unknown-root.xml"
expect_err "signer from an unknown root: says the issuer is unknown" "unable to get local issuer certificate"
xmlsec "signer from an unknown root: xmlsec1 agrees it is invalid" "$T/unknown-root.xml" invalid

pki_sign_feed "$P" revoked "$S/ping1.xml" "$T/revoked.xml"
expect_exit "revoked signer: exit 5" 5 vf "$T/revoked.xml"
expect_err "revoked signer: says revoked" "Revoked Signer: certificate revoked"
xmlsec "revoked signer: xmlsec1 alone (no CRLs) accepts it" "$T/revoked.xml" valid

pki_sign_feed "$P" expired "$S/ping1.xml" "$T/expired.xml"
expect_exit "expired signer: exit 5" 5 vf "$T/expired.xml"
expect_err "expired signer: says expired" "certificate has expired"

expect_exit "expired CRLs: exit 5" 5 emgap-bundle verify-feed --anchors "$P/anchors.pem" --crl-dir "$P/crl-expired" "$T/good.xml"
expect_err "expired CRLs: says so" "CRL has expired"

expect_exit "expired CRLs judged at their fetch time (--crl-time): exit 0" 0 emgap-bundle verify-feed \
	--anchors "$P/anchors.pem" --crl-dir "$P/crl-expired" --crl-time 2020-01-15 "$T/good.xml"
expect_exit "current CRLs judged at a time past their nextUpdate: exit 5" 5 \
	vf --crl-time "$(date -u -d '+45 days' +%Y-%m-%d)" "$T/good.xml"
expect_err "current CRLs at a later CRL time: says so" "is not current at the CRL time"

expect_exit "no CRLs at all: exit 4" 4 emgap-bundle verify-feed --anchors "$P/anchors.pem" "$T/good.xml"
expect_err "no CRLs at all: says which is missing" "unable to get certificate CRL (no CRL for it in the snapshot)"
expect_exit "no CRLs, --allow-missing-crl: exit 0" 0 emgap-bundle verify-feed --anchors "$P/anchors.pem" --allow-missing-crl "$T/good.xml"

mkdir "$T/crl-leaf-only"
cp "$P/crl/inter.crl" "$T/crl-leaf-only/"
expect_exit "root CRL missing (CRL check on the whole chain): exit 4" 4 \
	emgap-bundle verify-feed --anchors "$P/anchors.pem" --crl-dir "$T/crl-leaf-only" "$T/good.xml"
expect_err "root CRL missing: names the intermediate" "Code Signing CA: unable to get certificate CRL"

mkdir "$T/crl-junk"
cp "$P/crl/inter.crl" "$P/crl/root.crl" "$T/crl-junk/"
echo junk >"$T/crl-junk/x.crl"
expect_exit "unreadable CRL: exit 3" 3 emgap-bundle verify-feed --anchors "$P/anchors.pem" --crl-dir "$T/crl-junk" "$T/good.xml"
expect_err "unreadable CRL: named" "x.crl: not a CRL"

expect_exit "subject rule that does not match: exit 4" 4 vf --subject "CN=Someone Else" "$T/good.xml"
expect_err "subject rule that does not match: named" "does not match the subject rule 'CN=Someone Else'"

expect_exit "verification time before the certificates: exit 5" 5 vf --at 2020-06-01 "$T/good.xml"

# ---- CTLs --------------------------------------------------------------------
mkdir "$T/ctl-ok" "$T/ctl-bad"
PKI_CTL_SEQ=77 pki_make_ctl "$P" authroot "$T/ctl-ok/authrootstl.cab" "$P/root.pem"
pki_make_ctl "$P" disallowed "$T/ctl-ok/disallowedcertstl.cab" "$T/other/root.pem"
expect_exit "CTLs that do not list our anchor: exit 0" 0 vf --ctl-dir "$T/ctl-ok" "$T/good.xml"
expect_out "CTLs: authroot read from the cab with its sequence number" "authrootstl.cab kind=authroot sequence=4D"
expect_out "CTLs: disallowed list read with its entry count" "disallowedcertstl.cab kind=disallowed sequence=01"

pki_make_ctl "$P" disallowed "$T/ctl-bad/disallowedcertstl.cab" "$T/other/root.pem" "$P/root.pem"
expect_exit "anchor on the disallowed CTL: exit 4" 4 vf --ctl-dir "$T/ctl-bad" "$T/good.xml"
expect_err "anchor on the disallowed CTL: named" "CN=emgap Test Root CA,O=emgap test' in the feed signer's chain is on the disallowed list"

mkdir "$T/ctl-stl"
pki_make_ctl "$P" disallowed "$T/ctl-stl/disallowedcert.stl" "$P/inter.pem"
expect_exit "intermediate on a bare disallowed .stl: exit 4" 4 vf --ctl-dir "$T/ctl-stl" "$T/good.xml"
expect_err "intermediate on a bare disallowed .stl: named" "Code Signing CA' in the feed signer's chain is on the disallowed list"

# ---- usage -------------------------------------------------------------------
expect_exit "no --anchors: exit 2" 2 emgap-bundle verify-feed "$T/good.xml"
expect_exit "bad --at: exit 2" 2 vf --at yesterday "$T/good.xml"
expect_exit "missing feed file: exit 7" 7 vf "$T/nope.xml"
expect_exit "--help: exit 0" 0 emgap-bundle verify-feed --help
