"""The sandbox person: a deterministic, lazily generated life that every fake provider reports on.

One world is one person. The default person (`me`) is the world as configured; every other person id
gets a world of their own from `SandboxWorld.for_person`: the same clock, days and options, a seed
derived from (seed, person id) and a home zone picked from `PERSON_TIMEZONES`, so an unknown id is
simply someone new, and the same id always the same someone.

Nothing is built up front. Each (stream, day) pair seeds its own random generator, so any day
of any year can be produced on demand, in any order, identically for the same seed. The clock
decides which days exist: data stops at "now", and days before the window start are empty.
"""

import hashlib
import random
import re
import threading
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_SEED = 42
DEFAULT_DAYS = 90
DEFAULT_TIMEZONE = "Europe/Berlin"
DEFAULT_TRAVEL_TIMEZONE = "America/New_York"
DEFAULT_PERSON = "me"  # the single-person home's person id (the product's default too)
PERSON_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # label-safe, as the product stores it
# Home zones other people live in: real IANA zones on five continents, with and without DST.
TRIP_MAX_HOURS = 6
PERSON_TIMEZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles",
                    "Europe/London", "America/Sao_Paulo", "Asia/Kolkata")
# A four-day trip every 80 days, anchored to the calendar (so advancing the clock never moves
# it): every window of 90 days holds at least one time-zone change and the flight back.
TRIP_EVERY_DAYS = 80
TRIP_DAYS = 4
TRIP_PHASE = 37


def default_days(timezone_name: str, now: datetime, minimum: int = DEFAULT_DAYS) -> int:
    """Days of history that reach back past the home zone's latest DST change (and a trip)."""
    tz = ZoneInfo(timezone_name)
    day = now.astimezone(tz).date()
    noon = datetime.combine(day, time(12), tzinfo=tz)
    for back in range(1, 400):
        earlier = datetime.combine(day - timedelta(days=back), time(12), tzinfo=tz)
        if earlier.utcoffset() != noon.utcoffset():
            return max(minimum, back + 7)
    return minimum  # a zone without daylight saving


