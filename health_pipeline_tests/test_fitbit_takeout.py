"""The Fitbit export importer: every layout imports, models and exports with the sandbox world's exact
values; re-import is a no-op; bad archives fail cleanly; the live API wins the days both have."""

import json
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from health_pipeline.cli import main
from health_pipeline.registry import REGISTRY, load_config
from health_pipeline.dev.demo import authorize_with_sandbox
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox import tracker
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld, night_for
from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.fitbit_takeout.archive import ArchiveError
from health_pipeline.sources.fitbit_takeout.sandbox.generate import ArchiveSpec, weigh_ins, write_takeout
from health_pipeline.sources.fitbit_takeout.importer import PROVIDER, import_takeout
from health_pipeline.storage.raw_store import RawStore, canonical_json
from health_pipeline.sync import materialize_range, raw_asset_keys
from health_pipeline.registry import TABLES
from health_pipeline.tidy.models import rebuild_table
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY, ConfigFactory
from health_pipeline_tests.export_oracle import assert_exact

BERLIN = ZoneInfo(TIMEZONE)
FIRST, LAST = TODAY - timedelta(days=40), TODAY - timedelta(days=1)


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "health-pipeline.toml"
    path.write_text(f'[app]\ntimezone = "{TIMEZONE}"\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\n\n'
                    + "".join(f'[{name}]\nstart_date = "{FIRST - timedelta(days=5)}"\n\n' for name in REGISTRY.api_names())
                    + extra, encoding="utf-8")
    return path


