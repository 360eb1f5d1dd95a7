# apply_front.sh - emgap-apply is a small front: an idle hourly run ends in
# it, without the engine and without the libraries that parse untrusted
# input; everything else is handed to emgap-apply-engine in the same
# process, found next to the front or in ../libexec/emgap/.
. "$EMGAP_SRC/tests/lib/testlib.sh"
. "$EMGAP_SRC/tests/lib/pki.sh"
. "$EMGAP_SRC/tests/lib/orgkeys.sh"
. "$EMGAP_SRC/tests/lib/applyfix.sh"

FRONT=$(command -v emgap-apply)
ENGINE=$(command -v emgap-apply-engine)

# --- what the front links against ---------------------------------------------------------
if ldd "$FRONT" >"$T/ldd" 2>&1; then
	if grep -Eq 'libxml2|libxmlsec1|libarchive|libsodium|libcurl' "$T/ldd"; then
		fail "the front links none of the parsing libraries" "$(cat "$T/ldd")"
	else
		pass "the front links none of the parsing libraries"
	fi
	grep -q libxml2 "$T/ldd" || ldd "$ENGINE" | grep -q libxml2 && pass "the engine links libxml2" ||
		fail "the engine links libxml2" "$(ldd "$ENGINE")"
else
	echo "SKIP ldd cannot read $FRONT (a wrapper script): link checks not made"
fi

F=$T/fix
apply_fixture "$F" || { fail "fixture" "PKI, keys or tree setup failed"; exit 1; }
apply_bundle "$F" "$F/signed.xml" 1 "$F/src/emgap-1.bundle" ||
	{ fail "fixture bundle" "$(cat "$F/bundle.err")"; exit 1; }
cd "$F" || exit 1
A="--config $F/apply.conf"
# The hash cache keeps a file's hash only once its times are a little old
# (hashcache.h): let the bundle settle, so the first run records it.
sleep 3

# strace shows which programs a run executes and which files it opens.
if strace -f -qq -e trace=execve -o "$T/probe" true >/dev/null 2>&1; then
	have_strace=1
else
	have_strace=0
	echo "SKIP strace unavailable: which program ends a run is not checked"
fi
traced() { # NAME CMD...: stdout $T/out, trace $T/trace; exit status checked to be 0
	_n=$1
	shift
	if [ "$have_strace" = 1 ]; then
		# LeakSanitizer cannot work under ptrace.
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
			strace -f -qq -e trace=execve,openat -o "$T/trace" "$@" >"$T/out" 2>"$T/err" </dev/null
	else
		"$@" >"$T/out" 2>"$T/err" </dev/null
	fi
	_rc=$?
	[ "$_rc" -eq 0 ] && pass "$_n" || fail "$_n" "exit $_rc: $(head -c 300 "$T/err")"
}
engine_ran() { grep -q "execve(\"[^\"]*emgap-apply-engine\"" "$T/trace"; }
xml_loaded() { grep -Eq 'openat\(.*(libxml2|libxmlsec1|libarchive)\.so' "$T/trace"; }

# --- the first run has work: the engine does it ---------------------------------------------
traced "first run" emgap-apply run $A
expect_out "the first run applies the bundle" "bundle: $F/src/emgap-1.bundle (sequence 1)"
if [ "$have_strace" = 1 ]; then
	engine_ran && pass "the first run is handed to the engine" ||
		fail "the first run is handed to the engine" "$(grep execve "$T/trace")"
fi

# --- the idle run ends in the front ------------------------------------------------------------
touch -d '-1 hour' state/last-check
traced "idle run" emgap-apply run $A
expect_out "the idle run says so" "no change since the last run (sequence 1)"
if [ "$have_strace" = 1 ]; then
	engine_ran && fail "the idle run ends in the front" "$(grep execve "$T/trace")" ||
		pass "the idle run ends in the front"
	xml_loaded && fail "the idle run loads no XML or archive library" "$(grep -E 'libxml2|xmlsec|libarchive' "$T/trace")" ||
		pass "the idle run loads no XML or archive library"
	grep -q "openat(.*emgap-1.bundle" "$T/trace" && fail "the idle run reads no bundle" "$(grep bundle "$T/trace")" ||
		pass "the idle run reads no bundle"
