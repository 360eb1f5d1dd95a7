# keys_cli.sh - emgap-keys generate, sign and verify: the files they write,
# and the exit code and message of every kind of bad input.
. "$EMGAP_SRC/tests/lib/testlib.sh"
LOW="--kdf-opslimit 32768 --kdf-memlimit 16777216"

# 16-digit key id from a .pub comment (minisign 0.11 drops leading zeros)
id16() { sed -n 's/^untrusted comment: minisign public key //p' "$1" | awk '{ printf "%16s\n", $0 }' | tr ' ' 0; }
# line N of FILE replaced by TEXT, into OUT
edit_line() { awk -v n="$2" -v t="$3" 'NR == n { print t; next } { print }' "$1" >"$4"; }

# ---- command line
expect_exit "help exits 0" 0 emgap-keys --help
expect_out "help lists every command" "verify-cert"
v=$(sed -n 's/.*EMG_VERSION "\(.*\)".*/\1/p' "$EMGAP_SRC/common/version.h")
expect_exit "version exits 0" 0 emgap-keys --version
expect_out "version from version.h" "emgap-keys $v"
expect_exit "no command: usage" 2 emgap-keys
expect_exit "unknown command: usage" 2 emgap-keys frobnicate
expect_err "unknown command named" "unknown command 'frobnicate'"
expect_exit "unknown option: usage" 2 emgap-keys verify --bogus x
expect_exit "sign without files: usage" 2 emgap-keys sign --secret x
expect_err "sign usage says what is missing" "sign needs --secret FILE and at least one FILE"

# ---- generate
expect_exit "generate unencrypted" 0 emgap-keys generate --public a.pub --secret a.key --no-passphrase
AID=$(sed -n 's/^untrusted comment: minisign public key \([0-9A-F]\{1,16\}\)$/\1/p' a.pub)
if [ -n "$AID" ] && grep -q "key id $(id16 a.pub)" "$T/out"; then pass "public key comment carries the key id"; else fail "public key comment carries the key id" "$(cat a.pub)"; fi
if [ "$(stat -c %a a.key)" = 600 ]; then pass "secret key mode 0600"; else fail "secret key mode 0600" "$(stat -c %a a.key)"; fi
if [ "$(sed -n 2p a.pub | wc -c)" -eq 57 ] && [ "$(wc -l <a.pub)" -eq 2 ]; then pass "public key is two lines"; else fail "public key is two lines" "$(cat a.pub)"; fi

cp a.key a.key.orig
expect_exit "existing secret key refused" 7 emgap-keys generate --public new.pub --secret a.key --no-passphrase
expect_err "existing secret key named" "a.key: already exists; refusing to overwrite it"
same_file "existing secret key untouched" a.key a.key.orig
if [ ! -e new.pub ]; then pass "no public key left behind"; else fail "no public key left behind" "new.pub exists"; fi
expect_exit "existing public key refused" 7 emgap-keys generate --public a.pub --secret new.key --no-passphrase
if [ ! -e new.key ]; then pass "no secret key left behind"; else fail "no secret key left behind" "new.key exists"; fi

printf '\n' >empty.pass
expect_exit "empty passphrase refused" 2 emgap-keys generate --public e.pub --secret e.key --passphrase-file empty.pass
expect_err "empty passphrase explained" "empty passphrase; use --no-passphrase"
expect_exit "no terminal, no passphrase file" 2 setsid -w emgap-keys generate --public e.pub --secret e.key $LOW
expect_err "no terminal explained" "no terminal to ask for the passphrase"
if [ ! -e e.key ] && [ ! -e e.pub ]; then pass "failed generate writes nothing"; else fail "failed generate writes nothing" "files left"; fi
expect_exit "bad kdf limit: usage" 2 emgap-keys generate --public e.pub --secret e.key --passphrase-file empty.pass --kdf-opslimit lots

