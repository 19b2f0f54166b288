"""The Garmin Connect export importer: each family's parsing on real-shaped files, the whole export
imported and modelled with the sandbox world's exact values (a trip and a daylight-saving change
included), re-import a no-op, a later export rewriting only what changed, bad files failing cleanly,
and a live Garmin source winning the days both have once one exists."""

import io
import shutil
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import orjson
import pytest

from health_pipeline.cli import main
from health_pipeline.registry import REGISTRY, TABLES
from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.sources.garmin_export.archive import ArchiveError, shown
from health_pipeline.sources.garmin_export.importer import PROVIDER, ImportSummary, epoch_ms, import_garmin_export
from health_pipeline.sources.garmin_export.sandbox import generate as gen
from health_pipeline.sources.garmin_export.sandbox.fit_writer import FIT_EPOCH_S, monitoring_file
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.tidy import checks
from health_pipeline.tidy.catalog import TidySource
from health_pipeline.tidy.models import rebuild_table
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY

BERLIN = ZoneInfo(TIMEZONE)
FIRST, LAST = date(2026, 9, 14), TODAY - timedelta(days=1)  # a New York trip (09-18..21) and the end of DST (10-25)
DAYS = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
WORLD = SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
SPEC = gen.ExportSpec(first=FIRST, last=LAST, uds_days=20, sleep_days=25, fits_per_zip=40)
RESOURCES = ("uds", "sleep", "health_status", "activities", "biometrics", "monitoring", "activity_fit")


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The world's export, written once for the module: as Garmin sends it and unpacked."""
    root = tmp_path_factory.mktemp("garmin")
    return {"zip": gen.write_export(WORLD, root / "export.zip", SPEC),
            "folder": gen.write_export(WORLD, root / "export", SPEC, zipped=False)}


@pytest.fixture(scope="module")
def imported(exports: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ImportSummary]:
    """The zip imported once for the module into a raw store that tests copy before writing to it."""
    store = RawStore(tmp_path_factory.mktemp("garmin-raw") / "raw.sqlite")
    return store.path, import_garmin_export(exports["zip"], store, BERLIN)


def _copy(imported: tuple[Path, ImportSummary], tmp: Path) -> tuple[RawStore, ImportSummary]:
    shutil.copy(imported[0], tmp / "raw.sqlite")
    return RawStore(tmp / "raw.sqlite"), imported[1]


def _import(path: Path, tmp: Path) -> tuple[RawStore, ImportSummary]:
    store = RawStore(tmp / "raw.sqlite")
    return store, import_garmin_export(path, store, BERLIN)


