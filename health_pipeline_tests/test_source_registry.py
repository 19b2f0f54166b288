"""The source registry: every source declares what the pipeline needs, and nothing else lists sources.

Also the template a new source's own tests start from (see the README's "Adding a source"):
`test_every_source_keeps_the_contract` runs for every registered source, a new one included.
"""

import importlib.util
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.config import ApiKeyProviderConfig, OAuthProviderConfig, parse_config
from health_pipeline.dagster_internals import check_internals
from health_pipeline.pipeline.build import build_definitions
from health_pipeline.sources import SOURCES, source_named
from health_pipeline.tidy.catalog import TABLES

ROOT = Path(__file__).resolve().parent.parent


def _spread_module():
    spec = importlib.util.spec_from_file_location("source_spread", ROOT / "scripts" / "source_spread.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_a_source_is_named_in_at_most_three_modules_outside_its_package(source) -> None:
    found = _spread_module().spread(source.name)
    assert len(found) <= 3, f"{source.name} is named in {found}"
    assert "sources/__init__.py" in found  # the registry line


def test_the_spread_counts_code_not_comments(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""About oura."""\n# oura here\nx = 1\n', encoding="utf-8")
    assert _spread_module().code_words(module) == "x"
    module.write_text('x = "oura"\n', encoding="utf-8")
    assert "oura" in _spread_module().code_words(module)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_every_source_keeps_the_contract(source, tmp_path: Path) -> None:
    # its config section: a model of the right kind, whose defaults validate on their own
    settings = parse_config({}, None).provider(source.name)
    assert type(settings) is source.settings and settings.name == source.name and not settings.enabled
    assert isinstance(settings, OAuthProviderConfig if source.uses_oauth else ApiKeyProviderConfig)
    # its assets: keyed `{name}_...`, in its group and pool, each with a lineage endpoint for its resources
    enabled = parse_config({source.name: {"enabled": True, **_credentials(source)}}, None)
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    assets = source.build_assets(enabled.provider(source.name), partitions)
    assert assets
    for asset in assets:
        for key in asset.keys:
            assert key.to_user_string().startswith(f"{source.name}_")
            assert asset.group_names_by_key[key] == source.name
    keys = {key for asset in assets for key in asset.keys}
    declared = [*source.daily_keys(), *source.change_keys(), *source.reference_keys()]
    assert set(declared) <= keys and len(declared) == len(set(declared))
    assert (source.driven_by == "daily") == bool(source.daily_keys())
    assert (source.driven_by == "changes") == bool(source.change_keys())
    # its tidy inputs have their SQL files and name resources it lands
    for given in source.tidy:
        table = TABLES[given.table].source(source.name)
        assert table.sql and table.resources == given.resources
        for resource in given.resources:
            assert source.endpoint_of(resource)
    # a sandbox config section that loads, pointing at the sandbox
    text = source.sandbox.config_text("http://127.0.0.1:9/x", date(2024, 1, 1))
    import tomllib
    loaded = parse_config(tomllib.loads(text), None).provider(source.name)
    assert loaded.enabled and loaded.base_url == "http://127.0.0.1:9/x"
    assert source.probe.what and source.pool == f"{source.name}_api"


def _credentials(source) -> dict[str, str]:
    return {"client_id": "id", "client_secret": "secret"} if source.uses_oauth else {"api_key": "key"}


def test_the_definitions_hold_each_sources_assets_and_sensors() -> None:
    config = parse_config({s.name: {"enabled": True, **_credentials(s)} for s in SOURCES}, None)
    defs = build_definitions(config)
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string().split("_")[0] for key in graph.get_all_asset_keys()}
    assert {s.name for s in SOURCES} <= groups
    sensors = {sensor.name for sensor in defs.sensors or []}
    assert {f"{s.name}_changes" for s in SOURCES if s.driven_by == "changes"} <= sensors


def test_an_unknown_source_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown source 'garmin'; known: oura, fitbit, withings, hevy"):
        source_named("garmin")


def test_every_dagster_internal_the_project_uses_is_still_there() -> None:
    # A Dagster upgrade that moves or reshapes one of these fails here, naming the API.
    assert check_internals() == []


def test_the_internals_check_names_what_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    from health_pipeline import dagster_internals

    monkeypatch.setattr(dagster_internals, "INTERNALS", (
        ("a moved thing", "dagster._core.events", "NoSuchThing", ()),
        ("a reshaped thing", "dagster._core.events", "DagsterEventType", ("NO_SUCH_EVENT",)),
    ))
    assert check_internals() == [
        "a moved thing: dagster._core.events.NoSuchThing is gone (module 'dagster._core.events' has no attribute "
        "'NoSuchThing')",
        "a reshaped thing: dagster._core.events.DagsterEventType has no NO_SUCH_EVENT",
    ]


def test_no_module_outside_the_adapter_imports_dagster_internals() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "health_pipeline").rglob("*.py")
                 if p.name != "dagster_internals.py" and "dagster._" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_the_tidy_layer_imports_one_way() -> None:
    # models uses summary (its DDL); summary never reaches back into models
    summary = (ROOT / "health_pipeline" / "tidy" / "summary.py").read_text(encoding="utf-8")
    models = (ROOT / "health_pipeline" / "tidy" / "models.py").read_text(encoding="utf-8")
    assert "health_pipeline.tidy.models" not in summary
    assert "from health_pipeline.tidy.summary import SUMMARY_DDL" in models.split("\n\n\n")[0]
