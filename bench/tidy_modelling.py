"""Benchmark 2: modelling two years of per-minute heart rate into `heart_rate`, against DuckDB's floor.

Two years of Fitbit (Google Health) per-minute heart-rate roll-ups (1440 points a day, about
1.05 million) are landed in a real raw store, one record per local day, exactly as the client
stores them. Measured:
- model: `rebuild_window` of the whole range (read the raw store, hand the payloads to DuckDB as
  Arrow, parse, expand, insert into a DuckDB file, in one transaction);
- floor: DuckDB reading the same payloads straight from an NDJSON file with `read_json` and
  inserting the same rows (no raw store, no Python in between).
Peak memory (RSS) of the process is printed too. Target: model under 10 s on the 2-core machine.
Run: .venv/bin/python bench/tidy_modelling.py [--days 730]
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.storage.duckdb_store import TidyStore, scalar  # noqa: E402
from health_pipeline.storage.raw_store import RawRecord, RawStore  # noqa: E402
from health_pipeline.registry import TABLES  # noqa: E402
from health_pipeline.tidy.models import rebuild_window  # noqa: E402

TZ = ZoneInfo("Europe/Berlin")


def day_points(day: date) -> list[dict[str, object]]:
    """One local day of per-minute roll-up points, as Google Health answers `rollUp` (DST-exact)."""
    start = datetime.combine(day, dtime(0), TZ).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), dtime(0), TZ).astimezone(timezone.utc)
    points = []
    minute = start
    n = day.toordinal()
    while minute < end:
        bpm = 55 + (n * 7 + minute.hour * 13 + minute.minute) % 60
        points.append({"startTime": minute.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "endTime": (minute + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "heartRate": {"beatsPerMinuteMin": bpm - 3, "beatsPerMinuteAvg": bpm + 0.25,
                                     "beatsPerMinuteMax": bpm + 4}})
        minute += timedelta(minutes=1)
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=730)
    days = parser.parse_args().days
    end = date(2026, 11, 9)
    start = end - timedelta(days=days - 1)
    source = TABLES["heart_rate"].source("fitbit")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = RawStore(folder / "raw.sqlite")
        store.init()
        payloads = [(start + timedelta(days=i), day_points(start + timedelta(days=i))) for i in range(days)]
        samples = sum(len(p) for _, p in payloads)
        t0 = time.perf_counter()
        store.land("fitbit", "heart-rate", [RawRecord(d.isoformat(), d.isoformat(), p) for d, p in payloads])
        landing_s = time.perf_counter() - t0
        with (folder / "payloads.ndjson").open("w") as out:
            for d, p in payloads:
                out.write(json.dumps({"day": d.isoformat(), "points": p}, separators=(",", ":")) + "\n")
        del payloads

        with TidyStore(folder / "model.duckdb").connect() as conn:
            t0 = time.perf_counter()
            result = rebuild_window(conn, store, source, start, end)
            model_s = time.perf_counter() - t0
            assert result.rows == samples, (result.rows, samples)
            assert scalar(conn, "SELECT count(DISTINCT ts) FROM heart_rate") == samples

        with TidyStore(folder / "floor.duckdb").connect() as conn:
            conn.execute(TABLES["heart_rate"].ddl)
            t0 = time.perf_counter()
            conn.execute(f"""
                INSERT INTO heart_rate BY NAME
                SELECT 'me' AS person, 'fitbit' AS provider, CAST(p.startTime AS TIMESTAMPTZ) AS ts, CAST(day AS DATE) AS day,
                       p.heartRate.beatsPerMinuteAvg AS bpm, 'minute_avg' AS source
                FROM (SELECT day, unnest(points) AS p FROM read_json('{folder / "payloads.ndjson"}',
                      columns={{day: 'VARCHAR', points: 'STRUCT(startTime VARCHAR, heartRate STRUCT(beatsPerMinuteAvg DOUBLE))[]'}},
                      format='newline_delimited', maximum_object_size=16777216))""")
            floor_s = time.perf_counter() - t0
            assert scalar(conn, "SELECT count(*) FROM heart_rate") == samples

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"days: {days}, samples: {samples:,}")
    print(f"landing into the raw store (not part of the target): {landing_s:.2f} s")
    print(f"floor (DuckDB read_json of the same payloads + insert): {floor_s:.2f} s")
    print(f"peak RSS of the whole benchmark: {peak_mib:.0f} MiB")
    print(f"model heart_rate from the raw store: {model_s:.2f} s for {samples:,} samples "
          f"({samples / model_s / 1e6:.2f} M samples/s), {model_s / floor_s:.2f}x the read_json floor (target < 10 s)")


if __name__ == "__main__":
    main()
