#!/bin/sh
# t_fuzz.sh - the libFuzzer harnesses (tests/fuzz/fuzz_*.c) build with clang
# (ASan + UBSan + the fuzzer's coverage), and each one replays its seed
# corpus tests/fuzz/corpus/NAME/ (every seed once, then 2000 mutations from
# -seed=1) without a crash, leak, timeout or sanitizer report. The seeds
# include every input the fuzzers found a fault with. `make deps` installs
# clang and libclang-rt-14-dev: without them this test fails, it does not
# skip. The time-boxed fuzzing is `make fuzz`.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL
if ! command -v clang >/dev/null || ! command -v clang++ >/dev/null; then
	echo "clang is not installed (make deps installs clang and libclang-rt-14-dev)"
	exit 1
fi
if ! make -C "$TOP" -j2 fuzz-build >"$T/build" 2>&1; then
	tail -n 30 "$T/build"
	echo "the fuzz harnesses do not build (libclang-rt-14-dev installed?)"
	exit 1
fi
ok "make fuzz-build"
names=
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
	n=$(basename "$src" .c); n=${n#fuzz_}
	names="$names $n"
done
for want in mime html authres rules phone tmpl config_yaml import_yaml verify_json; do
	case " $names " in *" $want "*) ok "harness $want" ;;
	*) not_ok "harness $want missing" ;; esac
done
for n in $names; do
	bin=$TOP/build/fuzz/fuzz_$n
	# instrumented for real: ASan, UBSan and the fuzzer's coverage counters
	if nm "$bin" | grep -q __asan_init && nm "$bin" | grep -q __ubsan_handle &&
	    nm "$bin" | grep -q __sancov; then
		ok "$n: sanitizers and coverage linked in"
	else
		not_ok "$n: not instrumented"
	fi
	start=$(date +%s)
	if sh "$TOP/tests/fuzz/run.sh" replay "$n" >"$T/replay" 2>&1; then
		ok "$n: $(tr '\n' ';' <"$T/replay") $(( $(date +%s) - start ))s"
	else
		not_ok "$n: replay"
		tail -n 40 "$T/replay" | sed 's/^/    /'
	fi
done
finish
