# bundle_truncate.sh - a copy cut off at any byte is refused with a clear
# error, and the state does not move; a gzip copy cut off likewise.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
bundle_make "$T/b10" 10 2>"$T/err" && bundle_make "$T/b11" 11 2>"$T/err" ||
	{ fail "make bundles" "$(cat "$T/err")"; exit 1; }
emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/b10" >/dev/null 2>&1
cp "$T/state/sequence" "$T/seq10"

# Cuts at every block boundary and one byte either side of it (where
# libarchive is most forgiving), plus a prime stride through the rest.
size=$(wc -c <"$T/b11" | tr -d ' ')
offsets=$( {
	o=0
	while [ $o -lt "$size" ]; do
		echo $o
		[ $o -gt 0 ] && echo $((o - 1))
		echo $((o + 1))
		o=$((o + 512))
	done
	o=7
	while [ $o -lt "$size" ]; do echo $o; o=$((o + 389)); done
	echo $((size - 1))
} | awk -v s="$size" '$1 < s' | sort -n -u)

tried=0 wrong=""
for o in $offsets; do
	head -c "$o" "$T/b11" >"$T/cut"
	emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/cut" >/dev/null 2>"$T/err"
	rc=$?
	tried=$((tried + 1))
	if [ $rc -ne 4 ] || [ ! -s "$T/err" ]; then
		wrong="$wrong $o:$rc"
	fi
done
if [ -z "$wrong" ] && [ $tried -gt 50 ]; then
	pass "every cut copy refused with exit 4 and a message ($tried offsets)"
else
	fail "every cut copy refused with exit 4 and a message ($tried offsets)" "wrong at:$wrong"
fi
same_file "cut copies leave the state alone" "$T/seq10" "$T/state/sequence"

# Cut inside the end-of-archive marker: named as truncation.
head -c $((size - 100)) "$T/b11" >"$T/cut"
expect_exit "cut inside the end marker (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/cut"
expect_err "cut inside the end marker: says truncated" "truncated bundle"
# Cut right after the last member: libarchive alone would call it complete.
head -c $((size - 1024)) "$T/b11" >"$T/cut"
expect_exit "cut after the last member (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/cut"
expect_err "cut after the last member: says truncated" "truncated bundle"
# Bytes after the end marker are not silently ignored.
{ cat "$T/b11"; echo trailing; } >"$T/long"
expect_exit "data after the end marker (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/long"
expect_err "data after the end marker: message" "data after the end-of-archive marker"
# Zero padding after the marker (as tar writers add) is fine.
{ cat "$T/b11"; head -c 9216 /dev/zero; } >"$T/padded"
expect_exit "zero padding after the marker accepted" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/padded"

gzip -c -n "$T/b11" >"$T/b11.gz"
gsize=$(wc -c <"$T/b11.gz" | tr -d ' ')
wrong=""
o=0
while [ $o -lt "$gsize" ]; do
	head -c "$o" "$T/b11.gz" >"$T/cut.gz"
	emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/cut.gz" >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq 4 ] && [ -s "$T/err" ] || wrong="$wrong $o:$rc"
	o=$((o + 97))
done
for o in $((gsize - 1)) $((gsize - 4)) $((gsize - 8)) $((gsize - 9)); do
	head -c "$o" "$T/b11.gz" >"$T/cut.gz"
	emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/cut.gz" >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -eq 4 ] && [ -s "$T/err" ] || wrong="$wrong $o:$rc"
done
if [ -z "$wrong" ]; then pass "every cut gzip copy refused"; else fail "every cut gzip copy refused" "wrong at:$wrong"; fi
expect_exit "after all that, the whole bundle is accepted" 0 \
	emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/b11"
