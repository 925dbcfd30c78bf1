"""``docker-compose.yaml`` and ``docker/``: checked the way Compose and Docker would read them.

There is no Docker engine here, so the file is parsed and interpolated like Compose does and
each promise of the stack is checked: services, healthchecks, start order, mounts, the AWS
connection (sandbox by default, real AWS with one variable), image version and build inputs.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from . import compose
from .compose import ROOT

DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
AIRFLOW_COMPONENTS = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                      "airflow-worker", "airflow-triggerer")
ONE_SHOTS = ("airflow-init", "sandbox-provision")
#: Services started by a plain ``docker compose up`` (no profile).
DEFAULT_SERVICES = ("postgres", "redis", "sandbox", *ONE_SHOTS, *AIRFLOW_COMPONENTS)
SFN_ETL_IMAGE_SERVICES = ("sandbox", "sandbox-provision", *AIRFLOW_COMPONENTS, "airflow-init", "airflow-cli")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    """The compose file with an empty shell environment (every default in force)."""
    return compose.load({})


@pytest.fixture(scope="module")
def services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return spec["services"]


def _aws_env(service_env: dict[str, str]) -> dict[str, str]:
    """The environment after ``docker/aws-env.sh`` ran on a container's environment."""
    script = f'set -euo pipefail; source "{DOCKER / "aws-env.sh"}"; env -0'
    base = {"PATH": os.environ["PATH"], **service_env}
    out = subprocess.run(["bash", "-c", script], env=base, check=True, capture_output=True).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def _aws_connection(env: dict[str, str]) -> Any:
    """``aws_default`` as the provider reads it from ``AIRFLOW_CONN_AWS_DEFAULT``."""
    from airflow.models.connection import Connection
    from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper

    conn = Connection.from_json(env["AIRFLOW_CONN_AWS_DEFAULT"], conn_id="aws_default")
    return AwsConnectionWrapper(conn)


def test_default_stack_has_every_component(services: dict[str, dict[str, Any]]) -> None:
    default = {name for name, svc in services.items() if not svc.get("profiles")}
    assert default == set(DEFAULT_SERVICES)
    commands = {name: compose.command_args(services[name]) for name in AIRFLOW_COMPONENTS}
    assert commands == {
        "airflow-apiserver": ["api-server"], "airflow-scheduler": ["scheduler"],
        "airflow-dag-processor": ["dag-processor"], "airflow-worker": ["celery", "worker"],
        "airflow-triggerer": ["triggerer"],
    }


def test_airflow_runs_celery_on_postgres_and_redis(services: dict[str, dict[str, Any]]) -> None:
    for name in AIRFLOW_COMPONENTS:
        env = compose.environment(services[name])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            "postgresql+psycopg2://airflow:airflow@postgres/")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:@redis:6379/")
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        # Components sign and check each other's tokens: one shared secret, not one per container.
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"]
    secrets = {compose.environment(services[n])["AIRFLOW__API_AUTH__JWT_SECRET"] for n in AIRFLOW_COMPONENTS}
    assert len(secrets) == 1


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in ("postgres", "redis", "sandbox", *AIRFLOW_COMPONENTS):
        check = services[name].get("healthcheck")
        assert check and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert len(check["test"]) >= 2 and check.get("retries", 0) >= 3, name
    sandbox_check = " ".join(services["sandbox"]["healthcheck"]["test"])
    assert "http://localhost:4566/" in sandbox_check
    for name in ONE_SHOTS:
        assert services[name].get("restart", "no") == "no", f"{name} runs once; it must not restart"


