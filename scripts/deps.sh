#!/bin/sh
# deps.sh - install the Debian packages emgap builds and tests with.
# Run as root it installs what is missing with apt-get; otherwise it lists
# what is missing and fails.
set -eu

# Build: compiler, pkg-config and the libraries (DESIGN.md, packages).
BUILD="gcc make pkg-config libsodium-dev libssl-dev libarchive-dev libxml2-dev
libxmlsec1-dev libcurl4-openssl-dev"
# Test peers: the real programs emgap must interoperate with, and the
# servers the mirror tests talk to on 127.0.0.1.
TEST="minisign xmlsec1 openssl nginx tinyproxy gcab cppcheck valgrind man-db
groff-base xmlstarlet curl gcc-mingw-w64-x86-64 patch python3 libxml2-utils zstd"
# Bench and fuzz (clang's libFuzzer runtime).
EXTRA="hyperfine time clang libclang-rt-14-dev"

want="$BUILD $TEST"
case "${1:-}" in
--all) want="$want $EXTRA" ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run 'sudo scripts/deps.sh' or install them with apt-get" >&2
	exit 3
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
