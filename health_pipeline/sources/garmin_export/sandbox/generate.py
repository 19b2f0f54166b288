"""Garmin Connect exports of the sandbox person ("Export Your Data", garmin-export.md), for tests, the
benchmark and the demo: the facts of the world's wrist tracker (health_pipeline/sandbox/tracker.py: the
same minutes, heart rate, nights, workouts and weigh-ins the Fitbit fakes report) written the way Garmin
writes its export: JSON under `DI_CONNECT/`, split into overlapping date-range files, top-level arrays,
distances in cm, durations in ms, weights in grams, sleep times as zone-less UTC strings, the user's email
and id in file names; FIT files (sandbox/fit_writer.py) inside nested `UploadedFiles_*.zip`: one
monitoring file per local day (a new one when the clock changes) with `timestamp_16`, one activity file
per workout, and a sleep-type stub the importer does not read.

What only Garmin reports (sleep scores, the activity files' 5-second heart rate, activity ids) is drawn
from the world's seed here, by the functions the tests call for their ground truth.
"""

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import orjson

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import SandboxWorld, night_for, rng_for
from health_pipeline.sources.garmin_export.sandbox.fit_writer import FitFile, FILE_ID, MANUFACTURER_GARMIN, PRODUCT
from health_pipeline.sources.garmin_export.sandbox.fit_writer import activity_file, fit_seconds, monitoring_file

EMAIL = "sandbox.person@example.com"  # in file names, as Garmin writes them: never shown by the importer
USER_ID = 119317109
ROOT = "DI_CONNECT"
ACTIVITY_TYPES = {"WEIGHTLIFTING": "strength_training", "RUNNING": "running", "WALKING": "walking"}
METRES_PER_MINUTE = {"running": 160.0, "walking": 85.0}
ACTIVITY_HR_EVERY_S = 5
FLOOR_M = 3.048


@dataclass(frozen=True)
class ExportSpec:
    """What to write: the days, the monitoring density, and how the files are split."""

    first: date | None = None
    last: date | None = None  # default: the world's first day .. yesterday
    monitoring: bool = True  # the monitoring FIT files (all-day heart rate)
    hr_every_s: int = 60  # monitoring heart-rate spacing (a watch writes about one a minute)
    uds_days: int = 90  # days per UDSFile (Garmin: about a quarter)
    sleep_days: int = 100  # days per sleepData file
    overlap_days: int = 5  # each file repeats the previous file's last days (real exports overlap)
    fits_per_zip: int = 2000  # FIT files per UploadedFiles_*.zip part


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _chunks(first: date, last: date, size: int, overlap: int) -> Iterator[tuple[date, date]]:
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=size - 1))
        yield max(first, start - timedelta(days=overlap)), end
        start = end + timedelta(days=1)


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def _gmt(instant: datetime) -> str:
    """Garmin's sleep time: UTC, no zone, a trailing `.0`."""
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".0"


def _offset_s(instant: datetime, world: SandboxWorld) -> int:
    return int(instant.astimezone(world.tz_at(instant)).utcoffset().total_seconds())  # type: ignore[union-attr]


# -- the ground truth of what Garmin alone reports ------------------------------------------------------


def sleep_score(world: SandboxWorld, day: date) -> int:
    """The night's overall sleep score Garmin gives (0-100)."""
    return rng_for(world.seed, "garmin", "sleep-score", day.isoformat()).randint(45, 95)


def activity_id(exercise: tracker.Exercise) -> int:
    """Garmin's id of a workout (an 11-digit number, as Garmin's are)."""
    return 20_000_000_000 + int(exercise.start.timestamp()) // 60


def activity_samples(world: SandboxWorld, exercise: tracker.Exercise) -> list[tuple[datetime, int]]:
    """The activity file's heart rate: one sample every 5 s from its start to its end."""
    rng = rng_for(world.seed, "garmin", "activity-hr", exercise.start.isoformat())
    count = int((exercise.end - exercise.start).total_seconds()) // ACTIVITY_HR_EVERY_S
    return [(exercise.start + timedelta(seconds=ACTIVITY_HR_EVERY_S * i), rng.randint(118, 168)) for i in range(count)]


