"""Polar's fake AccessLink API for the sandbox (served under `/polar`: the API at `/polar/v3`, Polar Flow's
authorization page at `/polar/flow/oauth2/authorization`, Polar Remote's token endpoint at
`/polar/remote/v2/oauth2/token`), its data and its ground truth: test and demo code, never imported by
the product (the registry finds `FAKE` by name when a sandbox is started)."""

from datetime import date

from health_pipeline.sandbox import oauth
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sources.polar.sandbox.api import FakePolar


def _config_text(root: str, start: date) -> str:
    return (f'[polar]\nenabled = true\nstart_date = "{start}"\nbase_url = "{root}/v3"\n'
            f'authorize_url = "{root}/flow/oauth2/authorization"\ntoken_url = "{root}/remote/v2/oauth2/token"\n'
            f'client_id = "{oauth.SANDBOX_CLIENT_ID}"\nclient_secret = "{oauth.SANDBOX_CLIENT_SECRET}"\n\n')


def _build(world: SandboxWorld) -> FakePolar:
    """The person has used Polar AccessLink with this client since the world began (a fresh registration
    would see no history: Polar serves what was uploaded after it), and so has everyone else in the
    sandbox; tests of the registration build `FakePolar` themselves."""
    return FakePolar(world, registered_since_start=True)


FAKE = FakeApi("polar", _build, _config_text)
