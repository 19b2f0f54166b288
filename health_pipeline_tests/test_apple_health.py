"""The Apple Health importer: every format the Health app has written reads the same facts; an import
models the sandbox world exactly with each minute counted once and the synced apps' copies left out;
re-import is a no-op and a later export changes only its new days; bad files fail cleanly."""

import io
import sqlite3
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, replace
from datetime import date, timedelta, timezone
from pathlib import Path
from xml.etree import ElementTree

import dagster as dg
import duckdb
import orjson
import pytest

from health_pipeline.cli import main
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.naming import DAYS_TAG, MODELS_TAG
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.follow import FOLLOW_JOB
from health_pipeline.pipeline.partitions import daily_partitions
from health_pipeline.registry import load_config
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sources.apple_health.archive import ExportError, locate
from health_pipeline.sources.apple_health.importer import import_export
from health_pipeline.sources.apple_health.reader import ExportReader, Part, resource_of
from health_pipeline.sources.apple_health.sandbox import generate as gen
from health_pipeline.sources.apple_health.settings import AppleHealthConfig
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY
from health_pipeline_tests.export_oracle import assert_exact

FIXTURES = Path(__file__).parent / "fixtures" / "apple_health"


def read_parts(data: bytes) -> tuple[list[Part], ExportReader]:
    parts: list[Part] = []
    reader = ExportReader(parts.append)
    reader.read(io.BytesIO(data), "export.xml", lambda done: None)
    return parts, reader


def grouped(parts: list[Part]) -> dict[tuple[str, str], list[dict]]:
    found: dict[tuple[str, str], list[dict]] = {}
    for resource, day, records, _ in parts:
        found.setdefault((resource, day), []).extend(orjson.loads(records))
    return found


# -- reading (fast) ---------------------------------------------------------------------------------


def test_a_version_13_export_is_filed_by_type_and_each_records_own_day() -> None:
    parts, reader = read_parts((FIXTURES / "export_v13_fr.xml").read_bytes())
    found = grouped(parts)
    assert sorted(found) == sorted([
        ("activity_summary", "2016-11-15"), ("active_energy_burned", "2021-11-30"),
        ("blood_pressure_diastolic", "2021-02-01"), ("blood_pressure_systolic", "2021-02-01"),
        ("correlation_blood_pressure", "2021-02-01"), ("heart_rate", "2021-11-30"),
        ("heart_rate_variability_sdnn", "2021-01-01"), ("low_heart_rate_event", "2021-03-02"),
        ("sleep_analysis", "2021-01-01"), ("sleep_duration_goal", "2021-01-02"), ("step_count", "2021-11-30"),
        ("workout", "2016-11-14"), ("workout", "2023-05-01")])
    stats = reader.stats
    assert (stats.version, stats.locale, stats.export_date) == ("13", "en_FR", "2023-05-13 10:36:12 +0200")
    assert stats.not_imported == Counter({"ClinicalRecord": 1})  # `Me` (date of birth) is not kept either
    # The correlation's records are its children: the blood pressure is counted once at the top level.
    assert len(found[("blood_pressure_systolic", "2021-02-01")]) == 1
    [bp] = found[("correlation_blood_pressure", "2021-02-01")]
    assert [r["type"] for r in bp["records"]] == ["HKQuantityTypeIdentifierBloodPressureSystolic",
                                                  "HKQuantityTypeIdentifierBloodPressureDiastolic"]
    assert bp["metadata"] == [["HKWasUserEntered", "0"]]
    [hr] = found[("heart_rate", "2021-11-30")]
    assert hr == {"sourceName": "test-device", "sourceVersion": "4.3.1",
                  "device": "<<HKDevice: 0x282a45810>, name:Apple Watch, manufacturer:Apple, model:Watch, "
                            "hardware:Watch2,4, software:4.3.1>",
                  "unit": "count/min", "creationDate": "2021-11-30 02:47:35 +0200",
                  "startDate": "2021-11-30 02:28:55 +0200", "endDate": "2021-11-30 02:28:55 +0200", "value": "72",
                  "metadata": [["HKMetadataKeyHeartRateMotionContext", "0"]]}
    [hrv] = found[("heart_rate_variability_sdnn", "2021-01-01")]
    assert hrv["beats"] == [["62", "00:20:37,80"], ["59", "00:20:38,82"]]  # the locale's decimal comma, kept
    # The old workout: totals as attributes, its route's points inline; the new: statistics and a file.
    old, new = found[("workout", "2016-11-14")][0], found[("workout", "2023-05-01")][0]
    assert old["totalEnergyBurned"] == "48.74499999999999" and old["locations"][0]["speed"] == "2.9"
    assert [s["sum"] for s in new["statistics"] if "sum" in s] == ["560.5", "2.9"]
    assert new["events"][0]["type"] == "HKWorkoutEventTypePause"
    assert new["routes"] == ["/workout-routes/route_2023-05-01_7.01pm.gpx"]
    [event] = found[("low_heart_rate_event", "2021-03-02")]
    assert "value" not in event and event["metadata"] == [["HKHeartRateEventThreshold", "40 count/min"]]


