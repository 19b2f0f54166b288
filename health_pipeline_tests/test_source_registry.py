"""The source registry: every source declares what the pipeline needs, and nothing else lists sources.

Also the template a new source's own tests start from (see the README's "Adding a source"):
`test_every_api_source_keeps_the_contract` and `test_every_import_keeps_the_contract` run for every
registered source, a new one included.
"""

import importlib
import importlib.util
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.declarations import ApiSource, ImportSource
from health_pipeline.instance.internals import check_internals
from health_pipeline.pipeline.build import build_definitions, landing_assets
from health_pipeline.registry import REGISTRY, TABLES, parse_config
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.settings import ApiKeyProviderConfig, ImportConfig, OAuthProviderConfig

ROOT = Path(__file__).resolve().parent.parent
# Where else a source is named, on purpose: SyncBit's metric names (and the switch for them) are Fitbit's.
KNOWN_MENTIONS = {"fitbit": {"export/metrics.py", "settings.py"}}


def _spread_module():
    spec = importlib.util.spec_from_file_location("source_spread", ROOT / "scripts" / "source_spread.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("source", REGISTRY.apis, ids=lambda s: s.name)
def test_outside_its_folder_only_the_registry_names_a_source(source: ApiSource) -> None:
    found = set(_spread_module().spread(source.name))
    assert found == {"registry.py", *KNOWN_MENTIONS.get(source.name, ())}, f"{source.name} is named in {found}"


def test_the_spread_counts_code_not_comments(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""About oura."""\n# oura here\nx = 1\n', encoding="utf-8")
    assert _spread_module().code_words(module) == "x"
    module.write_text('x = "oura"\n', encoding="utf-8")
    assert "oura" in _spread_module().code_words(module)


@pytest.mark.parametrize("source", REGISTRY.apis, ids=lambda s: s.name)
def test_every_api_source_keeps_the_contract(source: ApiSource) -> None:
    # its config section: a model of the right kind, whose defaults validate on their own
    settings = parse_config({}, None).provider(source.name)
    assert type(settings) is source.settings and settings.name == source.name and not settings.enabled
    assert settings.title == source.title and source.title
    assert isinstance(settings, OAuthProviderConfig if source.uses_oauth else ApiKeyProviderConfig)
    assert source.package == f"health_pipeline.sources.{source.name}"
    # its assets, by the shared builders: keyed `{name}_...`, in its group and pool, each resource with
    # the request it comes from; options off, its optional daily resources have no asset
    options = {r.option: True for r in source.daily if r.option}
    enabled = parse_config({source.name: {"enabled": True, **_credentials(source), **options}}, None)
    plain = parse_config({source.name: {"enabled": True, **_credentials(source)}}, None)
    partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    assets = landing_assets(source, enabled, partitions)
    assert assets
    for asset in assets:
        for key in asset.keys:
            resource = key.to_user_string().removeprefix(f"{source.name}_")
            assert key.to_user_string().startswith(f"{source.name}_")
            assert asset.group_names_by_key[key] == source.name
            assert asset.op.pool == source.pool
            assert any(r.replace("-", "_") == resource and endpoint for r, endpoint in source.endpoints.items())
    keys = {key for asset in assets for key in asset.keys}
    optional = {dg.AssetKey(f"{source.name}_{r.resource.replace('-', '_')}") for r in source.daily if r.option}
    assert keys - optional == {key for asset in landing_assets(source, plain, partitions) for key in asset.keys}
    assert optional <= keys
    # kept current by its daily resources, its cursor, or both (Polar)
    assert source.cursor is not None or any(r.option is None for r in source.daily)
    assert (source.driven_by == "changes") == (source.cursor is not None)
    assert not source.snapshots or source.snapshot is not None
    # its tidy inputs: each table's SQL in its own folder, naming resources it lands; no stray SQL file
    for given in source.tidy:
        table = TABLES[given.table].source(source.name)
        assert table.sql and table.resources == given.resources
        assert all(source.endpoints.get(resource) for resource in given.resources)
    sql = {f.name.removesuffix(".sql") for f in resources.files(source.package).joinpath("tidy").iterdir()
           if f.name.endswith(".sql")}
    assert sql == {given.table for given in source.tidy}
    # its fake, in its `sandbox` package: a config section that loads, pointing at the sandbox
    fake = importlib.import_module(f"{source.package}.sandbox").FAKE
    assert isinstance(fake, FakeApi)
    loaded = parse_config(tomllib.loads(fake.config_text("http://127.0.0.1:9/x", date(2024, 1, 1))), None)
    # the API root as a user writes it (WHOOP's is `…/developer`), below the fake's mount
    assert loaded.provider(source.name).enabled and loaded.provider(source.name).base_url.startswith("http://127.0.0.1:9/x")
    assert source.probe.what and source.pool == f"{source.name}_api"


@pytest.mark.parametrize("source", REGISTRY.imports, ids=lambda s: s.name)
def test_every_import_keeps_the_contract(source: ImportSource) -> None:
    settings = parse_config({}, None).importer(source.name)
    assert type(settings) is source.settings and settings.name == source.name and isinstance(settings, ImportConfig)
    assert source.title and source.help and source.description and source.asset == f"import_{source.name}"
    assert bool(source.models_as) == bool(source.tidy)  # its own rows are modelled as a provider's, or it lands as them
    assert set(source.lands_as) <= set(REGISTRY.api_names())
    for given in source.tidy:
        assert TABLES[given.table].source(source.name).sql


def _credentials(source: ApiSource) -> dict[str, str]:
    return {"client_id": "id", "client_secret": "secret"} if source.uses_oauth else {"api_key": "key"}


def test_the_definitions_hold_each_sources_assets_and_sensors() -> None:
    config = parse_config({s.name: {"enabled": True, **_credentials(s)} for s in REGISTRY.apis}, None)
    defs = build_definitions(config)
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string().split("_")[0] for key in graph.get_all_asset_keys()}
    assert set(REGISTRY.api_names()) <= groups
    assert {dg.AssetKey(s.asset) for s in REGISTRY.imports} <= set(graph.get_all_asset_keys())
    sensors = {sensor.name for sensor in defs.sensors or []}
    assert {f"{s.name}_changes" for s in REGISTRY.apis if s.driven_by == "changes"} <= sensors


def test_an_unknown_source_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown source 'garmin'; known: oura, fitbit, withings, hevy"):
        REGISTRY.api("garmin")


def test_every_dagster_internal_the_project_uses_is_still_there() -> None:
    # A Dagster upgrade that moves or reshapes one of these fails here, naming the API.
    assert check_internals() == []


def test_the_internals_check_names_what_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    from health_pipeline.instance import internals

    monkeypatch.setattr(internals, "INTERNALS", (
        ("a moved thing", "dagster._core.events", "NoSuchThing", ()),
        ("a reshaped thing", "dagster._core.events", "DagsterEventType", ("NO_SUCH_EVENT",)),
    ))
    assert check_internals() == [
        "a moved thing: dagster._core.events.NoSuchThing is gone (module 'dagster._core.events' has no attribute "
        "'NoSuchThing')",
        "a reshaped thing: dagster._core.events.DagsterEventType has no NO_SUCH_EVENT",
    ]


def test_no_module_outside_the_adapter_imports_dagster_internals() -> None:
    adapter = ROOT / "health_pipeline" / "instance" / "internals.py"
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "health_pipeline").rglob("*.py")
                 if p != adapter and "dagster._" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_the_tidy_layer_imports_one_way() -> None:
    # models uses summary (its DDL); summary never reaches back into models
    summary = (ROOT / "health_pipeline" / "tidy" / "summary.py").read_text(encoding="utf-8")
    assert "health_pipeline.tidy.models" not in summary
