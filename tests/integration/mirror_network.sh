# mirror_network.sh - emgap-mirror's HTTP client against real nginx and
# tinyproxy on 127.0.0.1: success, server down, TLS name mismatch,
# untrusted certificate, HTTP 500 with bounded retries, 404 without
# retries, a slow server (timeout), size caps on a chunked stream and on a
# declared length, and a feed reachable only through a proxy.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/https.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

S=$T/srv
https_make_tls "$S" || { fail "tls setup" "openssl failed"; exit 1; }
https_start "$S" || { fail "nginx starts" "see $S/nginx-error.log"; exit 1; }
W=$S/www
mkdir -p "$W/slow" "$W/stream" "$W/proxyonly" "$W/ctl"
printf '<EOCS version="1.0.4"/>\n' >"$W/feed.xml"
cp "$W/feed.xml" "$W/proxyonly/feed.xml"
head -c 4096 /dev/zero | tr '\0' 'x' >"$W/slow/feed.xml"
# 20 MB that gzip squeezes to ~20 KB: a stream far over the cap.
head -c 20000000 /dev/zero >"$W/stream/big.xml"
head -c 3000000 /dev/zero >"$W/big.xml"
printf 'cab' >"$W/ctl/a.cab"

# conf NAME FEED_URL [EXTRA_NETWORK_LINES]: a check-only config.
conf() {
	cat >"$T/$1.conf" <<EOF
[feed]
url = $2
[network]
ca_bundle = $S/tlsca.pem
connect_timeout = 2
timeout = 3
retries = 0
retry_delay = 50
max_feed_bytes = 1048576
$3
[ctl]
url = http://127.0.0.1:$HTTP_PORT/ctl/a.cab
EOF
}

conf ok "https://127.0.0.1:$HTTPS_PORT/feed.xml" "proxy = none"
expect_exit "check: all endpoints reachable exits 0" 0 emgap-mirror check --config "$T/ok.conf"
expect_out "check: prints Result: Success." "Result: Success."
expect_out "check: prints the EEMS message" "Message: The Mitigation Service endpoint is accessible from this computer."
if grep -q "Result: Failed" "$T/out"; then fail "check: no failure reported" "$(cat "$T/out")"; else pass "check: no failure reported"; fi

down=$(https_free_port)
conf down "https://127.0.0.1:$down/feed.xml" "proxy = none"
expect_exit "server down: exit 7" 7 emgap-mirror check --config "$T/down.conf"
expect_out "server down: Result: Failed." "Result: Failed."
expect_out "server down: names endpoint and reason" "endpoint https://127.0.0.1:$down/feed.xml is not accessible from this computer: could not connect"

conf dns "https://emgap-no-such-host.invalid/feed.xml" "proxy = none"
expect_exit "DNS failure: exit 7" 7 emgap-mirror check --config "$T/dns.conf"
expect_out "DNS failure: reason says DNS" "DNS lookup failed"

conf name "https://127.0.0.1:$WRONG_PORT/feed.xml" "proxy = none"
expect_exit "TLS name mismatch: exit 7" 7 emgap-mirror check --config "$T/name.conf"
expect_out "TLS name mismatch: reason names the certificate" "TLS certificate verification failed"
expect_out "TLS name mismatch: says which name" "127.0.0.1"

conf self "https://127.0.0.1:$SELF_PORT/feed.xml" "proxy = none"
expect_exit "untrusted TLS certificate: exit 7" 7 emgap-mirror check --config "$T/self.conf"
expect_out "untrusted TLS certificate: reason" "TLS certificate verification failed"
expect_out "untrusted TLS certificate: the other endpoints are still probed" "Endpoint: http://127.0.0.1:$HTTP_PORT/ctl/a.cab"

# HTTP 500 is retried (retries = 2: three requests), 404 is not.

conf e500 "https://127.0.0.1:$HTTPS_PORT/status/500" "proxy = none
retries = 2" 
sed -i 's/^retries = 0$//' "$T/e500.conf"
expect_exit "HTTP 500: exit 7" 7 emgap-mirror check --config "$T/e500.conf"
expect_out "HTTP 500: reason names the status" "HTTP status 500"
n=$(grep -c "GET /status/500 500" "$S/access.log")
if [ "$n" -eq 3 ]; then pass "HTTP 500: retried twice (3 requests)"; else fail "HTTP 500: retried twice (3 requests)" "$n requests"; fi
conf e404 "https://127.0.0.1:$HTTPS_PORT/status/404" "proxy = none
retries = 2"
sed -i 's/^retries = 0$//' "$T/e404.conf"
expect_exit "HTTP 404: exit 7" 7 emgap-mirror check --config "$T/e404.conf"
n=$(grep -c "GET /status/404 404" "$S/access.log")
if [ "$n" -eq 1 ]; then pass "HTTP 404: not retried"; else fail "HTTP 404: not retried" "$n requests"; fi

conf slow "https://127.0.0.1:$HTTPS_PORT/slow/feed.xml" "proxy = none"
start=$(date +%s)
expect_exit "slow server: exit 7" 7 emgap-mirror check --config "$T/slow.conf"
took=$(($(date +%s) - start))
expect_out "slow server: reason is a timeout" "timed out"
if [ "$took" -le 8 ]; then pass "slow server: gives up within the timeout"; else fail "slow server: gives up within the timeout" "${took}s"; fi

