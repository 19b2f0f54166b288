"""Runs on several machines: Dagster's Celery run launcher (dagster-celery), with Redis as the broker.

The daemon queues a run as a Celery task; whichever `health-pipeline worker` takes it executes the
whole run against the shared Dagster instance (PostgreSQL), raw store (PostgreSQL) and quotas
(`[app] coordination_url`). Two things are added to dagster-celery's launcher:

- the worker that took a run names itself on the run (`health/worker`), so the UI shows where it ran;
- while a run executes, its worker process renews a heartbeat key for it in Redis every few seconds.
  Dagster's run monitor asks the launcher about every started run; a run whose heartbeat has
  lapsed (the worker was killed, lost power or its network) is failed, and Dagster's run retries
  launch it again, from the steps that had not finished, on a worker that is alive. Without this
  a dead worker's task stays "started" in the result backend for ever and the run looks alive. The
  heartbeat belongs to the run, not to the worker's name, so a worker restarted under the same name
  does not keep a dead run alive, and a worker draining on SIGTERM keeps its runs' heartbeats.

Runs this launcher did not start (a CLI `sync`, which executes in its own process) are left to their
own process: the launcher reports them running. Tasks are acknowledged when their run ends
(`task_acks_late`), so a worker holds no run it has not started; a task the broker hands out twice
finds its run finished or owned and is ignored by Dagster. The broker must be Redis (it also holds
the heartbeats).
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import redis
from celery import Celery
from dagster_celery.config import TASK_EXECUTE_JOB_NAME
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tasks import create_resume_job_task

from health_pipeline.instance.internals import (CheckRunHealthResult, ExecuteRunArgs, WorkerStatus,
                                                execute_run_command_body, unpack_value)
from health_pipeline.naming import WORKER_TAG

BROKER_ENV = "HEALTH_PIPELINE_BROKER_URL"  # redis://host:6379/1, on the daemon's and every worker's machine
TASK_ID_TAG = "dagster-celery/task_id"  # set by dagster-celery's launcher on the runs it queued
WORKER_SETTINGS = {
    "task_acks_late": True,  # a worker holds only the run it executes
    "worker_prefetch_multiplier": 1,
    "task_track_started": True,
    "broker_connection_retry_on_startup": True,
    # dagster-celery's retry settings, and a task not acknowledged within this long (a run still
    # executing) is handed out again: far above any run, and Dagster ignores the duplicate anyway
    "broker_transport_options": {"max_retries": 3, "interval_start": 0, "interval_step": 0.2,
                                 "interval_max": 0.5, "visibility_timeout": 7 * 86400},
}
HEARTBEAT_EVERY_S = 5.0
HEARTBEAT_TTL_S = 20  # a run whose worker has not renewed its key for this long is dead
HEARTBEAT_KEY = "health_pipeline:run-alive:{run_id}"


class WorkerRunLauncher(CeleryRunLauncher):
    """dagster-celery's run launcher, which also notices a run whose worker died."""

    def __init__(self, default_queue: str, broker: str | None = None, backend: str | None = None,
                 include: list[str] | None = None, config_source: dict | None = None,
                 inst_data: Any = None) -> None:
        super().__init__(default_queue, broker=broker, backend=backend, include=include,
                         config_source={**WORKER_SETTINGS, **(config_source or {})}, inst_data=inst_data)

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if run.tags.get(TASK_ID_TAG) is None:  # not launched on a worker (a CLI sync): its own process watches it
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not executed on a Celery worker")
        if self.alive(run.run_id):
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        health = super().check_run_worker_health(run)
        if health.status in (WorkerStatus.SUCCESS, WorkerStatus.FAILED):
            return health
        worker = run.tags.get(WORKER_TAG, "its worker")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"{worker} stopped renewing this run's heartbeat "
                                                         f"(for {HEARTBEAT_TTL_S} s): the worker died or was cut off")

    def alive(self, run_id: str) -> bool:
        """Whether the worker executing run `run_id` renewed its heartbeat within `HEARTBEAT_TTL_S`."""
        client = redis.Redis.from_url(str(self.broker), socket_timeout=10)
        try:
            return bool(client.exists(HEARTBEAT_KEY.format(run_id=run_id)))
        finally:
            client.close()

    def answers(self, worker: str) -> bool:
        """Whether the Celery worker named `worker` answers a ping (for tests and `doctor`-like checks)."""
        replies = self.celery.control.ping(destination=[worker], timeout=3.0)
        return any(worker in reply for reply in replies)


@contextmanager
def heartbeat(broker: str, run_id: str) -> Iterator[None]:
    """Renew run `run_id`'s heartbeat key every `HEARTBEAT_EVERY_S` while the block runs; remove it after."""
    client = redis.Redis.from_url(broker, socket_timeout=10)
    key, done = HEARTBEAT_KEY.format(run_id=run_id), threading.Event()

    def beat() -> None:
        while not done.is_set():
            try:
                client.set(key, "1", ex=HEARTBEAT_TTL_S)
            except redis.RedisError:
                pass  # the broker is away for a moment: the next beat tries again, the TTL covers the gap
            done.wait(HEARTBEAT_EVERY_S)

    client.set(key, "1", ex=HEARTBEAT_TTL_S)
    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=HEARTBEAT_EVERY_S * 2)
        try:
            client.delete(key)
        finally:
            client.close()


def worker_app(instance: dg.DagsterInstance) -> Celery:
    """The Celery app of `instance`'s run launcher, with the tasks a worker executes: a run (named
    with the worker that took it) and a resumed run."""
    launcher = instance.run_launcher
    if not isinstance(launcher, CeleryRunLauncher):
        raise WorkersNotConfigured("this Dagster home launches runs on this machine, not on workers: "
                                   "write it with `health-pipeline init --postgres --workers`")
    app = launcher.celery

    @app.task(bind=True, name=TASK_EXECUTE_JOB_NAME, track_started=True)
    def execute_job(task: Any, execute_job_args_packed: Any) -> int:
        args = unpack_value(execute_job_args_packed, as_type=ExecuteRunArgs)
        with dg.DagsterInstance.get() as worker_instance:
            run = worker_instance.get_run_by_id(args.run_id)
            if run is None or run.status not in (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING):
                return execute_run_command_body(instance=worker_instance, run_id=args.run_id,  # Dagster ignores it
                                                write_stream_fn=lambda _event: None, set_exit_code_on_failure=True)
            worker_instance.add_run_tags(args.run_id, {WORKER_TAG: task.request.hostname})
            with heartbeat(str(launcher.broker), args.run_id):
                return execute_run_command_body(instance=worker_instance, run_id=args.run_id,
                                                write_stream_fn=lambda _event: None, set_exit_code_on_failure=True)

    create_resume_job_task(app)
    return app


class WorkersNotConfigured(Exception):
    """`health-pipeline worker` in a Dagster home whose runs are not launched on Celery workers."""
