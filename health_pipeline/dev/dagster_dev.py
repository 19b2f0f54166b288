"""`dagster dev` (webserver, daemon and code server) as a managed child: started in its own
process group, waited for until the UI has loaded our code location, stopped by process group.

Used by the demo and by the browser tests; both need the UI up and every process it spawned gone
afterwards, including on Ctrl-C.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import requests

from health_pipeline.instance.settings import apply_dagster_settings

LOCATION = "health_pipeline.definitions"  # the name `dagster dev -m MODULE` gives the code location


LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
AUTOMATION = """{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError {
  ... on RepositoryLocation { repositories {
    schedules { name scheduleState { id status } }
    sensors { name sensorState { id status } } } } } } } } }"""
LOCATIONS = "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }"


class DagsterDevError(RuntimeError):
    """`dagster dev` exited or did not come up in time; the message carries its last output lines."""


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DagsterDev:
    """One `dagster dev` serving `health_pipeline.definitions` for the config at `config_path`.

    `home` becomes its DAGSTER_HOME (it must hold the dagster.yaml to use); its output goes to
    `home/dagster-dev.log`. `cwd` is where it runs (relative paths in the config do not depend on it).
    """

    def __init__(self, home: Path, config_path: Path, port: int = 3000, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.home = home.absolute()
        self.config_path = config_path.absolute()
        self.port = port or free_port()
        self.cwd = (cwd or self.home).absolute()
        self.extra_env = env or {}
        self.log_path = self.home / "dagster-dev.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> "DagsterDev":
        """Start `dagster dev` and return once the UI serves our code location (or raise)."""
        env = self.environment()
        command = [sys.executable, "-m", "dagster", "dev", "-m", "health_pipeline.definitions",
                   "--host", "127.0.0.1", "--port", str(self.port)]
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._wait_until_loaded(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def environment(self) -> dict[str, str]:
        """The environment `dagster dev` runs in: ours, its home and config, and the Dagster
        settings (the daemon creates a backfill's runs, so it needs them as much as the runs do)."""
        env = {**os.environ, "DAGSTER_HOME": str(self.home), "HEALTH_PIPELINE_CONFIG": str(self.config_path),
               **self.extra_env}
        apply_dagster_settings(env)
        env.pop("DAGSTER_IS_DEV_CLI", None)
        return env

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST one GraphQL query to the webserver and return its `data` (errors raise)."""
        response = requests.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                 timeout=30)
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise DagsterDevError(f"GraphQL error: {body['errors'][0].get('message')}")
        return dict(body["data"])

    def launch_assets(self, keys: Sequence[str], tags: dict[str, str]) -> str:
        """Queue one run of the assets `keys` (their user strings) with `tags` (a partition range:
        Dagster's range tags), as the UI's Materialize button does; the run's id."""
        (location,) = [entry["name"] for entry in self.graphql(LOCATIONS)["workspaceOrError"]["locationEntries"]]
        answer = self.graphql(LAUNCH, {"params": {
            "selector": {"repositoryLocationName": location, "repositoryName": "__repository__",
                         "jobName": "__ASSET_JOB", "assetSelection": [{"path": key.split("/")} for key in keys]},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]}}})["launchRun"]
        if answer["__typename"] != "LaunchRunSuccess":
            raise DagsterDevError(f"the run was not launched: {answer}")
        return str(answer["run"]["runId"])

    def stop_automation(self, keep: Collection[str] = (), timeout_s: float = 30.0) -> set[str]:
        """Stop every schedule and sensor not named in `keep` (idempotent); the names stopped. The
        runs they already started go on."""
        (location,) = self.graphql(AUTOMATION)["workspaceOrError"]["locationEntries"]
        (repository,) = location["locationOrLoadError"]["repositories"]
        stops = [("stopRunningSchedule", schedule["scheduleState"]["id"], schedule["name"])
                 for schedule in repository["schedules"] if schedule["name"] not in keep]
        stops += [("stopSensor", sensor["sensorState"]["id"], sensor["name"])
                  for sensor in repository["sensors"] if sensor["name"] not in keep]
        for mutation, state_id, name in stops:
            deadline = time.monotonic() + timeout_s
            while True:
                # the webserver answers 500 now and then while the daemon writes the same SQLite file
                # (a sensor tick): asked again until the deadline
                try:
                    answer = self.graphql(f"mutation($id: String) {{ {mutation}(id: $id) {{ __typename }} }}",
                                          {"id": state_id})
                    break
                except requests.HTTPError as err:
                    if err.response is None or err.response.status_code != 500 or time.monotonic() > deadline:
                        raise
                time.sleep(0.5)  # polling the webserver with a deadline
            if answer[mutation]["__typename"] not in {"ScheduleStateResult", "StopSensorMutationResult"}:
                raise DagsterDevError(f"{name} was not stopped: {answer}")
        return {name for _, _, name in stops}

    def _wait_until_loaded(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        last = "the webserver did not answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise DagsterDevError(f"`dagster dev` exited with status {self.process.returncode}:\n{self.tail()}")
            try:
                status = self._location_status()
            except (requests.RequestException, DagsterDevError, ValueError) as error:
                last = str(error)
            else:
                if status == "RepositoryLocation":
                    return
                if status == "PythonError":
                    raise DagsterDevError(f"the code location failed to load:\n{self.tail()}")
                last = f"code location status {status}"
            time.sleep(0.5)
        raise DagsterDevError(f"`dagster dev` not ready after {timeout_s:.0f} s ({last}):\n{self.tail()}")

    def _location_status(self) -> str | None:
        data = self.graphql("""{ workspaceOrError { __typename ... on Workspace { locationEntries {
            name loadStatus locationOrLoadError { __typename } } } } }""")
        for entry in data["workspaceOrError"].get("locationEntries", []):
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED" and entry["locationOrLoadError"]:
                return str(entry["locationOrLoadError"]["__typename"])
        return None

    def daemons_healthy(self, required: tuple[str, ...] = ("SENSOR", "SCHEDULER", "BACKFILL", "QUEUED_RUN_COORDINATOR")) -> bool:
        """Whether the daemon reports the given daemons as healthy (heartbeats arrive within seconds)."""
        data = self.graphql("{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }")
        statuses = {s["daemonType"]: s["healthy"] for s in data["instance"]["daemonHealth"]["allDaemonStatuses"]}
        return all(statuses.get(name) for name in required)

    def tail(self, lines: int = 30) -> str:
        """The last lines of `dagster dev`'s output, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_s: float = 20.0) -> None:
        """Stop every process of the group: SIGTERM, then SIGKILL after `grace_s`."""
        process, self.process = self.process, None
        if process is None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            if _group_gone(process, wait_s):
                break
        process.wait(timeout=5)

    def __enter__(self) -> "DagsterDev":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _group_gone(process: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Poll until the leader has exited and no process is left in its group."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