def _tidy(tmp_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "health.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _truth_steps(world: SandboxWorld, day: date) -> int:
    return sum(m.steps or 0 for m in gd.minutes(world, day))


@pytest.mark.parametrize("layout,zipped,unit", [("A", True, "lb"), ("B", True, "kg"), ("C", True, "lb"),
                                                ("D", True, "kg"), ("D", False, "lb")])
def test_each_layout_imports_and_models_the_world_exactly(tmp_path: Path, world: SandboxWorld, layout: str,
                                                          zipped: bool, unit: str, request: pytest.FixtureRequest) -> None:
    target = tmp_path / ("export.zip" if zipped else "export")
    write_takeout(world, target, ArchiveSpec(layout, weight_unit=unit, first=FIRST, last=LAST), zipped=zipped)
    vm = request.getfixturevalue("victoriametrics") if layout == "C" else None  # one layout exports too
    config = _config(tmp_path, f'[victoriametrics]\nenabled = true\nurl = "{vm.url}"\n' if vm else "")
    assert main(["--config", str(config), "import", "fitbit-takeout", str(target)]) == 0
    if vm is not None:  # VictoriaMetrics holds exactly what the tidy tables hold, the export's days included
        held = assert_exact(load_config(config))
        assert any("provider=fitbit" in str(key) or "fitbit" in str(key) for key in held)

    days = [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    # Heart rate: one sample a minute, at its UTC instant, on the local day it was lived.
    expected_hr = sorted((p["_t"].astimezone(timezone.utc), float(p["heartRate"]["beatsPerMinute"]), d)
                         for d in days for p in gd.heart_rate_points(world, d, 60))
    got_hr = _tidy(tmp_path, "SELECT ts, bpm, day FROM heart_rate WHERE provider = 'fitbit' ORDER BY ts")
    assert [(ts.astimezone(timezone.utc), bpm, day) for ts, bpm, day in got_hr] == expected_hr
    # Steps per day; distance from centimetres; the day's intensity minutes.
    activity = {row[0]: row[1:] for row in _tidy(tmp_path, "SELECT day, steps, distance_m, light_s, vigorous_s "
                                                           "FROM daily_activity WHERE provider = 'fitbit'")}
    worn = [d for d in days if gd.minutes(world, d)]
    assert sorted(activity) == worn
    for d in worn:
        minutes = gd.minutes(world, d)
        assert activity[d][0] == _truth_steps(world, d)
        assert activity[d][1] == pytest.approx(sum((m.steps or 0) * 0.762 for m in minutes), abs=0.01)
        assert activity[d][2] == 60 * sum(1 for m in minutes if m.level == "LIGHT")
        assert activity[d][3] == 60 * sum(1 for m in minutes if m.level == "VIGOROUS")
    # Main sleeps: their instants (the local wall clock anchored with the night's own offset), stages.
    sleeps = {row[0]: row[1:] for row in _tidy(tmp_path, "SELECT day, start_ts, end_ts, deep_s, asleep_s FROM sleep_sessions "
                                                          "WHERE provider = 'fitbit' AND is_main")}
    nights = [n for n in (night_for(world, d) for d in days) if n is not None]
    assert sorted(sleeps) == [n.day for n in nights]
    for n in nights:
        start, end, deep, asleep = sleeps[n.day]
        assert (start, end) == (n.bed, n.wake), n.day
        assert (deep, asleep) == (n.seconds["deep"], n.seconds["deep"] + n.seconds["light"] + n.seconds["rem"])
    # Weigh-ins: kg to the gram, lb converted (the file says neither; weight / BMI tells); layout D's come
    # from Google's CSV (grams), the JSON's copies not counted again.
    weights = _tidy(tmp_path, "SELECT measured_at, value FROM body_measurements WHERE provider = 'fitbit' "
                              "AND metric = 'weight' ORDER BY measured_at")
    expected_w = []
    for d in days:
        for point, logged in zip(gd.body_points(world, gd.DATA_TYPES["weight"], d), weigh_ins(world, d, unit)):
            kg = point["weight"]["weightGrams"] / 1000
            expected_w.append((point["_t"], kg if unit == "kg" or layout == "D" else round(logged["weight"] * 0.45359237, 3)))
    assert [(at.astimezone(timezone.utc), v) for at, v in weights] == expected_w
    assert all(abs(v - kg / 1) < 0.05 for (_, v), (_, kg) in zip(weights, expected_w))
    # Workouts at their instants, distance in metres.
    workouts = _tidy(tmp_path, "SELECT start_ts, duration_s, distance_m FROM workouts WHERE provider = 'fitbit' ORDER BY start_ts")
    expected_x = [(datetime.fromisoformat(p["exercise"]["interval"]["startTime"].replace("Z", "+00:00")),
                   int(p["exercise"]["activeDuration"].rstrip("s")), p["exercise"]["metricsSummary"]["distanceMillimeters"] / 1000)
                  for d in days for p in gd.exercise_points(world, d)]
    assert [(s.astimezone(timezone.utc), dur, pytest.approx(dist)) for s, dur, dist in workouts] == expected_x
    vitals = dict(_tidy(tmp_path, "SELECT day, hrv_ms FROM daily_vitals WHERE provider = 'fitbit'"))
    if layout == "A":
        assert vitals == {}  # the legacy export has no HRV files
    else:
        assert vitals == {d: gd.daily_points(world, gd.DATA_TYPES["daily-heart-rate-variability"], d)[0]
                          ["dailyHeartRateVariability"]["averageHeartRateVariabilityMilliseconds"]
                          for d in days if gd.daily_points(world, gd.DATA_TYPES["daily-heart-rate-variability"], d)}

    store = RawStore(tmp_path / "raw.sqlite")
    state = store.sync_state(PROVIDER, "archive")
    assert state is not None and state[1]["intraday_clock"] == "utc"
    assert state[1]["decided_by"] == ("google_csv" if layout == "D" else "sleep")
    assert state[1]["weight_unit"] == unit
    before = store.fingerprint(PROVIDER, [r for t in TABLES.values() for s in t.sources if s.provider == PROVIDER
                                          for r in s.resources])
    again = import_takeout(target, store, BERLIN)
    assert (again.counts.new, again.counts.changed, again.counts.deleted) == (0, 0, 0)
    assert again.unchanged_files == sum(k.files for k in again.kinds.values())  # none read again: same sha256
    assert store.fingerprint(PROVIDER, [r for t in TABLES.values() for s in t.sources if s.provider == PROVIDER
                                        for r in s.resources]) == before


def test_a_sleep_repeated_in_two_files_lands_once(tmp_path: Path, world: SandboxWorld) -> None:
    target = write_takeout(world, tmp_path / "export.zip", ArchiveSpec("C", first=FIRST, last=LAST))
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_takeout(target, store, BERLIN)
    with zipfile.ZipFile(target) as archive:
        in_files = [item["logId"] for name in archive.namelist() if "/sleep-" in name
                    for item in json.loads(archive.read(name))]
    assert len(in_files) > len(set(in_files))  # the writer repeats the next chunk's first night
    assert sorted(int(r.record_id) for r in store.records(PROVIDER, "sleep")) == sorted(set(in_files))
    assert summary.kinds["sleep"].records == len(set(in_files))
    # Rows written with orjson are exactly the store's canonical form (what a re-serialisation gives).
    for family in ("heart_rate", "steps", "calories"):
        for record in store.records(PROVIDER, family)[:3]:
            assert canonical_json(json.loads(record.payload)) == record.payload


def test_a_truncated_file_lands_nothing_from_it_and_the_rest_lands(tmp_path: Path, world: SandboxWorld) -> None:
    good = write_takeout(world, tmp_path / "good.zip", ArchiveSpec("C", first=FIRST, last=LAST))
    bad = tmp_path / "bad.zip"
    victim = f"Takeout/Fitbit/Global Export Data/heart_rate-{LAST - timedelta(days=2)}.json"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[: len(data) // 2] if info.filename == victim else data)
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_takeout(bad, store, BERLIN)
    assert summary.failed == [f"{victim}: not valid JSON, truncated or corrupt "
                              f"({summary.failed[0].split('(', 1)[1]}"]
    days = {r.day for r in store.records(PROVIDER, "heart_rate")}
    worn = {str(FIRST + timedelta(days=i)) for i in range((LAST - FIRST).days + 1)
            if gd.heart_rate_points(world, FIRST + timedelta(days=i), 60)}
    assert days == worn - {str(LAST - timedelta(days=2))}
    assert summary.kinds["steps"].records > 0


def test_a_corrupt_zip_and_an_unknown_layout_are_one_line_each(tmp_path: Path) -> None:
    corrupt = tmp_path / "takeout.zip"
    corrupt.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(ArchiveError, match=r"^.*takeout\.zip: not a readable zip archive \(.*\)$"):
        import_takeout(corrupt, RawStore(tmp_path / "raw.sqlite"), BERLIN)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("Photos/IMG_0001.json", "[]")
    with pytest.raises(ArchiveError, match=r"other\.zip: not a Fitbit export in a known layout .*; found Photos$"):
        import_takeout(other, RawStore(tmp_path / "raw.sqlite"), BERLIN)
    assert RawStore(tmp_path / "raw.sqlite").resource_summary() == []


def test_a_truncated_file_is_named_on_one_line_without_progress_lines(tmp_path: Path, world: SandboxWorld,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    good = write_takeout(world, tmp_path / "good.zip", ArchiveSpec("D", first=LAST - timedelta(days=2), last=LAST))
    bad = tmp_path / "takeout.zip"
    victim = f"Takeout/Google\u00a0Health/Physical Activity_GoogleData/heart_rate_{LAST - timedelta(days=1)}.csv"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[: len(data) // 2] + b"\n2026-11" if info.filename == victim else data)
    config = _config(tmp_path)
    assert main(["--config", str(config), "import", "fitbit-takeout", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    named = victim.replace("\u00a0", " ")
    # The file, once, on one line; no progress or warning lines.
    assert len(err) == 1 and err[0].startswith(f"health-pipeline: error: {named}: a timestamp is not an ISO instant")
    assert err[0].endswith("(it landed nothing; the rest of the export was imported)")


def test_the_cli_exits_non_zero_naming_the_bad_file(tmp_path: Path, world: SandboxWorld,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    corrupt = tmp_path / "takeout.zip"
    corrupt.write_bytes(b"not a zip")
    assert main(["--config", str(_config(tmp_path)), "import", "fitbit-takeout", str(corrupt)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "takeout.zip: not a readable zip archive" in err[0]


def test_the_api_wins_the_days_it_has_and_disagreements_are_reported(
        tmp_path: Path, make_config: ConfigFactory, sandbox: Sandbox, world: SandboxWorld) -> None:
    g = sandbox.url("google-health")
    api_days = (TODAY - timedelta(days=5), TODAY - timedelta(days=3))
    disagree = TODAY - timedelta(days=4)
    config = make_config(extra=f"""
[fitbit]
enabled = true
start_date = "{FIRST}"
base_url = "{g}"
authorize_url = "{g}/o/oauth2/v2/auth"
token_url = "{g}/token"
client_id = "sandbox"
client_secret = "sandbox-secret"
""")
    store = RawStore(config.app.raw_db)
    store.init()
    authorize_with_sandbox(OAuthTokens(config.fitbit, store, google_health.OAUTH))
    with dg.instance_for_test() as instance:
        materialize_range(config, instance, raw_asset_keys(config, ["fitbit"]), *api_days)
    archive = write_takeout(world, tmp_path / "export.zip", ArchiveSpec("C", first=FIRST, last=LAST, steps_factor_on=(disagree,)))
    import_takeout(archive, store, BERLIN)
    table = TABLES["daily_activity"]
    with duckdb.connect(str(tmp_path / "t.duckdb")) as conn:
        rebuild_table(conn, store, table, FIRST, LAST, timezone=TIMEZONE)
        steps = dict(conn.execute("SELECT day, steps FROM daily_activity WHERE provider = 'fitbit'").fetchall())
        kcal = dict(conn.execute("SELECT day, active_kcal FROM daily_activity WHERE provider = 'fitbit'").fetchall())
        disagreements = conn.execute("SELECT day, kept_source, kept_value, other_source, other_value "
                                     "FROM origin_disagreements").fetchall()
        from health_pipeline.tidy import checks

        outcome = checks.origins_agree(conn, table, 5.0)
        assert checks.rows_match_raw(conn, store, table).passed
        truth = _truth_steps(world, disagree)
        assert steps[disagree] == truth  # the API's value, not the archive's 30 % more
        assert all(kcal[d] is not None for d in (api_days[0], disagree, api_days[1]))  # API rows (the export has no active kcal)
        assert kcal[FIRST + timedelta(days=1)] is None and steps[FIRST + timedelta(days=1)] == _truth_steps(world, FIRST + timedelta(days=1))
        assert disagreements == [(disagree, "fitbit", float(truth), "fitbit_takeout",
                                  float(sum(int((m.steps or 0) * 1.3) for m in gd.minutes(world, disagree) if m.steps is not None)))]
        assert not outcome.passed and outcome.metadata["days_disagreeing"] == 1
        assert str(disagree) in outcome.metadata["examples"][0]
        # `archive_wins = ["daily_activity"]`: the export's value is kept instead.
        rebuild_table(conn, store, table, FIRST, LAST, timezone=TIMEZONE, precedence={"fitbit": ("fitbit_takeout", "fitbit")})
        assert conn.execute("SELECT steps, active_kcal FROM daily_activity WHERE provider = 'fitbit' AND day = ?",
                            [disagree]).fetchone() == (disagreements[0][4], None)


# ---- days on the configured zone's calendar, every family, every layout's own files ----------------
# A world at home in the configured zone, travelling to New York (Sep 18-21, 2026: a Sunday weigh-in at
# 20:24 there is already the next day in UTC and in Tokyo) and crossing the DST change (US Nov 1; none in
# Tokyo or UTC). The export comes in two parts, one around the trip and one around the DST change.

PARTS = ((date(2026, 9, 15), date(2026, 9, 24)), (date(2026, 10, 29), date(2026, 11, 3)))
HR_EVERY_S = 300
VITALS_LAST = date(2026, 9, 20)  # layout D's category folders (`Heart Rate Variability/`, …) end here


def _lived_days() -> list[date]:
    return [a + timedelta(days=i) for a, b in PARTS for i in range((b - a).days + 1)]


class Imported:
    """An export of a world at home in `zone`, imported and modelled in that zone."""

    def __init__(self, base: Path, zone: str, layout: str, global_export: bool) -> None:
        self.zone = ZoneInfo(zone)
        self.world = SandboxWorld(seed=7, days=60, timezone=zone, clock=SandboxClock(FROZEN_NOW))
        parts = base / "parts"
        parts.mkdir()
        for i, (first, last) in enumerate(PARTS, start=1):
            write_takeout(self.world, parts / f"takeout-20261201T101500Z-00{i}.zip",
                          ArchiveSpec(layout, hr_every_s=HR_EVERY_S, first=first, last=last, global_export=global_export,
                                      legacy_vitals_last=VITALS_LAST if layout == "D" else None))
        self.store = RawStore(base / "raw.sqlite")
        self.summary = import_takeout(parts, self.store, self.zone)
        self.tidy = duckdb.connect(str(base / "health.duckdb"))
        for table in ("daily_activity", "heart_rate", "heart_rate_zones", "sleep_sessions", "body_measurements",
                      "workouts", "daily_vitals"):
            rebuild_table(self.tidy, self.store, TABLES[table], date(2026, 9, 1), TODAY, timezone=zone)

    def rows(self, sql: str) -> list[tuple]:
        return self.tidy.execute(sql).fetchall()

    def day_of(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()


@pytest.fixture(scope="module", params=[("UTC", "C", True), ("America/Los_Angeles", "C", True),
                                        ("Asia/Tokyo", "D", True), ("America/Los_Angeles", "D", False),
                                        ("UTC", "D", False)],
                ids=lambda p: f"{p[0]}-{p[1]}{'' if p[2] else '-csv-only'}")
def imported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    zone, layout, global_export = request.param
    found = Imported(tmp_path_factory.mktemp("export"), zone, layout, global_export)
    found.json = global_export  # type: ignore[attr-defined]
    yield found
    found.tidy.close()


def test_heart_rate_lands_on_the_configured_zones_day(imported: Imported) -> None:
    world = imported.world
    expected = sorted((b.at, float(b.bpm), imported.day_of(b.at)) for d in _lived_days()
                      for b in tracker.heart_rate(world, d, HR_EVERY_S))
    got = imported.rows("SELECT ts, bpm, day FROM heart_rate WHERE provider = 'fitbit' ORDER BY ts")
    assert len(got) == len(expected)
    assert [(ts.astimezone(timezone.utc), bpm, day) for ts, bpm, day in got] == expected


def test_daily_activity_sums_the_minutes_of_the_configured_zones_day(imported: Imported) -> None:
    world = imported.world
    steps: dict[date, int] = {}
    distance: dict[date, float] = {}
    kcal: dict[date, float] = {}
    floors: dict[date, int] = {}
    levels: dict[date, dict[str, int]] = {}
    for d in _lived_days():
        for m in tracker.minutes(world, d):
            day = imported.day_of(m.start)
            steps[day] = steps.get(day, 0) + (m.steps or 0)
            distance[day] = distance.get(day, 0.0) + (m.steps or 0) * 0.762
            kcal[day] = kcal.get(day, 0.0) + m.total_kcal
            floors[day] = floors.get(day, 0) + m.floors
            # the JSON's intensity minutes are a daily series on the date it was lived; Google's CSV has them
            # per minute, dated like every reading
            level_day = d if imported.json else day  # type: ignore[attr-defined]
            counted = levels.setdefault(level_day, {"LIGHT": 0, "MODERATE": 0, "VIGOROUS": 0, "SEDENTARY": 0})
            counted[m.level] += 1
    got = {row[0]: row[1:] for row in imported.rows(
        "SELECT day, steps, distance_m, total_kcal, floors, light_s, moderate_s, vigorous_s, elevation_gain_m "
        "FROM daily_activity WHERE provider = 'fitbit' ORDER BY day")}
    assert sorted(got) == sorted(steps)
    for day, (n, metres, total, climbed, light, moderate, vigorous, gain) in got.items():
        assert n == steps[day], day
        assert metres == pytest.approx(distance[day], abs=0.01), day
        assert total == pytest.approx(kcal[day], abs=0.01), day
        assert climbed == (floors[day] if floors[day] else None), day
        assert gain == (round(floors[day] * 3.048, 4) if floors[day] else None), day
        assert (light, moderate, vigorous) == tuple(60 * levels[day][k] for k in ("LIGHT", "MODERATE", "VIGOROUS")), day


def test_minutes_per_heart_rate_zone(imported: Imported) -> None:
    expected: dict[tuple[date, str], int] = {}
    names = {"FAT_BURN": "moderate", "CARDIO": "vigorous", "PEAK": "peak", None: "light"}
    for d in _lived_days():
        for m in tracker.minutes(imported.world, d):
            if imported.json:  # type: ignore[attr-defined]  # a daily series on the lived date, below the zones too
                key = (d, names[m.zone])
            elif m.zone is not None:  # Google's CSV: the zones' minutes, on the configured zone's days
                key = (imported.day_of(m.start), names[m.zone])
            else:
                continue
            expected[key] = expected.get(key, 0) + 60
    if imported.json:  # type: ignore[attr-defined]  # Fitbit writes a zone without minutes as 0.0
        for day in {d for d, _ in expected}:
            for zone in names.values():
                expected.setdefault((day, zone), 0)
    got = {(day, zone): s for day, zone, s in imported.rows(
        "SELECT day, zone, duration_s FROM heart_rate_zones WHERE provider = 'fitbit'")}
    assert got == expected


def test_resting_heart_rate_is_the_nights(imported: Imported) -> None:
    nights = [n for n in (night_for(imported.world, d) for d in _lived_days()) if n is not None]
    # the JSON's is a daily series on the night's wake-up date; Google's readings are instants (the wake-up)
    expected = {(n.day if imported.json else imported.day_of(n.wake)): float(n.resting_hr)  # type: ignore[attr-defined]
                for n in nights}
    got = dict(imported.rows("SELECT day, resting_hr_bpm FROM daily_activity WHERE provider = 'fitbit' "
                             "AND resting_hr_bpm IS NOT NULL"))
    assert got == expected


def test_weigh_ins_in_kg_at_their_instants(imported: Imported) -> None:
    world = imported.world
    expected = []
    for d in _lived_days():
        logged = tracker.weigh_in(world, d)
        if logged is None:
            continue
        kg = round(logged.kg * 1000) / 1000
        if imported.summary.layout == "Google Takeout, Google Health":
            # Google's CSV: grams at the UTC instant, dated on the configured zone's calendar (the trip's
            # 20:24 in New York is the next day in Tokyo and UTC); the same weigh-in in the JSON is not counted again
            expected += [(logged.at, imported.day_of(logged.at), "weight", kg),
                         (logged.at, imported.day_of(logged.at), "fat_ratio", logged.fat_pct)]
        else:
            # the JSON, in lb (no unit field): on the date it was written on, placed in time with the offset
            # found for that day's night; a trip day without a recorded night is read in the configured zone
            wall = logged.at.astimezone(world.tz_at(logged.at)).replace(tzinfo=None)
            found = not world.travelling(d) or night_for(world, d) is not None or night_for(world, d + timedelta(days=1))
            at = logged.at if found else wall.replace(tzinfo=imported.zone).astimezone(timezone.utc)
            lb = round(kg * 2.20462262185, 1)
            expected += [(at, d, "weight", round(lb * 0.45359237, 3)), (at, d, "fat_ratio", logged.fat_pct)]
    got = imported.rows("SELECT measured_at, day, metric, value FROM body_measurements WHERE provider = 'fitbit' "
                        "AND metric IN ('weight', 'fat_ratio') ORDER BY measured_at, metric DESC")
    assert [(at.astimezone(timezone.utc), day, metric, value) for at, day, metric, value in got] == \
        sorted(expected, key=lambda e: (e[0], e[2] != "weight"))


def test_sleep_and_workouts(imported: Imported) -> None:
    world = imported.world
    sleeps = imported.rows("SELECT day, start_ts, end_ts, deep_s FROM sleep_sessions WHERE provider = 'fitbit' AND is_main "
                           "ORDER BY day")
    workouts = imported.rows("SELECT day, start_ts, duration_s FROM workouts WHERE provider = 'fitbit' ORDER BY start_ts")
    if not imported.json:  # type: ignore[attr-defined]
        assert (sleeps, workouts) == ([], [])  # Google's CSVs have neither
        return
    nights = [n for n in (night_for(world, d) for d in _lived_days()) if n is not None]
    # A session keeps its wake-up date (`dateOfSleep`); its wall clock (the offset of its start, across a
    # flight too) is placed in time with the offset found from that night's heart rate.
    assert [(d, s.astimezone(timezone.utc), e.astimezone(timezone.utc), deep) for d, s, e, deep in sleeps] == \
        [(n.day, n.bed, n.wake, n.seconds["deep"]) for n in nights]
    expected = [(imported.day_of(x.start), x.start, (x.end - x.start).seconds // 60 * 60)
                for x in (tracker.exercise(world, d) for d in _lived_days()) if x is not None]
    assert [(d, s.astimezone(timezone.utc), dur) for d, s, dur in workouts] == expected


def test_nightly_vitals_from_the_folders_then_googles_csvs(imported: Imported) -> None:
    world, google = imported.world, imported.summary.layout == "Google Takeout, Google Health"
    folders: dict[str, dict[date, float]] = {k: {} for k in ("hrv", "spo2", "breathing", "deviation", "skin", "vo2")}
    csv = {k: dict[date, float]() for k in folders}
    for d in _lived_days():
        vitals = {stream: tracker.vitals(world, d, stream) for stream in tracker.VITAL_STREAMS}
        night = night_for(world, d)
        if vitals["daily-heart-rate-variability"] is None or night is None:
            continue
        hrv, spo2 = vitals["daily-heart-rate-variability"].hrv_ms, vitals["daily-oxygen-saturation"].spo2_avg_pct
        temperature, breathing = vitals["daily-sleep-temperature-derivations"], vitals["daily-respiratory-rate"]
        if not google or d <= VITALS_LAST:  # the category folders: a row a night, on the night's date
            for key, value in (("hrv", hrv), ("spo2", spo2), ("breathing", breathing.breaths_per_min),
                               ("skin", temperature.skin_temp_c),
                               ("deviation", round(round((temperature.skin_temp_c - temperature.skin_temp_baseline_c)
                                                         * 500, 4) / 500, 3))):
                folders[key][d] = value
        if google:  # Google's: on the night's date, breathing at the sleep's end (milli-breaths) on the zone's day
            for key, value in (("hrv", hrv), ("spo2", spo2), ("skin", temperature.skin_temp_c),
                               ("deviation", round(temperature.skin_temp_c - temperature.skin_temp_baseline_c, 3)),
                               ("vo2", round(15.3 * 190 / vitals["daily-resting-heart-rate"].resting_hr_bpm, 1))):
                csv[key][d] = value
            csv["breathing"][imported.day_of(night.wake)] = round(breathing.breaths_per_min * 1000) / 1000
    expected = {key: {**csv[key], **folders[key]} for key in folders}  # the folders keep the days they have
    got = imported.rows("SELECT day, hrv_ms, spo2_pct, respiratory_rate_brpm, temperature_deviation_c, skin_temp_c, "
                        "vo2_max FROM daily_vitals WHERE provider = 'fitbit' ORDER BY day")
    for i, key in enumerate(("hrv", "spo2", "breathing", "deviation", "skin", "vo2"), start=1):
        assert {row[0]: row[i] for row in got if row[i] is not None} == expected[key], key
    if google:  # some days from each
        assert {d for d in expected["hrv"] if d > VITALS_LAST} and {d for d in expected["hrv"] if d <= VITALS_LAST}
    heights = imported.rows("SELECT measured_at, day, value, unit FROM body_measurements WHERE provider = 'fitbit' "
                            "AND metric = 'height' ORDER BY measured_at")
    measured = [world.local_midnight(first) + timedelta(hours=8, minutes=30) for first, _ in PARTS]
    assert [(at.astimezone(timezone.utc), day, value, unit) for at, day, value, unit in heights] == \
        ([(at.astimezone(timezone.utc), imported.day_of(at), 1.8, "m") for at in measured] if google else [])


def test_each_layout_reads_the_families_it_has(imported: Imported) -> None:
    google = {"google_steps", "google_distance", "google_calories", "google_floors", "google_altitude",
              "google_active_minutes", "google_active_zone_minutes", "google_weight", "google_body_fat", "google_resting_heart_rate", "google_heart_rate",
              "google_daily_hrv", "google_daily_spo2", "google_respiratory_rate_sleep", "google_sleep_temperature",
              "google_daily_vo2_max", "google_height"}
    assert imported.summary.failed == []
    if imported.summary.layout == "Google Takeout, Fitbit":
        assert not google & set(imported.summary.kinds)
        assert imported.summary.skipped == 2 * len(PARTS)  # `badge.json`, the SpO2 README
        return
    assert google <= set(imported.summary.kinds)
    # not read: `daily_heart_rate_zones.csv`, two READMEs (and, with the JSON, `badge.json`)
    assert imported.summary.skipped == (3 if not imported.json else 4) * len(PARTS)  # type: ignore[attr-defined]


# ---- Google's CSVs in the shapes of real exports ----------------------------------------------------
# Rows as captured in public repositories: gauthier-se/verve `internal/connector/googlehealth/import_test.go`
# (its 2026 "Google Health" reference archive in miniature: NBSP in the folder name, `data source` column,
# microsecond instants, a weigh-in from two apps, resting heart rate twice as 51 and 51.0) and
# rammkripa/surveillance_hw1 `TIMESERIES_GoogleData/` (a real 2024 Takeout: no `data source`, the folder's
# older name, active minutes one row per active minute).

GH = "Takeout/Google\u00a0Health/Physical Activity_GoogleData"


@pytest.mark.parametrize("name,folder,resource", [
    ("heart_rate_2016-12-28.csv", "TIMESERIES_GoogleData", "google_heart_rate"),
    ("steps_2015-01-01.csv", "Physical Activity_GoogleData", "google_steps"),
    ("active_minutes_2020-06-01.csv", "TIMESERIES_GoogleData", "google_active_minutes"),
    ("weight_2026-05-01.csv", "Physical Activity_GoogleData", "google_weight"),
    ("weight.csv", "Physical Activity_GoogleData", "google_weight"),
    ("daily_resting_heart_rate.csv", "Physical Activity_GoogleData", "google_resting_heart_rate"),
    ("resting_heart_rate_2026-05-27.csv", "Physical Activity_GoogleData", "google_resting_heart_rate"),
    ("daily_heart_rate_zones.csv", "Physical Activity_GoogleData", None),  # pseudo-JSON cells: never heart rate
    ("calories_in_heart_rate_zone_2026-08-24.csv", "Physical Activity_GoogleData", None),
    ("steps_readme.txt", "Physical Activity_GoogleData", None),
    ("steps_2015-01-01.csv", "Heart Rate Variability", None),  # only in Google's CSV folders
])
def test_google_csv_files_are_known_by_anchored_names(name: str, folder: str, resource: str | None) -> None:
    from health_pipeline.sources.fitbit_takeout.formats import kind_of

    kind = kind_of(name, folder)
    assert (kind.family if kind else None) == resource


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


REAL_SHAPES = {
    f"{GH}/weight_2026-05-01.csv": "timestamp,weight grams,data source\n2026-05-27T05:33:27Z,93400,YAZIO Health Kit\n"
                                   "2026-05-27T05:33:27Z,93400,Zepp Life Health Kit\n2026-05-28T05:19:44Z,93600,YAZIO Health Kit\n",
    f"{GH}/distance_2026-05-01.csv": "timestamp,distance,data source\n2026-05-27T01:15:09.096319Z,8.80,Apple Health Health Kit\n"
                                     "2026-05-27T01:16:43.873844Z,20.14,Phone Health Kit\n",
    f"{GH}/resting_heart_rate_2026-05-27.csv": "timestamp,beats per minute,data source\n2026-05-27T22:01:13Z,51,Apple Health Health Kit\n",
    f"{GH}/daily_resting_heart_rate.csv": "timestamp,beats per minute,data source\n2026-05-27T22:01:13Z,51.0,Apple Health Health Kit\n",
    f"{GH}/calories_in_heart_rate_zone_2026-05-24.csv": "timestamp,heart rate zone type,kcal,data source\n"
                                                        "2026-05-24T11:55:00Z,HEART_RATE_ZONE_TYPE_UNSPECIFIED,1.24463,Google Health App\n",
    f"{GH}/weight_readme.txt": "Time Series Data Export\n",
    # rammkripa's rows (2015 and 2020), as the 2026 folder would hold them
    f"{GH}/steps_2026-05-01.csv": "timestamp,steps\n2026-05-27T06:16:00Z,13\n2026-05-27T06:20:00Z,15\n2026-05-27T23:59:00Z,22\n",
    f"{GH}/active_minutes_2026-05-01.csv": "timestamp,light,moderate,very\n2026-05-27T07:00:00Z,0,1,0\n"
                                           "2026-05-27T07:03:00Z,0,0,1\n2026-05-27T07:04:00Z,1,0,0\n",
    "Takeout/Google\u00a0Health/Health Fitness Data_GoogleData/UserAppSettingData.csv":
        "value_time,setting_name,setting_value\n2026-08-24T11:54:36Z,weight system,metric\n",
}


@pytest.mark.parametrize("zone,days", [
    ("UTC", {"steps": {date(2026, 5, 27): 50}, "rhr": {date(2026, 5, 27): 51.0}}),
    # 23:59Z and 22:01Z are the next morning in Tokyo; in Los Angeles, everything is still the 26th or 27th
    ("Asia/Tokyo", {"steps": {date(2026, 5, 27): 28, date(2026, 5, 28): 22}, "rhr": {date(2026, 5, 28): 51.0}}),
    ("America/Los_Angeles", {"steps": {date(2026, 5, 26): 28, date(2026, 5, 27): 22}, "rhr": {date(2026, 5, 27): 51.0}}),
])
def test_real_google_csv_rows_model_on_the_configured_zones_days(tmp_path: Path, zone: str, days: dict) -> None:
    archive = _zip(tmp_path / "takeout-20260901T000000Z-001.zip", REAL_SHAPES)
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_takeout(archive, store, ZoneInfo(zone))
    assert summary.layout == "Google Takeout, Google Health" and summary.failed == []
    assert summary.skipped == 3  # the zone calories, the README, the settings
    assert {k: v.records for k, v in summary.kinds.items()} == {
        "google_weight": 2, "google_distance": 1, "google_resting_heart_rate": 2,  # records: a file's day
        "google_steps": len(days["steps"]), "google_active_minutes": 1}
    with duckdb.connect() as conn:
        for table in ("daily_activity", "body_measurements"):
            rebuild_table(conn, store, TABLES[table], date(2026, 5, 20), date(2026, 5, 31), timezone=zone)
        activity = conn.execute("SELECT day, steps, distance_m, light_s, moderate_s, vigorous_s, resting_hr_bpm "
                                "FROM daily_activity ORDER BY day").fetchall()
        weights = conn.execute("SELECT measured_at, day, value, unit FROM body_measurements ORDER BY measured_at").fetchall()
    by_day = {row[0]: row[1:] for row in activity}
    assert {d: row[0] for d, row in by_day.items() if row[0] is not None} == days["steps"]
    assert {d: row[5] for d, row in by_day.items() if row[5] is not None} == days["rhr"]  # 51 and 51.0: one reading
    morning = ZoneInfo(zone)
    first = datetime(2026, 5, 27, 1, 15, 9, tzinfo=timezone.utc).astimezone(morning).date()
    assert by_day[first][1] == pytest.approx(28.94)  # metres, two apps' readings summed, the microseconds dropped
    active = datetime(2026, 5, 27, 7, 0, tzinfo=timezone.utc).astimezone(morning).date()
    assert by_day[active][2:5] == (60, 60, 60)
    # one row per weigh-in (two apps wrote the first), grams to kg, at its UTC instant
    assert [(at.astimezone(timezone.utc), day, value, unit) for at, day, value, unit in weights] == [
        (datetime(2026, 5, 27, 5, 33, 27, tzinfo=timezone.utc),
         datetime(2026, 5, 27, 5, 33, 27, tzinfo=timezone.utc).astimezone(morning).date(), 93.4, "kg"),
        (datetime(2026, 5, 28, 5, 19, 44, tzinfo=timezone.utc),
         datetime(2026, 5, 28, 5, 19, 44, tzinfo=timezone.utc).astimezone(morning).date(), 93.6, "kg")]


def test_a_google_csv_without_its_value_column_lands_nothing_and_is_named(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "takeout.zip", {
        f"{GH}/steps_2026-08-01.csv": "timestamp,paces,data source\n2026-08-01T01:15:09Z,12,Phone Health Kit\n",
        f"{GH}/distance_2026-08-01.csv": "timestamp,distance\n2026-08-01T01:15:09Z,8.8\n2026-08-01T01:1",  # truncated
        f"{GH}/floors_2026-08-01.csv": "timestamp,floors\n2026-08-01T01:15:09Z,1\n"})
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_takeout(archive, store, ZoneInfo("UTC"))
    assert summary.failed == [
        "Takeout/Google Health/Physical Activity_GoogleData/distance_2026-08-01.csv: a timestamp is not an ISO instant ('2026-08-01T01:1')",
        "Takeout/Google Health/Physical Activity_GoogleData/steps_2026-08-01.csv: no 'steps' column (found timestamp, paces, data source)"]
    assert sorted(r["resource"] for r in store.resource_summary()) == ["google_floors"]


def test_importing_again_in_another_zone_re_dates_the_records(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "takeout.zip", REAL_SHAPES)
    store = RawStore(tmp_path / "raw.sqlite")
    import_takeout(archive, store, ZoneInfo("America/Los_Angeles"))
    assert [r.day for r in store.records(PROVIDER, "google_steps")] == ["2026-05-26", "2026-05-27"]
    again = import_takeout(archive, store, ZoneInfo("UTC"))
    # the file's Los Angeles day that UTC does not have is tombstoned, not left to be counted twice
    assert [r.day for r in store.records(PROVIDER, "google_steps")] == ["2026-05-27"]
    assert again.counts.deleted == 3  # steps, distance and weight had a day of their own in Los Angeles
    assert again.counts.days == {"2026-05-26", "2026-05-27", "2026-05-28"}  # the days to model again
    same = import_takeout(archive, store, ZoneInfo("UTC"))
    assert (same.counts.new, same.counts.changed, same.counts.deleted) == (0, 0, 0)


def test_files_with_the_bytes_of_their_last_import_are_not_read_again(tmp_path: Path, world: SandboxWorld,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from health_pipeline.sources.fitbit_takeout import importer

    target = write_takeout(world, tmp_path / "export", ArchiveSpec("D", first=LAST - timedelta(days=6), last=LAST),
                           zipped=False)
    store = RawStore(tmp_path / "raw.sqlite")
    first = import_takeout(target, store, BERLIN)
    files = sum(k.files for k in first.kinds.values())
    assert first.failed == [] and first.unchanged_files == 0 and files > 40

    def never(*args: object) -> None:
        raise AssertionError("a file of the same bytes was parsed again")
    with monkeypatch.context() as patched:  # neither the clock detected again nor any file parsed
        patched.setattr(importer._Importer, "_records", never)
        patched.setattr(importer._Importer, "detect", never)
        same = import_takeout(target, store, BERLIN)
    assert same.unchanged_files == files
    assert (same.counts.new, same.counts.changed, same.counts.deleted, same.counts.days) == (0, 0, 0, set())
    assert {k: (v.files, v.records, v.days) for k, v in same.kinds.items()} == \
        {k: (v.files, v.records, v.days) for k, v in first.kinds.items()}
    assert (same.clock.intraday, same.clock.method, same.weight_unit) == (first.clock.intraday, first.clock.method, "lb")

    # one file changed: that file alone is read (a step more in its first reading)
    steps = next((target / "Takeout/Google\u00a0Health/Physical Activity_GoogleData").glob("steps_*.csv"))
    header, row, *rest = steps.read_text().splitlines()
    stamp, count, source = row.split(",")
    steps.write_text("\n".join([header, f"{stamp},{int(count) + 1},{source}", *rest]) + "\n")
    changed = import_takeout(target, store, BERLIN)
    assert changed.unchanged_files == files - 1
    assert (changed.counts.new, changed.counts.changed, changed.counts.deleted) == (0, 1, 0)
    # another zone: the same bytes read otherwise, every file read again
    moved = import_takeout(target, store, ZoneInfo("Asia/Tokyo"))
    assert moved.unchanged_files == 0 and moved.counts.changed > 0


def test_googles_nightly_files_in_their_readmes_shapes(tmp_path: Path) -> None:
    # Headers as Google's `*_readme.txt` texts name them (public repositories hold these READMEs; the
    # rows are ours): single files and dated ones, a date, a wall-clock time and a UTC instant.
    breathing = ",".join(f"{stage} sleep stats - {what}" for stage in ("deep", "light", "rem", "full")
                         for what in ("milli breaths per minute", "standard deviation milli breaths per minute",
                                      "signal to noise"))
    archive = _zip(tmp_path / "takeout.zip", {
        f"{GH}/daily_heart_rate_variability.csv": "timestamp,average heart rate variability milliseconds,"
        "non rem heart rate beats per minute,entropy,deep sleep root mean square of successive differences milliseconds,"
        "data source\n2026-05-27,41.5,55,2.9,48.2,Google Health App\n2026-05-28T00:00:00,43.25,54,2.8,50.1,Google Health App\n",
        f"{GH}/daily_respiratory_rate.csv": "timestamp,breaths per minute,data source\n2026-05-27,14.8,Google Health App\n",
        # one sleep ending 22:30Z: the 28th in Tokyo; the 27th has the daily file's value, which wins
        f"{GH}/respiratory_rate_sleep_summary_2026-05-01.csv": f"timestamp,{breathing},data source\n"
        f"2026-05-27T22:30:00Z,{','.join(['15250', '800', '20.1'] * 4)},Pixel Watch\n"
        f"2026-05-27T06:30:00Z,{','.join(['13000', '800', '20.1'] * 4)},Pixel Watch\n",
        f"{GH}/daily_sleep_temperature_derivations.csv": "timestamp,nightly temperature celsius,baseline temperature celsius,"
        "relative nightly stddev 30d celsius,data source\n2026-05-28,34.31,34.2,0.4,Google Health App\n",
        f"{GH}/daily_vo2_max.csv": "timestamp,daily vo2 max value,data source\n2026-05-28,44.7,Google Health App\n",
        f"{GH}/daily_oxygen_saturation_2026-05-01.csv": "timestamp,average percentage,data source\n2026-05-28,96.4,Pixel Watch\n",
        f"{GH}/height.csv": "timestamp,height millimeters,data source\n2026-05-27T06:00:00Z,1765,Fitbit App\n",
        "Takeout/Google\u00a0Health/Body Temperature_GoogleData/body_temperature_2026-05-01.csv":
            "timestamp,temperature celsius,data source\n2026-05-27T20:10:00Z,37.2,Google Health App\n"})
    store = RawStore(tmp_path / "raw.sqlite")
    summary = import_takeout(archive, store, ZoneInfo("Asia/Tokyo"))
    assert summary.failed == [] and summary.skipped == 0
    with duckdb.connect() as conn:
        for table in ("daily_vitals", "body_measurements"):
            rebuild_table(conn, store, TABLES[table], date(2026, 5, 20), date(2026, 5, 31), timezone="Asia/Tokyo")
        vitals = conn.execute("SELECT day, hrv_ms, spo2_pct, respiratory_rate_brpm, temperature_deviation_c, skin_temp_c, "
                              "vo2_max FROM daily_vitals ORDER BY day").fetchall()
        height = conn.execute("SELECT measured_at, day, metric, value, unit FROM body_measurements "
                              "ORDER BY measured_at").fetchall()
    assert vitals == [(date(2026, 5, 27), 41.5, None, 14.8, None, None, None),
                      (date(2026, 5, 28), 43.25, 96.4, 15.25, 0.11, 34.31, 44.7)]
    assert [(at.astimezone(timezone.utc), *rest) for at, *rest in height] == [
        (datetime(2026, 5, 27, 6, tzinfo=timezone.utc), date(2026, 5, 27), "height", 1.765, "m"),
        # a thermometer's reading, not the night's skin: a body measurement, on Tokyo's calendar
        (datetime(2026, 5, 27, 20, 10, tzinfo=timezone.utc), date(2026, 5, 28), "body_temperature", 37.2, "degC")]
    bad = _zip(tmp_path / "bad.zip", {f"{GH}/daily_vo2_max.csv": "timestamp,daily vo2 max value\nyesterday,44.7\n"})
    assert import_takeout(bad, RawStore(tmp_path / "bad.sqlite"), ZoneInfo("UTC")).failed == [
        "Takeout/Google Health/Physical Activity_GoogleData/daily_vo2_max.csv: a timestamp is neither a date nor an ISO "
        "time ('yesterday')"]
