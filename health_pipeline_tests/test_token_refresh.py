"""Token refresh across processes, and the request budget."""

import multiprocessing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from health_pipeline.registry import load_config
from health_pipeline.sources.oura import client as oura
from health_pipeline.providers.http import RequestBudget
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore


def _refresh_in_child(config_path: str, barrier: "multiprocessing.synchronize.Barrier", out: "multiprocessing.Queue") -> None:
    config = load_config(config_path)
    tokens = OAuthTokens(config.oura, RawStore(config.app.raw_db), oura.OAUTH)
    barrier.wait(timeout=30)
    try:
        out.put(("ok", tokens.access_token(), tokens.refreshes))
    except Exception as err:  # reported to the parent, which asserts on it
        out.put(("error", str(err), 0))


def test_two_processes_needing_a_refresh_at_once_refresh_once(oura_tokens: OAuthTokens, sandbox: Sandbox,
                                                              tmp_path: Path) -> None:
    store = oura_tokens.store
    config_path = str(tmp_path / "health-pipeline.toml")  # the file the oura_tokens fixture configured
    assert load_config(config_path).app.raw_db == store.path
    stored = store.token("oura")
    assert stored is not None
    store.save_token("oura", access_token=stored.access_token, refresh_token=stored.refresh_token,
                     scope=stored.scope, expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(2), context.Queue()
    children = [context.Process(target=_refresh_in_child, args=(config_path, barrier, out)) for _ in range(2)]
    for child in children:
        child.start()
    results = [out.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert results[0][1] == results[1][1]  # both use the one new access token
    assert sorted(r[2] for r in results) == [0, 1]
    assert sandbox.oura.oauth.refresh_count == 1  # Oura's refresh tokens are single use: a second would fail
    assert store.token("oura").access_token == results[0][1]  # type: ignore[union-attr]


def test_the_request_budget_makes_callers_wait_for_the_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = RequestBudget(3, 60.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        budget.take()
    assert slept == []
    now[0] = 10.0
    budget.take()  # the fourth request in the minute waits until the first leaves the window
    assert slept == [50.0] and budget.waited_s == 50.0
    with pytest.raises(ValueError):
        RequestBudget(0, 60.0)


def test_refresh_logs_and_errors_carry_no_token_text(oura_tokens: OAuthTokens, sandbox: Sandbox,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    tokens, store = oura_tokens, oura_tokens.store
    first = store.token("oura")
    tokens.access_token(force_refresh=True)
    second = store.token("oura")
    sandbox.oura.oauth.revoke_all()
    from health_pipeline.providers.errors import ReauthorizationNeeded

    with pytest.raises(ReauthorizationNeeded) as caught:
        tokens.access_token(force_refresh=True)
    assert first is not None and second is not None
    for text in (first.access_token, first.refresh_token, second.access_token, second.refresh_token, "sandbox-secret"):
        assert text and text not in caplog.text and text not in str(caught.value) and text not in repr(second)


def test_a_410_from_the_legacy_fitbit_api_is_the_retired_error(sandbox: Sandbox) -> None:
    from health_pipeline.providers.errors import ProviderRetired
    from health_pipeline.providers.http import ProviderHTTP

    with pytest.raises(ProviderRetired) as caught:
        ProviderHTTP("fitbit").request("GET", f"{sandbox.url('google-health')}/1/user/-/activities/steps/date/today/1d.json")
    assert str(caught.value) == (f"fitbit: {sandbox.url('google-health')}/1/user/-/activities/steps/date/today/1d.json "
                                 "answers 410 Gone: this API is retired")
