"""Polar end to end against its fake over HTTP: registration after authorising, the daily resources and
their requests, the tidy rows exactly as the fake's data says (continuous heart rate read in the right
zone through a clock change and a trip), exercises by their upload cursor with deletions, and the
physical-information transaction committed only once its entries have landed.

One world (seed 7, Europe/Berlin, clock frozen on 2026-11-10 12:00 UTC): the window 2026-10-20 ..
2026-11-09 holds the 25-hour day of 25 October and a trip to New York.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.dev.demo import write_sandbox_config
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.pipeline.cursor import sync_changes
from health_pipeline.registry import ALL_TABLES
from health_pipeline.sandbox.server import FakeApi, Sandbox
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld
from health_pipeline.sources import polar
from health_pipeline.sources.polar.sandbox import FAKE
from health_pipeline.sources.polar.sandbox import data as truth
from health_pipeline.sources.polar.sandbox.api import FakePolar
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import FROZEN_NOW, TIMEZONE, TODAY
from health_pipeline_tests.tidy_setup import days, run_range

pytestmark = pytest.mark.slow

START, END = date(2026, 10, 20), date(2026, 11, 9)
TRIP = (date(2026, 9, 17), date(2026, 9, 22))  # a trip to New York: 09-18 .. 09-21
FIRST = TODAY - timedelta(days=59)


def window() -> list[date]:
    """The days the module's runs landed: the trip, then the main window."""
    return days(*TRIP) + days(START, END)


def polar_config(path: Path, sandbox: Sandbox) -> Config:
    """A config with Polar alone enabled against the sandbox, authorised and registered."""
    return write_sandbox_config(path, (
        f'[app]\nraw_db = "data/raw.sqlite"\nduckdb = "data/health.duckdb"\ntimezone = "{TIMEZONE}"\nuser = "me"\n\n'
        + FAKE.config_text(sandbox.url("polar"), FIRST)))


def new_world(now: datetime = FROZEN_NOW) -> SandboxWorld:
    return SandboxWorld(seed=7, days=60, timezone=TIMEZONE, clock=SandboxClock(now))


def polar_keys(config: Config) -> list[str]:
    keys = [k.to_user_string() for a in build_definitions(config).assets or [] for k in a.keys]
    return [k for k in keys if k.startswith("polar_") or k in ALL_TABLES]


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
    with sandbox_for(world) as sandbox:
        config = polar_config(tmp_path_factory.mktemp("polar") / "health-pipeline.toml", sandbox)
        requests = sandbox.log.entries("polar")
        sandbox.log.clear()
        with dg.instance_for_test() as instance:
            assert run_range(config, instance, polar_keys(config), START, END).success
            requests += sandbox.log.entries("polar")
            assert run_range(config, instance, polar_keys(config), *TRIP).success  # days older than the lists
        yield Landed(world, sandbox, config, requests)


def test_authorising_registers_the_user_once_and_the_window_costs_a_request_a_resource(landed: Landed) -> None:
    paths = Counter((e.method, e.path.removeprefix("/v3")) for e in landed.requests)
    user = truth.USER_ID
    # the code exchange, the registration (409: registered already) and its user; then one request for
    # each daily resource's 28 days, the exercise listing, one physical-information transaction (create,
    # list, each entry, commit), and the user again as the snapshot
    entries = len([e for e in landed.requests if "/physical-informations/" in e.path])
    [transaction] = {e.path.rsplit("/", 1)[-1] for e in landed.requests if e.method == "PUT"}
    assert paths == {
        ("GET", "/flow/oauth2/authorization"): 1, ("POST", "/remote/v2/oauth2/token"): 1, ("POST", "/users"): 1,
        ("GET", f"/users/{user}"): 2, ("GET", "/users/sleep"): 1, ("GET", "/users/nightly-recharge"): 1,
        ("GET", "/users/activities"): 1, ("GET", "/users/continuous-heart-rate"): 1, ("GET", "/exercises"): 1,
        ("POST", f"/users/{user}/physical-information-transactions"): 1,
        ("GET", f"/users/{user}/physical-information-transactions/{transaction}"): 1,
        ("PUT", f"/users/{user}/physical-information-transactions/{transaction}"): 1,
        **Counter(("GET", e.path.removeprefix("/v3")) for e in landed.requests if "/physical-informations/" in e.path)}
    assert entries == len([w for w in truth.weigh_ins(landed.world)]) + 1  # and the registration's profile
    [token] = [e for e in landed.requests if e.path.endswith("/oauth2/token")]
    assert "client_secret" not in (token.params or {})  # HTTP Basic only
    store = RawStore(landed.config.app.raw_db)
    assert [r.record_id for r in store.records("polar", "user")] == [str(user)]
    assert store.token("polar") is not None and store.token("polar").refresh_token is None


