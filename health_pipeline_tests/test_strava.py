"""Strava end to end against its fake over HTTP: the activities' cursor and its weekly re-listing
(late uploads, renames, deletions), each activity's detail, laps, zones and streams as follow-ups, the
tidy rows and VictoriaMetrics samples exactly as the fake's data says, and a backfill bigger than a
day's read quota that resumes across runs with nothing lost or fetched twice.

One world (seed 7, Europe/Berlin, clock frozen on 2026-11-10 12:00 UTC), 60 days.
"""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.cli import main
from health_pipeline.config import Config
from health_pipeline.dev.demo import write_sandbox_config
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.providers.errors import ReauthorizationNeeded
from health_pipeline.registry import ALL_TABLES
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sources import strava
from health_pipeline.sources.strava.client import ApplicationInactive
from health_pipeline.sources.strava.sandbox import FAKE, READ_PER_DAY
from health_pipeline.sources.strava.sandbox import data as truth
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY
from health_pipeline_tests.export_oracle import held
from health_pipeline_tests.tidy_setup import run_range

pytestmark = pytest.mark.slow

FIRST = TODAY - timedelta(days=59)
FOLLOW_UPS = ("activity_detail", "activity_laps", "activity_zones", "activity_streams")


def strava_config(path: Path, sandbox: Sandbox, extra: str = "streams = true\n", vm_url: str | None = None,
                  read_per_day: int | None = None) -> Config:
    """A config with Strava alone enabled against the sandbox (streams on), authorised."""
    vm = f'[victoriametrics]\nenabled = true\nurl = "{vm_url}"\n' if vm_url else ""
    section = FAKE.config_text(sandbox.url("strava"), FIRST)
    if read_per_day is not None:
        section = section.replace(f"read_limit_daily = {READ_PER_DAY}", f"read_limit_daily = {read_per_day}")
    return write_sandbox_config(path, (
        f'[app]\nraw_db = "data/raw.sqlite"\nduckdb = "data/health.duckdb"\ntimezone = "{TIMEZONE}"\nuser = "me"\n\n'
        + section + extra + "\n" + vm))


def new_world(days: int = 60) -> SandboxWorld:
    return SandboxWorld(seed=7, days=days, timezone=TIMEZONE, clock=SandboxClock(FROZEN_NOW))


def strava_keys(config: Config, tables: bool = True) -> list[str]:
    keys = [k.to_user_string() for a in build_definitions(config).assets or [] for k in a.keys]
    export = ["export_victoriametrics"] if config.victoriametrics.enabled and tables else []
    return [k for k in keys if k.startswith("strava_") or (tables and k in ALL_TABLES)] + export


def uploaded(world: SandboxWorld) -> list[truth.Activity]:
    """Every activity since start_date on Strava at the world's clock, oldest first."""
    found = []
    day = max(world.first_day(), FIRST)
    while day <= world.today():
        found += [a for a in truth.activities(world, day) if a.uploaded_at <= world.clock.now()]
        day += timedelta(days=1)
    return sorted(found, key=lambda a: a.start)


@dataclass
class Landed:
    world: SandboxWorld
    sandbox: Sandbox
    config: Config
    requests: list

    def rows(self, sql: str) -> list[tuple]:
        with TidyStore(self.config.app.duckdb).connect(read_only=True) as conn:
            return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    world = new_world()
    with sandbox_for(world) as sandbox, LocalVictoriaMetrics(tmp_path_factory.mktemp("vm") / "data") as vm:
        config = strava_config(tmp_path_factory.mktemp("strava") / "health-pipeline.toml", sandbox, vm_url=vm.url)
        sandbox.log.clear()
        with dg.instance_for_test() as instance:
            result = run_range(config, instance, strava_keys(config), TODAY - timedelta(days=6), TODAY)
            assert result.success
        yield Landed(world, sandbox, config, sandbox.log.entries("strava"))


def test_the_first_sync_lists_everything_once_and_fetches_each_follow_up_once(landed: Landed) -> None:
    activities = uploaded(landed.world)
    store = RawStore(landed.config.app.raw_db)
    stored = {r.record_id: r.day for r in store.records("strava", "activities")}
    assert stored == {str(a.id): a.day.isoformat() for a in activities if a.day >= FIRST}
    api = [e for e in landed.requests if "/oauth/" not in e.path]
    kinds = Counter(e.path.rsplit("/", 1)[-1] if not e.path.rsplit("/", 1)[-1].isdigit() else "detail" for e in api)
    # the history since start_date in one page of 200 and the empty page after it; then per activity
    # its detail, laps, zones and streams once (a manual activity has no streams: not asked); the
    # athlete and their zones once each
    manual = [a for a in activities if a.manual]
    assert kinds == {"activities": 2, "detail": len(activities), "laps": len(activities),
                     "zones": len(activities) + 1, "streams": len(activities) - len(manual), "athlete": 1}
    [first_page, end] = [e for e in api if e.path.endswith("/athlete/activities")]
    assert first_page.params["per_page"] == "200" and first_page.params["page"] == "1" and end.params["page"] == "2"
    for resource in FOLLOW_UPS:
        assert {r.record_id for r in store.records("strava", resource)} == set(stored), resource
    assert manual and all(json.loads(r.payload) == {} for r in store.records("strava", "activity_streams")
                          if r.record_id in {str(a.id) for a in manual})  # no streams: 404, kept as none


