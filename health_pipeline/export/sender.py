"""Sending samples to VictoriaMetrics in bounded requests, each recorded once it is confirmed.

Samples are cut into lines of one series and one week each (so the server parses them in
parallel: 10 080 samples for per-minute data) and the lines into requests of about
`SAMPLES_PER_REQUEST` samples (bounded memory). While one request is on the wire, the next one
is prepared.
"""

from concurrent.futures import Future, ThreadPoolExecutor

import duckdb
import numpy as np
import orjson

from health_pipeline.export import ledger
from health_pipeline.storage.duckdb_store import scalar
from health_pipeline.storage.victoriametrics import VictoriaMetrics

LINE_MS = 7 * 86_400_000
SAMPLES_PER_REQUEST = 500_000


def send(conn: duckdb.DuckDBPyConnection, vm: VictoriaMetrics, table: str, *, staged: bool) -> int:
    """Import every sample of `table` (series_id, day, ts_ms, value); return how many.

    Appended samples enter the ledger (`_vm_days`) request by request, their series marked dirty
    while a request is in flight; a rewrite's samples go to `_staged_days`, for the caller to swap
    in once all is through.
    """
    total = int(scalar(conn, f"SELECT count(*) FROM {table}") or 0)
    if not total:
        return 0
    _plan_requests(conn, table)
    requests = int(scalar(conn, "SELECT max(request) + 1 FROM _lines") or 0)
    labels = {sid: series.encode() for sid, series in conn.execute(
        "SELECT series_id, series FROM _vm_series WHERE series_id IN (SELECT series_id FROM _lines)").fetchall()}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vm-import") as pool:
        inflight: tuple[Future[None], int, list[int]] | None = None
        for request in range(requests):
            body = _body(conn, table, request, labels)
            ids = [row[0] for row in conn.execute(
                "SELECT DISTINCT series_id FROM _lines WHERE request = ?", [request]).fetchall()]
            if inflight:
                _confirm(conn, table, inflight, staged)
            if not staged:
                ledger.mark_dirty(conn, ids)
            inflight = (pool.submit(vm.import_body, body), request, ids)
        if inflight:
            _confirm(conn, table, inflight, staged)
    return total


def _plan_requests(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """`_lines(series_id, week, request)`: each line of the send and the request carrying it."""
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _lines AS
        WITH counted AS (SELECT series_id, ts_ms // {LINE_MS} AS week, count(*) AS n FROM {table} GROUP BY ALL)
        SELECT series_id, week,
               (sum(n) OVER (ORDER BY series_id, week ROWS UNBOUNDED PRECEDING) - n) // {SAMPLES_PER_REQUEST} AS request
        FROM counted
    """)


def _of_request(table: str) -> str:
    return (f"FROM {table} o JOIN (SELECT series_id, week FROM _lines WHERE request = $request) l "
            f"ON l.series_id = o.series_id AND l.week = o.ts_ms // {LINE_MS}")


def _body(conn: duckdb.DuckDBPyConnection, table: str, request: int, labels: dict[int, bytes]) -> bytes:
    """The request's JSON lines for `/api/v1/import`: one per series and week, samples in time order."""
    columns = conn.execute(f"SELECT o.series_id, o.ts_ms, o.value {_of_request(table)} ORDER BY o.series_id, o.ts_ms",
                           {"request": request}).fetchnumpy()
    ids = np.ascontiguousarray(columns["series_id"])
    stamps = np.ascontiguousarray(columns["ts_ms"], dtype=np.int64)
    values = np.ascontiguousarray(columns["value"], dtype=np.float64)
    weeks = stamps // LINE_MS
    cuts = np.flatnonzero((ids[1:] != ids[:-1]) | (weeks[1:] != weeks[:-1])) + 1
    bounds = [0, *cuts.tolist(), len(ids)]
    numpy = orjson.OPT_SERIALIZE_NUMPY
    lines = [b'{"metric":' + labels[int(ids[a])] + b',"values":' + orjson.dumps(values[a:b], option=numpy)
             + b',"timestamps":' + orjson.dumps(stamps[a:b], option=numpy) + b"}" for a, b in zip(bounds, bounds[1:])]
    return b"\n".join(lines) + b"\n"


def _confirm(conn: duckdb.DuckDBPyConnection, table: str, inflight: tuple["Future[None]", int, list[int]],
             staged: bool) -> None:
    """Wait for a request; once VictoriaMetrics confirmed it, record its samples."""
    future, request, ids = inflight
    future.result()
    conn.execute("BEGIN TRANSACTION")
    ledger.record(conn, f"SELECT o.series_id, o.day, o.ts_ms, o.value {_of_request(table)}", {"request": request},
                  target="_staged_days" if staged else "_vm_days")
    if not staged:
        conn.execute("DELETE FROM _vm_dirty WHERE series_id IN (SELECT unnest(?::BIGINT[]))", [ids])
    conn.execute("COMMIT")
