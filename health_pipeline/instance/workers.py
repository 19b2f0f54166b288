"""Runs on several machines: Dagster's Celery run launcher (dagster-celery), with Redis as the broker.

The daemon queues a run as a Celery task; whichever `health-pipeline worker` takes it executes the
whole run against the shared Dagster instance (PostgreSQL), raw store (PostgreSQL) and quotas
(`[app] coordination_url`). Two things are added to dagster-celery's launcher:

- the worker that took a run names itself on the run (`health/worker`), so the UI shows where it ran;
- the run monitor asks that worker whether it is still alive. A worker killed mid-run (power cut,
  out of memory) leaves its task "started" in the result backend for ever; without this check the
  run would look alive until someone terminated it. A run whose worker no longer answers is failed,
  and Dagster's run retries launch it again, from the failed steps, on a worker that answers.

Tasks are acknowledged when their run ends (`task_acks_late`), so a worker holds no run it has not
started; a task the broker hands out twice finds its run finished or owned and is ignored by Dagster.
"""

from typing import Any

import dagster as dg
from celery import Celery
from dagster_celery.config import TASK_EXECUTE_JOB_NAME
from dagster_celery.launcher import CeleryRunLauncher
from dagster_celery.tasks import create_resume_job_task

from health_pipeline.instance.internals import (CheckRunHealthResult, ExecuteRunArgs, WorkerStatus,
                                                execute_run_command_body, unpack_value)
from health_pipeline.naming import WORKER_TAG

BROKER_ENV = "HEALTH_PIPELINE_BROKER_URL"  # redis://host:6379/1, on the daemon's and every worker's machine
WORKER_SETTINGS = {
    "task_acks_late": True,  # a worker holds only the run it executes
    "worker_prefetch_multiplier": 1,
    "task_track_started": True,
    "broker_connection_retry_on_startup": True,
}
PING_TIMEOUT_S = 3.0


class WorkerRunLauncher(CeleryRunLauncher):
    """dagster-celery's run launcher, which also notices a run whose worker died."""

    def __init__(self, default_queue: str, broker: str | None = None, backend: str | None = None,
                 include: list[str] | None = None, config_source: dict | None = None,
                 inst_data: Any = None) -> None:
        super().__init__(default_queue, broker=broker, backend=backend, include=include,
                         config_source={**WORKER_SETTINGS, **(config_source or {})}, inst_data=inst_data)

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if run.tags.get("dagster-celery/task_id") is None:  # launched before this launcher: nothing to ask
            return CheckRunHealthResult(WorkerStatus.UNKNOWN, "no Celery task recorded for this run")
        health = super().check_run_worker_health(run)
        worker = run.tags.get(WORKER_TAG)
        if health.status in (WorkerStatus.RUNNING, WorkerStatus.UNKNOWN) and worker and not self.answers(worker):
            return CheckRunHealthResult(WorkerStatus.FAILED, f"worker {worker} stopped answering while it ran this run")
        return health

    def answers(self, worker: str) -> bool:
        """Whether the Celery worker named `worker` answers a ping."""
        replies = self.celery.control.ping(destination=[worker], timeout=PING_TIMEOUT_S)
        return any(worker in reply for reply in replies)


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
            if run is not None and run.status in (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING):
                worker_instance.add_run_tags(args.run_id, {WORKER_TAG: task.request.hostname})
            return execute_run_command_body(instance=worker_instance, run_id=args.run_id,
                                             write_stream_fn=lambda _event: None, set_exit_code_on_failure=True)

    create_resume_job_task(app)
    return app


class WorkersNotConfigured(Exception):
    """`health-pipeline worker` in a Dagster home whose runs are not launched on Celery workers."""
