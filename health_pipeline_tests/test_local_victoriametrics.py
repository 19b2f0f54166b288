"""The local VictoriaMetrics runner used by the demo, the tests and the benchmarks."""

from pathlib import Path

import pytest

from health_pipeline.dev import local_victoriametrics
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics, LocalVictoriaMetricsError


def test_stopping_a_server_that_never_started_does_nothing(tmp_path: Path) -> None:
    server = LocalVictoriaMetrics(tmp_path / "vm")

    server.stop()

    assert server.process is None


def test_a_missing_binary_gets_the_install_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_victoriametrics, "BINARY", "victoria-metrics-not-installed")

    with pytest.raises(LocalVictoriaMetricsError, match="apt-get install -y victoria-metrics"):
        with LocalVictoriaMetrics(tmp_path / "vm"):
            pass
