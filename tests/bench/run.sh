#!/bin/sh
# tests/bench/run.sh - `make bench`: every benchmark in tests/bench/*.sh.
# Each prints its own figures; none of them fails the build on a slow run.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP PATH="$TOP:$PATH"
for b in "$TOP"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b" .sh)"
	sh "$b" || echo "$(basename "$b"): exit $?"
done
