"""Fitbit data of the sandbox person as the Google Health API v4 represents it.

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
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from health_pipeline.sources.withings.sandbox_data import weight_kg
from health_pipeline.sandbox.world import SandboxWorld, night_for, rng_for

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

@dataclass(frozen=True)
class Minute:
    """What the tracker measured in one minute of a worn, awake day."""

    start: datetime  # UTC
    steps: int | None  # None: no record; 0: a "true zero" record without `count`
    level: str  # SEDENTARY, LIGHT, MODERATE, VIGOROUS
    zone: str | None  # FAT_BURN, CARDIO, PEAK
    active_kcal: float
    total_kcal: float
    floors: int


@lru_cache(maxsize=256)
def _minutes_of_day(seed: int, tz: str, day: date, worn: bool, wake: int, bed: int,
                    workout_start: int | None, workout_minutes: int, steps: int, bmr: int) -> tuple[Minute, ...]:
    from zoneinfo import ZoneInfo

    if not worn:
        return ()
    rng = rng_for(seed, "google", "minutes", day.isoformat())
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)
    bouts = max(1, steps // 900)
    walking: dict[int, int] = {}
    for _ in range(bouts):
        first = rng.randint(wake + 10, max(wake + 11, min(bed, 23 * 60) - 20))
        for m in range(first, first + rng.randint(6, 14)):
            walking[m] = walking.get(m, 0) + rng.randint(60, 125)
    scale = steps / max(1, sum(walking.values()))
    minutes = []
    for m in range(wake, min(bed, 24 * 60)):
        in_workout = workout_start is not None and workout_start <= m < workout_start + workout_minutes
        count = int(walking.get(m, 0) * scale)
        zero_before = m + 1 in walking and m not in walking
        level = "VIGOROUS" if in_workout else ("MODERATE" if count > 100 else "LIGHT" if count else "SEDENTARY")
        zone = ("CARDIO" if rng.random() < 0.6 else "PEAK") if in_workout else ("FAT_BURN" if count > 110 else None)
        active = round(8.0 if in_workout else count * 0.04, 2)
        minutes.append(Minute(
            start=midnight + timedelta(minutes=m),
            steps=count if count else (0 if zero_before else None),
            level=level, zone=zone, active_kcal=active, total_kcal=round(bmr / 1440 + active, 3),
            floors=1 if count and rng.random() < 0.02 else 0,
        ))
    return tuple(minutes)


def minutes(world: SandboxWorld, day: date) -> tuple[Minute, ...]:
    """The day's awake minutes, up to now."""
    if not world.has_day(day):
        return ()
    p = world.plan(day)
    all_minutes = _minutes_of_day(world.seed, world.timezone, day, p.worn, p.wake_min, p.bed_min,
                                  p.workout_start_min, p.workout_minutes, p.steps, p.bmr_kcal)
    now = world.clock.now()
    return tuple(m for m in all_minutes if m.start + timedelta(minutes=1) <= now)


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


IMPLAUSIBLE_SECOND = 12 * 3600 + 30  # the sample at 12:00:30 local of `implausible_day()`, if worn then


def heart_rate_points(world: SandboxWorld, day: date, every_s: int) -> list[dict[str, Any]]:
    """Heart-rate samples of one local day every `every_s` seconds while worn, oldest first."""
    if not world.has_day(day) or not world.plan(day).worn:
        return []
    plan = world.plan(day)
    rng = rng_for(world.seed, "google", "heart-rate", day.isoformat(), every_s)
    midnight = world.local_midnight(day).astimezone(timezone.utc)
    zone = world.tz_for(day)  # every instant of the local day is lived in the day's zone
    now = world.clock.now()
    points = []
    implausible_at = IMPLAUSIBLE_SECOND - IMPLAUSIBLE_SECOND % every_s if world.implausible(day) else None
    for second in range(0, world.day_length_s(day), every_s):
        instant = midnight + timedelta(seconds=second)
        if instant > now:
            break
        minute = second // 60
        if any(start <= minute < end for start, end in plan.nonwear_gaps):
            continue
        in_workout = plan.workout_start_min is not None and plan.workout_start_min <= minute < plan.workout_start_min + plan.workout_minutes
        asleep = minute < plan.wake_min or minute >= plan.bed_min
        bpm = rng.randint(120, 165) if in_workout else plan.resting_hr + (rng.randint(-3, 5) if asleep else rng.randint(10, 35))
        if implausible_at is not None and second == implausible_at:
            bpm = 400  # a sensor glitch: no heart beats 400 times a minute
        points.append({"dataSource": PASSIVE, "heartRate": {"sampleTime": sample_time(world, instant, zone),
                                                            "beatsPerMinute": str(bpm)}, "_t": instant})
    return points


def body_points(world: SandboxWorld, data_type: DataType, day: date) -> list[dict[str, Any]]:
    """Weight and body fat logged by hand on Sundays: at 08:30, or on a trip at 20:24 local time, whose
    instant is already the next day at home. The sample's time is its instant and UTC offset only,
    as in Google's own example (no `civilTime`)."""
    if not world.has_day(day) or day.weekday() != 6:
        return []
    clock = timedelta(hours=20, minutes=24) if world.travelling(day) else timedelta(hours=8, minutes=30)
    at = (world.local_midnight(day) + clock).astimezone(timezone.utc)
    if at > world.clock.now():
        return []
    name_id = int(at.timestamp() * 1000)
    when = {"physicalTime": rfc3339(at), "utcOffset": offset(world, at)}
    if data_type.key == "weight":
        value: dict[str, Any] = {"sampleTime": when, "weightGrams": round(weight_kg(world, day) * 1000), "notes": ""}
    else:
        value = {"sampleTime": when, "percentage": round(19.5 + rng_for(world.seed, "fat", day).gauss(0, 0.5), 1)}
    return [{"name": f"users/me/dataTypes/{data_type.path}/dataPoints/{name_id}", "dataSource": MANUAL,
             data_type.key: value, "_t": at}]


