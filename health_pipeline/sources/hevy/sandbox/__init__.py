"""Hevy's fake API for the sandbox (served under `/hevy`), its data and its ground truth: test and demo
code, never imported by the product (the registry finds `FAKE` by name when a sandbox is started)."""

from datetime import date

from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sources.hevy.sandbox import api
from health_pipeline.sources.hevy.sandbox.api import FakeHevy


def _config_text(base_url: str, start: date) -> str:
    return (f'[hevy]\nenabled = true\nstart_date = "{start}"\nbase_url = "{base_url}"\n'
            f'api_key = "{api.SANDBOX_API_KEY}"\n\n')


FAKE = FakeApi("hevy", FakeHevy, _config_text, api.person_of_key)