def _ids(store: RawStore, resource: str) -> list[str]:
    return sorted(r.record_id for r in store.records(PROVIDER, resource))


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None]) -> Path:
    """A copy of a zip with some entries replaced (None: left out)."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    dst.writestr(info.filename, change[info.filename])
            else:
                dst.writestr(info, src.read(info))
    return target


# -- truth, from the world ------------------------------------------------------------------------------


def _exercises() -> list[tracker.Exercise]:
    return gen.exercises(WORLD, FIRST, LAST)


def _heart_rate_truth() -> dict[datetime, tuple[float, date, str]]:
    truth = {beat.at: (float(beat.bpm), day, "monitoring") for day in DAYS for beat in tracker.heart_rate(WORLD, day, 60)}
    for exercise in _exercises():
        for at, bpm in gen.activity_samples(WORLD, exercise):
            truth[at] = (float(bpm), WORLD.day_of(at), "activity")
    return truth


# -- parsing (fast: files, SQLite) ----------------------------------------------------------------------


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_every_family_lands_once_by_its_own_ids_and_days(exports: dict[str, Path], imported: tuple[Path, ImportSummary],
                                                         tmp_path: Path, form: str) -> None:
    store, summary = _copy(imported, tmp_path) if form == "zip" else _import(exports[form], tmp_path)
    worn = [d for d in DAYS if tracker.minutes(WORLD, d)]
    nights = [d for d in DAYS if gen.sleep_record(WORLD, d)]
    assert _ids(store, "uds") == [str(d) for d in DAYS]  # overlapping files: each day once
    assert _ids(store, "sleep") == [str(d) for d in nights]  # the trailing {"retro": false} is none
    assert _ids(store, "health_status") == [str(d) for d in nights]
    assert _ids(store, "activities") == sorted(str(gen.activity_id(e)) for e in _exercises())
    weigh_ins = gen.weigh_ins(WORLD, FIRST, LAST)
    assert _ids(store, "biometrics") == sorted(str(int(w.at.timestamp() * 1000)) for w in weigh_ins)  # twice logged: once
    assert {r.record_id: r.day for r in store.records(PROVIDER, "biometrics")} == {
        str(int(w.at.timestamp() * 1000)): str(w.at.astimezone(BERLIN).date()) for w in weigh_ins}  # the zone's day
    assert _ids(store, "activity_fit") == sorted(f"{gen.activity_id(e)}#{WORLD.day_of(e.start)}" for e in _exercises())
    monitoring_days = {r.day for r in store.records(PROVIDER, "monitoring")}
    assert monitoring_days == {str(d) for d in worn}
    assert summary.fit_skipped == 1 and summary.fits_unmatched == 0 and summary.failed == []  # the sleep-type stub
    assert summary.skipped == 2  # gear.json, user_profile.json
    # Nothing shown or stored as an id carries the email or the user id.
    text = "\n".join(summary.lines()) + repr(summary.as_metadata())
    ids = " ".join(r.record_id for res in RESOURCES for r in store.records(PROVIDER, res))
    for secret in (gen.EMAIL, str(gen.USER_ID), "sandbox.person"):
        assert secret not in text and secret not in ids


def test_the_monitoring_files_give_every_sample_at_its_instant_on_the_day_lived(imported: tuple[Path, ImportSummary],
                                                                               tmp_path: Path) -> None:
    store, _ = _copy(imported, tmp_path)
    got = {}
    for record in store.records(PROVIDER, "monitoring"):
        for at, bpm in orjson.loads(record.payload)["samples"]:
            got[datetime.fromtimestamp(at, timezone.utc)] = (bpm, record.day)
    expected = {b.at: (b.bpm, str(day)) for day in DAYS for b in tracker.heart_rate(WORLD, day, 60)}
    assert got == expected  # New York days on New York's calendar, the 25-hour day whole


def test_timestamp_16_is_accumulated_in_fit_time_across_its_wrap(tmp_path: Path) -> None:
    start = datetime(2026, 3, 1, 0, 0, 7, tzinfo=timezone.utc)
    samples = [(start + timedelta(seconds=61 * i), 50 + i % 40) for i in range(1400)]  # 23.7 h: the 16 bits wrap
    data = monitoring_file(start, 3600, samples, 1, full_every=10_000)  # one full timestamp, then timestamp_16 only
    assert (int(samples[-1][0].timestamp()) - FIT_EPOCH_S) >> 16 != (int(start.timestamp()) - FIT_EPOCH_S) >> 16
    folder = tmp_path / "export" / "DI_CONNECT" / "DI-Connect-Uploaded-Files"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "UploadedFiles_0-_Part1.zip", "w") as inner:
        inner.writestr("someone@example.com_77.fit", data)
    store, summary = _import(tmp_path / "export", tmp_path)
    got = [tuple(s) for r in store.records(PROVIDER, "monitoring") for s in orjson.loads(r.payload)["samples"]]
    assert sorted(got) == [(int(at.timestamp()), bpm) for at, bpm in samples]
    assert _ids(store, "monitoring") == ["77#2026-03-01", "77#2026-03-02"]  # the file's +01:00 offset dates them


def test_json_shapes_the_reference_lists_are_read(tmp_path: Path) -> None:
    """Older and API-shaped fields, sentinels and wrappers, modelled by the tidy SQL."""
    root = tmp_path / "export" / "DI_CONNECT"
    (root / "DI-Connect-Wellness").mkdir(parents=True)
    (root / "DI-Connect-Fitness").mkdir(parents=True)
    nights = [{"calendarDate": "2026-02-14", "sleepStartTimestampGMT": "2026-02-13T21:40:09.0",
               "sleepEndTimestampGMT": "2026-02-14T05:40:09.0", "deepSleepSeconds": 3600, "lightSleepSeconds": 18000,
               "remSleepSeconds": 5400, "awakeSleepSeconds": 1800, "sleepScores": {"overall": {"value": 71}}},
              {"calendarDate": "2026-02-15", "sleepStartTimestampGMT": 1771105200000, "sleepEndTimestampGMT": 1771131600000,
               "deepSleepSeconds": 0, "lightSleepSeconds": 26400, "remSleepSeconds": 0, "awakeSleepSeconds": 0},
              {"calendarDate": "2026-02-16", "sleepStartTimestampGMT": "2026-02-15T22:00:00.0",
               "sleepEndTimestampGMT": "2026-02-16T06:00:00.0", "sleepWindowConfirmationType": "OFF_WRIST"},
              {"retro": False}]
    (root / "DI-Connect-Wellness" / "2026-02-01_2026-02-28_123456789_sleepData.json").write_bytes(orjson.dumps(nights))
    bio = [{"weight": {"weight": 80500.0, "bodyFat": 0.0, "muscleMass": 0, "timestampGMT": "2026-02-14T23:30:00.0"}},
           {"weight": {"weight": 0, "timestampGMT": 1771200000000}}, {"vo2MaxRunning": 50}]
    (root / "DI-Connect-Wellness" / "123456789_userBioMetrics.json").write_bytes(orjson.dumps(bio))
    activities = [{"activityId": 1, "activityType": {"typeKey": "road_biking"}, "startTimeGmt": 1.7711316E12,
                   "startTimeLocal": 1.7711352E12, "duration": 3600500.0, "distance": 3000000.0, "calories": 700.0},
                  {"activityId": 2, "activityType": "multi_sport", "sportType": "MULTISPORT", "parent": True,
                   "startTimeGmt": 1771131600000, "duration": 1000.0}]
    (root / "DI-Connect-Fitness" / "a@b.example_0_summarizedActivities.json").write_bytes(orjson.dumps(activities))
    store, summary = _import(tmp_path / "export", tmp_path)
    assert summary.failed == []
    with duckdb.connect(str(tmp_path / "t.duckdb")) as conn:
        for name in ("sleep_sessions", "daily_scores", "body_measurements", "workouts"):
            rebuild_table(conn, store, TABLES[name], date(2026, 2, 1), date(2026, 2, 28), timezone=TIMEZONE)
        sleeps = conn.execute("SELECT sleep_id, epoch(start_ts), epoch(end_ts), time_in_bed_s, asleep_s, deep_s "
                              "FROM sleep_sessions ORDER BY 1").fetchall()
        assert sleeps == [("2026-02-14", 1771018809, 1771047609, 28800, 27000, 3600),  # a zone-less string is UTC
                          ("2026-02-15", 1771105200, 1771131600, 26400, 26400, 0)]  # epoch ms; OFF_WRIST is none
        assert conn.execute("SELECT day, sleep_score FROM daily_scores").fetchall() == [(date(2026, 2, 14), 71)]
        # 23:30 UTC is 00:30 in Berlin: the zone's next day; a 0 is a failed reading, grams are kg
        assert conn.execute("SELECT day, metric, value, epoch(measured_at) FROM body_measurements").fetchall() == [
            (date(2026, 2, 15), "weight", 80.5, 1771111800)]
        assert conn.execute("SELECT workout_id, day, activity, title, duration_s, distance_m, epoch(end_ts) - epoch(start_ts) "
                            "FROM workouts").fetchall() == [("1", date(2026, 2, 15), "cycling", "road_biking", 3601, 30000.0, 3600.5)]
    assert epoch_ms("2026-02-13T21:40:09.0") == 1771018809000 and epoch_ms(1.7711316E12) == 1771131600000


def test_a_bad_file_lands_nothing_names_itself_and_the_rest_lands(exports: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(exports["zip"]) as src:
        names = src.namelist()
        uds = sorted(n for n in names if "UDSFile_" in n)[1]
        part = sorted(n for n in names if n.endswith(".zip"))[0]
        inner = zipfile.ZipFile(io.BytesIO(src.read(part)))
        fits = sorted(inner.namelist())
        victim_fit = next(n for n in fits if n.endswith("0.fit"))  # a monitoring file
        inner_bytes = io.BytesIO()
        with zipfile.ZipFile(inner_bytes, "w") as copy:
            for name in fits:
                data = inner.read(name)
                copy.writestr(name, data[: len(data) - 200] if name == victim_fit else data)
        broken_part = sorted(n for n in names if n.endswith(".zip"))[1]
        truncated = src.read(uds)[:-300]
    bad = _rewrite(exports["zip"], tmp_path / "bad.zip", {uds: truncated, part: inner_bytes.getvalue(),
                                                          broken_part: b"PK\x03\x04 not a zip"})
    store, summary = _import(bad, tmp_path)
    assert len(summary.failed) == 3
    assert summary.failed[0].startswith(f"{broken_part}: not a readable zip archive (")
    assert summary.failed[1].startswith(f"{uds}: not valid JSON, truncated or corrupt (")
    assert summary.failed[2].startswith(f"{part}/<email>_{victim_fit.rsplit('_', 1)[1]}: not a readable FIT file, "
                                        "truncated or corrupt (")
    assert all(gen.EMAIL not in line and str(gen.USER_ID) not in line for line in summary.failed)
    landed_uds = set(_ids(store, "uds"))
    with zipfile.ZipFile(exports["zip"]) as src:  # the truncated file's days land from the files overlapping it only
        others = {item["calendarDate"] for n in src.namelist() if "UDSFile_" in n and n != uds for item in orjson.loads(src.read(n))}
    assert landed_uds == others
    number = victim_fit.rsplit("_", 1)[1][:-4]
    assert not [r for r in _ids(store, "monitoring") if r.startswith(number + "#")]
    assert _ids(store, "sleep") and _ids(store, "activities")


def test_not_an_export_is_one_line_and_lands_nothing(tmp_path: Path) -> None:
    corrupt = tmp_path / "export.zip"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveError, match=r"export\.zip: not a readable zip archive \(.*\)$"):
        _import(corrupt, tmp_path)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("Photos/IMG_0001.json", "[]")
    with pytest.raises(ArchiveError, match=r"other\.zip: not a Garmin Connect export .*; found Photos$"):
        _import(other, tmp_path)
    assert RawStore(tmp_path / "raw.sqlite").resource_summary() == []


def test_a_family_missing_is_fine(exports: dict[str, Path], tmp_path: Path) -> None:
    with zipfile.ZipFile(exports["zip"]) as src:
        dropped = {n: None for n in src.namelist() if "Uploaded-Files" in n or "sleepData" in n}
    store, summary = _import(_rewrite(exports["zip"], tmp_path / "some.zip", dropped), tmp_path)
    assert summary.failed == [] and _ids(store, "sleep") == [] and _ids(store, "monitoring") == []
    assert _ids(store, "uds") == [str(d) for d in DAYS]


def test_importing_again_changes_nothing_and_a_later_export_rewrites_what_changed(
        exports: dict[str, Path], imported: tuple[Path, ImportSummary], tmp_path: Path) -> None:
    store, first = _copy(imported, tmp_path)
    again = import_garmin_export(exports["folder"], store, BERLIN)  # the same export, unpacked
    assert (again.counts.new, again.counts.changed, again.counts.unchanged) == (0, 0, first.counts.new)
    assert again.counts.days == set()
    # A later export in which Garmin revised one day's summary: that record alone is rewritten.
    later = exports["zip"]
    with zipfile.ZipFile(later) as src:
        name = sorted(n for n in src.namelist() if "UDSFile_" in n)[0]
        rows = orjson.loads(src.read(name))
    rows[3]["totalSteps"] += 1
    revised = _rewrite(later, tmp_path / "revised.zip", {name: orjson.dumps(rows)})
    result = import_garmin_export(revised, store, BERLIN)
    assert (result.counts.new, result.counts.changed) == (0, 1) and result.counts.days == {rows[3]["calendarDate"]}


def test_a_live_garmin_source_wins_the_days_it_has_and_disagreements_are_reported(imported: tuple[Path, ImportSummary],
                                                                                  tmp_path: Path) -> None:
    """No live Garmin source exists yet: one is stood in (its rows are provider `garmin` too), landing two
    days of summaries, one of them with other steps; the export's rows give way to it, the difference recorded."""
    store, _ = _copy(imported, tmp_path)
    live_days = (LAST - timedelta(days=2), LAST - timedelta(days=1))
    live = [r for r in store.records(PROVIDER, "uds") if r.day in map(str, live_days)]
    changed = orjson.loads(live[0].payload)
    changed["totalSteps"] = int(changed["totalSteps"] * 1.3)
    from health_pipeline.storage.raw_store import RawRecord

    store.land("garmin", "uds", [RawRecord(live[0].record_id, live[0].day, changed),
                                 RawRecord(live[1].record_id, live[1].day, orjson.loads(live[1].payload))])
    table = TABLES["daily_activity"]
    stand_in = TidySource("daily_activity", "garmin", ("uds",), "window", "health_pipeline.sources.garmin_export")
    from dataclasses import replace

    table = replace(table, sources=(stand_in, *table.sources))  # registry order: the API before its import
    with duckdb.connect(str(tmp_path / "t.duckdb")) as conn:
        rebuild_table(conn, store, table, FIRST, LAST, timezone=TIMEZONE)
        steps = dict(conn.execute("SELECT day, steps FROM daily_activity WHERE provider = 'garmin'").fetchall())
        truth = sum(m.steps or 0 for m in tracker.minutes(WORLD, live_days[0]))
        assert steps[live_days[0]] == changed["totalSteps"] != truth  # the live source's value
        assert steps[live_days[1]] == sum(m.steps or 0 for m in tracker.minutes(WORLD, live_days[1]))
        assert len(steps) == len([d for d in DAYS if tracker.minutes(WORLD, d)])
        assert conn.execute("SELECT day, kept_source, kept_value, other_source, other_value FROM origin_disagreements"
                            ).fetchall() == [(live_days[0], "garmin", float(changed["totalSteps"]), "garmin_export", float(truth))]
        assert not checks.origins_agree(conn, table, 5.0).passed


