#!/bin/sh
# tests/run.sh [PATTERN] - run every test: the unit test binaries in $B/tests
# and the scripts tests/t_*.sh. A test passes with exit 0, is skipped with
# 77, fails otherwise. The last line is "N passed, N failed".
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
export TOP B
export PATH="$TOP:$PATH"
pattern=${1:-}
logdir=$TOP/tests/tmp/logs
rm -rf "$logdir"; mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed=
run() {
	name=$1; shift
	case "$name" in *"$pattern"*) ;; *) return ;; esac
	start=$(date +%s)
	( cd "$TOP" && "$@" ) >"$logdir/$name.log" 2>&1
	rc=$?
	t=$(( $(date +%s) - start ))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "PASS $name (${t}s)"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$logdir/$name.log")"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "FAIL $name (exit $rc, ${t}s); last lines of $logdir/$name.log:"
		tail -n 15 "$logdir/$name.log" | sed 's/^/    /'
	fi
}
for t in "$B"/tests/tst_*; do
	[ -x "$t" ] || continue
	case "$t" in *.o) continue ;; esac
	run "$(basename "$t")" "$t"
done
for t in "$TOP"/tests/t_*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" sh "$t"
done
[ $skip -gt 0 ] && echo "$skip skipped"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