def test_nights_scores_and_vitals_are_exact(landed: Landed) -> None:
    world = landed.world
    nights, scores, vitals = [], {}, {}
    for day in window():
        s, r = truth.sleep(world, day), truth.nightly_recharge(world, day)
        if s:
            staged = s["light_sleep"] + s["deep_sleep"] + s["rem_sleep"] > 0
            hr = [v for v in s["heart_rate_samples"].values() if v > 0]
            nights.append((day, utc(s["sleep_start_time"]), utc(s["sleep_end_time"]),
                           s["light_sleep"] + s["deep_sleep"] + s["rem_sleep"] + s["unrecognized_sleep_stage"],
                           s["deep_sleep"] if staged else None, s["rem_sleep"] if staged else None,
                           s["total_interruption_duration"], round(sum(hr) / len(hr), 3) if hr else None,
                           float(min(hr)) if hr else None))
        if s or r:
            scores[day] = (s["sleep_score"] or None if s else None, r["nightly_recharge_status"] if r else None,
                           r["ans_charge"] if r else None)
        if r:
            signal = r["beat_to_beat_avg"] > 0
            vitals[day] = tuple(float(r[k]) if signal else None
                                for k in ("heart_rate_variability_avg", "breathing_rate_avg", "heart_rate_avg"))
    assert landed.rows("SELECT day, start_ts, end_ts, asleep_s, deep_s, rem_s, awake_s, avg_hr_bpm, lowest_hr_bpm "
                       "FROM sleep_sessions WHERE provider = 'polar' ORDER BY day") == nights
    assert {r[0]: r[1:] for r in landed.rows("SELECT day, sleep_score, nightly_recharge_status, ans_charge "
                                             "FROM daily_scores WHERE provider = 'polar'")} == scores
    assert {r[0]: r[1:] for r in landed.rows("SELECT day, hrv_ms, respiratory_rate_brpm, resting_hr_bpm "
                                             "FROM daily_vitals WHERE provider = 'polar'")} == vitals
    assert any(v == (None, None, None) for v in vitals.values())  # a night without a beat-to-beat signal


def test_daily_activity_is_exact(landed: Landed) -> None:
    expected = {}
    for day in window():
        a = truth.activity(landed.world, day)
        if a:
            expected[day] = (a["steps"], a["distance_from_steps"], float(a["active_calories"]), float(a["calories"]))
    assert {r[0]: r[1:] for r in landed.rows("SELECT day, steps, distance_m, active_kcal, total_kcal "
                                             "FROM daily_activity WHERE provider = 'polar'")} == expected


def test_continuous_heart_rate_lands_at_its_instants_through_the_clock_change_and_the_trip(landed: Landed) -> None:
    world = landed.world
    expected = {at: float(bpm) for day in window() for at, bpm in truth.continuous_readings(world, day) if bpm > 0}
    got = dict(landed.rows("SELECT ts, bpm FROM heart_rate WHERE provider = 'polar' AND source = 'continuous'"))
    assert got == expected
    assert any(world.travelling(d) for d in window())  # days read in the trip's offset
    long_day = [bpm for _, bpm in truth.continuous_readings(world, date(2026, 10, 25)) if bpm > 0]
    assert landed.rows("SELECT count(*) FROM heart_rate WHERE provider = 'polar' AND day = '2026-10-25'") == [
        (len(long_day),)] and len(long_day) > 24 * 12  # the 25-hour day, its repeated hour twice


