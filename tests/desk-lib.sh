# tests/desk-lib.sh - sourced by the staff desk tests after lib.sh and
# verify-lib.sh: the demo data as tickets (samples/), a hostile ticket,
# staff logins, and a desk on DESK_PORT (or the first free port from 18026).

# desk_config FILE [extra YAML]: a config whose desk listens on $PORT over
# plain HTTP (loopback tests only).
desk_config() {
	write_config "$1" "verifier:
  resend_after_seconds: 0
  max_sends_per_hour: 100
  max_sends_per_dest_per_hour: 100
desk:
  listen: 127.0.0.1:$PORT
  secure_cookies: false
${2:-}"
}

# desk_fixture CONFIG: the sample accounts and tickets, processed, the
# hostile ticket, and staff alice and bob (password in $T/pw).
desk_fixture() {
	tfadesk -c "$1" db init >/dev/null || return 1
	tfadesk -c "$1" db import "$TOP/samples/accounts.yaml" >/dev/null || return 1
	cp "$TOP"/samples/maildir/new/* "$T/maildir/new/" || return 1
	tfadesk -c "$1" batch >/dev/null || return 1
	tfadesk -c "$1" ingest "$TOP/tests/fixtures/desk/hostile.eml" >/dev/null || return 1
	tfadesk -c "$1" process >/dev/null || return 1
	echo 'correct horse battery staple' > "$T/pw"; chmod 600 "$T/pw"
	tfadesk -c "$1" staff add alice --phone "07400 123456" --password-file "$T/pw" >/dev/null || return 1
	tfadesk -c "$1" staff add bob --phone "+44 7400 234567" --password-file "$T/pw" >/dev/null || return 1
}

# start_desk CONFIG: runs tfadesk desk in the background until the test ends.
start_desk() {
	tfadesk -c "$1" desk >"$T/desk.out" 2>>"$T/desk.err" &
	desk_pid=$!
	at_exit "kill $desk_pid 2>/dev/null"
	wait_http "$URL/login"
}
stop_desk() { kill "$desk_pid"; wait "$desk_pid" 2>/dev/null; }

# newest_code: the code of the newest SMS in $T/sms/new (and moves them all
# to cur/).
newest_code() {
	f=$(ls -t "$T"/sms/new/* 2>/dev/null | head -n 1)
	[ -n "$f" ] || return 1
	sed -n '/^$/,$p' "$f" | grep -o '[0-9]\{6\}' | head -n 1
	mv "$T"/sms/new/* "$T/sms/cur/"
}
