# apply_run_sources.sh - bundle sources other than directories: file://
# and https:// URLs (real nginx on 127.0.0.1 with a test CA) fetched with
# libcurl, a source that fails without stopping the others, and the
# server's status file on the share after each run.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/https.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

F=$T/fix
apply_fixture "$F" || { fail "fixture" "PKI, keys or tree setup failed"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$T/emgap-1.bundle" || { fail "fixture bundle" "$(cat "$F/bundle.err")"; exit 1; }
rmdir "$F/src"

# conf NAME SOURCE-LINES...: a copy of the fixture whose [sources] are given.
conf() {
	rm -rf "$T/$1"
	cp -R "$F" "$T/$1"
	cd "$T/$1" || exit 1
	_n=$1
	shift
	sed '/^\[sources\]$/,/^\[host\]$/{/^path = /d}' "$F/apply.conf" >apply.conf.tmp
	{
		sed -n '1,/^\[sources\]$/p' apply.conf.tmp
		for l in "$@"; do echo "$l"; done
		sed -n '/^\[host\]$/,$p' apply.conf.tmp
	} >apply.conf
	rm -f apply.conf.tmp
}

# --- file:// ------------------------------------------------------------------
conf file "url = file://$T/emgap-1.bundle"
sed -i 's/^settings = org.conf$/settings = org.conf\nstatus_dir = share/' apply.conf
expect_exit "file:// source: run applies" 0 emgap-apply run --config apply.conf
check "file:// source: rule applied" grep -q 'EEMS M1.1' root/inetpub/wwwroot/web.config
check "file:// source: fetched copy kept in the state dir" sh -c 'ls state/fetched/*.bundle'
same_file "fetched copy is the bundle byte for byte" "$T/emgap-1.bundle" "$(ls state/fetched/*.bundle | head -1)"
check "status file written to the share" grep -q '^mitigations_applied = .*M1.1' share/EXCH01.status
expect_exit "file:// source: second run" 0 emgap-apply run --config apply.conf
expect_out "file:// source: idle second run" "no change since the last run"

# --- https:// with the internal CA --------------------------------------------------
H=$T/h
https_make_tls "$H" >/dev/null 2>&1 && mkdir -p "$H/www" && cp "$T/emgap-1.bundle" "$H/www/" &&
	https_start "$H" >/dev/null 2>&1 || { fail "nginx" "could not start the HTTPS server"; exit 1; }
conf https "url = https://127.0.0.1:$HTTPS_PORT/emgap-1.bundle" "ca_file = $H/tlsca.pem"
expect_exit "https source: run applies" 0 emgap-apply run --config apply.conf
expect_out "https source: bundle named by its URL" "https://127.0.0.1:$HTTPS_PORT/emgap-1.bundle (sequence 1)"
check "https source: rule applied" grep -q 'EEMS M1.1' root/inetpub/wwwroot/web.config

# --- a failing source does not stop the others ------------------------------------------
conf mixed "url = https://127.0.0.1:$SELF_PORT/emgap-1.bundle" "url = https://127.0.0.1:$HTTPS_PORT/status/404" \
	"url = https://127.0.0.1:$HTTPS_PORT/emgap-1.bundle" "ca_file = $H/tlsca.pem"
expect_exit "untrusted and missing sources skipped: run applies" 0 emgap-apply run --config apply.conf
expect_err "untrusted certificate reported" "127.0.0.1:$SELF_PORT"
expect_err "HTTP 404 reported" "/status/404"
check "failing sources logged as 1008" grep -q ' 1008 error source https://127.0.0.1:'"$SELF_PORT" state/emgap.log
check "good source still used" grep -q '^sequence 1$' state/state

# --- two real runs at once: the one holding the lock (stuck on a slow
# source until its timeout) makes the other exit 8 -------------------------------
conf race "url = https://127.0.0.1:$HTTPS_PORT/slow/emgap-1.bundle" "ca_file = $H/tlsca.pem" "timeout = 3"
emgap-apply run --config apply.conf >"$T/race1.out" 2>"$T/race1.err" &
first=$!
sleep 1
expect_exit "second concurrent run exits 8" 8 emgap-apply run --config apply.conf
expect_err "second concurrent run says why" "another emgap-apply is running"
wait $first
rc1=$?
if [ "$rc1" -eq 0 ] && grep -q "timed out\|Timeout" "$T/race1.err"; then
	pass "first run finished on its own (source timed out, exit 0)"
else
	fail "first run finished on its own (source timed out, exit 0)" "exit $rc1: $(head -c 300 "$T/race1.err")"
fi

conf none "url = https://127.0.0.1:$SELF_PORT/emgap-1.bundle"
expect_exit "only an untrusted source: nothing to do" 0 emgap-apply run --config apply.conf
expect_out "only an untrusted source: says so" "no bundle found"
check "only an untrusted source: nothing applied" sh -c "! grep -q 'EEMS M1.1' root/inetpub/wwwroot/web.config"
https_stop

# --- libcurl is opened only for URL sources ------------------------------------------------------
# The hourly idle run must stay cheap: the program is not linked against
# libcurl (the URL cases above prove it still fetches, through dlopen).
if command -v ldd >/dev/null 2>&1; then
	if ldd "$EMGAP_BIN/emgap-apply" | grep -q libcurl; then
		fail "emgap-apply is not linked against libcurl" "$(ldd "$EMGAP_BIN/emgap-apply" | grep libcurl)"
	else
		pass "emgap-apply is not linked against libcurl"
	fi
fi
