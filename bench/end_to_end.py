"""Benchmarks 2 and 6: a two-year backfill of every provider from the sandbox to VictoriaMetrics.

One Dagster run (as `health-pipeline sync --start --end` makes, Withings and Hevy included) in a
child process: wall time from starting Python to the last export request, split into start-up,
fetch (time inside HTTP requests), land (the rest of the landing steps: parsing, SQLite
transactions), model (tidy steps), export, and Dagster's own overhead between steps; the child's
peak RSS (benchmark 6). Then the comparison: a bare HTTP fetch of exactly the same data requests
(one keep-alive `requests` session, same order, bodies read, nothing parsed or stored) from the
same sandbox.

By default provider quotas are lifted (sandbox and client), so the figures measure the pipeline;
`--quotas` keeps the real per-user limits (Google Health: 300 requests a minute), which alone hold
a two-year Fitbit backfill above a minute.
Run: .venv/bin/python bench/end_to_end.py [--days 730] [--quotas]
"""

import argparse
import time

import requests

from harness import Bench, by_provider, is_data_request, requests_by_provider

from health_pipeline.providers import google_health, oura, withings
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.http import LoggedRequest
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.tidy.catalog import ALL_TABLES

RAW_GROUPS = ("oura", "fitbit", "withings", "hevy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--quotas", action="store_true", help="keep the providers' real per-user rate limits")
    args = parser.parse_args()
    with Bench(args.days, args.quotas) as bench:
        figures = bench.run_child()
        entries = [e for e in bench.sandbox.log.entries() if is_data_request(e)]
        counts = requests_by_provider(entries)
        with TidyStore(bench.config.app.duckdb).connect(read_only=True) as conn:
            rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ALL_TABLES}  # type: ignore[index]
        bare_s, bare_bytes = bare_fetch(bench, entries)

    steps = figures["steps"]
    raw_s = sum(steps.get(g, 0.0) for g in RAW_GROUPS)
    stages = {
        "start-up (Python, Dagster, definitions)": figures["wall_s"] - figures["run_s"],
        "fetch (inside HTTP requests)": figures["fetch_s"],
        "land (rest of the landing steps)": raw_s - figures["fetch_s"],
        "model (tidy steps)": steps.get("tidy", 0.0),
        "export (VictoriaMetrics step)": steps.get("export", 0.0),
        "Dagster between steps (run start, events, end)": figures["run_s"] - sum(steps.values()),
    }
    print(f"{args.days} days of every provider, {bench.start} .. {bench.end}, quotas {'on' if args.quotas else 'lifted'}")
    print(f"requests: {by_provider(counts)}; all {sum(counts.values())}")
    print("tidy rows: " + ", ".join(f"{t} {n}" for t, n in rows.items() if n))
    print("export: " + ", ".join(f"{k} {v}" for k, v in figures["export"].items()))
    for stage, seconds in stages.items():
        print(f"  {stage:<48} {seconds:7.2f} s")
    if figures["quota_wait_s"] > 0.01:
        print(f"  (of the fetch, waiting for provider quotas: {figures['quota_wait_s']:.2f} s)")
    print(f"  {'total wall time':<48} {figures['wall_s']:7.2f} s")
    print(f"bare HTTP fetch of the same {len(entries)} requests: {bare_s:.2f} s ({bare_bytes / 2**20:.0f} MiB)")
    print(f"peak RSS of the sync process: {figures['peak_rss_mib']:.0f} MiB (during {figures['peak_step']})")
    print(f"end-to-end {args.days}-day backfill: {figures['wall_s']:.1f} s (target < 60 s), "
          f"{figures['wall_s'] / bare_s:.2f}x a bare fetch (target <= 1.5x), "
          f"peak RSS {figures['peak_rss_mib']:.0f} MiB (target < 1024 MiB)")


def bare_fetch(bench: Bench, entries: list[LoggedRequest]) -> tuple[float, int]:
    """Replay the logged data requests with one plain session; seconds and bytes received."""
    store = RawStore(bench.config.app.raw_db)
    config = bench.config
    bearer = {
        "oura": OAuthTokens(config.oura, store, oura.OAUTH).access_token(),
        "google-health": OAuthTokens(config.fitbit, store, google_health.OAUTH).access_token(),
        "withings": OAuthTokens(config.withings, store, withings.OAUTH).access_token(),
    }
    headers = {p: {"Authorization": f"Bearer {t}"} for p, t in bearer.items()}
    headers["hevy"] = {"api-key": config.hevy.api_key.reveal()}  # type: ignore[union-attr]
    received = 0
    with requests.Session() as session:
        began = time.perf_counter()
        for e in entries:
            url = bench.sandbox.url(e.provider) + e.path
            if e.method == "GET":
                response = session.get(url, params=e.params, headers=headers[e.provider], timeout=60)
            elif e.body is not None:
                response = session.post(url, params=e.params, json=e.body, headers=headers[e.provider], timeout=60)
            else:
                response = session.post(url, data=e.params, headers=headers[e.provider], timeout=60)
            if response.status_code != 200:
                raise SystemExit(f"bare fetch: {e.method} {e.path} answered {response.status_code}")
            received += len(response.content)
        elapsed = time.perf_counter() - began
    return elapsed, received


if __name__ == "__main__":
    main()
