"""One impossible value per provider never stops the pipeline.

The sandbox's `implausible_values` switch makes each provider report one value no body produces,
on the world's `implausible_day()` (7 November here): Oura a sleep average heart rate of 4.25 (its
own documentation's example), Google a heart-rate sample of 400 bpm, Withings a weigh-in of 0 kg,
Hevy an RPE of 45. A full run lands, models and exports; each value is kept out of its tidy row,
listed in `rejected_values` and reported by a warning check; VictoriaMetrics holds exactly the
tidy tables.
"""

from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.pipeline.build import build_definitions
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.hevy.sandbox import data as hevy_data
from health_pipeline.sources.oura.sandbox import data as oura_data
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY
from health_pipeline_tests.export_oracle import assert_exact
from health_pipeline_tests.tidy_setup import checks_of

START = date(2026, 11, 1)
BAD_DAY = date(2026, 11, 7)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    world = SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW), implausible_values=True)
    with sandbox_for(world) as running:
        yield running


def test_a_run_with_one_impossible_value_per_provider_lands_models_and_exports(
    tmp_path: Path, sandbox: Sandbox, victoriametrics: LocalVictoriaMetrics
) -> None:
    world = sandbox.world
    assert world.implausible_day() == BAD_DAY
    config = write_sandbox_config(tmp_path / "health-pipeline.toml",
                                  sandbox_config_text(sandbox, START, TIMEZONE, "me", vm_url=victoriametrics.url))
    defs = build_definitions(config)
    assets = list(defs.assets or [])
    with dg.instance_for_test() as instance:
        result = dg.materialize(assets, instance=instance, resources=dict(defs.resources or {}), raise_on_error=False,
                                tags={"dagster/asset_partition_range_start": START.isoformat(),
                                      "dagster/asset_partition_range_end": TODAY.isoformat()})
    assert result.success, [e.step_failure_data.error for e in result.get_step_failure_events()]
    assert result.asset_materializations_for_node("export_victoriametrics")  # the export ran

    night = next(d for d in oura_data.sleep(world, BAD_DAY) if d["type"] == "long_sleep")
    [group] = [g.group for g in withings_data.measure_groups(world, BAD_DAY) if g.group["grpid"] % 10 == 1]
    workout_day = hevy_data.implausible_workout_day(world)
    assert workout_day is not None and START <= workout_day <= BAD_DAY
    [workout] = [w for w in sandbox.hevy.live_workouts() if w["start_time"].startswith(workout_day.isoformat())]
    last_set = len(workout["exercises"][0]["sets"]) - 1
    noon = datetime(2026, 11, 7, 11, 0, tzinfo=timezone.utc)  # 12:00 in Berlin
    weighed = datetime.fromtimestamp(group["date"], timezone.utc)
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        rejected = conn.execute("SELECT provider, table_name, day, key, column_name, value, rule, raw_record, action "
                                "FROM rejected_values ORDER BY provider").fetchall()
        assert conn.execute("SELECT avg_hr_bpm, lowest_hr_bpm FROM sleep_sessions WHERE sleep_id = ?",
                            [night["id"]]).fetchall() == [(None, float(night["lowest_heart_rate"]))]
        assert conn.execute("SELECT count(*) FROM heart_rate WHERE provider = 'fitbit' AND ts = ?", [noon]).fetchall() == [(0,)]
        assert conn.execute("SELECT count(*) FROM heart_rate WHERE provider = 'fitbit' AND day = ?",
                            [BAD_DAY]).fetchall()[0][0] > 1000  # only that one sample is gone
        assert conn.execute("SELECT metric FROM body_measurements WHERE source_id = ? AND metric = 'weight'",
                            [str(group["grpid"])]).fetchall() == []
        assert conn.execute("SELECT count(*) FROM body_measurements WHERE source_id = ?",
                            [str(group["grpid"])]).fetchall() == [(25,)]  # the rest of the weigh-in stays
    assert rejected == [
        ("fitbit", "heart_rate", BAD_DAY, f"ts={noon:%Y-%m-%d %H:%M:%S}+00", "bpm", "400.0", "bpm 25-250 bpm",
         "heart-rate/2026-11-07", "dropped"),
        ("hevy", "workout_sets", workout_day, f"workout_id={workout['id']}, exercise_index=0, set_index={last_set}", "rpe",
         "45.0", "RPE 1-10", f"workouts/{workout['id']}", "nulled"),
        ("oura", "sleep_sessions", BAD_DAY, f"sleep_id={night['id']}", "avg_hr_bpm", "4.25", "avg_hr_bpm 25-250 bpm",
         f"sleep/{night['id']}", "nulled"),
        ("polar", "heart_rate", BAD_DAY, f"ts={noon:%Y-%m-%d %H:%M:%S}+00", "bpm", "400.0", "bpm 25-250 bpm",
         f"continuous_heart_rate@{BAD_DAY}", "dropped"),  # the watch's glitch, as the tracker's
        ("whoop", "daily_activity", BAD_DAY, f"day={BAD_DAY}", "resting_hr_bpm", "400.0", "resting_hr_bpm 25-250 bpm",
         f"recoveries@{BAD_DAY}", "nulled"),
        ("whoop", "daily_vitals", BAD_DAY, f"day={BAD_DAY}", "resting_hr_bpm", "400.0", "resting_hr_bpm 25-250 bpm",
         f"recoveries@{BAD_DAY}", "nulled"),
        ("withings", "body_measurements", BAD_DAY, f"measured_at={weighed:%Y-%m-%d %H:%M:%S}+00, metric=weight", "value",
         "0.0", "weight 20-300 kg", f"measures/{group['grpid']}", "dropped"),
    ]
    evaluations = checks_of(result)
    warned = {table for (table, check), e in evaluations.items() if check == "plausible_values" and not e.passed}
    assert warned == {"heart_rate", "workout_sets", "sleep_sessions", "body_measurements", "daily_activity", "daily_vitals"}
    assert all(e.severity == dg.AssetCheckSeverity.WARN for (t, c), e in evaluations.items() if c == "plausible_values")
    assert all(e.passed for (t, c), e in evaluations.items() if c in ("unique_grain", "no_future_days"))
    held = assert_exact(config)  # VictoriaMetrics holds exactly the tidy tables: none of the four values
    heart = [v for key, samples in held.items() if key.startswith("__name__=health_heart_rate_bpm,") for v in samples.values()]
    assert heart and max(heart) < 250
