# hard_apply_concurrency.sh - emgap-apply commands racing for one server:
# `run` against `block`/`unblock`, and two `run`s, started together again
# and again. The state lock serialises them: each command either does its
# whole work (exit 0) or none of it (exit 8, saying another emgap-apply is
# running) - never half. Afterwards the audit chain verifies and holds one
# entry per change that succeeded, and the server tree is byte for byte
# what one uncontended run gives for the final settings.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/admin.sh"

ROUNDS=${EMGAP_RACE_ROUNDS:-20}
adm_org "$T/org" >/dev/null 2>&1 || { fail "fixture" "PKI or org keys failed"; exit 1; }
S=$T/s1
adm_server "$S" EXCH01 "$T/share" || { fail "fixture" "server tree"; exit 1; }
adm_bundle "$T/org" 1 "$S/src/b1.bundle" || { fail "fixture" "bundle"; exit 1; }
C="--config $S/apply.conf"
expect_exit "first run applies the bundle" 0 emgap-apply run $C

entries() { grep -c . "$S/state/audit.log" 2>/dev/null || echo 0; }

# outcome NAME RC ERRFILE: prints what is wrong with a racer's ending:
# nothing for 0, or for 8 with the reason on stderr.
outcome() {
	case $2 in
	0) ;;
	8) grep -q "another emgap-apply is running" "$3" ||
		echo "$1: exit 8 without the reason: $(head -c 200 "$3")" ;;
	*) echo "$1: exit $2: $(head -c 200 "$3")" ;;
	esac
}

# ---- run against block/unblock ----
audit0=$(entries)
blocked=0 changes=0 busy=0 bad=""
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ "$blocked" -eq 0 ]; then cmd=block; else cmd=unblock; fi
	emgap-apply run $C >"$T/run.out" 2>"$T/run.err" &
	rpid=$!
	emgap-apply "$cmd" M1 $C >"$T/adm.out" 2>"$T/adm.err" &
	apid=$!
	wait "$rpid"
	rrc=$?
	wait "$apid"
	arc=$?
	why=$(outcome "round $i run" "$rrc" "$T/run.err")$(outcome "round $i $cmd" "$arc" "$T/adm.err")
	[ -z "$why" ] || bad="$bad [$why]"
	[ "$rrc" -eq 8 ] && busy=$((busy + 1))
	[ "$arc" -eq 8 ] && busy=$((busy + 1))
	if [ "$arc" -eq 0 ]; then
		changes=$((changes + 1))
		blocked=$((1 - blocked))
	fi
	i=$((i + 1))
done
if [ -z "$bad" ]; then
	pass "run vs block/unblock, $ROUNDS rounds: each exits 0 or 8 with the reason ($busy busy, $changes changes)"
else
	fail "run vs block/unblock" "$bad"
fi
# The races must really have happened for the rest to mean anything.
if [ "$busy" -gt 0 ] && [ "$changes" -gt 0 ]; then
	pass "run vs block/unblock: the lock was contended and changes went through"
else
	fail "run vs block/unblock: the lock was contended and changes went through" "$busy busy, $changes changes"
fi
expect_exit "audit chain intact after the races" 0 emgap-apply audit --verify $C
got=$(($(entries) - audit0))
if [ "$got" -eq "$changes" ]; then
	pass "audit: one entry per change that went through ($changes)"
else
	fail "audit: one entry per change that went through" "$got entries for $changes changes"
fi
if [ "$blocked" -eq 1 ]; then want="M1"; else want=""; fi
emgap-apply get-server $C >"$T/gs.out" 2>&1
if grep -q "MitigationsBlocked *: {$want}" "$T/gs.out"; then
	pass "settings: M1 blocked exactly when the last change that went through says so"
else
	fail "settings: M1 blocked exactly when the last change that went through says so" \
		"blocked=$blocked: $(cat "$T/gs.out")"
fi

