"""Runs on two Celery workers, each on its own imitated machine (a network namespace, where the
machine allows): a study of twenty syncs cohort by cohort through the daemon's queue, a worker killed
mid-run loses nothing once its run is retried on a worker that answers, and nothing crosses between
people. The servers (PostgreSQL for Dagster and the raw store, Redis as broker and quota counter,
the sandbox, VictoriaMetrics) listen on this machine's bridge address, as on a real network
(health_pipeline/dev/cluster.py)."""

from collections import Counter
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from health_pipeline.cli import main
from health_pipeline.dev.cluster import cluster, servers
from health_pipeline.dev.sandbox import sandbox_for
from health_pipeline.dev.workers import worker_name
from health_pipeline.instance.home import POSTGRES_URL_ENV
from health_pipeline.instance.workers import BROKER_ENV
from health_pipeline.naming import COHORT_TAG, RANGE_END, RANGE_START, WORKER_TAG
from health_pipeline.sandbox.world import SandboxWorld
from health_pipeline.sync import downstream_keys, raw_asset_keys
from health_pipeline_tests.dagster_ui import BUSY, poll, stop_automation, wait_for_daemon
from health_pipeline_tests.export_oracle import assert_exact
from health_pipeline_tests.test_people_runs import END, authorise, expected_activity, tidy, write_config

MACHINES = ("w1", "w2")
PARTICIPANTS = tuple(f"p{i:02d}" for i in range(1, 21))
FIRST = END - timedelta(days=2)  # three days: what crosses machines is the same for any number


