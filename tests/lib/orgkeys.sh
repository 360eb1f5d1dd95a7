# orgkeys.sh - an organisation's keys and the trust directory its servers
# hold, made with the real emgap-keys (sourced, POSIX sh).
#
#   org_keys DIR            DIR/root.pub, DIR/root.key    the organisation root
#                           DIR/sign.pub, DIR/sign.key    a bundle signing key
#                           DIR/sign.cert                 certified by the root
#                                                         until 2099-01-01
#                           (no passphrases)
#   org_trust DIR ROOT.pub ANCHORS.pem
#                           DIR/roots/root.pub, DIR/anchors.pem and a
#                           trust.conf: one signature, the test vendor's
#                           code-signing EKU and signer subject (pki.sh)

org_keys() { # DIR
	emgap-keys generate --public "$1/root.pub" --secret "$1/root.key" --no-passphrase >/dev/null 2>&1 &&
		emgap-keys generate --public "$1/sign.pub" --secret "$1/sign.key" --no-passphrase >/dev/null 2>&1 &&
		emgap-keys certify --root-secret "$1/root.key" --key "$1/sign.pub" --expires 2099-01-01 \
			-o "$1/sign.cert" >/dev/null 2>&1
}

org_trust() { # DIR ROOT.pub ANCHORS.pem
	mkdir -p "$1/roots" && cp "$2" "$1/roots/root.pub" && cp "$3" "$1/anchors.pem" || return 1
	printf '[org]\nthreshold = 1\n[vendor]\nanchors = anchors.pem\neku = 1.3.6.1.5.5.7.3.3\nsubject = CN=emgap Test Feed Signer\n' \
		>"$1/trust.conf"
}
