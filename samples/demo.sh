#!/bin/sh
# samples/demo.sh - run by `make demo`: the whole batch on samples/, with no
# server. Everything it writes goes to samples/var/ (git-ignored).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top/samples"
tf() { echo "\$ tfadesk -c samples/tfadesk.yaml $*"; "$top/tfadesk" -c tfadesk.yaml "$@"; }
rm -rf var
mkdir -p var
# the batch moves what it reads (source.after: seen): work on a copy
[ -d maildir ] && cp -R maildir var/maildir
mkdir -p var/maildir/new var/maildir/cur var/maildir/tmp

tf db init
tf db import accounts.yaml
echo
echo "== Accounts before"
tf account list
echo
echo "== The batch: fetch the sample tickets, process them, write the replies"
tf batch
echo
echo "== The tickets"
tf queue list
echo
echo "== Accounts after"
tf account list
echo
echo "== Audit trail"
tf audit
echo
n=$(ls var/outbox/new 2>/dev/null | wc -l)
echo "== $n replies written to samples/var/outbox/new/ (the spool transport); the first:"
first=$(ls var/outbox/new 2>/dev/null | head -n 1)
if [ -n "$first" ]; then
	sed 's/\r$//' "var/outbox/new/$first"
fi
echo
echo "Staff would now review what waits:  ./tfadesk -c samples/tfadesk.yaml queue list --state needs_review"
