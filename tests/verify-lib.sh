# tests/verify-lib.sh - sourced by the tfadesk-verify tests after lib.sh:
# a fixture database, and helpers to read codes from the SMS spool.

# Fixture: R1 has 2FA on; U1 and U4 share one UK mobile, U2 has no mobile,
# U3 has a German mobile (outside allowed_country_codes), U6 has an Irish
# one; C1 (2FA off) holds U5.
write_accounts() {
	cat > "$1" <<'YAML'
resellers:
  - id: R1
    name: Reseller One
    twofa: true
    contacts: [noc@r1.example]
    users:
      - {id: U1, name: Ann One, phone: "07400 123456"}
      - {id: U2, name: Bob Two}
      - {id: U3, name: Carl Three, phone: "+49 151 12345678"}
      - {id: U4, name: Dee Four, phone: "+44 7400 123456"}
      - {id: U6, name: Fay Six, phone: "+353 85 123 4567"}
    end_clients:
      - id: C1
        name: Client One
        use_2fa: false
        users:
          - {id: U5, name: Eve Five, phone: "07400 234567"}
YAML
}

# verify_fixture CONFIG: a fresh database with the fixture accounts.
verify_fixture() {
	write_accounts "$T/accounts.yaml"
	tfadesk -c "$1" db init >/dev/null || return 1
	tfadesk -c "$1" db import "$T/accounts.yaml" >/dev/null || return 1
}

# take_sms DIR: prints "TO CODE" of the one new SMS in the spool DIR and
# moves it to cur/; prints nothing (and fails) unless there is exactly one.
take_sms() {
	set -- "$1" "$1"/new/*
	[ $# -eq 2 ] && [ -f "$2" ] || return 1
	to=$(sed -n 's/^To: //p' "$2")
	code=$(sed -n '/^$/,$p' "$2" | grep -o '[0-9]\{4,10\}' | head -n 1)
	mv "$2" "$1/cur/"
	echo "$to $code"
}

# sms_count DIR: files waiting in DIR/new.
sms_count() { ls "$1/new" | wc -l | tr -d ' '; }

# free_port FROM TO: the first port nobody listens on.
free_port() {
	p=$1
	while [ "$p" -le "$2" ]; do
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$p/"
		if [ $? -eq 7 ]; then echo "$p"; return 0; fi
		p=$((p + 1))
	done
	return 1
}

# wait_http URL: up to 5 s for the service to answer.
wait_http() {
	i=0
	while [ $i -lt 100 ]; do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.05; i=$((i + 1))
	done
	return 1
}