def test_workouts_keep_calories_and_kilojoules_apart(landed: Landed) -> None:
    expected = []
    for a in uploaded(landed.world):
        summary = landed.sandbox.strava.live_activities()
        [item] = [s for s in summary if s["id"] == a.id]
        sport = {"Run": "running", "Walk": "walking", "WeightTraining": "strength_training", "Yoga": "yoga",
                 "Ride": "cycling"}[a.sport]
        expected.append((str(a.id), a.day, a.start, a.start + timedelta(seconds=a.elapsed_s), sport, item["name"],
                         item["moving_time"], a.kcal or None, item["distance"], item.get("average_heartrate"),
                         item.get("kilojoules")))
    got = landed.rows("SELECT workout_id, day, start_ts, end_ts, activity, title, duration_s, active_kcal, distance_m, "
                      "avg_hr_bpm, work_kj FROM workouts WHERE provider = 'strava' ORDER BY start_ts")
    assert got == expected
    runs = [row for row in got if row[4] == "running"]
    assert runs and all(row[10] is not None and row[7] != round(row[10] / 4.184, 1) for row in runs)


def test_heart_rate_streams_land_second_by_second_and_zones_per_day(landed: Landed) -> None:
    expected_hr, expected_zones = {}, Counter()
    for a in uploaded(landed.world):
        recorded = truth.track(landed.world, a)
        if recorded is None or "heartrate" not in recorded.streams:
            continue
        for t, bpm in zip(recorded.streams["time"], recorded.streams["heartrate"]):
            expected_hr.setdefault(a.start + timedelta(seconds=t), float(bpm))
        for zone in truth.zones(landed.world, a):
            if zone["type"] == "heartrate":
                seconds = [b["time"] for b in zone["distribution_buckets"]]
                for name, part in (("light", seconds[0]), ("moderate", seconds[1]), ("vigorous", seconds[2]),
                                   ("peak", seconds[3] + seconds[4])):
                    expected_zones[(a.day, name)] += part
    got = dict(landed.rows("SELECT ts, bpm FROM heart_rate WHERE provider = 'strava' AND source = 'activity'"))
    assert got == expected_hr
    zones = {(d, z): s for d, z, s in landed.rows("SELECT day, zone, duration_s FROM heart_rate_zones "
                                                   "WHERE provider = 'strava'")}
    assert zones == {k: round(v) for k, v in expected_zones.items()}


def test_victoriametrics_holds_each_workouts_work_and_energy(landed: Landed) -> None:
    samples = held(landed.config, '{__name__="health_workout_active_kcal",provider="strava"}')
    total = {int(ts): value for series in samples.values() for ts, value in series.items()}
    assert total == {int(a.start.timestamp() * 1000): a.kcal for a in uploaded(landed.world) if a.kcal}


