# hard_bundle_sign_fault.sh - crash safety of `emgap-bundle sign`: the
# fault-injection build (make VARIANT=fault, common/sysio.h) is stopped at
# every write, fsync, rename, unlink and allocation while a bundle signed
# by key a gets key b's signature - by _exit as kill -9 would, and by an
# I/O error. After each: the bundle is the old bytes or the new bytes
# (never torn) and verifies as such; the next normal sign leaves no
# temporary file behind and gives exactly the bytes of an uninterrupted one.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"
# One variant is enough: the walk runs the fault build, not $EMGAP_BIN's.
[ "$EMGAP_VARIANT" = release ] || exit 0

# A walk stands for killed processes, not power cuts: the fault build may
# skip the disk flushes (the fault points still count), which saves most
# of the time.
EMG_FAULT_NOSYNC=1
export EMG_FAULT_NOSYNC
# The binary is copied: a parallel build must not relink it mid-walk.
FB=$T/emgap-bundle-fault
if make -s -C "$EMGAP_SRC" VARIANT=fault build/fault/bin/emgap-bundle >"$T/make.log" 2>&1 &&
	cp "$EMGAP_SRC/build/fault/bin/emgap-bundle" "$FB"; then
	pass "fault build of emgap-bundle"
else
	fail "fault build of emgap-bundle" "$(tail -5 "$T/make.log")"
	exit 1
fi

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
A=$(keyid a)
B=$(keyid b)
# Threshold 1 here, so the old bundle (one signature) verifies too.
bundle_trust "$T/trust1" || { fail "fixture" "trust dir"; exit 1; }
sed -i 's/^threshold = 2/threshold = 1/' "$T/trust1/trust.conf"

emgap-bundle create --feed "$T/feed.xml" --pki "$T/snap" --sequence 7 --created "$B_CREATED" \
	--expires +30d -o "$T/old.bundle" >/dev/null 2>&1 &&
	emgap-bundle sign --secret "$T/k/a.key" --cert "$T/k/a.cert" "$T/old.bundle" >/dev/null 2>&1 ||
	{ fail "fixture" "create and sign with a"; exit 1; }
cp "$T/old.bundle" "$T/new.bundle"
emgap-bundle sign --secret "$T/k/b.key" --cert "$T/k/b.cert" "$T/new.bundle" >/dev/null 2>&1 ||
	{ fail "fixture" "sign with b"; exit 1; }

# signers FILE: the key ids verify counts as valid, sorted, one line.
signers() {
	emgap-bundle verify --json --trust "$T/trust1" --at "$B_AT" "$1" 2>/dev/null |
		sed -n 's/.*"signers":\[\([^]]*\)\].*/\1/p' | tr -d '"' | tr ',' '\n' | sort | tr '\n' ' '
}
want_old=$(echo "$A" | tr '\n' ' ')
want_new=$(printf '%s\n%s\n' "$A" "$B" | sort | tr '\n' ' ')
if [ "$(signers "$T/old.bundle")" = "$want_old" ] && [ "$(signers "$T/new.bundle")" = "$want_new" ]; then
	pass "reference: old bundle verifies with a, new one with a and b"
else
	fail "reference: old bundle verifies with a, new one with a and b" \
		"old: $(signers "$T/old.bundle"), new: $(signers "$T/new.bundle")"
fi

W=$T/w
sign_b() { # BINARY: signs $W/b.bundle with key b
	"$1" sign --secret "$T/k/b.key" --cert "$T/k/b.cert" "$W/b.bundle"
}
fresh() {
	rm -rf "$W"
	mkdir -p "$W"
	cp "$T/old.bundle" "$W/b.bundle"
}

fresh
EMG_FAULT_LOG=$T/points sign_b "$FB" >/dev/null 2>&1
n=$(wc -l <"$T/points")
kinds=$(cut -d' ' -f2 "$T/points" | sort -u | tr '\n' ' ' | sed 's/ $//')
same_file "fault build, no fault: the same bytes as the release build" "$T/new.bundle" "$W/b.bundle"

walk() { # MODE (exit|eio)
	mode=$1
	bad=""
	i=1
	start=$(date +%s)
	while [ "$i" -le "$n" ]; do
		fresh
		if [ "$mode" = exit ]; then spec="$i:exit"; else spec=$i; fi
		EMG_FAULT=$spec sign_b "$FB" >"$T/o1" 2>&1
		rc=$?
		if [ "$mode" = exit ] && [ "$rc" -ne 137 ]; then
			bad="$bad $i(no-stop:$rc)"
		elif [ "$mode" = eio ] && [ "$rc" -ne 0 ] && { [ "$rc" -ne 7 ] || [ ! -s "$T/o1" ]; }; then
			bad="$bad $i(exit $rc, wanted 7 with a message:$(head -c 120 "$T/o1"))"
		fi
		# Old or new bytes, never anything else; verification agrees.
		if cmp -s "$W/b.bundle" "$T/old.bundle"; then
			[ "$(signers "$W/b.bundle")" = "$want_old" ] || bad="$bad $i(old-verify)"
		elif cmp -s "$W/b.bundle" "$T/new.bundle"; then
			[ "$(signers "$W/b.bundle")" = "$want_new" ] || bad="$bad $i(new-verify)"
		else
			bad="$bad $i(torn)"
		fi
		sign_b emgap-bundle >"$T/o2" 2>&1 || bad="$bad $i(rerun:$(head -c 200 "$T/o2"))"
		cmp -s "$W/b.bundle" "$T/new.bundle" || bad="$bad $i(rerun-bytes)"
		left=$(ls -A "$W" | grep -v '^b\.bundle$' | tr '\n' ' ')
		[ -z "$left" ] || bad="$bad $i(left:$left)"
		i=$((i + 1))
	done
	secs=$(($(date +%s) - start))
	if [ "$n" -lt 10 ]; then
		fail "$mode walk over sign" "only $n fault points seen"
	elif [ -z "$bad" ]; then
		pass "$mode at each of $n fault points of sign ($kinds; ${secs}s): old or new bytes, the next sign converges"
	else
		fail "$mode walk over sign" "diverged at:$bad"
	fi
}

walk exit
walk eio

# A temporary an interrupted sign left is removed by the next sign of the
# same bundle - and only that one: another file's is not this sign's.
fresh
: >"$W/.emgap-tmp.b.bundle.Ab12Cd"
: >"$W/.emgap-tmp.other.bundle.Xy34Zw"
: >"$W/.emgap-tmp.b.bundle.x.Ab12Cd"
sign_b emgap-bundle >/dev/null 2>&1
if [ ! -e "$W/.emgap-tmp.b.bundle.Ab12Cd" ] && [ -e "$W/.emgap-tmp.other.bundle.Xy34Zw" ] &&
	[ -e "$W/.emgap-tmp.b.bundle.x.Ab12Cd" ]; then
	pass "sign removes its own stale temporary only"
else
	fail "sign removes its own stale temporary only" "$(ls -A "$W" | tr '\n' ' ')"
fi

# Two signers of one bundle at once would lose a signature: the second
# finds it locked (exit 8, says so) and the bundle is untouched by it.
fresh
python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(10)' "$W/b.bundle" "$T/locked" &
holder=$!
i=0
while [ ! -e "$T/locked" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_exit "a bundle another sign holds: exit 8" 8 sign_b emgap-bundle
expect_err "a bundle another sign holds: says why" "another emgap-bundle sign is working on it"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
same_file "a bundle another sign holds: left as it was" "$T/old.bundle" "$W/b.bundle"
