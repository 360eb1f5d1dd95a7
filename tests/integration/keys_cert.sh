# keys_cert.sh - emgap-keys certify and verify-cert: a root certifies a
# signing key for a role and a time window; every way that can go wrong.
. "$EMGAP_SRC/tests/lib/testlib.sh"

emgap-keys generate --public root.pub --secret root.key --no-passphrase >/dev/null
emgap-keys generate --public root2.pub --secret root2.key --no-passphrase >/dev/null
emgap-keys generate --public s.pub --secret s.key --no-passphrase >/dev/null
# 16-digit key id from a .pub comment (minisign 0.11 drops leading zeros)
id16() { sed -n 's/^untrusted comment: minisign public key //p' "$1" | awk '{ printf "%16s\n", $0 }' | tr ' ' 0; }
SID=$(id16 s.pub)
RID=$(id16 root.pub)

expect_exit "certify" 0 emgap-keys certify --root-secret root.key --key s.pub \
	--not-before 2026-01-01 --expires 2027-01-01T00:00:00Z -o s.cert
expect_out "certify reports what it did" "Certified key $SID for role bundle from 2026-01-01T00:00:00Z until 2027-01-01T00:00:00Z"
cat >want.cert <<EOF
emgap-key-certificate: 1
key: $(sed -n 2p s.pub)
key-id: $SID
role: bundle
not-before: 2026-01-01T00:00:00Z
expires: 2027-01-01T00:00:00Z
EOF
same_file "certificate text as documented" s.cert want.cert
expect_exit "certificate signature is a minisign signature by the root" 0 emgap-keys verify --public root.pub s.cert

expect_exit "valid certificate" 0 emgap-keys verify-cert --root root.pub --at 2026-06-01 s.cert
expect_out "valid certificate described" "Certificate valid: key $SID, role bundle, not-before 2026-01-01T00:00:00Z, expires 2027-01-01T00:00:00Z, certified by root $RID"
expect_exit "valid among several roots" 0 emgap-keys verify-cert --root root2.pub --root root.pub --at 2026-06-01 s.cert
expect_exit "valid at not-before exactly" 0 emgap-keys verify-cert --root root.pub --at 2026-01-01T00:00:00Z s.cert
expect_exit "expired certificate" 5 emgap-keys verify-cert --root root.pub --at 2027-01-01T00:00:00Z s.cert
expect_err "expiry named" "s.cert: certificate of key $SID expired at 2027-01-01T00:00:00Z"
expect_exit "not-yet-valid certificate" 5 emgap-keys verify-cert --root root.pub --at 2025-12-31T23:59:59Z s.cert
expect_err "not-before named" "certificate of key $SID is not valid before 2026-01-01T00:00:00Z"
expect_exit "wrong role" 4 emgap-keys verify-cert --root root.pub --role mirror --at 2026-06-01 s.cert
expect_err "wrong role named" "is for role \"bundle\", not \"mirror\""
expect_exit "certificate signed by an unknown root" 4 emgap-keys verify-cert --root root2.pub --at 2026-06-01 s.cert
expect_err "unknown root named" "certificate signed by key $RID, which is not a trusted root"

sed 's/^expires: 2027/expires: 2037/' s.cert >long.cert
cp s.cert.minisig long.cert.minisig
expect_exit "edited certificate refused" 4 emgap-keys verify-cert --root root.pub --at 2026-06-01 long.cert
expect_err "edited certificate explained" "signature verification failed"
head -n 3 s.cert >cut.cert
cp s.cert.minisig cut.cert.minisig
expect_exit "truncated certificate" 3 emgap-keys verify-cert --root root.pub --at 2026-06-01 cut.cert
expect_err "truncated certificate explained" "cut.cert: certificate: line 4: \"role:\" is missing"
expect_exit "missing certificate signature" 7 emgap-keys verify-cert --root root.pub --signature none.minisig s.cert

# A certificate for another role, and one from the second root.
expect_exit "certify for a role" 0 emgap-keys certify --root-secret root2.key --key s.pub \
	--role mirror --expires 2099-01-01 -o m.cert
expect_exit "role certificate valid for its role" 0 emgap-keys verify-cert --root root.pub --root root2.pub --role mirror m.cert
expect_exit "role certificate not valid for bundles" 4 emgap-keys verify-cert --root root.pub --root root2.pub m.cert

# certify's own errors
expect_exit "expires before not-before" 2 emgap-keys certify --root-secret root.key --key s.pub \
	--not-before 2027-01-01 --expires 2026-01-01 -o x.cert
expect_err "window explained" "--expires must be after --not-before"
expect_exit "bad date" 2 emgap-keys certify --root-secret root.key --key s.pub --expires tomorrow -o x.cert
expect_err "bad date named" "--expires: not a time: 'tomorrow'"
expect_exit "bad role" 2 emgap-keys certify --root-secret root.key --key s.pub --expires 2099-01-01 --role 'Bad Role' -o x.cert
expect_exit "missing key file" 7 emgap-keys certify --root-secret root.key --key none.pub --expires 2099-01-01 -o x.cert
if [ ! -e x.cert ] && [ ! -e x.cert.minisig ]; then pass "failed certify writes nothing"; else fail "failed certify writes nothing" "x.cert left"; fi
printf 'root pw\n' >rpw
printf 'other\n' >bad
emgap-keys generate --public er.pub --secret er.key --passphrase-file rpw \
	--kdf-opslimit 32768 --kdf-memlimit 16777216 >/dev/null
expect_exit "encrypted root, wrong passphrase" 4 emgap-keys certify --root-secret er.key --passphrase-file bad \
	--key s.pub --expires 2099-01-01 -o x.cert
expect_err "wrong root passphrase explained" "er.key: wrong passphrase"
expect_exit "encrypted root certifies" 0 emgap-keys certify --root-secret er.key --passphrase-file rpw \
	--key s.pub --expires 2099-01-01 -o x.cert
expect_exit "its certificate verifies" 0 emgap-keys verify-cert --root er.pub x.cert

# ---- --json
expect_exit "verify-cert --json" 0 emgap-keys verify-cert --json --root root.pub --at 2026-06-01 s.cert
expect_out "json certificate" "{\"valid\":true,\"certificate\":\"s.cert\",\"key_id\":\"$SID\",\"role\":\"bundle\",\"not_before\":\"2026-01-01T00:00:00Z\",\"expires\":\"2027-01-01T00:00:00Z\",\"root_key_id\":\"$RID\"}"
expect_exit "verify-cert --json, expired" 5 emgap-keys verify-cert --json --root root.pub --at 2028-01-01 s.cert
expect_out "json status of an expired certificate" '{"valid":false,"exit":5,"status":"expired","error":"s.cert: certificate of key'
expect_exit "verify-cert --json, unknown root" 4 emgap-keys verify-cert --json --root root2.pub s.cert
expect_out "json status of an unknown root" '"status":"unknown root"'
