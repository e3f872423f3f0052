#!/bin/sh
# t_verify_cli.sh - tfadesk-verify start/check on the command line: every
# outcome, brute force, expiry, replay, cool-down, send limits, blocked
# countries, the key file, and what the database and audit log may hold.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
C="$T/tfadesk.yaml"
write_config "$C" "verifier:
  code_length: 8
  ttl_seconds: 300
  max_attempts: 5
  resend_after_seconds: 30
  max_sends_per_hour: 3
  max_sends_per_dest_per_hour: 4
  allowed_country_codes: [44, 353]
  key_file: $T/keys/verifier.key"
mkdir -p "$T/keys"
SMS=$T/sms
v() { tfadesk-verify -c "$C" "$@"; }
# outcome WANT DESCRIPTION ARGS...: the printed outcome (exit 0)
outcome() {
	want=$1 d=$2; shift 2
	got=$(v "$@" 2>"$T/err"); rc=$?
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then ok "$d"; else
		not_ok "$d: got '$got' (exit $rc), wanted '$want'"
		sed 's/^/    /' "$T/err" | head -5; fi
}
NOW=1800000000
at() { TFADESK_NOW=$1; export TFADESK_NOW; }
at $NOW

# usage, version, configuration
expect_exit 0 "--help" tfadesk-verify --help
contains "$T/out" "check USER_ID CODE" "--help lists the commands"
expect_exit 0 "--version" tfadesk-verify --version
contains "$T/out" "tfadesk-verify " "--version names the program"
expect_exit 64 "no command" tfadesk-verify -c "$C"
expect_exit 64 "unknown command" tfadesk-verify -c "$C" frobnicate
expect_exit 64 "start without a user" v start
expect_exit 64 "check without a code" v check U1
expect_exit 64 "--listen outside serve" v start U1 --listen 127.0.0.1:1
expect_exit 65 "a user ID with a space" v start "U 1"
expect_exit 65 "a user ID not UTF-8" v start "$(printf 'U\377\376')"
expect_exit 65 "a user ID with a bidi override" v start "$(printf 'U\342\200\256x')"
expect_exit 65 "a user ID with a C1 control" v check "$(printf 'U\302\233x')" 1
printf 'database: x\nverifier:\n  code_length: 99\n' > "$T/bad.yaml"
expect_exit 78 "bad config exits 78" tfadesk-verify -c "$T/bad.yaml" start U1
contains "$T/err" "code_length" "config error names the key"
expect_exit 0 "-n before any use" tfadesk-verify -c "$C" -n
check "-n creates no key file" test ! -e "$T/keys/verifier.key"
expect_exit 69 "no database yet" v start U1
check "fixture" verify_fixture "$C"
expect_exit 0 "-n checks the config" tfadesk-verify -c "$C" -n
contains "$T/out" "configuration OK" "-n says OK"

# the key file
check "key file created" test -f "$T/keys/verifier.key"
check "key file mode 0600" test "$(stat -c %a "$T/keys/verifier.key")" = 600
cp "$T/keys/verifier.key" "$T/key.saved"

# start: the outcomes that send nothing
outcome not_required "2FA off: not_required" start U5
expect_exit 0 "--json" v start U5 --json
contains "$T/out" '{"outcome": "not_required"}' "--json shape"
expect_exit 0 "--json before the command" v --json start U2
contains "$T/out" '"outcome": "no_mobile"' "no mobile: no_mobile"
contains "$T/out" '"message": "' "no_mobile carries the lockout message"
contains "$T/out" "reseller" "the message sends the user to the reseller"
contains "$T/out" "U2" "the message names the user account ID"
outcome no_mobile "no_mobile, plain" start U2
outcome unknown_user "unknown user" start U999
outcome unknown_user "a UTF-8 user ID is a user ID" start "$(printf 'U\303\251')"
expect_exit 0 "unknown user --json" v start U999 --json
contains "$T/out" '{"outcome": "unknown_user"}' "unknown_user has the same shape"
outcome blocked "German number: blocked" start U3
check "blocked sends nothing" test "$(sms_count "$SMS")" = 0

