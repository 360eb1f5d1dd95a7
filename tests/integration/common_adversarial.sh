# common_adversarial.sh - runs every case of tests/adversarial/README.md
# through the real command-line tools: the exit code must be the one the
# table gives, a refusal must say why on stderr, the output must contain
# the table's "says" text (so no case passes for another reason than the
# one it stands for), and nothing outside
# $TEST_TMP may change (no file escapes an archive, the server tree of a dry
# run stays byte-identical, the source tree is left alone).
. "$EMGAP_SRC/tests/lib/testlib.sh"

A=$EMGAP_SRC/tests/adversarial
ADV=$T/adv
G=$ADV/gen
mkdir -p "$T/home" "$T/tmp" "$ADV"
HOME=$T/home
TMPDIR=$T/tmp
export HOME TMPDIR

# tree_sum DIR: one line per file, content checksum and name.
tree_sum() {
	(cd "$1" && find . -type f -exec cksum {} + | sort)
}
tree_sum "$A" >"$T/src-before"
tree_sum "$EMGAP_SRC/samples" >"$T/samples-before"

for tool in emgap-bundle emgap-keys; do
	if [ ! -x "$EMGAP_BIN/$tool" ]; then
		fail "adversarial corpus" "$tool is not built"
		exit 1
	fi
done
have_apply=0
[ -x "$EMGAP_BIN/emgap-apply" ] && have_apply=1

if ! sh "$A/make-bundles.sh" "$ADV" >"$T/make.log" 2>&1; then
	fail "adversarial corpus is generated" "$(tail -c 800 "$T/make.log")"
	exit 1
fi
canary=$(cat "$G/canary")
AH=$G/apply/root/Windows/System32/inetsrv/config/applicationHost.config
cp "$AH" "$T/apphost.orig"
# emgap-bundle verify --state accepts what it verifies: the state the
# rollback cases start from has accepted good.bundle (sequence 10).
n=0

