"""Apple Health exports of the sandbox person ("Export All Health Data": `export.zip`), in the formats the
Health app has written (apple-health-export.md): the early exports without a DTD, versions 13 and 14
(workout totals as attributes, then as `WorkoutStatistics`), the XML named in the phone's language,
archives re-zipped on a Mac, the malformed DTD of iOS 16, and the side files (`export_cda.xml`,
clinical records, electrocardiograms, routes) an importer must count and leave alone.

The facts are the world's (health_pipeline/sandbox/tracker.py and world.py), written as the Watch, the
iPhone and the apps that copy into Health would: the Watch's heart rate, steps, energy and sleep
stages; the iPhone's own step counts of the same walks (fewer, over longer intervals) and its floors
and in-bed times; a ring's and a scale's companion apps copying their data in (Oura, Health Mate);
a blood-pressure app. Every date carries the UTC offset in force where the person was.
`expected(...)` is the ground truth the tests compare the tidy tables with.
"""

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO
from xml.sax.saxutils import quoteattr

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import Night, SandboxWorld, night_for, rng_for

WATCH = "Sandbox’s Apple Watch"
PHONE = "Sandbox’s iPhone"
HEALTH = "Health"  # entries typed into the Health app on the phone
OURA = "Oura"  # copies the ring's data in: the project syncs Oura itself
HEALTH_MATE = "Health Mate"  # Withings' app, the same
OMRON = "OMRON connect"  # a blood-pressure cuff's app the project has no source for
WATCH_DEVICE = ("&lt;&lt;HKDevice: 0x{ptr:x}&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
                "hardware:Watch6,2, software:10.1&gt;")
PHONE_DEVICE = ("&lt;&lt;HKDevice: 0x{ptr:x}&gt;, name:iPhone, manufacturer:Apple Inc., model:iPhone, "
                "hardware:iPhone14,2, software:17.1&gt;")
KM_PER_STEP = 0.000762
KJ_PER_KCAL = 4.184
MI_PER_KM = 0.621371192237334
LB_PER_KG = 2.20462262185
HEIGHT_CM = 180.0
PHONE_SHARE = 0.8  # the phone in a pocket counts fewer of the same steps
STAGE_LABELS = {"deep": "AsleepDeep", "light": "AsleepCore", "rem": "AsleepREM", "awake": "Awake"}
ACTIVITIES = ("Running", "Cycling", "TraditionalStrengthTraining")
DTD_14 = """<!DOCTYPE HealthData [
<!-- HealthKit Export Version: {version} -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ATTLIST VisionPrescription
  type             CDATA #REQUIRED
  dateIssued       CDATA #REQUIRED
  expirationDate   CDATA #IMPLIED
  brand            CDATA #IMPLIED
{broken}
]>
"""


@dataclass(frozen=True)
class ExportSpec:
    """How to write one export: its format, its units and density, the days."""

    version: int = 14  # 14 or 13 (HealthKit Export Version); 0: an early export (no DTD, totals as attributes)
    locale: str = "en_US"
    xml_name: str = "export.xml"  # the phone's language: "导出.xml"
    broken_dtd: bool = False  # iOS 16's DTD with an ATTLIST never closed
    macosx: bool = False  # re-zipped on a Mac: `__MACOSX/…/._export.xml` entries
    side_files: bool = True  # export_cda.xml, clinical records, an ECG, workout routes
    hr_every_s: int = 300  # the Watch's heart-rate spacing (60: a dense watch, the benchmark)
    energy_unit: str = "kcal"  # "kcal" or "kJ"
    distance_unit: str = "km"  # "km" or "mi"
    weight_unit: str = "lb"  # "lb" or "kg"
    stages_from: date | None = None  # nights from this day have iOS 16 stages; before: asleep/in bed only
    first: date | None = None
    last: date | None = None  # default: the world's first day .. yesterday
    copies: bool = True  # Oura's and Health Mate's copies in Health
    control_char: bool = False  # a vertical tab inside an attribute (breaks strict parsers)


