#!/usr/bin/env bash
# The test suite on a fresh machine: install everything, then run pytest against real components
# (the sandbox over HTTP, VictoriaMetrics on loopback, SQLite, DuckDB, a Dagster instance).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
ensure_all
ensure_test_tools
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" = 5 ]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