# The same end, reached without any race: a fresh server, one run, the
# final settings, one more run (a block leaves an applied mitigation in
# place, as EEMS does: the history matters). Both trees must be
# byte-identical.
expect_exit "final uncontended run" 0 emgap-apply run $C
R=$T/ref
adm_server "$R" EXCH01 "$T/share-ref" || { fail "fixture" "reference tree"; exit 1; }
cp "$S/src/b1.bundle" "$R/src/"
emgap-apply run --config "$R/apply.conf" >/dev/null 2>&1
[ "$blocked" -eq 1 ] && emgap-apply block M1 --config "$R/apply.conf" >/dev/null 2>&1
emgap-apply run --config "$R/apply.conf" >/dev/null 2>&1
if diff -r "$R/srv" "$S/srv" >"$T/tree.diff" 2>&1; then
	pass "server tree equals an uncontended run's for the same settings"
else
	fail "server tree equals an uncontended run's for the same settings" "$(head -c 600 "$T/tree.diff")"
fi
expect_exit "status readable after the races" 0 emgap-apply status --json $C
if [ "$blocked" -eq 1 ]; then st=Blocked; else st=Applied; fi
if python3 -c 'import json, sys
rows = {r["Id"]: r["Status"] for r in json.load(open(sys.argv[1]))}
sys.exit(0 if rows.get("M1.1") == sys.argv[2] else 1)' "$T/out" "$st"; then
	pass "status: M1.1 is $st"
else
	fail "status: M1.1 is $st" "$(head -c 400 "$T/out")"
fi

# ---- two runs at once ----
# Each round flips the server's MitigationsEnabled first, so both runs
# have work to do (revert everything, or apply it again).
[ "$blocked" -eq 1 ] && emgap-apply unblock M1 $C >/dev/null 2>&1
busy=0 bad=""
i=1
while [ "$i" -le "$ROUNDS" ]; do
	if [ $((i % 2)) -eq 1 ]; then onoff=false; else onoff=true; fi
	emgap-apply set-server --mitigations-enabled "$onoff" $C >/dev/null 2>&1 ||
		bad="$bad [round $i: set-server failed]"
	emgap-apply run $C >"$T/r1.out" 2>"$T/r1.err" &
	p1=$!
	emgap-apply run $C >"$T/r2.out" 2>"$T/r2.err" &
	p2=$!
	wait "$p1"
	rc1=$?
	wait "$p2"
	rc2=$?
	why=$(outcome "round $i first run" "$rc1" "$T/r1.err")$(outcome "round $i second run" "$rc2" "$T/r2.err")
	[ -z "$why" ] || bad="$bad [$why]"
	[ "$rc1" -eq 0 ] || [ "$rc2" -eq 0 ] || bad="$bad [round $i: neither run went through]"
	[ "$rc1" -eq 8 ] || [ "$rc2" -eq 8 ] && busy=$((busy + 1))
	i=$((i + 1))
done
if [ -z "$bad" ]; then
	pass "two runs at once, $ROUNDS rounds: one or both go through, a busy one exits 8 with the reason ($busy rounds contended)"
else
	fail "two runs at once" "$bad"
fi
[ "$busy" -gt 0 ] && pass "two runs at once: the lock was contended" ||
	fail "two runs at once: the lock was contended" "no round saw exit 8"
expect_exit "audit chain intact after the run races" 0 emgap-apply audit --verify $C
expect_exit "mitigations on again" 0 emgap-apply set-server --mitigations-enabled true $C
expect_exit "final run after the run races" 0 emgap-apply run $C
R2=$T/ref2
adm_server "$R2" EXCH01 "$T/share-ref2" || { fail "fixture" "second reference tree"; exit 1; }
cp "$S/src/b1.bundle" "$R2/src/"
emgap-apply run --config "$R2/apply.conf" >/dev/null 2>&1
if diff -r "$R2/srv" "$S/srv" >"$T/tree.diff" 2>&1; then
	pass "after the run races: server tree equals an uncontended run's"
else
	fail "after the run races: server tree equals an uncontended run's" "$(head -c 600 "$T/tree.diff")"
fi
