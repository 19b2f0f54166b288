"""Strava's fake API v3 for the sandbox (served under `/strava`: the API at `/strava/api/v3`, its OAuth
server at `/strava/oauth`), and the person's activities: test and demo code, never imported by the
product (the registry finds `FAKE` by name when a sandbox is started)."""

from datetime import date

from health_pipeline.sandbox import oauth
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sources.strava.sandbox.api import FakeStrava, StravaSettings

# The sandbox's application has the raised limits Strava grants on request (x10), so that the demo
# and the tests do not wait out quarter hours; the quota tests set Strava's defaults or less.
READ_PER_15MIN, READ_PER_DAY = 1_000, 10_000


def _config_text(root: str, start: date) -> str:
    # live: https://www.strava.com/api/v3, https://www.strava.com/oauth/authorize and /oauth/token
    return (f'[strava]\nenabled = true\nstart_date = "{start}"\nbase_url = "{root}/api/v3"\n'
            f'authorize_url = "{root}/oauth/authorize"\ntoken_url = "{root}/oauth/token"\n'
            f'client_id = "{oauth.SANDBOX_CLIENT_ID}"\nclient_secret = "{oauth.SANDBOX_CLIENT_SECRET}"\n'
            f'read_limit_15min = {READ_PER_15MIN}\nread_limit_daily = {READ_PER_DAY}\n\n')


def _build(world: SandboxWorld) -> FakeStrava:
    return FakeStrava(world, StravaSettings(overall_per_15min=2 * READ_PER_15MIN, overall_per_day=2 * READ_PER_DAY,
                                            read_per_15min=READ_PER_15MIN, read_per_day=READ_PER_DAY))


FAKE = FakeApi("strava", _build, _config_text)
