# tests/lib.sh - sourced by the test scripts: a scratch folder, a config,
# and small assertions. $TOP is the checkout, tfadesk is on PATH.
set -u
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
PATH="${TFADESK_PATH:-$TOP}:$PATH"
T=$(mktemp -d "${TMPDIR:-/tmp}/tfadesk-test.XXXXXX")
chmod 755 "$T"
cleanup_hooks=
on_exit() { eval "$cleanup_hooks"; rm -rf "$T"; }
trap on_exit EXIT
trap 'exit 1' INT TERM
at_exit() { cleanup_hooks="$1; $cleanup_hooks"; }

# DB_URI: what a test's config gives as database: a file in $T, or with
# TFADESK_DB=postgresql (tests/run.sh) a fresh database of this test's own
# on the tests' cluster (tests/pg-lib.sh). ON_PG=1 there.
ON_PG=0
if [ "${TFADESK_DB:-}" = postgresql ]; then
	. "$TOP/tests/pg-lib.sh"
	DB_URI=$(pg_new_db) || { echo "cannot create a PostgreSQL database"; exit 1; }
	ON_PG=1
else
	DB_URI=$T/var/tfadesk.db
fi
# sqlite_only WHY: this test is about the SQLite file itself (its modes,
# -wal/-shm, a full disk via max_page_count, ...): skipped on PostgreSQL.
sqlite_only() { [ "$ON_PG" = 0 ] || { echo "SQLite only: $*"; exit 77; }; }
# dbq WHICH SQL: rows of one query on the test's database (WHICH: main or
# verifier, the verifier's own file on SQLite; one database on PostgreSQL),
# fields separated by '|'.
dbq() {
	if [ "$ON_PG" = 1 ]; then
		"$PG_BIN/psql" -qAtX -d "$DB_URI" -c "$2"
	elif [ "$1" = verifier ]; then
		sqlite3 "$T/var/tfadesk-verify.db" "$2"
	else
		sqlite3 "$DB_URI" "$2"
	fi
}

# dbsum: a digest of every table's rows (what a dry run must leave alone):
# SQLite's .dump, on PostgreSQL each table's rows as text, sorted.
dbsum() {
	if [ "$ON_PG" = 1 ]; then
		for t in $(dbq main "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"); do
			echo "$t $(dbq main "SELECT count(*), md5(coalesce(string_agg(x::text, chr(10) ORDER BY x::text), '')) FROM \"$t\" x")"
		done | sha256sum
	else
		sqlite3 -batch "$DB_URI" .dump | sha256sum
	fi
}
# db_lock_file CONFIG: the batch's lock file (config_lock_path): beside
# the SQLite file, on PostgreSQL beside the config file.
db_lock_file() {
	if [ "$ON_PG" = 1 ]; then echo "$(dirname "$1")/tfadesk-pg.lock"
	else echo "$DB_URI.lock"; fi
}
# db_checkpoint: SQLite's WAL into the file (before comparing files); on
# PostgreSQL nothing to do.
db_checkpoint() {
	[ "$ON_PG" = 1 ] || sqlite3 "$DB_URI" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
}
# the sqlite3 CLI: needed on SQLite only (dbq, dbsum)
need_sqlite3() {
	[ "$ON_PG" = 1 ] || command -v sqlite3 >/dev/null ||
	    { echo "sqlite3 CLI not installed"; exit 77; }
}

fails=0
ok() { echo "ok - $*"; }
not_ok() { echo "NOT OK - $*"; fails=$((fails + 1)); }
# check DESCRIPTION COMMAND...: the command must succeed
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# expect_exit CODE DESCRIPTION COMMAND...
expect_exit() {
	want=$1 d=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; got=$?
	if [ "$got" = "$want" ]; then ok "$d"; else
		not_ok "$d (exit $got, wanted $want)"; sed 's/^/    /' "$T/err" | head -5; fi
}
# contains FILE TEXT DESCRIPTION
contains() {
	if grep -qF -- "$2" "$1"; then ok "$3"; else
		not_ok "$3: '$2' not in $1:"; sed 's/^/    /' "$1" | head -10; fi
}
lacks() {
	if grep -qF -- "$2" "$1"; then not_ok "$3: '$2' found in $1"; else ok "$3"; fi
}
finish() { echo "$fails failed"; [ "$fails" -eq 0 ]; }
# wait_for SECONDS COMMAND...: 0 as soon as COMMAND succeeds, 1 when it
# has not within SECONDS (tried every 0.1 s); for what another process
# does in its own time, where a fixed sleep would be a race on a busy machine
wait_for() {
	wf_n=$(( $1 * 10 )); shift
	until "$@"; do
		wf_n=$((wf_n - 1)); [ $wf_n -gt 0 ] || return 1
		sleep 0.1
	done
}

# write_config FILE [extra YAML]: a local config in $T, database
# $DB_URI ($T/var/tfadesk.db on SQLite). REPLY_YAML replaces the reply transport lines;
# SENDER_AUTH=false switches security.require_sender_auth off.
write_config() {
	cat > "$1" <<YAML
database: $DB_URI
default_country: GB
rules: $TOP/rules/tickets.yaml
numbering: $TOP/rules/numbering.yaml
templates: $TOP/templates
source:
  type: maildir
  path: $T/maildir
reply:
  from: "SIP Trunk Plus Support <support@500.uk.com>"
${REPLY_YAML:-  transport: spool
  spool: $T/outbox}
security:
  require_sender_auth: ${SENDER_AUTH:-true}
  authserv_id: mx.500.uk.com
sms:
  transport: spool
  spool: $T/sms
${2:-}
YAML
	mkdir -p "$T/maildir/new" "$T/maildir/cur" "$T/maildir/tmp"
}