def activity_distance_m(exercise: tracker.Exercise) -> float:
    kind = ACTIVITY_TYPES[exercise.kind]
    return round(exercise.minutes * METRES_PER_MINUTE.get(kind, 0.0), 2)


def workout_zone_ms(world: SandboxWorld, exercise: tracker.Exercise) -> dict[int, int]:
    """Time in Garmin's zones 3 (the tracker's cardio) and 4 (peak) during the workout, ms."""
    day = world.day_of(exercise.start)
    inside = [m for m in tracker.minutes(world, day) if exercise.start <= m.start < exercise.end]
    return {3: 60_000 * sum(m.zone == "CARDIO" for m in inside), 4: 60_000 * sum(m.zone == "PEAK" for m in inside)}


def grams(kg: float) -> int:
    return int(round(kg * 1000))


# -- the export ----------------------------------------------------------------------------------------


class _Writer:
    """Files into a folder or a zip."""

    def __init__(self, target: Path, zipped: bool) -> None:
        self.zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) if zipped else None
        self.root = target

    def write(self, name: str, data: bytes) -> None:
        if self.zip is not None:
            self.zip.writestr(name, data)
        else:
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def write_export(world: SandboxWorld, target: Path, spec: ExportSpec = ExportSpec(), *, zipped: bool = True) -> Path:
    """Write the export (a `.zip`, or a folder when not `zipped`) and return its path."""
    first = spec.first or world.first_day()
    last = spec.last or world.today() - timedelta(days=1)
    out = _Writer(target, zipped)
    try:
        _uds(out, world, spec, first, last)
        _sleep(out, world, spec, first, last)
        _activities(out, world, first, last)
        _biometrics(out, world, first, last)
        _fits(out, world, spec, first, last)
        out.write(f"{ROOT}/DI-Connect-Fitness/gear.json", b"[]")  # files the importer does not read
        out.write(f"{ROOT}/DI-Connect-User/user_profile.json", orjson.dumps({"firstName": "Sandbox"}))
    finally:
        out.close()
    return target


def _uds(out: _Writer, world: SandboxWorld, spec: ExportSpec, first: date, last: date) -> None:
    for start, end in _chunks(first, last, spec.uds_days, spec.overlap_days):
        rows = [uds_record(world, day) for day in _days(start, end)]
        out.write(f"{ROOT}/DI-Connect-Aggregator/UDSFile_{start}_{end}.json", orjson.dumps(rows))


