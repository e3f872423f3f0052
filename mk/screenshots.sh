#!/bin/sh
# mk/screenshots.sh - run by `make screenshots`: the demo data (samples/),
# a staff login "demo", a desk on a free loopback port, and PNGs of the
# queue and a ticket page in doc/ (headless chromium, python3-selenium).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
w=$(mktemp -d /tmp/tfadesk-shots.XXXXXX)
trap 'kill $pid 2>/dev/null; rm -rf "$w"' EXIT
port=${DESK_PORT:-18126}
mkdir -p "$w/maildir/new" "$w/maildir/cur" "$w/maildir/tmp"
cp "$top"/samples/maildir/new/* "$w/maildir/new/"
sed -e "s|^database: .*|database: $w/tfadesk.db|" \
    -e "s|^rules: \.\./|rules: $top/|" -e "s|^numbering: \.\./|numbering: $top/|" \
    -e "s|^templates: \.\./|templates: $top/|" \
    -e "s|path: var/maildir|path: $w/maildir|" -e "s|spool: var/|spool: $w/|" \
    "$top/samples/tfadesk.yaml" > "$w/tfadesk.yaml"
printf 'desk:\n  listen: 127.0.0.1:%s\n  secure_cookies: false\n' "$port" >> "$w/tfadesk.yaml"
tf() { "$top/tfadesk" -c "$w/tfadesk.yaml" "$@"; }
tf db init >/dev/null
tf db import "$top/samples/accounts.yaml" >/dev/null
tf batch >/dev/null
echo 'demo password 1234' > "$w/pw"; chmod 600 "$w/pw"
tf staff add demo --phone "07400 123456" --password-file "$w/pw" >/dev/null
"$top/tfadesk" -c "$w/tfadesk.yaml" desk >/dev/null 2>"$w/desk.err" &
pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/login"; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$w/desk.err"; exit 1; }; sleep 0.05
done
/usr/bin/python3 "$top/mk/screenshots.py" "http://127.0.0.1:$port" "$w/sms" "$top/doc"