# The passphrase typed on a terminal (a pty from script(1)), twice, not echoed.
if command -v script >/dev/null 2>&1; then
	(sleep 1; printf 'tty-secret-9\n'; sleep 1; printf 'tty-secret-9\n'; sleep 1) |
		script -qec "emgap-keys generate --public t.pub --secret t.key $LOW" /dev/null >tty.out 2>&1
	if grep -q "Passphrase (again)" tty.out && ! grep -q "tty-secret-9" tty.out; then
		pass "terminal prompt asks twice without echo"
	else
		fail "terminal prompt asks twice without echo" "$(cat tty.out)"
	fi
	printf 'tty-secret-9\n' >t.pass
	echo data >tty.msg
	expect_exit "key made on the terminal decrypts" 0 emgap-keys sign --secret t.key --passphrase-file t.pass tty.msg
	# Ctrl-C while echo is off: the process still dies of it, but only after
	# echo is back on. (The shell's trap keeps it alive to look; the child
	# gets the default action back on exec.)
	(sleep 1; printf 'abc'; sleep 1; printf '\003'; sleep 1; printf '\n'; sleep 2) |
		script -qec "trap 'echo caught' INT; emgap-keys generate --public ci.pub --secret ci.key $LOW; echo rc=\$?; stty -a | tr ' ;' '\n\n' | grep -x -- '-\?echo'" \
			/dev/null >ctrlc.out 2>&1
	if grep -q "^rc=130" ctrlc.out && grep -qx "echo.\{0,1\}" ctrlc.out && ! grep -q abc ctrlc.out && [ ! -e ci.key ]; then
		pass "Ctrl-C at the prompt leaves echo on and writes nothing"
	else
		fail "Ctrl-C at the prompt leaves echo on and writes nothing" "$(cat ctrlc.out)"
	fi
fi

# ---- sign and verify
echo "payload one" >msg
expect_exit "sign" 0 emgap-keys sign --secret a.key msg
expect_exit "verify" 0 emgap-keys verify --public a.pub msg
expect_out "verify says so" "Signature and comment signature verified"
expect_out "verify prints the default trusted comment" "	file:msg	hashed"
echo two >f2
echo three >f3
expect_exit "sign several files" 0 emgap-keys sign --secret a.key -t "release 7" f2 f3
expect_exit "second file verifies" 0 emgap-keys verify --public a.pub f3
expect_out "trusted comment printed" "Trusted comment: release 7"
expect_exit "explicit --signature" 0 emgap-keys verify --public a.pub --signature f2.minisig f2
expect_exit "signature of another file" 4 emgap-keys verify --public a.pub --signature f2.minisig f3
expect_err "bad signature explained" "f3: signature verification failed"
if ls -a | grep -q '^\.emgap-tmp'; then fail "no temporary files left" "$(ls -a)"; else pass "no temporary files left"; fi

cp msg msg.orig
echo tamper >>msg
expect_exit "changed file refused" 4 emgap-keys verify --public a.pub msg
cp msg.orig msg
edit_line msg.minisig 3 "trusted comment: timestamp:0	file:msg	hashed" forged.minisig
expect_exit "forged trusted comment refused" 4 emgap-keys verify --public a.pub --signature forged.minisig msg
expect_err "forged comment explained" "comment signature verification failed"

expect_exit "second key" 0 emgap-keys generate --public b.pub --secret b.key --no-passphrase
BID=$(sed -n 's/^untrusted comment: minisign public key //p' b.pub)
# minisign's own wording and id format (no leading zeros, as minisign 0.11)
expect_exit "key id mismatch refused" 4 emgap-keys verify --public b.pub msg
expect_err "key id mismatch names both ids" "Signature key id in msg.minisig is $AID but the key id in the public key is $BID"