class SandboxClock:
    """The sandbox's idea of now: real time by default, frozen and advanced by tests."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        if frozen_at is not None and frozen_at.tzinfo is None:
            raise ValueError("the sandbox clock needs an aware datetime")
        self._frozen_at = frozen_at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._frozen_at if self._frozen_at is not None else datetime.now(timezone.utc)

    def advance(self, delta: timedelta) -> datetime:
        """Move a frozen clock forward (new days appear, recent ones may be revised)."""
        with self._lock:
            if self._frozen_at is None:
                raise RuntimeError("only a frozen sandbox clock can be advanced")
            self._frozen_at += delta
            return self._frozen_at


def rng_for(seed: int, *parts: object) -> random.Random:
    """A generator seeded by the seed and a path of names, independent of call order."""
    digest = hashlib.sha256("|".join([str(seed), *map(str, parts)]).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def stable_uuid(seed: int, *parts: object) -> str:
    """A UUID4-shaped id that is the same for the same seed and parts."""
    return str(uuid.UUID(int=rng_for(seed, "id", *parts).getrandbits(128), version=4))


@dataclass(frozen=True)
class DayPlan:
    """What the person did on one local day; the shared truth the providers report on."""

    day: date
    worn: bool
    steps: int
    active_kcal: int
    bmr_kcal: int
    workout_start_min: int | None  # minutes after local midnight
    workout_minutes: int
    wake_min: int  # minutes after local midnight the person woke up
    bed_min: int  # minutes after local midnight they went to bed (may exceed 24 h)
    resting_hr: int
    nonwear_gaps: tuple[tuple[int, int], ...]  # (start minute, end minute) the ring was off


@dataclass
class SandboxWorld:
    """One person's data across all providers, for a seed and a window of days ending at now."""

    seed: int = DEFAULT_SEED
    days: int = DEFAULT_DAYS
    timezone: str = DEFAULT_TIMEZONE
    clock: SandboxClock = field(default_factory=SandboxClock)
    ring_hr_interval_s: int = 300
    travel_timezone: str | None = DEFAULT_TRAVEL_TIMEZONE
    # Real devices send the odd impossible value (Oura's docs show a sleep heart rate of 4.25). With
    # this on, each provider reports exactly one on `implausible_day()` (see each generator).
    implausible_values: bool = False
    person: str = DEFAULT_PERSON
    # the default person's seed, which every other person's is derived from (None: this is the default person)
    household_seed: int | None = None

    def for_person(self, person: str) -> "SandboxWorld":
        """The world of `person` in this household: the default person's world for `me`, otherwise a seed
        derived from (seed, person) and a home zone (and a trip's zone) picked by it, same clock and days."""
        if not PERSON_ID.fullmatch(person):
            raise ValueError(f"{person!r} is not a person id (letters, digits, '.', '_' and '-', at most 64)")
        base = self.seed if self.household_seed is None else self.household_seed
        if person == self.person:
            return self
        if person == DEFAULT_PERSON:
            raise ValueError("the default person's world is the one the sandbox was started with, not derived")
        rng = rng_for(base, "person", person)
        home = rng.choice(PERSON_TIMEZONES)
        # a trip at most six hours away (as the default person's Berlin-New York): a longer jump would make two
        # nights overlap, and nobody sleeps twice at once
        near = [zone for zone in PERSON_TIMEZONES if zone != home and hours_apart(home, zone) <= TRIP_MAX_HOURS]
        trip = rng.choice(near) if self.travel_timezone and near else None
        return replace(self, seed=rng.getrandbits(48), timezone=home, travel_timezone=trip, person=person,
                       household_seed=base)

    @property
    def tz(self) -> ZoneInfo:
        """The person's home time zone."""
        return ZoneInfo(self.timezone)

    def travelling(self, day: date) -> bool:
        return self.travel_timezone is not None and (day.toordinal() - TRIP_PHASE) % TRIP_EVERY_DAYS < TRIP_DAYS

    def tz_for(self, day: date) -> ZoneInfo:
        """The zone the person lives the day in: home, or the trip's zone."""
        return ZoneInfo(self.travel_timezone) if self.travelling(day) and self.travel_timezone else self.tz

    def day_of(self, instant: datetime) -> date:
        """The person's local day an instant belongs to (days run midnight to next midnight)."""
        guess = instant.astimezone(self.tz).date()
        for day in (guess, guess - timedelta(days=1), guess + timedelta(days=1)):
            if self.local_midnight(day) <= instant < self.local_midnight(day + timedelta(days=1)):
                return day
        return guess

    def tz_at(self, instant: datetime) -> ZoneInfo:
        """The zone in effect at an instant (for offsets and local times in payloads)."""
        return self.tz_for(self.day_of(instant))

    def today(self) -> date:
        return self.day_of(self.clock.now())

    def first_day(self) -> date:
        return self.today() - timedelta(days=self.days - 1)

    def has_day(self, day: date) -> bool:
        """Days inside the generated window, up to and including today."""
        return self.first_day() <= day <= self.today()

    def implausible_day(self) -> date:
        """The day each provider's one impossible value falls on (with `implausible_values`)."""
        return self.today() - timedelta(days=3)

    def implausible(self, day: date) -> bool:
        """Whether the generators should put their impossible value on `day`."""
        return self.implausible_values and day == self.implausible_day()

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz_for(day))

    def day_length_s(self, day: date) -> int:
        """The real length of a local day: 23 or 25 hours across DST, 18 to 30 on a flight day."""
        start = self.local_midnight(day).astimezone(timezone.utc)
        end = self.local_midnight(day + timedelta(days=1)).astimezone(timezone.utc)
        return int((end - start).total_seconds())

    def weight_kg(self, day: date) -> float:
        """The person's weight on a day: a slow loss with day-to-day noise (every scale and app reports it)."""
        rng = rng_for(self.seed, "weight", day.isoformat())
        return 82.0 - (day.toordinal() % 730) * 0.004 + rng.gauss(0, 0.35)

    def plan(self, day: date) -> DayPlan:
        """The person's day: deterministic for (seed, day)."""
        rng = rng_for(self.seed, "plan", day.isoformat())
        weekend = day.weekday() >= 5
        worn = rng.random() > 0.03
        steps = max(0, int(rng.gauss(6500 if weekend else 9500, 2200)))
        trains = rng.random() < (0.5 if weekend else 0.35)
        workout_minutes = rng.randint(35, 80) if trains else 0
        workout_start = rng.randint(7 * 60, 19 * 60) if trains else None
        gaps: list[tuple[int, int]] = []
        if rng.random() < 0.3:
            start = rng.randint(9 * 60, 20 * 60)
            gaps.append((start, start + rng.randint(20, 120)))
        return DayPlan(
            day=day,
            worn=worn,
            steps=steps,
            active_kcal=int(steps * 0.045 + workout_minutes * 7 + rng.randint(-40, 40)),
            bmr_kcal=rng.randint(1650, 1750),
            workout_start_min=workout_start,
            workout_minutes=workout_minutes,
            wake_min=rng.randint(6 * 60, 8 * 60 + 30),
            bed_min=rng.randint(22 * 60, 24 * 60 + 45),
            resting_hr=rng.randint(52, 60),
            nonwear_gaps=tuple(gaps),
        )


