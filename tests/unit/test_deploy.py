"""The production instance and Helm values, checked against Dagster's own config schemas;
the image: what it copies (by Docker's .dockerignore rules), who it runs as, no secret."""

import fnmatch
import importlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config
from dagster_k8s.job import DagsterK8sJobConfig
from dagster_postgres import DagsterPostgresStorage

from tests.unit.dockerignore import DockerIgnore, context_files, read_patterns

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


# ---- the image: what the Dockerfile copies, who it runs as -------------------------------

# A Tardis key ("TD." and 40-odd letters and digits) and the marks of other credentials.
SECRET_CONTENT = re.compile(
    rb"TD\.[A-Za-z0-9_-]{20,}"
    rb"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    rb'|"type":\s*"service_account"'
    rb'|"private_key(_id)?":'
    rb"|AKIA[0-9A-Z]{16}"
)
CREDENTIAL_NAME = re.compile(
    r"(^|/)(\.env(\..*)?|.*\.(pem|key|p12|pfx|keytab)|id_(rsa|ecdsa|ed25519).*|\.netrc|\.pgpass"
    r"|\.pypirc|.*credentials.*\.json|.*service[-_]account.*\.json)$"
)


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments out."""
    instructions, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def copied_sources(instructions: list[tuple[str, str]]) -> list[str]:
    """The build-context sources of every COPY and ADD (not those of another stage)."""
    sources = []
    for keyword, arguments in instructions:
        if keyword not in ("COPY", "ADD"):
            continue
        words = [w for w in arguments.split() if not w.startswith("--")]
        assert not any(w.startswith("--from") for w in arguments.split()), arguments
        sources += [w.rstrip("/") for w in words[:-1]]
    return sources


def image_files(context: Path) -> dict[str, Path]:
    """The files the Dockerfile at ``context`` copies into the image, by context path:
    its COPY sources, as ``.dockerignore`` leaves them in the build context."""
    sources = copied_sources(dockerfile_instructions((context / "Dockerfile").read_text()))
    kept = context_files(context)
    chosen = {
        path
        for source in sources
        for path in kept
        if fnmatch.fnmatchcase(path, source) or path.startswith(f"{source}/")
    }
    return {path: context / path for path in sorted(chosen)}


def secrets_in(files: dict[str, Path]) -> list[str]:
    """The files whose name is a credential's or whose bytes hold a key."""
    return [
        path
        for path, file in files.items()
        if CREDENTIAL_NAME.search(path) or SECRET_CONTENT.search(file.read_bytes())
    ]


def test_dockerignore_reads_as_docker_does() -> None:
    # Docker's documented examples, and where its rules differ from gitignore's.
    rules = DockerIgnore(read_patterns("# comment\n*/temp*\n*/*/temp*\ntemp?\n"))
    assert rules.ignores("somedir/temporary.txt") and rules.ignores("somedir/temp")
    assert rules.ignores("somedir/subdir/temporary.txt") and rules.ignores("tempa")
    assert not rules.ignores("temporary.txt") and not rules.ignores("a/b/c/temporary.txt")
    markdown = DockerIgnore(read_patterns("*.md\n!README*.md\nREADME-secret.md\n"))
    assert markdown.ignores("CHANGES.md") and markdown.ignores("README-secret.md")
    assert not markdown.ignores("README.md") and not markdown.ignores("docs/CHANGES.md")
    anchored = DockerIgnore(read_patterns("*.json\n/data\n"))
    assert anchored.ignores("a.json") and not anchored.ignores("resources/a.json")
    assert anchored.ignores("data/x/y.parquet") and not anchored.ignores("resources/data/y")
    deep = DockerIgnore(read_patterns("**/*.json\n!keep/**/*.json\n**/.env\n"))
    assert deep.ignores("a.json") and deep.ignores("a/b/c.json")
    assert not deep.ignores("keep/x.json") and not deep.ignores("keep/a/b/x.json")
    assert deep.ignores(".env") and deep.ignores("resources/.env")


def test_dockerignore_keeps_secrets_and_state_out_at_every_depth() -> None:
    rules = DockerIgnore.read(REPO / ".dockerignore")
    for path in (
        ".env",
        ".env.production",
        "resources/.env",
        "market_assets/keys/tardis.key",
        "resources/server.pem",
        "live/gcp-service-account.json",
        "market_assets/credentials.json",
        ".git/config",
        ".venv/bin/python",
        ".dagster_home/history/runs.db",
        "data/ticks/trades/date=2024-01-02/venue=binance/x.parquet",
        "sample/tardis/binance_trades_2024-01-02_BTCUSDT.csv.gz",
        "resources/__pycache__/tardis.cpython-311.pyc",
    ):
        assert rules.ignores(path), path
    for path in ("pyproject.toml", "resources/tardis.py", "tardis_local/metadata/exchanges.json"):
        assert not rules.ignores(path), path


def test_the_image_copies_the_code_and_no_secret() -> None:
    files = image_files(REPO)
    assert {"pyproject.toml", "resources/tardis.py", "market_assets/universe.yaml"} <= set(files)
    assert "tardis_local/metadata/exchanges.json" in files  # package data the code reads
    assert not any(path.startswith(("tests/", "data/", "docs/", "deploy/")) for path in files)
    assert secrets_in(files) == []