def test_exercises_zones_and_weigh_ins_are_exact(landed: Landed) -> None:
    world = landed.world
    listed = {e["id"]: e for e in (truth.exercise_summary(world, x, zones=True) for x in
                                   landed.sandbox.polar.visible_exercises())}
    workouts = {r[0]: r[1:] for r in landed.rows("SELECT workout_id, start_ts, duration_s, active_kcal, avg_hr_bpm "
                                                 "FROM workouts WHERE provider = 'polar'")}
    assert set(workouts) == set(listed)
    for exercise_id, item in listed.items():
        start = datetime.fromisoformat(item["start_time"]).replace(
            tzinfo=timezone(timedelta(minutes=item["start_time_utc_offset"]))).astimezone(timezone.utc)
        seconds = float(item["duration"].removeprefix("PT").removesuffix("S"))
        assert workouts[exercise_id] == (start, round(seconds), float(item["calories"]) if item.get("calories") else None,
                                         float(item["heart_rate"]["average"]) if item["heart_rate"] else None)
    weights = {r[0]: r[1] for r in landed.rows("SELECT measured_at, value FROM body_measurements "
                                               "WHERE provider = 'polar' AND metric = 'weight'")}
    assert len(weights) == len(truth.weigh_ins(world)) + 1  # and the profile at registration
    assert all(weights[w.at] == truth.weight_at(world, w.at) for w in truth.weigh_ins(world))


def test_a_new_user_is_registered_after_authorising(tmp_path: Path) -> None:
    world = new_world()
    fresh = FakeApi(FAKE.mount, FakePolar, FAKE.config_text)
    with Sandbox(world, fakes=[fresh]) as sandbox:
        config = polar_config(tmp_path / "health-pipeline.toml", sandbox)
        assert sandbox.polar.registered
        [register] = [e for e in sandbox.log.entries("polar") if e.method == "POST" and e.path == "/v3/users"]
        assert register.status == 200 and register.body == {"member-id": "health-pipeline"}
        assert RawStore(config.app.raw_db).records("polar", "user")[0].record_id == str(truth.USER_ID)


def test_a_transaction_is_committed_only_once_its_entries_have_landed(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    world = new_world()
    with sandbox_for(world) as sandbox:
        config = polar_config(tmp_path / "health-pipeline.toml", sandbox)
        store = RawStore(config.app.raw_db)
        api = polar.SOURCE.build_client(config.provider("polar"), config.app, store)
        real_land = RawStore.land

        def crash(self: RawStore, provider: str, resource: str, *args: object, **kwargs: object) -> object:
            if resource == "physical_information":
                raise OSError("the disk is full")
            return real_land(self, provider, resource, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(RawStore, "land", crash)
        with pytest.raises(OSError):
            sync_changes(polar.SOURCE, api, store, "physical_information", FIRST, TODAY)
        monkeypatch.undo()
        assert not [e for e in sandbox.log.entries("polar") if e.method == "PUT"]  # nothing committed at Polar
        assert store.records("polar", "physical_information") == []
        world.clock.advance(timedelta(minutes=11))  # the uncommitted transaction expires: its entries come back
        outcome = sync_changes(polar.SOURCE, api, store, "physical_information", FIRST, TODAY)
        landed = store.records("polar", "physical_information")
        assert outcome.counts.new == len(landed) == len(truth.weigh_ins(world)) + 1
        assert [e.status for e in sandbox.log.entries("polar") if e.method == "PUT"] == [200]
        again = sync_changes(polar.SOURCE, api, store, "physical_information", FIRST, TODAY)
        assert again.counts.new == 0 and len(store.records("polar", "physical_information")) == len(landed)


def test_a_deleted_exercise_is_tombstoned_and_a_late_one_lands(tmp_path: Path) -> None:
    # exercises are listed for the last 30 days of the provider's clock, which here is now
    world = new_world(now=datetime.now(timezone.utc).replace(microsecond=0))
    with sandbox_for(world) as sandbox:
        config = polar_config(tmp_path / "health-pipeline.toml", sandbox)
        store = RawStore(config.app.raw_db)
        api = polar.SOURCE.build_client(config.provider("polar"), config.app, store)
        sync_changes(polar.SOURCE, api, store, "exercises", FIRST, world.today())
        live = sorted(r.record_id for r in store.records("polar", "exercises"))
        assert live == sorted(e.id for e in sandbox.polar.visible_exercises())
        sandbox.polar.delete_exercise(live[-1])
        sync_changes(polar.SOURCE, api, store, "exercises", FIRST, world.today())
        assert [r.record_id for r in store.records("polar", "exercises", include_deleted=True)
                if r.deleted_at is not None] == [live[-1]]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)

