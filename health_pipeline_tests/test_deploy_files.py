"""The deploy files: the Helm values and the household compose file as deploy/README.md describes them.
Kubernetes and Docker cannot run here; these read the files only. (The chart's values.schema.json is not
vendored: see deploy/README.md for checking the values against it with `helm lint`.)"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def values_file(name: str) -> dict:
    return yaml.safe_load((DEPLOY / "helm" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name, launcher, config_key", [
    ("values-k8s.yaml", "K8sRunLauncher", "k8sRunLauncher"),
    ("values-celery.yaml", "CeleryK8sRunLauncher", "celeryK8sRunLauncher"),
])
def test_the_helm_values_run_this_projects_image_on_postgres(name: str, launcher: str, config_key: str) -> None:
    values = values_file(name)

    (code,) = values["dagster-user-deployments"]["deployments"]
    assert code["dagsterApiGrpcArgs"] == ["-m", "health_pipeline.definitions"]
    assert code["envSecrets"] == [{"name": "health-pipeline-secrets"}]  # raw_db and coordination_url
    assert values["runLauncher"]["type"] == launcher and config_key in values["runLauncher"]["config"]
    assert values["postgresql"]["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False
    assert values["additionalInstanceConfig"]["concurrency"]["pools"]["default_limit"] == 1


def test_the_celery_values_use_redis_not_rabbitmq() -> None:
    values = values_file("values-celery.yaml")

    assert values["redis"]["enabled"] is True and values["redis"]["internal"] is False
    assert values["rabbitmq"]["enabled"] is False
    assert values["global"]["celeryConfigSecretName"] == "dagster-celery-config"


# ---- the household compose file ----------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker" / "compose.household.yaml").read_text(encoding="utf-8"))


def mounts(service: dict) -> Iterator[tuple[str, str]]:
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        yield source, target


def test_the_household_compose_file_has_the_services_and_volumes_the_readme_names() -> None:
    household = compose()

    assert sorted(household["services"]) == ["daemon", "grafana", "victoriametrics", "vmauth", "webserver"]
    assert sorted(household["volumes"]) == ["grafana-data", "health-data", "vm-data"]
    assert household["services"]["grafana"]["profiles"] == ["grafana"]  # optional
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for name in [*household["services"], *household["volumes"], "compose.household.yaml"]:
        assert f"`{name}`" in readme, name


def test_only_vmauth_faces_the_network_and_victoriametrics_is_not_published() -> None:
    services = compose()["services"]

    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert published == {"webserver": ["127.0.0.1:3000:3000"], "vmauth": ["8427:8427"],
                         "grafana": ["127.0.0.1:3001:3000"]}
    assert "-auth.config=/etc/vmauth/vmauth.yml" in services["vmauth"]["command"]
    assert ("./household/vmauth.yml", "/etc/vmauth/vmauth.yml") in set(mounts(services["vmauth"]))
    assert all(v.endswith(":ro") for v in services["vmauth"]["volumes"])


def test_the_pipeline_reads_its_config_mounted_and_its_secrets_from_an_env_file() -> None:
    services = compose()["services"]

    for name in ("webserver", "daemon"):
        service = services[name]
        assert service["environment"]["HEALTH_PIPELINE_CONFIG"] == "/config/health-pipeline.toml"
        assert ("./household/health-pipeline.toml", "/config/health-pipeline.toml") in set(mounts(service))
        assert service["env_file"] == [{"path": "household.env", "required": True}]
    assert [e["path"] for e in services["vmauth"]["env_file"]] == ["vmauth.env"]
    assert [e["path"] for e in services["grafana"]["env_file"]] == ["grafana.env"]
