"""Oura Cloud API v2 documents generated from the sandbox person (shapes per provider-apis.md §1)."""

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox.world import SandboxWorld, rng_for, stable_uuid


def _local_iso(world: SandboxWorld, instant: datetime) -> str:
    """Local time with its UTC offset, as Oura writes daily documents' timestamps."""
    return instant.astimezone(world.tz).isoformat(timespec="seconds")


def _utc_iso(instant: datetime) -> str:
    """UTC with an explicit +00:00 offset, as Oura writes heartrate rows."""
    return instant.astimezone(timezone.utc).isoformat(timespec="seconds")


def _elapsed_fraction(world: SandboxWorld, day: date) -> float:
    """How much of a local day has happened by now (1.0 for past days)."""
    start = world.local_midnight(day)
    now = world.clock.now()
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
        "equivalent_walking_distance": int(steps * 0.78),
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
    step = world.oura_hr_interval_s
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