# -- the facts, shared by the writer and the ground truth ------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One record: HealthKit type (without prefix), source, instants, value, unit and extras."""

    kind: str  # "Q" quantity, "C" category
    type: str  # HeartRate, StepCount, SleepAnalysis, …
    source: str
    start: datetime  # aware UTC
    end: datetime
    value: str | None
    unit: str | None = None
    meta: tuple[tuple[str, str], ...] = ()
    beats: tuple[tuple[int, str], ...] = ()  # HRV's instantaneous beats (bpm, local clock time)


def days_of(world: SandboxWorld, spec: ExportSpec) -> Iterator[date]:
    day = spec.first or world.first_day()
    last = spec.last or world.today() - timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def _bouts(minutes: tuple[tracker.Minute, ...]) -> list[list[tracker.Minute]]:
    """Runs of consecutive minutes with steps: the walks the phone also counts."""
    bouts: list[list[tracker.Minute]] = []
    for m in minutes:
        if not m.steps:
            continue
        if bouts and bouts[-1][-1].start + timedelta(minutes=1) == m.start:
            bouts[-1].append(m)
        else:
            bouts.append([m])
    return bouts


def _fmt(x: float) -> str:
    return repr(round(x, 6))


def energy(kcal: float, spec: ExportSpec) -> str:
    return _fmt(kcal * KJ_PER_KCAL if spec.energy_unit == "kJ" else kcal)


def distance(km: float, spec: ExportSpec) -> str:
    return _fmt(km * MI_PER_KM if spec.distance_unit == "mi" else km)


def phone_walks(world: SandboxWorld, day: date) -> list[tuple[datetime, datetime, int]]:
    """The phone's own walks on a day the Watch was not worn: (start, end, steps), adding up to the day's."""
    plan = world.plan(day)
    rng = rng_for(world.seed, "apple", "phone-walks", day.isoformat())
    midnight = world.local_midnight(day).astimezone(timezone.utc)
    walks, left = [], plan.steps
    for i in range(6):
        steps = left if i == 5 else plan.steps // 6
        left -= steps
        start = midnight + timedelta(hours=9 + 2 * i, minutes=rng.randint(0, 40))
        walks.append((start, start + timedelta(minutes=rng.randint(8, 20)), steps))
    return walks


def samples(world: SandboxWorld, day: date, spec: ExportSpec) -> Iterator[Sample]:
    """Every record of one local day, as the devices and apps wrote them into Health."""
    plan = world.plan(day)
    minutes = tracker.minutes(world, day)
    midnight = world.local_midnight(day).astimezone(timezone.utc)
    beats = tracker.heart_rate(world, day, spec.hr_every_s)
    for i, beat in enumerate(beats):
        yield Sample("Q", "HeartRate", WATCH, beat.at, beat.at, str(beat.bpm), "count/min",
                     (("HKMetadataKeyHeartRateMotionContext", "1" if beat.bpm > 100 else "0"),))
        if spec.copies and i % 6 == 0:
            yield Sample("Q", "HeartRate", OURA, beat.at, beat.at, str(beat.bpm + 1), "count/min")
    one = timedelta(minutes=1)
    for m in minutes:
        if m.steps:
            yield Sample("Q", "StepCount", WATCH, m.start, m.start + one, str(m.steps), "count")
            yield Sample("Q", "DistanceWalkingRunning", WATCH, m.start, m.start + one,
                         distance(m.steps * KM_PER_STEP, spec), spec.distance_unit)
    for bout in _bouts(minutes):  # the phone counted the same walks, over the whole walk, fewer steps
        steps = sum(m.steps or 0 for m in bout)
        yield Sample("Q", "StepCount", PHONE, bout[0].start, bout[-1].start + one, str(int(steps * PHONE_SHARE)), "count")
    if not plan.worn:
        for start, end, steps in phone_walks(world, day):
            yield Sample("Q", "StepCount", PHONE, start, end, str(steps), "count")
            yield Sample("Q", "DistanceWalkingRunning", PHONE, start, end,
                         distance(steps * KM_PER_STEP, spec), spec.distance_unit)
    for m in minutes:
        if m.active_kcal > 0:
            yield Sample("Q", "ActiveEnergyBurned", WATCH, m.start, m.start + one, energy(m.active_kcal, spec),
                         spec.energy_unit)
        if m.floors:
            yield Sample("Q", "FlightsClimbed", PHONE, m.start, m.start + one, str(m.floors), "count")
    if plan.worn:
        for hour in range(24):
            start = midnight + timedelta(hours=hour)
            if start >= midnight + timedelta(seconds=world.day_length_s(day)):
                break
            yield Sample("Q", "BasalEnergyBurned", WATCH, start, start + timedelta(hours=1),
                         energy(plan.bmr_kcal / 24, spec), spec.energy_unit)
        yield Sample("Q", "RestingHeartRate", WATCH, midnight, midnight + timedelta(minutes=plan.wake_min),
                     str(plan.resting_hr), "count/min")
    night = night_for(world, day)
    if night is not None:
        yield from _night(world, night, spec)
    yield from _body(world, day, spec)


