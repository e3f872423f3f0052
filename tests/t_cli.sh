#!/bin/sh
# t_cli.sh - the admin commands against a temporary database.
. "$(dirname "$0")/lib.sh"
C="$T/tfadesk.yaml"
write_config "$C"
tf() { tfadesk -c "$C" "$@"; }

expect_exit 0 "--help" tfadesk --help
contains "$T/out" "queue approve" "--help lists the commands"
expect_exit 0 "--version" tfadesk --version
expect_exit 64 "unknown command" tfadesk -c "$C" frobnicate
for c in db account user perm audit fetch ingest process send batch queue; do
	expect_exit 0 "$c --help" tfadesk "$c" --help
	contains "$T/out" "usage: tfadesk $c" "$c --help shows its usage"
done
expect_exit 69 "no database yet" tf account list
expect_exit 0 "-n checks the config" tfadesk -c "$C" -n
contains "$T/out" "configuration OK" "-n says OK"
printf 'database: x\nbogus: 1\n' > "$T/bad.yaml"
expect_exit 78 "bad config exits 78" tfadesk -c "$T/bad.yaml" account list
contains "$T/err" "bad.yaml:2: bogus: unknown key" "config error names file, line, key"

expect_exit 0 "db init" tf db init
expect_exit 0 "db init again" tf db init
expect_exit 0 "db import" tf db import "$TOP/samples/accounts.yaml"
expect_exit 0 "db import again" tf db import "$TOP/samples/accounts.yaml"
contains "$T/out" "changed 0, 0, 0" "importing twice changes nothing"

tf account show R100 --json > "$T/r100.json"
contains "$T/r100.json" '"id":"R100","kind":"reseller","reseller":null,"name":"Acme Telecom","twofa":false' "account show --json shape"
contains "$T/r100.json" '{"id":"U1001","name":"Jane Smith","phone":"447890123456"}' "phone stored as E.164 digits"
contains "$T/r100.json" '{"id":"U1002","name":"Raj Patel","phone":null}' "no phone is null"
tf account show C200 --json > "$T/c200.json"
contains "$T/c200.json" '"kind":"end_client","reseller":"R100"' "end client shape"
contains "$T/c200.json" '"twofa":true' "end client twofa is use_2fa"
expect_exit 0 "account list" tf account list
contains "$T/out" "R100  reseller" "account list is a table"
expect_exit 0 "--json after the argument" tf account show --json C200
expect_exit 65 "unknown account" tf account show NOPE

# user edit: as people type numbers
expect_exit 0 "user edit" tf user edit U1002 --phone "+44 (0)7400 234 999"
tf account show R100 --json > "$T/r.json"
contains "$T/r.json" '"phone":"447400234999"' "normalised to E.164"
expect_exit 65 "landline refused" tf user edit U1002 --phone "020 7946 0123"
contains "$T/err" "landline" "landline named"
expect_exit 65 "invalid refused" tf user edit U1002 --phone "07700 900123"
expect_exit 65 "garbage refused" tf user edit U1002 --phone "'; DROP TABLE users; --"
tf account show R100 --json > "$T/r.json"
contains "$T/r.json" '"phone":"447400234999"' "refused edits changed nothing"
expect_exit 64 "user edit needs --phone" tf user edit U1002
expect_exit 65 "unknown user" tf user edit U9999 --phone 07400123456

