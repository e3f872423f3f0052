#!/bin/bash
# Start the capturing SMTP sink (aiosmtpd, smtp_sink.py) on 127.0.0.1.
# Usage: start-smtp-sink.sh DIR      messages land in DIR/out/NNNN.{eml,json}
# Env:   SMTP_PORT=10025  SMTP_TLS=1 (offer STARTTLS with a self-signed cert
#        in DIR/tls, SAN localhost + 127.0.0.1)  SMTP_AUTH=user:pass
#        SMTP_ARGS="--reject-rcpt a@b ..." (more smtp_sink.py options)
# Prints the sink PID (also DIR/smtp-sink.pid). Stop: stop-pid.sh $(cat DIR/smtp-sink.pid)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
D=${1:?usage: start-smtp-sink.sh DIR}; mkdir -p "$D"/out; D=$(cd "$D" && pwd)
SMTP_PORT=${SMTP_PORT:-10025}
args=(--listen 127.0.0.1:"$SMTP_PORT" --outdir "$D"/out)
if [ "${SMTP_TLS:-0}" = 1 ]; then
  mkdir -p "$D"/tls
  [ -s "$D"/tls/cert.pem ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout "$D"/tls/key.pem -out "$D"/tls/cert.pem -days 3650 -subj /CN=localhost \
      -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
  args+=(--tls-cert "$D"/tls/cert.pem --tls-key "$D"/tls/key.pem)
fi
[ -n "${SMTP_AUTH:-}" ] && args+=(--auth "$SMTP_AUTH")
# shellcheck disable=SC2206
[ -n "${SMTP_ARGS:-}" ] && args+=($SMTP_ARGS)
# /usr/bin/python3 explicitly: the Debian module is not visible to pyenv/venv pythons
/usr/bin/python3 "$HERE"/smtp_sink.py "${args[@]}" > "$D"/smtp-sink.log 2>&1 &
pid=$!; echo $pid > "$D"/smtp-sink.pid
for _ in $(seq 1 200); do grep -q '^READY' "$D"/smtp-sink.log 2>/dev/null && { echo $pid; exit 0; }
  kill -0 $pid 2>/dev/null || break; sleep 0.05; done
echo "smtp sink failed to start" >&2; cat "$D"/smtp-sink.log >&2; exit 1
