"""The Hevy client against the sandbox: paging caps, events to upserts and tombstones."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from health_pipeline.registry import parse_config
from health_pipeline.sources.hevy import client as hevy
from health_pipeline.sandbox.server import Sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> hevy.HevyClient:
    config = parse_config({"hevy": {"enabled": True, "api_key": "sandbox-api-key", "base_url": sandbox.url("hevy")}}, None)
    return hevy.HevyClient(config.hevy, tz=ZoneInfo("Europe/Berlin"))


def test_all_workouts_page_by_ten_and_equal_the_account(client: hevy.HevyClient, sandbox: Sandbox) -> None:
    workouts = list(client.items("workouts"))
    assert workouts == sandbox.hevy.live_workouts()
    requests = sandbox.log.entries("hevy")
    assert len(requests) == -(-len(workouts) // 10) and all(e.params["pageSize"] == "10" for e in requests)
    record = client.workout_record(workouts[0])
    assert record.record_id == workouts[0]["id"] and record.day is not None


def test_templates_page_by_a_hundred(client: hevy.HevyClient, sandbox: Sandbox) -> None:
    assert len(list(client.items("exercise_templates"))) == 15
    assert [e.params["pageSize"] for e in sandbox.log.entries("hevy")] == ["100"]


def test_events_become_upserts_and_deletions_with_a_cursor(client: hevy.HevyClient, sandbox: Sandbox) -> None:
    now = sandbox.world.clock.now()
    workouts = sandbox.hevy.live_workouts()
    sandbox.world.clock.advance(timedelta(minutes=5))
    sandbox.hevy.delete_workout(workouts[2]["id"])
    sandbox.world.clock.advance(timedelta(minutes=5))
    sandbox.hevy.edit_workout(workouts[3]["id"])
    changes = client.changes_since(now)
    assert changes.deleted_ids == [workouts[2]["id"]]
    assert [r.record_id for r in changes.upserts] == [workouts[3]["id"]]
    assert changes.newest == now + timedelta(minutes=10)
    assert client.changes_since(now + timedelta(minutes=10)).upserts == []
    everything = client.changes_since(now - timedelta(days=400))
    assert len(everything.upserts) == len(sandbox.hevy.live_workouts())


def test_a_wrong_key_asks_for_the_right_one(client: hevy.HevyClient, sandbox: Sandbox) -> None:
    from health_pipeline.providers.errors import ReauthorizationNeeded

    sandbox.hevy.oauth.revoke_all()
    with pytest.raises(ReauthorizationNeeded, match="the API key was refused"):
        list(client.items("routines"))
