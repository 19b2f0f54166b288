"""The sender: whole local days per request, and a send that fails part-way leaves an exact ledger.

A real DuckDB file and a real VictoriaMetrics; requests are made tiny so that three days of
hourly heart rate and six days of daily metrics take several of them.
"""

import json
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from health_pipeline.registry import load_config
from health_pipeline.settings import VictoriaMetricsConfig
from health_pipeline.export import sender
from health_pipeline.registry import TABLES
from health_pipeline.export.exporter import ExportSettings, export
from health_pipeline.export.metrics import metrics_for
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.storage.victoriametrics import VictoriaMetrics, VictoriaMetricsError
from health_pipeline.tidy.models import create_tables
from health_pipeline_tests.export_oracle import assert_exact, series_key, settled

TZ = "Europe/Berlin"
START, END = date(2026, 11, 1), date(2026, 11, 6)
SETTINGS = ExportSettings("me", TZ)


class FailingOn(VictoriaMetrics):
    """A client that keeps every body it was asked to send and fails instead of sending the n-th."""

    def __init__(self, config: VictoriaMetricsConfig, fail_on: int) -> None:
        super().__init__(config)
        self.fail_on = fail_on
        self.bodies: list[bytes] = []

    def import_body(self, body: bytes) -> None:
        self.bodies.append(body)
        if len(self.bodies) == self.fail_on:
            raise VictoriaMetricsError("VictoriaMetrics at the test server refused the import (HTTP 503)")
        super().import_body(body)


def fill(conn: duckdb.DuckDBPyConnection) -> None:
    """Six days of Oura activity (one sample a day per metric), three days of hourly Fitbit heart rate."""
    create_tables(conn)
    conn.execute("""
        INSERT INTO daily_activity (person, provider, day, steps, distance_m, active_kcal)
        SELECT 'me', 'oura', d, 5000 + 100 * day(d), 4000.5, 300.25
        FROM (SELECT CAST(unnest(generate_series(DATE '2026-11-01', DATE '2026-11-06', INTERVAL 1 DAY)) AS DATE) AS d)
    """)
    conn.execute(f"""
        INSERT INTO heart_rate
        SELECT 'me', 'fitbit', ts, CAST(timezone('{TZ}', ts) AS DATE), 50 + hour(ts), 'minute_avg'
        FROM (SELECT unnest(generate_series(TIMESTAMPTZ '2026-11-01 00:00:00+01', TIMESTAMPTZ '2026-11-03 23:00:00+01',
                                            INTERVAL 1 HOUR)) AS ts)
    """)


def samples_of(body: bytes) -> list[tuple[str, date, int, float]]:
    """(series key, local day, ts_ms, value) of every sample in an import body."""
    out = []
    for line in body.decode().splitlines():
        row = json.loads(line)
        for ts, value in zip(row["timestamps"], row["values"]):
            day = datetime.fromtimestamp(ts / 1000, timezone.utc).astimezone(ZoneInfo(TZ)).date()
            out.append((series_key(row["metric"]), day, ts, value))
    return out


def test_a_send_failing_part_way_records_the_confirmed_days_and_leaves_only_the_failed_requests_series_dirty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender, "SAMPLES_PER_REQUEST", 10)  # smaller than a day of heart rate (24)
    monkeypatch.setattr(sender, "ROWS_PER_BATCH", 7)  # requests cut across the read's batches
    with LocalVictoriaMetrics(tmp_path / "vm") as server:
        (tmp_path / "c.toml").write_text(f'[app]\ntimezone = "{TZ}"\nuser = "me"\nduckdb = "health.duckdb"\n'
                                         f'[victoriametrics]\nenabled = true\nurl = "{server.url}"\n')
        config = load_config(tmp_path / "c.toml")
        failing = FailingOn(config.victoriametrics, fail_on=3)
        with TidyStore(config.app.duckdb).connect() as conn:
            fill(conn)
            with pytest.raises(VictoriaMetricsError, match=r"HTTP 503"):
                export(conn, failing, metrics_for(False), SETTINGS, start=START, end=END, tables=TABLES)
            ledger_days = conn.execute("SELECT s.series, d.day, d.n, d.last_ts FROM _vm_days d "
                                       "JOIN _vm_series s USING (series_id)").fetchall()
            dirty = {series_key(json.loads(s)) for (s,) in conn.execute(
                "SELECT series FROM _vm_dirty JOIN _vm_series USING (series_id)").fetchall()}
        failing.close()

        requests = [samples_of(body) for body in failing.bodies]
        assert len(requests) == 3 and all(len(r) >= 10 for r in requests)
        days_per_request = Counter(key for r in requests for key in {(s, d) for s, d, _, _ in r})
        assert set(days_per_request.values()) == {1}  # a series' local day goes whole, in one request
        confirmed = [sample for request in requests[:2] for sample in request]
        want_days: dict[tuple[str, date], tuple[int, int]] = {}
        for series, day, ts, _ in confirmed:
            n, last = want_days.get((series, day), (0, 0))
            want_days[(series, day)] = (n + 1, max(last, ts))
        assert {(series_key(json.loads(s)), day): (n, last) for s, day, n, last in ledger_days} == want_days
        failed_series = {series for series, _, _, _ in requests[2]}
        assert dirty == failed_series and dirty  # only the failed request's series are in doubt
        sent: dict[str, set[int]] = {}
        for series, _, ts, _ in confirmed:
            sent.setdefault(series, set()).add(ts)
        assert {key: set(samples) for key, samples in settled(config, sent).items()} == sent

        with TidyStore(config.app.duckdb).connect() as conn:
            vm = VictoriaMetrics(config.victoriametrics)
            result = export(conn, vm, metrics_for(False), SETTINGS, start=START, end=END, tables=TABLES)
            vm.close()
        got = assert_exact(config)
        total = sum(map(len, got.values()))
        assert len(got["__name__=health_heart_rate_bpm,provider=fitbit,user=me"]) == 72
        assert sum(map(len, requests)) < total  # some series were never reached by the failed send
        rewritten = sum(len(got[series]) for series in dirty)
        unchanged = sum(1 for series, _, _, _ in confirmed if series not in dirty)
        assert (result.samples_rewritten, result.samples_unchanged, result.samples_appended) == (
            rewritten, unchanged, total - rewritten - unchanged)
