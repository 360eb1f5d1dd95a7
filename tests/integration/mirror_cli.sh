# mirror_cli.sh - emgap-mirror's command line and config errors: usage,
# --help/--version, config errors with file:line and exit 3, a missing
# required key, and exit 8 while another run holds the staging lock.
. "$EMGAP_SRC/tests/lib/testlib.sh"

expect_exit "no arguments: usage, exit 2" 2 emgap-mirror
expect_err "no arguments: prints usage" "usage: emgap-mirror"
expect_exit "--help exits 0" 0 emgap-mirror --help
expect_out "--help lists the commands" "check|fetch|run"
expect_exit "--version exits 0" 0 emgap-mirror --version
expect_out "--version prints the version" "emgap-mirror 0."
expect_exit "unknown command: exit 2" 2 emgap-mirror pull --config x
expect_err "unknown command: named" "unknown command 'pull'"
expect_exit "missing --config: exit 2" 2 emgap-mirror fetch
expect_err "missing --config: said" "--config FILE is required"
expect_exit "--watch only with run: exit 2" 2 emgap-mirror fetch --watch --config x
expect_exit "missing config file: exit 3" 3 emgap-mirror check --config "$T/nope.conf"
expect_err "missing config file: named" "$T/nope.conf"

cat >"$T/bad.conf" <<EOF
[feed]
url = https://127.0.0.1:1/feed.xml

[network]
timeout = 5
proxy_url = http://127.0.0.1:3128
EOF
expect_exit "unknown key: exit 3" 3 emgap-mirror check --config "$T/bad.conf"
expect_err "unknown key: file:line and key" "$T/bad.conf:6: unknown key 'proxy_url' in [network]"

printf '[feed]\nurl = https://127.0.0.1:1/feed.xml\n[output]\nstaging = st\n' >"$T/noanchors.conf"
expect_exit "fetch without anchors: exit 3" 3 emgap-mirror fetch --config "$T/noanchors.conf"
expect_err "fetch without anchors: says which key" "[vendor] anchors is required"
printf '[vendor]\nanchors = a.pem\n[output]\nstaging = st\n' >"$T/nodrop.conf"
expect_exit "run without drop: exit 3" 3 emgap-mirror run --config "$T/nodrop.conf"
expect_err "run without drop: says which key" "[output] drop is required"

# Busy: another process holds the staging lock (flock, as emgap-mirror does).
mkdir -p "$T/st"
printf '[feed]\nurl = https://127.0.0.1:1/feed.xml\n[vendor]\nanchors = a.pem\n[output]\nstaging = st\n' >"$T/busy.conf"
if command -v flock >/dev/null 2>&1; then
	# The lock is held by this shell itself: no helper process to clean up.
	exec 9>"$T/st/lock"
	flock 9
	expect_exit "staging locked by another run: exit 8" 8 emgap-mirror fetch --config "$T/busy.conf"
	expect_err "staging locked: says so" "another emgap-mirror is working here"
	exec 9>&-
fi