conf stream "https://127.0.0.1:$HTTPS_PORT/stream/big.xml" "proxy = none"
expect_exit "endless chunked body: exit 7" 7 emgap-mirror check --config "$T/stream.conf"
expect_out "endless chunked body: cut at the cap" "larger than the limit of 1048576 bytes"
conf big "https://127.0.0.1:$HTTPS_PORT/big.xml" "proxy = none"
expect_exit "declared huge body: exit 7" 7 emgap-mirror check --config "$T/big.conf"
expect_out "declared huge body: refused" "larger than the limit"

# Proxy required: /proxyonly/ answers only the proxy's address (127.0.0.2).
proxy_start "$T/px" || { fail "tinyproxy starts" "$(cat "$T/px/tinyproxy.out")"; exit 1; }
conf direct "https://127.0.0.1:$HTTPS_PORT/proxyonly/feed.xml" "proxy = none"
expect_exit "proxy required: direct access fails" 7 emgap-mirror check --config "$T/direct.conf"
expect_out "proxy required: direct access is refused with 403" "HTTP status 403"
conf viaproxy "https://127.0.0.1:$HTTPS_PORT/proxyonly/feed.xml" "proxy = http://127.0.0.1:$PROXY_PORT"
expect_exit "proxy required: through [network] proxy succeeds" 0 emgap-mirror check --config "$T/viaproxy.conf"
if grep -q "CONNECT.*127.0.0.1:$HTTPS_PORT" "$T/px/tinyproxy.log"; then
	pass "proxy required: the proxy log shows the tunnel"
else
	fail "proxy required: the proxy log shows the tunnel" "$(tail -n 5 "$T/px/tinyproxy.log")"
fi
conf envproxy "https://127.0.0.1:$HTTPS_PORT/proxyonly/feed.xml" ""
expect_exit "proxy required: https_proxy from the environment works" 0 \
	env https_proxy="http://127.0.0.1:$PROXY_PORT" http_proxy="http://127.0.0.1:$PROXY_PORT" \
	emgap-mirror check --config "$T/envproxy.conf"
pdown=$(https_free_port)
conf pdown "https://127.0.0.1:$HTTPS_PORT/proxyonly/feed.xml" "proxy = http://127.0.0.1:$pdown"
expect_exit "proxy down: exit 7" 7 emgap-mirror check --config "$T/pdown.conf"
expect_out "proxy down: reason names the proxy" "could not connect through proxy http://127.0.0.1:$pdown"

# The proxy refuses to tunnel to a port it does not allow (tinyproxy's
# ConnectPort list holds only the nginx TLS ports).
conf refused "https://127.0.0.1:$HTTP_PORT/feed.xml" "proxy = http://127.0.0.1:$PROXY_PORT"
expect_exit "proxy refuses the tunnel: exit 7" 7 emgap-mirror check --config "$T/refused.conf"
expect_out "proxy refuses the tunnel: says so with the status" "refused the tunnel with HTTP status 403"

# A progress bar only when stderr is a terminal (script(1) gives it one).
if command -v script >/dev/null 2>&1; then
	script -qec "emgap-mirror check --config '$T/ok.conf' >/dev/null" "$T/tty.log" >/dev/null 2>&1
	if grep -q "bytes" "$T/tty.log"; then pass "progress bar drawn on a terminal"; else fail "progress bar drawn on a terminal" "$(cat "$T/tty.log")"; fi
	emgap-mirror check --config "$T/ok.conf" >/dev/null 2>"$T/notty.err"
	if [ -s "$T/notty.err" ]; then fail "no progress bar without a terminal" "$(cat "$T/notty.err")"; else pass "no progress bar without a terminal"; fi
fi

# check --json: one document, a verdict per endpoint, the reason class.
expect_exit "check --json: exit 7 on a failure" 7 emgap-mirror check --json --config "$T/self.conf"
expect_out "check --json: failed endpoint has its reason" '"result": "Failed", "reason": "TLS certificate"'
expect_out "check --json: overall result" '"result": "Failed"'
if command -v python3 >/dev/null 2>&1; then
	check "check --json: valid JSON" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["endpoints"]) == 2' "$T/out"
fi

# Redirects: followed within https, never from https down to plain http.
conf redir "https://127.0.0.1:$HTTPS_PORT/redirect/https" "proxy = none"
expect_exit "https to https redirect is followed" 0 emgap-mirror check --config "$T/redir.conf"
conf downgrade "https://127.0.0.1:$HTTPS_PORT/redirect/http" "proxy = none"
before=$(grep -c "GET /feed.xml " "$S/access.log")
expect_exit "https to http redirect is refused: exit 7" 7 emgap-mirror check --config "$T/downgrade.conf"
expect_out "https to http redirect: says why" "refused to follow a redirect to another protocol"
after=$(grep -c "GET /feed.xml " "$S/access.log")
if [ "$after" -eq "$before" ]; then
	pass "https to http redirect: the plain-http URL is never requested"
else
	fail "https to http redirect: the plain-http URL is never requested" "$((after - before)) requests"
fi

# no_proxy exempts the host: the environment's (dead) proxy is not used
# and not blamed.
conf noproxy "https://127.0.0.1:$HTTPS_PORT/feed.xml" ""
expect_exit "no_proxy: host exempt from the environment's proxy" 0 \
	env https_proxy="http://127.0.0.1:$pdown" http_proxy="http://127.0.0.1:$pdown" no_proxy="localhost,127.0.0.1" \
	emgap-mirror check --config "$T/noproxy.conf"
expect_exit "environment proxy down: exit 7" 7 \
	env https_proxy="http://127.0.0.1:$pdown" http_proxy="http://127.0.0.1:$pdown" \
	emgap-mirror check --config "$T/noproxy.conf"
expect_out "environment proxy down: the proxy is named" "could not connect through proxy http://127.0.0.1:$pdown"
