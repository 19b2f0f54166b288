"""Withings' fake API for the sandbox (served under `/withings`), its data and its ground truth: test and
demo code, never imported by the product (the registry finds `FAKE` by name when a sandbox is started)."""

from health_pipeline.sandbox.oauth import oauth_config_section
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sources.withings.sandbox.api import FakeWithings

# Withings refuses localhost redirect URIs (the fake does too); the sandbox config turns the dense data on.
FAKE = FakeApi("withings", FakeWithings, lambda base_url, start: oauth_config_section(
    "withings", base_url, "/oauth2_user/authorize2", "/v2/oauth2", start,
    'redirect_uri = "https://health.example.org/withings/callback"\nintraday = true'))