def test_a_study_of_twenty_runs_on_two_workers_and_a_worker_killed_mid_run_loses_nothing(
        tmp_path: Path, world: SandboxWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    with servers(tmp_path, world, MACHINES) as shared:
        sandbox = shared.sandbox
        for name, value in shared.env.items():
            monkeypatch.setenv(name, value)
        config = write_config(tmp_path / "health-pipeline.toml", sandbox, shared.victoriametrics.url,
                              app="cohort_size = 7\n" + shared.app_settings())
        assert config.path is not None
        (tmp_path / "study.csv").write_text("id,timezone\n" + "".join(
            f"{p},{sandbox.world_for(p).timezone}\n" for p in PARTICIPANTS))
        assert main(["--config", str(config.path), "people", "add", "--csv", str(tmp_path / "study.csv")]) == 0
        authorise(config, sandbox, PARTICIPANTS)

        with cluster(shared, config.path) as running:
            ui, workers, instance = running.ui, running.workers, running.instance
            try:
                for machine in MACHINES:
                    poll(lambda m=machine: running.answering(m), f"worker {machine} to answer", ui, 120)
                wait_for_daemon(ui)
                stop_automation(ui)
                keys = [k.to_user_string() for k in raw_asset_keys(config, None) + downstream_keys(config)]

                def launch(cohort: str) -> str:
                    return ui.launch_assets(keys, {RANGE_START: FIRST.isoformat(), RANGE_END: END.isoformat(),
                                                   COHORT_TAG: cohort})

                def run(run_id: str) -> dg.DagsterRun:
                    found = instance.get_run_by_id(run_id)
                    assert found is not None
                    return found

                # three cohorts queued at once; the first one's worker is killed once it has landed something
                first, *_ = [launch(cohort) for cohort in ("c001", "c002", "c003")]

                def landed_something() -> bool:
                    return (run(first).status == dg.DagsterRunStatus.STARTED and WORKER_TAG in run(first).tags
                            and bool(instance.get_records_for_run(
                                first, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records))

                poll(landed_something, "the first run to land something on a worker", ui, 300)
                victim = run(first).tags[WORKER_TAG].split("@")[0]
                workers.kill(victim)
                failed = poll(lambda: run(first).status == dg.DagsterRunStatus.FAILURE and run(first),
                              "the run monitor to fail the killed worker's run", ui, 120)
                failure = instance.all_logs(first, of_type=dg.DagsterEventType.RUN_FAILURE)
                assert failure and failure[-1].dagster_event is not None
                assert f"{worker_name(victim)} stopped renewing this run's heartbeat" in str(failure[-1].dagster_event.message)
                assert failed.tags[WORKER_TAG] == worker_name(victim)

                workers.start(victim)  # the machine comes back
                poll(lambda: running.answering(victim), f"worker {victim} to answer again", ui, 120)

                def all_done() -> list[dg.DagsterRun]:
                    runs = instance.get_runs()
                    retried = any(r.tags.get("dagster/parent_run_id") == first for r in runs)
                    return [] if not retried or any(r.status in BUSY for r in runs) else runs

                runs = poll(all_done, "the retry and the other cohorts' runs to end", ui, 900)
            except BaseException:
                print(workers.tail())
                raise

        # the killed run was retried, from where it failed, and every run ended well
        retry = [r for r in runs if r.tags.get("dagster/parent_run_id") == first]
        assert len(retry) == 1 and retry[0].status == dg.DagsterRunStatus.SUCCESS
        others = [r for r in runs if r.run_id not in (first, retry[0].run_id)]
        assert sorted(r.tags[COHORT_TAG] for r in others) == ["c002", "c003"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in others)
        assert {r.tags[WORKER_TAG] for r in (*retry, *others)} == {worker_name(m) for m in MACHINES}

        # each person's rows are exactly their own world's (what one process syncs: test_people_runs), once
        assert {p for (p,) in tidy(config, "SELECT DISTINCT person FROM daily_activity")} == set(PARTICIPANTS)
        for person in PARTICIPANTS:
            assert tidy(config, "SELECT provider, day, steps, total_kcal FROM daily_activity WHERE person = ? "
                                "ORDER BY day", person) == expected_activity(sandbox, person, FIRST, END)
        assert_exact(config)

        # nothing crossed, and no quota was exceeded at any moment by the two workers together
        for person in PARTICIPANTS:
            token = config.raw_store().for_person(person).token("oura")
            assert token is not None and sandbox.person_of_token(token.access_token) == person
        served = Counter(entry.person for entry in sandbox.log.entries("oura") if "/v2/usercollection/" in entry.path)
        assert set(served) == set(PARTICIPANTS)
        assert sandbox.quota_refusals() == {}
        peaks = sandbox.quota_peaks()
        limits = {(mount, w.name): w.limit for mount, app in sandbox.apps.items()
                  for w in getattr(getattr(app, "quota", None), "windows", [])}
        assert any(mount == "oura" for mount, _, _ in peaks)
        assert all(limits[(mount, window)] == 0 or peak <= limits[(mount, window)]
                   for (mount, _, window), peak in peaks.items())


def test_workers_need_a_postgres_home_a_broker_and_a_home_that_launches_on_them(
        tmp_path: Path, world: SandboxWorld, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with sandbox_for(world) as sandbox:
        config = write_config(tmp_path / "health-pipeline.toml", sandbox, "http://127.0.0.1:1")
        args = ["--config", str(config.path)]
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
        monkeypatch.delenv(BROKER_ENV, raising=False)
        assert main([*args, "init", "--workers"]) == 2
        assert capsys.readouterr().err == ("health-pipeline: error: --workers needs --postgres: workers on other "
                                           "machines share Dagster's history through PostgreSQL\n")
        monkeypatch.setenv(POSTGRES_URL_ENV, "postgresql+psycopg2://dagster@127.0.0.1:1/dagster")
        assert main([*args, "init", "--postgres", "--workers"]) == 2
        assert capsys.readouterr().err == ("health-pipeline: error: --workers needs $HEALTH_PIPELINE_BROKER_URL: set "
                                           "it to redis://HOST:PORT/DB, the Redis every worker and the daemon reach\n")
        assert not (tmp_path / "home").exists()

        assert main([*args, "init"]) == 0  # a home whose runs run on this machine
        capsys.readouterr()
        assert main([*args, "worker"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("note: the raw store is the file ") and err.endswith(
            "health-pipeline: error: this Dagster home launches runs on this machine, not on workers: write it with "
            "`health-pipeline init --postgres --workers`\n")
