"""Oura Cloud API v2 documents generated from the sandbox person (shapes per provider-apis.md §1)."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox.world import SandboxWorld, night_for, rng_for, stable_uuid


def _local_iso(world: SandboxWorld, instant: datetime) -> str:
    """Local time with its UTC offset, as Oura writes daily documents' timestamps."""
    return instant.astimezone(world.tz_at(instant)).isoformat(timespec="seconds")


def _utc_iso(instant: datetime) -> str:
    """UTC with an explicit +00:00 offset, as Oura writes heartrate rows."""
    return instant.astimezone(timezone.utc).isoformat(timespec="seconds")


LATE_SYNC_FROM_HOUR = 21


def _elapsed_fraction(world: SandboxWorld, day: date) -> float:
    """How much of a local day Oura has received by now (1.0 once it is complete).

    A late sync: what the ring records after 21:00 reaches Oura only when the phone app opens
    after the next morning's wake-up, so yesterday's figures still change this morning.
    """
    start = world.local_midnight(day)
    now = world.clock.now()
    next_day = day + timedelta(days=1)
    next_wake = world.local_midnight(next_day) + timedelta(minutes=world.plan(next_day).wake_min)
    if now < next_wake:
        now = min(now, start + timedelta(hours=LATE_SYNC_FROM_HOUR))
    return max(0.0, min(1.0, (now - start).total_seconds() / world.day_length_s(day)))


