"""Eight Sleep as health-sync keeps it, for the sandbox person and the partner on the Pod's other side:
the `users_me`, `devices`, `users` answers and one `trends` day per night (research:
/work/research/eightsleep.md). There is no fake Eight Sleep API here (its API is private and no source
calls it): health-sync's rows are all there is.

The person's nights are the world's (`night_for`): the same bedtime, wake-up and 5-minute stages the
other fakes report, so sources agree. Nights away from home (a trip) are not on the Pod. Live shapes
(v2, `include-all-sessions=true`): every instant UTC with milliseconds, durations whole seconds, the
day's stage durations the main session's, `deepPercent`/`remPercent` fractions, snore percents whole,
the nightly heart rate, HRV (ms) and breathing rate in `sleepQualityScore.<metric>.current`, the
session's series as `[timestamp, value]` pairs (15-minute heart rate, HRV and RMSSD, hourly breathing
rate and temperatures, the bed's beginning at room temperature before bedtime), a missing reading the
text "None". On about one night in four the Pod's session began before bedtime (someone sat on the
bed, then left it): that time is `out` in the stages, counted in `presenceDuration` and the session's
`totalDuration` but not between `presenceStart` and `presenceEnd`. After waking the person lies awake
for a minute or more (`latencyOutSeconds`) before getting up (`presenceEnd`).
"""

from datetime import date, datetime, timedelta, timezone
from statistics import fmean
from typing import Any

from health_pipeline.sandbox.world import Night, SandboxWorld, night_for, rng_for

HOLDER_ID = "3f6c9e1d2a4b4c8e9f0a1b2c3d4e5f60"  # Eight Sleep user ids: 32 hex digits
PARTNER_ID = "8a2b7c4d6e1f40a9b3c5d7e9f1a2b3c4"
DEVICE_ID = "5c1a9d7e3b2f4a6c8e0d1f3a5b7c9e2d"
SLOT_S = 300
ASLEEP = ("light", "deep", "rem")


def iso(at: datetime) -> str:
    """Eight Sleep's instants: UTC with milliseconds."""
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def at_home(world: SandboxWorld, day: date) -> bool:
    """Whether the night ending on `day` was spent at home (in the Pod's bed)."""
    return not (world.travelling(day) or world.travelling(day - timedelta(days=1)))


def _partner_night(world: SandboxWorld, night: Night) -> Night:
    """The partner's night: beside the person's, shifted and staged differently."""
    rng = rng_for(world.seed, "eightsleep", "partner", night.day.isoformat())
    shift = timedelta(minutes=5 * rng.randint(-6, 8))
    turn = rng.randint(6, 30)
    stages = night.stages[:2] + night.stages[2 + turn:] + night.stages[2:2 + turn]
    return Night(night.day, night.bed + shift, night.wake + shift, stages, night.latency_s, night.resting_hr + 4)


def trend_days(world: SandboxWorld, first: date, last: date, until: datetime, request_tz: str = "UTC"
               ) -> list[tuple[str, dict[str, Any]]]:
    """(user id, trend day) of both sides for the nights ending on [first, last] that ended by `until`."""
    found = []
    day = first
    while day <= last:
        night = night_for(world, day)
        if night is not None and at_home(world, day) and night.wake + timedelta(minutes=30) <= until:
            found.append((HOLDER_ID, trend_day(world, night, HOLDER_ID, "left", request_tz)))
            found.append((PARTNER_ID, trend_day(world, _partner_night(world, night), PARTNER_ID, "right", request_tz)))
        day += timedelta(days=1)
    return found


