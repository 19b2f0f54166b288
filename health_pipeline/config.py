"""The user's configuration: `health-pipeline.toml`, validated into typed, immutable objects.

Where the file is found: `--config PATH`, else `$HEALTH_PIPELINE_CONFIG`, else
`./health-pipeline.toml`. With none of those, every key takes its default (all sources off).
Each section is a pydantic model holding its keys' types and defaults, the one place they are
written: `[app]`, `[victoriametrics]` in health_pipeline/settings.py, `[summary]` from the tidy
summary's metrics, each source's own section in its package; the loader is handed the registry and
reads the sections of the sources it lists. Secrets may come from the environment
(`HEALTH_PIPELINE_<SECTION>_<KEY>`, e.g. `HEALTH_PIPELINE_OURA_CLIENT_SECRET`), which wins over the
file. Relative paths are relative to the config file. Every problem is reported as one
`ConfigError` line naming file, key and fix.
"""

import hashlib
import ipaddress
import json
import os
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from health_pipeline.declarations import Registry
from health_pipeline.settings import (SECRET_KEYS, AppConfig, ConfigError, DatabaseUrl, ImportConfig, PersonConfig,
                                      ProviderConfig, Secret, Section, VictoriaMetricsConfig, person_id_problem)
from health_pipeline.storage.raw_store import RawStore
from health_pipeline.tidy.summary import METRICS

CONFIG_ENV = "HEALTH_PIPELINE_CONFIG"
DEFAULT_CONFIG_NAME = "health-pipeline.toml"