# perm
expect_exit 0 "perm revoke" tf perm revoke C200 use_2fa
tf account show C200 --json > "$T/c.json"
contains "$T/c.json" '"twofa":false' "use_2fa revoked"
expect_exit 65 "use_2fa refused while users lack mobiles" tf perm grant C200 use_2fa
contains "$T/err" "user U2001 (Bob Jones) has no mobile number" "names who would be locked out"
contains "$T/err" "user U2003 (Zoë Núñez) has no mobile number" "names every one"
tf account show C200 --json > "$T/c.json"
contains "$T/c.json" '"twofa":false' "use_2fa not granted"
expect_exit 0 "perm grant --force" tf perm grant C200 use_2fa --force
tf account show C200 --json > "$T/c.json"
contains "$T/c.json" '"twofa":true' "use_2fa granted"
tf audit --action account.use_2fa --limit 1 --json > "$T/a.json"
contains "$T/a.json" '"note":"forced: locks out U2001 (Bob Jones), U2003 (Zoë Núñez)"' "the audit row says forced"
expect_exit 0 "reseller 2FA when all have mobiles" tf perm grant R100 use_2fa
expect_exit 65 "clearing a number under 2FA is refused" tf user edit U1002 --phone none
contains "$T/err" "user U1002 (Raj Patel): account R100 has 2FA on: the user would be locked out" "names the user"
expect_exit 65 "a number outside allowed_country_codes is refused" tf user edit U1002 --phone "+49 151 12345679"
contains "$T/err" "user U1002 (Raj Patel): 4915*******79 is outside verifier.allowed_country_codes" "names the user, number masked"
tf account show R100 --json > "$T/r.json"
contains "$T/r.json" '"phone":"447400234999"' "refused lock-outs changed nothing"
expect_exit 0 "user show" tf user show U1002
contains "$T/out" "Mobile:    4474******99" "user show masks the number"
contains "$T/out" "2FA:       on (2FA of R100)" "user show: the 2FA that applies"
expect_exit 0 "user show --json" tf user show U1002 --json
contains "$T/out" '{"id":"U1002","account":"R100","reseller":"R100","name":"Raj Patel","phone":"447400234999","twofa":true' "user show --json: whole number"
expect_exit 65 "user show: unknown user" tf user show U9999
expect_exit 0 "clear a number --force" tf user edit U1002 --phone none --force
contains "$T/out" "phone (none) (was 4474******99)" "plain output masks the old number"
tf user edit U4001 --phone none >/dev/null
expect_exit 65 "reseller 2FA refused when users lack mobiles" tf perm grant R300 use_2fa
contains "$T/err" "user U4001 (Priya Shah) has no mobile number" "names who lacks a mobile"
expect_exit 64 "unknown permission" tf perm grant C200 use_3fa

# audit
expect_exit 0 "audit --json" tf audit --user U1002 --json
contains "$T/out" '"action":"user.phone"' "phone change audited"
contains "$T/out" '"action":"user.phone","account":"R100","user":"U1002","old":null,"new":"447400234999"' "audit --json keeps the number whole"
contains "$T/out" '"old":"447400234999","new":null,"note":"forced: locks out U1002 (Raj Patel): account R100 has 2FA on"' "a forced clear: whole, and says forced"
expect_exit 0 "audit plain" tf audit --user U1002
contains "$T/out" "4474******99" "plain audit masks the number"
lacks "$T/out" "447400234999" "no whole number in plain output"
contains "$T/out" "forced: locks out U1002" "plain audit shows the note"
expect_exit 0 "audit --actor prefix" tf audit --actor 'import:*' --json
contains "$T/out" '"actor":"import:accounts.yaml"' "import rows by their actor"
lacks "$T/out" '"actor":"admin:' "only import rows"
expect_exit 0 "audit --since the future" tf audit --since 2999-01-01 --json
contains "$T/out" "[]" "nothing since then"
expect_exit 0 "audit --since an age" tf audit --since 1d --action user.phone --json
contains "$T/out" '"user.phone"' "recent rows"
expect_exit 64 "audit --since junk" tf audit --since yesterday
expect_exit 64 "audit --limit junk" tf audit --limit 0
expect_exit 0 "audit --account" tf audit --account R100
contains "$T/out" "account.use_2fa" "audit by reseller includes end clients"
expect_exit 64 "option of another command" tf audit --phone 1

