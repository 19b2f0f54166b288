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
`--instance postgres` keeps Dagster's history in a local PostgreSQL server (Debian's package,
through dagster-postgres) instead of SQLite files; `--instance both` runs both, one after the
other, each with its own sandbox, and prints them side by side. `--event-log stock` uses Dagster's
own SQLite event log instead of ours; `--no-dagster-settings` turns off the Dagster settings of
health_pipeline/dagster_settings.py (batched event writes, planned-event subsets).
Run: .venv/bin/python bench/end_to_end.py [--days 730] [--quotas] [--instance sqlite|postgres|both]
     [--event-log pooled|stock] [--no-dagster-settings]
"""

import argparse
import time

import requests

from harness import Bench, by_provider, is_data_request, requests_by_provider

from health_pipeline.sources.fitbit import client as google_health
from health_pipeline.sources.oura import client as oura
from health_pipeline.sources.withings import client as withings
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.http import LoggedRequest
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.registry import ALL_TABLES

RAW_GROUPS = ("oura", "fitbit", "withings", "hevy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--quotas", action="store_true", help="keep the providers' real per-user rate limits")
    parser.add_argument("--instance", choices=("sqlite", "postgres", "both"), default="sqlite",
                        help="where Dagster keeps its history (default sqlite)")
    parser.add_argument("--event-log", choices=("pooled", "stock"), default="pooled",
                        help="the SQLite event log: ours (pooled, the default) or Dagster's own")
    parser.add_argument("--no-dagster-settings", action="store_true",
                        help="DAGSTER_EVENT_BATCH_SIZE=0 and no planned-event subsets")
    args = parser.parse_args()
    instances = ("sqlite", "postgres") if args.instance == "both" else (args.instance,)
    results = [measure(args, instance) for instance in instances]
    if len(results) > 1:
        print()
        print(f"{'stage':<48} " + " ".join(f"{name:>10}" for name, _, _ in results))
        for stage in results[0][1]:
            print(f"  {stage:<46} " + " ".join(f"{stages[stage]:9.2f}s" for _, stages, _ in results))
        print(f"  {'ratio to the bare fetch':<46} " + " ".join(f"{ratio:9.2f}x" for _, _, ratio in results))


def measure(args: argparse.Namespace, instance: str) -> tuple[str, dict[str, float], float]:
    """One benchmark run with Dagster's history in `instance`; prints its figures."""
    with Bench(args.days, args.quotas, instance=instance, event_log=args.event_log,
               dagster_settings=not args.no_dagster_settings) as bench:
        figures = bench.run_child()
        entries = [e for e in bench.sandbox.log.entries() if is_data_request(e)]
        counts = requests_by_provider(entries)
        with TidyStore(bench.config.app.duckdb).connect(read_only=True) as conn:
            rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ALL_TABLES}  # type: ignore[index]
        bare_s, bare_bytes = bare_fetch(bench, entries)

    steps = figures["steps"]
    raw_s = sum(steps.get(g, 0.0) for g in RAW_GROUPS)
    between = figures["run_s"] - sum(steps.values()) - figures["run_start_s"] - figures["run_end_s"]
    stages = {
        "start-up (Python, Dagster, definitions)": figures["wall_s"] - figures["run_s"],
        "run start (to the first step)": figures["run_start_s"],
        "fetch (inside HTTP requests)": figures["fetch_s"],
        "land (rest of the landing steps)": raw_s - figures["fetch_s"],
        "model (tidy steps)": steps.get("tidy", 0.0),
        "export (VictoriaMetrics step)": steps.get("export", 0.0),
        "Dagster between steps": between,
        "run end (after the last step)": figures["run_end_s"],
        "total wall time": figures["wall_s"],
    }
    ratio = figures["wall_s"] / bare_s
    print(f"{args.days} days of every provider, {bench.start} .. {bench.end}, quotas "
          f"{'on' if args.quotas else 'lifted'}; Dagster: {bench.variant}")
    print(f"requests: {by_provider(counts)}; all {sum(counts.values())}")
    print("tidy rows: " + ", ".join(f"{t} {n}" for t, n in rows.items() if n))
    print("export: " + ", ".join(f"{k} {v}" for k, v in figures["export"].items()))
    print(f"  (of the start-up, importing Python and Dagster: {figures['imports_s']:.2f} s)")
    for stage, seconds in stages.items():
        print(f"  {stage:<48} {seconds:7.2f} s")
    if figures["quota_wait_s"] > 0.01:
        print(f"  (of the fetch, waiting for provider quotas: {figures['quota_wait_s']:.2f} s)")
    print(f"bare HTTP fetch of the same {len(entries)} requests: {bare_s:.2f} s ({bare_bytes / 2**20:.0f} MiB)")
    print(f"peak RSS of the sync process: {figures['peak_rss_mib']:.0f} MiB (during {figures['peak_step']})")
    print(f"end-to-end {args.days}-day backfill on {instance}: {figures['wall_s']:.1f} s, "
          f"{ratio:.2f}x a bare fetch (target <= 1.3x), "
          f"peak RSS {figures['peak_rss_mib']:.0f} MiB (target < 1024 MiB)", flush=True)
    return instance, stages, ratio


def bare_fetch(bench: Bench, entries: list[LoggedRequest]) -> tuple[float, int]:
    """Replay the logged data requests with one plain session; seconds and bytes received."""
    store = bench.config.raw_store()
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
