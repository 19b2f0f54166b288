"""The metric catalogue: every exported series as data (name, source column, timestamp rule).

It drives the export, the README's metric table and `health-pipeline lineage`.
"""

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Metric:
    """One exported metric.

    timestamp "day": stamped at 00:00 of the row's `day` in the user's time zone.
    timestamp "ts": stamped at the row's `ts` instant.
    """

    name: str
    table: str
    column: str
    timestamp: Literal["day", "ts"]
    unit: str
    help: str


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("health_steps", "daily_activity", "steps", "day", "steps", "Steps walked in the local day."),
        Metric("health_heart_rate_bpm", "heart_rate", "bpm", "ts", "beats/min", "Heart-rate samples."),
    )
}
