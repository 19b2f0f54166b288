"""The sandbox person's calendar: daylight saving, trips abroad, and days that partition time."""

from datetime import date, datetime, timedelta, timezone

import pytest

from health_pipeline.sources.fitbit.sandbox import data as gd
from health_pipeline.sources.oura.sandbox import data as oura_data, truth as truth
from health_pipeline.sources.withings.sandbox import data as withings_data
from health_pipeline.sandbox.world import SandboxWorld, default_days
from health_pipeline_tests.conftest import FROZEN_NOW

TRIP = [date(2026, 9, 18), date(2026, 9, 19), date(2026, 9, 20), date(2026, 9, 21)]


def test_a_trip_abroad_changes_the_local_zone_for_four_days(world: SandboxWorld) -> None:
    assert [world.tz_for(d).key for d in [date(2026, 9, 17), *TRIP, date(2026, 9, 22)]] == [
        "Europe/Berlin", *["America/New_York"] * 4, "Europe/Berlin"]
    assert world.day_length_s(date(2026, 9, 17)) == 30 * 3600  # flying west: Berlin midnight to New York midnight
    assert world.day_length_s(date(2026, 9, 21)) == 18 * 3600  # flying back east
    assert world.day_length_s(date(2026, 10, 25)) == 25 * 3600  # and the autumn DST change at home


def test_local_days_partition_time_without_gaps_or_overlaps(world: SandboxWorld) -> None:
    day = date(2026, 9, 15)
    while day < date(2026, 10, 30):
        assert world.local_midnight(day) < world.local_midnight(day + timedelta(days=1))
        assert world.day_of(world.local_midnight(day)) == day
        assert world.day_of(world.local_midnight(day + timedelta(days=1)) - timedelta(seconds=1)) == day
        day += timedelta(days=1)


def test_payloads_carry_the_zone_of_the_day(world: SandboxWorld) -> None:
    [abroad] = truth.oura_documents(world, "daily_activity", TRIP[1], TRIP[1])
    [home] = truth.oura_documents(world, "daily_activity", date(2026, 9, 25), date(2026, 9, 25))
    assert abroad["timestamp"].endswith("-04:00") and home["timestamp"].endswith("+02:00")
    activity = withings_data.activity(world, TRIP[1])
    assert activity is not None and activity["timezone"] == "America/New_York"
    [point, *_] = gd.interval_points(world, gd.DATA_TYPES["steps"], TRIP[1])
    assert point["steps"]["interval"]["startUtcOffset"] == "-14400s"


def test_heart_rate_rows_are_never_in_two_days(world: SandboxWorld) -> None:
    stamps = [row["timestamp"] for day in [date(2026, 9, 16), *TRIP, date(2026, 9, 22)]
              for row in oura_data.heartrate_rows(world, day)]
    assert len(stamps) == len(set(stamps)) and stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 22, tzinfo=timezone.utc), 90),  # the October change is 28 days back
        (datetime(2026, 8, 1, tzinfo=timezone.utc), 133),  # 28 March, before the change, is 126 days back
    ],
)
def test_the_default_window_reaches_back_past_a_dst_change(now: datetime, expected: int) -> None:
    assert default_days("Europe/Berlin", now) == expected
    assert default_days("Asia/Tokyo", now) == 90  # no DST: the minimum


def test_the_frozen_test_world_holds_a_dst_change_and_a_trip(world: SandboxWorld) -> None:
    days = [world.first_day() + timedelta(days=i) for i in range(world.days)]
    assert {d for d in days if world.day_length_s(d) != 86400} >= {date(2026, 10, 25), TRIP[0] - timedelta(days=1), TRIP[-1]}
    assert world.today() == FROZEN_NOW.date()
