# https.sh - real servers on 127.0.0.1 for emgap-mirror's tests (sourced,
# POSIX sh): nginx as an HTTPS and HTTP server, and tinyproxy as a forward
# proxy. Every config, log, pid and certificate file lives under the
# directory the caller names (inside $TEST_TMP); both servers are stopped
# when the test exits, whatever way it exits.
#
#   https_make_tls DIR    test TLS CA and certificates (see below)
#   https_start DIR       nginx, docroot DIR/www; sets HTTP_PORT HTTPS_PORT
#                         WRONG_PORT (certificate for another name) and
#                         SELF_PORT (self-signed, untrusted)
#   https_stop            stops nginx
#   proxy_start DIR       tinyproxy on PROXY_PORT; it connects out from
#                         127.0.0.2, so /proxyonly/ answers it and refuses
#                         direct clients (403)
#   proxy_stop            stops tinyproxy
#   https_free_port       prints a TCP port nothing listens on
#
# Special paths every nginx server answers (besides files under DIR/www):
#   /slow/...       files sent at 20 bytes per second (timeouts)
#   /status/500     HTTP 500        /status/404   HTTP 404
#   /stream/...     files gzip-encoded on the fly, chunked, with no
#                   Content-Length (a size cap must cut the stream)
#   /proxyonly/...  files for 127.0.0.2 (the proxy) only
#   /redirect/http, /redirect/https   302 to /feed.xml on the HTTP or
#                   HTTPS port
# nginx logs every request to DIR/access.log as
#   "REMOTE_ADDR METHOD URI STATUS IF_NONE_MATCH|IF_MODIFIED_SINCE".

_HTTPS_DIR=
_PROXY_PID=

https__cleanup() {
	https_stop
	proxy_stop
}
trap 'https__cleanup' EXIT
trap 'https__cleanup; exit 1' INT TERM

https_free_port() {
	while :; do
		_p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_p=$((20000 + _p % 40000))
		_hex=$(printf ':%04X ' "$_p")
		if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$_hex"; then
			echo "$_p"
			return 0
		fi
	done
}

# https__cert DIR NAME SAN [CA]: EC key DIR/NAME.key and certificate
# DIR/NAME.pem with subjectAltName SAN, issued by DIR/CA (self-signed
# when CA is empty).
https__cert() {
	_d=$1 _n=$2 _san=$3 _ca=${4:-}
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$_d/$_n.key" 2>/dev/null || return 1
	if [ -z "$_ca" ]; then
		openssl req -x509 -new -key "$_d/$_n.key" -subj "/CN=emgap test $_n" -days 30 \
			-addext "subjectAltName=$_san" -addext "basicConstraints=critical,CA:true" \
			-out "$_d/$_n.pem" 2>/dev/null
		return
	fi
	openssl req -new -key "$_d/$_n.key" -subj "/CN=emgap test $_n" -addext "subjectAltName=$_san" \
		-out "$_d/$_n.csr" 2>/dev/null || return 1
	openssl x509 -req -in "$_d/$_n.csr" -CA "$_d/$_ca.pem" -CAkey "$_d/$_ca.key" -CAcreateserial \
		-days 30 -copy_extensions copy -out "$_d/$_n.pem" 2>/dev/null || return 1
	rm -f "$_d/$_n.csr"
}

# https_make_tls DIR: DIR/tlsca.pem (the CA the mirror trusts),
# DIR/server.pem (localhost, 127.0.0.1), DIR/wrongname.pem
# (wrong.invalid, same CA) and DIR/selfsigned.pem (trusted by nobody).
https_make_tls() {
	mkdir -p "$1" &&
		https__cert "$1" tlsca "DNS:emgap-test-ca" &&
		https__cert "$1" server "DNS:localhost,IP:127.0.0.1" tlsca &&
		https__cert "$1" wrongname "DNS:wrong.invalid" tlsca &&
		https__cert "$1" selfsigned "DNS:localhost,IP:127.0.0.1"
}

