"""Benchmark 10: what taking a quota slot costs, counted in this process, on Redis, on PostgreSQL.

`Quota.take()` with WHOOP's two windows (a minute and a day; limits out of reach, so nothing
waits): one process taking `--takes` slots one after another, then `--processes` processes taking
as many each at once on the same windows (every take contends for the same keys). Prints takes per
second and the median and 99th percentile latency of one `take()`; Redis and PostgreSQL are
started on loopback (Debian's `redis-server` and `postgresql`).
Run: .venv/bin/python bench/shared_limiter.py [--takes 2000] [--processes 4]
"""

import argparse
import multiprocessing
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from health_pipeline.coordination import window_counts  # noqa: E402
from health_pipeline.dev.local_postgres import LocalPostgres  # noqa: E402
from health_pipeline.dev.local_redis import LocalRedis  # noqa: E402
from health_pipeline.providers.quota import Quota, Window  # noqa: E402

WINDOWS = (Window("minute", 60, 10**9, aligned=False, paced=True), Window("day", 86_400, 10**9))


def _takes(url: str, provider: str, takes: int, start: "multiprocessing.synchronize.Barrier | None" = None,
           out: "multiprocessing.Queue[list[float]] | None" = None) -> list[float]:
    quota = Quota(provider, WINDOWS, max_wait_s=1, counts=window_counts(url))
    quota.take()  # connected (and the windows' rows made) before timing
    if start is not None:
        start.wait(timeout=120)
    latencies = []
    for _ in range(takes):
        began = time.perf_counter()
        quota.take()
        latencies.append(time.perf_counter() - began)
    if out is not None:
        out.put(latencies)
    return latencies


def _figures(latencies: list[float], wall_s: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{len(latencies) / wall_s:>9,.0f} takes/s   median {statistics.median(ordered) * 1e3:6.3f} ms   "
            f"p99 {p99 * 1e3:6.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--takes", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    with LocalRedis() as redis_server, LocalPostgres() as postgres:
        backends = {"in-process": "", "Redis": redis_server.url,
                    "PostgreSQL": f"postgresql://dagster@127.0.0.1:{postgres.port}/dagster"}
        for name, url in backends.items():
            began = time.perf_counter()
            latencies = _takes(url, f"bench-{uuid.uuid4().hex[:8]}", args.takes)
            print(f"{name:<11} 1 process   {_figures(latencies, time.perf_counter() - began)}", flush=True)
            if not url:
                continue  # in-process counts are not shared: several processes would not contend
            provider, barrier, out = f"bench-{uuid.uuid4().hex[:8]}", spawn.Barrier(args.processes + 1), spawn.Queue()
            children = [spawn.Process(target=_takes, args=(url, provider, args.takes, barrier, out))
                        for _ in range(args.processes)]
            for child in children:
                child.start()
            barrier.wait(timeout=120)
            began = time.perf_counter()
            together = [latency for _ in children for latency in out.get(timeout=600)]
            wall = time.perf_counter() - began
            for child in children:
                child.join(timeout=60)
            print(f"{name:<11} {args.processes} processes {_figures(together, wall)}", flush=True)


if __name__ == "__main__":
    main()
