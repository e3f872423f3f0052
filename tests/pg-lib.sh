# tests/pg-lib.sh - a private PostgreSQL 15 cluster for the tests, as the
# tests start their own Dovecot: initdb into a temporary folder as the
# postgres user (initdb and postgres refuse root), Unix socket only (in the
# folder, no TCP), fsync off, trust on the socket; stopped by pg_stop.
# tests/run.sh starts one per run and exports TFADESK_PG_SOCK; each test
# then takes a fresh database of its own (pg_new_db / tests/pg-db.sh).
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_start: sets and exports TFADESK_PG_DIR and TFADESK_PG_SOCK
pg_start() {
	[ -x "$PG_BIN/initdb" ] || { echo "pg: no $PG_BIN/initdb (make deps)" >&2; return 1; }
	TFADESK_PG_DIR=$(mktemp -d /tmp/tfadesk-pg.XXXXXX) || return 1
	TFADESK_PG_SOCK=$TFADESK_PG_DIR/sock
	mkdir -p "$TFADESK_PG_SOCK"
	as_pg=
	if [ "$(id -u)" = 0 ]; then
		chown -R postgres: "$TFADESK_PG_DIR" || return 1
		as_pg="runuser -u postgres --"
	fi
	$as_pg "$PG_BIN/initdb" -D "$TFADESK_PG_DIR/data" -U postgres \
		--auth=trust --encoding=UTF8 --locale=C.UTF-8 \
		>"$TFADESK_PG_DIR/initdb.log" 2>&1 ||
		{ cat "$TFADESK_PG_DIR/initdb.log" >&2; return 1; }
	$as_pg "$PG_BIN/pg_ctl" -D "$TFADESK_PG_DIR/data" -w -t 30 \
		-l "$TFADESK_PG_DIR/server.log" -o "-c listen_addresses='' \
		-c unix_socket_directories=$TFADESK_PG_SOCK -c fsync=off \
		-c synchronous_commit=off -c full_page_writes=off \
		-c max_connections=200" start >/dev/null ||
		{ cat "$TFADESK_PG_DIR/server.log" >&2; return 1; }
	export TFADESK_PG_DIR TFADESK_PG_SOCK
}

pg_stop() {
	[ -n "${TFADESK_PG_DIR:-}" ] && [ -d "$TFADESK_PG_DIR/data" ] || return 0
	as_pg=
	[ "$(id -u)" = 0 ] && as_pg="runuser -u postgres --"
	$as_pg "$PG_BIN/pg_ctl" -D "$TFADESK_PG_DIR/data" -m immediate -w \
		stop >/dev/null 2>&1
	rm -rf "$TFADESK_PG_DIR"
}

# pg_new_db [TEMPLATE]: creates an empty database (or a copy of the
# database TEMPLATE) with a name of its own and prints its URI (the one a
# config's database: takes)
pg_new_db() {
	name=t_$$_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	"$PG_BIN/createdb" -h "$TFADESK_PG_SOCK" -U postgres \
		${1:+-T "$1"} "$name" || return 1
	echo "postgresql://postgres@/$name?host=$TFADESK_PG_SOCK"
}
