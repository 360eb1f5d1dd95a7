# common_lint.sh - cppcheck finds nothing and every man page renders cleanly.
# Static checks do not depend on the build variant: run them once.
. "$EMGAP_SRC/tests/lib/testlib.sh"
[ "$EMGAP_VARIANT" = release ] || exit 0

if command -v cppcheck >/dev/null 2>&1; then
	if cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ \
		-I"$EMGAP_SRC/common" -I"$EMGAP_SRC" \
		-i"$EMGAP_SRC/apply/win" \
		"$EMGAP_SRC/common" "$EMGAP_SRC/keys" "$EMGAP_SRC/bundle" "$EMGAP_SRC/mirror" \
		"$EMGAP_SRC/apply" "$EMGAP_SRC/tests/unit" "$EMGAP_SRC/tests/fuzz" "$EMGAP_SRC/bench" \
		>"$T/cppcheck.log" 2>&1; then
		pass "cppcheck finds nothing"
	else
		fail "cppcheck finds nothing" "$(head -c 1500 "$T/cppcheck.log")"
	fi

	# The Windows backend is checked as Windows sees it (it refuses other targets).
	if cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
		--inline-suppr --suppress=missingIncludeSystem --suppress=missingInclude -D_WIN32 -D__GNUC__ \
		-I"$EMGAP_SRC/common" -I"$EMGAP_SRC" "$EMGAP_SRC/apply/win" >"$T/cppcheck-win.log" 2>&1; then
		pass "cppcheck finds nothing in the Windows backend"
	else
		fail "cppcheck finds nothing in the Windows backend" "$(head -c 1500 "$T/cppcheck-win.log")"
	fi
fi

n=0
for m in "$EMGAP_SRC"/docs/man/*.[15]; do
	[ -f "$m" ] || continue
	n=$((n + 1))
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" 2>&1 >/dev/null)
	if [ -z "$out" ]; then pass "man page $(basename "$m") renders"; else fail "man page $(basename "$m") renders" "$out"; fi
done
