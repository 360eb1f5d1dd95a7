# bundle_rotation.sh - root rotation: a new root set signed by a threshold
# of the current roots, carried in a bundle, applied in order, never
# skipping a version, kept in the state dir.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
gen() { emgap-keys generate --public "$T/k/$1.pub" --secret "$T/k/$1.key" --no-passphrase >/dev/null 2>&1; }
b64() { sed -n 2p "$T/k/$1.pub"; }
rootset() { # OUT VERSION THRESHOLD ROOT...
	_o=$1 _v=$2 _t=$3
	shift 3
	{
		printf 'emgap-root-set 1\nversion %s\nthreshold %s\n' "$_v" "$_t"
		for _r in "$@"; do printf 'key %s\n' "$(b64 "$_r")"; done
	} >"$_o"
}
rsign() { # FILE ROOT OUTSIG
	emgap-keys sign --secret "$T/k/$2.key" "$1" >/dev/null 2>&1 && mv "$1.minisig" "$3"
}
# Signing keys certified by a given root.
certby() { # KEY ROOT
	emgap-keys certify --root-secret "$T/k/$2.key" --key "$T/k/$1.pub" --not-before "$B_CREATED" \
		--expires 2099-01-01 -o "$T/k/$1-$2.cert" >/dev/null 2>&1
}
make_signed() { # OUT SEQ ROOT [create options...]: signed by a and b certified by ROOT
	_o=$1 _s=$2 _r=$3
	shift 3
	certby a "$_r" && certby b "$_r" &&
		emgap-bundle create --feed "$T/feed.xml" --pki "$T/snap" --sequence "$_s" \
			--created "$B_CREATED" --expires +30d -o "$_o" "$@" &&
		emgap-bundle sign --secret "$T/k/a.key" --cert "$T/k/a-$_r.cert" "$_o" &&
		emgap-bundle sign --secret "$T/k/b.key" --cert "$T/k/b-$_r.cert" "$_o"
}
gen root2 && gen root3 && gen mallory
V="emgap-bundle verify --trust $T/trust --state $T/state --at $B_AT"

rootset "$T/r2" 2 1 root2
rsign "$T/r2" root "$T/r2.by-root"
rsign "$T/r2" mallory "$T/r2.by-mallory"
rootset "$T/r3" 3 1 root3
rsign "$T/r3" root2 "$T/r3.by-root2"

# Not signed by a current root.
make_signed "$T/evil" 20 root2 --root-rotation "$T/r2" --root-rotation-sig "$T/r2.by-mallory" 2>"$T/err"
expect_exit "rotation signed by a stranger refused (4)" 4 $V "$T/evil"
expect_err "stranger rotation message" "signed by 0 of the 1"
# Skipping a version: v3 straight after v1.
make_signed "$T/skip" 20 root3 --root-rotation "$T/r3" --root-rotation-sig "$T/r3.by-root2" 2>"$T/err"
expect_exit "rotation skipping a version refused (4)" 4 $V "$T/skip"
expect_err "skip message" "root rotation to version 3 skips version 2"
if [ -e "$T/state/roots" ]; then fail "refused rotations leave no root state" "state/roots exists"; else pass "refused rotations leave no root state"; fi

# The genuine rotation to version 2: its bundle is signed by keys root2 certified.
make_signed "$T/rot2" 20 root2 --root-rotation "$T/r2" --root-rotation-sig "$T/r2.by-root" 2>"$T/err" ||
	fail "make rotation bundle" "$(cat "$T/err")"
expect_exit "inspect shows the rotation" 0 emgap-bundle inspect "$T/rot2"
expect_out "inspect lists rotation members" "rotation/2.roots"
expect_exit "rotation to version 2 accepted" 0 $V "$T/rot2"
expect_out "verify reports the rotation" "root set rotated to version 2"
same_file "accepted root set kept in the state dir" "$T/r2" "$T/state/roots"

# From now on root2 is in force, the trust dir's root is not.
make_signed "$T/after" 21 root2 2>"$T/err"
expect_exit "next bundle, certified by the new root, accepted" 0 $V "$T/after"
make_signed "$T/old" 22 root 2>"$T/err"
expect_exit "bundle certified by the retired root refused (4)" 4 $V "$T/old"
expect_exit "without the state, the new root is unknown (4)" 4 \
	emgap-bundle verify --trust "$T/trust" --at "$B_AT" "$T/after"

# Two versions in one bundle are applied in order.
rm -rf "$T/state"
make_signed "$T/chain" 30 root3 --root-rotation "$T/r3" --root-rotation-sig "$T/r3.by-root2" 2>"$T/err"
craft "$T/chain" "$T/chain2" "after:keys/$(keyid a).cert.minisig=rotation/2.roots=$T/r2" \
	"after:keys/$(keyid a).cert.minisig=rotation/2.$(keyid root).minisig=$T/r2.by-root"
expect_exit "rotation 1 -> 2 -> 3 in one bundle accepted" 0 $V --json "$T/chain2"
expect_out "root version 3 reported" '"root_version":3'
same_file "root set 3 kept" "$T/r3" "$T/state/roots"

# A root threshold of 2 needs two current roots on the rotation.
bundle_trust "$T/trust2"
cp "$T/k/root2.pub" "$T/trust2/roots/"
sed -i 's/^role = bundle$/role = bundle\nroot_threshold = 2/' "$T/trust2/trust.conf"
rsign "$T/r2" root2 "$T/r2.by-root2"
make_signed "$T/one" 40 root2 --root-rotation "$T/r2" --root-rotation-sig "$T/r2.by-root" 2>"$T/err"
expect_exit "root_threshold 2: one root signature refused (4)" 4 \
	emgap-bundle verify --trust "$T/trust2" --at "$B_AT" "$T/one"
expect_err "root_threshold message" "signed by 1 of the 2"
make_signed "$T/two" 40 root2 --root-rotation "$T/r2" --root-rotation-sig "$T/r2.by-root" \
	--root-rotation-sig "$T/r2.by-root2" 2>"$T/err"
expect_exit "root_threshold 2: two root signatures accepted" 0 \
	emgap-bundle verify --trust "$T/trust2" --at "$B_AT" "$T/two"
