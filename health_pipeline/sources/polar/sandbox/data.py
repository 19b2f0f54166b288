"""Polar AccessLink v3 records of the sandbox person, in the live API's shapes (research: /work/research/polar.md).

The same nights, workouts, heart rate, minutes and weigh-ins the other fakes show (the world's nights,
the tracker's workouts, heart rate, minutes and weigh-ins), written as AccessLink writes them:

- exercises (non-transactional): snake_case keys with Polar's exceptions (`running_index` live,
  kebab inner keys of `training_load_pro`), `duration` as total seconds with milliseconds
  (`PT2724.716S`), `start_time` device-local without offset plus `start_time_utc_offset` minutes,
  `upload_time` UTC without milliseconds, optional keys left out (never `null`); one exercise in
  twenty is recorded in the Polar Flow app: no `device_id`, no `calories`, `heart_rate: {}`.
  Exercises reach AccessLink when the watch syncs: minutes after they end, one in fifteen 1-3 days late.
- transactional exercises, activities and physical information: kebab-case keys, integer ids,
  instants with `.000Z`, durations as `PT21M54.002S`.
- continuous heart rate: the tracker's 5-minute readings, replaced during a workout by its 1-second
  readings (with the odd 0 bpm where the sensor lost contact); `sample_time` is device-local
  `HH:MM:SS` with no offset, so on the autumn DST day the hour 02:00-03:00 appears twice.
- sleep: the night ending on its wake-up `date`; times with their offset; stage seconds from the
  world's 5-minute slots; one night in twenty is not analysed (stages `unrecognized`, sentinels
  `sleep_charge` -1, `continuity` 0, `continuity_class` 0, and no Nightly Recharge).
- daily activity: `start_time` local midnight without seconds (`2026-08-17T00:00`).

Tests read the truth here: `exercise(world, day)` (ids, sync instants, `late`, `in_app`), `analysed`,
`weigh_ins`, and each endpoint's body by date.
"""

import math
import random
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import DEFAULT_PERSON, SandboxWorld, night_for, rng_for

USER_ID = 47_052_118  # the sandbox person's Polar user id (`x_user_id`, `polar-user-id`)
API = "https://www.polaraccesslink.com/v3"
API_WITHOUT_WWW = "https://polaraccesslink.com/v3"  # continuous heart rate links the user without `www.` (live)
DEVICE = "Polar Grit X Pro"
DEVICE_ID = "4E21A7C9"
FLOW_APP = "Polar Flow app"
MAX_HR = 190
HEIGHT_CM = 180.0
BIRTHDATE = "1990-05-17"
# Heart-rate zones of a 190 bpm maximum: 50-60-70-80-90-100 %.
HR_ZONES = ((95, 114), (114, 133), (133, 152), (152, 171), (171, 190))
# The tracker's workout kinds as Polar's `sport` and `detailed_sport_info`.
SPORTS = {"RUNNING": ("RUNNING", "RUNNING"), "WALKING": ("OTHER", "WALKING"),
          "WEIGHTLIFTING": ("OTHER", "STRENGTH_TRAINING")}
HYPNOGRAM = {"awake": 0, "rem": 1, "light": 3, "deep": 4}  # 2 (lighter non-REM) marks falling asleep
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# -- formats ---------------------------------------------------------------------------------

def utc_seconds(at: datetime) -> str:
    """`2026-08-17T22:14:10Z`: the non-transactional `upload_time`."""
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_millis(at: datetime) -> str:
    """`2024-03-06T13:26:17.000Z`: transactional instants, `registration-date`, `created`."""
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def local_at(world: SandboxWorld, at: datetime) -> datetime:
    return at.astimezone(world.tz_at(at))


def offset_minutes(world: SandboxWorld, at: datetime) -> int:
    offset = local_at(world, at).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def seconds_duration(seconds: float) -> str:
    """`PT2724.716S`: the non-transactional exercise duration."""
    return f"PT{seconds:.3f}S"


