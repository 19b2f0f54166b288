"""Hevy: the gym log, workouts kept current by a workout-events cursor sensor, reference data
daily; an API key, no OAuth."""

from datetime import date
from typing import Any

from health_pipeline.sources.base import Probe, SandboxApp, Source, TidyInput
from health_pipeline.sources.hevy import client
from health_pipeline.sources.hevy.settings import HevyConfig

REFERENCE = ("routines", "exercise_templates")


def _client(settings: HevyConfig, app: Any, store: Any) -> client.HevyClient:
    from health_pipeline.providers.http import provider_http

    http = provider_http("hevy", settings.requests_per_minute, app.max_wait_s)
    return client.HevyClient(settings, http, app.tz)


def _assets(settings: HevyConfig, partitions: Any) -> list[Any]:
    from health_pipeline.sources.hevy.assets import landing_assets

    return landing_assets(settings, partitions)


def _keys(resources: tuple[str, ...]) -> list[Any]:
    from health_pipeline.naming import landing_key

    return [landing_key("hevy", resource) for resource in resources]


def _sensors() -> list[Any]:
    from health_pipeline.sources.hevy.sensor import hevy_changes

    return [hevy_changes]


def _fake(world: Any) -> Any:
    from health_pipeline.sources.hevy.sandbox import FakeHevy

    return FakeHevy(world)


def _sandbox_section(base_url: str, start: date) -> str:
    return f'[hevy]\nenabled = true\nstart_date = "{start}"\nbase_url = "{base_url}"\napi_key = "sandbox-api-key"\n\n'


SOURCE = Source(
    name="hevy",
    title="Hevy",
    settings=HevyConfig,
    driven_by="changes",
    build_client=_client,
    build_assets=_assets,
    build_sensors=_sensors,
    change_keys=lambda: _keys(("workouts",)),
    reference_keys=lambda: _keys(REFERENCE),
    probe=Probe("GET user info", lambda api, today: api.user_info(),
                answer=lambda user: f"account {user.get('name', '?')}"),
    endpoint_of=lambda resource: f"GET {client.CATALOGUE[resource].path} (kept current by GET /v1/workouts/events)",
    sandbox=SandboxApp("hevy", _fake, _sandbox_section),
    tidy=(
        TidyInput("workouts", ("workouts",), "changes"),
        TidyInput("workout_sets", ("workouts",), "changes"),
    ),
    summary={"strength_volume_kg": 0},
)
