"""Hevy's fake API for the sandbox (served under `/hevy`), its data and its ground truth: test and demo
code, never imported by the product (the registry finds `FAKE` by name when a sandbox is started)."""

from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sources.hevy.sandbox.api import SANDBOX_API_KEY, FakeHevy

FAKE = FakeApi("hevy", FakeHevy, lambda base_url, start: (
    f'[hevy]\nenabled = true\nstart_date = "{start}"\nbase_url = "{base_url}"\napi_key = "{SANDBOX_API_KEY}"\n\n'))
