"""Helpers for tests that drive a running `dagster dev`: polling with a deadline, and switching off
the schedules and sensors that would start runs of their own."""

import time
from collections.abc import Callable, Collection
from typing import TypeVar

import dagster as dg
import pytest

from health_pipeline.dev.dagster_dev import DagsterDev
from health_pipeline.instance.home import instance_in

T = TypeVar("T")

BUSY = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED]


def poll(check: Callable[[], T], what: str, ui: DagsterDev | None = None, timeout_s: float = 300.0) -> T:
    """Call `check` until it returns something truthy; fail with `what` (and the UI's log) at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}" + (f"\n{ui.tail()}" if ui else ""))
        time.sleep(1.0)  # polling the instance with a deadline


def wait_for_daemon(ui: DagsterDev, timeout_s: float = 60.0) -> None:
    """Until the daemon reports its sensor, schedule, backfill and run-queue daemons healthy."""
    poll(ui.daemons_healthy, "the daemon to report healthy", ui, timeout_s)


def stop_automation(ui: DagsterDev, keep: Collection[str] = ()) -> set[str]:
    """Stop every schedule and sensor not named in `keep`, then wait for the runs they started;
    the names stopped."""
    stopped = ui.stop_automation(keep)
    with instance_in(ui.home) as instance:
        poll(lambda: not instance.get_runs(dg.RunsFilter(statuses=BUSY)), "the runs started before the test", ui)
    return stopped