@dataclass(frozen=True)
class Config:
    """The whole validated configuration of the registered sources; `path` is None when defaults were used.

    Each API source's section is `config.provider(name)`, each import's `config.importer(name)` (both
    also `config.<name>`)."""

    path: Path | None
    app: AppConfig
    victoriametrics: VictoriaMetricsConfig
    sources: Mapping[str, ProviderConfig]  # each API source's section
    summary: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    imports: Mapping[str, ImportConfig] = field(default_factory=dict)  # each import's section
    people: Mapping[str, PersonConfig] = field(default_factory=dict)  # `[people.<id>]`: a household's people
    registry: Registry = field(default_factory=lambda: Registry(()), compare=False, repr=False)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def provider(self, name: str) -> ProviderConfig:
        if name not in self.sources:
            raise ConfigError(f"unknown provider {name!r}; choose one of {', '.join(self.sources)}")
        return self.sources[name]

    def importer(self, name: str) -> ImportConfig:
        return self.imports[name]

    def __getattr__(self, name: str) -> Any:
        for sections in (self.__dict__.get("sources") or {}, self.__dict__.get("imports") or {}):
            if name in sections:
                return sections[name]
        raise AttributeError(name)

    def raw_store(self) -> RawStore:
        """The raw store, as the single-person home's person (`[app] user`) reads and writes it; another
        person's rows: `.for_person(id)`."""
        return RawStore(self.app.raw_db, self.app.user)

    @property
    def enabled_providers(self) -> list[str]:
        return [name for name, settings in self.sources.items() if settings.enabled]

    @property
    def fingerprint(self) -> str:
        """A digest of every setting but the secrets (whose presence counts, not their value): what the
        definitions were built from. A run compares it with the file it reads (health_pipeline/pipeline/resources.py)."""
        sections = {"app": self.app, "victoriametrics": self.victoriametrics, **self.sources, **self.imports}
        shown = {name: {key: _fingerprint_value(value) for key, value in section.model_dump().items()}
                 for name, section in sections.items()}
        shown["summary"] = {metric: list(providers) for metric, providers in self.summary.items()}
        if self.people:  # absent from a file without people, so older homes keep their fingerprint
            shown["people"] = {person: section.model_dump() for person, section in self.people.items()}
        text = json.dumps(shown, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fingerprint_value(value: Any) -> Any:
    if isinstance(value, DatabaseUrl):
        return str(value)  # which server counts (its password hidden, as every secret's value)
    return ("set" if value else "unset") if isinstance(value, Secret) else value


def summary_providers(registry: Registry) -> dict[str, Mapping[str, int]]:
    """Each provider daily_summary can take values from, with its declared ranks: the API sources, and the
    providers imports model as that no API source is (health-sync's Eight Sleep)."""
    found: dict[str, Mapping[str, int]] = {s.name: s.summary for s in registry.apis}
    for source in registry.imports:
        if source.models_as and source.models_as not in found:
            found[source.models_as] = source.summary
    return found


def summary_precedence(registry: Registry) -> dict[str, tuple[str, ...]]:
    """daily_summary's default precedence: per metric, the providers that declare it, by their rank."""
    providers = summary_providers(registry)
    return {metric.name: tuple(name for name in sorted((n for n, ranks in providers.items() if metric.name in ranks),
                                                       key=lambda n: providers[n][metric.name]))
            for metric in METRICS}


def section_models(registry: Registry) -> dict[str, type[Section]]:
    """Every section of the file and its model, in the file's order."""
    return {"app": AppConfig, **{s.name: s.settings for s in registry.sources}, "victoriametrics": VictoriaMetricsConfig}


def _toml_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return "" if value is None else value


def defaults(registry: Registry) -> dict[str, dict[str, Any]]:
    """Each section's keys and their defaults, as they are written in the file (`health-pipeline.example.toml`)."""
    found = {name: {key: _toml_value(info.get_default(call_default_factory=True))
                    for key, info in model.model_fields.items()}
             for name, model in section_models(registry).items()}
    found["summary"] = {metric: list(providers) for metric, providers in summary_precedence(registry).items()}
    return found


EXAMPLE_HEADER = """\
# health-pipeline configuration — copy to `health-pipeline.toml` and edit.
# Every key is shown with its default. Relative paths are relative to this file.
# Secrets (client_secret, api_key, password) may instead come from the environment:
#   HEALTH_PIPELINE_<SECTION>_<KEY>, e.g. HEALTH_PIPELINE_{example}_CLIENT_SECRET, which wins over this file.
# Keep this file private (chmod 600) if it holds secrets.
# Written by `health-pipeline example-config` from the sections' models: edit those, not this file.
"""


def example_text(registry: Registry) -> str:
    """The example config file: every section of `registry`'s sources with every key at its default, each
    preceded by what it means (the models' docstrings and field descriptions, the one place they are written)."""
    oauth = [s.name for s in registry.apis if s.uses_oauth]
    out = [EXAMPLE_HEADER.format(example=(oauth[0] if oauth else "<source>").upper())]
    values = defaults(registry)
    for name, model in section_models(registry).items():
        out.append(f"\n[{name}]")
        out += _comment((model.__doc__ or "").strip().split("\n\n")[0])
        for key in model.model_fields:
            described = _description(model, key)
            if key in model.secret_keys:
                described = f"{described.rstrip('.')} (or HEALTH_PIPELINE_{name.upper()}_{key.upper()})."
            out += _comment(described)
            out.append(f"{key} = {_toml(values[name][key])}")
    out.append("\n[summary]")
    out += _comment("daily_summary takes each metric from the first provider in its list that has a value that day. "
                    "A provider missing from a list is never used for that metric.")
    out += [f"{metric} = {_toml(providers)}" for metric, providers in values["summary"].items()]
    return "\n".join(out) + "\n"


def _description(model: type[Section], key: str) -> str:
    """A field's description, from the nearest model that gives one (a subclass may change only the default)."""
    for cls in model.__mro__:
        fields = getattr(cls, "model_fields", {})
        if key in fields and fields[key].description:
            return fields[key].description
    return ""


def _comment(text: str, width: int = 100) -> list[str]:
    words, lines, line = " ".join(text.split()).split(" "), [], "#"
    for word in filter(None, words):
        if len(line) + 1 + len(word) > width and line != "#":
            lines.append(line)
            line = "#"
        line += " " + word
    return lines + ([line] if line != "#" else [])


def _toml(value: Any) -> str:
    """A TOML literal for a default (strings, numbers, booleans, lists of those, tables of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}" if value else "{}"
    raise TypeError(f"no TOML literal for {value!r}")


_TYPE_NAMES = {"bool_type": "boolean (true/false)", "string_type": "string", "int_type": "whole number",
               "float_type": "number", "dict_type": "table", "list_type": "list", "tuple_type": "list"}


def _one_problem(err: ValidationError, model: type[Section]) -> tuple[str | None, str]:
    """The first error of a section, as (key, problem)."""
    first = err.errors()[0]
    key = str(first["loc"][0]) if first["loc"] else None
    kind = first["type"]
    if kind == "extra_forbidden":
        return key, f"unknown key (known: {', '.join(model.model_fields)})"
    if kind in _TYPE_NAMES:
        return key, f"must be a {_TYPE_NAMES[kind]}, got {first['input']!r}"
    if kind == "value_error":
        return key, str(first["ctx"]["error"])
    return key, first["msg"]


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to read: explicit path, then the environment, then the working directory.

    An explicit or environment path must exist; the working-directory file is optional.
    """
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.exists() else None


def load_config(explicit: str | os.PathLike[str] | None, registry: Registry) -> Config:
    """Find, read and validate the configuration of `registry`'s sources, raising `ConfigError` on any problem."""
    path = find_config_path(explicit)
    if path is None:
        return parse_config({}, None, registry)
    path = path.expanduser().absolute()
    try:
        found = path.is_file()
    except OSError as err:  # a folder on the way that may not be entered
        raise ConfigError(f"{path}: cannot read the config file: {err.strerror or err}") from None
    if not found:
        raise ConfigError(f"{path}: config file not found (pass --config PATH or set {CONFIG_ENV})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the config file: {err}") from None
    config = parse_config(data, path, registry)
    _warn_if_secrets_readable(path, data)
    _warn_if_password_in_the_clear(config.victoriametrics)
    return config


def parse_config(data: dict[str, Any], path: Path | None, registry: Registry,
                 environ: Mapping[str, str] | None = None) -> Config:
    """Validate parsed TOML (plus environment secrets) into a `Config` of `registry`'s sources."""
    env = os.environ if environ is None else environ
    where = str(path) if path else "(defaults)"
    models = section_models(registry)
    precedence = summary_precedence(registry)
    known = [*models, "summary", "people"]
    for section, value in data.items():
        if section not in known:
            raise ConfigError(f"{where}: unknown section [{section}] (known: {', '.join(known)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: [{section}] must be a table, got {type(value).__name__}")
    context: dict[str, Any] = {"base": path.parent if path else Path.cwd()}

    def section(name: str) -> Any:
        model = models[name]
        values = dict(data.get(name, {}))
        for key in model.secret_keys:
            from_env = env.get(f"HEALTH_PIPELINE_{name.upper()}_{key.upper()}")
            if from_env:
                values[key] = from_env
        try:
            parsed = model.model_validate(values, context=context)
        except ValidationError as err:
            key, problem = _one_problem(err, model)
            raise ConfigError(f"{where}: [{name}] {key}: {problem}" if key else f"{where}: [{name}]: {problem}") from None
        found = parsed.problem()
        if found:
            raise ConfigError(f"{where}: [{name}] {found[0]}: {found[1]}")
        return parsed

    app = section("app")
    context.update(today=datetime.now(app.tz).date(), timezone=app.timezone)
    sources = {s.name: section(s.name) for s in registry.apis}
    imports = {s.name: section(s.name) for s in registry.imports}
    vm = section("victoriametrics")
    people = _people(data.get("people", {}), where, context, [*sources, *imports])

    summary_data = data.get("summary", {})
    for key in summary_data:
        if key not in precedence:
            raise ConfigError(f"{where}: [summary] {key}: unknown key (known: {', '.join(precedence)})")
    summary = {}
    for metric, default in precedence.items():
        value = summary_data.get(metric, list(default))
        if not isinstance(value, list):
            raise ConfigError(f"{where}: [summary] {metric}: must be a list, got {value!r}")
        summary[metric] = _precedence(metric, value, list(summary_providers(registry)), default, where)
    return Config(path=path, app=app, victoriametrics=vm, sources=sources, summary=summary, imports=imports,
                  people=people, registry=registry)


def _people(data: dict[str, Any], where: str, context: dict[str, Any], sources: list[str]) -> dict[str, PersonConfig]:
    """`[people.<id>]`: each a table of a person's settings, the id a person id."""
    found = {}
    for person, values in data.items():
        problem = person_id_problem(person)
        if problem:
            raise ConfigError(f"{where}: [people.{person}]: {problem}")
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: [people] {person}: must be a table ([people.{person}]), got {values!r}")
        try:
            parsed = PersonConfig.model_validate(values, context=context)
        except ValidationError as err:
            key, problem = _one_problem(err, PersonConfig)
            raise ConfigError(f"{where}: [people.{person}] {key}: {problem}" if key else
                              f"{where}: [people.{person}]: {problem}") from None
        unknown = [s for s in parsed.sources or () if s not in sources]
        if unknown:
            raise ConfigError(f"{where}: [people.{person}] sources: unknown source {unknown[0]!r} "
                              f"(known: {', '.join(sources)})")
        found[person] = parsed
    return found


def _precedence(metric: str, value: list[Any], names: list[str], default: tuple[str, ...], where: str) -> tuple[str, ...]:
    """A metric's provider list: known names, no repeats, at least one (when a registered source has it)."""
    unknown = [v for v in value if v not in names]
    if (not value and default) or unknown or len(set(value)) != len(value):
        problem = (f"unknown provider {unknown[0]!r}" if unknown else "lists a provider twice" if value else "is empty")
        raise ConfigError(f"{where}: [summary] {metric}: {problem}: give providers best first, from "
                          f"{', '.join(names)} (e.g. {list(default)!r})")
    return tuple(value)


def _warn_if_password_in_the_clear(vm: VictoriaMetricsConfig) -> None:
    """A password sent over plain http to another machine can be read on the way: say so (not an error)."""
    parts = urlsplit(vm.url)
    if not vm.enabled or parts.scheme != "http" or not (vm.password or parts.password):
        return
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        print(f"health-pipeline: warning: the VictoriaMetrics password goes over plain http to {host}; "
              "use an https URL", file=sys.stderr)


def secrets_readable(path: Path, data: dict[str, Any]) -> bool:
    """Whether the config file holds a secret and other users may read it."""
    has_secret = any(
        isinstance(section, dict) and any(section.get(k) for k in SECRET_KEYS) for section in data.values()
    )
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return has_secret and bool(mode & (stat.S_IRGRP | stat.S_IROTH))


def _warn_if_secrets_readable(path: Path, data: dict[str, Any]) -> None:
    """Secrets in a file others can read deserve a warning (not an error: it is the user's box)."""
    if secrets_readable(path, data):
        print(
            f"health-pipeline: warning: {path} holds secrets and is readable by other users; "
            f"run `chmod 600 {path}`",
            file=sys.stderr,
        )
