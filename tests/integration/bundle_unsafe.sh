# bundle_unsafe.sh - unsafe archive entries and endless data: absolute
# path, '..', symlink, hardlink, device, fifo, directory, huge member,
# too many members, decompression bomb.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
bundle_make "$T/good" 10 2>"$T/err" || { fail "make bundle" "$(cat "$T/err")"; exit 1; }
echo data >"$T/junk"

unsafe() { # NAME TEXT OP
	craft "$T/good" "$T/u" "$3"
	expect_exit "$1: refused (4)" 4 emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$B_AT" "$T/u"
	expect_err "$1: message" "$2"
	expect_exit "$1: extract refused (4)" 4 emgap-bundle extract --trust "$T/trust" --at "$B_AT" -C "$T/x" "$T/u"
	expect_exit "$1: inspect refused too (4)" 4 emgap-bundle inspect "$T/u"
}
unsafe "absolute path" "has an absolute path" "add:/tmp/emgap-evil=$T/junk"
unsafe "dot-dot path" "has a '..' path component" "add:pki/../../emgap-evil=$T/junk"
unsafe "symlink" "is a symlink" "symlink:pki/crl/link.crl=/etc/passwd"
unsafe "hardlink" "is a hardlink" "hardlink:pki/crl/hard.crl=manifest"
unsafe "character device" "is a character device" "chardev:pki/crl/dev.crl"
unsafe "block device" "is a block device" "blockdev:pki/crl/blk.crl"
unsafe "fifo" "is a fifo" "fifo:pki/crl/fifo.crl"
unsafe "directory" "is a directory" "dir:pki/crl/sub"
unsafe "hidden name" "has an unsafe name" "add:pki/crl/.hidden=$T/junk"
if [ -e "$T/x" ] && [ -n "$(ls -A "$T/x")" ]; then fail "nothing extracted from unsafe bundles" "$(ls -AR "$T/x")"; else pass "nothing extracted from unsafe bundles"; fi
if [ -e /tmp/emgap-evil ] || [ -e "$T/../emgap-evil" ]; then fail "no file written outside" "found emgap-evil"; else pass "no file written outside"; fi
if [ -e "$T/state/sequence" ]; then fail "unsafe bundles leave no state" "state written"; else pass "unsafe bundles leave no state"; fi

# Endless data, with the limits of trust.conf. The members are genuine
# (listed in the signed manifest): only the limits can refuse them.
bundle_trust "$T/small" '[limits]' 'member_max = 100000' 'total_max = 200000' 'member_count_max = 12'
mkdir -p "$T/e1" "$T/e2" "$T/e3" "$T/e4"
head -c 150000 /dev/zero >"$T/e1/big"
bundle_make "$T/huge" 11 --extra "$T/e1" 2>"$T/err"
expect_exit "huge member refused (4)" 4 emgap-bundle verify --trust "$T/small" --at "$B_AT" "$T/huge"
expect_err "huge member message" "'extra/big' is larger than the limit of 100000 bytes"
for i in 1 2 3 4 5 6; do echo $i >"$T/e2/f$i"; done
bundle_make "$T/many" 12 --extra "$T/e2" 2>"$T/err"
expect_exit "too many members refused (4)" 4 emgap-bundle verify --trust "$T/small" --at "$B_AT" "$T/many"
expect_err "too many members message" "more than 12 members"
for i in 1 2 3; do head -c 90000 /dev/zero >"$T/e3/t$i"; done
bundle_make "$T/total" 13 --extra "$T/e3" 2>"$T/err"
expect_exit "total size over the limit refused (4)" 4 emgap-bundle verify --trust "$T/small" --at "$B_AT" "$T/total"
expect_err "total size message" "add up to more than the limit of 200000 bytes"
expect_exit "the same bundles pass the default limits" 0 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/total"

# A decompression bomb: 64 MiB of zeros in a few dozen KiB of gzip.
head -c 67108864 /dev/zero >"$T/e4/bomb"
bundle_make "$T/bomb.tar" 14 --extra "$T/e4" 2>"$T/err"
rm -f "$T/e4/bomb"
gzip -1 -n "$T/bomb.tar"
expect_exit "decompression bomb refused (4)" 4 emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/bomb.tar.gz"
expect_err "bomb message" "compression ratio above 100:1"

# Many signature-layer members, each within its own limit, together too many.
head -c 60000 /dev/zero | tr '\0' 'k' >"$T/sixty"
set --
i=2
while [ $i -le 40 ]; do set -- "$@" "after:manifest=rotation/$i.roots=$T/sixty"; i=$((i + 1)); done
craft "$T/good" "$T/siglayer" "$@"
expect_exit "signature layer over its total limit refused (4)" 4 \
	emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/siglayer"
expect_err "signature layer limit message" "signature members exceed the limit"
