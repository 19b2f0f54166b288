"""WHOOP's records of the sandbox person, in the live API's shapes (research: /work/research/whoop.md).

The same nights, naps and workouts the other fakes show (the world's nights, the tracker's naps and
workouts): a sleep per night and nap, a cycle from each night's onset to the next, a recovery per
cycle with a night, a workout per tracked workout. Live shapes: missing values are explicit `null`
(`end` of the current cycle, `v1_id`, a workout's distance without GPS), floats keep `.0`,
instants are UTC with milliseconds, `percent_recorded` is a 0-1 fraction, energy is kJ.

Scoring completes later: a sleep and its recovery are PENDING_SCORE until two hours after waking
(then SCORED, `updated_at` moving); one night in twenty is UNSCORABLE (the strap lost contact).
With the world's `implausible_values`, one recovery says a resting heart rate of 400 bpm.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import DEFAULT_PERSON, Night, SandboxWorld, night_for, rng_for, stable_uuid

USER_ID = 26_500_000
KJ_PER_KCAL = 4.184
SCORED_AFTER = timedelta(hours=2)  # a sleep is scored two hours after waking
WORKOUT_SCORED_AFTER = timedelta(minutes=30)
SPORTS = {"WEIGHTLIFTING": ("weightlifting_msk", 123), "RUNNING": ("running", 0), "WALKING": ("walking", 63)}


def user_id(world: SandboxWorld) -> int:
    """The member's WHOOP user id: USER_ID for the default person, a number of their own for anyone else."""
    return USER_ID if world.person == DEFAULT_PERSON else rng_for(world.seed, "whoop", "user").randrange(10**7, 10**8)


def iso(at: datetime) -> str:
    """WHOOP's instants: UTC, milliseconds, `Z`."""
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def offset_text(world: SandboxWorld, at: datetime) -> str:
    delta = at.astimezone(world.tz_at(at)).utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def cycle_id(day: date) -> int:
    """A cycle's integer id, from the day it counts towards."""
    return 1_500_000_000 + day.toordinal()


def unscorable(world: SandboxWorld, day: date) -> bool:
    """The nights the strap could not score (about one in twenty)."""
    return rng_for(world.seed, "whoop", "unscorable", day.isoformat()).random() < 0.05


@dataclass(frozen=True)
class Cycle:
    """A physiological cycle: from a night's onset to the next night's (open while the next has not begun)."""

    day: date  # the day it counts towards: its night's wake-up day
    night: Night
    end: datetime | None


def cycle_for(world: SandboxWorld, day: date) -> Cycle | None:
    night = night_for(world, day)
    if night is None or night.bed + timedelta(minutes=30) > world.clock.now():
        return None
    following = next((n for d in range(1, 8) if (n := night_for(world, day + timedelta(days=d))) is not None), None)
    end = following.bed if following is not None and following.bed <= world.clock.now() else None
    return Cycle(day, night, end)


def _state(world: SandboxWorld, day: date, wake: datetime) -> str:
    if unscorable(world, day):
        return "UNSCORABLE"
    return "SCORED" if world.clock.now() >= wake + SCORED_AFTER else "PENDING_SCORE"


def _created(night_bed: datetime) -> datetime:
    return night_bed + timedelta(minutes=30)  # WHOOP creates a sleep while it is still going on


def _updated(world: SandboxWorld, bed: datetime, wake: datetime) -> datetime:
    now = world.clock.now()
    return wake + SCORED_AFTER if now >= wake + SCORED_AFTER else min(now, wake + timedelta(minutes=20))