def test_depends_on_reference_services_that_can_satisfy_the_condition(
        services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for dep, condition in compose.depends_on(svc).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert condition in ("service_started", "service_healthy", "service_completed_successfully")
            if condition == "service_healthy":
                assert services[dep].get("healthcheck"), f"{name} waits for {dep}: no healthcheck"
            if condition == "service_completed_successfully":
                assert dep in ONE_SHOTS, f"{name} waits for {dep} to exit, but {dep} runs forever"
    for name in AIRFLOW_COMPONENTS:
        deps = compose.depends_on(services[name])
        assert deps["postgres"] == deps["redis"] == "service_healthy"
        assert deps["airflow-init"] == "service_completed_successfully"
    # Tasks and triggers call AWS: they start only once the flows' resources exist.
    for name in ("airflow-worker", "airflow-triggerer"):
        assert compose.depends_on(services[name])["sandbox-provision"] == "service_completed_successfully"
    assert compose.depends_on(services["sandbox-provision"]) == {"sandbox": "service_healthy"}


def test_start_order_has_no_cycle(services: dict[str, dict[str, Any]]) -> None:
    done: set[str] = set()
    order: list[str] = []
    while len(done) < len(services):
        ready = [n for n, s in services.items() if n not in done and set(compose.depends_on(s)) <= done]
        assert ready, f"dependency cycle among {sorted(set(services) - done)}"
        done.update(ready)
        order.extend(sorted(ready))
    assert order.index("sandbox") < order.index("sandbox-provision") < order.index("airflow-worker")


def test_sandbox_service_serves_the_endpoint_the_connection_uses(services: dict[str, dict[str, Any]]) -> None:
    sandbox = services["sandbox"]
    assert sandbox["entrypoint"][-1] == "airflow-sfn-etl"
    args = compose.command_args(sandbox)
    assert args[0] == "sandbox"
    port = int(args[args.index("--port") + 1])
    assert port == 4566
    # Reachable from the other containers, not only from its own loopback.
    assert args[args.index("--host") + 1] == "0.0.0.0"
    assert (4566, port) in compose.host_ports(sandbox)
    for name in (*AIRFLOW_COMPONENTS, "sandbox-provision"):
        env = compose.environment(services[name])
        assert env["SFN_ETL_AWS_ENDPOINT_URL"] == f"http://sandbox:{port}", name


def test_aws_connection_points_at_the_sandbox_by_default(services: dict[str, dict[str, Any]]) -> None:
    for name in AIRFLOW_COMPONENTS:
        env = _aws_env(compose.environment(services[name]))
        wrapper = _aws_connection(env)
        assert wrapper.endpoint_url == "http://sandbox:4566", name
        assert wrapper.region_name == "us-east-1"
        assert wrapper.aws_access_key_id == "testing"
        assert env["AWS_ENDPOINT_URL"] == "http://sandbox:4566"
        # The same JSON shape the sandbox itself advertises (Sandbox.env()).
        assert json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]["endpoint_url"] == "http://sandbox:4566"


