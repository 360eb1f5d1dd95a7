#!/bin/sh
# lint.sh - static checks that are part of `make check`: cppcheck over all
# C sources (any finding fails) and man pages rendering without warnings.
set -eu
cd "$(dirname "$0")/.."
status=0
if command -v cppcheck >/dev/null 2>&1; then
	if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -Icommon -I. \
		common keys bundle mirror apply tests/unit 2>build/cppcheck.log; then
		cat build/cppcheck.log >&2
		echo "lint: cppcheck found problems" >&2
		status=1
	fi
fi
for m in docs/man/*.[15]; do
	[ -f "$m" ] || continue
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null || true)
	if [ -n "$out" ]; then
		echo "lint: $m: $out" >&2
		status=1
	fi
done
exit $status
