"""The Google Health API's fake for the sandbox (served under `/google-health`, Fitbit's data), its data
and its ground truth: test and demo code, never imported by the product (the registry finds `FAKE`
by name when a sandbox is started)."""

from health_pipeline.sandbox.oauth import oauth_config_section
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sources.fitbit.sandbox.api import FakeGoogleHealth

FAKE = FakeApi("google-health", FakeGoogleHealth, lambda base_url, start: oauth_config_section(
    "fitbit", base_url, "/o/oauth2/v2/auth", "/token", start))