STAGES = ("deep", "light", "rem", "awake")


@dataclass(frozen=True)
class Night:
    """The main sleep that ends on a local day (its wake-up day), in 5-minute stage slots."""

    day: date
    bed: datetime  # aware, UTC
    wake: datetime  # aware, UTC
    stages: tuple[str, ...]  # one of STAGES per 5 minutes from `bed`
    latency_s: int
    resting_hr: int

    @property
    def seconds(self) -> dict[str, int]:
        return {stage: self.stages.count(stage) * 300 for stage in STAGES}

    @property
    def rescored_at(self) -> datetime:
        """When the provider re-analyses this night (a bedtime edit, a late sync)."""
        return self.wake + timedelta(hours=8)


def _stage_cycle(rng: random.Random, slots: int) -> tuple[str, ...]:
    """Sleep architecture: ~90-minute cycles, deep early, REM late, brief awakenings."""
    stages: list[str] = ["awake"] * rng.randint(1, 3)
    cycle = 0
    while len(stages) < slots:
        deep = max(0, 5 - cycle * 2 + rng.randint(-1, 1))
        rem = min(7, 1 + cycle * 2 + rng.randint(0, 1))
        light = max(4, 18 - deep - rem + rng.randint(-2, 2))
        stages += ["light"] * (light // 2) + ["deep"] * deep + ["light"] * (light - light // 2) + ["rem"] * rem
        if rng.random() < 0.4:
            stages += ["awake"]
        cycle += 1
    return tuple(stages[:slots])


def night_for(world: "SandboxWorld", day: date) -> Night | None:
    """The main sleep ending on `day`, or None when the ring/tracker was off that night."""
    if not world.has_day(day) or not world.has_day(day - timedelta(days=1)):
        return None
    plan, evening = world.plan(day), world.plan(day - timedelta(days=1))
    if not (plan.worn and evening.worn):
        return None
    # Wall-clock times first, then UTC: arithmetic on UTC stays right across a DST night.
    bed = (world.local_midnight(day - timedelta(days=1)) + timedelta(minutes=evening.bed_min)).astimezone(timezone.utc)
    wake = (world.local_midnight(day) + timedelta(minutes=plan.wake_min)).astimezone(timezone.utc)
    slots = int((wake - bed).total_seconds() // 300)
    if slots <= 0:  # a flight east ate the night (woke, in UTC, before going to bed): no main sleep recorded
        return None
    rng = rng_for(world.seed, "night", day.isoformat())
    return Night(
        day=day,
        bed=bed,
        wake=bed + timedelta(seconds=slots * 300),
        stages=_stage_cycle(rng, slots),
        latency_s=rng.randint(3, 25) * 60,
        resting_hr=plan.resting_hr,
    )


def hours_apart(a: str, b: str) -> float:
    """How far two zones' clocks are apart in hours (at a fixed January instant: standard times)."""
    instant = datetime(2026, 1, 15, 12, tzinfo=timezone.utc)
    offset = instant.astimezone(ZoneInfo(a)).utcoffset() - instant.astimezone(ZoneInfo(b)).utcoffset()  # type: ignore[operator]
    return abs(offset.total_seconds()) / 3600