def _night(world: SandboxWorld, night: Night, spec: ExportSpec) -> Iterator[Sample]:
    zone = world.tz_at(night.wake)
    meta = (("HKTimeZone", zone.key),)
    staged = spec.stages_from is not None and night.day >= spec.stages_from
    for start, end, stage in stage_runs(night, staged):
        yield Sample("C", "SleepAnalysis", WATCH, start, end, f"HKCategoryValueSleepAnalysis{stage}", None, meta)
    yield Sample("C", "SleepAnalysis", PHONE, night.bed, night.wake, "HKCategoryValueSleepAnalysisInBed")
    if spec.copies:
        yield Sample("C", "SleepAnalysis", OURA, night.bed, night.wake, "HKCategoryValueSleepAnalysisInBed")
    rng = rng_for(world.seed, "apple", "night", night.day.isoformat())
    at = night.wake - timedelta(hours=2)
    local = at.astimezone(zone)
    clocks = tuple((night.resting_hr + rng.randint(0, 6), (local + timedelta(seconds=k)).strftime("%H:%M:%S.00"))
                   for k in range(0, 5))
    yield Sample("Q", "HeartRateVariabilitySDNN", WATCH, at, at + timedelta(minutes=1), _fmt(hrv_sdnn(world, night)),
                 "ms", beats=clocks)
    yield Sample("Q", "RespiratoryRate", WATCH, at, at, _fmt(respiratory_rate(world, night)), "count/min")
    yield Sample("Q", "OxygenSaturation", WATCH, at, at, _fmt(spo2(world, night) / 100), "%")


def stage_runs(night: Night, staged: bool) -> list[tuple[datetime, datetime, str]]:
    """The Watch's sleep records of a night: one per run of a stage (iOS 16+), or, before, one per run
    of sleep (`Asleep`), the awake slots left out."""
    runs: list[tuple[datetime, datetime, str]] = []
    for i, stage in enumerate(night.stages):
        label = STAGE_LABELS[stage] if staged else ("Awake" if stage == "awake" else "Asleep")
        start = night.bed + timedelta(minutes=5 * i)
        if runs and runs[-1][2] == label and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], start + timedelta(minutes=5), label)
        else:
            runs.append((start, start + timedelta(minutes=5), label))
    return [r for r in runs if staged or r[2] != "Awake"]


def hrv_sdnn(world: SandboxWorld, night: Night) -> float:
    return round(35 + rng_for(world.seed, "apple", "sdnn", night.day.isoformat()).random() * 40, 3)


def respiratory_rate(world: SandboxWorld, night: Night) -> float:
    return round(13 + rng_for(world.seed, "apple", "resp", night.day.isoformat()).random() * 3, 1)


def spo2(world: SandboxWorld, night: Night) -> float:
    return float(rng_for(world.seed, "apple", "spo2", night.day.isoformat()).randint(94, 99))


def vo2_max(world: SandboxWorld, day: date) -> float:
    return round(42 + rng_for(world.seed, "apple", "vo2", day.isoformat()).random() * 4, 2)


