"""The Dagster UI in a real headless Chromium (Debian's, driven by Playwright; no browser download).

One `dagster dev` (webserver, daemon, code server) serves all four providers against the sandbox,
with a real VictoriaMetrics. Screenshots go to `test-artifacts/ui/` (or $HEALTH_PIPELINE_ARTIFACTS).
"""

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from health_pipeline.config import Config
from health_pipeline.dev.dagster_dev import DagsterDev
from health_pipeline.dev.demo import sandbox_config_text, write_sandbox_config
from health_pipeline.instance.home import ensure_instance_settings, instance_in
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.storage.duckdb_store import TidyStore, TidyStoreLocked
from health_pipeline_tests.dagster_ui import poll, stop_automation, wait_for_daemon

pytestmark = pytest.mark.slow

TIMEZONE = "Europe/Berlin"
HISTORY_DAYS = 20
# Playwright's `expect` waits 5 s unless told otherwise, whatever the page's default. Dagster's UI renders
# column descriptions through a lazily loaded Markdown component: under CI load a column table's
# description cells stayed empty for longer than 5 s.
WAIT_MS = 30_000
expect.set_options(timeout=WAIT_MS)
ARTIFACTS = Path(os.environ.get("HEALTH_PIPELINE_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")) / "ui"


@dataclass
class Stack:
    """What the browser tests look at: the world, the config, the running UI and its home."""

    world: SandboxWorld
    config: Config
    ui: DagsterDev
    first: date
    today: date


def chromium_path() -> str:
    path = os.environ.get("HEALTH_PIPELINE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("the browser tests need Debian's Chromium: `apt-get install -y chromium` (test.sh installs it)")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("ui")
    now = datetime.now(timezone.utc)
    world = SandboxWorld(seed=11, days=HISTORY_DAYS + 5, timezone=TIMEZONE)
    today = now.astimezone(world.tz).date()
    first = today - timedelta(days=HISTORY_DAYS)
    with sandbox_for(world) as sandbox, LocalVictoriaMetrics(root / "vm") as vm:
        config = write_sandbox_config(root / "health-pipeline.toml",
                                      sandbox_config_text(sandbox, first, TIMEZONE, "browser", vm.url))
        home = root / "dagster_home"
        ensure_instance_settings(home)
        with DagsterDev(home, config.path, port=0) as ui:
            ui.graphql("mutation { setNuxSeen }")  # Dagster's one-time newsletter dialog would cover the page
            wait_for_daemon(ui)
            quiet_other_automation(ui)
            yield Stack(world, config, ui, first, today)


def quiet_other_automation(ui: DagsterDev) -> None:
    """Stop every schedule and sensor but `tidy_follows_raw`, then wait for the runs they started.

    On a slow machine a `recent_days` tick or a Withings sensor run competing for the DuckDB pool
    makes the backfill test's timing depend on the clock; the test is about the backfill and the
    follow-up run, so only `tidy_follows_raw` stays on.
    """
    assert stop_automation(ui, keep={"tidy_follows_raw"}) == {
        "recent_days", "trailing_week", "reference_daily", "withings_changes", "hevy_changes", "whoop_unsettled",
        "strava_changes", "polar_changes"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"))
    context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_the_asset_graph_has_every_provider_group(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.ui.url}/asset-groups")
    for group in ("oura", "fitbit", "withings", "hevy", "whoop", "strava", "polar", "tidy", "export"):
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    shot(page, "asset-groups")


def test_schedules_and_sensors_are_listed(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.ui.url}/automation")
    for name in ("recent_days", "trailing_week", "reference_daily", "withings_changes", "hevy_changes",
                 "whoop_unsettled", "strava_changes", "polar_changes", "tidy_follows_raw"):
        expect(page.get_by_text(name, exact=True)).to_be_visible()
    shot(page, "automation")


def test_the_export_asset_shows_each_metrics_lineage(stack: Stack, page: Page) -> None:
    page.goto(f"{stack.ui.url}/assets/export_victoriametrics")
    row = page.locator("tr", has_text="health_steps").first
    expect(row).to_contain_text("Lineage: daily_activity.steps <- oura_daily_activity.steps "
                                "(GET /v2/usercollection/daily_activity); fitbit_steps.steps.countSum")
    expect(page.locator("tr", has_text="health_summary_sleep_score").first).to_contain_text(
        "Lineage: daily_summary.sleep_score <- daily_scores.sleep_score <- oura_daily_sleep.score")
    row.scroll_into_view_if_needed()
    shot(page, "export-columns")


def test_a_backfill_launched_from_the_partitions_page_lands_and_is_modelled(stack: Stack, page: Page) -> None:
    start, end = stack.first + timedelta(days=2), stack.first + timedelta(days=5)
    days = {(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)}
    page.goto(f"{stack.ui.url}/assets/oura_daily_activity?view=partitions")
    page.get_by_role("button").filter(has_text="Materialize…").first.click()
    dialog = page.get_by_role("dialog")
    selection = dialog.get_by_role("textbox").first
    selection.fill(f"[{start.isoformat()}...{end.isoformat()}]")
    selection.press("Enter")
    expect(dialog).to_contain_text("4 partitions")
    expect(dialog).to_contain_text("Backfills all partitions in a single run.")
    shot(page, "backfill-dialog")
    dialog.get_by_role("button", name="Launch backfill").click()
    expect(dialog).to_be_hidden()

    with instance_in(stack.ui.home) as instance:
        backfills = poll(lambda: instance.get_backfills() or None, "the backfill to be recorded")
        assert len(backfills) == 1 and backfills[0].asset_selection == [dg.AssetKey("oura_daily_activity")]
        poll(lambda: days <= instance.get_materialized_partitions(dg.AssetKey("oura_daily_activity")),
             f"partitions {sorted(days)} of oura_daily_activity", stack.ui)
        poll(lambda: days <= instance.get_materialized_partitions(dg.AssetKey("daily_activity")),
             "tidy_follows_raw to model the same days into daily_activity", stack.ui, timeout_s=600)
    expected = [(date.fromisoformat(d["day"]), d["steps"]) for d in truth.oura_daily_activity(stack.world, start, end)]
    rows = poll(lambda: read_rows(stack.config, start, end) or None, "the rows in DuckDB")
    assert rows == expected and len(rows) == 4
    page.goto(f"{stack.ui.url}/assets/oura_daily_activity?view=partitions")
    expect(page.get_by_text("Materialized (4)").first).to_be_visible()
    shot(page, "backfill-partitions")
    page.goto(f"{stack.ui.url}/runs")
    expect(page.get_by_text("model_and_export").first).to_be_visible()
    shot(page, "runs")


def read_rows(config: Config, start: date, end: date) -> list[tuple[object, ...]]:
    """Oura's daily_activity rows in [start, end], or [] while a run holds DuckDB's write lock."""
    try:
        with TidyStore(config.app.duckdb, wait_s=5).connect(read_only=True) as conn:
            return conn.execute("SELECT day, steps FROM daily_activity WHERE provider = 'oura' AND day BETWEEN ? AND ? "
                                "ORDER BY day", [start, end]).fetchall()
    except TidyStoreLocked:
        return []