# sent, approved once, replay denied
outcome sent "start: sent" start U1
set -- $(take_sms "$SMS")
check "one SMS to the user's number" test "${1:-}" = 447400123456
code1=${2:-x}
check "the code has code_length digits" test ${#code1} = 8
codes=$code1
wrong=$(printf '%08d' $(( (1${code1} + 1) % 100000000 )))
outcome denied "wrong code: denied" check U1 "$wrong"
outcome denied "wrong length: denied" check U1 123
outcome denied "the code with a space: denied" check U1 " $code1"
outcome denied "the code in Arabic-Indic digits: denied" check U1 \
    "$(printf '%s' "$code1" | sed 's/0/٠/g;s/1/١/g;s/2/٢/g;s/3/٣/g;s/4/٤/g;s/5/٥/g;s/6/٦/g;s/7/٧/g;s/8/٨/g;s/9/٩/g')"
outcome denied "another user's check: denied" check U4 "$code1"
outcome approved "right code: approved" check U1 "$code1"
outcome denied "replay of a used code: denied" check U1 "$code1"
outcome denied "check without a start: denied" check U6 12345678
outcome denied "unknown user's check: denied" check U999 12345678

# cool-down, then a new start replaces the pending code
outcome rate_limited "start again at once: rate_limited" start U1
# rl WANT_REASON WANT_RETRY DESCRIPTION USER: the --json shape, exactly
rl() {
	want="{\"outcome\": \"rate_limited\", \"reason\": \"$1\", \"retry_after\": $2}"
	got=$(v start "$4" --json 2>"$T/err")
	if [ "$got" = "$want" ]; then ok "$3"; else
		not_ok "$3: got '$got', wanted '$want'"; fi
}
rl cooldown 30 "cool-down: reason and retry_after 30" U1
at $((NOW + 12)); rl cooldown 18 "12 s later: retry_after 18" U1
at $((NOW + 29)); rl cooldown 1 "29 s later: retry_after 1" U1
check "nothing sent in the cool-down" test "$(sms_count "$SMS")" = 0
at $((NOW + 30)); outcome sent "after the cool-down: sent" start U1
set -- $(take_sms "$SMS"); codeA=${2:-x}
at $((NOW + 62)); outcome sent "again: sent" start U1
set -- $(take_sms "$SMS"); codeB=${2:-x}
codes="$codes $codeA $codeB"
if [ "$codeA" != "$codeB" ]; then
	outcome denied "the replaced code: denied" check U1 "$codeA"
fi
outcome approved "the new code: approved" check U1 "$codeB"

# per-user limit (3 an hour: U1 has used them), per-number limit (4 an hour:
# U4 shares U1's number), both lifted an hour later
at $((NOW + 93)); outcome rate_limited "4th send to a user in an hour" start U1
# the first of the three (at NOW) leaves the hour at NOW + 3601
rl user_limit 3508 "user_limit: retry when the oldest send leaves the hour" U1
outcome sent "same number, other user: sent" start U4
take_sms "$SMS" >/dev/null
at $((NOW + 124)); outcome rate_limited "5th send to a number in an hour" start U4
rl destination_limit 3477 "destination_limit: retry_after from the number's oldest send" U4
# both the cool-down (U4 sent at +93) and the number's limit hold: the
# longer one is reported, so that a retry then is not refused again
at $((NOW + 100)); rl destination_limit 3501 "cool-down and number limit: the longer one" U4
at $((NOW + 3600)); rl user_limit 1 "one second before the oldest leaves: 1" U1
expect_exit 0 "rate_limited without --json: the word alone" v start U1
check "... is 'rate_limited'" test "$(cat "$T/out")" = rate_limited
at $((NOW + 3601)); outcome sent "exactly retry_after later: sent" start U1
set -- $(take_sms "$SMS"); codeC0=${2:-x}; codes="$codes $codeC0"
at $((NOW + 3700)); outcome sent "an hour later: sent" start U1
set -- $(take_sms "$SMS"); codeC=${2:-x}; codes="$codes $codeC"

# expiry (ttl 300 s)
at $((NOW + 4001)); outcome expired "after ttl_seconds: expired" check U1 "$codeC"
outcome expired "still expired" check U1 "$codeC"

# brute force: the 5th wrong code locks; then even the right code is refused
at $((NOW + 8000)); outcome sent "start for brute force" start U6
set -- $(take_sms "$SMS"); code6=${2:-x}; codes="$codes $code6"
check "Irish number allowed" test "${1:-}" = 353851234567
wrong=$(printf '%08d' $(( (1${code6} + 7) % 100000000 )))
for i in 1 2 3 4; do outcome denied "wrong code $i: denied" check U6 "$wrong"; done
outcome locked "wrong code 5: locked" check U6 "$wrong"
outcome locked "right code after the lock: locked" check U6 "$code6"
# a new start gives max_attempts again, but only max_sends_per_hour times an
# hour: at most 3 x 5 guesses an hour, however the resends are timed
at $((NOW + 8031)); outcome sent "resend after the lock: sent" start U6
set -- $(take_sms "$SMS"); code6=${2:-x}; codes="$codes $code6"
at $((NOW + 8062)); outcome sent "resend again: sent" start U6
set -- $(take_sms "$SMS"); code6=${2:-x}; codes="$codes $code6"
at $((NOW + 8093)); outcome rate_limited "4th send in the hour: rate_limited" start U6
wrong=$(printf '%08d' $(( (1${code6} + 7) % 100000000 )))
for i in 1 2 3 4; do outcome denied "guess $i of the last send" check U6 "$wrong"; done
outcome locked "guess 5 of the last send: locked" check U6 "$wrong"
at $((NOW + 8124)); outcome rate_limited "no new guesses this hour" start U6
outcome locked "still locked" check U6 "$code6"

# a number changed to a refused country: blocked, and the pending code dies
at $((NOW + 12000)); outcome sent "start for U4" start U4
set -- $(take_sms "$SMS"); code4=${2:-x}; codes="$codes $code4"
# staff force it (user edit refuses a number outside the allowed countries)
check "number changed" tfadesk -c "$C" user edit U4 --phone "+49 151 12345679" --force
outcome denied "code sent to the old number: denied" check U4 "$code4"
at $((NOW + 12100)); outcome blocked "new number outside the allow-list" start U4
check "blocked sends nothing" test "$(sms_count "$SMS")" = 0

# verifier.max_sms_per_hour caps all users together (SMS pumping spread
# over many user IDs): three users of another reseller, a cap of 2
cat > "$T/more.yaml" <<'YAML'
resellers:
  - id: R2
    name: Reseller Two
    twofa: true
    users:
      - {id: G1, name: Gee One, phone: "07400 300001"}
      - {id: G2, name: Gee Two, phone: "07400 300002"}
      - {id: G3, name: Gee Three, phone: "07400 300003"}
YAML
check "more users" tfadesk -c "$C" db import "$T/more.yaml"
sed 's/^verifier:$/verifier:\n  max_sms_per_hour: 2/' "$C" > "$T/global.yaml"
g() { tfadesk-verify -c "$T/global.yaml" "$@"; }
at $((NOW + 20000)); check "G1 under the global cap: sent" test "$(g start G1)" = sent
at $((NOW + 20010)); check "G2 under the global cap: sent" test "$(g start G2)" = sent
check "two SMS" test "$(sms_count "$SMS")" = 2
at $((NOW + 20020)); got=$(g start G3 --json)
check "G3 over the global cap: global_limit, retry when G1's send leaves the hour ($got)" \
    test "$got" = '{"outcome": "rate_limited", "reason": "global_limit", "retry_after": 3581}'
at $((NOW + 20030)); got=$(g start U1 --json)
check "U1 too ($got)" \
    test "$got" = '{"outcome": "rate_limited", "reason": "global_limit", "retry_after": 3571}'
check "no SMS beyond the cap" test "$(sms_count "$SMS")" = 2
at $((NOW + 23601)); check "retry_after later: sent" test "$(g start G3)" = sent
check "the third SMS" test "$(sms_count "$SMS")" = 3
for f in "$SMS"/new/*; do mv "$f" "$SMS/cur/"; done

# the SMS gateway down: temporary failure, exit 75, code not usable
cat > "$T/down.yaml" <<YAML
database: $DB_URI
templates: $TOP/templates
numbering: $TOP/rules/numbering.yaml
source: {type: maildir, path: $T/maildir}
security: {require_sender_auth: false}
sms:
  transport: http
  preset: custom
  method: POST
  url: http://127.0.0.1:9/send
  body: 'to={{to}}&text={{text}}'
  timeout: 2
verifier:
  code_length: 8
  resend_after_seconds: 0
  key_file: $T/keys/verifier.key
YAML
at $((NOW + 13000))
expect_exit 75 "gateway down: exit 75" tfadesk-verify -c "$T/down.yaml" start U6 --json
contains "$T/out" '"outcome": "error"' "gateway down: outcome error"
contains "$T/err" "try again later" "gateway down: says so on stderr"
st=$(dbq verifier "SELECT state || ',' || CASE WHEN code_hash IS NULL THEN 1 ELSE 0 END FROM challenges WHERE user_id = 'U6'")
check "failed send leaves no usable code ($st)" test "$st" = "failed,1"
outcome denied "check after a failed send: denied" check U6 12345678

# what the database holds: hashes only, never a code; masked numbers
DB=$T/var/tfadesk-verify.db
if [ "$ON_PG" = 1 ]; then
	# every row of the database, as text
	DB=$T/dump.sql
	"$PG_BIN/pg_dump" -d "$DB_URI" > "$DB"
else
	sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
fi
leak=
for c in $codes; do
	for f in "$DB" "$DB-wal"; do
		[ -f "$f" ] && grep -aq "$c" "$f" && leak="$leak $c"
	done
done
check "no code in the database file (codes:$codes)" test -z "$leak"
n=$(dbq verifier "SELECT count(*) FROM challenges WHERE code_hash IS NOT NULL AND length(code_hash) <> 32")
check "code hashes are 32 bytes" test "$n" = 0
# the verifier's own rows stay masked (account changes keep numbers whole)
tfadesk -c "$C" audit --actor verifier --json > "$T/audit.json"
for a in verify.sent verify.approved verify.denied verify.locked \
    verify.expired verify.blocked verify.rate_limited verify.no_mobile \
    verify.unknown_user verify.send_failed; do
	contains "$T/audit.json" "\"$a\"" "audit has $a"
done
contains "$T/audit.json" '"actor":"verifier"' "audit actor is verifier"
contains "$T/audit.json" "4474******56" "audit shows the masked number"
lacks "$T/audit.json" "447400123456" "audit never shows the full number"
lacks "$T/audit.json" "491511234567" "audit never shows the blocked number"
for c in $codes; do lacks "$T/audit.json" "$c" "audit never shows a code"; done

# the key file is kept, and refused when others can read it
check "key file unchanged" cmp -s "$T/keys/verifier.key" "$T/key.saved"
chmod 644 "$T/keys/verifier.key"
expect_exit 77 "a world-readable key file is refused (77)" v start U1
contains "$T/err" "tfadesk-verify: $T/keys/verifier.key: readable by group or others (mode 0644): run chmod 600 $T/keys/verifier.key" \
    "the refusal names the file and the chmod to run"
expect_exit 77 "... and -n refuses it too" tfadesk-verify -c "$C" -n
chmod 620 "$T/keys/verifier.key"
expect_exit 77 "a group-writable key file is refused (77)" v start U1
contains "$T/err" "writable by group or others (mode 0620)" "... and says so"
chmod 600 "$T/keys/verifier.key"
# a symlink in its place (to a key an attacker chose) is refused, not
# followed, and the target is left as it is
mv "$T/keys/verifier.key" "$T/keys/real.key"
ln -s "$T/keys/real.key" "$T/keys/verifier.key"
expect_exit 78 "a symlinked key file is refused" v start U1
check "... and left a symlink" test -L "$T/keys/verifier.key"
rm "$T/keys/verifier.key"; mv "$T/keys/real.key" "$T/keys/verifier.key"
outcome not_required "the key file back: usable again" start U5

# the portal's view (README: what the portal may read): users with their
# account and 2FA, a number on file or not, never the number
got=$(dbq main "SELECT user_id, account_id, account_kind, reseller_id, twofa, has_mobile FROM tfadesk_portal_v1 WHERE user_id IN ('U1', 'U2', 'U5') ORDER BY user_id")
check "portal view: U1 R1 on with a mobile, U2 without, U5 under C1 off ($(echo $got))" \
    test "$(echo $got)" = "U1|R1|reseller|R1|1|1 U2|R1|reseller|R1|1|0 U5|C1|end_client|R1|0|1"
cols=$(dbq main "SELECT * FROM tfadesk_portal_v1 WHERE user_id = 'U1'")
case "$cols" in *447400123456*|*7400123456*) not_ok "portal view shows no number" ;; *) ok "portal view shows no number" ;; esac

finish