def test_a_sleep_sample_counts_towards_the_morning_after_on_its_own_clock() -> None:
    xml = b"""<?xml version="1.0"?><HealthData locale="en_US"><ExportDate value="2026-01-10 10:00:00 +0100"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" startDate="2026-01-04 23:10:00 +0100" endDate="2026-01-04 23:55:00 +0100" value="HKCategoryValueSleepAnalysisAsleepCore"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" startDate="2026-01-05 00:05:00 +0100" endDate="2026-01-05 06:40:00 +0100" value="HKCategoryValueSleepAnalysisAsleepDeep"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" startDate="2026-01-05 14:00:00 +0100" endDate="2026-01-05 14:30:00 +0100" value="HKCategoryValueSleepAnalysisAsleepCore"/>
 <Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="W" startDate="2026-01-05 22:30:00 +0100" endDate="2026-01-06 03:00:00 +0100" value="HKCategoryValueSleepAnalysisAsleepCore">
  <MetadataEntry key="HKTimeZone" value="America/New_York"/>
 </Record>
</HealthData>"""
    found = grouped(read_parts(xml)[0])
    # Both halves of the night, before and after midnight, are the 5th's; the afternoon nap too; a sleep
    # that ended at 03:00 in Berlin's clock but was lived in New York (`HKTimeZone`) ended there on the 5th.
    assert {day: len(records) for (_, day), records in found.items()} == {"2026-01-05": 4}


