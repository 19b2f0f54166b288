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


METRIC = re.compile(r"\b((?:health|fitbit)_[a-z0-9_]+)(\{[^}]*\})?")


def boards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted((DEPLOY / "dashboards").glob("*.json"))}


def queries() -> list[str]:
    return [t["expr"] for board in boards().values() for p in board["panels"] if p["type"] != "row"
            for t in p["targets"]]


def selectors(expr: str) -> list[tuple[str, list[str]]]:
    """Each metric an expression reads, with the matchers of its selector (none: a bare name)."""
    return [(name, [m.strip() for m in braces[1:-1].split(",")] if braces else [])
            for name, braces in METRIC.findall(expr)]


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


def test_every_dashboard_has_a_person_selector_and_every_query_reads_one_person() -> None:
    assert sorted(boards()) == ["health-pipeline-syncbit.json", "health-pipeline.json"]
    for name, board in boards().items():
        [variable] = board["templating"]["list"]
        family = "fitbit" if "syncbit" in name else "health"
        assert variable["name"] == "user" and variable["type"] == "query"
        assert variable["datasource"] == {"type": "prometheus", "uid": "victoriametrics"}
        assert variable["query"]["query"] == variable["definition"] == f'label_values({{__name__=~"{family}_.+"}}, user)'
        assert variable["multi"] is False and variable["includeAll"] is False  # one person at a time
        targets = [t for p in board["panels"] if p["type"] != "row" for t in p["targets"]]
        assert targets and all(t["datasource"]["uid"] == "victoriametrics" for t in targets)
        for target in targets:
            read = selectors(target["expr"])
            assert read, (name, target["expr"])
            for metric, matchers in read:
                assert metric.startswith(family + "_"), (name, target["expr"])
                assert [m for m in matchers if m.startswith("user")] == ['user="$user"'], (name, target["expr"])


def test_the_person_check_catches_a_query_that_reads_everyone() -> None:
    assert selectors('sum(last_over_time(health_steps{user="$user"}[1d])) / health_summary_steps') == [
        ("health_steps", ['user="$user"']), ("health_summary_steps", [])]
    assert selectors('health_sleep_seconds{type="main", user=~".+"}') == [
        ("health_sleep_seconds", ['type="main"', 'user=~".+"'])]


def test_every_dashboard_query_returns_data_from_victoriametrics(tmp_path) -> None:  # type: ignore[no-untyped-def]
    names = sorted({m for q in queries() for m in re.findall(r"\b(?:health|fitbit)_[a-z0-9_]+", q)})
    labels = {"user": "me", "provider": "oura", "type": "main", "stage": "deep", "level": "light", "zone": "cardio",
              "activity": "running", "device": "charge6"}
    lines = [json.dumps({"metric": {"__name__": n, **labels, "user": user}, "values": [1.0, 2.0],
                         "timestamps": [SEEN_AT, SEEN_AT + 86_400_000]}) for n in names for user in ("me", "bob")]
    with LocalVictoriaMetrics(tmp_path / "vm") as server:
        assert requests.post(f"{server.url}/api/v1/import", data="\n".join(lines) + "\n", timeout=10).status_code == 204
        requests.get(f"{server.url}/internal/force_flush", timeout=10).raise_for_status()
        for name, board in boards().items():
            people = re.fullmatch(r"label_values\((.+), user\)", board["templating"]["list"][0]["definition"])
            answer = requests.get(f"{server.url}/api/v1/label/user/values", timeout=10, params={
                "match[]": people[1], "start": SEEN_AT / 1000}).json()  # what Grafana asks
            assert answer["data"] == ["bob", "me"], name

        def answer(query: str, person: str) -> list[dict]:
            found = requests.get(f"{server.url}/api/v1/query_range", timeout=10, params={
                "query": query.replace("$user", person), "start": SEEN_AT / 1000, "end": SEEN_AT / 1000 + 3 * 86400,
                "step": "1d", "nocache": "1"}).json()
            assert found["status"] == "success", (query, found)
            return found["data"]["result"]

        mine = {query: answer(query, "me") for query in queries()}
        assert [q for q, result in mine.items() if not result] == []
        # bob's series have the same values: one person's view equals the other's, never their sum
        assert {query: answer(query, "bob") for query in queries()} == {
            q: [{**r, "metric": {**r["metric"], "user": "bob"}} if "user" in r["metric"] else r for r in result]
            for q, result in mine.items()}
        assert all(r["metric"].get("user", "me") == "me" for result in mine.values() for r in result)
        assert all(answer(query, "carol") == [] for query in queries())

