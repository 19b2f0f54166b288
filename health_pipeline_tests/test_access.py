"""Per-person read access through vmauth: each person reads only their own series, and only reads.

The slow tests start a real VictoriaMetrics 1.79.5 and a real vmauth (Debian's `victoria-metrics`
package) on loopback ports; the fast ones check the config and its file.
"""

import base64
import json
import os
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from health_pipeline.dev.local_victoriametrics import LocalVictoriaMetrics, free_port
from health_pipeline.export.access import (
    READ_PATHS, AccessConfigError, new_secret, vmauth_config, write_vmauth_config,
)
from health_pipeline.settings import Secret

ALICE = "alice-password-0123456789"
BOB = "bob-password-0123456789ab"
ADMIN = ("operator", "operator-password-0123456789")
METRICS_KEY = "metrics-key-0123456789"
DAY_MS = 1_793_491_200_000  # 2026-11-01 00:00 UTC
WEEK_BEFORE = str(DAY_MS // 1000 - 7 * 86_400)  # series and label look-ups default to the last day
PEOPLE = [("alice", ALICE), ("bob", BOB)]


# ---- the config, without servers -----------------------------------------------------------------

def test_each_person_gets_the_read_paths_filtered_by_their_user_label_and_the_admin_everything() -> None:
    config = vmauth_config(PEOPLE, "http://victoriametrics:8428/", admin=ADMIN)

    assert config == {"users": [
        {"username": "alice", "password": ALICE, "url_map": [
            {"src_paths": list(READ_PATHS), "url_prefix": "http://victoriametrics:8428?extra_label=user%3Dalice"}]},
        {"username": "bob", "password": BOB, "url_map": [
            {"src_paths": list(READ_PATHS), "url_prefix": "http://victoriametrics:8428?extra_label=user%3Dbob"}]},
        {"username": "operator", "password": ADMIN[1], "url_prefix": "http://victoriametrics:8428"},
    ]}


def test_bearer_tokens_replace_user_names_and_secret_objects_are_accepted() -> None:
    config = vmauth_config([("alice", Secret(ALICE))], "http://127.0.0.1:8428", admin=ADMIN, auth="bearer")

    assert config["users"][0] == {"bearer_token": ALICE, "url_map": [
        {"src_paths": list(READ_PATHS), "url_prefix": "http://127.0.0.1:8428?extra_label=user%3Dalice"}]}


def test_a_person_id_is_encoded_into_the_filter_not_interpreted() -> None:
    config = vmauth_config([("a&extra_label=user=bob", ALICE)], "http://vm:8428", admin=ADMIN)

    assert config["users"][0]["url_map"][0]["url_prefix"] == (
        "http://vm:8428?extra_label=user%3Da%26extra_label%3Duser%3Dbob")


@pytest.mark.parametrize("people, admin, url, problem", [
    ([("alice", ALICE), ("alice", BOB)], ADMIN, "http://vm:8428", "person 'alice' is listed twice"),
    ([("alice", "short")], ADMIN, "http://vm:8428", "the secret of person 'alice' is shorter than 16"),
    ([("alice", ALICE), ("bob", ALICE)], ADMIN, "http://vm:8428", "person 'bob' has a secret already used"),
    ([("operator", ALICE)], ADMIN, "http://vm:8428", "person 'operator' has the admin's user name"),
    ([("a:b", ALICE)], ADMIN, "http://vm:8428", "contains ':'"),
    ([(" alice", ALICE)], ADMIN, "http://vm:8428", "without surrounding spaces"),
    ([("alice", ALICE + " x")], ADMIN, "http://vm:8428", "contains spaces or control characters"),
    ([("alice", ALICE)], ("operator", "short"), "http://vm:8428", "the secret of admin 'operator'"),
    ([("alice", ALICE)], ADMIN, "vm:8428", "must be http(s)://host:port"),
    ([("alice", ALICE)], ADMIN, "http://vm:8428/?extra_label=user=x", "no query, fragment or credentials"),
    ([("alice", ALICE)], ADMIN, f"http://operator:{ADMIN[1]}@vm:8428", "no query, fragment or credentials"),
])
def test_an_unsafe_config_is_refused_in_one_line_that_names_no_secret(
        people: list[tuple[str, str]], admin: tuple[str, str], url: str, problem: str, tmp_path: Path) -> None:
    with pytest.raises(AccessConfigError) as refused:
        write_vmauth_config(tmp_path / "auth.yml", people, url, admin=admin)

    message = str(refused.value)
    assert problem in message and "\n" not in message
    assert not any(secret in message for secret in (ALICE, BOB, ADMIN[1]))
    assert not (tmp_path / "auth.yml").exists()


def test_the_file_is_mode_600_replaced_atomically_and_says_what_it_wrote(tmp_path: Path) -> None:
    path = tmp_path / "vmauth" / "auth.yml"
    path.parent.mkdir()
    path.write_text("old: config\n")
    path.chmod(0o644)

    written = write_vmauth_config(path, PEOPLE, "http://vm:8428", admin=ADMIN)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text()) == vmauth_config(PEOPLE, "http://vm:8428", admin=ADMIN)
    assert sorted(p.name for p in path.parent.iterdir()) == ["auth.yml"]  # no temporary file left
    assert written.people == ("alice", "bob") and written.admin == "operator"
    shown = written.describe() + repr(written)
    assert "2 people" in shown and str(path) in shown
    assert not any(secret in shown for secret in (ALICE, BOB, ADMIN[1]))


