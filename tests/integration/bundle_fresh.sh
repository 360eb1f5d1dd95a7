# bundle_fresh.sh - freshness with --state: rollback, indefinite freeze
# (expiry), fast-forward, "nothing new", and a state that never moves on
# a refused bundle.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/bundlelib.sh"

bundle_fixture || { fail "fixture" "could not build the test PKI and keys"; exit 1; }
for s in 5 10 11 2000; do
	bundle_make "$T/b$s" $s 2>"$T/err" || { fail "make bundle $s" "$(cat "$T/err")"; exit 1; }
done
V="emgap-bundle verify --trust $T/trust --state $T/state --at $B_AT"

expect_exit "first bundle accepted (no state yet)" 0 $V "$T/b10"
cp "$T/state/sequence" "$T/seq10"
expect_exit "same sequence again: nothing new, exit 0" 0 $V "$T/b10"
expect_out "same sequence: says nothing new" "nothing new"
same_file "nothing new leaves the state alone" "$T/seq10" "$T/state/sequence"

expect_exit "rollback refused (5)" 5 $V "$T/b5"
expect_err "rollback message" "rollback: sequence 5 is lower than 10"
same_file "rollback leaves the state alone" "$T/seq10" "$T/state/sequence"

expect_exit "fast-forward refused (5)" 5 $V "$T/b2000"
expect_err "fast-forward message" "fast-forward: sequence 2000 is more than 1000 ahead of 10"
same_file "fast-forward leaves the state alone" "$T/seq10" "$T/state/sequence"

# Freeze: a genuine bundle replayed after it expired.
late=@$((B_NOW + 40 * 86400))
expect_exit "expired bundle refused (5)" 5 emgap-bundle verify --trust "$T/trust" --state "$T/state" --at "$late" "$T/b11"
expect_err "expired message" "bundle expired at"
same_file "expired bundle leaves the state alone" "$T/seq10" "$T/state/sequence"
expect_exit "expired bundle refused without --state too (5)" 5 emgap-bundle verify --trust "$T/trust" --at "$late" "$T/b11"

expect_exit "next sequence accepted" 0 $V "$T/b11"
if grep -qx 'sequence 11' "$T/state/sequence"; then pass "state moved to 11"; else fail "state moved to 11" "$(cat "$T/state/sequence")"; fi
expect_exit "the old one is now a rollback" 5 $V "$T/b10"

# The step limit is configurable.
bundle_trust "$T/trust2" '[limits]' 'ratio_max = 100'
sed -i 's/max_sequence_step = 1000/max_sequence_step = 5000/' "$T/trust2/trust.conf"
expect_exit "a larger max_sequence_step lets 2000 through" 0 \
	emgap-bundle verify --trust "$T/trust2" --state "$T/state" --at "$B_AT" "$T/b2000"

# A damaged state file is refused, not guessed around.
printf 'emgap-bundle-state 1\nsequence 12x\n' >"$T/state/sequence"
cp "$T/state/sequence" "$T/bad-seq"
expect_exit "malformed state refused (3)" 3 $V "$T/b2000"
expect_err "malformed state names the file" "state/sequence"
same_file "malformed state left as it was" "$T/bad-seq" "$T/state/sequence"

# Accepting writes atomically: no temporary files left next to the state.
if ls -a "$T/state" | grep -q '^\.emgap-tmp'; then fail "no temporary state files" "$(ls -a "$T/state")"; else pass "no temporary state files"; fi
