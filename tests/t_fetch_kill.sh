#!/bin/sh
# t_fetch_kill.sh - kill -9 `tfadesk fetch` at many instants against a real
# Dovecot holding ~200 messages (after: move:Processed, small batches so the
# kills land between store commits and server moves), then one clean fetch:
# every message is a ticket exactly once and has left INBOX for Processed.
# Then the same with after: seen and a few dozen more messages.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/servers/intake-lib.sh"
dovecot_start
C=$T/c.yaml
tf() { tfadesk -c "$C" "$@"; }
RUNS=${KILL_RUNS:-30}
rnd() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 )); }

source_config "$C" imap "$IMAP_PORT" none move:Processed 127.0.0.1 "  batch: 5"
expect_exit 0 "db init" tf db init
n=0
deliver() { for _ in $(seq 1 "$1"); do n=$((n + 1)); mkmsg $n | drop "$(printf 'm%05d' $n)"; done; }
deliver 200
# a few without Message-ID (keyed by the hash of their bytes)
for k in 1 2 3 4 5; do n=$((n + 1)); mkmsg $n "no id $k" - | drop "$(printf 'm%05d' $n)"; done

start=$(date +%s%N)
kills=0
partial=0
for r in $(seq 1 "$RUNS"); do
	deliver 3        # new work for every run
	tfadesk -c "$C" fetch >/dev/null 2>>"$T/kill.log" &
	pid=$!
	# 0-40 ms: connect, SELECT, a batch or a few
	sleep "0.0$(printf '%02d' "$(rnd 40)")"
	kill -9 $pid 2>/dev/null && kills=$((kills + 1))
	wait $pid 2>/dev/null
	[ "$(tickets)" -lt "$n" ] && partial=$((partial + 1))
done
ok "$kills of $RUNS runs killed with -9, $partial left work undone ($(( ($(date +%s%N) - start) / 1000000 )) ms); tickets so far: $(tickets) of $n"
expect_exit 0 "clean fetch after the kills" tf fetch
expect_exit 0 "and once more" tf fetch
is_eq "$n" "$(tickets)" "tickets == messages ($n)"
is_eq 0 "$(dups)" "no duplicates"
is_eq 0 "$(nfiles "$MB")" "INBOX empty"
is_eq "$n" "$(nfiles "$MB/.Processed")" "every message in Processed once"
is_eq "$n" "$(sql "SELECT count(DISTINCT ticket_id) FROM ticket_sources")" "every ticket has its source key"
sql "PRAGMA integrity_check" > "$T/ic"
contains "$T/ic" "ok" "database consistent"

# after: seen
source_config "$C" imap "$IMAP_PORT" none seen 127.0.0.1 "  batch: 3"
m0=$n
deliver 60
for r in $(seq 1 "$RUNS"); do
	tfadesk -c "$C" fetch >/dev/null 2>>"$T/kill.log" &
	pid=$!
	sleep "0.0$(printf '%02d' "$(rnd 40)")"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
done
expect_exit 0 "clean fetch (seen)" tf fetch
is_eq "$n" "$(tickets)" "tickets == messages ($n)"
is_eq 0 "$(dups)" "no duplicates"
is_eq $((n - m0)) "$(nseen "$MB")" "every message flagged \\Seen"
is_eq $((n - m0)) "$(nfiles "$MB")" "and still in INBOX"
finish
