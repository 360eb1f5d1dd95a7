# hard_mirror_run_fault.sh - crash safety of `emgap-mirror run` against a
# real nginx on 127.0.0.1: the fault-injection build (make VARIANT=fault,
# common/sysio.h) is stopped at every write, fsync, rename, unlink and
# allocation of a run that fetches, stages, creates, signs and publishes -
# by _exit as kill -9 would, and by an I/O error. After each:
#   - the drop directory holds only complete bundles that verify, and
#     `latest` (when there is one) names one of them;
#   - the staging directory is consistent: `current` names a complete
#     snapshot, and with no publication pending, `published` names the
#     bundle `latest` names;
#   - the next normal run exits 0, leaves no temporary file in staging or
#     drop, and converges to what an uninterrupted run published: the same
#     bundle names, `latest`, sequence, and the same files in each manifest.
# Two walks: the first publication into an empty drop directory, and a
# third publication (a changed feed) that also retires the oldest bundle.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/https.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
# One variant is enough: the walk runs the fault build, not $EMGAP_BIN's.
[ "$EMGAP_VARIANT" = release ] || exit 0

# A walk stands for killed processes, not power cuts: the fault build may
# skip the disk flushes (the fault points still count), which saves most
# of the time.
EMG_FAULT_NOSYNC=1
export EMG_FAULT_NOSYNC
FB=$T/emgap-mirror-fault
if make -s -C "$EMGAP_SRC" VARIANT=fault build/fault/bin/emgap-mirror >"$T/make.log" 2>&1 &&
	cp "$EMGAP_SRC/build/fault/bin/emgap-mirror" "$FB"; then
	pass "fault build of emgap-mirror"
else
	fail "fault build of emgap-mirror" "$(tail -5 "$T/make.log")"
	exit 1
fi

M=$T/m
mirror_fixture "$M" || { fail "fixture" "PKI, TLS or nginx setup failed"; exit 1; }
C=$M/mirror.conf
WWW=$M/srv/www
org_keys "$T" && org_trust "$T/trust" "$T/root.pub" "$M/pki/anchors.pem" ||
	{ fail "org keys" "emgap-keys failed"; exit 1; }
printf '\n[signing]\nsecret = %s\ncert = %s\n' "$T/sign.key" "$T/sign.cert" >>"$C"

# serve_feed N: the server's feed becomes feed N (a new ETag too).
serve_feed() {
	sed "s/EEMS Heartbeat probe/EEMS Heartbeat probe $1/" "$M/feed-unsigned.xml" >"$T/feed$1.xml"
	pki_sign_feed "$M/pki" signer "$T/feed$1.xml" "$WWW/feed.xml" &&
		touch -d "+$1 minutes" "$WWW/feed.xml"
}

# Bundles already checked, by SHA-256: each verification costs a vendor
# signature check, and most bundles are seen many times.
: >"$T/verified"
bundle_verifies() {
	_h=$(sha256sum "$1" | cut -d' ' -f1)
	grep -qx "$_h" "$T/verified" && return 0
	emgap-bundle verify --trust "$T/trust" "$1" >/dev/null 2>&1 || return 1
	echo "$_h" >>"$T/verified"
}

# after_fault: the invariants that must hold whatever point the run died at.
# Prints what is wrong, nothing when all is well.
after_fault() {
	for _f in $(ls "$M/drop" 2>/dev/null); do
		case $_f in
		latest) ;;
		emgap-*.bundle) bundle_verifies "$M/drop/$_f" || echo "unverifiable:$_f" ;;
		*) echo "stray:$_f" ;;
		esac
	done
	_latest=$(cat "$M/drop/latest" 2>/dev/null)
	[ -z "$_latest" ] || [ -f "$M/drop/$_latest" ] || echo "latest-dangles:$_latest"
	if [ -f "$M/staging/current" ]; then
		_s=$M/staging/snapshots/$(cat "$M/staging/current")
		[ -f "$_s/GetExchangeMitigations.xml" ] && [ -f "$_s/info" ] && [ -d "$_s/pki/crl" ] &&
			[ -d "$_s/pki/ctl" ] || echo "current-incomplete"
	fi
	_pub=$(sed -n 's/^bundle //p' "$M/staging/published" 2>/dev/null)
	if [ ! -e "$M/staging/pending" ] && [ "$_pub" != "$_latest" ]; then
		echo "published($_pub)-latest($_latest)"
	fi
}

# summary: what a run published, time stamps left out - the bundle names,
# `latest`, the recorded sequence, and each bundle's sequence and files.
summary() {
	echo "latest $(cat "$M/drop/latest" 2>/dev/null)"
	sed -n 's/^sequence //p' "$M/staging/published" 2>/dev/null
	for _f in $(ls "$M/drop" 2>/dev/null | grep '\.bundle$'); do
		echo "$_f"
		tar -xOf "$M/drop/$_f" manifest 2>/dev/null | grep '^sequence \|^file '
	done
}

