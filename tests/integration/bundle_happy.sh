# bundle_happy.sh - create, sign (two signers, threshold 2), verify, inspect
# and extract, with the real emgap-keys, openssl and xmlsec1.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
A=$(keyid a)
B=$(keyid b)

expect_exit "create exits 0" 0 emgap-bundle create --feed "$T/feed.xml" --pki "$T/snap" \
	--sequence 7 --created "$B_CREATED" --expires +30d -o "$T/b1"
tar tf "$T/b1" >"$T/list"
if [ "$(head -n 1 "$T/list")" = manifest ] &&
	grep -qx 'ocs/GetExchangeMitigations.xml' "$T/list" && grep -qx 'pki/crl/inter.crl' "$T/list" &&
	grep -qx 'pki/ctl/disallowedcertstl.cab' "$T/list"; then
	pass "manifest first, feed, CRLs and CTL carried"
else
	fail "manifest first, feed, CRLs and CTL carried" "$(cat "$T/list")"
fi
tar xOf "$T/b1" ocs/GetExchangeMitigations.xml >"$T/feed.out"
same_file "feed carried byte for byte" "$T/feed.xml" "$T/feed.out"
tar xOf "$T/b1" manifest >"$T/manifest"
want=$(sha256sum "$T/feed.xml" | cut -d' ' -f1)
if grep -qx "file $(wc -c <"$T/feed.xml" | tr -d ' ') $want ocs/GetExchangeMitigations.xml" "$T/manifest" &&
	grep -qx 'sequence 7' "$T/manifest" && grep -qx "expires $(date -u -d "${B_CREATED%T*} +30 days" +%Y-%m-%dT00:00:00Z)" "$T/manifest"; then
	pass "manifest lists size and SHA-256 (as sha256sum computes it)"
else
	fail "manifest lists size and SHA-256 (as sha256sum computes it)" "$(cat "$T/manifest")"
fi

# Determinism: same inputs, same bytes (another second, another directory).
sleep 1
emgap-bundle create --feed "$T/feed.xml" --pki "$T/snap" --sequence 7 --created "$B_CREATED" \
	--expires +30d -o "$T/b2" 2>"$T/err"
same_file "create is deterministic" "$T/b1" "$T/b2"

expect_exit "unsigned bundle refused (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/b1"
expect_err "unsigned bundle: says so" "not signed"

expect_exit "sign with key a" 0 emgap-bundle sign --secret "$T/k/a.key" --cert "$T/k/a.cert" "$T/b1"
expect_exit "one signature of two refused (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/b1"
expect_err "threshold message counts valid keys" "1 of 2"
expect_exit "sign with key b" 0 emgap-bundle sign --secret "$T/k/b.key" --cert "$T/k/b.cert" "$T/b1"
tar tf "$T/b1" >"$T/list"
if grep -qx "sig/$A.minisig" "$T/list" && grep -qx "keys/$B.cert" "$T/list" &&
	grep -qx "keys/$B.cert.minisig" "$T/list"; then
	pass "signature and certificate members per key"
else
	fail "signature and certificate members per key" "$(cat "$T/list")"
fi
tar xOf "$T/b1" "sig/$A.minisig" >"$T/a.minisig"
tar xOf "$T/b1" manifest >"$T/manifest"
if command -v minisign >/dev/null 2>&1; then
	check "minisign -V accepts the manifest signature" \
		minisign -V -q -p "$T/k/a.pub" -x "$T/a.minisig" -m "$T/manifest"
fi

cp "$T/b1" "$T/before-resign"
expect_exit "sign again with key a" 0 emgap-bundle sign --secret "$T/k/a.key" --cert "$T/k/a.cert" "$T/b1"
n=$(tar tf "$T/b1" | grep -c "^sig/")
if [ "$n" -eq 2 ]; then pass "re-signing replaces, not duplicates"; else fail "re-signing replaces, not duplicates" "$n sig members"; fi
same_file "re-signing with the same key is byte-identical" "$T/before-resign" "$T/b1"
if ls -a "$T" | grep -q '^\.emgap-tmp'; then fail "sign leaves no temporary file" "$(ls -a "$T")"; else pass "sign leaves no temporary file"; fi

expect_exit "verify: two certified signers, threshold 2" 0 \
	emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/b1"
expect_out "verify names both signers" "$A"
expect_out "verify reports the sequence" "sequence 7"

expect_exit "verify --json" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" --json "$T/b1"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"] and d["sequence"]==7 and len(d["signers"])==2' "$T/out"; then
	pass "verify --json is JSON with ok, sequence, signers"
else
	fail "verify --json is JSON with ok, sequence, signers" "$(cat "$T/out")"
fi