# import: a bad file changes nothing and names the line
before=$(tf account list --json)
bad() {
	printf '%s\n' "$2" > "$T/bad.yaml"
	expect_exit 65 "import refuses $1" tf db import "$T/bad.yaml"
	contains "$T/err" "$3" "import names the problem: $1"
	[ "$(tf account list --json)" = "$before" ] && ok "$1: nothing changed" || not_ok "$1: data changed"
}
bad "broken YAML" 'resellers:
  - id: R900
    name: [unclosed' "bad.yaml:4: YAML error"
bad "duplicate IDs" 'resellers:
  - {id: R901, name: One}
  - {id: R901, name: Two}' "bad.yaml:3: account R901: duplicate ID (first on line 2)"
bad "duplicate user" 'resellers:
  - id: R902
    name: X
    users:
      - {id: U9, name: A}
      - {id: U9, name: B}' "bad.yaml:6: user U9: duplicate ID"
bad "end client with no reseller" 'end_clients:
  - {id: C900, name: Orphan}' "bad.yaml:2: end client C900: an end client must be listed under a reseller"
bad "end client of an unknown reseller" 'end_clients:
  - {id: C901, name: Orphan, reseller: R404}' "reseller R404 does not exist"
bad "invalid phone" 'resellers:
  - id: R903
    name: X
    users:
      - {id: U903, name: A, phone: "07700 900123"}' "bad.yaml:5: user U903: phone"
bad "landline" 'resellers:
  - id: R904
    name: X
    users:
      - {id: U904, name: A, phone: "0161 496 0000"}' "bad.yaml:5"
bad "unknown key" 'resellers:
  - {id: R905, name: X, colour: red}' "bad.yaml:2: reseller: unknown key 'colour'"
bad "bad id" 'resellers:
  - {id: "R1; DROP TABLE accounts", name: X}' "bad.yaml:2: reseller: id must be"
bad "bad contact" 'resellers:
  - {id: R906, name: X, contacts: ["not an address"]}' "bad.yaml:2: reseller R906: contacts: not an e-mail address"
# a contact is an address as mail gives one (addr.c): what a From can never
# be (a comment, a route, a domain literal, an '_' in the domain, two
# addresses) is no contact either
for c in '"ops(x)@acme.example"' '"ops:x@acme.example"' '"ops@[192.0.2.1]"' \
    '"ops@acme_x.example"' '"Ops <ops@acme.example> <b@x.example>"'; do
	bad "contact $c" "resellers:
  - {id: R908, name: X, contacts: [$c]}" "bad.yaml:2: reseller R908: contacts: not an e-mail address"
done
bad "control characters in a name" 'resellers:
  - {id: R907, name: "A\u0007B"}' "name must be"
expect_exit 66 "missing import file" tf db import "$T/none.yaml"

# queue show never passes a terminal escape from a mail to the staff's terminal
printf 'From: x@acme.example\r\nSubject: =?UTF-8?B?G1syShtdMDtwd25lZAc=?=\r\nMessage-ID: <esc@x>\r\n\r\nhello \033[31mred\033]0;title\007\r\n' > "$T/esc.eml"
expect_exit 0 "ingest" tf ingest "$T/esc.eml"
expect_exit 0 "queue show" tf queue show 1
contains "$T/out" "hello [31mred" "the text is shown without its escape characters"
if tr -d '\n\t' < "$T/out" | LC_ALL=C grep -q '[[:cntrl:]]'; then not_ok "control characters in queue show"; else ok "no control characters in queue show"; fi
expect_exit 0 "queue list" tf queue list
if LC_ALL=C grep -q "$(printf '\033')" "$T/out"; then not_ok "escape in queue list"; else ok "no escape in queue list"; fi
# staff notes: history only; the actor is --by, else admin:$USER
expect_exit 0 "queue note" tf queue note 1 --by eve "checked the headers by hand"
expect_exit 0 "queue note without --by" env USER=tester SUDO_USER= tfadesk -c "$C" queue note 1 "second look"
tf audit --json > "$T/a.json"
contains "$T/a.json" '"actor":"staff:eve","action":"ticket.note"' "queue note is audited as staff:eve"
contains "$T/a.json" '"actor":"admin:tester","action":"ticket.note"' "without --by: admin:\$USER"
expect_exit 0 "queue show" tf queue show 1
contains "$T/out" "checked the headers by hand" "the note is in the ticket's history"
expect_exit 0 "queue show --json" tf queue show 1 --json
contains "$T/out" '"action":"ticket.note","user":null,"old":null,"new":"second look"' "queue show --json has the history"
expect_exit 65 "queue note on no ticket" tf queue note 99 --by eve "x"
expect_exit 64 "queue note needs its text" tf queue note 1 --by eve
expect_exit 64 "--expect takes a plan token" tf queue approve 1 --by eve --expect "'; DROP"
expect_exit 64 "--message is not an option of reject" tf queue reject 1 --by eve --reason x --message y
expect_exit 65 "approve a ticket not held" tf queue approve 1 --by eve
# a configuration with several problems reports all of them: a typo does
# not hide the required key it replaced
printf 'databse: x.db\nsource: {type: imap, host: h, port: nine}\nreply: {from: "a <a@b.c>", transport: spool, spool: o}\nsecurity: {require_sender_auth: false}\n' > "$T/typo.yaml"
expect_exit 78 "a config with a typo" tfadesk -c "$T/typo.yaml" -n
contains "$T/err" "databse: unknown key" "the typo is named"
contains "$T/err" "database: required" "and the key it replaced is missing"
contains "$T/err" "source.port: expected a number" "and the bad port"
contains "$T/err" "source.user: required" "and the missing IMAP user"
lacks "$T/err" "source.port: required" "a bad value is not also reported missing"

# a database from a newer tfadesk: upgrade the program, not `db init`
if [ "$ON_PG" = 1 ]; then
	NEWER=$(pg_new_db) || exit 1
	sed "s#^database: .*#database: $NEWER#" "$C" > "$T/newer.yaml"
	tfadesk -c "$T/newer.yaml" db init >/dev/null
	"$PG_BIN/psql" -qAtX -d "$NEWER" -c "UPDATE schema_version SET version = 999"
else
	need_sqlite3
	cp "$T/var/tfadesk.db" "$T/newer.db"
	sqlite3 "$T/newer.db" "PRAGMA user_version = 999"
	sed "s#^database: .*#database: $T/newer.db#" "$C" > "$T/newer.yaml"
fi
for cmd in "69 account list" "73 db init"; do
	set -- $cmd; rc=$1; shift; cmd="$*"
	expect_exit "$rc" "$cmd on a newer schema" tfadesk -c "$T/newer.yaml" $cmd
	contains "$T/err" "upgrade tfadesk" "$cmd: says to upgrade tfadesk"
	lacks "$T/err" "run tfadesk db init" "$cmd: does not say to run db init"
done

# C1 controls (UTF-8 encoded) and bidi overrides from a mail: visible
# escapes on the terminal, \u escapes in JSON, raw bytes nowhere.
# Subject "Pay \u009b2J\u202eevil": base64 of the UTF-8 bytes.
subj=$(printf 'Pay \302\2332J\342\200\256evil' | base64 -w0)
name=$(printf 'Eve \342\201\246Admin\342\201\251' | base64 -w0)
printf 'From: =?UTF-8?B?%s?= <eve@acme.example>\r\nSubject: =?UTF-8?B?%s?=\r\nMessage-ID: <c1@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody \342\200\256dlrow \302\233m\r\n' "$name" "$subj" > "$T/c1.eml"
expect_exit 0 "ingest a mail with C1 and bidi controls" tf ingest "$T/c1.eml"
id=$(tf queue list --json | python3 -c 'import json,sys; print(max(t["id"] for t in json.load(sys.stdin)))')
expect_exit 0 "process" tf process
for cmd in "queue list" "queue show $id" "audit"; do
	expect_exit 0 "$cmd" tf $cmd
	if LC_ALL=C grep -q "$(printf '\302\233\|\342\200\256\|\342\201\246')" "$T/out"; then
		not_ok "$cmd: a C1 or bidi control reached the terminal"
	else ok "$cmd: no C1 or bidi control"; fi
done
expect_exit 0 "queue show" tf queue show "$id"
contains "$T/out" 'Pay \u009b2J\u202eevil' "queue show: the subject's controls as visible escapes"
contains "$T/out" 'body \u202edlrow \u009bm' "queue show: the text's controls as visible escapes"
expect_exit 0 "queue list --json" tf queue list --json
contains "$T/out" 'Pay \u009b2J\u202eevil' "queue list --json: escaped as JSON does"
if LC_ALL=C grep -q "$(printf '\302\233\|\342\200\256')" "$T/out"; then not_ok "raw controls in JSON"; else ok "no raw controls in JSON"; fi
finish
