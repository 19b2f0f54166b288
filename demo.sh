#!/usr/bin/env bash
# The demo on a fresh machine: install, start the sandbox and a local VictoriaMetrics,
# materialize the last 30 days end to end, and say where to look. Ctrl-C stops everything.
# Extra arguments go to `health-pipeline demo` (e.g. --days 90, --no-wait).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
ensure_all
exec .venv/bin/health-pipeline demo "$@"
