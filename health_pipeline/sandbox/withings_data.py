"""Withings data of the sandbox person: a smart scale, a blood-pressure cuff and a ScanWatch.

Measures are integers with a power-of-ten `unit` (real value = value × 10^unit). Groups and
summaries carry `modified`: some weigh-ins are corrected hours later, and sleep summaries keep
changing until `completed`, which is what `lastupdate` sync has to catch.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox.world import SandboxWorld, night_for, rng_for

SCALE = {"deviceid": "a3f1c0de5ca1e0000000000000000001", "model": "Body Comp", "model_id": 13}
CUFF = {"deviceid": "a3f1c0de5ca1e0000000000000000002", "model": "BPM Connect", "model_id": 45}
WATCH = {"deviceid": "a3f1c0de5ca1e0000000000000000003", "model": "ScanWatch 2", "model_id": 93}


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _measure(value: float, type_: int, unit: int) -> dict[str, int]:
    """Withings' integer encoding: `value × 10^unit`."""
    return {"value": round(value / 10**unit), "type": type_, "unit": unit, "algo": 0, "fm": 131}


@dataclass(frozen=True)
class MeasureGroup:
    """A group and the times it was created and (maybe) modified."""

    day: date
    group: dict[str, Any]
    modified_later_at: datetime | None


def weight_kg(world: SandboxWorld, day: date) -> float:
    """The person's weight trend: a slow loss with day-to-day noise."""
    rng = rng_for(world.seed, "withings", "weight", day.isoformat())
    return 82.0 - (day.toordinal() % 730) * 0.004 + rng.gauss(0, 0.35)


def measure_groups(world: SandboxWorld, day: date) -> list[MeasureGroup]:
    """The day's measure groups: a morning weigh-in (most days) and now and then a blood pressure."""
    if not world.has_day(day):
        return []
    rng = rng_for(world.seed, "withings", "measures", day.isoformat())
    groups: list[MeasureGroup] = []
    tz = world.tz_for(day).key
    if rng.random() < 0.8:
        at = (world.local_midnight(day) + timedelta(minutes=world.plan(day).wake_min + rng.randint(5, 40))).astimezone(timezone.utc)
        kg = weight_kg(world, day)
        fat_ratio = 19.5 + rng.gauss(0, 0.6)
        fat_kg = kg * fat_ratio / 100
        attrib = 2 if rng.random() < 0.05 else (1 if rng.random() < 0.03 else 0)
        measures = [
            _measure(kg, 1, -3), _measure(kg - fat_kg, 5, -3), _measure(fat_ratio, 6, -3), _measure(fat_kg, 8, -3),
            _measure((kg - fat_kg) * 0.93, 76, -2), _measure((kg - fat_kg) * 0.7, 77, -2),
            _measure((kg - fat_kg) * 0.05, 88, -2), _measure(world.plan(day).resting_hr + 8, 11, 0),
        ]
        groups.append(_group(world, day, at, rng, measures, SCALE, attrib, tz, grpid_salt=1))
    if rng.random() < 0.12:
        at = (world.local_midnight(day) + timedelta(hours=19, minutes=rng.randint(0, 59))).astimezone(timezone.utc)
        measures = [_measure(rng.randint(74, 84), 9, 0), _measure(rng.randint(115, 128), 10, 0),
                    _measure(rng.randint(58, 72), 11, 0)]
        groups.append(_group(world, day, at, rng, measures, CUFF, 0, tz, grpid_salt=2))
    return [g for g in groups if datetime.fromtimestamp(g.group["created"], timezone.utc) <= world.clock.now()]


def _group(world: SandboxWorld, day: date, at: datetime, rng: Any, measures: list[dict[str, int]],
           device: dict[str, Any], attrib: int, tz: str, grpid_salt: int) -> MeasureGroup:
    created = at + timedelta(seconds=rng.randint(20, 90))
    later = created + timedelta(hours=rng.randint(1, 30)) if rng.random() < 0.08 else None
    modified = later if later is not None and later <= world.clock.now() else created
    group = {
        "grpid": day.toordinal() * 10 + grpid_salt, "attrib": attrib, "date": _epoch(at), "created": _epoch(created),
        "modified": _epoch(modified), "category": 1, "deviceid": device["deviceid"],
        "hash_deviceid": device["deviceid"], "model": device["model"], "model_id": device["model_id"],
        "comment": None, "timezone": tz, "measures": measures,
    }
    if modified != created:  # a later correction re-attributes the weigh-in to this user
        group["attrib"] = 0
    return MeasureGroup(day, group, later)