# -- the whole export through the CLI and Dagster (slow) -----------------------------------------------


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "health-pipeline.toml"
    path.write_text(f'[app]\ntimezone = "{TIMEZONE}"\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\n\n'
                    + "".join(f'[{name}]\nstart_date = "{FIRST - timedelta(days=3)}"\n\n' for name in REGISTRY.api_names()),
                    encoding="utf-8")
    return path


def _tidy(tmp_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "health.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_the_export_imports_and_models_the_world_exactly(exports: dict[str, Path], tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "import", "garmin-export", str(exports["zip"])]) == 0
    worn = [d for d in DAYS if tracker.minutes(WORLD, d)]

    # daily_activity: the day's summary, floors from metres, the day's own resting heart rate
    expected_activity = []
    for d in worn:
        m = tracker.minutes(WORLD, d)
        steps, floors = sum(x.steps or 0 for x in m), sum(x.floors for x in m)
        level = {lv: sum(x.level == lv for x in m) * 60 for lv in ("SEDENTARY", "LIGHT", "MODERATE", "VIGOROUS")}
        expected_activity.append((d, steps, round(steps * 0.762, 2), round(sum(x.active_kcal for x in m), 1),
                                  round(sum(x.total_kcal for x in m), 1), float(floors), floors * gen.FLOOR_M,
                                  level["SEDENTARY"], level["LIGHT"], level["MODERATE"], level["VIGOROUS"],
                                  float(WORLD.plan(d).resting_hr)))
    assert _tidy(tmp_path, "SELECT day, steps, distance_m, active_kcal, total_kcal, floors, elevation_gain_m, sedentary_s, "
                           "light_s, moderate_s, vigorous_s, resting_hr_bpm FROM daily_activity WHERE provider = 'garmin' "
                           "ORDER BY day") == expected_activity

    # heart_rate: every monitoring sample, the activity files' samples where they are, on the day lived
    got = {ts.astimezone(timezone.utc): (bpm, day, source) for ts, bpm, day, source in
           _tidy(tmp_path, "SELECT ts, bpm, day, source FROM heart_rate WHERE provider = 'garmin'")}
    assert got == _heart_rate_truth()

    # sleep_sessions and daily_scores: each night on its wake-up day
    expected_sleep, expected_scores = [], []
    for d in DAYS:
        night = night_for(WORLD, d)
        if night is None or gen.sleep_record(WORLD, d) is None:
            continue
        s = night.seconds
        bed = int((night.wake - night.bed).total_seconds())
        expected_sleep.append((str(d), d, night.bed, night.wake, True, bed, s["deep"] + s["light"] + s["rem"], s["deep"],
                               s["light"], s["rem"], s["awake"], float(night.resting_hr + 4)))
        expected_scores.append((d, gen.sleep_score(WORLD, d)))
    assert [(r[0], r[1], r[2].astimezone(timezone.utc), r[3].astimezone(timezone.utc), *r[4:]) for r in _tidy(
        tmp_path, "SELECT sleep_id, day, start_ts, end_ts, is_main, time_in_bed_s, asleep_s, deep_s, light_s, rem_s, "
                  "awake_s, avg_hr_bpm FROM sleep_sessions WHERE provider = 'garmin' ORDER BY day")] == expected_sleep
    assert _tidy(tmp_path, "SELECT day, sleep_score FROM daily_scores WHERE provider = 'garmin' ORDER BY day") == expected_scores

    # daily_vitals: the health status of each night
    expected_vitals = []
    for d, _ in expected_scores:
        v = tracker.vitals(WORLD, d, "daily-heart-rate-variability")
        expected_vitals.append((d, v.hrv_ms, v.spo2_avg_pct, v.breaths_per_min, float(night_for(WORLD, d).resting_hr)))
    assert _tidy(tmp_path, "SELECT day, hrv_ms, spo2_pct, respiratory_rate_brpm, resting_hr_bpm FROM daily_vitals "
                           "WHERE provider = 'garmin' ORDER BY day") == expected_vitals

    # body_measurements: grams to kg; a trip's 20:24 weigh-in on the home zone's next day
    expected_body = sorted(
        (w.at, w.at.astimezone(BERLIN).date(), metric, value, unit)
        for w in gen.weigh_ins(WORLD, FIRST, LAST)
        for metric, value, unit in (("weight", gen.grams(w.kg) / 1000, "kg"), ("fat_ratio", w.fat_pct, "%"),
                                    ("muscle_mass", gen.muscle_kg(w), "kg"), ("bone_mass", 3.2, "kg")))
    assert [(r[0].astimezone(timezone.utc), *r[1:]) for r in _tidy(
        tmp_path, "SELECT measured_at, day, metric, value, unit FROM body_measurements WHERE provider = 'garmin' "
                  "ORDER BY measured_at, metric")] == expected_body

    # workouts and their zones
    expected_workouts, zones = [], {}
    for e in _exercises():
        kind = gen.ACTIVITY_TYPES[e.kind]
        expected_workouts.append((str(gen.activity_id(e)), WORLD.day_of(e.start), e.start, e.end, kind,
                                  {"strength_training": "Strength", "running": "Morning Run"}.get(kind, kind),
                                  e.minutes * 60, e.kcal, gen.activity_distance_m(e), float(e.avg_hr_bpm)))
        for number, zone in ((3, "vigorous"), (4, "peak")):
            key = (WORLD.day_of(e.start), zone)
            zones[key] = zones.get(key, 0) + gen.workout_zone_ms(WORLD, e)[number] // 1000
    assert [(r[0], r[1], r[2].astimezone(timezone.utc), r[3].astimezone(timezone.utc), *r[4:]) for r in _tidy(
        tmp_path, "SELECT workout_id, day, start_ts, end_ts, activity, title, duration_s, active_kcal, distance_m, "
                  "avg_hr_bpm FROM workouts WHERE provider = 'garmin' ORDER BY start_ts")] == expected_workouts
    assert {(d, z): s for d, z, s in _tidy(tmp_path, "SELECT day, zone, duration_s FROM heart_rate_zones WHERE "
                                                     "provider = 'garmin' AND zone IN ('vigorous', 'peak')")} == zones

    summary = dict(((r[0], r[1:]) for r in _tidy(tmp_path, "SELECT day, steps, steps_provider FROM daily_summary")))
    assert summary[worn[0]] == (expected_activity[0][1], "garmin")

    # Importing the same export again (unpacked this time) writes nothing and models the same rows.
    before = _tidy(tmp_path, "SELECT count(*), sum(bpm) FROM heart_rate")
    store = RawStore(tmp_path / "raw.sqlite")
    digest = store.fingerprint(PROVIDER, list(RESOURCES))
    assert main(["--config", str(config), "import", "garmin-export", str(exports["folder"])]) == 0
    assert store.fingerprint(PROVIDER, list(RESOURCES)) == digest
    assert _tidy(tmp_path, "SELECT count(*), sum(bpm) FROM heart_rate") == before


def test_the_cli_exits_non_zero_naming_the_bad_file(exports: dict[str, Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(exports["zip"]) as src:
        name = next(n for n in src.namelist() if n.endswith("_userBioMetrics.json"))
        data = src.read(name)
    bad = _rewrite(exports["zip"], tmp_path / "bad.zip", {name: data[: len(data) // 2]})
    assert main(["--config", str(_config(tmp_path)), "import", "garmin-export", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{shown(name)}: not valid JSON, truncated or corrupt" in err
    assert str(gen.USER_ID) not in err and gen.EMAIL not in err
    assert RawStore(tmp_path / "raw.sqlite").records(PROVIDER, "biometrics") == []
    assert RawStore(tmp_path / "raw.sqlite").records(PROVIDER, "uds")
