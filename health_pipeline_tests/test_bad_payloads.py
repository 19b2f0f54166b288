"""Malformed and surprising API answers: each is handled or fails with a clear error, never a traceback,
and none loses data already landed.

Every case lands a first window cleanly, then rewrites one real sandbox answer (a missing field, a
wrong type, extra fields, an empty or huge page, a wrong Content-Type, a body cut off in transit)
and runs the same landing asset again over a later window (Withings and Hevy: their next
changes-since run).
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from health_pipeline.config import Config
from health_pipeline.providers.errors import MalformedResponse
from health_pipeline.providers.windows import local_midnight
from health_pipeline.sources.oura.sandbox import truth as truth
from health_pipeline.sandbox.http import Response
from health_pipeline.sandbox.server import Sandbox
from health_pipeline.storage.raw_store import RawStore
from health_pipeline_tests.conftest import TIMEZONE, TODAY
from health_pipeline_tests.tidy_setup import all_providers_config, run_range

SANDBOX_PREFIX = {"oura": "oura", "fitbit": "google-health", "withings": "withings", "hevy": "hevy"}
FIRST = (TODAY - timedelta(days=10), TODAY - timedelta(days=8))
SECOND = (TODAY - timedelta(days=5), TODAY - timedelta(days=4))
Transform = Callable[[Response], Response]


def edit(change: Callable[[Any], object]) -> Transform:
    """Rewrite the JSON of a real answer in place with `change` (its return value is ignored)."""

    def transform(response: Response) -> Response:
        payload = json.loads(response.body)
        change(payload)
        return Response(response.status, json.dumps(payload).encode(), response.headers)

    return transform


def replace(payload: Any) -> Transform:
    """Answer `payload` (as JSON, with the real answer's status and headers) instead."""
    return lambda response: Response(response.status, json.dumps(payload).encode(), response.headers)


def raw(body: bytes, content_type: str = "application/json") -> Transform:
    return lambda response: Response(200, body, {"Content-Type": content_type})


def retyped(content_type: str) -> Transform:
    return lambda response: Response(response.status, response.body, {**response.headers, "Content-Type": content_type})


def cut_off(response: Response) -> Response:
    return Response(response.status, response.body[: len(response.body) // 2], response.headers)


def each(key: str, change: Callable[[dict[str, Any]], Any]) -> Callable[[Any], None]:
    def apply(payload: Any) -> None:
        for item in payload[key] if key in payload else payload["body"][key]:
            change(item)

    return apply


def huge_heartrate(payload: dict[str, Any]) -> None:
    """Add 20 000 samples at 1-second steps after the page's first one (about 1 MB)."""
    first = datetime.fromisoformat(payload["data"][0]["timestamp"])
    payload["data"] += [{"bpm": 60 + i % 40, "source": "awake", "timestamp": (first + timedelta(seconds=i + 1)).isoformat()}
                        for i in range(20_000)]


@dataclass(frozen=True)
class Case:
    """One surprising answer: where it goes and what must happen."""

    name: str
    asset: str
    path: str  # the first request whose path contains this is rewritten
    transform: Transform
    error: str | None  # None: handled and landed; else a fragment of the clear error
    times: int = 1


OURA, HR, GOOGLE, WITHINGS, HEVY = ("oura_daily_activity", "oura_heartrate", "fitbit_steps", "withings_measures",
                                    "hevy_workouts")
CASES = [
    Case("oura-no-data-list", OURA, "daily_activity", edit(lambda p: p.pop("data")), "daily_activity"),
    Case("oura-data-is-a-string", OURA, "daily_activity", edit(lambda p: p.update(data="oops")), "daily_activity"),
    Case("oura-item-without-day", OURA, "daily_activity", edit(each("data", lambda i: i.pop("day"))), "day"),
    Case("oura-day-is-a-number", OURA, "daily_activity", edit(each("data", lambda i: i.update(day=20261117))), "day"),
    Case("oura-body-is-a-list", OURA, "daily_activity", replace([]), "not a JSON object"),
    Case("oura-item-is-a-list", OURA, "daily_activity", edit(lambda p: p.update(data=[[1, 2]])), "daily_activity"),
    Case("oura-null-body-every-time", OURA, "daily_activity", raw(b"null"), "not a JSON object", times=5),
    Case("oura-html-with-200", OURA, "daily_activity", raw(b"<html>maintenance</html>", "text/html"),
         "not a JSON object"),
    Case("oura-json-as-text-plain", OURA, "daily_activity", retyped("text/plain"), None),
    Case("oura-extra-fields", OURA, "daily_activity",
         edit(lambda p: (p.update(surprise={"new": True}), each("data", lambda i: i.update(new_field=1))(p))), None),
    Case("oura-empty-page", OURA, "daily_activity", edit(lambda p: p.update(data=[])), None),
    Case("oura-cut-off-once", OURA, "daily_activity", cut_off, None),
    Case("oura-cut-off-every-time", OURA, "daily_activity", cut_off, "not a JSON object", times=5),
    Case("oura-huge-page", HR, "heartrate", edit(huge_heartrate), None),
    Case("oura-heartrate-bpm-is-text", HR, "heartrate", edit(each("data", lambda i: i.update(timestamp=7))),
         "timestamp"),
    Case("google-no-points", GOOGLE, "steps", replace({}), None),
    Case("google-point-without-time", GOOGLE, "steps",
         edit(each("rollupDataPoints", lambda i: i.pop("civilStartTime"))), "civilStartTime"),
    Case("google-points-not-a-list", GOOGLE, "steps", edit(lambda p: p.update(rollupDataPoints={"a": 1})),
         "rollupDataPoints"),
    Case("google-extra-fields", GOOGLE, "steps", edit(each("rollupDataPoints", lambda i: i.update(extra=[1]))), None),
    Case("withings-no-status", WITHINGS, "measure", edit(lambda p: p.pop("status")), "has no `status`"),
    Case("withings-body-not-object", WITHINGS, "measure", edit(lambda p: p.update(body=[1])), "`body` is not an object"),
    Case("withings-no-measuregrps", WITHINGS, "measure", edit(lambda p: p["body"].pop("measuregrps")), "measuregrps"),
    Case("withings-more-without-offset", WITHINGS, "measure", edit(lambda p: p["body"].update(more=1, offset="x")),
         "offset"),
    Case("withings-unknown-status", WITHINGS, "measure", replace({"status": 2554, "error": "odd"}), "2554"),
    Case("withings-group-without-id", WITHINGS, "measure",
         edit(lambda p: p["body"].update(measuregrps=[{"date": 1, "measures": []}])), "id"),
    Case("hevy-no-page-count", HEVY, "events", edit(lambda p: p.pop("page_count")), "page_count"),
    Case("hevy-events-not-a-list", HEVY, "events", edit(lambda p: p.update(events="none")), "events"),
    Case("hevy-unknown-event-type", HEVY, "events", edit(lambda p: p.update(events=[{"type": "renamed"}])),
         "unknown shape"),
    Case("hevy-workout-without-id", HEVY, "events",
         edit(lambda p: p.update(events=[{"type": "updated", "workout": {"title": "x"}}])), "id"),
    Case("hevy-extra-fields", HEVY, "events", edit(lambda p: p.update(cursor_v2="abc")), None),
]


def window_bounds(sandbox: Sandbox, first: date, last: date) -> tuple[datetime, datetime]:
    return local_midnight(first, sandbox.world.tz), local_midnight(last + timedelta(days=1), sandbox.world.tz)


@pytest.fixture
def config(tmp_path: Path, sandbox: Sandbox) -> Config:
    return all_providers_config(tmp_path / "health-pipeline.toml", sandbox, TODAY - timedelta(days=20), TIMEZONE)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def snapshot(config: Config) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    """(provider, resource, record id) -> (payload sha256, deleted_at) for every stored record."""
    store = RawStore(config.app.raw_db)
    with store.connection() as conn:
        rows = conn.execute("SELECT provider, resource, record_id, payload_sha256, deleted_at FROM records").fetchall()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def failure(result: dg.ExecuteInProcessResult) -> tuple[str, str]:
    """The one failed step's error class and what the user reads."""
    (event,) = result.get_step_failure_events()
    data = event.step_failure_data
    user = data.user_failure_data
    return data.error.cls_name if data.error else "", user.description if user else data.error.message


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_surprising_answer_is_handled_or_clearly_refused_and_nothing_landed_is_lost(
    case: Case, config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    assert run_range(config, instance, [case.asset], *FIRST).success
    before = snapshot(config)
    assert before, "the first window landed nothing"
    provider = case.asset.split("_")[0]
    prefix = SANDBOX_PREFIX[provider]
    sandbox.log.clear()
    sandbox.faults.rewrite(prefix, case.transform, case.path, times=case.times)

    result = run_range(config, instance, [case.asset], *SECOND)

    after = snapshot(config)
    assert {key: after.get(key) for key in before} == before  # nothing landed before changed or vanished
    rewritten = [e for e in sandbox.log.entries(prefix) if e.fault == "rewrite"]
    assert len(rewritten) == case.times
    if case.error is None:
        assert result.success, failure(result)
    else:
        assert not result.success
        cls_name, message = failure(result)
        assert cls_name == "Failure"  # a typed provider error turned into a one-line Dagster failure
        assert case.error in message and message.startswith(f"{provider}: "), message
        assert "Traceback" not in message
        assert set(after) == set(before)  # the failed window landed nothing half-way


def test_extra_fields_are_kept_verbatim_in_the_raw_store(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    sandbox.faults.rewrite("oura", edit(each("data", lambda i: i.update(new_field={"x": 1}))), "daily_activity")
    assert run_range(config, instance, [OURA], *SECOND).success
    stored = RawStore(config.app.raw_db).records("oura", "daily_activity")
    assert len(stored) == 2 and all(json.loads(r.payload)["new_field"] == {"x": 1} for r in stored)


def test_a_huge_page_lands_every_sample(config: Config, instance: dg.DagsterInstance, sandbox: Sandbox) -> None:
    sandbox.faults.rewrite("oura", edit(huge_heartrate), "heartrate")
    assert run_range(config, instance, [HR], *SECOND).success
    assert len([e for e in sandbox.log.entries("oura") if "heartrate" in e.path]) == 1  # one page held it all
    stored = [row for r in RawStore(config.app.raw_db).records("oura", "heartrate") for row in json.loads(r.payload)]
    first = datetime.fromisoformat(stored[0]["timestamp"])
    real = {row["timestamp"] for row in truth.oura_heartrate(sandbox.world, *window_bounds(sandbox, *SECOND))}
    added = {(first + timedelta(seconds=i + 1)).isoformat() for i in range(20_000)}
    assert sorted(row["timestamp"] for row in stored) == sorted(real | added, key=datetime.fromisoformat)


def test_an_answer_cut_off_once_is_asked_again_and_lands(
    config: Config, instance: dg.DagsterInstance, sandbox: Sandbox
) -> None:
    sandbox.faults.script("oura", "malformed")
    assert run_range(config, instance, [OURA], *SECOND).success
    asked = [e.fault for e in sandbox.log.entries("oura") if "daily_activity" in e.path]
    assert asked == ["malformed", None]
    assert len(RawStore(config.app.raw_db).records("oura", "daily_activity")) == 2


def test_the_client_reports_an_answer_cut_off_every_time(config: Config, sandbox: Sandbox) -> None:
    from health_pipeline.providers.http import ProviderHTTP, RetrySettings, json_object, json_or_none

    sandbox.faults.script("hevy", *["malformed"] * 3)
    http = ProviderHTTP("hevy", RetrySettings(attempts=3, backoff_base_s=0.01), sleep=lambda s: None)
    response = http.request("GET", f"{sandbox.url('hevy')}/v1/user/info", headers={"api-key": "sandbox-api-key"})
    assert http.requests_made == 3
    with pytest.raises(MalformedResponse, match="hevy: /v1/user/info: the answer is not a JSON object"):
        json_object("hevy", "/v1/user/info", json_or_none(response))
