# pki.sh - a throw-away vendor PKI for emgap's tests (sourced, POSIX sh).
#
# Everything is made with the real openssl, xmlsec1 and gcab binaries, under
# a directory the caller names (always somewhere in $TEST_TMP):
#
#   pki_make DIR [BASEURL]          root -> intermediate -> signers, CRLs
#   pki_sign_feed DIR SIGNER IN OUT sign a feed with xmlsec1 (enveloped)
#   pki_feed_template IN OUT        the unsigned template pki_sign_feed signs
#   pki_sign_template DIR SIGNER TMPL OUT [OPT...]  sign a hand-made template
#   pki_verify_feed_xmlsec DIR FEED [OPT...]        xmlsec1's own verdict
#   pki_make_ctl DIR KIND OUT.cab|OUT.stl [CERT.pem...]  a Windows-style CTL
#   pki_thumbprint CERT.pem         upper-case hex SHA-1 thumbprint
#
# Files pki_make leaves in DIR (PEM unless said otherwise):
#   root.pem root.key        "emgap Test Root CA" (self-signed)
#   inter.pem inter.key      "emgap Test Code Signing CA", issued by root,
#                            CDP BASEURL/root.crl
#   signer.pem signer.key    "emgap Test Feed Signer": EKU code signing
#                            (1.3.6.1.5.5.7.3.3), CDP BASEURL/inter.crl
#   noeku.pem noeku.key      "emgap Test Feed Signer (no EKU)": EKU
#                            serverAuth only
#   revoked.pem revoked.key  "emgap Test Revoked Signer": code signing EKU,
#                            listed in inter.crl
#   expired.pem expired.key  "emgap Test Expired Signer": code signing EKU,
#                            valid 2020-01-01 .. 2021-01-01 only
#   ctlsigner.pem .key       signs the test CTLs (issued by root)
#   anchors.pem              root.pem: the pinned vendor anchor
#   chain.pem                inter.pem (the untrusted intermediate)
#   crl/root.crl crl/inter.crl          DER CRLs, current (30 days)
#   crl-expired/root.crl, inter.crl     DER CRLs whose nextUpdate is
#                                       2020-02-01 (expired)
# The CRL file names match the last path element of the CDP URLs, so a web
# server rooted at DIR/crl answers BASEURL/root.crl and BASEURL/inter.crl.

# pki__cnf DIR BASEURL: writes DIR/ca.cnf, the openssl config every step
# uses. The CA directory is taken from $PKI_CADIR so one file serves both
# CAs (root and intermediate).
pki__cnf() {
	cat >"$1/ca.cnf" <<EOF
[ca]
default_ca = CA_default

[CA_default]
dir = \$ENV::PKI_CADIR
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 3650
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_any]
commonName = supplied
organizationName = optional

[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = unused

[v3_root]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[v3_inter]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$2/root.crl

[v3_signer]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$2/inter.crl

[v3_noeku]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$2/inter.crl

[v3_ctlsigner]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = 1.3.6.1.4.1.311.10.3.9
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:$2/root.crl
EOF
}

# pki__cadir DIR NAME: an empty openssl-ca database for CA NAME.
pki__cadir() {
	mkdir -p "$1/$2.db/new" &&
		: >"$1/$2.db/index.txt" &&
		echo 1000 >"$1/$2.db/serial" &&
		echo 1000 >"$1/$2.db/crlnumber"
}