def test_one_empty_variable_switches_to_real_aws() -> None:
    host_env = {"SFN_ETL_AWS_ENDPOINT_URL": "", "AWS_DEFAULT_REGION": "eu-west-1",
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
    worker = compose.load(host_env)["services"]["airflow-worker"]
    env = _aws_env(compose.environment(worker))
    wrapper = _aws_connection(env)
    assert wrapper.endpoint_url is None
    assert wrapper.region_name == "eu-west-1"
    assert "AWS_ENDPOINT_URL" not in env
    # Credentials come from boto3's chain (here the passed-through environment), not the sandbox's.
    assert wrapper.aws_access_key_id is None
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    # Unset host variables arrive as empty strings; they must not reach boto3 as blank credentials.
    assert "AWS_SESSION_TOKEN" not in env and "AWS_PROFILE" not in env


def test_provisioning_does_nothing_on_real_aws_unless_asked(services: dict[str, dict[str, Any]]) -> None:
    env = {"PATH": os.environ["PATH"], **compose.environment(services["sandbox-provision"]),
           "SFN_ETL_AWS_ENDPOINT_URL": ""}
    done = subprocess.run(["bash", str(DOCKER / "provision.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "not creating anything" in done.stdout
    assert compose.environment(services["sandbox-provision"])["SFN_ETL_PROVISION_REAL_AWS"] == "false"


@pytest.mark.e2e
@pytest.mark.slow
def test_provision_script_creates_the_flows_resources_in_a_sandbox(tmp_path: Path) -> None:
    """``docker/provision.sh`` (the sandbox-provision service's command) run against a real sandbox."""
    import boto3

    from airflow_sfn_etl_flows.settings import CrawlerJobSettings, SalesMarketingSettings, shared_data_dir
    from airflow_sfn_etl_sandbox import Sandbox

    with Sandbox(data_dir=tmp_path / "sandbox") as sb:
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SFN_ETL_AWS_ENDPOINT_URL": sb.endpoint_url,
               "SFN_ETL_DATA_DIR": str(shared_data_dir()), "AWS_DEFAULT_REGION": "us-east-1",
               # This checkout's three distributions, whatever the environment has installed.
               "PYTHONPATH": os.pathsep.join(str(ROOT / d) for d in ("", "packages/sandbox", "packages/flows"))}
        python_dir = str(Path(os.sys.executable).parent)
        env["PATH"] = f"{python_dir}:{env['PATH']}"
        done = subprocess.run(["bash", str(DOCKER / "provision.sh")], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "sales/marketing resources ready on " + sb.endpoint_url in done.stdout
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing",
                                aws_secret_access_key="testing")
        sales, crawl = SalesMarketingSettings(), CrawlerJobSettings()
        s3 = session.client("s3", endpoint_url=sb.endpoint_url)
        buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        wanted = {sales.raw_bucket, sales.transformed_bucket, sales.athena_query_bucket, crawl.bucket}
        assert wanted <= buckets
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=sales.raw_bucket)["Contents"]}
        assert keys == {"sales/sales_pipeline_data.csv", "marketing/marketing_data.csv"}
        databrew = session.client("databrew", endpoint_url=sb.endpoint_url)
        assert {j["Name"] for j in databrew.list_jobs()["Jobs"]} >= {sales.sales_job, sales.marketing_job}
        glue = session.client("glue", endpoint_url=sb.endpoint_url)
        assert glue.get_crawler(Name=crawl.crawler)["Crawler"]["DatabaseName"] == crawl.glue_database
        job = glue.get_job(JobName=crawl.job)["Job"]
        assert job["Command"]["Name"] == "glueetl"
        assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("5.0", "G.1X", 2)


def test_mounts_exist_and_match_the_configured_paths(spec: dict[str, Any],
                                                      services: dict[str, dict[str, Any]]) -> None:
    declared = set(spec.get("volumes") or {})
    for name, svc in services.items():
        for volume, _target in compose.named_mounts(svc):
            assert volume in declared, f"{name} mounts undeclared volume {volume}"
    for name in AIRFLOW_COMPONENTS:
        env = compose.environment(services[name])
        mounts = {target: source for source, target, _mode in compose.bind_mounts(services[name])}
        # Airflow parses the project's dags/ folder, mounted where the provider's files expect it.
        assert mounts[env["AIRFLOW__CORE__DAGS_FOLDER"]] == "./dags"
        # The Step Functions DAGs' committed definitions ship in the flows distribution.
        assert "/opt/sfn-etl/state_machines" not in mounts
    for name in ("sandbox", "sandbox-provision"):
        env = compose.environment(services[name])
        mounts = {target: (source, mode) for source, target, mode in compose.bind_mounts(services[name])}
        source, mode = mounts[env["SFN_ETL_DATA_DIR"]]
        assert mode == "ro"
        data = (ROOT / source).resolve()
        assert sorted(p.name for p in (data / "workshop").glob("*.csv")) == [
            "marketing_data.csv", "sales_pipeline_data.csv"]
        assert (data / "seed" / "csvlog.csv").is_file()
    for name, svc in services.items():
        for source, _target, _mode in compose.bind_mounts(svc):
            if source.startswith("./dags"):
                assert (ROOT / source).is_dir(), f"{name}: {source} is missing"
                assert (ROOT / source / "sales_marketing_refresh.py").is_file()


def test_published_ports_are_unique(services: dict[str, dict[str, Any]]) -> None:
    published = [host for svc in services.values() for host, _ in compose.host_ports(svc)]
    assert published and len(published) == len(set(published))
    assert (8080, 8080) in compose.host_ports(services["airflow-apiserver"])
    assert "http://localhost:8080/" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])