fi
[ "$(find state/last-check -mmin -5)" ] && pass "the idle run records the check (last-check)" ||
	fail "the idle run records the check (last-check)" "$(ls -l state/last-check)"
traced "quiet idle run" emgap-apply run --quiet $A
[ -s "$T/out" ] && fail "a quiet idle run prints nothing" "$(cat "$T/out")" || pass "a quiet idle run prints nothing"

# --- whatever is not plainly idle goes to the engine ---------------------------------------------
traced "dry run" emgap-apply run --dry-run $A
if [ "$have_strace" = 1 ]; then
	engine_ran && pass "a dry run is the engine's" || fail "a dry run is the engine's" "$(grep execve "$T/trace")"
fi
traced "status" emgap-apply status $A
expect_out "status is the engine's" "M1.1"
cp src/emgap-1.bundle src/copy-of-1.bundle
traced "run with a new file on the source" emgap-apply run $A
if [ "$have_strace" = 1 ]; then
	engine_ran && pass "a file the cache does not know is the engine's to hash" ||
		fail "a file the cache does not know is the engine's to hash" "$(grep execve "$T/trace")"
fi
expect_out "a copy of the accepted bundle changes nothing" "no change since the last run (sequence 1)"
sleep 3 # the copy's times settle, then the cache keeps its hash (hashcache.h)
traced "run that hashes the settled copy" emgap-apply run $A
traced "idle run with the copy known" emgap-apply run $A
if [ "$have_strace" = 1 ]; then
	engine_ran && fail "once the copy is known, the run ends in the front" "$(grep execve "$T/trace")" ||
		pass "once the copy is known, the run ends in the front"
fi
touch root/inetpub/wwwroot/web.config
traced "run after a managed file changed" emgap-apply run $A
if [ "$have_strace" = 1 ]; then
	engine_ran && pass "a touched IIS file is the engine's to check" ||
		fail "a touched IIS file is the engine's to check" "$(grep execve "$T/trace")"
fi
traced "the run after the check" emgap-apply run $A
expect_out "the run after the check is idle again" "no change since the last run"
if [ "$have_strace" = 1 ]; then
	engine_ran && fail "the run after the check ends in the front" "$(grep execve "$T/trace")" ||
		pass "the run after the check ends in the front"
fi
# An accepted bundle past its expiry: the engine refuses to go on with it
# (exit 5), the front must not call it idle. The state is edited as if the
# time had passed.
sed -i 's/^bundle-expires .*/bundle-expires 2020-01-01T00:00:00Z/' state/state
emgap-apply run $A >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 5 ] && grep -q "expired" "$T/err" && pass "an expired accepted bundle is the engine's to refuse (exit 5)" ||
	fail "an expired accepted bundle is the engine's to refuse (exit 5)" "exit $rc: $(cat "$T/out" "$T/err")"

# --- finding the engine ------------------------------------------------------------------------------
real_front=$FRONT real_engine=$ENGINE
if head -c 2 "$FRONT" | grep -q '#!'; then
	# A wrapper (valgrind pass): the real programs are in the release build.
	real_front=$EMGAP_SRC/build/release/bin/emgap-apply
	real_engine=$EMGAP_SRC/build/release/bin/emgap-apply-engine
fi
mkdir -p "$T/inst/bin" "$T/inst/libexec/emgap" "$T/alone"
cp "$real_front" "$T/inst/bin/emgap-apply" && cp "$real_engine" "$T/inst/libexec/emgap/emgap-apply-engine" &&
	cp "$real_front" "$T/alone/emgap-apply" || { fail "install tree" "cp failed"; exit 1; }
expect_exit "installed layout: the engine is found in ../libexec/emgap" 0 "$T/inst/bin/emgap-apply" status $A
expect_exit "a front without its engine fails plainly (exit 7)" 7 "$T/alone/emgap-apply" status $A
grep -q "cannot find emgap-apply-engine" "$T/err" && pass "the message names the engine" ||
	fail "the message names the engine" "$(cat "$T/err")"
expect_exit "the front answers --version itself" 0 "$T/alone/emgap-apply" --version