def _body(world: SandboxWorld, day: date, spec: ExportSpec) -> Iterator[Sample]:
    midnight = world.local_midnight(day).astimezone(timezone.utc)
    if day == (spec.first or world.first_day()):
        yield Sample("Q", "Height", HEALTH, midnight + timedelta(hours=9), midnight + timedelta(hours=9),
                     _fmt(HEIGHT_CM), "cm", (("HKWasUserEntered", "1"),))
    weigh_in = tracker.weigh_in(world, day)
    if weigh_in is not None:
        value = weigh_in.kg * LB_PER_KG if spec.weight_unit == "lb" else weigh_in.kg
        yield Sample("Q", "BodyMass", HEALTH, weigh_in.at, weigh_in.at, _fmt(value), spec.weight_unit,
                     (("HKWasUserEntered", "1"),))
        yield Sample("Q", "BodyFatPercentage", HEALTH, weigh_in.at, weigh_in.at, _fmt(weigh_in.fat_pct / 100), "%",
                     (("HKWasUserEntered", "1"),))
    if spec.copies and world.plan(day).worn:
        at = midnight + timedelta(hours=7, minutes=2)
        yield Sample("Q", "BodyMass", HEALTH_MATE, at, at, _fmt(world.weight_kg(day)), "kg")
    if day.weekday() == 0:
        at = midnight + timedelta(hours=18)
        yield Sample("Q", "VO2Max", WATCH, at, at, _fmt(vo2_max(world, day)), "mL/min·kg",
                     (("HKVO2MaxTestType", "2"),))
    if day.day == 15:
        at = midnight + timedelta(hours=7, minutes=30)
        celsius = 36.6 + (day.month % 3) / 10
        yield Sample("Q", "BodyTemperature", HEALTH, at, at,
                     _fmt(celsius * 9 / 5 + 32 if spec.weight_unit == "lb" else celsius),
                     "degF" if spec.weight_unit == "lb" else "degC")


def blood_pressure(world: SandboxWorld, day: date) -> tuple[datetime, int, int] | None:
    """The first of each month's blood-pressure reading (the cuff's app): instant, systolic, diastolic."""
    if day.day != 1:
        return None
    rng = rng_for(world.seed, "apple", "bp", day.isoformat())
    return (world.local_midnight(day).astimezone(timezone.utc) + timedelta(hours=8), rng.randint(112, 128),
            rng.randint(70, 82))


@dataclass(frozen=True)
class WorkoutFacts:
    """A workout the Watch recorded: activity, instants, paused seconds, energy, distance, heart rate."""

    activity: str
    start: datetime
    end: datetime
    paused_s: int
    kcal: float
    km: float | None
    beats: tuple[int, ...]  # one reading a minute

    @property
    def duration_s(self) -> int:
        return int((self.end - self.start).total_seconds()) - self.paused_s

    @property
    def avg_hr(self) -> float:
        return sum(self.beats) / len(self.beats)


def _workout_facts(world: SandboxWorld, day: date) -> WorkoutFacts | None:
    plan = world.plan(day)
    if plan.workout_start_min is None or not plan.worn:
        return None
    rng = rng_for(world.seed, "apple", "workout", day.isoformat())
    activity = rng.choice(ACTIVITIES)
    start = (world.local_midnight(day) + timedelta(minutes=plan.workout_start_min)).astimezone(timezone.utc)
    end = start + timedelta(minutes=plan.workout_minutes)
    km = round(plan.workout_minutes / (6 if activity == "Running" else 2.4), 3) if activity != ACTIVITIES[2] else None
    beats = tuple(rng.randint(120, 165) for _ in range(plan.workout_minutes))
    return WorkoutFacts(activity, start, end, 120, round(plan.workout_minutes * 7.1, 2), km, beats)


# -- writing ----------------------------------------------------------------------------------------


