"""The export ledger: a first-release ledger is carried over without losing what VictoriaMetrics holds."""

from datetime import date
from pathlib import Path

from health_pipeline.export import ledger
from health_pipeline.storage.duckdb_store import TidyStore

STEPS = '{"__name__":"health_steps","provider":"oura","user":"me"}'
HR = '{"__name__":"health_heart_rate_bpm","provider":"oura","user":"me"}'


def test_a_first_release_ledger_becomes_series_and_day_digests(tmp_path: Path) -> None:
    with TidyStore(tmp_path / "health.duckdb").connect() as conn:
        conn.execute("CREATE TABLE _vm_ledger (metric VARCHAR, series VARCHAR, day DATE, ts_ms BIGINT, value DOUBLE)")
        conn.execute("CREATE TABLE _vm_dirty (series VARCHAR)")
        conn.execute("INSERT INTO _vm_ledger VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)", [
            "health_steps", STEPS, date(2026, 11, 1), 1_793_487_600_000, 8123.0,
            "health_heart_rate_bpm", HR, date(2026, 11, 1), 1_793_490_000_000, 61.0,
            "health_heart_rate_bpm", HR, date(2026, 11, 1), 1_793_490_060_000, 63.5])
        conn.execute("INSERT INTO _vm_dirty VALUES (?)", [HR])
        ledger.prepare(conn)
        series = conn.execute("SELECT series_id, metric, provider, series FROM _vm_series ORDER BY 1").fetchall()
        assert series == [(1, "health_heart_rate_bpm", "oura", HR), (2, "health_steps", "oura", STEPS)]
        digest = conn.execute("SELECT xor(hash(1793490000000::BIGINT, 61.0::DOUBLE), "
                              "hash(1793490060000::BIGINT, 63.5::DOUBLE))").fetchone()[0]  # type: ignore[index]
        assert conn.execute("SELECT * FROM _vm_days ORDER BY 1").fetchall() == [
            (1, date(2026, 11, 1), 2, 1_793_490_060_000, digest),
            (2, date(2026, 11, 1), 1, 1_793_487_600_000,
             conn.execute("SELECT hash(1793487600000::BIGINT, 8123.0::DOUBLE)").fetchone()[0]),  # type: ignore[index]
        ]
        assert conn.execute("SELECT * FROM _vm_dirty").fetchall() == [(1,)]
        assert not conn.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = '_vm_ledger'").fetchall()
        ledger.prepare(conn)  # again: nothing to carry over, nothing changes
        assert conn.execute("SELECT count(*) FROM _vm_days").fetchone() == (2,)


def test_two_tidy_rows_making_one_sample_are_refused_before_anything_is_sent(tmp_path: Path) -> None:

    import pytest

    from health_pipeline.export.exporter import ExportRefused, ExportSettings, export
    from health_pipeline.registry import TABLES, load_config
    from health_pipeline.export.metrics import metrics_for
    from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
    from health_pipeline.storage.victoriametrics import VictoriaMetrics
    from health_pipeline.tidy.models import create_tables

    (tmp_path / "c.toml").write_text('[app]\ntimezone = "Europe/Berlin"\n')
    with LocalVictoriaMetrics(tmp_path / "vm") as server, TidyStore(tmp_path / "health.duckdb").connect() as conn:
        create_tables(conn)
        conn.execute("INSERT INTO workouts (person, provider, workout_id, day, start_ts, end_ts, activity, duration_s) "
                     "VALUES ('me', 'hevy', 'a', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01 17:00:00+00', "
                     "TIMESTAMPTZ '2026-11-01 18:00:00+00', 'strength_training', 3600), "
                     "('me', 'hevy', 'b', DATE '2026-11-01', TIMESTAMPTZ '2026-11-01 17:00:00+00', "
                     "TIMESTAMPTZ '2026-11-01 17:30:00+00', 'strength_training', 1800)")
        conn.execute("INSERT INTO _tidy_state VALUES ('workouts', 'me', 'hevy', 'modelled', now())")  # as a run leaves it
        vm = VictoriaMetrics(load_config(tmp_path / "c.toml").victoriametrics.model_copy(update=dict(enabled=True, url=server.url)))
        with pytest.raises(ExportRefused, match=r'two tidy rows map to one sample \(\{"__name__":'
                                                r'"health_workout_duration_seconds",.*\} at 2026-11-01T17:00:00\+00:00\)'):
            export(conn, vm, metrics_for(False), ExportSettings("me", "Europe/Berlin"), tables=TABLES, start=date(2026, 11, 1),
                   end=date(2026, 11, 1))
        assert conn.execute("SELECT count(*) FROM _vm_days").fetchone() == (0,)
        assert vm.export('{__name__=~"health_.*"}', start_ms=0) == []
        vm.close()


def test_a_ledger_from_before_people_becomes_its_user_s_and_keeps_every_figure(tmp_path: Path) -> None:
    series = '{"__name__":"health_steps","provider":"oura","user":"jane"}'
    with TidyStore(tmp_path / "health.duckdb").connect() as conn:
        conn.execute("CREATE TABLE _vm_series (series_id BIGINT PRIMARY KEY, metric VARCHAR NOT NULL, "
                     "provider VARCHAR NOT NULL, series VARCHAR NOT NULL UNIQUE)")
        conn.execute("CREATE TABLE _vm_pending (table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, "
                     "start_day DATE NOT NULL, end_day DATE NOT NULL)")
        conn.execute("CREATE TABLE _vm_sources (table_name VARCHAR NOT NULL, provider VARCHAR NOT NULL, "
                     "token VARCHAR NOT NULL, PRIMARY KEY (table_name, provider))")
        conn.execute("CREATE TABLE _vm_settings (name VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)")
        conn.execute("INSERT INTO _vm_series VALUES (7, 'health_steps', 'oura', ?)", [series])
        conn.execute("INSERT INTO _vm_pending VALUES ('daily_activity', 'oura', DATE '2026-11-01', DATE '2026-11-02')")
        conn.execute("INSERT INTO _vm_sources VALUES ('workouts', 'hevy', 'tok')")
        conn.execute("INSERT INTO _vm_settings VALUES ('labels', 'fp')")
        ledger.prepare(conn)
        ledger.prepare(conn)  # a second time changes nothing
        assert conn.execute("SELECT series_id, series, person FROM _vm_series").fetchall() == [(7, series, "jane")]
        assert ledger.pending(conn, "jane") == [ledger.Scope("daily_activity", "oura", date(2026, 11, 1),
                                                             date(2026, 11, 2), person="jane")]
        assert ledger.pending(conn, "bob") == []
        assert ledger.exported_tokens(conn, "jane") == {("workouts", "hevy"): "tok"}
        assert ledger.exported_tokens(conn, "bob") == {}
        assert not ledger.settings_changed(conn, "fp", "jane")  # her series keep their labels: nothing re-sent
        assert ledger.settings_changed(conn, "other", "jane")
        assert not ledger.settings_changed(conn, "fp", "bob")  # nothing of bob's written yet
