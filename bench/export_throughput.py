"""Benchmark 4: exporting two years of per-minute heart rate (and the daily metrics) to VictoriaMetrics,
against VictoriaMetrics ingesting the same payload from `curl`.

A DuckDB file holds two years of tidy rows as the models write them: per-minute heart rate
(about 1.05 million rows) and one `daily_activity` row a day. Each run measures, one after the
other and each against its own fresh VictoriaMetrics (Debian's binary, `-retentionPeriod=100y`,
on loopback, stopped before the next measurement so its background merges compete with nothing):
- export: the product's `export()` of the whole range, from planning to the last confirmed
  request (desired samples, ledger comparison, retention check, JSON lines, streamed requests,
  ledger writes), on a fresh copy of the DuckDB file;
- no-op: the same export again, on the same server (nothing to send: the comparison alone);
- curl: `curl --data-binary @payload` of exactly the JSON lines the export sends (recorded once,
  before the runs, by an unmeasured export of another copy), in one request;
- floor: the least any exporter of these samples from DuckDB must do, for scale: one sorted read
  of exactly the payload's samples (series id, timestamp, value, from a table prepared before the
  runs), the export's own JSON-lines encoder, requests of the export's size on the export's client,
  one on the wire while the next is built. No ledger, no checks.
Every server is flushed and counted after its measurement, so a dropped sample would show. The
figures are the medians over the runs (each run's are printed too); peak RSS is the benchmark
process's (DuckDB included). Target: export at >= 70 % of curl's ingest rate.
Run: .venv/bin/python bench/export_throughput.py [--days 730] [--runs 5]
"""

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import orjson
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.registry import load_config  # noqa: E402
from health_pipeline.registry import TABLES
from health_pipeline.export.exporter import ExportSettings, export  # noqa: E402
from health_pipeline.export.metrics import metrics_for  # noqa: E402
from health_pipeline.export.sender import COLUMNS, SAMPLES_PER_REQUEST, _body, _numpy, pipelined  # noqa: E402
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics  # noqa: E402
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
        SELECT 'bench', 'fitbit', ts, CAST(timezone('{TZ}', ts) AS DATE), 55 + (epoch(ts) // 60 * 7 % 60) + 0.25, 'minute_avg'
        FROM (SELECT unnest(generate_series(timezone('{TZ}', CAST(? AS TIMESTAMP)),
                                            timezone('{TZ}', CAST(? AS TIMESTAMP)) - INTERVAL 1 MINUTE,
                                            INTERVAL 1 MINUTE)) AS ts)
    """, [start, end + timedelta(days=1)])
    conn.execute("""
        INSERT INTO daily_activity (person, provider, day, steps, distance_m, active_kcal, total_kcal, sedentary_s, light_s,
                                    moderate_s, vigorous_s)
        SELECT 'bench', 'oura', d, 6000 + (epoch(d) // 86400 * 37 % 9000), 5000.5, 450.25, 2300.75, 30000, 9000, 2400, 900
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


def payload_samples(conn: duckdb.DuckDBPyConnection, payload: Path) -> dict[int, bytes]:
    """`samples(series_id, ts_ms, value)`: every sample of the recorded payload; return each
    series' label set as the payload spells it (the floor's input, prepared before the runs)."""
    labels: dict[bytes, int] = {}
    ids: list[np.ndarray] = []
    stamps: list[np.ndarray] = []
    values: list[np.ndarray] = []
    with open(payload, "rb") as lines:
        for line in lines:
            head, _, _ = line.partition(b',"values":')
            series = labels.setdefault(head[len(b'{"metric":'):], len(labels))
            row = orjson.loads(line)
            stamps.append(np.array(row["timestamps"], dtype=np.int64))
            values.append(np.array(row["values"], dtype=np.float64))
            ids.append(np.full(len(row["timestamps"]), series, dtype=np.int64))
    arrays = pa.table({name: np.concatenate(parts) for (name, _), parts in zip(COLUMNS, (ids, stamps, values))})
    conn.execute("CREATE TABLE samples AS SELECT * FROM arrays")
    return {series: label for label, series in labels.items()}


def floor(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, labels: dict[int, bytes]) -> None:
    """Send `samples` as simply as an exporter can: one sorted read, JSON lines, requests of the
    export's size, one on the wire while the next is built."""
    reader = conn.sql("SELECT series_id, ts_ms, value FROM samples ORDER BY series_id, ts_ms").to_arrow_reader(
        SAMPLES_PER_REQUEST)
    bodies = (_body(*(_numpy(column, name, dtype) for column, (name, dtype) in zip(batch.columns, COLUMNS)), labels)
              for batch in reader)
    for _ in pipelined(vm, bodies):
        pass


def measured(folder: Path, name: str, vm_config, want: int,  # type: ignore[no-untyped-def]
             work: Callable[[VictoriaMetrics, str], object]) -> float:
    """Run `work` against a fresh server and return its seconds; stop if the server lacks a sample."""
    with LocalVictoriaMetrics(folder / name) as server:
        vm = VictoriaMetrics(vm_config.model_copy(update=dict(enabled=True, url=server.url)))
        began = time.perf_counter()
        work(vm, server.url)
        wall = time.perf_counter() - began
        held = count(vm, want)
        vm.close()
    if held != want:
        sys.exit(f"{name}: VictoriaMetrics holds {held} samples, {want} were sent")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    start = END - timedelta(days=args.days - 1)
    curl = shutil.which("curl")
    if curl is None:
        sys.exit("curl is needed for the comparison: apt-get install -y curl")
    settings, metrics = ExportSettings("bench", TZ), metrics_for(False)
    figures: dict[str, list[float]] = {}

    def note(key: str, value: float) -> None:
        figures.setdefault(key, []).append(value)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_path = folder / "health-pipeline.toml"
        config_path.write_text(f'[app]\ntimezone = "{TZ}"\nuser = "bench"\n')
        vm_config = load_config(config_path).victoriametrics
        with TidyStore(folder / "health.duckdb").connect() as conn:
            fill(conn, start, END)
            rows = scalar(conn, "SELECT count(*) FROM heart_rate")
        shutil.copy(folder / "health.duckdb", folder / "copy.duckdb")
        payload = folder / "payload.jsonl"
        with LocalVictoriaMetrics(folder / "record") as server, open(payload, "wb") as out, \
                TidyStore(folder / "copy.duckdb").connect() as conn:
            recorder = Recording(vm_config.model_copy(update=dict(enabled=True, url=server.url)), out)
            samples = export(conn, recorder, metrics, settings, start=start, end=END, tables=TABLES).samples_appended
            recorder.close()
        floor_db = duckdb.connect(str(folder / "floor.duckdb"))
        labels = payload_samples(floor_db, payload)

        for run in range(args.runs):
            shutil.copy(folder / "health.duckdb", folder / "run.duckdb")
            with TidyStore(folder / "run.duckdb").connect() as conn:
                with LocalVictoriaMetrics(folder / f"export{run}") as server:
                    vm = VictoriaMetrics(vm_config.model_copy(update=dict(enabled=True, url=server.url)))
                    began, cpu = time.perf_counter(), time.process_time()
                    result = export(conn, vm, metrics, settings, start=start, end=END, tables=TABLES, now=datetime.now(timezone.utc))
                    note("export", time.perf_counter() - began)
                    note("cpu", time.process_time() - cpu)
                    began = time.perf_counter()
                    again = export(conn, vm, metrics, settings, start=start, end=END, tables=TABLES, now=datetime.now(timezone.utc))
                    note("noop", time.perf_counter() - began)
                    held = count(vm, samples)
                    vm.close()
            if (result.samples_appended, again.samples_unchanged, again.samples_appended, held) != \
                    (samples, samples, 0, samples):
                sys.exit(f"export: sent {result.samples_appended} of {samples}, the repeat compared "
                         f"{again.samples_unchanged} and sent {again.samples_appended}; the server holds {held}")
            note("curl", measured(folder, f"curl{run}", vm_config, samples, lambda vm, url: subprocess.run(
                [curl, "-sf", "-o", "/dev/null", "--data-binary", f"@{payload}", f"{url}/api/v1/import"],
                check=True)))
            note("floor", measured(folder, f"floor{run}", vm_config, samples,
                                   lambda vm, url: floor(floor_db, vm, labels)))
            print(f"run {run + 1}: export {figures['export'][-1]:.3f} s (CPU {figures['cpu'][-1]:.2f} s), "
                  f"curl {figures['curl'][-1]:.3f} s, floor {figures['floor'][-1]:.3f} s, "
                  f"no-op {figures['noop'][-1]:.3f} s")
        floor_db.close()
        payload_mib = payload.stat().st_size / 2**20

    median = {key: statistics.median(values) for key, values in figures.items()}
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tidy rows: {rows} heart-rate minutes over {args.days} days, plus the daily metrics")
    print(f"medians of {args.runs} runs, {samples} samples ({payload_mib:.0f} MiB of JSON lines) each:")
    for key, what in (("export", f"export ({result.requests} HTTP requests)"), ("curl", "curl, one request"),
                      ("floor", "floor (sorted read, encode, send)")):
        print(f"  {what:36s} {median[key]:.3f} s  {samples / median[key] / 1e6:.2f} M samples/s  "
              f"{median['curl'] / median[key] * 100:3.0f} % of curl's rate")
    print(f"  export CPU time {median['cpu']:.2f} s; no-op export {median['noop']:.3f} s; peak RSS {peak_mib:.0f} MiB")
    print(f"export rate = {median['curl'] / median['export'] * 100:.0f} % of curl's (target >= 70 %); "
          f"the floor reaches {median['curl'] / median['floor'] * 100:.0f} %")


if __name__ == "__main__":
    main()
