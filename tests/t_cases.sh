#!/bin/sh
# tests/t_cases.sh - the table-driven ticket tests: tests/cases/NN-name.eml
# with their expectations in tests/cases/expect.tsv and their exact outcome
# in tests/cases/golden/ (driver: run.py; run.py --update rewrites goldens).
: "${TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed"; exit 77; }
exec python3 "$TOP/tests/cases/run.py" "$@"
