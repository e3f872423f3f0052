#!/bin/bash
# tests/servers/stop-dovecot.sh DIR: stop the Dovecot of start-dovecot.sh DIR
# (TERM to the master, wait; a zombie counts as gone; KILL after 5 s).
D=${1:?usage: stop-dovecot.sh DIR}
pid=$(cat "$D"/run/master.pid 2>/dev/null) || exit 0
kill -TERM "$pid" 2>/dev/null || exit 0
alive() { local st; st=$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null) || return 1; [ "$st" != Z ]; }
for _ in $(seq 1 100); do alive "$pid" || exit 0; sleep 0.05; done
kill -KILL "$pid" 2>/dev/null; exit 0