def activity(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """The watch's daily activity summary (updated during the day, `modified` moves)."""
    if not world.has_day(day) or not world.plan(day).worn:
        return None
    plan = world.plan(day)
    start = world.local_midnight(day)
    now = world.clock.now()
    share = max(0.0, min(1.0, (now - start).total_seconds() / world.day_length_s(day)))
    if share == 0:
        return None
    rng = rng_for(world.seed, "withings", "activity", day.isoformat())
    steps = int(plan.steps * rng.uniform(0.96, 1.04) * share)
    intense = plan.workout_minutes * 60 if share >= 1 else 0
    moderate, soft = int(steps / 120 * 25), int(steps / 120 * 35)
    modified = min(now, start.astimezone(timezone.utc) + timedelta(seconds=world.day_length_s(day) + 3600))
    return {
        "date": day.isoformat(), "timezone": world.tz_for(day).key, "deviceid": WATCH["deviceid"],
        "hash_deviceid": WATCH["deviceid"], "brand": 1, "is_tracker": True, "modified": _epoch(modified),
        "model": WATCH["model"], "modelid": WATCH["model_id"],
        "steps": steps, "distance": round(steps * 0.76, 2), "elevation": rng.randint(2, 14) * share,
        "soft": soft, "moderate": moderate, "intense": intense, "active": moderate + intense,
        "calories": round(plan.active_kcal * share * rng.uniform(0.9, 1.1), 2),
        "totalcalories": round((plan.bmr_kcal + plan.active_kcal) * share, 2),
        "hr_average": plan.resting_hr + 18, "hr_min": plan.resting_hr - 3, "hr_max": 150 if intense else 118,
        "hr_zone_0": int(50000 * share), "hr_zone_1": int(9000 * share), "hr_zone_2": intense // 2, "hr_zone_3": intense // 4,
    }


def workout(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    if not world.has_day(day):
        return None
    plan = world.plan(day)
    if not plan.worn or plan.workout_start_min is None:
        return None
    start = (world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)).astimezone(timezone.utc)
    end = start + timedelta(minutes=plan.workout_minutes)
    if end + timedelta(minutes=10) > world.clock.now():
        return None
    rng = rng_for(world.seed, "withings", "workout", day.isoformat())
    category = rng.choice((16, 16, 2, 1, 6))
    moving = category in (1, 2, 6)
    return {
        "id": day.toordinal() * 100 + 7, "category": category, "timezone": world.tz_for(day).key,
        "model": WATCH["model_id"], "attrib": 7, "startdate": _epoch(start), "enddate": _epoch(end),
        "date": day.isoformat(), "modified": _epoch(end + timedelta(minutes=10)), "deviceid": WATCH["deviceid"],
        "data": {
            "calories": round(plan.workout_minutes * rng.uniform(6, 10), 2), "intensity": rng.randint(30, 80),
            "manual_calories": 0, "manual_intensity": 0,
            "distance": round(plan.workout_minutes * 160.0, 1) if moving else 0,
            "manual_distance": 0, "steps": plan.workout_minutes * 150 if moving else 0, "elevation": 0,
            "hr_average": rng.randint(115, 140), "hr_min": rng.randint(80, 95), "hr_max": rng.randint(150, 175),
            "hr_zone_0": 0, "hr_zone_1": 600, "hr_zone_2": plan.workout_minutes * 30, "hr_zone_3": plan.workout_minutes * 20,
            "pause_duration": 0, "algo_pause_duration": 0, "spo2_average": None,
        },
    }


_DEFAULT_SUMMARY_FIELDS = ("wakeupduration", "lightsleepduration", "deepsleepduration", "remsleepduration",
                           "durationtosleep", "durationtowakeup", "wakeupcount")


def sleep_summary(world: SandboxWorld, day: date, data_fields: list[str] | None) -> dict[str, Any] | None:
    """The night ending on `day` as the watch summarises it; it completes two hours after waking."""
    night = night_for(world, day)
    now = world.clock.now()
    if night is None or night.wake + timedelta(minutes=10) > now:
        return None
    completed = now >= night.wake + timedelta(hours=2)
    rng = rng_for(world.seed, "withings", "sleep", day.isoformat())
    seconds = night.seconds
    asleep = seconds["deep"] + seconds["light"] + seconds["rem"]
    in_bed = len(night.stages) * 300
    data: dict[str, Any] = {
        "wakeupduration": seconds["awake"], "lightsleepduration": seconds["light"],
        "deepsleepduration": seconds["deep"], "remsleepduration": seconds["rem"],
        "durationtosleep": night.latency_s, "durationtowakeup": rng.randint(1, 10) * 60,
        "wakeupcount": night.stages.count("awake"), "total_timeinbed": in_bed, "total_sleep_time": asleep,
        "asleepduration": asleep, "sleep_efficiency": round(asleep / in_bed, 2), "sleep_latency": night.latency_s,
        "wakeup_latency": rng.randint(60, 600), "waso": max(0, seconds["awake"] - night.latency_s),
        "out_of_bed_count": rng.randint(0, 2), "nb_rem_episodes": night.stages.count("rem") // 4 + 1,
        "sleep_score": rng.randint(55, 95) if completed else None,
        "hr_average": night.resting_hr + 3, "hr_min": night.resting_hr - 2, "hr_max": night.resting_hr + 20,
        "rr_average": rng.randint(13, 16), "rr_min": 11, "rr_max": 19,
        "rmssd_start_avg": rng.randint(30, 60), "rmssd_end_avg": rng.randint(35, 70),
        "breathing_disturbances_intensity": rng.randint(0, 20), "snoring": rng.randint(0, 900),
        "snoringepisodecount": rng.randint(0, 6), "apnea_hypopnea_index": rng.randint(0, 4),
    }
    wanted = data_fields if data_fields else list(_DEFAULT_SUMMARY_FIELDS)
    return {
        "id": day.toordinal() * 100 + 3, "timezone": world.tz_for(day).key, "model": 16, "model_id": WATCH["model_id"],
        "hash_deviceid": WATCH["deviceid"], "startdate": _epoch(night.bed), "enddate": _epoch(night.wake),
        "date": day.isoformat(), "created": _epoch(night.wake + timedelta(minutes=10)),
        "modified": _epoch(night.wake + (timedelta(hours=2) if completed else timedelta(minutes=10))),
        "completed": completed,
        "data": {key: data[key] for key in wanted if key in data},
    }


def intraday_minutes(world: SandboxWorld, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """Per-minute watch samples (steps, heart rate) in [start, end), keyed by epoch-second strings."""
    series: dict[str, dict[str, Any]] = {}
    minute = start.replace(second=0, microsecond=0)
    if minute < start:
        minute += timedelta(minutes=1)
    now = world.clock.now()
    while minute < end and minute <= now:
        day = world.day_of(minute)
        if world.has_day(day) and world.plan(day).worn:
            plan = world.plan(day)
            rng = rng_for(world.seed, "withings", "intraday", _epoch(minute))
            local_min = int((minute - world.local_midnight(day).astimezone(timezone.utc)).total_seconds() // 60)
            asleep = local_min < plan.wake_min or local_min >= plan.bed_min
            sample: dict[str, Any] = {"deviceid": WATCH["deviceid"], "model": WATCH["model"], "model_id": WATCH["model_id"],
                                      "heart_rate": plan.resting_hr + (rng.randint(-2, 5) if asleep else rng.randint(10, 35))}
            if not asleep and rng.random() < 0.35:
                sample["steps"] = rng.randint(5, 120)
            series[str(_epoch(minute))] = sample
        minute += timedelta(minutes=1)
    return series


_STATE = {"awake": 0, "light": 1, "deep": 2, "rem": 3}


def sleep_segments(world: SandboxWorld, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """High-frequency sleep: stage segments overlapping [start, end), each with per-minute hr/rr."""
    segments: list[dict[str, Any]] = []
    day = start.astimezone(world.tz).date()
    last = end.astimezone(world.tz).date() + timedelta(days=1)
    while day <= last:
        night = night_for(world, day)
        if night is not None and night.wake <= world.clock.now():
            for i, stage in enumerate(night.stages):
                seg_start = night.bed + timedelta(seconds=300 * i)
                if start <= seg_start < end:
                    rng = rng_for(world.seed, "withings", "hf", _epoch(seg_start))
                    minutes = [str(_epoch(seg_start + timedelta(minutes=m))) for m in range(5)]
                    segments.append({
                        "startdate": _epoch(seg_start), "enddate": _epoch(seg_start + timedelta(seconds=300)),
                        "state": _STATE[stage], "model": "ScanWatch 2", "model_id": WATCH["model_id"],
                        "hash_deviceid": WATCH["deviceid"],
                        "hr": {m: night.resting_hr + rng.randint(-2, 6) for m in minutes},
                        "rr": {m: rng.randint(12, 17) for m in minutes},
                    })
        day += timedelta(days=1)
    return segments
