# apply_run_cache.sh - what a run reads: the hash cache of source files
# (<state>/hashcache) lets an idle hourly run leave the bundles unread; a
# file changed behind it (same size, same mtime, only its ctime moved) is
# hashed again and a newer bundle in it is taken; a damaged cache is ignored
# and rewritten; a dry run writes none. A bundle that is accepted is read
# once for its hash and verified once, in the pass its feed comes from; one
# that rotates the root set still leaves that set in the state dir.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"

F=$T/fix
apply_fixture "$F" || { fail "fixture" "PKI, keys or tree setup failed"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$F/src/emgap-1.bundle" &&
	apply_bundle "$F" "$F/signed.xml" 2 "$F/hold-2.bundle" ||
	{ fail "fixture bundles" "$(cat "$F/bundle.err")"; exit 1; }
cd "$F" || exit 1
A="--config apply.conf"
S=$F/src/emgap-1.bundle # the config's paths are made absolute

# strace shows every open of the bundle; without it (or without ptrace in
# a container) those checks are skipped, the others still run.
if strace -f -qq -e trace=open,openat -o "$T/probe.trace" true >/dev/null 2>&1; then
	TRACE=1
else
	TRACE=0
	echo "SKIP strace unavailable: the counts of bundle opens are not checked"
fi
traced() { # NAME CMD...: runs CMD (stdout $T/out, stderr $T/err), trace in $T/trace
	_n=$1
	shift
	if [ "$TRACE" = 1 ]; then
		# LeakSanitizer cannot work under ptrace: the other runs check leaks.
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
			strace -f -qq -e trace=open,openat -o "$T/trace" "$@" >"$T/out" 2>"$T/err" </dev/null
	else
		"$@" >"$T/out" 2>"$T/err" </dev/null
	fi
	_rc=$?
	[ "$_rc" -eq 0 ] && pass "$_n" || fail "$_n" "exit $_rc: $(head -c 300 "$T/err")"
}
expect_opens() { # NAME FILE N: the traced run opened FILE N times
	[ "$TRACE" = 1 ] || return 0
	_got=$(grep -c "open.*\"$2\"" "$T/trace")
	[ "$_got" -eq "$3" ] && pass "$1" || fail "$1" "$2 opened $_got times, wanted $3: $(grep "\"$2\"" "$T/trace" | head -5)"
}
cache_has() { # FILE: hashcache records FILE with its real SHA-256
	grep -q "^$(sha256sum "$1" | cut -d' ' -f1) [0-9a-f:.-]* $1\$" state/hashcache 2>/dev/null
}
idstat() { stat -c '%i %s %y' "$1"; }

# A hash is kept only for a file whose times lie some way back (a change
# within the same timestamp tick would not show): let them settle.
sleep 3

# --- a dry run reads but writes no cache -------------------------------------------------
expect_exit "dry run on a fresh server" 0 emgap-apply run --dry-run $A
if [ -e state/hashcache ]; then
	fail "a dry run writes no hash cache" "$(cat state/hashcache)"
else
	pass "a dry run writes no hash cache"
fi

# --- the first apply: one hash, one verification ------------------------------------------
traced "first apply" emgap-apply run $A
expect_out "first apply takes bundle 1" "bundle: $S (sequence 1)"
expect_opens "first apply reads the bundle twice: its hash, one verification" "$S" 2
cache_has "$S" && pass "the cache records the bundle's SHA-256" ||
	fail "the cache records the bundle's SHA-256" "$(cat state/hashcache 2>&1)"
# The bundle layer's record of acceptance comes from that one pass: the
# sequence and sha256sum's digest of the file, as a verify --state writes.
if grep -qx "sequence 1" state/sequence 2>/dev/null &&
	grep -qx "bundle-sha256 $(sha256sum "$S" | cut -d' ' -f1)" state/sequence; then
	pass "the accepted sequence and the bundle's SHA-256 are recorded"
else
	fail "the accepted sequence and the bundle's SHA-256 are recorded" "$(cat state/sequence 2>&1)"
fi
expect_exit "the bundle layer now holds bundle 1 as accepted (nothing new)" 0 \
	emgap-bundle verify --trust "$F/trust" --state state "$S"

# --- the idle run does not read the bundle ------------------------------------------------
before=$(idstat state/hashcache)
traced "idle run" emgap-apply run $A
expect_out "idle run finds no change" "no change since the last run"
expect_opens "the idle run does not open the bundle" "$S" 0
[ "$(idstat state/hashcache)" = "$before" ] && pass "the idle run does not rewrite the cache" ||
	fail "the idle run does not rewrite the cache" "was $before, now $(idstat state/hashcache)"
# The hash of an unchanged file comes from the cache: a forged one there
# (the state dir is emgap's own; this stands in for a stale entry) is what
# the run sees, though the file's bytes hash to another.
fake=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
sed -i "s/^[0-9a-f]\{64\} /$fake /" state/hashcache
expect_exit "run with a forged cache entry" 0 emgap-apply run $A
grep -q "^skip $fake\$" state/state && pass "the run took the unchanged file's hash from the cache" ||
	fail "the run took the unchanged file's hash from the cache" "$(grep '^skip' state/state)"
