# hard_mirror_apply_concurrency.sh - an applier reading the drop directory
# while bundles land in it. emgap-mirror publishes 20 new feeds (real nginx
# on 127.0.0.1, retention 2) while emgap-apply run polls the drop directory
# as its source the whole time: every poll exits 0, every bundle the
# applier accepted is one the mirror published whole, and it ends on the
# newest. Then a copy tool that writes a bundle into the share in pieces
# under its final name: at each piece the applier skips the partial file
# (exit 0, not accepted, keeps what it had) and takes it once it is whole.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/https.sh"
. "$EMGAP_SRC/tests/lib/admin.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

PUBLISHES=${EMGAP_RACE_ROUNDS:-20}
M=$T/m
mirror_fixture "$M" || { fail "fixture" "PKI, TLS or nginx setup failed"; exit 1; }
C=$M/mirror.conf
WWW=$M/srv/www
org_keys "$T" || { fail "org keys" "emgap-keys failed"; exit 1; }
printf '\n[signing]\nsecret = %s\ncert = %s\n' "$T/sign.key" "$T/sign.cert" >>"$C"

# The inside: a trust dir for the mirror's keys and vendor PKI, and a
# server whose only source is the mirror's drop directory.
org_trust "$T/org/trust" "$T/root.pub" "$M/pki/anchors.pem" || { fail "fixture" "trust dir"; exit 1; }
ADM_ORG=$T/org
S=$T/s
adm_server "$S" EXCH01 "$T/share" || { fail "fixture" "server tree"; exit 1; }
sed -i "s|^path = src\$|path = $M/drop|" "$S/apply.conf"
A="--config $S/apply.conf"

serve_feed() { # N: the server's feed becomes feed N (a new ETag too)
	sed "s/EEMS Heartbeat probe/EEMS Heartbeat probe $1/" "$M/feed-unsigned.xml" >"$T/feed$1.xml"
	pki_sign_feed "$M/pki" signer "$T/feed$1.xml" "$WWW/feed.xml" &&
		touch -d "+$1 minutes" "$WWW/feed.xml"
}
accepted() { sed -n 's/^bundle-sha256 //p' "$S/state/state" 2>/dev/null; }
accepted_seq() { sed -n 's/^sequence //p' "$S/state/state" 2>/dev/null; }

# The applier polls until the mirror is done (the flag file), recording
# each poll's exit code and the bundle it then holds.
poller() {
	_k=0
	while [ ! -e "$T/mirror.done" ]; do
		_k=$((_k + 1))
		emgap-apply run --quiet $A >"$T/poll.out" 2>"$T/poll.err"
		_rc=$?
		echo "$_rc $(accepted)" >>"$T/polls"
		[ "$_rc" -eq 0 ] || { echo "poll $_k: exit $_rc:"; cat "$T/poll.err"; } >>"$T/poll.errors"
	done
}
: >"$T/polls"
: >"$T/published"
poller &
ppid=$!
bad=""
k=1
while [ "$k" -le "$PUBLISHES" ]; do
	serve_feed "$k" || bad="$bad [feed $k: xmlsec1]"
	emgap-mirror run --quiet --config "$C" >"$T/mirror.out" 2>&1 || bad="$bad [publish $k: $(head -c 200 "$T/mirror.out")]"
	f=$M/drop/$(cat "$M/drop/latest" 2>/dev/null)
	[ -f "$f" ] && sha256sum "$f" | cut -d' ' -f1 >>"$T/published"
	k=$((k + 1))
done
touch "$T/mirror.done"
wait "$ppid"
if [ -z "$bad" ] && [ "$(wc -l <"$T/published")" -eq "$PUBLISHES" ]; then
	pass "mirror published $PUBLISHES bundles while the applier polled"
else
	fail "mirror published $PUBLISHES bundles while the applier polled" "$bad $(wc -l <"$T/published") published"
fi
polls=$(wc -l <"$T/polls")
if [ ! -s "$T/poll.errors" ]; then
	pass "every one of $polls polls exited 0"
else
	fail "every poll exited 0" "$(head -c 600 "$T/poll.errors")"
fi
# Each bundle the applier held is one the mirror published whole.
stray=$(cut -d' ' -f2 "$T/polls" | sort -u | grep . | grep -vxF -f "$T/published" | head -3 | tr '\n' ' ')
seen=$(cut -d' ' -f2 "$T/polls" | sort -u | grep -c .)
if [ -z "$stray" ] && [ "$seen" -gt 1 ]; then
	pass "the applier accepted only whole published bundles ($seen different ones during the run)"
else
	fail "the applier accepted only whole published bundles" "stray: $stray; $seen seen"
fi
expect_exit "a last poll" 0 emgap-apply run $A
if [ "$(accepted)" = "$(tail -n 1 "$T/published")" ] && [ "$(accepted_seq)" -eq "$PUBLISHES" ]; then
	pass "the applier ends on the newest bundle (sequence $PUBLISHES)"
else
	fail "the applier ends on the newest bundle" "holds sequence $(accepted_seq), $(accepted)"
fi

# ---- a copy tool writing the next bundle in pieces, under its final name ----
sed "s#$M/drop#$T/hold#" "$C" >"$T/hold.conf"
serve_feed $((PUBLISHES + 1)) && emgap-mirror run --quiet --config "$T/hold.conf" >/dev/null 2>&1 ||
	{ fail "fixture" "bundle $((PUBLISHES + 1))"; exit 1; }
NB=$T/hold/emgap-$((PUBLISHES + 1)).bundle
size=$(wc -c <"$NB")
piece=4096
before=$(accepted)
dst=$M/drop/incoming.bundle
: >"$dst"
off=0 bad=""
while [ "$off" -lt "$size" ]; do
	dd if="$NB" of="$dst" bs=$piece skip=$((off / piece)) seek=$((off / piece)) count=1 conv=notrunc \
		status=none || bad="$bad [dd at $off]"
	off=$((off + piece))
	emgap-apply run --quiet $A >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$off" -lt "$size" ]; then
		[ "$rc" -eq 0 ] || bad="$bad [$off bytes: exit $rc: $(head -c 200 "$T/err")]"
		[ "$(accepted)" = "$before" ] || bad="$bad [$off bytes: accepted a partial bundle]"
	fi
done
if [ -z "$bad" ]; then
	pass "partial copies ($size bytes in $piece-byte pieces): skipped, exit 0, the accepted bundle kept"
else
	fail "partial copies skipped" "$bad"
fi
if [ "$rc" -eq 0 ] && [ "$(accepted_seq)" -eq $((PUBLISHES + 1)) ]; then
	pass "the whole copy is accepted (sequence $((PUBLISHES + 1)))"
else
	fail "the whole copy is accepted" "exit $rc, holds sequence $(accepted_seq): $(head -c 300 "$T/err")"
fi