def daily_activity(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """The `daily_activity` document of one day, or None when the ring was not worn."""
    if not world.has_day(day):
        return None
    plan = world.plan(day)
    if not plan.worn:
        return None
    share = _elapsed_fraction(world, day)
    rng = rng_for(world.seed, "oura", "daily_activity", day.isoformat())
    steps = int(plan.steps * share)
    active = int(plan.active_kcal * share)
    high = plan.workout_minutes * 60 if share >= 1 else 0
    medium = int(steps / 110 * 60 * 0.4)
    low = int(steps / 110 * 60 * 0.6) + rng.randint(1800, 5400)
    sedentary = int(max(0, 16 * 3600 * share - high - medium - low))
    non_wear = sum(end - start for start, end in plan.nonwear_gaps) * 60
    met_items = [round(max(0.9, rng.gauss(1.4, 0.5)), 1) for _ in range(int(1440 * share))]
    return {
        "id": stable_uuid(world.seed, "oura", "daily_activity", day),
        "class_5_min": "".join(rng.choice("12233334") for _ in range(int(288 * share))),
        "score": rng.randint(55, 98),
        "active_calories": active,
        "average_met_minutes": round(rng.uniform(1.2, 2.2), 3),
        "contributors": {
            key: rng.randint(40, 100)
            for key in ("meet_daily_targets", "move_every_hour", "recovery_time",
                        "stay_active", "training_frequency", "training_volume")
        },
        # Not distance covered: the walking distance that would burn the day's energy (Oura's own
        # example has 20 122 m for 18 430 steps), so it follows the calories, not the steps.
        "equivalent_walking_distance": int(active * 16.5),
        "high_activity_met_minutes": high // 60 * 8,
        "high_activity_time": high,
        "inactivity_alerts": rng.randint(0, 3),
        "low_activity_met_minutes": low // 60 * 2,
        "low_activity_time": low,
        "medium_activity_met_minutes": medium // 60 * 4,
        "medium_activity_time": medium,
        "met": {
            "interval": 60.0,
            "items": met_items,
            "timestamp": _local_iso(world, world.local_midnight(day) + timedelta(hours=4)),
        },
        "meters_to_target": max(0, 8000 - int(steps * 0.78)),
        "non_wear_time": non_wear,
        "resting_time": rng.randint(6, 9) * 3600,
        "sedentary_met_minutes": sedentary // 60,
        "sedentary_time": sedentary,
        "steps": steps,
        "target_calories": 500,
        "target_meters": 8000,
        "total_calories": plan.bmr_kcal + active,
        "day": day.isoformat(),
        "timestamp": _local_iso(world, world.local_midnight(day) + timedelta(hours=4)),
    }


def heartrate_rows(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """Every `heartrate` row whose instant falls in one local day (up to now), oldest first."""
    if not world.has_day(day):
        return []
    plan = world.plan(day)
    if not plan.worn:
        return []
    rng = rng_for(world.seed, "oura", "heartrate", day.isoformat())
    midnight = world.local_midnight(day).astimezone(timezone.utc)
    step = world.ring_hr_interval_s
    now = world.clock.now()
    rows = []
    for offset in range(0, world.day_length_s(day), step):
        instant = midnight + timedelta(seconds=offset + rng.randint(0, min(20, step - 1)))
        minute = offset // 60
        bpm, source = _heart_rate_at(plan, minute, rng)
        if instant > now or any(start <= minute < end for start, end in plan.nonwear_gaps):
            continue
        rows.append({"bpm": bpm, "source": source, "timestamp": _utc_iso(instant)})
    return rows


def _heart_rate_at(plan: Any, minute: int, rng: Any) -> tuple[int, str]:
    """Circadian heart rate: low asleep, higher awake, high in a workout."""
    if minute < plan.wake_min or minute >= plan.bed_min:
        return plan.resting_hr + rng.randint(-3, 5), "sleep"
    start = plan.workout_start_min
    if start is not None and start <= minute < start + plan.workout_minutes:
        return rng.randint(115, 165), "workout"
    return plan.resting_hr + rng.randint(12, 35), rng.choice(("awake", "awake", "awake", "rest"))


def days_between(start: date, end: date) -> Iterator[date]:
    """Every day from start to end, inclusive."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


# -- the rest of the usercollection documents (each generator: world, day -> documents of that day) --

def _doc_id(world: SandboxWorld, kind: str, day: date, n: int = 0) -> str:
    return stable_uuid(world.seed, "oura", kind, day, n)


def _sample(world: SandboxWorld, start: datetime, values: list[Any], interval: float = 300.0) -> dict[str, Any]:
    return {"interval": interval, "items": values, "timestamp": _local_iso(world, start)}


def _night(world: SandboxWorld, day: date) -> Any:
    return night_for(world, day)


def _rescored(world: SandboxWorld, night: Any) -> bool:
    return world.clock.now() >= night.rescored_at


def _night_stages(world: SandboxWorld, night: Any) -> tuple[str, ...]:
    """The stages as Oura reports them now: a re-score moves a light slot into deep sleep."""
    stages = list(night.stages)
    if _rescored(world, night):
        light = [i for i, stage in enumerate(stages) if stage == "light"]
        if light:
            stages[light[len(light) // 3]] = "deep"
    return tuple(stages)


_PHASE_CODE = {"deep": "1", "light": "2", "rem": "3", "awake": "4"}


def _sleep_document(world: SandboxWorld, night: Any, kind: str | None, n: int, start: datetime, stages: tuple[str, ...]) -> dict[str, Any]:
    rng = rng_for(world.seed, "oura", "sleep", night.day.isoformat(), n)
    seconds = {stage: stages.count(stage) * 300 for stage in ("deep", "light", "rem", "awake")}
    asleep = seconds["deep"] + seconds["light"] + seconds["rem"]
    in_bed = len(stages) * 300
    hr_items: list[Any] = [night.resting_hr + rng.randint(-2, 6) for _ in stages]
    hrv_items: list[Any] = [rng.randint(25, 80) for _ in stages]
    for items in (hr_items, hrv_items):  # the ring loses contact now and then: null samples
        for i in range(len(items)):
            if rng.random() < 0.06:
                items[i] = None
    hr_values = [v for v in hr_items if v is not None]
    hrv_values = [v for v in hrv_items if v is not None]
    rescored = _rescored(world, night)
    end = start + timedelta(seconds=in_bed)
    average_hr = round(sum(hr_values) / len(hr_values), 3) if hr_values else None
    if kind == "long_sleep" and world.implausible(night.day):
        average_hr = 4.25  # the value of Oura's own documentation example
    return {
        "id": _doc_id(world, "sleep", night.day, n),
        "average_breath": round(rng.uniform(13.5, 16.5), 3),
        "average_heart_rate": average_hr,
        "average_hrv": round(sum(hrv_values) / len(hrv_values)) if hrv_values else None,
        "awake_time": seconds["awake"],
        "bedtime_end": _local_iso(world, end),
        "bedtime_start": _local_iso(world, start),
        "day": night.day.isoformat(),
        "deep_sleep_duration": seconds["deep"],
        "efficiency": round(100 * asleep / in_bed) if in_bed else 0,
        "heart_rate": _sample(world, start, hr_items),
        "hrv": _sample(world, start, hrv_items),
        "latency": night.latency_s if kind == "long_sleep" else 300,
        "light_sleep_duration": seconds["light"],
        "low_battery_alert": False,
        "lowest_heart_rate": min(hr_values) if hr_values else None,
        "movement_30_sec": "".join(rng.choice("1112") for _ in range(len(stages) * 10)),
        "period": n,
        "readiness": {
            "contributors": {"activity_balance": rng.randint(50, 100), "body_temperature": rng.randint(70, 100),
                             "hrv_balance": rng.randint(40, 100), "previous_day_activity": rng.randint(50, 100),
                             "previous_night": rng.randint(40, 100), "recovery_index": rng.randint(40, 100),
                             "resting_heart_rate": rng.randint(50, 100), "sleep_balance": rng.randint(50, 100)},
            "score": rng.randint(55, 95),
            "temperature_deviation": round(rng.uniform(-0.6, 0.6), 2),
            "temperature_trend_deviation": round(rng.uniform(-0.4, 0.4), 2),
        } if kind == "long_sleep" else None,
        "readiness_score_delta": None,
        "rem_sleep_duration": seconds["rem"],
        "restless_periods": rng.randint(80, 300),
        "sleep_algorithm_version": "v2" if rescored else "v1",
        "sleep_analysis_reason": "bedtime_edit" if rescored else "foreground_sleep_analysis",
        "sleep_phase_5_min": "".join(_PHASE_CODE[stage] for stage in stages),
        "sleep_score_delta": None,
        "time_in_bed": in_bed,
        "total_sleep_duration": asleep,
        "type": kind,
    }


def sleep(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """Sleep periods whose wake-up day is `day`: the night, and sometimes a nap, a rest, a deleted one
    or an evening doze whose `type` is null (the spec lets it be; a sleep of unknown kind)."""
    night = _night(world, day)
    if night is None or night.wake > world.clock.now():
        return []
    rng = rng_for(world.seed, "oura", "sleep-extras", day.isoformat())
    documents = [_sleep_document(world, night, "long_sleep", 0, night.bed, _night_stages(world, night))]
    nap_start = world.local_midnight(day).astimezone(timezone.utc) + timedelta(hours=14, minutes=rng.randint(0, 120))
    extras: list[tuple[str | None, float]] = [("late_nap", 0.2), ("rest", 0.06), ("deleted", 0.04), (None, 0.08)]
    following = _night(world, day + timedelta(days=1))
    # an evening doze ends before the next night begins: nobody sleeps twice at once
    before = following.bed - timedelta(minutes=10) if following is not None else world.clock.now()
    for n, (kind, chance) in enumerate(extras, start=1):
        start = nap_start + timedelta(hours=2 * (n - 1))
        if rng.random() < chance and start + timedelta(minutes=40) <= min(world.clock.now(), before):
            stages = tuple(rng.choice(("light", "light", "deep", "awake")) for _ in range(rng.randint(4, 8)))
            documents.append(_sleep_document(world, night, kind, n, start, stages))
    return documents


def daily_sleep(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    night = _night(world, day)
    if night is None or night.wake > world.clock.now():
        return []
    rng = rng_for(world.seed, "oura", "daily_sleep", day.isoformat(), _rescored(world, night))
    return [{
        "id": _doc_id(world, "daily_sleep", day),
        "contributors": {key: rng.randint(40, 100) for key in (
            "deep_sleep", "efficiency", "latency", "rem_sleep", "restfulness", "timing", "total_sleep")},
        "day": day.isoformat(),
        "score": rng.randint(55, 95),
        "timestamp": _local_iso(world, world.local_midnight(day)),
    }]


def daily_readiness(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    night = _night(world, day)
    if night is None or night.wake > world.clock.now():
        return []
    rng = rng_for(world.seed, "oura", "daily_readiness", day.isoformat())
    return [{
        "id": _doc_id(world, "daily_readiness", day),
        "contributors": {key: rng.randint(40, 100) for key in (
            "activity_balance", "body_temperature", "hrv_balance", "previous_day_activity", "previous_night",
            "recovery_index", "resting_heart_rate", "sleep_balance", "sleep_regularity")},
        "day": day.isoformat(),
        "score": rng.randint(50, 98),
        "temperature_deviation": round(rng.uniform(-0.6, 0.6), 2),
        "temperature_trend_deviation": round(rng.uniform(-0.4, 0.4), 2),
        "timestamp": _local_iso(world, world.local_midnight(day)),
    }]


def sleep_time(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    if _night(world, day) is None:
        return []
    rng = rng_for(world.seed, "oura", "sleep_time", day.isoformat())
    offset = int(world.local_midnight(day).utcoffset().total_seconds())  # type: ignore[union-attr]
    return [{
        "id": _doc_id(world, "sleep_time", day),
        "day": day.isoformat(),
        "optimal_bedtime": {"day_tz": offset, "end_offset": rng.randint(-1800, 0), "start_offset": rng.randint(-5400, -3600)},
        "recommendation": rng.choice(("improve_efficiency", "earlier_bedtime", "later_bedtime", "follow_optimal_bedtime")),
        "status": "optimal_found",
    }]


def daily_spo2(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    night = _night(world, day)
    if night is None or night.wake > world.clock.now():
        return []
    rng = rng_for(world.seed, "oura", "daily_spo2", day.isoformat())
    return [{
        "id": _doc_id(world, "daily_spo2", day),
        "breathing_disturbance_index": rng.randint(0, 12),
        "day": day.isoformat(),
        "spo2_percentage": {"average": round(rng.uniform(94.5, 98.5), 3)},
    }]


def daily_stress(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    if not _worn_and_past(world, day):
        return []
    rng = rng_for(world.seed, "oura", "daily_stress", day.isoformat())
    high, recovery = rng.randint(0, 6) * 900, rng.randint(0, 8) * 900
    summary = "stressful" if high > recovery + 1800 else "restored" if recovery > high + 1800 else "normal"
    return [{"id": _doc_id(world, "daily_stress", day), "day": day.isoformat(), "day_summary": summary,
             "recovery_high": recovery, "stress_high": high}]


def daily_resilience(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    if not _worn_and_past(world, day):
        return []
    rng = rng_for(world.seed, "oura", "daily_resilience", day.isoformat())
    return [{
        "id": _doc_id(world, "daily_resilience", day),
        "contributors": {"sleep_recovery": round(rng.uniform(40, 90), 1),
                         "daytime_recovery": round(rng.uniform(20, 80), 1), "stress": round(rng.uniform(20, 80), 1)},
        "day": day.isoformat(),
        "level": rng.choice(("limited", "adequate", "solid", "strong", "exceptional")),
    }]


def daily_cardiovascular_age(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    if not _worn_and_past(world, day):
        return []
    rng = rng_for(world.seed, "oura", "daily_cardiovascular_age", day.isoformat())
    return [{"id": _doc_id(world, "daily_cardiovascular_age", day), "day": day.isoformat(),
             "pulse_wave_velocity": round(rng.uniform(6.5, 8.0), 2),
             "vascular_age": rng.randint(33, 38)}]


def vo2_max(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    if day.weekday() != 0 or not _worn_and_past(world, day):
        return []
    rng = rng_for(world.seed, "oura", "vO2_max", day.isoformat())
    return [{"id": _doc_id(world, "vO2_max", day), "day": day.isoformat(),
             "timestamp": _local_iso(world, world.local_midnight(day) + timedelta(hours=9)),
             "vo2_max": round(rng.uniform(44, 47), 1)}]


def workout(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    plan = world.plan(day) if world.has_day(day) else None
    if plan is None or not plan.worn or plan.workout_start_min is None:
        return []
    start = (world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)).astimezone(timezone.utc)
    end = start + timedelta(minutes=plan.workout_minutes)
    if end > world.clock.now():
        return []
    rng = rng_for(world.seed, "oura", "workout", day.isoformat())
    activity = rng.choice(("strengthTraining", "running", "cycling", "walking"))
    return [{
        "id": _doc_id(world, "workout", day),
        "activity": activity,
        "calories": round(plan.workout_minutes * rng.uniform(6, 10), 1),
        "day": day.isoformat(),
        "distance": round(plan.workout_minutes * 150.0, 1) if activity in ("running", "cycling", "walking") else None,
        "end_datetime": _local_iso(world, end),
        "intensity": rng.choice(("easy", "moderate", "hard")),
        "label": None,
        "source": rng.choice(("autodetected", "confirmed", "manual")),
        "start_datetime": _local_iso(world, start),
    }]


def session(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    rng = rng_for(world.seed, "oura", "session", day.isoformat())
    if not _worn_and_past(world, day) or rng.random() > 0.12:
        return []
    start = (world.local_midnight(day) + timedelta(hours=20, minutes=rng.randint(0, 60))).astimezone(timezone.utc)
    minutes = rng.randint(8, 20)
    return [{
        "id": _doc_id(world, "session", day),
        "day": day.isoformat(),
        "end_datetime": _local_iso(world, start + timedelta(minutes=minutes)),
        "heart_rate": _sample(world, start, [rng.randint(55, 68) for _ in range(minutes * 12)], 5.0),
        "heart_rate_variability": _sample(world, start, [rng.randint(30, 80) for _ in range(minutes * 12)], 5.0),
        "mood": rng.choice(("bad", "worse", "same", "good", "great")),
        "motion_count": _sample(world, start, [rng.randint(0, 3) for _ in range(minutes * 12)], 5.0),
        "start_datetime": _local_iso(world, start),
        "type": rng.choice(("breathing", "meditation", "nap", "relaxation", "rest")),
    }]


def enhanced_tag(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    rng = rng_for(world.seed, "oura", "enhanced_tag", day.isoformat())
    if not _worn_and_past(world, day) or rng.random() > 0.15:
        return []
    at = world.local_midnight(day) + timedelta(hours=rng.randint(8, 22))
    return [{"id": _doc_id(world, "enhanced_tag", day), "tag_type_code": rng.choice(("tag_generic_caffeine", "tag_generic_alcohol", "tag_generic_late_meal")),
             "start_time": _local_iso(world, at), "end_time": None, "start_day": day.isoformat(), "end_day": None,
             "comment": None, "custom_name": None}]


def tag(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    return [{"id": d["id"], "day": day.isoformat(), "text": None, "timestamp": d["start_time"],
             "tags": [d["tag_type_code"].removeprefix("tag_generic_")]} for d in enhanced_tag(world, day)]


def rest_mode_period(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    rng = rng_for(world.seed, "oura", "rest_mode_period", day.isoformat())
    if not _worn_and_past(world, day) or rng.random() > 0.02:
        return []
    start = world.local_midnight(day) + timedelta(hours=9)
    end_day = day + timedelta(days=rng.randint(1, 3))
    return [{"id": _doc_id(world, "rest_mode_period", day), "end_day": end_day.isoformat(),
             "end_time": _local_iso(world, world.local_midnight(end_day) + timedelta(hours=9)),
             "episodes": [{"tags": ["tag_generic_fever"], "timestamp": _local_iso(world, start)}],
             "start_day": day.isoformat(), "start_time": _local_iso(world, start)}]


def ring_configuration(world: SandboxWorld) -> list[dict[str, Any]]:
    set_up = world.local_midnight(world.first_day()) - timedelta(days=200)
    return [{"id": stable_uuid(world.seed, "oura", "ring"), "color": "stealth_black", "design": "horizon",
             "firmware_version": "2.9.18", "hardware_type": "gen3", "set_up_at": _local_iso(world, set_up), "size": 9}]


def personal_info(world: SandboxWorld) -> dict[str, Any]:
    return {"id": stable_uuid(world.seed, "oura", "person"), "age": 38, "weight": 78.4, "height": 1.81,
            "biological_sex": "male", "email": "sandbox.person@example.com"}


def daily_activity_documents(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    document = daily_activity(world, day)
    return [document] if document is not None else []


def _worn_and_past(world: SandboxWorld, day: date) -> bool:
    return world.has_day(day) and world.plan(day).worn and _elapsed_fraction(world, day) >= 1.0
