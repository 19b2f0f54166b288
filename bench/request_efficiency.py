"""Benchmark 1: requests for a 365-day backfill of every endpoint, against the minimum.

The minimum for an endpoint is what its documented (or catalogued) window and page size allow for
the data the sandbox holds: max(ceil(days / window), ceil(items / page size)). The comparison
with a one-request-per-day strategy (how SyncBit-style syncs work) is printed too.
Run: .venv/bin/python bench/request_efficiency.py [--days 365]
"""

import argparse
import math
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.registry import REGISTRY, parse_config  # noqa: E402
from health_pipeline.dev.demo import authorize_with_sandbox  # noqa: E402
from health_pipeline.pipeline.cursor import sync_changes  # noqa: E402
from health_pipeline.sources.fitbit import client as google_health  # noqa: E402
from health_pipeline.sources.hevy import client as hevy
from health_pipeline.sources.oura import client as oura
from health_pipeline.sources.withings import client as withings
from health_pipeline.sources import polar, strava, whoop
from health_pipeline.pipeline.follow_ups import fetch_follow_ups
from health_pipeline.dev.demo import write_sandbox_config
from health_pipeline.sources.polar.sandbox import FAKE as POLAR_FAKE
from health_pipeline.sources.strava.sandbox import FAKE as STRAVA_FAKE
from health_pipeline.sources.whoop.sandbox import FAKE as WHOOP_FAKE
from health_pipeline.providers.http import ProviderHTTP  # noqa: E402
from health_pipeline.providers.oauth import OAuthTokens  # noqa: E402
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.sandbox.server import Sandbox  # noqa: E402
from health_pipeline.sandbox.world import SandboxClock, SandboxWorld  # noqa: E402
from health_pipeline.storage.raw_store import RawStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    days = parser.parse_args().days
    # Now, not a fixed date: Polar's clients know how far back AccessLink reaches only from today.
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    world = SandboxWorld(seed=11, days=days + 5, timezone="Europe/Berlin", clock=SandboxClock(now))
    end = now.date()
    start = end - timedelta(days=days - 1)
    rows: list[tuple[str, str, int, int]] = []
    started = time.monotonic()
    with sandbox_for(world) as sandbox, tempfile.TemporaryDirectory() as tmp:
        config = _config(sandbox, Path(tmp), start)
        store = config.raw_store()
        store.init()
        for name, profile in (("oura", oura.OAUTH), ("fitbit", google_health.OAUTH), ("withings", withings.OAUTH)):
            authorize_with_sandbox(OAuthTokens(config.provider(name), store, profile))  # type: ignore[arg-type]
        tz = config.app.tz
        oura_client = oura.OuraClient(config.oura, OAuthTokens(config.oura, store, oura.OAUTH), tz, ProviderHTTP("oura"))
        for endpoint in oura.CATALOGUE.values():
            if not endpoint.dated:
                continue
            before = oura_client.requests_made
            items = sum(_oura_items(c) for c in oura_client.fetch_window(endpoint.resource, start, end))
            page = 5000 if endpoint.kind == "samples" else 50
            rows.append(("oura", endpoint.resource, oura_client.requests_made - before,
                         max(math.ceil(days / endpoint.chunk_days), math.ceil(items / page))))
        google = google_health.GoogleHealthClient(config.fitbit, OAuthTokens(config.fitbit, store, google_health.OAUTH), tz,
                                                  ProviderHTTP("fitbit"))
        for endpoint in google_health.CATALOGUE.values():
            before = google.requests_made
            records = [r for c in google.fetch_window(endpoint.resource, start, end) for r in c.records]
            items = sum(len(r.payload) for r in records) if endpoint.method == "rollUp" else len(records)
            window = endpoint.max_window_days - (1 if endpoint.method == "dailyRollUp" else 0)
            rows.append(("fitbit", endpoint.resource, google.requests_made - before,
                         max(math.ceil(days / window), math.ceil(items / endpoint.page_size))))
        w_client = withings.WithingsClient(config.withings, OAuthTokens(config.withings, store, withings.OAUTH), tz,
                                           ProviderHTTP("withings"))
        for resource in withings.CATALOGUE:
            before = w_client.requests_made
            outcome = sync_changes(REGISTRY.api("withings"), w_client, store, resource, start, end)
            rows.append(("withings", resource, w_client.requests_made - before,
                         max(1, math.ceil((outcome.counts.new + outcome.counts.changed) / 100))))
        h_client = hevy.HevyClient(config.hevy, ProviderHTTP("hevy"), tz)
        outcome = sync_changes(REGISTRY.api("hevy"), h_client, store, "workouts", start, end)
        rows.append(("hevy", "workouts", h_client.requests_made, max(1, math.ceil(outcome.counts.new / 10))))
        rows += _new_sources(sandbox, Path(tmp), start, end, days)
    elapsed = time.monotonic() - started
    print(f"{'provider':<9} {'endpoint':<36} {'requests':>8} {'minimum':>8} {'per-day':>8}")
    totals: dict[str, list[int]] = {}
    for provider, resource, made, minimum in rows:
        print(f"{provider:<9} {resource:<36} {made:>8} {minimum:>8} {days:>8}")
        total = totals.setdefault(provider, [0, 0, 0])
        total[0] += made
        total[1] += minimum
        total[2] += days
    print()
    for provider, (made, minimum, per_day) in totals.items():
        print(f"{provider:<9} requests {made:>5}  minimum {minimum:>5}  ratio {made / minimum:.2f}x  "
              f"one-request-per-day {per_day:>6} ({per_day / made:.0f}x more)")
    made_all = sum(t[0] for t in totals.values())
    min_all = sum(t[1] for t in totals.values())
    print(f"request efficiency, {days}-day backfill of every endpoint: {made_all} requests vs minimum {min_all} "
          f"= {made_all / min_all:.2f}x (target <= 1.10x); {elapsed:.1f} s")