def test_the_weekly_relisting_lands_late_uploads_renames_and_deletions(tmp_path: Path) -> None:
    world = new_world(days=70)  # the fake's window slides with its clock: start_date stays inside it
    with sandbox_for(world) as sandbox, dg.instance_for_test() as instance:
        config = strava_config(tmp_path / "health-pipeline.toml", sandbox, extra="")
        keys = strava_keys(config)
        assert run_range(config, instance, keys, TODAY, TODAY).success
        store = RawStore(config.app.raw_db)
        before = {r.record_id for r in store.records("strava", "activities")}
        gone, renamed = sorted(before)[0], sorted(before)[1]
        sandbox.strava.delete(int(gone))
        sandbox.strava.rename(int(renamed), "Renamed by hand")
        late = [a for a in truth.activities(world, TODAY - timedelta(days=1)) + truth.activities(world, TODAY)
                if a.uploaded_at > world.clock.now()]
        world.clock.advance(timedelta(days=8))  # a week on: every late upload is in, and the re-listing is due
        store.land("strava", "activities", [], detail={"relisted_at": "2026-11-01T00:00:00+00:00"})
        sandbox.log.clear()
        assert run_range(config, instance, keys, TODAY, TODAY).success
        rows = {r.record_id: r for r in store.records("strava", "activities", include_deleted=True)}
        assert [k for k, r in rows.items() if r.deleted_at is not None] == [gone]
        assert json.loads(rows[renamed].payload)["name"] == "Renamed by hand"
        assert {str(a.id) for a in late} <= {k for k, r in rows.items() if r.deleted_at is None}
        # the deleted activity's follow-ups are tombstoned; the renamed one's are fetched again, once
        assert all(r.deleted_at is not None for f in ("activity_detail", "activity_laps", "activity_zones")
                   for r in store.records("strava", f, include_deleted=True) if r.record_id == gone)
        details = Counter(e.path.rsplit("/", 1)[-1] for e in sandbox.log.entries("strava")
                          if e.path.rsplit("/", 1)[-1].isdigit())
        assert details[renamed] == 1 and details[gone] == 0
        with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
            assert conn.execute(f"SELECT count(*) FROM workouts WHERE workout_id = '{gone}'").fetchone() == (0,)
            assert conn.execute(f"SELECT title FROM workouts WHERE workout_id = '{renamed}'").fetchone() == (
                "Renamed by hand",)


def test_a_backfill_bigger_than_a_days_quota_resumes_across_runs_without_fetching_twice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = new_world(days=70)  # the fake's window slides with its clock: start_date stays inside it
    with sandbox_for(world) as sandbox, dg.instance_for_test() as instance:
        per_day = 40
        settings = sandbox.strava.settings
        settings.read_per_day, settings.overall_per_day = per_day, 2 * per_day
        config = strava_config(tmp_path / "health-pipeline.toml", sandbox, read_per_day=per_day)
        keys = strava_keys(config, tables=False)
        runs = 0
        while True:
            runs += 1
            result = run_range(config, instance, keys, TODAY, TODAY)
            assert result.success  # a spent quota is not a failure: what landed stays, the rest waits
            left = sum(int(m.metadata["left"].value) for f in FOLLOW_UPS
                       for m in result.asset_materializations_for_node(f"strava_{f}"))
            if not left:
                break
            stopped = [m.metadata["stopped"].value for f in FOLLOW_UPS
                       for m in result.asset_materializations_for_node(f"strava_{f}") if "stopped" in m.metadata]
            assert stopped and "the day's quota of 40 requests is spent" in stopped[0]
            assert main(["--config", str(config.path), "status"]) == 0
            assert "still to fetch (the quota is spent until" in capsys.readouterr().out
            world.clock.advance(timedelta(days=1))  # the next day: Strava's quota is renewed
            assert runs < 10
        # each run lists the activities (two requests) and refreshes the athlete and their zones (two); the
        # rest of each day's quota goes to the four follow-ups of each activity (new days bring new ones)
        activities = uploaded(world)
        follow_ups = 4 * len(activities) - len([a for a in activities if a.manual])  # no streams to ask for
        assert runs == -(-follow_ups // (per_day - 4)) == 3
        asked = Counter((e.path, e.params.get("page")) for e in sandbox.log.entries("strava")
                        if e.status == 200 and "/activities/" in e.path)
        assert asked and max(asked.values()) == 1  # nothing fetched twice
        assert not [e for e in sandbox.log.entries("strava") if e.status == 429]  # the client stopped itself
        store = RawStore(config.app.raw_db)
        for resource in FOLLOW_UPS:
            assert len(store.records("strava", resource)) == len(activities), resource


def test_a_missing_scope_and_an_inactive_application_say_what_to_do(tmp_path: Path) -> None:
    world = new_world()
    with sandbox_for(world) as sandbox:
        sandbox.strava.settings.unchecked_scopes = frozenset({"activity:read_all"})
        config = strava_config(tmp_path / "health-pipeline.toml", sandbox, extra="")
        store = RawStore(config.app.raw_db)
        assert store.token("strava") is not None and store.token("strava").scope == "read,profile:read_all"
        api = strava.SOURCE.build_client(config.provider("strava"), config.app, store)
        with pytest.raises(ReauthorizationNeeded, match="lacks a scope.*activity:read_permission.*auth strava"):
            api.days(TODAY, TODAY)
        sandbox.strava.settings.inactive = True
        with pytest.raises(ApplicationInactive, match="Inactive: since 2026 its owner needs a Strava subscription"):
            api.snapshot("athlete")
        refreshes = [e for e in sandbox.log.entries("strava", "/oauth/token")]
        assert len(refreshes) == 1  # the code exchange: neither answer was taken for an expired token