class Stamper:
    """`2026-03-29 02:30:00 +0200`: an instant on the clock of the zone the person was in then (the
    offset looked up once per quarter hour: zones change on quarter hours at the finest)."""

    def __init__(self, world: SandboxWorld) -> None:
        self.world = world
        self._offsets: dict[int, tuple[int, str]] = {}

    def __call__(self, instant: datetime) -> str:
        epoch = int(instant.timestamp())
        found = self._offsets.get(epoch // 900)
        if found is None:
            offset = instant.astimezone(self.world.tz_at(instant)).utcoffset() or timedelta(0)
            seconds = int(offset.total_seconds())
            sign, minutes = ("-" if seconds < 0 else "+"), abs(seconds) // 60
            found = self._offsets[epoch // 900] = (seconds, f" {sign}{minutes // 60:02d}{minutes % 60:02d}")
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch + found[0])) + found[1]


def _record(s: Sample, stamp: Stamper, spec: ExportSpec, ptr: int, created: str) -> str:
    prefix = "HKQuantityTypeIdentifier" if s.kind == "Q" else "HKCategoryTypeIdentifier"
    attrs = [f'type="{prefix}{s.type}"', f"sourceName={quoteattr(s.source)}"]
    if spec.version:
        attrs.append('sourceVersion="10.1"')
        if s.source == WATCH:
            attrs.append('device="' + WATCH_DEVICE.format(ptr=ptr) + '"')
        elif s.source == PHONE:
            attrs.append('device="' + PHONE_DEVICE.format(ptr=ptr) + '"')
    if s.unit is not None:
        attrs.append(f"unit={quoteattr(s.unit)}")
    attrs += [f'creationDate="{created}"', f'startDate="{stamp(s.start)}"', f'endDate="{stamp(s.end)}"']
    if s.value is not None:
        attrs.append(f'value="{s.value}"')
    body = "".join(f'\n  <MetadataEntry key="{k}" value={quoteattr(v)}/>' for k, v in s.meta)
    if s.beats:
        body += "\n  <HeartRateVariabilityMetadataList>" + "".join(
            f'\n   <InstantaneousBeatsPerMinute bpm="{bpm}" time="{t}"/>' for bpm, t in s.beats) + \
            "\n  </HeartRateVariabilityMetadataList>"
    head = f" <Record {' '.join(attrs)}"
    return f"{head}>{body}\n </Record>\n" if body else f"{head}/>\n"


def _workout_xml(world: SandboxWorld, w: WorkoutFacts, stamp: Stamper, spec: ExportSpec) -> str:
    zone = world.tz_at(w.start)
    kind = f"HKWorkoutActivityType{w.activity}"
    energy_text = energy(w.kcal, spec)
    attrs = [f'workoutActivityType="{kind}"', f'duration="{_fmt(w.duration_s / 60)}"', 'durationUnit="min"']
    if spec.version < 14:  # totals as attributes, as before iOS 16
        if w.km is not None:
            attrs += [f'totalDistance="{distance(w.km, spec)}"', f'totalDistanceUnit="{spec.distance_unit}"']
        attrs += [f'totalEnergyBurned="{energy_text}"', f'totalEnergyBurnedUnit="{spec.energy_unit}"']
    attrs += [f"sourceName={quoteattr(WATCH)}", 'sourceVersion="10.1"']
    attrs += [f'creationDate="{stamp(w.end)}"', f'startDate="{stamp(w.start)}"', f'endDate="{stamp(w.end)}"']
    lines = [f" <Workout {' '.join(attrs)}>", f'  <MetadataEntry key="HKTimeZone" value="{zone.key}"/>',
             '  <MetadataEntry key="HKIndoorWorkout" value="0"/>']
    pause = w.start + timedelta(minutes=10)
    lines += [f'  <WorkoutEvent type="HKWorkoutEventTypePause" date="{stamp(pause)}"/>',
              f'  <WorkoutEvent type="HKWorkoutEventTypeResume" date="{stamp(pause + timedelta(seconds=w.paused_s))}"/>']
    if spec.version >= 14:
        span = f'startDate="{stamp(w.start)}" endDate="{stamp(w.end)}"'
        unit = "Cal" if spec.energy_unit == "kcal" else "kJ"
        lines.append(f'  <WorkoutStatistics type="HKQuantityTypeIdentifierActiveEnergyBurned" {span} '
                     f'sum="{energy_text}" unit="{unit}"/>')
        if w.km is not None:
            stat = "DistanceCycling" if w.activity == "Cycling" else "DistanceWalkingRunning"
            lines.append(f'  <WorkoutStatistics type="HKQuantityTypeIdentifier{stat}" {span} '
                         f'sum="{distance(w.km, spec)}" unit="{spec.distance_unit}"/>')
        lines.append(f'  <WorkoutStatistics type="HKQuantityTypeIdentifierHeartRate" {span} '
                     f'average="{_fmt(w.avg_hr)}" minimum="{min(w.beats)}" maximum="{max(w.beats)}" unit="count/min"/>')
    if spec.version and w.km is not None:
        lines += ["  <WorkoutRoute sourceName=" + quoteattr(WATCH) + f' startDate="{stamp(w.start)}" '
                  f'endDate="{stamp(w.end)}">',
                  f'   <FileReference path="/workout-routes/route_{w.start:%Y-%m-%d_%H.%M}.gpx"/>',
                  "  </WorkoutRoute>"]
    lines.append(" </Workout>")
    return "\n".join(lines) + "\n"


