"""Quotas and token refresh locks shared by processes and machines (`[app] coordination_url`).

The fast tests hold the semantics that do not need a server (per-person windows, an unreachable
server, the config key); the slow ones start a real Redis and a real PostgreSQL on loopback and
take slots from several spawned processes at once, timing each grant on the server's clock.
"""

import math
import multiprocessing
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from health_pipeline.coordination import CoordinationUnavailable, LockTimeout, token_lock, window_counts
from health_pipeline.dev.local_postgres import LocalPostgres
from health_pipeline.dev.local_redis import LocalRedis
from health_pipeline.dev.local_victoriametrics import free_port
from health_pipeline.providers.errors import ProviderUnavailable, QuotaExhausted
from health_pipeline.providers.oauth import OAuthTokens
from health_pipeline.providers.quota import Quota, Window
from health_pipeline.registry import load_config
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.settings import ConfigError
from health_pipeline.sources.oura import client as oura
from health_pipeline.storage.raw_store import RawStore

SPAWN = multiprocessing.get_context("spawn")


def _provider() -> str:
    """A provider name of this test's own, so the servers' counts of other tests never meet it."""
    return f"test-{uuid.uuid4().hex[:12]}"


# ---- the fast tier: no server --------------------------------------------------------------------


def test_a_person_window_counts_each_person_and_the_app_window_everyone() -> None:
    now = [1_000_000.0]
    counts = window_counts("", clock=lambda: now[0])
    windows = (Window("minute per user", 60, 2, aligned=False, per_person=True), Window("minute", 60, 3, aligned=False))
    alice = Quota("google", windows, max_wait_s=0, person="alice", counts=counts)
    bob = Quota("google", windows, max_wait_s=0, person="bob", counts=counts)
    alice.take(), alice.take()
    with pytest.raises(QuotaExhausted) as spent:
        alice.take()
    assert (spent.value.window, spent.value.limit) == ("minute per user", 2)
    bob.take()  # bob's own minute is untouched; the app's now holds 3
    with pytest.raises(QuotaExhausted) as spent:
        bob.take()
    assert (spent.value.window, spent.value.limit) == ("minute", 3)
    assert alice.state()["minute per user"]["used"] == 2 and bob.state()["minute per user"]["used"] == 1
    assert alice.state()["minute"]["used"] == bob.state()["minute"]["used"] == 3
    now[0] += 60
    assert alice.take() == now[0]  # every window moved on


def test_a_person_id_that_could_not_be_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a person id"):
        Quota("whoop", (Window("day", 86_400, 10),), 1, person="Alice/../x")


@pytest.mark.parametrize("url", ["redis://:s3cret@127.0.0.1:{port}/0", "postgresql://hp:s3cret@127.0.0.1:{port}/hp"])
def test_an_unreachable_server_is_one_line_naming_it_without_its_password(url: str, tmp_path: Path) -> None:
    url = url.format(port=free_port())  # nothing listens there
    shown = url.replace(":s3cret@", "@").replace("//@", "//")  # the user stays, the password goes
    quota = Quota(_provider(), (Window("minute", 60, 5),), 1, counts=window_counts(url))
    with pytest.raises(ProviderUnavailable) as down:
        quota.take()
    message = str(down.value)
    assert shown in message and "s3cret" not in message and "\n" not in message
    assert "[app] coordination_url" in message and "never counted per process" in message
    with pytest.raises(CoordinationUnavailable) as down_lock:
        with token_lock(url, "oura", "me", tmp_path / "lock", wait_s=1):
            pass
    assert shown in str(down_lock.value) and "s3cret" not in str(down_lock.value)


