"""Fitbit export archives of the sandbox person, in each of the four layouts, for tests, the benchmark
and the demo: the same tracker facts the fake Google Health API answers with (the world's
health_pipeline/sandbox/tracker.py), written the way Fitbit writes
its exports (fitbit-takeout.md): intraday JSON on the UTC clock in local-day files, 30-day chunks
anchored on the first day, sleep on the local wall clock with sessions repeated across chunks,
weight in lb or kg with no unit field, US month-first dates, values as strings; and in the 2026
"Google Health" layout (D) Google's CSV re-export beside the JSON (`Physical Activity_GoogleData/`:
UTC instants, heart rate in UTC-day files, the minute series in UTC-month files, weight in grams,
resting heart rate twice, a `data source` column, a weigh-in written by two apps).
"""

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import SandboxWorld, night_for
from health_pipeline.sources.fitbit_takeout.formats import JSON_DAY, JSON_TIME, SLEEP_TIME, Layout

HEIGHT_M = 1.80
LB_PER_KG = 2.20462262185
PERSON = "Sandbox Person"


@dataclass(frozen=True)
class ArchiveSpec:
    """How to write one archive: its layout, the days, the clocks and units."""

    layout: Layout
    weight_unit: str = "lb"  # "lb" or "kg": Fitbit writes no unit field
    hr_every_s: int = 60  # heart-rate sample spacing
    hr_clock: str = "utc"  # "utc" (what real exports show) or "local": the intraday JSON's clock
    google_csv: bool | None = None  # also `Physical Activity_GoogleData/*.csv` (default: layout D)
    global_export: bool = True  # the JSON of `Global Export Data` (a D slice of only Google's CSVs: False)
    steps_factor_on: tuple[date, ...] = ()  # days whose steps the archive has 30 % higher (a disagreement)
    # the last night the vitals' category folders (`Heart Rate Variability/`, …) have (default: every night);
    # in the catalog's 2026 export `Temperature/` ends mid-2024 and Google's CSVs go on
    legacy_vitals_last: date | None = None
    first: date | None = None
    last: date | None = None  # default: the world's first day .. yesterday


def _json_time(instant: datetime, spec: ArchiveSpec, world: SandboxWorld) -> str:
    moment = instant.astimezone(timezone.utc) if spec.hr_clock == "utc" else instant.astimezone(world.tz_at(instant))
    return moment.strftime(JSON_TIME)


def _day_row(day: date, value: object) -> dict[str, object]:
    return {"dateTime": day.strftime(JSON_TIME.replace("%H:%M:%S", "00:00:00")), "value": value}


def _chunks(first: date, last: date, days: int) -> Iterator[tuple[date, date]]:
    start = first
    while start <= last:
        yield start, min(last, start + timedelta(days=days - 1))
        start += timedelta(days=days)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class _Writer:
    """Files into a folder or a zip, under the layout's folders."""

    def __init__(self, target: Path, zipped: bool) -> None:
        self.zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) if zipped else None
        self.root = target

    def write(self, name: str, data: str) -> None:
        if self.zip is not None:
            self.zip.writestr(name, data)
        else:
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(data, encoding="utf-8")

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _folders(layout: Layout) -> dict[str, str]:
    """Where each group of files goes in a layout."""
    if layout == "A":
        base = f"{PERSON}/user-site-export"
        return {"activity": base, "sleep": base, "body": base, "csv_sleep": "", "csv_temp": "", "google": ""}
    if layout == "B":
        return {"activity": f"{PERSON}/Physical Activity", "sleep": f"{PERSON}/Sleep", "body": f"{PERSON}/Personal & Account",
                "csv_sleep": f"{PERSON}/Sleep", "csv_spo2": f"{PERSON}/Sleep", "csv_temp": f"{PERSON}/Sleep", "google": ""}
    root = "Takeout/Fitbit" if layout == "C" else "Takeout/Google\u00a0Health"  # variant D: a non-breaking space
    data = f"{root}/Global Export Data"
    return {"activity": data, "sleep": data, "body": data, "csv_sleep": f"{root}/Heart Rate Variability",
            "csv_spo2": f"{root}/Oxygen Saturation (SpO2)", "csv_temp": f"{root}/Temperature",
            "google": f"{root}/Physical Activity_GoogleData"}


