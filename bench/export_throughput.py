"""Benchmark 4: exporting two years of per-minute heart rate (and the daily metrics) to VictoriaMetrics,
against VictoriaMetrics ingesting the same payload from `curl`.

A DuckDB file holds two years of tidy rows as the models write them: per-minute heart rate
(about 1.05 million rows) and one `daily_activity` row a day. Measured, each against its own
fresh VictoriaMetrics (Debian's binary, `-retentionPeriod=100y`, on loopback):
- export: the product's `export()` of the whole range, from planning to the last confirmed batch
  (desired samples, ledger comparison, JSON lines, streamed imports, ledger writes);
- curl: `curl --data-binary @payload` of exactly the JSON lines the export sent (recorded by a
  second, unmeasured export of a copy of the same DuckDB file), in one request, into the second
  server;
- no-op: the same export again (nothing to send: the ledger comparison alone).
Both servers are flushed and counted afterwards, so a dropped sample would show. Peak RSS is the
benchmark process's (DuckDB included). Target: export at >= 70 % of curl's ingest rate.
Run: .venv/bin/python bench/export_throughput.py [--days 730]
"""

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.config import load_config  # noqa: E402
from health_pipeline.export.exporter import ExportSettings, export  # noqa: E402
from health_pipeline.export.metrics import metrics_for  # noqa: E402
from health_pipeline.local_victoriametrics import LocalVictoriaMetrics  # noqa: E402
from health_pipeline.storage.duckdb_store import TidyStore, scalar  # noqa: E402
from health_pipeline.storage.victoriametrics import VictoriaMetrics  # noqa: E402
from health_pipeline.tidy.models import create_tables  # noqa: E402

TZ = "Europe/Berlin"
END = date(2026, 11, 9)


def fill(conn, start: date, end: date) -> None:  # type: ignore[no-untyped-def]
    """Tidy rows as the models write them: per-minute Fitbit heart rate, daily Oura activity."""
    create_tables(conn)
    conn.execute(f"""
        INSERT INTO heart_rate
        SELECT 'fitbit', ts, CAST(timezone('{TZ}', ts) AS DATE), 55 + (epoch(ts) // 60 * 7 % 60) + 0.25, 'minute_avg'
        FROM (SELECT unnest(generate_series(timezone('{TZ}', CAST(? AS TIMESTAMP)),
                                            timezone('{TZ}', CAST(? AS TIMESTAMP)) - INTERVAL 1 MINUTE,
                                            INTERVAL 1 MINUTE)) AS ts)
    """, [start, end + timedelta(days=1)])
    conn.execute("""
        INSERT INTO daily_activity (provider, day, steps, distance_m, active_kcal, total_kcal, sedentary_s, light_s,
                                    moderate_s, vigorous_s)
        SELECT 'oura', d, 6000 + (epoch(d) // 86400 * 37 % 9000), 5000.5, 450.25, 2300.75, 30000, 9000, 2400, 900
        FROM (SELECT CAST(unnest(generate_series(CAST(? AS DATE), CAST(? AS DATE), INTERVAL 1 DAY)) AS DATE) AS d)
    """, [start, end])


class Recording(VictoriaMetrics):
    """A client that also writes every import body to a file (for the curl comparison)."""

    def __init__(self, config, out) -> None:  # type: ignore[no-untyped-def]
        super().__init__(config)
        self.out = out

    def import_body(self, body: bytes) -> None:
        self.out.write(body)
        super().import_body(body)


def count(vm: VictoriaMetrics, want: int, settle_s: float = 10.0) -> int:
    """Samples the server holds, read again for up to `settle_s` while fewer than `want` show
    (imported samples can take a moment to become searchable, even after a flush)."""
    deadline = time.monotonic() + settle_s
    while True:
        vm.force_flush()
        series = vm.export('{__name__=~"health_.*"}', start_ms=0, end_ms=int(time.time() * 1000))
        held = sum(len(s["values"]) for s in series)
        if held >= want or time.monotonic() > deadline:
            return held
        time.sleep(0.25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=730)
    days = parser.parse_args().days
    start = END - timedelta(days=days - 1)
    curl = shutil.which("curl")
    if curl is None:
        sys.exit("curl is needed for the comparison: apt-get install -y curl")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_path = folder / "health-pipeline.toml"
        config_path.write_text(f'[app]\ntimezone = "{TZ}"\nuser = "bench"\n')
        store = TidyStore(folder / "health.duckdb")
        with store.connect() as conn:
            fill(conn, start, END)
            rows = scalar(conn, "SELECT count(*) FROM heart_rate")
        shutil.copy(folder / "health.duckdb", folder / "copy.duckdb")
        settings = ExportSettings("bench", TZ)
        metrics = metrics_for(False)
        with LocalVictoriaMetrics(folder / "vm1") as first, LocalVictoriaMetrics(folder / "vm2") as second:
            vm_config = load_config(config_path).victoriametrics
            vm = VictoriaMetrics(replace(vm_config, enabled=True, url=first.url))
            with store.connect() as conn:
                began = time.perf_counter()
                result = export(conn, vm, metrics, settings, start=start, end=END, now=datetime.now(timezone.utc))
                export_s = time.perf_counter() - began
                began = time.perf_counter()
                again = export(conn, vm, metrics, settings, start=start, end=END, now=datetime.now(timezone.utc))
                noop_s = time.perf_counter() - began
            written = count(vm, result.samples_appended)
            payload = folder / "payload.jsonl"
            with LocalVictoriaMetrics(folder / "vm3") as third, open(payload, "wb") as out, \
                    TidyStore(folder / "copy.duckdb").connect() as copy:
                recorder = Recording(replace(vm_config, enabled=True, url=third.url), out)
                export(copy, recorder, metrics, settings, start=start, end=END, now=datetime.now(timezone.utc))
                recorder.close()
            began = time.perf_counter()
            subprocess.run([curl, "-sf", "-o", "/dev/null", "--data-binary", f"@{payload}",
                            f"{second.url}/api/v1/import"], check=True)
            curl_s = time.perf_counter() - began
            payload_mib = payload.stat().st_size / 2**20
            vm2 = VictoriaMetrics(replace(vm_config, enabled=True, url=second.url))
            copied = count(vm2, result.samples_appended)
            vm.close()
            vm2.close()
    samples = result.samples_appended
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tidy rows: {rows} heart-rate minutes over {days} days, plus the daily metrics")
    print(f"export: {samples} samples in {export_s:.2f} s ({samples / export_s / 1e6:.2f} M samples/s, "
          f"{result.requests} requests); VictoriaMetrics holds {written}")
    print(f"curl:   {copied} samples in {curl_s:.2f} s ({copied / curl_s / 1e6:.2f} M samples/s), "
          f"payload {payload_mib:.0f} MiB")
    print(f"no-op export: {again.samples_unchanged} samples compared, {again.samples_appended} sent, {noop_s:.2f} s")
    print(f"peak RSS: {peak_mib:.0f} MiB")
    print(f"export rate = {curl_s / export_s * 100:.0f} % of curl's ({samples} samples: {export_s:.2f} s vs "
          f"{curl_s:.2f} s; target >= 70 %)")


if __name__ == "__main__":
    main()
