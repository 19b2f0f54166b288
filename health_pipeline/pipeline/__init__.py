"""Dagster definitions: thin assets over providers/, storage/, tidy/ and export/."""

import warnings

import dagster as dg

# `backfill_policy` is marked beta, but single-run backfills are a design decision here.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
