"""Withings data of the sandbox person: a Body Scan scale, a blood-pressure cuff, a ScanWatch, and
the step counter of their phone.

Measures are integers with a power-of-ten `unit` (real value = value × 10^unit). Groups and
summaries carry `modified`: some weigh-ins are corrected hours later, and sleep summaries keep
changing until `completed`, which is what `lastupdate` sync has to catch.

Shapes as the live API sends them (real-payload-corrections.md §6-11): measure groups have no
`timezone` of their own (the answer's body has one) and spell `modelid`, sleep summaries
`model_id`; a Body Scan group repeats whole-body measures at `position` 7 and carries segmental
types 173-175 at a position per limb and the trunk; the phone's activities have `deviceid` and
`hash_deviceid` null, two apps can report one day; workouts the phone detected have no heart-rate
source and say so with `hr_average`, `hr_min`, `hr_max` and the zones at 0.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox.world import DEFAULT_PERSON, SandboxWorld, night_for, rng_for

SCALE = {"deviceid": "a3f1c0de5ca1e0000000000000000001", "model": "Body Scan", "model_id": 10}
CUFF = {"deviceid": "a3f1c0de5ca1e0000000000000000002", "model": "BPM Connect", "model_id": 45}
WATCH = {"deviceid": "a3f1c0de5ca1e0000000000000000003", "model": "ScanWatch 2", "model_id": 93}
# Apps feeding Withings from the phone: no device ids, an app model id and a brand.
PHONE_APPS = ({"model": "GoogleFit tracker", "modelid": 1055, "brand": 18},
              {"model": "HealthKit step iPhone tracker", "modelid": 1057, "brand": 18})

WHOLE_BODY = 7  # Withings' `position` of a whole-body value in a segmental group
# Segmental types (173 fat-free mass, 174 fat mass, 175 muscle mass) per position, with each
# segment's share of the whole-body value.
SEGMENT_SHARES = {12: 0.46, 10: 0.17, 11: 0.17, 2: 0.06, 3: 0.06}  # torso, left leg, right leg, right arm, left arm


def user_id(world: SandboxWorld) -> str:
    """The person's Withings `userid` (the token answer's): 13371337 for the default person."""
    return "13371337" if world.person == DEFAULT_PERSON else str(rng_for(world.seed, "withings", "userid").randrange(10**7, 10**8))


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _measure(value: float, type_: int, unit: int, position: int | None = None) -> dict[str, int]:
    """Withings' integer encoding: `value × 10^unit`."""
    measure = {"value": round(value / 10**unit), "type": type_, "unit": unit, "algo": 0, "fm": 131}
    if position is not None:
        measure["position"] = position
    return measure


def body_scan_measures(kg: float, fat_ratio: float, pulse: int, implausible: bool = False) -> list[dict[str, int]]:
    """A Body Scan weigh-in as the scale reports it: weight and fat ratio without a position, the
    whole-body composition at position 7 (fat-free and fat mass twice, identical), then the
    segments (types 173, 174, 175 at positions 12, 10, 11, 2, 3)."""
    fat_kg = kg * fat_ratio / 100
    free_kg = kg - fat_kg
    muscle_kg = free_kg * 0.93
    whole = [_measure(free_kg, 5, -2, WHOLE_BODY), _measure(free_kg, 5, -2, WHOLE_BODY),
             _measure(fat_kg, 8, -2, WHOLE_BODY), _measure(fat_kg, 8, -2, WHOLE_BODY),
             _measure(muscle_kg, 76, -2, WHOLE_BODY), _measure(free_kg * 0.7, 77, -2, WHOLE_BODY),
             _measure(free_kg * 0.05, 88, -2, WHOLE_BODY), _measure(free_kg * 0.29, 168, -2, WHOLE_BODY),
             _measure(free_kg * 0.41, 169, -2, WHOLE_BODY), _measure(fat_ratio / 2.5, 170, -1, WHOLE_BODY)]
    segments = [_measure(total * share, type_, -2, position)
                for type_, total in ((173, free_kg), (174, fat_kg), (175, muscle_kg))
                for position, share in SEGMENT_SHARES.items()]
    weight = _measure(0 if implausible else kg, 1, -3)  # a scale that reported 0 kg once
    return [weight, *whole, *segments, _measure(pulse, 11, 0), _measure(fat_ratio, 6, -3)]


@dataclass(frozen=True)
class MeasureGroup:
    """A group and the times it was created and (maybe) modified."""

    day: date
    group: dict[str, Any]
    modified_later_at: datetime | None


