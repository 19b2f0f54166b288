"""Fitbit data of the sandbox person as the Google Health API v4 represents it: the facts of the
world's tracker (health_pipeline/sandbox/tracker.py) in Google's data points.

Conventions (google-health-api.md §3): int64 values are JSON strings, durations are "Ns"
strings, physical instants RFC 3339 UTC with `Z`, civil times omit zero members. Every point
also carries a private `_t` (its sort instant) and `_key` (the rollup value) that the server
strips before answering; the server also drops every member that holds its proto default
(`proto3_json`), as Google's JSON encoding does.

Live shapes (real-payload-corrections.md §1-5): sleep metadata has `mainSleep`, not `nap`; each
point carries its own civil time or UTC offset, and on trips the person logs their weight in the
evening, so the point's civil date is not the home zone's date of the instant.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.tracker import IMPLAUSIBLE_SECOND, Minute, minutes
from health_pipeline.sandbox.world import SandboxWorld

__all__ = ["IMPLAUSIBLE_SECOND", "Minute", "minutes"]  # the tracker's facts, as the fake reads them

Kind = Literal["interval", "sample", "daily", "session"]


@dataclass(frozen=True)
class DataType:
    """One Google Health data type: its path id, JSON key, record kind, scope and read methods."""

    path: str
    kind: Kind
    scope: str
    listable: bool = True
    rollup: bool = True
    max_rollup_days: int = 90

    @property
    def key(self) -> str:
        """The camelCase union key in JSON payloads (`total-calories` -> `totalCalories`)."""
        head, *rest = self.path.split("-")
        return head + "".join(part.title() for part in rest)

    @property
    def filter_name(self) -> str:
        """The snake_case name used in filters (`total-calories` -> `total_calories`)."""
        return self.path.replace("-", "_")


ACTIVITY = "activity_and_fitness.readonly"
METRICS = "health_metrics_and_measurements.readonly"
SLEEP = "sleep.readonly"

DATA_TYPES: dict[str, DataType] = {
    t.path: t
    for t in (
        DataType("steps", "interval", ACTIVITY),
        DataType("distance", "interval", ACTIVITY),
        DataType("floors", "interval", ACTIVITY, listable=False),
        DataType("altitude", "interval", ACTIVITY),
        DataType("total-calories", "interval", ACTIVITY, listable=False, max_rollup_days=14),
        DataType("active-energy-burned", "interval", ACTIVITY),
        DataType("active-minutes", "interval", ACTIVITY, max_rollup_days=14),
        DataType("active-zone-minutes", "interval", ACTIVITY),
        DataType("time-in-heart-rate-zone", "interval", ACTIVITY),
        DataType("calories-in-heart-rate-zone", "interval", ACTIVITY, listable=False, max_rollup_days=14),
        DataType("heart-rate", "sample", METRICS, max_rollup_days=14),
        DataType("weight", "sample", METRICS),
        DataType("body-fat", "sample", METRICS),
        DataType("daily-resting-heart-rate", "daily", METRICS, rollup=False),
        DataType("daily-heart-rate-variability", "daily", METRICS, rollup=False),
        DataType("daily-oxygen-saturation", "daily", METRICS, rollup=False),
        DataType("daily-respiratory-rate", "daily", METRICS, rollup=False),
        DataType("daily-sleep-temperature-derivations", "daily", METRICS, rollup=False),
        DataType("sleep", "session", SLEEP, rollup=False),
        DataType("exercise", "session", ACTIVITY, rollup=False),
    )
}


# -- time representation ------------------------------------------------------------------------

def rfc3339(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def offset(world: SandboxWorld, instant: datetime) -> str:
    return utc_offset(instant.astimezone(world.tz_at(instant)))


def utc_offset(local: datetime) -> str:
    """An aware local time's UTC offset as Google Health writes it (`"3600s"`)."""
    delta = local.utcoffset() or timedelta(0)
    return f"{int(delta.total_seconds())}s"


def civil(local: datetime) -> dict[str, Any]:
    """A CivilDateTime with zero members omitted (midnight is `"time": {}`)."""
    time = {k: v for k, v in (("hours", local.hour), ("minutes", local.minute), ("seconds", local.second)) if v}
    return {"date": {"year": local.year, "month": local.month, "day": local.day}, "time": time}


