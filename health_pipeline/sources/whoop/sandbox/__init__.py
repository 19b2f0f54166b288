"""WHOOP's fake API for the sandbox (served under `/whoop`: the API at `/whoop/developer`, its OAuth server
at `/whoop/oauth/oauth2`), its data and its ground truth: test and demo code, never imported by the
product (the registry finds `FAKE` by name when a sandbox is started)."""

from datetime import date

from health_pipeline.sandbox import oauth
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sources.whoop.sandbox.api import FakeWhoop


def _config_text(root: str, start: date) -> str:
    return (f'[whoop]\nenabled = true\nstart_date = "{start}"\nbase_url = "{root}/developer"\n'
            f'authorize_url = "{root}/oauth/oauth2/auth"\ntoken_url = "{root}/oauth/oauth2/token"\n'
            f'client_id = "{oauth.SANDBOX_CLIENT_ID}"\nclient_secret = "{oauth.SANDBOX_CLIENT_SECRET}"\n\n')


FAKE = FakeApi("whoop", FakeWhoop, _config_text)
