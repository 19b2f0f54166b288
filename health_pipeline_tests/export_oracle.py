"""What VictoriaMetrics should hold, computed from the tidy tables without the exporter, and what it holds.

The oracle takes each catalogue entry's own row filter, value and label expressions (the
catalogue is the specification) and does everything else in Python: series label sets, local
midnights, sums per day. The exporter's machinery (scopes, ledger, rewrites, batches) is what the
comparison tests.
"""

import time
from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from health_pipeline.config import Config
from health_pipeline.export.metrics import Metric, metrics_for
from health_pipeline.people import everyone
from health_pipeline.storage.duckdb_store import TidyStore
from health_pipeline.providers.windows import local_midnight
from health_pipeline.storage.victoriametrics import VictoriaMetrics, series_selector

Samples = dict[str, dict[int, float]]  # series key -> {ts_ms: value}
SELECTOR = '{__name__=~"health_.*|fitbit_.*"}'


def series_key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def expected(config: Config, metrics: tuple[Metric, ...] | None = None) -> Samples:
    """Every sample the tidy tables call for, per series: each person's under their `user` label, their days
    stamped at their own midnight."""
    vm = config.victoriametrics
    zones = {p.id: ZoneInfo(p.timezone) for p in everyone(config, config.raw_store())}
    out: Samples = defaultdict(dict)
    with TidyStore(config.app.duckdb).connect(read_only=True) as conn:
        for m in metrics or metrics_for(vm.syncbit_compat):
            labels_sql = "".join(f", CAST({sql} AS VARCHAR)" for _, sql in m.labels)
            time_sql = "NULL" if m.time == "day" else m.time
            rows = conn.execute(
                f"SELECT person, {m.provider_column}, day, {time_sql}, CAST({m.value_sql} AS DOUBLE){labels_sql} "
                f"FROM {m.table} "
                f"WHERE ({m.where}) AND ({m.value_sql}) IS NOT NULL AND {m.provider_column} IS NOT NULL"
            ).fetchall()
            for person, provider, day, instant, value, *label_values in rows:
                if m.providers and provider not in m.providers:
                    continue
                tz = zones[person]
                labels = {"__name__": m.name, "user": person, **vm.extra_labels}
                if m.family == "syncbit":
                    labels["device"] = vm.syncbit_device
                else:
                    labels["provider"] = provider
                labels.update({name: v or "unknown" for (name, _), v in zip(m.labels, label_values)})
                ts = midnight_ms(day, tz) if instant is None else int(instant.timestamp() * 1000)
                series = out[series_key(labels)]
                if m.aggregate:
                    series[ts] = series.get(ts, 0.0) + value
                else:
                    assert ts not in series, (m.name, labels, ts)
                    series[ts] = value
    return dict(out)


def midnight_ms(day: date, tz: ZoneInfo) -> int:
    """00:00 of a local day, in epoch milliseconds (how daily samples are stamped)."""
    return int(local_midnight(day, tz).timestamp() * 1000)


def selector(key: str) -> str:
    """The PromQL selector of a series key (`__name__=x,provider=y,...`)."""
    return series_selector(dict(item.split("=", 1) for item in key.split(",")))


def held(config: Config, selector: str = SELECTOR) -> Samples:
    """Every raw sample VictoriaMetrics holds for the selector (after a flush); a duplicate fails."""
    vm = VictoriaMetrics(config.victoriametrics)
    try:
        vm.force_flush()
        exported = vm.export(selector, start_ms=0, end_ms=int(time.time() * 1000) + 86_400_000 * 3)
    finally:
        vm.close()
    out: Samples = {}
    for s in exported:
        key = series_key(s["metric"])
        assert key not in out, f"{key} exported twice"
        assert len(set(s["timestamps"])) == len(s["timestamps"]), f"{key} holds duplicate samples"
        out[key] = dict(zip(s["timestamps"], s["values"]))
    return out


def settled(config: Config, want: dict[str, set[int]], settle_s: float = 10.0) -> Samples:
    """What VictoriaMetrics holds, read again for up to `settle_s` while its timestamps differ from `want`.

    Imported samples can take a moment to become searchable even after a flush. Duplicates fail
    at once (`held`); whatever still differs at the deadline is returned for the caller to report.
    """
    deadline = time.monotonic() + settle_s
    got = held(config)
    while _timestamps(got) != want and time.monotonic() < deadline:
        time.sleep(0.25)
        got = held(config)
    return got


def assert_exact(config: Config) -> Samples:
    """VictoriaMetrics holds exactly what the tidy tables hold (sums within float rounding)."""
    want = expected(config)
    got = settled(config, _timestamps(want))
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    assert not missing and not extra, f"series missing from VictoriaMetrics: {missing}; not in the tidy tables: {extra}"
    for key, samples in want.items():
        lacking, surplus = sorted(set(samples) - set(got[key])), sorted(set(got[key]) - set(samples))
        assert not lacking and not surplus, (
            f"{key}: timestamps missing {lacking[:5]} ({len(lacking)}), extra {surplus[:5]} ({len(surplus)})")
        for ts, value in samples.items():
            assert got[key][ts] == value or abs(got[key][ts] - value) <= 1e-9 * abs(value), (key, ts)
    return got


def changed_series(before: Samples, after: Samples) -> set[str]:
    """Series with a sample that changed value or vanished (what the exporter must rewrite)."""
    return {key for key, samples in before.items()
            if any(after.get(key, {}).get(ts) != value for ts, value in samples.items())}


def _timestamps(samples: Samples) -> dict[str, set[int]]:
    return {key: set(series) for key, series in samples.items()}
