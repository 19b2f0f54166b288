"""How long a home from before people takes to migrate in place (raw store schema 1 -> 2).

Builds a schema-1 raw store of N records (one payload of a day of per-minute heart rate's size every
100th, small documents otherwise), then times `RawStore(path, "me").init()` and checks nothing was lost.

Run: .venv/bin/python bench/people_migration.py [--records 1100000]
"""

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from health_pipeline.storage.raw_sqlite import SCHEMA_1  # noqa: E402
from health_pipeline.storage.raw_store import RawStore  # noqa: E402



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_100_000)
    n = parser.parse_args().records
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "raw.sqlite"
        with sqlite3.connect(path) as conn:
            conn.executescript(SCHEMA_1)
            big = '{"points":[' + ",".join('{"bpm":60}' for _ in range(1440)) + "]}"
            conn.executemany("INSERT INTO records VALUES ('apple_health', 'steps', ?, ?, ?, 'x', 't', NULL)",
                             ((f"r{i}", f"2020-01-{1 + i % 28:02d}", big if i % 100 == 0 else '{"v":1}')
                              for i in range(n)))
        size = path.stat().st_size
        started = time.perf_counter()
        store = RawStore(path, "me")
        store.init()
        took = time.perf_counter() - started
        with sqlite3.connect(path) as conn:
            (kept,) = conn.execute("SELECT count(*) FROM records WHERE person = 'me'").fetchone()
        assert kept == n, (kept, n)
        print(f"{n:,} records ({size / 2**20:.0f} MiB) migrated to schema 2 in {took:.1f} s")


if __name__ == "__main__":
    main()
