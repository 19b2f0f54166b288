"""The sandbox person's wrist tracker: what it measured, as facts, in no provider's format.

The Google Health fake reports these as API data points; the Fitbit export generator writes the
same facts as Takeout files. Both read them here, so they always agree, and neither imports the
other. Like the rest of the world, every value is drawn from a generator seeded by (seed, stream,
day): any day can be produced in any order, identically.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from health_pipeline.sandbox.world import SandboxWorld, night_for, rng_for

IMPLAUSIBLE_SECOND = 12 * 3600 + 30  # the sample at 12:00:30 local of `implausible_day()`, if worn then


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


@dataclass(frozen=True)
class Beat:
    """One heart-rate reading: its instant (UTC), beats per minute, and the zone the person was in."""

    at: datetime
    bpm: int
    zone: ZoneInfo


def heart_rate(world: SandboxWorld, day: date, every_s: int) -> list[Beat]:
    """Heart-rate readings of one local day every `every_s` seconds while worn, oldest first (with the
    world's `implausible_values`, a 400 bpm glitch at 12:00:30 of its implausible day)."""
    if not world.has_day(day) or not world.plan(day).worn:
        return []
    plan = world.plan(day)
    rng = rng_for(world.seed, "google", "heart-rate", day.isoformat(), every_s)
    midnight = world.local_midnight(day).astimezone(timezone.utc)
    zone = world.tz_for(day)  # every instant of the local day is lived in the day's zone
    now = world.clock.now()
    readings = []
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
        readings.append(Beat(instant, bpm, zone))
    return readings


@dataclass(frozen=True)
class WeighIn:
    """A weigh-in the person logs in the tracker's app: its instant (UTC), weight and body fat."""

    at: datetime
    kg: float
    fat_pct: float


def weigh_in(world: SandboxWorld, day: date) -> WeighIn | None:
    """Sundays' weigh-in, logged by hand at 08:30, or on a trip at 20:24 local time (whose instant is
    already the next day at home); None on other days and before it happens."""
    if not world.has_day(day) or day.weekday() != 6:
        return None
    clock = timedelta(hours=20, minutes=24) if world.travelling(day) else timedelta(hours=8, minutes=30)
    at = (world.local_midnight(day) + clock).astimezone(timezone.utc)
    if at > world.clock.now():
        return None
    return WeighIn(at, world.weight_kg(day), round(19.5 + rng_for(world.seed, "fat", day).gauss(0, 0.5), 1))


@dataclass(frozen=True)
class Session:
    """A sleep the tracker recorded: from `bed`, in 5-minute stage slots (deep, light, rem, awake)."""

    bed: datetime  # UTC
    stages: tuple[str, ...]
    latency_s: int
    main: bool

    @property
    def wake(self) -> datetime:
        return self.bed + timedelta(seconds=300 * len(self.stages))

    def seconds(self, stage: str) -> int:
        return self.stages.count(stage) * 300


def nap_for(world: SandboxWorld, day: date) -> Session | None:
    """The afternoon nap of a day, on about one day in six the tracker was worn."""
    if not world.has_day(day) or not world.plan(day).worn:
        return None
    rng = rng_for(world.seed, "google", "nap", day.isoformat())
    if rng.random() > 0.17:
        return None
    start = (world.local_midnight(day) + timedelta(hours=14, minutes=rng.randint(0, 90))).astimezone(timezone.utc)
    return Session(start, tuple(rng.choice(("light", "light", "deep", "awake")) for _ in range(rng.randint(4, 9))),
                   300, False)


def sleeps(world: SandboxWorld, day: date) -> list[Session]:
    """The sleeps ending on `day` that the tracker has recorded by now (15 minutes after waking): the
    night (the main sleep) and maybe an afternoon nap."""
    found = []
    night = night_for(world, day)
    if night is not None:
        found.append(Session(night.bed, night.stages, night.latency_s, True))
    nap = nap_for(world, day)
    if nap is not None:
        found.append(nap)
    return [s for s in found if s.wake + timedelta(minutes=15) <= world.clock.now()]


def processed(world: SandboxWorld, session: Session) -> bool:
    """Whether the sleep has been analysed (stages and summary exist): an hour after waking."""
    return world.clock.now() >= session.wake + timedelta(hours=1)


@dataclass(frozen=True)
class Exercise:
    """A workout the tracker recognised."""

    start: datetime  # UTC
    end: datetime
    kind: str  # WEIGHTLIFTING, RUNNING, WALKING
    kcal: float
    avg_hr_bpm: int

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def moving(self) -> bool:
        return self.kind != "WEIGHTLIFTING"


def exercise(world: SandboxWorld, day: date) -> Exercise | None:
    """The day's workout, once recorded (5 minutes after it ended)."""
    if not world.has_day(day):
        return None
    plan = world.plan(day)
    if not plan.worn or plan.workout_start_min is None:
        return None
    start = (world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)).astimezone(timezone.utc)
    end = start + timedelta(minutes=plan.workout_minutes)
    if end + timedelta(minutes=5) > world.clock.now():
        return None
    rng = rng_for(world.seed, "google", "exercise", day.isoformat())
    kind = rng.choice(("WEIGHTLIFTING", "WEIGHTLIFTING", "RUNNING", "WALKING"))
    kcal = round(plan.workout_minutes * rng.uniform(6, 10), 1)
    return Exercise(start, end, kind, kcal, rng.randint(118, 145))


@dataclass(frozen=True)
class Vitals:
    """A night's vitals as the tracker derives them, once the night is processed."""

    resting_hr_bpm: int
    hrv_ms: float
    non_rem_hr_bpm: int
    hrv_entropy: float
    deep_rmssd_ms: float
    spo2_avg_pct: float
    spo2_low_pct: float
    spo2_high_pct: float
    spo2_sd_pct: float
    breaths_per_min: float
    skin_temp_c: float
    skin_temp_baseline_c: float
    skin_temp_sd_c: float


# Each reading is drawn from its own stream (named after the data type that first reported it).
VITAL_STREAMS = ("daily-resting-heart-rate", "daily-heart-rate-variability", "daily-oxygen-saturation",
                 "daily-respiratory-rate", "daily-sleep-temperature-derivations")


def vitals(world: SandboxWorld, day: date, stream: str) -> Vitals | None:
    """The night ending on `day` as read from one stream of `VITAL_STREAMS` (each reading uses its own
    stream's fields); None until half an hour after waking."""
    night = night_for(world, day)
    if night is None or night.wake + timedelta(minutes=30) > world.clock.now():
        return None
    rng = rng_for(world.seed, "google", stream, day.isoformat())
    hrv, entropy, deep = round(rng.uniform(30, 70), 2), round(rng.uniform(1.5, 3), 3), round(rng.uniform(35, 80), 2)
    spo2, spo2_sd = round(rng.uniform(94.5, 98), 1), round(rng.uniform(0.5, 1.5), 2)
    breathing = round(rng.uniform(13, 16.5), 1)
    temperature, temperature_sd = round(rng.uniform(33.8, 34.6), 2), round(rng.uniform(-1.2, 1.2), 2)
    return Vitals(night.resting_hr, hrv, night.resting_hr + 2, entropy, deep, spo2, 92.0, 99.5, spo2_sd, breathing,
                  temperature, 34.2, temperature_sd)
