"""The Hevy fake follows provider-apis.md §3: api-key, paging caps, events newest first, supersets_id."""

import re
from datetime import timedelta

import pytest
import requests

from health_pipeline.sandbox.server import Sandbox

KEY = {"api-key": "sandbox-api-key"}


def get(sandbox: Sandbox, path: str, headers: dict[str, str] = KEY, **params: object) -> requests.Response:
    return requests.get(f"{sandbox.url('hevy')}{path}", params=params, headers=headers, timeout=10)


def all_pages(sandbox: Sandbox, path: str, key: str, **params: object) -> list[dict]:
    items, page = [], 1
    while True:
        body = get(sandbox, path, page=page, pageSize=10, **params).json()
        items.extend(body[key])
        if page >= body["page_count"]:
            return items
        page += 1


@pytest.mark.parametrize("headers", [{}, {"api-key": "wrong"}])
def test_a_missing_or_wrong_api_key_gets_401(sandbox: Sandbox, headers: dict) -> None:
    response = get(sandbox, "/v1/workouts", headers)
    assert response.status_code == 401 and response.json() == {"error": "Unauthorized"}


def test_workouts_page_ten_at_most_and_match_the_count(sandbox: Sandbox) -> None:
    workouts = all_pages(sandbox, "/v1/workouts", "workouts")
    assert get(sandbox, "/v1/workouts/count").json() == {"workout_count": len(workouts)}
    assert len(workouts) == len(sandbox.hevy.live_workouts()) >= 10
    first = get(sandbox, "/v1/workouts").json()
    assert first["page"] == 1 and len(first["workouts"]) == 5  # default pageSize
    too_big = get(sandbox, "/v1/workouts", pageSize=11)
    assert too_big.status_code == 400 and too_big.json() == {"error": "Invalid page size"}
    assert get(sandbox, f"/v1/workouts/{workouts[0]['id']}").json() == workouts[0]
    assert get(sandbox, "/v1/workouts/nope").json() == {"error": "Workout not found"}


def test_workouts_carry_warmups_drop_sets_supersets_and_nullable_measurements(sandbox: Sandbox) -> None:
    workouts = sandbox.hevy.live_workouts()
    sets = [s for w in workouts for e in w["exercises"] for s in e["sets"]]
    assert {"warmup", "normal", "dropset"} <= {s["type"] for s in sets}
    assert any(e["superset_id"] == 0 for w in workouts for e in w["exercises"])  # as live answers spell it
    assert all("supersets_id" not in e for w in workouts for e in w["exercises"])
    assert any(s["weight_kg"] is None and s["distance_meters"] for s in sets)  # treadmill
    assert all(w["start_time"].endswith("+00:00") and w["start_time"] < w["end_time"] for w in workouts)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", w[k]) for w in workouts
               for k in ("created_at", "updated_at"))
    sandbox.hevy.settings.supersets_field = "supersets_id"  # the swagger's spelling
    assert any(e["supersets_id"] == 0 for w in sandbox.hevy.live_workouts() for e in w["exercises"])


def test_events_are_newest_first_and_an_edit_and_a_delete_show_up_after_the_clock_moves(sandbox: Sandbox) -> None:
    now = sandbox.world.clock.now()
    since = (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = all_pages(sandbox, "/v1/workouts/events", "events", since=since)
    stamps = [e["workout"]["updated_at"] if e["type"] == "updated" else e["deleted_at"] for e in before]
    assert stamps == sorted(stamps, reverse=True)

    victim, edited = sandbox.hevy.live_workouts()[5], sandbox.hevy.live_workouts()[6]
    sandbox.world.clock.advance(timedelta(minutes=1))
    sandbox.hevy.delete_workout(victim["id"])
    sandbox.hevy.edit_workout(edited["id"])
    later = (now + timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = all_pages(sandbox, "/v1/workouts/events", "events", since=later)
    assert {(e["type"], e.get("id") or e["workout"]["id"]) for e in events} == {
        ("deleted", victim["id"]), ("updated", edited["id"])}
    updated = next(e["workout"] for e in events if e["type"] == "updated")
    assert updated["title"].endswith("(edited)") and updated["updated_at"] > edited["updated_at"]
    assert victim["id"] not in {w["id"] for w in all_pages(sandbox, "/v1/workouts", "workouts")}


def test_a_bad_since_is_a_400_with_an_error_body(sandbox: Sandbox) -> None:
    response = get(sandbox, "/v1/workouts/events", since="last tuesday")
    assert response.status_code == 400 and "since" in response.json()["error"]


def test_routines_templates_user_and_history(sandbox: Sandbox) -> None:
    routines = get(sandbox, "/v1/routines", pageSize=10).json()
    assert routines["page_count"] == 1 and {r["title"] for r in routines["routines"]} == {"Push Day", "Pull Day", "Legs Day"}
    templates = get(sandbox, "/v1/exercise_templates", pageSize=100).json()
    assert templates["page_count"] == 1 and len(templates["exercise_templates"]) == 15
    assert get(sandbox, "/v1/exercise_templates", pageSize=101).status_code == 400
    assert get(sandbox, "/v1/user/info").json()["data"]["name"] == "sandbox_person"
    history = get(sandbox, "/v1/exercise_history/79D0BB3A").json()["exercise_history"]
    assert history and all(h["exercise_template_id"] == "79D0BB3A" for h in history)