def _runs(stages: list[tuple[str, int]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for stage, seconds in stages:
        if merged and merged[-1]["stage"] == stage:
            merged[-1]["duration"] += seconds
        elif seconds:
            merged.append({"stage": stage, "duration": seconds})
    return merged


def _series(start: datetime, end: datetime, every: timedelta, value: Any) -> list[list[Any]]:
    points, at, i = [], start, 0
    while at < end:
        points.append([iso(at), value(i)])
        at += every
        i += 1
    return points


def _metric(current: Any, average: Any, score: int) -> dict[str, Any]:
    return {"current": current, "average": average, "score": score, "weight": 0.1, "weighted": round(score / 10, 1),
            "available": True}


def _clock(world: SandboxWorld, at: datetime) -> str:
    return at.astimezone(world.tz_at(at)).strftime("%H:%M:%S")


def trend_day(world: SandboxWorld, night: Night, user: str, side: str, request_tz: str = "UTC") -> dict[str, Any]:
    """One element of `GET /users/{id}/trends`' `days[]` for a night, keys in the answer's order."""
    rng = rng_for(world.seed, "eightsleep", user, night.day.isoformat())
    out_s = rng.choice((0, 0, 0, 1200, 2400, 4200))  # the session began before bedtime, someone off the bed
    latency_out_s = rng.randint(1, 5) * 60
    presence_start, presence_end = night.bed, night.wake + timedelta(seconds=latency_out_s)
    began = presence_start - timedelta(seconds=out_s)
    asleep_slots = [i for i, stage in enumerate(night.stages) if stage in ASLEEP]
    first_asleep, last_asleep = asleep_slots[0], asleep_slots[-1]
    sleep_start = night.bed + timedelta(seconds=first_asleep * SLOT_S)
    sleep_end = night.bed + timedelta(seconds=(last_asleep + 1) * SLOT_S)
    seconds = {stage: night.stages.count(stage) * SLOT_S for stage in (*ASLEEP, "awake")}
    asleep = sum(seconds[stage] for stage in ASLEEP)
    awake = seconds["awake"] + latency_out_s
    before = first_asleep * SLOT_S
    after = (len(night.stages) - 1 - last_asleep) * SLOT_S + latency_out_s
    total = out_s + len(night.stages) * SLOT_S + latency_out_s
    session_id = str(int(began.timestamp()))

    heart = _series(presence_start, presence_end, timedelta(minutes=15),
                    lambda i: night.resting_hr + rng.randint(-3, 24) / 3)
    if rng.random() < 0.3:
        heart[0][1] = "None"  # the API's text for a missing reading
    hrv = _series(presence_start, presence_end, timedelta(minutes=15), lambda i: round(rng.uniform(22, 88), 2))
    breathing = _series(presence_start, presence_end, timedelta(hours=1), lambda i: round(rng.uniform(12.5, 16.5), 2))
    warmed = presence_start - timedelta(hours=2)
    bed_temp = _series(warmed, presence_end, timedelta(hours=1),
                       lambda i: round(rng.uniform(22.4, 23.2) if i < 2 else rng.uniform(31.0, 34.2), 2))
    tosses = rng.randint(8, 40)
    tnt_at = sorted(rng.sample(range(1, max(2, int((presence_end - presence_start).total_seconds() // 60))), tosses))
    heart_avg = round(fmean(v for _, v in heart if isinstance(v, float)))
    hrv_now = round(rng.uniform(25, 75), 1)
    breathing_now = round(fmean(v for _, v in breathing), 1)
    score = rng.randint(62, 96)
    snore = rng.randint(0, 40) * 60
    session = {
        "id": session_id, "ts": iso(began), "sleepStart": iso(sleep_start), "sleepEnd": iso(sleep_end),
        "presenceEnd": iso(presence_end), "duration": total, "score": 0, "timezone": world.timezone,
        "device": {"id": DEVICE_ID, "side": side, "specialization": "pod"},
        "deviceTimeAtUpdate": iso(presence_end + timedelta(minutes=rng.randint(3, 40))),
        "sleepAlgorithmVersion": "2.4.1", "presenceAlgorithmVersion": "1.3.0", "hrvAlgorithmVersion": "0.1.1",
        "stages": _runs([("out", out_s), *((stage, SLOT_S) for stage in night.stages), ("awake", latency_out_s)]),
        "snoring": [{"intensity": "light", "duration": snore}] if snore else [],
        "stageSummary": {
            "totalDuration": total, "sleepDuration": asleep, "outDuration": out_s, "awakeDuration": awake,
            "lightDuration": seconds["light"], "deepDuration": seconds["deep"], "remDuration": seconds["rem"],
            "awakeBeforeSleepDuration": before, "awakeBetweenSleepDuration": awake - before - after,
            "awakeAfterSleepDuration": after, "outBetweenSleepDuration": 0, "wasoDuration": awake - before - after,
            "deepPercentOfSleep": round(seconds["deep"] / asleep, 2), "remPercentOfSleep": round(seconds["rem"] / asleep, 2),
            "lightPercentOfSleep": round(seconds["light"] / asleep, 2)},
        "timeseries": {
            "tnt": [[iso(presence_start + timedelta(minutes=m)), 1] for m in tnt_at],
            "tempRoomC": _series(warmed, presence_end, timedelta(hours=1), lambda i: round(rng.uniform(18.5, 21.0), 2)),
            "tempBedC": bed_temp, "respiratoryRate": breathing, "heartRate": heart, "heating": [], "hrv": hrv,
            "rmssd": [[at, round(value * rng.uniform(1.1, 1.5), 2)] for at, value in hrv]},
    }
    wake_label = sleep_end.astimezone(timezone.utc if request_tz == "UTC" else world.tz_at(sleep_end)).date()
    return {
        "day": wake_label.isoformat(), "presenceDuration": total, "sleepDuration": asleep, "remDuration": seconds["rem"],
        "remPercent": round(seconds["rem"] / asleep, 2), "lightDuration": seconds["light"],
        "deepDuration": seconds["deep"], "deepPercent": round(seconds["deep"] / asleep, 2),
        "snoreDuration": snore, "heavySnoreDuration": snore // 4, "snorePercent": round(100 * snore / asleep),
        "heavySnorePercent": round(25 * snore / asleep), "mitigationEvents": 0, "stoppedSnoringEvents": 0,
        "reducedSnoringEvents": 0, "ineffectiveExtendedEvents": 0, "cancelledEvents": 0, "elevationDuration": 0,
        "theoreticalSnorePercent": 0, "snoringReductionPercent": 0, "elevationAutopilotAdjustmentCount": 0,
        "presenceStart": iso(presence_start), "presenceEnd": iso(presence_end), "sleepStart": iso(sleep_start),
        "sleepEnd": iso(sleep_end), "tnt": tosses, "mainSessionId": session_id, "sessionIds": [session_id],
        "sessions": [session], "incomplete": False, "tags": [],
        "hotFlash": {"summary": {"sessionCount": 0}, "sessions": []},
        "performanceWindows": {"isAvailable": False},
        "score": score,
        "sleepQualityScore": {
            "total": min(100, score + rng.randint(-6, 6)),
            "sleepDurationSeconds": _metric(asleep, 26_400, rng.randint(50, 100)),
            "heartRate": {**_metric(heart_avg, night.resting_hr + 2, rng.randint(60, 100)), "lowerRange": 48,
                          "upperRange": 66},
            "hrv": _metric(hrv_now, 46.2, rng.randint(50, 100)),
            "respiratoryRate": _metric(breathing_now, 14.3, rng.randint(60, 100)),
            "deep": _metric(seconds["deep"], 5_400, rng.randint(40, 100)),
            "rem": _metric(seconds["rem"], 6_600, rng.randint(40, 100)),
            "waso": _metric(round((awake - before - after) / total, 4), 0.05, rng.randint(40, 100)),
            "snoringDurationSeconds": _metric(snore, 600, 90),
            "heavySnoringDurationSeconds": _metric(snore // 4, 120, 95),
            "sleepDebt": {"dailySleepDebtSeconds": 27_000 - asleep, "baselineSleepDurationSeconds": 27_000,
                          "isCalibrating": False},
            "weight": 0.5, "weighted": round(score / 2, 1)},
        "sleepRoutineScore": {
            "total": rng.randint(40, 95),
            "latencyAsleepSeconds": {"current": before, "average": 720, "score": rng.randint(40, 100)},
            "latencyOutSeconds": {"current": latency_out_s, "average": 180, "score": rng.randint(40, 100)},
            "wakeupConsistency": {"current": _clock(world, sleep_end), "average": "07:15:00", "score": rng.randint(40, 100)},
            "sleepStartConsistency": {"current": _clock(world, sleep_start), "average": "23:20:00",
                                      "score": rng.randint(40, 100)},
            "bedtimeConsistency": {"current": _clock(world, presence_start), "average": "23:05:00",
                                   "score": rng.randint(40, 100)},
            "weight": 0.5, "weighted": 30.0},
    }


def _user(world: SandboxWorld, user: str, side: str, first: str, email: str) -> dict[str, Any]:
    return {"userId": user, "email": email, "firstName": first, "lastName": "Person", "gender": "female",
            "tempPreference": "neutral", "dob": "1989-05-14T00:00:00.000Z", "zip": 10115, "devices": [DEVICE_ID],
            "emailVerified": True, "sharingMetricsTo": [], "sharingMetricsFrom": [], "timezone": world.timezone,
            "currentDevice": {"id": DEVICE_ID, "side": side, "timeZone": world.timezone},
            "features": ["warming", "cooling", "vibration"], "notifications": {"weeklyReportEmail": True},
            "autopilotEnabled": True, "createdAt": "2025-01-06T19:22:41.118Z"}


def users_me(world: SandboxWorld) -> dict[str, Any]:
    """`GET /users/me`: the account holder (`user.userId`; no `id`, so health-sync keys it "me")."""
    return {"user": _user(world, HOLDER_ID, "left", "Sandbox", "sandbox.person@example.org")}


def users(world: SandboxWorld) -> dict[str, dict[str, Any]]:
    """`GET /users/{id}` of both sides."""
    return {HOLDER_ID: users_me(world),
            PARTNER_ID: {"user": _user(world, PARTNER_ID, "right", "Partner", "partner@example.org")}}


def device(world: SandboxWorld) -> dict[str, Any]:
    """`GET /devices/{id}`: the Pod, the person on its left side and the partner on its right."""
    return {"result": {"deviceId": DEVICE_ID, "ownerId": HOLDER_ID, "leftUserId": HOLDER_ID, "rightUserId": PARTNER_ID,
                       "awaySides": {}, "leftHeatingLevel": -10, "rightHeatingLevel": 15, "leftKelvin": {"active": True},
                       "rightKelvin": {"active": True}, "timezone": world.timezone, "firmwareVersion": "2.4.6.0",
                       "lastHeard": iso(world.clock.now()), "online": True, "modelString": "Pod 4",
                       "features": ["warming", "cooling"], "sensorInfo": {"connected": True},
                       "wifiInfo": {"signalStrength": -48}}}
