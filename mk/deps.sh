#!/bin/sh
# Install, with apt-get, only the Debian 12 packages tfadesk needs that are
# missing (clang and its fuzzer runtime libclang-rt-14-dev for make fuzz and
# tests/t_fuzz.sh). A no-op (no network, no root needed) when all are present.
PKGS="build-essential pkg-config
libetpan-dev libcurl4-gnutls-dev libgnutls28-dev libsqlite3-dev libyaml-dev
libpcre2-dev libphonenumber-dev libsodium-dev libmicrohttpd-dev libjansson-dev
libjemalloc-dev
libpq-dev postgresql-15
dovecot-imapd dovecot-pop3d kannel kannel-extras python3-aiosmtpd
openssl curl wrk valgrind strace sqlite3 procps time systemd mandoc
clang libclang-rt-14-dev
chromium chromium-driver python3-selenium"
missing=
for p in $PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$s" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root, or install these packages first:$missing" >&2
	exit 1
fi
# Package scripts must not start system-wide dovecot/kannel/postgresql (the
# tests start their own).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || exit 1
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
if [ -d /run/systemd/system ]; then
	systemctl disable --now dovecot kannel postgresql >/dev/null 2>&1 || true
fi
echo "deps: done"