def _bp_xml(at: str, systolic: int, diastolic: int) -> tuple[str, list[str]]:
    """A blood-pressure correlation and the two records it groups (also written at the top level)."""
    def rec(kind: str, value: int) -> str:
        return (f' <Record type="HKQuantityTypeIdentifierBloodPressure{kind}" sourceName="{OMRON}" unit="mmHg" '
                f'creationDate="{at}" startDate="{at}" endDate="{at}" value="{value}"/>\n')
    records = [rec("Systolic", systolic), rec("Diastolic", diastolic)]
    correlation = (f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="{OMRON}" '
                   f'creationDate="{at}" startDate="{at}" endDate="{at}">\n'
                   + "".join("  " + r.lstrip() for r in records) + " </Correlation>\n")
    return correlation, records


def write_xml(world: SandboxWorld, spec: ExportSpec, out: IO[str]) -> int:
    """Write export.xml to `out`; the number of top-level records written."""
    stamp = Stamper(world)
    now = world.clock.now()
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if spec.version:
        broken = "" if spec.broken_dtd else ">"
        out.write(DTD_14.format(version=spec.version, broken=broken))
    out.write(f'<HealthData locale="{spec.locale}">\n <ExportDate value="{stamp(now)}"/>\n')
    if spec.version:
        out.write(' <Me HKCharacteristicTypeIdentifierDateOfBirth="1985-04-02" '
                  'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexMale"/>\n')
    count, ptr = 0, 0x282a45810
    summaries: list[str] = []
    for day in days_of(world, spec):
        created = stamp(world.local_midnight(day + timedelta(days=1)).astimezone(timezone.utc))
        lines = []
        # the Health app writes one type after another (a day's worth here, so a long export is written day
        # by day): the Watch's and the apps' samples of one type together
        for s in sorted(samples(world, day, spec), key=lambda s: s.type):
            ptr += 0x40
            lines.append(_record(s, stamp, spec, ptr, created))
        if spec.control_char and day == (spec.first or world.first_day()) + timedelta(days=1):
            lines[0] = lines[0].replace('sourceVersion="10.1"', 'sourceVersion="10.1\x0b"')
        bp = blood_pressure(world, day)
        if bp is not None:
            correlation, records = _bp_xml(stamp(bp[0]), bp[1], bp[2])
            lines += records
            lines.append(correlation)
        count += len(lines)
        workout = _workout_facts(world, day)
        if workout is not None:
            lines.append(_workout_xml(world, workout, stamp, spec))
        plan = world.plan(day)
        summaries.append(f' <ActivitySummary dateComponents="{day.isoformat()}" activeEnergyBurned="{plan.active_kcal}" '
                         f'activeEnergyBurnedGoal="500" activeEnergyBurnedUnit="kcal" appleExerciseTime="{plan.workout_minutes}" '
                         f'appleExerciseTimeGoal="30" appleStandHours="12" appleStandHoursGoal="12"/>\n')
        out.writelines(lines)
    out.writelines(summaries)
    out.write("</HealthData>\n")
    return count


