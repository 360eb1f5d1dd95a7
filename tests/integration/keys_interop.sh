# keys_interop.sh - emgap-keys and the real minisign binary, both ways:
# keys, secret keys (encrypted and not) and signatures, byte for byte.
. "$EMGAP_SRC/tests/lib/testlib.sh"
LOW="--kdf-opslimit 32768 --kdf-memlimit 16777216"

if ! command -v minisign >/dev/null 2>&1; then
	fail "minisign installed" "the interop tests need minisign (scripts/deps.sh installs it)"
	exit 0
fi
# minisign prints progress on stdout; keep it for failure messages.
ms() { minisign "$@" >"$T/ms.out" 2>&1; }
ms_check() { # NAME CMD... : a minisign command that must succeed
	_n=$1
	shift
	if "$@" >"$T/ms.out" 2>&1; then pass "$_n"; else fail "$_n" "$(head -c 400 "$T/ms.out")"; fi
}
printf 'interop payload\n' >msg

# ---- our keys and signatures, checked by minisign
emgap-keys generate --public e.pub --secret e.key --no-passphrase >/dev/null
expect_exit "emgap signs" 0 emgap-keys sign --secret e.key -t "emgap to minisign" msg
ms_check "minisign -V accepts our signature" minisign -V -H -p e.pub -m msg
if grep -q "Trusted comment: emgap to minisign" "$T/ms.out"; then pass "minisign shows our trusted comment"; else fail "minisign shows our trusted comment" "$(cat "$T/ms.out")"; fi
ms_check "minisign -R recreates our public key" minisign -R -s e.key -p re.pub
same_file "our public key is byte for byte minisign's" e.pub re.pub
printf 'changed\n' >>msg
if ms minisign -V -p e.pub -m msg; then fail "minisign rejects a changed file" "accepted"; else pass "minisign rejects a changed file"; fi
printf 'interop payload\n' >msg

long=$(head -c 8173 /dev/zero | tr '\0' b)
emgap-keys sign --secret e.key -t "$long" msg
ms_check "minisign accepts a trusted comment at the limit" minisign -V -p e.pub -m msg

# ---- minisign's keys and signatures, checked by us
ms_check "minisign -G -W" minisign -G -W -p m.pub -s m.key
ms_check "minisign signs" minisign -S -s m.key -m msg -t "minisign to emgap" -x ms.minisig
expect_exit "we accept minisign's signature" 0 emgap-keys verify --public m.pub --signature ms.minisig msg
expect_out "we print minisign's trusted comment" "Trusted comment: minisign to emgap"
ms_check "minisign signs legacy" minisign -S -l -s m.key -m msg -t "legacy" -x legacy.minisig
expect_exit "we accept minisign's legacy Ed signature" 0 emgap-keys verify --public m.pub --signature legacy.minisig msg
expect_exit "minisign's unencrypted key signs with emgap-keys" 0 emgap-keys sign --secret m.key -t same msg
ms_check "minisign verifies that signature" minisign -V -p m.pub -m msg
ms_check "minisign signs the same" minisign -S -s m.key -m msg -t same -x same.minisig
same_file "same key, file and comment: identical signature files" msg.minisig same.minisig
expect_exit "minisign key id mismatch, our message" 4 emgap-keys verify --public e.pub --signature ms.minisig msg
MID=$(sed -n 's/^untrusted comment: minisign public key //p' m.pub)
EID=$(sed -n 's/^untrusted comment: minisign public key //p' e.pub)
expect_err "both ids printed" "Signature key id in ms.minisig is $MID but the key id in the public key is $EID"

# ---- encrypted secret keys
# Ours, with small scrypt limits recorded in the file: minisign honours them.
printf 'pass word\n' >pw
expect_exit "encrypted key (small limits)" 0 emgap-keys generate --public c.pub --secret c.key --passphrase-file pw $LOW
if printf 'pass word\n' | minisign -S -s c.key -m msg -t "minisign with our key" -x c.minisig >"$T/ms.out" 2>&1; then
	pass "minisign decrypts our encrypted key"
