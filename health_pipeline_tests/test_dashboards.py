"""The Grafana dashboards: generated from scripts/make_dashboards.py, naming only exported metrics,
and every query answered by a real VictoriaMetrics."""

import importlib.util
import json
import re

import requests
import yaml

from health_pipeline.export.metrics import METRIC_NAMES
from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics
from health_pipeline_tests.test_definitions import REPO

DEPLOY = REPO / "deploy" / "grafana"
SEEN_AT = 1_793_487_600_000  # 2026-11-01 00:00 Europe/Berlin


def _script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_dashboards", REPO / "scripts" / "make_dashboards.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def queries() -> list[str]:
    found = []
    for path in sorted((DEPLOY / "dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        found += [t["expr"] for p in board["panels"] if p["type"] != "row" for t in p["targets"]]
    return found


def test_the_dashboards_are_what_the_script_writes_and_name_only_exported_metrics() -> None:
    rendered = _script().render()
    assert sorted(rendered) == sorted(p.name for p in (DEPLOY / "dashboards").glob("*.json"))
    for name, text in rendered.items():
        assert (DEPLOY / "dashboards" / name).read_text(encoding="utf-8") == text, "run scripts/make_dashboards.py"
    named = {m for q in queries() for m in re.findall(r"\b(?:health|fitbit)_[a-z0-9_]+", q)}
    assert named <= set(METRIC_NAMES) and len(named) == 28
    assert {"fitbit_steps_total", "health_training_volume_kg", "health_body_weight_kg"} <= named
    datasource = yaml.safe_load((DEPLOY / "provisioning" / "datasources" / "victoriametrics.yaml").read_text())
    assert datasource["datasources"][0]["uid"] == "victoriametrics"
    provider = yaml.safe_load((DEPLOY / "provisioning" / "dashboards" / "health-pipeline.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"


def test_every_dashboard_query_returns_data_from_victoriametrics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    names = sorted({m for q in queries() for m in re.findall(r"\b(?:health|fitbit)_[a-z0-9_]+", q)})
    labels = {"user": "me", "provider": "oura", "type": "main", "stage": "deep", "level": "light", "zone": "cardio",
              "activity": "running", "device": "charge6"}
    lines = [json.dumps({"metric": {"__name__": n, **labels}, "values": [1.0, 2.0],
                         "timestamps": [SEEN_AT, SEEN_AT + 86_400_000]}) for n in names]
    with LocalVictoriaMetrics(tmp_path / "vm") as server:
        assert requests.post(f"{server.url}/api/v1/import", data="\n".join(lines) + "\n", timeout=10).status_code == 204
        requests.get(f"{server.url}/internal/force_flush", timeout=10).raise_for_status()
        empty = []
        for query in queries():
            answer = requests.get(f"{server.url}/api/v1/query_range", timeout=10, params={
                "query": query.replace("$user", "me"), "start": SEEN_AT / 1000, "end": SEEN_AT / 1000 + 3 * 86400,
                "step": "1d", "nocache": "1"}).json()
            assert answer["status"] == "success", (query, answer)
            if not answer["data"]["result"]:
                empty.append(query)
        assert empty == []

