"""Kept for Dagster homes whose dagster.yaml an earlier release wrote (`module: health_pipeline.dagster_storage`):
the event log now lives in health_pipeline/instance/storage.py, which new homes name."""

from health_pipeline.instance.storage import PooledSqliteEventLogStorage

__all__ = ["PooledSqliteEventLogStorage"]