def uds_record(world: SandboxWorld, day: date) -> dict[str, object]:
    """A day's summary as the export writes it (nested stress and body battery, floors in metres)."""
    minutes = tracker.minutes(world, day)
    if not minutes:
        return {"userProfilePK": USER_ID, "calendarDate": day.isoformat(), "includesWellnessData": False,
                "totalSteps": None, "uuid": f"{day}-no-data"}
    levels = {level: sum(m.level == level for m in minutes) for level in ("SEDENTARY", "LIGHT", "MODERATE", "VIGOROUS")}
    plan = world.plan(day)
    steps = sum(m.steps or 0 for m in minutes)
    floors = sum(m.floors for m in minutes)
    midnight = world.local_midnight(day)
    return {
        "userProfilePK": USER_ID, "calendarDate": day.isoformat(), "uuid": f"{day}-uds",
        "includesWellnessData": True,
        "wellnessStartTimeGmt": midnight.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0"),
        "wellnessStartTimeLocal": f"{day}T00:00:00.0",
        "totalSteps": steps, "dailyStepGoal": 8000,
        "totalDistanceMeters": round(steps * 0.762, 2),
        "sedentarySeconds": levels["SEDENTARY"] * 60, "activeSeconds": levels["LIGHT"] * 60,
        "highlyActiveSeconds": (levels["MODERATE"] + levels["VIGOROUS"]) * 60,
        "moderateIntensityMinutes": levels["MODERATE"], "vigorousIntensityMinutes": levels["VIGOROUS"],
        "activeKilocalories": round(sum(m.active_kcal for m in minutes), 1),
        "bmrKilocalories": float(plan.bmr_kcal),
        "totalKilocalories": round(sum(m.total_kcal for m in minutes), 1),
        "floorsAscendedInMeters": floors * FLOOR_M, "floorsDescendedInMeters": floors * FLOOR_M,
        "minHeartRate": plan.resting_hr - 3, "maxHeartRate": 150,
        "restingHeartRate": plan.resting_hr + 1,  # Garmin's 7-day value: not the day's
        "currentDayRestingHeartRate": plan.resting_hr,
        "restingHeartRateTimestamp": _ms(midnight + timedelta(hours=6)),
        "allDayStress": {"aggregatorList": [{"type": "TOTAL", "averageStressLevel": 31, "maxStressLevel": 88},
                                            {"type": "ASLEEP", "averageStressLevel": -1, "maxStressLevel": -1}]},
        "bodyBattery": {"chargedValue": 60, "drainedValue": 58, "bodyBatteryStatList": [
            {"bodyBatteryStatType": "HIGHEST", "statsValue": 92, "statTimestamp": f"{day}T07:00:00.0",
             "bodyBatteryStatus": "MEASURED"}]},
        "respiration": {"avgWakingRespirationValue": 15.0, "lowestRespirationValue": 11.0, "highestRespirationValue": 21.0},
    }


def sleep_record(world: SandboxWorld, day: date) -> dict[str, object] | None:
    """The night ending on `day` as the export writes it, None without one."""
    night = night_for(world, day)
    vitals = tracker.vitals(world, day, "daily-heart-rate-variability")
    if night is None or vitals is None:
        return None
    s = night.seconds
    return {
        "calendarDate": day.isoformat(),
        "sleepStartTimestampGMT": _gmt(night.bed), "sleepEndTimestampGMT": _gmt(night.wake),
        "deepSleepSeconds": s["deep"], "lightSleepSeconds": s["light"], "remSleepSeconds": s["rem"],
        "awakeSleepSeconds": s["awake"], "unmeasurableSeconds": 0, "awakeCount": 2, "restlessMomentCount": 14,
        "avgSleepStress": 19.149999618530273, "averageRespiration": vitals.breaths_per_min,
        "lowestRespiration": 11.0, "highestRespiration": 19.0,
        "sleepWindowConfirmationType": "ENHANCED_CONFIRMED_FINAL", "retro": False,
        "sleepScores": {"overallScore": sleep_score(world, day), "qualityScore": 80, "durationScore": 77,
                        "recoveryScore": 90, "deepScore": 85, "remScore": 70, "lightScore": 80,
                        "feedback": "POSITIVE_LONG_AND_DEEP", "insight": "NONE"},
        "spo2SleepSummary": {"userProfilePk": USER_ID, "deviceId": 3_400_000_001, "averageSPO2": vitals.spo2_avg_pct,
                             "lowestSPO2": vitals.spo2_low_pct, "averageHR": float(night.resting_hr + 4)},
    }


def health_status_record(world: SandboxWorld, day: date) -> dict[str, object] | None:
    """The night's health status (HRV ms, heart rate, breathing, SpO2; skin temperature not measured)."""
    night = night_for(world, day)
    vitals = tracker.vitals(world, day, "daily-heart-rate-variability")
    if night is None or vitals is None:
        return None

    def metric(kind: str, value: float | None) -> dict[str, object]:
        found: dict[str, object] = {"type": kind, "status": "NORMAL", "baselineLowerLimit": 0.0, "baselineUpperLimit": 0.0,
                                    "percentage": 50.0, "feedbackKey": None, "outliersCount": 0}
        if value is not None:
            found["value"] = value
        return found
    return {"calendarDate": day.isoformat(), "metrics": [
        metric("HRV", vitals.hrv_ms), metric("HR", float(night.resting_hr)), metric("RESPIRATION", vitals.breaths_per_min),
        metric("SPO2", vitals.spo2_avg_pct), metric("SKIN_TEMP_C", None)]}


