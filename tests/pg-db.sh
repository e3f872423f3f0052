#!/bin/sh
# tests/pg-db.sh [TEMPLATE] - prints the URI of a fresh database on the tests' cluster
# (TFADESK_PG_SOCK, see tests/pg-lib.sh); for tests/cases/run.py.
. "$(dirname "$0")/pg-lib.sh"
pg_new_db "$@"