# save DIR / restore DIR: the mirror's staging and drop directories.
save() {
	rm -rf "$1"
	mkdir -p "$1"
	[ -d "$M/staging" ] && cp -a "$M/staging" "$1/staging"
	[ -d "$M/drop" ] && cp -a "$M/drop" "$1/drop"
	return 0
}
restore() {
	rm -rf "$M/staging" "$M/drop"
	[ -d "$1/staging" ] && cp -a "$1/staging" "$M/staging"
	[ -d "$1/drop" ] && cp -a "$1/drop" "$M/drop"
	return 0
}

# walk NAME MODE STRIDE FROM: runs from state FROM; the reference is one
# uninterrupted run from it.
walk() {
	_name=$1 mode=$2 stride=$3 from=$4
	[ -n "${EMGAP_FULL_WALK:-}" ] && stride=1
	restore "$from"
	"$FB" run --config "$C" >/dev/null 2>&1 || { fail "$_name: reference run" "exit $?"; return; }
	summary >"$T/ref.sum"
	restore "$from"
	rm -f "$T/points"
	EMG_FAULT_LOG=$T/points "$FB" run --config "$C" >/dev/null 2>&1
	n=$(wc -l <"$T/points")
	bad=""
	i=1
	start=$(date +%s)
	while [ "$i" -le "$n" ]; do
		restore "$from"
		if [ "$mode" = exit ]; then spec="$i:exit"; else spec=$i; fi
		EMG_FAULT=$spec "$FB" run --config "$C" >"$T/o1" 2>&1
		rc=$?
		if [ "$mode" = exit ] && [ "$rc" -ne 137 ]; then
			bad="$bad $i(no-stop:$rc)"
		elif [ "$mode" = eio ] && [ "$rc" -ne 0 ] && { [ "$rc" -ne 7 ] || ! grep -q . "$T/o1"; }; then
			bad="$bad $i(exit $rc, wanted 7 with a message)"
		fi
		why=$(after_fault | tr '\n' ' ')
		[ -z "$why" ] || bad="$bad $i($why)"
		if ! "$FB" run --config "$C" >"$T/o2" 2>&1; then
			bad="$bad $i(rerun:$(head -c 200 "$T/o2"))"
		else
			tmps=$(find "$M/staging" "$M/drop" -name '.emgap-tmp*' | sed "s|^$M/||" | tr '\n' ' ')
			[ -z "$tmps" ] || bad="$bad $i(left:$tmps)"
			[ ! -e "$M/staging/pending" ] || bad="$bad $i(pending)"
			why=$(after_fault | tr '\n' ' ')
			[ -z "$why" ] || bad="$bad $i(rerun:$why)"
			summary >"$T/got.sum"
			cmp -s "$T/ref.sum" "$T/got.sum" ||
				bad="$bad $i(diverged:$(diff "$T/ref.sum" "$T/got.sum" | grep '^[<>]' | head -4 | tr '\n' ' '))"
		fi
		i=$((i + stride))
	done
	secs=$(($(date +%s) - start))
	if [ "$n" -lt 50 ]; then
		fail "$_name: $mode walk" "only $n fault points seen"
	elif [ -z "$bad" ]; then
		pass "$_name: $mode at every ${stride}. of $n fault points (${secs}s): the next run converges"
	else
		fail "$_name: $mode walk" "diverged at:$bad"
	fi
}

# From nothing: the first publication.
serve_feed 1 || { fail "fixture" "feed 1"; exit 1; }
save "$T/empty"
walk "first publication" exit 1 "$T/empty"
walk "first publication" eio 4 "$T/empty"

# From two published bundles: the third retires emgap-1 (retention 2).
restore "$T/empty"
"$FB" run --config "$C" >/dev/null 2>&1 && serve_feed 2 && "$FB" run --config "$C" >/dev/null 2>&1 &&
	serve_feed 3 || { fail "fixture" "two publications"; exit 1; }
save "$T/two"
if [ "$(ls "$T/two/drop" | tr '\n' ' ')" = "emgap-1.bundle emgap-2.bundle latest " ]; then
	pass "fixture: two bundles published"
else
	fail "fixture: two bundles published" "$(ls "$T/two/drop" | tr '\n' ' ')"
fi
walk "third publication" exit 1 "$T/two"
walk "third publication" eio 4 "$T/two"
if grep -q 'emgap-1.bundle' "$T/ref.sum" || ! grep -q '^emgap-3.bundle' "$T/ref.sum"; then
	fail "third publication: the reference publishes emgap-3 and retires emgap-1" "$(cat "$T/ref.sum")"
else
	pass "third publication: the reference publishes emgap-3 and retires emgap-1"
fi

# A damaged record of a publication in flight is refused by name, and
# nothing is published over it.
restore "$T/two"
echo "garbage" >"$M/staging/pending"
expect_exit "damaged pending record: exit 3" 3 "$FB" run --config "$C"
expect_err "damaged pending record: named" "$M/staging/pending: damaged record"
check "damaged pending record: nothing published" test ! -e "$M/drop/emgap-3.bundle"