def clock_duration(seconds: float, millis: bool = False) -> str:
    """`PT8H19M`, `PT7H12M30S`, or with `millis` `PT21M54.002S` (zero parts left out)."""
    whole = int(seconds)
    hours, minutes, secs = whole // 3600, whole % 3600 // 60, whole % 60
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if millis:
        return text + f"{secs}.{round((seconds - whole) * 1000):03d}S"
    return text + (f"{secs}S" if secs or text == "PT" else "")


def user_id(world: SandboxWorld) -> int:
    """The person's Polar user id: USER_ID for the default person, a number of their own for anyone else."""
    return USER_ID if world.person == DEFAULT_PERSON else rng_for(world.seed, "polar", "user").randrange(10**7, 10**8)


def user_url(world: SandboxWorld, www: bool = True) -> str:
    return f"{API if www else API_WITHOUT_WWW}/users/{user_id(world)}"


def _hashed_id(rng: random.Random) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(8))


# -- the tracker's 1-second heart rate, cached (0.5 s of work per day) ------------------------

_SECOND_BEATS: dict[tuple[Any, ...], list[tracker.Beat]] = {}
_SECOND_BEATS_LOCK = threading.Lock()


def _second_beats(world: SandboxWorld, day: date) -> list[tracker.Beat]:
    """The tracker's 1-second readings of a day. A finished day's never change, so they are kept (by what
    they depend on); today's are kept only for the same instant of a frozen clock."""
    if not world.has_day(day):
        return []
    now = world.clock.now()
    key: tuple[Any, ...] = (world.seed, world.timezone, world.travel_timezone, world.implausible(day), day)
    if world.local_midnight(day + timedelta(days=1)) > now:
        key += (now,)
    with _SECOND_BEATS_LOCK:
        beats = _SECOND_BEATS.get(key)
    if beats is None:
        beats = tracker.heart_rate(world, day, 1)
        with _SECOND_BEATS_LOCK:
            if len(_SECOND_BEATS) >= 64:
                _SECOND_BEATS.pop(next(iter(_SECOND_BEATS)))
            _SECOND_BEATS[key] = beats
    return beats


