"""Ground truth: exactly which records each fake endpoint holds for a window.

Tests and benchmarks compare what the product stored against these lists instead of
re-deriving the data.
"""

from datetime import date, datetime, timedelta
from typing import Any

from health_pipeline.sources.oura.sandbox import data as oura_data
from health_pipeline.sources.oura.sandbox.api import DAILY_ENDPOINTS
from health_pipeline.sandbox.world import SandboxWorld


def oura_daily_activity(world: SandboxWorld, start: date, end: date) -> list[dict[str, Any]]:
    """Oura `daily_activity` documents whose `day` is in [start, end], oldest first."""
    documents = (oura_data.daily_activity(world, day) for day in oura_data.days_between(start, end))
    return [document for document in documents if document is not None]


def oura_heartrate(world: SandboxWorld, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Oura `heartrate` rows with start <= timestamp < end, oldest first."""
    first = world.day_of(start) - timedelta(days=1)
    last = world.day_of(end) + timedelta(days=1)
    rows = [row for day in oura_data.days_between(first, last) for row in oura_data.heartrate_rows(world, day)]
    return [row for row in rows if start <= datetime.fromisoformat(row["timestamp"]) < end]


def oura_documents(world: SandboxWorld, name: str, start: date, end: date) -> list[dict[str, Any]]:
    """Documents of any date-keyed Oura collection whose day is in [start, end], oldest first."""
    endpoint = DAILY_ENDPOINTS[name]
    return [
        document
        for day in oura_data.days_between(start, end)
        for document in endpoint.generate(world, day)
        if document.get(endpoint.day_field) == day.isoformat()
    ]