expect_out "a stale entry only passes over the file: the accepted bundle stays" "no change since the last run"
rm -f state/hashcache
expect_exit "run without a cache" 0 emgap-apply run $A
cache_has "$S" && pass "a missing cache is written again" || fail "a missing cache is written again" "$(cat state/hashcache 2>&1)"

# --- a damaged cache is ignored and rewritten ---------------------------------------------
i=0
for bad in 'not a cache\n' 'emgap-hashcache 1\nzz not a line\n' 'emgap-hashcache 1\n\000\001\002'; do
	i=$((i + 1))
	# shellcheck disable=SC2059 # the patterns are printf formats
	printf "$bad" >state/hashcache
	expect_exit "damaged cache $i: the run goes on" 0 emgap-apply run $A
	expect_out "damaged cache $i: still idle" "no change since the last run"
	cache_has "$S" && [ "$(head -n 1 state/hashcache)" = "emgap-hashcache 1" ] &&
		pass "damaged cache $i is rewritten" || fail "damaged cache $i is rewritten" "$(head -c 300 state/hashcache)"
done

# --- a file rewritten in place: same inode, size and mtime, only the ctime moves ------------
# Bundle 2 replaces bundle 1's bytes (zero padding after the end-of-archive
# marker is allowed: it evens out the sizes), then mtime is put back.
s1=$(wc -c <"$S") s2=$(wc -c <hold-2.bundle)
if [ "$s1" -lt "$s2" ]; then truncate -s "$s2" "$S"; else truncate -s "$s1" hold-2.bundle; fi
touch -r "$S" "$T/times"
sleep 1
old=$(idstat "$S")
cat hold-2.bundle >"$S"
touch -r "$T/times" "$S"
if [ "$(idstat "$S")" = "$old" ]; then
	pass "rewritten bundle keeps inode, size and mtime"
else
	fail "rewritten bundle keeps inode, size and mtime" "was $old, now $(idstat "$S")"
fi
traced "run after the rewrite" emgap-apply run $A
expect_out "the rewritten file is hashed again and its newer bundle taken" "bundle: $S (sequence 2)"
expect_opens "the newer bundle is read twice: its hash, one verification" "$S" 2

# --- a bundle that rotates the root set -----------------------------------------------------
# Still one verification to choose it; the bundle layer keeps a new root
# set only from a pass that accepts, so that one is read once more.
emgap-keys generate --public root2.pub --secret root2.key --no-passphrase >/dev/null 2>&1 &&
	emgap-keys certify --root-secret root2.key --key sign.pub --expires 2099-01-01 -o sign2.cert >/dev/null 2>&1 &&
	printf 'emgap-root-set 1\nversion 2\nthreshold 1\nkey %s\n' "$(sed -n 2p root2.pub)" >r2 &&
	emgap-keys sign --secret root.key r2 >/dev/null 2>&1 ||
	{ fail "rotation fixture" "emgap-keys failed"; exit 1; }
rot() { # SEQ OUT [create options]: a bundle signed with the root2-certified key
	_s=$1 _o=$2
	shift 2
	emgap-bundle create --feed signed.xml --pki pki --sequence "$_s" --expires 2099-01-01 -o "$_o.tmp" "$@" \
		>/dev/null 2>"$T/rot.err" &&
		emgap-bundle sign --secret sign.key --cert sign2.cert "$_o.tmp" >/dev/null 2>>"$T/rot.err" &&
		mv "$_o.tmp" "$_o"
}
rot 3 src/emgap-3.bundle --root-rotation r2 --root-rotation-sig r2.minisig ||
	{ fail "rotation bundle" "$(cat "$T/rot.err")"; exit 1; }
# Times ahead of the clock never count as settled: its hash is not kept.
touch -d '+1 hour' src/emgap-3.bundle
traced "run with a rotating bundle" emgap-apply run $A
expect_out "the rotating bundle is taken" "bundle: $F/src/emgap-3.bundle (sequence 3)"
expect_opens "the rotating bundle: its hash, one verification to choose, one to accept" "$F/src/emgap-3.bundle" 3
if grep -q "emgap-3.bundle" state/hashcache; then
	fail "a bundle with recent times is not in the cache yet" "$(cat state/hashcache)"
else
	pass "a bundle with recent times is not in the cache yet"
fi
grep -q "^version 2\$" state/roots 2>/dev/null && pass "the new root set is kept in the state dir" ||
	fail "the new root set is kept in the state dir" "$(cat state/roots 2>&1)"
rot 4 src/emgap-4.bundle || { fail "bundle 4" "$(cat "$T/rot.err")"; exit 1; }
expect_exit "run with a bundle certified by the new root only" 0 emgap-apply run $A
expect_out "it verifies against the rotated root set" "bundle: $F/src/emgap-4.bundle (sequence 4)"
