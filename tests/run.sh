#!/bin/sh
# tests/run.sh [PATTERN] - run every test: the unit test binaries in $B/tests
# and the scripts tests/t_*.sh. A test passes with exit 0, is skipped with
# 77, fails otherwise. The last line is "N passed, N failed". A test run on
# PostgreSQL is named NAME@pg.
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case "$B" in /*) ;; *) B=$TOP/$B ;; esac
export TOP B
export PATH="$TOP:$PATH"
pattern=${1:-}
logdir=$TOP/tests/tmp/logs
rm -rf "$logdir"; mkdir -p "$logdir"
pass=0 fail=0 skip=0 failed=
# DB=sqlite or DB=postgresql: every test on that backend; unset: every test
# on SQLite, then the store, verifier and .eml case tests ($PG_TESTS) again
# on PostgreSQL (a private cluster, tests/pg-lib.sh; each test makes its own
# database there). A test about the SQLite file itself skips (77) on
# PostgreSQL (sqlite_only in tests/lib.sh).
DB=${DB:-}
PG_TESTS="tst_store t_pg t_pg_multi t_pg_restart t_cases t_verify_cli t_verify_http"
case "$DB" in ""|sqlite|postgresql) ;; *) echo "DB=$DB: sqlite or postgresql" >&2; exit 64 ;; esac
if [ "$DB" != sqlite ]; then
	. "$TOP/tests/pg-lib.sh"
	pg_start || { echo "cannot start PostgreSQL for the tests" >&2; exit 1; }
	trap pg_stop EXIT
	trap 'exit 1' INT TERM
fi
bg=; bgnames=
run() {
	name=$1; shift
	case "$name" in *"$pattern"*) ;; *) return ;; esac
	case " $bgnames " in *" $name "*) [ -n "${inlane:-}" ] || return ;; esac
	if [ "${TFADESK_DB:-}" = postgresql ]; then
		case " $PG_TESTS " in *" ${name%@pg} "*) ;; *) [ "$DB" = postgresql ] || return ;; esac
		TFADESK_TEST_PG=
		case "$name" in tst_store*) TFADESK_TEST_PG=$(pg_new_db) || return ;; esac
		export TFADESK_TEST_PG
	fi
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
		echo "FAIL $name (exit $rc, ${t}s); its failed checks, then the last lines of $logdir/$name.log:"
		grep -E '^NOT OK|: FAIL: ' "$logdir/$name.log" | head -n 10 | sed 's/^/    /'
		tail -n 15 "$logdir/$name.log" | sed 's/^/    /'
	fi
}
all() {
	for t in "$B"/tests/tst_*; do
		[ -x "$t" ] || continue
		case "$t" in *.o) continue ;; esac
		run "$(basename "$t")$1" "$t"
	done
	for t in "$TOP"/tests/t_*.sh; do
		[ -f "$t" ] || continue
		run "$(basename "$t" .sh)$1" sh "$t"
	done
}
# Tests that need no server and no port and mostly keep a core busy (the
# .eml case tests, the strict build, the fuzz replays, valgrind) run beside
# the rest in lanes of their own, one after another in a lane, at a lower
# priority (nice 10), while the server tests mostly wait; their lines come
# at the end. The lanes end
# first, so the port-free command tests (t_cli, t_import, t_queue,
# t_batch, t_db_copy: each in its own scratch folder and database) follow
# in them, taking that much off the server tests' chain.
lane() {    # DB NAME...: run the NAMEs (tests/t_NAME.sh; NAME@pg too)
	db=$1; shift
	names=
	for n in "$@"; do
		case "$n" in *"$pattern"*) [ -f "$TOP/tests/${n%@pg}.sh" ] &&
		    names="$names $n" ;; esac
	done
	[ -n "$names" ] || return 0
	id=${names# }; id=${id%% *}
	bgnames="$bgnames $names"
	lanes="$lanes $id"
	( trap - EXIT; inlane=1; export TFADESK_DB
	  for n in $names; do
		# NAME@pg on PostgreSQL, NAME on the lane's DB
		case "$n" in *@pg) TFADESK_DB=postgresql ;; *) TFADESK_DB=$db ;; esac
		run "$n" sh "$TOP/tests/${n%@pg}.sh"
	  done >"$logdir/.bg.$id.out"
	  echo "$pass $fail $skip$failed" >"$logdir/.bg.$id.counts" ) &
	bg="$bg $!"
	# below the server tests, whose chain bounds the run: they get the
	# cores first, the lanes take what is left (they end sooner anyway)
	renice -n 10 -p $! >/dev/null 2>&1 || :
}
lanes=
if [ "$DB" != postgresql ]; then
	lane sqlite t_cases t_cli t_import t_queue t_batch
	lane sqlite t_build t_fuzz t_valgrind t_db_copy
fi
# the PostgreSQL lane ends first: with both backends it also takes the
# last port-free tests on SQLite, off the server tests' chain
if [ -z "$DB" ]; then
	lane sqlite t_cases@pg t_ingest t_disk_full t_install t_docs t_maildir
elif [ "$DB" = postgresql ]; then
	lane postgresql t_cases@pg
fi
if [ "$DB" != postgresql ]; then
	TFADESK_DB=sqlite; export TFADESK_DB
	all ""
fi
if [ "$DB" != sqlite ]; then
	TFADESK_DB=postgresql; export TFADESK_DB
	all "@pg"
fi
[ -n "$bg" ] && wait $bg
for id in $lanes; do
	cat "$logdir/.bg.$id.out"
	if read -r p f k bgfailed <"$logdir/.bg.$id.counts"; then
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
		[ -n "$bgfailed" ] && failed="$failed $bgfailed"
	else
		fail=$((fail + 1)) failed="$failed $id"
	fi
done
[ $skip -gt 0 ] && echo "$skip skipped"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