def sleeps(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """The sleeps ending on `day`: the night, and the afternoon nap when there was one (`nap: true`)."""
    found: list[dict[str, Any]] = []
    night = night_for(world, day)
    now = world.clock.now()
    if night is not None and night.wake <= now:  # a sleep shows once it has ended (created while it went on)
        found.append(_sleep(world, day, night.bed, night.wake, night.stages, nap=False))
    nap = tracker.nap_for(world, day)
    if nap is not None and nap.wake + timedelta(minutes=15) <= now:
        found.append(_sleep(world, day, nap.bed, nap.wake, nap.stages, nap=True))
    return found


def _sleep(world: SandboxWorld, day: date, bed: datetime, wake: datetime, stages: tuple[str, ...],
           nap: bool) -> dict[str, Any]:
    if nap:
        state = "SCORED" if world.clock.now() >= wake + SCORED_AFTER else "PENDING_SCORE"
    else:
        state = _state(world, day, wake)
    rng = rng_for(world.seed, "whoop", "sleep", day.isoformat(), nap)
    seconds = {stage: stages.count(stage) * 300 for stage in ("deep", "light", "rem", "awake")}
    score = None
    if state == "SCORED":
        asleep = seconds["deep"] + seconds["light"] + seconds["rem"]
        score = {
            "stage_summary": {
                "total_in_bed_time_milli": len(stages) * 300_000, "total_awake_time_milli": seconds["awake"] * 1000,
                "total_no_data_time_milli": 0, "total_light_sleep_time_milli": seconds["light"] * 1000,
                "total_slow_wave_sleep_time_milli": seconds["deep"] * 1000,
                "total_rem_sleep_time_milli": seconds["rem"] * 1000,
                "sleep_cycle_count": max(1, len(stages) // 18), "disturbance_count": rng.randint(2, 14)},
            "sleep_needed": {"baseline_milli": 28_658_902, "need_from_sleep_debt_milli": rng.randint(0, 3_600_000),
                             "need_from_recent_strain_milli": rng.randint(0, 1_800_000),
                             "need_from_recent_nap_milli": -rng.randint(0, 1_800_000) if not nap else 0},
            "respiratory_rate": round(rng.uniform(13.0, 16.5), 6),
            "sleep_performance_percentage": float(rng.randint(55, 98)),
            "sleep_consistency_percentage": float(rng.randint(40, 95)),
            "sleep_efficiency_percentage": round(100 * asleep / max(1, len(stages) * 300), 6),
        }
    return {
        "id": stable_uuid(world.seed, "whoop", "sleep", day.isoformat(), nap),
        "cycle_id": cycle_id(day), "v1_id": None, "user_id": user_id(world),
        "created_at": iso(_created(bed)), "updated_at": iso(_updated(world, bed, wake)),
        "start": iso(bed), "end": iso(wake), "timezone_offset": offset_text(world, bed),
        "nap": nap, "score_state": state, "score": score,
    }


def cycles(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """The cycle counting towards `day` (begun at its night's onset)."""
    cycle = cycle_for(world, day)
    if cycle is None:
        return []
    rng = rng_for(world.seed, "whoop", "cycle", day.isoformat())
    plan = world.plan(day)
    hours = ((cycle.end or world.clock.now()) - cycle.night.bed).total_seconds() / 3600
    kcal = (plan.bmr_kcal + plan.active_kcal) * min(1.0, hours / 24)
    return [{
        "id": cycle_id(day), "user_id": user_id(world),
        "created_at": iso(cycle.night.bed + timedelta(minutes=29)),
        "updated_at": iso(min(world.clock.now(), cycle.end or world.clock.now())),
        "start": iso(cycle.night.bed), "end": iso(cycle.end) if cycle.end else None,
        "timezone_offset": offset_text(world, cycle.night.bed),
        "score_state": "SCORED",
        "score": {"strain": round(min(21.0, 4.0 + plan.active_kcal / 90 + rng.uniform(0, 2)), 6),
                  "kilojoule": round(kcal * KJ_PER_KCAL, 4),
                  "average_heart_rate": plan.resting_hr + rng.randint(12, 22),
                  "max_heart_rate": rng.randint(140, 178) if plan.workout_minutes else rng.randint(110, 135)},
    }]


def recoveries(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """The recovery of the cycle counting towards `day`, computed from its night."""
    cycle = cycle_for(world, day)
    if cycle is None:
        return []
    [sleep] = [s for s in sleeps(world, day) if not s["nap"]] or [None]
    if sleep is None:
        return []
    night = cycle.night
    rng = rng_for(world.seed, "whoop", "recovery", day.isoformat())
    score = None
    if sleep["score_state"] == "SCORED":
        score = {"user_calibrating": False, "recovery_score": float(rng.randint(20, 99)),
                 "resting_heart_rate": float(night.resting_hr), "hrv_rmssd_milli": round(rng.uniform(30, 90), 6),
                 "spo2_percentage": round(rng.uniform(94.0, 98.5), 5), "skin_temp_celsius": round(rng.uniform(33.6, 35.0), 6)}
        if world.implausible(day):
            score["resting_heart_rate"] = 400.0  # a glitch: no heart rests at 400 bpm
    return [{"cycle_id": cycle_id(day), "sleep_id": sleep["id"], "user_id": user_id(world),
             "created_at": sleep["created_at"], "updated_at": sleep["updated_at"],
             "score_state": sleep["score_state"], "score": score}]


def workouts(world: SandboxWorld, day: date) -> list[dict[str, Any]]:
    """The workout the strap recorded on `day` (the tracker's), once uploaded."""
    found = tracker.exercise(world, day)
    if found is None:
        return []
    rng = rng_for(world.seed, "whoop", "workout", day.isoformat())
    sport, sport_id = SPORTS[found.kind]
    minutes = found.minutes
    zones = [rng.randint(0, 60_000), 120_000, minutes * 20_000, minutes * 25_000, minutes * 12_000, 60_000]
    distance = float(minutes * 160) if found.moving else None
    state = "SCORED" if world.clock.now() >= found.end + WORKOUT_SCORED_AFTER else "PENDING_SCORE"
    score = {"strain": round(rng.uniform(6, 16), 6), "average_heart_rate": found.avg_hr_bpm,
             "max_heart_rate": found.avg_hr_bpm + rng.randint(15, 35),
             "kilojoule": round(found.kcal * KJ_PER_KCAL, 4), "percent_recorded": 1.0,
             "distance_meter": distance, "altitude_gain_meter": round(rng.uniform(3, 40), 6) if distance else None,
             "altitude_change_meter": round(rng.uniform(-5, 5), 6) if distance else None,
             "zone_durations": dict(zip(("zone_zero_milli", "zone_one_milli", "zone_two_milli",
                                         "zone_three_milli", "zone_four_milli", "zone_five_milli"), zones))}
    return [{
        "id": stable_uuid(world.seed, "whoop", "workout", day.isoformat()), "v1_id": None, "user_id": user_id(world),
        "created_at": iso(found.end + timedelta(minutes=4)),
        "updated_at": iso(found.end + (WORKOUT_SCORED_AFTER if state == "SCORED" else timedelta(minutes=4, seconds=5))),
        "start": iso(found.start), "end": iso(found.end), "timezone_offset": offset_text(world, found.start),
        "sport_name": sport, "score_state": state, "score": score if state == "SCORED" else None,
        "sport_id": sport_id,
    }]


def profile(world: SandboxWorld) -> dict[str, Any]:
    email = "sandbox.person@example.org" if world.person == DEFAULT_PERSON else f"{world.person}@example.org"
    return {"user_id": user_id(world), "email": email, "first_name": "Sandbox", "last_name": "Person"}


def body_measurement(world: SandboxWorld) -> dict[str, Any]:
    return {"height_meter": 1.8, "weight_kilogram": round(world.weight_kg(world.today()), 4), "max_heart_rate": 190}


GENERATORS = {"cycles": cycles, "recoveries": recoveries, "sleeps": sleeps, "workouts": workouts}