def daily_points(world: SandboxWorld, data_type: DataType, day: date) -> list[dict[str, Any]]:
    night = night_for(world, day)
    if night is None or night.wake + timedelta(minutes=30) > world.clock.now():
        return []
    rng = rng_for(world.seed, "google", data_type.path, day.isoformat())
    values: dict[str, dict[str, Any]] = {
        "dailyRestingHeartRate": {"beatsPerMinute": str(night.resting_hr),
                                  "dailyRestingHeartRateMetadata": {"calculationMethod": "WITH_SLEEP"}},
        "dailyHeartRateVariability": {"averageHeartRateVariabilityMilliseconds": round(rng.uniform(30, 70), 2),
                                      "nonRemHeartRateBeatsPerMinute": str(night.resting_hr + 2),
                                      "entropy": round(rng.uniform(1.5, 3), 3),
                                      "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds": round(rng.uniform(35, 80), 2)},
        "dailyOxygenSaturation": {"averagePercentage": round(rng.uniform(94.5, 98), 1), "lowerBoundPercentage": 92.0,
                                  "upperBoundPercentage": 99.5, "standardDeviationPercentage": round(rng.uniform(0.5, 1.5), 2)},
        "dailyRespiratoryRate": {"breathsPerMinute": round(rng.uniform(13, 16.5), 1)},
        "dailySleepTemperatureDerivations": {"nightlyTemperatureCelsius": round(rng.uniform(33.8, 34.6), 2),
                                             "baselineTemperatureCelsius": 34.2,
                                             "relativeNightlyStddev30dCelsius": round(rng.uniform(-1.2, 1.2), 2)},
    }
    value = dict(values[data_type.key], date=ymd(day))
    return [{"dataSource": DERIVED, data_type.key: value, "_t": world.local_midnight(day).astimezone(timezone.utc)}]


_SLEEP_STAGE = {"deep": "DEEP", "light": "LIGHT", "rem": "REM", "awake": "AWAKE"}


@dataclass(frozen=True)
class Nap:
    """An afternoon nap of the sandbox person (Fitbit records it as a sleep that is not the main one)."""

    start: datetime  # UTC
    stages: tuple[str, ...]  # 5-minute slots


def nap_for(world: SandboxWorld, day: date) -> Nap | None:
    """The nap of a day, on about one day in six the tracker was worn."""
    if not world.has_day(day) or not world.plan(day).worn:
        return None
    rng = rng_for(world.seed, "google", "nap", day.isoformat())
    if rng.random() > 0.17:
        return None
    start = (world.local_midnight(day) + timedelta(hours=14, minutes=rng.randint(0, 90))).astimezone(timezone.utc)
    return Nap(start, tuple(rng.choice(("light", "light", "deep", "awake")) for _ in range(rng.randint(4, 9))))


def _sleep_point(world: SandboxWorld, bed: datetime, slots: tuple[str, ...], latency_s: int, main: bool,
                 nap_field: bool) -> dict[str, Any] | None:
    """One sleep session starting at `bed` in 5-minute `slots`; processed an hour after waking."""
    wake = bed + timedelta(seconds=300 * len(slots))
    now = world.clock.now()
    if wake + timedelta(minutes=15) > now:
        return None
    processed = now >= wake + timedelta(hours=1)
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
    sessions = []
    night = night_for(world, day)
    if night is not None:
        sessions.append(_sleep_point(world, night.bed, night.stages, night.latency_s, True, nap_field))
    nap = nap_for(world, day)
    if nap is not None:
        sessions.append(_sleep_point(world, nap.start, nap.stages, 300, False, nap_field))
    return [s for s in sessions if s is not None]


def exercise_points(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    if not world.has_day(day):
        return []
    plan = world.plan(day)
    if not plan.worn or plan.workout_start_min is None:
        return []
    start = (world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)).astimezone(timezone.utc)
    end = start + timedelta(minutes=plan.workout_minutes)
    if end + timedelta(minutes=5) > world.clock.now():
        return []
    rng = rng_for(world.seed, "google", "exercise", day.isoformat())
    kind = rng.choice(("WEIGHTLIFTING", "WEIGHTLIFTING", "RUNNING", "WALKING"))
    moving = kind != "WEIGHTLIFTING"
    value = {
        "interval": {k: v for k, v in interval(world, start, end).items() if not k.startswith("civil")},
        "exerciseType": kind, "displayName": kind.title(), "activeDuration": f"{plan.workout_minutes * 60}s",
        "exerciseEvents": [], "splits": [], "splitSummaries": [],
        "metricsSummary": {
            "caloriesKcal": round(plan.workout_minutes * rng.uniform(6, 10), 1),
            "distanceMillimeters": float(plan.workout_minutes * 160_000) if moving else 0.0,
            "steps": str(plan.workout_minutes * 150 if moving else 0),
            "averageHeartRateBeatsPerMinute": str(rng.randint(118, 145)),
            "activeZoneMinutes": str(plan.workout_minutes * 2),
            "heartRateZoneDurations": {"lightTime": "120s", "moderateTime": f"{plan.workout_minutes * 20}s",
                                       "vigorousTime": f"{plan.workout_minutes * 30}s", "peakTime": "60s"},
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
