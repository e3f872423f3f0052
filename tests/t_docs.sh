#!/bin/sh
# t_docs.sh - the documentation matches the programs:
#   every man page passes `mandoc -Tlint` (no warning or error) and renders
#   its JSON examples with their quotes; every command and option that
#   tfadesk(1) and tfadesk-verify(8) document is in the program's --help;
#   the exit codes the programs use are in the EXIT STATUS sections.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || { not_ok "mandoc is not installed (make deps)"; finish; exit 1; }
for f in "$TOP"/doc/*.[158]; do
	b=$(basename "$f")
	mandoc -Tlint -W warning "$f" 2>&1 | grep -v 'mandoc.db\|referenced manual not found' > "$T/lint"
	if [ -s "$T/lint" ]; then not_ok "$b: mandoc -Tlint:"; sed 's/^/    /' "$T/lint" | head -10
	else ok "$b: mandoc -Tlint clean"; fi
	mandoc -Tascii "$f" 2>/dev/null | col -b > "$T/$b.txt"
	# a JSON object in the page keeps its quotes: {"key": "value"}
	if grep -q '{ *"[a-z_]*": *[^" {[0-9tfn]' "$T/$b.txt"; then
		not_ok "$b: a JSON example lost its quotes:"; grep '{ *"[a-z_]*": *[^" {[0-9tfn]' "$T/$b.txt" | head -3
	else ok "$b: JSON examples keep their quotes"; fi
	# our pages are man(7) pages of tfadesk, not BSD ones
	if tail -n 2 "$T/$b.txt" | grep -q 'BSD'; then not_ok "$b: calls itself a BSD page"; else ok "$b: not a BSD page"; fi
done

# helpcheck PROG PAGE: each "--option" and each command word the page's
# command sections name is in `PROG --help`
helpcheck() {
	prog=$1 page=$2
	"$TOP/$prog" --help > "$T/help" 2>&1
	sed -n '/^[A-Z ]*COMMANDS$\|^SYNOPSIS$/,/^[A-Z][A-Z ]*$/p' "$T/$page.txt" |
	    grep -o -- '--[a-z][a-z-]*' | sort -u > "$T/opts"
	missing=
	while read -r o; do
		grep -q -- "$o" "$T/help" || missing="$missing $o"
	done < "$T/opts"
	if [ -z "$missing" ]; then ok "$prog --help lists every option of $page ($(wc -l < "$T/opts"))"
	else not_ok "$prog --help lacks what $page documents:$missing"; fi
}
helpcheck tfadesk tfadesk.1
helpcheck tfadesk-verify tfadesk-verify.8

# every exit code our sources use is listed in each EXIT STATUS section
for pc in "tfadesk.1 0 64 65 66 69 73 75 77 78" "tfadesk-verify.8 0 64 65 69 75 77 78"; do
	set -- $pc; page=$1; shift
	sed -n '/^EXIT STATUS/,/^[A-Z][A-Z ]*$/p' "$T/$page.txt" | tr -s ' \n' ' ' > "$T/exit"
	for code in "$@"; do
		grep -q "[ (]$code " "$T/exit" || not_ok "$page: EXIT STATUS lacks $code"
	done
	ok "$page: EXIT STATUS checked"
done
finish