def write_takeout(world: SandboxWorld, target: Path, spec: ArchiveSpec, *, zipped: bool = True) -> Path:
    """Write the archive (a `.zip` file, or a folder when not `zipped`) and return its path."""
    first = spec.first or world.first_day()
    last = spec.last or world.today() - timedelta(days=1)
    folders = _folders(spec.layout)
    out = _Writer(target, zipped)
    try:
        if spec.global_export:
            _heart_rate(out, folders, world, spec, first, last)
            _minute_series(out, folders["activity"], world, spec, first, last)
            _daily_series(out, folders["activity"], world, first, last)
            _sleep(out, folders["sleep"], world, first, last)
            _weight(out, folders["body"], world, spec, first, last)
            _exercise(out, folders["activity"], world, spec, first, last)
            out.write(f"{folders['activity']}/badge.json", "[]")  # a file the importer does not read
        if folders.get("csv_sleep"):
            _vitals_csv(out, folders, world, first, min(last, spec.legacy_vitals_last or last))
        if spec.google_csv if spec.google_csv is not None else spec.layout == "D":
            _google_csv(out, folders["google"], world, spec, first, last)
    finally:
        out.close()
    return target


def _dump(rows: object) -> str:
    return json.dumps(rows, indent=1, separators=(",", " : "))  # Fitbit pretty-prints with " : "


def _heart_rate(out: _Writer, folders: dict[str, str], world: SandboxWorld, spec: ArchiveSpec, first: date, last: date) -> None:
    for day in _days(first, last):
        rows = [{"dateTime": _json_time(beat.at, spec, world), "value": {"bpm": beat.bpm, "confidence": 2}}
                for beat in tracker.heart_rate(world, day, spec.hr_every_s)]
        if rows:
            out.write(f"{folders['activity']}/heart_rate-{day}.json", _dump(rows))


def _minute_series(out: _Writer, folder: str, world: SandboxWorld, spec: ArchiveSpec, first: date, last: date) -> None:
    for start, end in _chunks(first, last, 30):
        series: dict[str, list[dict[str, str]]] = {"steps": [], "distance": [], "calories": [], "altitude": []}
        for day in _days(start, end):
            factor = 1.3 if day in spec.steps_factor_on else 1.0
            for m in tracker.minutes(world, day):
                at = _json_time(m.start, spec, world)
                if m.steps is not None:
                    series["steps"].append({"dateTime": at, "value": str(int(m.steps * factor))})
                if m.steps:
                    series["distance"].append({"dateTime": at, "value": f"{m.steps * 76.2:.1f}"})  # centimetres
                series["calories"].append({"dateTime": at, "value": f"{m.total_kcal:g}"})
                if m.floors:
                    series["altitude"].append({"dateTime": at, "value": str(m.floors * 10)})  # feet: 10 a floor
        for family, rows in series.items():
            out.write(f"{folder}/{family}-{start}.json", _dump(rows))


_LEVEL_FAMILY = {"LIGHT": "lightly_active_minutes", "MODERATE": "moderately_active_minutes",
                 "VIGOROUS": "very_active_minutes", "SEDENTARY": "sedentary_minutes"}
_ZONE_KEY = {"FAT_BURN": "IN_DEFAULT_ZONE_1", "CARDIO": "IN_DEFAULT_ZONE_2", "PEAK": "IN_DEFAULT_ZONE_3"}