def test_new_secrets_are_long_random_and_fit_a_header() -> None:
    first, second = new_secret(), new_secret()

    assert first != second and len(first) >= 43
    vmauth_config([("alice", first), ("bob", second)], "http://vm:8428", admin=ADMIN)  # accepted


# ---- real VictoriaMetrics and vmauth -------------------------------------------------------------

class Vmauth:
    """A `vmauth` process on loopback, reading `config`, its status pages behind `METRICS_KEY`."""

    def __init__(self, config: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / "vmauth.log"
        binary = shutil.which("vmauth")
        if binary is None:
            pytest.fail("vmauth is not installed; on Debian/Ubuntu run `sudo apt-get install -y victoria-metrics`")
        env = {**os.environ, "metricsAuthKey": METRICS_KEY, "pprofAuthKey": METRICS_KEY,
               "flagsAuthKey": METRICS_KEY, "reloadAuthKey": METRICS_KEY}
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                ["vmauth", "-envflag.enable", f"-auth.config={config}", f"-httpListenAddr=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        poll(lambda: self._answers(), "vmauth to answer")

    def _answers(self) -> bool:
        assert self.process.poll() is None, f"vmauth exited: {self.log.read_text()}"
        try:
            return requests.get(f"{self.url}/health", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


def poll(check, what: str, timeout_s: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)  # polling a server with a deadline


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[LocalVictoriaMetrics, Vmauth]]:
    with LocalVictoriaMetrics(tmp_path / "vm-data") as vm:
        lines = [
            {"metric": {"__name__": "health_steps", "provider": "oura", "user": "alice"},
             "values": [8123, 9001], "timestamps": [DAY_MS, DAY_MS + 86_400_000]},
            {"metric": {"__name__": "health_steps", "provider": "fitbit", "user": "alice"},
             "values": [7990], "timestamps": [DAY_MS]},
            {"metric": {"__name__": "health_steps", "provider": "oura", "user": "bob"},
             "values": [4321], "timestamps": [DAY_MS]},
            {"metric": {"__name__": "health_body_weight_kg", "provider": "withings", "user": "bob", "arm": "b"},
             "values": [81.5], "timestamps": [DAY_MS]},
        ]
        body = "\n".join(json.dumps(line) for line in lines).encode()
        assert requests.post(f"{vm.url}/api/v1/import", data=body, timeout=5).status_code == 204
        requests.get(f"{vm.url}/internal/force_flush", timeout=5).raise_for_status()
        write_vmauth_config(tmp_path / "auth.yml", PEOPLE, vm.url, admin=ADMIN)
        proxy = Vmauth(tmp_path / "auth.yml")
        try:
            poll(lambda: len(export(proxy, ADMIN, '{__name__=~"health_.*"}')) == 4, "the four series to be searchable")
            yield vm, proxy
        finally:
            proxy.stop()


def get(proxy: Vmauth, who: tuple[str, str] | None, path: str, **params: str) -> requests.Response:
    return requests.get(proxy.url + path, params=params, auth=who, timeout=5)


def post(proxy: Vmauth, who: tuple[str, str] | None, path: str, data: object) -> requests.Response:
    return requests.post(proxy.url + path, data=data, auth=who, timeout=5)


def query(proxy: Vmauth, who: tuple[str, str], promql: str, **extra: str) -> list[tuple[dict, str]]:
    answer = get(proxy, who, "/api/v1/query", query=promql, time=str(DAY_MS // 1000 + 60), **extra)
    assert answer.status_code == 200, answer.text
    return sorted(((r["metric"], r["value"][1]) for r in answer.json()["data"]["result"]), key=str)


def export(proxy: Vmauth, who: tuple[str, str], selector: str) -> list[dict]:
    answer = post(proxy, who, "/api/v1/export", {"match[]": selector})
    assert answer.status_code == 200, answer.text
    return sorted((json.loads(line) for line in answer.text.splitlines()), key=str)


def values(proxy: Vmauth, who: tuple[str, str], label: str) -> list[str]:
    answer = get(proxy, who, f"/api/v1/label/{label}/values", start=WEEK_BEFORE)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


A = ("alice", ALICE)
OURA_A = {"__name__": "health_steps", "provider": "oura", "user": "alice"}
FITBIT_A = {"__name__": "health_steps", "provider": "fitbit", "user": "alice"}


@pytest.mark.slow
def test_a_person_reads_exactly_their_own_series(servers: tuple[LocalVictoriaMetrics, Vmauth]) -> None:
    _, proxy = servers

    assert query(proxy, A, "health_steps") == sorted([(FITBIT_A, "7990"), (OURA_A, "8123")], key=str)
    assert query(proxy, A, 'health_steps{user="bob"}') == []
    assert query(proxy, A, "sum(health_steps)") == [({}, "16113")]
    assert query(proxy, A, "health_body_weight_kg") == []
    ranged = get(proxy, A, "/api/v1/query_range", query='health_steps{provider="oura"}',
                 start=str(DAY_MS // 1000), end=str(DAY_MS // 1000 + 86_400), step="86400").json()
    assert [(r["metric"], r["values"]) for r in ranged["data"]["result"]] == [
        (OURA_A, [[DAY_MS // 1000, "8123"], [DAY_MS // 1000 + 86_400, "9001"]])]
    assert export(proxy, A, '{__name__=~".+"}') == [
        {"metric": FITBIT_A, "values": [7990], "timestamps": [DAY_MS]},
        {"metric": OURA_A, "values": [8123, 9001], "timestamps": [DAY_MS, DAY_MS + 86_400_000]},
    ]
    series = get(proxy, A, "/api/v1/series", start=WEEK_BEFORE, **{"match[]": '{user=~".*"}'}).json()["data"]
    assert sorted(series, key=str) == sorted([FITBIT_A, OURA_A], key=str)
    assert values(proxy, A, "user") == ["alice"]
    assert values(proxy, A, "__name__") == ["health_steps"]
    assert get(proxy, A, "/api/v1/labels", start=WEEK_BEFORE).json()["data"] == ["__name__", "provider", "user"]  # not bob's "arm"


@pytest.mark.slow
def test_no_request_widens_a_persons_view(servers: tuple[LocalVictoriaMetrics, Vmauth]) -> None:
    _, proxy = servers
    mine = sorted([(FITBIT_A, "7990"), (OURA_A, "8123")], key=str)

    # a second filter in the URL is dropped by vmauth; one in a POST body is ANDed by VictoriaMetrics
    assert query(proxy, A, "health_steps", extra_label="user=bob") == mine
    in_body = post(proxy, A, "/api/v1/query", {"query": "health_steps", "time": str(DAY_MS // 1000 + 60),
                                               "extra_label": "user=bob"}).json()
    assert in_body["data"]["result"] == []
    for name in ("extra_filters", "extra_filters[]"):
        assert query(proxy, A, "health_steps", **{name: '{user="bob"}'}) == []
        assert query(proxy, A, "health_steps", **{name: '{user=~".*"}'}) == mine
    assert export(proxy, A, '{user="bob"}') == []


@pytest.mark.slow
def test_a_person_cannot_write_delete_or_reach_other_paths(servers: tuple[LocalVictoriaMetrics, Vmauth]) -> None:
    vm, proxy = servers
    bob_line = json.dumps({"metric": {"__name__": "health_steps", "provider": "oura", "user": "bob"},
                           "values": [1], "timestamps": [DAY_MS]})

    refused = [
        post(proxy, A, "/api/v1/import", bob_line),
        post(proxy, A, "/api/v1/import/prometheus", 'health_steps{user="alice"} 1'),
        post(proxy, A, "/write", "health_steps,user=alice value=1"),
        post(proxy, A, "/api/v1/admin/tsdb/delete_series", {"match[]": '{user="bob"}'}),
        get(proxy, A, "/api/v1/query/../admin/tsdb/delete_series", **{"match[]": '{user="bob"}'}),
        get(proxy, A, "/api/v1/status/tsdb"),
        get(proxy, A, "/api/v1/series/count"),
        get(proxy, A, "/federate", **{"match[]": '{user="bob"}'}),
        get(proxy, A, "/internal/force_flush"),
        get(proxy, A, "/prometheus/api/v1/query", query="health_steps"),
        get(proxy, ("alice", BOB), "/api/v1/query", query="health_steps"),
        get(proxy, None, "/api/v1/query", query="health_steps"),
        get(proxy, None, "/metrics"),
        get(proxy, None, "/flags"),
    ]

    assert [r.status_code for r in refused] == [400] * 11 + [401, 401, 401]
    still = requests.post(f"{vm.url}/api/v1/export", data={"match[]": '{user="bob"}'}, timeout=5).text
    assert sorted(json.loads(line)["values"] for line in still.splitlines()) == [[81.5], [4321]]


@pytest.mark.slow
def test_the_admin_reads_and_writes_everything(servers: tuple[LocalVictoriaMetrics, Vmauth]) -> None:
    _, proxy = servers

    assert values(proxy, ADMIN, "user") == ["alice", "bob"]
    assert query(proxy, ADMIN, 'health_steps{provider="oura"}') == sorted(
        [(OURA_A, "8123"), ({**OURA_A, "user": "bob"}, "4321")], key=str)
    line = json.dumps({"metric": {"__name__": "health_steps", "provider": "oura", "user": "carol"},
                       "values": [5000], "timestamps": [DAY_MS]})
    assert post(proxy, ADMIN, "/api/v1/import", line).status_code == 204
    assert get(proxy, ADMIN, "/metrics").status_code == 401  # the status pages want their key
    assert get(proxy, None, "/metrics", authKey=METRICS_KEY).status_code == 200


@pytest.mark.slow
def test_no_secret_reaches_vmauths_log(servers: tuple[LocalVictoriaMetrics, Vmauth]) -> None:
    _, proxy = servers
    query(proxy, A, "health_steps")
    get(proxy, ("alice", BOB), "/api/v1/query", query="health_steps")  # a wrong password
    post(proxy, A, "/api/v1/admin/tsdb/delete_series", {"match[]": '{user="bob"}'})  # a refused path
    proxy.stop()

    log = proxy.log.read_text()
    assert "missing route" in log  # the refusal is logged, by path only
    basic = [base64.b64encode(f"{name}:{secret}".encode()).decode() for name, secret in (A, ("alice", BOB), ADMIN)]
    assert not any(secret in log for secret in (ALICE, BOB, ADMIN[1], METRICS_KEY, *basic))


@pytest.mark.slow
def test_bearer_tokens_give_the_same_view(tmp_path: Path) -> None:
    alice_token, bob_token = new_secret(), new_secret()
    with LocalVictoriaMetrics(tmp_path / "vm-data") as vm:
        lines = [{"metric": {"__name__": "health_steps", "provider": "oura", "user": user},
                  "values": [steps], "timestamps": [DAY_MS]} for user, steps in (("alice", 8123), ("bob", 4321))]
        requests.post(f"{vm.url}/api/v1/import", data="\n".join(map(json.dumps, lines)), timeout=5).raise_for_status()
        requests.get(f"{vm.url}/internal/force_flush", timeout=5).raise_for_status()
        write_vmauth_config(tmp_path / "auth.yml", [("alice", alice_token), ("bob", bob_token)], vm.url,
                            admin=ADMIN, auth="bearer")
        proxy = Vmauth(tmp_path / "auth.yml")
        try:
            def as_bob() -> list:
                answer = requests.get(f"{proxy.url}/api/v1/query", timeout=5,
                                      params={"query": "health_steps", "time": str(DAY_MS // 1000 + 60)},
                                      headers={"Authorization": f"Bearer {bob_token}"})
                return [(r["metric"]["user"], r["value"][1]) for r in answer.json()["data"]["result"]]

            assert poll(as_bob, "bob's series through vmauth") == [("bob", "4321")]
        finally:
            proxy.stop()


# ---- `health-pipeline people access` ----------------------------------------------------------------

HOUSEHOLD = '[app]\ntimezone = "Europe/Berlin"\n[people.alice]\n[people.bob]\n'


def household(tmp_path: Path, text: str = HOUSEHOLD) -> Path:
    path = tmp_path / "health-pipeline.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def people_cli(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    from health_pipeline.cli import main

    code = main(["--config", str(config), "people", *args])
    out, err = capsys.readouterr()
    return code, out, err


def secrets_in(path: Path) -> dict[str, str]:
    return {user.get("username", "(bearer)") if "url_map" not in user else
            user["url_map"][0]["url_prefix"].rsplit("%3D", 1)[1]: user.get("password") or user["bearer_token"]
            for user in yaml.safe_load(path.read_text())["users"]}


def test_people_access_gives_everyone_a_secret_in_a_600_file_and_prints_none(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD", raising=False)
    config, auth = household(tmp_path), tmp_path / "vmauth" / "vmauth.yml"

    code, out, err = people_cli(capsys, config, "access", "--output", str(auth), "--vm-url", "http://vm:8428")

    assert (code, err) == (0, "")
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    written = secrets_in(auth)
    assert sorted(written) == ["admin", "alice", "bob"] and len(set(written.values())) == 3
    assert all(len(secret) >= 43 for secret in written.values())
    assert vmauth_config([("alice", written["alice"]), ("bob", written["bob"])], "http://vm:8428",
                         admin=("admin", written["admin"])) == yaml.safe_load(auth.read_text())
    assert out.splitlines() == [
        f"alice: new secret in {auth}", f"bob: new secret in {auth}",
        f"admin 'admin' (basic auth, reads and writes everything): password new, in {auth}",
        f"vmauth config for 2 people (user name and password each) and admin 'admin' written to {auth} (mode 600)",
        "vmauth reads it again on SIGHUP (`docker compose -f deploy/docker/compose.household.yaml kill -s HUP vmauth`)"]
    assert not any(secret in out for secret in written.values())


def test_people_access_keeps_secrets_across_runs_and_a_new_person_gets_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD", raising=False)
    config, auth = household(tmp_path), tmp_path / "vmauth.yml"
    assert people_cli(capsys, config, "access", "--output", str(auth), "--vm-url", "http://vm:8428")[0] == 0
    first = secrets_in(auth)
    household(tmp_path, HOUSEHOLD + "[people.carol]\n")

    code, out, _ = people_cli(capsys, config, "access", "--output", str(auth))  # the URL is read from the file

    assert code == 0
    second = secrets_in(auth)
    assert {k: second[k] for k in first} == first and second["carol"] not in first.values()
    assert out.splitlines()[:4] == [f"alice: secret kept in {auth}", f"bob: secret kept in {auth}",
                                    f"carol: new secret in {auth}",
                                    f"admin 'admin' (basic auth, reads and writes everything): password kept in {auth}"]
    assert yaml.safe_load(auth.read_text())["users"][0]["url_map"][0]["url_prefix"] == (
        "http://vm:8428?extra_label=user%3Dalice")

    # bearer tokens keep the same secrets; the admin password can come from the environment
    monkeypatch.setenv("HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD", ADMIN[1])
    code, out, _ = people_cli(capsys, config, "access", "--output", str(auth), "--bearer")
    assert code == 0 and secrets_in(auth) == {**second, "admin": ADMIN[1]}
    assert [u.get("bearer_token") == second[p] for u, p in zip(yaml.safe_load(auth.read_text())["users"],
                                                                ["alice", "bob", "carol"])] == [True] * 3
    assert "password from $HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD" in out and ADMIN[1] not in out
    # a re-run without --bearer keeps bearer tokens (switching would lock everyone out); --basic switches
    assert people_cli(capsys, config, "access", "--output", str(auth))[0] == 0
    assert "bearer_token" in yaml.safe_load(auth.read_text())["users"][0]
    assert people_cli(capsys, config, "access", "--output", str(auth), "--basic")[0] == 0
    assert yaml.safe_load(auth.read_text())["users"][0]["password"] == second["alice"]


def test_people_access_for_some_people_leaves_the_others_out_and_shows_a_secret_only_when_asked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD", raising=False)
    config, auth = household(tmp_path, HOUSEHOLD + "[people.carol]\n"), tmp_path / "vmauth.yml"
    assert people_cli(capsys, config, "access", "--output", str(auth), "--vm-url", "http://vm:8428")[0] == 0
    before = secrets_in(auth)

    code, out, _ = people_cli(capsys, config, "access", "--output", str(auth), "--person", "alice",
                              "--person", "carol", "--show-secret", "carol")

    assert code == 0
    assert secrets_in(auth) == {"alice": before["alice"], "carol": before["carol"], "admin": before["admin"]}
    assert f"bob: no longer in {auth}; their secret stops working once vmauth reloads" in out.splitlines()
    assert out.splitlines()[-2] == f"carol's password (user name carol): {before['carol']}"
    assert before["alice"] not in out and before["admin"] not in out

    code, _, err = people_cli(capsys, config, "access", "--output", str(auth), "--person", "dave")
    assert code == 2 and "unknown person 'dave' (known: alice, bob, carol;" in err
    code, _, err = people_cli(capsys, config, "access", "--output", str(auth), "--person", "alice",
                              "--show-secret", "bob")
    assert code == 2 and "--show-secret bob: not among the people given access (alice)" in err
    assert secrets_in(auth) == {"alice": before["alice"], "carol": before["carol"], "admin": before["admin"]}


def test_people_access_refuses_a_file_it_did_not_write_and_a_missing_url(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, auth = household(tmp_path), tmp_path / "vmauth.yml"

    code, _, err = people_cli(capsys, config, "access", "--output", str(auth))
    assert code == 2 and f"{auth} does not exist yet: give --vm-url" in err and not auth.exists()

    auth.write_text("users:\n- username: someone\n  password: hand-written-password\n  url_prefix: http://vm:8428\n"
                    "- username: other\n  password: another-password-0123\n  url_prefix: http://vm:8428\n")
    code, _, err = people_cli(capsys, config, "access", "--output", str(auth), "--vm-url", "http://vm:8428")
    assert code == 2 and err == (f"health-pipeline: error: {auth}: not a vmauth config written by health-pipeline "
                                 "(a second unrestricted user); move it away to write a new one (everyone then gets "
                                 "a new secret)\n")
    assert "hand-written-password" in auth.read_text()  # untouched


def test_removing_a_person_with_vmauth_drops_only_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, auth = household(tmp_path, '[app]\ntimezone = "Europe/Berlin"\n'), tmp_path / "vmauth.yml"
    for person in ("alice", "bob"):
        assert people_cli(capsys, config, "add", person)[0] == 0
    assert people_cli(capsys, config, "access", "--output", str(auth), "--vm-url", "http://vm:8428",
                      "--bearer")[0] == 0
    before = secrets_in(auth)

    code, out, _ = people_cli(capsys, config, "remove", "bob", "--yes", "--vmauth", str(auth))

    assert code == 0 and out.splitlines()[-1].startswith(f"bob: dropped from {auth}; vmauth reads it again on SIGHUP")
    assert secrets_in(auth) == {"alice": before["alice"], "admin": before["admin"]}
    assert "bearer_token" in yaml.safe_load(auth.read_text())["users"][0]
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600


@pytest.mark.slow
def test_the_file_people_access_writes_lets_a_person_read_only_their_own_series(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEALTH_PIPELINE_VMAUTH_ADMIN_PASSWORD", ADMIN[1])
    config, auth = household(tmp_path), tmp_path / "vmauth.yml"
    with LocalVictoriaMetrics(tmp_path / "vm-data") as vm:
        lines = [{"metric": {"__name__": "health_steps", "provider": "oura", "user": user},
                  "values": [steps], "timestamps": [DAY_MS]} for user, steps in (("alice", 8123), ("bob", 4321))]
        requests.post(f"{vm.url}/api/v1/import", data="\n".join(map(json.dumps, lines)), timeout=5).raise_for_status()
        requests.get(f"{vm.url}/internal/force_flush", timeout=5).raise_for_status()
        code, out, _ = people_cli(capsys, config, "access", "--output", str(auth), "--vm-url", vm.url,
                                  "--show-secret", "alice")
        assert code == 0
        alice = ("alice", out.splitlines()[-2].rsplit(": ", 1)[1])
        proxy = Vmauth(auth)
        try:
            poll(lambda: len(export(proxy, ("admin", ADMIN[1]), '{__name__="health_steps"}')) == 2, "both series")

            assert query(proxy, alice, "health_steps") == [(OURA_A, "8123")]
            assert query(proxy, alice, 'health_steps{user="bob"}') == []
            # the dashboards' person selector, asked through vmauth, lists only her
            people = get(proxy, alice, "/api/v1/label/user/values", start=WEEK_BEFORE,
                         **{"match[]": '{__name__=~"health_.+"}'})
            assert people.json()["data"] == ["alice"]
            assert values(proxy, ("admin", ADMIN[1]), "user") == ["alice", "bob"]
            wrong = get(proxy, ("alice", "not-her-password-0123"), "/api/v1/query", query="health_steps")
            assert wrong.status_code == 400 and "8123" not in wrong.text  # vmauth 1.79.5: unknown credentials
        finally:
            proxy.stop()
