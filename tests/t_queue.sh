#!/bin/sh
# t_queue.sh - the staff queue from the command line: queue list filters
# (--state --kind --account --since --search --limit) and their order, the
# users refused in a ticket (queue list --json "refused", the table's
# marker), queue show as tables (masked numbers, no JSON blobs), queue show
# --raw (byte for byte when piped, refused on a terminal), queue assign,
# and batch --dry-run's line a ticket with the decoded subject.
. "$(dirname "$0")/lib.sh"
C=$T/tfadesk.yaml
CASES=$TOP/tests/cases
write_config "$C"
tf() { tfadesk -c "$C" "$@"; }
ids() { python3 -c 'import json,sys; print(" ".join(str(t["id"]) for t in json.load(sys.stdin)))'; }
is_eq() { if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$2', wanted '$1')"; fi; }

expect_exit 0 "db init" tf db init
expect_exit 0 "db import" tf db import "$TOP/samples/accounts.yaml"

# 1 (2023-11-14): four users, two refused; 2, 3 (2027-01-15): a 2FA set-up
# with an encoded subject, a number overwrite held for staff; 4 (later):
# another overwrite held
TFADESK_NOW=1700000000 tf ingest "$CASES/07-multi-mixed.eml" >/dev/null
TFADESK_NOW=1800000000 tf ingest "$CASES/04-twofa-encoded-subject.eml" \
    "$CASES/11-overwrite.eml" >/dev/null
sed 's/^Message-ID: .*/Message-ID: <queue-second-overwrite@acme.example>/; s/^Subject: .*/Subject: Another mobile 100%_done/' \
    "$CASES/11-overwrite.eml" > "$T/second.eml"
TFADESK_NOW=1800000100 tf ingest "$T/second.eml" >/dev/null
expect_exit 0 "process" tf process

# filters and order
is_eq "4 3 2 1" "$(tf queue list --json | ids)" "every ticket, newest first"
is_eq "3 4" "$(tf queue list --state needs_review --json | ids)" "needs_review: oldest first"
is_eq "2" "$(tf queue list --kind twofa_setup --json | ids)" "--kind"
is_eq "4 3 1" "$(tf queue list --account R100 --json | ids)" "--account"
is_eq "" "$(tf queue list --account R999 --json | ids)" "--account: none"
is_eq "4 3 2" "$(tf queue list --since 2027-01-01 --json | ids)" "--since a date"
is_eq "4 3 2" "$(tf queue list --since 2027-01-15T08:00:00Z --json | ids)" "--since a UTC time"
is_eq "4" "$(TFADESK_NOW=1800000200 tf queue list --since 3m --json | ids)" "--since an age"
is_eq "1" "$(tf queue list --search 'MISSING mobile' --json | ids)" "--search the subject, any case"
is_eq "2" "$(tf queue list --search 'BLUESKY.example' --json | ids)" "--search the sender"
is_eq "4 3" "$(tf queue list --search 'alice brown' --json | ids)" "--search the extracted fields"
is_eq "4" "$(tf queue list --search '100%_' --json | ids)" "--search: % and _ match themselves"
is_eq "" "$(tf queue list --search '%' --state applied --json | ids)" "--search '%' is no wildcard"
is_eq "" "$(tf queue list --search "x' OR 1=1 --" --json | ids)" "--search is a bound value"
is_eq "4 3" "$(tf queue list --limit 2 --json | ids)" "--limit"
# text from the command line is strict UTF-8 (utf8_valid): an overlong '/'
# or an encoded surrogate is no text
expect_exit 64 "--search: an overlong sequence refused" \
    tf queue list --search "$(printf 'a\340\200\257b')" --json
expect_exit 64 "--account: a surrogate refused" \
    tf queue list --account "$(printf 'R\355\240\200')" --json
expect_exit 0 "--search: a 4-byte character is text" \
    tf queue list --search "$(printf '\360\237\230\200')" --json
is_eq "3" "$(tf queue list --state needs_review --account R100 --limit 1 --json | ids)" "filters combine"
expect_exit 0 "no match" tf queue list --kind nothing_like_it
contains "$T/out" "No tickets matching the filters." "an empty result says so"
expect_exit 64 "bad --since" tf queue list --since yesterday
expect_exit 64 "bad --since date" tf queue list --since 2026-13-01
expect_exit 64 "bad --limit" tf queue list --limit 0
expect_exit 64 "bad --state" tf queue list --state nope
expect_exit 64 "--search with a control" tf queue list --search "$(printf 'a\033b')"
expect_exit 64 "--to is no option of list" tf queue list --to eve
# the same --since parser as audit
expect_exit 0 "audit --since an age" tf audit --since 7d
expect_exit 64 "audit --since bad" tf audit --since 2026-13-01

# some users refused: counted, and marked in the table
tf queue list --json > "$T/l.json"
refused=$(python3 -c 'import json,sys; print({t["id"]: t["refused"] for t in json.load(open(sys.argv[1]))})' "$T/l.json")
is_eq "{4: 0, 3: 0, 2: 0, 1: 2}" "$refused" "queue list --json: refused per ticket"
contains "$T/l.json" '"assigned":null,"received":"2023-11-14T22:13:20Z"' "assigned and received in the JSON"
expect_exit 0 "queue list" tf queue list
contains "$T/out" "applied (2 refused)" "the table marks the refused users"

# queue show: tables, masked numbers, no JSON blobs
expect_exit 0 "queue show" tf queue show 1
contains "$T/out" "Refused:   2 users" "show says how many were refused"
contains "$T/out" "Per-user results:" "per-user results"
grep -q '^  U1002 .*REFUSED .*number_refused .*landline' "$T/out" && ok "a refused user's row" || not_ok "a refused user's row"
grep -q '^  U2001 .*applied .*(none) -> 4474\*\*\*\*\*\*56' "$T/out" && ok "an applied user's row, masked" || not_ok "an applied user's row, masked"
grep -q '^  U2003 .*Zoe Nunez .*0740\*\*\*\*\*22 .*labels' "$T/out" && ok "extracted fields as a table" || not_ok "extracted fields as a table"
contains "$T/out" "Rule:      numbers-in-body" "the rule that read it"
lacks "$T/out" '{"' "no JSON blob in queue show"
lacks "$T/out" "447400123456" "no whole number in queue show"

# --raw: byte for byte into a pipe or file; never onto a terminal
tf queue show 1 --raw > "$T/raw1.eml"
check "--raw is the ingested file byte for byte" cmp -s "$T/raw1.eml" "$CASES/07-multi-mixed.eml"
tf queue show 1 --raw | cat > "$T/raw2.eml"
check "--raw through a pipe" cmp -s "$T/raw2.eml" "$CASES/07-multi-mixed.eml"
if command -v script >/dev/null; then
	script -qec "tfadesk -c '$C' queue show 1 --raw" /dev/null > "$T/tty.out" 2>&1
	is_eq 64 "$?" "--raw on a terminal exits 64"
	contains "$T/tty.out" "redirect it to a file" "and says to redirect"
	lacks "$T/tty.out" "Hi team" "and writes none of the message"
else
	echo "# script(1) not installed: --raw on a terminal not checked"
fi
expect_exit 64 "--raw and --json" tf queue show 1 --raw --json
expect_exit 65 "--raw of no ticket" tf queue show 99 --raw

# assign
expect_exit 0 "queue assign" tf queue assign 3 --to alice --by bob
contains "$T/out" "ticket 3: assigned to alice" "assign says so"
expect_exit 0 "queue assign without --by" env USER=tester SUDO_USER= tfadesk -c "$C" queue assign 4 --to carol
tf audit --json > "$T/a.json"
contains "$T/a.json" '"actor":"staff:bob","action":"ticket.assign","account":"R100","user":null,"old":null,"new":"alice","ticket":3' "assign audited as staff:bob"
contains "$T/a.json" '"actor":"admin:tester","action":"ticket.assign"' "without --by: admin:\$USER"
tf queue list --json > "$T/l.json"
contains "$T/l.json" '"id":3,"state":"needs_review"' "still needs_review"
contains "$T/l.json" '"assigned":"alice"' "assigned in queue list --json"
expect_exit 0 "queue list" tf queue list --state needs_review
grep -q '^3 .*needs_review.* alice$' "$T/out" && ok "assigned in the table" || not_ok "assigned in the table"
expect_exit 0 "queue show" tf queue show 3
contains "$T/out" "Assigned:  alice" "assigned in queue show"
grep -q 'staff:bob  *ticket\.assign  *-> alice$' "$T/out" && ok "the assignment is in the history" || not_ok "the assignment is in the history"
expect_exit 0 "reassign" tf queue assign 3 --to dave --by bob
expect_exit 0 "unassign" tf queue assign 3 --to none --by bob
tf queue list --json > "$T/l.json"
python3 -c 'import json,sys; t=[t for t in json.load(open(sys.argv[1])) if t["id"]==3][0]; sys.exit(t["assigned"] is not None)' "$T/l.json" && ok "--to none: nobody" || not_ok "--to none: nobody"
expect_exit 64 "assign needs --to" tf queue assign 3 --by bob
expect_exit 64 "--to with a control" tf queue assign 3 --to "$(printf 'a\033b')"
expect_exit 65 "assign no ticket" tf queue assign 99 --to alice

# batch --dry-run: a line a ticket, the subject decoded and escaped
sed 's/^Message-ID: .*/Message-ID: <dry-run-04@bluesky.example>/' "$CASES/04-twofa-encoded-subject.eml" > "$T/maildir/new/1.eml"
printf 'From: noc@acme.example\r\nTo: support@500.uk.com\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <esc-subject@acme.example>\r\nDate: Mon, 23 Nov 2026 09:12:40 +0000\r\n\r\nhello\r\n' \
    "$(printf 'Caf\303\251 \033[2J cleared' | base64 -w0)" > "$T/maildir/new/2.eml"
sed 's/^Message-ID: .*/Message-ID: <dry-run-07@acme.example>/' "$CASES/07-multi-mixed.eml" > "$T/maildir/new/3.eml"
expect_exit 0 "batch --dry-run" tf batch --dry-run
grep -q '^ticket [0-9]*: applied, twofa_setup: RE: 2FA Set Up$' "$T/out" && ok "dry run: the encoded subject decoded" || { not_ok "dry run: the encoded subject decoded"; cat "$T/out"; }
grep -q '^ticket [0-9]*: applied (2 refused), missing_number: Missing mobile numbers$' "$T/out" && ok "dry run: users refused marked" || not_ok "dry run: users refused marked"
grep -q "^ticket [0-9]*: [a-z_]*, [a-z_-]*: Café .*2J cleared$" "$T/out" && ok "dry run: a line for the third" || not_ok "dry run: a line for the third"
if LC_ALL=C grep -q "$(printf '\033')" "$T/out"; then not_ok "dry run: an escape reached the terminal"; else ok "dry run: no escape character"; fi
contains "$T/out" "dry run (nothing changed)" "the summary line stays"
is_eq "4 3 2 1" "$(tf queue list --json | ids)" "the dry run stored nothing"

# the one JSON writer: U+2028 and U+2029 in a subject go out as \u2028 and
# \u2029 (raw, they end a line in JavaScript), as do bidi controls
sed 's/^Message-ID: .*/Message-ID: <queue-u2028@acme.example>/; s/^Subject: .*/Subject: =?UTF-8?B?TGluZeKAqHNlcOKAqXBhcmE=?=/' \
    "$CASES/11-overwrite.eml" > "$T/u2028.eml"
TFADESK_NOW=1800000300 tf ingest "$T/u2028.eml" >/dev/null
tf process >/dev/null 2>&1
tf queue list --json > "$T/u2028.json"
contains "$T/u2028.json" '"subject":"Line\u2028sep\u2029para"' "queue list --json: U+2028/U+2029 escaped"
if LC_ALL=C grep -q "$(printf '\342\200\250')" "$T/u2028.json"; then not_ok "a raw U+2028 in JSON"; else ok "no raw U+2028 in JSON"; fi
finish