@pytest.mark.parametrize("variant", ["early_no_dtd", "broken_dtd", "control_character", "version_13"])
def test_every_format_the_health_app_wrote_reads_the_same_records(variant: str) -> None:
    world = SandboxWorld(seed=3, days=6, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    spec = gen.ExportSpec(copies=False)
    changed = {"early_no_dtd": replace(spec, version=0), "broken_dtd": replace(spec, broken_dtd=True),
               "control_character": replace(spec, control_char=True), "version_13": replace(spec, version=13)}[variant]

    def counts(s: gen.ExportSpec) -> dict[tuple[str, str], int]:
        out = io.StringIO()
        gen.write_xml(world, s, out)
        return {key: len(records) for key, records in grouped(read_parts(out.getvalue().encode())[0]).items()}

    assert counts(changed) == counts(spec)
    assert sum(counts(spec).values()) == 2900  # five days and today's first hours: nothing lost either


def test_a_broken_dtd_is_what_a_strict_parser_refuses() -> None:
    """The fixture for the iOS 16 bug is real in kind: the standard library's parser fails on it."""
    world = SandboxWorld(seed=3, days=3, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    out = io.StringIO()
    gen.write_xml(world, gen.ExportSpec(broken_dtd=True), out)
    with pytest.raises(ElementTree.ParseError):
        ElementTree.fromstring(out.getvalue().encode())


def test_resource_names_are_the_types_in_snake_case() -> None:
    assert resource_of("HKQuantityTypeIdentifierHeartRateVariabilitySDNN") == "heart_rate_variability_sdnn"
    assert resource_of("HKQuantityTypeIdentifierVO2Max") == "vo2_max"
    assert resource_of("HKCategoryTypeIdentifierSleepAnalysis") == "sleep_analysis"
    assert resource_of("HKDataTypeSleepDurationGoal") == "sleep_duration_goal"
    assert resource_of("HKCorrelationTypeIdentifierBloodPressure", True) == "correlation_blood_pressure"


def test_sources_rank_by_kind_name_first_and_synced_apps_are_out() -> None:
    settings = AppleHealthConfig()
    assert [settings.rank(s) for s in (gen.WATCH, gen.PHONE, gen.HEALTH, gen.OMRON, gen.OURA, gen.HEALTH_MATE)] == \
        [0, 1, 2, 2, None, None]
    mine = AppleHealthConfig(source_priority=["OMRON connect", "phone", "watch", "apps"], exclude_apps=["oura"])
    assert [mine.rank(s) for s in (gen.OMRON, gen.PHONE, gen.WATCH, gen.HEALTH_MATE, "Oura Ring")] == [0, 1, 2, 3, None]
    with pytest.raises(ValueError, match="must name apps"):
        AppleHealthConfig(source_priority=["watch", "phone"])


# -- files (fast: a raw store file, no Dagster) -------------------------------------------------------


def small_world() -> SandboxWorld:
    return SandboxWorld(seed=5, days=12, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))


def test_the_xml_is_found_by_content_in_a_zip_a_mac_rezipped_with_a_localised_name(tmp_path: Path) -> None:
    path = gen.write_export(small_world(), gen.ExportSpec(xml_name="导出.xml", macosx=True), tmp_path / "export.zip")
    located = locate(path)
    assert located.name == "apple_health_export/导出.xml"
    assert located.side_files == Counter({"export_cda.xml": 1, "clinical-records": 1, "electrocardiograms": 1,
                                          "workout-routes": sum(1 for w in gen.workouts(small_world(), gen.ExportSpec())
                                                                if w.km is not None)})
    folder = gen.write_export(small_world(), gen.ExportSpec(), tmp_path / "unpacked")
    assert locate(folder).name == "apple_health_export/export.xml"
    assert locate(folder / "apple_health_export" / "export.xml").name == "export.xml"


@pytest.mark.parametrize("damage", ["truncated_xml", "truncated_zip", "not_an_export"])
def test_a_damaged_export_is_one_line_naming_it_and_lands_nothing(tmp_path: Path, damage: str) -> None:
    path = gen.write_export(small_world(), gen.ExportSpec(), tmp_path / "export.zip")
    if damage == "truncated_xml":
        with zipfile.ZipFile(path) as archive:
            data = archive.read("apple_health_export/export.xml")
        path = tmp_path / "export.xml"
        path.write_bytes(data[: len(data) * 2 // 3])
        message = r"export.xml: ends before the export does \(truncated\) at line \d+"
    elif damage == "truncated_zip":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        message = r"export.zip: the zip is broken or truncated"
    else:
        path = tmp_path / "notes.xml"
        path.write_text("<?xml version='1.0'?><notes/>")
        message = r"notes.xml: not an Apple Health export"
    store = RawStore(tmp_path / "raw.sqlite")
    with pytest.raises(ExportError, match=message) as raised:
        import_export(path, store, AppleHealthConfig(), lambda *a: None)
    assert "\n" not in str(raised.value)
    assert store.resource_summary() == []  # nothing landed
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".apple-health-")] == []  # the staging is gone


def _oura_days(raw: Path) -> dict[tuple[str, str], int]:
    """The type-days with Oura's copies in them."""
    with sqlite3.connect(raw) as conn:
        return {(resource, day): 1 for resource, day in conn.execute(
            "SELECT resource, day FROM records WHERE provider = 'apple_health' AND payload LIKE '%\"name\":\"Oura\"%'")}


def test_the_same_export_twice_changes_nothing_and_a_later_one_only_its_new_days(tmp_path: Path) -> None:
    early = small_world()
    later = SandboxWorld(seed=5, days=14, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW + timedelta(days=2)))
    store = RawStore(tmp_path / "raw.sqlite")
    first = import_export(gen.write_export(early, gen.ExportSpec(), tmp_path / "a.zip"), store, AppleHealthConfig(),
                          lambda *a: None)
    assert first.counts.new == sum(d[2] for d in first.days.values()) and first.counts.changed == 0
    again = import_export(tmp_path / "a.zip", store, AppleHealthConfig(), lambda *a: None)
    assert again.same_as_last and "nothing read, nothing changed" in again.lines()[0]  # recognised, not parsed
    assert (again.counts.new, again.counts.changed, again.counts.deleted, again.counts.days) == (0, 0, 0, set())
    reranked = import_export(tmp_path / "a.zip", store, AppleHealthConfig(exclude_apps=["Health Mate"]),
                             lambda *a: None)  # Oura's copies now count: the days they are on change, no others
    assert not reranked.same_as_last and reranked.counts.new == 0 and reranked.counts.deleted == 0
    assert reranked.counts.changed == len(_oura_days(tmp_path / "raw.sqlite"))  # type-days
    import_export(tmp_path / "a.zip", store, AppleHealthConfig(), lambda *a: None)
    newer = import_export(gen.write_export(later, gen.ExportSpec(), tmp_path / "b.zip"), store, AppleHealthConfig(),
                          lambda *a: None)
    new_days = {(TODAY + timedelta(days=i)).isoformat() for i in (0, 1)}  # the days the later export adds
    assert newer.counts.changed == 0 and newer.counts.deleted == 0
    assert newer.counts.days - new_days <= {TODAY.isoformat() , (TODAY + timedelta(days=2)).isoformat()}
    assert new_days <= newer.counts.days