def test_airflow_image_matches_the_installed_airflow(services: dict[str, dict[str, Any]]) -> None:
    installed = importlib.metadata.version("apache-airflow")
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}$", text, re.M)
    assert set(re.findall(r"^ARG AIRFLOW_VERSION=(\S+)$", text, re.M)) == {installed}
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in text
    # The sandbox runs the crawler flow's glueetl job on local PySpark: Java 17 and the `spark` extra.
    assert re.search(r"apt-get install -y --no-install-recommends openjdk-17-jre-headless", text)
    assert '"${SFN_ETL_HOME}/src/packages/sandbox[spark]"' in text
    root_block = text[text.index("USER root"):text.index("USER airflow")]
    assert "openjdk-17-jre-headless" in root_block
    for name in SFN_ETL_IMAGE_SERVICES:
        svc = services[name]
        assert svc["build"]["args"]["AIRFLOW_VERSION"] == installed, name
        assert svc["image"] == f"airflow-sfn-etl:{installed}", name


def test_every_service_has_an_image_it_can_get(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        if "build" in svc:
            context = (ROOT / svc["build"]["context"]).resolve()
            assert context == ROOT
            assert (context / svc["build"]["dockerfile"]).resolve() == DOCKERFILE
        else:
            repo, _, tag = svc["image"].partition(":")
            assert repo and tag and tag != "latest", f"{name} must pin its image tag"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore semantics for the patterns used here (last match wins, ``!`` re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        folder = pattern.rstrip("/*")
        if pattern == "**" or fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, folder + "/*") \
                or path == folder:
            ignored = not negate
    return ignored


def test_dockerfile_inputs_exist_in_the_build_context() -> None:
    text = DOCKERFILE.read_text()
    ignore = [line.strip() for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    copies = re.findall(r"^COPY (?:--chown=\S+ )?(.+) \S+$", text, re.M)
    sources = [src for line in copies for src in line.split()]
    assert {"pyproject.toml", "airflow_sfn_etl", "packages", "dags", "docker"} <= set(sources)
    for src in sources:
        assert (ROOT / src).exists(), f"COPY {src}: not in the build context"
        probe = src if (ROOT / src).is_file() else f"{src}/__probe__"
        assert not _ignored(probe, ignore), f"COPY {src}: excluded by Dockerfile.dockerignore"
    assert _ignored(".venv/bin/python", ignore) and _ignored(".git/HEAD", ignore)
    # The image's entrypoint is a file the image really holds.
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))
    assert entrypoint[:2] == ["/usr/bin/dumb-init", "--"]
    assert entrypoint[2] == "/opt/sfn-etl/docker/entrypoint.sh"
    assert os.access(DOCKER / "entrypoint.sh", os.X_OK)


def test_scripts_in_the_image_are_valid_bash() -> None:
    for script in ("entrypoint.sh", "aws-env.sh", "provision.sh"):
        done = subprocess.run(["bash", "-n", str(DOCKER / script)], capture_output=True, text=True)
        assert done.returncode == 0, f"{script}: {done.stderr}"
    assert "exec /entrypoint" in (DOCKER / "entrypoint.sh").read_text()


def test_compose_interpolation_matches_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert compose.interpolate("${SET-d}/${EMPTY-d}/${UNSET-d}", env) == "x//d"
    assert compose.interpolate("${SET:-d}/${EMPTY:-d}/${UNSET:-d}", env) == "x/d/d"
    assert compose.interpolate("$${HOSTNAME} $SET", env) == "${HOSTNAME} x"