else
	fail "minisign decrypts our encrypted key" "$(cat "$T/ms.out")"
fi
expect_exit "its signature verifies with us" 0 emgap-keys verify --public c.pub --signature c.minisig msg
if printf 'not it\n' | minisign -S -s c.key -m msg -x bad.minisig >"$T/ms.out" 2>&1; then
	fail "minisign refuses the wrong passphrase" "accepted"
elif grep -q "Wrong password" "$T/ms.out"; then
	pass "minisign refuses the wrong passphrase"
else
	fail "minisign refuses the wrong passphrase" "$(cat "$T/ms.out")"
fi

# minisign's, at its real default cost (about a second and 1 GiB each way).
if printf 'mini pw\nmini pw\n' | minisign -G -p me.pub -s me.key >"$T/ms.out" 2>&1; then
	pass "minisign makes an encrypted key"
else
	fail "minisign makes an encrypted key" "$(cat "$T/ms.out")"
fi
printf 'mini pw\n' >mpw
expect_exit "minisign's encrypted key signs with emgap-keys" 0 emgap-keys sign --secret me.key --passphrase-file mpw msg
ms_check "minisign verifies it" minisign -V -p me.pub -m msg

# Ours at the default cost records minisign's default limits, byte for byte.
expect_exit "encrypted key (default limits)" 0 emgap-keys generate --public d.pub --secret d.key --passphrase-file pw
kdf() { sed -n 2p "$1" | base64 -d | head -c 6 | tail -c 4; }
if [ "$(kdf d.key)" = "ScB2" ] && [ "$(kdf me.key)" = "ScB2" ]; then pass "scrypt and BLAKE2 markers"; else fail "scrypt and BLAKE2 markers" "$(kdf d.key) / $(kdf me.key)"; fi
ours=$(sed -n 2p d.key | base64 -d | od -An -tx1 -j38 -N16 | tr -d ' \n')
theirs=$(sed -n 2p me.key | base64 -d | od -An -tx1 -j38 -N16 | tr -d ' \n')
if [ "$ours" = "$theirs" ] && [ "$ours" = "00000002000000000000004000000000" ]; then
	pass "default scrypt limits are minisign's"
else
	fail "default scrypt limits are minisign's" "ours $ours, minisign $theirs"
fi

# ---- certificates are ordinary minisign signatures of the text
expect_exit "certify" 0 emgap-keys certify --root-secret e.key --key m.pub --expires 2099-01-01 -o m.cert
ms_check "minisign verifies a certificate's signature" minisign -V -p e.pub -m m.cert

# ---- a key id with a leading zero digit (one key in 16): minisign 0.11
# drops the zero in .pub comments and in its mismatch message; so do we.
i=0
zid=0000000000000000
while [ $i -lt 400 ] && [ ${#zid} -eq 16 ]; do
	rm -f z.pub z.key
	emgap-keys generate --public z.pub --secret z.key --no-passphrase >/dev/null || break
	zid=$(sed -n 's/^untrusted comment: minisign public key //p' z.pub)
	i=$((i + 1))
done
if [ ${#zid} -lt 16 ]; then
	ms_check "minisign -R on a leading-zero key" minisign -R -s z.key -p zre.pub
	same_file "leading-zero key id written as minisign writes it" z.pub zre.pub
	emgap-keys sign --secret z.key msg
	minisign -V -p e.pub -m msg >/dev/null 2>"$T/ms.err"
	want=$(tr '\n' ' ' <"$T/ms.err" | sed 's/ $//')
	expect_exit "mismatch with a leading-zero key id" 4 emgap-keys verify --public e.pub msg
	case "$want" in
	"Signature key id in msg.minisig is $zid but"*) expect_err "mismatch message is minisign's own, word for word" "$want" ;;
	*) fail "mismatch message is minisign's own, word for word" "minisign said: $want" ;;
	esac
else
	fail "a key id with a leading zero" "none in $i keys"
fi
