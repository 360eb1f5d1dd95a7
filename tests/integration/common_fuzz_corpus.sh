# common_fuzz_corpus.sh - every fuzz target over its saved corpus, once.
# Targets are tests/fuzz/fuzz_<part>_<name>.c; corpora tests/fuzz/corpus/<name>/.
. "$EMGAP_SRC/tests/lib/testlib.sh"
fdir=$EMGAP_BIN/../fuzz
for t in "$fdir"/fuzz_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	corpus=$EMGAP_SRC/tests/fuzz/corpus/${name#fuzz_}
	if [ ! -d "$corpus" ]; then
		fail "$name corpus" "no corpus at $corpus"
		continue
	fi
	if "$t" "$corpus" >"$T/fuzz.log" 2>&1; then
		pass "$name over $(ls "$corpus" | wc -l) saved inputs"
	else
		fail "$name over its corpus" "$(tail -c 1500 "$T/fuzz.log")"
	fi
done