# -- importing, modelling, exporting (slow: Dagster runs) ----------------------------------------------


@dataclass
class Imported:
    world: SandboxWorld
    spec: gen.ExportSpec
    root: Path
    config: Path
    output: str


def tidy(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "health.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    """A 58-day export (a trip to New York, the autumn clock change, a day without the Watch; stages for
    its last 40 nights; weight in lb; the apps' copies in it) imported by a person with no API source and
    no start_date at all, exporting to VictoriaMetrics."""
    root = tmp_path_factory.mktemp("apple")
    world = SandboxWorld(seed=24, days=58, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))
    assert any(world.travelling(d) for d in gen.days_of(world, gen.ExportSpec()))
    spec = gen.ExportSpec(stages_from=world.first_day() + timedelta(days=18), weight_unit="lb", macosx=True)
    path = gen.write_export(world, spec, root / "export.zip")
    with LocalVictoriaMetrics(root / "vm") as vm:
        config = root / "health-pipeline.toml"
        config.write_text(f'[app]\ntimezone = "{TIMEZONE}"\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\n\n'
                          f'[victoriametrics]\nenabled = true\nurl = "{vm.url}"\n', encoding="utf-8")
        printed = io.StringIO()
        with redirect_stdout(printed):
            assert main(["--config", str(config), "import", "apple-health", str(path)]) == 0
        yield Imported(world, spec, root, config, printed.getvalue())


def export_days(imported: Imported) -> list[date]:
    return list(gen.days_of(imported.world, imported.spec))


def test_an_import_models_every_day_it_brings_without_a_start_date(imported: Imported) -> None:
    first = imported.world.first_day()
    assert first > date(2024, 1, 1)  # later than the default start: the partitions follow the export
    assert daily_partitions(load_config(imported.config)).start.date() == first
    days = [d for (d,) in tidy(imported.root, "SELECT DISTINCT day FROM daily_activity ORDER BY 1")]
    assert days == export_days(imported)
    # The summary names what stayed out and why; the tidy run modelled only the days the import changed.
    assert "kept out of the apple_health rows (their source is synced itself; `exclude_apps`): Health Mate" \
        in imported.output and "Oura" in imported.output
    assert f"changed_days={first.isoformat()}.." in imported.output


def test_each_minute_of_activity_is_counted_once_and_the_apps_copies_never(imported: Imported) -> None:
    rows = {r[0]: r[1:] for r in tidy(imported.root, "SELECT day, steps, distance_m, active_kcal, total_kcal, floors, "
                                                     "resting_hr_bpm FROM daily_activity WHERE provider = 'apple_health'")}
    for day in export_days(imported):
        truth = gen.day_truth(imported.world, day, imported.spec)
        steps, distance_m, active, total, floors, resting = rows[day]
        assert steps == truth.steps, day  # the phone's own count of the Watch's walks adds nothing
        assert distance_m == (pytest.approx(truth.distance_m, rel=1e-9) if truth.distance_m is not None else None), day
        assert active == (pytest.approx(truth.active_kcal, rel=1e-9) if truth.active_kcal is not None else None), day
        if truth.active_kcal is not None and truth.basal_kcal is not None:
            assert total == pytest.approx(truth.active_kcal + truth.basal_kcal, rel=1e-9), day
        assert floors == truth.floors and resting == truth.resting_hr, day
    unworn = [d for d in export_days(imported) if not imported.world.plan(d).worn]
    assert unworn, "the world has a day without the Watch: the phone alone counts it"


def test_heart_rate_is_every_watch_reading_on_its_own_clocks_day(imported: Imported) -> None:
    stamp = gen.Stamper(imported.world)
    expected = sorted((b.at, float(b.bpm), date.fromisoformat(stamp(b.at)[:10]))
                      for d in export_days(imported) for b in gen.tracker.heart_rate(imported.world, d, 300))
    got = tidy(imported.root, "SELECT ts, bpm, day FROM heart_rate WHERE provider = 'apple_health' ORDER BY ts")
    assert [(ts.astimezone(timezone.utc), bpm, day) for ts, bpm, day in got] == expected  # Oura's copies: none


def test_a_night_is_one_session_with_ios_16_stages_or_the_older_asleep_time(imported: Imported) -> None:
    rows = {r[0]: r[1:] for r in tidy(imported.root, "SELECT day, start_ts, end_ts, time_in_bed_s, asleep_s, deep_s, "
                                                     "light_s, rem_s, awake_s, is_main FROM sleep_sessions "
                                                     "WHERE provider = 'apple_health'")}
    nights = gen.nights(imported.world, imported.spec)
    assert sorted(rows) == [n.day for n in nights]
    for n in nights:
        start, end, in_bed, asleep, deep, light, rem, awake, main_sleep = rows[n.day]
        s = n.seconds
        assert (start, end, in_bed, main_sleep) == (n.bed, n.wake, int((n.wake - n.bed).total_seconds()), True)
        assert asleep == s["deep"] + s["light"] + s["rem"], n.day
        if n.day >= imported.spec.stages_from:
            assert (deep, light, rem, awake) == (s["deep"], s["light"], s["rem"], s["awake"]), n.day
        else:
            assert (deep, light, rem, awake) == (None, None, None, None), n.day


def test_body_measurements_in_kg_and_percent_the_scale_apps_copies_left_out(imported: Imported) -> None:
    got = tidy(imported.root, "SELECT measured_at, metric, value, unit, source_id FROM body_measurements "
                              "WHERE provider = 'apple_health' ORDER BY measured_at, metric")
    world = imported.world
    expected = []
    for d in export_days(imported):
        w = gen.tracker.weigh_in(world, d)
        if w is not None:
            pounds = float(gen._fmt(w.kg * gen.LB_PER_KG))
            expected += [(w.at, "fat_ratio", float(gen._fmt(w.fat_pct / 100)) * 100, "%"),
                         (w.at, "weight", pounds * 0.45359237, "kg")]
        bp = gen.blood_pressure(world, d)
        if bp is not None:
            expected += [(bp[0], "diastolic_bp", float(bp[2]), "mmHg"), (bp[0], "systolic_bp", float(bp[1]), "mmHg")]
        night = gen.night_for(world, d)
        if night is not None:
            expected.append((night.wake - timedelta(hours=2), "spo2", float(gen._fmt(gen.spo2(world, night) / 100)) * 100, "%"))
        if d.day == 15:
            celsius = 36.6 + (d.month % 3) / 10
            expected.append((world.local_midnight(d).astimezone(timezone.utc) + timedelta(hours=7, minutes=30),
                             "body_temperature", (float(gen._fmt(celsius * 9 / 5 + 32)) - 32) * 5 / 9, "degC"))
    expected.append((world.local_midnight(world.first_day()).astimezone(timezone.utc) + timedelta(hours=9),
                     "height", 1.8, "m"))
    expected.sort(key=lambda e: (e[0], e[1]))
    assert [(at.astimezone(timezone.utc), metric, pytest.approx(value, rel=1e-9), unit)
            for at, metric, value, unit, _ in got] == expected
    assert not [r for r in got if r[4].startswith(gen.HEALTH_MATE)]


def test_vitals_and_workouts_from_the_watch(imported: Imported) -> None:
    world = imported.world
    vitals = {r[0]: r[1:] for r in tidy(imported.root, "SELECT day, hrv_sdnn_ms, hrv_ms, spo2_pct, respiratory_rate_brpm, "
                                                       "vo2_max FROM daily_vitals WHERE provider = 'apple_health'")}
    for night in gen.nights(world, imported.spec):
        sdnn, rmssd, spo2, resp, _ = vitals[night.day]
        assert (sdnn, rmssd, resp) == (gen.hrv_sdnn(world, night), None, gen.respiratory_rate(world, night))
        assert spo2 == pytest.approx(gen.spo2(world, night))
    stamp = gen.Stamper(world)  # 18:00 in New York on a trip is already the next day at home: its own clock's
    mondays = {date.fromisoformat(stamp(world.local_midnight(d).astimezone(timezone.utc) + timedelta(hours=18))[:10]):
               gen.vo2_max(world, d) for d in export_days(imported) if d.weekday() == 0}
    assert {d: row[4] for d, row in vitals.items() if row[4] is not None} == mondays
    got = tidy(imported.root, "SELECT start_ts, end_ts, activity, duration_s, active_kcal, distance_m, avg_hr_bpm "
                              "FROM workouts WHERE provider = 'apple_health' ORDER BY start_ts")
    names = {"Running": "running", "Cycling": "cycling", "TraditionalStrengthTraining": "strength_training"}
    expected = [(w.start, w.end, names[w.activity], w.duration_s, pytest.approx(w.kcal),
                 pytest.approx(w.km * 1000) if w.km is not None else None, pytest.approx(w.avg_hr, abs=1e-6))
                for w in gen.workouts(world, imported.spec)]
    assert [(s.astimezone(timezone.utc), e.astimezone(timezone.utc), *rest) for s, e, *rest in got] == expected


def test_victoriametrics_holds_exactly_what_the_tables_hold(imported: Imported) -> None:
    held = assert_exact(load_config(imported.config))
    assert any("apple_health" in str(key) for key in held)


def test_importing_the_same_export_again_changes_and_models_nothing(imported: Imported) -> None:
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert main(["--config", str(imported.config), "import", "apple-health", str(imported.root / "export.zip")]) == 0
    assert "nothing changed: no day to model again" in printed.getvalue()
    assert "records_new=0, records_changed=0" in printed.getvalue()


def test_an_import_run_from_the_ui_is_followed_over_the_days_it_changed(tmp_path: Path) -> None:
    """Materializing import_apple_health (as the UI's launchpad does) is followed by one model-and-export run:
    one partition, the changed days in its tags, only apple_health re-modelled."""
    world = small_world()
    path = gen.write_export(world, gen.ExportSpec(), tmp_path / "export.zip")
    config_path = tmp_path / "health-pipeline.toml"
    config_path.write_text(f'[app]\ntimezone = "{TIMEZONE}"\nraw_db = "raw.sqlite"\nduckdb = "health.duckdb"\n',
                           encoding="utf-8")
    config = load_config(config_path)
    with dg.instance_for_test() as instance:
        defs = build_definitions(config)
        landed = dg.materialize(list(defs.assets or []), selection=["import_apple_health"], instance=instance,
                                resources=dict(defs.resources or {}),
                                run_config={"ops": {"import_apple_health": {"config": {"path": str(path)}}}})
        assert landed.success
        defs = build_definitions(config)  # as the code server does on a reload: the partitions reach back
        sensor = defs.resolve_sensor_def("tidy_follows_raw")
        success = next(e for e in landed.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
        run = instance.get_run_by_id(landed.run_id)
        request = sensor(dg.build_run_status_sensor_context("tidy_follows_raw", success, instance, run))
        days = list(gen.days_of(world, gen.ExportSpec()))
        last = max(day for (day,) in _raw_days(tmp_path / "raw.sqlite"))
        assert isinstance(request, dg.RunRequest)
        assert request.tags["dagster/asset_partition_range_start"] == request.tags["dagster/asset_partition_range_end"] \
            == last
        assert request.tags[DAYS_TAG] == f"{days[0].isoformat()}..{last}" and request.tags[MODELS_TAG] == "apple_health"
        followed = defs.resolve_job_def(FOLLOW_JOB).execute_in_process(instance=instance, tags=request.tags)
        assert followed.success
        assert instance.get_materialized_partitions(dg.AssetKey("daily_activity")) == {last}
    modelled = tidy(tmp_path, "SELECT DISTINCT day FROM daily_activity WHERE provider = 'apple_health' ORDER BY 1")
    assert [d for (d,) in modelled] == days


def _raw_days(raw: Path) -> list[tuple[str]]:
    with sqlite3.connect(raw) as conn:
        return conn.execute("SELECT DISTINCT day FROM records WHERE provider = 'apple_health' AND day IS NOT NULL").fetchall()
