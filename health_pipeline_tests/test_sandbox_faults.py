"""Fault injection: each kind, scripted or by probability, and the --faults spec."""

import json
import time

import pytest
import requests

from health_pipeline.cli import main
from health_pipeline.sandbox.faults import FaultPlan, FaultSpecError, parse_fault_spec
from health_pipeline.sources.oura.sandbox.api import SCOPES
from health_pipeline.sandbox.server import Sandbox


@pytest.fixture
def call(sandbox: Sandbox):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {sandbox.oura.oauth.token_payload(' '.join(SCOPES))['access_token']}"}

    def do(timeout: float = 10) -> requests.Response:
        return requests.get(f"{sandbox.url('oura')}/v2/usercollection/daily_stress",
                            params={"start_date": "2026-11-01", "end_date": "2026-11-05"}, headers=headers, timeout=timeout)
    return do


def test_a_scripted_sequence_is_served_in_order_then_normal_answers(sandbox: Sandbox, call) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.script("oura", "5xx", "429", "429-bare", "ok", "malformed")
    first = call()
    assert first.status_code == 503 and first.headers["Content-Type"].startswith("text/html")
    limited = call()
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1" and "X-RateLimit-Reset" in limited.headers
    bare = call()
    assert bare.status_code == 429 and "Retry-After" not in bare.headers
    assert call().status_code == 200
    broken = call()
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)
    assert call().json()["data"]  # the script is used up: normal again
    assert [e.fault for e in sandbox.log.entries("oura")] == ["5xx", "429", "429-bare", None, "malformed", None]


def test_a_reset_drops_the_connection_and_a_timeout_answers_nothing(sandbox: Sandbox, call) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.set("oura", FaultPlan(hang_s=1.0))
    sandbox.faults.script("oura", "reset", "timeout")
    with pytest.raises(requests.ConnectionError):
        call()
    with pytest.raises((requests.ReadTimeout, requests.ConnectionError)):
        call(timeout=0.3)
    assert [(e.status, e.fault) for e in sandbox.log.entries("oura")] == [(0, "reset"), (0, "timeout")]


def test_slow_answers_arrive_after_the_delay(sandbox: Sandbox, call) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.set("oura", FaultPlan(slow_s=0.4))
    sandbox.faults.script("oura", "slow")
    started = time.monotonic()
    assert call().status_code == 200
    assert time.monotonic() - started >= 0.4


def test_expire_and_revoke_hit_the_tokens_mid_run(sandbox: Sandbox, call) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.script("oura", "expire")
    assert call().json() == {"detail": "Access token has expired"}
    sandbox.faults.script("oura", "revoke")
    assert call().json() == {"detail": "Invalid or revoked access token"}


def test_probabilities_are_deterministic_for_a_seed(sandbox: Sandbox, call) -> None:  # type: ignore[no-untyped-def]
    sandbox.faults.set("oura", FaultPlan(probabilities={"5xx": 0.3}))
    statuses = [call().status_code for _ in range(40)]
    assert 3 <= statuses.count(503) <= 25 and statuses.count(200) == 40 - statuses.count(503)


def test_the_fault_spec_parses_probabilities_scripts_and_timings() -> None:
    plans = parse_fault_spec("oura:5xx=0.1,429=0.05,slow_s=0.5;hevy:script=reset|ok|malformed", ["oura", "hevy"])
    assert plans["oura"].probabilities == {"5xx": 0.1, "429": 0.05} and plans["oura"].slow_s == 0.5
    assert list(plans["hevy"].script) == ["reset", "ok", "malformed"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("garmin:5xx=0.1", "expected PROVIDER:..., with PROVIDER one of oura, hevy"),
        ("oura:5xx", "expected KIND=PROBABILITY or script=KIND|KIND"),
        ("oura:boom=0.1", "'boom': unknown fault kind"),
        ("oura:5xx=2", "must be between 0 and 1"),
        ("oura:5xx=x", "'x' is not a number"),
        ("oura:5xx=0.6,429=0.6", "oura: fault probabilities add up to more than 1"),
        ("oura:script=ok|explode", "'explode': unknown fault kind"),
    ],
)
def test_bad_fault_specs_are_explained(spec: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message.replace("|", r"\|").replace("(", r"\(")):
        parse_fault_spec(spec, ["oura", "hevy"])


def test_sandbox_serve_refuses_a_bad_fault_spec_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "serve", "--port", "0", "--faults", "oura:boom=1"]) == 2
    assert "health-pipeline: error: --faults: 'boom': unknown fault kind" in capsys.readouterr().err