# path FILE: where a case's file is.
path() {
	case $1 in
	gen/*) echo "$ADV/$1" ;;
	*) echo "$A/$1" ;;
	esac
}

run_case() { # FILE CODE COMMAND SAYS
	f=$(path "$1")
	n=$((n + 1))
	name="$3 $1: exit $2"
	if [ ! -e "$f" ]; then
		fail "$name" "no such file $f"
		return
	fi
	if [ -z "$4" ]; then
		fail "$name" "README.md gives no 'says' text"
		return
	fi
	extra=""
	case $3 in
	bundle-verify) set -- "$@" emgap-bundle verify --trust "$G/trust" "$f" ;;
	bundle-verify-t2) set -- "$@" emgap-bundle verify --trust "$G/trust2" "$f" ;;
	bundle-verify-state)
		mkdir -p "$T/state-$n"
		if ! emgap-bundle verify --trust "$G/trust" --state "$T/state-$n" "$G/bundle/good.bundle" \
			>/dev/null 2>&1; then
			fail "$name" "good.bundle is not accepted into a fresh state"
			return
		fi
		set -- "$@" emgap-bundle verify --trust "$G/trust" --state "$T/state-$n" "$f"
		;;
	bundle-inspect) set -- "$@" emgap-bundle inspect "$f" ;;
	bundle-extract)
		extra=$T/extract-$n
		set -- "$@" emgap-bundle extract --trust "$G/trust" -C "$extra" "$f"
		;;
	verify-feed)
		set -- "$@" emgap-bundle verify-feed --anchors "$G/pki/anchors.pem" --crl-dir "$G/pki/crl" "$f"
		;;
	keys-verify-sig) set -- "$@" emgap-keys verify --public "$G/keys/a.pub" --signature "$f" "$G/keys/msg" ;;
	keys-verify-pub) set -- "$@" emgap-keys verify --public "$f" --signature "$G/keys/msg.minisig" "$G/keys/msg" ;;
	keys-verify-msg) set -- "$@" emgap-keys verify --public "$G/keys/a.pub" --signature "$G/keys/msg.minisig" "$f" ;;
	apply-dry-run)
		if [ "$have_apply" -eq 0 ]; then
			fail "$name" "emgap-apply is not built"
			return
		fi
		cp "$f" "$AH"
		tree_sum "$G/apply/root" >"$T/root-before"
		set -- "$@" emgap-apply run --dry-run --config "$G/apply/apply.conf"
		;;
	apply-run-webroot-link)
		# A real run on a copy of the setup, its web root a symlink to
		# FILE (a directory outside the server root).
		if [ "$have_apply" -eq 0 ]; then
			fail "$name" "emgap-apply is not built"
			return
		fi
		rm -rf "$T/run-$n"
		cp -R "$G/apply" "$T/run-$n"
		rm -rf "$T/run-$n/root/inetpub/wwwroot"
		ln -s "$f" "$T/run-$n/root/inetpub/wwwroot"
		tree_sum "$f" >"$T/outside-before"
		set -- "$@" emgap-apply run --config "$T/run-$n/apply.conf"
		;;
	*)
		fail "$name" "unknown command '$3' in README.md"
		return
		;;
	esac
	want=$2
	says=$4
	shift 4
	timeout 300 "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	why=""
	if [ "$rc" -ne "$want" ]; then
		why="exit $rc, wanted $want; stderr: $(head -c 300 "$T/err")"
	elif [ "$want" -ne 0 ] && [ ! -s "$T/err" ]; then
		why="refused without a word on stderr"
	elif ! cat "$T/out" "$T/err" | grep -qiF -- "$says"; then
		why="exit $rc as wanted, but the output does not say '$says': $(head -c 300 "$T/err")"
	elif [ -n "$extra" ] && [ "$want" -ne 0 ] && [ -n "$(ls -A "$extra" 2>/dev/null)" ]; then
		why="refused, but left files in the extract directory: $(ls -A "$extra" | head -5)"
	elif [ -n "$extra" ] && [ "$want" -eq 0 ] && [ ! -f "$extra/manifest" ]; then
		why="extracted without a manifest"
	fi
	if [ -f "$T/root-before" ]; then
		tree_sum "$G/apply/root" >"$T/root-after"
		if [ -z "$why" ] && ! cmp -s "$T/root-before" "$T/root-after"; then
			why="the dry run changed the server tree: $(diff "$T/root-before" "$T/root-after" | head -c 300)"
		fi
		cp "$T/apphost.orig" "$AH"
		rm -f "$T/root-before" "$T/root-after"
	fi
	if [ -f "$T/outside-before" ]; then
		tree_sum "$f" >"$T/outside-after"
		if [ -z "$why" ] && ! cmp -s "$T/outside-before" "$T/outside-after"; then
			why="the run wrote through the symlink into $f"
		fi
		rm -f "$T/outside-before" "$T/outside-after"
	fi
	if [ -n "$why" ]; then fail "$name" "$why"; else pass "$name"; fi
}

sed -n '/^<!-- cases:/,/^<!-- end of cases -->/p' "$A/README.md" | grep '^| ' |
	grep -v '^| file |' | grep -v '^| ---' >"$T/cases"
if [ "$(wc -l <"$T/cases")" -lt 50 ]; then
	fail "README.md lists the cases" "only $(wc -l <"$T/cases") rows found"
fi
# One case per row: | file | attack | exit | command | says |
while IFS='|' read -r _ file _ code cmd says _; do
	set -f
	set -- $file $code $cmd
	set +f
	[ "$2" = pending ] && continue
	says=$(printf '%s' "$says" | sed 's/^ *//; s/ *$//')
	run_case "$1" "$2" "$3" "$says"
done <"$T/cases"

# Nothing escaped: no canary outside $TEST_TMP, sources untouched.
if [ -e "/tmp/$canary" ] || [ -e "$T/tmp/$canary" ] || [ -L "/tmp/$canary" ]; then
	fail "no archive member escaped to /tmp" "/tmp/$canary exists"
	rm -f "/tmp/$canary"
else
	pass "no archive member escaped to /tmp"
fi
tree_sum "$A" >"$T/src-after"
tree_sum "$EMGAP_SRC/samples" >"$T/samples-after"
if cmp -s "$T/src-before" "$T/src-after" && cmp -s "$T/samples-before" "$T/samples-after"; then
	pass "source tree (tests/adversarial, samples) unchanged"
else
	fail "source tree (tests/adversarial, samples) unchanged" \
		"$(diff "$T/src-before" "$T/src-after"; diff "$T/samples-before" "$T/samples-after")"
fi
