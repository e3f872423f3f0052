#!/bin/sh
# t_desk_browser.sh - the staff desk in a real browser: headless chromium
# driven by python3-selenium (tests/desk_browser.py) against a desk started
# here on the demo data and a hostile ticket. Port: DESK_PORT or the first
# free one from 18026.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/verify-lib.sh"
. "$(dirname "$0")/desk-lib.sh"
for c in /usr/bin/chromium /usr/bin/chromedriver curl; do
	command -v "$c" >/dev/null || { echo "$c not installed (make deps)"; exit 77; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "python3-selenium not installed (make deps)"; exit 77; }
PORT=${DESK_PORT:-$(free_port 18026 18099)}
URL=http://127.0.0.1:$PORT
C=$T/tfadesk.yaml
desk_config "$C"
check "fixture" desk_fixture "$C"
check "desk starts" start_desk "$C"
HOME=$T /usr/bin/python3 "$TOP/tests/desk_browser.py" "$URL" "$T/sms" "$T/var/tfadesk.db" || not_ok "browser checks"
finish
