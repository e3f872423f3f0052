#!/bin/sh
# t_build.sh - the Makefile. A plain `make` where a package is missing stops
# before compiling anything, with one line that names what is missing and
# `make deps`; the goals that install first (deps, demo, check) do not stop.
# Every source file and unit test is listed by name (no wildcards), so a file
# left out of the lists is a failure here. DEBUG=1 (fdm's stricter warnings
# with -Werror, in build/debug) builds the whole tree and the unit tests.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL

# a pkg-config that says libetpan and libmicrohttpd are not installed
mkdir -p "$T/bin"
cat > "$T/bin/pkg-config" <<'PC'
#!/bin/sh
for a; do case $a in libetpan|libmicrohttpd) exit 1 ;; esac; done
exec pkg-config "$@"
PC
chmod 755 "$T/bin/pkg-config"

expect_exit 2 "make with two packages missing stops" \
    make -C "$TOP" --no-print-directory PKG_CONFIG="$T/bin/pkg-config" all
{ cat "$T/out"; cat "$T/err"; } > "$T/all"
n=$(wc -l < "$T/all")
[ "$n" -eq 1 ] && ok "one line" || { not_ok "one line (got $n)"; sed 's/^/    /' "$T/all" | head; }
contains "$T/all" "missing packages (pkg-config): libetpan libmicrohttpd:" "it names what is missing"
contains "$T/all" "make deps" "it says make deps"
grep -q "jansson\|sqlite3" "$T/all" && not_ok "it names only what is missing" || ok "it names only what is missing"
grep -q -- "-c -o" "$T/all" && not_ok "nothing compiled" || ok "nothing compiled"

expect_exit 2 "make without pkg-config stops" \
    make -C "$TOP" --no-print-directory PKG_CONFIG="$T/bin/no-such-pkg-config" all
{ cat "$T/out"; cat "$T/err"; } > "$T/all"
n=$(wc -l < "$T/all")
[ "$n" -eq 1 ] && ok "one line" || not_ok "one line (got $n)"
contains "$T/all" "no-such-pkg-config not found: run \`make deps\`" "it names pkg-config and make deps"

# deps installs what is missing before the build checks: not stopped here
expect_exit 0 "make -n deps is not stopped" \
    make -C "$TOP" --no-print-directory -n PKG_CONFIG="$T/bin/pkg-config" deps
contains "$T/out" "mk/deps.sh" "make deps runs mk/deps.sh"

# every source and unit test by name, one a line
grep -n 'wildcard src\|wildcard tests/unit' "$TOP/Makefile" > "$T/wild" &&
	not_ok "no wildcard lists sources: $(cat "$T/wild")" || ok "no wildcard lists sources"
unlisted=
for f in "$TOP"/src/*/*.c "$TOP"/src/*/*.cc; do
	f=${f#"$TOP"/}
	case "$f" in */main.c) continue ;; esac
	grep -qE "^	$f( \\\\)?$" "$TOP/Makefile" || unlisted="$unlisted $f"
done
[ -z "$unlisted" ] && ok "every source file is listed" ||
	not_ok "not in the Makefile's lists:$unlisted"
unlisted=
for f in "$TOP"/tests/unit/tst_*.c; do
	t=$(basename "$f" .c)
	grep -qE "^	$t( \\\\)?$" "$TOP/Makefile" &&
	    grep -q "^${t}_SRCS = " "$TOP/Makefile" || unlisted="$unlisted $t"
done
[ -z "$unlisted" ] && ok "every unit test is listed with its modules" ||
	not_ok "not in UNIT_TESTS, or no tst_NAME_SRCS:$unlisted"

# DEBUG=1: the strict warnings are errors, and the tree builds clean
expect_exit 0 "make DEBUG=1 check-build (fdm's warnings, -Werror)" \
    make -C "$TOP" --no-print-directory -j2 DEBUG=1 check-build
grep -E "warning:|error:" "$T/err" | head -5 | sed 's/^/    /'
finish