def _sleep(out: _Writer, world: SandboxWorld, spec: ExportSpec, first: date, last: date) -> None:
    chunks = list(_chunks(first, last, spec.sleep_days, spec.overlap_days))
    for i, (start, end) in enumerate(chunks):
        nights = [r for r in (sleep_record(world, d) for d in _days(start, end)) if r]
        if i == len(chunks) - 1:
            nights.append({"retro": False})  # the stray element the newest real file ends with
        out.write(f"{ROOT}/DI-Connect-Wellness/{start}_{end}_{USER_ID}_sleepData.json", orjson.dumps(nights))
        status = [r for r in (health_status_record(world, d) for d in _days(start, end)) if r]
        out.write(f"{ROOT}/DI-Connect-Wellness/{start}_{end}_{USER_ID}_healthStatusData.json", orjson.dumps(status))


def exercises(world: SandboxWorld, first: date, last: date) -> list[tracker.Exercise]:
    return [e for e in (tracker.exercise(world, d) for d in _days(first, last)) if e is not None]


def activity_record(world: SandboxWorld, exercise: tracker.Exercise) -> dict[str, object]:
    """A workout's summary as the export writes it (ms, cm, epoch ms; the walk without a name)."""
    kind = ACTIVITY_TYPES[exercise.kind]
    duration_ms = float((exercise.end - exercise.start).total_seconds() * 1000)
    zones = workout_zone_ms(world, exercise)
    record: dict[str, object] = {
        "activityId": activity_id(exercise), "activityType": kind, "sportType": "GENERIC" if kind == "strength_training" else kind.upper(),
        "startTimeGmt": float(_ms(exercise.start)), "beginTimestamp": _ms(exercise.start),
        "startTimeLocal": float(_ms(exercise.start) + 1000 * _offset_s(exercise.start, world)),
        "timeZoneId": 124, "duration": duration_ms, "elapsedDuration": duration_ms, "movingDuration": duration_ms,
        "distance": round(activity_distance_m(exercise) * 100, 1), "calories": exercise.kcal, "avgHr": float(exercise.avg_hr_bpm),
        "maxHr": 170.0, "hrTimeInZone_0": 0.0, "hrTimeInZone_1": 0.0, "hrTimeInZone_2": 0.0,
        "hrTimeInZone_3": float(zones[3]), "hrTimeInZone_4": float(zones[4]), "hrTimeInZone_5": 0.0,
        "userProfileId": USER_ID, "deviceId": 3_400_000_001, "manufacturer": "GARMIN", "parent": False,
    }
    if kind != "walking":  # Garmin leaves the name out now and then; the importer falls back to the type
        record["name"] = "Strength" if kind == "strength_training" else "Morning Run"
    return record


def _activities(out: _Writer, world: SandboxWorld, first: date, last: date) -> None:
    found = [activity_record(world, e) for e in exercises(world, first, last)]
    for i in range(0, max(1, len(found)), 1000):  # up to 1000 a file: `_0_`, `_1001_`, …
        part = found[i:i + 1000]
        name = f"{ROOT}/DI-Connect-Fitness/{EMAIL}_{i if i == 0 else i + 1}_summarizedActivities.json"
        out.write(name, orjson.dumps([{"summarizedActivitiesExport": part}]))


def weigh_ins(world: SandboxWorld, first: date, last: date) -> list[tracker.WeighIn]:
    return [w for w in (tracker.weigh_in(world, d) for d in _days(first, last)) if w is not None]


