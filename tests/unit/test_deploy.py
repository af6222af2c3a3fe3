"""The production instance and Helm values, checked against Dagster's own config schemas."""

import importlib
import re
import shutil
from pathlib import Path

import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster_k8s.job import DagsterK8sJobConfig
from dagster_postgres import DagsterPostgresStorage

REPO = Path(__file__).resolve().parents[2]
INSTANCE = yaml.safe_load((REPO / "deploy/dagster.yaml").read_text())
VALUES = yaml.safe_load((REPO / "deploy/helm/values.yaml").read_text())


def _valid(config_type, value) -> None:
    result = validate_config(config_type, value)
    assert result.success, [error.message for error in result.errors]


def test_production_instance_matches_dagsters_schema(tmp_path: Path) -> None:
    shutil.copy(REPO / "deploy/dagster.yaml", tmp_path / "dagster.yaml")
    dagster_instance_config(str(tmp_path))  # the instance schema, and its cross-field rules
    # Each pluggable class's own config, as the instance would load it.
    for section in ("run_launcher", "compute_logs", "run_coordinator"):
        entry = INSTANCE[section]
        cls = getattr(importlib.import_module(entry["module"]), entry["class"])
        _valid(cls.config_type(), entry.get("config", {}))
    _valid(
        DagsterPostgresStorage.config_type(),
        INSTANCE["storage"]["postgres"],
    )


def test_production_instance_is_the_promised_one() -> None:
    assert INSTANCE["run_launcher"]["class"] == "K8sRunLauncher"
    assert INSTANCE["compute_logs"]["class"] == "GCSComputeLogManager"
    assert INSTANCE["run_monitoring"]["enabled"] and INSTANCE["run_retries"]["enabled"]
    spot = INSTANCE["run_launcher"]["config"]["run_k8s_config"]["pod_spec_config"]
    assert spot["node_selector"] == {"cloud.google.com/gke-spot": "true"}
    # No secret in the file: passwords and keys come from the environment or secrets.
    text = (REPO / "deploy/dagster.yaml").read_text()
    assert not re.search(r"password:\s*(?!\{env:)\S", text)
    assert "tardis-api-key" in INSTANCE["run_launcher"]["config"]["env_secrets"]


def test_helm_values_carry_the_same_instance() -> None:
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    _valid(
        DagsterK8sJobConfig.config_type_run_launcher(),
        {
            **INSTANCE["run_launcher"]["config"],
            "run_k8s_config": {
                "pod_spec_config": launcher["runK8sConfig"]["podSpecConfig"],
                "container_config": launcher["runK8sConfig"]["containerConfig"],
                "job_spec_config": launcher["runK8sConfig"]["jobSpecConfig"],
            },
        },
    )
    # The chart's additionalInstanceConfig lands in dagster.yaml as it is.
    assert VALUES["additionalInstanceConfig"]["concurrency"] == INSTANCE["concurrency"]
    assert launcher["jobNamespace"] == INSTANCE["run_launcher"]["config"]["job_namespace"]
    assert (
        VALUES["dagsterDaemon"]["runMonitoring"]["startTimeoutSeconds"]
        == (INSTANCE["run_monitoring"]["start_timeout_seconds"])
    )
    assert "config" not in VALUES["dagsterDaemon"]["runCoordinator"]
    [deployment] = VALUES["dagster-user-deployments"]["deployments"]
    dockerfile = (REPO / "Dockerfile").read_text()
    assert deployment["port"] == int(re.search(r"^EXPOSE (\d+)", dockerfile, re.M).group(1))
    assert deployment["dagsterApiGrpcArgs"][:2] == ["--module-name", "market_assets"]