def measure_groups(world: SandboxWorld, day: date) -> list[MeasureGroup]:
    """The day's measure groups: a morning weigh-in (most days) and now and then a blood pressure."""
    if not world.has_day(day):
        return []
    rng = rng_for(world.seed, "withings", "measures", day.isoformat())
    groups: list[MeasureGroup] = []
    implausible = world.implausible(day)
    if rng.random() < 0.8 or implausible:
        at = (world.local_midnight(day) + timedelta(minutes=world.plan(day).wake_min + rng.randint(5, 40))).astimezone(timezone.utc)
        fat_ratio = 19.5 + rng.gauss(0, 0.6)
        attrib = 2 if rng.random() < 0.05 else (1 if rng.random() < 0.03 else 0)
        measures = body_scan_measures(world.weight_kg(day), fat_ratio, world.plan(day).resting_hr + 8, implausible)
        groups.append(_group(world, day, at, rng, measures, SCALE, 0 if implausible else attrib, grpid_salt=1))
    if rng.random() < 0.12:
        at = (world.local_midnight(day) + timedelta(hours=19, minutes=rng.randint(0, 59))).astimezone(timezone.utc)
        measures = [_measure(rng.randint(74, 84), 9, 0), _measure(rng.randint(115, 128), 10, 0),
                    _measure(rng.randint(58, 72), 11, 0)]
        groups.append(_group(world, day, at, rng, measures, CUFF, 0, grpid_salt=2))
    return [g for g in groups if datetime.fromtimestamp(g.group["created"], timezone.utc) <= world.clock.now()]


def _group(world: SandboxWorld, day: date, at: datetime, rng: Any, measures: list[dict[str, int]],
           device: dict[str, Any], attrib: int, grpid_salt: int) -> MeasureGroup:
    created = at + timedelta(seconds=rng.randint(20, 90))
    later = created + timedelta(hours=rng.randint(1, 30)) if rng.random() < 0.08 else None
    modified = later if later is not None and later <= world.clock.now() else created
    group = {
        "grpid": day.toordinal() * 10 + grpid_salt, "attrib": attrib, "date": _epoch(at), "created": _epoch(created),
        "modified": _epoch(modified), "category": 1, "deviceid": device["deviceid"],
        "hash_deviceid": device["deviceid"], "measures": measures, "modelid": device["model_id"],
        "model": device["model"], "comment": None,
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


def phone_activities(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """The phone apps' daily step counts: every day the watch stayed off, and on others now and then;
    some days two apps report. No device ids and no heart-rate source (every `hr_*` is 0)."""
    if not world.has_day(day):
        return []
    plan = world.plan(day)
    rng = rng_for(world.seed, "withings", "phone", day.isoformat())
    apps = 0 if plan.worn and rng.random() > 0.3 else (2 if rng.random() < 0.35 else 1)
    start = world.local_midnight(day)
    now = world.clock.now()
    share = max(0.0, min(1.0, (now - start).total_seconds() / world.day_length_s(day)))
    if share == 0:
        return []
    modified = min(now, start.astimezone(timezone.utc) + timedelta(seconds=world.day_length_s(day) + 5400))
    records = []
    for app in PHONE_APPS[:apps]:
        steps = int(plan.steps * rng.uniform(0.6, 0.9) * share)
        records.append({
            "steps": steps, "distance": round(steps * 0.71, 3), "elevation": 0, "soft": int(steps / 120 * 30),
            "moderate": int(steps / 120 * 20), "intense": 0, "active": int(steps / 120 * 20),
            "calories": round(steps * 0.04, 3), "totalcalories": round(plan.bmr_kcal * share + steps * 0.04, 3),
            "hr_average": 0, "hr_min": 0, "hr_max": 0, "hr_zone_0": 0, "hr_zone_1": 0, "hr_zone_2": 0, "hr_zone_3": 0,
            "deviceid": None, "hash_deviceid": None, "timezone": world.tz_for(day).key, "date": day.isoformat(),
            "modified": _epoch(modified), **app, "is_tracker": False,
        })
    return records


def activities(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """Every activity summary Withings holds for a day: the watch's, then the phone apps'."""
    watch = activity(world, day)
    return ([watch] if watch else []) + phone_activities(world, day)


def phone_workout(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """A walk the phone detected: no heart-rate source, so `hr_*` and the zones are 0."""
    if not world.has_day(day):
        return None
    rng = rng_for(world.seed, "withings", "phone-walk", day.isoformat())
    if rng.random() > 0.3:
        return None
    start = (world.local_midnight(day) + timedelta(hours=12, minutes=rng.randint(0, 240))).astimezone(timezone.utc)
    minutes = rng.randint(9, 35)
    end = start + timedelta(minutes=minutes)
    if end + timedelta(minutes=30) > world.clock.now():
        return None
    steps = minutes * rng.randint(95, 115)
    return {
        "id": day.toordinal() * 100 + 11, "category": 1, "timezone": world.tz_for(day).key, "model": 1055,
        "attrib": 0, "startdate": _epoch(start), "enddate": _epoch(end), "date": day.isoformat(), "deviceid": None,
        "data": {"calories": round(steps * 0.045), "intensity": 30, "manual_distance": 0, "manual_calories": 0,
                 "hr_average": 0, "hr_min": 0, "hr_max": 0, "hr_zone_0": 0, "hr_zone_1": 0, "hr_zone_2": 0,
                 "hr_zone_3": 0, "pause_duration": 0, "steps": steps, "distance": round(steps * 0.78),
                 "elevation": rng.randint(0, 12), "algo_pause_duration": None, "spo2_average": None},
        "modified": _epoch(end + timedelta(minutes=30)),
    }


def workouts(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """Every workout of a day: the watch's, then a walk the phone detected."""
    return [w for w in (workout(world, day), phone_workout(world, day)) if w is not None]


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
