#!/bin/sh
# Give a fresh volume the project's Dagster instance settings and the stores, then run the command.
set -e
mkdir -p "$DAGSTER_HOME"
if [ ! -f "$HEALTH_PIPELINE_CONFIG" ]; then
    echo "health-pipeline: no config at $HEALTH_PIPELINE_CONFIG: copy health-pipeline.example.toml there" >&2
    exit 2
fi
# With DAGSTER_POSTGRES_URL set (see deploy/README.md), a new home keeps Dagster's history in Postgres.
if [ -n "${DAGSTER_POSTGRES_URL:-}" ]; then
    health-pipeline init --postgres >/dev/null
else
    health-pipeline init >/dev/null
fi
exec "$@"