def test_the_config_key_takes_redis_or_postgresql_and_refuses_anything_else(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "health-pipeline.toml"
    path.write_text('[app]\ncoordination_url = "redis://:s3cret@cache:6379/2"\n', encoding="utf-8")
    path.chmod(0o600)
    assert load_config(path).app.coordination_url.reveal() == "redis://:s3cret@cache:6379/2"
    assert "s3cret" not in repr(load_config(path).app)
    monkeypatch.setenv("HEALTH_PIPELINE_APP_COORDINATION_URL", "postgresql://hp@db:5432/hp")
    assert load_config(path).app.coordination_url.reveal() == "postgresql://hp@db:5432/hp"
    monkeypatch.delenv("HEALTH_PIPELINE_APP_COORDINATION_URL")
    path.write_text('[app]\ncoordination_url = "http://u:s3cret@cache:6379"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_config(path)
    assert ("[app] coordination_url: must be empty, redis://host:port/db or postgresql://user@host:port/db, got "
            "'http://u:***@cache:6379'") in str(bad.value)
    assert "s3cret" not in str(bad.value)
    path.write_text("[app]\n", encoding="utf-8")
    assert load_config(path).app.coordination_url.reveal() == ""


# ---- the slow tier: real servers, several processes ------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with LocalRedis() as server:  # fails with the install hint when redis-server is missing
        yield server.url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with LocalPostgres() as server:
        yield f"postgresql://dagster@127.0.0.1:{server.port}/dagster"


@pytest.fixture(params=["redis", "postgres"])
def coordination_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


def _take_slots(url: str, provider: str, window: Window, slots: int, barrier: "multiprocessing.synchronize.Barrier",
                out: "multiprocessing.Queue[list[float] | str]") -> None:
    try:
        quota = Quota(provider, (window,), max_wait_s=60, counts=window_counts(url))
        quota.state()  # connected before the start, so that all begin together
        barrier.wait(timeout=60)
        out.put([quota.take() for _ in range(slots)])
    except Exception as err:  # reported to the parent, which asserts on it
        out.put(f"{type(err).__name__}: {err}")


def _windows_of(granted: list[float], window: Window) -> list[list[float]]:
    """The grants grouped by the window each fell in: aligned on multiples of its length, or each
    starting with the first grant after the previous one ended."""
    groups: list[list[float]] = []
    start = -math.inf
    for at in sorted(granted):
        begins = at - at % window.seconds if window.aligned else at
        if at >= start + window.seconds:
            start = begins
            groups.append([])
        groups[-1].append(at)
    return groups


@pytest.mark.slow
@pytest.mark.parametrize("aligned", [True, False], ids=["aligned", "from-first-request"])
def test_processes_together_never_take_more_than_a_window_allows(coordination_url: str, aligned: bool) -> None:
    window = Window("second", 1, 4, aligned=aligned, paced=True)
    processes, slots = 4, 5
    provider = _provider()
    barrier, out = SPAWN.Barrier(processes), SPAWN.Queue()
    children = [SPAWN.Process(target=_take_slots, args=(coordination_url, provider, window, slots, barrier, out))
                for _ in range(processes)]
    for child in children:
        child.start()
    results = [out.get(timeout=120) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert all(isinstance(r, list) for r in results), results
    granted = [at for r in results for at in r]
    assert len(granted) == processes * slots
    groups = _windows_of(granted, window)
    assert max(len(g) for g in groups) == window.limit  # never more than the limit in any window
    assert all(len(g) == window.limit for g in groups[1:-1])  # and none wasted while processes waited
    assert all(g[-1] - g[0] < window.seconds for g in groups)
    assert len(groups) <= math.ceil(processes * slots / window.limit) + 1


def _read_quota(url: str, provider: str, windows: tuple[Window, ...],
                out: "multiprocessing.Queue[tuple[object, ...]]") -> None:
    quota = Quota(provider, windows, max_wait_s=5, counts=window_counts(url))
    state = quota.state()
    try:
        quota.take()
        out.put((state, None))
    except QuotaExhausted as err:
        out.put((state, (err.window, err.limit, err.resets_at, str(err))))


@pytest.mark.slow
def test_what_one_process_observes_or_is_refused_another_counts_with(coordination_url: str) -> None:
    provider = _provider()
    windows = (Window("minute", 60, 100, aligned=False, paced=True), Window("day", 86_400, 1_000))
    quota = Quota(provider, windows, max_wait_s=5, counts=window_counts(coordination_url))
    quota.observe("minute", limit=120, remaining=37, resets_in_s=30)
    quota.spent("day")
    here = quota.state()
    out = SPAWN.Queue()
    child = SPAWN.Process(target=_read_quota, args=(coordination_url, provider, windows, out))
    child.start()
    state, refused = out.get(timeout=60)
    child.join(timeout=30)
    assert state == here
    assert state["minute"]["used"] == 120 - 37 and state["minute"]["limit"] == 120
    assert state["day"]["used"] == 1_000
    midnight = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert refused is not None and refused[:3] == ("day", 1_000, midnight)
    assert refused[3] == f"{provider}: the day's quota of 1000 requests is spent; it resets at " \
                         f"{midnight:%Y-%m-%d %H:%M} UTC, and the next run goes on from there"


@pytest.mark.slow
def test_person_windows_on_a_server_count_each_person(coordination_url: str) -> None:
    provider = _provider()
    windows = (Window("minute per user", 60, 1, per_person=True), Window("minute", 60, 5))
    alice, bob = (Quota(provider, windows, max_wait_s=0, person=p, counts=window_counts(coordination_url))
                  for p in ("alice", "bob"))
    alice.take()
    bob.take()
    with pytest.raises(QuotaExhausted, match="minute per user"):
        alice.take()
    assert alice.state()["minute"]["used"] == bob.state()["minute"]["used"] == 2


def _refresh_in_child(config_path: str, barrier: "multiprocessing.synchronize.Barrier",
                      out: "multiprocessing.Queue[tuple[str, str, int]]") -> None:
    config = load_config(config_path)
    tokens = OAuthTokens(config.oura, RawStore(config.app.raw_db), oura.OAUTH,
                         coordination_url=config.app.coordination_url)
    barrier.wait(timeout=60)
    try:
        out.put(("ok", tokens.access_token(), tokens.refreshes))
    except Exception as err:  # reported to the parent, which asserts on it
        out.put(("error", str(err), 0))


@pytest.mark.slow
def test_two_processes_refreshing_one_persons_token_send_one_refresh(
        coordination_url: str, oura_tokens: OAuthTokens, sandbox: Sandbox, tmp_path: Path) -> None:
    store = oura_tokens.store
    config_path = tmp_path / "health-pipeline.toml"  # the file the oura_tokens fixture configured
    config_path.write_text(config_path.read_text(encoding="utf-8").replace(
        "[app]\n", f'[app]\ncoordination_url = "{coordination_url}"\n', 1), encoding="utf-8")
    assert load_config(config_path).app.coordination_url.reveal() == coordination_url
    stored = store.token("oura")
    assert stored is not None
    store.save_token("oura", access_token=stored.access_token, refresh_token=stored.refresh_token,
                     scope=stored.scope, expires_at=datetime.now(timezone.utc) - timedelta(minutes=1))
    refreshes_before = sandbox.oura.oauth.refresh_count
    barrier, out = SPAWN.Barrier(2), SPAWN.Queue()
    children = [SPAWN.Process(target=_refresh_in_child, args=(str(config_path), barrier, out)) for _ in range(2)]
    for child in children:
        child.start()
    results = [out.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert results[0][1] == results[1][1] != stored.access_token  # both use the one new access token
    assert sorted(r[2] for r in results) == [0, 1]
    assert sandbox.oura.oauth.refresh_count == refreshes_before + 1  # a second would spend a rotated token
    assert store.token("oura").access_token == results[0][1]  # type: ignore[union-attr]
    assert not list(store.path.parent.glob("*.token.lock"))  # the server's lock, not a lock file


def _lock_people(url: str, lock_file: str, out: "multiprocessing.Queue[str]") -> None:
    with token_lock(url, "oura", "bob", Path(lock_file), wait_s=30):
        out.put("bob refreshes")
    try:
        with token_lock(url, "oura", "alice", Path(lock_file), wait_s=0.5):
            out.put("alice refreshes")
    except LockTimeout as err:
        out.put(str(err))


@pytest.mark.slow
def test_one_persons_refresh_never_waits_for_anothers(coordination_url: str, tmp_path: Path) -> None:
    out = SPAWN.Queue()
    with token_lock(coordination_url, "oura", "alice", tmp_path / "lock", wait_s=5):
        child = SPAWN.Process(target=_lock_people, args=(coordination_url, str(tmp_path / "lock"), out))
        child.start()
        assert out.get(timeout=60) == "bob refreshes"
        assert out.get(timeout=60) == ("the token refresh lock oura/alice was held by another process "
                                       "for more than 0.5 s")
    child.join(timeout=30)
    with token_lock(coordination_url, "oura", "alice", tmp_path / "lock", wait_s=5):
        pass  # released with the block
