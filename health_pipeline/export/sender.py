"""Sending samples to VictoriaMetrics in bounded requests, recorded in the ledger once confirmed.

One pass over the samples sums them up per series and local day (what the ledger keeps) and
cuts the days, in (series, day) order, into requests of about `SAMPLES_PER_REQUEST` samples, so
each request carries whole days. One sorted read then streams the samples; each request's
JSON lines (one per series and week, so the server parses them in parallel) are built while
the previous request is on the wire.

The series being sent are marked dirty before the first request. Once the sending stops (all
confirmed, or a failure), the confirmed requests' days enter the ledger and every series no
longer in doubt is cleared, in one transaction: only the series of a request that failed stay
dirty (and, after a crash, those of the whole send), to be rewritten whole by the next export.
"""

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from health_pipeline.export import ledger
from health_pipeline.storage.victoriametrics import VictoriaMetrics

LINE_MS = 7 * 86_400_000
SAMPLES_PER_REQUEST = 500_000
ROWS_PER_BATCH = 100_000  # of the sorted read
COLUMNS = (("series_id", np.int64), ("ts_ms", np.int64), ("value", np.float64))  # of the sorted read


def send(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, table: str, *, staged: bool) -> int:
    """Import every sample of `table` (series_id, day, ts_ms, value); return how many.

    Appended samples enter the ledger (`_vm_days`); a rewrite's go to `_staged_days`, for the
    caller to swap in once all is through.
    """
    sizes = _plan_requests(conn, table)
    if not sizes:
        return 0
    ids = [row[0] for row in conn.execute("SELECT DISTINCT series_id FROM _send_days").fetchall()]
    labels = {sid: series.encode() for sid, series in conn.execute(
        "SELECT series_id, series FROM _vm_series WHERE series_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()}
    if not staged:
        ledger.mark_dirty(conn, ids)
    confirmed = 0
    names = ", ".join(name for name, _ in COLUMNS)
    reader = conn.sql(f"SELECT {names} FROM {table} ORDER BY series_id, day, ts_ms").to_arrow_reader(ROWS_PER_BATCH)
    try:
        for _ in pipelined(vm, _bodies(reader, sizes, labels)):
            confirmed += 1
    finally:
        # The sorted read must be closed before the connection runs anything else.
        reader.close()
        _record(conn, confirmed, staged)
    return sum(sizes)


def pipelined(vm: VictoriaMetrics, bodies: Iterable[bytes]) -> Iterator[None]:
    """Import each body while the next one is built (one request on the wire); yield as each is confirmed."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vm-import") as pool:
        inflight: Future[None] | None = None
        for body in bodies:
            if inflight:
                inflight.result()
                yield
            inflight = pool.submit(vm.import_body, body)
        if inflight:
            inflight.result()
            yield


def _plan_requests(conn: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    """`_send_days(series_id, day, n, last_ts, digest, request)`; return each request's sample count."""
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _send_days AS
        WITH days AS (SELECT series_id, day, {ledger.DAY_SUMMARY} FROM {table} GROUP BY series_id, day),
        cut AS (SELECT *, (sum(n) OVER (ORDER BY series_id, day ROWS UNBOUNDED PRECEDING) - n) // {SAMPLES_PER_REQUEST}
                          AS slot FROM days)
        SELECT * EXCLUDE (slot), CAST(dense_rank() OVER (ORDER BY slot) - 1 AS INTEGER) AS request FROM cut
    """)  # a day bigger than a request skips a slot: requests are numbered without gaps
    return [row[1] for row in conn.execute(
        "SELECT request, CAST(sum(n) AS BIGINT) FROM _send_days GROUP BY request ORDER BY request").fetchall()]


def _bodies(reader: pa.RecordBatchReader, sizes: list[int], labels: dict[int, bytes]) -> Iterator[bytes]:
    """Each request's body, cut from the sorted read by the planned sample counts."""
    pending: list[list[np.ndarray]] = [[], [], []]  # series ids, timestamps, values
    held = 0
    for size in sizes:
        while held < size:
            batch = reader.read_next_batch()
            for parts, column, (name, dtype) in zip(pending, batch.columns, COLUMNS):
                parts.append(_numpy(column, name, dtype))
            held += batch.num_rows
        ids, stamps, values = (np.concatenate(parts) for parts in pending)
        yield _body(ids[:size], stamps[:size], values[:size], labels)
        pending, held = [[ids[size:]], [stamps[size:]], [values[size:]]], held - size


def _numpy(column: pa.Array, name: str, dtype: type[np.generic]) -> np.ndarray:
    """A fixed-width Arrow column without nulls as NumPy, without a copy (pyarrow's own `to_numpy`
    imports pandas, a second on first use)."""
    if column.null_count:  # the tidy tables' time columns are NOT NULL, and values are filtered
        raise ValueError(f"{column.null_count} samples to export have no {name}")
    width = np.dtype(dtype).itemsize
    return np.frombuffer(column.buffers()[1], dtype=dtype, count=len(column), offset=column.offset * width)


def _body(ids: np.ndarray, stamps: np.ndarray, values: np.ndarray, labels: dict[int, bytes]) -> bytes:
    """A request's JSON lines for `/api/v1/import`: one per series and week, samples in time order."""
    weeks = stamps // LINE_MS
    cuts = np.flatnonzero((ids[1:] != ids[:-1]) | (weeks[1:] != weeks[:-1])) + 1
    bounds = [0, *cuts.tolist(), len(ids)]
    numpy = orjson.OPT_SERIALIZE_NUMPY
    lines = [b'{"metric":' + labels[int(ids[a])] + b',"values":' + orjson.dumps(values[a:b], option=numpy)
             + b',"timestamps":' + orjson.dumps(stamps[a:b], option=numpy) + b"}" for a, b in zip(bounds, bounds[1:])]
    return b"\n".join(lines) + b"\n"


def _record(conn: duckdb.DuckDBPyConnection, confirmed: int, staged: bool) -> None:
    """Add the days of the first `confirmed` requests to the ledger; clear the series no longer in doubt.

    A series is in doubt when it has days in the first unconfirmed request (which may have been
    half taken); the series wholly before or wholly after it are exactly what the ledger says.
    """
    conn.execute("BEGIN TRANSACTION")
    ledger.add_days(conn, f"SELECT series_id, day, n, last_ts, digest FROM _send_days WHERE request < {confirmed}",
                    target="_staged_days" if staged else "_vm_days")
    if not staged:
        conn.execute(f"""
            DELETE FROM _vm_dirty WHERE series_id IN (
                SELECT series_id FROM _send_days GROUP BY series_id
                HAVING max(request) < {confirmed} OR min(request) > {confirmed})
        """)
    conn.execute("COMMIT")