def civil_day(day: date) -> dict[str, Any]:
    """Midnight of a civil date."""
    return {"date": ymd(day), "time": {}}


def interval(world: SandboxWorld, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "startTime": rfc3339(start), "startUtcOffset": offset(world, start),
        "endTime": rfc3339(end), "endUtcOffset": offset(world, end),
        "civilStartTime": civil(start.astimezone(world.tz_at(start))), "civilEndTime": civil(end.astimezone(world.tz_at(start))),
    }


def sample_time(world: SandboxWorld, instant: datetime, zone: ZoneInfo | None = None) -> dict[str, Any]:
    """A sample's time; `zone` (the zone in effect at `instant`) saves looking it up per sample."""
    local = instant.astimezone(zone or world.tz_at(instant))
    return {"physicalTime": rfc3339(instant), "utcOffset": utc_offset(local), "civilTime": civil(local)}


def ymd(day: date) -> dict[str, int]:
    return {"year": day.year, "month": day.month, "day": day.day}


def proto3_json(value: Any) -> Any:
    """`value` as Google's proto3 JSON encoding writes it: a scalar at its default (0, 0.0, "0" for an
    int64, "", false) and an empty repeated field are left out; a message stays, even when empty
    (`"time": {}`). Private members (`_t`) are dropped by the caller, not here."""
    if isinstance(value, dict):
        return {k: proto3_json(v) for k, v in value.items() if not _is_default(v)}
    if isinstance(value, list):
        return [proto3_json(v) for v in value]
    return value


def _is_default(value: Any) -> bool:
    if isinstance(value, bool):
        return value is False
    if isinstance(value, (int, float)):
        return value == 0
    return value is None or value == "" or value == "0" or value == []


PASSIVE = {"recordingMethod": "PASSIVELY_MEASURED", "device": {"displayName": "Charge 6"}, "platform": "FITBIT"}
DERIVED = {"recordingMethod": "DERIVED", "platform": "FITBIT"}
MANUAL = {"recordingMethod": "MANUAL", "platform": "FITBIT"}


# -- the minute-by-minute day ------------------------------------------------------------------

_ZONE_TYPE = {"FAT_BURN": "MODERATE", "CARDIO": "VIGOROUS", "PEAK": "PEAK"}


def interval_points(world: SandboxWorld, data_type: DataType, day: date) -> list[dict[str, Any]]:
    """The interval points of one local day, oldest first (each with private `_t`)."""
    key = data_type.key
    points = []
    for m in minutes(world, day):
        value: dict[str, Any] | None
        if key == "steps":
            value = None if m.steps is None else ({"count": str(m.steps)} if m.steps else {})
        elif key == "distance":
            value = {"millimeters": str(m.steps * 762)} if m.steps else None
        elif key == "floors":
            value = {"count": str(m.floors)} if m.floors else None
        elif key == "altitude":
            value = {"gainMillimeters": str(m.floors * 3048)} if m.floors else None
        elif key == "activeEnergyBurned":
            value = {"kcal": m.active_kcal} if m.level != "SEDENTARY" else None
        elif key == "totalCalories":
            value = {"kcal": m.total_kcal}
        elif key == "activeMinutes":
            value = {"activeMinutesByActivityLevel": [{"activityLevel": m.level, "activeMinutes": "1"}]} if m.level != "SEDENTARY" else None
        elif key == "activeZoneMinutes":
            value = {"heartRateZone": m.zone, "activeZoneMinutes": "1" if m.zone == "FAT_BURN" else "2"} if m.zone else None
        elif key == "timeInHeartRateZone":
            value = {"heartRateZoneType": _ZONE_TYPE[m.zone] if m.zone else "LIGHT"} if m.level != "SEDENTARY" else None
        elif key == "caloriesInHeartRateZone":
            value = {"heartRateZone": _ZONE_TYPE[m.zone] if m.zone else "LIGHT", "kcal": m.active_kcal} if m.level != "SEDENTARY" else None
        else:
            raise KeyError(key)
        if value is not None:
            value["interval"] = interval(world, m.start, m.start + timedelta(minutes=1))
            points.append({"dataSource": PASSIVE, key: value, "_t": m.start, "_m": m})
    return points


