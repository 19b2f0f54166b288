"""The Dagster builders: every asset, sensor, schedule and resource, made from the sources the registry
hands over (health_pipeline/pipeline/build.py), thin over tidy/, export/ and storage/."""

import warnings

import dagster as dg

# `backfill_policy` is marked beta, but single-run backfills are a design decision here.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