def workout_beats(world: SandboxWorld, day: date, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The 1-second readings from `start` to `end`, with the odd run of 0 bpm where the optical sensor
    lost contact (live: zeros inside the 1-second runs on 4 days of 30)."""
    beats = [(b.at, b.bpm) for b in _second_beats(world, day) if start <= b.at < end]
    rng = rng_for(world.seed, "polar", "dropout", day.isoformat())
    if beats and rng.random() < 0.2:
        first = rng.randrange(len(beats))
        for i in range(first, min(len(beats), first + rng.randint(3, 25))):
            beats[i] = (beats[i][0], 0)
    return beats


# -- exercises -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolarExercise:
    """The day's workout as AccessLink knows it."""

    day: date
    session: tracker.Exercise
    id: str  # the hashed id of the non-transactional API
    number: int  # the integer id of the transactional API
    duration_s: float  # the tracker's whole minutes plus the watch's milliseconds
    synced_at: datetime  # when the watch uploaded it (`upload_time`)
    in_app: bool  # recorded in the Polar Flow app: no device id, calories or heart rate

    @property
    def start(self) -> datetime:
        return self.session.start

    @property
    def end(self) -> datetime:
        return self.session.start + timedelta(seconds=self.duration_s)

    @property
    def late(self) -> bool:
        return self.synced_at - self.session.end > timedelta(hours=12)


def exercise(world: SandboxWorld, day: date) -> PolarExercise | None:
    """The tracker's workout of `day` (whether or not it has been synced yet)."""
    session = tracker.exercise(world, day)
    if session is None:
        return None
    rng = rng_for(world.seed, "polar", "exercise", day.isoformat())
    exercise_id = _hashed_id(rng)
    duration_s = (session.end - session.start).total_seconds() + rng.randint(1, 999) / 1000
    late = rng.random() < 1 / 15
    delay = timedelta(seconds=int(rng.uniform(86_400, 3 * 86_400))) if late else timedelta(minutes=rng.randint(6, 25),
                                                                                           seconds=rng.randint(0, 59))
    return PolarExercise(day, session, exercise_id, 300_000_000 + day.toordinal(), duration_s,
                         session.end + delay, in_app=rng.random() < 0.05)


def _max_hr(world: SandboxWorld, found: PolarExercise) -> int:
    return found.session.avg_hr_bpm + rng_for(world.seed, "polar", "max-hr", found.day.isoformat()).randint(12, 30)


def _training_load_pro(world: SandboxWorld, found: PolarExercise) -> dict[str, Any]:
    rng = rng_for(world.seed, "polar", "tlp", found.day.isoformat())
    cardio = round(found.session.minutes * rng.uniform(0.6, 1.4), 4)
    cardio_level = "LOW" if cardio < 40 else "MEDIUM" if cardio < 80 else "HIGH"
    running = found.session.kind == "RUNNING"
    return {"cardio-load": cardio, "cardio-load-interpretation": cardio_level,
            "muscle-load": round(rng.uniform(300, 900), 3) if running else -1,  # -1: no power data (live)
            "muscle-load-interpretation": "MEDIUM" if running else "NOT_AVAILABLE",
            "perceived-load": 0.0, "perceived-load-interpretation": "NOT_AVAILABLE", "user-rpe": "UNKNOWN"}


def _energy(world: SandboxWorld, found: PolarExercise) -> tuple[int, int, int]:
    rng = rng_for(world.seed, "polar", "energy", found.day.isoformat())
    fat, protein = rng.randint(30, 65), rng.randint(0, 3)
    return fat, 100 - fat - protein, protein


def distance_m(found: PolarExercise) -> float | None:
    return float(found.session.minutes * 160) if found.session.moving else None


def exercise_summary(world: SandboxWorld, found: PolarExercise, samples: bool = False, zones: bool = False,
                     route: bool = False, docs_spelling: bool = False) -> dict[str, Any]:
    """`GET /v3/exercises[/{id}]`: one exercise, keys in the live order, the inline details on request."""
    sport, detail = SPORTS[found.session.kind]
    start = local_at(world, found.start)
    body: dict[str, Any] = {"id": found.id, "upload_time": utc_seconds(found.synced_at), "polar_user": user_url(world),
                            "device": FLOW_APP if found.in_app else DEVICE}
    if not found.in_app:
        body["device_id"] = DEVICE_ID
    body |= {"start_time": start.strftime("%Y-%m-%dT%H:%M:%S"), "start_time_utc_offset": offset_minutes(world, found.start),
             "duration": seconds_duration(found.duration_s)}
    distance = distance_m(found)
    if distance is not None:
        body["distance"] = distance
    body["heart_rate"] = {} if found.in_app else {"average": found.session.avg_hr_bpm, "maximum": _max_hr(world, found)}
    body |= {"sport": sport, "has_route": found.session.moving, "detailed_sport_info": detail}
    if not found.in_app:
        body["calories"] = round(found.session.kcal)
        if found.session.kind == "RUNNING":
            index = rng_for(world.seed, "polar", "running-index", found.day.isoformat()).randint(42, 60)
            body["running-index" if docs_spelling else "running_index"] = index
        fat, carbohydrate, protein = _energy(world, found)
        body |= {"fat_percentage": fat, "carbohydrate_percentage": carbohydrate, "protein_percentage": protein,
                 "training_load_pro": _training_load_pro(world, found)}
    if zones:
        body["heart_rate_zones"] = heart_rate_zones(world, found, "kebab" if docs_spelling else "snake")
    if samples:
        body["samples"] = exercise_samples(world, found, docs_spelling)
    if route:
        body["route"] = exercise_route(world, found) if found.session.moving else []
    return body


def exercise_heart_rate(world: SandboxWorld, found: PolarExercise) -> list[int]:
    """The exercise's heart-rate samples, one a second (none for one recorded in the app)."""
    if found.in_app:
        return []
    return [bpm for _, bpm in workout_beats(world, found.day, found.session.start, found.session.end)]


def heart_rate_zones(world: SandboxWorld, found: PolarExercise, spelling: str) -> list[dict[str, Any]]:
    """Time in each zone, counted from the 1-second samples; `spelling`: snake (live), kebab (docs)."""
    bpms = exercise_heart_rate(world, found)
    if not bpms:
        return []
    sep = "_" if spelling == "snake" else "-"
    zones = []
    for index, (lower, upper) in enumerate(HR_ZONES):
        inside = sum(1 for bpm in bpms if lower <= bpm < upper or (index == len(HR_ZONES) - 1 and bpm >= upper))
        zones.append({"index": index, f"lower{sep}limit": lower, f"upper{sep}limit": upper,
                      f"in{sep}zone": clock_duration(inside)})
    return zones


def exercise_samples(world: SandboxWorld, found: PolarExercise, docs_spelling: bool = False,
                     types: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """Sample series: heart rate (0) each second, and for a moving exercise speed (1) and distance (10)."""
    series: list[tuple[int, list[str]]] = []
    bpms = exercise_heart_rate(world, found)
    if bpms:
        series.append((0, [str(bpm) for bpm in bpms]))
    distance = distance_m(found)
    if distance is not None:
        seconds = int(found.duration_s)
        series.append((1, [f"{distance / found.duration_s * 3.6:.1f}"] * seconds))
        series.append((10, [f"{distance * i / seconds:.1f}" for i in range(seconds)]))
    chosen = [(kind, values) for kind, values in series if types is None or kind in types]
    if docs_spelling:
        return [{"recording-rate": 1, "sample-type": str(kind), "data": ",".join(values)} for kind, values in chosen]
    return [{"recording_rate": 1, "sample_type": kind, "data": ",".join(values)} for kind, values in chosen]


def exercise_route(world: SandboxWorld, found: PolarExercise) -> list[dict[str, Any]]:
    """A GPS point every 10 seconds on a loop around the person's home (`time`: offset from the start)."""
    rng = rng_for(world.seed, "polar", "route", found.day.isoformat())
    points = []
    steps = int(found.duration_s) // 10
    for i in range(steps):
        angle = 2 * math.pi * i / max(1, steps)
        points.append({"latitude": round(52.52 + 0.01 * math.sin(angle), 8), "longitude": round(13.405 + 0.016 * math.cos(angle), 8),
                       "time": f"PT{i * 10 + rng.randint(0, 999) / 1000:.3f}S", "satellites": rng.randint(8, 14), "fix": 3})
    return points


def transactional_exercise(world: SandboxWorld, found: PolarExercise, transaction_id: int) -> dict[str, Any]:
    """An exercise of `exercise-transactions`: kebab keys, an integer id, `.000Z`, `PT21M54.002S` (live)."""
    sport, detail = SPORTS[found.session.kind]
    body: dict[str, Any] = {"upload-time": utc_millis(found.synced_at), "id": found.number, "polar-user": user_url(world),
                            "transaction-id": transaction_id, "device": FLOW_APP if found.in_app else DEVICE}
    if not found.in_app:
        body["device-id"] = DEVICE_ID
    body |= {"start-time": local_at(world, found.start).strftime("%Y-%m-%dT%H:%M:%S"),
             "start-time-utc-offset": offset_minutes(world, found.start),
             "duration": clock_duration(found.duration_s, millis=True)}
    if not found.in_app:
        body["calories"] = round(found.session.kcal)
    distance = distance_m(found)
    if distance is not None:
        body["distance"] = int(distance)  # an integer in the live transactional body
    body["heart-rate"] = {} if found.in_app else {"average": found.session.avg_hr_bpm, "maximum": _max_hr(world, found)}
    if not found.in_app:
        body["training-load"] = round(found.session.minutes * 0.9)
    body |= {"sport": sport, "has-route": found.session.moving, "detailed-sport-info": detail}
    if not found.in_app:
        fat, carbohydrate, protein = _energy(world, found)
        body |= {"fat-percentage": fat, "carbohydrate-percentage": carbohydrate, "protein-percentage": protein,
                 "training-load-pro": _training_load_pro(world, found)}
    return body


# -- continuous heart rate -------------------------------------------------------------------

def continuous_heart_rate(world: SandboxWorld, day: date, workout_synced_at: datetime | None = None
                          ) -> dict[str, Any] | None:
    """`GET /v3/users/continuous-heart-rate/{date}`, or None when the day has no sample (404)."""
    samples = continuous_samples(world, day, workout_synced_at)
    if not samples:
        return None
    return {"polar_user": user_url(world, www=False), "date": day.isoformat(),
            "heart_rate_samples": [{"heart_rate": bpm, "sample_time": clock} for clock, bpm in samples]}


def continuous_samples(world: SandboxWorld, day: date, workout_synced_at: datetime | None = None
                       ) -> list[tuple[str, int]]:
    """(`HH:MM:SS` local, bpm) of `continuous_readings`."""
    zone = world.tz_for(day)
    return [(at.astimezone(zone).strftime("%H:%M:%S"), bpm) for at, bpm in continuous_readings(world, day, workout_synced_at)]


def continuous_readings(world: SandboxWorld, day: date, workout_synced_at: datetime | None = None
                        ) -> list[tuple[datetime, int]]:
    """(UTC instant, bpm), in order: the tracker's 5-minute readings, and during a workout the watch recorded
    its 1-second readings instead; the workout's minutes carry nothing until the watch has synced it
    (`workout_synced_at`: when, if not the exercise's own sync). A workout recorded in the phone app
    leaves the 5-minute readings alone."""
    beats = tracker.heart_rate(world, day, 300)
    plan = world.plan(day)
    found = exercise(world, day)
    window: tuple[datetime, datetime] | None = None
    if plan.workout_start_min is not None and plan.worn and not (found is not None and found.in_app):
        start = world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)
        window = (start.astimezone(timezone.utc), (start + timedelta(minutes=plan.workout_minutes)).astimezone(timezone.utc))
    readings = [(b.at, b.bpm) for b in beats if window is None or not window[0] <= b.at < window[1]]
    synced_at = workout_synced_at or (found.synced_at if found is not None else None)
    if window is not None and found is not None and synced_at is not None and synced_at <= world.clock.now():
        readings += workout_beats(world, day, *window)
    return sorted(readings)


# -- sleep and Nightly Recharge ---------------------------------------------------------------

def analysed(world: SandboxWorld, day: date) -> bool:
    """Whether the watch could analyse the night ending on `day` (one in twenty it could not)."""
    return rng_for(world.seed, "polar", "analysed", day.isoformat()).random() >= 0.05


def _onset(stages: tuple[str, ...]) -> int:
    """The first slot asleep (the slots before it are the time it took to fall asleep)."""
    return next((i for i, stage in enumerate(stages) if stage != "awake"), len(stages))


def _hhmm(world: SandboxWorld, at: datetime) -> str:
    return local_at(world, at).strftime("%H:%M")


def sleep(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """`GET /v3/users/sleep/{date}`: the night ending on `day`, once synced (15 minutes after waking)."""
    night = night_for(world, day)
    if night is None or not any(s.main for s in tracker.sleeps(world, day)):
        return None
    onset = _onset(night.stages)
    asleep = night.stages[onset:]
    start = night.bed + timedelta(minutes=5 * onset)
    seconds = {stage: asleep.count(stage) * 300 for stage in ("light", "deep", "rem", "awake")}
    ok = analysed(world, day)
    rng = rng_for(world.seed, "polar", "sleep", day.isoformat())
    short = rng.randint(3, 20) * 30  # under 90 s each: finer than the 5-minute slots
    continuity = round(rng.uniform(2.0, 4.8), 1)
    charge = rng.randint(1, 5) if rng.random() >= 0.1 else -1  # -1: no 28-day baseline to compare with
    hypnogram: dict[str, int] = {}
    last_code = None
    for i, stage in enumerate(asleep):
        code = (HYPNOGRAM[stage] if ok else (0 if stage == "awake" else 5))
        if ok and stage == "light" and (i == 0 or asleep[i - 1] == "awake"):
            code = 2  # lighter non-REM: falling (back) asleep
        if code != last_code:  # only the changes, as in the docs' example
            hypnogram[_hhmm(world, start + timedelta(minutes=5 * i))] = code
            last_code = code
    heart = {_hhmm(world, b.at): b.bpm
             for d in (day - timedelta(days=1), day) for b in tracker.heart_rate(world, d, 300)
             if start <= b.at < night.wake}
    return {
        "polar_user": user_url(world), "date": day.isoformat(),
        "sleep_start_time": local_at(world, start).isoformat(timespec="seconds"),
        "sleep_end_time": local_at(world, night.wake).isoformat(timespec="seconds"),
        "device_id": DEVICE_ID,
        "continuity": continuity if ok else 0.0, "continuity_class": min(5, int(continuity)) if ok else 0,
        "light_sleep": seconds["light"] if ok else 0, "deep_sleep": seconds["deep"] if ok else 0,
        "rem_sleep": seconds["rem"] if ok else 0,
        "unrecognized_sleep_stage": 0 if ok else seconds["light"] + seconds["deep"] + seconds["rem"],
        "sleep_score": rng.randint(55, 95),
        "total_interruption_duration": seconds["awake"] + short,
        "sleep_charge": charge if ok else -1,
        "sleep_goal": 28_800,
        "sleep_rating": rng.randint(1, 5) if rng.random() < 0.2 else 0,  # 0: the person did not rate it
        "short_interruption_duration": short,
        "long_interruption_duration": seconds["awake"],
        "sleep_cycles": sum(1 for i, s in enumerate(asleep) if s == "rem" and (i == 0 or asleep[i - 1] != "rem")),
        "group_duration_score": round(rng.uniform(40, 100), 1),
        "group_solidity_score": round(rng.uniform(40, 100), 1),
        "group_regeneration_score": round(rng.uniform(40, 100), 1),
        "hypnogram": hypnogram,
        "heart_rate_samples": heart,
    }


def available_sleep(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    found = sleep(world, day)
    if found is None:
        return None
    return {"date": found["date"], "start_time": found["sleep_start_time"], "end_time": found["sleep_end_time"]}


def nightly_recharge(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """`GET /v3/users/nightly-recharge/{date}`: the analysed night's recovery (the shared vitals), half an
    hour after waking; one night in fifteen had no beat-to-beat signal (`beat_to_beat_avg` 0)."""
    night = night_for(world, day)
    hrv = tracker.vitals(world, day, "daily-heart-rate-variability")
    breathing = tracker.vitals(world, day, "daily-respiratory-rate")
    if night is None or hrv is None or breathing is None or not analysed(world, day):
        return None
    rng = rng_for(world.seed, "polar", "recharge", day.isoformat())
    signal = rng.random() >= 1 / 15
    ans = round(rng.uniform(-10, 10), 1)
    start = night.bed + timedelta(minutes=5 * _onset(night.stages) + 30)
    slots = [start + timedelta(minutes=5 * i) for i in range(48) if start + timedelta(minutes=5 * i) < night.wake]
    return {
        "polar_user": user_url(world), "date": day.isoformat(),
        "heart_rate_avg": hrv.non_rem_hr_bpm,
        "beat_to_beat_avg": round(60_000 / hrv.non_rem_hr_bpm) if signal else 0,
        "heart_rate_variability_avg": round(hrv.hrv_ms) if signal else 0,
        "breathing_rate_avg": breathing.breaths_per_min,
        "nightly_recharge_status": rng.randint(1, 6),
        "ans_charge": ans, "ans_charge_status": 1 + min(4, int((ans + 10) // 4)),
        "hrv_samples": {_hhmm(world, at): max(5, round(hrv.hrv_ms + rng.gauss(0, 6))) for at in slots} if signal else {},
        "breathing_samples": {_hhmm(world, at): round(breathing.breaths_per_min + rng.gauss(0, 0.4), 1) for at in slots},
    }


# -- daily activity --------------------------------------------------------------------------

def _sedentary_runs(minutes: tuple[tracker.Minute, ...]) -> list[tracker.Minute]:
    """The minute each hour of sitting still completed (an inactivity alert on the watch)."""
    alerts, run = [], 0
    for minute in minutes:
        run = run + 1 if minute.level == "SEDENTARY" else 0
        if run and run % 60 == 0:
            alerts.append(minute)
    return alerts


def activity(world: SandboxWorld, day: date, steps: bool = False, zones: bool = False,
             stamps: bool = False) -> dict[str, Any] | None:
    """`GET /v3/users/activities/{date}`: the day so far from the tracker's minutes, None when not worn (204)."""
    minutes = tracker.minutes(world, day)
    if not minutes:
        return None
    plan = world.plan(day)
    active = sum(m.active_kcal for m in minutes)
    step_count = sum(m.steps or 0 for m in minutes)
    elapsed = min(1.0, max(0.0, (world.clock.now() - world.local_midnight(day)).total_seconds() / world.day_length_s(day)))
    moving = sum(1 for m in minutes if m.level != "SEDENTARY")
    body: dict[str, Any] = {
        "start_time": f"{day.isoformat()}T00:00", "end_time": f"{day.isoformat()}T23:59:59",
        "active_duration": clock_duration(moving * 60), "inactive_duration": clock_duration((len(minutes) - moving) * 60),
        "daily_activity": round(100 * active / 450, 2), "calories": round(plan.bmr_kcal * elapsed + active),
        "active_calories": round(active), "steps": step_count,
        "inactivity_alert_count": len(_sedentary_runs(minutes)),
        "distance_from_steps": round(step_count * 0.72, 2),
    }
    if steps or zones or stamps:
        body["samples"] = activity_samples(world, day, steps, zones, stamps, minutes)
    return body


def activity_samples(world: SandboxWorld, day: date, steps: bool = True, zones: bool = True, stamps: bool = True,
                     minutes: tuple[tracker.Minute, ...] | None = None) -> dict[str, Any] | None:
    """The samples block (docs only): steps each minute, activity-zone changes, inactivity stamps."""
    minutes = tracker.minutes(world, day) if minutes is None else minutes
    if not minutes:
        return None
    zone = world.tz_for(day)
    block: dict[str, Any] = {"date": day.isoformat()}
    if steps:
        block["steps"] = {"interval_ms": 60_000, "total_steps": sum(m.steps or 0 for m in minutes),
                          "samples": [{"steps": m.steps, "timestamp": m.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M")}
                                      for m in minutes if m.steps is not None]}
    if zones:
        changes = [m for i, m in enumerate(minutes) if i == 0 or minutes[i - 1].level != m.level]
        block["activity_zones"] = {"samples": [{"zone": m.level, "timestamp": m.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")}
                                               for m in changes]}
    if stamps:
        block["inactivity_stamps"] = [{"stamp": m.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M")}
                                      for m in _sedentary_runs(minutes)]
    return block


def activity_synced_at(world: SandboxWorld, day: date) -> datetime:
    """When a whole day's activity reaches AccessLink's transactions: the first sync after the next wake-up."""
    following = day + timedelta(days=1)
    return (world.local_midnight(following) + timedelta(minutes=world.plan(following).wake_min + 15)).astimezone(timezone.utc)


def activity_number(day: date) -> int:
    return 500_000_000 + day.toordinal()


def transactional_activity(world: SandboxWorld, day: date, transaction_id: int) -> dict[str, Any] | None:
    """An activity summary of `activity-transactions` (docs: kebab keys, `created` with `.000Z`)."""
    summary = activity(world, day)
    if summary is None:
        return None
    minutes = tracker.minutes(world, day)
    return {"id": activity_number(day), "polar-user": user_url(world), "transaction-id": transaction_id, "date": day.isoformat(),
            "created": utc_millis(activity_synced_at(world, day)), "calories": summary["calories"],
            "active-calories": summary["active_calories"],
            "duration": clock_duration(sum(1 for m in minutes if m.level != "SEDENTARY") * 60),
            "active-steps": summary["steps"]}


def step_samples(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """`.../activities/{id}/step-samples`: steps each minute (`time` local `HH:MM:SS.000`)."""
    minutes = tracker.minutes(world, day)
    if not minutes:
        return None
    zone = world.tz_for(day)
    return {"date": day.isoformat(), "interval": 1,
            "samples": [{"steps": m.steps or 0, "time": m.start.astimezone(zone).strftime("%H:%M:%S.000")} for m in minutes]}


ZONE_INDEX = {"SEDENTARY": 1, "LIGHT": 2, "MODERATE": 3, "VIGOROUS": 4}


def zone_samples(world: SandboxWorld, day: date) -> dict[str, Any] | None:
    """`.../activities/{id}/zone-samples`: time in each activity zone, hour by hour (not cumulative)."""
    minutes = tracker.minutes(world, day)
    if not minutes:
        return None
    zone = world.tz_for(day)
    hours: dict[int, dict[int, int]] = {}
    for m in minutes:
        hour = m.start.astimezone(zone).hour
        counts = hours.setdefault(hour, {})
        counts[ZONE_INDEX[m.level]] = counts.get(ZONE_INDEX[m.level], 0) + 1
    return {"date": day.isoformat(), "interval": 60,
            "samples": [{"activity-zones": [{"index": index, "inzone": clock_duration(count * 60)}
                                            for index, count in sorted(counts.items())],
                         "time": f"{hour:02d}:00:00.000"} for hour, counts in sorted(hours.items())]}


# -- the person and their physical information -------------------------------------------------

def weigh_ins(world: SandboxWorld) -> list[tracker.WeighIn]:
    """Every weigh-in logged so far, oldest first."""
    found = []
    day = world.first_day()
    while day <= world.today():
        weigh_in = tracker.weigh_in(world, day)
        if weigh_in is not None:
            found.append(weigh_in)
        day += timedelta(days=1)
    return found


def weight_at(world: SandboxWorld, at: datetime) -> float:
    """The weight in the person's profile at an instant: the last weigh-in by then (1 decimal, as entered)."""
    earlier = [w for w in weigh_ins(world) if w.at <= at]
    return round(earlier[-1].kg if earlier else world.weight_kg(world.day_of(at)), 1)


def user(world: SandboxWorld, member_id: str, registered_at: datetime) -> dict[str, Any]:
    """`GET /v3/users/{user-id}` (live keys and types: float weight and height, `extra-info: []`)."""
    return {"polar-user-id": user_id(world), "member-id": member_id, "registration-date": utc_millis(registered_at),
            "first-name": "Sandbox", "last-name": "Person", "birthdate": BIRTHDATE, "gender": "MALE",
            "weight": weight_at(world, world.clock.now()), "height": HEIGHT_CM, "extra-info": []}


def _thresholds(world: SandboxWorld, day: date) -> dict[str, int]:
    return {"maximum-heart-rate": MAX_HR, "resting-heart-rate": world.plan(day).resting_hr,
            "aerobic-threshold": 124, "anaerobic-threshold": 162, "vo2-max": 48}


def physical_information(world: SandboxWorld, number: int, at: datetime, transaction_id: int) -> dict[str, Any]:
    """A physical-information entity: the full profile as it was at `at` (a weigh-in or the registration)."""
    return {"id": number, "transaction-id": transaction_id, "created": utc_millis(at), "polar-user": user_url(world),
            "weight": weight_at(world, at), "height": HEIGHT_CM, **_thresholds(world, world.day_of(at)),
            "weight-source": "SOURCE_USER"}  # typed into the app by hand


def physical_info(world: SandboxWorld) -> dict[str, Any]:
    """`GET /v3/users/physical-info` (non-transactional, 2026): the profile now, snake_case."""
    now = world.clock.now()
    logged = [w for w in weigh_ins(world) if w.at <= now]
    modified = logged[-1].at if logged else datetime.combine(world.first_day(), time(9), tzinfo=timezone.utc)
    thresholds = {key.replace("-", "_"): value for key, value in _thresholds(world, world.today()).items()}
    return {"weight": weight_at(world, now), "height": HEIGHT_CM, "created": "2024-03-01T09:12:44.000Z",
            "modified": utc_millis(modified), "birthday": BIRTHDATE, "gender": "MALE", **thresholds,
            "weight_source": "SOURCE_USER", "training_background": "REGULAR", "typical_day": "MOSTLY_SITTING",
            "sleep_goal": "PT8H"}