def heart_rate_points(world: SandboxWorld, day: date, every_s: int) -> list[dict[str, Any]]:
    """Heart-rate samples of one local day every `every_s` seconds while worn, oldest first."""
    return [{"dataSource": PASSIVE, "heartRate": {"sampleTime": sample_time(world, beat.at, beat.zone),
                                                  "beatsPerMinute": str(beat.bpm)}, "_t": beat.at}
            for beat in tracker.heart_rate(world, day, every_s)]


def body_points(world: SandboxWorld, data_type: DataType, day: date) -> list[dict[str, Any]]:
    """The Sunday weigh-in's weight or body fat. The sample's time is its instant and UTC offset only,
    as in Google's own example (no `civilTime`)."""
    logged = tracker.weigh_in(world, day)
    if logged is None:
        return []
    at = logged.at
    name_id = int(at.timestamp() * 1000)
    when = {"physicalTime": rfc3339(at), "utcOffset": offset(world, at)}
    if data_type.key == "weight":
        value: dict[str, Any] = {"sampleTime": when, "weightGrams": round(logged.kg * 1000), "notes": ""}
    else:
        value = {"sampleTime": when, "percentage": logged.fat_pct}
    return [{"name": f"users/me/dataTypes/{data_type.path}/dataPoints/{name_id}", "dataSource": MANUAL,
             data_type.key: value, "_t": at}]


def daily_points(world: SandboxWorld, data_type: DataType, day: date) -> list[dict[str, Any]]:
    found = tracker.vitals(world, day, data_type.path)
    if found is None:
        return []
    values: dict[str, dict[str, Any]] = {
        "dailyRestingHeartRate": {"beatsPerMinute": str(found.resting_hr_bpm),
                                  "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"}},
        "dailyHeartRateVariability": {"averageHeartRateVariabilityMilliseconds": found.hrv_ms,
                                      "nonRemHeartRateBeatsPerMinute": str(found.non_rem_hr_bpm),
                                      "entropy": found.hrv_entropy,
                                      "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds": found.deep_rmssd_ms},
        "dailyOxygenSaturation": {"averagePercentage": found.spo2_avg_pct, "lowerBoundPercentage": found.spo2_low_pct,
                                  "upperBoundPercentage": found.spo2_high_pct,
                                  "standardDeviationPercentage": found.spo2_sd_pct},
        "dailyRespiratoryRate": {"breathsPerMinute": found.breaths_per_min},
        "dailySleepTemperatureDerivations": {"nightlyTemperatureCelsius": found.skin_temp_c,
                                             "baselineTemperatureCelsius": found.skin_temp_baseline_c,
                                             "relativeNightlyStddev30dCelsius": found.skin_temp_sd_c},
    }
    value = dict(values[data_type.key], date=ymd(day))
    return [{"dataSource": DERIVED, data_type.key: value, "_t": world.local_midnight(day).astimezone(timezone.utc)}]


_SLEEP_STAGE = {"deep": "DEEP", "light": "LIGHT", "rem": "REM", "awake": "AWAKE"}