# ---- malformed files
line2=$(sed -n 2p a.pub)
edit_line a.pub 2 "$(echo "$line2" | cut -c1-40)*$(echo "$line2" | cut -c42-)" badchar.pub
expect_exit "bad base64 character" 3 emgap-keys verify --public badchar.pub msg
expect_err "bad base64 named" "badchar.pub: line 2: public key is not valid base64"
edit_line a.pub 2 "$(echo "$line2" | cut -c1-54)" trunc.pub
expect_exit "truncated base64" 3 emgap-keys verify --public trunc.pub msg
expect_err "truncated base64 named" "trunc.pub: line 2: public key is not valid base64 (truncated or damaged?)"
edit_line a.pub 2 "$(echo "$line2" | cut -c1-52)" short.pub
expect_exit "base64 short by whole groups" 3 emgap-keys verify --public short.pub msg
expect_err "short key explained" "decodes to 39 bytes, expected 42"
edit_line a.pub 2 "RWX$(echo "$line2" | cut -c4-)" alg.pub
expect_exit "wrong public key algorithm" 3 emgap-keys verify --public alg.pub msg
expect_err "wrong public key algorithm named" 'unsupported signature algorithm "Ee" (expected "Ed")'
sig2=$(sed -n 2p msg.minisig)
edit_line msg.minisig 2 "RUX$(echo "$sig2" | cut -c4-)" alg.minisig
expect_exit "wrong signature algorithm" 3 emgap-keys verify --public a.pub --signature alg.minisig msg
expect_err "wrong signature algorithm named" 'alg.minisig: line 2: unsupported signature algorithm "EE"'
head -n 2 msg.minisig >cut.minisig
expect_exit "truncated signature file" 3 emgap-keys verify --public a.pub --signature cut.minisig msg
expect_err "truncated signature file explained" "cut.minisig: line 3 (the trusted comment) is missing"
sec2=$(sed -n 2p a.key)
edit_line a.key 2 "RWRY$(echo "$sec2" | cut -c5-)" kdf.key
expect_exit "wrong kdf algorithm" 3 emgap-keys sign --secret kdf.key msg
expect_err "wrong kdf named" 'kdf.key: unsupported key derivation function'
expect_exit "missing signature file" 7 emgap-keys verify --public a.pub f2.minisig.none
expect_exit "missing public key file" 7 emgap-keys verify --public none.pub msg

# ---- passphrases
printf 'right horse\n' >right.pass
printf 'wrong horse\n' >wrong.pass
expect_exit "generate encrypted" 0 emgap-keys generate --public c.pub --secret c.key --passphrase-file right.pass $LOW
echo "c payload" >cmsg
expect_exit "wrong passphrase refused" 4 emgap-keys sign --secret c.key --passphrase-file wrong.pass cmsg
expect_err "wrong passphrase explained" "c.key: wrong passphrase for this secret key"
if [ ! -e cmsg.minisig ]; then pass "no signature after a wrong passphrase"; else fail "no signature after a wrong passphrase" "cmsg.minisig exists"; fi
expect_exit "right passphrase signs" 0 emgap-keys sign --secret c.key --passphrase-file right.pass cmsg
expect_exit "encrypted key's signature verifies" 0 emgap-keys verify --public c.pub cmsg
printf 'right horse\r\n' >crlf.pass
expect_exit "passphrase file with CRLF" 0 emgap-keys sign --secret c.key --passphrase-file crlf.pass cmsg
expect_exit "encrypted key without a terminal" 2 setsid -w emgap-keys sign --secret c.key cmsg

# ---- trusted comment limit (minisign's: 8173 bytes)
long=$(head -c 8173 /dev/zero | tr '\0' a)
expect_exit "trusted comment at the limit" 0 emgap-keys sign --secret a.key -t "$long" f2
expect_exit "trusted comment at the limit verifies" 0 emgap-keys verify --public a.pub f2
expect_exit "trusted comment over the limit" 2 emgap-keys sign --secret a.key -t "${long}a" f3
expect_err "trusted comment limit named" "--trusted-comment is 8174 bytes, over the limit of 8173"
edit_line f2.minisig 3 "trusted comment: ${long}a" over.minisig
expect_exit "signature with an over-long trusted comment" 3 emgap-keys verify --public a.pub --signature over.minisig f2
expect_err "over-long trusted comment explained" "trusted comment is 8174 bytes, over the limit of 8173"
expect_exit "multi-line trusted comment refused" 2 emgap-keys sign --secret a.key -t "one
two" f3

# ---- --json for machines
echo "json payload" >j
emgap-keys sign --secret a.key -t 'say "hi"	tab' j
expect_exit "verify --json" 0 emgap-keys verify --json --public a.pub j
expect_out "json: valid with escaped trusted comment" '"valid":true,'
expect_out "json: quotes and tabs escaped" '"trusted_comment":"say \"hi\"\u0009tab"}'
expect_out "json: 16-digit key id" "\"key_id\":\"$(id16 a.pub)\""
expect_exit "verify --json, key mismatch" 4 emgap-keys verify --json --public b.pub j
expect_out "json failure document" '{"valid":false,"exit":4,"error":"j: Signature key id in j.minisig is'
expect_err "json failure still on stderr" "Signature key id in j.minisig is"