def test_a_secret_planted_in_the_context_stays_out_of_the_image(tmp_path: Path) -> None:
    """The same check on a copy of the context with secrets planted where a developer
    might leave them: .dockerignore keeps out every credential file; a key pasted into
    code would be copied, and the scan of the image's files finds it."""
    sources = copied_sources(dockerfile_instructions((REPO / "Dockerfile").read_text()))
    for name in ("Dockerfile", ".dockerignore", *sources):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    planted = {
        ".env": "TARDIS_API_KEY=TD.PlantedKeyAbcdefghijklmnopqrstuvwxyz0123456\n",
        "resources/.env": "TARDIS_API_KEY=TD.PlantedKeyAbcdefghijklmnopqrstuvwxyz0123456\n",
        "market_assets/service-account.json": '{"type": "service_account", "private_key": "x"}',
        "live/deploy.pem": "-----BEGIN RSA PRIVATE KEY-----\n",
        "tardis_local/metadata/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        "partitions/.netrc": "machine api.tardis.dev password TD.x\n",
    }
    for path, text in planted.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    files = image_files(tmp_path)
    assert "resources/tardis.py" in files
    assert set(planted) & set(files) == set()
    assert secrets_in(files) == []

    (tmp_path / "resources/settings.py").write_text(
        'KEY = "TD.PastedKey0123456789abcdefghijklmnop"\n'
    )
    assert secrets_in(image_files(tmp_path)) == ["resources/settings.py"]


def test_the_image_runs_as_a_non_root_user_and_sets_no_secret() -> None:
    instructions = dockerfile_instructions((REPO / "Dockerfile").read_text())
    keywords = [keyword for keyword, _ in instructions]
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users, "the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]  # numeric: runAsNonRoot can check it
    last_user = len(keywords) - 1 - keywords[::-1].index("USER")
    assert "RUN" not in keywords[last_user:], "a RUN after the last USER runs as that user"
    assert "ADD" not in keywords  # no remote URLs or archives unpacked into the image
    for keyword, arguments in instructions:
        if keyword in ("ENV", "ARG", "LABEL"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", arguments) or arguments.split()[:1]
            for name in names:
                assert not re.search(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", name, re.I), name
        assert not SECRET_CONTENT.search(arguments.encode()), arguments


def test_the_image_installs_every_package_of_the_project() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {
        name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    sources = set(copied_sources(dockerfile_instructions((REPO / "Dockerfile").read_text())))
    assert packages <= sources, packages - sources


# ---- the production UI: behind Identity-Aware Proxy only --------------------------------


def test_the_production_ui_is_reached_only_through_iap() -> None:
    webserver = VALUES["dagsterWebserver"]["service"]
    assert webserver["type"] == "ClusterIP"  # no LoadBalancer or NodePort of its own
    backend = json.loads(webserver["annotations"]["cloud.google.com/backend-config"])
    ingress = VALUES["ingress"]
    assert ingress["enabled"] and ingress["dagsterWebserver"]["host"]
    assert ingress["annotations"]["kubernetes.io/ingress.class"] == "gce"
    assert ingress["annotations"]["kubernetes.io/ingress.allow-http"] == "false"
    # The chart's other way in, the read-only webserver's Ingress, stays off.
    assert "readOnlyDagsterWebserver" not in ingress
    assert not VALUES["dagsterWebserver"].get("enableReadOnly", False)
    manifests = {
        (doc["kind"], doc["metadata"]["name"]): doc
        for doc in yaml.safe_load_all((REPO / "deploy/iap.yaml").read_text())
    }
    config = manifests[("BackendConfig", backend["default"])]
    assert config["apiVersion"] == "cloud.google.com/v1"
    assert config["spec"]["iap"]["enabled"] is True
    assert config["spec"]["iap"]["oauthclientCredentials"]["secretName"]
    certificate = ingress["annotations"]["networking.gke.io/managed-certificates"]
    domains = manifests[("ManagedCertificate", certificate)]["spec"]["domains"]
    assert ingress["dagsterWebserver"]["host"] in domains
    guide = (REPO / "deploy/README.md").read_text()
    assert "## 6. The UI behind IAP" in guide and "roles/iap.httpsResourceAccessor" in guide


def test_kubernetes_runs_the_image_as_its_non_root_user() -> None:
    dockerfile = dockerfile_instructions((REPO / "Dockerfile").read_text())
    uid = int(
        [arguments for keyword, arguments in dockerfile if keyword == "USER"][-1].split(":")[0]
    )
    [deployment] = VALUES["dagster-user-deployments"]["deployments"]
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert deployment["podSecurityContext"]["runAsUser"] == uid
    assert deployment["securityContext"]["allowPrivilegeEscalation"] is False
    helm_runs = VALUES["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    instance_runs = INSTANCE["run_launcher"]["config"]["run_k8s_config"]
    for pod, container in (
        (helm_runs["podSpecConfig"], helm_runs["containerConfig"]),
        (instance_runs["pod_spec_config"], instance_runs["container_config"]),
    ):
        assert pod["security_context"] == {
            "run_as_non_root": True,
            "run_as_user": uid,
            "run_as_group": uid,
        }
        assert container["security_context"] == {"allow_privilege_escalation": False}