def _new_sources(sandbox: Sandbox, tmp: Path, start: date, end: date, days: int) -> list[tuple[str, str, int, int]]:
    """WHOOP, Strava (streams on) and Polar through their own sections of a sandbox config."""
    text = (f'[app]\nraw_db = "{tmp / "new.sqlite"}"\nduckdb = "{tmp / "new.duckdb"}"\ntimezone = "Europe/Berlin"\n\n'
            + "".join(fake.config_text(sandbox.url(fake.mount), start) for fake in (WHOOP_FAKE, STRAVA_FAKE, POLAR_FAKE))
            .replace("[strava]\n", "[strava]\nstreams = true\n"))
    config = write_sandbox_config(tmp / "new.toml", text)
    store = config.raw_store()
    rows = []
    api = whoop.SOURCE.build_client(config.provider("whoop"), config.app, store)
    for resource in ("cycles", "recoveries", "sleeps", "workouts"):
        before = api.requests_made
        items = sum(len(c.records) for c in api.fetch_window(resource, start, end))
        rows.append(("whoop", resource, api.requests_made - before, max(1, math.ceil(items / 25))))
    for resource in ("profile", "body_measurement"):
        before = api.requests_made
        api.snapshot(resource)
        rows.append(("whoop", resource, api.requests_made - before, 1))
    source = REGISTRY.api("strava")
    api = source.build_client(config.provider("strava"), config.app, store)
    outcome = sync_changes(source, api, store, "activities", start, end)
    count = outcome.counts.new
    rows.append(("strava", "activities", api.requests_made, math.ceil((count + 1) / 200)))
    manual = sum(1 for r in store.records("strava", "activities") if '"manual": true' in r.payload.replace(':true', ': true'))
    for follow_up in source.follow_ups:
        before = api.requests_made
        fetch_follow_ups(source, follow_up, api, store)
        rows.append(("strava", follow_up.resource, api.requests_made - before,
                     count - (manual if follow_up.resource == "activity_streams" else 0)))
    source = REGISTRY.api("polar")
    api = source.build_client(config.provider("polar"), config.app, store)
    listed = 28  # sleep and Nightly Recharge list 28 days; older ones are asked a date at a time
    for resource in ("sleep", "nightly_recharge", "activities", "continuous_heart_rate"):
        before = api.requests_made
        for _ in api.fetch_window(resource, start, end):
            pass
        minimum = (1 + max(0, days - listed) if resource in ("sleep", "nightly_recharge")
                   else math.ceil(min(days, 365) / 28))
        rows.append(("polar", resource, api.requests_made - before, minimum))
    for resource in ("exercises", "physical_information"):
        before = api.requests_made
        outcome = sync_changes(source, api, store, resource, start, end)
        # the listing; a transaction: create, list, each entry, commit
        minimum = 1 if resource == "exercises" else 3 + outcome.counts.new
        rows.append(("polar", resource, api.requests_made - before, minimum))
    return rows


def _oura_items(chunk: oura.FetchedChunk) -> int:
    return sum(len(r.payload) if isinstance(r.payload, list) else 1 for r in chunk.records)


def _config(sandbox: Sandbox, tmp: Path, start: date):  # type: ignore[no-untyped-def]
    def oauth(name: str, prefix: str, authorize: str, token: str) -> dict:  # type: ignore[type-arg]
        base = sandbox.url(prefix)
        return {"enabled": True, "start_date": start.isoformat(), "base_url": base, "authorize_url": base + authorize,
                "token_url": base + token, "client_id": "sandbox", "client_secret": "sandbox-secret",
                "redirect_uri": "https://health.example.org/cb" if name == "withings" else "http://localhost:8484/callback"}

    return parse_config({
        "app": {"raw_db": str(tmp / "raw.sqlite"), "duckdb": str(tmp / "h.duckdb"), "timezone": "Europe/Berlin"},
        "oura": oauth("oura", "oura", "/oauth/authorize", "/oauth/token"),
        "fitbit": oauth("fitbit", "google-health", "/o/oauth2/v2/auth", "/token"),
        "withings": oauth("withings", "withings", "/oauth2_user/authorize2", "/v2/oauth2"),
        "hevy": {"enabled": True, "start_date": start.isoformat(), "base_url": sandbox.url("hevy"), "api_key": "sandbox-api-key"},
    }, None)


if __name__ == "__main__":
    main()