def _side_files(zf: zipfile.ZipFile, root: str, world: SandboxWorld, spec: ExportSpec) -> None:
    zf.writestr(f"{root}/export_cda.xml", '<?xml version="1.0"?>\n<ClinicalDocument/>\n<ClinicalDocument/>\n')
    zf.writestr(f"{root}/clinical-records/Observation-1.json", '{"resourceType": "Observation"}')
    zf.writestr(f"{root}/electrocardiograms/ecg_2026-01-05.csv",
                'Name,Sandbox Person\nDate of Birth,"Apr 2, 1985"\nSample Rate,512 hertz\n\n-265.868\n-261.2\n')
    for day in days_of(world, spec):
        w = _workout_facts(world, day)
        if w is not None and w.km is not None:
            zf.writestr(f"{root}/workout-routes/route_{w.start:%Y-%m-%d_%H.%M}.gpx",
                        '<?xml version="1.0"?><gpx version="1.1" creator="Apple Health Export"/>')


def write_export(world: SandboxWorld, spec: ExportSpec, path: Path) -> Path:
    """Write the export: `path` ending in .zip gives the archive the Health app shares, else an unpacked
    folder (`path/apple_health_export/<xml_name>`); returns the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    root = "apple_health_export"
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            with zf.open(f"{root}/{spec.xml_name}", "w", force_zip64=True) as raw, _text(raw) as out:
                write_xml(world, spec, out)
            if spec.side_files:
                _side_files(zf, root, world, spec)
            if spec.macosx:
                zf.writestr(f"__MACOSX/{root}/._{spec.xml_name}", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
        return path
    folder = path / root
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / spec.xml_name, "w", encoding="utf-8", buffering=1 << 20) as out:
        write_xml(world, spec, out)
    return path


class _text:
    """A UTF-8 text writer over a binary zip entry."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._wrapper = io.TextIOWrapper(raw, encoding="utf-8", write_through=False)

    def __enter__(self) -> IO[str]:
        return self._wrapper

    def __exit__(self, *exc: object) -> None:
        self._wrapper.flush()
        self._wrapper.detach()


# -- ground truth -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayTruth:
    """What the apple_health rows of one day must say."""

    steps: int | None
    distance_m: float | None
    active_kcal: float | None
    basal_kcal: float | None
    floors: float | None
    resting_hr: float | None


def day_truth(world: SandboxWorld, day: date, spec: ExportSpec) -> DayTruth:
    """A day's activity counted once: the Watch's where it was worn (its steps win every minute the phone
    also counted), the phone's own where it was not; the apps' copies never."""
    plan = world.plan(day)
    minutes = tracker.minutes(world, day)
    if plan.worn:
        steps = sum(m.steps or 0 for m in minutes)
        km = sum(float(distance(m.steps * KM_PER_STEP, spec)) for m in minutes if m.steps)
    else:
        walks = phone_walks(world, day)
        steps = sum(s for _, _, s in walks)
        km = sum(float(distance(s * KM_PER_STEP, spec)) for _, _, s in walks)
    if spec.distance_unit == "mi":
        km /= MI_PER_KM
    per_kcal = KJ_PER_KCAL if spec.energy_unit == "kJ" else 1.0
    active = sum(float(energy(m.active_kcal, spec)) for m in minutes if m.active_kcal > 0) / per_kcal
    hours = sum(1 for h in range(24) if h * 3600 < world.day_length_s(day))
    basal = hours * float(energy(plan.bmr_kcal / 24, spec)) / per_kcal if plan.worn else None
    floors = sum(m.floors for m in minutes)
    return DayTruth(steps or None, km * 1000 if steps else None, active if minutes else None, basal, float(floors) if floors else None,
                    float(plan.resting_hr) if plan.worn else None)


def nights(world: SandboxWorld, spec: ExportSpec) -> list[Night]:
    return [n for d in days_of(world, spec) if (n := night_for(world, d)) is not None]


def workouts(world: SandboxWorld, spec: ExportSpec) -> list[WorkoutFacts]:
    return [w for d in days_of(world, spec) if (w := _workout_facts(world, d)) is not None]