def _daily_series(out: _Writer, folder: str, world: SandboxWorld, first: date, last: date) -> None:
    for start, end in _chunks(first, last, 30):
        levels: dict[str, list[dict[str, object]]] = {family: [] for family in _LEVEL_FAMILY.values()}
        for day in _days(start, end):
            found = tracker.minutes(world, day)
            if not found:
                continue
            for level, family in _LEVEL_FAMILY.items():
                levels[family].append(_day_row(day, str(sum(1 for m in found if m.level == level))))
        for family, rows in levels.items():
            out.write(f"{folder}/{family}-{start}.json", _dump(rows))
    for day in _days(first, last):
        found = tracker.minutes(world, day)
        if not found:
            continue
        zones = {key: 0.0 for key in ("BELOW_DEFAULT_ZONE_1", *_ZONE_KEY.values())}
        for m in found:  # every worn minute: below the zones unless in one
            zones[_ZONE_KEY.get(m.zone or "", "BELOW_DEFAULT_ZONE_1")] += 1.0
        out.write(f"{folder}/time_in_heart_rate_zones-{day}.json", _dump([_day_row(day, {"valuesInZones": zones})]))
    for start, end in _chunks(first, last, 365):
        rows = []
        for day in _days(start, end):
            night = night_for(world, day)
            value = ({"date": day.strftime(JSON_DAY), "value": float(night.resting_hr), "error": 6.5} if night
                     else {"date": None, "value": 0.0, "error": 0.0})  # an empty day, as Fitbit writes it
            rows.append(_day_row(day, value))
        out.write(f"{folder}/resting_heart_rate-{start}.json", _dump(rows))


_LEVEL = {"deep": "deep", "light": "light", "rem": "rem", "awake": "wake"}