https__conf() {
	_d=$1
	cat >"$_d/nginx-locations.conf" <<EOF
location /slow/ { limit_rate 20; }
location = /status/500 { return 500; }
location = /status/404 { return 404; }
location /stream/ { gzip on; gzip_types *; gzip_min_length 0; }
location /proxyonly/ { allow 127.0.0.2; deny all; }
location = /redirect/http { return 302 http://127.0.0.1:$HTTP_PORT/feed.xml; }
location = /redirect/https { return 302 https://127.0.0.1:$HTTPS_PORT/feed.xml; }
EOF
	cat >"$_d/nginx.conf" <<EOF
user root root;
worker_processes 1;
pid $_d/nginx.pid;
error_log $_d/nginx-error.log;
events { worker_connections 64; }
http {
	types { application/xml xml; application/pkix-crl crl; application/vnd.ms-cab-compressed cab; }
	default_type application/octet-stream;
	log_format emgap '\$remote_addr \$request_method \$request_uri \$status \$http_if_none_match|\$http_if_modified_since';
	access_log $_d/access.log emgap;
	client_body_temp_path $_d/tmp/body;
	proxy_temp_path $_d/tmp/proxy;
	fastcgi_temp_path $_d/tmp/fastcgi;
	uwsgi_temp_path $_d/tmp/uwsgi;
	scgi_temp_path $_d/tmp/scgi;
	root $_d/www;
	server { listen 127.0.0.1:$HTTP_PORT; include $_d/nginx-locations.conf; }
	server {
		listen 127.0.0.1:$HTTPS_PORT ssl;
		ssl_certificate $_d/server.pem; ssl_certificate_key $_d/server.key;
		include $_d/nginx-locations.conf;
	}
	server {
		listen 127.0.0.1:$WRONG_PORT ssl;
		ssl_certificate $_d/wrongname.pem; ssl_certificate_key $_d/wrongname.key;
		include $_d/nginx-locations.conf;
	}
	server {
		listen 127.0.0.1:$SELF_PORT ssl;
		ssl_certificate $_d/selfsigned.pem; ssl_certificate_key $_d/selfsigned.key;
		include $_d/nginx-locations.conf;
	}
}
EOF
}

# https_start DIR: DIR must hold the https_make_tls files. Ports are
# picked at random; a start that loses a race for one tries again.
https_start() {
	_HTTPS_DIR=$1
	mkdir -p "$1/www" "$1/tmp"
	for _try in 1 2 3 4 5; do
		HTTP_PORT=$(https_free_port)
		HTTPS_PORT=$(https_free_port)
		WRONG_PORT=$(https_free_port)
		SELF_PORT=$(https_free_port)
		https__conf "$1"
		if nginx -p "$1" -e "$1/nginx-error.log" -c "$1/nginx.conf" 2>>"$1/nginx-start.log"; then
			# nginx daemonises once its sockets are bound: it is ready.
			return 0
		fi
	done
	echo "https_start: nginx did not start: $(tail -n 3 "$1/nginx-error.log")" >&2
	_HTTPS_DIR=
	return 1
}

https_stop() {
	[ -n "$_HTTPS_DIR" ] || return 0
	if [ -f "$_HTTPS_DIR/nginx.pid" ]; then
		_pid=$(cat "$_HTTPS_DIR/nginx.pid")
		kill "$_pid" 2>/dev/null
		_i=0
		while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
	fi
	_HTTPS_DIR=
}

# proxy_start DIR: tinyproxy, allowed to CONNECT to the nginx TLS ports
# (https_start first).
proxy_start() {
	_pd=$1
	mkdir -p "$_pd"
	for _try in 1 2 3 4 5; do
		PROXY_PORT=$(https_free_port)
		cat >"$_pd/tinyproxy.conf" <<EOF
User root
Group root
Port $PROXY_PORT
Listen 127.0.0.1
Bind 127.0.0.2
Timeout 30
LogFile "$_pd/tinyproxy.log"
LogLevel Info
PidFile "$_pd/tinyproxy.pid"
MaxClients 20
Allow 127.0.0.1
ConnectPort $HTTPS_PORT
ConnectPort $WRONG_PORT
ConnectPort $SELF_PORT
EOF
		tinyproxy -d -c "$_pd/tinyproxy.conf" >>"$_pd/tinyproxy.out" 2>&1 &
		_PROXY_PID=$!
		_i=0
		while [ $_i -lt 50 ]; do
			if grep -q "$(printf ':%04X 00000000:0000 0A' "$PROXY_PORT")" /proc/net/tcp 2>/dev/null; then
				return 0
			fi
			kill -0 "$_PROXY_PID" 2>/dev/null || break
			sleep 0.1
			_i=$((_i + 1))
		done
		proxy_stop
	done
	echo "proxy_start: tinyproxy did not start: $(tail -n 3 "$_pd/tinyproxy.out")" >&2
	return 1
}

proxy_stop() {
	[ -n "$_PROXY_PID" ] || return 0
	kill "$_PROXY_PID" 2>/dev/null
	wait "$_PROXY_PID" 2>/dev/null
	_PROXY_PID=
}

# ---- mirror fixtures -------------------------------------------------
# mirror_fixture DIR: a whole vendor side for emgap-mirror on 127.0.0.1:
# nginx (https_start DIR/srv) serving a feed signed by the test vendor PKI
# (tests/lib/pki.sh, DIR/pki) at https://127.0.0.1:$HTTPS_PORT/feed.xml,
# its CRLs at http://127.0.0.1:$HTTP_PORT/crl/, and CTL cabs at .../ctl/;
# and DIR/mirror.conf pointing at all of it (no proxy, no retries, short
# timeouts, staging DIR/staging, drop DIR/drop, log DIR/mirror.log).
# Needs pki.sh sourced.
mirror_fixture() {
	_mf_d=$1
	https_make_tls "$_mf_d/srv" || return 1
	https_start "$_mf_d/srv" || return 1
	pki_make "$_mf_d/pki" "http://127.0.0.1:$HTTP_PORT/crl" || return 1
	_mf_w=$_mf_d/srv/www
	mkdir -p "$_mf_w/crl" "$_mf_w/ctl" || return 1
	cp "$_mf_d/pki/crl/root.crl" "$_mf_d/pki/crl/inter.crl" "$_mf_w/crl/" || return 1
	cat >"$_mf_d/feed-unsigned.xml" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<EOCS version="1.0.4">
  <Config id="PING1" desc="EEMS Heartbeat probe. Does not modify any exchange settings.">
    <ActionList>
      <Action type="DoNothing" scope="Server" desc="Ping mitigation action. Does not modify any exchange settings.">
        <Value>DoNothing</Value>
      </Action>
    </ActionList>
  </Config>
</EOCS>
EOF
	pki_sign_feed "$_mf_d/pki" signer "$_mf_d/feed-unsigned.xml" "$_mf_w/feed.xml" || return 1
	pki_make_ctl "$_mf_d/pki" authroot "$_mf_w/ctl/authrootstl.cab" "$_mf_d/pki/root.pem" || return 1
	pki_make_ctl "$_mf_d/pki" disallowed "$_mf_w/ctl/disallowedcertstl.cab" || return 1
	cat >"$_mf_d/mirror.conf" <<EOF
# emgap-mirror test configuration
[feed]
url = https://127.0.0.1:$HTTPS_PORT/feed.xml

[network]
ca_bundle = $_mf_d/srv/tlsca.pem
proxy = none
connect_timeout = 3
timeout = 5
retries = 0
retry_delay = 100

[vendor]
anchors = $_mf_d/pki/anchors.pem
eku = 1.3.6.1.5.5.7.3.3
subject = CN=emgap Test Feed Signer

[ctl]
url = http://127.0.0.1:$HTTP_PORT/ctl/authrootstl.cab
url = http://127.0.0.1:$HTTP_PORT/ctl/disallowedcertstl.cab

[output]
staging = $_mf_d/staging
drop = $_mf_d/drop
retention = 2
expires_after = 7d

[log]
file = $_mf_d/mirror.log
EOF
}

# mirror_conf_set FILE SECTION KEY VALUE: replaces KEY's line in SECTION
# (or adds it there) - enough for the tests' small edits.
mirror_conf_set() {
	awk -v s="[$2]" -v k="$3" -v v="$4" '
	$0 == s { insec = 1; print; next }
	/^\[/ { if (insec && !done) { print k " = " v; done = 1 } insec = 0 }
	insec && $1 == k { if (!done) print k " = " v; done = 1; next }
	{ print }
	END { if (!done) { if (!insec) print s; print k " = " v } }' "$1" >"$1.new" && mv "$1.new" "$1"
}
