# apply_run_fault.sh - crash recovery: the fault-injection build
# (make VARIANT=fault, common/sysio.h) is stopped at every write, fsync,
# rename and unlink a run makes - by _exit as kill -9 would, and by an I/O
# error - and the next run must converge: the server tree byte-identical
# to an uninterrupted run's, every action settled, no journal left.
# The same walk over revert must end at the original bytes.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"
# One variant is enough: the walk runs the fault build, not $EMGAP_BIN's.
[ "$EMGAP_VARIANT" = release ] || exit 0

# The binary is copied: a parallel build must not relink it mid-walk. It
# is the engine, which does all of a run's writing; emgap-apply, the front,
# only ends idle runs (apply_front.sh) and hands every other run to it.
FB=$T/emgap-apply-fault
if make -s -C "$EMGAP_SRC" VARIANT=fault build/fault/bin/emgap-apply-engine >"$T/make.log" 2>&1 &&
	cp "$EMGAP_SRC/build/fault/bin/emgap-apply-engine" "$FB"; then
	pass "fault build of emgap-apply-engine"
else
	fail "fault build of emgap-apply-engine" "$(tail -5 "$T/make.log")"
	exit 1
fi

F=$T/fix
apply_fixture "$F" || { fail "fixture" "setup failed"; exit 1; }
# One action of each kind that changes something (two on one file), so the
# walk stays short: every point costs two runs.
sed '/<Config id="M3"/,/<\/Config>/d; /<Config id="OLD"/,/<\/Config>/d; /<Config id="FUT"/,/<\/Config>/d' \
	"$F/feed.xml" >"$F/small.xml"
apply_feed "$F" signed "$F/small.xml" || { fail "fixture feed" "xmlsec1"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$F/src/emgap-1.bundle" || { fail "fixture bundle" "$(cat "$F/bundle.err")"; exit 1; }
cp -R "$F/root" "$T/pristine"
# A source file's hash goes into <state>/hashcache only once its times are
# a little old (up to two seconds): let the bundle settle, so that every run
# of the walks writes the cache too and the number of points stays put.
sleep 3

# fresh FROM: the work dir gets FROM's server tree and state; trust,
# sources and keys stay where they are (absolute paths in the config).
fresh() {
	rm -rf "$T/w"
	mkdir -p "$T/w"
	cp -R "$1/root" "$T/w/root"
	[ -d "$1/state" ] && cp -R "$1/state" "$T/w/state"
	sed -e "s|^dir = trust|dir = $F/trust|" -e "s|^path = src|path = $F/src|" "$F/apply.conf" >"$T/w/apply.conf"
	cd "$T/w" || exit 1
}

# The reference: one uninterrupted run.
fresh "$F"
"$FB" run --config apply.conf >/dev/null 2>&1
cp -R root "$T/ref"
cp -R "$T/w" "$T/applied"

settled() { # no journal entry left, every applicable action Applied
	! grep -q '^pending 1' state/state &&
		[ "$(grep -c '^status Applied' state/state)" -eq 6 ]
}

# Every point costs two runs with fsyncs; the kill walk over run covers
# every point, the others every STRIDE-th (EMGAP_FULL_WALK=1: all).
walk() { # MODE (exit|eio) STRIDE FROM-DIR EXPECTED-TREE CMD...
	mode=$1
	stride=$2
	from=$3
	want=$4
	shift 4
	[ -n "${EMGAP_FULL_WALK:-}" ] && stride=1
	fresh "$from"
	rm -f "$T/points"
	EMG_FAULT_LOG=$T/points "$FB" "$@" >/dev/null 2>&1
	n=$(wc -l <"$T/points")
	bad=""
	i=1
	while [ "$i" -le "$n" ]; do
		fresh "$from"
		if [ "$mode" = exit ]; then spec="$i:exit"; else spec=$i; fi
		EMG_FAULT=$spec "$FB" "$@" >"$T/o1" 2>&1
		rc=$?
		if [ "$mode" = exit ] && [ "$rc" -ne 137 ]; then
			bad="$bad $i(no-stop:$rc)"
		fi
		"$FB" "$@" >"$T/o2" 2>&1
		rc2=$?
		if [ "$rc2" -ne 0 ] && [ "$1" = revert ]; then
			# A revert that finished before the fault already blocked
			# and reverted; repeating it is fine only as exit 0.
			bad="$bad $i(rerun:$rc2)"
		elif [ "$rc2" -ne 0 ]; then
			bad="$bad $i(rerun:$rc2:$(head -c 200 "$T/o2"))"
		fi
		if [ "$mode" = eio ] && [ "$1" = run ] && ! diff -r "$want" root >/dev/null 2>&1; then
			# An action that failed with the I/O error is applied by
			# the next run, after its neighbours: rules may stand in
			# another order. Converged means settled, and reverting
			# everything gives back the original bytes.
			if ! settled; then
				bad="$bad $i(state)"
			elif ! "$FB" revert --config apply.conf M1 M2 UM ECP >/dev/null 2>&1 ||
				! diff -r "$T/pristine" root >/dev/null 2>&1; then
				bad="$bad $i(revert)"
			fi
		elif ! diff -r "$want" root >/dev/null 2>&1; then
			bad="$bad $i(tree)"
		elif [ "$1" = run ] && ! settled; then
			bad="$bad $i(state)"
		elif grep -q '^pending 1' state/state; then
			bad="$bad $i(journal)"
		fi
		i=$((i + stride))
	done
	if [ "$n" -lt 10 ]; then
		fail "$mode walk over '$*'" "only $n fault points seen"
	elif [ -z "$bad" ]; then
		pass "$mode at every ${stride}. of $n fault points of '$1': the next $1 converges"
	else
		fail "$mode walk over '$*'" "diverged at:$bad"
	fi
}

walk exit 1 "$F" "$T/ref" run --config apply.conf
walk eio 7 "$F" "$T/ref" run --config apply.conf
walk exit 7 "$T/applied" "$T/pristine" revert --config apply.conf M1 M2 UM ECP