def sleep_sessions(world: SandboxWorld, day: date) -> list[dict[str, object]]:
    """The sessions ending on `day` as the export writes them (the same nights and naps the API has),
    once analysed."""
    found = []
    for session in tracker.sleeps(world, day):
        if not tracker.processed(world, session):
            continue
        bed, wake = session.bed, session.wake
        zone = timezone(bed.astimezone(world.tz_at(bed)).utcoffset() or timedelta(0))  # the start's offset, across DST too
        runs: list[tuple[int, int, str]] = []  # (first slot, slots, stage)
        for i, stage in enumerate(session.stages):
            if runs and runs[-1][2] == stage:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1, stage)
            else:
                runs.append((i, 1, stage))
        data = [{"dateTime": (bed + timedelta(seconds=300 * first)).astimezone(zone).strftime(SLEEP_TIME),
                 "level": _LEVEL[stage], "seconds": 300 * slots} for first, slots, stage in runs]
        summary = {_LEVEL[s]: {"count": sum(1 for run in runs if run[2] == s), "minutes": session.seconds(s) // 60}
                   for s in ("deep", "light", "rem", "awake")}
        asleep = (session.seconds("deep") + session.seconds("light") + session.seconds("rem")) // 60
        awake = session.seconds("awake") // 60
        found.append({
            "logId": int(wake.timestamp()) * 10 + (1 if session.main else 2),
            "dateOfSleep": day.isoformat(),
            "startTime": bed.astimezone(zone).strftime(SLEEP_TIME),
            "endTime": wake.astimezone(zone).strftime(SLEEP_TIME),
            "duration": int((wake - bed).total_seconds() * 1000),
            "minutesToFallAsleep": session.latency_s // 60,
            "minutesAsleep": asleep, "minutesAwake": awake, "minutesAfterWakeup": 0,
            "timeInBed": len(session.stages) * 5,
            "efficiency": round(100 * asleep / max(1, asleep + awake)),
            "type": "stages", "infoCode": 0,
            "levels": {"summary": summary, "data": data, "shortData": []},
            "mainSleep": session.main,
        })
    return found


def _sleep(out: _Writer, folder: str, world: SandboxWorld, first: date, last: date) -> None:
    chunks = list(_chunks(first, last, 30))
    for i, (start, end) in enumerate(chunks):
        sessions = [s for day in _days(start, end) for s in sleep_sessions(world, day)]
        if i + 1 < len(chunks):  # the next chunk's first night is repeated here, as in real exports
            sessions += sleep_sessions(world, chunks[i + 1][0])
        out.write(f"{folder}/sleep-{start}.json", _dump(sessions))


def weigh_ins(world: SandboxWorld, day: date, unit: str) -> list[dict[str, object]]:
    """The day's weigh-ins as the export writes them (the API's weight samples: kg to the gram, or lb to 0.1)."""
    logged = tracker.weigh_in(world, day)
    if logged is None:
        return []
    local = logged.at.astimezone(world.tz_at(logged.at))
    kg = round(logged.kg * 1000) / 1000
    return [{"logId": int(local.replace(tzinfo=timezone.utc).timestamp() * 1000),
             "weight": round(kg * LB_PER_KG, 1) if unit == "lb" else kg,
             "bmi": round(kg / HEIGHT_M ** 2, 2), "fat": logged.fat_pct,
             "date": local.strftime(JSON_DAY), "time": local.strftime("%H:%M:%S"), "source": "API"}]


def _weight(out: _Writer, folder: str, world: SandboxWorld, spec: ArchiveSpec, first: date, last: date) -> None:
    for start, end in _chunks(first, last, 30):
        rows = [w for day in _days(start, end) for w in weigh_ins(world, day, spec.weight_unit)]
        if rows:
            out.write(f"{folder}/weight-{start}.json", _dump(rows))


def _exercise(out: _Writer, folder: str, world: SandboxWorld, spec: ArchiveSpec, first: date, last: date) -> None:
    items = []
    for day in _days(first, last):
        found = tracker.exercise(world, day)
        if found is None:
            continue
        start, end = found.start, found.end
        items.append({
            "logId": int(start.timestamp()), "activityName": found.kind.title(), "activityTypeId": 90013,
            "averageHeartRate": found.avg_hr_bpm, "calories": found.kcal,
            # 160 m a minute when moving, in kilometres
            "distance": (float(found.minutes * 160_000) if found.moving else 0.0) / 1_000_000, "distanceUnit": "Kilometer",
            "duration": int((end - start).total_seconds() * 1000),
            "activeDuration": found.minutes * 60 * 1000,
            "steps": found.minutes * 150 if found.moving else 0, "logType": "auto_detected",
            "startTime": _json_time(start, spec, world), "lastModified": _json_time(end, spec, world),
        })
    for page in range(0, max(1, len(items)), 100):
        out.write(f"{folder}/exercise-{page}.json", _dump(items[page:page + 100]))


def _csv(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _vitals_csv(out: _Writer, folders: dict[str, str], world: SandboxWorld, first: date, last: date) -> None:
    hrv, spo2, breathing, temperature = [], [], [], []
    for day in _days(first, last):
        midnight = f"{day}T00:00:00"
        if (v := tracker.vitals(world, day, "daily-heart-rate-variability")) is not None:
            hrv.append([midnight, v.hrv_ms, str(v.non_rem_hr_bpm), v.hrv_entropy])
        if (v := tracker.vitals(world, day, "daily-oxygen-saturation")) is not None:
            spo2.append([f"{day}T00:00:00Z", v.spo2_avg_pct, v.spo2_low_pct, v.spo2_high_pct])
        if (v := tracker.vitals(world, day, "daily-respiratory-rate")) is not None:
            breathing.append([midnight, v.breaths_per_min])
        night = night_for(world, day)
        if (v := tracker.vitals(world, day, "daily-sleep-temperature-derivations")) is not None and night is not None:
            zone = world.tz_at(night.bed)
            deviation = v.skin_temp_c - v.skin_temp_baseline_c
            temperature.append(["SKIN", night.bed.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"),
                                night.wake.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"), 500,
                                v.skin_temp_c, f"{deviation * 500:.4f}"])
    out.write(f"{folders['csv_sleep']}/Daily Heart Rate Variability Summary - {first}.csv",
              _csv(["timestamp", "rmssd", "nremhr", "entropy"], hrv))
    out.write(f"{folders['csv_spo2']}/Daily SpO2 - {first}-{last}.csv",
              _csv(["timestamp", "average_value", "lower_bound", "upper_bound"], spo2))
    out.write(f"{folders['csv_sleep']}/Daily Respiratory Rate Summary - {first}.csv",
              _csv(["timestamp", "daily_respiratory_rate"], breathing))
    out.write(f"{folders['csv_temp']}/Computed Temperature - {first}.csv",
              _csv(["type", "sleep_start", "sleep_end", "temperature_samples", "nightly_temperature",
                    "baseline_relative_sample_sum"], temperature))
    out.write(f"{folders['csv_sleep']}/Daily SpO2 README.txt", "Daily SpO2 values ...\n")


SOURCE = "Pixel Watch"  # the `data source` column of Google's CSVs


def _google_csv(out: _Writer, folder: str, world: SandboxWorld, spec: ArchiveSpec, first: date, last: date) -> None:
    """Google's CSV re-export: ISO instants with `Z`, heart rate one UTC day per file, the minute series one
    UTC month per file (named after the month's first day), weight and resting heart rate as Google writes them."""
    def stamp(instant: datetime) -> str:
        return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    hr: dict[date, list[list[object]]] = {}
    for day in _days(first, last):
        for beat in tracker.heart_rate(world, day, spec.hr_every_s):
            instant = beat.at.astimezone(timezone.utc)
            hr.setdefault(instant.date(), []).append([stamp(instant), float(beat.bpm), SOURCE])
    for day, rows in sorted(hr.items()):
        out.write(f"{folder}/heart_rate_{day}.csv", _csv(["timestamp", "beats per minute", "data source"], rows))

    series: dict[str, dict[date, list[list[object]]]] = {f: {} for f in ("steps", "distance", "calories", "floors",
                                                                          "altitude", "active_minutes",
                                                                          "active_zone_minutes")}
    active = {"LIGHT": (1, 0, 0), "MODERATE": (0, 1, 0), "VIGOROUS": (0, 0, 1)}
    zones = {"FAT_BURN": ("fat burn", 1), "CARDIO": ("cardio", 2), "PEAK": ("peak", 2)}
    for day in _days(first, last):
        factor = 1.3 if day in spec.steps_factor_on else 1.0
        for m in tracker.minutes(world, day):
            month = m.start.astimezone(timezone.utc).date().replace(day=1)
            at = stamp(m.start)
            if m.steps is not None:
                series["steps"].setdefault(month, []).append([at, int(m.steps * factor), SOURCE])
            if m.steps:
                series["distance"].setdefault(month, []).append([at, f"{m.steps * 0.762:.3f}", SOURCE])  # metres
            series["calories"].setdefault(month, []).append([at, f"{m.total_kcal:g}", SOURCE])
            if m.floors:
                series["floors"].setdefault(month, []).append([at, m.floors, SOURCE])
                series["altitude"].setdefault(month, []).append([at, m.floors * 3048, SOURCE])  # millimetres
            if m.level in active:
                series["active_minutes"].setdefault(month, []).append([at, *active[m.level], SOURCE])
            if m.zone in zones:
                series["active_zone_minutes"].setdefault(month, []).append([at, *zones[m.zone], SOURCE])
    headers = {"steps": ["steps"], "distance": ["distance"], "calories": ["calories"], "floors": ["floors"],
               "altitude": ["gain"], "active_minutes": ["light", "moderate", "very"],
               "active_zone_minutes": ["heart rate zone", "total minutes"]}
    for family, months in series.items():
        for month, rows in sorted(months.items()):
            out.write(f"{folder}/{family}_{month}.csv", _csv(["timestamp", *headers[family], "data source"], rows))

    weights: dict[date, list[list[object]]] = {}
    fat: list[list[object]] = []
    for day in _days(first, last):
        logged = tracker.weigh_in(world, day)
        if logged is None:
            continue
        at = stamp(logged.at)
        month = logged.at.astimezone(timezone.utc).date().replace(day=1)
        grams = round(logged.kg * 1000)
        # the same weigh-in written by the scale's app and copied in by another one
        weights.setdefault(month, []).extend([[at, grams, "Fitbit App"], [at, grams, "Zepp Life Health Kit"]])
        fat.append([at, logged.fat_pct, "Fitbit App"])
    for month, rows in sorted(weights.items()):
        out.write(f"{folder}/weight_{month}.csv", _csv(["timestamp", "weight grams", "data source"], rows))
    out.write(f"{folder}/body_fat.csv", _csv(["timestamp", "body fat percentage", "data source"], fat))

    resting: list[tuple[str, int]] = []
    for day in _days(first, last):
        night = night_for(world, day)
        if night is not None:  # computed as the person wakes
            resting.append((stamp(night.wake), night.resting_hr))
    out.write(f"{folder}/resting_heart_rate_{first}.csv",
              _csv(["timestamp", "beats per minute", "data source"], [[at, bpm, SOURCE] for at, bpm in resting]))
    out.write(f"{folder}/daily_resting_heart_rate.csv",  # the same readings, written 51.0 here
              _csv(["timestamp", "beats per minute", "data source"], [[at, float(bpm), SOURCE] for at, bpm in resting]))
    out.write(f"{folder}/daily_heart_rate_zones.csv", "timestamp,heart rate zones\n1970-01-01T00:00:00Z,\"{LIGHT}\"\n")
    _google_vitals(out, folder, world, first, last, stamp)
    out.write(f"{folder}/steps_readme.txt", "Time Series Data Export\n")


HR_MAX = 190  # the sandbox person's maximum heart rate, for the VO2 max estimate


def vo2_max(resting_hr: int) -> float:
    """The night's VO2 max (ml/kg/min) as the sandbox tracker estimates it from resting heart rate (Uth et
    al.: 15.3 x HRmax / HRrest); the world has no VO2 max of its own and the fake API serves none."""
    return round(15.3 * HR_MAX / resting_hr, 1)


_BREATHING_STATS = [f"{stage} sleep stats - {what}" for stage in ("deep", "light", "rem", "full")
                    for what in ("milli breaths per minute", "standard deviation milli breaths per minute",
                                 "signal to noise")]


def _google_vitals(out: _Writer, folder: str, world: SandboxWorld, first: date, last: date,
                   stamp: Callable[[datetime], str]) -> None:
    """Google's nightly vitals (the fake API's daily values): HRV, SpO2, skin temperature and VO2 max a row a
    night on its date; breathing a row a sleep at its end (an instant), in milli-breaths a minute; height once."""
    hrv, spo2, temperature, vo2, breathing = [], [], [], [], []
    for day in _days(first, last):
        night = night_for(world, day)
        if (v := tracker.vitals(world, day, "daily-heart-rate-variability")) is not None:
            hrv.append([day, v.hrv_ms, v.non_rem_hr_bpm, v.hrv_entropy, v.deep_rmssd_ms, SOURCE])
        if (v := tracker.vitals(world, day, "daily-oxygen-saturation")) is not None:
            spo2.append([day, v.spo2_avg_pct, v.spo2_low_pct, v.spo2_high_pct, v.spo2_sd_pct, SOURCE])
        if (v := tracker.vitals(world, day, "daily-sleep-temperature-derivations")) is not None:
            temperature.append([day, v.skin_temp_c, v.skin_temp_baseline_c, v.skin_temp_sd_c, SOURCE])
        if (v := tracker.vitals(world, day, "daily-resting-heart-rate")) is not None:
            vo2.append([day, vo2_max(v.resting_hr_bpm), SOURCE])
        if (v := tracker.vitals(world, day, "daily-respiratory-rate")) is not None and night is not None:
            milli = round(v.breaths_per_min * 1000)
            breathing.append((night.wake.astimezone(timezone.utc).date().replace(day=1),
                              [stamp(night.wake), *[milli, 900, 21.5] * 4, SOURCE]))
    out.write(f"{folder}/daily_heart_rate_variability_{first}.csv", _csv(
        ["timestamp", "average heart rate variability milliseconds", "non rem heart rate beats per minute", "entropy",
         "deep sleep root mean square of successive differences milliseconds", "data source"], hrv))
    out.write(f"{folder}/daily_oxygen_saturation_{first}.csv", _csv(
        ["timestamp", "average percentage", "lower bound percentage", "upper bound percentage",
         "standard deviation percentage", "data source"], spo2))
    out.write(f"{folder}/daily_sleep_temperature_derivations_{first}.csv", _csv(
        ["timestamp", "nightly temperature celsius", "baseline temperature celsius",
         "relative nightly stddev 30d celsius", "data source"], temperature))
    out.write(f"{folder}/daily_vo2_max_{first}.csv", _csv(["timestamp", "daily vo2 max value", "data source"], vo2))
    months: dict[date, list[list[object]]] = {}
    for month, row in breathing:
        months.setdefault(month, []).append(row)
    for month, rows in sorted(months.items()):
        out.write(f"{folder}/respiratory_rate_sleep_summary_{month}.csv",
                  _csv(["timestamp", *_BREATHING_STATS, "data source"], rows))
    measured = world.local_midnight(first) + timedelta(hours=8, minutes=30)
    out.write(f"{folder}/height.csv", _csv(["timestamp", "height millimeters", "data source"],
                                           [[stamp(measured), round(HEIGHT_M * 1000), "Fitbit App"]]))
