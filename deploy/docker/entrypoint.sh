#!/bin/sh
# Give a fresh volume the project's Dagster instance settings and the stores, then run the command.
set -e
mkdir -p "$DAGSTER_HOME"
if [ ! -f "$HEALTH_PIPELINE_CONFIG" ]; then
    echo "health-pipeline: no config at $HEALTH_PIPELINE_CONFIG: copy health-pipeline.example.toml there" >&2
    exit 2
fi
health-pipeline init >/dev/null
exec "$@"