expect_exit "verify with state accepts" 0 emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/b1"
if grep -qx 'sequence 7' "$T/state/sequence" && grep -q "bundle-sha256 $(sha256sum "$T/b1" | cut -d' ' -f1)" "$T/state/sequence"; then
	pass "accepting records sequence and bundle digest"
else
	fail "accepting records sequence and bundle digest" "$(cat "$T/state/sequence" 2>&1)"
fi

expect_exit "inspect" 0 emgap-bundle inspect "$T/b1"
expect_out "inspect lists signers by key id" "key $A"
expect_out "inspect shows certificate validity" "valid $B_CREATED .. $(date -u -d '+365 days' +%Y-%m-%dT00:00:00Z)"
expect_out "inspect shows the feed summary" "1 mitigation (not verified): PING1"
expect_out "inspect lists manifest files" "pki/crl/root.crl"
expect_exit "inspect --json" 0 emgap-bundle inspect --json "$T/b1"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sequence"]==7 and d["feed"]["mitigations"][0]["id"]=="PING1" and len(d["signers"])==2 and len(d["files"])==4' "$T/out"; then
	pass "inspect --json carries manifest, signers and feed"
else
	fail "inspect --json carries manifest, signers and feed" "$(head -c 600 "$T/out")"
fi

expect_exit "extract" 0 emgap-bundle extract --trust "$T/trust" --at "$B_AT" -C "$T/x" "$T/b1"
same_file "extract writes the feed" "$T/feed.xml" "$T/x/ocs/GetExchangeMitigations.xml"
same_file "extract writes the manifest" "$T/manifest" "$T/x/manifest"
same_file "extract writes the CTL" "$T/snap/ctl/disallowedcertstl.cab" "$T/x/pki/ctl/disallowedcertstl.cab"
if ls -a "$T/x" | grep -q '^\.emgap-tmp'; then fail "extract leaves no staging dir" "$(ls -a "$T/x")"; else pass "extract leaves no staging dir"; fi
expect_exit "extract into a non-empty dir refused" 7 emgap-bundle extract --trust "$T/trust" --at "$B_AT" -C "$T/x" "$T/b1"

# Compressed on read: gzip and zstd.
gzip -c -n "$T/b1" >"$T/b1.gz"
expect_exit "gzip-compressed bundle verifies" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/b1.gz"
if command -v zstd >/dev/null 2>&1; then
	zstd -q -c "$T/b1" >"$T/b1.zst"
	expect_exit "zstd-compressed bundle verifies" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/b1.zst"
fi

# The whole-file SHA-256 comes from the verifying pass itself (--json
# sha256, state bundle-sha256): it must be what sha256sum says of the file
# as stored, compressed or not, including zero padding after the tar's end
# marker (as tar -z pads to its record size) and bytes after the
# compressed stream, which the decompressor never asks for.
json_sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$T/out" 2>/dev/null; }
file_sha() { sha256sum "$1" | cut -d' ' -f1; }
(cat "$T/b1" && head -c 3000000 /dev/zero) | gzip -c -n >"$T/b1p.gz"
head -c 70000 /dev/urandom >>"$T/b1p.gz"
set -- "$T/b1" "$T/b1.gz" "$T/b1p.gz"
if command -v zstd >/dev/null 2>&1; then
	(cat "$T/b1" && head -c 3000000 /dev/zero) | zstd -q -c >"$T/b1p.zst"
	set -- "$@" "$T/b1.zst" "$T/b1p.zst"
fi
for f in "$@"; do
	n=${f##*/}
	expect_exit "verify --json $n" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" --json "$f"
	got=$(json_sha)
	if [ -n "$got" ] && [ "$got" = "$(file_sha "$f")" ]; then
		pass "verify --json: sha256 of $n is sha256sum's"
	else
		fail "verify --json: sha256 of $n is sha256sum's" "got '$got', sha256sum $(file_sha "$f")"
	fi
done
expect_exit "padded gzip bundle accepted into a new state" 0 \
	emgap-bundle verify --trust "$T/trust" --state "$T/state-gz" --at "$B_AT" "$T/b1p.gz"
if grep -qx "bundle-sha256 $(file_sha "$T/b1p.gz")" "$T/state-gz/sequence"; then
	pass "state records sha256sum's digest of a compressed bundle"
else
	fail "state records sha256sum's digest of a compressed bundle" "$(cat "$T/state-gz/sequence" 2>&1)"
fi

# Extra files are carried and hashed too.
mkdir -p "$T/extra" && echo "operator note" >"$T/extra/README.txt"
bundle_make "$T/b3" 8 --extra "$T/extra" 2>"$T/err"
expect_exit "bundle with extra/ member verifies" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/b3"
expect_exit "extract with extra/" 0 emgap-bundle extract --trust "$T/trust" --at "$B_AT" -C "$T/x3" "$T/b3"
same_file "extra file extracted" "$T/extra/README.txt" "$T/x3/extra/README.txt"
