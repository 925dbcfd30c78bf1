"""The three wheels, built from this checkout and installed non-editable in a fresh venv, serve what the README shows.

The wheels are built without build isolation from a copy of the checkout's files (``git ls-files``)
and installed with ``--no-deps --no-index`` into a venv under tmp. Third-party dependencies
(Airflow, boto3, moto, DuckDB, ...) come from the environment running the tests: a ``.pth`` line in
the new venv appends, after its own site-packages, a folder of links to that environment's
site-packages entries minus this project's three distributions and their editable hooks, so
neither the checkout nor an editable install can answer an import or an entry-point lookup.
Every command runs with its working directory in tmp and an environment without PYTHONPATH.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from e2e.expected import SHARED_DATA, crawler_rows, monthly_summary

pytestmark = [pytest.mark.install, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: distribution -> (its project folder in the checkout, its import package)
DISTRIBUTIONS = {
    "airflow-sfn-etl": ("", "airflow_sfn_etl"),
    "airflow-sfn-etl-sandbox": ("packages/sandbox", "airflow_sfn_etl_sandbox"),
    "airflow-sfn-etl-flows": ("packages/flows", "airflow_sfn_etl_flows"),
}
#: The release all three distributions share (each pins the others to it).
VERSION = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
FLOWS_SOURCE = ROOT / "packages" / "flows" / "airflow_sfn_etl_flows"
#: The issue's check: importing an operator must not load the sandbox, moto or DuckDB.
IMPORT_CHECK = (
    "import airflow_sfn_etl.operators.athena, sys; print([m for m in sys.modules if m.startswith(("
    "'airflow_sfn_etl.sandbox', 'moto', 'duckdb')) or ('sandbox' in m.split('.')[0])])"
)
#: The README's provisioning step, pointed at an endpoint (argv: endpoint, data folder).
PROVISION = """
import json, sys
from pathlib import Path
import boto3
from airflow_sfn_etl_flows.provision import provision_crawler_job, provision_sales_marketing
session = boto3.Session(region_name="us-east-1")
data, endpoint = Path(sys.argv[2]), sys.argv[1]
refs = provision_sales_marketing(session, data / "workshop", endpoint_url=endpoint)
refs.update(provision_crawler_job(session, data / "seed", endpoint_url=endpoint))
print(json.dumps(refs))
"""
#: Where the imports, distributions and entry points of this project resolve (argv: modules, distributions).
ORIGINS = """
import importlib, json, sys
from importlib.metadata import distribution, distributions, entry_points
own = lambda name: name.replace("_", "-").lower().startswith("airflow-sfn-etl")
print(json.dumps({
    "modules": {m: importlib.import_module(m).__file__ for m in sys.argv[1].split(",")},
    "dists": {d: str(distribution(d).locate_file("")) for d in sys.argv[2].split(",")},
    "visible": sorted([d.metadata["Name"], str(d.locate_file(""))] for d in distributions() if own(d.metadata["Name"])),
    "entry_points": sorted([ep.group, ep.name, ep.value, str(ep.dist.locate_file(""))]
                           for group in ("airflow_sfn_etl.cli", "apache_airflow_provider", "console_scripts")
                           for ep in entry_points(group=group) if own(ep.dist.metadata["Name"])),
    "dags_folder": str(importlib.import_module("airflow_sfn_etl_flows.settings").DAGS_FOLDER),
    "sys_path": sys.path,
}))
"""
#: Each requirement of the given distributions (and extras), recursing into requested extras:
#: [distribution, requirement, installed version or None, satisfied]. argv: {distribution: [extras]}.
REQUIREMENTS = """
import json, sys
from importlib.metadata import PackageNotFoundError, distribution
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
todo = [(name, tuple(extras)) for name, extras in json.loads(sys.argv[1]).items()]
seen, out = set(), []
while todo:
    name, extras = todo.pop()
    for text in distribution(name).requires or []:
        req = Requirement(text)
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in ("", *extras)):
            continue
        key = (name, canonicalize_name(req.name), tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            version = distribution(req.name).version
        except PackageNotFoundError:
            version = None
        ok = version is not None and req.specifier.contains(version, prereleases=True)
        out.append([name, str(req), version, ok])
        if ok and req.extras:
            todo.append((req.name, tuple(req.extras)))
print(json.dumps(out))
"""


@dataclass
class Install:
    tmp: Path
    venv: Path
    site: Path  #: the new venv's site-packages
    deps: Path  #: the links to the test environment's third-party packages
    sources: list[str]  #: the checkout files the wheels were built from (relative to ROOT)
    wheels: dict[str, Path] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        return self.tmp / "work"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def script(self, name: str) -> Path:
        return self.venv / "bin" / name

    def env(self, **extra: str) -> dict[str, str]:
        """A clean environment: the venv's bin first, a tmp HOME and AIRFLOW_HOME, no PYTHONPATH."""
        env = {
            "PATH": os.pathsep.join([str(self.venv / "bin"), "/usr/bin", "/bin"]),
            "HOME": str(self.tmp / "home"),
            "LANG": "C.UTF-8",
            "AIRFLOW_HOME": str(self.tmp / "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        env.update(extra)
        return env

    def run(self, *args: Any, timeout: float = 300, **extra_env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(a) for a in args], cwd=self.work, env=self.env(**extra_env),
                              capture_output=True, text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    def probe(self, code: str, *args: str) -> Any:
        return json.loads(self.run(self.python, "-c", code, *args).stdout.strip().splitlines()[-1])


def _sources() -> list[str]:
    """The checkout's files as a fresh clone plus local changes has them (no build/, egg-info, caches)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode()
    return sorted(p for p in listed.split("\0") if p and (ROOT / p).is_file())


def _build(project: Path, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                           str(project)], cwd=project, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, (
        f"building {project.name or 'the provider'} failed (the test environment needs the build-system "
        f"requirements, e.g. setuptools>=77, from the test extra):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _link_dependencies(deps: Path) -> None:
    """Link every entry of this environment's site-packages except this project's and .pth hooks."""
    site = Path(sysconfig.get_paths()["purelib"])
    deps.mkdir()
    for entry in site.iterdir():
        name = entry.name
        if name.startswith(("airflow_sfn_etl", "__editable__", "__pycache__")) or name.endswith(".pth"):
            continue
        (deps / name).symlink_to(entry)


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> Install:
    tmp = tmp_path_factory.mktemp("install")
    assert not tmp.resolve().is_relative_to(ROOT)
    sources = _sources()
    src = tmp / "src"
    for rel in sources:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    wheels = {dist: _build(src / folder, tmp / "dist" / package) for dist, (folder, package) in DISTRIBUTIONS.items()}

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", str(tmp))}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                    "--no-deps", "--no-index", "--disable-pip-version-check", *map(str, wheels.values())],
                   cwd=tmp, env=clean, check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], cwd=tmp, env=clean, capture_output=True, text=True,
                               check=True).stdout.strip())
    deps = tmp / "deps"
    _link_dependencies(deps)
    (site / "_test_dependencies.pth").write_text(f"{deps}\n")  # a path line: appended after site-packages
    inst = Install(tmp=tmp, venv=venv, site=site, deps=deps, sources=sources, wheels=wheels)
    for folder in (inst.work, tmp / "home", tmp / "airflow-home"):
        folder.mkdir()
    return inst


def test_each_wheel_holds_its_package_files_and_nothing_else(install):
    for dist, (folder, package) in DISTRIBUTIONS.items():
        names = zipfile.ZipFile(install.wheels[dist]).namelist()
        dist_info = f"{package}-{VERSION}.dist-info"
        assert {name.split("/")[0] for name in names} == {package, dist_info}
        prefix = f"{folder}/" if folder else ""
        tracked = {rel[len(prefix):] for rel in install.sources if rel.startswith(f"{prefix}{package}/")}
        assert {name for name in names if not name.startswith(dist_info)} == tracked
        assert f"{package}/py.typed" in names
    provider = zipfile.ZipFile(install.wheels["airflow-sfn-etl"]).namelist()
    assert [name for name in provider if any(word in name for word in ("sandbox", "flows", "bench"))] == []
    assert "airflow_sfn_etl/get_provider_info.py" in provider and "airflow_sfn_etl/asl/builder.py" in provider
    print({dist: len(zipfile.ZipFile(path).namelist()) for dist, path in install.wheels.items()})


def test_imports_and_entry_points_resolve_in_the_new_venv_only(install):
    site = install.site.resolve()
    found = install.probe(ORIGINS, "airflow_sfn_etl,airflow_sfn_etl.cli,airflow_sfn_etl_sandbox,"
                                   "airflow_sfn_etl_sandbox.cli,airflow_sfn_etl_flows,airflow_sfn_etl_flows.cli",
                          ",".join(DISTRIBUTIONS))
    for module, path in found["modules"].items():
        assert Path(path).resolve().is_relative_to(site), (module, path)
    assert {name: Path(path).resolve() for name, path in found["dists"].items()} == dict.fromkeys(DISTRIBUTIONS, site)
    assert sorted(name for name, _ in found["visible"]) == sorted(DISTRIBUTIONS)  # one copy of each
    assert Path(found["dags_folder"]).resolve() == site / "airflow_sfn_etl_flows" / "dags"
    eps = {(group, name): (value, Path(where).resolve()) for group, name, value, where in found["entry_points"]}
    assert eps == {
        ("airflow_sfn_etl.cli", "sandbox"): ("airflow_sfn_etl_sandbox.cli:register", site),
        ("airflow_sfn_etl.cli", "demo"): ("airflow_sfn_etl_flows.cli:register_demo", site),
        ("airflow_sfn_etl.cli", "build-state-machines"): ("airflow_sfn_etl_flows.cli:register_build", site),
        ("apache_airflow_provider", "provider_info"): ("airflow_sfn_etl.get_provider_info:get_provider_info", site),
        ("console_scripts", "airflow-sfn-etl"): ("airflow_sfn_etl.cli:main", site),
        ("console_scripts", "airflow-sfn-etl-sandbox"): ("airflow_sfn_etl_sandbox.cli:main", site),
    }
    # Neither the checkout nor the paths the test environment's editable installs add are on sys.path.
    dev_site = Path(sysconfig.get_paths()["purelib"])
    editable = {line.strip() for pth in dev_site.glob("__editable__*.pth")
                for line in pth.read_text().splitlines() if line.strip() and not line.startswith("import")}
    paths = [Path(p).resolve() for p in found["sys_path"] if p]
    assert [p for p in paths if p.is_relative_to(ROOT) or str(p) in editable or p == dev_site.resolve()] == []
    assert paths.index(site) < paths.index(install.deps.resolve())


def test_every_declared_requirement_is_satisfied(install):
    wanted = {"airflow-sfn-etl": ["sandbox", "flows"], "airflow-sfn-etl-sandbox": [], "airflow-sfn-etl-flows": []}
    checked = install.probe(REQUIREMENTS, json.dumps(wanted))
    assert [row for row in checked if not row[3]] == []
    by_dist = {dist: {req.split(";")[0] for name, req, _, _ in checked if name == dist} for dist in DISTRIBUTIONS}
    assert by_dist["airflow-sfn-etl"] >= {"apache-airflow<4,>=3.0", "boto3>=1.34",
                                          f"airflow-sfn-etl-sandbox=={VERSION}", f"airflow-sfn-etl-flows=={VERSION}"}
    assert "moto[server]<5.3,>=5.2.5" in by_dist["airflow-sfn-etl-sandbox"]
    assert by_dist["airflow-sfn-etl-flows"] == {f"airflow-sfn-etl=={VERSION}", f"airflow-sfn-etl-sandbox=={VERSION}"}
    assert any(name == "moto" for name, *_ in checked)  # moto's [server] extra was followed
    print(f"{len(checked)} requirements satisfied")


def test_importing_an_operator_loads_no_sandbox_moto_or_duckdb(install):
    assert install.run(install.python, "-c", IMPORT_CHECK).stdout.strip() == "[]"


def test_cli_commands_and_committed_state_machines_from_the_install(install):
    helptext = install.run(install.script("airflow-sfn-etl"), "--help").stdout
    for command in ("asl", "sandbox", "demo", "build-state-machines"):
        assert command in helptext
    assert "needs `pip install" not in helptext
    assert "--port" in install.run(install.script("airflow-sfn-etl-sandbox"), "--help").stdout
    machines = install.site / "airflow_sfn_etl_flows" / "state_machines"
    install.run(install.script("airflow-sfn-etl"), "asl", "validate", machines / "sales_marketing_refresh.asl.json")
    shipped = [n for n in zipfile.ZipFile(install.wheels["airflow-sfn-etl-flows"]).namelist()
               if n.startswith("airflow_sfn_etl_flows/state_machines/")]
    checked = install.run(install.script("airflow-sfn-etl"), "build-state-machines", "--check").stdout
    assert f"{len(shipped)} artefacts in {machines} are up to date" in checked


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_sandbox_command_serves_the_provisioning_of_both_flows(install):
    proc = subprocess.Popen([str(install.script("airflow-sfn-etl")), "sandbox", "--port", "0"], cwd=install.work,
                            env=install.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            output.append(line)
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while True:
            line = lines.get(timeout=300)
            assert line is not None, f"the sandbox exited early: {''.join(output)}"
            if line.startswith("Press Ctrl-C"):
                break
        endpoint = next(line for line in output if " listening on " in line).split(" listening on ")[1].split()[0]
        assert f"  export AWS_ENDPOINT_URL={endpoint}\n" in output
        refs = install.probe(PROVISION, endpoint, str(SHARED_DATA))
        _check_sales_marketing(endpoint, refs)
        _check_crawler_job(endpoint)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
        reader.join(timeout=30)
    assert proc.returncode == 0 and "AWS sandbox stopped.\n" in output, "".join(output)


def _check_sales_marketing(endpoint: str, refs: dict[str, str]) -> None:
    s3, databrew = _client("s3", endpoint), _client("databrew", endpoint)
    for kind, csv_name in (("sales", "sales_pipeline_data.csv"), ("marketing", "marketing_data.csv")):
        raw = s3.head_object(Bucket="sfn-etl-raw-data", Key=f"{kind}/{csv_name}")
        assert raw["ETag"].strip('"') == _md5(SHARED_DATA / "workshop" / csv_name)
        dataset = databrew.describe_dataset(Name=f"{kind}-data")
        assert dataset["Input"]["S3InputDefinition"] == {"Bucket": "sfn-etl-raw-data", "Key": f"{kind}/{csv_name}"}
        recipe = databrew.describe_recipe(Name=f"{kind}-data-recipe")
        shipped = json.loads((FLOWS_SOURCE / "dags" / "databrew" / f"{kind}-data-recipe.json").read_text())
        assert recipe["Steps"] == shipped["Steps"] and len(recipe["Steps"]) > 0
        job = databrew.describe_job(Name=f"{kind}-data-etl")
        assert (job["Type"], job["DatasetName"], job["RecipeReference"]["Name"]) == (
            "RECIPE", f"{kind}-data", f"{kind}-data-recipe")
        assert job["Outputs"][0]["Location"] == {"Bucket": "sfn-etl-transformed-data", "Key": f"{kind}/"}
    for bucket in ("sfn-etl-transformed-data", "sfn-etl-athena-results"):
        s3.head_bucket(Bucket=bucket)
    workgroup = _client("athena", endpoint).get_work_group(WorkGroup="StepFunctionsWorkshopWorkgroup")["WorkGroup"]
    assert workgroup["Configuration"]["ResultConfiguration"]["OutputLocation"] == "s3://sfn-etl-athena-results/"
    _client("glue", endpoint).get_database(Name="default")
    sns = _client("sns", endpoint)
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert refs["topic_arn"] in topics and refs["topic_arn"].endswith(":StepFunctionWorkshopTopic")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=refs["topic_arn"])["Subscriptions"]
    assert [s["Protocol"] for s in subscriptions] == ["sqs"]
    assert subscriptions[0]["Endpoint"].endswith(":StepFunctionWorkshopTopic-notices")


def _check_crawler_job(endpoint: str) -> None:
    s3, glue = _client("s3", endpoint), _client("glue", endpoint)
    seed = s3.head_object(Bucket="sfn-etl-glue-data", Key="se2/in0/csvlog.csv")
    assert seed["ETag"].strip('"') == _md5(SHARED_DATA / "seed" / "csvlog.csv")
    glue.get_database(Name="se2")
    crawler = glue.get_crawler(Name="se2_in0")["Crawler"]
    assert (crawler["DatabaseName"], crawler["TablePrefix"]) == ("se2", "se2_")
    assert [t["Path"] for t in crawler["Targets"]["S3Targets"]] == ["s3://sfn-etl-glue-data/se2/in0/"]
    job = glue.get_job(JobName="se2_job0")["Job"]
    assert job["Command"] == {"Name": "glueetl", "ScriptLocation": "s3://sfn-etl-glue-data/scripts/se2_job0_pyspark.py",
                              "PythonVersion": "3"}
    assert (job["GlueVersion"], job["WorkerType"], job["NumberOfWorkers"]) == ("5.0", "G.1X", 2)
    assert "MaxCapacity" not in job and "library-set" not in job["DefaultArguments"]
    location = job["Command"]["ScriptLocation"]
    bucket, key = location.removeprefix("s3://").split("/", 1)
    script = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert script == (FLOWS_SOURCE / "dags" / "glue_scripts" / "se2_job0_pyspark.py").read_bytes()


def test_demo_command_writes_the_summary_from_the_install(install):
    out = install.tmp / "demo-output"
    done = install.run(install.script("airflow-sfn-etl"), "demo", "--out", out, timeout=900,
                       SFN_ETL_DATA_DIR=str(SHARED_DATA))
    assert "FAILED" not in done.stdout
    print("".join(line + "\n" for line in done.stdout.splitlines() if line.startswith("[")))
    assert "SNS notice (airflow engine)" in done.stdout and "SNS notice (stepfunctions engine)" in done.stdout
    for engine in ("airflow", "stepfunctions"):
        assert f"[{engine}] se2_job0: glueetl (PySpark) on local Spark" in done.stdout
    assert "crawler_out: airflow and stepfunctions engines agree: yes" in done.stdout
    expected = monthly_summary()
    for name in ("sales_marketing_revenue.csv", "sales_marketing_revenue.stepfunctions.csv"):
        with (out / name).open(newline="") as fh:
            header, *rows = list(csv.reader(fh))
        assert header == ["year", "month", "total_paid_conversion", "total_weighted_revenue"]
        assert len(rows) == 48
        assert [tuple(int(v) for v in row) for row in rows] == expected
    with (out / "se2_out0.csv").open(newline="") as fh:
        written = sorted((dict(row) for row in csv.DictReader(fh)), key=lambda row: row["uuid"])
    assert written == sorted(({k: str(v) for k, v in row.items()} for row in crawler_rows()),
                             key=lambda row: row["uuid"])


def test_airflow_lists_the_provider_from_the_install(install):
    listed = install.run(install.python, "-m", "airflow", "providers", "list", "--output", "json").stdout
    providers = json.loads(listed[listed.index("["):])
    ours = [p for p in providers if p["package_name"] == "airflow-sfn-etl"]
    assert len(ours) == 1 and ours[0]["version"] == VERSION
