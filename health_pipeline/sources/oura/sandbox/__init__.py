"""Oura's fake API for the sandbox (served under `/oura`), its data and its ground truth: test and demo
code, never imported by the product (the registry finds `FAKE` by name when a sandbox is started)."""

from health_pipeline.sandbox.oauth import oauth_config_section
from health_pipeline.sandbox.server import FakeApi
from health_pipeline.sources.oura.sandbox.api import FakeOura

FAKE = FakeApi("oura", FakeOura, lambda base_url, start: oauth_config_section(
    "oura", base_url, "/oauth/authorize", "/oauth/token", start))