def muscle_kg(w: tracker.WeighIn) -> float:
    return grams(w.kg * 0.42) / 1000


def biometrics_record(w: tracker.WeighIn, sequence: int) -> dict[str, object]:
    """A weigh-in snapshot: grams, the instant as epoch ms (every other one as a zone-less UTC string)."""
    stamp: object = _ms(w.at) if sequence % 2 else w.at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0")
    return {"metaData": {"sequence": sequence, "calendarDate": w.at.date().isoformat(), "userProfilePk": USER_ID},
            "weight": {"weight": grams(w.kg), "bmi": round(w.kg / 1.8 ** 2, 1), "bodyFat": w.fat_pct, "bodyWater": 55.1,
                       "boneMass": 3200, "muscleMass": grams(w.kg * 0.42), "rawImpedance": 0, "sourceType": "INDEX_SCALE",
                       "timestampGMT": stamp}}


def _biometrics(out: _Writer, world: SandboxWorld, first: date, last: date) -> None:
    rows: list[dict[str, object]] = [{"metaData": {"sequence": 0}, "vo2MaxRunning": 48.0, "weight": None}]
    for i, w in enumerate(weigh_ins(world, first, last), start=1):
        rows.append(biometrics_record(w, i))
    if len(rows) > 1:
        rows.append(rows[-1])  # a snapshot logged twice (the log is versioned): one weigh-in
    out.write(f"{ROOT}/DI-Connect-Wellness/{USER_ID}_userBioMetrics.json", orjson.dumps(rows))


def monitoring_parts(world: SandboxWorld, day: date, every_s: int) -> list[tuple[int, list[tuple[datetime, int]]]]:
    """A day's heart rate as the watch files it: (UTC offset, samples) per stretch of one clock. On the
    flight out the watch takes the destination's clock at the home zone's midnight (the world's day runs
    on to the destination's midnight), so every sample falls on the world's day on the watch's clock."""
    parts: list[tuple[int, list[tuple[datetime, int]]]] = []
    next_zone = world.tz_for(day + timedelta(days=1))
    for beat in tracker.heart_rate(world, day, every_s):
        own_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), beat.zone)
        zone = beat.zone if beat.at < own_midnight else next_zone
        offset = int(beat.at.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
        if not parts or parts[-1][0] != offset:
            parts.append((offset, []))
        parts[-1][1].append((beat.at, beat.bpm))
    return parts


def _fits(out: _Writer, world: SandboxWorld, spec: ExportSpec, first: date, last: date) -> None:
    files: list[tuple[str, bytes]] = []
    for day in _days(first, last):
        number = day.toordinal() * 10
        if spec.monitoring:
            for k, (offset, samples) in enumerate(monitoring_parts(world, day, spec.hr_every_s)):
                files.append((f"{EMAIL}_{number + k}.fit", monitoring_file(samples[0][0], offset, samples, USER_ID % 10_000)))
        exercise = tracker.exercise(world, day)
        if exercise is not None:
            kind = ACTIVITY_TYPES[exercise.kind]
            files.append((f"{EMAIL}_{number + 5}.fit", activity_file(
                exercise.start, exercise.end, _offset_s(exercise.start, world), kind, activity_samples(world, exercise),
                activity_distance_m(exercise), USER_ID % 10_000)))
    stub = FitFile()  # a file of type 49 ("sleep", not in the public profile): not read
    stub.add(FILE_ID, 49, MANUFACTURER_GARMIN, PRODUCT, 1, fit_seconds(datetime.combine(first, datetime.min.time(), timezone.utc)))
    files.append((f"{EMAIL}_1.fit", stub.bytes()))
    for part, i in enumerate(range(0, len(files), spec.fits_per_zip), start=1):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as inner:
            for name, data in files[i:i + spec.fits_per_zip]:
                inner.writestr(name, data)
        out.write(f"{ROOT}/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part{part}.zip", buffer.getvalue())
