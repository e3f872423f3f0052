#!/bin/sh
# tests/fuzz/run.sh - drive the libFuzzer harnesses built by `make fuzz-build`
# (build/fuzz/fuzz_NAME, sources tests/fuzz/fuzz_NAME.c, seeds
# tests/fuzz/corpus/NAME/, dictionary tests/fuzz/NAME.dict if any).
#
#   run.sh run NAME SECONDS   fuzz for SECONDS; new inputs go to
#                             build/fuzz/work/NAME, findings to
#                             build/fuzz/crashes/NAME-*; log build/fuzz/NAME.log
#   run.sh replay NAME        every seed once (-runs=0), then 2000 mutations
#                             from -seed=1 (deterministic, a few seconds)
#
# Exits 1 when the harness crashed, leaked, timed out or ran out of memory.
# The harness's own stderr (our error messages) is closed: sanitizer and
# libFuzzer reports still show.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
mode=$1 name=$2
bin=$TOP/build/fuzz/fuzz_$name
seeds=$TOP/tests/fuzz/corpus/$name
[ -x "$bin" ] || { echo "fuzz: $bin: not built (make fuzz-build)" >&2; exit 1; }
[ -d "$seeds" ] || { echo "fuzz: $seeds: no seed corpus" >&2; exit 1; }
export TOP
opts="-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -close_fd_mask=2 -print_final_stats=1"
# tests/fuzz/NAME.dict: tokens the mutations splice in (tags, headers, ...)
[ -f "$TOP/tests/fuzz/$name.dict" ] && opts="$opts -dict=$TOP/tests/fuzz/$name.dict"

# One line from a libFuzzer log: runs, runs/s, coverage.
summary() {
	awk -v name="$1" '
		/^stat::number_of_executed_units:/ { runs = $2 }
		/^stat::average_exec_per_sec:/ { rate = $2 }
		/(INITED|NEW|REDUCE|pulse|DONE|RELOAD)[ \t]+cov:/ {
			for (i = 1; i < NF; i++) {
				if ($i == "cov:") cov = $(i + 1)
				if ($i == "ft:") ft = $(i + 1)
				if ($i == "corp:") corp = $(i + 1)
			}
		}
		END { printf "fuzz %s: %s runs, %s/s, cov %s, ft %s, corpus %s\n",
		    name, runs, rate, cov, ft, corp }' "$2"
}

case $mode in
run)
	secs=${3:-60}
	work=$TOP/build/fuzz/work/$name
	mkdir -p "$work" "$TOP/build/fuzz/crashes"
	log=$TOP/build/fuzz/$name.log
	"$bin" $opts -max_total_time="$secs" \
	    -artifact_prefix="$TOP/build/fuzz/crashes/$name-" \
	    "$work" "$seeds" >"$log" 2>&1
	rc=$?
	summary "$name" "$log"
	if [ $rc -ne 0 ]; then
		echo "fuzz $name: FOUND SOMETHING (exit $rc), see $log:"
		grep -E "^==[0-9]+==ERROR|SUMMARY|^artifact_prefix|Test unit written" \
		    "$log" | sed 's/^/    /'
		exit 1
	fi
	;;
replay)
	tmp=$TOP/tests/tmp/fuzz/$name
	rm -rf "$tmp"; mkdir -p "$tmp/new"
	log=$tmp/log
	# -runs=0: the seeds only, each once
	if ! "$bin" $opts -runs=0 -artifact_prefix="$tmp/" "$seeds" \
	    >"$log" 2>&1; then
		cat "$log"
		echo "fuzz $name: a seed fails (log above)"
		exit 1
	fi
	summary "$name" "$log" | sed 's/^fuzz/replay/'
	# and a short deterministic walk from them (new inputs into $tmp/new)
	if ! "$bin" $opts -runs=2000 -seed=1 -artifact_prefix="$tmp/" \
	    "$tmp/new" "$seeds" >"$log" 2>&1; then
		cat "$log"
		echo "fuzz $name: 2000 runs from -seed=1 found something (log above)"
		exit 1
	fi
	summary "$name" "$log" | sed 's/^fuzz/mutate/'
	;;
*)
	echo "usage: run.sh run NAME SECONDS | replay NAME" >&2
	exit 64
	;;
esac