def _sleep_point(world: SandboxWorld, session: tracker.Session, nap_field: bool) -> dict[str, Any]:
    """One recorded sleep session; its stages and summary once processed (an hour after waking)."""
    bed, wake, slots, latency_s, main = session.bed, session.wake, session.stages, session.latency_s, session.main
    processed = tracker.processed(world, session)
    stages = []
    run_start = 0
    for i in range(1, len(slots) + 1):
        if i == len(slots) or slots[i] != slots[run_start]:
            start = bed + timedelta(seconds=300 * run_start)
            end = bed + timedelta(seconds=300 * i)
            stages.append({"startTime": rfc3339(start), "startUtcOffset": offset(world, start),
                           "endTime": rfc3339(end), "endUtcOffset": offset(world, end),
                           "type": _SLEEP_STAGE[slots[run_start]]})
            run_start = i
    seconds = {stage: slots.count(stage) * 300 for stage in ("deep", "light", "rem", "awake")}
    summary = {
        "minutesAsleep": str((seconds["deep"] + seconds["light"] + seconds["rem"]) // 60),
        "minutesAwake": str(seconds["awake"] // 60), "minutesInSleepPeriod": str(len(slots) * 5),
        "minutesToFallAsleep": str(latency_s // 60), "minutesAfterWakeUp": "0",
        "stagesSummary": [{"type": _SLEEP_STAGE[s], "minutes": str(seconds[s] // 60), "count": str(sum(1 for st in stages if st["type"] == _SLEEP_STAGE[s]))}
                          for s in ("deep", "light", "rem", "awake")],
    }
    # Live answers say `mainSleep` (a nap's `false` is then left out as a default) and never `nap`.
    metadata: dict[str, Any] = {"processed": processed, "manuallyEdited": False,
                                "stagesStatus": "SUCCEEDED" if processed else "PENDING"}
    metadata.update({"nap": not main} if nap_field else {"mainSleep": main})
    awakenings = [{"startTime": st["startTime"], "endTime": st["endTime"]} for st in stages if st["type"] == "AWAKE"][1:]
    value = {
        "interval": {k: v for k, v in interval(world, bed, wake).items() if not k.startswith("civil")},
        "type": "STAGES", "stages": stages if processed else [], "outOfBedSegments": [],
        "shortAwakenings": awakenings if processed else [],
        "summary": summary if processed else {},
        "metadata": metadata,
        "createTime": rfc3339(wake + timedelta(minutes=15)),
        "updateTime": rfc3339(wake + (timedelta(hours=1) if processed else timedelta(minutes=15))),
    }
    name = f"users/me/dataTypes/sleep/dataPoints/{int(wake.timestamp())}"
    return {"name": name, "dataSource": DERIVED, "sleep": value, "_t": bed}


def sleep_points(world: SandboxWorld, day: date, nap_field: bool = False) -> list[dict[str, Any]]:
    """The sleep sessions ending on `day`: the night (the main sleep) and maybe an afternoon nap.

    `nap_field`: answer with the documented `metadata.nap` instead of the live `mainSleep`."""
    return [_sleep_point(world, session, nap_field) for session in tracker.sleeps(world, day)]


def exercise_points(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    found = tracker.exercise(world, day)
    if found is None:
        return []
    start, end, minutes_long = found.start, found.end, found.minutes
    value = {
        "interval": {k: v for k, v in interval(world, start, end).items() if not k.startswith("civil")},
        "exerciseType": found.kind, "displayName": found.kind.title(), "activeDuration": f"{minutes_long * 60}s",
        "exerciseEvents": [], "splits": [], "splitSummaries": [],
        "metricsSummary": {
            "caloriesKcal": found.kcal,
            "distanceMillimeters": float(minutes_long * 160_000) if found.moving else 0.0,
            "steps": str(minutes_long * 150 if found.moving else 0),
            "averageHeartRateBeatsPerMinute": str(found.avg_hr_bpm),
            "activeZoneMinutes": str(minutes_long * 2),
            "heartRateZoneDurations": {"lightTime": "120s", "moderateTime": f"{minutes_long * 20}s",
                                       "vigorousTime": f"{minutes_long * 30}s", "peakTime": "60s"},
        },
        "notes": "", "createTime": rfc3339(end + timedelta(minutes=5)), "updateTime": rfc3339(end + timedelta(minutes=5)),
    }
    return [{"name": f"users/me/dataTypes/exercise/dataPoints/{int(start.timestamp())}", "dataSource": DERIVED,
             "exercise": value, "_t": start}]


def points_of_day(world: SandboxWorld, data_type: DataType, day: date, hr_every_s: int,
                  nap_field: bool = False) -> list[dict[str, Any]]:
    """Every point of a type whose sort instant falls in the local day, oldest first (sleep: the
    sessions ending on the day)."""
    if data_type.kind == "interval":
        return interval_points(world, data_type, day)
    if data_type.path == "heart-rate":
        return heart_rate_points(world, day, hr_every_s)
    if data_type.kind == "sample":
        return body_points(world, data_type, day)
    if data_type.kind == "daily":
        return daily_points(world, data_type, day)
    return sleep_points(world, day, nap_field) if data_type.path == "sleep" else exercise_points(world, day)


def days_desc(first: date, last: date) -> Iterator[date]:
    day = last
    while day >= first:
        yield day
        day -= timedelta(days=1)