# pki__issue DIR CA NAME CN EXT [STARTDATE ENDDATE]: a fresh RSA-2048 key
# DIR/NAME.key and a certificate DIR/NAME.pem for CN, issued by CA
# (root or inter) with extension section EXT.
pki__issue() {
	_d=$1 _ca=$2 _n=$3 _cn=$4 _ext=$5
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$_d/$_n.key" 2>/dev/null || return 1
	PKI_CADIR=$_d/$_ca.db openssl req -new -config "$_d/ca.cnf" -key "$_d/$_n.key" -subj "/O=emgap test/CN=$_cn" \
		-out "$_d/$_n.csr" || return 1
	if [ $# -ge 7 ]; then
		set -- -startdate "$6" -enddate "$7"
	else
		set --
	fi
	PKI_CADIR=$_d/$_ca.db openssl ca -batch -notext -config "$_d/ca.cnf" \
		-cert "$_d/$_ca.pem" -keyfile "$_d/$_ca.key" -extensions "$_ext" \
		-in "$_d/$_n.csr" -out "$_d/$_n.pem" "$@" 2>/dev/null || return 1
	rm -f "$_d/$_n.csr"
}

# pki__crl DIR CA OUTDIR [LAST NEXT]: CA's CRL in DER as OUTDIR/CA.crl;
# with LAST and NEXT (YYYYMMDDHHMMSSZ) it carries those dates instead of
# now .. now+30 days.
pki__crl() {
	_d=$1 _ca=$2 _o=$3
	if [ $# -ge 5 ]; then
		set -- -crl_lastupdate "$4" -crl_nextupdate "$5"
	else
		set --
	fi
	mkdir -p "$_o" || return 1
	PKI_CADIR=$_d/$_ca.db openssl ca -gencrl -batch -config "$_d/ca.cnf" \
		-cert "$_d/$_ca.pem" -keyfile "$_d/$_ca.key" -out "$_o/$_ca.crl.pem" "$@" \
		2>/dev/null || return 1
	openssl crl -in "$_o/$_ca.crl.pem" -outform DER -out "$_o/$_ca.crl" || return 1
	rm -f "$_o/$_ca.crl.pem"
}

# pki_make DIR [BASEURL]: builds the whole test PKI in DIR (see the top of
# this file). BASEURL is where the CRLs are said to live (the CDP URLs);
# default http://127.0.0.1:8080/crl. Returns non-zero if any step fails.
pki_make() {
	_pd=$1
	_base=${2:-http://127.0.0.1:8080/crl}
	mkdir -p "$_pd" || return 1
	pki__cnf "$_pd" "$_base"
	pki__cadir "$_pd" root || return 1
	pki__cadir "$_pd" inter || return 1
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$_pd/root.key" 2>/dev/null || return 1
	PKI_CADIR=$_pd/root.db openssl req -x509 -new -config "$_pd/ca.cnf" -key "$_pd/root.key" \
		-subj "/O=emgap test/CN=emgap Test Root CA" -days 7300 -sha256 \
		-extensions v3_root -out "$_pd/root.pem" || return 1
	pki__issue "$_pd" root inter "emgap Test Code Signing CA" v3_inter || return 1
	pki__issue "$_pd" root ctlsigner "emgap Test Root List Signer" v3_ctlsigner || return 1
	pki__issue "$_pd" inter signer "emgap Test Feed Signer" v3_signer || return 1
	pki__issue "$_pd" inter noeku "emgap Test Feed Signer (no EKU)" v3_noeku || return 1
	pki__issue "$_pd" inter revoked "emgap Test Revoked Signer" v3_signer || return 1
	pki__issue "$_pd" inter expired "emgap Test Expired Signer" v3_signer \
		20200101000000Z 20210101000000Z || return 1
	PKI_CADIR=$_pd/inter.db openssl ca -batch -config "$_pd/ca.cnf" \
		-cert "$_pd/inter.pem" -keyfile "$_pd/inter.key" \
		-revoke "$_pd/revoked.pem" -crl_reason keyCompromise 2>/dev/null || return 1
	pki__crl "$_pd" root "$_pd/crl" || return 1
	pki__crl "$_pd" inter "$_pd/crl" || return 1
	pki__crl "$_pd" root "$_pd/crl-expired" 20200101000000Z 20200201000000Z || return 1
	pki__crl "$_pd" inter "$_pd/crl-expired" 20200101000000Z 20200201000000Z || return 1
	cp "$_pd/root.pem" "$_pd/anchors.pem" &&
		cp "$_pd/inter.pem" "$_pd/chain.pem"
}

# pki_feed_template IN OUT: copies feed XML IN to OUT with an empty XMLDSig
# template (enveloped, exclusive of nothing: Reference URI="", RSA-SHA256,
# SHA-256 digest, C14N 1.0, an empty X509Data) inserted before the root
# element's closing tag, ready for xmlsec1 --sign.
pki_feed_template() {
	awk '
	{ doc = doc $0 "\n" }
	END {
		p = 0
		for (i = length(doc); i > 0; i--)
			if (substr(doc, i, 2) == "</") { p = i; break }
		if (p == 0) exit 1
		sig = "  <Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">\n" \
		"    <SignedInfo>\n" \
		"      <CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>\n" \
		"      <SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\n" \
		"      <Reference URI=\"\">\n" \
		"        <Transforms>\n" \
		"          <Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n" \
		"        </Transforms>\n" \
		"        <DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n" \
		"        <DigestValue/>\n" \
		"      </Reference>\n" \
		"    </SignedInfo>\n" \
		"    <SignatureValue/>\n" \
		"    <KeyInfo>\n" \
		"      <X509Data/>\n" \
		"    </KeyInfo>\n" \
		"  </Signature>\n"
		printf "%s%s%s", substr(doc, 1, p - 1), sig, substr(doc, p)
	}' "$1" >"$2"
}

# pki_sign_feed DIR SIGNER IN OUT: signs feed XML IN with the real xmlsec1
# as DIR/SIGNER (signer, noeku, revoked, expired), writing OUT. The
# signature is enveloped, a direct child of the root element, covers the
# whole document (URI=""), and its X509Data carries the signer and the
# intermediate certificates.
pki_sign_feed() {
	_sd=$1 _ss=$2
	pki_feed_template "$3" "$4.tmpl" || return 1
	xmlsec1 --sign --privkey-pem "$_sd/$_ss.key,$_sd/$_ss.pem,$_sd/inter.pem" \
		--output "$4" "$4.tmpl" 2>"$4.log" || { cat "$4.log" >&2; return 1; }
	rm -f "$4.tmpl" "$4.log"
}

# pki_sign_template DIR SIGNER TMPL OUT [XMLSEC-OPTION...]: signs a
# hand-made template TMPL (an XML file already holding a Signature with
# empty DigestValue/SignatureValue) as DIR/SIGNER with xmlsec1, passing any
# extra options (e.g. --id-attr:id Config) through. For tests that need a
# signature of an unusual shape.
pki_sign_template() {
	_td=$1 _ts=$2 _tt=$3 _to=$4
	shift 4
	xmlsec1 --sign --privkey-pem "$_td/$_ts.key,$_td/$_ts.pem,$_td/inter.pem" "$@" \
		--output "$_to" "$_tt" 2>"$_to.log" || { cat "$_to.log" >&2; return 1; }
	rm -f "$_to.log"
}

# pki_verify_feed_xmlsec DIR FEED [XMLSEC-OPTION...]: what the xmlsec1 binary alone thinks of
# FEED (exit status 0 = signature valid and chain to DIR/root.pem), as
# the reference every signature test compares emgap against.
# Extra options replace the default "--enabled-reference-uris empty".
pki_verify_feed_xmlsec() {
	_vd=$1 _vf=$2
	shift 2
	[ $# -gt 0 ] || set -- --enabled-reference-uris empty
	xmlsec1 --verify --trusted-pem "$_vd/root.pem" --untrusted-pem "$_vd/inter.pem" \
		"$@" "$_vf" >/dev/null 2>&1
}

# pki_thumbprint CERT.pem: prints the certificate's SHA-1 thumbprint as
# Windows shows it (40 upper-case hex digits, no colons).
pki_thumbprint() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/^.*=//; s/://g'
}

# pki_make_ctl DIR KIND OUT [CERT.pem...]: a Windows-style certificate
# trust list listing the SHA-1 thumbprints of the CERTs, as Windows ships
# authrootstl.cab (KIND authroot, usage 1.3.6.1.4.1.311.10.3.9) and
# disallowedcertstl.cab (KIND disallowed, usage 1.3.6.1.4.1.311.10.3.30).
# The DER CTL body (subjectUsage, listIdentifier, sequenceNumber,
# thisUpdate, nextUpdate, subjectAlgorithm sha1, trustedSubjects) is signed
# with openssl cms as eContentType 1.3.6.1.4.1.311.10.1 by DIR/ctlsigner
# and packed with gcab -c -z (MSZIP) under the name Windows uses
# (authroot.stl or disallowedcert.stl). When OUT ends in .stl, the bare
# signed CTL is written instead of a cabinet.
# $PKI_CTL_SEQ sets the sequence number (default 1).
pki_make_ctl() {
	_cd=$1 _kind=$2 _out=$3
	shift 3
	case $_kind in
	authroot) _usage=1.3.6.1.4.1.311.10.3.9 _stl=authroot.stl ;;
	disallowed) _usage=1.3.6.1.4.1.311.10.3.30 _stl=disallowedcert.stl ;;
	*) echo "pki_make_ctl: KIND is authroot or disallowed" >&2; return 1 ;;
	esac
	_w=$_out.d
	rm -rf "$_w" && mkdir -p "$_w" || return 1
	{
		echo "asn1 = SEQUENCE:ctl"
		echo "[ctl]"
		echo "usage = SEQUENCE:usage"
		echo "listid = FORMAT:HEX,OCTETSTRING:656D676170"
		echo "seq = INTEGER:${PKI_CTL_SEQ:-1}"
		echo "this = UTCTIME:$(date -u +%y%m%d%H%M%SZ)"
		echo "next = UTCTIME:$(date -u -d '+30 days' +%y%m%d%H%M%SZ)"
		echo "alg = SEQUENCE:sha1alg"
		# trustedSubjects is OPTIONAL: an empty list leaves it out.
		[ $# -gt 0 ] && echo "subjects = SEQUENCE:subjects"
		echo "[usage]"
		echo "u1 = OID:$_usage"
		echo "[sha1alg]"
		echo "o = OID:1.3.14.3.2.26"
		echo "n = NULL"
		echo "[subjects]"
		_i=0
		for _c in "$@"; do
			_i=$((_i + 1))
			echo "s$_i = SEQUENCE:subj$_i"
		done
		_i=0
		for _c in "$@"; do
			_i=$((_i + 1))
			echo "[subj$_i]"
			echo "id = FORMAT:HEX,OCTETSTRING:$(pki_thumbprint "$_c")"
		done
	} >"$_w/ctl.cnf" || return 1
	openssl asn1parse -genconf "$_w/ctl.cnf" -out "$_w/ctl.der" >/dev/null || return 1
	openssl cms -sign -binary -nodetach -md sha256 -econtent_type 1.3.6.1.4.1.311.10.1 \
		-signer "$_cd/ctlsigner.pem" -inkey "$_cd/ctlsigner.key" \
		-in "$_w/ctl.der" -outform DER -out "$_w/$_stl" || return 1
	rm -f "$_out"
	case $_out in
	*.stl) cp "$_w/$_stl" "$_out" || return 1 ;;
	*) gcab -c -z -n "$_out" "$_w/$_stl" || return 1 ;;
	esac
	rm -rf "$_w"
}
