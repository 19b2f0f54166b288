"""The Dagster wiring over the source registry: thin assets over sources/, storage/, tidy/ and export/."""

import warnings

import dagster as dg

# `backfill_policy` is marked beta, but single-run backfills are a design decision here.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
